//! Integration tests: one binary, a module per concern.

mod bounded;
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
mod report_snapshots;
mod sweep;
mod theory;
mod workloads;
