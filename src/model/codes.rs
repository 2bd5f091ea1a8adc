//! The table of diagnostic codes: one stable code per kind of mistake, with a one-line
//! explanation for an `explain` command.
//!
//! Codes never change meaning once released; a new kind of mistake gets a new code at the end.

/// A stable diagnostic code. `E` codes are errors, `W` codes warnings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    Syntax,
    UnknownKey,
    WrongType,
    MissingKey,
    OutOfRange,
    BadDuration,
    UnknownChoice,
    UnknownNode,
    UndeclaredZone,
    DuplicateName,
    ZoneTwice,
    BadDistribution,
    Cycle,
    PrimaryNotPlaced,
    UnknownWorkload,
    BadFaultTarget,
    ModelUnreadable,
    BadHypothesis,
    UnknownEdge,
    FaultAfterEnd,
    OverlappingFaults,
    ConflictingKeys,
    InvalidLabel,
    BadName,
    Unreachable,
    SelectionTooLarge,
    FaultWithoutEffect,
    FaultInWarmup,
    TimeoutBelowLatency,
    RetriesExceedClientTimeout,
    Saturated,
}

impl Code {
    /// Every code, in the order of the table.
    pub const ALL: [Code; 31] = [
        Code::Syntax,
        Code::UnknownKey,
        Code::WrongType,
        Code::MissingKey,
        Code::OutOfRange,
        Code::BadDuration,
        Code::UnknownChoice,
        Code::UnknownNode,
        Code::UndeclaredZone,
        Code::DuplicateName,
        Code::ZoneTwice,
        Code::BadDistribution,
        Code::Cycle,
        Code::PrimaryNotPlaced,
        Code::UnknownWorkload,
        Code::BadFaultTarget,
        Code::ModelUnreadable,
        Code::BadHypothesis,
        Code::UnknownEdge,
        Code::FaultAfterEnd,
        Code::OverlappingFaults,
        Code::ConflictingKeys,
        Code::InvalidLabel,
        Code::BadName,
        Code::Unreachable,
        Code::SelectionTooLarge,
        Code::FaultWithoutEffect,
        Code::FaultInWarmup,
        Code::TimeoutBelowLatency,
        Code::RetriesExceedClientTimeout,
        Code::Saturated,
    ];

    /// The code as printed: `E0001`.
    pub fn as_str(self) -> &'static str {
        self.entry().0
    }

    /// One line saying what the code means.
    pub fn explanation(self) -> &'static str {
        self.entry().1
    }

    /// Whether the code is a warning (a load with only warnings succeeds).
    pub fn is_warning(self) -> bool {
        self.as_str().starts_with('W')
    }

    /// Looks a printed code up, for `explain E0007`.
    pub fn lookup(text: &str) -> Option<Code> {
        Code::ALL
            .into_iter()
            .find(|code| code.as_str().eq_ignore_ascii_case(text.trim()))
    }

    fn entry(self) -> (&'static str, &'static str) {
        match self {
            Code::Syntax => ("E0001", "the file is not valid TOML"),
            Code::UnknownKey => ("E0002", "a key that this table does not have (a typo?)"),
            Code::WrongType => (
                "E0003",
                "a value of the wrong type, e.g. a number where a duration string is expected",
            ),
            Code::MissingKey => ("E0004", "a required key is missing from a table"),
            Code::OutOfRange => (
                "E0005",
                "a number or list outside its allowed range: non-positive rate, NaN, a ratio outside [0, 1], an empty list, warmup not below duration",
            ),
            Code::BadDuration => (
                "E0006",
                "a duration string that does not parse: it needs a non-negative number and a unit (ns, us, ms, s, m, h)",
            ),
            Code::UnknownChoice => (
                "E0007",
                "a value that is not one of the allowed words (arrival, concurrency, jitter, dist, on_unavailable, metric, window, fault kind)",
            ),
            Code::UnknownNode => (
                "E0008",
                "a reference to a node that the model does not define",
            ),
            Code::UndeclaredZone => (
                "E0009",
                "a zone that is not in the model's top-level `zones` list",
            ),
            Code::DuplicateName => (
                "E0010",
                "a name defined or listed twice: node names are unique across all kinds, zone names within `zones`; a fault's `zones` or `nodes` and a hypothesis's `window` list each name once",
            ),
            Code::ZoneTwice => (
                "E0011",
                "a node lists the same zone twice; use `replicas` for more instances per zone",
            ),
            Code::BadDistribution => (
                "E0012",
                "distribution parameters that do not make a distribution: min above max, p99 below the median, percentiles that decrease",
            ),
            Code::Cycle => (
                "E0013",
                "the calls form a cycle; the dependency graph must be acyclic",
            ),
            Code::PrimaryNotPlaced => (
                "E0014",
                "a database's `primary` zone is not one of the zones it is placed in",
            ),
            Code::UnknownWorkload => (
                "E0015",
                "a hypothesis or a fault names a workload that the model does not define",
            ),
            Code::BadFaultTarget => (
                "E0016",
                "a fault aimed at something its kind cannot act on: replicas of an external, a cache fault on a node that is not a cache, a node in a zone it is not placed in",
            ),
            Code::ModelUnreadable => ("E0017", "the model file named by a scenario cannot be read"),
            Code::BadHypothesis => (
                "E0018",
                "a hypothesis without a bound, with `min` above `max`, a change whose sign contradicts its key, or a bound its metric does not take",
            ),
            Code::UnknownEdge => (
                "E0019",
                "a fault's `edge` is not `caller->callee` for a call of the model or a cache's backing",
            ),
            Code::FaultAfterEnd => (
                "E0020",
                "a fault that starts at or after the end of the run, so it never acts",
            ),
            Code::OverlappingFaults => (
                "E0021",
                "faults that contradict each other in time: outages of the same zone that overlap",
            ),
            Code::ConflictingKeys => (
                "E0022",
                "keys that exclude each other: `count` and `percent`, `node` and `edge`, `zone` and `zones`, `nodes` and `node` or `zone`, a crash's `duration` and `restart_after`",
            ),
            Code::InvalidLabel => (
                "E0023",
                "a node label or label selector that is not Kubernetes label syntax",
            ),
            Code::BadName => (
                "E0024",
                "a name (of the model, the scenario, a zone, a node or a workload) holding a control, line-separator or bidirectional-formatting character",
            ),
            Code::Unreachable => (
                "W0001",
                "a node that no workload can reach; it will never serve a request",
            ),
            Code::SelectionTooLarge => (
                "W0002",
                "a fault's `count` is larger than its target's replicas; all of them are taken",
            ),
            Code::FaultWithoutEffect => (
                "W0003",
                "a fault that changes nothing, such as `capacity` with at least the node's workers",
            ),
            Code::FaultInWarmup => (
                "W0004",
                "a fault that starts before the warm-up ends; its effect until then is not measured",
            ),
            Code::TimeoutBelowLatency => (
                "W0005",
                "a call timeout shorter than the fastest answer the callee can give; every attempt times out",
            ),
            Code::RetriesExceedClientTimeout => (
                "W0006",
                "a retry policy whose worst case (attempts x timeout + backoffs) outlasts the client timeout of a workload that reaches it",
            ),
            Code::Saturated => (
                "W0007",
                "a node whose utilisation under the normal workload is at least 1: saturated before any fault",
            ),
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            assert_eq!(Code::lookup(code.as_str()), Some(code));
            assert!(!code.explanation().is_empty());
        }
        assert_eq!(Code::lookup("e0001"), Some(Code::Syntax));
        assert_eq!(Code::lookup("E9999"), None);
        assert!(Code::Unreachable.is_warning());
        assert!(!Code::Cycle.is_warning());
    }
}
