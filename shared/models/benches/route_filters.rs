//! Route content filters (issue 27): matching one 4 KiB JSON event against
//! 100 routes with patterns, next to the baseline every filtered event pays
//! anyway, parsing its body once. Run with
//! `cargo bench -p hookrelay-models --bench route_filters`.
use criterion::{criterion_group, criterion_main, Criterion};
use hookrelay_models::pattern::EventPattern;
use serde_json::{json, Value};
use std::hint::black_box;

/// A 4 KiB order: a few fields and line items.
fn body() -> Vec<u8> {
    let mut items = Vec::new();
    let mut n = 0;
    loop {
        items.push(json!({"sku": format!("SKU-{n:05}"), "qty": n % 7 + 1, "price": 1000 + n * 37}));
        let body = json!({
            "id": "ord_1", "status": "paid", "total": 125_000, "currency": "EUR",
            "customer": {"id": "cus_9", "email": "ada@example.com", "country": "DE"},
            "ip": "203.0.113.7", "items": items
        });
        let bytes = serde_json::to_vec(&body).unwrap();
        if bytes.len() >= 4096 {
            return bytes;
        }
        n += 1;
    }
}

/// 100 patterns of every kind, none of which matches until the last, so
/// each is tried.
fn patterns() -> Vec<EventPattern> {
    (0..100)
        .map(|i| {
            let pattern = match i % 5 {
                0 => json!({"body": {"status": [format!("state-{i}")]}}),
                1 => json!({"body": {"total": [{"numeric": [">", 200_000 + i]}]}}),
                2 => json!({"body": {"customer": {"email": [{"suffix": format!("@shop{i}.example")}]}}}),
                3 => json!({"body": {"ip": [{"cidr": format!("10.{i}.0.0/16")}]}}),
                _ => json!({"body": {"items": {"sku": [{"wildcard": format!("X*-{i}")}]}}, "$or": [{"type": ["a"]}, {"type": ["b"]}]}),
            };
            EventPattern::from_value(&pattern).unwrap()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let body = body();
    let patterns = patterns();
    let parsed: Value = serde_json::from_slice(&body).unwrap();
    let envelope = json!({"source": "shop", "type": "order.paid", "headers": {}, "body": parsed});
    assert!(patterns.iter().all(|p| !p.matches(&envelope)));
    let mut group = c.benchmark_group("route_filters");
    group.bench_function("baseline: parse the 4 KiB body once", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&body)).unwrap())
    });
    group.bench_function("match it against 100 patterns", |b| {
        b.iter(|| {
            patterns
                .iter()
                .filter(|p| p.matches(black_box(&envelope)))
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
