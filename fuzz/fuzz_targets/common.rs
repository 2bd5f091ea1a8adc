//! Checks shared by the fuzz targets: what the loader promises about any input.

// Each target uses a part of this.
#![allow(dead_code)]

use std::path::Path;

use blastradius::model::{Diagnostics, Limits, Topology};
use blastradius::sim::{RunConfig, RunOutcome};

/// A rejection explains itself: at least one error, every diagnostic at a real line and
/// column, and the rendered text names the file.
pub fn check_rejection(diagnostics: &Diagnostics, file: &Path) {
    assert!(diagnostics.has_errors(), "a rejection without an error");
    check_located(diagnostics);
    let rendered = diagnostics.render(false);
    let name = format!("{}:", file.display());
    assert!(rendered.contains(&name), "{rendered}");
    for d in diagnostics.iter() {
        let at = format!("{}:{}:{}", d.file.display(), d.line, d.column);
        assert!(rendered.contains(&at), "no `{at}` in\n{rendered}");
    }
}

/// Every diagnostic (warnings too) points at a line and a column.
pub fn check_located(diagnostics: &Diagnostics) {
    for d in diagnostics.iter() {
        assert!(d.line >= 1 && d.column >= 1, "{d:?}");
    }
}

/// Tight bounds so any valid input runs in well under the fuzzer's time limit.
pub const LIMITS: Limits = Limits {
    max_events: 5_000,
    max_requests_in_flight: 500,
    max_calls_in_flight: 2_000,
    max_memory_mb: 64,
};

/// A short, bounded run of a valid topology: it ends, and its counts add up.
pub fn run_briefly(topology: &Topology) {
    let config = RunConfig {
        seed: 1,
        duration_ns: 2_000_000_000,
        warmup_ns: 0,
        limits: LIMITS,
        windows: None,
        record_requests: true,
    };
    let result = blastradius::sim::run(topology, &config);
    assert!(result.events <= LIMITS.max_events);
    if result.outcome == RunOutcome::Completed {
        assert_eq!(result.end_ns, config.duration_ns);
    }
    for metrics in &result.workloads {
        let o = &metrics.outcomes;
        assert_eq!(o.ended() + o.in_flight, o.requests);
    }
}
