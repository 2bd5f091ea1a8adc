//! The bounds that need more than a counter: the estimate of the memory a run holds, checked
//! every `MEMORY_CHECK_EVERY` events against `Limits::max_memory_mb`, and the state reported
//! when any bound stops a run.
//!
//! What grows in a run is its frames (work in flight, in a slab that keeps its high-water
//! mark), its pending events (timers included, stale ones until they fire), the replicas'
//! queues (handles of frames) and, when kept, one record per user request. Metrics are fixed
//! in size. Must not: iterate per event over anything that grows; `over_memory` is a few reads.

use std::mem::size_of;

use super::BoundState;
use super::RequestRecord;
use super::engine::Simulation;
use super::frames::FrameRef;

/// Events between two checks of the memory estimate.
pub(super) const MEMORY_CHECK_EVERY: u64 = 1024;

impl Simulation<'_> {
    /// The bytes held by the run's growing state: allocations, not just what is in use.
    pub(super) fn memory_bytes(&self) -> u64 {
        let records: usize = self.requests.iter().map(Vec::capacity).sum();
        // Closed loop only: pairing keys and the users of client frames.
        let keys: usize = self.request_keys.iter().map(Vec::capacity).sum();
        let users = self.users_by_slot.capacity() * size_of::<u32>();
        // Each frame is in at most one replica queue.
        let waiting = self.frames.live() as usize * size_of::<FrameRef>();
        let total = self.frames.memory_bytes()
            + self.queue.memory_bytes()
            + records * size_of::<RequestRecord>()
            + waiting
            + self.brokers.memory_bytes()
            + keys * size_of::<(u32, u32)>()
            + self.held_answers.capacity() * size_of::<super::engine::HeldAnswer>()
            + users;
        total as u64 + self.caches.memory_bytes()
    }

    pub(super) fn over_memory(&self) -> bool {
        let limit = self.config.limits.max_memory_mb.saturating_mul(1 << 20);
        self.memory_bytes() > limit
    }

    /// What the simulation holds now, for the report of a bound reached.
    pub(super) fn bound_state(&self) -> BoundState {
        let (queued_calls, longest_queue) =
            self.replicas
                .replicas
                .iter()
                .fold((0, 0), |(sum, longest), r| {
                    let n = r.waiting.len() as u64;
                    (sum + n, longest.max(n))
                });
        let live = u64::from(self.frames.live());
        let requests = u64::from(self.clients_live);
        BoundState {
            requests_in_flight: requests,
            calls_in_flight: live.saturating_sub(requests),
            queued_calls,
            longest_queue,
            pending_events: self.queue.len() as u64,
            memory_bytes: self.memory_bytes(),
        }
    }
}
