//! AWS SNS in the receiver: the URLs an SNS message may make us fetch (its
//! signing certificate, its `SubscribeURL`), the certificates fetched once
//! per URL, and confirming a subscription.
//!
//! A message names the certificate that signed it, so without a rule on
//! that URL anyone could sign with their own. The rule is the one AWS's
//! SDK validators apply: `https`, a host `sns.<region>.amazonaws.com` (or
//! `.com.cn`), a `.pem` path; checked before any request is made, and the
//! request itself goes through the private-address guard of the fetcher.
use hookrelay_signing::sns::MAX_CERTIFICATE_BYTES;
use hookrelay_signing::VerifyError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::CoreError;
use crate::ports::Fetcher;

/// Certificates kept per receiver instance: SNS uses one per region, and a
/// URL names the same certificate for as long as it exists.
const MAX_CACHED_CERTIFICATES: usize = 32;
/// Largest answer read when confirming a subscription (a short XML).
const MAX_CONFIRMATION_BYTES: usize = 64 * 1024;

/// Which URLs an SNS message may point us to, and where they are fetched.
#[derive(Debug, Clone)]
pub struct SnsHosts {
    /// Tests only: the server on loopback that stands in for SNS's hosts.
    stand_in: Option<String>,
}

/// What a URL in an SNS message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnsUrl {
    /// `SigningCertURL`: a `.pem` file.
    SigningCert,
    /// `SubscribeURL`: the `ConfirmSubscription` action.
    Subscribe,
}

impl SnsUrl {
    fn field(self) -> &'static str {
        match self {
            SnsUrl::SigningCert => "SigningCertURL",
            SnsUrl::Subscribe => "SubscribeURL",
        }
    }
}

impl SnsHosts {
    /// SNS's own hosts, and nothing else: what every deployment uses.
    pub fn aws() -> Self {
        SnsHosts { stand_in: None }
    }

    /// For tests: URLs must pass the same rule as in production, and are
    /// then fetched from `base` (e.g. `http://127.0.0.1:PORT`), a server the
    /// test runs in SNS's place. Only code can choose this; no setting of a
    /// deployment or of `hookrelay dev` leads here.
    pub fn served_by(base: &str) -> Self {
        SnsHosts {
            stand_in: Some(base.trim_end_matches('/').to_string()),
        }
    }

    /// The URL to fetch for `url`, which a message gave as `kind`; refused
    /// unless it is https on an SNS host and of the kind's shape.
    pub fn resolve(&self, url: &str, kind: SnsUrl) -> Result<String, VerifyError> {
        let untrusted = || VerifyError::UntrustedUrl(kind.field());
        let parsed = url::Url::parse(url).map_err(|_| untrusted())?;
        let host_ok = match parsed.host() {
            Some(url::Host::Domain(host)) => is_sns_host(host),
            _ => false,
        };
        let shape_ok = match kind {
            SnsUrl::SigningCert => parsed.path().ends_with(".pem") && parsed.query().is_none(),
            SnsUrl::Subscribe => {
                parsed.path() == "/"
                    && parsed
                        .query_pairs()
                        .any(|(key, value)| key == "Action" && value == "ConfirmSubscription")
            }
        };
        if parsed.scheme() != "https"
            || !parsed.username().is_empty()
            || parsed.password().is_some()
            || parsed.port().is_some()
            || parsed.fragment().is_some()
            || !host_ok
            || !shape_ok
        {
            return Err(untrusted());
        }
        Ok(match &self.stand_in {
            None => parsed.to_string(),
            Some(base) => {
                let query = parsed.query().map(|q| format!("?{q}")).unwrap_or_default();
                format!("{base}{}{query}", parsed.path())
            }
        })
    }
}

/// `sns.<region>.amazonaws.com` or `sns.<region>.amazonaws.com.cn`, the
/// region of letters, digits and dashes (the validators' own pattern,
/// `^sns\.[a-zA-Z0-9\-]{3,}\.amazonaws\.com(\.cn)?$`).
fn is_sns_host(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    let region_ok = |region: &str| {
        region.len() >= 3
            && region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    match labels.as_slice() {
        ["sns", region, "amazonaws", "com"] | ["sns", region, "amazonaws", "com", "cn"] => {
            region_ok(region)
        }
        _ => false,
    }
}

/// Fetches certificates and confirms subscriptions for the receiver.
pub struct Sns {
    hosts: SnsHosts,
    fetcher: Arc<dyn Fetcher>,
    certificates: Mutex<HashMap<String, Arc<[u8]>>>,
}

impl Sns {
    pub fn new(hosts: SnsHosts, fetcher: Arc<dyn Fetcher>) -> Self {
        Sns {
            hosts,
            fetcher,
            certificates: Mutex::new(HashMap::new()),
        }
    }

    /// The certificate at a message's `SigningCertURL`, fetched on first
    /// use. A refused URL is 401 (the message cannot be shown genuine); a
    /// fetch that fails is 503, so SNS tries again.
    pub async fn certificate(&self, url: &str) -> Result<Arc<[u8]>, CoreError> {
        let target = self
            .hosts
            .resolve(url, SnsUrl::SigningCert)
            .map_err(CoreError::Unauthenticated)?;
        if let Some(found) = self.cached(url) {
            return Ok(found);
        }
        let fetched: Arc<[u8]> = self
            .fetcher
            .get(&target, MAX_CERTIFICATE_BYTES)
            .await?
            .into();
        let mut cache = self.certificates.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_CACHED_CERTIFICATES {
            cache.clear();
        }
        cache.insert(url.to_string(), fetched.clone());
        Ok(fetched)
    }

    fn cached(&self, url: &str) -> Option<Arc<[u8]>> {
        let cache = self.certificates.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(url).cloned()
    }

    /// Confirms a subscription by fetching its `SubscribeURL`, as SNS asks.
    pub async fn confirm(&self, subscribe_url: &str) -> Result<(), CoreError> {
        let target = self
            .hosts
            .resolve(subscribe_url, SnsUrl::Subscribe)
            .map_err(CoreError::Unauthenticated)?;
        self.fetcher.get(&target, MAX_CONFIRMATION_BYTES).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str =
        "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem";
    const SUBSCRIBE: &str = "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37";

    #[test]
    fn only_https_urls_on_sns_hosts_pass() {
        let aws = SnsHosts::aws();
        assert_eq!(aws.resolve(CERT, SnsUrl::SigningCert).unwrap(), CERT);
        assert!(aws.resolve(SUBSCRIBE, SnsUrl::Subscribe).is_ok());
        assert!(aws
            .resolve(
                "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem",
                SnsUrl::SigningCert
            )
            .is_ok());
        assert!(aws
            .resolve(
                "https://SNS.US-EAST-1.AMAZONAWS.COM/x.pem",
                SnsUrl::SigningCert
            )
            .is_ok());
        for url in [
            "http://sns.us-west-2.amazonaws.com/x.pem",
            "https://sns.us-west-2.amazonaws.com.evil.example/x.pem",
            "https://evil.example/sns.us-west-2.amazonaws.com/x.pem",
            "https://sns.us-west-2.amazonaws.com@evil.example/x.pem",
            "https://user@sns.us-west-2.amazonaws.com/x.pem",
            "https://sns.us-west-2.amazonaws.com:8443/x.pem",
            "https://sns.x.amazonaws.com/x.pem",
            "https://sns.us_west.amazonaws.com/x.pem",
            "https://sqs.us-west-2.amazonaws.com/x.pem",
            "https://a.sns.us-west-2.amazonaws.com/x.pem",
            "https://sns.us-west-2.amazonaws.com/x.pem?x=1",
            "https://sns.us-west-2.amazonaws.com/x.pem#x",
            "https://sns.us-west-2.amazonaws.com/x.txt",
            "https://127.0.0.1/x.pem",
            "https://[::1]/x.pem",
            "file:///etc/x.pem",
            "not a url",
            "",
        ] {
            assert_eq!(
                aws.resolve(url, SnsUrl::SigningCert),
                Err(VerifyError::UntrustedUrl("SigningCertURL")),
                "{url}"
            );
        }
        // A certificate URL is no SubscribeURL, and the other way round.
        assert!(aws.resolve(CERT, SnsUrl::Subscribe).is_err());
        assert!(aws.resolve(SUBSCRIBE, SnsUrl::SigningCert).is_err());
        assert!(aws
            .resolve(
                "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe",
                SnsUrl::Subscribe
            )
            .is_err());
    }

    #[test]
    fn a_stand_in_server_gets_the_path_of_a_url_that_passed_the_rule() {
        let test = SnsHosts::served_by("http://127.0.0.1:4000/");
        assert_eq!(
            test.resolve(CERT, SnsUrl::SigningCert).unwrap(),
            "http://127.0.0.1:4000/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"
        );
        assert!(test
            .resolve(SUBSCRIBE, SnsUrl::Subscribe)
            .unwrap()
            .starts_with("http://127.0.0.1:4000/?Action=ConfirmSubscription&"));
        // The stand-in does not loosen the rule.
        assert!(test
            .resolve("http://127.0.0.1:4000/x.pem", SnsUrl::SigningCert)
            .is_err());
    }
}
