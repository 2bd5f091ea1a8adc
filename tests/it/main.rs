//! Integration tests: one binary, a module per concern.

mod bounded;
mod cache;
mod check;
mod cli;
mod diagnostics;
mod examples_load;
mod examples_run;
mod faults;
mod golden;
mod html;
mod model_errors;
mod props;
mod pyenv;
mod queue;
mod report_snapshots;
mod resilience_calls;
mod resilience_nodes;
mod scaling;
mod study_engine;
mod support;
mod sweep;
mod theory;
mod workloads;
