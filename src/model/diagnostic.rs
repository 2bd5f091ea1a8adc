//! Diagnostics as data, and their rendering in rustc's style with `annotate-snippets`.
//!
//! A `Diagnostic` is self-contained (file, byte span, line, column, message, label, help);
//! `Diagnostics` also keeps the source texts so that it can render the lines it points at.
//! Nothing here reads files or knows TOML.

use std::ops::Range;
use std::path::{Path, PathBuf};

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::codes::Code;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One mistake in one file.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    /// The headline: what is wrong.
    pub message: String,
    pub file: PathBuf,
    /// Byte range in the file. Invariant: within the text and on character boundaries.
    pub span: Range<usize>,
    /// 1-based line of `span.start`.
    pub line: usize,
    /// 1-based column of `span.start`, counted in characters.
    pub column: usize,
    /// Printed under the span: what was expected there.
    pub label: String,
    /// A `did you mean` or another hint.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `span` of `text`; the span is clamped into the text so that rendering
    /// can never fail, and the line and column are computed from it.
    pub fn new(code: Code, file: &Path, text: &str, span: Range<usize>, message: String) -> Self {
        let span = clamp_span(text, span);
        let (line, column) = line_column(text, span.start);
        let severity = if code.is_warning() {
            Severity::Warning
        } else {
            Severity::Error
        };
        Diagnostic {
            severity,
            code,
            message,
            file: file.to_path_buf(),
            span,
            line,
            column,
            label: String::new(),
            help: None,
        }
    }

    pub fn label(&mut self, label: impl Into<String>) -> &mut Self {
        self.label = label.into();
        self
    }

    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A source file that diagnostics point into.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

/// All diagnostics of one load (a model, or a scenario and its model), with the sources needed
/// to render them. Invariant: every diagnostic's `file` is the path of one of `sources`;
/// diagnostics are ordered by source, then by position.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
    pub sources: Vec<Source>,
}

impl Diagnostics {
    /// Adds one file's diagnostics (already in position order) and its text.
    pub fn add_file(&mut self, path: &Path, text: &str, items: Vec<Diagnostic>) {
        if items.is_empty() {
            return;
        }
        self.sources.push(Source {
            path: path.to_path_buf(),
            text: text.to_string(),
        });
        self.items.extend(items);
    }

    pub fn append(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
        self.sources.extend(other.sources);
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }

    /// Renders every diagnostic like rustc, then a one-line summary.
    pub fn render(&self, color: bool) -> String {
        let mut out = self.render_items(color);
        out.push_str(&self.summary());
        out
    }

    /// Renders every diagnostic like rustc, each followed by a blank line, without a summary.
    pub fn render_items(&self, color: bool) -> String {
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        let mut out = String::new();
        for diagnostic in &self.items {
            let text = self.source_text(&diagnostic.file);
            out.push_str(&renderer.render(&[group(diagnostic, text)]));
            out.push_str("\n\n");
        }
        out
    }

    fn source_text(&self, path: &Path) -> &str {
        self.sources
            .iter()
            .find(|source| source.path == path)
            .map_or("", |source| source.text.as_str())
    }

    fn summary(&self) -> String {
        let (errors, warnings) = (self.error_count(), self.warning_count());
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        match (errors, warnings) {
            (0, w) => format!("warning: {} emitted", plural(w, "warning")),
            (e, 0) => format!("error: aborting due to {}", plural(e, "error")),
            (e, w) => format!(
                "error: aborting due to {}; {} emitted",
                plural(e, "error"),
                plural(w, "warning")
            ),
        }
    }
}

impl std::fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(false))
    }
}

fn group<'a>(diagnostic: &'a Diagnostic, text: &'a str) -> Group<'a> {
    let level = match diagnostic.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let path = diagnostic.file.display().to_string();
    // A span outside this text (which the invariant rules out) renders without a snippet.
    let span = clamp_span(text, diagnostic.span.clone());
    let snippet = Snippet::source(text).path(path).annotation(
        AnnotationKind::Primary
            .span(span)
            .label(diagnostic.label.as_str()),
    );
    let group = level
        .primary_title(diagnostic.message.as_str())
        .id(diagnostic.code.as_str())
        .element(snippet);
    match &diagnostic.help {
        Some(help) => group.element(Level::HELP.message(help.as_str())),
        None => group,
    }
}

/// Clamps a span into the text, onto character boundaries, and moves a point at the very end
/// of a text that ends with a newline onto that newline, so it shows on the last line.
pub(crate) fn clamp_span(text: &str, span: Range<usize>) -> Range<usize> {
    let mut start = floor_char_boundary(text, span.start.min(text.len()));
    let mut end = floor_char_boundary(text, span.end.min(text.len())).max(start);
    if start == text.len() && end == start && text.ends_with('\n') {
        start -= 1;
        end -= 1;
    }
    start..end
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// The 1-based line and character column of a byte offset (which must be a char boundary).
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        let x = text.find("\"x").unwrap();
        assert_eq!(line_column(text, x), (2, 6));
    }

    #[test]
    fn spans_are_clamped_onto_the_text() {
        let text = "a = \"é\"\n";
        assert_eq!(clamp_span(text, 6..6), 5..5);
        assert_eq!(clamp_span(text, 5..6), 5..5);
        assert_eq!(clamp_span(text, 100..200), 8..8);
        let reversed = Range { start: 4, end: 2 };
        assert_eq!(clamp_span(text, reversed), 4..4);
        assert_eq!(clamp_span("", 3..9), 0..0);
    }

    #[test]
    fn renders_like_rustc() {
        let text = "zones = [\"az-a\"]\n[service.api]\nzones = [\"az-x\"]\n";
        let start = text.find("\"az-x\"").unwrap();
        let file = Path::new("models/x.toml");
        let mut d = Diagnostic::new(
            Code::UndeclaredZone,
            file,
            text,
            start..start + 6,
            "zone `az-x` is not declared".into(),
        );
        d.label("not in the top-level `zones`")
            .help("did you mean `az-a`?");
        let mut all = Diagnostics::default();
        all.add_file(file, text, vec![d]);
        let out = all.render(false);
        assert!(
            out.contains("error[E0009]: zone `az-x` is not declared"),
            "{out}"
        );
        assert!(out.contains("--> models/x.toml:3:10"), "{out}");
        assert!(out.contains("^^^^^^ not in the top-level `zones`"), "{out}");
        assert!(out.contains("= help: did you mean `az-a`?"), "{out}");
        assert!(out.ends_with("error: aborting due to 1 error"), "{out}");
    }

    #[test]
    fn renders_points_at_the_end_of_the_text() {
        for text in ["", "\n", "a = \"é", "a = \"é\"\n"] {
            for offset in 0..=text.len() + 1 {
                let d = Diagnostic::new(
                    Code::Syntax,
                    Path::new("f.toml"),
                    text,
                    offset..offset + 1,
                    "m".into(),
                );
                let mut all = Diagnostics::default();
                all.add_file(Path::new("f.toml"), text, vec![d]);
                let out = all.render(true);
                assert!(out.contains("E0001"));
            }
        }
    }
}
