//! SigV4 for `http` destinations with `auth = { kind = "aws_sigv4" }`: an
//! API Gateway with IAM authorisation, a Lambda function URL with
//! `AWS_IAM`, or any endpoint that checks AWS signatures. Requests are
//! signed with the dispatcher's own credentials, or with a role it
//! assumes (`role_arn`, as AWS destinations assume theirs).
//!
//! Signed: `host`, `x-amz-date`, `x-amz-content-sha256` (the body's
//! SHA-256, so the body cannot be changed on the way; API Gateway and
//! function URLs accept it), `content-type`, and `x-amz-security-token`
//! when the credentials are temporary. The other headers (`webhook-*`,
//! the destination's own) travel unsigned by SigV4: the Standard Webhooks
//! signature covers what matters of them.
//!
//! Credentials are held per role until five minutes before they expire
//! (one `AssumeRole` per role per session, about an hour, per process);
//! signing itself calls nothing.
use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use hookrelay_core::RequestSigner;
use hookrelay_models::AwsSigv4Auth;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;
use tokio::sync::{Mutex, OnceCell};

use crate::credentials::{assumed_role, HeldCredentials};

/// A role and its external id; none: the dispatcher's own credentials.
type RoleKey = Option<(String, Option<String>)>;

pub struct AwsRequestSigner {
    sdk: OnceCell<SdkConfig>,
    credentials: Mutex<HashMap<RoleKey, Arc<HeldCredentials>>>,
}

impl AwsRequestSigner {
    /// Signs with `sdk`'s credentials (and assumes roles with them); its
    /// region is the one a destination's URL and `auth` do not name.
    pub fn new(sdk: SdkConfig) -> Self {
        AwsRequestSigner {
            sdk: OnceCell::new_with(Some(sdk)),
            credentials: Mutex::new(HashMap::new()),
        }
    }

    /// Reads the AWS configuration from the environment only when a first
    /// request is signed: `hookrelay dev` with no `aws_sigv4` destination
    /// never looks for credentials.
    pub fn from_env_when_needed() -> Self {
        AwsRequestSigner {
            sdk: OnceCell::new(),
            credentials: Mutex::new(HashMap::new()),
        }
    }

    async fn sdk(&self) -> &SdkConfig {
        self.sdk.get_or_init(crate::sdk_config).await
    }

    /// The credentials `auth` signs with.
    async fn credentials_for(&self, auth: &AwsSigv4Auth) -> Result<Credentials, String> {
        let sdk = self.sdk().await;
        let key: RoleKey = auth
            .role_arn
            .clone()
            .map(|arn| (arn, auth.external_id.clone()));
        let held = {
            let mut all = self.credentials.lock().await;
            match all.get(&key) {
                Some(held) => held.clone(),
                None => {
                    let provider = match &key {
                        Some((arn, external_id)) => {
                            assumed_role(sdk, arn, external_id.as_deref()).await
                        }
                        None => sdk
                            .credentials_provider()
                            .ok_or("the dispatcher has no AWS credentials")?,
                    };
                    let held = Arc::new(HeldCredentials::new(provider));
                    all.insert(key.clone(), held.clone());
                    held
                }
            }
        };
        held.get().await.map_err(|err| match &key {
            Some((arn, _)) => format!("could not assume {arn}: {err}"),
            None => format!("no AWS credentials: {err}"),
        })
    }
}

#[async_trait]
impl RequestSigner for AwsRequestSigner {
    async fn sign(
        &self,
        auth: &AwsSigv4Auth,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Vec<(String, String)>, String> {
        // As the HTTP client will send it (normalised, percent-encoded).
        let url = url::Url::parse(url).map_err(|err| format!("bad URL: {err}"))?;
        let sdk = self.sdk().await;
        let region = match (&auth.region, url.host_str().and_then(region_of_host)) {
            (Some(region), _) => region.clone(),
            (None, Some(region)) => region.to_string(),
            (None, None) => sdk
                .region()
                .map(|region| region.to_string())
                .ok_or("no region: set auth's region (the URL names none, nor does the dispatcher's configuration)")?,
        };
        let identity: Identity = self.credentials_for(auth).await?.into();
        let mut settings = SigningSettings::default();
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&region)
            .name(&auth.service)
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(|err| err.to_string())?
            .into();
        let content_type = headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .map(|(_, value)| ("content-type", value.as_str()));
        let request = SignableRequest::new(
            "POST",
            url.as_str(),
            content_type,
            SignableBody::Bytes(body),
        )
        .map_err(|err| err.to_string())?;
        let (instructions, _) = sign(request, &params)
            .map_err(|err| err.to_string())?
            .into_parts();
        let (added, _) = instructions.into_parts();
        Ok(added
            .into_iter()
            .map(|header| (header.name().to_string(), header.value().to_string()))
            .collect())
    }
}

impl std::fmt::Debug for AwsRequestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsRequestSigner").finish_non_exhaustive()
    }
}

/// The region an AWS endpoint's host names: an API Gateway's
/// (`{api}.execute-api.{region}.amazonaws.com`, `.amazonaws.com.cn`, or a
/// private API's `{api}-{vpce}.execute-api.{region}.vpce.amazonaws.com`)
/// or a Lambda function URL's (`{url-id}.lambda-url.{region}.on.aws`).
/// Custom domains name none.
pub fn region_of_host(host: &str) -> Option<&str> {
    let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    let at = labels
        .iter()
        .position(|label| label.eq_ignore_ascii_case("execute-api"))
        .or_else(|| {
            labels
                .iter()
                .position(|label| label.eq_ignore_ascii_case("lambda-url"))
        })?;
    if at == 0 {
        return None;
    }
    let region = *labels.get(at + 1)?;
    let rest = labels[at + 2..].join(".").to_ascii_lowercase();
    let suffix_ok = if labels[at].eq_ignore_ascii_case("lambda-url") {
        rest == "on.aws"
    } else {
        matches!(
            rest.as_str(),
            "amazonaws.com" | "amazonaws.com.cn" | "vpce.amazonaws.com"
        )
    };
    let looks_like_region = region.contains('-')
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && region.bytes().any(|b| b.is_ascii_digit());
    (suffix_ok && looks_like_region).then_some(region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_read_from_api_gateway_and_function_url_hosts() {
        for (host, region) in [
            (
                "abc123.execute-api.eu-west-1.amazonaws.com",
                Some("eu-west-1"),
            ),
            (
                "ABC123.Execute-Api.us-east-2.AmazonAWS.com",
                Some("us-east-2"),
            ),
            (
                "abc123.execute-api.cn-north-1.amazonaws.com.cn",
                Some("cn-north-1"),
            ),
            (
                "abc123-vpce-0123456789abcdef0.execute-api.ap-southeast-2.vpce.amazonaws.com",
                Some("ap-southeast-2"),
            ),
            (
                "xyz.execute-api.us-gov-west-1.amazonaws.com.",
                Some("us-gov-west-1"),
            ),
            (
                "abcdefghij.lambda-url.eu-central-1.on.aws",
                Some("eu-central-1"),
            ),
            // Not AWS's own domains, or not a region where one belongs.
            ("api.example.com", None),
            ("abc123.execute-api.eu-west-1.example.com", None),
            ("abc123.lambda-url.eu-west-1.amazonaws.com", None),
            ("abc123.execute-api.amazonaws.com", None),
            ("abc123.execute-api.EU_WEST.amazonaws.com", None),
            ("execute-api.eu-west-1.amazonaws.com", None),
            ("127.0.0.1", None),
            ("", None),
        ] {
            assert_eq!(region_of_host(host), region, "{host}");
        }
    }

    fn signer() -> AwsRequestSigner {
        use aws_credential_types::provider::SharedCredentialsProvider;
        AwsRequestSigner::new(
            SdkConfig::builder()
                .region(aws_config::Region::new("us-east-1"))
                .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                    "AKIDEXAMPLE",
                    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                    Some("session-token".into()),
                    None,
                    "test",
                )))
                .build(),
        )
    }

    fn auth(region: Option<&str>) -> AwsSigv4Auth {
        AwsSigv4Auth {
            service: "execute-api".into(),
            region: region.map(str::to_string),
            role_arn: None,
            external_id: None,
        }
    }

    /// The scope names the auth's region, else the URL's, else the
    /// dispatcher's; the payload hash is the body's; content-type and the
    /// session token are signed.
    #[tokio::test]
    async fn signs_with_the_region_it_finds_and_the_body_hash() {
        use sha2::Digest;
        let signer = signer();
        let headers = vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("webhook-id".to_string(), "msg_1".to_string()),
        ];
        for (url, region, expected) in [
            ("https://h.example/p", None, "us-east-1"),
            (
                "https://a1.execute-api.eu-west-1.amazonaws.com/prod/x",
                None,
                "eu-west-1",
            ),
            (
                "https://a1.execute-api.eu-west-1.amazonaws.com/prod/x",
                Some("ap-south-1"),
                "ap-south-1",
            ),
        ] {
            let added = signer
                .sign(&auth(region), url, &headers, b"{}")
                .await
                .unwrap();
            let get = |name: &str| {
                added
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
                    .unwrap_or_else(|| panic!("{name} in {added:?}"))
            };
            let authorization = get("authorization");
            assert!(
                authorization.contains(&format!("/{expected}/execute-api/aws4_request")),
                "{authorization}"
            );
            assert!(
                authorization.contains(
                    "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"
                ),
                "{authorization}"
            );
            assert_eq!(
                get("x-amz-content-sha256"),
                hex::encode(sha2::Sha256::digest(b"{}"))
            );
            assert_eq!(get("x-amz-security-token"), "session-token");
        }
    }

    #[tokio::test]
    async fn without_credentials_it_says_so() {
        let bare = AwsRequestSigner::new(
            SdkConfig::builder()
                .region(aws_config::Region::new("us-east-1"))
                .build(),
        );
        let refused = bare
            .sign(&auth(None), "https://h.example/", &[], b"")
            .await
            .unwrap_err();
        assert!(refused.contains("no AWS credentials"), "{refused}");
    }
}
