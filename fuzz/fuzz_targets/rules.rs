//! Fuzzes the rules file and the checks run with it (body: crates/fuzzing).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ichigen_fuzzing::rules(data));
