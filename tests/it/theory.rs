//! The simulator against queueing theory, where theory has an answer.
//!
//! Each test states its sample size and tolerance beside the assertion. Formulas are those of
//! `shared/bench/closed_forms.py`; times in ms with mean service time S = 1 ms unless stated.

use std::path::Path;

use blastradius::model::{Topology, parse_model};
use blastradius::sim::{self, RunConfig, RunResult};

const MS: f64 = 1e6;
const SECOND: u64 = 1_000_000_000;

/// One zone, one workload `w` at `rate` per second into node `s`.
fn single_station(rate: f64, workers: u32, service_time: &str) -> Topology {
    let text = format!(
        r#"
name = "station"
zones = ["z"]

[workload.w]
target = "s"
rate = {rate}

[service.s]
zones = ["z"]
workers = {workers}
service_time = {service_time}
"#
    );
    parse_model(Path::new("station.toml"), &text).expect("test model is valid")
}

fn simulate(topology: &Topology, seconds: u64, seed: u64) -> RunResult {
    let config = RunConfig::plain(seed, seconds * SECOND, 20 * SECOND);
    sim::run(topology, &config)
}

fn assert_close(what: &str, measured: f64, expected: f64, tolerance: f64) {
    let error = (measured / expected - 1.0).abs();
    assert!(
        error < tolerance,
        "{what}: measured {measured:.4}, theory {expected:.4}, relative error {error:.4} > {tolerance}"
    );
}

#[test]
fn mm1_at_utilisation_half() {
    // rho = 0.5: W = 2 ms, sojourn ~ Exp(mu - lambda) so p99 = ln(100)/500 s = 9.210 ms.
    // 1,000 s at 500/s = 490k counted requests; relaxation time ~12 ms, so the mean's standard
    // error is ~0.3%; tolerance 2% on the mean, 3% on the p99 (histogram precision is 1%).
    let result = simulate(&single_station(500.0, 1, EXP_1MS), 1_000, 1);
    let latency = &result.workloads[0].latency;
    assert_close("M/M/1 rho=0.5 mean", latency.mean_ns() / MS, 2.0, 0.02);
    assert_close(
        "M/M/1 rho=0.5 p99",
        latency.quantile_ns(0.99) as f64 / MS,
        9.2103,
        0.03,
    );
}

#[test]
fn mm1_at_utilisation_0_8() {
    // rho = 0.8: W = 5 ms, p99 = ln(100)/200 s = 23.026 ms. Relaxation time ~90 ms makes the
    // mean noisy: 2,500 s at 800/s = 2M requests gives a standard error ~1%; tolerance 4%.
    let result = simulate(&single_station(800.0, 1, EXP_1MS), 2_500, 2);
    let latency = &result.workloads[0].latency;
    assert_close("M/M/1 rho=0.8 mean", latency.mean_ns() / MS, 5.0, 0.04);
    assert_close(
        "M/M/1 rho=0.8 p99",
        latency.quantile_ns(0.99) as f64 / MS,
        23.026,
        0.05,
    );
}

#[test]
fn mmc_with_four_servers_matches_erlang_c() {
    // c = 4, rho = 0.8 (3,200/s): Erlang C = 0.59643, Wq = C/(c mu - lambda) = 0.74554 ms,
    // W = 1.74554 ms. 600 s at 3,200/s = 1.9M requests; the wait's standard error is ~1.5%;
    // tolerance 5% on the mean wait (W - S), 2% on the sojourn.
    let result = simulate(&single_station(3_200.0, 4, EXP_1MS), 600, 3);
    let latency = &result.workloads[0].latency;
    assert_close("M/M/4 W", latency.mean_ns() / MS, 1.74554, 0.02);
    assert_close("M/M/4 Wq", latency.mean_ns() / MS - 1.0, 0.74554, 0.05);
}

#[test]
fn md1_matches_pollaczek_khinchine() {
    // Deterministic service S = 1 ms, rho = 0.8: Wq = rho S / (2 (1 - rho)) = 2 ms, W = 3 ms.
    // 1,500 s at 800/s = 1.2M requests; tolerance 3% on W, 5% on Wq.
    let constant = r#"{ dist = "constant", value = "1ms" }"#;
    let result = simulate(&single_station(800.0, 1, constant), 1_500, 4);
    let latency = &result.workloads[0].latency;
    assert_close("M/D/1 W", latency.mean_ns() / MS, 3.0, 0.03);
    assert_close("M/D/1 Wq", latency.mean_ns() / MS - 1.0, 2.0, 0.05);
}

#[test]
fn async_tandem_matches_jackson() {
    // tier3: frontend (c=4, S=2 ms) -> service (c=8, S=5 ms) -> database (c=2, S=1.5 ms) at
    // 1,000/s, async so each station is an M/M/c queue; Jackson: the mean sojourn is the sum of
    // the stations' M/M/c means, 10.881 ms. 600 s = 580k counted requests; tolerance 3%.
    let text = std::fs::read_to_string("models/tier3.toml").expect("bundled model");
    let topology = parse_model(Path::new("models/tier3.toml"), &text).expect("valid");
    let result = simulate(&topology, 600, 5);
    let latency = &result.workloads[0].latency;
    assert_close("tier3 mean sojourn", latency.mean_ns() / MS, 10.881, 0.03);
    // Every request ended or is in flight at the end.
    let outcomes = &result.workloads[0].outcomes;
    assert_eq!(outcomes.ok + outcomes.in_flight, outcomes.requests);
}

const EXP_1MS: &str = r#"{ dist = "exponential", mean = "1ms" }"#;
