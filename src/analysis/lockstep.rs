//! The study engine: a control and an experiment advanced in lockstep, in epochs of simulated
//! time, each epoch's two halves side by side (`rayon::join`), and the requests that ended in
//! the epoch paired at the barrier (`Pairing::fold`). A study so holds what the two runs have
//! in flight and fixed-size tallies, whatever the simulated duration.
//!
//! Memory: each run, and the pairing, has its own account of real allocations
//! (`kernel::memory`); at every barrier the experiment is told what the control and the
//! pairing hold, the control what the pairing holds, so `max_memory_mb` bounds the whole study
//! — and, read at barriers only, trips at the same instant at any thread count.
//!
//! Must not: let the order of the two halves, or the thread they ran on, reach any number.

use super::Pairing;
use crate::faults::FaultPlan;
use crate::kernel::SimTime;
use crate::kernel::memory::{Account, charged};
use crate::model::Scenario;
use crate::sim::trace::NoTrace;
use crate::sim::{RunConfig, RunResult, Simulation};

/// Simulated time between two barriers. Short enough that an epoch's ended requests are few
/// (2,500 at 10,000 requests/s), long enough that the barriers cost nothing measurable.
pub(super) const EPOCH_NS: u64 = 250_000_000;

/// Runs the control (no faults) and the experiment (`plan`) of `scenario` in lockstep and
/// pairs their requests as they end. `config` must record requests.
pub(super) fn run_paired(
    scenario: &Scenario,
    plan: &FaultPlan,
    config: &RunConfig,
) -> (RunResult, RunResult, Pairing) {
    run_shared(&[scenario], &[plan], config)
        .pop()
        .expect("one experiment, one result")
}

/// Runs one control (no faults) and the experiment of every scenario (`plans[i]` of
/// `scenarios[i]`, all of one system and `config`) in lockstep, each experiment paired with
/// the control as requests end. An experiment is the control until its first fault starts,
/// so it is not simulated from the start: it is forked from the control (`Simulation::fork`)
/// at the last barrier before that, and its pairing meanwhile pairs the control's requests
/// with themselves. k faults cost one control and k tails after their forks, not 2k runs.
pub(super) fn run_shared(
    scenarios: &[&Scenario],
    plans: &[&FaultPlan],
    config: &RunConfig,
) -> Vec<(RunResult, RunResult, Pairing)> {
    use rayon::prelude::*;
    let topology = &scenarios[0].topology;
    let no_faults = FaultPlan::default();
    let accounts: Vec<Account> = scenarios.iter().map(|_| Account::new()).collect();
    let mut pairings: Vec<Pairing> = scenarios
        .iter()
        .zip(&accounts)
        .map(|(s, account)| charged(account, || Pairing::new(s)))
        .collect();
    let mut control = Simulation::new(topology, config, &no_faults).streaming();
    let first_starts: Vec<u64> = plans.iter().map(|plan| first_start(plan)).collect();
    let mut experiments: Vec<Option<Simulation>> = plans.iter().map(|_| None).collect();
    let mut until = 0u64;
    loop {
        until = until.saturating_add(EPOCH_NS);
        fork_due(&control, plans, &first_starts, until, &mut experiments);
        let c_held = control.memory_bytes_held();
        let largest = accounts.iter().map(Account::live_bytes).max().unwrap_or(0);
        control.set_others_bytes(largest);
        for (experiment, account) in experiments.iter_mut().zip(&accounts) {
            if let Some(experiment) = experiment {
                experiment.set_others_bytes(c_held + account.live_bytes());
            }
        }
        let (c_goes_on, e_go_on) = rayon::join(
            || control.advance_to(SimTime(until), &mut NoTrace),
            || {
                experiments
                    .par_iter_mut()
                    .map(|e| {
                        e.as_mut()
                            .is_some_and(|e| e.advance_to(SimTime(until), &mut NoTrace))
                    })
                    .collect::<Vec<bool>>()
            },
        );
        super::pairing::sort_ended(control.ended_mut());
        let shared = control.ended_mut().as_slice();
        pairings
            .par_iter_mut()
            .zip(experiments.par_iter_mut())
            .zip(accounts.par_iter())
            .for_each(|((pairing, experiment), account)| {
                charged(account, || match experiment {
                    Some(experiment) => pairing.fold_shared(shared, experiment.ended_mut()),
                    None => pairing.fold_same(shared),
                })
            });
        control.ended_mut().clear();
        let all_forked = experiments.iter().all(Option::is_some);
        if !c_goes_on && all_forked && e_go_on.iter().all(|goes_on| !goes_on) {
            break;
        }
    }
    let control = control.into_result();
    experiments
        .into_iter()
        .zip(pairings)
        .map(|(experiment, mut pairing)| {
            let experiment = experiment.expect("every experiment forked").into_result();
            pairing.finish(experiment.end_ns);
            (control.clone(), experiment, pairing)
        })
        .collect()
}

/// The instant of a plan's first effect (`u64::MAX` for none): its experiment is the
/// control until then.
fn first_start(plan: &FaultPlan) -> u64 {
    plan.effects
        .iter()
        .map(|e| e.start_ns)
        .min()
        .unwrap_or(u64::MAX)
}

/// Forks from `control` every experiment not forked yet whose first effect falls in the
/// epoch that ends at `until` — or all of them once the control is over (a bound, or faults
/// that start after the run's end): then the experiment never goes further either.
fn fork_due<'t>(
    control: &Simulation<'t>,
    plans: &[&'t FaultPlan],
    first_starts: &[u64],
    until: u64,
    experiments: &mut [Option<Simulation<'t>>],
) {
    for ((experiment, plan), &first) in experiments.iter_mut().zip(plans).zip(first_starts) {
        if experiment.is_none() && (first <= until || control.is_over()) {
            *experiment = Some(control.fork(plan));
        }
    }
}
