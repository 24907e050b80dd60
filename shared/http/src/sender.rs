//! Sending one delivery and classifying what came back.
use async_trait::async_trait;
use hookrelay_core::dispatch::MAX_STORED_RESPONSE;
use hookrelay_core::{OutboundRequest, SendResult, Sender};
use hookrelay_models::{AttemptErrorKind, AttemptOutcome};
use std::time::{Duration, Instant, SystemTime};
use thiserror::Error;

use crate::auth::Authenticator;
pub(crate) use crate::client::guarded_client;
pub use crate::client::host_is_forbidden_literal;
use crate::client::{classify, delivery_client};

#[derive(Debug, Error)]
pub enum HttpError {
    #[error("could not build the HTTP client: {0}")]
    Build(String),
}

pub struct HttpSender {
    client: reqwest::Client,
    allow_private: bool,
    auth: Authenticator,
}

impl HttpSender {
    /// `allow_private` lets deliveries reach loopback and private
    /// addresses: local development and tests only.
    pub fn new(allow_private: bool) -> Result<Self, HttpError> {
        let client = delivery_client(allow_private)
            .build()
            .map_err(|e| HttpError::Build(e.to_string()))?;
        Ok(HttpSender {
            auth: Authenticator::default().attach(client.clone(), allow_private),
            client,
            allow_private,
        })
    }

    /// Destinations' `auth` with AWS: credentials kept in Secrets Manager,
    /// and SigV4 signing.
    pub fn with_authenticator(mut self, auth: Authenticator) -> Self {
        self.auth = auth.attach(self.client.clone(), self.allow_private);
        self
    }

    fn literal_refused(&self, url: &reqwest::Url) -> bool {
        !self.allow_private && host_is_forbidden_literal(url)
    }
}

fn error_result(error: AttemptErrorKind, started: Instant, detail: String) -> SendResult {
    SendResult {
        outcome: AttemptOutcome::Error { error },
        response_body: detail,
        response_truncated: false,
        retry_after: None,
        duration: started.elapsed(),
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

impl HttpSender {
    /// One POST of `request`, with its `auth` applied (`refresh`: not with
    /// the OAuth2 token of this generation), and the generation of the
    /// token it carried.
    async fn send_once(
        &self,
        request: &OutboundRequest,
        url: reqwest::Url,
        started: Instant,
        refresh: Option<u64>,
    ) -> Result<(reqwest::Response, Option<u64>), SendResult> {
        let prepared = self
            .auth
            .prepare(request, refresh)
            .await
            .map_err(|failure| error_result(AttemptErrorKind::Auth, started, failure.0))?;
        let client = prepared.client.as_ref().unwrap_or(&self.client);
        // The destination's timeout covers the whole attempt: a token
        // fetch and a second try after a 401 included.
        let left = request
            .timeout
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(1));
        let mut builder = client.post(url).timeout(left).body(request.body.clone());
        for (name, value) in request.headers.iter().chain(&prepared.headers) {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let response = builder.send().await.map_err(|err| {
            let kind = classify(&err);
            let detail = match kind {
                AttemptErrorKind::RefusedAddress => "destination address is not allowed".into(),
                _ => String::new(),
            };
            error_result(kind, started, detail)
        })?;
        Ok((response, prepared.token))
    }
}

#[async_trait]
impl Sender for HttpSender {
    async fn send(&self, request: &OutboundRequest) -> SendResult {
        let started = Instant::now();
        let url = match reqwest::Url::parse(&request.url) {
            Ok(url) => url,
            Err(e) => return error_result(AttemptErrorKind::Io, started, format!("bad url: {e}")),
        };
        if self.literal_refused(&url) {
            return error_result(
                AttemptErrorKind::RefusedAddress,
                started,
                "destination address is not allowed".into(),
            );
        }
        let (mut response, token) = match self.send_once(request, url.clone(), started, None).await
        {
            Ok(sent) => sent,
            Err(failed) => return failed,
        };
        // One fresh token and one more try when the receiver refuses the
        // one it was given (revoked, or expired early).
        if let (reqwest::StatusCode::UNAUTHORIZED, Some(token)) = (response.status(), token) {
            response = match self.send_once(request, url, started, Some(token)).await {
                Ok((response, _)) => response,
                Err(failed) => return failed,
            };
        }
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let mut body = Vec::new();
        let mut truncated = false;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_STORED_RESPONSE.saturating_sub(body.len());
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if chunk.len() > room {
                        truncated = true;
                        break;
                    }
                }
                Ok(None) => break,
                // The status is in; a body cut short does not change it.
                Err(_) => {
                    truncated = true;
                    break;
                }
            }
        }
        SendResult {
            outcome: AttemptOutcome::Response { status },
            response_body: String::from_utf8_lossy(&body).into_owned(),
            response_truncated: truncated,
            retry_after,
            duration: started.elapsed(),
        }
    }
}
