//! The resilience mechanisms of calls at run time: circuit breakers, retry budgets, bulkheads
//! and fallbacks, with the counts a report shows per caller -> callee edge.
//!
//! One `Edge` per call entry of a node that uses a mechanism, shared by the caller's replicas
//! (a bulkhead counts per replica inside it). The mechanisms guard the attempts sent to the
//! call's `to`; the miss and fall-through legs to a cache's backing store keep the call's
//! timeout and retries only. Nothing here draws randomness, and a call without mechanisms
//! finds no edge, so models without the keys run exactly as before.

use std::collections::BTreeMap;

use serde::Serialize;

use super::engine::{Answer, Caller, Kernel};
use super::frames::{FrameRef, Frames};
use crate::metrics::{Cause, Outcome};
use crate::model::{Call, CircuitBreaker, NodeId, RetryBudget, Topology};

/// Buckets of a rolling window.
const BUCKETS: usize = 10;
const EMPTY: u64 = u64::MAX;

/// What the mechanisms of one edge did, counted after the warm-up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EdgeCounts {
    /// First attempts of the call to the callee (refused ones included).
    pub calls: u64,
    /// Retries sent (allowed by the budget, if any).
    pub retries: u64,
    /// Times the breaker opened (from closed, or again from half-open).
    pub breaker_opens: u64,
    /// Time the breaker spent open (not half-open).
    pub open_ns: u64,
    /// Attempts failed at once by the open breaker, not sent.
    pub circuit_open: u64,
    /// Retries the budget denied; each ended its call with the failure it had.
    pub retries_denied: u64,
    /// Attempts failed at once by a full bulkhead, not sent.
    pub bulkhead_full: u64,
    /// Fallback answers served after the optional call failed.
    pub fallbacks: u64,
}

/// One edge's mechanisms and counts in a finished run.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeResilience {
    pub caller: NodeId,
    /// Index into the caller's calls.
    pub call: u32,
    pub callee: NodeId,
    pub counts: EdgeCounts,
}

/// Two counters over a rolling window of `BUCKETS` buckets.
#[derive(Clone, Debug)]
struct Rolling {
    width_ns: u64,
    /// The bucket number (time / width) each slot holds, or `EMPTY`.
    epochs: [u64; BUCKETS],
    counts: [[u64; 2]; BUCKETS],
}

impl Rolling {
    fn new(window_ns: u64) -> Rolling {
        Rolling {
            width_ns: (window_ns / BUCKETS as u64).max(1),
            epochs: [EMPTY; BUCKETS],
            counts: [[0; 2]; BUCKETS],
        }
    }

    fn add(&mut self, now_ns: u64, which: usize) {
        let epoch = now_ns / self.width_ns;
        let slot = (epoch % BUCKETS as u64) as usize;
        if self.epochs[slot] != epoch {
            self.epochs[slot] = epoch;
            self.counts[slot] = [0; 2];
        }
        self.counts[slot][which] += 1;
    }

    /// Both counters summed over the buckets of the last window.
    fn sums(&self, now_ns: u64) -> [u64; 2] {
        let epoch = now_ns / self.width_ns;
        let mut sums = [0; 2];
        for (slot, &e) in self.epochs.iter().enumerate() {
            if e != EMPTY && e <= epoch && epoch - e < BUCKETS as u64 {
                sums[0] += self.counts[slot][0];
                sums[1] += self.counts[slot][1];
            }
        }
        sums
    }

    fn clear(&mut self) {
        self.epochs = [EMPTY; BUCKETS];
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum BreakerState {
    Closed,
    Open {
        since_ns: u64,
        until_ns: u64,
    },
    /// `sent` probes let through, `passed` of them answered well.
    HalfOpen {
        sent: u32,
        passed: u32,
    },
}

#[derive(Clone, Debug)]
struct Breaker {
    spec: CircuitBreaker,
    state: BreakerState,
    /// Counter 0: finished attempts; counter 1: failed ones.
    window: Rolling,
}

impl Breaker {
    /// Whether an attempt may be sent now; moves an expired open breaker to half-open,
    /// adding the time it was open to `counts`.
    fn admit(&mut self, now_ns: u64, counts: &mut Counter<'_>) -> bool {
        if let BreakerState::Open { since_ns, until_ns } = self.state {
            if now_ns < until_ns {
                return false;
            }
            counts.open_time(since_ns, until_ns);
            self.state = BreakerState::HalfOpen { sent: 0, passed: 0 };
        }
        match &mut self.state {
            BreakerState::Closed => true,
            BreakerState::HalfOpen { sent, .. } if *sent < self.spec.probes => {
                *sent += 1;
                true
            }
            _ => false,
        }
    }

    /// Counts a finished attempt and moves the state as its outcome says.
    fn record(&mut self, now_ns: u64, failed: bool, counts: &mut Counter<'_>) {
        match &mut self.state {
            BreakerState::Closed => {
                self.window.add(now_ns, 0);
                if failed {
                    self.window.add(now_ns, 1);
                }
                let [calls, failures] = self.window.sums(now_ns);
                let tripped = calls >= u64::from(self.spec.min_calls)
                    && failures as f64 >= self.spec.failure_rate * calls as f64;
                if tripped {
                    self.open(now_ns, counts);
                }
            }
            BreakerState::HalfOpen { .. } if failed => self.open(now_ns, counts),
            BreakerState::HalfOpen { passed, .. } => {
                *passed += 1;
                if *passed >= self.spec.probes {
                    self.state = BreakerState::Closed;
                    self.window.clear();
                }
            }
            // Late answers of attempts sent before it opened.
            BreakerState::Open { .. } => {}
        }
    }

    fn open(&mut self, now_ns: u64, counts: &mut Counter<'_>) {
        counts.add(|c| &mut c.breaker_opens);
        self.state = BreakerState::Open {
            since_ns: now_ns,
            until_ns: now_ns.saturating_add(self.spec.open_ns),
        };
    }
}

/// The counts of one edge with the run's warm-up, so only measured time is counted.
struct Counter<'c> {
    counts: &'c mut EdgeCounts,
    now_ns: u64,
    warmup_ns: u64,
}

impl Counter<'_> {
    fn add(&mut self, field: impl FnOnce(&mut EdgeCounts) -> &mut u64) {
        if self.now_ns >= self.warmup_ns {
            *field(self.counts) += 1;
        }
    }

    /// Adds the part of `[from, until)` after the warm-up and before now.
    fn open_time(&mut self, from_ns: u64, until_ns: u64) {
        let (from, until) = (from_ns.max(self.warmup_ns), until_ns.min(self.now_ns));
        self.counts.open_ns += until.saturating_sub(from);
    }
}

#[derive(Clone)]
struct Edge {
    caller: NodeId,
    call: u32,
    callee: NodeId,
    breaker: Option<Breaker>,
    /// The budget and its window (counter 0: first attempts; counter 1: retries sent).
    budget: Option<(RetryBudget, Rolling)>,
    bulkhead: Option<u32>,
    fallback_ns: Option<u64>,
    /// Outstanding attempts per caller replica, for the bulkhead.
    outstanding: BTreeMap<u32, u32>,
    counts: EdgeCounts,
}

/// The run-time state of every edge with a mechanism.
#[derive(Clone)]
pub(super) struct Resilience {
    /// Per caller node, per call: the edge's index in `edges`.
    index: Vec<Vec<Option<u32>>>,
    edges: Vec<Edge>,
    warmup_ns: u64,
}

impl Resilience {
    pub(super) fn new(topology: &Topology, warmup_ns: u64) -> Resilience {
        let mut edges = Vec::new();
        let index = topology
            .nodes
            .iter()
            .enumerate()
            .map(|(n, node)| {
                let caller = NodeId(n as u32);
                let edge_of = |(c, call): (usize, &Call)| {
                    call.resilience.any().then(|| {
                        edges.push(Edge::new(caller, c as u32, call));
                        (edges.len() - 1) as u32
                    })
                };
                node.calls.iter().enumerate().map(edge_of).collect()
            })
            .collect();
        Resilience {
            index,
            edges,
            warmup_ns,
        }
    }

    fn edge_of(&self, caller: u32, call: u16) -> Option<usize> {
        let calls = self.index.get(caller as usize)?;
        calls
            .get(usize::from(call))
            .copied()
            .flatten()
            .map(|e| e as usize)
    }

    /// A replica stopped: its outstanding attempts are gone with it.
    pub(super) fn replica_stopped(&mut self, replica: u32) {
        for edge in &mut self.edges {
            edge.outstanding.remove(&replica);
        }
    }

    /// The counts of every edge, closing an open breaker's time at `end_ns`.
    pub(super) fn finish(mut self, end_ns: u64) -> Vec<EdgeResilience> {
        let warmup_ns = self.warmup_ns;
        for edge in &mut self.edges {
            if let Some(Breaker {
                state: BreakerState::Open { since_ns, until_ns },
                ..
            }) = edge.breaker
            {
                let mut counter = Counter {
                    counts: &mut edge.counts,
                    now_ns: end_ns,
                    warmup_ns,
                };
                counter.open_time(since_ns, until_ns);
            }
        }
        self.edges
            .into_iter()
            .map(|edge| EdgeResilience {
                caller: edge.caller,
                call: edge.call,
                callee: edge.callee,
                counts: edge.counts,
            })
            .collect()
    }
}

impl Edge {
    fn new(caller: NodeId, call: u32, spec: &Call) -> Edge {
        let r = spec.resilience;
        Edge {
            caller,
            call,
            callee: spec.to,
            breaker: r.circuit_breaker.map(|spec| Breaker {
                spec,
                state: BreakerState::Closed,
                window: Rolling::new(spec.window_ns),
            }),
            budget: r.retry_budget.map(|b| (b, Rolling::new(b.window_ns))),
            bulkhead: r.bulkhead,
            fallback_ns: r.fallback_ns,
            outstanding: BTreeMap::new(),
            counts: EdgeCounts::default(),
        }
    }
}

impl Resilience {
    /// The edge guarding the frame's current attempt: the frame is a node's, its call has a
    /// mechanism, and the attempt goes to the call's `to`.
    fn guarding(&self, caller: u32, call: u16, target: NodeId, calls: &[Call]) -> Option<usize> {
        let edge = self.edge_of(caller, call)?;
        (calls.get(usize::from(call))?.to == target).then_some(edge)
    }
}

impl Resilience {
    /// No call of the model has a mechanism: every hook has nothing to do.
    #[inline(always)]
    pub(super) fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }

    /// The edge guarding the frame's current attempt, if any.
    #[inline]
    fn guarded_edge(&self, frames: &Frames, callers: &[Caller], at: FrameRef) -> Option<usize> {
        // Every attempt asks: answer at once for the models without any guarded edge.
        if self.edges.is_empty() {
            return None;
        }
        let frame = frames.get(at)?;
        let calls = &callers.get(frame.caller as usize)?.calls;
        self.guarding(frame.caller, frame.call, frame.target, calls)
    }

    /// Admits the frame's next attempt, or names the cause it fails with at once, unsent: an
    /// open breaker or a full bulkhead. Counts first attempts for the budget.
    #[inline]
    pub(super) fn admit_attempt(
        &mut self,
        k: &Kernel,
        frames: &Frames,
        callers: &[Caller],
        at: FrameRef,
    ) -> Option<Cause> {
        let e = self.guarded_edge(frames, callers, at)?;
        let frame = frames.get(at).expect("live");
        let (first, replica) = (frame.attempt == 0, frame.replica);
        let now_ns = k.now.ns();
        let warmup_ns = self.warmup_ns;
        let edge = &mut self.edges[e];
        let mut counter = Counter {
            counts: &mut edge.counts,
            now_ns,
            warmup_ns,
        };
        if first {
            counter.add(|c| &mut c.calls);
            if let Some((_, window)) = &mut edge.budget {
                window.add(now_ns, 0);
            }
        }
        let held = edge.outstanding.get(&replica).copied().unwrap_or(0);
        if edge.bulkhead.is_some_and(|limit| held >= limit) {
            counter.add(|c| &mut c.bulkhead_full);
            return Some(Cause::BulkheadFull);
        }
        if let Some(breaker) = &mut edge.breaker
            && !breaker.admit(now_ns, &mut counter)
        {
            counter.add(|c| &mut c.circuit_open);
            return Some(Cause::CircuitOpen);
        }
        if edge.bulkhead.is_some() {
            *edge.outstanding.entry(replica).or_insert(0) += 1;
        }
        None
    }

    /// The frame's outstanding attempt has ended (answered, failed or timed out): frees its
    /// bulkhead place and tells the breaker.
    #[inline]
    pub(super) fn attempt_ended(
        &mut self,
        k: &Kernel,
        frames: &Frames,
        callers: &[Caller],
        at: FrameRef,
        outcome: Outcome,
    ) {
        let Some(e) = self.guarded_edge(frames, callers, at) else {
            return;
        };
        let replica = frames.get(at).expect("live").replica;
        let now_ns = k.now.ns();
        let warmup_ns = self.warmup_ns;
        let edge = &mut self.edges[e];
        if edge.bulkhead.is_some()
            && let Some(held) = edge.outstanding.get_mut(&replica)
        {
            *held = held.saturating_sub(1);
        }
        if let Some(breaker) = &mut edge.breaker {
            let mut counter = Counter {
                counts: &mut edge.counts,
                now_ns,
                warmup_ns,
            };
            let failed = matches!(outcome, Outcome::Failed(_));
            breaker.record(now_ns, failed, &mut counter);
        }
    }

    /// Whether a failed attempt may be retried (its retries left were checked by the caller):
    /// not after the edge's own breaker refused it, and only within the retry budget. An
    /// allowed retry is counted against the budget now.
    pub(super) fn retry_allowed(
        &mut self,
        k: &Kernel,
        frames: &Frames,
        callers: &[Caller],
        at: FrameRef,
        answer: &Answer,
    ) -> bool {
        let Some(e) = self.guarded_edge(frames, callers, at) else {
            return true;
        };
        let target = frames.get(at).expect("live").target;
        let refused_here =
            answer.outcome == Outcome::Failed(Cause::CircuitOpen) && answer.origin == Some(target);
        if refused_here {
            return false;
        }
        let now_ns = k.now.ns();
        let warmup_ns = self.warmup_ns;
        let edge = &mut self.edges[e];
        let mut counter = Counter {
            counts: &mut edge.counts,
            now_ns,
            warmup_ns,
        };
        if let Some((budget, window)) = &mut edge.budget {
            let [firsts, retries] = window.sums(now_ns);
            let window_s = budget.window_ns as f64 / 1e9;
            let allowance = budget.ratio * firsts as f64 + budget.min_per_s * window_s;
            if (retries + 1) as f64 > allowance {
                counter.add(|c| &mut c.retries_denied);
                return false;
            }
            window.add(now_ns, 1);
        }
        counter.add(|c| &mut c.retries);
        true
    }

    /// An optional call (`call` of node or client `caller`) has finally failed: the latency
    /// of its fallback answer, counted as served, if the call has one.
    pub(super) fn fallback(&mut self, k: &Kernel, caller: u32, call: u16) -> Option<u64> {
        let e = self.edge_of(caller, call)?;
        let edge = &mut self.edges[e];
        let fallback_ns = edge.fallback_ns?;
        if k.now.ns() >= self.warmup_ns {
            edge.counts.fallbacks += 1;
        }
        Some(fallback_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;

    fn breaker(min_calls: u32, probes: u32) -> Breaker {
        let spec = CircuitBreaker {
            failure_rate: 0.5,
            window_ns: SECOND,
            min_calls,
            open_ns: SECOND,
            probes,
        };
        Breaker {
            spec,
            state: BreakerState::Closed,
            window: Rolling::new(spec.window_ns),
        }
    }

    #[test]
    fn the_breaker_waits_for_min_calls_then_probes_before_closing() {
        let mut counts = EdgeCounts::default();
        let mut b = breaker(5, 2);
        fn at(now_ns: u64, counts: &mut EdgeCounts) -> Counter<'_> {
            Counter {
                counts,
                now_ns,
                warmup_ns: 0,
            }
        }
        // Four failures: 100% failed, but fewer than min_calls = 5 — still closed.
        for i in 0..4 {
            b.record(i, true, &mut at(i, &mut counts));
        }
        assert_eq!(b.state, BreakerState::Closed);
        b.record(4, true, &mut at(4, &mut counts));
        assert!(matches!(b.state, BreakerState::Open { .. }));
        assert_eq!(counts.breaker_opens, 1);
        // Open for 1 s: refused; then two probes pass, a third waits; both succeed -> closed.
        assert!(!b.admit(SECOND / 2, &mut at(SECOND / 2, &mut counts)));
        let t = 4 + SECOND;
        assert!(b.admit(t, &mut at(t, &mut counts)));
        assert!(b.admit(t, &mut at(t, &mut counts)));
        assert!(!b.admit(t, &mut at(t, &mut counts)));
        assert_eq!(counts.open_ns, SECOND);
        b.record(t, false, &mut at(t, &mut counts));
        assert!(matches!(b.state, BreakerState::HalfOpen { .. }));
        b.record(t, false, &mut at(t, &mut counts));
        assert_eq!(b.state, BreakerState::Closed);
        // The window was reset: one failure does not reopen it.
        b.record(t + 1, true, &mut at(t + 1, &mut counts));
        assert_eq!(b.state, BreakerState::Closed);
    }

    #[test]
    fn a_failed_probe_opens_again() {
        let mut counts = EdgeCounts::default();
        let mut b = breaker(1, 1);
        let mut c = Counter {
            counts: &mut counts,
            now_ns: 0,
            warmup_ns: 0,
        };
        b.record(0, true, &mut c);
        assert!(b.admit(SECOND, &mut c));
        b.record(SECOND, true, &mut c);
        assert_eq!(
            b.state,
            BreakerState::Open {
                since_ns: SECOND,
                until_ns: 2 * SECOND
            }
        );
        assert_eq!(counts.breaker_opens, 2);
    }

    #[test]
    fn rolling_windows_forget_old_buckets() {
        let mut w = Rolling::new(10 * SECOND);
        w.add(0, 0);
        w.add(5 * SECOND, 1);
        assert_eq!(w.sums(9 * SECOND), [1, 1]);
        // 10 s later the first bucket has left the window, the second has not.
        assert_eq!(w.sums(10 * SECOND), [0, 1]);
        assert_eq!(w.sums(16 * SECOND), [0, 0]);
    }
}
