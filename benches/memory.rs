//! Peak memory of a long run: `benches/models/shop-10k.toml` (the shop at 10,000 user requests
//! per second, capacity scaled so it is not saturated) for ten simulated minutes and for one
//! simulated hour, steady state (no faults), each in a fresh child process so the peaks do not
//! mix. The child reports its peak RSS (`VmHWM` of /proc/self/status) and the request count;
//! the parent prints both and the ratio 1 h / 10 min, which stays near 1 when memory does not
//! grow with simulated time.
//!
//! Then criterion times one simulated minute of the same model in this process (user requests
//! per second of wall time at the memory bench's load); the peak RSS is the table's.
//!
//!     cargo bench --bench memory
//!     MEMORY_DURATIONS=60,600 cargo bench --bench memory    # other durations, in seconds
//!     MEMORY_TABLE_ONLY=1 cargo bench --bench memory        # the table without criterion

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use criterion::{Criterion, Throughput};

use blastradius::model::{Topology, load_model};
use blastradius::sim::{self, RunConfig};

/// Set in a child's environment: simulate this many seconds and report.
const CHILD_VAR: &str = "BLASTRADIUS_MEMORY_CHILD_SECONDS";

fn main() {
    if let Ok(seconds) = std::env::var(CHILD_VAR) {
        child(seconds.parse().expect("seconds"));
        return;
    }
    // `cargo test --benches` runs this without `--bench`: nothing to measure then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let durations: Vec<u64> = std::env::var("MEMORY_DURATIONS")
        .unwrap_or_else(|_| "600,3600".into())
        .split(',')
        .map(|s| s.trim().parse().expect("seconds"))
        .collect();
    println!("\nmemory: benches/models/shop-10k.toml, 10,000 user requests/s, no faults");
    println!("| simulated | user requests | peak RSS | wall | M requests/s |");
    println!("|---:|---:|---:|---:|---:|");
    let mut peaks = Vec::new();
    for seconds in &durations {
        let report = run_child(*seconds);
        println!(
            "| {} | {} | {:.1} MB | {:.1} s | {:.2} |",
            human(*seconds),
            report.requests,
            report.peak_kb as f64 / 1024.0,
            report.wall_s,
            report.requests as f64 / report.wall_s / 1e6
        );
        peaks.push(report.peak_kb);
    }
    if peaks.len() >= 2 {
        let ratio = *peaks.last().unwrap() as f64 / peaks[0] as f64;
        println!(
            "\npeak RSS {} / {}: {ratio:.2}",
            human(*durations.last().unwrap()),
            human(durations[0])
        );
    }
    if std::env::var_os("MEMORY_TABLE_ONLY").is_some() {
        return;
    }
    let topology = bench_model();
    let config = run_config(60);
    let requests: u64 = requests_of(&sim::run(&topology, &config));
    let mut criterion = Criterion::default().sample_size(10).configure_from_args();
    let mut group = criterion.benchmark_group("memory_model");
    group.throughput(Throughput::Elements(requests));
    group.bench_function("shop_10k_one_minute", |b| {
        b.iter(|| black_box(sim::run(&topology, &config).events))
    });
    group.finish();
    criterion.final_summary();
}

fn bench_model() -> Topology {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/models/shop-10k.toml");
    load_model(&path).expect("bench model loads")
}

fn run_config(seconds: u64) -> RunConfig {
    RunConfig::plain(1, seconds * 1_000_000_000, 0)
}

fn requests_of(result: &sim::RunResult) -> u64 {
    result.workloads.iter().map(|w| w.outcomes.requests).sum()
}

struct ChildReport {
    peak_kb: u64,
    requests: u64,
    wall_s: f64,
}

fn run_child(seconds: u64) -> ChildReport {
    let exe = std::env::current_exe().expect("own path");
    let output = Command::new(exe)
        .env(CHILD_VAR, seconds.to_string())
        .output()
        .expect("child runs");
    assert!(
        output.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf-8");
    let field = |name: &str| -> &str {
        text.split_whitespace()
            .find_map(|word| word.strip_prefix(name))
            .unwrap_or_else(|| panic!("child output lacks {name}: {text}"))
    };
    ChildReport {
        peak_kb: field("peak_kb=").parse().expect("number"),
        requests: field("requests=").parse().expect("number"),
        wall_s: field("wall_s=").parse().expect("number"),
    }
}

/// In the child: one run, then the peak RSS and the number of user requests on stdout.
fn child(seconds: u64) {
    let topology = bench_model();
    let config = run_config(seconds);
    let start = Instant::now();
    let result = sim::run(&topology, &config);
    let wall_s = start.elapsed().as_secs_f64();
    assert!(
        matches!(result.outcome, sim::RunOutcome::Completed),
        "{:?}",
        result.outcome
    );
    let requests = requests_of(&result);
    println!(
        "peak_kb={} requests={requests} events={} wall_s={wall_s:.3}",
        peak_rss_kb(),
        result.events
    );
}

/// `VmHWM` of /proc/self/status: the peak resident set, in kB.
fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

fn human(seconds: u64) -> String {
    match seconds {
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}
