//! Unit tests of the request flow on small hand-built topologies.

use petgraph::graph::DiGraph;

use super::*;
use crate::kernel::{Dist, SimTime, stable_id};
use crate::metrics::Cause;
use crate::model::*;

fn server(name: &str, workers: u32, queue: Option<u32>, service_time: Dist) -> Node {
    Node {
        name: name.to_string(),
        kind: NodeKind::Service,
        stable_id: stable_id("node", name),
        zones: vec![ZoneId(0)],
        replicas_per_zone: 1,
        workers,
        queue,
        concurrency: Concurrency::Blocking,
        service_time,
        calls: Vec::new(),
        role: Role::Service,
        autoscale: None,
        policy: NodePolicy::default(),
        labels: Labels::default(),
    }
}

fn topology(nodes: Vec<Node>, rate_per_s: f64, timeout_ns: Option<u64>) -> Topology {
    let mut graph = DiGraph::new();
    for i in 0..nodes.len() {
        graph.add_node(NodeId(i as u32));
    }
    Topology {
        name: "t".into(),
        zones: vec!["z".into()],
        nodes,
        workloads: vec![Workload {
            name: "w".into(),
            stable_id: stable_id("workload", "w"),
            target: NodeId(0),
            rate_per_s,
            arrival: Arrival::Poisson,
            timeout_ns,
            deadline: Default::default(),
            traffic: crate::model::Traffic::Open(crate::model::Rate::Constant {
                per_s: rate_per_s,
            }),
        }],
        graph,
        aws: Default::default(),
    }
}

fn config(duration_s: u64) -> RunConfig {
    RunConfig::plain(7, duration_s * 1_000_000_000, 1_000_000_000)
}

#[test]
fn mm1_mean_is_close_to_theory() {
    // M/M/1, S = 1 ms, rho = 0.5: W = 2 ms. 200 s at 500/s = 100k requests; allow 5%.
    let exp = Dist::Exponential { mean_ns: 1e6 };
    let topo = topology(vec![server("s", 1, None, exp)], 500.0, None);
    let result = run(&topo, &config(200));
    let w = &result.workloads[0];
    let mean = w.latency.mean_ns();
    assert!((mean / 2e6 - 1.0).abs() < 0.05, "mean {mean}");
    assert_eq!(w.outcomes.ok + w.outcomes.in_flight, w.outcomes.requests);
}

#[test]
fn full_queue_rejects_and_client_timeout_fails() {
    // One worker, no waiting room, arrivals far faster than service: most are rejected.
    let slow = Dist::Constant {
        value_ns: 10_000_000,
    };
    let topo = topology(vec![server("s", 1, Some(0), slow)], 1000.0, Some(5_000_000));
    let result = run(&topo, &config(10));
    let w = &result.workloads[0].outcomes;
    assert!(w.failed_by_cause[Cause::Rejected as usize] > w.requests / 2);
    // The one served request at a time takes 10 ms > 5 ms client timeout: none succeed.
    assert_eq!(w.ok, 0);
    assert!(w.failed_by_cause[Cause::ClientTimeout as usize] > 0);
    assert_eq!(w.ended() + w.in_flight, w.requests);
}

#[test]
fn same_seed_same_numbers_different_seed_different() {
    let exp = Dist::Exponential { mean_ns: 1e6 };
    let topo = topology(vec![server("s", 1, None, exp)], 500.0, None);
    let a = run(&topo, &config(5));
    let b = run(&topo, &config(5));
    assert_eq!(
        a.workloads[0].latency.summary(),
        b.workloads[0].latency.summary()
    );
    assert_eq!(a.events, b.events);
    let mut other = config(5);
    other.seed = 8;
    let c = run(&topo, &other);
    assert_ne!(
        a.workloads[0].latency.summary(),
        c.workloads[0].latency.summary()
    );
}

#[test]
fn events_bound_ends_the_run_with_that_outcome() {
    let exp = Dist::Exponential { mean_ns: 1e6 };
    let topo = topology(vec![server("s", 1, None, exp)], 500.0, None);
    let mut limited = config(10);
    limited.limits.max_events = 1000;
    let result = run(&topo, &limited);
    assert!(matches!(
        result.outcome,
        RunOutcome::BoundReached {
            bound: Bound::Events,
            ..
        }
    ));
    assert_eq!(result.events, 1000);
}

#[test]
fn requests_in_flight_bound_ends_an_overloaded_run() {
    // Arrivals at 1,000/s into a server that handles 100/s, no timeout: the backlog grows
    // by ~900/s, so a bound of 500 requests in flight is reached in well under a second.
    let slow = Dist::Constant {
        value_ns: 10_000_000,
    };
    let topo = topology(vec![server("s", 1, None, slow)], 1000.0, None);
    let mut limited = config(60);
    limited.limits.max_requests_in_flight = 500;
    let result = run(&topo, &limited);
    let RunOutcome::BoundReached { bound, at_ns, .. } = result.outcome else {
        panic!("expected the bound, got {:?}", result.outcome);
    };
    assert_eq!(bound, Bound::RequestsInFlight);
    assert!(at_ns < 2_000_000_000, "reached at {at_ns} ns");
    assert_eq!(result.end_ns, at_ns);
}

/// A fault installed into a fork acts before the events of its own instant, as it does when
/// scheduled at the start: a request arriving at the very nanosecond a node's only replica
/// goes down finds it down, and the one arriving as it comes back finds it up — forked a
/// nanosecond before either instant, or from the start.
#[test]
fn a_fork_orders_its_faults_first_at_their_instants_as_a_whole_run_does() {
    use crate::faults::{Action, Effect, FaultPlan, ReplicaRef};
    let fast = Dist::Constant { value_ns: 100_000 };
    // Evenly spaced: one request each millisecond, one exactly at 1 s and one at 2 s.
    let mut topo = topology(vec![server("s", 4, None, fast)], 1000.0, None);
    topo.workloads[0].arrival = Arrival::Constant;
    let down = Effect {
        fault: 0,
        stream_id: 1,
        start_ns: 1_000_000_000,
        end_ns: 2_000_000_000,
        action: Action::Down(vec![ReplicaRef {
            node: NodeId(0),
            zone: ZoneId(0),
            ordinal: 0,
        }]),
    };
    let plan = FaultPlan {
        effects: vec![down],
    };
    let config = RunConfig {
        record_requests: true,
        ..config(3)
    };
    let whole = Simulation::new(&topo, &config, &plan).run();
    let failed = whole.workloads[0].outcomes.failed();
    // The requests of [1 s, 2 s): the one at 1 s included, the one at 2 s not.
    assert_eq!(failed, 1000, "{:?}", whole.workloads[0].outcomes);
    let whole = format!("{whole:?}");
    let no_faults = FaultPlan::default();
    for fork_at in [None, Some(999_999_999)] {
        let mut control = Simulation::new(&topo, &config, &no_faults);
        if let Some(at) = fork_at {
            control.advance_to(SimTime(at), &mut trace::NoTrace);
        }
        let forked = control.fork(&plan).run();
        assert!(format!("{forked:?}") == whole, "forked at {fork_at:?}");
    }
}
