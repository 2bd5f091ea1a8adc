//! The help for a fault that names its target with a word faults do not use (`target`,
//! `service`, `on`, ...): a string-similarity "did you mean" would say `start` for `target`,
//! so these words get the key that names a target for this kind instead — `node`, `edge`,
//! `zone` or `workload` — picked by what the value names in the model when it can tell.
//!
//! Only words that mean "what the fault hits" are caught here; any other unknown key keeps the
//! reader's ordinary did-you-mean.

use toml::de::DeValue;

use super::codes::Code;
use super::fault_kinds::FaultKindTag as Kind;
use super::reader::{Fields, Sink, quote_list};
use super::topology::Topology;

/// Words people write for a fault's target, none of them a key of any fault kind.
const TARGET_WORDS: &[&str] = &[
    "target",
    "targets",
    "on",
    "to",
    "name",
    "service",
    "services",
    "instance",
    "instances",
    "replica",
    "replicas",
    "host",
    "dependency",
    "call",
    "calls",
    "az",
    "availability_zone",
];

/// The keys that name what a fault hits, in the order they are suggested.
const TARGET_KEYS: &[&str] = &["node", "edge", "zone", "workload", "nodes", "zones"];

/// Whether `key` is one of the target words (so the reader leaves it to `report_target_words`).
pub(super) fn is_target_word(key: &str) -> bool {
    TARGET_WORDS.contains(&key)
}

/// Reports every target word of the fault with the right key for its kind. Returns whether
/// there was none.
pub(super) fn report_target_words(
    sink: &mut Sink<'_>,
    fields: &Fields<'_, '_>,
    kind: Kind,
    topology: Option<&Topology>,
) -> bool {
    let mut clean = true;
    for (key, value) in fields.table().iter() {
        let name = key.get_ref().as_ref();
        if !is_target_word(name) {
            continue;
        }
        clean = false;
        let keys = target_keys(kind);
        let text = match value.get_ref() {
            DeValue::String(text) => Some(text.as_ref()),
            _ => None,
        };
        let best = best_key(&keys, text, topology);
        let help = match text {
            Some(text) => format!(
                "a `{}` fault names its target with {}: did you mean `{best} = {text:?}`?",
                kind.name(),
                quote_list(&keys)
            ),
            None => format!(
                "a `{}` fault names its target with {}: did you mean `{best}`?",
                kind.name(),
                quote_list(&keys)
            ),
        };
        sink.error(
            Code::UnknownKey,
            key.span(),
            format!("unknown key `{name}` in this `{}` fault", kind.name()),
        )
        .label("faults do not take `target`-like keys")
        .help(help);
    }
    clean
}

/// The target keys this kind takes, in suggestion order.
fn target_keys(kind: Kind) -> Vec<&'static str> {
    TARGET_KEYS
        .iter()
        .copied()
        .filter(|key| kind.keys().contains(key))
        .collect()
}

/// The key the value most likely belongs under: an edge for `a -> b`, a node or zone of that
/// name, else the kind's first target key.
fn best_key(
    keys: &[&'static str],
    text: Option<&str>,
    topology: Option<&Topology>,
) -> &'static str {
    let fits = |key: &str| keys.contains(&key);
    if let Some(text) = text {
        if text.contains("->") && fits("edge") {
            return "edge";
        }
        if let Some(topology) = topology {
            if topology.node_id(text).is_some() && fits("node") {
                return "node";
            }
            if topology.zone_id(text).is_some() && fits("zone") {
                return "zone";
            }
            if topology.workloads.iter().any(|w| w.name == text) && fits("workload") {
                return "workload";
            }
        }
    }
    keys.first().copied().unwrap_or("node")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::load_scenario::parse_scenario;
    use super::*;

    const SHOP: &str = include_str!("../../models/shop.toml");

    /// The help of the one `UnknownKey` diagnostic of a scenario with this fault.
    fn help(fault: &str) -> String {
        let text = format!(
            "name = \"t\"\nmodel = \"../models/shop.toml\"\nduration = \"15m\"\nwarmup = \"2m\"\n\
             fault = [{{ {fault} }}]\n"
        );
        let read = |_: &Path| Ok(SHOP.to_string());
        let diagnostics = parse_scenario(Path::new("scenarios/t.toml"), &text, read)
            .err()
            .expect("the fault is rejected");
        let unknown: Vec<_> = diagnostics
            .items
            .iter()
            .filter(|d| d.code == Code::UnknownKey)
            .collect();
        assert_eq!(unknown.len(), 1, "{:#?}", diagnostics.items);
        assert!(
            unknown[0].message.contains("unknown key"),
            "{}",
            unknown[0].message
        );
        unknown[0].help.clone().expect("a help")
    }

    #[test]
    fn a_target_key_suggests_the_key_of_the_kind_not_start() {
        let crash = help(r#"kind = "crash", start = "5m", target = "api""#);
        assert!(crash.contains(r#"did you mean `node = "api"`?"#), "{crash}");
        assert!(!crash.contains("start"), "{crash}");
        let outage =
            help(r#"kind = "zone-outage", start = "5m", duration = "1m", target = "az-a""#);
        assert!(outage.contains(r#"`zone = "az-a"`"#), "{outage}");
        let edge = help(
            r#"kind = "latency", start = "5m", duration = "1m", latency = "1s", target = "api -> payments""#,
        );
        assert!(edge.contains(r#"`edge = "api -> payments"`"#), "{edge}");
        let spike = help(
            r#"kind = "traffic-spike", start = "5m", duration = "1m", factor = 2, on = "checkout""#,
        );
        assert!(spike.contains(r#"`workload = "checkout"`"#), "{spike}");
    }

    #[test]
    fn the_value_picks_between_the_kinds_target_keys() {
        let by_zone = help(r#"kind = "crash", start = "5m", service = "az-b""#);
        assert!(by_zone.contains(r#"`zone = "az-b"`"#), "{by_zone}");
        let unknown = help(r#"kind = "crash", start = "5m", target = 3"#);
        assert!(unknown.contains("did you mean `node`?"), "{unknown}");
    }

    #[test]
    fn other_typos_keep_their_did_you_mean() {
        let typo = help(r#"kind = "crash", node = "api", strat = "5m", start = "5m""#);
        assert!(typo.contains("start"), "{typo}");
    }
}
