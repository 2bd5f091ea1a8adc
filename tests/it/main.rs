//! Integration tests: one binary, a module per concern.

mod cli;
mod examples_load;
mod examples_run;
mod model_errors;
mod theory;
