//! Fuzzes Qoo10 QSM shipping/claim answers (body: crates/fuzzing).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ichigen_fuzzing::qoo10(data));
