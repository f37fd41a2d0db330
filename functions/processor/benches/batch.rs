//! The processor's work per SQS batch of 10 orders with the AWS calls taken out (in-memory
//! store and queue): decode, validate, fingerprint, check, decide, render nothing.
//!
//! `cargo bench -p ichigen-processor --bench batch`

#![allow(missing_docs)] // criterion_group! makes an undocumented function.

use std::hint::black_box;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ichigen_core::pipeline::memory::{MemoryMailQueue, MemoryStore};
use ichigen_core::pipeline::{ProcessSettings, Processor, ShopDirectory, ShopSettings};
use ichigen_core::sample::SampleOrders;
use ichigen_core::{Marketplace, rules::EXAMPLE_RULES};
use ichigen_lambda::Metrics;

fn batches(n: usize) -> Vec<SqsEvent> {
    let mut samples = SampleOrders::new(42);
    let marketplaces =
        [Marketplace::Rakuten, Marketplace::Yahoo, Marketplace::Amazon, Marketplace::Aupay, Marketplace::Qoo10];
    (0..n)
        .map(|b| {
            let mut event = SqsEvent::default();
            for i in 0..10 {
                let mut order = samples.varied_order(marketplaces[i % 5], b * 10 + i);
                order.shop_id = "bench".into();
                let mut m = SqsMessage::default();
                m.message_id = Some(format!("m{b}-{i}"));
                m.body = Some(serde_json::to_string(&order).expect("order json"));
                event.records.push(m);
            }
            event
        })
        .collect()
}

/// A processor over empty in-memory adapters, its engine for the shop already compiled (as in a warm Lambda).
///
/// A fresh one per iteration: the in-memory store finds 同梱 mates by scanning every stored order, so one
/// store kept across iterations grows by 10 orders each and the time measured would grow with the
/// iteration count, not with the batch (DynamoDB answers the same lookup from an index).
fn processor(rt: &tokio::runtime::Runtime, warm_up: &SqsEvent) -> Processor<MemoryStore, MemoryStore, MemoryMailQueue> {
    let directory = MemoryStore::new();
    let mut shop = ShopSettings::new("bench", "ベンチ商店", "shop@example.jp");
    shop.rules_toml = EXAMPLE_RULES.to_string();
    shop.staff_to = vec!["staff@example.jp".into()];
    rt.block_on(directory.put_shop(&shop)).expect("shop");
    let p = Processor::new(
        MemoryStore::new(),
        directory,
        MemoryMailQueue::new(),
        ichigen_marketplaces::policies(),
        ProcessSettings::default(),
    );
    let mut first = warm_up.clone();
    first.records.truncate(1);
    rt.block_on(ichigen_processor::handle(&p, first, &mut Metrics::new("processor")));
    p
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let events = batches(64);
    let warm_up = batches(1).pop().expect("one batch");
    let mut next = 0usize;
    c.bench_function("processor batch of 10 new orders (no AWS calls)", |b| {
        b.iter_batched(
            || {
                next += 1;
                // Fresh order ids each time so every order is new to the store (the expensive path).
                let mut e = events[next % events.len()].clone();
                for r in &mut e.records {
                    if let Some(body) = &mut r.body {
                        *body = body.replacen("\"order_id\":\"", &format!("\"order_id\":\"{next}-"), 1);
                    }
                }
                (processor(&rt, &warm_up), e)
            },
            |(p, event)| {
                let mut metrics = Metrics::new("processor");
                let response = black_box(rt.block_on(ichigen_processor::handle(&p, event, &mut metrics)));
                // Handed back so that criterion drops the processor after the timing, not in it.
                (p, response)
            },
            // One processor alive at a time (each holds a compiled engine); the timer's own cost is
            // nothing next to a batch.
            BatchSize::PerIteration,
        )
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
