//! The receiver's HTTP contract (DESIGN.md), shared by the Lambda and the
//! local stack: route a request, run ingest, answer with the right status.
//!
//! | request | answer |
//! | --- | --- |
//! | `POST /hooks/{source}`, valid | `202 {"id":"evt_…"}` (Discord: `204`, no body) |
//! | same provider delivery again | `200 {"id":"<first>","duplicate":true}` |
//! | unknown source | `404` |
//! | bad or missing signature, stale timestamp | `401` (no detail) |
//! | body over the source's limit | `413` |
//! | malformed for the scheme | `400` |
//! | store or queue unavailable | `503` |
//! | `GET /health` | `200` |
//! | `GET /.well-known/webhook-keys/{destination}` | `200` JWKS of its `v1a` public keys; `404` if none |
use hookrelay_signing::SchemeKind;
use http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use serde_json::json;

use crate::error::CoreError;
use crate::error::ErrorKind;
use crate::ingest::{InboundHook, Ingest, IngestOutcome};
use crate::metrics::Metric;

/// What the receiver matched a path to.
#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    Health,
    Hook(&'a str),
    /// `/.well-known/webhook-keys/{destination}`
    Keys(&'a str),
    NotFound,
}

/// `/hooks/{source}` and `/health`, also under a stage prefix
/// (`/prod/hooks/{source}`) as API Gateway REST APIs may pass them.
fn route(path: &str) -> Route<'_> {
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    match segments.as_slice() {
        [.., "health"] if segments.len() <= 3 => Route::Health,
        [.., "hooks", source] if segments.len() <= 4 && !source.is_empty() => Route::Hook(source),
        [.., ".well-known", "webhook-keys", destination]
            if segments.len() <= 5 && !destination.is_empty() =>
        {
            Route::Keys(destination)
        }
        _ => Route::NotFound,
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response<Vec<u8>> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Challenges are echoed: a browser must never read one as anything
    // but the stated type (Dropbox asks for this).
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn json_response(status: StatusCode, value: serde_json::Value) -> Response<Vec<u8>> {
    respond(status, "application/json", value.to_string().into_bytes())
}

fn error_response(status: StatusCode, message: &str) -> Response<Vec<u8>> {
    json_response(status, json!({ "error": message }))
}

/// Handles one request end to end. `path` may carry the query (providers'
/// setup checks put their challenge there). `public_url` is the URL the
/// provider used, when the caller can rebuild it (Twilio signs it).
pub async fn handle(
    ingest: &Ingest,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    public_url: Option<&str>,
) -> Response<Vec<u8>> {
    let query = path.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let source_id = match (route(path), method) {
        (Route::Health, &Method::GET | &Method::HEAD) => {
            return json_response(StatusCode::OK, json!({ "status": "ok" }))
        }
        (Route::Keys(destination), &Method::GET | &Method::HEAD) => {
            return crate::published_keys::respond(ingest, destination).await
        }
        (Route::Hook(source_id), &Method::POST) => source_id,
        (Route::Hook(source_id), &Method::GET) => {
            match ingest.answer_get(source_id, query, headers).await {
                Ok(Some(reply)) => {
                    tracing::info!(
                        source = source_id,
                        outcome = "handshake",
                        "provider check answered"
                    );
                    ingest.metrics().record(Metric::Handshake);
                    return respond(StatusCode::OK, reply.content_type, reply.body);
                }
                Ok(None) => {}
                Err(err) => {
                    let response = error_to_response(&err);
                    log_outcome(source_id, &Err(err));
                    return response;
                }
            }
            let mut response = error_response(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        (Route::Health | Route::Hook(_) | Route::Keys(_), _) => {
            let mut response = error_response(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
            let allow = if matches!(route(path), Route::Hook(_)) {
                "POST"
            } else {
                "GET"
            };
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
            return response;
        }
        (Route::NotFound, _) => return error_response(StatusCode::NOT_FOUND, "not found"),
    };
    let header_pairs = headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let hook = InboundHook {
        source_id,
        headers,
        header_pairs,
        body,
        public_url,
        query,
    };
    let (result, scheme) = ingest.ingest_answering(hook).await;
    log_outcome(source_id, &result);
    ingest.metrics().record(match &result {
        Ok(IngestOutcome::Accepted { .. }) => Metric::Received,
        Ok(IngestOutcome::Duplicate { .. }) => Metric::Duplicate,
        Ok(IngestOutcome::Handshake(_)) => Metric::Handshake,
        Err(err) if err.kind() == ErrorKind::Unavailable => Metric::Unavailable,
        Err(err) => Metric::Rejected(rejection_reason(err)),
    });
    let stored = matches!(
        result,
        Ok(IngestOutcome::Accepted { .. } | IngestOutcome::Duplicate { .. })
    );
    // Discord's webhook events ask for exactly this once stored: "respond
    // with a 204 status code with no body within 3 seconds".
    if stored && scheme == Some(SchemeKind::Discord) {
        return respond(StatusCode::NO_CONTENT, "application/json", Vec::new());
    }
    match result {
        Ok(IngestOutcome::Accepted { id }) => {
            json_response(StatusCode::ACCEPTED, json!({ "id": id.as_str() }))
        }
        Ok(IngestOutcome::Duplicate { id }) => json_response(
            StatusCode::OK,
            json!({ "id": id.as_str(), "duplicate": true }),
        ),
        Ok(IngestOutcome::Handshake(reply)) => respond(
            StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK),
            reply.content_type,
            reply.body,
        ),
        Err(err) => error_to_response(&err),
    }
}

/// The contract's answer for each error. 401 never says why, and 5xx never
/// echoes internal detail.
pub fn error_to_response(err: &CoreError) -> Response<Vec<u8>> {
    match err.kind() {
        ErrorKind::NotFound => error_response(StatusCode::NOT_FOUND, "unknown source"),
        ErrorKind::Unauthorized => {
            error_response(StatusCode::UNAUTHORIZED, "signature verification failed")
        }
        ErrorKind::Invalid => error_response(StatusCode::BAD_REQUEST, &invalid_reason(err)),
        ErrorKind::TooLarge => error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            &match err {
                CoreError::TooLarge { limit, .. } => {
                    format!("body over the limit of {limit} bytes")
                }
                other => other.to_string(),
            },
        ),
        ErrorKind::Unavailable => {
            let mut response =
                error_response(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable");
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            response
        }
        // Admin answers (a conflict) never come out of ingest; ours to fix.
        ErrorKind::Conflict | ErrorKind::Misconfigured | ErrorKind::Corrupt => {
            error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

/// What a 400 says: the reason alone, without the error's prefix.
fn invalid_reason(err: &CoreError) -> String {
    match err {
        CoreError::Malformed(reason) | CoreError::Invalid(reason) => reason.clone(),
        other => other.to_string(),
    }
}

/// The `Rejected` metric's `Reason`, and the log's `outcome`.
fn rejection_reason(err: &CoreError) -> &'static str {
    match err.kind() {
        ErrorKind::NotFound => "unknown_source",
        ErrorKind::Unauthorized => "unauthenticated",
        ErrorKind::Invalid => "malformed",
        ErrorKind::TooLarge => "too_large",
        ErrorKind::Unavailable => "unavailable",
        ErrorKind::Conflict | ErrorKind::Misconfigured | ErrorKind::Corrupt => "misconfigured",
    }
}

/// One structured line per request: source, outcome, event id. Never the
/// body or a secret; verification detail only at debug level.
fn log_outcome(source: &str, result: &Result<IngestOutcome, CoreError>) {
    // The path segment is attacker-controlled: log it only once it is a
    // valid id.
    let source = if hookrelay_models::SourceId::parse(source).is_ok() {
        source
    } else {
        "<invalid>"
    };
    match result {
        Ok(IngestOutcome::Accepted { id }) => {
            tracing::info!(source, event_id = %id, outcome = "accepted", "webhook received")
        }
        Ok(IngestOutcome::Duplicate { id }) => {
            tracing::info!(source, event_id = %id, outcome = "duplicate", "webhook received")
        }
        Ok(IngestOutcome::Handshake(_)) => {
            tracing::info!(source, outcome = "handshake", "provider handshake answered")
        }
        Err(err) => match err.kind() {
            ErrorKind::Unavailable => {
                tracing::error!(source, outcome = "unavailable", error = %err, "webhook not stored")
            }
            ErrorKind::Misconfigured | ErrorKind::Corrupt | ErrorKind::Conflict => {
                tracing::error!(source, outcome = "misconfigured", error = %err, "webhook refused")
            }
            ErrorKind::NotFound
            | ErrorKind::Unauthorized
            | ErrorKind::Invalid
            | ErrorKind::TooLarge => {
                let outcome = rejection_reason(err);
                tracing::info!(source, outcome, "webhook refused");
                tracing::debug!(source, error = %err, "refusal detail");
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_accept_stage_prefixes_and_refuse_path_tricks() {
        assert_eq!(route("/hooks/github"), Route::Hook("github"));
        assert_eq!(route("/hooks/github/"), Route::Hook("github"));
        assert_eq!(route("/prod/hooks/github"), Route::Hook("github"));
        assert_eq!(route("/hooks/github?x=1"), Route::Hook("github"));
        assert_eq!(route("/health"), Route::Health);
        assert_eq!(route("/prod/health"), Route::Health);
        assert_eq!(route("/"), Route::NotFound);
        assert_eq!(route("/hooks/"), Route::NotFound);
        assert_eq!(route("/a/b/hooks/github"), Route::NotFound);
        assert_eq!(route("/hooks/../../etc/passwd"), Route::NotFound);
        assert_eq!(
            route("/.well-known/webhook-keys/orders"),
            Route::Keys("orders")
        );
        assert_eq!(
            route("/prod/.well-known/webhook-keys/orders?x=1"),
            Route::Keys("orders")
        );
        assert_eq!(route("/.well-known/webhook-keys/"), Route::NotFound);
        assert_eq!(
            route("/a/b/.well-known/webhook-keys/orders"),
            Route::NotFound
        );
    }
}
