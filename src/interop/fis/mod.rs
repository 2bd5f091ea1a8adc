//! AWS Fault Injection Service experiment templates (JSON) to scenarios and back (issue 17).
//!
//! `import` reads a template (`template`), times its actions (ISO 8601 durations,
//! `iso8601`; `startAfter` chains), resolves its targets on a model (`targets`: resource
//! types, tags as node labels, ARNs, AZ filters, selection modes), maps each action
//! (`actions` is the list of known ids, `map` the mapping), recognises a zone's power
//! interruption among them (`fuse`), and turns stop conditions into hypotheses (`stop`); the
//! result is a `ScenarioDraft`. `export` writes a scenario's faults as a template. No IO here.

pub mod actions;
mod export;
mod fuse;
mod import;
pub mod iso8601;
mod map;
mod stop;
pub mod targets;
pub mod template;

pub use export::{Exported, PLACEHOLDER_ACCOUNT, export, to_json};
pub use import::{ImportError, ImportOptions, Imported, import};
pub use template::{Template, TemplateError, parse_template};
