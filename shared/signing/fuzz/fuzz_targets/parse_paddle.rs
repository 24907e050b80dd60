#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let Ok(parsed) = hookrelay_signing::parse::parse_paddle_signature(data) {
        assert!(!parsed.signatures.is_empty());
        assert!(parsed.timestamp >= 0);
    }
});
