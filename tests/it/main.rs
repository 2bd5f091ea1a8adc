//! Integration tests: one binary, a module per concern.

mod bounded;
mod cache;
mod check;
mod cli;
mod diagnostics;
mod examples_load;
mod escaping;
mod examples_run;
mod faults;
mod golden;
mod hardening;
mod html;
mod model_errors;
mod props;
mod pyenv;
mod queue;
mod report_snapshots;
mod resilience_calls;
mod resilience_nodes;
mod scaling;
mod support;
mod sweep;
mod theory;
mod workloads;
