#![no_main]
use libfuzzer_sys::fuzz_target;
use hookrelay_signing::parse;

fuzz_target!(|data: &str| {
    let _ = parse::parse_prefixed_hex(data, "sha256=");
    let _ = parse::parse_prefixed_hex(data, "v0=");
    let _ = parse::parse_prefixed_base64(data, "");
    if let Ok(ts) = parse::parse_unix_seconds(data) {
        assert!(ts >= 0);
    }
});
