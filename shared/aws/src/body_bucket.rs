//! Large bodies in S3, claim-check style: an event whose packed item would
//! cost more to write than an object (past [`DEFAULT_INLINE_BODY_BYTES`]),
//! or not fit an item at all, keeps its body in the bucket under
//! `bodies/{event id}`, encrypted (SSE-S3), and its item holds a reference:
//! the key, the size and the SHA-256, checked on every read.
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use hookrelay_models::EventId;
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

    fn key(id: &EventId) -> String {
        format!("bodies/{id}")
    }

    /// Stores `body` as `id`'s, durably, before its item names it.
    pub(crate) async fn put(&self, id: &EventId, body: &[u8]) -> Result<BodyRef, AwsError> {
        let reference = BodyRef {
            key: Self::key(id),
            size: body.len() as u64,
            sha256: digest(body),
        };
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&reference.key)
            .body(ByteStream::from(body.to_vec()))
            .content_type("application/octet-stream")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .send()
            .await
            .map_err(|e| call_error("s3", e))?;
        Ok(reference)
    }

    /// The body `reference` names, checked against its size and digest.
    pub(crate) async fn get(&self, reference: &BodyRef) -> Result<Vec<u8>, AwsError> {
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&reference.key)
            .send()
            .await
            .map_err(|e| call_error("s3", e))?;
        let body = object
            .body
            .collect()
            .await
            .map_err(|e| call_error("s3", e))?
            .into_bytes()
            .to_vec();
        if body.len() as u64 != reference.size || digest(&body) != reference.sha256 {
            return Err(AwsError::Corrupt(format!(
                "body object {} is {} bytes and does not match its event (want {} bytes, SHA-256 {})",
                reference.key,
                body.len(),
                reference.size,
                reference.sha256
            )));
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_names_the_event_and_the_bytes() {
        let id = EventId::parse("evt_01jd0000000000000000000000").unwrap();
        assert_eq!(
            BodyBucket::key(&id),
            "bodies/evt_01jd0000000000000000000000"
        );
        assert_eq!(
            digest(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
