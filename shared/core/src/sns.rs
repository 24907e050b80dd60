//! AWS SNS in the receiver: the URLs an SNS message may make us fetch (its
//! signing certificate, its `SubscribeURL`), the certificates fetched once
//! per URL, and confirming a subscription.
//!
//! A message names the certificate that signed it, so without a rule on
//! that URL anyone could sign with their own. The rule is the one AWS's
//! SDK validators apply: `https`, a host `sns.<region>.amazonaws.com` (or
//! `.com.cn`), a `.pem` path; checked before any request is made, and the
//! request itself goes through the private-address guard of the fetcher.
//!
//! A topic ARN is no secret and a message's timestamp is its sender's
//! choice, so a forger can make the receiver fetch certificates: the URL
//! must also be in the topic's own region and have the name AWS gives its
//! certificates (`/SimpleNotificationService-<hex>.pem`), a failed fetch
//! is remembered for a minute, concurrent requests for one URL share one
//! fetch, and a full cache drops its least recently used entry.
use hookrelay_signing::sns::MAX_CERTIFICATE_BYTES;
use hookrelay_signing::VerifyError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::CoreError;
use crate::ports::Fetcher;

/// Certificates kept per receiver instance: SNS uses one per region, and a
/// URL names the same certificate for as long as it exists.
const MAX_CACHED_CERTIFICATES: usize = 32;
/// How long a certificate URL that could not be fetched is not tried again.
const FAILED_FETCH_TTL: Duration = Duration::from_secs(60);
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
            SnsUrl::SigningCert => is_certificate_path(parsed.path()) && parsed.query().is_none(),
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

/// `/SimpleNotificationService-<hex>.pem`, the name AWS gives the
/// certificates it signs messages with.
fn is_certificate_path(path: &str) -> bool {
    path.strip_prefix("/SimpleNotificationService-")
        .and_then(|rest| rest.strip_suffix(".pem"))
        .is_some_and(|hex| {
            (8..=64).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit())
        })
}

/// The region of a certificate URL's host (`sns.<region>.amazonaws.com`).
fn host_region(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?.to_ascii_lowercase();
    host.split('.').nth(1).map(str::to_string)
}

/// The region of a topic ARN (`arn:aws:sns:<region>:<account>:<name>`).
fn topic_region(topic_arn: &str) -> Option<&str> {
    topic_arn.split(':').nth(3)
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
    certificates: Mutex<CertificateCache>,
    /// One lock per URL being fetched: concurrent misses wait for the
    /// first one's fetch instead of making their own.
    fetching: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// What a certificate URL came to.
#[derive(Clone)]
enum Fetched {
    Certificate(Arc<[u8]>),
    Failed(Instant),
}

#[derive(Default)]
struct CertificateCache {
    /// Each URL's outcome and when it was last used.
    entries: HashMap<String, (Fetched, u64)>,
    uses: u64,
}

impl CertificateCache {
    fn get(&mut self, url: &str) -> Option<Fetched> {
        self.uses += 1;
        let uses = self.uses;
        let (fetched, last_used) = self.entries.get_mut(url)?;
        if matches!(fetched, Fetched::Failed(at) if at.elapsed() >= FAILED_FETCH_TTL) {
            self.entries.remove(url);
            return None;
        }
        *last_used = uses;
        Some(fetched.clone())
    }

    fn put(&mut self, url: &str, fetched: Fetched) {
        if self.entries.len() >= MAX_CACHED_CERTIFICATES && !self.entries.contains_key(url) {
            // The least recently used goes; the rest stay warm.
            if let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, (_, last_used))| *last_used)
                .map(|(url, _)| url.clone())
            {
                self.entries.remove(&oldest);
            }
        }
        self.uses += 1;
        self.entries.insert(url.to_string(), (fetched, self.uses));
    }
}

impl Sns {
    pub fn new(hosts: SnsHosts, fetcher: Arc<dyn Fetcher>) -> Self {
        Sns {
            hosts,
            fetcher,
            certificates: Mutex::new(CertificateCache::default()),
            fetching: Mutex::new(HashMap::new()),
        }
    }

    /// The certificate at a message's `SigningCertURL`, fetched on first
    /// use, for a message of `topic_arn`. A refused URL is 401 (the message
    /// cannot be shown genuine); a fetch that fails is 503, so SNS tries
    /// again (after a minute, the URL is tried again too).
    pub async fn certificate(&self, url: &str, topic_arn: &str) -> Result<Arc<[u8]>, CoreError> {
        let target = self
            .hosts
            .resolve(url, SnsUrl::SigningCert)
            .map_err(CoreError::Unauthenticated)?;
        let same_region = match (host_region(url), topic_region(topic_arn)) {
            (Some(host), Some(topic)) => host.eq_ignore_ascii_case(topic),
            _ => false,
        };
        if !same_region {
            return Err(CoreError::Unauthenticated(VerifyError::UntrustedUrl(
                "SigningCertURL",
            )));
        }
        if let Some(found) = self.cached(url) {
            return found;
        }
        let lock = self
            .fetching
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(url.to_string())
            .or_default()
            .clone();
        let fetched = {
            let _only_fetch = lock.lock().await;
            // Fetched (or failed) while this waited?
            match self.cached(url) {
                Some(found) => found,
                None => {
                    let fetched = self.fetcher.get(&target, MAX_CERTIFICATE_BYTES).await;
                    let mut cache = self.certificates.lock().unwrap_or_else(|p| p.into_inner());
                    match fetched {
                        Ok(bytes) => {
                            let certificate: Arc<[u8]> = bytes.into();
                            cache.put(url, Fetched::Certificate(certificate.clone()));
                            Ok(certificate)
                        }
                        Err(err) => {
                            cache.put(url, Fetched::Failed(Instant::now()));
                            Err(err)
                        }
                    }
                }
            }
        };
        self.fetching
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(url);
        fetched
    }

    fn cached(&self, url: &str) -> Option<Result<Arc<[u8]>, CoreError>> {
        let mut cache = self.certificates.lock().unwrap_or_else(|p| p.into_inner());
        Some(match cache.get(url)? {
            Fetched::Certificate(certificate) => Ok(certificate),
            Fetched::Failed(_) => Err(CoreError::unavailable(
                "sns certificate",
                "it could not be fetched a moment ago",
            )),
        })
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
                "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-0123abcd.pem",
                SnsUrl::SigningCert
            )
            .is_ok());
        assert!(aws
            .resolve(
                "https://SNS.US-EAST-1.AMAZONAWS.COM/SimpleNotificationService-0123abcd.pem",
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
            "https://sns.us-west-2.amazonaws.com/x.pem",
            "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-evil.pem",
            "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-.pem",
            "https://sns.us-west-2.amazonaws.com/a/SimpleNotificationService-0123abcd.pem",
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

    /// Counts fetches; fails those of URLs ending in `0bad.pem`, and
    /// yields first so concurrent callers meet.
    #[derive(Default)]
    struct Counting(Mutex<Vec<String>>);

    #[async_trait::async_trait]
    impl Fetcher for Counting {
        async fn get(&self, url: &str, _limit: usize) -> Result<Vec<u8>, CoreError> {
            tokio::task::yield_now().await;
            self.0.lock().unwrap().push(url.to_string());
            if url.ends_with("0bad.pem") {
                return Err(CoreError::unavailable("fetch", "404"));
            }
            Ok(url.as_bytes().to_vec())
        }
    }

    const TOPIC: &str = "arn:aws:sns:us-west-2:123456789012:orders";

    fn cert(n: usize) -> String {
        format!("https://sns.us-west-2.amazonaws.com/SimpleNotificationService-{n:08x}.pem")
    }

    #[tokio::test]
    async fn a_forger_cannot_make_the_receiver_fetch_at_will() {
        let fetcher = Arc::new(Counting::default());
        let sns = Sns::new(SnsHosts::aws(), fetcher.clone());
        // Another region than the topic's: refused before any fetch.
        let elsewhere =
            "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123abcd.pem";
        assert!(matches!(
            sns.certificate(elsewhere, TOPIC).await,
            Err(CoreError::Unauthenticated(_))
        ));
        // Ten requests for one certificate at once: one fetch.
        let url = cert(1);
        let all = futures::future::join_all((0..10).map(|_| sns.certificate(&url, TOPIC))).await;
        assert!(all.iter().all(|c| c.is_ok()));
        assert_eq!(fetcher.0.lock().unwrap().len(), 1);
        // A failed fetch is not repeated for a minute.
        let bad = "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-00000bad.pem";
        for _ in 0..5 {
            assert!(sns.certificate(bad, TOPIC).await.is_err());
        }
        assert_eq!(fetcher.0.lock().unwrap().len(), 2);
        // A full cache drops its least recently used entry only.
        for n in 2..=MAX_CACHED_CERTIFICATES + 1 {
            sns.certificate(&url, TOPIC).await.unwrap();
            sns.certificate(&cert(n), TOPIC).await.unwrap();
        }
        let before = fetcher.0.lock().unwrap().len();
        sns.certificate(&url, TOPIC).await.unwrap();
        assert_eq!(fetcher.0.lock().unwrap().len(), before, "the busiest stays");
    }
}
