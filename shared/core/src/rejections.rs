//! Recent rejections per source, by reason, per hour: what an operator
//! looks at when a provider says "your endpoint keeps refusing us" (the
//! console's Sources page, `AdminRequest::ListRejections`).
//!
//! Rejections are what anyone on the internet can cause, so they must not
//! cost a write each: [`RejectionTally`] counts them in memory and writes a
//! source's counts at most once a minute per receiver instance (the first
//! at once, so one shows up), one small item per source and hour. Counts
//! held back are written once their minute is up, by whichever request
//! comes next to the instance (accepted ones too: one write per source per
//! minute at most, only after rejections) and, in `hookrelay dev`, by a
//! timer. Counts of a minute not yet written are lost if the instance
//! stops first; the figures are for looking, not for billing.
use async_trait::async_trait;
use hookrelay_models::{SourceId, Timestamp};
use hookrelay_signing::VerifyError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{CoreError, ErrorKind};

/// How often one instance writes a source's counts, at most.
pub const FLUSH_EVERY: Duration = Duration::from_secs(60);
const HOUR_MS: i64 = 3_600_000;

/// Rejections of one reason, for one source, in one hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectionCount {
    pub source: SourceId,
    /// The start of the hour.
    pub hour: Timestamp,
    pub reason: String,
    pub count: u64,
}

/// Where rejection counts are kept (the events table, or memory).
#[async_trait]
pub trait RejectionStore: Send + Sync {
    /// Adds `counts` to a source's counts for the hour starting at `hour`.
    async fn add_rejections(
        &self,
        source: &SourceId,
        hour: Timestamp,
        counts: &[(&'static str, u64)],
    ) -> Result<(), CoreError>;

    /// A source's counts for the hours from `since` on, oldest first.
    async fn rejections(
        &self,
        source: &SourceId,
        since: Timestamp,
    ) -> Result<Vec<RejectionCount>, CoreError>;
}

/// The start of the hour `at` is in.
pub fn hour_of(at: Timestamp) -> Timestamp {
    Timestamp::from_unix_millis(at.unix_millis().div_euclid(HOUR_MS) * HOUR_MS)
}

/// Why a request for a known source was refused, as a label; `None` for
/// failures that are ours (store down, bad configuration), not the
/// sender's.
pub fn rejection_reason(err: &CoreError) -> Option<&'static str> {
    Some(match err {
        CoreError::Unauthenticated(verify) => match verify {
            VerifyError::MissingHeader(_) | VerifyError::MissingBodyField(_) => "missing_signature",
            VerifyError::TimestampTooOld { .. } | VerifyError::TimestampInFuture { .. } => {
                "stale_timestamp"
            }
            VerifyError::NoMatchingSignature => "bad_signature",
            VerifyError::TopicNotAllowed(_) => "topic_not_allowed",
            VerifyError::UntrustedUrl(_) | VerifyError::BadCertificate(_) => {
                "untrusted_certificate"
            }
            VerifyError::MalformedHeader { .. }
            | VerifyError::MalformedBody(_)
            | VerifyError::MissingUrl
            | VerifyError::MissingCertificate => "unauthenticated",
        },
        other => match other.kind() {
            ErrorKind::Invalid => "malformed",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Unauthorized => "unauthenticated",
            ErrorKind::NotFound
            | ErrorKind::Conflict
            | ErrorKind::Unavailable
            | ErrorKind::Misconfigured
            | ErrorKind::Corrupt => return None,
        },
    })
}

/// One write: an hour and the counts to add to it.
type Batch = (Timestamp, Vec<(&'static str, u64)>);

#[derive(Default)]
struct Pending {
    hour: Option<Timestamp>,
    counts: BTreeMap<&'static str, u64>,
    /// When this instance last wrote the source's counts.
    written_at: Option<Timestamp>,
}

/// Counts rejections and writes them in small batches (see the module).
pub struct RejectionTally {
    store: Arc<dyn RejectionStore>,
    pending: Mutex<HashMap<SourceId, Pending>>,
}

impl RejectionTally {
    pub fn new(store: Arc<dyn RejectionStore>) -> Self {
        RejectionTally {
            store,
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one rejection at `now`; writes this source's counts if none
    /// were written in the last minute or the hour turned.
    pub async fn record(&self, source: &SourceId, reason: &'static str, now: Timestamp) {
        let hour = hour_of(now);
        // What to write, if anything, taken out under the lock.
        let mut due: Vec<Batch> = Vec::new();
        {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            let entry = pending.entry(source.clone()).or_default();
            if entry.hour.is_some_and(|h| h != hour) && !entry.counts.is_empty() {
                // The hour turned: the old hour's counts go to their own item.
                let old = std::mem::take(&mut entry.counts);
                due.push((entry.hour.unwrap_or(hour), old.into_iter().collect()));
            }
            entry.hour = Some(hour);
            *entry.counts.entry(reason).or_default() += 1;
            let recent = entry
                .written_at
                .is_some_and(|at| now.since(at) < FLUSH_EVERY && at <= now);
            if !recent {
                let counts = std::mem::take(&mut entry.counts);
                due.push((hour, counts.into_iter().collect()));
                entry.written_at = Some(now);
            }
        }
        self.write(source, due).await;
    }

    /// Writes the counts held back whose minute is up (or whose hour has
    /// turned), for every source: a burst's tail must not wait for the
    /// next rejection, which may never come.
    pub async fn flush_due(&self, now: Timestamp) {
        let mut due: Vec<(SourceId, Vec<Batch>)> = Vec::new();
        {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for (source, entry) in pending.iter_mut() {
                if entry.counts.is_empty() {
                    continue;
                }
                let hour_turned = entry.hour.is_some_and(|h| h != hour_of(now));
                let minute_up = entry
                    .written_at
                    .is_none_or(|at| now.since(at) >= FLUSH_EVERY || at > now);
                if hour_turned || minute_up {
                    let hour = entry.hour.unwrap_or_else(|| hour_of(now));
                    let counts = std::mem::take(&mut entry.counts);
                    due.push((source.clone(), vec![(hour, counts.into_iter().collect())]));
                    entry.written_at = Some(now);
                }
            }
        }
        for (source, batches) in due {
            self.write(&source, batches).await;
        }
    }

    async fn write(&self, source: &SourceId, due: Vec<Batch>) {
        for (hour, counts) in due {
            if let Err(err) = self.store.add_rejections(source, hour, &counts).await {
                // Lost counts are a smaller harm than a failing answer.
                tracing::warn!(source = %source, error = %err, "could not write rejection counts");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Written(Mutex<Vec<Batch>>);

    #[async_trait]
    impl RejectionStore for Written {
        async fn add_rejections(
            &self,
            _source: &SourceId,
            hour: Timestamp,
            counts: &[(&'static str, u64)],
        ) -> Result<(), CoreError> {
            self.0.lock().unwrap().push((hour, counts.to_vec()));
            Ok(())
        }
        async fn rejections(
            &self,
            _source: &SourceId,
            _since: Timestamp,
        ) -> Result<Vec<RejectionCount>, CoreError> {
            Ok(Vec::new())
        }
    }

    #[tokio::test]
    async fn the_first_rejection_is_written_at_once_then_at_most_once_a_minute() {
        let store = Arc::new(Written::default());
        let tally = RejectionTally::new(store.clone());
        let source = SourceId::parse("github").unwrap();
        // The start of an hour.
        let start = Timestamp::from_unix_secs(1_800_000_000);
        let at = |secs: i64| Timestamp::from_unix_millis(start.unix_millis() + secs * 1000);
        tally.record(&source, "bad_signature", at(0)).await;
        for second in 1..=59 {
            tally.record(&source, "bad_signature", at(second)).await;
        }
        tally.record(&source, "stale_timestamp", at(30)).await;
        assert_eq!(
            store.0.lock().unwrap().len(),
            1,
            "one write in the first minute"
        );
        tally.record(&source, "bad_signature", at(60)).await;
        let written = store.0.lock().unwrap().clone();
        assert_eq!(written.len(), 2);
        assert_eq!(written[0], (start, vec![("bad_signature", 1)]));
        assert_eq!(
            written[1],
            (start, vec![("bad_signature", 60), ("stale_timestamp", 1)])
        );
        // Over an hour's turn, the old hour's counts keep their hour.
        tally.record(&source, "malformed", at(3590)).await;
        tally.record(&source, "malformed", at(3595)).await;
        tally.record(&source, "malformed", at(3605)).await;
        let written = store.0.lock().unwrap().clone();
        assert_eq!(written[2], (start, vec![("malformed", 1)]));
        assert_eq!(written[3], (start, vec![("malformed", 1)]));
        assert_eq!(written.len(), 4, "the new hour's count waits its minute");
        tally.record(&source, "malformed", at(3651)).await;
        let written = store.0.lock().unwrap().clone();
        assert_eq!(written[4], (at(3600), vec![("malformed", 2)]));
    }

    #[tokio::test]
    async fn a_bursts_tail_is_written_once_its_minute_is_up_without_another_rejection() {
        let store = Arc::new(Written::default());
        let tally = RejectionTally::new(store.clone());
        let source = SourceId::parse("github").unwrap();
        let start = Timestamp::from_unix_secs(1_800_000_000);
        let at = |secs: i64| Timestamp::from_unix_millis(start.unix_millis() + secs * 1000);
        for _ in 0..501 {
            tally.record(&source, "bad_signature", at(1)).await;
        }
        tally.flush_due(at(30)).await;
        assert_eq!(
            store.0.lock().unwrap().len(),
            1,
            "the first at once, the rest wait"
        );
        tally.flush_due(at(61)).await;
        let written = store.0.lock().unwrap().clone();
        assert_eq!(written.len(), 2);
        assert_eq!(written[1], (start, vec![("bad_signature", 500)]));
        // Nothing held back: nothing more to write.
        tally.flush_due(at(200)).await;
        assert_eq!(store.0.lock().unwrap().len(), 2);
    }

    #[test]
    fn reasons_name_what_the_sender_got_wrong_and_nothing_for_our_failures() {
        let unauth = |e| rejection_reason(&CoreError::Unauthenticated(e));
        assert_eq!(
            unauth(VerifyError::NoMatchingSignature),
            Some("bad_signature")
        );
        assert_eq!(
            unauth(VerifyError::TimestampTooOld { age_secs: 400 }),
            Some("stale_timestamp")
        );
        assert_eq!(
            rejection_reason(&CoreError::TooLarge { size: 2, limit: 1 }),
            Some("too_large")
        );
        assert_eq!(
            rejection_reason(&CoreError::unavailable("queue", "down")),
            None
        );
        assert_eq!(rejection_reason(&CoreError::UnknownSource), None);
    }
}
