//! Queues (message brokers): messages stored on publish, and their delivery to the consumer.
//!
//! A publish is an ordinary call to the queue node: `flow` answers it after the ack latency
//! on an up broker replica and hands the message here (`on_published`). A message goes to a
//! partition in rotation (no randomness). Each partition is consumed in order with at most one
//! delivery in flight (Kafka's semantics), so the consumption concurrency is at most the
//! partition count, and further bounded by the consumer's own replicas and workers, where a
//! delivery queues like any call. A delivery is a call into the consumer from the queue, with
//! the visibility timeout as its timeout; its answer comes back through
//! `Parent::Delivery` (`on_delivery_answer`). Success acknowledges the message; a failure
//! redelivers it at once, a timeout when the visibility timeout expires (it is that timer);
//! after `max_deliveries` failed deliveries it is dead-lettered and the partition moves on.
//!
//! While no consumer replica is up, nothing is delivered (a consumer that is not running does
//! not poll): the partition looks again every `POLL_NS`, so lag builds up during a consumer
//! outage instead of messages being dead-lettered by refusals. Stored messages survive broker
//! outages (replicated); only publishes fail then.
//!
//! Must not: draw randomness (deliveries are decided by order alone) or touch workloads.

use std::collections::VecDeque;

use super::engine::{Answer, Event, Kernel};
use super::frames::Parent;
use super::replicas::Replicas;
use crate::kernel::SimTime;
use crate::metrics::queue::{QueueEvent, QueueMetrics};
use crate::metrics::{Counted, Outcome};
use crate::model::{NodeId, QueueSpec, Role, Topology, ZoneId};

/// How often a partition whose consumer has no replica up looks again, as a consumer's poll
/// loop would after a restart.
pub(super) const POLL_NS: u64 = 100_000_000;

/// A stored message. Invariant: messages of a partition are in publish order.
#[derive(Clone, Copy, Debug)]
struct Message {
    published: SimTime,
    /// The window of its publish: every count of this message goes there.
    counted: Counted,
    /// Failed deliveries so far.
    failures: u32,
}

#[derive(Clone, Debug)]
struct Partition {
    messages: VecDeque<Message>,
    /// The head message is out for delivery (its answer or its timeout is awaited).
    in_flight: bool,
    /// A poll is scheduled (no consumer replica was up).
    polling: bool,
    /// Identifies the outstanding delivery; a timer or answer with another token is stale.
    token: u32,
    /// Deliveries prefer consumer replicas in this zone.
    zone: ZoneId,
}

/// One queue node's state.
#[derive(Clone, Debug)]
pub(super) struct Broker {
    pub node: NodeId,
    spec: QueueSpec,
    partitions: Vec<Partition>,
    next_partition: usize,
    /// Messages stored and not yet acknowledged or dead-lettered (the lag).
    stored: u64,
    pub metrics: QueueMetrics,
}

/// Every queue of the topology, in node order, and the broker of each node (if a queue).
#[derive(Clone, Default)]
pub(super) struct Brokers {
    pub brokers: Vec<Broker>,
    by_node: Vec<Option<u32>>,
}

impl Brokers {
    pub fn new(topology: &Topology, step_ns: u64, windows: usize) -> Brokers {
        let mut brokers = Vec::new();
        let mut by_node = vec![None; topology.nodes.len()];
        for (index, node) in topology.nodes.iter().enumerate() {
            let Role::Queue(spec) = node.role else {
                continue;
            };
            by_node[index] = Some(brokers.len() as u32);
            let partitions = (0..spec.partitions as usize)
                .map(|p| Partition {
                    messages: VecDeque::new(),
                    in_flight: false,
                    polling: false,
                    token: 0,
                    zone: node.zones[p % node.zones.len()],
                })
                .collect();
            brokers.push(Broker {
                node: NodeId(index as u32),
                spec,
                partitions,
                next_partition: 0,
                stored: 0,
                metrics: QueueMetrics::new(step_ns, windows),
            });
        }
        Brokers { brokers, by_node }
    }

    fn of(&self, node: NodeId) -> u32 {
        self.by_node[node.index()].expect("the node is a queue")
    }
}

impl Broker {
    /// The publish time of the oldest unacknowledged message.
    fn oldest_ns(&self) -> Option<u64> {
        self.partitions
            .iter()
            .filter_map(|p| p.messages.front())
            .map(|m| m.published.ns())
            .min()
    }

    fn observe(&mut self, now: SimTime, counted: Counted) {
        let (stored, oldest) = (self.stored, self.oldest_ns());
        self.metrics.observe(now.ns(), counted, stored, oldest);
    }
}

/// A delivery to send: the consumer, the queue node it comes from, the zone it prefers, and
/// the parent its answer goes to.
pub(super) struct Delivery {
    pub consumer: NodeId,
    pub from: NodeId,
    pub zone: ZoneId,
    pub parent: Parent,
}

impl Brokers {
    /// A publish was acknowledged: stores the message, and returns its queue and partition
    /// for the flow to deliver (if the partition is idle).
    pub(super) fn on_published(&mut self, k: &Kernel, node: NodeId) -> (u32, u32) {
        let (now, counted) = (k.now, k.counted());
        let queue = self.of(node);
        let broker = &mut self.brokers[queue as usize];
        broker.observe(now, counted);
        let partition = broker.next_partition;
        broker.next_partition = (partition + 1) % broker.partitions.len();
        broker.partitions[partition].messages.push_back(Message {
            published: now,
            counted,
            failures: 0,
        });
        broker.stored += 1;
        broker.metrics.count(counted, QueueEvent::Published);
        (queue, partition as u32)
    }

    /// The delivery of an idle partition's head message, its visibility timeout scheduled;
    /// `None` when the partition is empty or busy, or waits for a consumer replica (a poll
    /// scheduled).
    pub(super) fn next_delivery(
        &mut self,
        k: &mut Kernel,
        replicas: &Replicas,
        queue: u32,
        partition: u32,
    ) -> Option<Delivery> {
        let broker = &mut self.brokers[queue as usize];
        let spec = broker.spec;
        let part = &mut broker.partitions[partition as usize];
        let head = part.messages.front().copied()?;
        if part.in_flight || part.polling {
            return None;
        }
        if !consumer_up(replicas, spec.consumer) {
            part.polling = true;
            let due = k.now.after(POLL_NS);
            k.queue
                .schedule(due, Event::DeliveryPoll { queue, partition });
            return None;
        }
        let (node, zone) = (broker.node, part.zone);
        part.in_flight = true;
        part.token = part.token.wrapping_add(1);
        let token = part.token;
        broker.metrics.count(head.counted, QueueEvent::Delivered);
        if head.failures > 0 {
            broker.metrics.count(head.counted, QueueEvent::Redelivered);
        }
        let due = k.now.after(spec.visibility_timeout_ns);
        let timeout = Event::DeliveryTimeout {
            queue,
            partition,
            token,
        };
        k.queue.schedule(due, timeout);
        Some(Delivery {
            consumer: spec.consumer,
            from: node,
            zone,
            parent: Parent::Delivery {
                queue,
                partition,
                token,
            },
        })
    }

    /// A partition's poll is over: the flow delivers again.
    pub(super) fn on_delivery_poll(&mut self, queue: u32, partition: u32) {
        let part = &mut self.brokers[queue as usize].partitions[partition as usize];
        part.polling = false;
    }

    /// The consumer answered a delivery (or its visibility timeout expired). Returns false
    /// for a stale answer; else the flow delivers the partition's next message.
    pub(super) fn on_delivery_answer(
        &mut self,
        k: &Kernel,
        queue: u32,
        partition: u32,
        token: u32,
        answer: Answer,
    ) -> bool {
        let part = &self.brokers[queue as usize].partitions[partition as usize];
        if part.token != token || !part.in_flight {
            return false;
        }
        match answer.outcome {
            Outcome::Ok | Outcome::Degraded => self.acknowledge(k, queue, partition),
            Outcome::Failed(_) => self.delivery_failed(k, queue, partition),
        }
        true
    }

    fn acknowledge(&mut self, k: &Kernel, queue: u32, partition: u32) {
        let (now, counted) = (k.now, k.counted());
        let broker = &mut self.brokers[queue as usize];
        broker.observe(now, counted);
        let part = &mut broker.partitions[partition as usize];
        part.in_flight = false;
        let message = part.messages.pop_front().expect("a delivered message");
        broker.stored -= 1;
        let delay = now.since(message.published);
        broker.metrics.acknowledged(message.counted, delay);
    }

    /// A delivery failed: the message stays at the head for redelivery, or is dead-lettered
    /// after `max_deliveries` failures.
    pub(super) fn delivery_failed(&mut self, k: &Kernel, queue: u32, partition: u32) {
        let (now, counted) = (k.now, k.counted());
        let broker = &mut self.brokers[queue as usize];
        broker.observe(now, counted);
        let max = broker.spec.max_deliveries;
        let part = &mut broker.partitions[partition as usize];
        part.in_flight = false;
        let head = part.messages.front_mut().expect("a delivered message");
        head.failures += 1;
        if head.failures >= max {
            let message = part.messages.pop_front().expect("the head");
            broker.stored -= 1;
            broker
                .metrics
                .count(message.counted, QueueEvent::DeadLettered);
        }
    }

    /// Closes every queue's series at the end of the run.
    pub(super) fn close(&mut self, k: &Kernel) {
        let (now, counted) = (k.now, k.counted());
        for broker in &mut self.brokers {
            let (stored, oldest) = (broker.stored, broker.oldest_ns());
            broker.metrics.close(now.ns(), counted, stored, oldest);
        }
    }
}

fn consumer_up(replicas: &Replicas, consumer: NodeId) -> bool {
    replicas.of_node(consumer).any(|r| replicas.get(r).up)
}
