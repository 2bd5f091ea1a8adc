//! The event queue: pending events popped in `(time, seq)` order.
//!
//! `seq` is a counter assigned at insertion, so events at the same instant pop in the order
//! they were scheduled. That makes the order total and independent of the event payload, which
//! is what lets two runs with the same inputs produce the same trace.
//!
//! Layout: a simulator that never cancels its timers keeps many pending events far in the
//! future (a 2 s client timeout per request in flight) and few near ones. A single binary heap
//! pays `log2(pending)` cache-missing levels on every push and pop for all of them. Here only
//! the events of the current *bucket* (`BUCKET_NS` of simulated time) live in a binary heap,
//! `near`; later ones wait unsorted in a timer wheel of `SLOTS` buckets (a push onto a `Vec`),
//! and those beyond the wheel's span in a second heap, `far`. When `near` runs dry the next
//! non-empty bucket becomes the heap. Every event with a time in a bucket moves into `near`
//! together, and `near` orders by `(time, seq)`, so the pop order is exactly that of one heap
//! (checked against `BinaryHeap` on random schedules in the tests below).
//!
//! Timers of one fixed delay — a call's timeout, scheduled `timeout` after the moment of each
//! attempt — come due in the order they were set, so they need no heap at all: each delay has
//! a *lane*, a FIFO of its pending timers, and `pop` compares the earliest lane head with the
//! heap's top. A simulator that leaves one never-cancelled timeout per call in flight keeps them
//! all out of the heap this way, at one comparison per pop.
//! Must not: depend on anything but `(time, seq)` for the order.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use super::time::SimTime;

/// log2 of a bucket's width in nanoseconds: 2^20 ns, about a millisecond.
const BUCKET_SHIFT: u32 = 20;
/// Buckets in the wheel (a power of two): the wheel spans 2^32 ns, about 4.3 s.
const SLOTS: usize = 4096;
const MASK: u64 = SLOTS as u64 - 1;
const WORDS: usize = SLOTS / 64;
/// Pending events above which a queue in heap mode spreads its later buckets over the wheel
/// (below it one binary heap is faster: it stays in cache and a wheel's buckets do not), and
/// below which a queue in wheel mode gathers them back into one heap. Small in tests, so the
/// property tests cross both ways often.
const SPLIT_ABOVE: usize = if cfg!(test) { 64 } else { 8192 };
const MERGE_BELOW: usize = if cfg!(test) { 16 } else { 2048 };
/// `current` in heap mode: every event is in `near`.
const HEAP_MODE: u64 = u64::MAX;

#[derive(Clone)]
struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    fn time(&self) -> SimTime {
        self.time
    }

    fn bucket(&self) -> u64 {
        self.time.0 >> BUCKET_SHIFT
    }

    /// `(time, seq)` as one number: compared without branches, which a heap's sifting, whose
    /// comparisons are coin flips, rewards.
    fn key(&self) -> u128 {
        (u128::from(self.time.0) << 64) | u128::from(self.seq)
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl<E> Eq for Entry<E> {}
// Reversed: `BinaryHeap` is a max-heap and we want the earliest event first. The comparison
// operators are spelled out so sifting compares keys directly.
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
    fn lt(&self, other: &Self) -> bool {
        other.key() < self.key()
    }
    fn le(&self, other: &Self) -> bool {
        other.key() <= self.key()
    }
    fn gt(&self, other: &Self) -> bool {
        other.key() > self.key()
    }
    fn ge(&self, other: &Self) -> bool {
        other.key() >= self.key()
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

/// A lane of timers of one fixed delay (see `EventQueue::lane`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lane(u32);

#[derive(Clone)]
struct LaneTimers<E> {
    delay_ns: u64,
    /// Pending timers in `(time, seq)` order: each was set `delay_ns` after a moment no
    /// earlier than the one before it.
    pending: VecDeque<Entry<E>>,
}

/// Pending events. Invariant: `pop` returns events in non-decreasing `(time, seq)` order.
///
/// Invariants of the layout, with `current` the number of the first bucket not in `near`
/// (`HEAP_MODE` while the queue is small: then the wheel and `far` are empty):
/// `near` holds exactly the events with `bucket < current`; `wheel[b & MASK]` holds events of
/// bucket `b` for `current <= b < current + SLOTS`, and bit `b & MASK` of `occupied` is set
/// iff that slot is non-empty; `far` holds the rest (`bucket >= current`). `near` is empty
/// only when the whole queue but the lanes is — counting a taken top as present until it is
/// settled, which every path that needs the exact layout (a later bucket's `schedule`, `pop`,
/// `peek_time`) does first. Lane timers are in their lane only, in `(time, seq)` order, and
/// `lane_heads`/`first_lane` describe their heads.
#[derive(Clone)]
pub struct EventQueue<E> {
    near: BinaryHeap<Entry<E>>,
    /// `pop` handed out `near`'s top but left it in place: it is logically gone. Handlers
    /// mostly schedule an event right after a pop, and overwriting the top costs one sift
    /// where removing it and pushing the new one cost two; if no event comes into `near`
    /// first, the next `pop` removes it (`settle`).
    top_taken: bool,
    current: u64,
    wheel: Vec<Vec<Entry<E>>>,
    occupied: [u64; WORDS],
    far: BinaryHeap<Entry<E>>,
    len: usize,
    /// Sum of the wheel's buckets' capacities, kept as they grow, for `memory_bytes`.
    wheel_capacity: usize,
    next_seq: u64,
    /// The next reserved `seq` (below `RESERVED_SEQS`).
    next_reserved: u64,
    lanes: Vec<LaneTimers<E>>,
    /// Per lane, the `(time, seq)` of its head, `EMPTY_LANE` when it has none: the lanes'
    /// heads side by side, so finding the earliest touches one small array.
    lane_heads: Vec<(SimTime, u64)>,
    /// The lane whose head is the earliest of all lane heads, if any lane has timers.
    first_lane: Option<u32>,
    /// Timers pending in lanes.
    lane_len: usize,
}

const EMPTY_LANE: (SimTime, u64) = (SimTime(u64::MAX), u64::MAX);

/// `seq`s below this are reserved (`schedule_reserved`): an event scheduled there pops before
/// every ordinary event of its instant, whenever it was scheduled. A run can so be given
/// events after it started (a fault plan installed into a fork) in the order they would have
/// had had they been scheduled first.
const RESERVED_SEQS: u64 = 1 << 40;

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

// `E: Copy`: `pop` copies the event out of a top it leaves in place.
impl<E: Copy> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            near: BinaryHeap::new(),
            top_taken: false,
            current: HEAP_MODE,
            wheel: Vec::new(),
            occupied: [0; WORDS],
            far: BinaryHeap::new(),
            len: 0,
            wheel_capacity: 0,
            next_seq: RESERVED_SEQS,
            next_reserved: 0,
            lanes: Vec::new(),
            lane_heads: Vec::new(),
            first_lane: None,
            lane_len: 0,
        }
    }

    /// The lane for timers of `delay_ns`, made on first use. Lanes are set up before the run:
    /// looking one up scans the lanes.
    pub fn lane(&mut self, delay_ns: u64) -> Lane {
        if let Some(index) = self.lanes.iter().position(|l| l.delay_ns == delay_ns) {
            return Lane(index as u32);
        }
        self.lanes.push(LaneTimers {
            delay_ns,
            pending: VecDeque::new(),
        });
        self.lane_heads.push(EMPTY_LANE);
        Lane(self.lanes.len() as u32 - 1)
    }

    /// Schedules `event` at `now` plus the lane's delay. Invariant: `now` never decreases
    /// between calls (the simulation clock), so each lane stays in `(time, seq)` order.
    #[inline(always)]
    pub fn schedule_in_lane(&mut self, lane: Lane, now: SimTime, event: E) {
        let timers = &mut self.lanes[lane.0 as usize];
        let time = now.after(timers.delay_ns);
        debug_assert!(timers.pending.back().is_none_or(|last| last.time <= time));
        let seq = self.next_seq;
        self.next_seq += 1;
        timers.pending.push_back(Entry { time, seq, event });
        self.lane_len += 1;
        // A timer behind others in its lane is not the earliest head; a lone one may be.
        let head = &mut self.lane_heads[lane.0 as usize];
        if *head == EMPTY_LANE {
            *head = (time, seq);
            let earlier = |first: u32| (time, seq) < self.lane_heads[first as usize];
            if self.first_lane.is_none_or(earlier) {
                self.first_lane = Some(lane.0);
            }
        }
    }

    /// Pops the head of the first lane and finds the next first lane.
    #[inline(never)]
    fn pop_lane(&mut self, lane: u32) -> Entry<E> {
        let timers = &mut self.lanes[lane as usize];
        let entry = timers
            .pending
            .pop_front()
            .expect("the first lane has a timer");
        self.lane_heads[lane as usize] = timers
            .pending
            .front()
            .map_or(EMPTY_LANE, |next| (next.time, next.seq));
        self.lane_len -= 1;
        let (mut first, mut earliest) = (None, EMPTY_LANE);
        for (index, &head) in self.lane_heads.iter().enumerate() {
            if head < earliest {
                (first, earliest) = (Some(index as u32), head);
            }
        }
        self.first_lane = first;
        entry
    }

    /// The first lane, if its head comes before everything in the heap and the wheel.
    #[inline(always)]
    fn lane_due_first(&self) -> Option<u32> {
        let lane = self.first_lane?;
        let head = self.lane_heads[lane as usize];
        match self.near.peek() {
            Some(top) if (top.time, top.seq) < head => None,
            _ => Some(lane),
        }
    }

    // Inlined into the simulator's handlers, as `BinaryHeap::push` was: a call here costs
    // more than the heap-mode path itself. The mode changes stay out of line.
    #[inline(always)]
    pub fn schedule(&mut self, time: SimTime, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.insert(Entry { time, seq, event });
    }

    /// Schedules `event` at `time` ahead of every ordinary event of that instant (reserved
    /// events among themselves in the order they were scheduled).
    pub fn schedule_reserved(&mut self, time: SimTime, event: E) {
        let seq = self.next_reserved;
        assert!(seq < RESERVED_SEQS, "more than 2^40 reserved events");
        self.next_reserved += 1;
        self.insert(Entry { time, seq, event });
    }

    /// Puts back an event `pop_keyed` returned, with its own `seq`, so it pops in its place.
    pub fn reinsert(&mut self, time: SimTime, seq: u64, event: E) {
        self.insert(Entry { time, seq, event });
    }

    #[inline(always)]
    fn insert(&mut self, entry: Entry<E>) {
        let bucket = entry.bucket();
        if bucket >= self.current {
            // A later bucket needs the exact layout (and settling may move `current`).
            self.settle();
        }
        self.len += 1;
        if bucket < self.current {
            if self.top_taken {
                self.top_taken = false;
                // Overwrites the taken top; the heap sifts it down when the guard drops.
                *self.near.peek_mut().expect("a taken top is in the heap") = entry;
                return;
            }
            self.near.push(entry);
            if self.current == HEAP_MODE && self.near.len() > SPLIT_ABOVE {
                self.split();
            }
        } else if self.near.is_empty() {
            // The queue was empty: this event's bucket becomes the near one.
            self.current = bucket + 1;
            self.near.push(entry);
        } else {
            self.place_later(entry);
        }
    }

    /// Removes a taken top for good, refilling `near` if that empties it, so the layout's
    /// invariants hold again.
    #[inline(always)]
    fn settle(&mut self) {
        if self.top_taken {
            self.top_taken = false;
            self.near.pop();
            if self.near.is_empty() && self.len > 0 {
                self.refill();
            }
        }
    }

    /// Puts an event of a bucket at or after `current` in the wheel or, beyond it, in `far`.
    #[inline(never)]
    fn place_later(&mut self, entry: Entry<E>) {
        let bucket = entry.bucket();
        if bucket < self.current + SLOTS as u64 {
            let slot = (bucket & MASK) as usize;
            let events = &mut self.wheel[slot];
            let capacity = events.capacity();
            events.push(entry);
            self.wheel_capacity += events.capacity() - capacity;
            self.occupied[slot / 64] |= 1 << (slot % 64);
        } else {
            self.far.push(entry);
        }
    }

    /// From heap mode to wheel mode: keeps the first bucket in `near`, spreads the rest.
    #[cold]
    #[inline(never)]
    fn split(&mut self) {
        debug_assert!(
            !self.top_taken,
            "schedule overwrites a taken top before splitting"
        );
        if self.wheel.is_empty() {
            self.wheel = (0..SLOTS).map(|_| Vec::new()).collect();
        }
        let first = self.near.peek().expect("splitting a full heap").bucket();
        self.current = first + 1;
        let mut near = Vec::new();
        for entry in std::mem::take(&mut self.near).into_vec() {
            if entry.bucket() == first {
                near.push(entry);
            } else {
                self.place_later(entry);
            }
        }
        self.near = BinaryHeap::from(near);
    }

    /// From wheel mode to heap mode, with `near` empty: every pending event into `near`.
    #[cold]
    #[inline(never)]
    fn merge(&mut self) {
        let mut all = std::mem::take(&mut self.near).into_vec();
        all.reserve(self.len);
        for word in 0..WORDS {
            let mut bits = self.occupied[word];
            while bits != 0 {
                let slot = word * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                all.extend(std::mem::take(&mut self.wheel[slot]));
            }
            self.occupied[word] = 0;
        }
        all.extend(self.far.drain());
        // Only occupied slots have capacity (see `refill`), and they are all empty now.
        self.wheel_capacity = 0;
        self.near = BinaryHeap::from(all);
        self.current = HEAP_MODE;
    }

    #[inline(always)]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.pop_keyed().map(|(time, _, event)| (time, event))
    }

    /// `pop`, with the event's `seq` (for `reinsert`).
    #[inline(always)]
    pub fn pop_keyed(&mut self) -> Option<(SimTime, u64, E)> {
        self.settle();
        if let Some(lane) = self.lane_due_first() {
            let entry = self.pop_lane(lane);
            return Some((entry.time(), entry.seq, entry.event));
        }
        let top = self.near.peek()?;
        let (time, seq, event) = (top.time, top.seq, top.event);
        self.top_taken = true;
        self.len -= 1;
        Some((time, seq, event))
    }

    /// Moves the next non-empty bucket (from the wheel, the far heap or both) into `near`.
    #[inline(never)]
    fn refill(&mut self) {
        if self.len < MERGE_BELOW {
            return self.merge();
        }
        let from_wheel = self.next_occupied();
        let from_far = self.far.peek().map(Entry::bucket);
        let bucket = match (from_wheel, from_far) {
            (Some(w), Some(f)) => w.min(f),
            (Some(w), None) => w,
            (None, Some(f)) => f,
            (None, None) => unreachable!("refill of an empty queue"),
        };
        self.current = bucket + 1;
        if from_wheel == Some(bucket) {
            let slot = (bucket & MASK) as usize;
            self.occupied[slot / 64] &= !(1 << (slot % 64));
            // The bucket's vector becomes the heap (heapified in linear time). The slot starts
            // again without capacity: were capacities kept, every slot would keep the largest
            // bucket it ever held and the wheel's memory would grow far beyond what is pending
            // (and trip `max_memory_mb`, which counts allocations).
            let events = std::mem::take(&mut self.wheel[slot]);
            self.wheel_capacity -= events.capacity();
            self.near = BinaryHeap::from(events);
        }
        while self.far.peek().is_some_and(|e| e.bucket() == bucket) {
            let entry = self.far.pop().expect("peeked");
            self.near.push(entry);
        }
    }

    /// The first bucket at or after `current` with events in the wheel.
    fn next_occupied(&self) -> Option<u64> {
        let start = (self.current & MASK) as usize;
        let (word, bit) = (start / 64, start % 64);
        // The start word's bits at and after `start`, the other words, then the start word's
        // bits before `start` (the slots just before `current`, a full turn of the wheel on).
        let first = self.occupied[word] & (!0u64 << bit);
        if first != 0 {
            return Some(self.bucket_of(word * 64 + first.trailing_zeros() as usize));
        }
        for step in 1..=WORDS {
            let w = (word + step) % WORDS;
            let bits = if w == word {
                self.occupied[w] & !(!0u64 << bit)
            } else {
                self.occupied[w]
            };
            if bits != 0 {
                return Some(self.bucket_of(w * 64 + bits.trailing_zeros() as usize));
            }
        }
        None
    }

    /// The bucket number of a wheel slot, within `[current, current + SLOTS)`.
    fn bucket_of(&self, slot: usize) -> u64 {
        self.current + ((slot as u64).wrapping_sub(self.current) & MASK)
    }

    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.settle();
        match self.lane_due_first() {
            Some(lane) => self.lanes[lane as usize].pending.front().map(Entry::time),
            None => self.near.peek().map(Entry::time),
        }
    }

    pub fn len(&self) -> usize {
        self.len + self.lane_len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many events have ever been scheduled.
    pub fn scheduled(&self) -> u64 {
        self.next_seq - RESERVED_SEQS + self.next_reserved
    }

    /// The bytes the queue holds (its allocations, which never shrink).
    pub fn memory_bytes(&self) -> usize {
        let entries = self.near.capacity() + self.far.capacity() + self.wheel_capacity;
        let in_lanes: usize = self.lanes.iter().map(|l| l.pending.capacity()).sum();
        (entries + in_lanes) * std::mem::size_of::<Entry<E>>()
            + self.wheel.capacity() * std::mem::size_of::<Vec<Entry<E>>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;

    #[test]
    fn pops_by_time_then_insertion_order() {
        let mut queue = EventQueue::new();
        queue.schedule(SimTime(5), "b");
        queue.schedule(SimTime(1), "a");
        queue.schedule(SimTime(5), "c");
        queue.schedule(SimTime(3), "x");
        let order: Vec<_> = std::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(
            order,
            vec![
                (SimTime(1), "a"),
                (SimTime(3), "x"),
                (SimTime(5), "b"),
                (SimTime(5), "c")
            ]
        );
        assert_eq!(queue.scheduled(), 4);
    }

    #[test]
    fn reserved_events_pop_first_at_their_instant_and_a_reinserted_one_keeps_its_place() {
        let mut queue = EventQueue::new();
        queue.schedule(SimTime(5), "ordinary");
        queue.schedule(SimTime(7), "later");
        queue.schedule(SimTime(5), "second ordinary");
        // Scheduled last, the reserved events still go first at their instant.
        queue.schedule_reserved(SimTime(5), "reserved");
        queue.schedule_reserved(SimTime(5), "second reserved");
        let (time, seq, event) = queue.pop_keyed().expect("five events");
        assert_eq!((time, event), (SimTime(5), "reserved"));
        queue.reinsert(time, seq, event);
        let order: Vec<_> = std::iter::from_fn(|| queue.pop()).map(|(_, e)| e).collect();
        assert_eq!(
            order,
            [
                "reserved",
                "second reserved",
                "ordinary",
                "second ordinary",
                "later"
            ]
        );
        assert_eq!(queue.scheduled(), 5);
    }

    /// One step of a schedule: pop once, or schedule an event `delay` after the last popped
    /// time (or at an absolute time, to reach the past, the far heap and the wheel's edges).
    #[derive(Clone, Debug)]
    enum Op {
        Pop,
        After(u64),
        At(u64),
        /// A timer in lane `k`, of delay `LANE_DELAYS[k]`.
        InLane(usize),
    }

    /// Delays of the test lanes: zero, within a bucket, across buckets, equal to another's
    /// (a second lookup gives the same lane), beyond the wheel.
    const LANE_DELAYS: [u64; 5] = [0, 700, 3 << 20, 700, 1 << 40];

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => Just(Op::Pop),
            // Delays within a bucket, across the wheel, at its span's edge and beyond it.
            3 => (0u64..1 << 22).prop_map(Op::After),
            1 => prop_oneof![
                Just(0u64),
                Just(1 << BUCKET_SHIFT),
                Just((SLOTS as u64) << BUCKET_SHIFT),
                Just(((SLOTS as u64) << BUCKET_SHIFT) - 1),
                0u64..1 << 36,
            ]
            .prop_map(Op::After),
            1 => (0u64..1 << 34).prop_map(Op::At),
            2 => (0..LANE_DELAYS.len()).prop_map(Op::InLane),
        ]
    }

    /// The queue against a `BinaryHeap` of `Reverse((time, seq))`: the same pops, in order.
    fn check(ops: &[Op]) {
        let mut queue = EventQueue::new();
        let lanes = LANE_DELAYS.map(|delay| queue.lane(delay));
        assert_eq!(lanes[1], lanes[3]);
        let mut reference = BinaryHeap::new();
        let mut seq = 0u64;
        let mut now = 0u64;
        let mut clock = 0u64;
        for (index, op) in ops.iter().enumerate() {
            match *op {
                Op::InLane(k) => {
                    // Lanes need a clock that never goes back; `At` may pop events in the past.
                    queue.schedule_in_lane(lanes[k], SimTime(clock), seq);
                    reference.push(Reverse((clock.saturating_add(LANE_DELAYS[k]), seq)));
                    seq += 1;
                }
                Op::Pop => {
                    let ours = queue.pop();
                    let theirs = reference.pop().map(|Reverse((t, s))| (SimTime(t), s));
                    assert_eq!(ours, theirs);
                    if let Some((time, _)) = ours {
                        now = time.0;
                        clock = clock.max(now);
                    }
                }
                Op::After(delay) | Op::At(delay) => {
                    let time = match *op {
                        Op::After(_) => now.saturating_add(delay),
                        _ => delay,
                    };
                    queue.schedule(SimTime(time), seq);
                    reference.push(Reverse((time, seq)));
                    seq += 1;
                }
            }
            assert_eq!(queue.len(), reference.len());
            // Peeking settles a taken top: only every third step, so a schedule right after a
            // pop overwrites the top as in a run.
            if index % 3 == 0 {
                assert_eq!(
                    queue.peek_time(),
                    reference.peek().map(|Reverse((t, _))| SimTime(*t))
                );
            }
        }
        while let Some(theirs) = reference.pop() {
            let Reverse((t, s)) = theirs;
            assert_eq!(queue.pop(), Some((SimTime(t), s)));
        }
        assert!(queue.pop().is_none());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn pops_in_the_order_of_one_binary_heap(ops in prop::collection::vec(op(), 0..1_500)) {
            check(&ops);
        }
    }

    #[test]
    fn grows_into_the_wheel_and_shrinks_back_to_one_heap() {
        // Up past SPLIT_ABOVE, down below MERGE_BELOW to empty, and up again, twice.
        let mut rng = crate::kernel::Stream::new(5, 5, crate::kernel::Purpose::Service);
        let mut ops = Vec::new();
        for _ in 0..2 {
            for _ in 0..300 {
                ops.push(Op::After(rng.below(1 << 33)));
                if rng.below(3) == 0 {
                    ops.push(Op::Pop);
                }
            }
            ops.extend(std::iter::repeat_n(Op::Pop, 300));
        }
        check(&ops);
    }

    #[test]
    fn a_long_hold_schedule_matches_one_binary_heap() {
        // A steady population of 5,000 pending events with exponential-ish delays from 1 us to
        // 17 s, so events go through near, the wheel and the far heap many times over.
        let mut rng = crate::kernel::Stream::new(3, 3, crate::kernel::Purpose::Service);
        let mut ops: Vec<Op> = (0..5_000).map(|_| Op::After(rng.below(1 << 34))).collect();
        for _ in 0..200_000 {
            ops.push(Op::Pop);
            let scale = rng.below(35) as u32;
            ops.push(Op::After(rng.below(1 << scale)));
            if rng.below(4) == 0 {
                ops.push(Op::InLane(rng.below(LANE_DELAYS.len() as u64) as usize));
                ops.push(Op::Pop);
            }
        }
        check(&ops);
    }
}
