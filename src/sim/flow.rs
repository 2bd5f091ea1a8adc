//! The request flow: calls, attempts, replicas' workers and queues, answers, retries.
//!
//! A user request is a *client frame* making one call (to the workload's target, with the
//! workload's timeout), so client timeouts, retries, cache misses and fall-through share one
//! call machinery with node-to-node calls. A call at a node is a frame that queues for a worker,
//! spends the node's own service time, then makes the node's calls in order.

use super::Bound;
use super::effects::AtDispatch;
use super::engine::{Answer, Event, HeldAnswer, Simulation};
use super::frames::{FRAME_NONE_REPLICA, Frame, FrameRef, NO_ZONE, Parent, Stage};
use super::phases::{AfterFailure, Dequeued, Send};
use super::policy::backoff_ns;
use crate::kernel::{SimTime, round_ns};
use crate::metrics::{Cause, Outcome};
use crate::model::{Concurrency, NodeId, Role, Topology, ZoneId};

impl Simulation<'_> {
    /// Makes the frame's next call, skipping those its probability rules out; finishes the
    /// frame when no call is left.
    pub(super) fn advance(&mut self, at: FrameRef) {
        loop {
            let frame = self.frames.get_mut(at).expect("advancing a live frame");
            let caller = &mut self.callers[frame.caller as usize];
            // Only two fields: a `Call` with its resilience policies is 150 bytes to copy.
            let Some((to, probability)) = caller
                .calls
                .get(frame.call as usize)
                .map(|c| (c.to, c.probability))
            else {
                let outcome = if frame.degraded {
                    Outcome::Degraded
                } else {
                    Outcome::Ok
                };
                return self.finish(at, Answer::ok(outcome));
            };
            if caller.probability.chance(probability) {
                frame.attempt = 0;
                frame.target = to;
                self.on_call_start(at);
                return self.attempt(at);
            }
            frame.call += 1;
        }
    }

    /// Sends one attempt of the current call to its current target — unless the features
    /// say otherwise (`on_send`): a passed deadline abandons the frame, an open breaker or a
    /// full bulkhead fails the attempt unsent, a single-flight fetch makes it wait.
    fn attempt(&mut self, at: FrameRef) {
        let frame = self
            .frames
            .get_mut(at)
            .expect("attempting from a live frame");
        frame.token = frame.token.wrapping_add(1);
        frame.waiting = true;
        let (token, target, zone) = (frame.token, frame.target, frame.zone);
        let timeout = self.callers[frame.caller as usize].timeout_lanes[frame.call as usize];
        let (deadline_due, joined) = match self.on_send(at, token) {
            Send::Abandon => return self.abandon(at),
            Send::Refused(cause) => {
                self.frames.get_mut(at).expect("live").waiting = false;
                return self.on_call_failed(at, Answer::failed(cause, Some(target)));
            }
            Send::Go {
                deadline_due,
                joined,
            } => (deadline_due, joined),
        };
        let event = Event::CallTimeout { frame: at, token };
        if let Some(due) = deadline_due {
            // The deadline it hands on comes first: a timer of its own, off the lane.
            self.kernel.queue.schedule(SimTime(due), event);
        } else if let Some(lane) = timeout {
            self.kernel
                .queue
                .schedule_in_lane(lane, self.kernel.now, event);
        }
        if joined {
            return;
        }
        let parent = Parent::Call { frame: at, token };
        // Only edge-scoped faults read the source: skip the lookup when none is active.
        let source = if !self.faults.on_calls() {
            None
        } else {
            self.edge_source(at)
        };
        if let Err(cause) = self.dispatch(target, source, zone, parent) {
            self.on_answer(at, token, Answer::failed(cause, Some(target)));
        }
    }

    /// Delivers a call to a node: a replica's worker, its queue, or an immediate failure.
    /// A swallowed call (blackhole, partition) returns `Ok` and never answers. `caller` (the
    /// edge's source) is read only while call effects are active.
    pub(super) fn dispatch(
        &mut self,
        node: NodeId,
        caller: Option<NodeId>,
        from: ZoneId,
        parent: Parent,
    ) -> Result<(), Cause> {
        if self.frames.live() - self.clients_live >= self.kernel.config.limits.max_calls_in_flight {
            self.stop(Bound::CallsInFlight);
            return Ok(());
        }
        if self.faults.on_calls() {
            match self.faults.at_dispatch(self.plan, caller, node) {
                AtDispatch::Pass => {}
                AtDispatch::Swallow => return Ok(()),
                AtDispatch::Fail(cause) => return Err(self.refuse(node, cause)),
            }
        }
        let spec = self.topology.node(node);
        if let Role::External { .. } = spec.role {
            let stage = Stage::Serving;
            let frame = self.new_node_frame(node, FRAME_NONE_REPLICA, NO_ZONE, parent, stage);
            self.start_service(frame, node, FRAME_NONE_REPLICA);
            return Ok(());
        }
        let Some(replica) = self.replicas.route(node, from) else {
            return Err(self.refuse(node, Cause::NoReplica));
        };
        let state = self.replicas.get(replica);
        let zone = state.zone;
        if self.faults.on_calls() && self.faults.crosses_zone_cut(self.plan, from, zone) {
            return Ok(());
        }
        if !state.up {
            // Listed but stopped: the call is swallowed, counted at the node as `lost`.
            self.on_refused(node, replica, Cause::Lost);
            return Ok(());
        }
        if state.busy < state.workers {
            let frame = self.new_node_frame(node, replica, zone, parent, Stage::Serving);
            self.replicas
                .get_mut(replica)
                .add_busy(self.kernel.now.ns());
            self.start_service(frame, node, replica);
        } else if spec
            .queue
            .is_none_or(|limit| (state.waiting.len() as u64) < u64::from(limit))
        {
            let frame = self.new_node_frame(node, replica, zone, parent, Stage::Queued);
            (self.queue_clocks).enqueue(&self.kernel, &mut self.replicas, replica, frame);
        } else {
            return Err(self.on_refused(node, replica, Cause::Rejected));
        }
        Ok(())
    }

    /// Records a call the node could not take at all, and returns the cause for the caller.
    pub(super) fn refuse(&mut self, node: NodeId, cause: Cause) -> Cause {
        let (now, counted) = (self.kernel.now.ns(), self.counted());
        let metrics = &mut self.node_metrics[node.index()];
        metrics.record_arrival(counted);
        metrics.record_refused(now, cause, counted);
        cause
    }

    /// A frame that starts `Serving` on a replica holds one of its workers (an external's has
    /// no replica and no worker).
    fn new_node_frame(
        &mut self,
        node: NodeId,
        replica: u32,
        zone: ZoneId,
        parent: Parent,
        stage: Stage,
    ) -> FrameRef {
        let counted = self.counted();
        self.node_metrics[node.index()].record_arrival(counted);
        let now = self.kernel.now;
        let frame = self.frames.insert_with(|| Frame {
            caller: node.0,
            replica,
            zone,
            parent,
            arrived: now,
            counted,
            stage,
            holds_worker: stage == Stage::Serving && replica != FRAME_NONE_REPLICA,
            ..Frame::NEW
        });
        self.on_frame_created(frame, parent);
        frame
    }

    /// Draws the node's own work for a frame already `Serving` on `replica` (slowed by a
    /// slowdown fault) and schedules its end.
    fn start_service(&mut self, at: FrameRef, node: NodeId, replica: u32) {
        let spec = self.topology.node(node);
        let mut delay = spec
            .service_time
            .sample(&mut self.node_streams[node.index()].service);
        if replica != FRAME_NONE_REPLICA {
            let slowdown = self.replicas.get(replica).slowdown;
            if slowdown != 1.0 {
                delay = round_ns(delay as f64 * slowdown);
            }
        }
        self.kernel.queue.schedule(
            self.kernel.now.after(delay),
            Event::ServiceDone { frame: at },
        );
    }

    pub(super) fn on_service_done(&mut self, at: FrameRef) {
        // A frame whose replica stopped is gone; its timer is stale.
        let Some(frame) = self.frames.get_mut(at) else {
            return;
        };
        let (node, replica) = (NodeId(frame.caller), frame.replica);
        let spec = self.topology.node(node);
        // Services and databases first, as a plain branch: they are most of every run.
        if matches!(spec.role, Role::Service | Role::Database { .. }) {
            frame.stage = Stage::Calling;
            if spec.concurrency == Concurrency::Async
                && let Some(replica) = frame.give_up_worker()
            {
                self.free_worker(replica);
            }
            return self.advance(at);
        }
        match spec.role {
            Role::External { error_rate } => {
                let streams = &mut self.node_streams[node.index()];
                let answer = if streams.external_error.chance(error_rate) {
                    Answer::failed(Cause::Error, Some(node))
                } else {
                    Answer::ok(Outcome::Ok)
                };
                self.finish(at, answer);
            }
            Role::Cache { .. } | Role::Queue(_) => {
                let answer = self.on_served(at, node, replica);
                self.finish(at, answer);
            }
            // Handled above.
            Role::Service | Role::Database { .. } => {}
        }
    }

    /// Frees the frame's worker and hands it to the oldest waiting frame of the replica, if a
    /// worker is free (a capacity fault may have lowered the count below the busy ones).
    fn release_worker(&mut self, at: FrameRef) {
        let frame = self.frames.get_mut(at).expect("releasing for a live frame");
        if let Some(replica) = frame.give_up_worker() {
            self.free_worker(replica);
        }
    }

    /// Gives a worker of `replica` back, to the next waiting frame if there is one.
    fn free_worker(&mut self, replica: u32) {
        self.replicas
            .get_mut(replica)
            .sub_busy(self.kernel.now.ns());
        self.start_waiting(replica);
    }

    /// Gives free workers of a replica to its waiting frames — the oldest, unless the node's
    /// queue policy says otherwise — shedding those that waited too long (`shedding.rs`).
    pub(super) fn start_waiting(&mut self, replica: u32) {
        let now = self.kernel.now.ns();
        loop {
            let state = self.replicas.get_mut(replica);
            // An empty queue has nothing to take and nothing to shed: most calls end here.
            if state.busy >= state.workers || state.waiting.is_empty() {
                return;
            }
            let (next, shed) = self.on_dequeue(replica);
            if let Some(Dequeued::Abandon(next)) = next {
                // Nobody waits for it any more: no worker is spent on it.
                self.abandon(next);
            } else if let Some(Dequeued::Serve(next)) = next {
                self.replicas.get_mut(replica).add_busy(now);
                let frame = self.frames.get_mut(next).expect("queued frames are live");
                frame.holds_worker = true;
                frame.stage = Stage::Serving;
                let node = NodeId(frame.caller);
                self.start_service(next, node, replica);
            }
            self.shed(shed);
            if next.is_none() {
                return;
            }
        }
    }

    // ---- answers --------------------------------------------------------------------------

    pub(super) fn on_call_timeout(&mut self, at: FrameRef, token: u32) {
        let Some(frame) = self.frames.get(at) else {
            return;
        };
        if frame.token != token || !frame.waiting {
            return;
        }
        // The callee keeps working; its late answer will carry a stale token.
        let (cause, origin) = if self.is_client(frame) {
            (Cause::ClientTimeout, None)
        } else {
            (Cause::Timeout, Some(frame.target))
        };
        self.on_answer(at, token, Answer::failed(cause, origin));
    }

    pub(super) fn on_retry_due(&mut self, at: FrameRef, token: u32) {
        let Some(frame) = self.frames.get(at) else {
            return;
        };
        if frame.token == token && !frame.waiting {
            self.attempt(at);
        }
    }

    /// An attempt's answer reaches its caller (unless the caller gave up on it).
    pub(super) fn on_answer(&mut self, at: FrameRef, token: u32, answer: Answer) {
        let Some(frame) = self.frames.get(at) else {
            return;
        };
        if frame.token != token || !frame.waiting {
            return;
        }
        self.on_answered(at, token, answer);
        let frame = self.frames.get_mut(at).expect("live");
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
            Outcome::Failed(_) => self.on_call_failed(at, answer),
        }
    }

    /// After a failed attempt, what the features decided (`on_failure`): give up past the
    /// frame's deadline, fall through past a cache, retry, skip an optional call, or fail.
    fn on_call_failed(&mut self, at: FrameRef, answer: Answer) {
        match self.on_failure(at, &answer) {
            AfterFailure::Abandon => self.abandon(at),
            AfterFailure::Fallthrough(backing) => {
                let frame = self.frames.get_mut(at).expect("live");
                frame.target = backing;
                frame.attempt = 0;
                self.attempt(at)
            }
            AfterFailure::Retry => {
                let frame = self.frames.get_mut(at).expect("live");
                let caller = &mut self.callers[frame.caller as usize];
                let call = &caller.calls[frame.call as usize];
                frame.attempt += 1;
                let delay = backoff_ns(call, u32::from(frame.attempt), &mut caller.jitter);
                let token = frame.token;
                if delay == 0 {
                    return self.attempt(at);
                }
                let due = self.kernel.now.after(delay);
                (self.kernel.queue).schedule(due, Event::RetryDue { frame: at, token });
            }
            AfterFailure::Skip { fallback_ns } => {
                // The request is degraded; the frame goes on to its next call, after the
                // call's fallback latency if it has one.
                let frame = self.frames.get_mut(at).expect("live");
                frame.degraded = true;
                frame.call += 1;
                let token = frame.token;
                let Some(fallback_ns) = fallback_ns else {
                    return self.advance(at);
                };
                let due = self.kernel.now.after(fallback_ns);
                (self.kernel.queue).schedule(due, Event::FallbackDone { frame: at, token });
            }
            AfterFailure::Fail => self.finish(at, answer),
        }
    }

    /// A fallback's latency is over: the frame goes on with its next call.
    pub(super) fn on_fallback_done(&mut self, at: FrameRef, token: u32) {
        let Some(frame) = self.frames.get(at) else {
            return;
        };
        if frame.token == token && !frame.waiting {
            self.advance(at);
        }
    }

    /// Ends a frame whose deadline has passed: its worker (if it holds one) goes back, no
    /// further call is made, and its node counts a `deadline_exceeded` failure.
    pub(super) fn abandon(&mut self, at: FrameRef) {
        let node = self.frames.get(at).map(|frame| NodeId(frame.caller));
        self.finish(at, Answer::failed(Cause::DeadlineExceeded, node));
    }

    /// Answers shed frames at once with `Cause::Shed`, counted at their node.
    fn shed(&mut self, frames: Vec<FrameRef>) {
        for at in frames {
            let Some(frame) = self.frames.get(at) else {
                continue;
            };
            let node = NodeId(frame.caller);
            self.finish(at, Answer::failed(Cause::Shed, Some(node)));
        }
    }

    fn is_client(&self, frame: &Frame) -> bool {
        frame.caller as usize >= self.topology.nodes.len()
    }

    /// Ends a frame: records it, frees its worker, and answers its parent — late, if a latency
    /// fault holds the answer back.
    pub(super) fn finish(&mut self, at: FrameRef, answer: Answer) {
        self.release_worker(at);
        let frame = self.frames.remove(at);
        if frame.replica != FRAME_NONE_REPLICA {
            let failed = matches!(answer.outcome, Outcome::Failed(_));
            self.observe_outcome(frame.replica, failed);
        }
        let (on_node, delay) = match frame.parent {
            Parent::Call { frame: parent, .. } if self.faults.on_calls() => {
                let callee = NodeId(frame.caller);
                let source = self.edge_source(parent);
                self.faults.injected_latency(self.plan, source, callee)
            }
            _ => (0, 0),
        };
        let latency = self.kernel.now.since(frame.arrived) + on_node;
        let now = self.kernel.now.ns();
        let node_count = self.topology.nodes.len();
        let caller = frame.caller as usize;
        if caller < node_count {
            let metrics = &mut self.node_metrics[caller];
            metrics.record_end(now, latency, answer.outcome, frame.counted);
        } else {
            let workload = caller - node_count;
            let metrics = &mut self.workload_metrics[workload];
            metrics.record_end(now, latency, answer.outcome, frame.counted);
            self.clients_live -= 1;
            self.on_request_end(workload, at, &frame, latency, answer);
        }
        if let Parent::Delivery {
            queue,
            partition,
            token,
        } = frame.parent
        {
            let k = &self.kernel;
            if (self.brokers).on_delivery_answer(k, queue, partition, token, answer) {
                self.deliver(queue, partition);
            }
            return;
        }
        let Parent::Call {
            frame: parent,
            token,
        } = frame.parent
        else {
            return;
        };
        if delay > 0 {
            let due = self.kernel.now.after(delay);
            let held = self.held_answers.insert(HeldAnswer {
                frame: parent,
                token,
                answer,
            });
            let held = u32::try_from(held).expect("held answers bounded by calls in flight");
            self.kernel
                .queue
                .schedule(due, Event::DelayedAnswer { held });
        } else {
            self.on_answer(parent, token, answer);
        }
    }

    /// The source of the edge a frame's current call travels, for edge-scoped faults: the
    /// frame's node, or — on a cache's miss or fall-through leg — the cache whose backing store
    /// is being called, so `sessions->orders-db` names the miss path as the model draws it.
    /// `None` for a client's first leg (or a frame already gone).
    fn edge_source(&self, at: FrameRef) -> Option<NodeId> {
        let frame = self.frames.get(at)?;
        let call = self.callers[frame.caller as usize]
            .calls
            .get(frame.call as usize)?;
        if frame.target == call.to {
            return ((frame.caller as usize) < self.topology.nodes.len())
                .then_some(NodeId(frame.caller));
        }
        let mut cache = call.to;
        loop {
            match self.topology.node(cache).role {
                Role::Cache { backing, .. } if backing == frame.target => return Some(cache),
                Role::Cache { backing, .. } => cache = backing,
                _ => return None,
            }
        }
    }

    // ---- queue deliveries -----------------------------------------------------------------

    /// Sends the head message of an idle partition to the consumer. Failures at dispatch are
    /// handled in the loop, not by recursion, so a consumer that refuses everything at once
    /// dead-letters a long backlog without deepening the stack.
    pub(super) fn deliver(&mut self, queue: u32, partition: u32) {
        loop {
            let (kernel, replicas) = (&mut self.kernel, &self.replicas);
            let Some(d) = (self.brokers).next_delivery(kernel, replicas, queue, partition) else {
                return;
            };
            if self
                .dispatch(d.consumer, Some(d.from), d.zone, d.parent)
                .is_ok()
            {
                return;
            }
            self.brokers.delivery_failed(&self.kernel, queue, partition);
        }
    }
}

fn backing_of(topology: &Topology, cache: NodeId) -> NodeId {
    match topology.node(cache).role {
        Role::Cache { backing, .. } => backing,
        _ => unreachable!("only caches answer with a miss"),
    }
}
