//! The long explanation of every diagnostic code, for `blastradius explain`: a paragraph on
//! why the mistake matters and how to fix it, and an example file that makes the mistake
//! with the change that fixes it.
//!
//! `codes.rs` stays the table of codes; this module adds to each code, by an exhaustive
//! `match`, so a new code does not compile without its explanation. The examples are loaded by
//! the real loader (with the bundled `models/shop.toml` standing in for a scenario's model),
//! both when `explain` shows the diagnostic and in the tests, which check that the example
//! gives its code and nothing else and that the fix loads cleanly.

use std::io;
use std::path::Path;

use super::codes::Code;
use super::diagnostic::Diagnostics;
use super::load_model::parse_model_with_warnings;
use super::load_scenario::parse_scenario;

/// The model that scenario examples name (`model = "../models/shop.toml"`).
const SHOP: &str = include_str!("../../models/shop.toml");

/// Whether an example is a model or a scenario file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExampleKind {
    Model,
    Scenario,
}

/// One code's documentation.
#[derive(Clone, Copy, Debug)]
pub struct CodeDoc {
    pub code: Code,
    /// Why it matters and how to fix it; paragraphs separated by blank lines.
    pub details: &'static str,
    pub kind: ExampleKind,
    /// A whole file that makes the mistake (and only this one).
    pub wrong: &'static str,
    /// The same file, fixed.
    pub fixed: &'static str,
}

impl Code {
    /// The long explanation and the example.
    pub fn doc(self) -> CodeDoc {
        let (details, kind, wrong, fixed) = entry(self);
        CodeDoc {
            code: self,
            details,
            kind,
            wrong,
            fixed,
        }
    }
}

impl CodeDoc {
    /// The path examples are shown under.
    pub fn example_path(&self) -> &'static Path {
        Path::new(match self.kind {
            ExampleKind::Model => "models/example.toml",
            ExampleKind::Scenario => "scenarios/example.toml",
        })
    }

    /// Loads `text` as this example's kind and returns every diagnostic (errors and warnings).
    pub fn diagnose(&self, text: &str) -> Diagnostics {
        let path = self.example_path();
        match self.kind {
            ExampleKind::Model => match parse_model_with_warnings(path, text) {
                Ok((_, warnings)) => warnings,
                Err(diagnostics) => diagnostics,
            },
            ExampleKind::Scenario => match parse_scenario(path, text, read_example_model) {
                Ok((_, warnings)) => warnings,
                Err(diagnostics) => diagnostics,
            },
        }
    }

    /// The whole explanation as plain text: summary, details, the example's diagnostic as the
    /// loader renders it, and the fix as changed lines.
    pub fn render(&self, color: bool) -> String {
        let mut out = format!("{}: {}\n\n", self.code, self.code.explanation());
        out.push_str(self.details.trim());
        out.push_str("\n\n");
        let mut shown = self.diagnose(self.wrong);
        shown.items.retain(|d| d.code == self.code);
        out.push_str(&format!(
            "For example, in {}:\n\n",
            self.example_path().display()
        ));
        out.push_str(shown.render_items(color).trim_end());
        out.push_str("\n\nThe fix:\n\n");
        out.push_str(&line_diff(self.wrong, self.fixed));
        out
    }
}

/// The scenario examples' file system: the bundled shop model and nothing else.
fn read_example_model(path: &Path) -> io::Result<String> {
    if path == Path::new("models/shop.toml") {
        Ok(SHOP.to_string())
    } else {
        Err(io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }
}

/// The lines that differ between two texts (one changed region), numbered as in `before`:
/// `  12 - old` and `  12 + new`.
pub(crate) fn line_diff(before: &str, after: &str) -> String {
    let old: Vec<&str> = before.lines().collect();
    let new: Vec<&str> = after.lines().collect();
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let width = (old.len().max(new.len())).to_string().len();
    let mut out = String::new();
    for (i, line) in old[prefix..old.len() - suffix].iter().enumerate() {
        out.push_str(&format!("{:>width$} - {line}\n", prefix + i + 1));
    }
    for (i, line) in new[prefix..new.len() - suffix].iter().enumerate() {
        out.push_str(&format!("{:>width$} + {line}\n", prefix + i + 1));
    }
    out
}

/// A small model; examples change one thing in it.
macro_rules! model {
    ($($line:literal)*) => {
        concat!($($line, "\n"),*)
    };
}

fn entry(code: Code) -> (&'static str, ExampleKind, &'static str, &'static str) {
    use ExampleKind::{Model, Scenario};
    match code {
        Code::Syntax => (SYNTAX, Model, SYNTAX_WRONG, BASE_MODEL),
        Code::UnknownKey => (UNKNOWN_KEY, Model, UNKNOWN_KEY_WRONG, BASE_MODEL),
        Code::WrongType => (WRONG_TYPE, Model, WRONG_TYPE_WRONG, BASE_MODEL),
        Code::MissingKey => (MISSING_KEY, Model, MISSING_KEY_WRONG, BASE_MODEL),
        Code::OutOfRange => (OUT_OF_RANGE, Model, OUT_OF_RANGE_WRONG, BASE_MODEL),
        Code::BadDuration => (BAD_DURATION, Model, BAD_DURATION_WRONG, BASE_MODEL),
        Code::UnknownChoice => (UNKNOWN_CHOICE, Model, UNKNOWN_CHOICE_WRONG, BASE_MODEL),
        Code::UnknownNode => (UNKNOWN_NODE, Model, UNKNOWN_NODE_WRONG, BASE_MODEL),
        Code::UndeclaredZone => (UNDECLARED_ZONE, Model, UNDECLARED_ZONE_WRONG, BASE_MODEL),
        Code::DuplicateName => (DUPLICATE_NAME, Model, DUPLICATE_NAME_WRONG, BASE_MODEL),
        Code::ZoneTwice => (ZONE_TWICE, Model, ZONE_TWICE_WRONG, ZONE_TWICE_FIXED),
        Code::BadDistribution => (BAD_DIST, Model, BAD_DIST_WRONG, BAD_DIST_FIXED),
        Code::Cycle => (CYCLE, Model, CYCLE_WRONG, BASE_MODEL),
        Code::PrimaryNotPlaced => (PRIMARY, Model, PRIMARY_WRONG, BASE_MODEL),
        Code::UnknownWorkload => (UNKNOWN_WORKLOAD, Scenario, UNKNOWN_WORKLOAD_WRONG, BASE),
        Code::BadFaultTarget => (BAD_TARGET, Scenario, BAD_TARGET_WRONG, BAD_TARGET_FIXED),
        Code::ModelUnreadable => (UNREADABLE, Scenario, UNREADABLE_WRONG, BASE),
        Code::BadHypothesis => (BAD_HYPOTHESIS, Scenario, BAD_HYPOTHESIS_WRONG, BASE),
        Code::UnknownEdge => (
            UNKNOWN_EDGE,
            Scenario,
            UNKNOWN_EDGE_WRONG,
            UNKNOWN_EDGE_FIXED,
        ),
        Code::FaultAfterEnd => (AFTER_END, Scenario, AFTER_END_WRONG, BASE),
        Code::OverlappingFaults => (OVERLAP, Scenario, OVERLAP_WRONG, OVERLAP_FIXED),
        Code::ConflictingKeys => (CONFLICT, Scenario, CONFLICT_WRONG, CONFLICT_FIXED),
        Code::InvalidLabel => (LABEL, Model, LABEL_WRONG, LABEL_FIXED),
        Code::BadName => (BAD_NAME, Model, BAD_NAME_WRONG, BASE_MODEL),
        Code::Unreachable => (UNREACHABLE, Model, UNREACHABLE_WRONG, UNREACHABLE_FIXED),
        Code::SelectionTooLarge => (TOO_LARGE, Scenario, TOO_LARGE_WRONG, CONFLICT_FIXED),
        Code::FaultWithoutEffect => (NO_EFFECT, Scenario, NO_EFFECT_WRONG, NO_EFFECT_FIXED),
        Code::FaultInWarmup => (IN_WARMUP, Scenario, IN_WARMUP_WRONG, BASE),
        Code::TimeoutBelowLatency => (SHORT_TIMEOUT, Model, SHORT_WRONG, SHORT_FIXED),
        Code::RetriesExceedClientTimeout => (RETRIES, Model, RETRIES_WRONG, RETRIES_FIXED),
        Code::Saturated => (SATURATED, Model, SATURATED_WRONG, BASE_MODEL),
    }
}

const BASE_MODEL: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const SYNTAX: &str = "
The file is not valid TOML, so nothing in it can be read: a string without its closing quote,
a missing `=` or comma, a table header without its closing bracket, a key defined twice.

The parser's message says what it expected at the place it stopped. Fix the syntax first;
the other checks run on what the parser could recover, and complaints about values inside a
syntax error are held back because they would be guesses.
";

const SYNTAX_WRONG: &str = model!(
    "name = \"shop"
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const UNKNOWN_KEY: &str = "
A key that this table does not take. Usually a typo (`worker` for `workers`, `timout` for
`timeout`), or a key of another kind of table: `hit_ratio` belongs to caches, `primary` to
databases, `recovery` to `zone-outage` faults, `autoscale` to services and caches (a
database does not autoscale: it is served in its primary zone and fails over).

Nothing is silently ignored: a misspelt key would otherwise leave its default in place and
the model would not be the system you meant. The help line suggests the nearest key, or lists
the keys the table takes. Run `blastradius schema` to get the JSON Schema, which lets an
editor complete keys as you type.
";

const UNKNOWN_KEY_WRONG: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "worker = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const WRONG_TYPE: &str = "
A value of the wrong type: a number where a string is expected, a string where a number is,
a single value where a list is, or a plain value where a table is.

The most common case is a duration written as a bare number. Durations always carry their
unit, as strings: `\"300ms\"`, not `300` — a bare number would leave it to the reader to guess
between seconds and milliseconds. Counts (`workers`, `replicas`, `retries`) are integers;
ratios (`hit_ratio`, `probability`) are numbers; lists of zones are arrays of strings.
";

const WRONG_TYPE_WRONG: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = 300 }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const MISSING_KEY: &str = "
A required key is missing. There are few: a model needs `name` and `zones`; a workload its
`target` and `rate`; a service, cache or database its `zones` and `service_time`; a cache its
`hit_ratio` and `backing`; a database its `primary`; an external its `latency`; a call its
`to`; a distribution its `dist` and that kind's parameters; a scenario its `name`, `model` and
`duration`; a fault its `kind`, `start` and a target; a hypothesis its `workload` and `metric`.

Everything else has a documented default. Required keys have none because any default would
be a guess about your system — how long a service takes, where it runs.
";

const MISSING_KEY_WRONG: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const OUT_OF_RANGE: &str = "
A number or a list outside the range it must be in: a rate that is not positive, a ratio
(`hit_ratio`, `probability`, `error_rate`, `share`) outside [0, 1], a `percent` outside
(0, 100], zero `workers` or `replicas`, NaN or infinity, an empty `zones` list, a warm-up that
is not shorter than the run.

Each of these would make the simulation meaningless rather than pessimistic, so they are
rejected instead of clamped. The label under the value says the range expected.
";

const OUT_OF_RANGE_WRONG: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 0"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const BAD_DURATION: &str = "
A duration string that does not parse. A duration is a non-negative decimal number followed
by a unit: `ns`, `us` (or `µs`), `ms`, `s`, `m` or `h` — `\"500us\"`, `\"2ms\"`, `\"1.5s\"`,
`\"10m\"`, `\"1h\"`. A space between number and unit is allowed.

Durations are read exactly, in integer nanoseconds (`\"0.1s\"` is exactly 100 000 000 ns), so a
value that is not a whole number of nanoseconds (`\"1.5ns\"`) is rejected too, as is a negative
duration or one longer than about 584 years.
";

const BAD_DURATION_WRONG: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const UNKNOWN_CHOICE: &str = "
A value that must be one of a fixed set of words is not one of them: `arrival` (`poisson`,
`constant`), `concurrency` (`blocking`, `async`), `jitter` (`none`, `full`, `equal`),
`on_unavailable` (`fallthrough`, `fail`), a distribution's `dist` (`constant`, `exponential`,
`uniform`, `lognormal`, `percentiles`), a fault's `kind`, a hypothesis's `metric` and
`window`.

The label lists the allowed words and the help line suggests the nearest one.
";

const UNKNOWN_CHOICE_WRONG: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponentail\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const UNKNOWN_NODE: &str = "
A call's `to`, a cache's `backing`, a workload's `target` or a fault's `node` names a node that
the model does not define. Node names are the `NAME` of `[service.NAME]`, `[cache.NAME]`,
`[database.NAME]` and `[external.NAME]`, one namespace for all four kinds.

The help line suggests the nearest name, or lists the model's nodes. In a scenario, names are
looked up in the model the scenario names.
";

const UNKNOWN_NODE_WRONG: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"order-db\", timeout = \"300ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const UNDECLARED_ZONE: &str = "
A node, a database's `primary` or a fault names a zone that is not in the model's top-level
`zones` list. Zones are declared once, at the top, so that a typo in one node's placement
cannot quietly create a zone with a single node in it — which would make a zone outage look
better contained than it is.

Add the zone to the top-level `zones`, or correct the name.
";

const UNDECLARED_ZONE_WRONG: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-c\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const DUPLICATE_NAME: &str = "
A name is defined or listed twice: two nodes with the same name (even of different kinds, as
node names share one namespace), a zone listed twice in the top-level `zones`, or a name
repeated in a fault's `zones` or `nodes` or in a hypothesis's `window` list.

A repeated name is either a copy-paste slip or a sign that two things were meant; either way
the file does not say which, so it is an error. Remove or rename the second one.
";

const DUPLICATE_NAME_WRONG: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const ZONE_TWICE: &str = "
A node lists the same zone twice in its `zones`. A node's `zones` says where it is placed;
how many instances run in each zone is `replicas` (per zone). Listing a zone twice does not
add instances.

List each zone once and set `replicas`.
";

const ZONE_TWICE_WRONG: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-a\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const ZONE_TWICE_FIXED: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\"]"
    "replicas = 2"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const BAD_DIST: &str = "
A distribution's parameters do not describe a distribution: a uniform `min` above its `max`, a
log-normal `p99` below its `median`, percentiles that decrease (`p90` below `p50`), the same
percentile twice (`p50` and `\"p50.0\"`), a `min` above the first percentile, or a percentiles
distribution without any percentile.

These usually come from copying numbers off a dashboard into the wrong keys. Check which
number is which percentile.
";

const BAD_DIST_WRONG: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"lognormal\", median = \"5ms\", p99 = \"4ms\" }"
);

const BAD_DIST_FIXED: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"lognormal\", median = \"5ms\", p99 = \"40ms\" }"
);

const CYCLE: &str = "
The calls (and caches' `backing`) form a cycle: a node ends up calling itself, directly or
through others. The simulator models request trees, in which every request ends; a cycle
would let one request call itself forever.

The message shows the cycle as a path and points at the call that closes it. If two services
really do call each other, model the part of each that the other uses as a separate node.
";

const CYCLE_WRONG: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
    "calls = [{ to = \"api\" }]"
);

const PRIMARY: &str = "
A database's `primary` zone is not one of the zones the database is placed in. A database is
served by its replicas in the primary zone; with `failover`, it moves to the next of its zones
when the primary zone has no healthy replica. A primary where the database has no replica
could never serve.

Set `primary` to one of the database's `zones`, or place the database in that zone.
";

const PRIMARY_WRONG: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\"]"
    "primary = \"az-b\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const UNREACHABLE: &str = "
A warning: no workload can reach this node, through any chain of calls or cache backings, so
it will never serve a request and every report will show it idle. Often a call that was meant
to be added, or a node left over from an earlier version of the model.

Add the call or a workload that reaches it, or remove the node. The model still loads.
";

const UNREACHABLE_WRONG: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    ""
    "[service.reports]"
    "zones = [\"az-a\"]"
    "service_time = { dist = \"exponential\", mean = \"20ms\" }"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const UNREACHABLE_FIXED: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }, { to = \"reports\", probability = 0.1 }]"
    ""
    "[service.reports]"
    "zones = [\"az-a\"]"
    "service_time = { dist = \"exponential\", mean = \"20ms\" }"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

/// A scenario against the bundled shop model.
macro_rules! scenario {
    (model: $model:literal; $($line:literal)*) => {
        concat!(
            "name = \"az-a outage\"\n",
            "model = \"", $model, "\"\n",
            "duration = \"15m\"\n",
            "warmup = \"2m\"\n",
            $("\n", $line,)*
            "\n"
        )
    };
    ($($line:literal)*) => {
        scenario!(model: "../models/shop.toml"; $($line)*)
    };
}

const BASE: &str = scenario!(
    ""
    "[[fault]]"
    "kind = \"zone-outage\""
    "zone = \"az-a\""
    "start = \"5m\""
    "duration = \"3m\""
    ""
    "[[hypothesis]]"
    "workload = \"checkout\""
    "metric = \"availability\""
    "min = 0.999"
);

const UNKNOWN_WORKLOAD: &str = "
A hypothesis or a `traffic-spike` fault names a workload that the scenario's model does not
define. Workloads are the `NAME` of the model's `[workload.NAME]` tables; hypotheses measure a
workload's user requests, because that is what users see.

The help line suggests the nearest workload, or lists the model's workloads.
";

const UNKNOWN_WORKLOAD_WRONG: &str = scenario!(
    ""
    "[[fault]]"
    "kind = \"zone-outage\""
    "zone = \"az-a\""
    "start = \"5m\""
    "duration = \"3m\""
    ""
    "[[hypothesis]]"
    "workload = \"chekout\""
    "metric = \"availability\""
    "min = 0.999"
);

const BAD_TARGET: &str = "
A fault is aimed at something its kind cannot act on: a `cache-flush` or `hit-ratio` on a node
that is not a cache; a crash, slowdown or capacity fault on an external (which has no replicas
the model knows of — use `errors`, `blackhole` or `latency` on it instead); a node restricted
to a `zone` it is not placed in; a `zonal-shift` whose `nodes` lists a database (served in
its primary zone: it fails over instead) or an external (it has no zones).

The message says what the kind needs and the help line lists the candidates.
";

const BAD_TARGET_WRONG: &str = scenario!(
    ""
    "[[fault]]"
    "kind = \"cache-flush\""
    "node = \"api\""
    "start = \"5m\""
);

const BAD_TARGET_FIXED: &str = scenario!(
    ""
    "[[fault]]"
    "kind = \"cache-flush\""
    "node = \"sessions\""
    "start = \"5m\""
);

const UNREADABLE: &str = "
The model file that the scenario's `model` key names cannot be read. The path is relative to
the scenario file's own directory, not to the directory the command runs in, so that a
scenario means the same thing wherever it is run from: a scenario in `scenarios/` names
`\"../models/shop.toml\"`.

Check the path and the file's permissions. The model's own mistakes, when it can be read, are
reported against the model file.
";

const UNREADABLE_WRONG: &str = scenario!(
    model: "models/shop.toml";
    ""
    "[[fault]]"
    "kind = \"zone-outage\""
    "zone = \"az-a\""
    "start = \"5m\""
    "duration = \"3m\""
    ""
    "[[hypothesis]]"
    "workload = \"checkout\""
    "metric = \"availability\""
    "min = 0.999"
);

const BAD_HYPOTHESIS: &str = "
A hypothesis that cannot be checked as written: no bound at all (`min`, `max`, `max_increase`
or `max_decrease`); a `min` above its `max`; a change whose sign contradicts its key
(`max_increase = \"-10%\"`); or a bound its metric does not take (`recovery_time` is one
number per run and takes only `max`).

A steady-state hypothesis says what \"normal\" means for a workload: availability at least
0.999, p99 at most 300 ms, p99 no more than 20% above the control's.
";

const BAD_HYPOTHESIS_WRONG: &str = scenario!(
    ""
    "[[fault]]"
    "kind = \"zone-outage\""
    "zone = \"az-a\""
    "start = \"5m\""
    "duration = \"3m\""
    ""
    "[[hypothesis]]"
    "workload = \"checkout\""
    "metric = \"availability\""
    "max = 0.999"
    "min = 1.0"
);

const UNKNOWN_EDGE: &str = "
A fault's `edge` is not a call of the model. An edge is written `\"caller->callee\"` and must
be one of the model's calls or a cache's backing (`\"sessions->orders-db\"`), in the direction
the call goes.

The help line suggests the nearest edge, or says when the call goes the other way.
";

const UNKNOWN_EDGE_WRONG: &str = scenario!(
    ""
    "[[fault]]"
    "kind = \"partition\""
    "edge = \"sessions->api\""
    "start = \"5m\""
    "duration = \"3m\""
);

const UNKNOWN_EDGE_FIXED: &str = scenario!(
    ""
    "[[fault]]"
    "kind = \"partition\""
    "edge = \"api->sessions\""
    "start = \"5m\""
    "duration = \"3m\""
);

const AFTER_END: &str = "
A fault starts at or after the end of the run, so it would never act. `start` counts from time
0 of the run, warm-up included, and the run lasts `duration`.

Start the fault earlier, or lengthen the run; leave time after the fault for the recovery to
be measured.
";

const AFTER_END_WRONG: &str = scenario!(
    ""
    "[[fault]]"
    "kind = \"zone-outage\""
    "zone = \"az-a\""
    "start = \"20m\""
    "duration = \"3m\""
    ""
    "[[hypothesis]]"
    "workload = \"checkout\""
    "metric = \"availability\""
    "min = 0.999"
);

const OVERLAP: &str = "
Two faults contradict each other in time: outages of the same zone that overlap. While a zone
is out it cannot go out again, and the end of the first outage would bring back replicas that
the second says are down.

Merge the two into one longer outage, or start the second after the first ends.
";

const OVERLAP_WRONG: &str = scenario!(
    ""
    "[[fault]]"
    "kind = \"zone-outage\""
    "zone = \"az-a\""
    "start = \"5m\""
    "duration = \"3m\""
    ""
    "[[fault]]"
    "kind = \"zone-outage\""
    "zone = \"az-a\""
    "start = \"7m\""
    "duration = \"3m\""
);

const OVERLAP_FIXED: &str = scenario!(
    ""
    "[[fault]]"
    "kind = \"zone-outage\""
    "zone = \"az-a\""
    "start = \"5m\""
    "duration = \"3m\""
    ""
    "[[fault]]"
    "kind = \"zone-outage\""
    "zone = \"az-a\""
    "start = \"10m\""
    "duration = \"3m\""
);

const BAD_NAME: &str = "
A name holds a character that changes how the text around it is laid out or read: a control
character (a line feed, a tab, an escape), the Unicode line or paragraph separator, or a
bidirectional formatting character (marks, embeddings, overrides, isolates). The names of the
model, the scenario, zones, nodes and workloads are all checked.

Names are printed in every report, in CI annotations, graphs and step summaries. A line feed
in a name would start a new line there, and on GitHub Actions a line that starts with `::` is
a workflow command; a right-to-left override makes a name display differently from what it
is. Any other text is allowed (spaces, `::`, `<`, backticks): each report escapes it. The
message names the character and its position; write the name on one line with visible
characters.
";

const BAD_NAME_WRONG: &str = model!(
    "name = \"shop\\n::error::deploy failed\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const CONFLICT: &str = "
Two keys that exclude each other are both given: `count` and `percent` (a selection is one or
the other), `node` and `edge`, `zone` and `zones`, a chaos monkey's `nodes` with `node` or
`zone`, a crash's `duration` and `restart_after` (both say when the replicas come back).

Keep the one you mean. The error points at the key written second.
";

const CONFLICT_WRONG: &str = scenario!(
    ""
    "[[fault]]"
    "kind = \"crash\""
    "node = \"api\""
    "count = 2"
    "percent = 50"
    "start = \"5m\""
    "duration = \"3m\""
);

const CONFLICT_FIXED: &str = scenario!(
    ""
    "[[fault]]"
    "kind = \"crash\""
    "node = \"api\""
    "count = 2"
    "start = \"5m\""
    "duration = \"3m\""
);

const LABEL: &str = "
A node's `labels` hold a key or value that is not Kubernetes label syntax, so no Chaos Toolkit
`label_selector` or AWS resource tag could name it the same way. A key is an optional DNS
subdomain prefix and `/` (`app.kubernetes.io/name`), then a name; a value is empty or a name.
A name has at most 63 characters: letters, digits, `-`, `_` and `.`, beginning and ending with
a letter or digit. No spaces, no control characters.

Rename the label: `web tier` becomes `web-tier`.
";

const LABEL_WRONG: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    "labels = { app = \"api\", tier = \"web tier\" }"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const LABEL_FIXED: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    "labels = { app = \"api\", tier = \"web-tier\" }"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const TOO_LARGE: &str = "
A warning: a fault's `count` is larger than the number of replicas it can choose from (the
node's replicas per zone times its zones, or those in the fault's `zone`). Every replica is
taken, which is probably not the partial failure the scenario meant to show.

Lower `count`, use `percent`, or leave both out to take every replica.
";

const TOO_LARGE_WRONG: &str = scenario!(
    ""
    "[[fault]]"
    "kind = \"crash\""
    "node = \"api\""
    "count = 10"
    "start = \"5m\""
    "duration = \"3m\""
);

const NO_EFFECT: &str = "
A warning: a fault that changes nothing, such as a `capacity` fault that leaves at least as
many workers as the node has, or a `slowdown` by a factor of 1. The scenario still runs, but
its experiment equals its control.

Check the numbers against the model: `capacity`'s `workers` is what remains per replica.
";

const NO_EFFECT_WRONG: &str = scenario!(
    ""
    "[[fault]]"
    "kind = \"capacity\""
    "node = \"api\""
    "workers = 16"
    "start = \"5m\""
    "duration = \"3m\""
);

const NO_EFFECT_FIXED: &str = scenario!(
    ""
    "[[fault]]"
    "kind = \"capacity\""
    "node = \"api\""
    "workers = 4"
    "start = \"5m\""
    "duration = \"3m\""
);

const IN_WARMUP: &str = "
A warning: a fault starts before the warm-up ends. The warm-up is simulated but not measured
(queues fill, caches settle), so the fault's effect until the warm-up ends is missing from
every window and from the blast radius.

Start the fault after the warm-up, or shorten `warmup`.
";

const IN_WARMUP_WRONG: &str = scenario!(
    ""
    "[[fault]]"
    "kind = \"zone-outage\""
    "zone = \"az-a\""
    "start = \"1m\""
    "duration = \"3m\""
    ""
    "[[hypothesis]]"
    "workload = \"checkout\""
    "metric = \"availability\""
    "min = 0.999"
);

const SHORT_TIMEOUT: &str = "
A warning: a call's (or a workload's client) timeout is shorter than the fastest answer the
callee can possibly give — the minimum of its service time plus the calls it always makes, or
an external's minimum latency. Every attempt times out, so every request through this call
fails or, for an optional call, degrades, before any fault.

Usually a unit slip (`\"3ms\"` for `\"300ms\"`) or a timeout copied from a faster dependency.
Raise the timeout above the callee's fastest answer.
";

const SHORT_WRONG: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"3ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"constant\", value = \"5ms\" }"
);

const SHORT_FIXED: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"constant\", value = \"5ms\" }"
);

const RETRIES: &str = "
A warning: a retry policy whose worst case — every attempt timing out, plus the backoffs
between them — lasts longer than the client timeout of a workload that reaches the call. The
client has given up before the last retries are made, so they add load on a struggling
dependency without ever helping a user: the classic ingredient of a retry storm.

Keep `(retries + 1) x timeout + backoffs` within the client's timeout: fewer retries, a
shorter per-attempt timeout, or a longer client timeout.
";

const RETRIES_WRONG: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    "timeout = \"1s\""
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\", retries = 3 }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const RETRIES_FIXED: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 100"
    "timeout = \"1s\""
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\", retries = 2 }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

const SATURATED: &str = "
A warning: under its normal workload alone, a node is offered at least as much work as its
workers can do — utilisation of 1 or more — so its queues grow without bound before any fault
is injected, and every scenario measures an overload rather than the fault.

The estimate is a lower bound (arrival rates through the graph by call probability and cache
miss ratio; the time a request holds a worker is its own mean service time plus, when
blocking, its calls' mean answers without queueing), so a node it flags is saturated. Add
replicas or workers, make the node async, or lower the workload's rate.
";

const SATURATED_WRONG: &str = model!(
    "name = \"shop\""
    "zones = [\"az-a\", \"az-b\"]"
    ""
    "[workload.checkout]"
    "target = \"api\""
    "rate = 300"
    ""
    "[service.api]"
    "zones = [\"az-a\", \"az-b\"]"
    "workers = 16"
    "service_time = { dist = \"exponential\", mean = \"2ms\" }"
    "calls = [{ to = \"orders-db\", timeout = \"300ms\" }]"
    ""
    "[database.orders-db]"
    "zones = [\"az-a\", \"az-b\"]"
    "primary = \"az-a\""
    "service_time = { dist = \"exponential\", mean = \"5ms\" }"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_gives_its_code_and_its_fix_loads_cleanly() {
        for code in Code::ALL {
            let doc = code.doc();
            let wrong = doc.diagnose(doc.wrong);
            let codes: Vec<Code> = wrong.iter().map(|d| d.code).collect();
            assert!(
                !codes.is_empty() && codes.iter().all(|c| *c == code),
                "{code}: the example gives {codes:?}\n{}",
                wrong.render(false)
            );
            let fixed = doc.diagnose(doc.fixed);
            assert!(
                fixed.is_empty(),
                "{code}: the fix gives\n{}",
                fixed.render(false)
            );
            assert!(!doc.details.trim().is_empty());
        }
    }

    #[test]
    fn explanations_show_the_diagnostic_and_the_fix() {
        let text = Code::UnknownNode.doc().render(false);
        assert!(text.starts_with("E0008: a reference to a node"), "{text}");
        assert!(
            text.contains("error[E0008]: unknown node `order-db`"),
            "{text}"
        );
        assert!(text.contains("--> models/example.toml:12:17"), "{text}");
        assert!(text.contains("12 - calls = [{ to = \"order-db\""), "{text}");
        assert!(
            text.contains("12 + calls = [{ to = \"orders-db\""),
            "{text}"
        );
    }

    #[test]
    fn line_diffs_number_the_changed_lines() {
        assert_eq!(line_diff("a\nb\nc\n", "a\nB\nc\n"), "2 - b\n2 + B\n");
        assert_eq!(line_diff("a\nc\n", "a\nb\nc\n"), "2 + b\n");
        assert_eq!(line_diff("a\n", "a\n"), "");
    }
}
