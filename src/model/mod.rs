//! Model and scenario files: TOML with spans -> validated `Topology` / `Scenario`, and the
//! diagnostics for everything that can be wrong with them.
//!
//! Architecture invariant: `model` knows nothing of `sim`; it reads the text handed to it and,
//! for `load_model` / `load_scenario` and a scenario's model path, the file system. Every
//! mistake in a file is collected and reported at once, never a panic on any input.
//!
//! Modules: `codes` (the code table), `diagnostic` (diagnostics and rendering), `reader` and
//! `values` (the typed reader over the spanned TOML tree), `duration`, `dist`, `nodes`, `graph`,
//! `load_model`, `load_scenario` (with `load_fault`, `fault_target`, `load_hypothesis` and
//! `resolve`, which looks scenario names up in the model), and the validated types in
//! `topology`, `scenario` and `fault`; `fault_kinds` and `node_kinds` are the tables of fault
//! and node kinds every one of them reads.

pub mod autoscale;
pub mod aws;
pub mod cache_content;
mod call_policy;
pub mod capacity;
mod code_docs;
mod codes;
mod diagnostic;
mod dist;
mod duration;
mod error;
mod fault_hint;
mod fault_target;
mod graph;
pub mod labels;
mod lint;
mod load_fault;
mod load_hypothesis;
mod load_model;
mod load_scenario;
mod name_check;
mod names;
pub mod node_kinds;
mod node_policy;
mod nodes;
mod queue_node;
mod rate;
mod reader;
mod resolve;
mod validate;
mod values;

#[cfg(test)]
mod fault_check_tests;
#[cfg(test)]
mod fault_tests;
#[cfg(test)]
mod hypothesis_tests;
#[cfg(test)]
mod validation_tests;

pub mod fault;
pub mod fault_kinds;
pub mod scenario;
pub mod schema;
pub mod topology;

pub use aws::{AwsMapping, NodeAws};
pub use cache_content::{CacheContent, Sharing, che_hit_ratio};
pub use call_policy::{CallResilience, CircuitBreaker, RetryBudget};
pub use code_docs::{CodeDoc, ExampleKind};
pub use codes::Code;
pub use diagnostic::{Diagnostic, Diagnostics, Severity, Source};
pub use duration::parse_duration;
pub use error::LoadError;
pub use fault::{FaultKind, FaultSpec, FaultTarget, Selection};
pub use fault_kinds::{FAULT_KINDS, FaultKindSpec, FaultKindTag, TargetKind};
pub use labels::{Labels, Selector, SelectorError};
pub use load_model::{load_model, parse_model, parse_model_with_warnings};
pub use load_scenario::{load_scenario, load_scenario_with_warnings, parse_scenario};
pub use node_kinds::{NODE_KINDS, NodeKindSpec};
pub use node_policy::{Codel, HealthCheck, NodePolicy, Outlier, QueuePolicy};
pub use rate::{ClosedLoop, Rate, Traffic};
pub use scenario::{Change, Hypothesis, Limits, Metric, Scenario, Window};
pub use topology::*;
pub use validate::{FileKind, Validation, validate_file, validate_text};
