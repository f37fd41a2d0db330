//! Fuzzes Amazon SP-API searchOrders/getOrder bodies (body: crates/fuzzing).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ichigen_fuzzing::amazon(data));
