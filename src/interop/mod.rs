//! Interoperation with the tools users already run: experiments and templates of other chaos
//! tools imported into scenarios and exported from them, and models built from traces.
//!
//! Architecture invariant: `interop` does no IO. The CLI reads the files and hands their text
//! here; what comes back is text to write (a scenario, a model, an experiment) plus the
//! warnings that name everything that could not be mapped — nothing is dropped silently.
//! It reads validated `model` types and may run studies through `analysis`; `report` and `sim`
//! internals are not its business.

pub mod ctk;
pub mod draft;
pub mod fis;
pub mod traces;
