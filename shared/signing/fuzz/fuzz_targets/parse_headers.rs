//! Every signature-header parser on the same input: one target instead of
//! one per parser, so CI's bounded run spends its seconds fuzzing, not
//! starting targets. Each parser must return, never panic, and what it
//! returns must hold together.
#![no_main]
use hookrelay_signing::{parse, Encoding};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    for (separator, timestamp_key, signature_key) in [(',', "t", "v1"), (';', "ts", "h1")] {
        if let Ok(parsed) = parse::parse_timestamped(data, separator, timestamp_key, signature_key)
        {
            assert!(!parsed.signatures.is_empty());
            assert!(parsed.timestamp >= 0);
            assert!(data.contains(parsed.timestamp_raw));
        }
    }
    if let Ok(signatures) = parse::parse_standard_signatures(data) {
        assert!(!(signatures.v1.is_empty() && signatures.v1a.is_empty()));
    }
    for (prefix, encoding, list) in [
        ("sha256=", Encoding::Hex, None),
        ("v0=", Encoding::Hex, None),
        ("", Encoding::Base64, None),
        ("sha256=", Encoding::Base64, None),
        ("v1=", Encoding::Hex, Some(',')),
    ] {
        if let Ok(signatures) = parse::parse_signature_list(data, prefix, encoding, list) {
            assert!(!signatures.is_empty());
            assert!(signatures.iter().all(|s| !s.is_empty()));
        }
    }
    if let Ok(ts) = parse::parse_unix_seconds(data) {
        assert!(ts >= 0);
    }
    // SNS's envelope: a body, but parsed as one more "header" of fields.
    if let Ok(message) = hookrelay_signing::sns::SnsMessage::parse(data.as_bytes()) {
        assert!(message.string_to_sign().ends_with(b"\n"));
        assert!(data.contains(&message.topic_arn));
    }
});
