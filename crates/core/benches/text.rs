//! Cost of the comparison keys in `ichigen_core::text` on typical order text.
//!
//! Budget: 200,000 orders/s on one core with 6–10 keys each, so well under 1 µs per key.

use std::hint::black_box;

use criterion::Criterion;
use ichigen_core::text::{address_key_into, compact_key_into, name_key, place_key};

/// Street parts as orders carry them: already-NFKC text, full-width digits and hyphens, kanji
/// numerals, a building name.
const STREETS: &[&str] = &[
    "六本木3丁目5番7号",
    "西新宿２－８－１　都庁第一本庁舎",
    "茅ヶ崎三丁目五番地の七 ハイツ青葉101号室",
    "北十条西４丁目１－２",
];

const NAMES: &[&str] = &["山田　太郎　様", "ﾔﾏﾀﾞ ﾀﾛｳ", "髙橋 一郎", "やまだ はなこ"];

fn bench(c: &mut Criterion) {
    let mut buf = String::with_capacity(128);
    for (i, s) in STREETS.iter().enumerate() {
        c.bench_function(&format!("address_key_into/{i}"), |b| {
            b.iter(|| {
                address_key_into(black_box(s), &mut buf);
                black_box(buf.len())
            })
        });
    }
    c.bench_function("address_key_into/all4", |b| {
        b.iter(|| {
            for s in STREETS {
                address_key_into(black_box(s), &mut buf);
                black_box(buf.len());
            }
        })
    });
    for (i, s) in NAMES.iter().enumerate() {
        c.bench_function(&format!("name_key/{i}"), |b| b.iter(|| name_key(black_box(s))));
    }
    c.bench_function("compact_key_into/0", |b| {
        b.iter(|| {
            compact_key_into(black_box(STREETS[1]), &mut buf);
            black_box(buf.len())
        })
    });
    c.bench_function("place_key/0", |b| b.iter(|| place_key(black_box("象潟町５丁目塩越"))));
}

// What criterion_group!/criterion_main! expand to, minus the undocumented pub fn they add.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
