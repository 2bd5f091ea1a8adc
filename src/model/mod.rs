//! Model and scenario files: raw TOML with spans -> validated `Topology` / `Scenario`, and the
//! diagnostics for everything that can be wrong with them.
//!
//! Architecture invariant: `model` knows nothing of `sim`; it reads text handed to it and, for
//! a scenario's model path, the file system through one function (`load`).

pub mod scenario;
pub mod topology;

pub use scenario::{Limits, Scenario};
pub use topology::*;
