//! The event loop and the handlers of the request flow.
//!
//! A user request is a *client frame* making one call (to the workload's target, with the
//! workload's timeout), so client timeouts, retries, cache misses and fall-through share one
//! call machinery with node-to-node calls. A call at a node is a frame that queues for a worker,
//! spends the node's own service time, then makes the node's calls in order.

use super::frames::{FRAME_NONE_REPLICA, Frame, FrameRef, Frames, NO_ZONE, Parent, Stage};
use super::policy::backoff_ns;
use super::replicas::Replicas;
use super::{Bound, RunConfig, RunOutcome, RunResult};
use crate::kernel::{EventQueue, Purpose, SimTime, Stream};
use crate::metrics::{Cause, EndpointMetrics, Outcome, TimeSeries};
use crate::model::{
    Arrival, Call, Concurrency, NodeId, OnUnavailable, Role, Topology, Workload, ZoneId,
};

/// Everything that can happen. Handlers check generations and tokens, so timers are never
/// cancelled: a stale one finds nothing to do.
#[derive(Clone, Copy, Debug)]
enum Event {
    /// The next user request of a workload arrives.
    Arrival { workload: u32 },
    /// A frame's own work (or an external's latency) is over.
    ServiceDone { frame: FrameRef },
    /// A call attempt's timeout expired.
    CallTimeout { frame: FrameRef, token: u32 },
    /// A retry's backoff is over.
    RetryDue { frame: FrameRef, token: u32 },
}

/// One caller's calls and its streams: a node, or the client of a workload.
struct Caller {
    calls: Vec<Call>,
    probability: Stream,
    jitter: Stream,
}

/// The streams of a node's own behaviour.
struct NodeStreams {
    service: Stream,
    cache_hit: Stream,
    external_error: Stream,
}

struct WorkloadSource {
    stream: Stream,
    /// Arrivals so far, for constant spacing and zone rotation.
    arrivals: u64,
    next_zone: usize,
}

/// How a call attempt answered.
#[derive(Clone, Copy, Debug)]
struct Answer {
    outcome: Outcome,
    /// A cache answered but did not hold the data: the caller goes on to the backing store.
    miss: bool,
}

pub struct Simulation<'t> {
    topology: &'t Topology,
    config: RunConfig,
    queue: EventQueue<Event>,
    now: SimTime,
    frames: Frames,
    replicas: Replicas,
    /// Nodes first (by `NodeId`), then one client per workload.
    callers: Vec<Caller>,
    node_streams: Vec<NodeStreams>,
    sources: Vec<WorkloadSource>,
    workload_metrics: Vec<EndpointMetrics>,
    node_metrics: Vec<EndpointMetrics>,
    clients_live: u32,
    events: u64,
    stopped: Option<RunOutcome>,
}

impl<'t> Simulation<'t> {
    pub fn new(topology: &'t Topology, config: &RunConfig) -> Simulation<'t> {
        let seed = config.seed;
        let step_ns = TimeSeries::step_for(config.duration_ns);
        let mut callers: Vec<Caller> = topology
            .nodes
            .iter()
            .map(|node| Caller::new(seed, node.stable_id, node.calls.clone()))
            .collect();
        callers.extend(
            topology
                .workloads
                .iter()
                .map(|workload| Caller::new(seed, workload.stable_id, vec![client_call(workload)])),
        );
        let node_streams = topology
            .nodes
            .iter()
            .map(|node| NodeStreams {
                service: Stream::new(seed, node.stable_id, Purpose::Service),
                cache_hit: Stream::new(seed, node.stable_id, Purpose::CacheHit),
                external_error: Stream::new(seed, node.stable_id, Purpose::ExternalError),
            })
            .collect();
        let sources = topology
            .workloads
            .iter()
            .map(|workload| WorkloadSource {
                stream: Stream::new(seed, workload.stable_id, Purpose::Arrival),
                arrivals: 0,
                next_zone: 0,
            })
            .collect();
        let mut simulation = Simulation {
            topology,
            config: *config,
            queue: EventQueue::new(),
            now: SimTime::ZERO,
            frames: Frames::default(),
            replicas: Replicas::new(topology),
            callers,
            node_streams,
            sources,
            workload_metrics: vec![EndpointMetrics::new(step_ns); topology.workloads.len()],
            node_metrics: vec![EndpointMetrics::new(step_ns); topology.nodes.len()],
            clients_live: 0,
            events: 0,
            stopped: None,
        };
        for workload in 0..topology.workloads.len() {
            simulation.schedule_next_arrival(workload);
        }
        simulation
    }

    /// Runs to the end of the duration or to the first bound reached.
    pub fn run(mut self) -> RunResult {
        let end = SimTime(self.config.duration_ns);
        while let Some((time, event)) = self.queue.pop() {
            if time > end {
                break;
            }
            self.now = time;
            if self.events == self.config.limits.max_events {
                self.stop(Bound::Events);
                break;
            }
            self.events += 1;
            self.handle(event);
            if self.stopped.is_some() {
                break;
            }
        }
        if self.stopped.is_none() {
            self.now = end;
        }
        self.finish_run()
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Arrival { workload } => self.on_arrival(workload as usize),
            Event::ServiceDone { frame } => self.on_service_done(frame),
            Event::CallTimeout { frame, token } => self.on_call_timeout(frame, token),
            Event::RetryDue { frame, token } => self.on_retry_due(frame, token),
        }
    }

    fn stop(&mut self, bound: Bound) {
        self.stopped.get_or_insert(RunOutcome::BoundReached {
            bound,
            at_ns: self.now.ns(),
        });
    }

    fn counted(&self) -> bool {
        self.now.ns() >= self.config.warmup_ns
    }

    // ---- arrivals -------------------------------------------------------------------------

    fn schedule_next_arrival(&mut self, workload: usize) {
        let spec = &self.topology.workloads[workload];
        let source = &mut self.sources[workload];
        let mean_gap_ns = 1e9 / spec.rate_per_s;
        let time = match spec.arrival {
            // The k-th arrival at k gaps exactly, so rounding never accumulates.
            Arrival::Constant => {
                SimTime(libm::round((source.arrivals + 1) as f64 * mean_gap_ns) as u64)
            }
            Arrival::Poisson => {
                let gap = -mean_gap_ns * libm::log(source.stream.unit_open0());
                self.now.after(libm::round(gap) as u64)
            }
        };
        if time.ns() <= self.config.duration_ns {
            self.queue.schedule(
                time,
                Event::Arrival {
                    workload: workload as u32,
                },
            );
        }
    }

    fn on_arrival(&mut self, workload: usize) {
        self.sources[workload].arrivals += 1;
        self.schedule_next_arrival(workload);
        if self.clients_live >= self.config.limits.max_requests_in_flight {
            self.stop(Bound::RequestsInFlight);
            return;
        }
        let zone = self.arrival_zone(workload);
        let counted = self.counted();
        let client = self.frames.insert(Frame {
            caller: (self.topology.nodes.len() + workload) as u32,
            replica: FRAME_NONE_REPLICA,
            zone,
            parent: Parent::None,
            arrived: self.now,
            counted,
            holds_worker: false,
            degraded: false,
            stage: Stage::Calling,
            call: 0,
            attempt: 0,
            target: NodeId(0),
            token: 0,
            waiting: false,
        });
        self.clients_live += 1;
        self.workload_metrics[workload].outcomes.requests += u64::from(counted);
        self.advance(client);
    }

    /// User traffic is spread evenly over the zones of the target (as DNS or a zonal load
    /// balancer does), in rotation so it draws no randomness.
    fn arrival_zone(&mut self, workload: usize) -> ZoneId {
        let target = self.topology.node(self.topology.workloads[workload].target);
        if target.zones.is_empty() {
            return NO_ZONE;
        }
        let source = &mut self.sources[workload];
        let zone = target.zones[source.next_zone % target.zones.len()];
        source.next_zone = (source.next_zone + 1) % target.zones.len();
        zone
    }

    // ---- calls ----------------------------------------------------------------------------

    /// Makes the frame's next call, skipping those its probability rules out; finishes the
    /// frame when no call is left.
    fn advance(&mut self, at: FrameRef) {
        loop {
            let frame = self.frames.get(at).expect("advancing a live frame");
            let caller = &mut self.callers[frame.caller as usize];
            let Some(call) = caller.calls.get(frame.call as usize).copied() else {
                let outcome = if frame.degraded {
                    Outcome::Degraded
                } else {
                    Outcome::Ok
                };
                return self.finish(
                    at,
                    Answer {
                        outcome,
                        miss: false,
                    },
                );
            };
            if caller.probability.chance(call.probability) {
                let frame = self.frames.get_mut(at).expect("live");
                frame.attempt = 0;
                frame.target = call.to;
                return self.attempt(at);
            }
            self.frames.get_mut(at).expect("live").call += 1;
        }
    }

    /// Sends one attempt of the current call to its current target.
    fn attempt(&mut self, at: FrameRef) {
        let frame = self
            .frames
            .get_mut(at)
            .expect("attempting from a live frame");
        frame.token = frame.token.wrapping_add(1);
        frame.waiting = true;
        let (token, target, zone) = (frame.token, frame.target, frame.zone);
        let call = self.callers[frame.caller as usize].calls[frame.call as usize];
        if let Some(timeout_ns) = call.timeout_ns {
            let due = self.now.after(timeout_ns);
            self.queue
                .schedule(due, Event::CallTimeout { frame: at, token });
        }
        let parent = Parent::Call { frame: at, token };
        if let Err(cause) = self.dispatch(target, zone, parent) {
            self.on_answer(
                at,
                token,
                Answer {
                    outcome: Outcome::Failed(cause),
                    miss: false,
                },
            );
        }
    }

    /// Delivers a call to a node: a replica's worker, its queue, or an immediate failure.
    fn dispatch(&mut self, node: NodeId, from: ZoneId, parent: Parent) -> Result<(), Cause> {
        if self.frames.live() - self.clients_live >= self.config.limits.max_calls_in_flight {
            self.stop(Bound::CallsInFlight);
            return Ok(());
        }
        let counted = self.counted();
        self.node_metrics[node.index()].outcomes.requests += u64::from(counted);
        let spec = self.topology.node(node);
        if let Role::External { .. } = spec.role {
            let frame =
                self.new_node_frame(node, FRAME_NONE_REPLICA, NO_ZONE, parent, Stage::Serving);
            self.start_service(frame, node);
            return Ok(());
        }
        let Some(replica) = self.replicas.route(self.topology, node, from) else {
            return Err(self.refuse(node, Cause::NoReplica));
        };
        let (workers, queue_limit) = (spec.workers, spec.queue);
        let state = self.replicas.get(replica);
        let zone = state.zone;
        if state.busy < workers {
            let frame = self.new_node_frame(node, replica, zone, parent, Stage::Serving);
            self.replicas.get_mut(replica).busy += 1;
            self.frames.get_mut(frame).expect("new").holds_worker = true;
            self.start_service(frame, node);
        } else if queue_limit.is_none_or(|limit| (state.waiting.len() as u64) < u64::from(limit)) {
            let frame = self.new_node_frame(node, replica, zone, parent, Stage::Queued);
            self.replicas.get_mut(replica).waiting.push_back(frame);
        } else {
            return Err(self.refuse(node, Cause::Rejected));
        }
        Ok(())
    }

    /// Records a call the node could not take at all, and returns the cause for the caller.
    fn refuse(&mut self, node: NodeId, cause: Cause) -> Cause {
        let (now, counted) = (self.now.ns(), self.counted());
        self.node_metrics[node.index()].record_end(now, 0, Outcome::Failed(cause), counted);
        cause
    }

    fn new_node_frame(
        &mut self,
        node: NodeId,
        replica: u32,
        zone: ZoneId,
        parent: Parent,
        stage: Stage,
    ) -> FrameRef {
        self.frames.insert(Frame {
            caller: node.0,
            replica,
            zone,
            parent,
            arrived: self.now,
            counted: self.counted(),
            holds_worker: false,
            degraded: false,
            stage,
            call: 0,
            attempt: 0,
            target: NodeId(0),
            token: 0,
            waiting: false,
        })
    }

    fn start_service(&mut self, at: FrameRef, node: NodeId) {
        let spec = self.topology.node(node);
        let delay = spec
            .service_time
            .sample(&mut self.node_streams[node.index()].service);
        self.frames.get_mut(at).expect("serving a live frame").stage = Stage::Serving;
        self.queue
            .schedule(self.now.after(delay), Event::ServiceDone { frame: at });
    }

    fn on_service_done(&mut self, at: FrameRef) {
        let frame = self
            .frames
            .get(at)
            .expect("a frame in service is never freed");
        let node = NodeId(frame.caller);
        let streams = &mut self.node_streams[node.index()];
        match self.topology.node(node).role {
            Role::External { error_rate } => {
                let outcome = if streams.external_error.chance(error_rate) {
                    Outcome::Failed(Cause::Error)
                } else {
                    Outcome::Ok
                };
                self.finish(
                    at,
                    Answer {
                        outcome,
                        miss: false,
                    },
                );
            }
            Role::Cache { hit_ratio, .. } => {
                let miss = !streams.cache_hit.chance(hit_ratio);
                self.finish(
                    at,
                    Answer {
                        outcome: Outcome::Ok,
                        miss,
                    },
                );
            }
            Role::Service | Role::Database { .. } => {
                if self.topology.node(node).concurrency == Concurrency::Async {
                    self.release_worker(at);
                }
                self.frames.get_mut(at).expect("live").stage = Stage::Calling;
                self.advance(at);
            }
        }
    }

    /// Frees the frame's worker and hands it to the oldest waiting frame of the replica.
    fn release_worker(&mut self, at: FrameRef) {
        let frame = self.frames.get_mut(at).expect("releasing for a live frame");
        if !frame.holds_worker {
            return;
        }
        frame.holds_worker = false;
        let replica = frame.replica;
        let node = NodeId(frame.caller);
        let state = self.replicas.get_mut(replica);
        state.busy -= 1;
        if let Some(next) = state.waiting.pop_front() {
            state.busy += 1;
            self.frames
                .get_mut(next)
                .expect("queued frames are live")
                .holds_worker = true;
            self.start_service(next, node);
        }
    }

    // ---- answers --------------------------------------------------------------------------

    fn on_call_timeout(&mut self, at: FrameRef, token: u32) {
        let Some(frame) = self.frames.get(at) else {
            return;
        };
        if frame.token != token || !frame.waiting {
            return;
        }
        // The callee keeps working; its late answer will carry a stale token.
        let cause = if self.is_client(frame) {
            Cause::ClientTimeout
        } else {
            Cause::Timeout
        };
        self.on_answer(
            at,
            token,
            Answer {
                outcome: Outcome::Failed(cause),
                miss: false,
            },
        );
    }

    fn on_retry_due(&mut self, at: FrameRef, token: u32) {
        let Some(frame) = self.frames.get(at) else {
            return;
        };
        if frame.token == token && !frame.waiting {
            self.attempt(at);
        }
    }

    /// An attempt's answer reaches its caller (unless the caller gave up on it).
    fn on_answer(&mut self, at: FrameRef, token: u32, answer: Answer) {
        let Some(frame) = self.frames.get_mut(at) else {
            return;
        };
        if frame.token != token || !frame.waiting {
            return;
        }
        frame.waiting = false;
        match answer.outcome {
            Outcome::Ok | Outcome::Degraded => {
                frame.degraded |= answer.outcome == Outcome::Degraded;
                if answer.miss {
                    frame.target = backing_of(self.topology, frame.target);
                    frame.attempt = 0;
                    self.attempt(at);
                } else {
                    frame.call += 1;
                    self.advance(at);
                }
            }
            Outcome::Failed(cause) => self.on_call_failed(at, cause),
        }
    }

    /// After a failed attempt: fall through past a cache, retry, skip an optional call, or fail.
    fn on_call_failed(&mut self, at: FrameRef, cause: Cause) {
        let frame = self.frames.get_mut(at).expect("live");
        let caller = &mut self.callers[frame.caller as usize];
        let call = caller.calls[frame.call as usize];
        if let Role::Cache {
            backing,
            on_unavailable: OnUnavailable::Fallthrough,
            ..
        } = self.topology.node(frame.target).role
        {
            frame.target = backing;
            frame.attempt = 0;
            return self.attempt(at);
        }
        if u32::from(frame.attempt) < call.retries {
            frame.attempt += 1;
            let delay = backoff_ns(&call, u32::from(frame.attempt), &mut caller.jitter);
            let token = frame.token;
            if delay == 0 {
                return self.attempt(at);
            }
            let due = self.now.after(delay);
            return self
                .queue
                .schedule(due, Event::RetryDue { frame: at, token });
        }
        if call.optional {
            frame.degraded = true;
            frame.call += 1;
            return self.advance(at);
        }
        self.finish(
            at,
            Answer {
                outcome: Outcome::Failed(cause),
                miss: false,
            },
        );
    }

    fn is_client(&self, frame: &Frame) -> bool {
        frame.caller as usize >= self.topology.nodes.len()
    }

    /// Ends a frame: records it, frees its worker, and answers its parent.
    fn finish(&mut self, at: FrameRef, answer: Answer) {
        self.release_worker(at);
        let frame = self.frames.remove(at);
        let latency = self.now.since(frame.arrived);
        let now = self.now.ns();
        let node_count = self.topology.nodes.len();
        if (frame.caller as usize) < node_count {
            let metrics = &mut self.node_metrics[frame.caller as usize];
            metrics.record_end(now, latency, answer.outcome, frame.counted);
        } else {
            let metrics = &mut self.workload_metrics[frame.caller as usize - node_count];
            metrics.record_end(now, latency, answer.outcome, frame.counted);
            self.clients_live -= 1;
        }
        if let Parent::Call {
            frame: parent,
            token,
        } = frame.parent
        {
            self.on_answer(parent, token, answer);
        }
    }

    // ---- end of run -----------------------------------------------------------------------

    fn finish_run(mut self) -> RunResult {
        let node_count = self.topology.nodes.len();
        for frame in self.frames.iter() {
            if !frame.counted {
                continue;
            }
            let caller = frame.caller as usize;
            if caller < node_count {
                self.node_metrics[caller].outcomes.in_flight += 1;
            } else {
                self.workload_metrics[caller - node_count]
                    .outcomes
                    .in_flight += 1;
            }
        }
        let end_ns = self.now.ns();
        for metrics in self
            .workload_metrics
            .iter_mut()
            .chain(self.node_metrics.iter_mut())
        {
            metrics.series.close(end_ns);
        }
        RunResult {
            outcome: self.stopped.unwrap_or(RunOutcome::Completed),
            end_ns,
            events: self.events,
            workloads: self.workload_metrics,
            nodes: self.node_metrics,
        }
    }
}

impl Caller {
    fn new(seed: u64, stable_id: u64, calls: Vec<Call>) -> Caller {
        Caller {
            calls,
            probability: Stream::new(seed, stable_id, Purpose::CallProbability),
            jitter: Stream::new(seed, stable_id, Purpose::BackoffJitter),
        }
    }
}

fn backing_of(topology: &Topology, cache: NodeId) -> NodeId {
    match topology.node(cache).role {
        Role::Cache { backing, .. } => backing,
        _ => unreachable!("only caches answer with a miss"),
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
    }
}
