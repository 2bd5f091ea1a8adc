//! Renderers of results: pure functions from results to text. No IO, no simulation.
//!
//! Architecture invariant: `report` only reads results; what it writes depends on nothing but
//! its inputs (no clocks, no hash-map order), so reports are byte-identical across runs.

mod document;
mod json;
mod text;

pub use document::{EndpointReport, NodeReport, RunDocument, WorkloadReport};
pub use json::to_json;
pub use text::to_text;
