//! Fuzzes Yahoo!ショッピング orderInfo bodies (body: crates/fuzzing).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ichigen_fuzzing::yahoo(data));
