//! Large bodies in S3, claim-check style: an event whose packed item would
//! cost more to write than an object (past [`DEFAULT_INLINE_BODY_BYTES`]),
//! or not fit an item at all, keeps its body in the bucket under
//! `bodies/sha256/{hex digest}`, encrypted (SSE-S3), and its item holds a
//! reference: the key, the size and the SHA-256, checked on every read.
//! Named by their content, objects are never overwritten with other bytes,
//! and a retry or a replay writes the object it would find already there
//! (the same bytes again, which also starts its lifecycle afresh, so a
//! later event sharing a body keeps it for its own retention). Items
//! written before name `bodies/{event id}`, and still read.
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{call_error, AwsError};

/// Packed events (fields, headers and deflated body) larger than this keep
/// their body in S3. From the cost meter's prices: a write unit per KB is
/// $0.625 per million, a PUT and a GET $5.40 per million together, so an
/// object is cheaper past about 8.6 KB packed (and the item's later reads
/// cost more again); below it the extra round trip buys nothing.
pub const DEFAULT_INLINE_BODY_BYTES: usize = 8 * 1024;

/// What an item holds in place of a body kept in S3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BodyRef {
    pub key: String,
    pub size: u64,
    /// Hex SHA-256 of the body.
    pub sha256: String,
}

/// The bucket large bodies are kept in.
#[derive(Clone)]
pub struct BodyBucket {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl std::fmt::Debug for BodyBucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyBucket")
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

/// An S3 client for `sdk`: path-style addressing, which S3 accepts and
/// which local endpoints (moto, LocalStack) need.
pub fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    )
}

fn digest(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

impl BodyBucket {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        BodyBucket {
            client,
            bucket: bucket.into(),
        }
    }

    pub(crate) fn key(sha256: &str) -> String {
        format!("bodies/sha256/{sha256}")
    }

    pub(crate) fn name(&self) -> &str {
        &self.bucket
    }

    /// `body`'s reference, after one `HeadObject` that finds it in the
    /// bucket already (kept there because it was large), or a `PutObject`
    /// that puts it there (it was kept in its item): the same
    /// content-addressed key either way, so writing it again is harmless.
    pub(crate) async fn ensure(&self, body: &Bytes) -> Result<BodyRef, AwsError> {
        let sha256 = digest(body);
        let key = Self::key(&sha256);
        let found = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await;
        match found {
            Ok(head) if head.content_length() == Some(body.len() as i64) => Ok(BodyRef {
                key,
                size: body.len() as u64,
                sha256,
            }),
            Ok(_) => self.put(body).await,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => {
                self.put(body).await
            }
            Err(err) => Err(call_error("s3", err)),
        }
    }

    /// A URL that GETs `key` without credentials until `ttl` has passed
    /// (or the credentials that signed it expire, if sooner). Signed here,
    /// without a call to AWS. A bearer credential: never logged.
    pub(crate) async fn presigned_get(
        &self,
        key: &str,
        ttl: std::time::Duration,
    ) -> Result<String, AwsError> {
        let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(ttl)
            .map_err(|e| call_error("s3", e))?;
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| call_error("s3", e))?;
        Ok(presigned.uri().to_string())
    }

    /// Stores `body`, durably, before an item names it.
    pub(crate) async fn put(&self, body: &Bytes) -> Result<BodyRef, AwsError> {
        let sha256 = digest(body);
        let reference = BodyRef {
            key: Self::key(&sha256),
            size: body.len() as u64,
            sha256,
        };
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&reference.key)
            // The event's bytes, shared rather than copied.
            .body(ByteStream::from(body.clone()))
            .content_type("application/octet-stream")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .send()
            .await
            .map_err(|e| call_error("s3", e))?;
        Ok(reference)
    }

    /// The body `reference` names, checked against its size and digest;
    /// `None` if the object is gone (the bucket's lifecycle expires bodies
    /// with the retention, and may do so before DynamoDB's TTL, which lags,
    /// removes the item).
    ///
    /// Read into one buffer of the size the reference gives, chunk by
    /// chunk as it arrives: collecting the chunks and then joining them
    /// would hold the body twice at its peak, and an object larger than
    /// its reference says stops being read at that size.
    pub(crate) async fn get(&self, reference: &BodyRef) -> Result<Option<Bytes>, AwsError> {
        let object = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&reference.key)
            .send()
            .await
        {
            Ok(object) => object,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(None)
            }
            Err(err) => return Err(call_error("s3", err)),
        };
        let corrupt = |got: String| {
            AwsError::Corrupt(format!(
                "body object {} is {got} and does not match its event (want {} bytes, SHA-256 {})",
                reference.key, reference.size, reference.sha256
            ))
        };
        let size = usize::try_from(reference.size).map_err(|_| corrupt("too large".into()))?;
        let mut body = Vec::with_capacity(size);
        let mut stream = object.body;
        while let Some(chunk) = stream.try_next().await.map_err(|e| call_error("s3", e))? {
            if body.len() + chunk.len() > size {
                return Err(corrupt(format!("over {size} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        if body.len() != size || digest(&body) != reference.sha256 {
            return Err(corrupt(format!("{} bytes", body.len())));
        }
        Ok(Some(Bytes::from(body)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_is_named_by_its_bytes() {
        assert_eq!(
            digest(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            BodyBucket::key(&digest(b"abc")),
            "bodies/sha256/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
