//! Retry schedules: data in configuration, never code.
use serde::{Deserialize, Serialize};
use std::time::Duration;

use crate::error::ConfigError;

/// The delays before each attempt of a delivery: the first entry is the
/// delay before the first attempt (normally zero), so the schedule's length
/// is the number of attempts. Written as `["0s", "5s", "5m"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl RetrySchedule {
    /// Svix's schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
    /// 10 h — eight attempts over about 27.6 hours.
    pub fn standard() -> Self {
        const MIN: u64 = 60;
        const HOUR: u64 = 3600;
        RetrySchedule(
            [
                0,
                5,
                5 * MIN,
                30 * MIN,
                2 * HOUR,
                5 * HOUR,
                10 * HOUR,
                10 * HOUR,
            ]
            .into_iter()
            .map(Duration::from_secs)
            .collect(),
        )
    }

    pub fn new(delays: Vec<Duration>) -> Result<Self, ConfigError> {
        if delays.is_empty() {
            return Err(ConfigError::Duration {
                value: "[]".into(),
                reason: "a retry schedule needs at least one attempt".into(),
            });
        }
        if delays.len() > 50 {
            return Err(ConfigError::Duration {
                value: format!("{} entries", delays.len()),
                reason: "a retry schedule has at most 50 attempts".into(),
            });
        }
        Ok(RetrySchedule(delays))
    }

    pub fn max_attempts(&self) -> u32 {
        self.0.len() as u32
    }

    /// The nominal delay before attempt `attempt` (1-based), if the schedule
    /// has that many attempts. Jitter is applied by the dispatcher.
    pub fn delay_before(&self, attempt: u32) -> Option<Duration> {
        let index = usize::try_from(attempt.checked_sub(1)?).ok()?;
        self.0.get(index).copied()
    }

    pub fn delays(&self) -> &[Duration] {
        &self.0
    }

    /// Total nominal time from the first attempt to the last.
    pub fn span(&self) -> Duration {
        self.0.iter().skip(1).sum()
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self::standard()
    }
}

/// Parses `"5s"`, `"30m"`, `"2h"`, `"1h 30m"`.
/// A period that can be switched off: `off` (or `never`) is `None`,
/// anything else a duration such as `24h` or `15m`.
pub fn parse_optional_period(value: &str) -> Result<Option<Duration>, ConfigError> {
    match value.trim() {
        "off" | "never" => Ok(None),
        other => parse_duration(other).map(Some),
    }
}

pub(crate) fn parse_duration(value: &str) -> Result<Duration, ConfigError> {
    humantime::parse_duration(value).map_err(|e| ConfigError::Duration {
        value: value.chars().take(40).collect(),
        reason: e.to_string(),
    })
}

pub(crate) fn format_duration(duration: Duration) -> String {
    if duration.is_zero() {
        "0s".to_string()
    } else {
        humantime::format_duration(duration)
            .to_string()
            .replace(' ', "")
    }
}

impl Serialize for RetrySchedule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|d| format_duration(*d)))
    }
}

impl<'de> Deserialize<'de> for RetrySchedule {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Vec::<String>::deserialize(deserializer)?;
        let delays = raw
            .iter()
            .map(|value| parse_duration(value))
            .collect::<Result<Vec<_>, _>>()
            .map_err(serde::de::Error::custom)?;
        RetrySchedule::new(delays).map_err(serde::de::Error::custom)
    }
}

/// serde for an optional duration written as `"15s"`.
pub(crate) mod optional_duration {
    use super::{format_duration, parse_duration};
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => s.serialize_str(&format_duration(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|value| parse_duration(&value).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_schedule_spans_about_27_6_hours() {
        let schedule = RetrySchedule::standard();
        assert_eq!(schedule.max_attempts(), 8);
        assert_eq!(schedule.delay_before(1), Some(Duration::ZERO));
        assert_eq!(schedule.delay_before(2), Some(Duration::from_secs(5)));
        assert_eq!(schedule.delay_before(9), None);
        assert_eq!(schedule.delay_before(0), None);
        let hours = schedule.span().as_secs_f64() / 3600.0;
        assert!((27.5..27.7).contains(&hours), "{hours}");
    }

    #[test]
    fn schedules_round_trip_through_strings() {
        let schedule: RetrySchedule = serde_json::from_str(r#"["0s","1s","5m","2h"]"#).unwrap();
        assert_eq!(schedule.delay_before(3), Some(Duration::from_secs(300)));
        assert_eq!(
            serde_json::to_string(&schedule).unwrap(),
            r#"["0s","1s","5m","2h"]"#
        );
    }

    #[test]
    fn empty_or_unreadable_schedules_are_refused() {
        assert!(serde_json::from_str::<RetrySchedule>("[]").is_err());
        let err = serde_json::from_str::<RetrySchedule>(r#"["5 parsecs"]"#).unwrap_err();
        assert!(err.to_string().contains("5 parsecs"), "{err}");
    }
}
