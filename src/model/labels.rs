//! Node labels (`labels = { app = "api", tier = "web" }`) and the Kubernetes label selectors
//! that pick nodes by them (`app=api`, `tier in (web,api)`, `!canary`). Chaos Toolkit's
//! `label_selector`s and AWS FIS's `resourceTags` both name nodes this way, so the importers
//! resolve their targets with `Selector` against these labels.
//!
//! Keys and values follow Kubernetes' syntax: a key is an optional DNS-subdomain prefix and `/`
//! then a name of at most 63 characters, alphanumeric at both ends with `-`, `_`, `.` inside; a
//! value is empty or such a name. That keeps every label usable as-is in the real tools.

use std::collections::BTreeMap;
use std::fmt;

use toml::de::DeValue;

use super::codes::Code;
use super::reader::{Sink, Value, found};

/// A node's labels. Invariant: every key and value is valid Kubernetes label syntax; iteration
/// is sorted by key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Labels(BTreeMap<String, String>);

impl Labels {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The labels, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Labels from pairs that are already known to be valid (tests, importers that checked).
    ///
    /// # Panics
    /// On a key or value that is not valid label syntax: that is a bug in the caller.
    pub fn from_pairs<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Labels {
        let map: BTreeMap<String, String> = pairs.into_iter().collect();
        for (key, value) in &map {
            assert!(check_key(key).is_ok(), "invalid label key {key:?}");
            assert!(check_value(value).is_ok(), "invalid label value {value:?}");
        }
        Labels(map)
    }
}

impl fmt::Display for Labels {
    /// `app=api,tier=web`: the labels as an equality selector that matches them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (key, value)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{key}={value}")?;
        }
        Ok(())
    }
}

/// The longest name part of a key, and the longest value (Kubernetes' limits).
const MAX_NAME: usize = 63;
/// The longest key prefix (a DNS subdomain).
const MAX_PREFIX: usize = 253;

/// Checks a label key, saying what is wrong with it.
pub fn check_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        check_prefix(prefix)?;
    }
    if name.is_empty() {
        return Err("a label key needs a name (after the prefix's `/`)".to_string());
    }
    check_name(name, "a label key's name")
}

/// Checks a label value: empty, or a name.
pub fn check_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    check_name(value, "a label value")
}

fn check_name(name: &str, what: &str) -> Result<(), String> {
    if name.chars().count() > MAX_NAME {
        return Err(format!("{what} is at most {MAX_NAME} characters, this one has {}", name.chars().count()));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "{what} may hold only letters, digits, `-`, `_` and `.`, found {}",
            describe_char(bad)
        ));
    }
    let ends_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !ends_ok(name.chars().next()) || !ends_ok(name.chars().last()) {
        return Err(format!("{what} must begin and end with a letter or digit"));
    }
    Ok(())
}

fn check_prefix(prefix: &str) -> Result<(), String> {
    if prefix.is_empty() || prefix.len() > MAX_PREFIX {
        return Err(format!("a label key's prefix is a DNS subdomain of 1 to {MAX_PREFIX} characters"));
    }
    for part in prefix.split('.') {
        let lower = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        let ok = !part.is_empty()
            && part.chars().all(|c| lower(c) || c == '-')
            && part.starts_with(lower)
            && part.ends_with(lower);
        if !ok {
            return Err(format!(
                "a label key's prefix `{prefix}` must be a DNS subdomain: dot-separated parts of lower-case letters, digits and `-`"
            ));
        }
    }
    Ok(())
}

fn describe_char(c: char) -> String {
    if c.is_control() || c.is_whitespace() {
        format!("the character U+{:04X}", c as u32)
    } else {
        format!("`{c}`")
    }
}

/// Reads a node's `labels` table; every bad key or value is reported at its own span.
pub(crate) fn read_labels(sink: &mut Sink<'_>, value: &Value<'_>) -> Option<Labels> {
    let DeValue::Table(table) = value.get_ref() else {
        sink.wrong_type("labels", value, "a table of label strings, like { app = \"api\" }");
        return None;
    };
    let mut labels = BTreeMap::new();
    let mut ok = true;
    for (key, item) in table.iter() {
        let name = key.get_ref().as_ref();
        if let Err(why) = check_key(name) {
            invalid(sink, key.span(), format!("invalid label key `{}`", name.escape_debug()), why);
            ok = false;
            continue;
        }
        let DeValue::String(text) = item.get_ref() else {
            sink.error(
                Code::WrongType,
                item.span(),
                format!("label `{name}` must be a string, found {}", found(item.get_ref())),
            )
            .label("expected a string");
            ok = false;
            continue;
        };
        if let Err(why) = check_value(text) {
            invalid(sink, item.span(), format!("invalid value for label `{name}`"), why);
            ok = false;
            continue;
        }
        labels.insert(name.to_string(), text.to_string());
    }
    ok.then_some(Labels(labels))
}

fn invalid(sink: &mut Sink<'_>, span: std::ops::Range<usize>, message: String, why: String) {
    sink.error(Code::InvalidLabel, span, message)
        .label(why)
        .help("labels follow Kubernetes' syntax, e.g. `app = \"api\"` or `\"app.kubernetes.io/name\" = \"api\"`");
}

/// A label selector: requirements that must all hold. Invariant: every key and value in it is
/// valid label syntax.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    Absent(String),
}

/// A selector that does not parse: where (a byte offset into its text) and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid label selector at column {}: {message}", offset + 1)]
pub struct SelectorError {
    pub offset: usize,
    pub message: String,
}

impl Selector {
    /// Parses Kubernetes selector syntax: `app=api`, `app==api`, `app!=api`,
    /// `tier in (web,api)`, `tier notin (db)`, `canary` (the key exists), `!canary` (it does
    /// not); a comma joins requirements with "and". Empty text selects every node.
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        let mut parser = Parser { text, at: 0 };
        let mut requirements = Vec::new();
        parser.skip_spaces();
        if parser.done() {
            return Ok(Selector { requirements });
        }
        loop {
            requirements.push(parser.requirement()?);
            parser.skip_spaces();
            if parser.done() {
                return Ok(Selector { requirements });
            }
            parser.expect(',')?;
        }
    }

    /// Whether a node with these labels is selected.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// The label keys the selector mentions, in its order (for a did-you-mean when it matched
    /// nothing).
    pub fn keys(&self) -> Vec<&str> {
        self.requirements.iter().map(Requirement::key).collect()
    }

    /// The values the selector asks for under `key` (its `=` and `in` values), for messages.
    pub fn wanted_values(&self, key: &str) -> Vec<&str> {
        let mut values = Vec::new();
        for requirement in &self.requirements {
            match requirement {
                Requirement::Equals(k, v) if k == key => values.push(v.as_str()),
                Requirement::In(k, vs) if k == key => values.extend(vs.iter().map(String::as_str)),
                _ => {}
            }
        }
        values
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }
}

impl Requirement {
    fn key(&self) -> &str {
        match self {
            Requirement::Equals(k, _)
            | Requirement::NotEquals(k, _)
            | Requirement::In(k, _)
            | Requirement::NotIn(k, _)
            | Requirement::Exists(k)
            | Requirement::Absent(k) => k,
        }
    }

    fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(self.key());
        match self {
            Requirement::Equals(_, v) => value == Some(v.as_str()),
            // Kubernetes: `!=` and `notin` also select objects without the key.
            Requirement::NotEquals(_, v) => value != Some(v.as_str()),
            Requirement::In(_, vs) => value.is_some_and(|value| vs.iter().any(|v| v == value)),
            Requirement::NotIn(_, vs) => !value.is_some_and(|value| vs.iter().any(|v| v == value)),
            Requirement::Exists(_) => value.is_some(),
            Requirement::Absent(_) => value.is_none(),
        }
    }
}

impl fmt::Display for Selector {
    /// The canonical text: `Selector::parse` of it gives the same selector back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, requirement) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match requirement {
                Requirement::Equals(k, v) => write!(f, "{k}={v}")?,
                Requirement::NotEquals(k, v) => write!(f, "{k}!={v}")?,
                Requirement::In(k, vs) => write!(f, "{k} in ({})", vs.join(","))?,
                Requirement::NotIn(k, vs) => write!(f, "{k} notin ({})", vs.join(","))?,
                Requirement::Exists(k) => write!(f, "{k}")?,
                Requirement::Absent(k) => write!(f, "!{k}")?,
            }
        }
        Ok(())
    }
}

/// A cursor over a selector's text.
struct Parser<'t> {
    text: &'t str,
    /// Byte offset of the next character.
    at: usize,
}

impl<'t> Parser<'t> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn done(&self) -> bool {
        self.at == self.text.len()
    }

    fn skip_spaces(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    fn error(&self, at: usize, message: impl Into<String>) -> SelectorError {
        SelectorError { offset: at, message: message.into() }
    }

    fn expect(&mut self, c: char) -> Result<(), SelectorError> {
        self.skip_spaces();
        if self.rest().starts_with(c) {
            self.at += c.len_utf8();
            return Ok(());
        }
        let found = self.rest().chars().next().map_or("the end".to_string(), |c| format!("`{c}`"));
        Err(self.error(self.at, format!("expected `{c}`, found {found}")))
    }

    /// A run of characters that may appear in a key or value.
    fn word(&mut self) -> (usize, &'t str) {
        self.skip_spaces();
        let start = self.at;
        let text: &'t str = self.text;
        let rest = &text[start..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')))
            .unwrap_or(rest.len());
        self.at += len;
        (start, &text[start..start + len])
    }

    fn key(&mut self) -> Result<String, SelectorError> {
        let (start, word) = self.word();
        if word.is_empty() {
            let found = self.rest().chars().next().map_or("the end".to_string(), |c| format!("`{c}`"));
            return Err(self.error(start, format!("expected a label key, found {found}")));
        }
        check_key(word).map_err(|why| self.error(start, why))?;
        Ok(word.to_string())
    }

    fn value(&mut self) -> Result<String, SelectorError> {
        let (start, word) = self.word();
        check_value(word).map_err(|why| self.error(start, why))?;
        Ok(word.to_string())
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        self.skip_spaces();
        if self.rest().starts_with('!') {
            self.at += 1;
            return Ok(Requirement::Absent(self.key()?));
        }
        let key = self.key()?;
        self.skip_spaces();
        let rest = self.rest();
        if let Some(op) = ["==", "!=", "="].into_iter().find(|op| rest.starts_with(op)) {
            self.at += op.len();
            let value = self.value()?;
            return Ok(if op == "!=" {
                Requirement::NotEquals(key, value)
            } else {
                Requirement::Equals(key, value)
            });
        }
        let (at, word) = self.word();
        match word {
            "in" => Ok(Requirement::In(key, self.set()?)),
            "notin" => Ok(Requirement::NotIn(key, self.set()?)),
            "" => Ok(Requirement::Exists(key)),
            other => Err(self.error(at, format!("expected `=`, `!=`, `in`, `notin` or `,` after `{key}`, found `{other}`"))),
        }
    }

    /// `(a, b, c)`: a non-empty set of values.
    fn set(&mut self) -> Result<Vec<String>, SelectorError> {
        self.expect('(')?;
        let mut values = vec![self.value()?];
        loop {
            self.skip_spaces();
            if self.rest().starts_with(')') {
                self.at += 1;
                return Ok(values);
            }
            self.expect(',')?;
            values.push(self.value()?);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn keys_and_values_follow_kubernetes_syntax() {
        for good in ["app", "app.kubernetes.io/name", "topology.kubernetes.io/zone", "a_b-c.d", "x1"] {
            assert_eq!(check_key(good), Ok(()), "{good}");
        }
        for bad in ["", "-app", "app-", "a b", "Example.com/x", "/x", "x/", "a\nb", &"a".repeat(64)] {
            assert!(check_key(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(check_value(""), Ok(()));
        assert!(check_value("web tier").is_err());
        assert!(check_value("a\u{202e}b").is_err(), "a right-to-left override is not a label");
    }

    #[test]
    fn selectors_match_as_kubernetes_does() {
        let api = labels(&[("app", "api"), ("tier", "web")]);
        let db = labels(&[("app", "orders-db"), ("tier", "data"), ("canary", "")]);
        let cases = [
            ("app=api", true, false),
            ("app==api", true, false),
            ("app!=api", false, true),
            ("tier in (web, api)", true, false),
            ("tier notin (web)", false, true),
            ("canary", false, true),
            ("!canary", true, false),
            ("tier in (web,data),!canary", true, false),
            ("", true, true),
            ("zone!=az-a", true, true),
        ];
        for (text, on_api, on_db) in cases {
            let selector = Selector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(selector.matches(&api), on_api, "{text} on api");
            assert_eq!(selector.matches(&db), on_db, "{text} on db");
            let again = Selector::parse(&selector.to_string()).expect("canonical text parses");
            assert_eq!(again, selector, "{text} -> {selector}");
        }
    }

    #[test]
    fn bad_selectors_say_where_and_why() {
        let cases = [
            ("app=-x", 4, "must begin and end"),
            ("app in web", 7, "expected `(`"),
            ("tier in (web", 12, "expected `,`"),
            ("app=api,", 8, "expected a label key"),
            ("app ~ api", 4, "expected `,`"),
            ("app maybe", 4, "expected `=`"),
        ];
        for (text, offset, needle) in cases {
            let error = Selector::parse(text).expect_err(text);
            assert_eq!(error.offset, offset, "{text}: {error}");
            assert!(error.message.contains(needle), "{text}: {error}");
        }
    }

    #[test]
    fn labels_display_as_the_selector_that_matches_them() {
        let api = labels(&[("tier", "web"), ("app", "api")]);
        assert_eq!(api.to_string(), "app=api,tier=web");
        assert!(Selector::parse(&api.to_string()).unwrap().matches(&api));
    }
}
