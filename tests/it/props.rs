//! Properties over generated inputs (proptest).
//!
//! (a) Any text — arbitrary, or a bundled model or scenario damaged by line deletions and
//!     duplications, swapped values, random bytes, numbers made negative, NaN or huge — loads
//!     without panicking, and a rejection carries at least one error, every diagnostic at a
//!     line and column (1-based) that its rendering names with the file.
//! (b) Randomly generated valid models and scenarios (zones, a DAG of nodes of every kind with
//!     call policies, caches with backing stores, workloads, a few faults, sometimes tight
//!     limits) run without panicking, and their numbers add up: every user request ends once
//!     or is in flight at the end, per workload, per window and per node; the per-request
//!     records agree with the counters; and the control equals a plain run of the model loaded
//!     on its own.
//!
//! Case counts are sized for a 2-core machine: the whole module runs in a few seconds.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::RngSeed;

use blastradius::analysis::Findings;
use blastradius::analysis::study_recorded;
use blastradius::metrics::{EndpointMetrics, Outcomes};
use blastradius::model::{Diagnostics, parse_model, parse_scenario};
use blastradius::report::{to_json, to_text};
use blastradius::sim::{RecordStatus, RunConfig, RunResult};

// ---- (a) damaged and arbitrary text --------------------------------------------------------

const MODELS: [(&str, &str); 7] = [
    ("shop.toml", include_str!("../../models/shop.toml")),
    (
        "shop-pinned.toml",
        include_str!("../../models/shop-pinned.toml"),
    ),
    (
        "shop-zone-aware.toml",
        include_str!("../../models/shop-zone-aware.toml"),
    ),
    (
        "shop-small-db.toml",
        include_str!("../../models/shop-small-db.toml"),
    ),
    (
        "shop-async.toml",
        include_str!("../../models/shop-async.toml"),
    ),
    (
        "shop-async-payments-required.toml",
        include_str!("../../models/shop-async-payments-required.toml"),
    ),
    ("tier3.toml", include_str!("../../models/tier3.toml")),
];

const SCENARIOS: [&str; 6] = [
    include_str!("../../scenarios/az-a-power-interruption.toml"),
    include_str!("../../scenarios/cache-flush-at-peak.toml"),
    include_str!("../../scenarios/chaos-monkey-api.toml"),
    include_str!("../../scenarios/traffic-spike.toml"),
    include_str!("../../scenarios/zone-partition-az-a-az-b.toml"),
    include_str!("../../scenarios/slow-payments-optional.toml"),
];

/// The scenario loader's file system: the bundled models, by file name.
fn bundled_model(path: &Path) -> io::Result<String> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    MODELS
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, text)| text.to_string())
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such model"))
}

/// A rejection explains itself: an error, and every diagnostic located and rendered so.
fn check_rejection(diagnostics: &Diagnostics) -> Result<(), TestCaseError> {
    prop_assert!(diagnostics.has_errors(), "rejected without an error");
    let rendered = diagnostics.render(false);
    for d in diagnostics.iter() {
        prop_assert!(d.line >= 1 && d.column >= 1, "{d:?}");
        let at = format!("{}:{}:{}", d.file.display(), d.line, d.column);
        prop_assert!(rendered.contains(&at), "no `{at}` in\n{rendered}");
    }
    Ok(())
}

/// One way of damaging a text.
#[derive(Clone, Debug)]
enum Damage {
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    /// Swaps the values of two `key = value` lines.
    SwapValues(Index, Index),
    InsertBytes(Index, String),
    /// Replaces the `which`-th number (inside a duration string or not) with `by`.
    Number(Index, &'static str),
}

const BAD_NUMBERS: [&str; 12] = [
    "-1",
    "-0",
    "nan",
    "-nan",
    "inf",
    "-inf",
    "1e308",
    "1e-320",
    "18446744073709551616",
    "99999999999999999999999",
    "0",
    "4294967296",
];

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<Index>().prop_map(Damage::DeleteLine),
        any::<Index>().prop_map(Damage::DuplicateLine),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Damage::SwapLines(a, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Damage::SwapValues(a, b)),
        (
            any::<Index>(),
            "[\\[\\]{}=\"',.#\\\\\n -~é\u{0}\u{7f}]{1,6}"
        )
            .prop_map(|(at, bytes)| Damage::InsertBytes(at, bytes)),
        (any::<Index>(), select(&BAD_NUMBERS[..])).prop_map(|(at, by)| Damage::Number(at, by)),
    ]
}

fn apply(text: &str, damage: &Damage) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() {
        return text.to_string();
    }
    match damage {
        Damage::DeleteLine(at) => {
            lines.remove(at.index(lines.len()));
        }
        Damage::DuplicateLine(at) => {
            let i = at.index(lines.len());
            lines.insert(i, lines[i].clone());
        }
        Damage::SwapLines(a, b) => {
            let (a, b) = (a.index(lines.len()), b.index(lines.len()));
            lines.swap(a, b);
        }
        Damage::SwapValues(a, b) => {
            let with_values: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].contains(" = "))
                .collect();
            if with_values.len() >= 2 {
                let (a, b) = (
                    with_values[a.index(with_values.len())],
                    with_values[b.index(with_values.len())],
                );
                let split = |l: &str| {
                    let (k, v) = l.split_once(" = ").expect("has a value");
                    (k.to_string(), v.to_string())
                };
                let ((ka, va), (kb, vb)) = (split(&lines[a]), split(&lines[b]));
                lines[a] = format!("{ka} = {vb}");
                lines[b] = format!("{kb} = {va}");
            }
        }
        Damage::InsertBytes(at, bytes) => {
            let mut joined = lines.join("\n");
            let mut i = at.index(joined.len() + 1);
            while !joined.is_char_boundary(i) {
                i -= 1;
            }
            joined.insert_str(i, bytes);
            return joined;
        }
        Damage::Number(at, by) => {
            let joined = lines.join("\n");
            let numbers: Vec<(usize, usize)> = number_spans(&joined);
            if numbers.is_empty() {
                return joined;
            }
            let (start, end) = numbers[at.index(numbers.len())];
            return format!("{}{by}{}", &joined[..start], &joined[end..]);
        }
    }
    lines.join("\n") + "\n"
}

/// Byte ranges of runs of digits (with a decimal point), in order.
fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            spans.push((start, i));
        } else {
            i += 1;
        }
    }
    spans
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        // A fixed seed: CI runs the same cases every time, so a red build is reproducible.
        rng_seed: RngSeed::Fixed(0x626c_6173_7472_6164),
        ..ProptestConfig::default()
    })]

    #[test]
    fn damaged_models_load_or_explain_themselves(
        (name, text) in select(&MODELS[..]),
        damages in prop::collection::vec(damage(), 1..5),
    ) {
        let text = damages.iter().fold(text.to_string(), |t, d| apply(&t, d));
        let file = Path::new("models").join(name);
        if let Err(diagnostics) = parse_model(&file, &text) {
            check_rejection(&diagnostics)?;
        }
    }

    #[test]
    fn damaged_scenarios_load_or_explain_themselves(
        text in select(&SCENARIOS[..]),
        damages in prop::collection::vec(damage(), 1..5),
    ) {
        let text = damages.iter().fold(text.to_string(), |t, d| apply(&t, d));
        let file = Path::new("scenarios/damaged.toml");
        if let Err(diagnostics) = parse_scenario(file, &text, bundled_model) {
            check_rejection(&diagnostics)?;
        }
    }

    #[test]
    fn arbitrary_text_loads_or_explains_itself(
        text in prop_oneof![
            any::<String>(),
            "[a-z_\\[\\]{}=\", .0-9\\n#-]{0,200}",
        ],
    ) {
        let file = Path::new("fuzz.toml");
        if let Err(diagnostics) = parse_model(file, &text) {
            check_rejection(&diagnostics)?;
        }
        if let Err(diagnostics) = parse_scenario(file, &text, bundled_model) {
            check_rejection(&diagnostics)?;
        }
    }
}

// ---- (b) generated valid models and scenarios ----------------------------------------------

/// A duration distribution, as TOML.
fn dist() -> impl Strategy<Value = String> {
    let us = 50u64..20_000;
    prop_oneof![
        us.clone()
            .prop_map(|v| format!("{{ dist = \"constant\", value = \"{v}us\" }}")),
        us.clone()
            .prop_map(|m| format!("{{ dist = \"exponential\", mean = \"{m}us\" }}")),
        (us.clone(), 0u64..10_000).prop_map(|(a, w)| format!(
            "{{ dist = \"uniform\", min = \"{a}us\", max = \"{}us\" }}",
            a + w
        )),
        (us.clone(), 1u64..20).prop_map(|(m, k)| format!(
            "{{ dist = \"lognormal\", median = \"{m}us\", p99 = \"{}us\" }}",
            m * k
        )),
        (us, 1u64..5, 1u64..5).prop_map(|(p50, a, b)| format!(
            "{{ dist = \"percentiles\", p50 = \"{p50}us\", p90 = \"{}us\", p99 = \"{}us\" }}",
            p50 * a,
            p50 * a * b
        )),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Service,
    Cache,
    Database,
    External,
}

#[derive(Clone, Debug)]
struct CallSpec {
    /// Offset past the caller: the callee is a later node, so the graph is a DAG.
    to: Index,
    timeout_ms: Option<u64>,
    retries: u32,
    backoff_ms: u64,
    jitter: &'static str,
    probability: Option<f64>,
    optional: bool,
}

fn call() -> impl Strategy<Value = CallSpec> {
    (
        any::<Index>(),
        prop::option::weighted(0.8, 1u64..500),
        0u32..4,
        0u64..30,
        select(&["none", "full", "equal"][..]),
        prop::option::weighted(0.4, 0.0f64..=1.0),
        any::<bool>(),
    )
        .prop_map(
            |(to, timeout_ms, retries, backoff_ms, jitter, probability, optional)| CallSpec {
                to,
                timeout_ms,
                retries,
                backoff_ms,
                jitter,
                probability,
                optional,
            },
        )
}

#[derive(Clone, Debug)]
struct NodeSpec {
    kind: Kind,
    zones: Vec<bool>,
    replicas: u32,
    workers: u32,
    queue: Option<u32>,
    asynchronous: bool,
    service_time: String,
    calls: Vec<CallSpec>,
    hit_ratio: f64,
    backing: Index,
    fail_when_unavailable: bool,
    failover_ms: Option<u64>,
    error_rate: f64,
}

fn node() -> impl Strategy<Value = NodeSpec> {
    (
        select(&[Kind::Service, Kind::Cache, Kind::Database, Kind::External][..]),
        prop::collection::vec(any::<bool>(), 3),
        1u32..3,
        1u32..16,
        prop::option::of(0u32..40),
        any::<bool>(),
        dist(),
        prop::collection::vec(call(), 0..4),
        (0.0f64..=1.0, any::<Index>(), any::<bool>()),
        (prop::option::of(0u64..5_000), 0.0f64..0.2),
    )
        .prop_map(
            |(
                kind,
                zones,
                replicas,
                workers,
                queue,
                asynchronous,
                service_time,
                calls,
                cache,
                db,
            )| {
                NodeSpec {
                    kind,
                    zones,
                    replicas,
                    workers,
                    queue,
                    asynchronous,
                    service_time,
                    calls,
                    hit_ratio: cache.0,
                    backing: cache.1,
                    fail_when_unavailable: cache.2,
                    failover_ms: db.0,
                    error_rate: db.1,
                }
            },
        )
}

#[derive(Clone, Debug)]
struct WorkloadSpec {
    target: Index,
    rate: u32,
    constant: bool,
    timeout_ms: Option<u64>,
}

fn workload() -> impl Strategy<Value = WorkloadSpec> {
    (
        any::<Index>(),
        20u32..600,
        any::<bool>(),
        prop::option::of(5u64..2_000),
    )
        .prop_map(|(target, rate, constant, timeout_ms)| WorkloadSpec {
            target,
            rate,
            constant,
            timeout_ms,
        })
}

#[derive(Clone, Debug)]
enum FaultSpec {
    ZoneOutage,
    Latency(Index),
    Errors(Index, f64),
    Blackhole(Index, f64),
    Slowdown(Index),
    CacheFlush(Index),
    Spike(f64),
    Crash(Index),
}

fn fault() -> impl Strategy<Value = (FaultSpec, u64, u64)> {
    let spec = prop_oneof![
        Just(FaultSpec::ZoneOutage),
        any::<Index>().prop_map(FaultSpec::Latency),
        (any::<Index>(), 0.1f64..=1.0).prop_map(|(n, s)| FaultSpec::Errors(n, s)),
        (any::<Index>(), 0.1f64..=1.0).prop_map(|(n, s)| FaultSpec::Blackhole(n, s)),
        any::<Index>().prop_map(FaultSpec::Slowdown),
        any::<Index>().prop_map(FaultSpec::CacheFlush),
        (0.3f64..3.0).prop_map(FaultSpec::Spike),
        any::<Index>().prop_map(FaultSpec::Crash),
    ];
    (spec, 300u64..1_800, 100u64..1_500)
}

#[derive(Clone, Debug)]
struct SystemSpec {
    zones: usize,
    nodes: Vec<NodeSpec>,
    workloads: Vec<WorkloadSpec>,
    faults: Vec<(FaultSpec, u64, u64)>,
    seed: u64,
    max_events: Option<u64>,
}

fn system() -> impl Strategy<Value = SystemSpec> {
    (
        1usize..=3,
        prop::collection::vec(node(), 2..=8),
        prop::collection::vec(workload(), 1..=2),
        prop::collection::vec(fault(), 0..=3),
        any::<u64>(),
        prop::option::weighted(0.2, 500u64..20_000),
    )
        .prop_map(
            |(zones, nodes, workloads, faults, seed, max_events)| SystemSpec {
                zones,
                nodes,
                workloads,
                faults,
                seed,
                max_events,
            },
        )
}

impl SystemSpec {
    /// The node kinds, adjusted so the model is valid: the first node is a service (the
    /// workloads enter there or below) and the last is not a cache (a cache needs a backing
    /// store after it).
    fn kinds(&self) -> Vec<Kind> {
        let last = self.nodes.len() - 1;
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| match (i, n.kind) {
                (0, _) => Kind::Service,
                (i, Kind::Cache) if i == last => Kind::Database,
                (_, kind) => kind,
            })
            .collect()
    }

    fn zones_of(&self, node: &NodeSpec) -> Vec<usize> {
        let zones: Vec<usize> = (0..self.zones).filter(|&z| node.zones[z]).collect();
        if zones.is_empty() { vec![0] } else { zones }
    }

    fn model(&self) -> String {
        let kinds = self.kinds();
        let zone_list = |zones: &[usize]| {
            let names: Vec<String> = zones.iter().map(|z| format!("\"z{z}\"")).collect();
            names.join(", ")
        };
        let all: Vec<usize> = (0..self.zones).collect();
        let mut out = format!("name = \"generated\"\nzones = [{}]\n", zone_list(&all));
        for (w, spec) in self.workloads.iter().enumerate() {
            // Targets among the nodes that are not externals.
            let candidates: Vec<usize> = (0..kinds.len())
                .filter(|&i| kinds[i] != Kind::External)
                .collect();
            let target = candidates[spec.target.index(candidates.len())];
            let _ = write!(
                out,
                "\n[workload.w{w}]\ntarget = \"n{target}\"\nrate = {}\narrival = \"{}\"\n",
                spec.rate,
                if spec.constant { "constant" } else { "poisson" }
            );
            if let Some(t) = spec.timeout_ms {
                let _ = writeln!(out, "timeout = \"{t}ms\"");
            }
        }
        let last = kinds.len() - 1;
        for (i, (spec, kind)) in self.nodes.iter().zip(&kinds).enumerate() {
            let later = |at: Index| i + 1 + at.index(last - i);
            match kind {
                Kind::External => {
                    let _ = write!(
                        out,
                        "\n[external.n{i}]\nlatency = {}\nerror_rate = {:.4}\n",
                        spec.service_time, spec.error_rate
                    );
                    continue;
                }
                Kind::Service => {
                    let _ = write!(out, "\n[service.n{i}]\n");
                }
                Kind::Cache => {
                    let _ = write!(out, "\n[cache.n{i}]\n");
                }
                Kind::Database => {
                    let _ = write!(out, "\n[database.n{i}]\n");
                }
            }
            let zones = self.zones_of(spec);
            let _ = write!(
                out,
                "zones = [{}]\nreplicas = {}\nworkers = {}\nconcurrency = \"{}\"\nservice_time = {}\n",
                zone_list(&zones),
                spec.replicas,
                spec.workers,
                if spec.asynchronous {
                    "async"
                } else {
                    "blocking"
                },
                spec.service_time
            );
            if let Some(q) = spec.queue {
                let _ = writeln!(out, "queue = {q}");
            }
            match kind {
                Kind::Cache => {
                    let _ = write!(
                        out,
                        "hit_ratio = {:.3}\nbacking = \"n{}\"\non_unavailable = \"{}\"\n",
                        spec.hit_ratio,
                        later(spec.backing),
                        if spec.fail_when_unavailable {
                            "fail"
                        } else {
                            "fallthrough"
                        }
                    );
                }
                Kind::Database => {
                    let _ = writeln!(out, "primary = \"z{}\"", zones[0]);
                    if let Some(f) = spec.failover_ms {
                        let _ = writeln!(out, "failover = \"{f}ms\"");
                    }
                }
                _ => {}
            }
            if i == last || spec.calls.is_empty() || *kind == Kind::Cache {
                continue;
            }
            let calls: Vec<String> = spec
                .calls
                .iter()
                .map(|c| call_toml(c, later(c.to)))
                .collect();
            let _ = writeln!(out, "calls = [{}]", calls.join(", "));
        }
        out
    }

    /// The scenario: 2 s (0.2 s warm-up), the faults, sometimes a tight events bound.
    fn scenario(&self) -> String {
        let kinds = self.kinds();
        let mut out = format!(
            "name = \"generated\"\nmodel = \"generated.toml\"\nduration = \"2s\"\nwarmup = \"200ms\"\nseed = {}\n",
            self.seed
        );
        if let Some(max) = self.max_events {
            let _ = write!(out, "[limits]\nmax_events = {max}\n");
        }
        let internal: Vec<usize> = (0..kinds.len())
            .filter(|&i| kinds[i] != Kind::External)
            .collect();
        let caches: Vec<usize> = (0..kinds.len())
            .filter(|&i| kinds[i] == Kind::Cache)
            .collect();
        let mut outage = false;
        for (fault, start_ms, duration_ms) in &self.faults {
            let when = format!("start = \"{start_ms}ms\"\nduration = \"{duration_ms}ms\"\n");
            let pick = |from: &[usize], at: &Index| from[at.index(from.len())];
            let body = match fault {
                FaultSpec::ZoneOutage if !outage => {
                    outage = true;
                    "kind = \"zone-outage\"\nzone = \"z0\"\n".to_string()
                }
                FaultSpec::ZoneOutage => continue,
                FaultSpec::Latency(n) => format!(
                    "kind = \"latency\"\nnode = \"n{}\"\nlatency = {{ dist = \"constant\", value = \"30ms\" }}\n",
                    n.index(kinds.len())
                ),
                FaultSpec::Errors(n, share) => format!(
                    "kind = \"errors\"\nnode = \"n{}\"\nshare = {share:.3}\n",
                    n.index(kinds.len())
                ),
                FaultSpec::Blackhole(n, share) => format!(
                    "kind = \"blackhole\"\nnode = \"n{}\"\nshare = {share:.3}\n",
                    n.index(kinds.len())
                ),
                FaultSpec::Slowdown(n) => format!(
                    "kind = \"slowdown\"\nnode = \"n{}\"\nfactor = 4\n",
                    pick(&internal, n)
                ),
                FaultSpec::CacheFlush(_) if caches.is_empty() => continue,
                FaultSpec::CacheFlush(n) => format!(
                    "kind = \"cache-flush\"\nnode = \"n{}\"\nrefill = \"500ms\"\n",
                    pick(&caches, n)
                ),
                FaultSpec::Spike(factor) => {
                    format!("kind = \"traffic-spike\"\nworkload = \"w0\"\nfactor = {factor:.2}\n")
                }
                FaultSpec::Crash(n) => format!(
                    "kind = \"crash\"\nnode = \"n{}\"\ncount = 1\n",
                    pick(&internal, n)
                ),
            };
            // A flush is instantaneous: it takes no duration.
            let when = if matches!(fault, FaultSpec::CacheFlush(_)) {
                format!("start = \"{start_ms}ms\"\n")
            } else {
                when
            };
            let _ = write!(out, "\n[[fault]]\n{body}{when}");
        }
        out
    }

    fn has_spike(&self) -> bool {
        self.faults
            .iter()
            .any(|(f, _, _)| matches!(f, FaultSpec::Spike(_)))
    }
}

fn call_toml(call: &CallSpec, to: usize) -> String {
    let mut parts = vec![format!("to = \"n{to}\"")];
    if let Some(t) = call.timeout_ms {
        parts.push(format!("timeout = \"{t}ms\""));
    }
    if call.retries > 0 {
        parts.push(format!("retries = {}", call.retries));
        parts.push(format!("backoff = \"{}ms\"", call.backoff_ms));
        parts.push(format!("jitter = \"{}\"", call.jitter));
    }
    if let Some(p) = call.probability {
        parts.push(format!("probability = {p:.3}"));
    }
    if call.optional {
        parts.push("optional = true".to_string());
    }
    format!("{{ {} }}", parts.join(", "))
}

/// Every request ended once or is in flight.
fn adds_up(o: &Outcomes) -> bool {
    o.ok + o.degraded + o.failed() + o.in_flight == o.requests
}

/// The windows split exactly what the totals count.
fn windows_add_up(m: &EndpointMetrics) -> Result<(), TestCaseError> {
    if m.windows.is_empty() {
        return Ok(());
    }
    let mut sum = Outcomes::default();
    for w in &m.windows {
        prop_assert!(adds_up(&w.outcomes), "{:?}", w.outcomes);
        sum.requests += w.outcomes.requests;
        sum.ok += w.outcomes.ok;
        sum.degraded += w.outcomes.degraded;
        sum.in_flight += w.outcomes.in_flight;
        for (s, c) in sum
            .failed_by_cause
            .iter_mut()
            .zip(w.outcomes.failed_by_cause)
        {
            *s += c;
        }
    }
    prop_assert_eq!(&sum, &m.outcomes);
    Ok(())
}

fn check_run(run: &RunResult, spike: bool) -> Result<(), TestCaseError> {
    for (w, metrics) in run.workloads.iter().enumerate() {
        prop_assert!(
            adds_up(&metrics.outcomes),
            "workload {w}: {:?}",
            metrics.outcomes
        );
        windows_add_up(metrics)?;
        let records = &run.requests[w];
        if records.is_empty() {
            continue;
        }
        // The records of the base arrivals that were sent and counted, tallied by outcome.
        let mut tally = Outcomes::default();
        for r in records
            .iter()
            .filter(|r| r.counted && r.status != RecordStatus::NotSent)
        {
            tally.requests += 1;
            match r.status {
                RecordStatus::InFlight => tally.in_flight += 1,
                RecordStatus::Ended(outcome) => tally.record(outcome),
                RecordStatus::NotSent => unreachable!(),
            }
        }
        if spike {
            // A traffic spike's extra requests are counted but have no record.
            prop_assert!(tally.requests <= metrics.outcomes.requests);
            prop_assert!(metrics.outcomes.requests - tally.requests <= run.extra_requests[w]);
        } else {
            prop_assert_eq!(&tally, &metrics.outcomes, "workload {}", w);
        }
    }
    for (n, metrics) in run.nodes.iter().enumerate() {
        prop_assert!(
            adds_up(&metrics.outcomes),
            "node {n}: {:?}",
            metrics.outcomes
        );
        windows_add_up(metrics)?;
    }
    Ok(())
}

/// Two runs are the same run: outcome, events, counters, latencies, series and records.
fn same_run(a: &RunResult, b: &RunResult) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.outcome, b.outcome);
    prop_assert_eq!((a.end_ns, a.events), (b.end_ns, b.events));
    let endpoints = a
        .workloads
        .iter()
        .chain(&a.nodes)
        .zip(b.workloads.iter().chain(&b.nodes));
    for (x, y) in endpoints {
        prop_assert_eq!(&x.outcomes, &y.outcomes);
        prop_assert_eq!(x.latency.summary(), y.latency.summary());
        prop_assert_eq!(x.series.buckets(), y.series.buckets());
    }
    prop_assert_eq!(&a.requests, &b.requests);
    prop_assert_eq!(&a.extra_requests, &b.extra_requests);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        // A fixed seed: CI runs the same cases every time, so a red build is reproducible.
        rng_seed: RngSeed::Fixed(0x626c_6173_7472_6164),
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_systems_run_and_their_numbers_add_up(system in system()) {
        let model = system.model();
        let text = system.scenario();
        let read = |path: &Path| {
            if path == Path::new("scenarios/generated.toml") {
                Ok(model.clone())
            } else {
                Err(io::Error::new(io::ErrorKind::NotFound, "not the generated model"))
            }
        };
        let file = Path::new("scenarios/scenario.toml");
        let loaded = parse_scenario(file, &text, read);
        let (scenario, _) = loaded.map_err(|d| {
            TestCaseError::fail(format!("{}\n--- model\n{model}\n--- scenario\n{text}", d.render(false)))
        })?;
        let study = study_recorded(&scenario);
        // Streaming pairs the same requests into the same analysis, bounds included.
        let streamed = blastradius::analysis::study(&scenario);
        prop_assert_eq!(
            serde_json::to_string(&streamed.analysis).unwrap(),
            serde_json::to_string(&study.analysis).unwrap()
        );
        check_run(&study.control, false)?;
        check_run(&study.experiment, system.has_spike())?;
        // The control is a plain run of the model, loaded on its own, without faults.
        let topology = parse_model(Path::new("generated.toml"), &model).expect("the model loads");
        let config = RunConfig {
            windows: study.windows,
            record_requests: study.windows.is_some(),
            ..RunConfig::of(&scenario)
        };
        same_run(&study.control, &blastradius::sim::run(&topology, &config))?;
        // And the reports render.
        let document = Findings::new(&scenario, &study);
        prop_assert!(to_text(&document).contains("generated"));
        let json = to_json(&document);
        prop_assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
    }
}
