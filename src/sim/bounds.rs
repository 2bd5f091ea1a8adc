//! The bounds that need more than a counter: the memory a run holds, checked every
//! `MEMORY_CHECK_EVERY` events against `Limits::max_memory_mb`, and the state reported when
//! any bound stops a run.
//!
//! Memory is the run's own account of real allocations (`kernel::memory`: everything allocated
//! while it runs — frames, pending events, queues, records, metrics), plus the rest of its
//! study as of the last lockstep barrier (the other run and the pairing), so the bound is
//! deterministic at any thread count. Must not: iterate per event over anything that grows;
//! `over_memory` is a few reads.

use super::BoundState;
use super::engine::Simulation;

/// Events between two checks of the memory estimate.
pub(super) const MEMORY_CHECK_EVERY: u64 = 1024;

impl Simulation<'_> {
    /// The bytes that count against `max_memory_mb`: what this run's allocations hold now
    /// (`kernel::memory`, real bytes, the slack of every vector included), the room the next
    /// growth of its largest allocation needs (a doubling vector holds old and new at once),
    /// and what the rest of its study held at the last lockstep barrier.
    pub(super) fn memory_bytes(&self) -> u64 {
        self.account.live_bytes() + 2 * self.account.largest_bytes() + self.others_bytes
    }

    pub(super) fn over_memory(&self) -> bool {
        let limit = self
            .kernel
            .config
            .limits
            .max_memory_mb
            .saturating_mul(1 << 20);
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
            pending_events: self.kernel.queue.len() as u64,
            memory_bytes: self.memory_bytes(),
        }
    }
}
