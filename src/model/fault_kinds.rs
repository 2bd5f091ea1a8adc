//! One spec per fault kind — its name in files, its family, the target it takes, its keys,
//! its row of the README's table and the `fma` family that proposes it — and the `FaultKindTag`
//! enum, generated together by one macro so the two cannot disagree.
//!
//! Everything that enumerates fault kinds reads this table: the loader (`load_fault` picks the
//! keys, `fault_target` the target shape), `FaultKind::as_str`, the unknown-kind help, `fma`'s
//! candidate families, and the tests that hold the schema and the README to it. Adding a kind
//! is its `FaultKind` variant, its entry here and its arm in `FaultKind::tag` (an exhaustive
//! `match`, below), its parameters in `load_fault::read_params`, its schema variant, and its
//! effect in `faults` and `sim`; the compiler and the tests point at each.
//!
//! Must not: read text or hold parameters. The parameters live in `FaultKind`.

use super::fault::{FaultKind, FaultTarget};

/// What a kind is aimed at: which of `node`, `nodes`, `edge`, `zone`, `zones`, `workload` it
/// reads, which `FaultTarget`s it yields, and which nodes it can act on. Every `match` on it
/// is exhaustive, so a new shape is handled everywhere or does not compile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// `zone`: everything in the zone.
    Zone,
    /// `zone`, with the optional `nodes` a zonal shift moves (read as a parameter).
    ShiftedZone,
    /// `zones` cut from each other, or one `zone` cut from all the others.
    ZoneCut,
    /// `edge` alone.
    Edge,
    /// `workload`.
    Workload,
    /// `node` or `edge`, any node.
    NodeOrEdge,
    /// `node`, optionally in `zone`; a node with replicas (not an external).
    Replicas,
    /// `node`, optionally in `zone`; a cache.
    CacheReplicas,
    /// `node` (optionally in `zone`) with replicas, or a `zone` alone.
    ReplicasOrZone,
    /// Like `ReplicasOrZone`, or a set `nodes`: a chaos monkey's.
    ReplicasOrZoneOrSet,
}

impl TargetKind {
    /// What the kind needs as a target, for the missing-target message.
    pub fn needs(self) -> &'static str {
        match self {
            TargetKind::Zone => "`zone`",
            TargetKind::ShiftedZone => "`zone` (optionally with `nodes`)",
            TargetKind::ZoneCut => "`zones` or `zone`",
            TargetKind::Edge => "`edge`",
            TargetKind::Workload => "`workload`",
            TargetKind::NodeOrEdge => "`node` or `edge`",
            TargetKind::ReplicasOrZone => "`node` (optionally with `zone`) or `zone`",
            TargetKind::ReplicasOrZoneOrSet => "`nodes`, `node` (optionally with `zone`) or `zone`",
            TargetKind::Replicas | TargetKind::CacheReplicas => "`node` (optionally with `zone`)",
        }
    }

    /// Whether the nodes it names must have replicas (an external has none).
    pub fn needs_replicas(self) -> bool {
        matches!(
            self,
            TargetKind::Replicas | TargetKind::ReplicasOrZone | TargetKind::ReplicasOrZoneOrSet
        )
    }

    /// Whether the node it names must be a cache.
    pub fn needs_cache(self) -> bool {
        self == TargetKind::CacheReplicas
    }

    /// Whether a `zone` alone (no `node`) names every replica in it.
    pub fn takes_zone_alone(self) -> bool {
        matches!(
            self,
            TargetKind::ReplicasOrZone | TargetKind::ReplicasOrZoneOrSet
        )
    }

    /// Whether a loaded target has a shape this kind yields: the invariant of `FaultSpec`.
    pub fn accepts(self, target: &FaultTarget) -> bool {
        match target {
            FaultTarget::Node(_) | FaultTarget::NodeInZone(..) => !matches!(
                self,
                TargetKind::Zone
                    | TargetKind::ShiftedZone
                    | TargetKind::ZoneCut
                    | TargetKind::Edge
                    | TargetKind::Workload
            ),
            // `node_or_edge` reads a node without a zone.
            FaultTarget::Edge { .. } => matches!(self, TargetKind::Edge | TargetKind::NodeOrEdge),
            FaultTarget::Zone(_) => {
                matches!(self, TargetKind::Zone | TargetKind::ShiftedZone)
                    || self.takes_zone_alone()
            }
            FaultTarget::ZoneCut(_) => self == TargetKind::ZoneCut,
            FaultTarget::Nodes(_) => self == TargetKind::ReplicasOrZoneOrSet,
            FaultTarget::Workload(_) => self == TargetKind::Workload,
        }
    }
}

/// The families of the README's table (the product's three families, plus load and traffic
/// management).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Isolation,
    Dependency,
    Bimodal,
    Load,
    Traffic,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Isolation => "isolation",
            Family::Dependency => "dependency",
            Family::Bimodal => "bimodal",
            Family::Load => "load",
            Family::Traffic => "traffic",
        }
    }
}

/// One fault kind, as files, the loader, the docs and `fma` know it.
#[derive(Debug)]
pub struct FaultKindSpec {
    pub tag: FaultKindTag,
    /// The `kind = "..."` of scenario files.
    pub name: &'static str,
    pub family: Family,
    pub target: TargetKind,
    /// Every key a fault of this kind takes, `kind` first; the order of "a `crash` fault
    /// takes ..." helps.
    pub keys: &'static [&'static str],
    /// The `fma` family whose candidates use this kind; `None` when `fma` proposes none.
    pub fma_family: Option<&'static str>,
    /// The README table's "target and parameters" cell.
    pub doc: &'static str,
}

impl FaultKindSpec {
    /// Whether it acts on a selection of replicas (`count` / `percent`).
    pub fn takes_selection(&self) -> bool {
        self.keys.contains(&"count")
    }

    /// Whether it acts at one instant and so takes no `duration` (a cache flush).
    pub fn is_instant(&self) -> bool {
        !self.keys.contains(&"duration")
    }
}

/// Generates `FaultKindTag` and `FAULT_KINDS` from one list, in one order.
macro_rules! fault_kinds {
    ($($tag:ident { name: $name:literal, $($field:ident: $value:expr),* $(,)? })*) => {
        /// A fault kind without its parameters: indexes `FAULT_KINDS`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum FaultKindTag {
            $($tag,)*
        }

        /// Every fault kind, in the order of `FaultKindTag` (and of the README's table).
        pub const FAULT_KINDS: &[FaultKindSpec] = &[
            $(FaultKindSpec { tag: FaultKindTag::$tag, name: $name, $($field: $value),* },)*
        ];

        /// The kinds' names in table order.
        pub const NAMES: [&str; COUNT] = [$($name,)*];
    };
}

fault_kinds! {
    ZoneOutage {
        name: "zone-outage",
        family: Family::Isolation,
        target: TargetKind::Zone,
        keys: &["kind", "start", "duration", "zone", "recovery"],
        fma_family: Some("zone"),
        doc: "`zone`; `recovery = \"2m\"`: replicas return one by one, cold",
    }
    ZonePartition {
        name: "zone-partition",
        family: Family::Isolation,
        target: TargetKind::ZoneCut,
        keys: &["kind", "start", "duration", "zone", "zones"],
        fma_family: None,
        doc: "`zones = [\"az-a\", \"az-b\"]` (cut from each other) or `zone` (cut from all)",
    }
    Partition {
        name: "partition",
        family: Family::Isolation,
        target: TargetKind::Edge,
        keys: &["kind", "start", "duration", "edge"],
        fma_family: Some("edge"),
        doc: "`edge = \"api->sessions\"`: the edge's calls blackhole",
    }
    Crash {
        name: "crash",
        family: Family::Isolation,
        target: TargetKind::ReplicasOrZone,
        keys: &["kind", "start", "duration", "node", "zone", "count", "percent", "restart_after"],
        fma_family: Some("node"),
        doc: "`node` (+ `zone`) or `zone`; `count` or `percent`; `restart_after`",
    }
    ChaosMonkey {
        name: "chaos-monkey",
        family: Family::Isolation,
        target: TargetKind::ReplicasOrZoneOrSet,
        keys: &["kind", "start", "duration", "node", "nodes", "zone", "mean_interval", "restart_after"],
        fma_family: None,
        doc: "`node`/`nodes`/`zone`; `mean_interval`, `restart_after`",
    }
    Latency {
        name: "latency",
        family: Family::Dependency,
        target: TargetKind::NodeOrEdge,
        keys: &["kind", "start", "duration", "node", "edge", "latency", "share"],
        fma_family: Some("edge"),
        doc: "`node` or `edge`; `latency = { dist = ... }`; `share` of calls",
    }
    Errors {
        name: "errors",
        family: Family::Dependency,
        target: TargetKind::NodeOrEdge,
        keys: &["kind", "start", "duration", "node", "edge", "share"],
        fma_family: Some("external"),
        doc: "`node` or `edge`; `share`: calls fail fast (`injected_error`)",
    }
    Blackhole {
        name: "blackhole",
        family: Family::Dependency,
        target: TargetKind::NodeOrEdge,
        keys: &["kind", "start", "duration", "node", "edge", "share"],
        fma_family: None,
        doc: "`node` or `edge`; `share`: no answer, the caller's timeout decides",
    }
    Slowdown {
        name: "slowdown",
        family: Family::Dependency,
        target: TargetKind::Replicas,
        keys: &["kind", "start", "duration", "node", "zone", "count", "percent", "factor"],
        fma_family: None,
        doc: "`node` (+ `zone`); `factor` on the service time",
    }
    Capacity {
        name: "capacity",
        family: Family::Dependency,
        target: TargetKind::Replicas,
        keys: &["kind", "start", "duration", "node", "zone", "count", "percent", "workers"],
        fma_family: None,
        doc: "`node` (+ `zone`); `workers` left per replica",
    }
    CacheFlush {
        name: "cache-flush",
        family: Family::Bimodal,
        target: TargetKind::CacheReplicas,
        // Instantaneous: no `duration`.
        keys: &["kind", "start", "node", "zone", "count", "percent", "refill"],
        fma_family: Some("cache"),
        doc: "cache `node`; `refill` (time constant of the hit ratio's return)",
    }
    HitRatio {
        name: "hit-ratio",
        family: Family::Bimodal,
        target: TargetKind::CacheReplicas,
        keys: &["kind", "start", "duration", "node", "zone", "count", "percent", "value"],
        fma_family: None,
        doc: "cache `node`; `value`",
    }
    TrafficSpike {
        name: "traffic-spike",
        family: Family::Load,
        target: TargetKind::Workload,
        keys: &["kind", "start", "duration", "workload", "factor"],
        fma_family: Some("load"),
        doc: "`workload`; `factor` (extra requests are a superposed stream)",
    }
    ZonalShift {
        name: "zonal-shift",
        family: Family::Traffic,
        target: TargetKind::ShiftedZone,
        keys: &["kind", "start", "duration", "zone", "nodes"],
        fma_family: Some("zone"),
        doc: "`zone`, optional `nodes = [...]` (services and caches there; default all): \
              balancers send no new calls to their replicas in the zone, which stay up and \
              finish their work, and user traffic entering the zone enters the target's other \
              zones (AWS ARC zonal shift)",
    }
}

/// A flushed cache refills with this time constant unless its fault says `refill` (`fma`'s
/// flushes use it too).
pub const DEFAULT_REFILL_NS: u64 = 60_000_000_000;

/// How many fault kinds there are.
pub const COUNT: usize = FAULT_KINDS.len();

impl FaultKindTag {
    pub fn spec(self) -> &'static FaultKindSpec {
        &FAULT_KINDS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The keys a fault of this kind takes.
    pub fn keys(self) -> &'static [&'static str] {
        self.spec().keys
    }

    /// Kinds that act on a selection of replicas (`count` / `percent`).
    pub fn takes_selection(self) -> bool {
        self.spec().takes_selection()
    }

    /// The kind named `name` in a file.
    pub fn from_name(name: &str) -> Option<FaultKindTag> {
        FAULT_KINDS.iter().find(|s| s.name == name).map(|s| s.tag)
    }
}

impl FaultKind {
    /// The kind without its parameters. An exhaustive `match`, here beside the table: a new
    /// variant without its tag (and so without its spec) does not compile.
    pub fn tag(&self) -> FaultKindTag {
        match self {
            FaultKind::ZoneOutage { .. } => FaultKindTag::ZoneOutage,
            FaultKind::ZonePartition => FaultKindTag::ZonePartition,
            FaultKind::Partition => FaultKindTag::Partition,
            FaultKind::Crash { .. } => FaultKindTag::Crash,
            FaultKind::ChaosMonkey { .. } => FaultKindTag::ChaosMonkey,
            FaultKind::Latency { .. } => FaultKindTag::Latency,
            FaultKind::Errors { .. } => FaultKindTag::Errors,
            FaultKind::Blackhole { .. } => FaultKindTag::Blackhole,
            FaultKind::Slowdown { .. } => FaultKindTag::Slowdown,
            FaultKind::Capacity { .. } => FaultKindTag::Capacity,
            FaultKind::CacheFlush { .. } => FaultKindTag::CacheFlush,
            FaultKind::HitRatio { .. } => FaultKindTag::HitRatio,
            FaultKind::TrafficSpike { .. } => FaultKindTag::TrafficSpike,
            FaultKind::ZonalShift { .. } => FaultKindTag::ZonalShift,
        }
    }

    /// Its name, keys, target shape and families.
    pub fn spec(&self) -> &'static FaultKindSpec {
        self.tag().spec()
    }

    /// The name used in scenario files.
    pub fn as_str(&self) -> &'static str {
        self.spec().name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_the_order_of_the_tags_and_names_are_unique() {
        for (i, spec) in FAULT_KINDS.iter().enumerate() {
            assert_eq!(spec.tag as usize, i, "{}", spec.name);
            assert_eq!(FaultKindTag::from_name(spec.name), Some(spec.tag));
            assert_eq!(spec.keys[0], "kind", "{}", spec.name);
            assert_eq!(spec.keys[1], "start", "{}", spec.name);
        }
        assert_eq!(FaultKindTag::from_name("outage"), None);
    }

    #[test]
    fn selections_are_taken_by_the_kinds_that_act_on_replicas() {
        let with_selection: Vec<&str> = FAULT_KINDS
            .iter()
            .filter(|s| s.takes_selection())
            .map(|s| s.name)
            .collect();
        assert_eq!(
            with_selection,
            ["crash", "slowdown", "capacity", "cache-flush", "hit-ratio"]
        );
        for spec in FAULT_KINDS {
            let node_with_zone = spec.keys.contains(&"node") && spec.keys.contains(&"zone");
            if spec.takes_selection() {
                assert!(node_with_zone, "{}", spec.name);
            }
        }
    }

    #[test]
    fn a_target_kind_reads_only_keys_its_fault_kind_takes() {
        for spec in FAULT_KINDS {
            let keys = spec.keys;
            let needs: Vec<&str> = spec.target.needs().split('`').skip(1).step_by(2).collect();
            for key in needs {
                assert!(keys.contains(&key), "{}: {key}", spec.name);
            }
        }
    }

    /// The README's table of fault kinds is this table: regenerate the rows from it when a
    /// kind changes.
    #[test]
    fn the_readme_table_is_the_table_of_fault_kinds() {
        let mut table = String::from("| family | kind | target and parameters |\n|---|---|---|\n");
        for spec in FAULT_KINDS {
            let row = format!(
                "| {} | `{}` | {} |\n",
                spec.family.as_str(),
                spec.name,
                spec.doc
            );
            table.push_str(&row);
        }
        let readme = include_str!("../../README.md");
        assert!(readme.contains(&table), "README.md should hold:\n{table}");
    }
}
