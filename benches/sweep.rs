//! A sweep over seeds on one and on two rayon threads: the same studies, through the library's
//! public API (`model::load_scenario`, then `analysis::study` per seed in a `par_iter`), timed
//! side by side, and the speed-up. The results of both runs are checked to be equal. A table
//! first (alternating thread counts, median of `SWEEP_REPS`), then criterion's measurement of
//! the same two sweeps (studies per second).
//!
//!     cargo bench --bench sweep
//!     SWEEP_SEEDS=16 SWEEP_REPS=5 cargo bench --bench sweep
//!     SWEEP_TABLE_ONLY=1 cargo bench --bench sweep     # the table without criterion's runs

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use rayon::prelude::*;

use blastradius::analysis;
use blastradius::model::{Scenario, load_scenario};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().expect("a number"))
        .unwrap_or(default)
}

/// What one study leaves for the comparison of the two runs: its verdict and blast radius.
fn unit(scenario: &Scenario, seed: u64) -> (u64, bool, Option<(u64, u64)>) {
    let scenario = Scenario {
        seed,
        ..scenario.clone()
    };
    let study = analysis::study(&scenario);
    let blast = study
        .analysis
        .blast_radius
        .as_ref()
        .map(|b| (b.hurt, b.paired));
    (
        study.experiment.events,
        study.analysis.verdict == analysis::Verdict::Passed,
        blast,
    )
}

/// Events, verdict, and the blast radius (hurt, paired) of one study: what must agree between
/// the one-thread and two-thread sweeps.
type UnitSummary = (u64, bool, Option<(u64, u64)>);

fn sweep(scenario: &Scenario, seeds: u64, threads: usize) -> (f64, Vec<UnitSummary>) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    let start = Instant::now();
    let units = pool.install(|| {
        (1..=seeds)
            .into_par_iter()
            .map(|seed| unit(scenario, seed))
            .collect::<Vec<_>>()
    });
    (start.elapsed().as_secs_f64(), units)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    // `cargo test --benches` runs this without `--bench`: nothing to measure then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/scenarios/sweep-zone-outage.toml");
    let scenario = load_scenario(&path).expect("bench scenario loads");
    let seeds = env_or("SWEEP_SEEDS", 8) as u64;
    print_table(&scenario, seeds, env_or("SWEEP_REPS", 3));
    if std::env::var_os("SWEEP_TABLE_ONLY").is_some() {
        return;
    }
    let mut criterion = Criterion::default().sample_size(10).configure_from_args();
    let mut group = criterion.benchmark_group("sweep");
    group.throughput(Throughput::Elements(seeds));
    for threads in [1, 2] {
        group.bench_function(format!("threads_{threads}"), |b| {
            b.iter(|| black_box(sweep(&scenario, seeds, threads)))
        });
    }
    group.finish();
    criterion.final_summary();
}

fn print_table(scenario: &Scenario, seeds: u64, reps: usize) {
    let mut one = Vec::new();
    let mut two = Vec::new();
    // Alternate the thread counts so drift on a shared machine hits both alike.
    for _ in 0..reps {
        let (t1, u1) = sweep(scenario, seeds, 1);
        let (t2, u2) = sweep(scenario, seeds, 2);
        assert_eq!(u1, u2, "a sweep must not depend on the thread count");
        one.push(t1);
        two.push(t2);
    }
    let (t1, t2) = (median(one), median(two));
    println!(
        "\nsweep: {} x {seeds} seeds, median of {reps}",
        scenario.name
    );
    println!("| threads | wall | studies/s | speed-up |");
    println!("|---:|---:|---:|---:|");
    println!("| 1 | {t1:.2} s | {:.2} | 1 |", seeds as f64 / t1);
    println!(
        "| 2 | {t2:.2} s | {:.2} | {:.2} |",
        seeds as f64 / t2,
        t1 / t2
    );
}
