//! `GET /.well-known/webhook-keys/{destination}`: the public keys that
//! verify a destination's `v1a` (Ed25519) signatures, unauthenticated.
//!
//! The document is a JWKS (RFC 7517, keys as RFC 8037 `OKP`/`Ed25519`)
//! whose keys also carry their Standard Webhooks form (`whpk`), whether
//! they are `current` or `retiring`, and a retiring key's `expires_at`.
//! Nothing else about the destination is in it. It is read from the
//! receiver's configuration cache, so serving it costs no store call
//! beyond the cache's own refresh.
use hookrelay_models::{DestinationId, PublishedKey};
use http::{header, HeaderValue, Response, StatusCode};
use serde_json::json;

use crate::error::CoreError;
use crate::ingest::Ingest;

/// How long a consumer (or a CDN) may keep the document. A rotation's
/// overlap should be longer than this plus the receiver's config cache,
/// so that consumers see the new key before the old one stops signing.
pub const MAX_AGE_SECS: u64 = 300;
/// The 200's `Cache-Control` (a test checks it says [`MAX_AGE_SECS`]).
const CACHE_CONTROL: &str = "public, max-age=300";

/// The JSON of one key.
fn jwk(key: &PublishedKey) -> serde_json::Value {
    let mut jwk = json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
        "kid": key.key.kid(),
        "x": key.key.jwk_x(),
        "whpk": key.key.encode(),
        "status": if key.expires_at.is_some() { "retiring" } else { "current" },
    });
    if let Some(at) = key.expires_at {
        jwk["expires_at"] = json!(at.to_string());
    }
    jwk
}

fn answer(status: StatusCode, cache: &'static str, body: serde_json::Value) -> Response<Vec<u8>> {
    let mut response = Response::new(body.to_string().into_bytes());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The keys of `destination` as a response: 200 with the document, 404
/// for an unknown destination and for one without an Ed25519 key alike
/// (so the path does not tell which destinations exist), 503 if the
/// configuration cannot be read.
pub async fn respond(ingest: &Ingest, destination: &str) -> Response<Vec<u8>> {
    match keys_of(ingest, destination).await {
        Ok(Some(keys)) => answer(
            StatusCode::OK,
            CACHE_CONTROL,
            json!({ "keys": keys.iter().map(jwk).collect::<Vec<_>>() }),
        ),
        Ok(None) => answer(
            StatusCode::NOT_FOUND,
            "public, max-age=60",
            json!({ "error": "no published keys" }),
        ),
        Err(err) => {
            tracing::error!(error = %err, "published keys not answered");
            let mut response = answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "no-store",
                json!({ "error": "temporarily unavailable" }),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            response
        }
    }
}

async fn keys_of(
    ingest: &Ingest,
    destination: &str,
) -> Result<Option<Vec<PublishedKey>>, CoreError> {
    let Ok(id) = DestinationId::parse(destination) else {
        return Ok(None);
    };
    let config = ingest.config_store().config().await?;
    let Some(destination) = config.destination(&id) else {
        return Ok(None);
    };
    // A stored destination was validated when written; one that no longer
    // parses is reported (without its keys) rather than half-published.
    let keys = destination
        .published_keys(ingest.now())
        .map_err(|e| CoreError::Misconfigured(e.to_string()))?;
    Ok((!keys.is_empty()).then_some(keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_header_says_max_age() {
        assert_eq!(CACHE_CONTROL, format!("public, max-age={MAX_AGE_SECS}"));
    }
}
