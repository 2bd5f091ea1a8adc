//! Any text as a model file: the loader never panics, a rejection always carries located
//! diagnostics naming the file, and a model that loads runs (briefly, bounded) without panic.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = Path::new("fuzz/model.toml");
    match blastradius::model::parse_model_with_warnings(file, text) {
        Ok((topology, warnings)) => {
            common::check_located(&warnings);
            common::run_briefly(&topology);
        }
        Err(diagnostics) => common::check_rejection(&diagnostics, file),
    }
});
