//! Spans in, observations out. Spans arrive in file order, which is roughly the order they
//! ended (exporters batch finished spans), with the spans of one trace spread over lines and
//! files. The assembler keeps each trace in progress until no span of it has been seen for
//! `linger` of trace time — the *watermark* is the latest span end read so far — or until its
//! file says it is whole (Jaeger traces, Zipkin lists of traces), then analyses it
//! (`analyze.rs`) and drops it. Memory: the traces in progress, plus one reorder buffer.
//!
//! The reorder buffer puts what must be seen in time order — the spans open at once on an
//! instance (its workers), the gaps between root spans (the arrival process) — back in start
//! order: an item is taken once the watermark is two lingers past its start. Traces longer
//! than a linger, or files out of time order by more than that, make these two estimates
//! approximate (the import says they are estimates).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::analyze;
use super::observed::{Observed, WorkloadObs};
use super::span::{Name, Names, Span, SpanSink};

#[derive(Debug)]
struct Pending {
    spans: Vec<Span>,
    last_end_ns: u64,
}

/// Whose concurrency a slot measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum SlotOwner {
    Instance(Name, Option<Name>),
    /// A callee without spans of its own, measured over all its client spans.
    Leaf(Name),
}

#[derive(Debug)]
struct Slot {
    owner: SlotOwner,
    /// End times of the spans open at the last start taken.
    open: BinaryHeap<Reverse<u64>>,
    max: u32,
}

/// What waits in the reorder buffer: (start, seq, end, slot or workload). `seq` is an
/// insertion counter, so ties leave in a fixed order.
type Timed = Reverse<(u64, u64, u64, Item)>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Item {
    Visit(usize),
    Root(Name, Name),
}

/// The reorder buffer and the concurrency slots it feeds.
#[derive(Debug, Default)]
pub(super) struct Reorder {
    heap: BinaryHeap<Timed>,
    seq: u64,
    slots: Vec<Slot>,
    slot_index: HashMap<SlotOwner, usize>,
    last_root: HashMap<(Name, Name), u64>,
}

impl Reorder {
    pub(super) fn visit(&mut self, owner: SlotOwner, start_ns: u64, end_ns: u64) {
        let slots = &mut self.slots;
        let slot = *self.slot_index.entry(owner).or_insert_with(|| {
            slots.push(Slot {
                owner,
                open: BinaryHeap::new(),
                max: 0,
            });
            slots.len() - 1
        });
        self.push(start_ns, end_ns, Item::Visit(slot));
    }

    pub(super) fn root(&mut self, service: Name, operation: Name, start_ns: u64) {
        self.push(start_ns, start_ns, Item::Root(service, operation));
    }

    fn push(&mut self, start_ns: u64, end_ns: u64, item: Item) {
        self.seq += 1;
        self.heap.push(Reverse((start_ns, self.seq, end_ns, item)));
    }

    /// Takes every item that starts before `horizon_ns`, in start order.
    fn drain(&mut self, horizon_ns: u64, obs: &mut Observed) {
        while let Some(Reverse((start, _, end, item))) = self.heap.peek().copied() {
            if start >= horizon_ns {
                break;
            }
            self.heap.pop();
            match item {
                Item::Visit(slot) => self.take_visit(slot, start, end),
                Item::Root(service, operation) => self.take_root(service, operation, start, obs),
            }
        }
    }

    fn take_visit(&mut self, slot: usize, start_ns: u64, end_ns: u64) {
        let slot = &mut self.slots[slot];
        while slot
            .open
            .peek()
            .is_some_and(|Reverse(end)| *end <= start_ns)
        {
            slot.open.pop();
        }
        slot.open.push(Reverse(end_ns));
        slot.max = slot.max.max(slot.open.len() as u32);
    }

    fn take_root(&mut self, service: Name, operation: Name, start_ns: u64, obs: &mut Observed) {
        let Some(workload) = obs.workloads.get_mut(&(service, operation)) else {
            return;
        };
        if let Some(last) = self.last_root.insert((service, operation), start_ns) {
            let gap_s = start_ns.saturating_sub(last) as f64 / 1e9;
            add_gap(workload, gap_s);
        }
    }

    /// Writes each slot's maximum into its instance or node.
    fn settle(&self, obs: &mut Observed) {
        for slot in &self.slots {
            match slot.owner {
                SlotOwner::Instance(service, instance) => {
                    if let Some(obs) = obs.instances.get_mut(&(service, instance)) {
                        obs.max_concurrency = obs.max_concurrency.max(slot.max);
                    }
                }
                SlotOwner::Leaf(node) => {
                    if let Some(obs) = obs.nodes.get_mut(&node) {
                        obs.max_concurrency = obs.max_concurrency.max(slot.max);
                    }
                }
            }
        }
    }
}

fn add_gap(workload: &mut WorkloadObs, gap_s: f64) {
    workload.gaps += 1;
    workload.gap_sum_s += gap_s;
    workload.gap_sum_sq_s += gap_s * gap_s;
}

/// Groups spans into traces and analyses each finished one.
#[derive(Debug)]
pub struct Assembler {
    obs: Observed,
    pending: HashMap<u128, Pending>,
    /// (last end + linger, trace): a trace is due once the watermark passes its deadline. A
    /// trace that grew has several entries; only the one matching its last end counts.
    deadlines: BinaryHeap<Reverse<(u64, u128)>>,
    watermark_ns: u64,
    linger_ns: u64,
    read: u64,
    order: Reorder,
}

impl Assembler {
    pub fn new(linger_ns: u64) -> Assembler {
        Assembler {
            obs: Observed::default(),
            pending: HashMap::new(),
            deadlines: BinaryHeap::new(),
            watermark_ns: 0,
            linger_ns: linger_ns.max(1),
            read: 0,
            order: Reorder::default(),
        }
    }

    pub fn spans_read(&self) -> u64 {
        self.read
    }

    /// Spans of traces still in progress (what memory holds besides the counts).
    pub fn pending_spans(&self) -> usize {
        self.pending.values().map(|p| p.spans.len()).sum()
    }

    fn due(&mut self) {
        while let Some(&Reverse((deadline, trace))) = self.deadlines.peek() {
            if deadline >= self.watermark_ns {
                break;
            }
            self.deadlines.pop();
            let current = self
                .pending
                .get(&trace)
                .map(|p| p.last_end_ns.saturating_add(self.linger_ns));
            if current == Some(deadline) {
                self.complete(trace);
            }
        }
        let horizon = self.watermark_ns.saturating_sub(2 * self.linger_ns);
        self.order.drain(horizon, &mut self.obs);
    }

    fn complete(&mut self, trace: u128) {
        if let Some(pending) = self.pending.remove(&trace) {
            analyze::analyze(pending.spans, &mut self.obs, &mut self.order);
        }
    }

    /// Analyses every trace still in progress (in trace id order) and returns the counts.
    pub fn finish(mut self) -> Observed {
        let mut rest: Vec<u128> = self.pending.keys().copied().collect();
        rest.sort_unstable();
        for trace in rest {
            self.complete(trace);
        }
        self.order.drain(u64::MAX, &mut self.obs);
        self.order.settle(&mut self.obs);
        self.obs
    }
}

impl SpanSink for Assembler {
    fn names(&mut self) -> &mut Names {
        &mut self.obs.names
    }

    fn span(&mut self, span: Span) {
        self.read += 1;
        self.watermark_ns = self.watermark_ns.max(span.end_ns);
        let trace = span.trace;
        let pending = self.pending.entry(trace).or_insert(Pending {
            spans: Vec::new(),
            last_end_ns: 0,
        });
        if span.end_ns > pending.last_end_ns || pending.spans.is_empty() {
            pending.last_end_ns = pending.last_end_ns.max(span.end_ns);
            self.deadlines.push(Reverse((
                pending.last_end_ns.saturating_add(self.linger_ns),
                trace,
            )));
        }
        pending.spans.push(span);
        self.due();
    }

    fn trace_complete(&mut self, trace: u128) {
        self.complete(trace);
    }
}
