//! Property tests: whatever the body, secret and time, what a provider
//! signs verifies, and any single-byte change to the body does not.
use hookrelay_signing::{
    sign_as_provider, Encoding, HeaderPairs, HmacOptions, InboundRequest, ProviderMessage, Scheme,
    SchemeKind, Secret, Verifier, VerifyError, WebhookSecret,
};
use proptest::prelude::*;

/// Schemes whose signature covers every body byte: every catalogue scheme
/// but Twilio's form scheme, which signs decoded parameters (so `+` and
/// `%20` are the same to it) and is covered by its JSON variant, Linear,
/// which needs a JSON body and is below, Mailgun, which signs a token in
/// the body rather than the body (tested in schemes.rs), the token
/// schemes, which sign nothing, and the public-key schemes, which only the
/// provider can sign (tested in schemes.rs); and two configurations of the generic one.
fn byte_exact_schemes() -> Vec<Scheme> {
    let mut schemes: Vec<Scheme> = SchemeKind::ALL
        .iter()
        .filter(|kind| {
            !matches!(
                kind,
                SchemeKind::Twilio | SchemeKind::Linear | SchemeKind::Mailgun | SchemeKind::Hmac
            ) && !kind.spec().is_token()
                && !kind.spec().only_provider_signs()
        })
        .map(|kind| Scheme::Named(*kind))
        .collect();
    schemes.push(Scheme::Hmac(HmacOptions::new("X-Sig")));
    schemes.push(Scheme::Hmac(HmacOptions {
        encoding: Encoding::Base64,
        template: Some("{id}:{timestamp}:{body}".into()),
        timestamp_header: Some("X-Ts".into()),
        id_header: Some("X-Id".into()),
        ..HmacOptions::new("X-Sig")
    }));
    schemes
}

/// The public URL, for the schemes that sign it.
const URL: &str = "https://example.com/hooks/x?y=1";

fn secret_for(scheme: &Scheme, raw: &[u8]) -> Secret {
    if scheme.kind().spec().takes_whsec() {
        Secret::new(WebhookSecret::encode_key(raw))
    } else {
        Secret::new(hex_string(raw))
    }
}

fn hex_string(raw: &[u8]) -> String {
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

fn verify(
    scheme: &Scheme,
    secret: &Secret,
    headers: &[(String, String)],
    body: &[u8],
    url: Option<&str>,
    now: i64,
) -> Result<(), VerifyError> {
    let verifier = Verifier::new(scheme.clone(), std::slice::from_ref(secret)).unwrap();
    let pairs = HeaderPairs(headers);
    let mut request = InboundRequest::new(&pairs, body);
    request.url = url;
    verifier.verify(&request, now).map(|_| ())
}

proptest! {
    #[test]
    fn signed_requests_verify_and_single_byte_changes_fail(
        scheme_index in any::<prop::sample::Index>(),
        body in proptest::collection::vec(any::<u8>(), 1..2048),
        key in proptest::collection::vec(any::<u8>(), 1..64),
        timestamp in 1_000_000_000i64..4_000_000_000,
        // Within every scheme's tolerance (Calendly's is 180 s).
        skew in -120i64..=120,
        flip_at in any::<prop::sample::Index>(),
        flip_with in 1u8..=255,
    ) {
        let schemes = byte_exact_schemes();
        let scheme = &schemes[scheme_index.index(schemes.len())];
        let secret = secret_for(scheme, &key);
        let message = ProviderMessage { body: &body, timestamp, id: "msg_prop", url: Some(URL) };
        let headers = sign_as_provider(scheme, &secret, &message).unwrap();
        prop_assert_eq!(verify(scheme, &secret, &headers, &body, Some(URL), timestamp + skew), Ok(()));

        let mut tampered = body.clone();
        let at = flip_at.index(tampered.len());
        tampered[at] ^= flip_with;
        prop_assert_eq!(
            verify(scheme, &secret, &headers, &tampered, Some(URL), timestamp),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn linear_signed_json_verifies_and_changes_fail(
        text in "[a-zA-Z0-9 ]{0,200}",
        key in proptest::collection::vec(any::<u8>(), 1..64),
        timestamp in 1_000_000_000i64..4_000_000_000,
        flip_with in 1u8..=255,
    ) {
        let body = format!(r#"{{"data":{{"title":{text:?}}},"webhookTimestamp":{}}}"#, timestamp * 1000);
        let secret = Secret::new(hex_string(&key));
        let message = ProviderMessage { body: body.as_bytes(), timestamp, id: "", url: None };
        let headers = sign_as_provider(&Scheme::Named(SchemeKind::Linear), &secret, &message).unwrap();
        prop_assert_eq!(verify(&Scheme::Named(SchemeKind::Linear), &secret, &headers, body.as_bytes(), None, timestamp), Ok(()));
        let mut tampered = body.into_bytes();
        let at = tampered.len() / 2;
        tampered[at] ^= flip_with;
        prop_assert_eq!(
            verify(&Scheme::Named(SchemeKind::Linear), &secret, &headers, &tampered, None, timestamp),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn twilio_json_binds_every_body_byte(
        body in proptest::collection::vec(any::<u8>(), 1..1024),
        token in "[a-f0-9]{32}",
        flip_with in 1u8..=255,
    ) {
        use sha2::{Digest, Sha256};
        let url = format!(
            "https://relay.example/hooks/twilio?bodySHA256={}",
            hex_string(&Sha256::digest(&body))
        );
        let secret = Secret::new(token);
        let message = ProviderMessage { body: &body, timestamp: 0, id: "", url: Some(&url) };
        let headers = sign_as_provider(&Scheme::Named(SchemeKind::Twilio), &secret, &message).unwrap();
        prop_assert_eq!(verify(&Scheme::Named(SchemeKind::Twilio), &secret, &headers, &body, Some(&url), 0), Ok(()));
        let mut tampered = body.clone();
        tampered[0] ^= flip_with;
        prop_assert_eq!(
            verify(&Scheme::Named(SchemeKind::Twilio), &secret, &headers, &tampered, Some(&url), 0),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn header_parsers_never_panic(value in ".{0,300}") {
        use hookrelay_signing::parse;
        let _ = parse::parse_timestamped(&value, ',', "t", "v1");
        let _ = parse::parse_timestamped(&value, ';', "ts", "h1");
        let _ = parse::parse_signature_list(&value, "v1=", Encoding::Hex, Some(','));
        let _ = parse::parse_standard_signatures(&value);
        let _ = parse::parse_prefixed_hex(&value, "sha256=");
        let _ = parse::parse_unix_seconds(&value);
    }

    #[test]
    fn outbound_signatures_verify_inbound_as_standard_webhooks(
        key in proptest::collection::vec(any::<u8>(), 16..48),
        body in proptest::collection::vec(any::<u8>(), 0..1024),
        timestamp in 1_000_000_000i64..4_000_000_000,
    ) {
        let outbound = WebhookSecret::from_key_bytes(&key);
        let headers = vec![
            ("webhook-id".to_string(), "msg_out".to_string()),
            ("webhook-timestamp".to_string(), timestamp.to_string()),
            ("webhook-signature".to_string(), outbound.sign("msg_out", timestamp, &body)),
        ];
        let secret = Secret::new(WebhookSecret::encode_key(&key));
        prop_assert_eq!(verify(&Scheme::Named(SchemeKind::Standard), &secret, &headers, &body, None, timestamp), Ok(()));
    }
}
