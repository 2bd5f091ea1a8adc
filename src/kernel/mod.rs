//! The deterministic core: simulated time, the event queue and random streams.
//!
//! Architecture invariant: `kernel` does no IO and knows nothing of TOML, clap, rayon, indicatif
//! or the rest of the crate. Time is integer nanoseconds; no `f64` seconds and no `std::time`.

pub mod dist;
pub mod memory;
pub mod queue;
pub mod rng;
pub mod time;
pub mod ziggurat;
pub mod zipf;

pub use dist::{Dist, round_ns};
pub use queue::{EventQueue, Lane};
pub use rng::{Purpose, Stream, stable_id};
pub use time::SimTime;
pub use zipf::Zipf;
