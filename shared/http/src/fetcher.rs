//! GETs for the receiver's own needs (SNS certificates and subscription
//! confirmations), behind the same guard as deliveries.
use async_trait::async_trait;
use hookrelay_core::{CoreError, Fetcher};
use std::time::Duration;

use crate::sender::{guarded_client, host_is_forbidden_literal, HttpError};

/// SNS answers in milliseconds; a provider waits a few seconds at most for
/// our answer, so a slow fetch must not use it all up.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

pub struct HttpFetcher {
    client: reqwest::Client,
    allow_private: bool,
}

impl HttpFetcher {
    /// `allow_private` lets fetches reach loopback and private addresses:
    /// tests only.
    pub fn new(allow_private: bool) -> Result<Self, HttpError> {
        let client = guarded_client(allow_private)
            .connect_timeout(FETCH_TIMEOUT)
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| HttpError::Build(e.to_string()))?;
        Ok(HttpFetcher {
            client,
            allow_private,
        })
    }
}

fn unavailable(detail: impl std::fmt::Display) -> CoreError {
    CoreError::unavailable("fetch", detail)
}

#[async_trait]
impl Fetcher for HttpFetcher {
    async fn get(&self, url: &str, limit: usize) -> Result<Vec<u8>, CoreError> {
        let url = reqwest::Url::parse(url).map_err(|e| unavailable(format!("bad URL: {e}")))?;
        if !self.allow_private && host_is_forbidden_literal(&url) {
            return Err(unavailable("address is not allowed"));
        }
        let host = url.host_str().unwrap_or_default().to_string();
        let mut response = self
            .client
            .get(url)
            .send()
            .await
            // Without the URL: a SubscribeURL carries the subscription's token.
            .map_err(|e| unavailable(format!("GET from {host} failed: {}", e.without_url())))?;
        let status = response.status();
        if !status.is_success() {
            return Err(unavailable(format!("GET from {host} answered {status}")));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| unavailable(format!("reading from {host}: {}", e.without_url())))?
        {
            if body.len() + chunk.len() > limit {
                return Err(unavailable(format!(
                    "answer from {host} is over {limit} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}
