//! Deadline propagation (`deadline = "propagate"`): without it a callee finishes work whose
//! caller gave up long ago; with it the work is abandoned once the deadline has passed, so a
//! slow backend behind a short client timeout stops spending its workers on answers nobody
//! reads — and a model without the key runs exactly as before.

use std::path::{Path, PathBuf};

use blastradius::analysis::Findings;
use blastradius::analysis::{RecoveryStatus, Study, study};
use blastradius::metrics::Cause;
use blastradius::model::{Scenario, parse_model};
use blastradius::report::to_json;
use blastradius::sim::{RunConfig, RunOutcome};

use crate::support::load;

const MS: u64 = 1_000_000;

/// users (200/s, 100 ms timeout) -> api (async) -> backend (4 workers of 10 ms on average, a
/// 500-place queue: 50% busy). `client` and `call` are the `deadline` lines of the workload and
/// of api's call, or empty for none.
fn slow_backend_model(client: &str, call: &str) -> String {
    format!(
        r#"
name = "deadlines"
zones = ["z"]

[workload.users]
target = "api"
rate = 200
timeout = "100ms"
{client}

[service.api]
zones = ["z"]
workers = 256
concurrency = "async"
service_time = {{ dist = "constant", value = "1ms" }}
calls = [{{ to = "backend", timeout = "1s"{call} }}]

[service.backend]
zones = ["z"]
workers = 4
queue = 500
service_time = {{ dist = "exponential", mean = "10ms" }}
"#
    )
}

/// The backend three times slower from 20 s to 30 s: 133 answers/s for 200 requests/s, so its
/// queue fills with work whose users gave up after 100 ms.
const SLOWDOWN: &str = r#"
[[fault]]
kind = "slowdown"
node = "backend"
factor = 3
start = "20s"
duration = "10s"
"#;

fn studied(model: &str) -> (Scenario, Study) {
    let text = format!(
        "name = \"slow backend\"\nmodel = \"model.toml\"\nduration = \"60s\"\nwarmup = \"5s\"\n\
         seed = 5\n{SLOWDOWN}"
    );
    let mut scenario = load(model, &text);
    // The report names its files: the same names for every variant, so bytes compare.
    scenario.path = PathBuf::from("scenario.toml");
    scenario.model_path = PathBuf::from("model.toml");
    let result = study(&scenario);
    assert_eq!(result.experiment.outcome, RunOutcome::Completed);
    (scenario, result)
}

fn json(scenario: &Scenario, study: &Study) -> String {
    to_json(&Findings::new(scenario, study))
}

fn backend(scenario: &Scenario) -> usize {
    scenario.topology.node_id("backend").expect("node").index()
}

/// The users' availability in a window (0 before, 1 during, 2 after the slowdown).
fn availability(study: &Study, window: usize) -> f64 {
    study.experiment.workloads[0].windows[window]
        .outcomes
        .availability()
}

fn recovered_after_ns(study: &Study) -> u64 {
    match study.analysis.recovery[0].status {
        RecoveryStatus::Recovered { after_ns } => after_ns,
        ref other => panic!("not recovered: {other:?}"),
    }
}

#[test]
fn a_propagated_deadline_frees_a_slow_backend_and_the_users_recover_sooner() {
    let (s_ignore, ignore) = studied(&slow_backend_model("", ""));
    let propagate_model =
        slow_backend_model("deadline = \"propagate\"", ", deadline = \"propagate\"");
    let (s_propagate, propagate) = studied(&propagate_model);
    let b = backend(&s_ignore);
    assert_eq!(b, backend(&s_propagate));
    let (wasted, spared) = (
        &ignore.experiment.nodes[b].outcomes,
        &propagate.experiment.nodes[b].outcomes,
    );
    let cause = |outcomes: &blastradius::metrics::Outcomes, cause: Cause| {
        outcomes.failed_by_cause[cause as usize]
    };
    // Without propagation the backend serves everything it queued, answers nobody reads
    // included, and its queue overflows; with it, work past its deadline leaves the queue
    // unserved (~630 requests), and the queue never fills.
    assert_eq!(cause(wasted, Cause::DeadlineExceeded), 0);
    assert!(cause(wasted, Cause::Rejected) > 100, "{wasted:?}");
    assert!(cause(spared, Cause::DeadlineExceeded) > 400, "{spared:?}");
    assert_eq!(cause(spared, Cause::Rejected), 0, "{spared:?}");
    assert!(spared.ok + 300 < wasted.ok, "{spared:?} vs {wasted:?}");
    // Its workers serve fresh work instead: more users get answers during the slowdown, and
    // no backlog of stale work outlasts it.
    let (during_ignore, during_propagate) = (availability(&ignore, 1), availability(&propagate, 1));
    assert!(
        during_propagate > during_ignore + 0.1,
        "during: {during_propagate} vs {during_ignore}"
    );
    let (after_ignore, after_propagate) = (availability(&ignore, 2), availability(&propagate, 2));
    assert!(after_ignore < 0.95, "after, ignore: {after_ignore}");
    assert!(
        after_propagate > 0.999,
        "after, propagate: {after_propagate}"
    );
    assert!(recovered_after_ns(&propagate) < recovered_after_ns(&ignore));
    // The report lists the cause for a model that propagates, and only then.
    assert!(json(&s_propagate, &propagate).contains("\"deadline_exceeded\": "));
    assert!(!json(&s_ignore, &ignore).contains("deadline_exceeded"));
}

#[test]
fn deadline_ignore_is_the_default_and_changes_nothing() {
    let (s_absent, absent) = studied(&slow_backend_model("", ""));
    let (s_ignore, ignore) = studied(&slow_backend_model(
        "deadline = \"ignore\"",
        ", deadline = \"ignore\"",
    ));
    assert_eq!(json(&s_absent, &absent), json(&s_ignore, &ignore));
    assert_eq!(absent.experiment.events, ignore.experiment.events);
}

/// users (5 requests/s, 100 ms timeout) -> api (blocking, one worker) -> slow (400 ms, many
/// workers), then fast. Ignoring deadlines api's worker manages 2.5 requests/s.
fn blocking_chain(deadline: &str) -> String {
    format!(
        r#"
name = "chain"
zones = ["z"]

[workload.users]
target = "api"
rate = 5
arrival = "constant"
timeout = "100ms"
deadline = "{deadline}"

[service.api]
zones = ["z"]
workers = 1
service_time = {{ dist = "constant", value = "1ms" }}
calls = [
  {{ to = "slow", timeout = "1s", deadline = "{deadline}" }},
  {{ to = "fast", timeout = "1s", deadline = "{deadline}" }},
]

[service.slow]
zones = ["z"]
workers = 64
service_time = {{ dist = "constant", value = "400ms" }}

[service.fast]
zones = ["z"]
service_time = {{ dist = "constant", value = "1ms" }}
"#
    )
}

#[test]
fn past_its_deadline_a_caller_stops_waiting_and_makes_no_further_call() {
    // 30 s: 150 user requests, one every 200 ms.
    let run = |deadline: &str| {
        let model = blocking_chain(deadline);
        let topology = parse_model(Path::new("m.toml"), &model).expect("loads");
        let result = blastradius::sim::run(&topology, &RunConfig::plain(3, 30_000 * MS, 0));
        let id = |name: &str| topology.node_id(name).expect("node").index();
        let api = &result.nodes[id("api")].outcomes;
        (
            api.failed_by_cause[Cause::DeadlineExceeded as usize],
            result.nodes[id("slow")].outcomes.requests,
            result.nodes[id("fast")].outcomes.requests,
        )
    };
    // Ignored: api holds its worker 401 ms a request, waiting on slow and then calling fast
    // for users long gone; a queue builds and only ~75 requests reach slow.
    let (abandoned, slow_calls, fast_calls) = run("ignore");
    assert_eq!(abandoned, 0);
    assert!((70..=80).contains(&slow_calls), "{slow_calls}");
    assert!(fast_calls + 1 >= slow_calls, "{fast_calls}");
    // Propagated: api stops waiting for slow at the users' 100 ms deadline and gives its worker
    // back, so every request reaches slow — and none goes on to fast.
    let (abandoned, slow_calls, fast_calls) = run("propagate");
    assert!(abandoned >= 149, "{abandoned}");
    assert!(slow_calls >= 149, "{slow_calls}");
    assert_eq!(fast_calls, 0);
}
