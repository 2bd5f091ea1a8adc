//! Frames: one unit of work in flight — a user request at its client, or a call being served
//! at a node — kept in a slab with generation counters so stale timers and late answers can be
//! recognised and dropped without searching.

use crate::kernel::SimTime;
use crate::metrics::Counted;
use crate::model::{NodeId, ZoneId};

/// A handle to a frame. Invariant: valid only while `generation` equals the slot's generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameRef {
    pub index: u32,
    pub generation: u32,
}

/// Who is waiting for a frame's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parent {
    /// Nobody: the frame is a client (a user request), it reports to its workload.
    None,
    /// A caller frame, waiting on the attempt identified by `token`.
    Call { frame: FrameRef, token: u32 },
    /// A queue's delivery of a partition's head message (`sim::queue`), by its token.
    Delivery {
        queue: u32,
        partition: u32,
        token: u32,
    },
}

/// Where a frame is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Waiting in a replica's queue.
    Queued,
    /// A worker is spending the node's own service time on it.
    Serving,
    /// Own work done: making calls.
    Calling,
}

/// Sentinel replica index for frames not served by a replica (clients and externals).
pub const FRAME_NONE_REPLICA: u32 = u32::MAX;
/// Sentinel for frames without a request record.
pub const NO_SEQ: u32 = u32::MAX;
/// Sentinel zone for frames outside every zone (externals).
pub const NO_ZONE: ZoneId = ZoneId(u16::MAX);

#[derive(Clone, Debug)]
pub struct Frame {
    /// Index into the simulation's callers: a node id, or `nodes + workload` for a client.
    pub caller: u32,
    pub replica: u32,
    /// The zone this frame runs in; its calls prefer replicas in the same zone.
    pub zone: ZoneId,
    pub parent: Parent,
    pub arrived: SimTime,
    /// Whether its end is counted, and in which window.
    pub counted: Counted,
    /// For a client frame, its index in the workload's request records (`NO_SEQ` if none).
    pub seq: u32,
    pub holds_worker: bool,
    pub degraded: bool,
    pub stage: Stage,
    /// The call in progress (index into the caller's calls).
    pub call: u16,
    /// Attempts already failed against the current target of the current call.
    pub attempt: u16,
    /// Where the current call goes now: the call's `to`, or, after a cache miss or an
    /// unavailable cache with `on_unavailable = "fallthrough"`, the cache's backing store.
    pub target: NodeId,
    /// Identifies the outstanding attempt; bumped on every attempt and on every answer, so a
    /// timer or an answer that carries an older token is stale.
    pub token: u32,
    /// An attempt is outstanding and its answer is still wanted.
    pub waiting: bool,
}

impl Frame {
    /// A frame with no call made yet: the base every new frame is built on with struct update
    /// syntax, naming only what differs (who, where, for whom, since when).
    pub const NEW: Frame = Frame {
        caller: 0,
        replica: FRAME_NONE_REPLICA,
        zone: NO_ZONE,
        parent: Parent::None,
        arrived: SimTime::ZERO,
        counted: Counted::No,
        seq: NO_SEQ,
        holds_worker: false,
        degraded: false,
        stage: Stage::Calling,
        call: 0,
        attempt: 0,
        target: NodeId(0),
        token: 0,
        waiting: false,
    };

    /// Lets go of the worker the frame holds, if any, and names its replica — for the caller
    /// to hand the worker on (`flow.rs`'s `free_worker`).
    #[inline]
    pub fn give_up_worker(&mut self) -> Option<u32> {
        std::mem::take(&mut self.holds_worker).then_some(self.replica)
    }
}

/// One cache line each (64 bytes with the frame): a frame is read and written by every
/// handler of its call, and a slot straddling two lines costs two misses.
#[repr(align(64))]
#[derive(Clone)]
struct Slot {
    generation: u32,
    frame: Option<Frame>,
}

/// Invariant: `live` equals the number of occupied slots; `free` lists exactly the empty ones.
#[derive(Clone, Default)]
pub struct Frames {
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: u32,
}

impl Frames {
    /// Inserts the frame `make` builds, built in its slot: a frame passed by value is written
    /// field by field on the caller's stack and read back in wide chunks, and the reads stall
    /// on the store buffer — a measurable share of a run, which creates two frames per call.
    #[inline]
    pub fn insert_with(&mut self, make: impl FnOnce() -> Frame) -> FrameRef {
        self.live += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.frame = Some(make());
            return FrameRef {
                index,
                generation: slot.generation,
            };
        }
        let frame = make();
        let index = u32::try_from(self.slots.len()).expect("frame count bounded by limits");
        self.slots.push(Slot {
            generation: 0,
            frame: Some(frame),
        });
        FrameRef {
            index,
            generation: 0,
        }
    }

    #[inline]
    pub fn get(&self, at: FrameRef) -> Option<&Frame> {
        let slot = self.slots.get(at.index as usize)?;
        if slot.generation == at.generation {
            slot.frame.as_ref()
        } else {
            None
        }
    }

    #[inline]
    pub fn get_mut(&mut self, at: FrameRef) -> Option<&mut Frame> {
        let slot = self.slots.get_mut(at.index as usize)?;
        if slot.generation == at.generation {
            slot.frame.as_mut()
        } else {
            None
        }
    }

    /// Frees a live frame; every handle to it becomes stale.
    #[inline]
    pub fn remove(&mut self, at: FrameRef) -> Frame {
        let slot = &mut self.slots[at.index as usize];
        assert_eq!(slot.generation, at.generation, "removing a stale frame");
        let frame = slot.frame.take().expect("removing a free frame");
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(at.index);
        self.live -= 1;
        frame
    }

    pub fn live(&self) -> u32 {
        self.live
    }

    /// Live frames in slot order (deterministic).
    pub fn iter(&self) -> impl Iterator<Item = &Frame> {
        self.slots.iter().filter_map(|slot| slot.frame.as_ref())
    }

    /// Handles to the live frames that satisfy `keep`, in slot order.
    pub fn refs_where(&self, keep: impl Fn(&Frame) -> bool) -> Vec<FrameRef> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.frame.as_ref().is_some_and(&keep))
            .map(|(index, slot)| FrameRef {
                index: index as u32,
                generation: slot.generation,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame {
        Frame {
            counted: Counted::InWindow(0),
            ..Frame::NEW
        }
    }

    #[test]
    fn a_worker_is_given_up_once() {
        let mut frame = Frame {
            replica: 3,
            holds_worker: true,
            ..Frame::NEW
        };
        assert_eq!(frame.give_up_worker(), Some(3));
        assert!(!frame.holds_worker);
        assert_eq!(frame.give_up_worker(), None);
    }

    #[test]
    fn stale_handles_see_nothing_after_reuse() {
        let mut frames = Frames::default();
        let first = frames.insert_with(frame);
        frames.remove(first);
        let second = frames.insert_with(frame);
        assert_eq!(first.index, second.index);
        assert!(frames.get(first).is_none());
        assert!(frames.get(second).is_some());
        assert_eq!(frames.live(), 1);
    }
}
