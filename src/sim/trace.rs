//! The event trace: one `TraceRecord` per event the loop processes, handed to a `Tracer`
//! before the event is handled, and the determinism self-check built on it.
//!
//! A record names the event by what is deterministic about it: its index in the run, its
//! simulated time, its kind, the node or workload it concerns, the frame (slab slot and
//! generation) and attempt token, and whether it found nothing to do (a stale timer). Two runs
//! of the same inputs give the same records; `check_determinism` proves it for a run by
//! comparing a running hash of them, and names the first event where two runs part.
//!
//! Must not: do IO (a tracer that writes lines lives in `cli`), or cost anything when off:
//! `NoTrace` is a type whose `enabled` is `false`, so the loop's hook compiles away.

use std::fmt;

use super::RunConfig;
use super::engine::{Event, Simulation};
use super::frames::FrameRef;
use crate::faults::FaultPlan;
use crate::metrics::Outcome;
use crate::model::{NodeId, Topology};

/// Receives every event of a run, in processing order.
pub trait Tracer {
    /// Whether records are wanted at all.
    fn enabled(&self) -> bool {
        true
    }

    fn record(&mut self, record: &TraceRecord<'_>);
}

/// The tracer of an untraced run.
pub struct NoTrace;

impl Tracer for NoTrace {
    #[inline(always)]
    fn enabled(&self) -> bool {
        false
    }

    #[inline(always)]
    fn record(&mut self, _: &TraceRecord<'_>) {}
}

/// The kinds of `engine::Event`, by the names the trace prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Arrival,
    UserSends,
    SpikeArrival,
    ServiceDone,
    CallTimeout,
    RetryDue,
    DelayedAnswer,
    EffectStart,
    EffectEnd,
    Failover,
    Scale,
    HealthCheck,
    EjectionEnd,
    FallbackDone,
    DeliveryTimeout,
    DeliveryPoll,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Arrival => "arrival",
            EventKind::UserSends => "user_sends",
            EventKind::SpikeArrival => "spike_arrival",
            EventKind::ServiceDone => "service_done",
            EventKind::CallTimeout => "call_timeout",
            EventKind::RetryDue => "retry_due",
            EventKind::DelayedAnswer => "delayed_answer",
            EventKind::EffectStart => "effect_start",
            EventKind::EffectEnd => "effect_end",
            EventKind::Failover => "failover",
            EventKind::Scale => "scale",
            EventKind::HealthCheck => "health_check",
            EventKind::EjectionEnd => "ejection_end",
            EventKind::FallbackDone => "fallback_done",
            EventKind::DeliveryTimeout => "delivery_timeout",
            EventKind::DeliveryPoll => "delivery_poll",
        }
    }
}

/// Who an event concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A stale timer's frame is gone: nobody.
    Nobody,
    Node(NodeId),
    /// A workload's client (a user request's frame, or the workload's next arrival).
    Client(u32),
    /// An effect of the fault plan, by index.
    Effect(u32),
}

/// One event as the trace sees it.
#[derive(Clone, Copy, Debug)]
pub struct TraceRecord<'t> {
    /// 0-based position in the run's processing order.
    pub index: u64,
    pub time_ns: u64,
    pub kind: EventKind,
    pub subject: Subject,
    /// For a frame's call events, the node its current call goes to.
    pub target: Option<NodeId>,
    /// The frame's slab slot and generation.
    pub frame: Option<(u32, u32)>,
    /// The attempt token a timer or an answer carries.
    pub token: Option<u32>,
    /// The answer a delayed answer carries, and whether it is a cache miss.
    pub answer: Option<(Outcome, bool)>,
    /// The event finds nothing to do: its frame is gone or its attempt is over.
    pub stale: bool,
    /// For names when printed.
    pub topology: &'t Topology,
}

impl TraceRecord<'_> {
    /// Folds the record into a running hash (FxHash's multiply-rotate on 64-bit words: fast,
    /// and the same on every platform).
    pub fn hash_into(&self, hash: u64) -> u64 {
        let subject = match self.subject {
            Subject::Nobody => 0,
            Subject::Node(node) => 1 << 32 | u64::from(node.0),
            Subject::Client(w) => 2 << 32 | u64::from(w),
            Subject::Effect(e) => 3 << 32 | u64::from(e),
        };
        let answer = self.answer.map_or(0, |(outcome, miss)| {
            let code = match outcome {
                Outcome::Ok => 1,
                Outcome::Degraded => 2,
                Outcome::Failed(cause) => 3 + cause as u64,
            };
            code << 1 | u64::from(miss)
        });
        let words = [
            self.index,
            self.time_ns,
            self.kind as u64,
            subject,
            self.target.map_or(u64::MAX, |n| u64::from(n.0)),
            self.frame
                .map_or(u64::MAX, |(i, g)| u64::from(i) << 32 | u64::from(g)),
            self.token.map_or(u64::MAX, u64::from),
            answer,
            u64::from(self.stale),
        ];
        words.iter().fold(hash, |h, &w| {
            (h.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
        })
    }
}

/// One line: `INDEX TIME_NS KIND SUBJECT[->TARGET] [frame=SLOT.GEN] [token=T] [answer=A] [stale]`.
impl fmt::Display for TraceRecord<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let topology = self.topology;
        let name = |node: NodeId| {
            topology
                .nodes
                .get(node.index())
                .map_or("?", |n| n.name.as_str())
        };
        write!(f, "{} {} {} ", self.index, self.time_ns, self.kind.as_str())?;
        match self.subject {
            Subject::Nobody => f.write_str("-")?,
            Subject::Node(node) => f.write_str(name(node))?,
            Subject::Client(w) => {
                let workload = topology.workloads.get(w as usize);
                write!(f, "client:{}", workload.map_or("?", |w| w.name.as_str()))?;
            }
            Subject::Effect(e) => write!(f, "effect:{e}")?,
        }
        if let Some(target) = self.target {
            write!(f, "->{}", name(target))?;
        }
        if let Some((slot, generation)) = self.frame {
            write!(f, " frame={slot}.{generation}")?;
        }
        if let Some(token) = self.token {
            write!(f, " token={token}")?;
        }
        if let Some((outcome, miss)) = self.answer {
            let text = match outcome {
                Outcome::Ok => "ok",
                Outcome::Degraded => "degraded",
                Outcome::Failed(cause) => cause.as_str(),
            };
            write!(f, " answer={text}{}", if miss { "+miss" } else { "" })?;
        }
        if self.stale {
            f.write_str(" stale")?;
        }
        Ok(())
    }
}

impl<'t> Simulation<'t> {
    /// The record of `event`, about to be handled as the run's `index`-th.
    pub(super) fn trace_record(&self, index: u64, event: &Event) -> TraceRecord<'t> {
        let mut record = TraceRecord {
            index,
            time_ns: self.kernel.now.ns(),
            kind: EventKind::Arrival,
            subject: Subject::Nobody,
            target: None,
            frame: None,
            token: None,
            answer: None,
            stale: false,
            topology: self.topology,
        };
        match *event {
            Event::Arrival { workload } => record.subject = Subject::Client(workload),
            Event::UserSends { workload, .. } => {
                record.kind = EventKind::UserSends;
                record.subject = Subject::Client(workload);
            }
            Event::SpikeArrival { effect } => {
                record.kind = EventKind::SpikeArrival;
                record.subject = Subject::Effect(effect);
            }
            Event::ServiceDone { frame } => {
                record.kind = EventKind::ServiceDone;
                self.trace_frame(&mut record, frame, None);
            }
            Event::CallTimeout { frame, token } => {
                record.kind = EventKind::CallTimeout;
                self.trace_frame(&mut record, frame, Some((token, true)));
            }
            Event::RetryDue { frame, token } => {
                record.kind = EventKind::RetryDue;
                self.trace_frame(&mut record, frame, Some((token, false)));
            }
            Event::DelayedAnswer { held } => {
                let held = &self.held_answers[held as usize];
                record.kind = EventKind::DelayedAnswer;
                record.answer = Some((held.answer.outcome, held.answer.miss));
                self.trace_frame(&mut record, held.frame, Some((held.token, true)));
            }
            Event::EffectStart { effect } => {
                record.kind = EventKind::EffectStart;
                record.subject = Subject::Effect(effect);
            }
            Event::EffectEnd { effect } => {
                record.kind = EventKind::EffectEnd;
                record.subject = Subject::Effect(effect);
            }
            Event::Failover { node } => {
                record.kind = EventKind::Failover;
                record.subject = Subject::Node(node);
            }
            Event::Scale(scale) => {
                record.kind = EventKind::Scale;
                record.subject = Subject::Node(match scale {
                    super::autoscale::ScaleEvent::Evaluate { node } => node,
                    super::autoscale::ScaleEvent::Warm { replica, .. } => {
                        self.replicas.node_of(replica)
                    }
                });
            }
            Event::HealthCheck { replica } => {
                record.kind = EventKind::HealthCheck;
                record.subject = Subject::Node(self.replicas.node_of(replica));
            }
            Event::EjectionEnd { replica } => {
                record.kind = EventKind::EjectionEnd;
                record.subject = Subject::Node(self.replicas.node_of(replica));
            }
            Event::FallbackDone { frame, token } => {
                record.kind = EventKind::FallbackDone;
                self.trace_frame(&mut record, frame, Some((token, false)));
            }
            Event::DeliveryTimeout {
                queue,
                partition,
                token,
            } => {
                record.kind = EventKind::DeliveryTimeout;
                record.subject = Subject::Node(self.brokers.brokers[queue as usize].node);
                record.frame = Some((partition, 0));
                record.token = Some(token);
            }
            Event::DeliveryPoll { queue, partition } => {
                record.kind = EventKind::DeliveryPoll;
                record.subject = Subject::Node(self.brokers.brokers[queue as usize].node);
                record.frame = Some((partition, 0));
            }
        }
        record
    }

    /// Fills in a frame event: its owner, its call's target, and whether it is stale. `token`
    /// carries the event's token and whether it expects the frame to be waiting on an answer
    /// (a timeout or an answer) or not (a retry's backoff), as the handlers check.
    fn trace_frame(&self, record: &mut TraceRecord<'t>, at: FrameRef, token: Option<(u32, bool)>) {
        record.frame = Some((at.index, at.generation));
        record.token = token.map(|(t, _)| t);
        let Some(frame) = self.frames.get(at) else {
            record.stale = true;
            return;
        };
        let nodes = self.topology.nodes.len() as u32;
        record.subject = if frame.caller < nodes {
            Subject::Node(NodeId(frame.caller))
        } else {
            Subject::Client(frame.caller - nodes)
        };
        if let Some((token, waiting)) = token {
            record.target = Some(frame.target);
            record.stale = frame.token != token || frame.waiting != waiting;
        }
    }
}

// ---- the determinism self-check -----------------------------------------------------------

/// Most checkpoints a `TraceHash` keeps; past this it keeps every other one.
const MAX_CHECKPOINTS: usize = 4096;

/// A running hash of a run's trace, with checkpoints (the hash after every `every` events)
/// to locate where two runs part without keeping their traces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceHash {
    pub hash: u64,
    pub events: u64,
    /// A power of two.
    every: u64,
    /// `(events so far, hash so far)` at every multiple of `every`, in order.
    checkpoints: Vec<(u64, u64)>,
}

impl Default for TraceHash {
    fn default() -> Self {
        TraceHash {
            hash: 0xcbf2_9ce4_8422_2325,
            events: 0,
            every: 1,
            checkpoints: Vec::new(),
        }
    }
}

impl Tracer for TraceHash {
    fn record(&mut self, record: &TraceRecord<'_>) {
        self.push(record.hash_into(self.hash));
    }
}

impl TraceHash {
    /// Advances by one event whose record hashed to `hash`.
    fn push(&mut self, hash: u64) {
        self.hash = hash;
        self.events += 1;
        if self.events % self.every != 0 {
            return;
        }
        self.checkpoints.push((self.events, self.hash));
        if self.checkpoints.len() >= MAX_CHECKPOINTS {
            self.every *= 2;
            let every = self.every;
            self.checkpoints.retain(|&(n, _)| n % every == 0);
        }
    }

    /// `None` when the two traces are the same; else the event indices `[from, to)` that
    /// hold the first difference.
    pub fn divergence(&self, other: &TraceHash) -> Option<(u64, u64)> {
        if self.hash == other.hash && self.events == other.events {
            return None;
        }
        let mut agreed = 0;
        let mut theirs = other.checkpoints.iter().peekable();
        for &(n, hash) in &self.checkpoints {
            while theirs.next_if(|&&(m, _)| m < n).is_some() {}
            let Some(&&(m, their_hash)) = theirs.peek() else {
                break;
            };
            if m != n {
                continue;
            }
            if hash != their_hash {
                return Some((agreed, n));
            }
            agreed = n;
        }
        Some((agreed, self.events.max(other.events)))
    }
}

/// One traced event, kept for the report of a difference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TracedEvent {
    pub time_ns: u64,
    /// The trace line.
    pub line: String,
}

/// Keeps the lines of the events with index in `[from, to)`.
#[derive(Clone, Debug, Default)]
pub struct TraceWindow {
    pub from: u64,
    pub to: u64,
    pub events: Vec<TracedEvent>,
}

impl Tracer for TraceWindow {
    fn record(&mut self, record: &TraceRecord<'_>) {
        if (self.from..self.to).contains(&record.index) {
            self.events.push(TracedEvent {
                time_ns: record.time_ns,
                line: record.to_string(),
            });
        }
    }
}

/// Where two runs of the same inputs part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The index of the first event that differs.
    pub index: u64,
    /// That event in each run; `None` when the run had ended.
    pub first: Option<TracedEvent>,
    pub second: Option<TracedEvent>,
}

/// The first difference between two windows of traces that start at event `from`.
pub fn first_difference(from: u64, a: &[TracedEvent], b: &[TracedEvent]) -> Option<Divergence> {
    let differs = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))?;
    Some(Divergence {
        index: from + differs as u64,
        first: a.get(differs).cloned(),
        second: b.get(differs).cloned(),
    })
}

/// The verdict of `check_determinism`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Determinism {
    /// Both runs processed the same events: `events` of them, hashing to `hash`.
    Identical { events: u64, hash: u64 },
    /// The runs differ, first at `Divergence`. `None` when a third and fourth run, made to
    /// find the event, agreed: the difference did not reproduce.
    Differs {
        hashes: (u64, u64),
        events: (u64, u64),
        first: Option<Divergence>,
    },
}

/// Runs the same simulation twice, comparing a running hash of the traces; when they differ,
/// runs both again keeping only the events around the first difference, and names it.
pub fn check_determinism(topology: &Topology, config: &RunConfig, plan: &FaultPlan) -> Determinism {
    let run = |tracer: &mut dyn Tracer| {
        super::run_traced(topology, config, plan, tracer);
    };
    compare_runs(run, run)
}

/// The comparison behind `check_determinism`, over any two ways of producing a trace (each
/// called twice: once hashing, once keeping the window of the first difference).
pub fn compare_runs(
    mut first: impl FnMut(&mut dyn Tracer),
    mut second: impl FnMut(&mut dyn Tracer),
) -> Determinism {
    let (mut a, mut b) = (TraceHash::default(), TraceHash::default());
    first(&mut a);
    second(&mut b);
    let Some((from, to)) = a.divergence(&b) else {
        return Determinism::Identical {
            events: a.events,
            hash: a.hash,
        };
    };
    let window = || TraceWindow {
        from,
        to,
        events: Vec::new(),
    };
    let (mut wa, mut wb) = (window(), window());
    first(&mut wa);
    second(&mut wb);
    Determinism::Differs {
        hashes: (a.hash, b.hash),
        events: (a.events, b.events),
        first: first_difference(from, &wa.events, &wb.events),
    }
}

#[cfg(test)]
#[path = "trace_tests.rs"]
mod tests;
