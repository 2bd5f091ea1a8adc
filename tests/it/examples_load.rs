//! Every bundled model and scenario loads without errors or warnings; new examples are covered
//! by walking the directories.

use std::path::{Path, PathBuf};

use blastradius::model::{load_scenario_with_warnings, parse_model_with_warnings};

fn toml_files(dir: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| entry.expect("readable directory").path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_model_loads_cleanly() {
    let models = toml_files("models");
    assert!(models.len() >= 2);
    for path in models {
        let text = std::fs::read_to_string(&path).expect("readable");
        let (topology, warnings) =
            parse_model_with_warnings(&path, &text).unwrap_or_else(|d| panic!("{d}"));
        assert!(warnings.is_empty(), "{}", warnings.render(false));
        assert!(!topology.nodes.is_empty() && !topology.workloads.is_empty());
    }
}

#[test]
fn every_scenario_loads_cleanly() {
    let scenarios = toml_files("scenarios");
    assert!(scenarios.len() >= 2);
    for path in scenarios {
        let (scenario, warnings) =
            load_scenario_with_warnings(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(warnings.is_empty(), "{}", warnings.render(false));
        assert!(scenario.warmup_ns < scenario.duration_ns);
    }
}

#[test]
fn shop_reads_as_the_product_brief_says() {
    use blastradius::kernel::{Dist, stable_id};
    use blastradius::model::*;

    let text = std::fs::read_to_string("models/shop.toml").expect("bundled model");
    let shop = parse_model(Path::new("models/shop.toml"), &text).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(shop.zones, ["az-a", "az-b", "az-c"]);
    let names: Vec<&str> = shop.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["api", "sessions", "orders-db", "payments"]);
    let api = shop.node(NodeId(0));
    assert_eq!(
        (api.replicas_per_zone, api.workers, api.queue),
        (2, 16, Some(64))
    );
    assert_eq!(api.zones, [ZoneId(0), ZoneId(1), ZoneId(2)]);
    assert_eq!(api.concurrency, Concurrency::Blocking);
    assert_eq!(api.service_time, Dist::Exponential { mean_ns: 2e6 });
    assert_eq!(api.stable_id, stable_id("node", "api"));
    let orders = &api.calls[1];
    assert_eq!(orders.to, NodeId(2));
    assert_eq!(
        (orders.timeout_ns, orders.retries, orders.backoff_ns),
        (Some(300_000_000), 2, 20_000_000)
    );
    assert_eq!(
        (orders.max_backoff_ns, orders.jitter),
        (u64::MAX, Jitter::Full)
    );
    let payments = &api.calls[2];
    assert_eq!((payments.probability, payments.optional), (0.3, true));
    let sessions = shop.node(NodeId(1));
    assert_eq!(
        sessions.role,
        Role::Cache {
            hit_ratio: 0.95,
            backing: NodeId(2),
            on_unavailable: OnUnavailable::Fallthrough,
            content: None,
        }
    );
    let db = shop.node(NodeId(2));
    assert_eq!(
        db.role,
        Role::Database {
            primary: ZoneId(0),
            failover_ns: Some(30_000_000_000)
        }
    );
    assert_eq!(db.replicas_per_zone, 1);
    let ext = shop.node(NodeId(3));
    assert_eq!(ext.role, Role::External { error_rate: 0.001 });
    assert!(ext.zones.is_empty());
    let checkout = &shop.workloads[0];
    assert_eq!(
        (checkout.target, checkout.rate_per_s, checkout.arrival),
        (NodeId(0), 1000.0, Arrival::Poisson)
    );
    assert_eq!(checkout.timeout_ns, Some(2_000_000_000));
    assert_eq!(checkout.stable_id, stable_id("workload", "checkout"));
    // Three calls from api and the cache's backing.
    assert_eq!(shop.graph.node_count(), 4);
    assert_eq!(shop.graph.edge_count(), 4);
}
