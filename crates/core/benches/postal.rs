//! Cost of opening the embedded postal table (paid on every cold start) and of looking codes up
//! (paid per order).

use std::hint::black_box;

use criterion::Criterion;
use ichigen_core::postal::PostalTable;

static BYTES: &[u8] = include_bytes!("../data/postal.bin");

/// A mix like real orders: common area codes, a multi-prefecture code, offices, a PO box, a
/// 66-town code, and codes that do not exist or are malformed.
const CODES: [&str; 16] = [
    "1000001", "1001401", "0600042", "4980000", "0608621", "0038701", "6020033", "4520961", "1500001", "5300001",
    "8120011", "9071801", "9999999", "0000000", "12345", "100-000",
];

fn bench(c: &mut Criterion) {
    c.bench_function("postal/from_bytes", |b| b.iter(|| PostalTable::from_bytes(black_box(BYTES)).map(|t| t.len())));

    let table = PostalTable::from_bytes(BYTES).expect("the committed table opens");
    c.bench_function("postal/get (16-code mix)", |b| {
        b.iter(|| {
            let mut found = 0u32;
            for code in CODES {
                found += u32::from(table.get(black_box(code)).is_some());
            }
            found
        })
    });

    // Spread over the whole code space, so the binary search is not served from a few hot lines.
    let spread: Vec<String> = table.entries().step_by(997).map(|e| e.code_str()).collect();
    c.bench_function(&format!("postal/get ({} codes spread over the table)", spread.len()), |b| {
        b.iter(|| spread.iter().filter(|code| table.get(black_box(code)).is_some()).count())
    });

    c.bench_function("postal/get + read all towns (16-code mix)", |b| {
        b.iter(|| {
            let mut bytes = 0usize;
            for code in CODES {
                if let Some(e) = table.get(black_box(code)) {
                    for t in e.towns() {
                        bytes += t.prefecture.len() + t.city.len() + t.town.len() + t.note.len();
                        bytes += usize::from(t.chome) + usize::from(t.street_style);
                    }
                }
            }
            bytes
        })
    });
}

// Written out rather than with criterion_group!/criterion_main!, whose generated `pub fn` trips
// the workspace's missing_docs lint.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
