//! AWS Fault Injection Service experiment templates (JSON) to scenarios and back (issue 17).

pub mod actions;
pub mod iso8601;
pub mod template;
