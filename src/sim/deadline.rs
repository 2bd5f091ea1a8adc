//! Deadline propagation, as gRPC does it: a call with `deadline = "propagate"` (or a workload's
//! client with it) hands its callee an absolute deadline — the earlier of the caller's own
//! deadline and now plus the call's timeout — and the caller stops waiting for the attempt at
//! that instant. A frame whose deadline has passed is *abandoned* when it would start its
//! service (taken from its replica's queue) or make its next call, or when a call of it fails:
//! no worker spent on it, no further calls, a failure with `Cause::DeadlineExceeded` at its
//! node. Without propagation a callee finishes work nobody waits for (`flow.rs`).
//!
//! Must not: grow frames or events — the deadlines sit in a side table per frame slot — or
//! cost a model without the key more than one field test per hook.

use super::engine::{Caller, Kernel};
use super::frames::{FrameRef, Frames, Parent};
use crate::model::{Deadline, Topology};

/// No deadline: the frame waits as long as its caller's timers let it.
pub(super) const NO_DEADLINE: u64 = u64::MAX;

/// The frames' deadlines.
#[derive(Clone)]
pub(super) struct Deadlines {
    /// Whether any workload or call of the model propagates; every hook returns at once
    /// otherwise.
    enabled: bool,
    /// Per frame slot, its frame's absolute deadline in ns (`NO_DEADLINE` without one).
    /// Invariant: written whenever a frame is created while `enabled`, so a reused slot never
    /// carries the deadline of the frame that held it before.
    by_slot: Vec<u64>,
}

impl Deadlines {
    pub fn new(topology: &Topology) -> Deadlines {
        Deadlines {
            enabled: topology.propagates_deadlines(),
            by_slot: Vec::new(),
        }
    }

    fn of(&self, at: FrameRef) -> u64 {
        self.by_slot
            .get(at.index as usize)
            .copied()
            .unwrap_or(NO_DEADLINE)
    }

    fn set(&mut self, at: FrameRef, deadline: u64) {
        let slot = at.index as usize;
        if self.by_slot.len() <= slot {
            self.by_slot.resize(slot + 1, NO_DEADLINE);
        }
        self.by_slot[slot] = deadline;
    }
}

impl Deadlines {
    /// Gives a new frame its deadline, from the call that created it: `NO_DEADLINE` unless
    /// its parent's current call propagates.
    #[inline(always)]
    pub(super) fn set_for(
        &mut self,
        k: &Kernel,
        frames: &Frames,
        callers: &[Caller],
        at: FrameRef,
        parent: Parent,
    ) {
        if !self.enabled {
            return;
        }
        let deadline = match parent {
            Parent::Call { frame, .. } => self.sent_deadline(k, frames, callers, frame),
            Parent::None | Parent::Delivery { .. } => NO_DEADLINE,
        };
        self.set(at, deadline);
    }

    /// The deadline a frame's current attempt hands its callee: the earlier of the frame's
    /// own and now plus the call's timeout when the call propagates; `NO_DEADLINE` otherwise.
    fn sent_deadline(&self, k: &Kernel, frames: &Frames, callers: &[Caller], at: FrameRef) -> u64 {
        self.propagating_call(frames, callers, at)
            .map_or(NO_DEADLINE, |(own, timeout_ns)| {
                timeout_ns.map_or(own, |t| own.min(k.now.ns().saturating_add(t)))
            })
    }

    /// When the current attempt of a frame should time out if the deadline it propagates
    /// comes before the call's own timeout (which waits in its timer lane otherwise).
    #[inline(always)]
    pub(super) fn timer(
        &self,
        k: &Kernel,
        frames: &Frames,
        callers: &[Caller],
        at: FrameRef,
    ) -> Option<u64> {
        if !self.enabled {
            return None;
        }
        let (own, timeout_ns) = self.propagating_call(frames, callers, at)?;
        let timeout_due = timeout_ns.map_or(NO_DEADLINE, |t| k.now.ns().saturating_add(t));
        (own < timeout_due).then_some(own)
    }

    /// For a frame whose current call propagates its deadline: the frame's own deadline and
    /// the call's timeout.
    fn propagating_call(
        &self,
        frames: &Frames,
        callers: &[Caller],
        at: FrameRef,
    ) -> Option<(u64, Option<u64>)> {
        let frame = frames.get(at)?;
        let call = callers[frame.caller as usize]
            .calls
            .get(frame.call as usize)?;
        (call.deadline == Deadline::Propagate).then(|| (self.of(at), call.timeout_ns))
    }

    /// Whether a frame's deadline has passed.
    #[inline(always)]
    pub(super) fn past(&self, k: &Kernel, at: FrameRef) -> bool {
        self.enabled && k.now.ns() >= self.of(at)
    }
}
