//! Renderers of results: pure functions from results to text. No IO, no simulation.
//!
//! Architecture invariant: `report` only reads results; what it writes depends on nothing but
//! its inputs (no clocks, no hash-map order), so reports are byte-identical across runs.

mod check;
pub mod escape;
pub mod explore;
pub mod explore_toml;
mod github;
mod graph;
mod html;
mod json;
mod junit;
mod markdown;
pub mod outline;
pub mod sweep;
mod text;

pub use check::{
    BaselineStatus, CheckEntry, CheckReport, GateStatus, check_markdown, check_text,
    summary_markdown,
};
pub use github::{
    annotations, blast_highlights, diagnostic_annotations, escape_data, escape_property,
    step_summary,
};
pub use junit::{JunitTiming, to_junit};
pub use markdown::{replay_command, to_markdown};

pub use graph::{Highlight, Highlights, to_dot, to_mermaid};
pub use html::to_html;
pub use json::to_json;
pub use text::to_text;
