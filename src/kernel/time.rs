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

/// Renders nanoseconds with the largest unit that keeps the number readable: "250ms", "1.5s",
/// and minutes and hours with their remainder ("2m4s", "1h30m"), rounded to the smaller unit.
pub fn format_duration_ns(ns: u64) -> String {
    const MINUTE: u64 = 60 * NS_PER_S;
    const HOUR: u64 = 60 * MINUTE;
    if ns >= HOUR {
        // Saturating: the largest durations (an unbounded estimate) must print, not panic.
        let minutes = ns.saturating_add(MINUTE / 2) / MINUTE;
        return compound(minutes / 60, "h", minutes % 60, "m");
    }
    if ns >= MINUTE {
        let seconds = ns.saturating_add(NS_PER_S / 2) / NS_PER_S;
        return compound(seconds / 60, "m", seconds % 60, "s");
    }
    const UNITS: [(u64, &str); 4] = [
        (NS_PER_S, "s"),
        (NS_PER_MS, "ms"),
        (NS_PER_US, "us"),
        (1, "ns"),
    ];
    if ns == 0 {
        return "0s".to_string();
    }
    let (scale, unit) = UNITS
        .into_iter()
        .find(|&(scale, _)| ns >= scale)
        .expect("ns >= 1 matches the last unit");
    let value = ns as f64 / scale as f64;
    if value >= 100.0 || ns.is_multiple_of(scale) {
        return format!("{}{unit}", value.round() as u64);
    }
    let text = format!("{value:.2}");
    format!("{}{unit}", text.trim_end_matches('0').trim_end_matches('.'))
}

fn compound(major: u64, major_unit: &str, minor: u64, minor_unit: &str) -> String {
    if minor == 0 {
        format!("{major}{major_unit}")
    } else {
        format!("{major}{major_unit}{minor}{minor_unit}")
    }
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
        assert_eq!(format_duration_ns(124_200 * NS_PER_MS), "2m4s");
        assert_eq!(format_duration_ns(5_400 * NS_PER_S), "1h30m");
        assert_eq!(format_duration_ns(59_999 * NS_PER_MS), "60s");
        assert!(
            format_duration_ns(u64::MAX).ends_with('m'),
            "no overflow at the top"
        );
    }

    #[test]
    fn after_saturates() {
        assert_eq!(SimTime(u64::MAX - 1).after(10), SimTime::MAX);
        assert_eq!(SimTime(10).since(SimTime(20)), 0);
    }
}
