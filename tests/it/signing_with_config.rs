//! Configuration and signing together: a source built from TOML verifies
//! what its provider signs, and a destination's deliveries verify with the
//! Standard Webhooks scheme under either secret during rotation.
use hookrelay_models::{RetiringSecret, SourceId, Timestamp};
use hookrelay_signing::{
    sign_as_provider, signature_header, HeaderPairs, InboundRequest, ProviderMessage, Scheme,
    SchemeKind, Secret, Verifier, VerifyError,
};
use hookrelay_tests::config_from;

const CONFIG: &str = r#"
[[sources]]
id = "stripe"
scheme = "stripe"
secrets = ["whsec_old_stripe", "whsec_new_stripe"]
tolerance_secs = 60

[[destinations]]
id = "orders"
url = "https://orders.example.com/hooks"
secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
"#;

#[test]
fn a_source_from_toml_verifies_its_providers_signature_with_any_active_secret() {
    let config = config_from(CONFIG);
    let source = config.source(&SourceId::parse("stripe").unwrap()).unwrap();
    let verifier = source.verifier().unwrap();
    let body = br#"{"id":"evt_1","type":"invoice.paid"}"#;
    for (index, secret) in ["whsec_old_stripe", "whsec_new_stripe"].iter().enumerate() {
        let message = ProviderMessage {
            body,
            timestamp: 1_700_000_000,
            id: "",
            url: None,
        };
        let headers = sign_as_provider(
            &Scheme::Named(SchemeKind::Stripe),
            &Secret::new(*secret),
            &message,
        )
        .unwrap();
        let pairs = HeaderPairs(&headers);
        let request = InboundRequest::new(&pairs, body);
        assert_eq!(
            verifier
                .verify(&request, 1_700_000_000)
                .unwrap()
                .secret_index,
            index
        );
        // The configured 60 s tolerance applies, not Stripe's default 300 s.
        assert_eq!(
            verifier.verify(&request, 1_700_000_061),
            Err(VerifyError::TimestampTooOld { age_secs: 61 })
        );
    }
}

#[test]
fn deliveries_verify_under_either_secret_during_rotation_and_only_the_new_one_after() {
    let mut config = config_from(CONFIG);
    let destination = &mut config.destinations[0];
    let old_secret = destination.secret.clone();
    let new_secret = Secret::new("whsec_bmV3IGtleSBieXRlcyBmb3IgdGVzdGluZw==");
    destination.retiring_secrets.push(RetiringSecret {
        secret: old_secret.clone(),
        expires_at: Timestamp::from_unix_secs(2_000_000_000),
    });
    destination.secret = new_secret.clone();

    let body = br#"{"hello":"world"}"#;
    let verify_as_receiver = |receiver_secret: &Secret, at: Timestamp| {
        let signing = destination.signing_secrets(at).unwrap();
        let header = signature_header(&signing, "msg_1", at.unix_secs(), body);
        let headers = [
            ("webhook-id".to_string(), "msg_1".to_string()),
            ("webhook-timestamp".to_string(), at.unix_secs().to_string()),
            ("webhook-signature".to_string(), header),
        ];
        let verifier = Verifier::new(
            Scheme::Named(SchemeKind::Standard),
            std::slice::from_ref(receiver_secret),
        )
        .unwrap();
        let pairs = HeaderPairs(&headers);
        verifier.verify(&InboundRequest::new(&pairs, body), at.unix_secs())
    };

    let during = Timestamp::from_unix_secs(1_999_999_000);
    assert!(verify_as_receiver(&old_secret, during).is_ok());
    assert!(verify_as_receiver(&new_secret, during).is_ok());

    let after = Timestamp::from_unix_secs(2_000_000_001);
    assert_eq!(
        verify_as_receiver(&old_secret, after),
        Err(VerifyError::NoMatchingSignature)
    );
    assert!(verify_as_receiver(&new_secret, after).is_ok());
}
