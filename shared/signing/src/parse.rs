//! Parsers for the signature headers the schemes use.
//!
//! They are public so fuzz targets can drive them directly; each returns a
//! short, static reason on failure and never panics on any input.
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use crate::catalog::TimestampForm;
use crate::scheme::Encoding;
use std::time::UNIX_EPOCH;

/// Longest signature we decode (SHA-512 hex is 128 characters); anything
/// longer cannot match and is refused before decoding.
const MAX_SIGNATURE_CHARS: usize = 256;
/// At most this many signatures in one header (rotation needs a handful).
const MAX_SIGNATURES: usize = 16;

/// A Unix timestamp in seconds: ASCII digits only, no sign, no spaces.
pub fn parse_unix_seconds(value: &str) -> Result<i64, &'static str> {
    if value.is_empty() || value.len() > 18 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err("timestamp must be 1 to 18 decimal digits");
    }
    value.parse().map_err(|_| "timestamp out of range")
}

/// Hex after an optional fixed prefix, e.g. GitHub's `sha256=<hex>`.
pub fn parse_prefixed_hex(value: &str, prefix: &str) -> Result<Vec<u8>, &'static str> {
    let rest = value
        .trim()
        .strip_prefix(prefix)
        .ok_or("expected prefix is missing")?;
    decode_hex(rest)
}

/// Base64 after an optional fixed prefix.
pub fn parse_prefixed_base64(value: &str, prefix: &str) -> Result<Vec<u8>, &'static str> {
    let rest = value
        .trim()
        .strip_prefix(prefix)
        .ok_or("expected prefix is missing")?;
    decode_base64(rest)
}

pub fn decode_hex(value: &str) -> Result<Vec<u8>, &'static str> {
    if value.is_empty() || value.len() > MAX_SIGNATURE_CHARS {
        return Err("signature has the wrong length");
    }
    hex::decode(value).map_err(|_| "signature is not hex")
}

pub fn decode_base64(value: &str) -> Result<Vec<u8>, &'static str> {
    if value.is_empty() || value.len() > MAX_SIGNATURE_CHARS {
        return Err("signature has the wrong length");
    }
    BASE64.decode(value).map_err(|_| "signature is not base64")
}

/// A timestamp with one or more signatures over it: Stripe's
/// `t=<ts>,v1=<hex>,v1=<hex>` and Paddle's `ts=<ts>;h1=<hex>`. Only the
/// signature key counts (Stripe's `v0` is ignored, as Stripe's own
/// libraries do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampedSignatures<'a> {
    /// The timestamp exactly as sent; it is part of the signed string.
    pub timestamp_raw: &'a str,
    pub timestamp: i64,
    pub signatures: Vec<Vec<u8>>,
}

/// `{timestamp_key}=<ts>{separator}{signature_key}=<hex>…`: a timestamp
/// and one or more hex signatures; items with other keys are ignored.
pub fn parse_timestamped<'a>(
    value: &'a str,
    separator: char,
    timestamp_key: &str,
    signature_key: &str,
) -> Result<TimestampedSignatures<'a>, &'static str> {
    let mut timestamp_raw = None;
    let mut signatures = Vec::new();
    for item in value.split(separator) {
        let (key, val) = item.trim().split_once('=').ok_or("item without '='")?;
        if key == timestamp_key {
            if timestamp_raw.is_some() {
                return Err("timestamp given twice");
            }
            timestamp_raw = Some(val);
        } else if key == signature_key {
            if signatures.len() == MAX_SIGNATURES {
                return Err("too many signatures");
            }
            signatures.push(decode_hex(val)?);
        }
    }
    let timestamp_raw = timestamp_raw.ok_or("no timestamp")?;
    let timestamp = parse_unix_seconds(timestamp_raw)?;
    if signatures.is_empty() {
        return Err("no signature");
    }
    Ok(TimestampedSignatures {
        timestamp_raw,
        timestamp,
        signatures,
    })
}

/// One signature after `prefix`, or with `list`, several separated by it
/// (PagerDuty's `v1=<hex>,v1=<hex>` during a rotation).
pub fn parse_signature_list(
    value: &str,
    prefix: &str,
    encoding: Encoding,
    list: Option<char>,
) -> Result<Vec<Vec<u8>>, &'static str> {
    let decode = |item: &str| match encoding {
        Encoding::Hex => parse_prefixed_hex(item, prefix),
        Encoding::Base64 => parse_prefixed_base64(item, prefix),
    };
    let Some(separator) = list else {
        return Ok(vec![decode(value)?]);
    };
    let mut signatures = Vec::new();
    for item in value.split(separator).filter(|i| !i.trim().is_empty()) {
        if signatures.len() == MAX_SIGNATURES {
            return Err("too many signatures");
        }
        signatures.push(decode(item)?);
    }
    if signatures.is_empty() {
        return Err("no signature");
    }
    Ok(signatures)
}

/// The signatures of a Standard Webhooks header, by version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StandardSignatures {
    /// `v1,<base64>`: HMAC-SHA256 with a `whsec_` secret.
    pub v1: Vec<Vec<u8>>,
    /// `v1a,<base64>`: Ed25519 with a `whpk_` public key.
    pub v1a: Vec<Vec<u8>>,
}

/// Standard Webhooks: space-separated `v1,<base64>` and `v1a,<base64>`
/// entries. Entries of other versions are skipped; at least one `v1` or
/// `v1a` entry is required.
pub fn parse_standard_signatures(value: &str) -> Result<StandardSignatures, &'static str> {
    let mut signatures = StandardSignatures::default();
    for entry in value.split(' ').filter(|e| !e.is_empty()) {
        let (version, signature) = entry.split_once(',').ok_or("entry without ','")?;
        let list = match version {
            "v1" => &mut signatures.v1,
            "v1a" => &mut signatures.v1a,
            _ => continue,
        };
        if list.len() == MAX_SIGNATURES {
            return Err("too many signatures");
        }
        list.push(decode_base64(signature)?);
    }
    if signatures.v1.is_empty() && signatures.v1a.is_empty() {
        return Err("no v1 or v1a signature");
    }
    Ok(signatures)
}

/// A signed timestamp as Unix seconds (milliseconds are floored).
pub(crate) fn parse_timestamp(raw: &str, form: TimestampForm) -> Result<i64, &'static str> {
    match form {
        TimestampForm::UnixSeconds => parse_unix_seconds(raw),
        TimestampForm::UnixMillis => parse_unix_seconds(raw).map(|ms| ms.div_euclid(1000)),
        TimestampForm::Rfc3339 => humantime::parse_rfc3339_weak(raw)
            .ok()
            .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
            .and_then(|since| i64::try_from(since.as_secs()).ok())
            .ok_or("timestamp is not RFC 3339"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripe(value: &str) -> Result<TimestampedSignatures<'_>, &'static str> {
        parse_timestamped(value, ',', "t", "v1")
    }

    fn paddle(value: &str) -> Result<TimestampedSignatures<'_>, &'static str> {
        parse_timestamped(value, ';', "ts", "h1")
    }

    #[test]
    fn stripe_header_with_two_v1_and_a_v0_parses() {
        let parsed = stripe("t=12,v1=00ff, v0=abab,v1=0102").unwrap();
        assert_eq!(parsed.timestamp, 12);
        assert_eq!(parsed.timestamp_raw, "12");
        assert_eq!(parsed.signatures, vec![vec![0, 255], vec![1, 2]]);
    }

    #[test]
    fn stripe_header_without_timestamp_or_signature_is_refused() {
        assert_eq!(stripe("v1=00"), Err("no timestamp"));
        assert_eq!(stripe("t=1"), Err("no signature"));
        assert_eq!(stripe("t=1,v1=zz"), Err("signature is not hex"));
        assert_eq!(stripe("t=1,t=2,v1=00"), Err("timestamp given twice"));
        assert_eq!(stripe(""), Err("item without '='"));
    }

    #[test]
    fn timestamps_must_be_plain_digits() {
        assert_eq!(parse_unix_seconds("1614265330"), Ok(1614265330));
        for bad in ["", "-1", "+1", " 1", "1.5", "99999999999999999999", "１"] {
            assert!(parse_unix_seconds(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn paddle_header_parses_multiple_h1() {
        let parsed = paddle("ts=1671552777;h1=aa;h1=bb").unwrap();
        assert_eq!(parsed.timestamp, 1671552777);
        assert_eq!(parsed.signatures, vec![vec![0xaa], vec![0xbb]]);
    }

    #[test]
    fn standard_header_sorts_versions_and_skips_others() {
        let parsed = parse_standard_signatures("v1a,AAAA v1,AQI= v2,xx").unwrap();
        assert_eq!(parsed.v1, vec![vec![1, 2]]);
        assert_eq!(parsed.v1a, vec![vec![0, 0, 0]]);
        assert_eq!(
            parse_standard_signatures("v2,AAAA"),
            Err("no v1 or v1a signature")
        );
        assert_eq!(
            parse_standard_signatures("garbage"),
            Err("entry without ','")
        );
        assert_eq!(
            parse_standard_signatures("v1,%%%"),
            Err("signature is not base64")
        );
    }

    #[test]
    fn oversized_signatures_are_refused_before_decoding() {
        let long = "a".repeat(MAX_SIGNATURE_CHARS + 2);
        assert_eq!(decode_hex(&long), Err("signature has the wrong length"));
        assert_eq!(decode_base64(&long), Err("signature has the wrong length"));
    }

    #[test]
    fn signature_lists_split_and_each_item_needs_the_prefix() {
        assert_eq!(
            parse_signature_list("v1=0a,v1=0b", "v1=", Encoding::Hex, Some(',')),
            Ok(vec![vec![10], vec![11]])
        );
        assert_eq!(
            parse_signature_list("v1=0a,v2=0b", "v1=", Encoding::Hex, Some(',')),
            Err("expected prefix is missing")
        );
        assert_eq!(
            parse_signature_list(",", "v1=", Encoding::Hex, Some(',')),
            Err("no signature")
        );
        assert_eq!(
            parse_signature_list("sha256=AQI=", "sha256=", Encoding::Base64, None),
            Ok(vec![vec![1, 2]])
        );
        let many = vec!["v1=00"; MAX_SIGNATURES + 1].join(",");
        assert_eq!(
            parse_signature_list(&many, "v1=", Encoding::Hex, Some(',')),
            Err("too many signatures")
        );
    }

    #[test]
    fn prefixed_hex_needs_its_prefix() {
        assert_eq!(parse_prefixed_hex("sha256=0a", "sha256="), Ok(vec![10]));
        assert_eq!(
            parse_prefixed_hex("sha1=0a", "sha256="),
            Err("expected prefix is missing")
        );
    }
}
