//! Check-engine throughput over a realistic mix of orders (one core).
//!
//! `cargo bench -p ichigen-core --bench checks`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ichigen_core::sample::SampleOrders;
use ichigen_core::{CheckEngine, DeliveryMethod, Marketplace, Order, PaymentMethod, Rules};

const ORDERS: usize = 10_000;

/// 80% clean orders; the rest carry the defects shops actually see.
/// 楽天 writes sections of its own into the remarks (as its folder in ichigen-marketplaces declares).
const BENCH_POLICIES: ichigen_core::Policies = ichigen_core::Policies::new(|m| {
    (m == ichigen_core::Marketplace::Rakuten).then_some(ichigen_core::MarketplacePolicy {
        remark_sections: &["配送日時指定", "ギフト配送希望"],
        ..ichigen_core::MarketplacePolicy::plain(m)
    })
});

fn mix() -> Vec<Order> {
    let mut sample = SampleOrders::new(7);
    (0..ORDERS)
        .map(|n| {
            let mut o = sample.clean_order(Marketplace::ALL[n % 5], n);
            match n % 20 {
                0 => o.remarks = "[配送日時指定:]\n2026-12-01(火)\n14:00-16:00\n[備考:]\n不在時は宅配ボックスへ".into(),
                1 => {
                    o.ship_to.postal_code = "1001401".into();
                    o.ship_to.prefecture = "東京都".into();
                    o.ship_to.city = "八丈島八丈町".into();
                    o.ship_to.address1 = "大賀郷1234".into();
                }
                2 => o.ship_to.prefecture = "大阪府".into(),
                3 => {
                    o.ship_to.address1 = o
                        .ship_to
                        .address1
                        .trim_end_matches(|c: char| {
                            !c.is_alphabetic() || c.is_ascii() || "丁目番地号のー－".contains(c)
                        })
                        .to_string()
                }
                4 => {
                    o.delivery.method = DeliveryMethod::MailBin;
                    o.payment_method = PaymentMethod::Cod;
                }
                _ => {}
            }
            o
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let engine = CheckEngine::new(Rules::from_toml(ichigen_core::rules::EXAMPLE_RULES).expect("rules"), BENCH_POLICIES);
    let orders = mix();
    let index = engine.bundle_index(orders.iter());
    let mut g = c.benchmark_group("check_engine");
    g.throughput(Throughput::Elements(ORDERS as u64));
    g.bench_function("realistic_mix_10k", |b| {
        b.iter(|| {
            let mut held = 0usize;
            for o in &orders {
                held += usize::from(engine.check(o, &index).status == ichigen_core::OrderStatus::OnHold);
            }
            held
        })
    });
    g.bench_function("bundle_index_10k", |b| b.iter(|| engine.bundle_index(orders.iter()).len()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
