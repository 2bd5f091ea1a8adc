//! The request lifecycle's phases, each one hook that `flow.rs` calls and that hands the phase
//! to the features in a fixed order. The features own their state — `health::Balancer`,
//! `resilience::Resilience`, `cache::Caches`, `deadline::Deadlines`, `shedding::QueueClocks`,
//! `queue::Brokers`, `autoscale::Autoscaling` — and are handed the kernel pieces they need
//! (`engine::Kernel`: the clock, the event queue, the run's parameters), the frames or the
//! replicas when they read them, and nothing else.
//!
//! Must not: decide anything itself. A hook only orders the features' calls, in the order the
//! flow made them before there were hooks, so what they draw and schedule — and so every run —
//! stays what it was.

use super::cache::CacheKey;
use super::engine::{Answer, Simulation};
use super::frames::{Frame, FrameRef, NO_SEQ, Parent};
use crate::metrics::{Cause, Outcome};
use crate::model::{NodeId, OnUnavailable, Role};

/// What the features say about an attempt about to be sent (`on_send`).
pub(super) enum Send {
    /// The frame's propagated deadline has passed: abandon it.
    Abandon,
    /// An open breaker or a full bulkhead: the attempt fails at once, unsent.
    Refused(Cause),
    /// Send it: with the timer of the deadline it hands on if that comes before the call's
    /// own timeout; `joined` when it waits on another attempt's fetch instead (single-flight).
    Go {
        deadline_due: Option<u64>,
        joined: bool,
    },
}

/// The frame a free worker takes from its replica's queue (`on_dequeue`).
pub(super) enum Dequeued {
    Serve(FrameRef),
    /// Its deadline passed while it waited: no worker is spent on it.
    Abandon(FrameRef),
}

/// What follows a failed attempt (`on_failure`).
pub(super) enum AfterFailure {
    /// Past the frame's propagated deadline.
    Abandon,
    /// A cache that could not answer, with `on_unavailable = "fallthrough"`: its backing store.
    Fallthrough(NodeId),
    /// Retries are left and the edge's breaker and budget allow one.
    Retry,
    /// An optional call: skipped, after its fallback latency if it has one.
    Skip {
        fallback_ns: Option<u64>,
    },
    Fail,
}

impl Simulation<'_> {
    /// Phase: a frame was created (a user request's client frame, or a call at a node).
    #[inline(always)]
    pub(super) fn on_frame_created(&mut self, at: FrameRef, parent: Parent) {
        let (kernel, frames, callers) = (&self.kernel, &self.frames, &self.callers);
        (self.deadlines).set_for(kernel, frames, callers, at, parent);
    }

    /// Phase: a frame starts a call (not a retry or the next leg of the same call).
    #[inline(always)]
    pub(super) fn on_call_start(&mut self, at: FrameRef) {
        self.caches.set_fill(at, CacheKey::NONE);
    }

    /// Phase: attempt `token` of the frame's current call is about to be sent.
    #[inline(always)]
    pub(super) fn on_send(&mut self, at: FrameRef, token: u32) -> Send {
        let (kernel, frames, callers) = (&self.kernel, &self.frames, &self.callers);
        if self.deadlines.past(kernel, at) {
            return Send::Abandon;
        }
        if !self.resilience.is_empty()
            && let Some(cause) = (self.resilience).admit_attempt(kernel, frames, callers, at)
        {
            return Send::Refused(cause);
        }
        let deadline_due = self.deadlines.timer(kernel, frames, callers, at);
        let joined = !self.caches.is_empty() && self.caches.join_flight(kernel, frames, at, token);
        Send::Go {
            deadline_due,
            joined,
        }
    }

    /// Phase: a replica of `node` could not take a call (its queue was full, or it is stopped
    /// but still listed, which swallows the call: `Cause::Lost`). Counts the refusal at the
    /// node and tells outlier detection; returns the cause for the caller.
    pub(super) fn on_refused(&mut self, node: NodeId, replica: u32, cause: Cause) -> Cause {
        let cause = self.refuse(node, cause);
        if cause == Cause::Lost {
            self.balancer.count_swallowed(&self.kernel, node);
        }
        self.observe_outcome(replica, true);
        cause
    }

    /// Phase: a worker of `replica` is free and its queue is not empty: the frame it takes
    /// (`shedding.rs`), and the frames shed on the way, still to be answered.
    #[inline(always)]
    pub(super) fn on_dequeue(&mut self, replica: u32) -> (Option<Dequeued>, Vec<FrameRef>) {
        let (kernel, frames) = (&self.kernel, &self.frames);
        let (next, shed) = (self.queue_clocks).take_waiting(
            kernel,
            self.topology,
            &mut self.replicas,
            frames,
            replica,
        );
        let next = next.map(|next| {
            if self.deadlines.past(kernel, next) {
                Dequeued::Abandon(next)
            } else {
                Dequeued::Serve(next)
            }
        });
        (next, shed)
    }

    /// Phase: a cache's or a queue's own work for a frame is done: the answer. A content cache
    /// looks the key up (`cache.rs`); a fixed-ratio cache draws a hit at its ratio now
    /// (`effects.rs`); a queue stores the message and delivers it (`queue.rs`).
    #[inline]
    pub(super) fn on_served(&mut self, at: FrameRef, node: NodeId, replica: u32) -> Answer {
        match self.topology.node(node).role {
            Role::Cache { hit_ratio, .. } => {
                let (kernel, frames, replicas) = (&self.kernel, &self.frames, &self.replicas);
                let content =
                    (self.caches).content_lookup(kernel, self.topology, frames, replicas, at, node);
                if let Some(answer) = content {
                    return answer;
                }
                let hit_ratio = self.effective_hit_ratio(replica, hit_ratio);
                let miss = !self.node_streams[node.index()].cache_hit.chance(hit_ratio);
                Answer {
                    miss,
                    ..Answer::ok(Outcome::Ok)
                }
            }
            Role::Queue(_) => {
                let (queue, partition) = self.brokers.on_published(&self.kernel, node);
                self.deliver(queue, partition);
                Answer::ok(Outcome::Ok)
            }
            _ => unreachable!("only caches and queues are served here"),
        }
    }

    /// Phase: an attempt's answer reached its caller, still waiting for it. The edge's
    /// breaker and bulkhead learn the outcome; a cache's miss gives the frame the key to
    /// fill; a backing store's answer fills the key it missed and, for a single-flight
    /// fetch it led, goes to the attempts that waited on it first.
    #[inline(always)]
    pub(super) fn on_answered(&mut self, at: FrameRef, token: u32, answer: Answer) {
        let (kernel, frames, callers) = (&self.kernel, &self.frames, &self.callers);
        if !self.resilience.is_empty() {
            (self.resilience).attempt_ended(kernel, frames, callers, at, answer.outcome);
        }
        if answer.miss {
            let key = self.caches.missed_key(at, token);
            self.caches.set_fill(at, key);
            return;
        }
        if self.caches.is_empty() || !self.caches.fill_of(at).is_some() {
            return;
        }
        let ok = !matches!(answer.outcome, Outcome::Failed(_));
        let Some(waiters) = self.caches.on_backing_answer(&self.kernel, at, token, ok) else {
            return;
        };
        for (waiter, waiter_token) in waiters {
            let Some(frame) = self.frames.get(waiter) else {
                continue;
            };
            if frame.token != waiter_token || !frame.waiting {
                continue;
            }
            if ok {
                self.caches.set_fill(waiter, CacheKey::NONE);
            }
            self.on_answer(waiter, waiter_token, answer);
        }
    }

    /// Phase: an attempt failed (or was refused unsent). Decides what follows, in this
    /// order: the frame's deadline, a cache's fall-through, a retry (the edge's breaker and
    /// budget permitting, `resilience.rs`), an optional call's skip (with its fallback).
    pub(super) fn on_failure(&mut self, at: FrameRef, answer: &Answer) -> AfterFailure {
        let kernel = &self.kernel;
        if self.deadlines.past(kernel, at) {
            return AfterFailure::Abandon;
        }
        let frame = self.frames.get(at).expect("live");
        let call = &self.callers[frame.caller as usize].calls[frame.call as usize];
        if let Role::Cache {
            backing,
            on_unavailable: OnUnavailable::Fallthrough,
            ..
        } = self.topology.node(frame.target).role
        {
            return AfterFailure::Fallthrough(backing);
        }
        let (frames, callers) = (&self.frames, &self.callers);
        if u32::from(frame.attempt) < call.retries
            && (self.resilience).retry_allowed(kernel, frames, callers, at, answer)
        {
            return AfterFailure::Retry;
        }
        if call.optional {
            let fallback_ns = self.resilience.fallback(kernel, frame.caller, frame.call);
            return AfterFailure::Skip { fallback_ns };
        }
        AfterFailure::Fail
    }

    /// Phase: a frame at `replica` ended (or a call to it was refused): outlier detection's
    /// input.
    #[inline(always)]
    pub(super) fn observe_outcome(&mut self, replica: u32, failed: bool) {
        let (kernel, replicas) = (&mut self.kernel, &mut self.replicas);
        (self.balancer).observe_outcome(kernel, self.topology, replicas, replica, failed);
    }

    /// Phase: a user request ended: its record gets the outcome, and its closed-loop user
    /// (if any) thinks before the next (`arrivals.rs`).
    #[inline]
    pub(super) fn on_request_end(
        &mut self,
        workload: usize,
        at: FrameRef,
        frame: &Frame,
        latency_ns: u64,
        answer: Answer,
    ) {
        if frame.seq != NO_SEQ {
            self.record_end(workload, at, frame, latency_ns, answer);
        }
        self.client_ended(workload, at);
    }
}
