//! Integration tests: one binary, a module per concern.

mod check;
mod cli;
mod examples_load;
mod examples_run;
mod faults;
mod model_errors;
mod sweep;
mod theory;
