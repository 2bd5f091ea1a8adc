//! `[[fault]]` entries, text to `FaultSpec`: the kind, the keys that kind takes, the timing and
//! the kind's parameters. Targets and selections are read in `fault_target`. The checks that
//! need the run or the whole schedule are here too: a fault that starts after the run ends or
//! during the warm-up, and outages of one zone that overlap.

use std::ops::Range;

use toml::de::DeValue;

use crate::kernel::time::format_duration_ns;

use super::codes::Code;
use super::diagnostic::line_column;
use super::dist::read_dist;
use super::fault::{FaultKind, FaultSpec, FaultTarget};
use super::fault_kinds::{DEFAULT_REFILL_NS, FaultKindTag as Kind, NAMES};
use super::fault_target::{check_effect, read_selection, read_target};
use super::reader::{Fields, Sink, Value, conflict, found, help_for_name, or_default, quote_list};
use super::topology::{Topology, ZoneId};

/// Every key of every kind: a key outside this list is a typo, one inside it that the kind
/// does not take is "not used by this kind".
const ANY_KEY: &[&str] = &[
    "kind",
    "start",
    "duration",
    "node",
    "nodes",
    "edge",
    "zone",
    "zones",
    "workload",
    "count",
    "percent",
    "recovery",
    "restart_after",
    "mean_interval",
    "latency",
    "share",
    "factor",
    "workers",
    "refill",
    "value",
];

fn is_fault_key(key: &str) -> bool {
    ANY_KEY.contains(&key)
}

/// Keys the reader leaves alone: the faults' own (`report_unused`) and the words for a target
/// (`fault_hint`), each reported with a better help than a string-similarity suggestion.
fn is_fault_key_or_target_word(key: &str) -> bool {
    is_fault_key(key) || super::fault_hint::is_target_word(key)
}

/// The run a schedule is checked against; `None` where the scenario's own value is invalid.
#[derive(Clone, Copy, Debug)]
pub(super) struct Run {
    pub(super) duration_ns: Option<u64>,
    pub(super) warmup_ns: Option<u64>,
}

/// A fault read, with the span of its `start` for the schedule checks.
struct Placed {
    spec: FaultSpec,
    start_span: Range<usize>,
}

/// Reads the `[[fault]]` array; `None` if any fault is invalid (each is reported).
pub(super) fn read_faults(
    sink: &mut Sink<'_>,
    value: &Value<'_>,
    topology: Option<&Topology>,
    run: Run,
) -> Option<Vec<FaultSpec>> {
    let DeValue::Array(items) = value.get_ref() else {
        let message = format!(
            "expected an array of tables `[[fault]]`, found {}",
            found(value.get_ref())
        );
        sink.error(Code::WrongType, value.span(), message)
            .label("write each fault as `[[fault]]`");
        return None;
    };
    let mut placed = Vec::new();
    let mut ok = true;
    for item in items.iter() {
        match read_fault(sink, item, topology, run) {
            Some(fault) => placed.push(fault),
            None => ok = false,
        }
    }
    if let Some(topology) = topology {
        check_overlaps(sink, &placed, topology);
    }
    ok.then(|| placed.into_iter().map(|p| p.spec).collect())
}

fn read_fault(
    sink: &mut Sink<'_>,
    value: &Value<'_>,
    topology: Option<&Topology>,
    run: Run,
) -> Option<Placed> {
    let fields = Fields::of(sink, value, "this fault", "a table `[[fault]]`", ANY_KEY)?;
    let (table, span) = (fields.table(), fields.span());
    let kind = read_kind(sink, fields)?;
    let what = format!("this `{}` fault", kind.name());
    let mut fields =
        Fields::new(table, span, what, kind.keys()).with_pattern(is_fault_key_or_target_word);
    let used = report_unused(sink, &fields, kind)
        & super::fault_hint::report_target_words(sink, &fields, kind, topology);
    let start_value = fields.required("start");
    let start = start_value.and_then(|v| read_start(sink, v, run));
    let duration = if kind.spec().is_instant() {
        Some(Some(0))
    } else {
        or_default(fields.get("duration"), None, |v| {
            sink.positive_duration("duration", v).map(Some)
        })
    };
    let target = read_target(sink, &fields, kind, topology);
    let selection = read_selection(sink, &fields, kind, target.as_ref(), topology);
    let params = match kind {
        Kind::ZonalShift => super::fault_target::shift_nodes(sink, &fields, topology)
            .map(|nodes| FaultKind::ZonalShift { nodes }),
        _ => read_params(sink, &mut fields, kind),
    };
    if let (
        Some(FaultKind::ChaosMonkey {
            mean_interval_ns, ..
        }),
        Some(start),
    ) = (&params, start)
    {
        let end = duration.flatten().map(|d| start.saturating_add(d));
        check_crash_count(sink, &fields, *mean_interval_ns, start, end, run);
    }
    if let (Some(target), Some(params), Some(topology)) = (&target, &params, topology) {
        check_effect(sink, &fields, params, target, topology);
    }
    let clean = fields.finish(sink) && used;
    let spec = FaultSpec {
        kind: params?,
        target: target?,
        selection: selection?,
        start_ns: start?,
        duration_ns: duration?,
        line: line_column(sink.text, value.span().start).0,
    };
    assert!(
        spec.kind.spec().target.accepts(&spec.target),
        "{:?} read a target of the wrong shape",
        spec.kind.tag()
    );
    clean.then(|| Placed {
        spec,
        start_span: start_value.map_or(0..0, Value::span),
    })
}

/// The `kind`; a missing or unknown kind stops the fault, as its other keys cannot be judged.
fn read_kind(sink: &mut Sink<'_>, mut fields: Fields<'_, '_>) -> Option<Kind> {
    let Some(value) = fields.required("kind") else {
        fields.finish(sink);
        return None;
    };
    let name = sink.string("kind", value)?;
    if let Some(kind) = Kind::from_name(name) {
        return Some(kind);
    }
    let help = help_for_name(
        name,
        &NAMES,
        "the fault kinds are",
        "there are no fault kinds",
    );
    sink.error(
        Code::UnknownChoice,
        value.span(),
        format!("unknown fault kind `{name}`"),
    )
    .label("not a fault kind")
    .help(help);
    None
}

/// Keys of other kinds: "not used by this kind", with the keys this kind takes.
fn report_unused(sink: &mut Sink<'_>, fields: &Fields<'_, '_>, kind: Kind) -> bool {
    let mut clean = true;
    for (key, _) in fields.table().iter() {
        let name = key.get_ref().as_ref();
        if kind.keys().contains(&name) || !is_fault_key(name) {
            continue;
        }
        clean = false;
        let help = match (kind, name) {
            (Kind::CacheFlush, "duration") => {
                "a cache flush is instantaneous: the hit ratio falls \
                 at `start` and returns with the time constant `refill`"
                    .to_string()
            }
            (Kind::ChaosMonkey, "count" | "percent") => {
                "a chaos monkey crashes one random replica of its targets at a time".to_string()
            }
            _ => format!(
                "a `{}` fault takes {}",
                kind.name(),
                quote_list(kind.keys())
            ),
        };
        sink.error(
            Code::UnknownKey,
            key.span(),
            format!("`{name}` is not used by `{}` faults", kind.name()),
        )
        .label("not used by this kind")
        .help(help);
    }
    clean
}

/// The start, which must fall inside the run; a start in the warm-up is a warning.
fn read_start(sink: &mut Sink<'_>, value: &Value<'_>, run: Run) -> Option<u64> {
    let start = sink.duration("start", value)?;
    if let Some(end) = run.duration_ns {
        if start >= end {
            let (when, end) = (if start > end { "after" } else { "as" }, fmt(end));
            sink.error(
                Code::FaultAfterEnd,
                value.span(),
                format!("the fault starts {when} the run ends at {end}"),
            )
            .label(format!("expected a start before {end}"))
            .help("`start` counts from time 0 of the run, warm-up included");
            return None;
        }
    }
    if let Some(warmup) = run.warmup_ns {
        if start < warmup {
            let warmup = fmt(warmup);
            sink.error(
                Code::FaultInWarmup,
                value.span(),
                format!("the fault starts before the warm-up ends at {warmup}"),
            )
            .label(format!("its effect before {warmup} is not measured"))
            .help("start the fault after the warm-up, or shorten `warmup`");
        }
    }
    Some(start)
}

fn fmt(ns: u64) -> String {
    format_duration_ns(ns)
}

/// The kind's own parameters; every one is read before any failure is returned.
fn read_params(sink: &mut Sink<'_>, fields: &mut Fields<'_, '_>, kind: Kind) -> Option<FaultKind> {
    Some(match kind {
        Kind::ZoneOutage => FaultKind::ZoneOutage {
            recovery_ns: read_recovery(sink, fields)?,
        },
        Kind::ZonePartition => FaultKind::ZonePartition,
        Kind::Partition => FaultKind::Partition,
        Kind::Crash => FaultKind::Crash {
            restart_after_ns: read_restart(sink, fields)?,
        },
        Kind::ChaosMonkey => {
            let mean = required(sink, fields, "mean_interval", Sink::positive_duration);
            let restart = required(sink, fields, "restart_after", Sink::positive_duration);
            FaultKind::ChaosMonkey {
                mean_interval_ns: mean?,
                restart_after_ns: restart?,
            }
        }
        Kind::Latency => {
            let added = fields
                .required("latency")
                .and_then(|v| read_dist(sink, "latency", v));
            let share = share(sink, fields);
            FaultKind::Latency {
                added: added?,
                share: share?,
            }
        }
        Kind::Errors => FaultKind::Errors {
            share: share(sink, fields)?,
        },
        Kind::Blackhole => FaultKind::Blackhole {
            share: share(sink, fields)?,
        },
        Kind::Slowdown => FaultKind::Slowdown {
            factor: required(sink, fields, "factor", Sink::positive)?,
        },
        Kind::Capacity => FaultKind::Capacity {
            workers: required(sink, fields, "workers", |s, k, v| s.count(k, v, 0))?,
        },
        Kind::CacheFlush => FaultKind::CacheFlush {
            refill_ns: or_default(fields.get("refill"), DEFAULT_REFILL_NS, |v| {
                sink.positive_duration("refill", v)
            })?,
        },
        Kind::HitRatio => FaultKind::HitRatio {
            value: required(sink, fields, "value", Sink::fraction)?,
        },
        Kind::TrafficSpike => FaultKind::TrafficSpike {
            factor: required(sink, fields, "factor", Sink::positive)?,
        },
        // Its `nodes` need the model: read by `fault_target::shift_nodes`.
        Kind::ZonalShift => FaultKind::ZonalShift { nodes: Vec::new() },
    })
}

/// A required parameter read with `read`; its absence is reported by `Fields::finish`.
fn required<'t, T>(
    sink: &mut Sink<'t>,
    fields: &mut Fields<'_, '_>,
    key: &'static str,
    read: impl FnOnce(&mut Sink<'t>, &str, &Value<'_>) -> Option<T>,
) -> Option<T> {
    fields.required(key).and_then(|v| read(sink, key, v))
}

/// The most crashes a chaos monkey may expect: each is an effect the plan holds in memory.
const MAX_CHAOS_CRASHES: u64 = 100_000;

/// Rejects a chaos monkey whose `mean_interval` is so short for its span that it would crash
/// more than `MAX_CHAOS_CRASHES` replicas (found by fuzzing: "1ns" over an hour).
fn check_crash_count(
    sink: &mut Sink<'_>,
    fields: &Fields<'_, '_>,
    mean_interval_ns: u64,
    start: u64,
    end: Option<u64>,
    run: Run,
) {
    let Some(end) = end.or(run.duration_ns) else {
        return;
    };
    let end = run.duration_ns.map_or(end, |d| end.min(d));
    let expected = end.saturating_sub(start) / mean_interval_ns.max(1);
    if expected <= MAX_CHAOS_CRASHES {
        return;
    }
    let Some(value) = fields.get("mean_interval") else {
        return;
    };
    sink.error(
        Code::OutOfRange,
        value.span(),
        format!("the chaos monkey would crash about {expected} replicas"),
    )
    .label(format!(
        "expected at most {MAX_CHAOS_CRASHES} crashes over the fault's span"
    ))
    .help("a longer `mean_interval` (or a shorter fault) keeps the schedule meaningful");
}

/// `share`, default 1.
fn share(sink: &mut Sink<'_>, fields: &Fields<'_, '_>) -> Option<f64> {
    or_default(fields.get("share"), 1.0, |v| sink.fraction("share", v))
}

/// `recovery` needs a `duration`: an outage without an end never recovers.
fn read_recovery(sink: &mut Sink<'_>, fields: &Fields<'_, '_>) -> Option<Option<u64>> {
    let Some(value) = fields.get("recovery") else {
        return Some(None);
    };
    let recovery = sink.positive_duration("recovery", value)?;
    if fields.get("duration").is_none() {
        sink.error(
            Code::MissingKey,
            value.span(),
            "`recovery` needs a `duration`",
        )
        .label("an outage without a `duration` lasts to the end of the run and never recovers")
        .help("add `duration`: the recovery phase follows the end of the outage");
        return None;
    }
    Some(Some(recovery))
}

/// A crash's `restart_after`, which says the same as a `duration` and excludes it.
fn read_restart(sink: &mut Sink<'_>, fields: &Fields<'_, '_>) -> Option<Option<u64>> {
    let Some(value) = fields.get("restart_after") else {
        return Some(None);
    };
    let restart = sink.positive_duration("restart_after", value)?;
    if let Some(duration) = fields.get("duration") {
        conflict(sink, ("duration", duration), ("restart_after", value))
            .help("both say when the crashed replicas come back; keep one");
        return None;
    }
    Some(Some(restart))
}

/// Two outages of one zone at the same time: reported once per fault, at the `start` of the
/// one that begins later (the later in the file on a tie).
fn check_overlaps(sink: &mut Sink<'_>, faults: &[Placed], topology: &Topology) {
    let mut reported = Vec::new();
    for j in 0..faults.len() {
        for i in 0..j {
            let (a, b) = (&faults[i].spec, &faults[j].spec);
            let Some(zone) = outage_zone(a) else {
                continue;
            };
            if outage_zone(b) != Some(zone) || !overlap(a, b) {
                continue;
            }
            let (earlier, later) = if b.start_ns >= a.start_ns {
                (i, j)
            } else {
                (j, i)
            };
            if reported.contains(&later) {
                continue;
            }
            reported.push(later);
            let zone = &topology.zones[zone.index()];
            report_overlap(sink, &faults[earlier], &faults[later], zone);
        }
    }
}

fn outage_zone(spec: &FaultSpec) -> Option<ZoneId> {
    match (&spec.kind, &spec.target) {
        (FaultKind::ZoneOutage { .. }, FaultTarget::Zone(zone)) => Some(*zone),
        _ => None,
    }
}

fn overlap(a: &FaultSpec, b: &FaultSpec) -> bool {
    a.start_ns < b.end_ns() && b.start_ns < a.end_ns()
}

fn report_overlap(sink: &mut Sink<'_>, earlier: &Placed, later: &Placed, zone: &str) {
    let until = match earlier.spec.duration_ns {
        Some(_) => format!("to {}", fmt(earlier.spec.end_ns())),
        None => "to the end of the run".to_string(),
    };
    sink.error(
        Code::OverlappingFaults,
        later.start_span.clone(),
        format!(
            "this outage of `{zone}` overlaps the outage on line {} (from {} {until})",
            earlier.spec.line,
            fmt(earlier.spec.start_ns),
        ),
    )
    .label(format!("`{zone}` is already out at this time"))
    .help("merge the two outages, or start this one after the other ends");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FAULT_KINDS;

    #[test]
    fn any_key_is_every_key_of_every_kind() {
        for spec in FAULT_KINDS {
            assert!(
                spec.keys.iter().all(|key| is_fault_key(key)),
                "{}",
                spec.name
            );
        }
        for key in ANY_KEY {
            assert!(FAULT_KINDS.iter().any(|s| s.keys.contains(key)), "{key}");
        }
    }
}
