//! Wall-clock instants, as Unix milliseconds: what DynamoDB stores and
//! sorts, and what every timestamp in the relay is compared in.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_unix_millis(millis: i64) -> Self {
        Timestamp(millis)
    }

    pub const fn from_unix_secs(secs: i64) -> Self {
        Timestamp(secs.saturating_mul(1000))
    }

    /// The system clock. Use cases take a clock port instead; this is for
    /// the adapters behind it.
    pub fn now() -> Self {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
    }

    pub const fn unix_millis(self) -> i64 {
        self.0
    }

    pub const fn unix_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    pub fn saturating_add(self, duration: Duration) -> Self {
        let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(millis))
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with milliseconds, for people.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match u64::try_from(self.0) {
            Ok(millis) => write!(
                f,
                "{}",
                humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(millis))
            ),
            Err(_) => write!(f, "{}ms", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_rfc3339_and_serializes_as_millis() {
        let t = Timestamp::from_unix_millis(1_614_265_330_123);
        assert_eq!(t.to_string(), "2021-02-25T15:02:10.123Z");
        assert_eq!(serde_json::to_string(&t).unwrap(), "1614265330123");
        assert_eq!(t.unix_secs(), 1_614_265_330);
    }

    #[test]
    fn arithmetic_saturates_instead_of_overflowing() {
        let max = Timestamp::from_unix_millis(i64::MAX);
        assert_eq!(max.saturating_add(Duration::from_secs(1)), max);
        let a = Timestamp::from_unix_secs(10);
        let b = Timestamp::from_unix_secs(12);
        assert_eq!(b.since(a), Duration::from_secs(2));
        assert_eq!(a.since(b), Duration::ZERO);
    }
}
