//! Load shedding at a replica's queue: which waiting frame a free worker takes (FIFO, LIFO,
//! or adaptive LIFO with CoDel) and which frames are dropped unserved because they waited too
//! long. Hooked where `flow.rs` queues a frame (`enqueue`) and where it starts waiting frames
//! (`start_waiting`, through `take_waiting`).
//!
//! The rule, evaluated when a worker of the replica is free and the queue is not empty:
//! - **overloaded** (adaptive only): the queue has not been empty at any moment during the
//!   last `codel.interval` — it became non-empty at `nonempty_since` and has stayed so for at
//!   least the interval (Facebook's "Fail at scale" rule: `queue.lastEmptyTime() < now - N`);
//! - the **limit** is `codel.target` when overloaded, else `queue_timeout` (if any);
//! - every frame that has waited longer than the limit is shed: answered at once with
//!   `Cause::Shed`, counted at the node. Waits grow towards the front, so these are the
//!   oldest frames, a prefix of the queue;
//! - the worker then takes the newest frame under `lifo` or when overloaded, else the oldest.
//!
//! Nothing here draws randomness; a node without the keys takes `pop_front` as before.

use super::engine::Kernel;
use super::frames::{FrameRef, Frames};
use super::replicas::Replicas;
use crate::model::{QueuePolicy, Topology};

/// Per replica (by storage index), when its queue last went from empty to non-empty.
#[derive(Clone)]
pub(super) struct QueueClocks {
    nonempty_since_ns: Vec<u64>,
}

impl QueueClocks {
    pub(super) fn new(replicas: &Replicas) -> QueueClocks {
        QueueClocks {
            nonempty_since_ns: vec![0; replicas.replicas.len()],
        }
    }

    /// Puts a frame at the back of its replica's queue, noting when the queue stopped being
    /// empty.
    pub(super) fn enqueue(
        &mut self,
        k: &Kernel,
        replicas: &mut Replicas,
        replica: u32,
        frame: FrameRef,
    ) {
        let state = replicas.get_mut(replica);
        if state.waiting.is_empty() {
            self.nonempty_since_ns[replica as usize] = k.now.ns();
        }
        state.waiting.push_back(frame);
    }

    /// The frame a free worker of `replica` takes next (if any), and the frames shed on the
    /// way, oldest first, still to be answered (`Cause::Shed`) by the flow.
    pub(super) fn take_waiting(
        &self,
        k: &Kernel,
        topology: &Topology,
        replicas: &mut Replicas,
        frames: &Frames,
        replica: u32,
    ) -> (Option<FrameRef>, Vec<FrameRef>) {
        let node = replicas.node_of(replica);
        let policy = &topology.node(node).policy;
        let now = k.now.ns();
        let since = self.nonempty_since_ns[replica as usize];
        let state = replicas.get_mut(replica);
        if policy.queue_timeout_ns.is_none() && policy.queue_policy == QueuePolicy::Fifo {
            return (state.waiting.pop_front(), Vec::new());
        }
        let overloaded = policy.queue_policy == QueuePolicy::Adaptive
            && !state.waiting.is_empty()
            && now.saturating_sub(since) >= policy.codel.interval_ns;
        let limit = if overloaded {
            Some(policy.codel.target_ns)
        } else {
            policy.queue_timeout_ns
        };
        let mut shed = Vec::new();
        if let Some(limit) = limit {
            while let Some(&oldest) = state.waiting.front() {
                let frame = frames.get(oldest).expect("queued frames are live");
                if now.saturating_sub(frame.arrived.ns()) <= limit {
                    break;
                }
                shed.extend(state.waiting.pop_front());
            }
        }
        let next = if overloaded || policy.queue_policy == QueuePolicy::Lifo {
            state.waiting.pop_back()
        } else {
            state.waiting.pop_front()
        };
        (next, shed)
    }
}
