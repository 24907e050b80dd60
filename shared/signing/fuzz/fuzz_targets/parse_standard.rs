#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let Ok(signatures) = hookrelay_signing::parse::parse_standard_signatures(data) {
        assert!(!signatures.is_empty());
    }
});
