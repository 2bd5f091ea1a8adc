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

use super::engine::{Answer, Simulation};
use super::frames::FrameRef;
use crate::metrics::Cause;
use crate::model::{NodeId, QueuePolicy, Topology};

/// Per replica (by storage index), when its queue last went from empty to non-empty.
#[derive(Clone)]
pub(super) struct QueueClocks {
    nonempty_since_ns: Vec<u64>,
    /// The node of each replica.
    pub(super) node_of: Vec<NodeId>,
}

impl QueueClocks {
    pub(super) fn new(topology: &Topology) -> QueueClocks {
        let mut node_of = Vec::new();
        for (n, node) in topology.nodes.iter().enumerate() {
            let count = node.zones.len() * node.slots_per_zone() as usize;
            node_of.extend(std::iter::repeat_n(NodeId(n as u32), count));
        }
        QueueClocks {
            nonempty_since_ns: vec![0; node_of.len()],
            node_of,
        }
    }
}

impl Simulation<'_> {
    /// Puts a frame at the back of its replica's queue, noting when the queue stopped being
    /// empty.
    pub(super) fn enqueue(&mut self, replica: u32, frame: FrameRef) {
        let state = self.replicas.get_mut(replica);
        if state.waiting.is_empty() {
            self.queue_clocks.nonempty_since_ns[replica as usize] = self.kernel.now.ns();
        }
        state.waiting.push_back(frame);
    }

    /// The frame a free worker of `replica` takes next (if any), and the frames shed on the
    /// way, oldest first, still to be answered by `shed`.
    pub(super) fn take_waiting(&mut self, replica: u32) -> (Option<FrameRef>, Vec<FrameRef>) {
        let node = self.queue_clocks.node_of[replica as usize];
        let policy = &self.topology.node(node).policy;
        let now = self.kernel.now.ns();
        let since = self.queue_clocks.nonempty_since_ns[replica as usize];
        let state = self.replicas.get_mut(replica);
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
                let frame = self.frames.get(oldest).expect("queued frames are live");
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

    /// Answers shed frames at once with `Cause::Shed`, counted at their node.
    pub(super) fn shed(&mut self, frames: Vec<FrameRef>) {
        for at in frames {
            let Some(frame) = self.frames.get(at) else {
                continue;
            };
            let node = NodeId(frame.caller);
            self.finish(at, Answer::failed(Cause::Shed, Some(node)));
        }
    }
}
