//! `run --check-determinism` and `run --trace FILE`: the determinism self-check of every
//! scenario's experiment, and the event trace of one, streamed to a file.
//!
//! Both run the experiment as `analysis::study` does (the same fault plan and run
//! configuration) in runs of their own, so the report that follows is unaffected. Messages go
//! to stderr; a difference between two runs is an internal error (exit 4).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use rayon::prelude::*;

use super::{Exit, RunArgs};
use crate::faults::FaultPlan;
use crate::kernel::time::format_duration_ns;
use crate::model::Scenario;
use crate::sim::trace::{Determinism, TraceRecord, Tracer, check_determinism};
use crate::sim::{RunConfig, run_traced};

/// Runs the checks and writes the trace that `args` ask for.
pub(super) fn before_reports(args: &RunArgs, scenarios: &[Scenario]) -> Result<(), Exit> {
    if args.trace.is_some() && scenarios.len() != 1 {
        eprintln!(
            "error: --trace writes the trace of one scenario, and {} were given",
            scenarios.len()
        );
        return Err(Exit::Usage);
    }
    if args.check_determinism {
        check_all(scenarios)?;
    }
    if let (Some(path), [scenario]) = (&args.trace, scenarios) {
        write_trace(scenario, path)?;
    }
    Ok(())
}

/// The experiment's fault plan and configuration, as `analysis::study` makes them.
fn experiment(scenario: &Scenario) -> (FaultPlan, RunConfig) {
    let (plan, _, config) = crate::analysis::prepare(scenario);
    (plan, config)
}

fn check_all(scenarios: &[Scenario]) -> Result<(), Exit> {
    let verdicts: Vec<Determinism> = scenarios
        .par_iter()
        .map(|scenario| {
            let (plan, config) = experiment(scenario);
            check_determinism(&scenario.topology, &config, &plan)
        })
        .collect();
    let mut identical = true;
    for (scenario, verdict) in scenarios.iter().zip(&verdicts) {
        let file = scenario.path.display();
        match verdict {
            Determinism::Identical { events, hash } => eprintln!(
                "determinism: {file}: identical: 2 runs of the experiment, {events} events each, trace hash {hash:016x}"
            ),
            Determinism::Differs {
                hashes,
                events,
                first,
            } => {
                identical = false;
                eprintln!(
                    "error: determinism: {file}: two runs of the experiment differ (trace hashes {:016x} and {:016x}, {} and {} events)",
                    hashes.0, hashes.1, events.0, events.1
                );
                report_divergence(first.as_ref());
            }
        }
    }
    if identical {
        Ok(())
    } else {
        Err(Exit::Internal)
    }
}

fn report_divergence(first: Option<&crate::sim::trace::Divergence>) {
    let Some(divergence) = first else {
        eprintln!("  the difference did not reproduce in a second pair of runs");
        return;
    };
    let time = divergence
        .first
        .as_ref()
        .or(divergence.second.as_ref())
        .map_or(0, |e| e.time_ns);
    eprintln!(
        "  first difference at event {} (simulated time {}):",
        divergence.index,
        format_duration_ns(time)
    );
    for (run, event) in [(1, &divergence.first), (2, &divergence.second)] {
        match event {
            Some(event) => eprintln!("    run {run}: {}", event.line),
            None => eprintln!("    run {run}: (the run had ended)"),
        }
    }
}

/// Writes each record as a line; after the first write error it asks for no more records.
struct LineTracer<W: Write> {
    out: W,
    error: Option<io::Error>,
}

impl<W: Write> Tracer for LineTracer<W> {
    fn enabled(&self) -> bool {
        self.error.is_none()
    }

    fn record(&mut self, record: &TraceRecord<'_>) {
        if let Err(error) = writeln!(self.out, "{record}") {
            self.error = Some(error);
        }
    }
}

/// The trace's format, written at its top.
const FORMAT: &str = "# one line per event, in processing order: INDEX TIME_NS KIND SUBJECT[->TARGET] [frame=SLOT.GEN] [token=T] [answer=A] [stale]";

fn write_trace(scenario: &Scenario, path: &Path) -> Result<(), Exit> {
    let io_error = |error: io::Error| {
        eprintln!("error: writing the trace to {}: {error}", path.display());
        Exit::Internal
    };
    let file = File::create(path).map_err(io_error)?;
    let mut out = BufWriter::with_capacity(1 << 16, file);
    writeln!(
        out,
        "# blastradius event trace, format 1: scenario {:?} ({}), experiment, seed {}\n{FORMAT}",
        scenario.name,
        scenario.path.display(),
        scenario.seed
    )
    .map_err(io_error)?;
    let (plan, config) = experiment(scenario);
    let mut tracer = LineTracer { out, error: None };
    let result = run_traced(&scenario.topology, &config, &plan, &mut tracer);
    if let Some(error) = tracer.error {
        return Err(io_error(error));
    }
    tracer.out.flush().map_err(io_error)?;
    eprintln!(
        "trace: {} events of the experiment written to {}",
        result.events,
        path.display()
    );
    Ok(())
}
