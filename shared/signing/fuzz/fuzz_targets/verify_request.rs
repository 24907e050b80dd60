//! Whole requests through every scheme's verifier: the first byte picks the
//! scheme, the text up to the first NUL is `name: value` header lines, the
//! rest is the body. Verification must return, never panic.
#![no_main]
use hookrelay_signing::{
    HeaderPairs, HmacOptions, InboundRequest, Scheme, SchemeKind, Secret, Verifier,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    // Every catalogue scheme, and the generic one with a template.
    let mut schemes: Vec<Scheme> = SchemeKind::ALL
        .iter()
        .filter(|kind| **kind != SchemeKind::Hmac)
        .map(|kind| Scheme::Named(*kind))
        .collect();
    schemes.push(Scheme::Hmac(HmacOptions {
        template: Some("{id}.{timestamp}.{body}".into()),
        timestamp_header: Some("x-ts".into()),
        id_header: Some("x-id".into()),
        ..HmacOptions::new("x-sig")
    }));
    let scheme = schemes[selector as usize % schemes.len()].clone();
    let secret = match scheme.kind() {
        kind if kind.spec().takes_whsec() => "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        SchemeKind::Discord => "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        SchemeKind::Sns => "arn:aws:sns:us-east-1:123456789012:orders",
        SchemeKind::Sendgrid => "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==",
        _ => "fuzz:secret",
    };
    let verifier = Verifier::new(scheme, &[Secret::new(secret)]).expect("valid test secret");
    let split = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
    let (head, body) = rest.split_at(split);
    let head = String::from_utf8_lossy(head);
    let headers: Vec<(&str, &str)> = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim(), v.trim()))
        .collect();
    let pairs = HeaderPairs(&headers);
    // SNS's stand-in certificate, so SNS messages reach the signature check.
    let request = InboundRequest::new(&pairs, body)
        .with_url("https://relay.example/hooks/x?a=1")
        .with_certificate(include_bytes!("../../../../events/providers/sns-signing-cert.pem"));
    for now in [0, 1_700_000_000, i64::MAX, i64::MIN] {
        let _ = verifier.verify(&request, now);
    }
});
