//! Verification throughput at 1 KiB, 64 KiB and 1 MiB bodies.
//!
//! Criterion prints bytes/s for each size (`Throughput::Bytes`). The
//! comparison with `openssl speed` is `bench/signing.sh`.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hookrelay_signing::{
    sign_as_provider, HeaderPairs, InboundRequest, ProviderMessage, Scheme, SchemeKind, Secret,
    Verifier,
};
use std::hint::black_box;

const NOW: i64 = 1_700_000_000;

fn bench_verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify");
    for (label, size) in [("1KiB", 1 << 10), ("64KiB", 64 << 10), ("1MiB", 1 << 20)] {
        let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        group.throughput(Throughput::Bytes(size as u64));
        for scheme in [
            Scheme::Named(SchemeKind::Github),
            Scheme::Named(SchemeKind::Stripe),
            Scheme::Named(SchemeKind::Standard),
        ] {
            let secret = match scheme {
                Scheme::Named(SchemeKind::Standard) => {
                    Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
                }
                _ => Secret::new("It's a Secret to Everybody"),
            };
            let message = ProviderMessage {
                body: &body,
                timestamp: NOW,
                id: "msg_bench",
                url: None,
            };
            let headers = sign_as_provider(&scheme, &secret, &message).unwrap();
            let verifier = Verifier::new(scheme.clone(), &[secret]).unwrap();
            let pairs = HeaderPairs(&headers);
            group.bench_with_input(
                BenchmarkId::new(scheme.kind().as_str(), label),
                &body,
                |b, body| {
                    b.iter(|| {
                        let request = InboundRequest::new(&pairs, black_box(body));
                        verifier.verify(&request, NOW).unwrap()
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, bench_verify);
criterion_main!(benches);
