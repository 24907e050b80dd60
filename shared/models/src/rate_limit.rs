//! A destination's rate limit: `"50/s"`, `"600/m"`, `"1000/h"`, with an
//! optional burst. The dispatcher turns it into a schedule of send slots
//! one interval apart, shared by every dispatcher (see
//! `hookrelay_core::pace`).
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The most deliveries a limit may allow per second: the shared schedule
/// is kept to the millisecond, so an interval is at least 1 ms.
pub const MAX_RATE_PER_SECOND: u64 = 1000;
/// The largest burst: more would let a limit's "at once" be far beyond
/// its steady rate, and a burst is held as slots in memory.
pub const MAX_BURST: u32 = 1000;

/// How many deliveries per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub count: u32,
    pub per: RatePeriod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatePeriod {
    Second,
    Minute,
    Hour,
}

impl RatePeriod {
    pub fn length(self) -> Duration {
        Duration::from_secs(match self {
            RatePeriod::Second => 1,
            RatePeriod::Minute => 60,
            RatePeriod::Hour => 3600,
        })
    }

    fn unit(self) -> &'static str {
        match self {
            RatePeriod::Second => "s",
            RatePeriod::Minute => "m",
            RatePeriod::Hour => "h",
        }
    }
}

impl RateLimit {
    /// The time between two slots, rounded up to the millisecond so the
    /// schedule never allows more than the limit (`3/s` is 334 ms apart).
    pub fn interval(&self) -> Duration {
        let period_ms = self.per.length().as_millis() as u64;
        let count = u64::from(self.count.max(1));
        Duration::from_millis(period_ms.div_ceil(count).max(1))
    }
}

/// A destination's limit as the dispatcher paces by it: slots
/// `interval` apart, each usable for `burst` intervals after its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    pub interval: Duration,
    pub burst: u32,
}

impl Pace {
    /// How long after its time a slot may still be used. After a quiet
    /// spell this lets `burst` deliveries go at once; in any window of
    /// `w` seconds at most `w / interval + burst + 1` slots are used.
    pub fn slot_life(&self) -> Duration {
        self.interval * self.burst.max(1)
    }
}

impl FromStr for RateLimit {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad =
            || format!("rate limit {text:?} must be a count per period: 50/s, 600/m or 1000/h");
        let (count, per) = text.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let per = match per.trim() {
            "s" | "sec" | "second" => RatePeriod::Second,
            "m" | "min" | "minute" => RatePeriod::Minute,
            "h" | "hour" => RatePeriod::Hour,
            _ => return Err(bad()),
        };
        if count == 0 {
            return Err(format!("rate limit {text:?}: the count must be at least 1"));
        }
        let per_second = u64::from(count) / per.length().as_secs();
        if per_second > MAX_RATE_PER_SECOND {
            return Err(format!(
                "rate limit {text:?}: at most {MAX_RATE_PER_SECOND} per second"
            ));
        }
        Ok(RateLimit { count, per })
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.count, self.per.unit())
    }
}

impl Serialize for RateLimit {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RateLimit {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_print_and_space_their_slots() {
        for (text, shown, interval_ms) in [
            ("50/s", "50/s", 20),
            ("10/second", "10/s", 100),
            ("600/m", "600/m", 100),
            ("3/s", "3/s", 334),
            ("1000/h", "1000/h", 3600),
            ("1/h", "1/h", 3_600_000),
            (" 7 / min ", "7/m", 8572),
            ("1000/s", "1000/s", 1),
        ] {
            let limit: RateLimit = text.parse().unwrap();
            assert_eq!(limit.to_string(), shown, "{text}");
            assert_eq!(
                limit.interval(),
                Duration::from_millis(interval_ms),
                "{text}"
            );
            // Never faster than asked.
            let per_period = limit.per.length().as_millis() as u64 / interval_ms;
            assert!(per_period <= u64::from(limit.count), "{text}");
        }
    }

    #[test]
    fn bad_limits_say_what_is_wanted() {
        for bad in ["", "50", "50/d", "x/s", "0/s", "-1/s", "1001/s", "50/s/m"] {
            let err = bad.parse::<RateLimit>().unwrap_err();
            assert!(err.contains("rate limit"), "{bad}: {err}");
        }
    }

    #[test]
    fn serde_uses_the_short_form() {
        let limit: RateLimit = serde_json::from_str("\"600/minute\"").unwrap();
        assert_eq!(serde_json::to_string(&limit).unwrap(), "\"600/m\"");
    }
}
