//! Event-type filters on routes: `push`, `invoice.*`, `*`.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::ConfigError;

/// A pattern over event types where `*` matches any run of characters
/// (dots included), so `invoice.*` matches `invoice.paid` and
/// `invoice.payment.failed` but not `invoice` itself, and `*` matches
/// every event, including those whose type could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventFilter(String);

impl EventFilter {
    pub fn any() -> Self {
        EventFilter("*".to_string())
    }

    pub fn parse(pattern: &str) -> Result<Self, ConfigError> {
        let refuse = |reason| ConfigError::Filter {
            filter: pattern.chars().take(80).collect(),
            reason,
        };
        if pattern.is_empty() {
            return Err(refuse("empty"));
        }
        if pattern.len() > 128 {
            return Err(refuse("longer than 128 characters"));
        }
        if !pattern
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-:/*".contains(&b))
        {
            return Err(refuse(
                "only letters, digits, '.', '_', '-', ':', '/' and '*'",
            ));
        }
        Ok(EventFilter(pattern.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether an event of type `event_type` passes. Events with no type
    /// pass only the catch-all `*`.
    pub fn matches(&self, event_type: Option<&str>) -> bool {
        match event_type {
            Some(event_type) => glob(self.0.as_bytes(), event_type.as_bytes()),
            None => self.0 == "*",
        }
    }
}

/// Wildcard match with `*` only, iterative with one backtrack point, so it
/// runs in O(pattern × text) at worst and never recurses.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|b| *b == b'*')
}

impl fmt::Display for EventFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for EventFilter {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for EventFilter {
    type Error = ConfigError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EventFilter> for String {
    fn from(filter: EventFilter) -> String {
        filter.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pattern: &str) -> EventFilter {
        EventFilter::parse(pattern).unwrap()
    }

    #[test]
    fn filters_match_as_documented() {
        let table = [
            ("push", "push", true),
            ("push", "push.x", false),
            ("invoice.*", "invoice.paid", true),
            ("invoice.*", "invoice.payment.failed", true),
            ("invoice.*", "invoice", false),
            ("invoice.*", "invoices.paid", false),
            ("*", "anything.at.all", true),
            ("*.created", "customer.created", true),
            ("*.created", "customer.updated", false),
            ("pull_request.*", "pull_request.opened", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
        ];
        for (pattern, event_type, expected) in table {
            assert_eq!(
                f(pattern).matches(Some(event_type)),
                expected,
                "{pattern} vs {event_type}"
            );
        }
    }

    #[test]
    fn untyped_events_pass_only_the_catch_all() {
        assert!(f("*").matches(None));
        assert!(!f("push").matches(None));
        assert!(!f("invoice.*").matches(None));
    }

    #[test]
    fn bad_patterns_are_refused() {
        for bad in ["", "a b", "push\n", "ü", &"a".repeat(129)] {
            assert!(EventFilter::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn many_stars_stay_fast() {
        let pattern = f(&"*a".repeat(60));
        let text = "a".repeat(59) + "b";
        assert!(!pattern.matches(Some(&text)));
    }
}
