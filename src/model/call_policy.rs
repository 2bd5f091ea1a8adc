//! The resilience keys of a call — `circuit_breaker`, `retry_budget`, `bulkhead`, `fallback` —
//! read into a `CallResilience` of plain numbers (so `Call` stays `Copy`), and the validated
//! types themselves.
//!
//! `read_call` in `nodes.rs` hands the call's table here; every mistake is a located diagnostic
//! with an existing code, never a panic.

use super::codes::Code;
use super::reader::{Fields, Sink, Value, or_default};

/// The resilience mechanisms of one call. `Default` is none of them: a call without the keys
/// behaves exactly as before they existed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CallResilience {
    pub circuit_breaker: Option<CircuitBreaker>,
    pub retry_budget: Option<RetryBudget>,
    /// At most this many outstanding attempts from one caller replica. Invariant: >= 1.
    pub bulkhead: Option<u32>,
    /// When an optional call has finally failed, the caller spends this long on a default
    /// answer before it goes on, degraded. Invariant: only on an optional call.
    pub fallback_ns: Option<u64>,
}

impl CallResilience {
    /// Whether the call uses any mechanism at all.
    pub fn any(&self) -> bool {
        self.circuit_breaker.is_some()
            || self.retry_budget.is_some()
            || self.bulkhead.is_some()
            || self.fallback_ns.is_some()
    }

    /// The names of the mechanisms the call uses, in a fixed order.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.circuit_breaker.is_some() {
            names.push("circuit_breaker");
        }
        if self.retry_budget.is_some() {
            names.push("retry_budget");
        }
        if self.bulkhead.is_some() {
            names.push("bulkhead");
        }
        if self.fallback_ns.is_some() {
            names.push("fallback");
        }
        names
    }
}

/// A circuit breaker on one caller -> callee edge, shared by the caller's replicas.
/// Invariant: `0 < failure_rate <= 1`, `window_ns > 0`, `min_calls >= 1`, `open_ns > 0`,
/// `probes >= 1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CircuitBreaker {
    /// The failed share of the window's finished attempts that opens the breaker.
    pub failure_rate: f64,
    /// The rolling window the share is measured over.
    pub window_ns: u64,
    /// Attempts the window must hold before the share is judged.
    pub min_calls: u32,
    /// How long the breaker stays open before it lets probes through.
    pub open_ns: u64,
    /// Attempts let through half-open; all must succeed to close.
    pub probes: u32,
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        CircuitBreaker {
            failure_rate: 0.5,
            window_ns: 10_000_000_000,
            min_calls: 20,
            open_ns: 5_000_000_000,
            probes: 1,
        }
    }
}

/// A retry budget on one edge (Finagle, Envoy): retries in the last `window_ns` may not exceed
/// `ratio` x the first attempts in it plus `min_per_s` x the window in seconds.
/// Invariant: `ratio >= 0`, `min_per_s >= 0`, both finite; `window_ns > 0`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryBudget {
    pub ratio: f64,
    pub min_per_s: f64,
    pub window_ns: u64,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget {
            ratio: 0.2,
            min_per_s: 10.0,
            window_ns: 10_000_000_000,
        }
    }
}

/// The call keys read here, for the call's list of allowed keys.
pub(crate) const RESILIENCE_KEYS: [&str; 4] =
    ["circuit_breaker", "retry_budget", "bulkhead", "fallback"];

/// Reads the resilience keys of a call table. `optional` is the call's `optional` value when it
/// read cleanly (`fallback` needs it to be true).
pub(crate) fn read_call_resilience(
    sink: &mut Sink<'_>,
    fields: &Fields<'_, '_>,
    optional: Option<bool>,
) -> Option<CallResilience> {
    let breaker = or_default(fields.get("circuit_breaker"), None, |v| {
        read_breaker(sink, v).map(Some)
    });
    let budget = or_default(fields.get("retry_budget"), None, |v| {
        read_budget(sink, v).map(Some)
    });
    let bulkhead = or_default(fields.get("bulkhead"), None, |v| {
        sink.count("bulkhead", v, 1).map(Some)
    });
    let fallback = or_default(fields.get("fallback"), None, |v| {
        let ns = sink.duration("fallback", v)?;
        if optional == Some(false) {
            sink.error(
                Code::ConflictingKeys,
                v.span(),
                "`fallback` is only for an optional call",
            )
            .label("this call is not optional")
            .help("add `optional = true`: a fallback answers when an optional call has failed");
            return None;
        }
        Some(Some(ns))
    });
    Some(CallResilience {
        circuit_breaker: breaker?,
        retry_budget: budget?,
        bulkhead: bulkhead?,
        fallback_ns: fallback?,
    })
}

const BREAKER_KEYS: &[&str] = &["failure_rate", "window", "min_calls", "open", "probes"];

fn read_breaker(sink: &mut Sink<'_>, value: &Value<'_>) -> Option<CircuitBreaker> {
    let expected = "a table like { failure_rate = 0.5, open = \"5s\" }";
    let fields = Fields::of(sink, value, "the circuit breaker", expected, BREAKER_KEYS)?;
    let d = CircuitBreaker::default();
    let failure_rate = or_default(fields.get("failure_rate"), d.failure_rate, |v| {
        let x = sink.fraction("failure_rate", v)?;
        if x == 0.0 {
            sink.out_of_range("failure_rate", v, "0", "above 0 and at most 1");
            return None;
        }
        Some(x)
    });
    let window = or_default(fields.get("window"), d.window_ns, |v| {
        sink.positive_duration("window", v)
    });
    let min_calls = or_default(fields.get("min_calls"), d.min_calls, |v| {
        sink.count("min_calls", v, 1)
    });
    let open = or_default(fields.get("open"), d.open_ns, |v| {
        sink.positive_duration("open", v)
    });
    let probes = or_default(fields.get("probes"), d.probes, |v| {
        sink.count("probes", v, 1)
    });
    let clean = fields.finish(sink);
    let breaker = CircuitBreaker {
        failure_rate: failure_rate?,
        window_ns: window?,
        min_calls: min_calls?,
        open_ns: open?,
        probes: probes?,
    };
    clean.then_some(breaker)
}

const BUDGET_KEYS: &[&str] = &["ratio", "min_per_s", "window"];

fn read_budget(sink: &mut Sink<'_>, value: &Value<'_>) -> Option<RetryBudget> {
    let expected = "a table like { ratio = 0.2, min_per_s = 10 }";
    let fields = Fields::of(sink, value, "the retry budget", expected, BUDGET_KEYS)?;
    let d = RetryBudget::default();
    let ratio = or_default(fields.get("ratio"), d.ratio, |v| {
        sink.non_negative("ratio", v)
    });
    let min_per_s = or_default(fields.get("min_per_s"), d.min_per_s, |v| {
        sink.non_negative("min_per_s", v)
    });
    let window = or_default(fields.get("window"), d.window_ns, |v| {
        sink.positive_duration("window", v)
    });
    let clean = fields.finish(sink);
    let budget = RetryBudget {
        ratio: ratio?,
        min_per_s: min_per_s?,
        window_ns: window?,
    };
    clean.then_some(budget)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::model::{Code, parse_model};

    const HEAD: &str = "name = \"m\"\nzones = [\"a\"]\n[workload.w]\ntarget = \"api\"\nrate = 10\n\
        [service.api]\nzones = [\"a\"]\nservice_time = { dist = \"constant\", value = \"1ms\" }\n";
    const TAIL: &str =
        "[service.db]\nzones = [\"a\"]\nservice_time = { dist = \"constant\", value = \"1ms\" }\n";

    fn model(call: &str) -> String {
        format!("{HEAD}calls = [{call}]\n{TAIL}")
    }

    fn codes(call: &str) -> Vec<(Code, String)> {
        match parse_model(Path::new("m.toml"), &model(call)) {
            Ok(_) => Vec::new(),
            Err(d) => d
                .items
                .into_iter()
                .filter(|d| d.is_error())
                .map(|d| (d.code, d.message))
                .collect(),
        }
    }

    fn resilience(call: &str) -> CallResilience {
        let topology =
            parse_model(Path::new("m.toml"), &model(call)).unwrap_or_else(|d| panic!("{d}"));
        topology.nodes[0].calls[0].resilience
    }

    #[test]
    fn empty_tables_take_the_defaults() {
        let r = resilience("{ to = \"db\", circuit_breaker = {}, retry_budget = {} }");
        assert_eq!(r.circuit_breaker, Some(CircuitBreaker::default()));
        assert_eq!(r.retry_budget, Some(RetryBudget::default()));
        assert_eq!((r.bulkhead, r.fallback_ns), (None, None));
        assert!(!resilience("{ to = \"db\" }").any());
    }

    #[test]
    fn every_key_is_read() {
        let r = resilience(
            "{ to = \"db\", optional = true, fallback = \"5ms\", bulkhead = 3, \
             circuit_breaker = { failure_rate = 0.25, window = \"2s\", min_calls = 5, \
             open = \"1s\", probes = 2 }, retry_budget = { ratio = 0.1, min_per_s = 0, \
             window = \"1s\" } }",
        );
        let breaker = CircuitBreaker {
            failure_rate: 0.25,
            window_ns: 2_000_000_000,
            min_calls: 5,
            open_ns: 1_000_000_000,
            probes: 2,
        };
        assert_eq!(r.circuit_breaker, Some(breaker));
        let budget = RetryBudget {
            ratio: 0.1,
            min_per_s: 0.0,
            window_ns: 1_000_000_000,
        };
        assert_eq!(r.retry_budget, Some(budget));
        assert_eq!((r.bulkhead, r.fallback_ns), (Some(3), Some(5_000_000)));
        assert_eq!(
            r.names(),
            ["circuit_breaker", "retry_budget", "bulkhead", "fallback"]
        );
    }

    #[test]
    fn mistakes_are_located_diagnostics() {
        let found = codes("{ to = \"db\", fallback = \"5ms\" }");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, Code::ConflictingKeys);
        let found = codes("{ to = \"db\", circuit_breaker = { failure_rate = 0, probes = 0 } }");
        assert_eq!(
            found.iter().map(|f| f.0).collect::<Vec<_>>(),
            [Code::OutOfRange, Code::OutOfRange]
        );
        let found = codes("{ to = \"db\", retry_budget = { ratoi = 0.1 }, bulkhead = 0 }");
        let got: Vec<Code> = found.iter().map(|f| f.0).collect();
        assert_eq!(got, [Code::UnknownKey, Code::OutOfRange], "{found:?}");
        let found = codes("{ to = \"db\", circuit_breaker = true }");
        assert_eq!(found[0].0, Code::WrongType, "{found:?}");
        let found = codes("{ to = \"db\", optional = true, fallback = 5 }");
        assert_eq!(found[0].0, Code::WrongType, "{found:?}");
    }
}
