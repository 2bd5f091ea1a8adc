//! The importer and exporter on the shop model and the bundled example experiments.

use std::path::Path;

use serde_json::json;

use super::*;
use crate::model::{Topology, parse_model, parse_scenario};

const SHOP: &str = include_str!("../../../models/shop.toml");

fn shop() -> Topology {
    parse_model(Path::new("models/shop.toml"), SHOP).expect("shop loads")
}

fn options() -> ImportOptions {
    ImportOptions {
        source: "x.json".into(),
        model: "../models/shop.toml".into(),
        ..ImportOptions::default()
    }
}

fn import_json(experiment: serde_json::Value) -> Result<ScenarioDraft, CtkError> {
    import(&experiment, &shop(), &options())
}

fn action(name: &str, module: &str, func: &str, arguments: serde_json::Value) -> serde_json::Value {
    json!({"type": "action", "name": name,
           "provider": {"type": "python", "module": module, "func": func, "arguments": arguments}})
}

/// The draft's text loads as a scenario on the shop model.
fn loads(draft: &ScenarioDraft) -> crate::model::Scenario {
    let text = draft.to_toml();
    parse_scenario(Path::new("scenarios/imported.toml"), &text, |_| {
        Ok(SHOP.to_string())
    })
    .unwrap_or_else(|d| panic!("{}\n{text}", d.render(false)))
    .0
}

#[test]
fn the_yaml_example_maps_latency_pods_and_probes_with_their_times() {
    let text = include_str!("../../../examples/ctk/api-pods-and-cache-latency.yaml");
    let experiment = parse(text, Syntax::Yaml).unwrap();
    let draft = import(&experiment, &shop(), &options()).unwrap();
    let keys: Vec<String> = draft
        .faults
        .iter()
        .map(|f| {
            f.keys
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .collect();
    assert_eq!(
        keys,
        [
            "kind = \"latency\"; edge = \"api->sessions\"; latency = { dist = \"constant\", value = \"80ms\" }; start = \"130s\"; duration = \"110s\"",
            "kind = \"crash\"; node = \"api\"; count = 2; start = \"150s\"; duration = \"90s\"",
        ]
    );
    assert_eq!(draft.unmapped.len(), 1);
    assert_eq!(draft.unmapped[0].name, "notify-team");
    let metrics: Vec<&str> = draft
        .hypotheses
        .iter()
        .map(|h| h.keys["metric"].as_str().unwrap())
        .collect();
    assert_eq!(metrics, ["availability", "error_rate"]);
    assert_eq!(draft.hypotheses[1].keys["max"].as_float(), Some(0.01));
    let scenario = loads(&draft);
    assert_eq!(scenario.duration_ns, 360_000_000_000);
    assert!(
        draft
            .to_toml()
            .contains("# - `notify-team` not mapped: a process provider")
    );
}

#[test]
fn a_drained_zone_is_out_until_its_rollback_uncordons_it() {
    let text = include_str!("../../../examples/ctk/az-a-drain.json");
    let draft = import(&parse(text, Syntax::Json).unwrap(), &shop(), &options()).unwrap();
    assert_eq!(draft.faults.len(), 1);
    let fault = &draft.faults[0].keys;
    assert_eq!(
        (fault["kind"].as_str(), fault["zone"].as_str()),
        (Some("zone-outage"), Some("az-a"))
    );
    assert_eq!(
        (fault["start"].as_str(), fault["duration"].as_str()),
        (Some("2m"), Some("3m"))
    );
    assert!(
        draft.faults[0].origin[0].contains("`drain-az-a`"),
        "{:?}",
        draft.faults[0].origin
    );
    let p99 = &draft.hypotheses[1].keys;
    assert_eq!(
        (p99["metric"].as_str(), p99["max"].as_str()),
        (Some("p99"), Some("300ms"))
    );
    assert!(draft.unmapped.is_empty(), "{:?}", draft.unmapped);
    loads(&draft);
}

#[test]
fn a_selector_that_matches_nothing_names_itself_the_labels_and_the_closest() {
    let experiment = json!({"method": [action("kill", "chaosk8s.pod.actions", "terminate_pods",
                                              json!({"label_selector": "app=apii"}))]});
    let error = import_json(experiment).unwrap_err().to_string();
    assert!(
        error.contains("activity `kill`, selector `app=apii`: matches no node"),
        "{error}"
    );
    assert!(
        error.contains("app=api, app=orders-db, app=payments, app=sessions"),
        "{error}"
    );
    assert!(error.contains("did you mean `app=api`?"), "{error}");
}

#[test]
fn an_unknown_zone_is_named_with_the_closest_zone() {
    let experiment = json!({"method": [action("stop", "chaosaws.ec2.actions", "stop_instances",
                                              json!({"az": "az-d"}))]});
    let error = import_json(experiment).unwrap_err().to_string();
    assert!(
        error.contains("zone `az-d` is not a zone of the model (az-a, az-b, az-c)"),
        "{error}"
    );
}

#[test]
fn aws_actions_map_to_zone_node_database_and_cache_faults() {
    let experiment = json!({"method": [
        action("az", "chaosaws.ec2.actions", "stop_instances", json!({"az": "az-b"})),
        action("tagged", "chaosaws.ec2.actions", "terminate_instances",
               json!({"az": "az-c", "filters": [{"Name": "tag:tier", "Values": ["web"]}]})),
        action("failover", "chaosaws.rds.actions", "failover_db_cluster", json!({"db_cluster_identifier": "orders-db"})),
        action("cache", "chaosaws.elasticache.actions", "reboot_cache_clusters", json!({"cluster_ids": ["sessions"]})),
        action("start", "chaosaws.ec2.actions", "start_instances", json!({"az": "az-b"})),
    ]});
    let draft = import_json(experiment).unwrap();
    let faults: Vec<(String, String)> = draft
        .faults
        .iter()
        .map(|f| {
            let k = &f.keys;
            let target = ["zone", "node"]
                .iter()
                .filter_map(|key| k.get(*key)?.as_str())
                .collect::<Vec<_>>()
                .join("/");
            (k["kind"].as_str().unwrap().to_string(), target)
        })
        .collect();
    let expected = [
        ("zone-outage", "az-b"),
        ("crash", "az-c/api"),
        ("crash", "az-a/orders-db"),
        ("crash", "sessions"),
    ];
    assert_eq!(
        faults,
        expected.map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // No pauses: every fault would last nothing, so each gets the minimum and says so.
    assert!(
        draft.faults[1]
            .origin
            .iter()
            .any(|l| l.contains("no pauses"))
    );
}

#[test]
fn pod_picks_are_spread_with_the_seed_and_percentages_round_up() {
    let pick = |seed: u64| {
        let experiment = json!({"method": [action("kill", "chaosk8s.pod.actions", "terminate_pods",
                                                  json!({"label_selector": "tier in (web,cache)", "qty": 4, "rand": true}))]});
        let options = ImportOptions {
            seed: Some(seed),
            ..options()
        };
        let draft = import(&experiment, &shop(), &options).unwrap();
        draft
            .faults
            .iter()
            .map(|f| {
                (
                    f.keys["node"].as_str().unwrap().to_string(),
                    f.keys.get("count").and_then(toml::Value::as_integer),
                )
            })
            .collect::<Vec<_>>()
    };
    let first = pick(1);
    assert_eq!(first, pick(1), "the same seed picks the same pods");
    let total: i64 = first
        .iter()
        .map(|(node, count)| count.unwrap_or(if node == "api" { 6 } else { 3 }))
        .sum();
    assert_eq!(total, 4);
    let seeds_differ = (2..10).any(|seed| pick(seed) != first);
    assert!(seeds_differ, "another seed picks other pods");
    let percent = json!({"method": [action("kill", "chaosk8s.pod.actions", "terminate_pods",
                                           json!({"label_selector": "app=api", "qty": 40, "mode": "percentage"}))]});
    let draft = import_json(percent).unwrap();
    assert_eq!(
        draft.faults[0].keys["count"].as_integer(),
        Some(3),
        "ceil(40% of 6)"
    );
}

#[test]
fn unmapped_activities_and_probes_are_listed_by_name() {
    let experiment = json!({
        "steady-state-hypothesis": {"title": "t", "probes": [
            {"type": "probe", "name": "db-rows", "tolerance": true,
             "provider": {"type": "python", "module": "mychecks", "func": "rows"}},
            {"type": "probe", "name": "elsewhere", "tolerance": 200,
             "provider": {"type": "http", "url": "https://status.example.org/"}}
        ]},
        "method": [
            action("scale", "chaosk8s.deployment.actions", "scale_deployment", json!({"name": "api", "replicas": 1})),
            action("fis", "chaosaws.fis.actions", "start_experiment", json!({"experiment_template_id": "EXT1"})),
            {"type": "probe", "name": "look", "provider": {"type": "http", "url": "http://checkout/"}},
            action("undo", "chaosk8s.node.actions", "uncordon_node", json!({"label_selector": "topology.kubernetes.io/zone=az-a"})),
        ]
    });
    let draft = import_json(experiment).unwrap();
    let names: Vec<&str> = draft.unmapped.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names,
        ["scale", "fis", "look", "undo", "db-rows", "elsewhere"]
    );
    assert!(
        draft.unmapped[0]
            .reason
            .contains("chaosk8s.deployment.actions.scale_deployment")
    );
    assert!(
        draft.unmapped[5].reason.contains("--routes"),
        "{}",
        draft.unmapped[5].reason
    );
}

#[test]
fn routes_send_a_url_to_a_workload() {
    let experiment = json!({"steady-state-hypothesis": {"title": "t", "probes": [
        {"type": "probe", "name": "front", "tolerance": 200,
         "provider": {"type": "http", "url": "https://www.shop.example.com/cart"}}]}, "method": []});
    let routed = ImportOptions {
        routes: vec![("https://www.shop.example.com/".into(), "checkout".into())],
        ..options()
    };
    let draft = import(&experiment, &shop(), &routed).unwrap();
    assert_eq!(
        draft.hypotheses[0].keys["workload"].as_str(),
        Some("checkout")
    );
    assert!(draft.unmapped.is_empty());
}

#[test]
fn a_bad_shape_is_named_by_its_path() {
    let experiment =
        json!({"method": [{"type": "action", "name": "a", "pauses": {"after": "soon"}}]});
    let error = import_json(experiment).unwrap_err().to_string();
    assert_eq!(
        error,
        "at `method[0].pauses.after`: expected a number of seconds, at least 0"
    );
}

#[test]
fn an_exported_scenario_imports_back_to_its_faults_and_hypotheses() {
    let text = r#"
name = "round trip"
model = "../models/shop.toml"
duration = "12m"
warmup = "90s"
seed = 7

[[fault]]
kind = "latency"
edge = "api->sessions"
latency = { dist = "uniform", min = "20ms", max = "60ms" }
share = 0.3
start = "4m"
duration = "1m"

[[fault]]
kind = "crash"
node = "api"
count = 2
start = "3m"
restart_after = "45s"

[[fault]]
kind = "zone-outage"
zone = "az-b"
start = "6m"

[[hypothesis]]
workload = "checkout"
metric = "p99"
max = "250ms"
window = "during"

[[hypothesis]]
workload = "checkout"
metric = "availability"
min = 0.995
"#;
    let read = |text: &str| {
        parse_scenario(
            Path::new("scenarios/s.toml"),
            text,
            |_| Ok(SHOP.to_string()),
        )
        .unwrap()
        .0
    };
    let scenario = read(text);
    let exported = export(&scenario);
    assert!(
        exported.not_exported.is_empty(),
        "{:?}",
        exported.not_exported
    );
    let experiment = parse(&exported.json, Syntax::Json).unwrap();
    let back = read(&import(&experiment, &shop(), &options()).unwrap().to_toml());
    let normal = |s: &crate::model::Scenario| {
        let mut faults: Vec<_> = s
            .faults
            .iter()
            .map(|f| {
                (
                    f.kind.as_str(),
                    f.target.clone(),
                    f.selection,
                    f.start_ns,
                    export::effective_duration(f),
                )
            })
            .collect();
        faults.sort_by_key(|f| f.3);
        faults
    };
    assert_eq!(normal(&back), normal(&scenario));
    let hypotheses = |s: &crate::model::Scenario| {
        s.hypotheses
            .iter()
            .map(|h| (h.workload, h.metric, h.min, h.max, h.windows.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(hypotheses(&back), hypotheses(&scenario));
    assert_eq!(
        (back.duration_ns, back.warmup_ns, back.seed),
        (scenario.duration_ns, scenario.warmup_ns, 7)
    );
}
