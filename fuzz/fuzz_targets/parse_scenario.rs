//! Any text as a scenario file (its `model` resolved among the bundled models, without IO):
//! the loader never panics, a rejection always carries located diagnostics, and a scenario that
//! loads has its faults resolved and its experiment run (briefly, bounded) without panic.

#![no_main]

use std::io;
use std::path::Path;

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

const MODELS: [(&str, &str); 7] = [
    ("shop.toml", include_str!("../../models/shop.toml")),
    ("shop-pinned.toml", include_str!("../../models/shop-pinned.toml")),
    ("shop-zone-aware.toml", include_str!("../../models/shop-zone-aware.toml")),
    ("shop-small-db.toml", include_str!("../../models/shop-small-db.toml")),
    ("shop-async.toml", include_str!("../../models/shop-async.toml")),
    (
        "shop-async-payments-required.toml",
        include_str!("../../models/shop-async-payments-required.toml"),
    ),
    ("tier3.toml", include_str!("../../models/tier3.toml")),
];

fn read_model(path: &Path) -> io::Result<String> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    MODELS
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, text)| text.to_string())
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not a bundled model"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = Path::new("scenarios/fuzz.toml");
    match blastradius::model::parse_scenario(file, text, read_model) {
        Ok((mut scenario, warnings)) => {
            common::check_located(&warnings);
            let plan = blastradius::faults::plan(
                &scenario.topology,
                &scenario.faults,
                scenario.seed,
                scenario.duration_ns,
            );
            scenario.limits = common::LIMITS;
            let config = blastradius::sim::RunConfig::of(&scenario);
            let result = blastradius::sim::run_with_faults(&scenario.topology, &config, &plan);
            assert!(result.events <= common::LIMITS.max_events);
        }
        Err(diagnostics) => common::check_rejection(&diagnostics, file),
    }
});
