//! Provider edge cases found by checking the schemes against the
//! providers' own SDKs and servers (issue 26).
use hookrelay_signing::{
    HeaderPairs, InboundRequest, Scheme, SchemeKind, Secret, Verifier, WebhookSecret,
};

const NOW: i64 = 1_790_000_000;
const BODY: &[u8] = br#"{"type":"order.paid","data":{"id":"ord_1"}}"#;

fn polar_verifies(secret: &str, key: &[u8]) -> bool {
    let verifier = Verifier::new(Scheme::Named(SchemeKind::Polar), &[Secret::new(secret)])
        .unwrap_or_else(|e| panic!("{secret}: {e}"));
    let signature = WebhookSecret::from_key_bytes(key).sign("msg_1", NOW, BODY);
    let headers = [
        ("webhook-id", "msg_1".to_string()),
        ("webhook-timestamp", NOW.to_string()),
        ("webhook-signature", signature),
    ];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let pairs = HeaderPairs(&headers);
    verifier
        .verify(&InboundRequest::new(&pairs, BODY), NOW)
        .is_ok()
}

/// Polar's server and SDKs (polar `webhook/tasks.py`, polar-python and
/// polar-js `validateEvent`) base64-encode the secret string before the
/// Standard Webhooks library decodes it: the key is the UTF-8 bytes of the
/// whole secret, prefix and all. Secrets that are not base64 were refused
/// at load, and `whsec_` ones that happen to decode were checked with the
/// wrong key (401).
#[test]
fn polar_signs_with_the_whole_secret_string_as_its_key() {
    for secret in [
        "polar_whs_Xk3nQ9vB2mR7tL4wZ8yP1cF6hJ0sD5gA",
        "whsec_Xk3nQ9vB2mR7tL4wZ8yP1cF6hJ0sD5gA1234",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ] {
        assert!(polar_verifies(secret, secret.as_bytes()), "{secret}");
    }
    // A secret in the specification's form is also tried decoded, as Polar
    // means to issue them.
    let spec_form = WebhookSecret::encode_key(b"0123456789abcdef0123456789abcdef");
    assert!(polar_verifies(
        &spec_form,
        b"0123456789abcdef0123456789abcdef"
    ));
    // And a wrong key is still wrong.
    assert!(!polar_verifies(
        "polar_whs_Xk3nQ9vB2mR7tL4wZ8yP1cF6hJ0sD5gA",
        b"polar_whs_other"
    ));
}

/// One rule in the catalogue says where each scheme's proof travels: a
/// scheme that sends its secret in a header names that header as a secret
/// one (dropped before storing), and every scheme with a signature or
/// secret in a header names it as a proof header (masked when shown).
#[test]
fn every_scheme_names_the_headers_its_proof_travels_in() {
    use hookrelay_signing::CATALOG;
    for spec in CATALOG.iter().filter(|s| s.kind != SchemeKind::Hmac) {
        let scheme = Scheme::Named(spec.kind);
        let in_body = matches!(
            spec.kind,
            SchemeKind::Mailgun | SchemeKind::MicrosoftGraph | SchemeKind::Sns
        );
        assert_eq!(scheme.proof_headers().is_empty(), in_body, "{}", spec.kind);
        if spec.is_token() && !in_body {
            assert!(!scheme.secret_headers().is_empty(), "{}", spec.kind);
            for header in scheme.secret_headers() {
                assert!(scheme.proof_headers().contains(&header), "{}", spec.kind);
            }
        } else {
            assert!(scheme.secret_headers().is_empty(), "{}", spec.kind);
        }
    }
    assert_eq!(
        Scheme::Named(SchemeKind::Gitlab).secret_headers(),
        ["X-Gitlab-Token"]
    );
    assert_eq!(
        Scheme::Named(SchemeKind::MicrosoftGraph).secret_body_fields(),
        ["/value/*/clientState"]
    );
}
