//! The event loop: setup, the one `match` over events, arrivals, and the end of a run.
//!
//! The request flow itself is in `flow.rs`, faults applied in `effects.rs`; all three are
//! `impl Simulation` blocks over the state defined here.

use super::arrivals::Workloads;
use super::autoscale::{Autoscaling, ScaleEvent};
use super::bounds::MEMORY_CHECK_EVERY;
use super::cache::Caches;
use super::effects::ActiveFaults;
use super::frames::{FrameRef, Frames};
use super::replicas::Replicas;
use super::resilience::Resilience;
use super::trace::{NoTrace, Tracer};
use super::{Bound, RunConfig, RunOutcome, RunResult};
use crate::faults::{Action, FaultPlan};
use crate::kernel::memory::{self, Account};
use crate::kernel::{EventQueue, Lane, Purpose, SimTime, Stream};
use crate::metrics::{Counted, EndpointMetrics, Outcome, TimeSeries};
use crate::model::{Call, NodeId, Topology, Workload};

/// Everything that can happen. Handlers check generations and tokens, so timers are never
/// cancelled: a stale one finds nothing to do.
#[derive(Clone, Copy, Debug)]
pub(super) enum Event {
    /// The next user request of a workload's base arrival process.
    Arrival {
        workload: u32,
    },
    /// A closed-loop user's think time is over: it sends its next request.
    UserSends {
        workload: u32,
        user: u32,
    },
    /// The next extra request of a traffic spike.
    SpikeArrival {
        effect: u32,
    },
    /// A frame's own work (or an external's latency) is over.
    ServiceDone {
        frame: FrameRef,
    },
    /// A call attempt's timeout expired.
    CallTimeout {
        frame: FrameRef,
        token: u32,
    },
    /// A retry's backoff is over.
    RetryDue {
        frame: FrameRef,
        token: u32,
    },
    /// An answer held back by a latency fault reaches its caller.
    /// The answer itself waits in `held_answers`, so every event stays 16 bytes: the heap
    /// moves events on every push and pop.
    DelayedAnswer {
        held: u32,
    },
    EffectStart {
        effect: u32,
    },
    EffectEnd {
        effect: u32,
    },
    /// A database's failover time has passed since its primary zone lost its last replica.
    Failover {
        node: NodeId,
    },
    /// Autoscaling: an evaluation period ends, or a started replica's warm-up.
    Scale(ScaleEvent),
    /// The balancer probes a replica (`health.rs`).
    HealthCheck {
        replica: u32,
    },
    /// An outlier ejection of a replica is over (`health.rs`).
    EjectionEnd {
        replica: u32,
    },
    /// A failed optional call's fallback answer is ready (see `resilience.rs`).
    FallbackDone {
        frame: FrameRef,
        token: u32,
    },
    /// A queue delivery's visibility timeout expired (`sim::queue`).
    DeliveryTimeout {
        queue: u32,
        partition: u32,
        token: u32,
    },
    /// A queue partition looks again for an up consumer replica.
    DeliveryPoll {
        queue: u32,
        partition: u32,
    },
}

/// The kernel pieces a feature is handed with its own state: the clock, the event queue, and
/// the run's parameters. Features own everything else they touch.
#[derive(Clone)]
pub(super) struct Kernel {
    pub now: SimTime,
    pub queue: EventQueue<Event>,
    pub config: RunConfig,
}

impl Kernel {
    /// Whether something arriving now is counted, and in which window.
    #[inline]
    pub fn counted(&self) -> Counted {
        let now = self.now.ns();
        if now < self.config.warmup_ns {
            return Counted::No;
        }
        match self.config.windows {
            None => Counted::InWindow(0),
            Some(w) if now < w.during_start_ns => Counted::InWindow(0),
            Some(w) if now < w.after_start_ns => Counted::InWindow(1),
            Some(_) => Counted::InWindow(2),
        }
    }

    /// Schedules `event` at `due` unless that is past the run's end.
    pub fn schedule_within_run(&mut self, due: SimTime, event: Event) {
        if due.ns() <= self.config.duration_ns {
            self.queue.schedule(due, event);
        }
    }
}

/// How a call attempt answered.
#[derive(Clone, Copy, Debug)]
pub(super) struct Answer {
    pub outcome: Outcome,
    /// A cache answered but did not hold the data: the caller goes on to the backing store.
    pub miss: bool,
    /// For a failure, the node where it started.
    pub origin: Option<NodeId>,
}

impl Answer {
    pub fn ok(outcome: Outcome) -> Answer {
        Answer {
            outcome,
            miss: false,
            origin: None,
        }
    }

    pub fn failed(cause: crate::metrics::Cause, origin: Option<NodeId>) -> Answer {
        Answer {
            outcome: Outcome::Failed(cause),
            miss: false,
            origin,
        }
    }
}

/// An answer a latency fault holds back, until its `Event::DelayedAnswer`.
#[derive(Clone)]
pub(super) struct HeldAnswer {
    pub frame: FrameRef,
    pub token: u32,
    pub answer: Answer,
}

/// One caller's calls and its streams: a node, or the client of a workload.
#[derive(Clone)]
pub(super) struct Caller {
    pub calls: Vec<Call>,
    /// Per call, the event queue's lane of its timeout (`None` without a timeout).
    pub timeout_lanes: Vec<Option<Lane>>,
    pub probability: Stream,
    pub jitter: Stream,
}

/// The streams of a node's own behaviour.
#[derive(Clone)]
pub(super) struct NodeStreams {
    pub service: Stream,
    pub cache_hit: Stream,
    pub external_error: Stream,
}

/// A run in progress. `Clone` is a fork: the copy goes on from the same state (see `fork`).
#[derive(Clone)]
pub struct Simulation<'t> {
    pub(super) topology: &'t Topology,
    pub(super) plan: &'t FaultPlan,
    /// The clock, the event queue and the run's parameters: what every feature may be handed.
    pub(super) kernel: Kernel,
    pub(super) held_answers: slab::Slab<HeldAnswer>,
    pub(super) frames: Frames,
    pub(super) replicas: Replicas,
    pub(super) queue_clocks: super::shedding::QueueClocks,
    pub(super) balancer: super::health::Balancer,
    /// Nodes first (by `NodeId`), then one client per workload.
    pub(super) callers: Vec<Caller>,
    pub(super) node_streams: Vec<NodeStreams>,
    /// The workloads' sources, closed-loop users and request records (`arrivals.rs`).
    pub(super) workloads: Workloads,
    /// The faults active now and their streams (`effects.rs`).
    pub(super) faults: ActiveFaults,
    pub(super) workload_metrics: Vec<EndpointMetrics>,
    pub(super) node_metrics: Vec<EndpointMetrics>,
    pub(super) clients_live: u32,
    pub(super) resilience: Resilience,
    /// The content caches (empty without them).
    pub(super) caches: Caches,
    /// The frames' propagated deadlines (`deadline.rs`; unused without the key).
    pub(super) deadlines: super::deadline::Deadlines,
    /// The queues' brokers (empty for a model without queues).
    pub(super) brokers: super::queue::Brokers,
    events: u64,
    stopped: Option<RunOutcome>,
    /// The earliest event, popped but due after the `advance_to` that popped it, with its
    /// `seq` (a fork puts it back in the queue).
    held_event: Option<(SimTime, u64, Event)>,
    /// The `until` of the last `advance_to`: every event due at or before it is handled.
    /// `None` before the first.
    advanced_to: Option<SimTime>,
    /// The run has ended (its duration or a bound): `advance_to` does nothing more.
    over: bool,
    /// Bytes the rest of the study held at the last lockstep barrier, counted against
    /// `max_memory_mb` with this run's own (see `bounds.rs`).
    pub(super) others_bytes: u64,
    /// Every allocation made while this run is built or advanced (`kernel::memory`).
    pub(super) account: std::sync::Arc<Account>,
    pub(super) autoscaling: Autoscaling,
}

impl<'t> Simulation<'t> {
    pub fn new(topology: &'t Topology, config: &RunConfig, plan: &'t FaultPlan) -> Simulation<'t> {
        let account = std::sync::Arc::new(Account::new());
        memory::charged(&account.clone(), || {
            Simulation::build(topology, config, plan, account)
        })
    }

    fn build(
        topology: &'t Topology,
        config: &RunConfig,
        plan: &'t FaultPlan,
        account: std::sync::Arc<Account>,
    ) -> Simulation<'t> {
        let seed = config.seed;
        let step_ns = TimeSeries::step_for(config.duration_ns);
        let windows = if config.windows.is_some() { 3 } else { 0 };
        let mut queue = EventQueue::new();
        let mut callers: Vec<Caller> = topology
            .nodes
            .iter()
            .map(|node| Caller::new(seed, node.stable_id, node.calls.clone(), &mut queue))
            .collect();
        for workload in &topology.workloads {
            let call = client_call(workload);
            callers.push(Caller::new(
                seed,
                workload.stable_id,
                vec![call],
                &mut queue,
            ));
        }
        let replicas = Replicas::new(topology);
        let balancer = super::health::Balancer::new(topology, replicas.replicas.len());
        let queue_clocks = super::shedding::QueueClocks::new(&replicas);
        let mut simulation = Simulation {
            topology,
            plan,
            kernel: Kernel {
                now: SimTime::ZERO,
                queue,
                config: *config,
            },
            held_answers: slab::Slab::new(),
            frames: Frames::default(),
            replicas,
            queue_clocks,
            balancer,
            callers,
            node_streams: topology
                .nodes
                .iter()
                .map(|n| NodeStreams::new(seed, n.stable_id))
                .collect(),
            workloads: Workloads::new(topology, seed),
            faults: ActiveFaults::new(seed, plan),
            workload_metrics: vec![
                EndpointMetrics::new(step_ns, windows);
                topology.workloads.len()
            ],
            node_metrics: vec![EndpointMetrics::new(step_ns, windows); topology.nodes.len()],
            clients_live: 0,
            resilience: Resilience::new(topology, config.warmup_ns),
            caches: Caches::new(
                topology,
                seed,
                step_ns,
                windows,
                config.limits.max_memory_mb.saturating_mul(1 << 20),
            ),
            brokers: super::queue::Brokers::new(topology, step_ns, windows),
            deadlines: super::deadline::Deadlines::new(topology),
            events: 0,
            stopped: None,
            held_event: None,
            advanced_to: None,
            over: false,
            others_bytes: 0,
            account,
            autoscaling: Autoscaling::new(topology),
        };
        simulation.schedule_effects();
        (simulation.autoscaling).schedule(&mut simulation.kernel, topology);
        (simulation.balancer).schedule_checks(
            &mut simulation.kernel,
            topology,
            &simulation.replicas,
        );
        simulation.start_workloads();
        simulation
    }

    /// Runs to the end of the duration or to the first bound reached.
    pub fn run(self) -> RunResult {
        self.run_traced(&mut NoTrace)
    }

    /// Like `run`, handing every event to `tracer` before it is handled. `NoTrace` compiles
    /// to nothing.
    pub fn run_traced<T: Tracer + ?Sized>(mut self, tracer: &mut T) -> RunResult {
        self.advance_to(SimTime(u64::MAX), tracer);
        self.finish_run()
    }

    /// Processes the events due at or before `until` (at most the run's end), so two runs can
    /// advance in lockstep. Returns whether the run goes on; once it is over (its end, or a
    /// bound) a streaming run also hands its requests still in flight to `ended`.
    pub fn advance_to<T: Tracer + ?Sized>(&mut self, until: SimTime, tracer: &mut T) -> bool {
        if self.over {
            return false;
        }
        let account = self.account.clone();
        memory::charged(&account, || self.advance_charged(until, tracer))
    }

    fn advance_charged<T: Tracer + ?Sized>(&mut self, until: SimTime, tracer: &mut T) -> bool {
        let end = SimTime(self.kernel.config.duration_ns);
        let limit = until.min(end);
        self.advanced_to = Some(limit);
        let mut next = self
            .held_event
            .take()
            .or_else(|| self.kernel.queue.pop_keyed());
        while let Some((time, seq, event)) = next {
            if time > limit {
                // The earliest event waits for the next call (nothing is scheduled meanwhile,
                // so it stays the earliest); past the run's end it is dropped, as the run is.
                if time <= end {
                    self.held_event = Some((time, seq, event));
                    return true;
                }
                break;
            }
            if !self.process(time, event, tracer) {
                break;
            }
            next = self.kernel.queue.pop_keyed();
        }
        self.over = true;
        if self.stopped.is_none() {
            self.kernel.now = end;
        }
        self.stream_in_flight();
        false
    }

    /// One event of the loop; false when the run stopped at a bound.
    #[inline(always)]
    fn process<T: Tracer + ?Sized>(&mut self, time: SimTime, event: Event, tracer: &mut T) -> bool {
        self.kernel.now = time;
        if self.events == self.kernel.config.limits.max_events {
            self.stop(Bound::Events);
            return false;
        }
        if self.events % MEMORY_CHECK_EVERY == 0 && self.over_memory() {
            self.stop(Bound::Memory);
            return false;
        }
        if tracer.enabled() {
            tracer.record(&self.trace_record(self.events, &event));
        }
        self.events += 1;
        self.handle(event);
        self.stopped.is_none()
    }

    /// Hands each user request's record over when it ends (`take_ended`) instead of keeping
    /// one per request in `RunResult::requests`: a study pairing runs in lockstep holds only
    /// the requests in flight. Needs `RunConfig::record_requests`.
    pub fn streaming(mut self) -> Self {
        self.workloads.streaming = self.kernel.config.record_requests;
        self
    }

    /// The records of the requests that ended since the last call, in end order.
    pub fn ended_mut(&mut self) -> &mut Vec<super::EndedRequest> {
        &mut self.workloads.ended
    }

    /// Tells the run what the rest of its study holds now, counted with its own memory
    /// against `max_memory_mb`.
    pub fn set_others_bytes(&mut self, bytes: u64) {
        self.others_bytes = bytes;
    }

    /// The bytes this run holds now (its account of real allocations).
    pub fn memory_bytes_held(&self) -> u64 {
        self.account.live_bytes()
    }

    /// Whether the run is over (its end or a bound).
    pub fn is_over(&self) -> bool {
        self.over
    }

    /// The result of a run that `advance_to` has taken to its end.
    pub fn into_result(self) -> RunResult {
        assert!(self.over, "a run's result is read once it is over");
        self.finish_run()
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Arrival { workload } => self.on_arrival(workload as usize),
            Event::UserSends { workload, user } => self.on_user_sends(workload as usize, user),
            Event::SpikeArrival { effect } => self.on_spike_arrival(effect),
            Event::ServiceDone { frame } => self.on_service_done(frame),
            Event::CallTimeout { frame, token } => self.on_call_timeout(frame, token),
            Event::RetryDue { frame, token } => self.on_retry_due(frame, token),
            Event::DelayedAnswer { held } => {
                let held = self.held_answers.remove(held as usize);
                self.on_answer(held.frame, held.token, held.answer);
            }
            Event::EffectStart { effect } => self.on_effect_start(effect),
            Event::EffectEnd { effect } => self.on_effect_end(effect),
            Event::Failover { node } => self.on_failover(node),
            Event::Scale(scale) => {
                let replicas = &mut self.replicas;
                (self.autoscaling).on_scale(&mut self.kernel, self.topology, replicas, scale)
            }
            Event::HealthCheck { replica } => {
                let replicas = &mut self.replicas;
                (self.balancer).on_health_check(&mut self.kernel, self.topology, replicas, replica)
            }
            Event::EjectionEnd { replica } => {
                (self.balancer).on_ejection_end(&self.kernel, &mut self.replicas, replica)
            }
            Event::FallbackDone { frame, token } => self.on_fallback_done(frame, token),
            Event::DeliveryTimeout {
                queue,
                partition,
                token,
            } => {
                // The visibility timeout: the delivery failed, unless it was answered since.
                let answer = Answer::failed(crate::metrics::Cause::Timeout, None);
                if (self.brokers).on_delivery_answer(&self.kernel, queue, partition, token, answer)
                {
                    self.deliver(queue, partition);
                }
            }
            Event::DeliveryPoll { queue, partition } => {
                self.brokers.on_delivery_poll(queue, partition);
                self.deliver(queue, partition);
            }
        }
    }

    pub(super) fn stop(&mut self, bound: Bound) {
        if self.stopped.is_none() {
            self.stopped = Some(RunOutcome::BoundReached {
                bound,
                at_ns: self.kernel.now.ns(),
                state: self.bound_state(),
            });
        }
    }

    /// Whether something arriving now is counted, and in which window.
    #[inline]
    pub(super) fn counted(&self) -> Counted {
        self.kernel.counted()
    }

    // ---- end of run -----------------------------------------------------------------------

    fn finish_run(mut self) -> RunResult {
        let node_count = self.topology.nodes.len();
        for frame in self.frames.iter() {
            let caller = frame.caller as usize;
            if caller < node_count {
                self.node_metrics[caller].record_in_flight(frame.counted);
            } else {
                self.workload_metrics[caller - node_count].record_in_flight(frame.counted);
            }
        }
        let end_ns = self.kernel.now.ns();
        let users = (0..self.topology.workloads.len())
            .map(|w| self.user_stats(w))
            .collect();
        for metrics in self
            .workload_metrics
            .iter_mut()
            .chain(self.node_metrics.iter_mut())
        {
            metrics.series.close(end_ns);
            metrics.flush();
        }
        let warmup_ns = self.kernel.config.warmup_ns;
        let ejections = self.balancer.finish(end_ns, warmup_ns, &self.replicas);
        self.brokers.close(&self.kernel);
        RunResult {
            outcome: self.stopped.unwrap_or(RunOutcome::Completed),
            end_ns,
            events: self.events,
            workloads: self.workload_metrics,
            nodes: self.node_metrics,
            requests: self.workloads.requests,
            request_keys: self.workloads.request_keys,
            extra_requests: self.workloads.extra_requests,
            autoscaling: self.autoscaling.finish(),
            ejections,
            edges: self.resilience.finish(end_ns),
            caches: self.caches.finish(end_ns),
            queues: self
                .brokers
                .brokers
                .into_iter()
                .map(|b| super::QueueResult {
                    node: b.node,
                    metrics: b.metrics,
                })
                .collect(),
            users,
        }
    }

    /// A copy of this run, with no faults so far, that goes on with `plan`'s: what a run of
    /// `plan` from the start would be, byte for byte, provided nothing of the plan happens
    /// before the fork — every effect starts after the last `advance_to`. Up to an effect's
    /// start a run with faults is the run without them (effects draw from their own streams,
    /// and their events are reserved ones, ahead of everything else at their instants, as if
    /// scheduled first), so a study's candidates share the simulation of their common prefix.
    /// The copy's allocations are charged to an account of its own.
    pub fn fork(&self, plan: &'t FaultPlan) -> Simulation<'t> {
        assert!(
            self.plan.is_empty(),
            "a fork starts from a run without faults"
        );
        // An over run never goes on, so its fork's faults never act (a bound stopped it).
        assert!(
            self.over
                || plan
                    .effects
                    .iter()
                    .all(|e| self.advanced_to.is_none_or(|t| e.start_ns > t.ns())),
            "a fork's faults start after the moment it is taken"
        );
        let account = std::sync::Arc::new(Account::new());
        memory::charged(&account.clone(), || {
            let mut fork = self.clone();
            fork.account = account;
            fork.plan = plan;
            fork.others_bytes = 0;
            fork.faults.replan(self.kernel.config.seed, plan);
            if let Some((time, seq, event)) = fork.held_event.take() {
                fork.kernel.queue.reinsert(time, seq, event);
            }
            fork.schedule_effects();
            fork
        })
    }

    /// Schedules the start and end of every effect that begins within the run.
    fn schedule_effects(&mut self) {
        for (index, effect) in self.plan.effects.iter().enumerate() {
            if effect.start_ns > self.kernel.config.duration_ns {
                continue;
            }
            let effect_id = index as u32;
            let start = SimTime(effect.start_ns);
            self.kernel
                .queue
                .schedule_reserved(start, Event::EffectStart { effect: effect_id });
            let instantaneous = matches!(effect.action, Action::Flush { .. });
            if !instantaneous && effect.end_ns <= self.kernel.config.duration_ns {
                let end = SimTime(effect.end_ns);
                self.kernel
                    .queue
                    .schedule_reserved(end, Event::EffectEnd { effect: effect_id });
            }
        }
    }
}

impl Caller {
    fn new(seed: u64, stable_id: u64, calls: Vec<Call>, queue: &mut EventQueue<Event>) -> Caller {
        Caller {
            timeout_lanes: calls
                .iter()
                .map(|call| call.timeout_ns.map(|timeout| queue.lane(timeout)))
                .collect(),
            calls,
            probability: Stream::new(seed, stable_id, Purpose::CallProbability),
            jitter: Stream::new(seed, stable_id, Purpose::BackoffJitter),
        }
    }
}

impl NodeStreams {
    fn new(seed: u64, stable_id: u64) -> NodeStreams {
        NodeStreams {
            service: Stream::new(seed, stable_id, Purpose::Service),
            cache_hit: Stream::new(seed, stable_id, Purpose::CacheHit),
            external_error: Stream::new(seed, stable_id, Purpose::ExternalError),
        }
    }
}

/// The one call a workload's client makes: to the target, with the client's timeout.
fn client_call(workload: &Workload) -> Call {
    Call {
        to: workload.target,
        timeout_ns: workload.timeout_ns,
        retries: 0,
        backoff_ns: 0,
        max_backoff_ns: 0,
        jitter: crate::model::Jitter::None,
        probability: 1.0,
        optional: false,
        resilience: Default::default(),
        deadline: workload.deadline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ARCHITECTURE.md lists the closed `Event` enum once, in the enum's order: the list a
    /// reader trusts is the code's.
    #[test]
    fn architecture_lists_every_event() {
        let source = include_str!("engine.rs");
        let body = source
            .split("pub(super) enum Event {")
            .nth(1)
            .and_then(|rest| rest.split("\n}").next())
            .expect("the Event enum");
        let variants: Vec<&str> = body
            .lines()
            .filter(|line| line.starts_with("    ") && !line.starts_with("     "))
            .map(str::trim)
            .filter(|line| !line.starts_with("//") && !line.starts_with('}'))
            .map(|line| {
                line.split(|c: char| !c.is_alphanumeric())
                    .next()
                    .unwrap_or("")
            })
            .collect();
        assert!(variants.len() >= 16, "{variants:?}");
        let listed = variants
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let architecture = include_str!("../../ARCHITECTURE.md").replace('\n', " ");
        assert!(
            architecture.contains(&format!("one closed `enum Event` ({listed})")),
            "ARCHITECTURE.md should list the events as ({listed})"
        );
    }

    #[test]
    fn events_stay_small() {
        // The event queue moves whole events on every push and pop: a variant that grows past
        // 16 bytes makes every event of every run slower. Put large payloads in a side table,
        // as `DelayedAnswer` does.
        assert!(size_of::<Event>() <= 16, "{} bytes", size_of::<Event>());
    }
}
