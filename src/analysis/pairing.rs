//! Which request of the experiment is which request of the control, and what the pairs add
//! up to — folded as the two runs go, so a study holds the requests in flight and fixed-size
//! tallies, not one record per request.
//!
//! An open loop's base arrivals are the same in both runs, so a request's key is its index
//! among them. Closed-loop users send when their previous request ends, so a fault changes how
//! many requests each user sends and when: the key is (user, k-th request of that user) — the
//! same user's same think times in both runs. A request the control's user sent and the
//! experiment's did not (it was still waiting, or thinking after a slow answer) is *not sent*:
//! the closed loop's harm that no latency shows, counted apart from the hurt. Requests the
//! experiment's users sent beyond the control's pair with nothing; so do an open loop's
//! requests past the end of a run stopped at a bound.
//!
//! A record waits here until its partner ends in the other run (`fold`), then the pair is
//! folded into its workload's `Tally`. Whether a pair is hurt can depend on the slow threshold,
//! by default the control's p99, which is known only when the control ends: until then a
//! pair's latencies are kept as the interval of thresholds that would make it hurt (or helped),
//! counted by histogram bucket (`Interval`). The default threshold is the top of the p99's
//! bucket (`Latency::quantile_bucket_ns`), at which bucket counts are exact.
//!
//! Must not: depend on the order records arrive in (every tally is a sum of counts).

use crate::metrics::{AboveCounts, Cause, Outcome};
use crate::model::{Scenario, Traffic};
use crate::sim::{EndedRequest, RecordStatus, RequestRecord, RunResult};

/// Why a hurt request was hurt: a failure cause (by `Cause as usize`), then these.
pub(super) const DEGRADED: usize = Cause::COUNT;
pub(super) const IN_FLIGHT: usize = Cause::COUNT + 1;
pub(super) const SLOW: usize = Cause::COUNT + 2;
pub(super) const WHYS: usize = Cause::COUNT + 3;

/// The name of a reason, as the report shows it.
pub(super) fn why_name(why: usize) -> &'static str {
    match why {
        DEGRADED => "degraded",
        IN_FLIGHT => "in_flight",
        SLOW => "slow",
        cause => Cause::ALL[cause].as_str(),
    }
}

/// Counts of pairs that count when the threshold `t` satisfies `lo <= t < hi` (`hi` unbounded
/// for `None`). With the threshold known it is one counter; otherwise the bounds are counted
/// by bucket and `count` answers for any bucket top, as #{hi > t} - #{lo > t} (every pair has
/// `lo <= hi`, so a pair with `lo > t` also has `hi > t`).
#[derive(Clone, Debug, Default)]
pub(super) struct Interval {
    known: u64,
    lo: AboveCounts,
    hi: AboveCounts,
    hi_unbounded: u64,
}

impl Interval {
    fn add(&mut self, threshold: Option<u64>, lo: u64, hi: Option<u64>) {
        match threshold {
            Some(t) => self.known += u64::from(lo <= t && hi.is_none_or(|h| t < h)),
            None => {
                self.lo.record(lo);
                match hi {
                    Some(h) => self.hi.record(h),
                    None => self.hi_unbounded += 1,
                }
            }
        }
    }

    /// The pairs that count at threshold `t`.
    pub(super) fn count(&self, t: u64) -> u64 {
        let above = self.hi.above(t) + self.hi_unbounded;
        let below = above
            .checked_sub(self.lo.above(t))
            .expect("every interval has lo <= hi");
        self.known + below
    }
}

/// What one workload's pairs add up to. Zone slots are the model's zones, then one for
/// requests entering outside every zone (counted outside every boundary, shown in no zone).
#[derive(Clone, Debug)]
pub(super) struct Tally {
    /// The scenario's `[blast_radius] slow`, known from the start; `None`: the control's p99.
    pub threshold: Option<u64>,
    /// Closed-loop users: `not_sent` is counted.
    pub closed: bool,
    pub paired: u64,
    pub paired_by_zone: Vec<u64>,
    pub hurt_by_zone: Vec<Interval>,
    pub helped_by_zone: Vec<Interval>,
    /// Indexed by reason (`why_name`).
    pub hurt_by_why: Vec<Interval>,
    /// Indexed by the node where the experiment's failure started.
    pub hurt_by_origin: Vec<Interval>,
    pub not_sent: u64,
}

impl Tally {
    fn new(threshold: Option<u64>, closed: bool, zones: usize, nodes: usize) -> Tally {
        Tally {
            threshold,
            closed,
            paired: 0,
            paired_by_zone: vec![0; zones + 1],
            hurt_by_zone: vec![Interval::default(); zones + 1],
            helped_by_zone: vec![Interval::default(); zones + 1],
            hurt_by_why: vec![Interval::default(); WHYS],
            hurt_by_origin: vec![Interval::default(); nodes],
            not_sent: 0,
        }
    }

    /// One request seen in both runs. A request is hurt in a run when it failed, was
    /// degraded, was in flight at the end, or was slower than the threshold; hurt by the faults
    /// when hurt in the experiment and not in the control, helped the other way round.
    fn fold(&mut self, c: &RequestRecord, e: &RequestRecord) {
        if !c.counted || c.status == RecordStatus::NotSent || e.status == RecordStatus::NotSent {
            return;
        }
        let t = self.threshold;
        let zones = self.paired_by_zone.len() - 1;
        let z = e.zone.index().min(zones);
        self.paired += 1;
        self.paired_by_zone[z] += 1;
        let (c_lat, e_lat) = (c.latency_ns, e.latency_ns);
        match (fixed_harm(c), fixed_harm(e)) {
            (Some(_), Some(_)) => {}
            // Helped if the experiment's answer was not slow.
            (Some(_), None) => self.helped_by_zone[z].add(t, e_lat, None),
            // Hurt if the control's answer was not slow.
            (None, Some(why)) => self.hurt(z, why, e, c_lat, None),
            // Both answered: hurt when only the experiment's is slow, helped the other way.
            (None, None) if c_lat < e_lat => self.hurt(z, SLOW, e, c_lat, Some(e_lat)),
            (None, None) if e_lat < c_lat => self.helped_by_zone[z].add(t, e_lat, Some(c_lat)),
            (None, None) => {}
        }
    }

    fn hurt(&mut self, zone: usize, why: usize, e: &RequestRecord, lo: u64, hi: Option<u64>) {
        let t = self.threshold;
        self.hurt_by_zone[zone].add(t, lo, hi);
        self.hurt_by_why[why].add(t, lo, hi);
        if let Some(origin) = e.origin {
            self.hurt_by_origin[origin.index()].add(t, lo, hi);
        }
    }
}

/// Why a request is hurt whatever the threshold (not for its latency), or `None` if answered.
fn fixed_harm(record: &RequestRecord) -> Option<usize> {
    match record.status {
        RecordStatus::InFlight => Some(IN_FLIGHT),
        RecordStatus::NotSent => None,
        RecordStatus::Ended(Outcome::Failed(cause)) => Some(cause as usize),
        RecordStatus::Ended(Outcome::Degraded) => Some(DEGRADED),
        RecordStatus::Ended(Outcome::Ok) => None,
    }
}

/// A workload's records waiting for their partners, each side sorted by key.
#[derive(Debug, Default)]
struct Waiting {
    control: Vec<(u64, RequestRecord)>,
    experiment: Vec<(u64, RequestRecord)>,
}

/// The pairing of a control and an experiment as they run: records wait for their partners,
/// pairs are tallied. Feed it with `fold` (both runs' newly ended requests, at a lockstep
/// barrier), then `finish`.
#[derive(Debug)]
pub struct Pairing {
    waiting: Vec<Waiting>,
    tallies: Vec<Tally>,
    /// Reused between folds.
    scratch: (Vec<(u64, RequestRecord)>, Vec<(u64, RequestRecord)>),
}

impl Pairing {
    pub fn new(scenario: &Scenario) -> Pairing {
        let topology = &scenario.topology;
        let tallies = topology
            .workloads
            .iter()
            .map(|w| {
                let closed = matches!(w.traffic, Traffic::Closed(_));
                let (zones, nodes) = (topology.zones.len(), topology.nodes.len());
                Tally::new(scenario.slow_threshold_ns, closed, zones, nodes)
            })
            .collect();
        Pairing {
            waiting: (0..topology.workloads.len())
                .map(|_| Waiting::default())
                .collect(),
            tallies,
            scratch: (Vec::new(), Vec::new()),
        }
    }

    /// The pairing of two runs that kept every record (`RunConfig::record_requests` without
    /// streaming), finished.
    pub fn of_records(scenario: &Scenario, control: &RunResult, experiment: &RunResult) -> Pairing {
        let mut pairing = Pairing::new(scenario);
        let (mut c, mut e) = (ended_of(control), ended_of(experiment));
        pairing.fold(&mut c, &mut e);
        pairing.finish(experiment.end_ns);
        pairing
    }

    /// Pairs what it can of both runs' requests ended since the last fold, and empties both.
    pub fn fold(&mut self, control: &mut Vec<EndedRequest>, experiment: &mut Vec<EndedRequest>) {
        sort_ended(control);
        self.fold_shared(control, experiment);
        control.clear();
    }

    /// `fold` with a control's ended requests that several pairings read (one control, many
    /// experiments): `control` sorted by `sort_ended`, left as it is; `experiment` emptied.
    pub fn fold_shared(&mut self, control: &[EndedRequest], experiment: &mut Vec<EndedRequest>) {
        sort_ended(experiment);
        let (mut ci, mut ei) = (0, 0);
        for w in 0..self.waiting.len() {
            let c_end = ci + control[ci..].partition_point(|r| r.workload as usize == w);
            let e_end = ei + experiment[ei..].partition_point(|r| r.workload as usize == w);
            self.join(w, &control[ci..c_end], &experiment[ei..e_end]);
            (ci, ei) = (c_end, e_end);
        }
        experiment.clear();
    }

    /// `fold_shared` for an experiment that is still the control — a study's candidate before
    /// its fork (`lockstep.rs`): each of `control`'s requests (sorted by `sort_ended`) is
    /// paired with itself, as the experiment's identical record would have been.
    pub fn fold_same(&mut self, control: &[EndedRequest]) {
        let mut ci = 0;
        for w in 0..self.waiting.len() {
            let c_end = ci + control[ci..].partition_point(|r| r.workload as usize == w);
            let ended = &control[ci..c_end];
            let waiting = &self.waiting[w];
            if waiting.control.is_empty() && waiting.experiment.is_empty() {
                // Nothing waits for a partner (so nothing would be merged): each is its own.
                for r in ended {
                    self.tallies[w].fold(&r.record, &r.record);
                }
            } else {
                self.join(w, ended, ended);
            }
            ci = c_end;
        }
    }

    /// Merges a workload's new records into its waiting ones and folds the keys both sides
    /// have; the rest waits.
    fn join(&mut self, w: usize, c_new: &[EndedRequest], e_new: &[EndedRequest]) {
        if c_new.is_empty() && e_new.is_empty() {
            return;
        }
        let waiting = &mut self.waiting[w];
        let (c_all, e_all) = &mut self.scratch;
        merge_into(c_all, &waiting.control, c_new);
        merge_into(e_all, &waiting.experiment, e_new);
        waiting.control.clear();
        waiting.experiment.clear();
        let tally = &mut self.tallies[w];
        let (mut i, mut j) = (0, 0);
        while i < c_all.len() && j < e_all.len() {
            let (c, e) = (&c_all[i], &e_all[j]);
            if c.0 == e.0 {
                tally.fold(&c.1, &e.1);
                (i, j) = (i + 1, j + 1);
            } else if c.0 < e.0 {
                waiting.control.push(*c);
                i += 1;
            } else {
                waiting.experiment.push(*e);
                j += 1;
            }
        }
        waiting.control.extend_from_slice(&c_all[i..]);
        waiting.experiment.extend_from_slice(&e_all[j..]);
    }

    /// Both runs are over and everything folded: what never found a partner is settled — a
    /// closed loop's control request sent before the experiment stopped is `not_sent`, the
    /// rest pairs with nothing.
    pub fn finish(&mut self, experiment_end_ns: u64) {
        for (waiting, tally) in self.waiting.iter_mut().zip(&mut self.tallies) {
            if tally.closed {
                tally.not_sent += waiting
                    .control
                    .iter()
                    .filter(|(_, c)| {
                        c.counted
                            && c.status != RecordStatus::NotSent
                            && c.arrived_ns < experiment_end_ns
                    })
                    .count() as u64;
            }
            *waiting = Waiting::default();
        }
    }

    /// Records waiting for their partner now, both sides.
    pub fn waiting(&self) -> usize {
        self.waiting
            .iter()
            .map(|w| w.control.len() + w.experiment.len())
            .sum()
    }

    pub(super) fn tallies(&self) -> &[Tally] {
        &self.tallies
    }
}

/// Orders ended requests by workload and key, as `fold_shared` reads them.
pub fn sort_ended(ended: &mut [EndedRequest]) {
    ended.sort_unstable_by_key(|r| (r.workload, r.key));
}

/// `out` = the sorted `old` and the key-sorted `new` merged, by key.
fn merge_into(
    out: &mut Vec<(u64, RequestRecord)>,
    old: &[(u64, RequestRecord)],
    new: &[EndedRequest],
) {
    out.clear();
    let (mut i, mut j) = (0, 0);
    while i < old.len() && j < new.len() {
        if old[i].0 <= new[j].key {
            out.push(old[i]);
            i += 1;
        } else {
            out.push((new[j].key, new[j].record));
            j += 1;
        }
    }
    out.extend_from_slice(&old[i..]);
    out.extend(new[j..].iter().map(|r| (r.key, r.record)));
}

/// A run's kept records as ended requests, keyed as a streaming run keys them.
fn ended_of(run: &RunResult) -> Vec<EndedRequest> {
    let mut out = Vec::new();
    for (w, records) in run.requests.iter().enumerate() {
        let keys = &run.request_keys[w];
        for (index, record) in records.iter().enumerate() {
            let key = match keys.get(index) {
                Some(&(user, k)) => (u64::from(user) << 32) | u64::from(k),
                None if keys.is_empty() => index as u64,
                // A closed loop's last record without its key (a bound stopped the run).
                None => continue,
            };
            out.push(EndedRequest {
                workload: w as u32,
                key,
                record: *record,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_counts_the_thresholds_inside_it() {
        // Known threshold: counted at once. Deferred: the same answer at a bucket's top.
        let cases = [
            (10_000_000, Some(20_000_000)),
            (10_000_000, None),
            (30_000_000, Some(40_000_000)),
        ];
        let mut latency = crate::metrics::Latency::new();
        latency.record(15_000_000);
        let t = latency.quantile_bucket_ns(0.99);
        let mut known = Interval::default();
        let mut deferred = Interval::default();
        for (lo, hi) in cases {
            known.add(Some(t), lo, hi);
            deferred.add(None, lo, hi);
        }
        assert_eq!(known.count(t), 2);
        assert_eq!(deferred.count(t), 2);
    }
}
