//! One test per validation rule of the model loader, on small models built from a valid base.

use std::path::Path;

use super::codes::Code;
use super::load_model::{parse_model, parse_model_with_warnings};
use super::topology::*;

const BASE: &str = r#"
name = "base"
zones = ["az-a", "az-b"]

[workload.w]
target = "api"
rate = 100

[service.api]
zones = ["az-a", "az-b"]
service_time = { dist = "exponential", mean = "2ms" }
calls = [{ to = "db" }]

[database.db]
zones = ["az-a"]
primary = "az-a"
service_time = { dist = "exponential", mean = "5ms" }
"#;

fn load(text: &str) -> Topology {
    parse_model(Path::new("m.toml"), text).unwrap_or_else(|d| panic!("{d}"))
}

/// The errors of a model, as (code, message).
fn errors(text: &str) -> Vec<(Code, String)> {
    match parse_model(Path::new("m.toml"), text) {
        Ok(_) => Vec::new(),
        Err(d) => d
            .items
            .into_iter()
            .filter(|d| d.is_error())
            .map(|d| (d.code, d.message))
            .collect(),
    }
}

/// The base with `from` replaced by `to` (which must occur).
fn base_with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from}");
    BASE.replacen(from, to, 1)
}

/// Asserts that the edit gives exactly one error, with this code and message fragment.
fn one_error(from: &str, to: &str, code: Code, fragment: &str) {
    let found = errors(&base_with(from, to));
    assert_eq!(found.len(), 1, "{to}: {found:#?}");
    assert_eq!(found[0].0, code, "{to}: {found:#?}");
    assert!(found[0].1.contains(fragment), "{to}: {found:#?}");
}

#[test]
fn the_bundled_models_load() {
    let shop = load(include_str!("../../models/shop.toml"));
    assert_eq!(shop.nodes.len(), 4);
    let tier3 = load(include_str!("../../models/tier3.toml"));
    let names: Vec<&str> = tier3.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["frontend", "service", "database"]);
    assert!(
        tier3
            .nodes
            .iter()
            .all(|n| n.concurrency == Concurrency::Async && n.queue.is_none())
    );
}

#[test]
fn defaults_fill_what_is_left_out() {
    let model = load(BASE);
    let api = &model.nodes[0];
    assert_eq!(
        (api.replicas_per_zone, api.workers, api.queue),
        (1, 1, None)
    );
    assert_eq!(api.concurrency, Concurrency::Blocking);
    let call = &api.calls[0];
    let expected = Call {
        to: NodeId(1),
        timeout_ns: None,
        retries: 0,
        backoff_ns: 0,
        max_backoff_ns: u64::MAX,
        jitter: Jitter::None,
        probability: 1.0,
        optional: false,
        resilience: Default::default(),
        deadline: Default::default(),
    };
    assert_eq!(call, &expected);
    let w = &model.workloads[0];
    assert_eq!((w.arrival, w.timeout_ns), (Arrival::Poisson, None));
    assert_eq!(
        model.nodes[1].role,
        Role::Database {
            primary: ZoneId(0),
            failover_ns: None
        }
    );
    let queue0 = load(&base_with("calls = [", "queue = 0\ncalls = ["));
    assert_eq!(queue0.nodes[0].queue, Some(0));
}

#[test]
fn nodes_are_numbered_in_file_order_across_kinds() {
    let text = format!(
        "{BASE}\n[external.pay]\nlatency = {{ dist = \"constant\", value = \"1ms\" }}\n\
         [service.late]\nzones = [\"az-b\"]\nservice_time = {{ dist = \"constant\", value = \"1ms\" }}\n\
         calls = [{{ to = \"pay\" }}]\n"
    );
    let text = text.replace(
        "calls = [{ to = \"db\" }]",
        "calls = [{ to = \"db\" }, { to = \"late\" }]",
    );
    let model = load(&text);
    let names: Vec<&str> = model.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["api", "db", "pay", "late"]);
    assert_eq!(model.nodes[3].calls[0].to, NodeId(2));
    let external = &model.nodes[2];
    assert!(external.zones.is_empty());
    assert_eq!(external.role, Role::External { error_rate: 0.0 });
    // Edges: api -> db, api -> late, late -> pay, with vertex i == NodeId(i).
    let edges: Vec<_> = model
        .graph
        .edge_indices()
        .filter_map(|e| {
            model
                .graph
                .edge_endpoints(e)
                .map(|(a, b)| (a.index(), b.index(), model.graph[e]))
        })
        .collect();
    assert_eq!(
        edges,
        [
            (0, 1, EdgeKind::Call(0)),
            (0, 3, EdgeKind::Call(1)),
            (3, 2, EdgeKind::Call(0))
        ]
    );
    assert!(
        model
            .graph
            .node_indices()
            .all(|v| model.graph[v].index() == v.index())
    );
}

#[test]
fn top_level_rules() {
    one_error(
        "name = \"base\"\n",
        "",
        Code::MissingKey,
        "missing key `name` in the model",
    );
    one_error(
        "zones = [\"az-a\", \"az-b\"]",
        "zones = []",
        Code::OutOfRange,
        "must not be empty",
    );
    one_error(
        "zones = [\"az-a\", \"az-b\"]",
        "zones = [\"az-a\", \"az-b\", \"az-a\"]",
        Code::DuplicateName,
        "listed twice",
    );
    one_error(
        "name = \"base\"",
        "name = \"base\"\nzone = 1",
        Code::UnknownKey,
        "unknown key `zone`",
    );
    one_error(
        "name = \"base\"",
        "name = \"base\"\nservice.x = 5",
        Code::WrongType,
        "expected a table of node settings",
    );
}

#[test]
fn workload_rules() {
    one_error(
        "target = \"api\"",
        "target = \"apx\"",
        Code::UnknownNode,
        "unknown node `apx`",
    );
    one_error(
        "target = \"api\"\n",
        "",
        Code::MissingKey,
        "missing key `target`",
    );
    for bad in ["0", "-1", "nan", "inf", "-0.0"] {
        one_error(
            "rate = 100",
            &format!("rate = {bad}"),
            Code::OutOfRange,
            "`rate` must be",
        );
    }
    one_error(
        "rate = 100",
        "rate = \"100\"",
        Code::WrongType,
        "expected a number",
    );
    one_error(
        "rate = 100",
        "rate = 100\narrival = \"burst\"",
        Code::UnknownChoice,
        "unknown arrival `burst`",
    );
    one_error(
        "rate = 100",
        "rate = 100\ntimeout = \"0s\"",
        Code::OutOfRange,
        "positive duration",
    );
    one_error(
        "rate = 100",
        "rate = 100\ntimout = \"1s\"",
        Code::UnknownKey,
        "unknown key `timout`",
    );
    let constant = load(&base_with(
        "rate = 100",
        "rate = 2.5\narrival = \"constant\"\ntimeout = \"2s\"",
    ));
    let w = &constant.workloads[0];
    assert_eq!(
        (w.rate_per_s, w.arrival, w.timeout_ns),
        (2.5, Arrival::Constant, Some(2_000_000_000))
    );
}

#[test]
fn placement_rules() {
    let api_zones = "zones = [\"az-a\", \"az-b\"]\nservice_time";
    one_error(
        api_zones,
        "service_time",
        Code::MissingKey,
        "missing key `zones` in `[service.api]`",
    );
    one_error(
        api_zones,
        "zones = [\"az-c\"]\nservice_time",
        Code::UndeclaredZone,
        "zone `az-c` is not declared",
    );
    one_error(
        api_zones,
        "zones = [\"az-a\", \"az-a\"]\nservice_time",
        Code::ZoneTwice,
        "placed in this zone twice",
    );
    one_error(
        api_zones,
        "zones = []\nservice_time",
        Code::OutOfRange,
        "must not be empty",
    );
    one_error(
        api_zones,
        "zones = \"az-a\"\nservice_time",
        Code::WrongType,
        "expected an array",
    );
    for (setting, code, fragment) in [
        ("replicas = 0", Code::OutOfRange, "`replicas` must be"),
        ("workers = 0", Code::OutOfRange, "`workers` must be"),
        ("workers = 1.5", Code::WrongType, "expected an integer"),
        ("queue = -1", Code::OutOfRange, "`queue` must be"),
    ] {
        one_error(
            "calls = [",
            &format!("{setting}\ncalls = ["),
            code,
            fragment,
        );
    }
    one_error(
        "calls = [",
        "concurrency = \"threads\"\ncalls = [",
        Code::UnknownChoice,
        "unknown concurrency `threads`",
    );
}

#[test]
fn service_time_rules() {
    let st = "service_time = { dist = \"exponential\", mean = \"2ms\" }\ncalls";
    one_error(st, "calls", Code::MissingKey, "missing key `service_time`");
    one_error(
        st,
        "service_time = \"2ms\"\ncalls",
        Code::WrongType,
        "expected a distribution",
    );
    one_error(
        st,
        "service_time = { dist = \"weibull\" }\ncalls",
        Code::UnknownChoice,
        "unknown dist `weibull`",
    );
}

#[test]
fn call_rules() {
    let call = "calls = [{ to = \"db\" }]";
    let with = |c: &str| format!("calls = [{c}]");
    one_error(
        call,
        &with("{ to = \"dv\" }"),
        Code::UnknownNode,
        "unknown node `dv`",
    );
    one_error(
        call,
        &with("{ timeout = \"1s\" }"),
        Code::MissingKey,
        "missing key `to` in this call",
    );
    one_error(call, &with("{ to = \"api\" }"), Code::Cycle, "api -> api");
    one_error(
        call,
        &with("{ to = \"db\", timeout = 5 }"),
        Code::WrongType,
        "duration string",
    );
    one_error(
        call,
        &with("{ to = \"db\", retries = -1 }"),
        Code::OutOfRange,
        "`retries` must be",
    );
    one_error(
        call,
        &with("{ to = \"db\", backoff = \"-1ms\" }"),
        Code::BadDuration,
        "negative",
    );
    one_error(
        call,
        &with("{ to = \"db\", jitter = \"half\" }"),
        Code::UnknownChoice,
        "unknown jitter `half`",
    );
    one_error(
        call,
        &with("{ to = \"db\", probability = 1.5 }"),
        Code::OutOfRange,
        "between 0 and 1",
    );
    one_error(
        call,
        &with("{ to = \"db\", optional = \"yes\" }"),
        Code::WrongType,
        "true or false",
    );
    one_error(
        call,
        &with("{ to = \"db\", retry = 2 }"),
        Code::UnknownKey,
        "unknown key `retry` in this call",
    );
    one_error(
        call,
        &with("\"db\""),
        Code::WrongType,
        "expected a call like",
    );
    let full = "{ to = \"db\", timeout = \"1s\", retries = 3, backoff = \"10ms\", max_backoff = \"80ms\", \
                jitter = \"equal\", probability = 0.5, optional = true }";
    let model = load(&base_with(call, &with(full)));
    let expected = Call {
        to: NodeId(1),
        timeout_ns: Some(1_000_000_000),
        retries: 3,
        backoff_ns: 10_000_000,
        max_backoff_ns: 80_000_000,
        jitter: Jitter::Equal,
        probability: 0.5,
        optional: true,
        resilience: Default::default(),
        deadline: Default::default(),
    };
    assert_eq!(model.nodes[0].calls[0], expected);
}

const CACHE: &str = "\n[cache.c]\nzones = [\"az-a\"]\nservice_time = { dist = \"constant\", value = \"1ms\" }\n\
                     hit_ratio = 0.9\nbacking = \"db\"\n";

fn cache_error(from: &str, to: &str, code: Code, fragment: &str) {
    let text = format!("{BASE}{}", CACHE.replacen(from, to, 1))
        .replace("{ to = \"db\" }", "{ to = \"c\" }");
    let found = errors(&text);
    assert_eq!(found.len(), 1, "{to}: {found:#?}");
    assert_eq!(found[0].0, code, "{to}: {found:#?}");
    assert!(found[0].1.contains(fragment), "{to}: {found:#?}");
}

#[test]
fn cache_rules() {
    let text = format!("{BASE}{CACHE}on_unavailable = \"fail\"\n")
        .replace("{ to = \"db\" }", "{ to = \"c\" }");
    let model = load(&text);
    assert_eq!(
        model.nodes[2].role,
        Role::Cache {
            hit_ratio: 0.9,
            backing: NodeId(1),
            on_unavailable: OnUnavailable::Fail,
            content: None,
        }
    );
    assert_eq!(model.graph.edge_count(), 2);
    cache_error(
        "hit_ratio = 0.9\n",
        "",
        Code::MissingKey,
        "missing key `hit_ratio`",
    );
    cache_error(
        "hit_ratio = 0.9",
        "hit_ratio = -0.1",
        Code::OutOfRange,
        "between 0 and 1",
    );
    cache_error(
        "backing = \"db\"\n",
        "",
        Code::MissingKey,
        "missing key `backing`",
    );
    cache_error(
        "backing = \"db\"",
        "backing = \"dbb\"",
        Code::UnknownNode,
        "unknown node `dbb`",
    );
}

#[test]
fn database_and_external_rules() {
    one_error(
        "primary = \"az-a\"\n",
        "",
        Code::MissingKey,
        "missing key `primary`",
    );
    one_error(
        "primary = \"az-a\"",
        "primary = \"az-x\"",
        Code::UndeclaredZone,
        "zone `az-x`",
    );
    one_error(
        "primary = \"az-a\"",
        "primary = \"az-b\"",
        Code::PrimaryNotPlaced,
        "not one of the database's zones",
    );
    one_error(
        "primary = \"az-a\"",
        "primary = \"az-a\"\nfailover = \"soon\"",
        Code::BadDuration,
        "failover",
    );
    let model = load(&base_with(
        "primary = \"az-a\"",
        "primary = \"az-a\"\nfailover = \"30s\"",
    ));
    assert_eq!(
        model.nodes[1].role,
        Role::Database {
            primary: ZoneId(0),
            failover_ns: Some(30_000_000_000)
        }
    );
    let external = |body: &str| {
        format!("{BASE}\n[external.pay]\n{body}\n")
            .replace("{ to = \"db\" }", "{ to = \"db\" }, { to = \"pay\" }")
    };
    let latency = "latency = { dist = \"constant\", value = \"80ms\" }";
    assert_eq!(
        load(&external(&format!("{latency}\nerror_rate = 0.01"))).nodes[2].role,
        Role::External { error_rate: 0.01 }
    );
    let cases = [
        (
            "error_rate = 0.1",
            Code::MissingKey,
            "missing key `latency`",
        ),
        (
            &format!("{latency}\nerror_rate = 2") as &str,
            Code::OutOfRange,
            "between 0 and 1",
        ),
        (
            &format!("{latency}\nzones = [\"az-a\"]"),
            Code::UnknownKey,
            "unknown key `zones` in `[external.pay]`",
        ),
        (
            &format!("{latency}\nservice_time = {{ dist = \"constant\", value = \"1ms\" }}"),
            Code::UnknownKey,
            "unknown key `service_time`",
        ),
    ];
    for (body, code, fragment) in cases {
        let found = errors(&external(body));
        assert_eq!(found.len(), 1, "{body}: {found:#?}");
        assert_eq!(found[0].0, code, "{body}: {found:#?}");
        assert!(found[0].1.contains(fragment), "{body}: {found:#?}");
    }
}

#[test]
fn node_names_are_unique_across_kinds() {
    let text =
        format!("{BASE}\n[external.api]\nlatency = {{ dist = \"constant\", value = \"1ms\" }}\n");
    let found = errors(&text);
    assert_eq!(
        found,
        [(
            Code::DuplicateName,
            "the name `api` is used by two nodes".to_string()
        )]
    );
}

#[test]
fn cycles_are_rejected_with_their_path() {
    let text = base_with(
        "primary = \"az-a\"",
        "primary = \"az-a\"\ncalls = [{ to = \"api\" }]",
    );
    assert_eq!(
        errors(&text),
        [(
            Code::Cycle,
            "dependency cycle: api -> db -> api".to_string()
        )]
    );
    // Through a cache's backing store.
    let text = format!("{BASE}{CACHE}")
        .replace("{ to = \"db\" }", "{ to = \"c\" }")
        .replace(
            "primary = \"az-a\"",
            "primary = \"az-a\"\ncalls = [{ to = \"c\" }]",
        );
    assert_eq!(
        errors(&text),
        [(Code::Cycle, "dependency cycle: c -> db -> c".to_string())]
    );
}

#[test]
fn unreachable_nodes_warn_without_failing() {
    let text = format!(
        "{BASE}\n[external.unused]\nlatency = {{ dist = \"constant\", value = \"1ms\" }}\n"
    );
    let (model, warnings) = parse_model_with_warnings(Path::new("m.toml"), &text).expect("loads");
    assert_eq!(model.nodes.len(), 3);
    assert_eq!(warnings.items.len(), 1);
    assert_eq!(warnings.items[0].code, Code::Unreachable);
    assert!(
        warnings
            .render(false)
            .contains("warning[W0001]: node `unused` is not reachable")
    );
}

#[test]
fn five_mistakes_in_five_places_give_five_errors() {
    let text = BASE
        .replace("rate = 100", "rate = 0")
        .replace(
            "zones = [\"az-a\", \"az-b\"]\nservice_time",
            "zones = [\"az-a\", \"az-q\"]\nservice_time",
        )
        .replace("{ to = \"db\" }", "{ to = \"db\", jitter = \"ful\" }")
        .replace("primary = \"az-a\"", "primary = \"az-a\"\nworkerz = 3")
        .replace("mean = \"5ms\"", "mean = \"5 parsecs\"");
    let codes: Vec<Code> = errors(&text).into_iter().map(|(code, _)| code).collect();
    assert_eq!(
        codes,
        [
            Code::OutOfRange,
            Code::UndeclaredZone,
            Code::UnknownChoice,
            Code::UnknownKey,
            Code::BadDuration
        ]
    );
}

#[test]
fn syntax_errors_are_reported_with_the_other_mistakes() {
    let text = BASE
        .replace("name = \"base\"", "name = \"base")
        .replace("rate = 100", "rate = -1")
        .replace("primary = \"az-a\"", "primary = \"az-z\"");
    let codes: Vec<Code> = errors(&text).into_iter().map(|(code, _)| code).collect();
    assert_eq!(
        codes,
        [Code::Syntax, Code::OutOfRange, Code::UndeclaredZone]
    );
}
