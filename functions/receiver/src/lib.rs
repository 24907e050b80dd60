//! The receiver Lambda's handler: turn a Lambda HTTP event (API Gateway
//! HTTP API v2, REST API v1 or a function URL) into the core's receiver
//! contract. lambda_http has already undone any base64 that API Gateway
//! applied to the body, so the bytes here are the provider's own.
#![forbid(unsafe_code)]

use hookrelay_core::http_api;
use hookrelay_core::{Ingest, IngestSettings};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use std::time::Duration;

/// Settings of the receiver, read from the environment once.
#[derive(Debug, Clone)]
pub struct ReceiverSettings {
    pub ingest: IngestSettings,
    /// How long a warm receiver trusts its cached source configuration.
    pub config_cache: Duration,
}

impl ReceiverSettings {
    /// `HOOKRELAY_DEDUPE_WINDOW_SECS` (default 90000: 25 h),
    /// `HOOKRELAY_RETENTION_DAYS` (default 30),
    /// `HOOKRELAY_CONFIG_CACHE_SECS` (default 30).
    pub fn from_env() -> Result<Self, String> {
        fn number(name: &str, default: u64) -> Result<u64, String> {
            match std::env::var(name) {
                Ok(value) if !value.is_empty() => value
                    .parse()
                    .map_err(|_| format!("{name} must be a whole number, got {value:?}")),
                _ => Ok(default),
            }
        }
        Ok(ReceiverSettings {
            ingest: IngestSettings {
                dedupe_window: Duration::from_secs(number(
                    "HOOKRELAY_DEDUPE_WINDOW_SECS",
                    hookrelay_core::DEFAULT_DEDUPE_WINDOW.as_secs(),
                )?),
                retention: Duration::from_secs(number("HOOKRELAY_RETENTION_DAYS", 30)? * 86_400),
            },
            config_cache: Duration::from_secs(number("HOOKRELAY_CONFIG_CACHE_SECS", 30)?),
        })
    }
}

/// The URL the provider posted to, rebuilt from the request context
/// (domain, stage, path, query). Twilio signs it.
pub fn public_url(request: &Request) -> Option<String> {
    let (domain, path) = match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => (
            context.domain_name.clone()?,
            context
                .http
                .path
                .clone()
                .unwrap_or_else(|| request.uri().path().to_string()),
        ),
        RequestContext::ApiGatewayV1(context) => (
            context.domain_name.clone()?,
            context
                .path
                .clone()
                .unwrap_or_else(|| request.uri().path().to_string()),
        ),
        #[allow(unreachable_patterns)]
        _ => return None,
    };
    let mut url = format!("https://{domain}{path}");
    if let Some(query) = request.uri().query().filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(query);
    }
    Some(url)
}

/// One request, answered per the receiver contract.
pub async fn handle(ingest: &Ingest, request: Request) -> Response<Body> {
    let url = public_url(&request);
    let (parts, body) = request.into_parts();
    // The query goes along: providers' endpoint checks put their
    // challenge in it.
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let response = http_api::handle(
        ingest,
        &parts.method,
        path,
        &parts.headers,
        body.as_ref(),
        url.as_deref(),
    )
    .await;
    response.map(Body::from)
}
