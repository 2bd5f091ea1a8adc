//! Cost per simulated event as the model grows: 10, 100 and 1,000 services.
//!
//! The models are generated as TOML text and loaded with `model::parse_model`, as a user's file
//! would be: chains of five async services, each chain with its own Poisson workload at a fixed
//! rate and a timeout on every call. Per-service load is the same at every size, so the number
//! of requests and pending timers in flight grows in proportion to the model. The simulated
//! duration shrinks as the model grows so that every size processes about the same number of
//! events per iteration.
//!
//! Besides criterion's numbers (throughput in events), prints a table: services, events,
//! ns/event, the ratio to the 10-service case, and the ratio of log2(services) — "at most
//! logarithmic" holds when the first ratio stays at or below the second.
//!
//!     cargo bench --bench scaling
//!     SCALING_TABLE_ONLY=1 cargo bench --bench scaling   # the table only

use std::path::Path;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use std::hint::black_box;

use blastradius::model::{Topology, parse_model};
use blastradius::sim::{self, RunConfig};

/// Services per chain.
const CHAIN: usize = 5;
/// User requests per second entering each chain.
const RATE_PER_CHAIN: u64 = 100;
/// Simulated seconds for the 10-service model; larger models run proportionally shorter.
const BASE_SECONDS: u64 = 200;
pub const SIZES: [usize; 3] = [10, 100, 1_000];

/// A model of `services` services in chains of five; each chain has its own workload.
pub fn chains_model(services: usize) -> String {
    assert_eq!(services % CHAIN, 0, "whole chains only");
    let mut text = format!("name = \"chains-{services}\"\nzones = [\"az-a\"]\n");
    for chain in 0..services / CHAIN {
        text.push_str(&format!(
            "\n[workload.w{chain}]\ntarget = \"c{chain}-s0\"\nrate = {RATE_PER_CHAIN}\n\
             arrival = \"poisson\"\ntimeout = \"2s\"\n"
        ));
        for stage in 0..CHAIN {
            text.push_str(&format!(
                "\n[service.c{chain}-s{stage}]\nzones = [\"az-a\"]\nworkers = 4\n\
                 concurrency = \"async\"\n\
                 service_time = {{ dist = \"exponential\", mean = \"1ms\" }}\n"
            ));
            if stage + 1 < CHAIN {
                text.push_str(&format!(
                    "calls = [{{ to = \"c{chain}-s{}\", timeout = \"500ms\" }}]\n",
                    stage + 1
                ));
            }
        }
    }
    text
}

fn topology(services: usize) -> Topology {
    let text = chains_model(services);
    parse_model(Path::new("chains.toml"), &text).expect("generated model loads")
}

fn config(services: usize) -> RunConfig {
    let seconds = (BASE_SECONDS * 10 / services as u64).max(1);
    RunConfig::plain(1, seconds * 1_000_000_000, 0)
}

/// Nanoseconds this thread has spent on a CPU (`/proc/thread-self/schedstat`, Linux), which
/// unlike the wall clock does not count the time other processes hold the cores; the wall
/// clock elsewhere.
fn cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Median ns per event over a few runs, measured here for the table (criterion keeps its own),
/// in CPU time where the platform gives it.
fn ns_per_event(topology: &Topology, config: &RunConfig) -> (u64, f64) {
    let mut samples: Vec<(u64, f64)> = (0..5)
        .map(|_| {
            let (start, cpu_start) = (Instant::now(), cpu_ns());
            let events = black_box(sim::run(topology, config)).events;
            let ns = match (cpu_start, cpu_ns()) {
                (Some(a), Some(b)) => (b - a) as f64,
                _ => start.elapsed().as_nanos() as f64,
            };
            (events, ns / events as f64)
        })
        .collect();
    samples.sort_by(|a, b| a.1.total_cmp(&b.1));
    samples[samples.len() / 2]
}

/// The table's runs are this many times longer than criterion's: the CPU clock of
/// `/proc/thread-self/schedstat` advances in scheduler ticks (4 ms here), too coarse for a
/// 30 ms run.
const TABLE_SCALE: u64 = 10;

fn print_table() {
    println!("\nscaling: chains of {CHAIN} async services, {RATE_PER_CHAIN} req/s per chain");
    println!("| services | events | CPU ns/event | ratio to 10 | log2 ratio |");
    println!("|---:|---:|---:|---:|---:|");
    let mut base = None;
    for services in SIZES {
        let mut long = config(services);
        long.duration_ns *= TABLE_SCALE;
        let (events, ns) = ns_per_event(&topology(services), &long);
        let base_ns = *base.get_or_insert(ns);
        let log_ratio = (services as f64).log2() / (SIZES[0] as f64).log2();
        println!(
            "| {services} | {events} | {ns:.1} | {:.2} | {log_ratio:.2} |",
            ns / base_ns
        );
    }
    println!();
}

fn scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("scaling");
    group.sample_size(10);
    for services in SIZES {
        let topology = topology(services);
        let config = config(services);
        let events = sim::run(&topology, &config).events;
        group.throughput(Throughput::Elements(events));
        group.bench_function(format!("services_{services}"), |b| {
            b.iter(|| black_box(sim::run(&topology, &config).events))
        });
    }
    group.finish();
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent: keep that quick.
    let benching = std::env::args().any(|a| a == "--bench");
    if benching {
        print_table();
        // `SCALING_TABLE_ONLY=1 cargo bench --bench scaling`: the table without criterion's runs.
        if std::env::var_os("SCALING_TABLE_ONLY").is_some() {
            return;
        }
    }
    let mut criterion = Criterion::default().configure_from_args();
    scaling(&mut criterion);
    criterion.final_summary();
}
