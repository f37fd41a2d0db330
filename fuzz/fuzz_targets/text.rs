//! Fuzzes the text normaliser's key functions (body: crates/fuzzing).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ichigen_fuzzing::text(data));
