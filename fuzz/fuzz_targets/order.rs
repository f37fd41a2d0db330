//! Fuzzes the canonical-order reader and the checks (body: crates/fuzzing).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ichigen_fuzzing::order(data));
