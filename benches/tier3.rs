//! Simulated requests per second of wall time on `models/tier3.toml` (the tandem network of
//! `shared/bench/README.md`) and on `models/shop.toml`, single thread.

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use blastradius::model::load_model;
use blastradius::sim::{self, RunConfig};

/// Simulated seconds per iteration; with the model's rate this fixes the request count.
fn bench_model(c: &mut Criterion, file: &str, seconds: u64) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let topology = load_model(&path).expect("bundled model loads");
    let rate: f64 = topology.workloads.iter().map(|w| w.rate_per_s).sum();
    let requests = (rate * seconds as f64) as u64;
    let config = RunConfig::plain(1, seconds * 1_000_000_000, 0);
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(requests));
    group.bench_function(format!("{}_{requests}_requests", topology.name), |b| {
        b.iter(|| black_box(sim::run(&topology, &config).events))
    });
    group.finish();
}

fn tier3(c: &mut Criterion) {
    // 1,000 s at 1,000 requests/s: the 1,000,000 requests `benches/compare.sh` gives the heap
    // loop, so both sides pay their fixed costs over the same request count.
    bench_model(c, "models/tier3.toml", 1000);
}

fn shop(c: &mut Criterion) {
    bench_model(c, "models/shop.toml", 100);
}

criterion_group!(benches, tier3, shop);
criterion_main!(benches);
