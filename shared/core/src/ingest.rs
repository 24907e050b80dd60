//! Ingest: the receiver's use case. Verify a provider's request, drop
//! duplicates, store the event, queue it — and only then say yes.
use hookrelay_models::{Event, EventId, Source, SourceId, Timestamp};
use hookrelay_signing::sns::{SnsMessage, SnsMessageType};
use hookrelay_signing::{
    HeaderLookup, InboundRequest, SchemeKind, Verifier, VerifyError, VerifyErrorKind,
};
use std::sync::Arc;
use std::time::Duration;

use crate::dedupe;
use crate::error::CoreError;
use crate::extract::{self, LazyJson};
use crate::handshake::{self, HandshakeReply};
use crate::metrics::{Metric, Metrics, NoMetrics};
use crate::ports::{Clock, ConfigStore, DedupeKey, EventStore, Queue};
use crate::rejections::{rejection_reason, RejectionTally};
use crate::sns::Sns;

/// Stored headers may not add up to more than this; a request with more is
/// malformed (API Gateway itself allows about 10 KB).
const MAX_STORED_HEADER_BYTES: usize = 16 * 1024;
/// Headers that are not kept with an event: hop-by-hop ones, credentials
/// no provider signature needs, and what API Gateway adds about its own
/// leg (its trace id, the port and scheme it was called on), which would
/// cost stored bytes on every event and say nothing about the provider.
/// `x-forwarded-for`, the sender's address, is kept.
const UNSTORED_HEADERS: [&str; 12] = [
    "x-amzn-trace-id",
    "x-forwarded-port",
    "x-forwarded-proto",
    "authorization",
    "proxy-authorization",
    "cookie",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "upgrade",
    "content-length",
];

/// Marks a dedupe key made from a replay digest rather than a provider's
/// delivery id.
pub const REPLAY_KEY_PREFIX: &str = "sha256:";

#[derive(Debug, Clone)]
pub struct IngestSettings {
    /// How long a provider delivery id is remembered for dedupe.
    pub dedupe_window: Duration,
    /// How long events are kept.
    pub retention: Duration,
}

impl Default for IngestSettings {
    fn default() -> Self {
        IngestSettings {
            dedupe_window: DEFAULT_DEDUPE_WINDOW,
            retention: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// `url` with `query` (a request's, without its `?`) added.
fn with_query(url: &str, query: &str) -> String {
    match (query.is_empty(), url.contains('?')) {
        (true, _) => url.to_string(),
        (false, true) => format!("{url}&{query}"),
        (false, false) => format!("{url}?{query}"),
    }
}

impl IngestSettings {
    /// Refuses a source whose scheme accepts timestamps older than the
    /// dedupe window: an exact replay would be let in again, as a new
    /// event, once the delivery's record had expired.
    pub fn check_window(&self, source: &SourceId, tolerance_secs: u64) -> Result<(), CoreError> {
        let window = self.dedupe_window.as_secs();
        if tolerance_secs > window {
            return Err(CoreError::Misconfigured(format!(
                "source {source} accepts timestamps up to {tolerance_secs} s old, longer than the dedupe window of {window} s: raise the window (HOOKRELAY_DEDUPE_WINDOW_SECS, the stack's DedupeWindowSeconds) to at least that, or lower the source's tolerance_secs"
            )));
        }
        Ok(())
    }
}

/// How long a provider delivery id is remembered: a day, and an hour more
/// to cover the longest timestamp window of a scheme (SendGrid's 25 h).
pub const DEFAULT_DEDUPE_WINDOW: Duration = Duration::from_secs(25 * 3600);

/// A request as it reached the receiver.
pub struct InboundHook<'a> {
    /// The `{source}` path segment, not yet validated.
    pub source_id: &'a str,
    pub headers: &'a dyn HeaderLookup,
    /// Every header, for storing with the event.
    pub header_pairs: Vec<(String, String)>,
    /// The exact bytes the provider sent.
    pub body: &'a [u8],
    /// The public URL the provider posted to, when known (Twilio signs it).
    pub public_url: Option<&'a str>,
    /// The request's query string ("" for none): some providers' setup
    /// checks put their token there (Microsoft Graph's `validationToken`).
    pub query: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    /// Stored and queued for the first time.
    Accepted { id: EventId },
    /// Seen before within the dedupe window; `id` is the first event.
    Duplicate { id: EventId },
    /// A provider handshake, answered and not queued.
    Handshake(HandshakeReply),
}

pub struct Ingest {
    config: Arc<dyn ConfigStore>,
    events: Arc<dyn EventStore>,
    queue: Arc<dyn Queue>,
    clock: Arc<dyn Clock>,
    settings: IngestSettings,
    metrics: Arc<dyn Metrics>,
    /// How SNS certificates are fetched; without it, SNS sources are
    /// refused as misconfigured.
    sns: Option<Sns>,
    /// Where rejections of known sources are counted, if anywhere.
    rejections: Option<Arc<RejectionTally>>,
    /// Makes the id of a new event.
    new_event_id: NewEventId,
}

/// Makes the id of an event received at a time: [`EventId::new`], or a
/// seeded generator in the simulator, whose runs must repeat exactly.
pub type NewEventId = Arc<dyn Fn(Timestamp) -> EventId + Send + Sync>;

impl Ingest {
    pub fn new(
        config: Arc<dyn ConfigStore>,
        events: Arc<dyn EventStore>,
        queue: Arc<dyn Queue>,
        clock: Arc<dyn Clock>,
        settings: IngestSettings,
    ) -> Self {
        Ingest {
            config,
            events,
            queue,
            clock,
            settings,
            metrics: Arc::new(NoMetrics),
            sns: None,
            rejections: None,
            new_event_id: Arc::new(EventId::new),
        }
    }

    /// Makes new events' ids with `new_event_id` instead of
    /// [`EventId::new`].
    pub fn with_event_ids(mut self, new_event_id: NewEventId) -> Self {
        self.new_event_id = new_event_id;
        self
    }

    /// Counts each rejection of a known source (by reason) in `tally`.
    pub fn with_rejections(mut self, tally: Arc<RejectionTally>) -> Self {
        self.rejections = Some(tally);
        self
    }

    /// Verifies SNS sources, fetching certificates through `sns`.
    pub fn with_sns(mut self, sns: Sns) -> Self {
        self.sns = Some(sns);
        self
    }

    pub fn with_metrics(mut self, metrics: Arc<dyn Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    pub fn metrics(&self) -> &dyn Metrics {
        self.metrics.as_ref()
    }

    /// The configuration as the receiver reads it (through its cache).
    pub(crate) fn config_store(&self) -> &dyn ConfigStore {
        self.config.as_ref()
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// A provider's `GET` to check the endpoint: answered for sources whose
    /// scheme has such a check, `Ok(None)` for the others; nothing is kept.
    pub async fn answer_get(
        &self,
        source_id: &str,
        query: &str,
        headers: &dyn HeaderLookup,
    ) -> Result<Option<HandshakeReply>, CoreError> {
        let source_id = SourceId::parse(source_id).map_err(|_| CoreError::UnknownSource)?;
        let source = self
            .config
            .source(&source_id)
            .await?
            .ok_or(CoreError::UnknownSource)?;
        if source.scheme == SchemeKind::Okta {
            // Okta sends the `Authorization` value configured for the hook
            // with every request, its verification GET included
            // (developer.okta.com/docs/concepts/event-hooks): anyone else
            // gets 401, not an echo that would let them register our URL.
            let verifier = source
                .verifier()
                .map_err(|e| CoreError::Misconfigured(e.to_string()))?;
            verifier
                .verify(
                    &InboundRequest::new(headers, b""),
                    self.clock.now().unix_secs(),
                )
                .map_err(from_verify_error)?;
        }
        handshake::answer_get(&source, query, headers)
    }

    /// Writes rejection counts held back past their minute (`hookrelay
    /// dev` calls this on a timer; a Lambda at every request).
    pub async fn flush_rejections(&self) {
        if let Some(tally) = &self.rejections {
            tally.flush_due(self.clock.now()).await;
        }
    }

    pub async fn ingest(&self, hook: InboundHook<'_>) -> Result<IngestOutcome, CoreError> {
        self.ingest_answering(hook).await.0
    }

    /// As [`Ingest::ingest`], with the scheme of the source it was for
    /// (`None` if the source is unknown or could not be read): how the
    /// receiver answers depends on it (Discord's `204`), and the source
    /// has been read once already.
    pub async fn ingest_answering(
        &self,
        hook: InboundHook<'_>,
    ) -> (Result<IngestOutcome, CoreError>, Option<SchemeKind>) {
        let Ok(source_id) = SourceId::parse(hook.source_id) else {
            return (Err(CoreError::UnknownSource), None);
        };
        let source = match self.config.source(&source_id).await {
            Ok(Some(source)) => source,
            Ok(None) => return (Err(CoreError::UnknownSource), None),
            Err(err) => return (Err(err), None),
        };
        let scheme = source.scheme;
        (
            self.ingest_known(source_id, source, hook).await,
            Some(scheme),
        )
    }

    async fn ingest_known(
        &self,
        source_id: SourceId,
        source: Source,
        hook: InboundHook<'_>,
    ) -> Result<IngestOutcome, CoreError> {
        let result = self.ingest_for(source, hook).await;
        if let Some(tally) = &self.rejections {
            let now = self.clock.now();
            if let Some(reason) = result.as_ref().err().and_then(rejection_reason) {
                tally.record(&source_id, reason, now).await;
            }
            // Counts held back past their minute go out with whichever
            // request comes next (on Lambda, the end of an invocation).
            tally.flush_due(now).await;
        }
        result
    }

    /// The rest of [`Ingest::ingest`], once the source is known.
    async fn ingest_for(
        &self,
        source: Source,
        hook: InboundHook<'_>,
    ) -> Result<IngestOutcome, CoreError> {
        let source_id = source.id.clone();
        if hook.body.len() > source.body_limit() {
            return Err(CoreError::TooLarge {
                size: hook.body.len(),
                limit: source.body_limit(),
            });
        }
        if let Some(reply) =
            handshake::unsigned_ping(source.scheme, hook.headers, hook.body, hook.query)
        {
            return Ok(IngestOutcome::Handshake(reply));
        }
        let now = self.clock.now();
        let verifier = source
            .verifier()
            .map_err(|e| CoreError::Misconfigured(e.to_string()))?;
        self.settings
            .check_window(&source.id, verifier.tolerance_secs())?;
        // A configured public URL stands for the request's scheme, host and
        // path; the request's own query still belongs to it (Twilio puts
        // `bodySHA256` there for JSON bodies, and signs it).
        let configured = source
            .public_url
            .as_deref()
            .map(|url| with_query(url, hook.query));
        let public_url = configured.as_deref().or(hook.public_url);
        // SNS names the certificate that signed the message: fetched (or
        // found in the cache) only for a fresh message of one of the
        // source's topics, from SNS's own host.
        let sns_checked = match source.scheme {
            SchemeKind::Sns => {
                let sns = self.sns.as_ref().ok_or_else(|| {
                    CoreError::Misconfigured(
                        "this receiver was built without a way to fetch SNS certificates".into(),
                    )
                })?;
                let (topic, message) = verifier
                    .sns_message(hook.headers, hook.body, now.unix_secs())
                    .map_err(from_verify_error)?;
                let certificate = sns
                    .certificate(&message.signing_cert_url, &message.topic_arn)
                    .await?;
                Some((topic, message, certificate))
            }
            _ => None,
        };
        let verified = match &sns_checked {
            // Parsed and checked above; only its signature is left.
            Some((topic, message, certificate)) => {
                Verifier::sns_signed(*topic, message, certificate)
            }
            None => verifier.verify(
                &InboundRequest {
                    url: public_url,
                    ..InboundRequest::new(hook.headers, hook.body)
                },
                now.unix_secs(),
            ),
        }
        .map_err(from_verify_error)?;
        let sns_message = sns_checked.map(|(_, message, _)| message);

        if let Some(message) = &sns_message {
            if let Some(reply) = self.confirm_sns(&source, message).await? {
                return Ok(IngestOutcome::Handshake(reply));
            }
        }
        let mut json = LazyJson::new(hook.body);
        if let Some(reply) = handshake::reply(source.scheme, &verifier, hook.headers, &mut json) {
            return Ok(IngestOutcome::Handshake(reply));
        }
        let event = Event {
            id: (self.new_event_id)(now),
            source: source_id,
            event_type: extract::event_type(&source, hook.headers, &mut json),
            provider_delivery_id: extract::delivery_id(&source, hook.headers, &mut json),
            received_at: now,
            headers: stored_headers(hook.header_pairs, &verifier.scheme().secret_headers())?,
            body: bytes::Bytes::copy_from_slice(hook.body),
        };
        // What identifies this delivery for dedupe. A signature with a
        // timestamp expires with its tolerance, so the provider's delivery
        // id is trusted within it. One without (GitHub, Shopify, Twilio,
        // `hmac` without `{timestamp}`) stays genuine for ever while its
        // delivery id is an unsigned header: a captured request replayed
        // under a new or missing id must still be a duplicate, so such
        // deliveries are known by a digest of what the signature covers.
        let dedupe_id = match verified.replay_key {
            Some(digest) => Some(format!("{REPLAY_KEY_PREFIX}{}", hex::encode(digest))),
            None => event.provider_delivery_id.clone(),
        };
        let outcome = self.store_and_queue(&source, event, dedupe_id, now).await?;
        if let (Some(message), IngestOutcome::Accepted { id }) = (&sns_message, &outcome) {
            if message.message_type == SnsMessageType::SubscriptionConfirmation {
                tracing::info!(
                    source = %source.id,
                    event_id = %id,
                    topic = %message.topic_arn,
                    "SNS subscription confirmation stored and delivered, not confirmed: open its SubscribeURL (hookrelay events show), or set auto_confirm = true on the source"
                );
            }
        }
        Ok(outcome)
    }

    /// A verified SNS `SubscriptionConfirmation` for a source with
    /// `auto_confirm`: its `SubscribeURL` fetched (same host rule as the
    /// certificate) and answered 200, never stored. A confirmation that
    /// fails is 503, so SNS sends it again.
    async fn confirm_sns(
        &self,
        source: &Source,
        message: &SnsMessage,
    ) -> Result<Option<HandshakeReply>, CoreError> {
        if message.message_type != SnsMessageType::SubscriptionConfirmation || !source.auto_confirm
        {
            return Ok(None);
        }
        let (Some(sns), Some(url)) = (&self.sns, &message.subscribe_url) else {
            return Ok(None);
        };
        sns.confirm(url).await?;
        tracing::info!(source = %source.id, topic = %message.topic_arn, "confirmed an SNS subscription");
        Ok(Some(HandshakeReply {
            status: 200,
            content_type: "text/plain",
            body: b"subscription confirmed".to_vec(),
        }))
    }

    async fn store_and_queue(
        &self,
        source: &Source,
        event: Event,
        dedupe_id: Option<String>,
        now: Timestamp,
    ) -> Result<IngestOutcome, CoreError> {
        let dedupe = dedupe_id.map(|provider_delivery_id| DedupeKey {
            source: source.id.clone(),
            provider_delivery_id,
            expires_at: now.saturating_add(self.settings.dedupe_window),
        });
        let expires_at = now.saturating_add(self.settings.retention);
        let lanes = self.config.lanes_for(&event).await?;
        let stored = dedupe::store_and_queue(
            &*self.events,
            &*self.queue,
            event,
            dedupe.as_ref(),
            &lanes,
            expires_at,
            &|| self.metrics.record(Metric::Enqueued),
        )
        .await?;
        Ok(match stored {
            dedupe::Stored::New(id) => IngestOutcome::Accepted { id },
            dedupe::Stored::Duplicate(id) => IngestOutcome::Duplicate { id },
        })
    }
}

fn from_verify_error(error: VerifyError) -> CoreError {
    match error.kind() {
        VerifyErrorKind::Unauthenticated => CoreError::Unauthenticated(error),
        VerifyErrorKind::Malformed => CoreError::Malformed(error.to_string()),
        VerifyErrorKind::Misconfigured => CoreError::Misconfigured(error.to_string()),
    }
}

/// The headers kept with an event: the provider's, less the platform's,
/// generic credentials, and `secrets` (the headers the source's scheme
/// carries its secret in, e.g. `X-Gitlab-Token`: the catalogue says which).
fn stored_headers(
    pairs: Vec<(String, String)>,
    secrets: &[&str],
) -> Result<Vec<(String, String)>, CoreError> {
    let mut total = 0;
    let mut kept = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        let name = name.to_ascii_lowercase();
        if UNSTORED_HEADERS.contains(&name.as_str())
            || secrets.iter().any(|s| s.eq_ignore_ascii_case(&name))
        {
            continue;
        }
        total += name.len() + value.len();
        if total > MAX_STORED_HEADER_BYTES {
            return Err(CoreError::Malformed(format!(
                "headers exceed {MAX_STORED_HEADER_BYTES} bytes"
            )));
        }
        kept.push((name, value));
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_headers_keep_the_providers_and_drop_credentials_and_the_platforms() {
        let pairs = [
            ("Stripe-Signature", "t=1,v1=ab"),
            ("Authorization", "Bearer secret"),
            ("Cookie", "session=1"),
            ("Content-Length", "2"),
            ("X-Amzn-Trace-Id", "Root=1-abc"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Port", "443"),
            ("X-Forwarded-For", "54.187.174.169"),
            ("User-Agent", "Stripe/1.0"),
            ("X-Gitlab-Token", "the-source-secret"),
        ]
        .map(|(n, v)| (n.to_string(), v.to_string()));
        let kept = stored_headers(pairs.to_vec(), &["X-Gitlab-Token"]).unwrap();
        let names: Vec<&str> = kept.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["stripe-signature", "x-forwarded-for", "user-agent"]);
    }

    #[test]
    fn too_many_header_bytes_are_malformed() {
        let pairs = vec![("x-big".to_string(), "a".repeat(MAX_STORED_HEADER_BYTES))];
        assert!(matches!(
            stored_headers(pairs, &[]),
            Err(CoreError::Malformed(_))
        ));
    }
}
