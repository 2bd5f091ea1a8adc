//! JSON: the machine interface. One document per scenario run.

use crate::analysis::findings::Findings;

/// Pretty-printed, with a trailing newline. Field order is fixed by the document's types and
/// maps keep model order, so the bytes depend only on the results.
pub fn to_json(document: &Findings) -> String {
    let mut text =
        serde_json::to_string_pretty(document).expect("a run document always serialises");
    text.push('\n');
    text
}
