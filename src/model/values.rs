//! Scalar readers: strings, numbers in ranges, durations, booleans and one-of-these-words
//! choices, each reporting "expected ..., found ..." at the value and returning `None` on a
//! mistake.

use toml::de::DeValue;

use super::codes::Code;
use super::duration::parse_duration;
use super::reader::{Sink, Value, found, help_for_name, quote_list};

impl Sink<'_> {
    pub(crate) fn wrong_type(&mut self, key: &str, value: &Value<'_>, expected: &str) {
        let diagnostic = self.error(
            Code::WrongType,
            value.span(),
            format!(
                "wrong type for `{key}`: expected {expected}, found {}",
                found(value.get_ref())
            ),
        );
        diagnostic.label(format!("expected {expected}"));
        if expected.contains("duration") && matches!(value.get_ref(), DeValue::Integer(_)) {
            diagnostic.help("durations are strings with a unit, e.g. \"5ms\"");
        }
    }

    pub(crate) fn out_of_range(
        &mut self,
        key: &str,
        value: &Value<'_>,
        shown: &str,
        expected: &str,
    ) {
        self.error(
            Code::OutOfRange,
            value.span(),
            format!("`{key}` must be {expected}, found {shown}"),
        )
        .label(format!("expected {expected}"));
    }

    pub(crate) fn string<'v>(&mut self, key: &str, value: &'v Value<'_>) -> Option<&'v str> {
        match value.get_ref() {
            DeValue::String(s) => Some(s.as_ref()),
            _ => {
                self.wrong_type(key, value, "a string");
                None
            }
        }
    }

    /// A duration string in nanoseconds.
    pub(crate) fn duration(&mut self, key: &str, value: &Value<'_>) -> Option<u64> {
        let DeValue::String(text) = value.get_ref() else {
            self.wrong_type(key, value, "a duration string like \"2ms\"");
            return None;
        };
        match parse_duration(text) {
            Ok(ns) => Some(ns),
            Err(why) => {
                self.error(
                    Code::BadDuration,
                    value.span(),
                    format!("invalid duration for `{key}`: {why}"),
                )
                .label("expected a duration like \"500us\", \"2ms\", \"1.5s\"");
                None
            }
        }
    }

    /// A duration that must be above zero.
    pub(crate) fn positive_duration(&mut self, key: &str, value: &Value<'_>) -> Option<u64> {
        let ns = self.duration(key, value)?;
        if ns == 0 {
            self.out_of_range(key, value, "0", "a positive duration");
            return None;
        }
        Some(ns)
    }

    /// Any finite number, integer or float.
    pub(crate) fn number(&mut self, key: &str, value: &Value<'_>) -> Option<f64> {
        let parsed = match value.get_ref() {
            DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|n| n as f64),
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
            _ => {
                self.wrong_type(key, value, "a number");
                return None;
            }
        };
        match parsed {
            Some(x) if x.is_finite() => Some(x),
            _ => {
                let shown = found(value.get_ref());
                self.out_of_range(key, value, &shown, "a finite number");
                None
            }
        }
    }

    /// A finite number above zero.
    pub(crate) fn positive(&mut self, key: &str, value: &Value<'_>) -> Option<f64> {
        let x = self.number(key, value)?;
        if x <= 0.0 {
            self.out_of_range(key, value, &x.to_string(), "positive");
            return None;
        }
        Some(x)
    }

    /// A finite number at least zero.
    pub(crate) fn non_negative(&mut self, key: &str, value: &Value<'_>) -> Option<f64> {
        let x = self.number(key, value)?;
        if x < 0.0 {
            self.out_of_range(key, value, &x.to_string(), "at least 0");
            return None;
        }
        Some(x)
    }

    /// A number in [0, 1].
    pub(crate) fn fraction(&mut self, key: &str, value: &Value<'_>) -> Option<f64> {
        let x = self.number(key, value)?;
        if !(0.0..=1.0).contains(&x) {
            self.out_of_range(key, value, &x.to_string(), "between 0 and 1");
            return None;
        }
        Some(x)
    }

    /// A percentage in (0, 100], as a number: `percent = 50`.
    pub(crate) fn percent(&mut self, key: &str, value: &Value<'_>) -> Option<f64> {
        let x = self.number(key, value)?;
        if x <= 0.0 || x > 100.0 {
            self.out_of_range(key, value, &x.to_string(), "above 0 and at most 100");
            return None;
        }
        Some(x)
    }

    /// An integer in `[min, max]`.
    pub(crate) fn integer(
        &mut self,
        key: &str,
        value: &Value<'_>,
        min: u64,
        max: u64,
    ) -> Option<u64> {
        let DeValue::Integer(i) = value.get_ref() else {
            self.wrong_type(key, value, "an integer");
            return None;
        };
        let n = i128::from_str_radix(i.as_str(), i.radix()).ok();
        match n.and_then(|n| u64::try_from(n).ok()) {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                let expected = if max == u64::MAX {
                    format!("an integer of at least {min}")
                } else {
                    format!("an integer from {min} to {max}")
                };
                self.out_of_range(key, value, &i.to_string(), &expected);
                None
            }
        }
    }

    /// An integer from `min` to `u32::MAX`.
    pub(crate) fn count(&mut self, key: &str, value: &Value<'_>, min: u32) -> Option<u32> {
        let n = self.integer(key, value, u64::from(min), u64::from(u32::MAX))?;
        u32::try_from(n).ok()
    }

    pub(crate) fn boolean(&mut self, key: &str, value: &Value<'_>) -> Option<bool> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(key, value, "true or false");
                None
            }
        }
    }

    /// One of a fixed set of words.
    pub(crate) fn choice<T: Copy>(
        &mut self,
        key: &str,
        value: &Value<'_>,
        options: &[(&'static str, T)],
    ) -> Option<T> {
        let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
        let word = self.string(key, value)?;
        if let Some((_, choice)) = options.iter().find(|(name, _)| *name == word) {
            return Some(*choice);
        }
        let help = help_for_name(word, &names, "expected one of", "nothing is allowed here");
        self.error(
            Code::UnknownChoice,
            value.span(),
            format!("unknown {key} `{word}`"),
        )
        .label(format!("expected one of {}", quote_list(&names)))
        .help(help);
        None
    }

    /// An array; each element is handed back with its span.
    pub(crate) fn array<'v, 'i>(
        &mut self,
        key: &str,
        value: &'v Value<'i>,
    ) -> Option<&'v [Value<'i>]> {
        match value.get_ref() {
            DeValue::Array(items) => Some(items),
            _ => {
                self.wrong_type(key, value, "an array");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Reads `key` of a one-line document with `read`, returning the result and the messages.
    fn read<T>(
        line: &str,
        read: impl Fn(&mut Sink<'_>, &Value<'_>) -> Option<T>,
    ) -> (Option<T>, Vec<String>) {
        let mut sink = Sink::new(Path::new("t.toml"), line);
        let root = sink.parse();
        let value = root.get_ref().get("k").expect("test documents define k");
        let result = read(&mut sink, value);
        let messages = sink.finish().into_iter().map(|d| d.message).collect();
        (result, messages)
    }

    #[test]
    fn durations_want_strings() {
        let (ns, errors) = read("k = \"2ms\"", |s, v| s.duration("timeout", v));
        assert_eq!((ns, errors.len()), (Some(2_000_000), 0));
        let (ns, errors) = read("k = 5", |s, v| s.duration("timeout", v));
        assert_eq!(ns, None);
        assert_eq!(
            errors,
            ["wrong type for `timeout`: expected a duration string like \"2ms\", found integer 5"]
        );
        let (_, errors) = read("k = \"5\"", |s, v| s.duration("timeout", v));
        assert!(errors[0].contains("missing unit"), "{errors:?}");
        let (_, errors) = read("k = \"0s\"", |s, v| s.positive_duration("timeout", v));
        assert!(errors[0].contains("positive"), "{errors:?}");
    }

    #[test]
    fn numbers_must_be_finite_and_in_range() {
        assert_eq!(
            read("k = 1_000", |s, v| s.positive("rate", v)).0,
            Some(1000.0)
        );
        assert_eq!(read("k = 0x10", |s, v| s.positive("rate", v)).0, Some(16.0));
        assert_eq!(
            read("k = 2.5e1", |s, v| s.positive("rate", v)).0,
            Some(25.0)
        );
        for bad in [
            "k = nan", "k = +inf", "k = -inf", "k = 0", "k = -3", "k = -0.5",
        ] {
            let (x, errors) = read(bad, |s, v| s.positive("rate", v));
            assert_eq!((x, errors.len()), (None, 1), "{bad}");
        }
        let (_, errors) = read("k = \"5\"", |s, v| s.positive("rate", v));
        assert_eq!(
            errors,
            ["wrong type for `rate`: expected a number, found string \"5\""]
        );
        assert_eq!(read("k = 1", |s, v| s.fraction("p", v)).0, Some(1.0));
        assert_eq!(read("k = 1.01", |s, v| s.fraction("p", v)).0, None);
        assert_eq!(read("k = 0", |s, v| s.non_negative("x", v)).0, Some(0.0));
        assert_eq!(read("k = 100", |s, v| s.percent("p", v)).0, Some(100.0));
        assert_eq!(read("k = 0.5", |s, v| s.percent("p", v)).0, Some(0.5));
        for bad in ["k = 0", "k = 100.5", "k = -1"] {
            let (x, errors) = read(bad, |s, v| s.percent("percent", v));
            assert_eq!(x, None, "{bad}");
            assert!(errors[0].contains("above 0 and at most 100"), "{errors:?}");
        }
    }

    #[test]
    fn integers_have_bounds() {
        assert_eq!(read("k = 3", |s, v| s.count("workers", v, 1)).0, Some(3));
        let (n, errors) = read("k = 0", |s, v| s.count("workers", v, 1));
        assert_eq!(n, None);
        assert_eq!(
            errors,
            ["`workers` must be an integer from 1 to 4294967295, found 0"]
        );
        assert_eq!(
            read("k = 4294967296", |s, v| s.count("workers", v, 1)).0,
            None
        );
        assert_eq!(read("k = -1", |s, v| s.count("queue", v, 0)).0, None);
        assert_eq!(read("k = 1.0", |s, v| s.count("queue", v, 0)).0, None);
        assert_eq!(
            read("k = 9223372036854775807", |s, v| s.integer(
                "seed",
                v,
                0,
                u64::MAX
            ))
            .0,
            Some(i64::MAX as u64)
        );
    }

    #[test]
    fn choices_list_the_allowed_words() {
        let options = [("poisson", 1), ("constant", 2)];
        assert_eq!(
            read("k = \"constant\"", |s, v| s.choice("arrival", v, &options)).0,
            Some(2)
        );
        let mut sink = Sink::new(Path::new("t.toml"), "k = \"poison\"");
        let root = sink.parse();
        assert_eq!(
            sink.choice("arrival", root.get_ref().get("k").unwrap(), &options),
            None
        );
        let d = &sink.finish()[0];
        assert_eq!(d.message, "unknown arrival `poison`");
        assert_eq!(d.label, "expected one of `poisson`, `constant`");
        assert_eq!(d.help.as_deref(), Some("did you mean `poisson`?"));
    }

    #[test]
    fn booleans_and_strings() {
        assert_eq!(
            read("k = true", |s, v| s.boolean("optional", v)).0,
            Some(true)
        );
        assert_eq!(read("k = \"yes\"", |s, v| s.boolean("optional", v)).0, None);
        assert_eq!(
            read("k = 1", |s, v| s.string("name", v).map(str::to_string)).0,
            None
        );
    }
}
