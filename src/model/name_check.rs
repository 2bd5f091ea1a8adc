//! Names — of the model, the scenario, zones, nodes and workloads — are printed in every
//! report, in CI annotations, graphs and step summaries. A name may hold any printable text
//! (spaces, `::`, `<`, backticks: each renderer escapes those for its context), but not the
//! characters that change how the text around it is laid out or read: control characters
//! (a line feed would start a new line, so a new workflow command on GitHub), the Unicode line
//! and paragraph separators, and the bidirectional formatting characters that make text display
//! in another order than it is stored ("Trojan Source"). Those are rejected here, with the
//! character named, instead of escaped later, because a name is an identifier people type and
//! read back.

use std::ops::Range;

use super::codes::Code;
use super::reader::Sink;

/// The first character of `name` that a name must not hold: its position (1-based, in
/// characters) and the character.
pub fn forbidden_char(name: &str) -> Option<(usize, char)> {
    name.chars()
        .enumerate()
        .find(|(_, c)| is_forbidden(*c))
        .map(|(i, c)| (i + 1, c))
}

fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{061C}' | '\u{200E}' | '\u{200F}'
                | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// The character as people know it: `U+000A (line feed)`.
pub fn describe_char(c: char) -> String {
    let name = match c {
        '\0' => "null",
        '\t' => "tab",
        '\n' => "line feed",
        '\r' => "carriage return",
        '\u{1b}' => "escape",
        '\u{7f}' => "delete",
        '\u{85}' => "next line",
        '\u{2028}' => "line separator",
        '\u{2029}' => "paragraph separator",
        '\u{200E}' => "left-to-right mark",
        '\u{200F}' | '\u{061C}' => "right-to-left mark",
        '\u{202A}'..='\u{202E}' => "bidirectional embedding or override",
        '\u{2066}'..='\u{2069}' => "bidirectional isolate",
        _ => "control character",
    };
    format!("U+{:04X} ({name})", u32::from(c))
}

/// Reports a name holding a forbidden character at `span` (the key or string that spells it).
/// `what` names the thing: "zone", "node", "workload", "scenario", "model". Returns whether the
/// name is clean.
pub(crate) fn check_name(sink: &mut Sink<'_>, what: &str, name: &str, span: Range<usize>) -> bool {
    let Some((position, c)) = forbidden_char(name) else {
        return true;
    };
    sink.error(
        Code::BadName,
        span,
        format!(
            "the {what} name {:?} holds {} at character {position}",
            name,
            describe_char(c)
        ),
    )
    .label("not allowed in a name")
    .help(
        "names appear in reports, CI annotations and graphs, so they cannot hold control, \
         line-separator or bidirectional-formatting characters; write the name on one line \
         with visible characters",
    );
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_names_pass_and_layout_characters_do_not() {
        for name in [
            "api",
            "az-a",
            "orders db",
            "x::y <b> `c` 100%",
            "платёж",
            "مرحبا",
        ] {
            assert_eq!(forbidden_char(name), None, "{name}");
        }
        assert_eq!(forbidden_char("x\n::error::pwned"), Some((2, '\n')));
        assert_eq!(forbidden_char("a\tb"), Some((2, '\t')));
        assert_eq!(forbidden_char("ab\u{202E}c"), Some((3, '\u{202E}')));
        assert_eq!(forbidden_char("\u{2028}"), Some((1, '\u{2028}')));
        assert_eq!(forbidden_char("a\u{85}"), Some((2, '\u{85}')));
        assert_eq!(describe_char('\n'), "U+000A (line feed)");
        assert_eq!(
            describe_char('\u{202E}'),
            "U+202E (bidirectional embedding or override)"
        );
        assert_eq!(describe_char('\u{1}'), "U+0001 (control character)");
    }
}
