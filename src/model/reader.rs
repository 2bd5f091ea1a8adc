//! The small typed reader over the spanned TOML tree: a `Sink` that collects one file's
//! diagnostics, and `Fields`, which reads one table key by key and reports unknown and missing
//! keys when it is finished.
//!
//! Readers never stop at the first mistake: they record it and return `None`, and the caller
//! carries on with the next key, so one load reports every error in the file.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::codes::Code;
use super::diagnostic::Diagnostic;

/// A TOML value with its byte span.
pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// One file's diagnostics.
pub(crate) struct Sink<'t> {
    pub(crate) file: &'t Path,
    pub(crate) text: &'t str,
    items: Vec<Diagnostic>,
    /// Spans of values that contain a syntax error: what the parser recovered there is a guess,
    /// so other complaints about it would be noise.
    tainted: Vec<Range<usize>>,
}

impl<'t> Sink<'t> {
    pub(crate) fn new(file: &'t Path, text: &'t str) -> Self {
        Sink {
            file,
            text,
            items: Vec::new(),
            tainted: Vec::new(),
        }
    }

    /// Parses the text, recording the parser's errors; the tree is the parser's best effort.
    pub(crate) fn parse(&mut self) -> Spanned<DeTable<'t>> {
        let (root, errors) = DeTable::parse_recoverable(self.text);
        let mut offsets = Vec::new();
        for error in &errors {
            let span = error.span().unwrap_or(0..0);
            offsets.push(span.start);
            let (message, label) = split_parser_message(error.message());
            self.error(Code::Syntax, span, message).label(label);
        }
        for value in root.get_ref().values() {
            taint(value, &offsets, &mut self.tainted);
        }
        root
    }

    /// Records an error (or a warning, for a `W` code) and returns it for a label and help.
    pub(crate) fn error(
        &mut self,
        code: Code,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let diagnostic = Diagnostic::new(code, self.file, self.text, span, message.into());
        self.items.push(diagnostic);
        let last = self.items.len() - 1;
        &mut self.items[last]
    }

    /// Whether any error has been recorded so far.
    pub(crate) fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// The diagnostics in position order, without the noise inside syntax errors.
    pub(crate) fn finish(self) -> Vec<Diagnostic> {
        let tainted = self.tainted;
        let mut items: Vec<Diagnostic> = self
            .items
            .into_iter()
            .filter(|d| {
                d.code == Code::Syntax
                    || !tainted
                        .iter()
                        .any(|t| t.start <= d.span.start && d.span.end <= t.end)
            })
            .collect();
        items.sort_by_key(|d| d.span.start);
        items
    }
}

/// Collects the spans of values (below the root) that contain a syntax error offset.
fn taint(value: &Value<'_>, offsets: &[usize], out: &mut Vec<Range<usize>>) {
    let span = value.span();
    if offsets.iter().any(|&o| span.start <= o && o <= span.end) {
        out.push(span);
    }
    match value.get_ref() {
        DeValue::Array(items) => items.iter().for_each(|v| taint(v, offsets, out)),
        DeValue::Table(table) => table.values().for_each(|v| taint(v, offsets, out)),
        _ => {}
    }
}

/// The parser says "missing comma between array elements, expected `,`": the first part is the
/// headline, the second the label.
fn split_parser_message(message: &str) -> (String, String) {
    match message.split_once(", expected ") {
        Some((what, expected)) => (what.to_string(), format!("expected {expected}")),
        None => (message.to_string(), "here".to_string()),
    }
}

/// The closest of `candidates` to `name`, if it is close enough to be a plausible typo.
pub(crate) fn suggest<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let mut best: Option<(&str, f64)> = None;
    for candidate in candidates {
        let score = if candidate.eq_ignore_ascii_case(name) {
            1.0
        } else {
            strsim::jaro_winkler(&name.to_lowercase(), &candidate.to_lowercase())
        };
        if score >= 0.8 && best.is_none_or(|(_, s)| score > s) {
            best = Some((candidate, score));
        }
    }
    best.map(|(candidate, _)| candidate)
}

/// `did you mean `x`?` if a candidate is close, else the list of allowed names after `what`
/// ("the nodes are"), or `none` when there are no candidates at all.
pub(crate) fn help_for_name(name: &str, candidates: &[&str], what: &str, none: &str) -> String {
    match suggest(name, candidates.iter().copied()) {
        Some(close) => format!("did you mean `{close}`?"),
        None if candidates.is_empty() => none.to_string(),
        None => format!("{what}: {}", quote_list(candidates)),
    }
}

/// `a`, `b`, `c`
pub(crate) fn quote_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a value with `read`, or gives `default` when the key is absent.
pub(crate) fn or_default<T>(
    value: Option<&Value<'_>>,
    default: T,
    read: impl FnOnce(&Value<'_>) -> Option<T>,
) -> Option<T> {
    match value {
        Some(value) => read(value),
        None => Some(default),
    }
}

/// Reports two keys that exclude each other, at the one written later.
pub(crate) fn conflict<'s>(
    sink: &'s mut Sink<'_>,
    a: (&str, &Value<'_>),
    b: (&str, &Value<'_>),
) -> &'s mut Diagnostic {
    let (first, second) = if a.1.span().start <= b.1.span().start {
        (a, b)
    } else {
        (b, a)
    };
    sink.error(
        Code::ConflictingKeys,
        second.1.span(),
        format!("`{}` and `{}` exclude each other", first.0, second.0),
    )
    .label(format!("`{}` is already given", first.0))
}

/// A description of a value for "expected ..., found ...".
pub(crate) fn found(value: &DeValue<'_>) -> String {
    match value {
        DeValue::String(s) => format!("string {:?}", truncate(s, 40)),
        DeValue::Integer(i) => format!("integer {i}"),
        DeValue::Float(f) => format!("float {f}"),
        DeValue::Boolean(b) => format!("boolean {b}"),
        DeValue::Datetime(d) => format!("datetime {d}"),
        DeValue::Array(_) => "an array".to_string(),
        DeValue::Table(_) => "a table".to_string(),
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}...", s.get(..i).unwrap_or(s)),
        None => s.to_string(),
    }
}

/// Reads one table. Keys are looked up by name; `finish` reports keys that are not allowed
/// (with a did-you-mean) and required keys that were missing.
pub(crate) struct Fields<'v, 'i> {
    table: &'v DeTable<'i>,
    /// Where a missing key is reported: the table's header or the inline table.
    span: Range<usize>,
    /// How messages name the table: "`[service.api]`", "this call".
    what: String,
    allowed: &'static [&'static str],
    /// Keys allowed beyond `allowed`, such as a distribution's `p99.9`.
    pattern: Option<fn(&str) -> bool>,
    missing: Vec<&'static str>,
}

impl<'v, 'i> Fields<'v, 'i> {
    pub(crate) fn new(
        table: &'v DeTable<'i>,
        span: Range<usize>,
        what: impl Into<String>,
        allowed: &'static [&'static str],
    ) -> Self {
        Fields {
            table,
            span,
            what: what.into(),
            allowed,
            pattern: None,
            missing: Vec::new(),
        }
    }

    /// Reads a table value, reporting a value that is not a table.
    pub(crate) fn of(
        sink: &mut Sink<'_>,
        value: &'v Value<'i>,
        what: impl Into<String>,
        expected: &str,
        allowed: &'static [&'static str],
    ) -> Option<Self> {
        match value.get_ref() {
            DeValue::Table(table) => Some(Fields::new(table, value.span(), what, allowed)),
            other => {
                sink.error(
                    Code::WrongType,
                    value.span(),
                    format!("expected {expected}, found {}", found(other)),
                )
                .label(format!("expected {expected}"));
                None
            }
        }
    }

    pub(crate) fn with_pattern(mut self, pattern: fn(&str) -> bool) -> Self {
        self.pattern = Some(pattern);
        self
    }

    pub(crate) fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    pub(crate) fn table(&self) -> &'v DeTable<'i> {
        self.table
    }

    /// An optional key.
    pub(crate) fn get(&self, key: &str) -> Option<&'v Value<'i>> {
        self.table.get(key)
    }

    /// A required key; its absence is reported by `finish`.
    pub(crate) fn required(&mut self, key: &'static str) -> Option<&'v Value<'i>> {
        let value = self.table.get(key);
        if value.is_none() {
            self.missing.push(key);
        }
        value
    }

    /// Reports unknown keys and missing required keys. A missing key that is the suggestion for
    /// an unknown one is not reported twice: `mena` gets "did you mean `mean`?" only.
    /// Returns whether the table was clean.
    pub(crate) fn finish(self, sink: &mut Sink<'_>) -> bool {
        let mut clean = self.missing.is_empty();
        let mut suggested = Vec::new();
        for (key, _) in self.table.iter() {
            let name = key.get_ref().as_ref();
            if self.allowed.contains(&name) || self.pattern.is_some_and(|p| p(name)) {
                continue;
            }
            clean = false;
            let close = suggest(name, self.allowed.iter().copied());
            suggested.extend(close);
            let help = help_for_name(
                name,
                self.allowed,
                "expected one of",
                "nothing is allowed here",
            );
            sink.error(
                Code::UnknownKey,
                key.span(),
                format!("unknown key `{name}` in {}", self.what),
            )
            .label("unknown key")
            .help(help);
        }
        for key in self.missing {
            if suggested.contains(&key) {
                continue;
            }
            sink.error(
                Code::MissingKey,
                self.span.clone(),
                format!("missing key `{key}` in {}", self.what),
            )
            .label(format!("`{key}` is required here"));
        }
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_only() {
        let names = ["sessions", "orders-db", "payments", "api"];
        assert_eq!(suggest("sesions", names), Some("sessions"));
        assert_eq!(suggest("order-db", names), Some("orders-db"));
        assert_eq!(suggest("API", names), Some("api"));
        assert_eq!(suggest("inventory", names), None);
        assert_eq!(suggest("x", names), None);
    }

    #[test]
    fn parser_messages_split_into_headline_and_label() {
        let (m, l) = split_parser_message("missing comma between array elements, expected `,`");
        assert_eq!(m, "missing comma between array elements");
        assert_eq!(l, "expected `,`");
    }

    #[test]
    fn unknown_and_missing_keys_are_reported_once() {
        let text = "mena = 1\nother = 2\n";
        let mut sink = Sink::new(Path::new("t.toml"), text);
        let root = sink.parse();
        let mut fields = Fields::new(root.get_ref(), 0..0, "the distribution", &["mean", "dist"]);
        assert!(fields.required("mean").is_none());
        assert!(fields.required("dist").is_none());
        fields.finish(&mut sink);
        let items = sink.finish();
        let messages: Vec<&str> = items.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "unknown key `mena` in the distribution",
                "missing key `dist` in the distribution",
                "unknown key `other` in the distribution",
            ]
        );
        assert_eq!(items[0].help.as_deref(), Some("did you mean `mean`?"));
    }

    #[test]
    fn syntax_errors_silence_complaints_inside_them() {
        let text = "zones = [\"a\" \"b\"]\nname = 5\n";
        let mut sink = Sink::new(Path::new("t.toml"), text);
        let root = sink.parse();
        let zones = root.get_ref().get("zones").unwrap();
        sink.error(Code::UndeclaredZone, zones.span(), "noise");
        let name = root.get_ref().get("name").unwrap();
        sink.error(Code::WrongType, name.span(), "real");
        let messages: Vec<String> = sink.finish().into_iter().map(|d| d.message).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("comma"));
        assert_eq!(messages[1], "real");
    }

    #[test]
    fn help_names_the_candidates_or_says_there_are_none() {
        let nodes = ["api", "orders-db"];
        assert_eq!(
            help_for_name("apu", &nodes, "the nodes are", "no nodes"),
            "did you mean `api`?"
        );
        assert_eq!(
            help_for_name("payments", &nodes, "the nodes are", "no nodes"),
            "the nodes are: `api`, `orders-db`"
        );
        assert_eq!(
            help_for_name("api", &[], "the nodes are", "the model has no nodes"),
            "the model has no nodes"
        );
    }
}
