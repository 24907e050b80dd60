//! Where a body too large for its AWS target is fetched from (issue 28):
//! the pointer a consumer receives instead of the body, and what makes
//! one — the body bucket (S3, deployed and `hookrelay dev --aws
//! --body-bucket`), or `hookrelay dev`'s own server.
//!
//! The pointer is a JSON object, the message's body (SQS, SNS) or the
//! entry's detail (EventBridge):
//!
//! ```json
//! {"body_encoding": "pointer",
//!  "hookrelay_pointer": {"version": 1, "bucket": "…", "key": "bodies/sha256/…",
//!                        "url": "https://…", "url_expires_at": "2026-12-06T10:00:00.000Z",
//!                        "size": 1048577, "sha256": "…", "content_type": "application/json"},
//!  "hookrelay": {"event_id": "…", "webhook_id": "…", "source": "…", "type": "…", "timestamp": "…"}}
//! ```
//!
//! The URL is a bearer credential: it is in the message and nowhere else
//! (not in the attempt log, not in logs, not in Debug output).
use async_trait::async_trait;
use bytes::Bytes;
use hookrelay_core::OutboundRequest;
use hookrelay_models::Timestamp;
use serde_json::{json, Value};
use std::time::Duration;

use crate::body_bucket::BodyBucket;

/// The pointer format's version, in every pointer.
pub const POINTER_VERSION: u32 = 1;

/// A body a consumer can fetch by URL, and where it is kept.
#[derive(Clone)]
pub struct BodyLink {
    /// The S3 bucket, when the body is in one.
    pub bucket: Option<String>,
    pub key: String,
    url: String,
    /// When the URL stops working at the latest.
    pub url_expires_at: Timestamp,
    pub size: u64,
    /// Hex SHA-256 of the body.
    pub sha256: String,
}

impl BodyLink {
    pub fn new(
        bucket: Option<String>,
        key: String,
        url: String,
        url_expires_at: Timestamp,
        size: u64,
        sha256: String,
    ) -> Self {
        BodyLink {
            bucket,
            key,
            url,
            url_expires_at,
            size,
            sha256,
        }
    }

    /// The URL: a bearer credential, for the pointer only.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Where the body is, for the attempt log: never the URL.
    pub(crate) fn location(&self) -> String {
        match &self.bucket {
            Some(bucket) => format!("s3://{bucket}/{}", self.key),
            None => self.key.clone(),
        }
    }
}

/// The URL is a credential: Debug shows where the body is, not it.
impl std::fmt::Debug for BodyLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyLink")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("url", &"[redacted]")
            .field("url_expires_at", &self.url_expires_at)
            .field("size", &self.size)
            .field("sha256", &self.sha256)
            .finish()
    }
}

/// Keeps bodies where a consumer can fetch them by a signed, expiring URL.
#[async_trait]
pub trait BodyLinks: Send + Sync {
    /// Keeps `body` (if it is not kept already) and signs a URL to it
    /// valid for `ttl`. An error says what failed, never the URL.
    async fn link(&self, body: &Bytes, ttl: Duration) -> Result<BodyLink, String>;
}

/// The body bucket: a body kept in its item goes to the bucket first
/// (one `HeadObject`, then one `PutObject`); one kept in the bucket
/// already costs the `HeadObject` only. The URL is presigned locally.
#[async_trait]
impl BodyLinks for BodyBucket {
    async fn link(&self, body: &Bytes, ttl: Duration) -> Result<BodyLink, String> {
        let reference = self.ensure(body).await.map_err(|e| e.to_string())?;
        let url = self
            .presigned_get(&reference.key, ttl)
            .await
            .map_err(|e| e.to_string())?;
        Ok(BodyLink {
            bucket: Some(self.name().to_string()),
            key: reference.key,
            url,
            url_expires_at: Timestamp::now().saturating_add(ttl),
            size: reference.size,
            sha256: reference.sha256,
        })
    }
}

/// The pointer to `link` for `request`, as documented above.
pub(crate) fn pointer(link: &BodyLink, request: &OutboundRequest) -> Value {
    let content_type = request.header("content-type");
    let mut found = json!({
        "version": POINTER_VERSION,
        "key": link.key,
        "url": link.url,
        "url_expires_at": link.url_expires_at.to_string(),
        "size": link.size,
        "sha256": link.sha256,
        "content_type": content_type,
    });
    if let Some(bucket) = &link.bucket {
        found["bucket"] = json!(bucket);
    }
    json!({
        "body_encoding": "pointer",
        "hookrelay_pointer": found,
        "hookrelay": crate::bus_entry::metadata(request),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_never_shows_its_url_in_debug() {
        let link = BodyLink::new(
            Some("bodies".into()),
            "bodies/sha256/ab".into(),
            "https://s3/x?X-Amz-Signature=secret".into(),
            Timestamp::from_unix_secs(1),
            2,
            "ab".into(),
        );
        let shown = format!("{link:?}");
        assert!(!shown.contains("X-Amz-Signature"), "{shown}");
        assert_eq!(link.location(), "s3://bodies/bodies/sha256/ab");
    }

    #[test]
    fn the_pointer_names_the_body_and_the_event() {
        let link = BodyLink::new(
            None,
            "bodies/sha256/ab".into(),
            "http://127.0.0.1:3000/bodies/sha256/ab?sig".into(),
            Timestamp::from_unix_secs(60),
            2,
            "ab".into(),
        );
        let request = OutboundRequest {
            url: "default".into(),
            headers: vec![
                ("content-type".into(), "text/plain".into()),
                ("hookrelay-event-id".into(), "evt_1".into()),
            ],
            body: Bytes::from_static(b"hi"),
            timeout: Duration::from_secs(1),
            target: Default::default(),
            auth: None,
        };
        let pointer = pointer(&link, &request);
        assert_eq!(pointer["body_encoding"], "pointer");
        assert_eq!(pointer["hookrelay_pointer"]["version"], 1);
        assert_eq!(pointer["hookrelay_pointer"]["content_type"], "text/plain");
        assert_eq!(pointer["hookrelay_pointer"]["size"], 2);
        assert!(pointer["hookrelay_pointer"].get("bucket").is_none());
        assert_eq!(pointer["hookrelay"]["event_id"], "evt_1");
    }
}
