//! One spec per node kind — its table name in model files (`[service.NAME]`) and the keys its
//! tables take — and the `NodeKind` enum, generated together by one macro so the two cannot
//! disagree.
//!
//! The model loader reads its top-level keys and node tables from this table, `NodeKind::as_str`
//! names kinds by it, and tests hold the model schema to it. Adding a kind is its entry here,
//! its reader in `nodes::read_node` (an exhaustive `match`), its schema type, and what it does
//! in `sim`.
//!
//! Must not: read text. The keys' meanings are their readers'.

use super::cache_content::CONTENT_KEYS;
use super::node_policy::POLICY_KEYS;
use super::queue_node::QUEUE_KEYS;

/// One node kind, as model files and the loader know it.
#[derive(Debug)]
pub struct NodeKindSpec {
    pub kind: NodeKind,
    /// The top-level key of its tables: `service` in `[service.api]`.
    pub name: &'static str,
    /// Every key its tables take, in the order "expected one of" helps list them.
    pub keys: &'static [&'static str],
}

/// Generates `NodeKind` and `NODE_KINDS` from one list, in one order.
macro_rules! node_kinds {
    ($($(#[$doc:meta])* $kind:ident { name: $name:literal, $($field:ident: $value:expr),* $(,)? })*) => {
        /// What a node is, which decides the keys its table takes and how it serves.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
        pub enum NodeKind {
            $($(#[$doc])* $kind,)*
        }

        /// Every node kind, in the order of `NodeKind` (the order tables are gathered in).
        pub const NODE_KINDS: &[NodeKindSpec] = &[
            $(NodeKindSpec { kind: NodeKind::$kind, name: $name, $($field: $value),* },)*
        ];

        /// The kinds' table names in table order.
        pub const NAMES: [&str; COUNT] = [$($name,)*];
    };
}

node_kinds! {
    /// Replicas in zones, serving requests and calling other nodes.
    Service {
        name: "service",
        keys: &SERVICE,
    }
    /// A hit is answered by the cache, a miss by its `backing` store.
    Cache {
        name: "cache",
        keys: &CACHE,
    }
    /// Served by its replicas in the `primary` zone; fails over.
    Database {
        name: "database",
        keys: &DATABASE,
    }
    /// A third party: a latency and an error rate, no replicas and no zones.
    External {
        name: "external",
        keys: &["latency", "error_rate", "labels", "aws"],
    }
    /// A broker with partitions and one consuming service.
    Queue {
        name: "queue",
        keys: &QUEUE_KEYS,
    }
}

/// The keys of every node that serves with replicas and workers.
const SHARED_KEYS: [&str; 14] = concat(
    [
        "labels",
        "aws",
        "zones",
        "replicas",
        "workers",
        "queue",
        "concurrency",
        "service_time",
        "calls",
    ],
    POLICY_KEYS,
);
const SERVICE: [&str; 15] = concat(SHARED_KEYS, ["autoscale"]);
const CACHE_OWN: [&str; 18] = concat(
    SHARED_KEYS,
    ["hit_ratio", "backing", "on_unavailable", "autoscale"],
);
const CACHE: [&str; 24] = concat(CACHE_OWN, CONTENT_KEYS);
const DATABASE: [&str; 16] = concat(SHARED_KEYS, ["primary", "failover"]);

/// How many node kinds there are.
pub const COUNT: usize = NODE_KINDS.len();

impl NodeKind {
    pub fn spec(self) -> &'static NodeKindSpec {
        &NODE_KINDS[self as usize]
    }

    /// The top-level key of its tables in model files.
    pub fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// The keys its tables take.
    pub fn keys(self) -> &'static [&'static str] {
        self.spec().keys
    }
}

/// `a` then `b`, in a constant.
pub(crate) const fn concat<const A: usize, const B: usize, const C: usize>(
    a: [&'static str; A],
    b: [&'static str; B],
) -> [&'static str; C] {
    assert!(A + B == C);
    let mut out = [""; C];
    let mut i = 0;
    while i < C {
        out[i] = if i < A { a[i] } else { b[i - A] };
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_the_order_of_the_enum_with_unique_names_and_keys() {
        for (i, spec) in NODE_KINDS.iter().enumerate() {
            assert_eq!(spec.kind as usize, i, "{}", spec.name);
            assert_eq!(spec.kind.as_str(), spec.name);
            assert_eq!(NAMES.iter().filter(|n| **n == spec.name).count(), 1);
            for key in spec.keys {
                let times = spec.keys.iter().filter(|k| *k == key).count();
                assert_eq!(times, 1, "{}: {key}", spec.name);
            }
        }
    }
}
