//! blastradius: a deterministic discrete-event simulator for chaos engineering.
//!
//! Rooms, with dependencies pointing one way (see ARCHITECTURE.md):
//! `kernel`, `metrics` <- `model` <- `sim` <- `report` <- `cli`.

pub mod analysis;
pub mod faults;
pub mod interop;
pub mod kernel;
pub mod metrics;
pub mod model;
pub mod report;
pub mod sim;

pub mod cli;

/// Every allocation is counted, so `max_memory_mb` bounds real bytes (`kernel::memory`).
#[global_allocator]
static ALLOCATOR: kernel::memory::Counting = kernel::memory::Counting;

/// The tool's version, written into every report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
