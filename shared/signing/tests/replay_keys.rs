//! The replay key a verified request carries when its signature covers no
//! timestamp: the same for an exact replay, whatever secret list it is
//! checked against, and different for different signed content.
use hookrelay_signing::{
    sign_as_provider, HeaderPairs, InboundRequest, ProviderMessage, Scheme, SchemeKind, Secret,
    Verified, Verifier,
};

const TS: i64 = 1_700_000_000;
const BODY: &[u8] = br#"{"ref":"refs/heads/main","after":"abc"}"#;
const SECRET: &str = "It's a Secret to Everybody";

fn signed(scheme: &Scheme, secret: &str, body: &[u8]) -> Vec<(String, String)> {
    let message = ProviderMessage {
        body,
        timestamp: TS,
        id: "msg_1",
        url: None,
    };
    sign_as_provider(scheme, &Secret::new(secret), &message).unwrap()
}

fn verify(
    scheme: &Scheme,
    secrets: &[&str],
    headers: &[(String, String)],
    body: &[u8],
) -> Verified {
    let secrets: Vec<Secret> = secrets.iter().map(|s| Secret::new(*s)).collect();
    let verifier = Verifier::new(scheme.clone(), &secrets).unwrap();
    let pairs = HeaderPairs(headers);
    verifier
        .verify(&InboundRequest::new(&pairs, body), TS)
        .unwrap()
}

#[test]
fn an_exact_replay_of_an_untimed_hmac_request_has_the_same_key_and_another_body_another() {
    // Given a GitHub request, and the same body with one byte changed
    let github = Scheme::Named(SchemeKind::Github);
    let headers = signed(&github, SECRET, BODY);
    let other_body = br#"{"ref":"refs/heads/main","after":"abd"}"#;
    let other = signed(&github, SECRET, other_body);

    // When each is verified (the first twice)
    let first = verify(&github, &[SECRET], &headers, BODY);
    let again = verify(&github, &[SECRET], &headers, BODY);
    let different = verify(&github, &[SECRET], &other, other_body);

    // Then the replay has the first's key and the other body its own
    assert_eq!(first.timestamp, None);
    assert!(first.replay_key.is_some());
    assert_eq!(first.replay_key, again.replay_key);
    assert_ne!(first.replay_key, different.replay_key);
}

#[test]
fn a_replay_key_does_not_move_when_the_sources_secrets_are_rotated() {
    let github = Scheme::Named(SchemeKind::Github);
    let headers = signed(&github, SECRET, BODY);
    let before = verify(&github, &[SECRET], &headers, BODY);
    // A new secret is added in front of the one the request was signed with.
    let after = verify(&github, &["the new secret", SECRET], &headers, BODY);
    assert_eq!((before.secret_index, after.secret_index), (0, 1));
    assert_eq!(before.replay_key, after.replay_key);
}

#[test]
fn a_replay_key_is_not_the_signature_it_was_made_from() {
    let github = Scheme::Named(SchemeKind::Github);
    let headers = signed(&github, SECRET, BODY);
    let signature = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("X-Hub-Signature-256"))
        .and_then(|(_, value)| value.strip_prefix("sha256="))
        .map(|hex_tag| hex::decode(hex_tag).unwrap())
        .unwrap();
    let key = verify(&github, &[SECRET], &headers, BODY)
        .replay_key
        .unwrap();
    assert_eq!(signature.len(), key.len());
    assert_ne!(signature, key);
}

#[test]
fn a_scheme_that_signs_a_timestamp_needs_no_replay_key() {
    let stripe = Scheme::Named(SchemeKind::Stripe);
    let headers = signed(&stripe, "whsec_test", BODY);
    let verified = verify(&stripe, &["whsec_test"], &headers, BODY);
    assert_eq!(verified.timestamp, Some(TS));
    assert_eq!(verified.replay_key, None);
}

#[test]
fn a_token_request_is_known_by_its_body_whichever_token_it_carried() {
    // Given GitLab, whose header is the secret itself and covers nothing
    let gitlab = Scheme::Named(SchemeKind::Gitlab);
    let secrets = ["old token", "new token"];
    let with = |token: &str, body: &[u8]| {
        let headers = vec![("X-Gitlab-Token".to_string(), token.to_string())];
        verify(&gitlab, &secrets, &headers, body)
    };

    // Then the same body is one delivery under either token, and another
    // body under the same token is another
    let old = with("old token", BODY);
    let new = with("new token", BODY);
    assert_eq!((old.secret_index, new.secret_index), (0, 1));
    assert!(old.replay_key.is_some());
    assert_eq!(old.replay_key, new.replay_key);
    assert_ne!(old.replay_key, with("old token", b"{}").replay_key);
}

#[test]
fn a_public_key_signature_keys_its_replays_by_what_it_signs() {
    // RFC 8032's first test key; the request as in tests/schemes.rs.
    let discord = Scheme::Named(SchemeKind::Discord);
    let key = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    let body = br#"{"id":"evt_1","type":"invoice.paid"}"#;
    let headers = vec![
        ("X-Signature-Ed25519".to_string(), "db28edfb4285e3ad31f75168c6fd7e95ffd080de5553350ba88eb0a86f473c2499f36259a04fdc21781179ad90870053492c200c8a55d76c4bc134fea90f030d".to_string()),
        ("X-Signature-Timestamp".to_string(), TS.to_string()),
    ];
    let first = verify(&discord, &[key], &headers, body);
    let again = verify(&discord, &[key], &headers, body);
    assert_eq!(first.timestamp, Some(TS));
    assert!(first.replay_key.is_some());
    assert_eq!(first.replay_key, again.replay_key);
}
