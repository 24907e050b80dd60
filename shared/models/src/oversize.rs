//! What becomes of a body larger than an AWS target takes (issue 28):
//! `oversize = "pointer"` (the default) sends a small message that points
//! at the body in the body bucket; `oversize = "fail"` fails the delivery
//! for good at once.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How long a pointer's presigned URL is valid when a destination sets
/// no `pointer_url_ttl`: an hour, long enough for a consumer that is a
/// little behind, short for a bearer credential. The bucket and key in
/// the pointer stay valid for the event's retention.
pub const DEFAULT_POINTER_URL_TTL: Duration = Duration::from_secs(3600);
/// The longest a presigned URL may be valid (SigV4's ceiling: 7 days).
pub const MAX_POINTER_URL_TTL: Duration = Duration::from_secs(7 * 86_400);

/// A destination's choice for a body over its target's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Oversize {
    /// Deliver a pointer to the body (bucket, key, presigned URL, size,
    /// SHA-256) instead of the body.
    #[default]
    Pointer,
    /// Fail the delivery for good at once, saying why.
    Fail,
}

impl Oversize {
    pub fn is_pointer(&self) -> bool {
        *self == Oversize::Pointer
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Oversize::Pointer => "pointer",
            Oversize::Fail => "fail",
        }
    }
}

impl fmt::Display for Oversize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Oversize {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "pointer" => Ok(Oversize::Pointer),
            "fail" => Ok(Oversize::Fail),
            other => Err(format!("oversize {other:?}: pointer or fail")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversize_reads_pointer_or_fail_only() {
        assert_eq!("pointer".parse::<Oversize>(), Ok(Oversize::Pointer));
        assert_eq!("fail".parse::<Oversize>(), Ok(Oversize::Fail));
        assert!("drop"
            .parse::<Oversize>()
            .unwrap_err()
            .contains("pointer or fail"));
        assert_eq!(Oversize::default(), Oversize::Pointer);
    }
}
