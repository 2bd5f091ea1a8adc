//! Duration strings ("500us", "2ms", "1.5s", "10m", "1h", and compound ones such as "1m20s"
//! or "2m30.5s") to integer nanoseconds, with exact decimal arithmetic: "0.1s" is exactly
//! 100_000_000 ns, never a float rounded.

/// The units, in the order they are listed in messages, with their length in nanoseconds.
const UNITS: [(&str, u128); 6] = [
    ("ns", 1),
    ("us", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parses a duration string into nanoseconds. A duration is one or more parts, each a
/// non-negative decimal (digits, optionally a point and more digits) and a unit — ns, us (or
/// µs), ms, s, m, h — as people write them: `"2ms"`, `"1m20s"`, `"1h30m"`, `"2m30.5s"`.
/// Spaces may separate a number from its unit and one part from the next. The parts' units
/// go from the largest to the smallest, each at most once, so `"30m1h"` or `"1s1s"` (more
/// likely a typo than a sum) is rejected. The total must be a whole number of nanoseconds
/// that fits in a `u64`.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(format!("empty duration; {}", units_hint()));
    }
    if trimmed.starts_with('-') {
        return Err(format!("durations cannot be negative, found \"{trimmed}\""));
    }
    let too_long = || format!("\"{trimmed}\" is too long (the limit is about 584 years)");
    let mut rest = trimmed;
    let mut total: u128 = 0;
    let mut previous: Option<(&str, u128)> = None;
    while !rest.is_empty() {
        let (number, unit, after) = split_part(rest, trimmed)?;
        let unit_ns = unit_ns(unit)
            .ok_or_else(|| format!("unknown unit `{unit}` in \"{trimmed}\"; {}", units_hint()))?;
        if let Some((before, before_ns)) = previous {
            if unit_ns >= before_ns {
                return Err(format!(
                    "in \"{trimmed}\", `{unit}` follows `{before}`: write the parts of a \
                     duration from the largest unit to the smallest, each once (like 1h30m or \
                     2m30.5s)"
                ));
            }
        }
        let ns = scale(number, unit_ns).map_err(|why| format!("{why} in \"{trimmed}\""))?;
        total = total.checked_add(ns).ok_or_else(too_long)?;
        previous = Some((unit, unit_ns));
        rest = after;
    }
    u64::try_from(total).map_err(|_| too_long())
}

/// The first part of `rest`: its number, its unit, and what follows (spaces skipped).
fn split_part<'a>(rest: &'a str, whole: &str) -> Result<(&'a str, &'a str, &'a str), String> {
    let split = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, tail) = rest.split_at(split);
    if number.is_empty() {
        return Err(if rest.len() == whole.len() {
            format!("expected a number at the start of \"{whole}\"")
        } else {
            format!("expected a number before `{rest}` in \"{whole}\"")
        });
    }
    let tail = tail.trim_start();
    let unit_end = tail
        .find(|c: char| c.is_ascii_digit() || matches!(c, '.' | '-' | '+') || c.is_whitespace())
        .unwrap_or(tail.len());
    let (unit, after) = tail.split_at(unit_end);
    if unit.is_empty() {
        return Err(format!("missing unit in \"{whole}\"; {}", units_hint()));
    }
    Ok((number, unit, after.trim_start()))
}

fn units_hint() -> String {
    let names: Vec<&str> = UNITS.iter().map(|(name, _)| *name).collect();
    format!("expected one of the units {}", names.join(", "))
}

fn unit_ns(unit: &str) -> Option<u128> {
    let unit = match unit {
        "µs" | "μs" => "us",
        other => other,
    };
    UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, ns)| *ns)
}

/// `number * unit_ns` exactly, for a decimal `number` of the form `digits[.digits]`.
fn scale(number: &str, unit_ns: u128) -> Result<u128, String> {
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (number, ""),
    };
    if whole.is_empty() || (number.contains('.') && fraction.is_empty()) || fraction.contains('.') {
        return Err(format!("malformed number `{number}`"));
    }
    let fraction = fraction.trim_end_matches('0');
    let too_long = || "the number is too long".to_string();
    let whole = digits_value(whole).ok_or_else(too_long)?;
    let fraction_value = digits_value(fraction).ok_or_else(too_long)?;
    let denominator = 10u128
        .checked_pow(fraction.len() as u32)
        .ok_or_else(too_long)?;
    let fraction_ns = fraction_value.checked_mul(unit_ns).ok_or_else(too_long)?;
    if fraction_ns % denominator != 0 {
        return Err("not a whole number of nanoseconds".to_string());
    }
    whole
        .checked_mul(unit_ns)
        .and_then(|ns| ns.checked_add(fraction_ns / denominator))
        .ok_or_else(too_long)
}

/// The value of a string of ASCII digits ("" is 0), or `None` if it overflows.
fn digits_value(digits: &str) -> Option<u128> {
    digits.bytes().try_fold(0u128, |acc, b| {
        acc.checked_mul(10)?
            .checked_add(u128::from(b.checked_sub(b'0')?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit() {
        assert_eq!(parse_duration("7ns"), Ok(7));
        assert_eq!(parse_duration("500us"), Ok(500_000));
        assert_eq!(parse_duration("500µs"), Ok(500_000));
        assert_eq!(parse_duration("2ms"), Ok(2_000_000));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_duration("10m"), Ok(600_000_000_000));
        assert_eq!(parse_duration("1h"), Ok(3_600_000_000_000));
        assert_eq!(parse_duration("0s"), Ok(0));
        assert_eq!(parse_duration(" 2 ms "), Ok(2_000_000));
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse_duration("0.1s"), Ok(100_000_000));
        assert_eq!(parse_duration("0.3s"), Ok(300_000_000));
        assert_eq!(parse_duration("1.005ms"), Ok(1_005_000));
        assert_eq!(
            parse_duration("2.50000000000000000000000000000000000000ms"),
            Ok(2_500_000)
        );
        assert_eq!(parse_duration("0.000000001s"), Ok(1));
        assert_eq!(parse_duration("1.5us"), Ok(1_500));
        assert_eq!(parse_duration("0.25m"), Ok(15_000_000_000));
    }

    #[test]
    fn rejects_bad_input_with_reasons() {
        let err = |s: &str| parse_duration(s).unwrap_err();
        assert!(err("-5ms").contains("negative"));
        assert!(err("500").contains("missing unit"));
        assert!(err("500").contains("ns, us, ms, s, m, h"));
        assert!(err("5sec").contains("unknown unit `sec`"));
        assert!(err("5sec").contains("ns, us, ms, s, m, h"));
        assert!(err("").contains("empty"));
        assert!(err("ms").contains("expected a number"));
        assert!(err("1.5ns").contains("whole number of nanoseconds"));
        assert!(err("1..5s").contains("malformed"));
        assert!(err(".5s").contains("malformed"));
        assert!(err("5.s").contains("malformed"));
        assert!(err("1e3ms").contains("unknown unit"));
        assert!(err("+5ms").contains("expected a number"));
        assert!(err("6000000h").contains("too long"));
        assert!(err("99999999999999999999999999999999999999999s").contains("too long"));
        assert!(err("0.0000000000000000000000000000000000000001s").contains("too long"));
    }

    #[test]
    fn compound_durations_add_their_parts() {
        assert_eq!(parse_duration("1m20s"), Ok(80_000_000_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_duration("2m30.5s"), Ok(150_500_000_000));
        assert_eq!(
            parse_duration("1h 2m 3s 4ms 5us 6ns"),
            Ok(3_723_004_005_006)
        );
        assert_eq!(parse_duration("1 m 20 s"), Ok(80_000_000_000));
        assert_eq!(parse_duration("1s500ms"), Ok(1_500_000_000));
    }

    #[test]
    fn compound_durations_go_from_large_to_small_units() {
        let err = |s: &str| parse_duration(s).unwrap_err();
        assert!(err("30m1h").contains("`h` follows `m`"), "{}", err("30m1h"));
        assert!(err("1s1s").contains("each once"));
        assert!(err("1m20").contains("missing unit"));
        assert!(err("1m20x").contains("unknown unit `x`"));
        assert!(err("1m-5s").contains("expected a number before `-5s`"));
        assert!(err("5000000h5000000h").contains("`h` follows `h`"));
        assert!(err("5124095h34m33.709551616s").contains("too long"));
        assert_eq!(parse_duration("5124095h34m33.709551615s"), Ok(u64::MAX));
    }

    #[test]
    fn the_largest_duration_fits() {
        assert_eq!(parse_duration("18446744073709551615ns"), Ok(u64::MAX));
        assert!(parse_duration("18446744073709551616ns").is_err());
    }
}
