//! The outline of the mechanism sections of a run's report — traffic shapes, autoscaling,
//! resilience per edge, balancers, content caches, queues — as format-neutral blocks: a
//! `Section` is a title and a list of `Item`s (lines at a depth, tables). Each mechanism's file
//! builds its section once from the findings; text, Markdown and HTML each render the blocks
//! (`text::write_section`, `markdown::write_section`, `html::sections::section`), so a new
//! mechanism is one findings field and one section here, shown in every format at once.
//!
//! Must not: know any output format. A block holds plain text; the renderer escapes it for
//! the context it writes into.

use super::document::RunDocument;

/// One mechanism's part of a report.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    pub title: String,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// A line of prose; depth 1 is directly under the title, 2 under the line before, ...
    Line { depth: usize, text: String },
    Table(Table),
}

/// Rows of cells under a header; `numeric` marks the columns a renderer may right-align.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub header: Vec<&'static str>,
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
}

impl Section {
    pub fn new(title: impl Into<String>) -> Section {
        Section {
            title: title.into(),
            items: Vec::new(),
        }
    }

    pub fn line(&mut self, depth: usize, text: impl Into<String>) {
        self.items.push(Item::Line {
            depth,
            text: text.into(),
        });
    }

    /// `None` for a section with nothing under its title: a mechanism the model does not use.
    pub fn unless_empty(self) -> Option<Section> {
        (!self.items.is_empty()).then_some(self)
    }
}

/// The mechanism sections of a run, in the order the reports show them; empty for a model
/// that uses none. Balancers come once per run when there are faults (experiment first).
pub fn mechanisms(doc: &RunDocument) -> Vec<Section> {
    let with_faults = doc.blast_radius.is_some();
    let balancers = |experiment: bool, run: &str| {
        let mut section = super::text::balancers(doc, experiment)?;
        if with_faults {
            section.title = format!("{} — {run}", section.title);
        }
        Some(section)
    };
    [
        super::traffic::section(doc),
        super::scaling::section(&doc.autoscaling),
        super::resilience::section(&doc.resilience),
        with_faults.then(|| balancers(true, "experiment")).flatten(),
        balancers(false, "control"),
        super::cache::section(&doc.caches, with_faults),
        super::queue::section(doc),
    ]
    .into_iter()
    .flatten()
    .collect()
}
