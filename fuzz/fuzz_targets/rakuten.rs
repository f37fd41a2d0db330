//! Fuzzes 楽天 RMS getOrder bodies (body: crates/fuzzing).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ichigen_fuzzing::rakuten(data));
