//! Renderers of results: pure functions from results to text. No IO, no simulation.
//!
//! Architecture invariant: `report` only reads results; what it writes depends on nothing but
//! its inputs (no clocks, no hash-map order), so reports are byte-identical across runs.

mod cache;
mod check;
mod document;
pub mod escape;
pub mod explore;
pub mod explore_toml;
mod github;
mod graph;
mod html;
mod journal;
mod json;
mod junit;
mod markdown;
pub mod outline;
mod queue;
mod resilience;
mod scaling;
pub mod sweep;
mod text;
mod traffic;

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
pub use resilience::EdgeReport;

pub use cache::{CacheReport, CacheRunReport, CacheSeriesReport, CacheWindowReport};
pub use document::{BalancerReport, EndpointReport, NodeReport, RunDocument, WorkloadReport};
pub use graph::{Highlight, Highlights, to_dot, to_mermaid};
pub use html::to_html;
pub use journal::Journal;
pub use json::to_json;
pub use scaling::AutoscalingReport;
pub use text::to_text;
pub use traffic::{TrafficReport, UsersReport};
