//! One plain run of a model, for profilers (`valgrind --tool=callgrind`, `perf`): no criterion,
//! no threads, nothing but loading and `sim::run`.
//!
//!     cargo bench --no-run --bench profile
//!     valgrind --tool=callgrind target/release/deps/profile-* --bench models/shop.toml 20
//!
//! Arguments after `--bench`: the model file (relative to the crate) and simulated seconds.

use std::path::Path;

use blastradius::model::load_model;
use blastradius::sim::{self, RunConfig};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip_while(|a| a != "--bench")
        .skip(1)
        .collect();
    // `cargo test --benches` runs this without `--bench`: nothing to do then.
    let Some(model) = args.first() else { return };
    let seconds: u64 = args.get(1).map_or(10, |s| s.parse().expect("seconds"));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(model);
    let topology = load_model(&path).expect("model loads");
    let config = RunConfig::plain(1, seconds * 1_000_000_000, 0);
    let result = sim::run(&topology, &config);
    let requests: u64 = result.workloads.iter().map(|w| w.outcomes.requests).sum();
    println!(
        "{model}: {seconds} s simulated, {requests} requests, {} events",
        result.events
    );
}
