//! Where user requests come from: each workload's open-loop arrival process (a constant rate,
//! or a rate varying in time by time-rescaling a unit-rate process) or its closed-loop users,
//! the zone a request enters in, and the start of a user request as a client frame.
//!
//! Open loop: the k-th arrival of a Poisson workload is at Λ⁻¹(E₁ + … + E_k), the E unit
//! exponentials drawn from the workload's `Arrival` stream, Λ the cumulative rate; a constant
//! workload's k-th at Λ⁻¹(k). A plain number rate keeps the gap-by-gap arithmetic, so its draws
//! and instants are the ones it always had.
//!
//! Closed loop: user u thinks (its first think time spreads the users' starts), sends, waits
//! for the end of its request (an answer or the client's timeout), thinks again, and so on.
//! User u draws its think times from a stream of its own (`ThinkTime`, keyed by the workload
//! and u), so its k-th think time is the same in the control and the experiment; its k-th
//! request is paired by the key (u, k). A traffic spike adds `(factor - 1) × users` extra users
//! for its duration (their requests are extra, unpaired); a drop removes a request as it would
//! be sent (not sent) and the user thinks again.
//!
//! Must not: draw from any stream but the workload's own and its users'.

use super::engine::{Event, Simulation};
use super::frames::{Frame, FrameRef, NO_SEQ, NO_ZONE};
use super::{Bound, RecordStatus, RequestRecord, UserStats};
use crate::faults::Action;
use crate::kernel::{Purpose, SimTime, Stream, round_ns, ziggurat};
use crate::model::{Arrival, Rate, Topology, Traffic, Workload, ZoneId};

/// Marks a client frame that belongs to no closed-loop user.
pub(super) const NO_USER: u32 = u32::MAX;

/// Where user requests come from and what became of them: per workload its source, the
/// closed-loop user of each client frame, and the request records (kept, or handed over as
/// they end when streaming). Fields are `pub(super)` only where the run's end
/// (`engine.rs`) moves them into the `RunResult` or a streaming study reads them.
#[derive(Clone)]
pub(super) struct Workloads {
    sources: Vec<WorkloadSource>,
    /// Per frame slot, the closed-loop user of the client frame in it (`NO_USER` if none).
    users_by_slot: Vec<u32>,
    /// Per workload, one record per base arrival (empty unless `record_requests`).
    pub(super) requests: Vec<Vec<RequestRecord>>,
    /// Per workload, parallel to `requests` for a closed loop (empty otherwise): each record's
    /// pairing key, (user, k-th request of that user).
    pub(super) request_keys: Vec<Vec<(u32, u32)>>,
    /// Requests added by traffic spikes, per workload.
    pub(super) extra_requests: Vec<u64>,
    /// Streaming (`Simulation::streaming`): user requests' ends go to `ended` instead of
    /// `requests`.
    pub(super) streaming: bool,
    /// Per workload, base requests numbered so far (streaming only; `requests` counts otherwise).
    issued: Vec<u32>,
    /// Streaming only: the requests ended since the last `take_ended`, in end order.
    pub(super) ended: Vec<super::EndedRequest>,
}

impl Workloads {
    pub(super) fn new(topology: &Topology, seed: u64) -> Workloads {
        let count = topology.workloads.len();
        Workloads {
            sources: topology
                .workloads
                .iter()
                .map(|w| WorkloadSource::new(seed, w))
                .collect(),
            requests: vec![Vec::new(); count],
            users_by_slot: Vec::new(),
            request_keys: vec![Vec::new(); count],
            extra_requests: vec![0; count],
            streaming: false,
            issued: vec![0; count],
            ended: Vec::new(),
        }
    }
}

#[derive(Clone)]
struct WorkloadSource {
    stream: Stream,
    /// For a constant rate, the mean gap between arrivals (`1e9 / rate`), computed once: a
    /// division per arrival sits on the critical path of every open-loop run.
    mean_gap_ns: f64,
    /// Base arrivals so far, for constant spacing.
    arrivals: u64,
    /// For a varying Poisson rate: the sum of the unit exponentials drawn so far.
    unit_time: f64,
    /// The zone rotation of base arrivals, advanced by each one whether it is sent or dropped,
    /// so a traffic fault never shifts the zone a base request enters (common random numbers).
    next_zone: usize,
    /// The zone rotation of a traffic spike's extra requests, kept apart for the same reason.
    next_extra_zone: usize,
    /// Closed loop only: the users, base ones first (`0..users`), then a spike's extras.
    users: Vec<User>,
    /// Closed loop: users with a request in flight now, and the integral of that count over
    /// the counted part of the run (user-nanoseconds), for the mean.
    waiting: u64,
    waiting_area: u128,
    waiting_since_ns: u64,
    sent: u64,
}

#[derive(Clone)]
struct User {
    stream: Stream,
    /// Requests sent so far: the next one's `k`.
    sent: u32,
    /// An extra user of a spike leaves at this time; base users stay.
    leaves_ns: Option<u64>,
}

impl WorkloadSource {
    fn new(seed: u64, workload: &Workload) -> WorkloadSource {
        let users = match &workload.traffic {
            Traffic::Closed(closed) => (0..closed.users)
                .map(|u| User::new(seed, workload, u, None))
                .collect(),
            Traffic::Open(_) => Vec::new(),
        };
        let mean_gap_ns = match workload.traffic {
            Traffic::Open(Rate::Constant { per_s }) => 1e9 / per_s,
            _ => 0.0,
        };
        WorkloadSource {
            stream: Stream::new(seed, workload.stable_id, Purpose::Arrival),
            mean_gap_ns,
            arrivals: 0,
            unit_time: 0.0,
            next_zone: 0,
            next_extra_zone: 0,
            users,
            waiting: 0,
            waiting_area: 0,
            waiting_since_ns: 0,
            sent: 0,
        }
    }
}

impl User {
    fn new(seed: u64, workload: &Workload, index: u32, leaves_ns: Option<u64>) -> User {
        // Spread the user index over the key so neighbouring users' streams are unrelated.
        let key = workload.stable_id ^ (u64::from(index) + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        User {
            stream: Stream::new(seed, key, Purpose::ThinkTime),
            sent: 0,
            leaves_ns,
        }
    }
}

impl Simulation<'_> {
    /// The first request of every workload: its first arrival, or each user's first think.
    pub(super) fn start_workloads(&mut self) {
        for workload in 0..self.topology.workloads.len() {
            match self.topology.workloads[workload].traffic {
                Traffic::Open(_) => self.schedule_next_arrival(workload),
                Traffic::Closed(ref closed) => {
                    for user in 0..closed.users {
                        self.schedule_think(workload, user);
                    }
                }
            }
        }
    }

    // ---- open loop ----------------------------------------------------------------------

    fn schedule_next_arrival(&mut self, workload: usize) {
        let spec = &self.topology.workloads[workload];
        let Traffic::Open(rate) = spec.traffic else {
            return;
        };
        let source = &mut self.workloads.sources[workload];
        let time = match (rate, spec.arrival) {
            (Rate::Constant { .. }, arrival) => {
                let mean_gap_ns = source.mean_gap_ns;
                match arrival {
                    // The k-th arrival at k gaps exactly, so rounding never accumulates.
                    Arrival::Constant => {
                        SimTime(round_ns((source.arrivals + 1) as f64 * mean_gap_ns))
                    }
                    Arrival::Poisson => {
                        let gap = mean_gap_ns * ziggurat::exponential(&mut source.stream);
                        self.kernel.now.after(round_ns(gap))
                    }
                }
            }
            (rate, arrival) => {
                let count = match arrival {
                    Arrival::Constant => (source.arrivals + 1) as f64,
                    Arrival::Poisson => {
                        source.unit_time += ziggurat::exponential(&mut source.stream);
                        source.unit_time
                    }
                };
                // A rate that has fallen to zero for good sends nothing more.
                let Some(at_ns) = rate.time_of(count) else {
                    return;
                };
                let at_ns = round_ns(at_ns);
                SimTime(at_ns.max(self.kernel.now.ns()))
            }
        };
        if time.ns() <= self.kernel.config.duration_ns {
            let workload = workload as u32;
            self.kernel
                .queue
                .schedule(time, Event::Arrival { workload });
        }
    }

    pub(super) fn on_arrival(&mut self, workload: usize) {
        self.workloads.sources[workload].arrivals += 1;
        self.schedule_next_arrival(workload);
        let seq = self.next_seq(workload);
        let zone = self.arrival_zone(workload, false);
        if self.faults.dropped(self.plan, workload) {
            self.push_record(workload, seq, RecordStatus::NotSent, NO_ZONE, NO_USER);
            return;
        }
        self.start_request(workload, seq, zone, NO_USER);
    }

    fn next_seq(&mut self, workload: usize) -> u32 {
        if !self.kernel.config.record_requests {
            return NO_SEQ;
        }
        if !self.workloads.streaming {
            return self.workloads.requests[workload].len() as u32;
        }
        let seq = self.workloads.issued[workload];
        self.workloads.issued[workload] += 1;
        seq
    }

    // ---- closed loop --------------------------------------------------------------------

    /// User `user` thinks, then sends.
    fn schedule_think(&mut self, workload: usize, user: u32) {
        let Traffic::Closed(ref closed) = self.topology.workloads[workload].traffic else {
            return;
        };
        let think_ns = closed
            .think_time
            .sample(&mut self.workloads.sources[workload].users[user as usize].stream);
        let time = self.kernel.now.after(think_ns);
        if time.ns() <= self.kernel.config.duration_ns {
            let workload = workload as u32;
            self.kernel
                .queue
                .schedule(time, Event::UserSends { workload, user });
        }
    }

    pub(super) fn on_user_sends(&mut self, workload: usize, user: u32) {
        let state = &mut self.workloads.sources[workload].users[user as usize];
        if state.leaves_ns.is_some_and(|t| self.kernel.now.ns() >= t) {
            return;
        }
        let k = state.sent;
        state.sent += 1;
        let extra = state.leaves_ns.is_some();
        if extra {
            self.workloads.extra_requests[workload] += 1;
            let zone = self.arrival_zone(workload, true);
            self.start_request(workload, NO_SEQ, zone, user);
            return;
        }
        let seq = self.next_seq(workload);
        let zone = self.arrival_zone(workload, false);
        if self.faults.dropped(self.plan, workload) {
            self.push_record(workload, seq, RecordStatus::NotSent, NO_ZONE, user);
            self.push_key(workload, user, k);
            self.schedule_think(workload, user);
            return;
        }
        self.start_request(workload, seq, zone, user);
        self.push_key(workload, user, k);
    }

    /// The pairing key of the record just pushed, if one was (a bound may stop the run first).
    fn push_key(&mut self, workload: usize, user: u32, k: u32) {
        let keys = &mut self.workloads.request_keys[workload];
        if keys.len() < self.workloads.requests[workload].len() {
            keys.push((user, k));
        }
    }

    /// A spike on a closed-loop workload: `(factor - 1) × users` extra users (rounded) until
    /// the spike ends, their first requests spread over a think time like the base users'.
    pub(super) fn start_spike(&mut self, effect: u32) {
        let spec = &self.plan.effects[effect as usize];
        let Action::Spike { workload, factor } = spec.action else {
            return;
        };
        let Traffic::Closed(ref closed) = self.topology.workloads[workload.index()].traffic else {
            let (kernel, topology) = (&mut self.kernel, self.topology);
            (self.faults).schedule_spike_arrival(kernel, self.plan, topology, effect);
            return;
        };
        let extra = libm::round(f64::from(closed.users) * (factor - 1.0)) as u32;
        let leaves_ns = spec.end_ns;
        let w = workload.index();
        for _ in 0..extra {
            let index = self.workloads.sources[w].users.len() as u32;
            let user = User::new(
                self.kernel.config.seed,
                &self.topology.workloads[w],
                index,
                Some(leaves_ns),
            );
            self.workloads.sources[w].users.push(user);
            self.schedule_think(w, index);
        }
    }

    /// A spike on a workload with a varying rate follows the rate: its extra stream runs at
    /// `(factor - 1) ×` the peak and keeps an arrival with probability rate / peak, drawn from
    /// the spike's own stream. A constant rate keeps every arrival and draws nothing.
    pub(super) fn thinned_out(&mut self, effect: u32, workload: usize) -> bool {
        let Traffic::Open(rate) = self.topology.workloads[workload].traffic else {
            return false;
        };
        if rate.is_constant() {
            return false;
        }
        let keep = rate.at(self.kernel.now.ns()) / rate.peak();
        !self.faults.chance(effect, keep)
    }

    /// A user request ended: its user, if it has one, thinks before the next.
    pub(super) fn client_ended(&mut self, workload: usize, at: FrameRef) {
        let Some(&user) = self.workloads.users_by_slot.get(at.index as usize) else {
            return;
        };
        if user == NO_USER || self.workloads.sources[workload].users.is_empty() {
            return;
        }
        self.workloads.users_by_slot[at.index as usize] = NO_USER;
        self.count_waiting(workload, -1);
        self.schedule_think(workload, user);
    }

    /// Moves the number of users waiting on an answer by `delta`, integrating the old count
    /// over the counted time since the last move.
    fn count_waiting(&mut self, workload: usize, delta: i64) {
        let (now, warmup) = (self.kernel.now.ns(), self.kernel.config.warmup_ns);
        let source = &mut self.workloads.sources[workload];
        let since = source.waiting_since_ns.max(warmup);
        if now > since {
            source.waiting_area += u128::from(source.waiting) * u128::from(now - since);
        }
        source.waiting_since_ns = now;
        source.waiting = source.waiting.saturating_add_signed(delta);
    }

    /// What the users did, for a closed-loop workload.
    pub(super) fn user_stats(&mut self, workload: usize) -> Option<UserStats> {
        let Traffic::Closed(ref closed) = self.topology.workloads[workload].traffic else {
            return None;
        };
        let users = closed.users;
        self.count_waiting(workload, 0);
        let source = &self.workloads.sources[workload];
        let counted_ns = self
            .kernel
            .now
            .ns()
            .saturating_sub(self.kernel.config.warmup_ns);
        let mean_waiting = if counted_ns == 0 {
            0.0
        } else {
            source.waiting_area as f64 / counted_ns as f64
        };
        Some(UserStats {
            users,
            extra_users: source.users.len() as u32 - users,
            mean_waiting,
            sent: source.sent,
        })
    }

    // ---- every user request ---------------------------------------------------------------

    /// Starts one user request entering in `zone`: a client frame making its one call.
    /// `user` is its closed-loop user, or `NO_USER`.
    pub(super) fn start_request(&mut self, workload: usize, seq: u32, zone: ZoneId, user: u32) {
        if self.clients_live >= self.kernel.config.limits.max_requests_in_flight {
            self.stop(Bound::RequestsInFlight);
            return;
        }
        let counted = self.counted();
        let caller = (self.topology.nodes.len() + workload) as u32;
        let now = self.kernel.now;
        let client = self.frames.insert_with(|| Frame {
            caller,
            zone,
            arrived: now,
            counted,
            seq,
            ..Frame::NEW
        });
        self.on_frame_created(client, super::frames::Parent::None);
        self.push_record(workload, seq, RecordStatus::InFlight, zone, user);
        self.clients_live += 1;
        self.workload_metrics[workload].record_arrival(counted);
        if user != NO_USER {
            // Set before the call starts: it may end at once (no replica, say).
            let slot = client.index as usize;
            if self.workloads.users_by_slot.len() <= slot {
                self.workloads.users_by_slot.resize(slot + 1, NO_USER);
            }
            self.workloads.users_by_slot[slot] = user;
            self.workloads.sources[workload].sent += 1;
            self.count_waiting(workload, 1);
        }
        self.advance(client);
    }

    pub(super) fn push_record(
        &mut self,
        workload: usize,
        seq: u32,
        status: RecordStatus,
        zone: ZoneId,
        user: u32,
    ) {
        if seq == NO_SEQ {
            return;
        }
        let record = RequestRecord {
            arrived_ns: self.kernel.now.ns(),
            latency_ns: 0,
            status,
            zone,
            origin: None,
            counted: self.kernel.now.ns() >= self.kernel.config.warmup_ns,
        };
        if !self.workloads.streaming {
            self.workloads.requests[workload].push(record);
        } else if status == RecordStatus::NotSent {
            // A request in flight is its frame until it ends (`record_end`).
            self.hand_over(workload, seq, user, record);
        }
    }

    /// A user request ended: its record gets the outcome, or, streaming, is handed over.
    #[inline]
    pub(super) fn record_end(
        &mut self,
        workload: usize,
        at: FrameRef,
        frame: &Frame,
        latency_ns: u64,
        answer: super::engine::Answer,
    ) {
        if !self.workloads.streaming {
            let record = &mut self.workloads.requests[workload][frame.seq as usize];
            record.status = RecordStatus::Ended(answer.outcome);
            record.latency_ns = latency_ns;
            record.origin = answer.origin;
            return;
        }
        let user = self.user_of(at.index);
        let record = RequestRecord {
            latency_ns,
            status: RecordStatus::Ended(answer.outcome),
            origin: answer.origin,
            ..in_flight_record(frame)
        };
        self.hand_over(workload, frame.seq, user, record);
    }

    /// Streaming, at the run's end: the requests still in flight are handed over as such.
    pub(super) fn stream_in_flight(&mut self) {
        if !self.workloads.streaming {
            return;
        }
        let clients = (self.topology.nodes.len() as u32)..;
        let refs = self
            .frames
            .refs_where(|f| clients.contains(&f.caller) && f.seq != NO_SEQ);
        for at in refs {
            let frame = self.frames.get(at).expect("a live frame").clone();
            let workload = frame.caller as usize - self.topology.nodes.len();
            let user = self.user_of(at.index);
            self.hand_over(workload, frame.seq, user, in_flight_record(&frame));
        }
    }

    fn user_of(&self, slot: u32) -> u32 {
        self.workloads
            .users_by_slot
            .get(slot as usize)
            .copied()
            .unwrap_or(NO_USER)
    }

    /// Streaming: a record goes to `ended` with its pairing key — the base arrival's index, or
    /// (user, k) for a closed-loop user, whose request in flight is its last one sent.
    fn hand_over(&mut self, workload: usize, seq: u32, user: u32, record: RequestRecord) {
        let key = match self.workloads.sources[workload].users.get(user as usize) {
            Some(state) => (u64::from(user) << 32) | u64::from(state.sent - 1),
            None => u64::from(seq),
        };
        self.workloads.ended.push(super::EndedRequest {
            workload: workload as u32,
            key,
            record,
        });
    }

    /// User traffic is spread evenly over the zones of the target (as DNS or a zonal load
    /// balancer does), in rotation so it draws no randomness. Base arrivals and a spike's
    /// `extra` requests rotate separately.
    pub(super) fn arrival_zone(&mut self, workload: usize, extra: bool) -> ZoneId {
        let target = self.topology.node(self.topology.workloads[workload].target);
        if target.zones.is_empty() {
            return NO_ZONE;
        }
        let source = &mut self.workloads.sources[workload];
        let next = if extra {
            &mut source.next_extra_zone
        } else {
            &mut source.next_zone
        };
        // Invariant: `*next < zones.len()`; wrapped by comparison rather than `%`.
        let zone = target.zones[*next];
        *next = if *next + 1 == target.zones.len() {
            0
        } else {
            *next + 1
        };
        let target = self.topology.workloads[workload].target;
        (self.faults).shifted_entry(self.plan, self.topology, target, zone)
    }
}

/// The record of a client frame not yet ended.
fn in_flight_record(frame: &Frame) -> RequestRecord {
    RequestRecord {
        arrived_ns: frame.arrived.ns(),
        latency_ns: 0,
        status: RecordStatus::InFlight,
        zone: frame.zone,
        origin: None,
        counted: frame.counted != crate::metrics::Counted::No,
    }
}
