//! `hookrelay dev`'s stand-in for the body bucket, for pointers (issue
//! 28): with no S3 (in memory, or `--aws` without `--body-bucket`), a body
//! too large for an AWS destination is served by the dev server itself at
//! `GET /bodies/sha256/{digest}?expires={unix secs}&signature={…}`, an
//! HMAC-SHA256 of the digest and expiry under a key made at start, so the
//! URL is signed and expires as a presigned S3 URL does. A body is held in
//! memory until its last URL expires; the pointer has no `bucket`.
use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use hookrelay_aws::{BodyLink, BodyLinks};
use hookrelay_models::Timestamp;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Where the dev server serves bodies.
pub const PATH_PREFIX: &str = "/bodies/sha256/";

pub struct DevBodies {
    key: [u8; 32],
    /// `http://127.0.0.1:3000`, once the receiver is bound.
    base: OnceLock<String>,
    /// Each body by its digest, until its last URL expires (unix secs).
    bodies: Mutex<HashMap<String, (Bytes, i64)>>,
}

impl DevBodies {
    pub fn new() -> Result<Self, String> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .map_err(|e| format!("no randomness for the body URLs' key: {e}"))?;
        Ok(DevBodies {
            key,
            base: OnceLock::new(),
            bodies: Mutex::new(HashMap::new()),
        })
    }

    /// The receiver's address, which the URLs lead to.
    pub fn serve_at(&self, base: String) {
        let _ = self.base.set(base);
    }

    fn signature(&self, digest: &str, expires: i64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(format!("{digest}.{expires}").as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The answer to `GET {path_and_query}`, if it is a body's URL: the
    /// body, or 403 for a wrong signature or an expired URL, 404 for a
    /// body no longer held.
    pub fn serve(&self, path_and_query: &str, now: Timestamp) -> Option<http::Response<Vec<u8>>> {
        let rest = path_and_query.strip_prefix(PATH_PREFIX)?;
        let (digest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let params: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let expires = params.get("expires").and_then(|e| e.parse::<i64>().ok());
        let signed = expires.is_some_and(|expires| {
            let expected = self.signature(digest, expires);
            params.get("signature").is_some_and(|given| {
                use subtle::ConstantTimeEq;
                bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
            })
        });
        let answer = |status: u16, body: Vec<u8>, content_type: &str| {
            http::Response::builder()
                .status(status)
                .header(http::header::CONTENT_TYPE, content_type)
                .header("x-content-type-options", "nosniff")
                .body(body)
                .expect("static response parts")
        };
        if !signed {
            return Some(answer(
                403,
                b"signature does not match".to_vec(),
                "text/plain",
            ));
        }
        if expires.is_some_and(|expires| expires < now.unix_secs()) {
            return Some(answer(403, b"this URL has expired".to_vec(), "text/plain"));
        }
        let bodies = self.bodies.lock().unwrap_or_else(|e| e.into_inner());
        Some(match bodies.get(digest) {
            Some((body, _)) => answer(200, body.to_vec(), "application/octet-stream"),
            None => answer(404, b"no such body".to_vec(), "text/plain"),
        })
    }
}

#[async_trait]
impl BodyLinks for DevBodies {
    async fn link(&self, body: &Bytes, ttl: Duration) -> Result<BodyLink, String> {
        let base = self
            .base
            .get()
            .ok_or("the dev server is not listening yet")?;
        let digest = hex::encode(Sha256::digest(body));
        let now = Timestamp::now();
        let expires_at = now.saturating_add(ttl);
        let expires = expires_at.unix_secs();
        {
            let mut bodies = self.bodies.lock().unwrap_or_else(|e| e.into_inner());
            bodies.retain(|_, (_, until)| *until >= now.unix_secs());
            let held = bodies
                .entry(digest.clone())
                .or_insert((body.clone(), expires));
            held.1 = held.1.max(expires);
        }
        let url = format!(
            "{base}{PATH_PREFIX}{digest}?expires={expires}&signature={}",
            self.signature(&digest, expires)
        );
        Ok(BodyLink::new(
            None,
            format!("bodies/sha256/{digest}"),
            url,
            expires_at,
            body.len() as u64,
            digest,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_body_is_served_only_by_its_signed_unexpired_url() {
        let bodies = DevBodies::new().unwrap();
        bodies.serve_at("http://127.0.0.1:3000".into());
        let body = Bytes::from_static(b"a large body");
        let link = bodies.link(&body, Duration::from_secs(60)).await.unwrap();
        let url = link.url().to_string();
        let path = url.strip_prefix("http://127.0.0.1:3000").unwrap();
        let now = Timestamp::now();
        let served = bodies.serve(path, now).unwrap();
        assert_eq!(served.status(), 200);
        assert_eq!(served.body(), b"a large body");
        let later = now.saturating_add(Duration::from_secs(120));
        assert_eq!(bodies.serve(path, later).unwrap().status(), 403, "expired");
        let forged = path.replace("signature=", "signature=x");
        assert_eq!(bodies.serve(&forged, now).unwrap().status(), 403);
        let other = path.replace(&link.sha256, &"0".repeat(64));
        assert_eq!(bodies.serve(&other, now).unwrap().status(), 403);
        assert!(bodies.serve("/hooks/github", now).is_none());
    }
}
