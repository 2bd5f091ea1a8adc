//! A scenario being written by an importer: faults and hypotheses as TOML tables, each with
//! the comment that says where it came from, and the things that could not be mapped, kept as
//! comments by name. Rendering is a pure function; the text it gives loads with
//! `model::load_scenario` when the importer put valid keys in.

use std::fmt::Write as _;

/// A scenario under construction. Invariant: `faults` and `hypotheses` are in the order they
/// are written, which is the order of the source document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScenarioDraft {
    /// Comment lines at the top: which tool and file it was imported from.
    pub header: Vec<String>,
    pub name: String,
    /// The model's path as the scenario file will name it (relative to the scenario file).
    pub model: String,
    pub duration_ns: u64,
    pub warmup_ns: u64,
    pub seed: u64,
    pub faults: Vec<DraftEntry>,
    pub hypotheses: Vec<DraftEntry>,
    /// What could not be mapped, in source order.
    pub unmapped: Vec<Unmapped>,
}

/// One `[[fault]]` or `[[hypothesis]]` table and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct DraftEntry {
    /// Comment lines written above the table ("from activity `terminate-api-pods` ...").
    pub origin: Vec<String>,
    /// The table's keys in the order they are written.
    pub keys: toml::Table,
}

/// A part of the source that has no counterpart in the simulator, named as the source names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmapped {
    /// The activity, action or target's name in the source document.
    pub name: String,
    /// Why it could not be mapped, as a sentence.
    pub reason: String,
}

impl std::fmt::Display for Unmapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` not mapped: {}", self.name, self.reason)
    }
}

impl ScenarioDraft {
    /// The scenario file's text.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        out.push_str("#:schema ../schema/scenario.schema.json\n");
        for line in &self.header {
            comment(&mut out, line);
        }
        let mut top = toml::Table::new();
        top.insert("name".into(), self.name.clone().into());
        top.insert("model".into(), self.model.clone().into());
        top.insert("duration".into(), exact_duration(self.duration_ns).into());
        top.insert("warmup".into(), exact_duration(self.warmup_ns).into());
        top.insert("seed".into(), toml_integer(self.seed));
        out.push_str(&toml::to_string(&top).expect("a table of strings and integers"));
        for (section, entries) in [("fault", &self.faults), ("hypothesis", &self.hypotheses)] {
            for entry in entries {
                entry.write(section, &mut out);
            }
        }
        if !self.unmapped.is_empty() {
            out.push('\n');
            comment(&mut out, "Not mapped (no counterpart in the simulator):");
            for unmapped in &self.unmapped {
                comment(&mut out, &format!("- {unmapped}"));
            }
        }
        out
    }
}

impl DraftEntry {
    fn write(&self, section: &str, out: &mut String) {
        out.push('\n');
        for line in &self.origin {
            comment(out, line);
        }
        let _ = writeln!(out, "[[{section}]]");
        // One `key = value` line per key, tables inline (`latency = { dist = ... }`):
        // `toml::to_string` would write a nested table as a `[section]` after the entry,
        // which then reads as a top-level key.
        for (key, value) in &self.keys {
            let _ = writeln!(out, "{} = {value}", toml_key(key));
        }
    }
}

/// A key bare when TOML allows it, else quoted.
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        key.to_string()
    } else {
        toml::Value::String(key.to_string()).to_string()
    }
}

/// Writes `text` as comment lines, one per line of the text, so a newline in a name from the
/// source document cannot end the comment and start TOML.
fn comment(out: &mut String, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "# {}", line.trim_end());
    }
    if text.is_empty() {
        out.push_str("#\n");
    }
}

/// A seed above `i64::MAX` cannot be a TOML integer; it is written as the wrapped `i64`, which
/// the loader reads back as the same `u64` bits.
fn toml_integer(value: u64) -> toml::Value {
    toml::Value::Integer(value as i64)
}

/// The duration in the largest unit that states it exactly ("90s", "1500ms", "2h"), so the
/// written scenario means the same nanoseconds as the draft.
pub fn exact_duration(ns: u64) -> String {
    const UNITS: [(u64, &str); 5] = [
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
    ];
    if ns == 0 {
        return "0s".to_string();
    }
    UNITS
        .into_iter()
        .find(|(scale, _)| ns.is_multiple_of(*scale))
        .map_or_else(
            || format!("{ns}ns"),
            |(scale, unit)| format!("{}{unit}", ns / scale),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_duration;

    #[test]
    fn exact_durations_read_back_to_the_same_nanoseconds() {
        for ns in [
            0,
            1,
            999,
            1_000,
            1_500_000,
            90_000_000_000,
            7_200_000_000_000,
            61_000_000_001,
        ] {
            let text = exact_duration(ns);
            assert_eq!(parse_duration(&text), Ok(ns), "{text}");
        }
        assert_eq!(exact_duration(90_000_000_000), "90s");
        assert_eq!(exact_duration(120_000_000_000), "2m");
    }

    #[test]
    fn a_draft_renders_its_entries_in_order_with_their_origins_and_the_unmapped() {
        let mut keys = toml::Table::new();
        keys.insert("kind".into(), "zone-outage".into());
        keys.insert("zone".into(), "az-a".into());
        let draft = ScenarioDraft {
            header: vec!["imported from x.json".into()],
            name: "n".into(),
            model: "../models/shop.toml".into(),
            duration_ns: 600_000_000_000,
            warmup_ns: 60_000_000_000,
            seed: 7,
            faults: vec![DraftEntry {
                origin: vec!["from `stop-az`\n::evil".into()],
                keys,
            }],
            unmapped: vec![Unmapped {
                name: "probe-x".into(),
                reason: "a process probe".into(),
            }],
            ..ScenarioDraft::default()
        };
        let text = draft.to_toml();
        let parsed: toml::Table = text.parse().expect("valid TOML");
        assert_eq!(parsed["duration"].as_str(), Some("10m"));
        assert_eq!(parsed["fault"][0]["zone"].as_str(), Some("az-a"));
        assert!(
            text.contains("# from `stop-az`\n# ::evil\n[[fault]]"),
            "{text}"
        );
        assert!(
            text.contains("# - `probe-x` not mapped: a process probe"),
            "{text}"
        );
    }

    #[test]
    fn a_nested_table_stays_inside_its_entry() {
        let mut dist = toml::Table::new();
        dist.insert("dist".into(), "constant".into());
        dist.insert("value".into(), "5ms".into());
        let mut keys = toml::Table::new();
        keys.insert("kind".into(), "latency".into());
        keys.insert("latency".into(), toml::Value::Table(dist));
        keys.insert("a.b".into(), 1.into());
        let draft = ScenarioDraft {
            faults: vec![DraftEntry {
                origin: Vec::new(),
                keys,
            }],
            ..ScenarioDraft::default()
        };
        let parsed: toml::Table = draft.to_toml().parse().expect("valid TOML");
        let fault = &parsed["fault"][0];
        assert_eq!(fault["latency"]["value"].as_str(), Some("5ms"));
        assert_eq!(fault["a.b"].as_integer(), Some(1));
        assert!(!parsed.contains_key("latency"));
    }
}
