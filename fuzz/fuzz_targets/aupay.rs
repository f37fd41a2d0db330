//! Fuzzes au PAY マーケット searchTradeInfoListProc bodies (body: crates/fuzzing).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ichigen_fuzzing::aupay(data));
