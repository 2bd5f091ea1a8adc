//! Every user string — names, file paths, messages that quote them — reaches output through
//! ONE function per output context, here: plain text, Markdown prose and table cells, Markdown
//! code spans, HTML (and the SVG and XML inside it), Mermaid labels, DOT strings, GitHub
//! workflow-command data and properties, and the GitHub fence around human text. A renderer
//! that writes a user string calls the function of the context it writes into; nothing else
//! escapes. `tests/it/escaping.rs` feeds arbitrary strings through every format and checks the
//! output's structure.
//!
//! Names cannot hold control characters (the loader's E0024), but file paths and the
//! messages that quote them can, so every context also makes control characters visible: C0
//! controls and DEL become their Unicode control pictures (`␊` for a line feed), C1 controls
//! and the line and paragraph separators U+FFFD. Text that had none of them is unchanged.

use std::borrow::Cow;

/// A control character as a visible, harmless one, or `None` for an ordinary character.
fn visible(c: char) -> Option<char> {
    match c {
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + u32::from(c)),
        '\u{7f}' => Some('\u{2421}'),
        '\u{80}'..='\u{9f}' | '\u{2028}' | '\u{2029}' => Some('\u{fffd}'),
        _ => None,
    }
}

/// Maps every character through `f` (which pushes its escaped form), borrowing when nothing
/// needs escaping.
fn map_chars<'a>(
    text: &'a str,
    needs: impl Fn(char) -> bool,
    f: impl Fn(char, &mut String),
) -> Cow<'a, str> {
    if !text.chars().any(|c| needs(c) || visible(c).is_some()) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match visible(c) {
            Some(v) => f(v, &mut out),
            None => f(c, &mut out),
        }
    }
    Cow::Owned(out)
}

/// Plain text (the text report, terminal and log lines): control characters made visible,
/// so a string can never start a new line.
pub fn text(text: &str) -> Cow<'_, str> {
    map_chars(text, |_| false, |c, out| out.push(c))
}

/// Markdown prose and table cells: a backslash before every character that starts emphasis,
/// code, links, HTML, entities, strikethrough or maths, and before the `|` that ends a cell.
pub fn markdown(text: &str) -> String {
    let special = |c: char| "\\`*_[]<>|#&!~$".contains(c);
    map_chars(text, special, |c, out| {
        if special(c) {
            out.push('\\');
        }
        out.push(c);
    })
    .into_owned()
}

/// Text inside a Markdown code span: a backtick cannot be escaped there, so it becomes `'`; a
/// `|` still ends a table cell, so it is escaped (GitHub removes the backslash).
pub fn markdown_code(text: &str) -> String {
    map_chars(
        text,
        |c| c == '`' || c == '|',
        |c, out| match c {
            '`' => out.push('\''),
            '|' => out.push_str("\\|"),
            c => out.push(c),
        },
    )
    .into_owned()
}

/// HTML content and attribute values, and the SVG and XML they hold.
pub fn html(text: &str) -> String {
    map_chars(
        text,
        |c| "&<>\"'".contains(c),
        |c, out| match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        },
    )
    .into_owned()
}

/// Text inside a quoted Mermaid label (`n1["..."]`): the characters Mermaid reads as markup or
/// as the end of the label written as its entity codes (`#quot;`); a backtick, which would
/// start a Markdown string, and `&` too.
pub fn mermaid_label(text: &str) -> String {
    map_chars(
        text,
        |c| "#\"<>`&".contains(c),
        |c, out| match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '`' => out.push_str("#96;"),
            '&' => out.push_str("#38;"),
            c => out.push(c),
        },
    )
    .into_owned()
}

/// A DOT string literal, quotes included. `\n` in `text` is a line break the renderer put
/// there on purpose (it joins a label's lines with it), so it becomes DOT's centred break.
pub fn dot_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(visible(c).unwrap_or(c)),
        }
    }
    out.push('"');
    out
}

/// The message of a GitHub workflow command (actions/toolkit `command.ts`): `%`, CR and LF as
/// `%25`, `%0D`, `%0A`, so the message stays on its line and the runner restores it.
pub fn github_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value (`file=`, `title=`) of a workflow command: as data, and `:` and `,`,
/// which end a property, as `%3A` and `%2C`.
pub fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Human text for a GitHub Actions log, where any line that starts with `::` (after spaces)
/// is a workflow command: wrapped in `::stop-commands::TOKEN` ... `::TOKEN::`, the runner's
/// documented way to print text without running commands in it. Empty text is returned as is.
///
/// The token must be one the text cannot contain. GitHub suggests a random one; a random token
/// would make the output differ from run to run, and determinism is this tool's contract. So
/// the token is derived from the text itself: the first 128 bits of SHA-256 over a domain tag
/// and the whole text. For the text to end the fence early it would have to hold the line
/// `::TOKEN::` with the token of a text that holds that line — a fixed point of SHA-256, which
/// nobody can compute — and any change to the text changes the token. The same text always
/// gets the same fence, so reports stay byte-identical.
pub fn github_fence(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let token = fence_token(text);
    let mut out = format!("::stop-commands::{token}\n{text}");
    if !text.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!("::{token}::\n"));
    out
}

/// `blastradius-` and 32 hex digits of SHA-256 over `blastradius stop-commands\0` and `text`.
pub fn fence_token(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"blastradius stop-commands\0");
    hasher.update(text.as_bytes());
    let digest = hasher.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("blastradius-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_passes_unchanged_everywhere() {
        let name = "az-a power interruption (checkout) 99.9%";
        assert_eq!(text(name), name);
        assert_eq!(markdown(name), name);
        assert_eq!(markdown_code(name), name);
        assert_eq!(html(name), name);
        assert_eq!(mermaid_label(name), name);
        assert!(matches!(text(name), Cow::Borrowed(_)));
    }

    #[test]
    fn control_characters_become_visible() {
        assert_eq!(text("a\nb\rc\u{1b}d\u{7f}"), "a␊b␍c␛d␡");
        assert_eq!(markdown("x\n::error::y"), "x␊::error::y");
        assert_eq!(html("a\u{85}b\u{2028}"), "a\u{fffd}b\u{fffd}");
        assert_eq!(mermaid_label("a\n```"), "a␊#96;#96;#96;");
        assert_eq!(dot_string("a\nb\t"), "\"a\\nb␉\"");
    }

    #[test]
    fn each_context_escapes_its_markup() {
        assert_eq!(
            markdown("<img src=x> *a* `b` [c](d) | #e &f !g ~h $i"),
            "\\<img src=x\\> \\*a\\* \\`b\\` \\[c\\](d) \\| \\#e \\&f \\!g \\~h \\$i"
        );
        assert_eq!(markdown_code("a`b|c"), "a'b\\|c");
        assert_eq!(
            html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(mermaid_label("a\"b<c>#d"), "a#quot;b#lt;c#gt;#35;d");
        assert_eq!(github_data("100% a\r\nb: c, d"), "100%25 a%0D%0Ab: c, d");
        assert_eq!(github_property("a: b, 5%\nc"), "a%3A b%2C 5%25%0Ac");
        // `%` first, so an escape already in the text is not decoded by the runner.
        assert_eq!(github_property("%3A"), "%253A");
    }

    #[test]
    fn the_fence_is_deterministic_and_depends_on_the_text() {
        let a = github_fence("x\n::error::pwned\n");
        assert_eq!(a, github_fence("x\n::error::pwned\n"));
        let token = fence_token("x\n::error::pwned\n");
        assert_eq!(token.len(), "blastradius-".len() + 32);
        assert_eq!(
            a,
            format!("::stop-commands::{token}\nx\n::error::pwned\n::{token}::\n")
        );
        assert_ne!(token, fence_token("x\n::error::pwned"));
        assert_eq!(
            github_fence("no newline"),
            format!(
                "::stop-commands::{t}\nno newline\n::{t}::\n",
                t = fence_token("no newline")
            )
        );
        assert_eq!(github_fence(""), "");
    }
}
