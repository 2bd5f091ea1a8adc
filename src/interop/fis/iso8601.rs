//! ISO 8601 durations as FIS writes them (`PT10M`, `PT1H30M`, `PT0.5S`, `P1D`), exactly, in
//! integer nanoseconds, and back.
//!
//! A small parser of its own rather than a crate: `iso8601-duration` holds the fields as
//! `f32`, so `PT1H30M` would not come back as an exact number of nanoseconds, and `iso8601`
//! caps each field at the next unit (no `PT90M`, which FIS accepts) and stops at milliseconds.
//! Years and months have no fixed length, so they are rejected rather than guessed.

/// Nanoseconds per unit letter, in the order the letters must appear after `T`.
const TIME_UNITS: [(char, u128); 3] = [
    ('H', 3_600_000_000_000),
    ('M', 60_000_000_000),
    ('S', 1_000_000_000),
];
const DAY_NS: u128 = 86_400_000_000_000;
const WEEK_NS: u128 = 7 * DAY_NS;

/// Parses `P[nW][nD][T[nH][nM][nS]]` into nanoseconds. A decimal fraction (`.` or `,`) is
/// allowed on the last number only, as ISO 8601 says, and must give whole nanoseconds.
pub fn parse_iso8601(text: &str) -> Result<u64, String> {
    let body = text.strip_prefix('P').ok_or_else(|| {
        format!("expected an ISO 8601 duration such as \"PT10M\", found \"{text}\"")
    })?;
    let (date, time) = match body.split_once('T') {
        Some((_, "")) => {
            return Err(format!("\"{text}\" has nothing after `T`"));
        }
        Some((date, time)) => (date, Some(time)),
        None => (body, None),
    };
    if date.is_empty() && time.is_none() {
        return Err(format!("\"{text}\" has no components"));
    }
    let mut parts = components(date, text)?;
    let date_count = parts.len();
    parts.extend(components(time.unwrap_or(""), text)?);
    let mut total: u128 = 0;
    let mut order = 0;
    for (index, (number, unit)) in parts.iter().enumerate() {
        let in_time = index >= date_count;
        let (rank, unit_ns) = unit_ns(*unit, in_time, text)?;
        if rank < order {
            return Err(format!("\"{text}\": `{unit}` is out of order"));
        }
        order = rank + 1;
        if number.contains(['.', ',']) && index + 1 != parts.len() {
            return Err(format!(
                "\"{text}\": only the last number may have a fraction"
            ));
        }
        total = total
            .checked_add(scale(number, unit_ns).map_err(|why| format!("\"{text}\": {why}"))?)
            .ok_or_else(|| format!("\"{text}\" is too long"))?;
    }
    u64::try_from(total).map_err(|_| format!("\"{text}\" is too long"))
}

/// The unit's rank (for the order check) and length.
fn unit_ns(unit: char, in_time: bool, text: &str) -> Result<(usize, u128), String> {
    if in_time {
        if let Some(rank) = TIME_UNITS.iter().position(|(u, _)| *u == unit) {
            return Ok((2 + rank, TIME_UNITS[rank].1));
        }
        return Err(format!(
            "\"{text}\": unknown time unit `{unit}` (expected H, M or S)"
        ));
    }
    match unit {
        'W' => Ok((0, WEEK_NS)),
        'D' => Ok((1, DAY_NS)),
        'Y' | 'M' => Err(format!(
            "\"{text}\": years and months have no fixed length; write days or hours (`P30D`, `PT12H`)"
        )),
        other => Err(format!(
            "\"{text}\": unknown date unit `{other}` (expected W or D)"
        )),
    }
}

/// Splits `1H30M` into `[("1", 'H'), ("30", 'M')]`.
fn components<'t>(part: &'t str, text: &str) -> Result<Vec<(&'t str, char)>, String> {
    let mut out = Vec::new();
    let mut start = 0;
    for (at, c) in part.char_indices() {
        if c.is_ascii_digit() || c == '.' || c == ',' {
            continue;
        }
        if at == start {
            return Err(format!("\"{text}\": expected a number before `{c}`"));
        }
        out.push((&part[start..at], c));
        start = at + c.len_utf8();
    }
    if start != part.len() {
        return Err(format!("\"{text}\": `{}` has no unit", &part[start..]));
    }
    Ok(out)
}

/// `number × unit_ns` exactly, for `digits[(.|,)digits]`.
fn scale(number: &str, unit_ns: u128) -> Result<u128, String> {
    let (whole, fraction) = number.split_once(['.', ',']).unwrap_or((number, ""));
    if whole.is_empty()
        || fraction.contains(['.', ','])
        || (number.len() > whole.len() && fraction.is_empty())
    {
        return Err(format!("malformed number `{number}`"));
    }
    let fraction = fraction.trim_end_matches('0');
    let too_long = || "the number is too long".to_string();
    let value = |digits: &str| -> Option<u128> {
        digits.bytes().try_fold(0u128, |acc, b| {
            acc.checked_mul(10)?.checked_add(u128::from(b - b'0'))
        })
    };
    let denominator = 10u128
        .checked_pow(fraction.len() as u32)
        .ok_or_else(too_long)?;
    let fraction_ns = value(fraction)
        .and_then(|f| f.checked_mul(unit_ns))
        .ok_or_else(too_long)?;
    if fraction_ns % denominator != 0 {
        return Err("not a whole number of nanoseconds".to_string());
    }
    value(whole)
        .and_then(|w| w.checked_mul(unit_ns))
        .and_then(|ns| ns.checked_add(fraction_ns / denominator))
        .ok_or_else(too_long)
}

/// The duration as FIS writes it: hours, minutes and seconds after `PT`, the seconds with as
/// many decimals as they need (`PT1H30M`, `PT0.25S`, `PT0S`). Parses back to the same `ns`.
pub fn format_iso8601(ns: u64) -> String {
    if ns == 0 {
        return "PT0S".to_string();
    }
    let (hours, rest) = (ns / 3_600_000_000_000, ns % 3_600_000_000_000);
    let (minutes, rest) = (rest / 60_000_000_000, rest % 60_000_000_000);
    let (seconds, nanos) = (rest / 1_000_000_000, rest % 1_000_000_000);
    let mut out = String::from("PT");
    if hours > 0 {
        out.push_str(&format!("{hours}H"));
    }
    if minutes > 0 {
        out.push_str(&format!("{minutes}M"));
    }
    if nanos > 0 {
        let fraction = format!("{nanos:09}");
        out.push_str(&format!("{seconds}.{}S", fraction.trim_end_matches('0')));
    } else if seconds > 0 {
        out.push_str(&format!("{seconds}S"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn fis_durations_parse_to_exact_nanoseconds() {
        assert_eq!(parse_iso8601("PT10M"), Ok(600 * S));
        assert_eq!(parse_iso8601("PT1H30M"), Ok(5_400 * S));
        assert_eq!(parse_iso8601("PT90M"), Ok(5_400 * S));
        assert_eq!(parse_iso8601("PT0.5S"), Ok(S / 2));
        assert_eq!(parse_iso8601("PT1,25S"), Ok(S + S / 4));
        assert_eq!(parse_iso8601("P1DT2H"), Ok(26 * 3_600 * S));
        assert_eq!(parse_iso8601("P2W"), Ok(14 * 86_400 * S));
        assert_eq!(parse_iso8601("PT1.5M"), Ok(90 * S));
        assert_eq!(parse_iso8601("PT0.000000001S"), Ok(1));
    }

    #[test]
    fn malformed_and_inexact_durations_say_why() {
        for (text, why) in [
            ("10m", "expected an ISO 8601 duration"),
            ("P", "no components"),
            ("PT", "nothing after `T`"),
            ("PT10", "has no unit"),
            ("PTM", "expected a number"),
            ("P1M", "no fixed length"),
            ("P1Y", "no fixed length"),
            ("PT1M1H", "out of order"),
            ("PT1.5M30S", "only the last number"),
            ("PT1X", "unknown time unit"),
            ("PT0.0000000001S", "whole number of nanoseconds"),
            ("PT1..5S", "malformed number"),
            ("PT99999999999999999999H", "too long"),
        ] {
            let error = parse_iso8601(text).expect_err(text);
            assert!(error.contains(why), "{text}: {error}");
        }
    }

    #[test]
    fn formatted_durations_read_back_exactly() {
        for ns in [
            0,
            1,
            S / 4,
            59 * S,
            60 * S,
            5_400 * S,
            3_600 * S + 1,
            30 * 3_600 * S,
        ] {
            let text = format_iso8601(ns);
            assert_eq!(parse_iso8601(&text), Ok(ns), "{text}");
        }
        assert_eq!(format_iso8601(5_400 * S), "PT1H30M");
        assert_eq!(format_iso8601(S / 4), "PT0.25S");
        assert_eq!(format_iso8601(180 * S), "PT3M");
    }
}
