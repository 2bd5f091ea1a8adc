//! Simulated time: integer nanoseconds since the start of a run.

use std::fmt;

/// Nanoseconds per unit, for the few places that turn times into rates.
pub const NS_PER_US: u64 = 1_000;
pub const NS_PER_MS: u64 = 1_000_000;
pub const NS_PER_S: u64 = 1_000_000_000;

/// A point in simulated time. Invariant: never decreases while a run pops events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub fn ns(self) -> u64 {
        self.0
    }

    /// Adds a duration, saturating: a timer set past the end of time simply never fires.
    pub fn after(self, delay_ns: u64) -> SimTime {
        SimTime(self.0.saturating_add(delay_ns))
    }

    pub fn since(self, earlier: SimTime) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration_ns(self.0))
    }
}

/// Renders nanoseconds with the largest unit that keeps the number readable ("1.5s", "250ms").
pub fn format_duration_ns(ns: u64) -> String {
    const UNITS: [(u64, &str); 6] = [
        (3_600 * NS_PER_S, "h"),
        (60 * NS_PER_S, "m"),
        (NS_PER_S, "s"),
        (NS_PER_MS, "ms"),
        (NS_PER_US, "us"),
        (1, "ns"),
    ];
    if ns == 0 {
        return "0s".to_string();
    }
    for (scale, unit) in UNITS {
        if ns >= scale {
            let whole = ns / scale;
            let frac = (ns % scale) as f64 / scale as f64;
            if frac == 0.0 || whole >= 100 {
                return format!("{}{unit}", (ns as f64 / scale as f64).round() as u64);
            }
            let text = format!("{:.2}", whole as f64 + frac);
            let text = text.trim_end_matches('0').trim_end_matches('.');
            return format!("{text}{unit}");
        }
    }
    unreachable!("ns >= 1 always matches the last unit")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_readable_units() {
        assert_eq!(format_duration_ns(0), "0s");
        assert_eq!(format_duration_ns(500), "500ns");
        assert_eq!(format_duration_ns(2 * NS_PER_MS), "2ms");
        assert_eq!(format_duration_ns(1_500 * NS_PER_MS), "1.5s");
        assert_eq!(format_duration_ns(10 * 60 * NS_PER_S), "10m");
        assert_eq!(format_duration_ns(12_345_678), "12.35ms");
    }

    #[test]
    fn after_saturates() {
        assert_eq!(SimTime(u64::MAX - 1).after(10), SimTime::MAX);
        assert_eq!(SimTime(10).since(SimTime(20)), 0);
    }
}
