//! Secrets Manager values as the dispatcher last read them: one
//! `GetSecretValue` per secret per [`SECRET_TTL`] per process, whatever
//! the number of deliveries, and one read at a time per secret (the
//! deliveries that need it meanwhile wait for that read). A failed read is
//! kept for [`FAILURE_TTL`], so a missing secret or a denied role costs one
//! call per half-minute, not one per delivery.
use hookrelay_core::SecretReader;
use hookrelay_signing::Secret;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a value read is used: a rotated secret reaches deliveries
/// within this.
pub const SECRET_TTL: Duration = Duration::from_secs(5 * 60);

/// How long a failed read is given as the answer before asking again.
pub const FAILURE_TTL: Duration = Duration::from_secs(30);

struct Read {
    at: Instant,
    value: Result<Secret, String>,
}

type Slot = Arc<tokio::sync::Mutex<Option<Read>>>;

pub(crate) struct SecretCache {
    ttl: Duration,
    by_arn: Mutex<HashMap<String, Slot>>,
}

impl Default for SecretCache {
    fn default() -> Self {
        SecretCache::with_ttl(SECRET_TTL)
    }
}

impl SecretCache {
    pub(crate) fn with_ttl(ttl: Duration) -> Self {
        SecretCache {
            ttl,
            by_arn: Mutex::new(HashMap::new()),
        }
    }

    /// `arn`'s value: as read within its lifetime, or read now.
    pub(crate) async fn get(&self, reader: &dyn SecretReader, arn: &str) -> Result<Secret, String> {
        let slot = {
            let mut by_arn = self.by_arn.lock().unwrap_or_else(|e| e.into_inner());
            by_arn.entry(arn.to_string()).or_default().clone()
        };
        let mut read = slot.lock().await;
        if let Some(read) = read.as_ref() {
            let ttl = match read.value {
                Ok(_) => self.ttl,
                Err(_) => FAILURE_TTL.min(self.ttl),
            };
            if read.at.elapsed() < ttl {
                return read.value.clone();
            }
        }
        let value = reader.secret_string(arn).await;
        *read = Some(Read {
            at: Instant::now(),
            value: value.clone(),
        });
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting {
        calls: AtomicUsize,
        fail: bool,
    }

    #[async_trait::async_trait]
    impl SecretReader for Counting {
        async fn secret_string(&self, arn: &str) -> Result<Secret, String> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            if self.fail {
                Err(format!("{arn}: ResourceNotFoundException"))
            } else {
                Ok(Secret::new(format!("value of {arn}")))
            }
        }
    }

    #[tokio::test]
    async fn one_read_per_secret_while_fresh_even_when_asked_at_once() {
        let reader = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            fail: false,
        });
        let cache = Arc::new(SecretCache::with_ttl(Duration::from_millis(300)));
        let asks: Vec<_> = (0..8)
            .map(|n| {
                let (reader, cache) = (reader.clone(), cache.clone());
                let arn = if n % 2 == 0 { "a" } else { "b" };
                tokio::spawn(async move { cache.get(reader.as_ref(), arn).await })
            })
            .collect();
        for ask in asks {
            assert!(ask.await.unwrap().is_ok());
        }
        assert_eq!(reader.calls.load(Ordering::SeqCst), 2, "one per ARN");
        assert_eq!(
            cache.get(reader.as_ref(), "a").await.unwrap().expose(),
            "value of a"
        );
        assert_eq!(reader.calls.load(Ordering::SeqCst), 2);
        tokio::time::sleep(Duration::from_millis(350)).await;
        cache.get(reader.as_ref(), "a").await.unwrap();
        assert_eq!(
            reader.calls.load(Ordering::SeqCst),
            3,
            "read again once stale"
        );
    }

    #[tokio::test]
    async fn a_failure_is_kept_briefly_too() {
        let reader = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            fail: true,
        });
        let cache = SecretCache::with_ttl(Duration::from_millis(100));
        assert!(cache.get(reader.as_ref(), "a").await.is_err());
        assert!(cache.get(reader.as_ref(), "a").await.is_err());
        assert_eq!(reader.calls.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(cache.get(reader.as_ref(), "a").await.is_err());
        assert_eq!(reader.calls.load(Ordering::SeqCst), 2);
    }
}
