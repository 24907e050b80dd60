//! Identifiers.
//!
//! Events and messages get `evt_`/`msg_` followed by a ULID in lower-case
//! Crockford base32: 48 bits of milliseconds then 80 random bits, so ids
//! sort by arrival time as plain strings (which DynamoDB sort keys and
//! `events list` rely on) and cannot be guessed.
//!
//! Sources and destinations are named by their users with slugs, which
//! appear in URLs (`/hooks/{source}`) and table keys, so they are held to a
//! character set with no room for path tricks.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::IdError;
use crate::time::Timestamp;

const CROCKFORD: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const ULID_LEN: usize = 26;

fn encode_ulid(millis: u64, random: u128) -> String {
    let value: u128 =
        (u128::from(millis & 0xFFFF_FFFF_FFFF) << 80) | (random & ((1u128 << 80) - 1));
    (0..ULID_LEN)
        .map(|i| CROCKFORD[((value >> (125 - 5 * i)) & 31) as usize] as char)
        .collect()
}

fn random_u128() -> u128 {
    let mut bytes = [0u8; 16];
    // The OS random source failing is not something a relay can recover
    // from sensibly; ids must not repeat.
    getrandom::fill(&mut bytes).expect("operating system random source");
    u128::from_le_bytes(bytes)
}

const RANDOM_BITS: u128 = (1u128 << 80) - 1;

/// The 80 random bits of a new id made at `millis`. Within one millisecond
/// a process's ids still sort in the order they were made: the bits then
/// step up from the previous id's by a random amount (ULID's monotonic
/// mode, with a random step so the next id is not guessable either). Arrival
/// order, which `events list` and ordered delivery's lanes rely on, then
/// survives bursts.
///
/// The last bits are kept for each of the few milliseconds most recently
/// used, not only for the latest one: ids made for another instant in
/// between (a clock stepped back, a simulated clock running ahead in the
/// same process) must not reset the order of the ids being made for now.
fn monotonic_random(millis: u64) -> u128 {
    /// How many instants are remembered; the least recently used is
    /// forgotten first, so only more than this many clocks interleaving
    /// within one millisecond could reorder ids.
    const REMEMBERED: usize = 16;
    /// Per slot: the millisecond, the bits its latest id got, and when the
    /// slot was last used (a counter).
    type Slots = [(u64, u128, u64); REMEMBERED];
    static RECENT: std::sync::Mutex<(Slots, u64)> =
        std::sync::Mutex::new(([(0, 0, 0); REMEMBERED], 0));
    let mut guard = RECENT.lock().unwrap_or_else(|e| e.into_inner());
    let (slots, uses) = &mut *guard;
    *uses += 1;
    let fresh = random_u128() & RANDOM_BITS;
    let (index, bits) = match slots.iter().position(|s| s.2 > 0 && s.0 == millis) {
        Some(found) => {
            let step = (fresh & 0xFFFF_FFFF) + 1;
            // 2^80 ids in a millisecond do not happen; start afresh.
            let next = slots[found]
                .1
                .checked_add(step)
                .filter(|n| *n <= RANDOM_BITS)
                .unwrap_or(fresh);
            (found, next)
        }
        None => {
            let oldest = (0..REMEMBERED).min_by_key(|&i| slots[i].2).unwrap_or(0);
            // Leave room above for the rest of the millisecond.
            (oldest, fresh >> 1)
        }
    };
    slots[index] = (millis, bits, *uses);
    bits
}

fn is_ulid(body: &str) -> bool {
    body.len() == ULID_LEN
        && body.bytes().all(|b| CROCKFORD.contains(&b))
        // 26 × 5 = 130 bits: the top two must be zero.
        && body.as_bytes()[0] <= b'7'
}

/// Display, parsing and serde's string conversions for an id type with a
/// `parse` constructor.
macro_rules! string_conversions {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new id for something happening at `at`.
            pub fn new(at: Timestamp) -> Self {
                let millis = u64::try_from(at.unix_millis()).unwrap_or(0);
                $name(format!("{}{}", $prefix, encode_ulid(millis, monotonic_random(millis))))
            }

            /// The id made at `at` with these 80 random bits (the rest are
            /// ignored): for a caller that draws its own, such as a
            /// deterministic simulation replaying a seed.
            pub fn from_parts(at: Timestamp, random: u128) -> Self {
                let millis = u64::try_from(at.unix_millis()).unwrap_or(0);
                $name(format!("{}{}", $prefix, encode_ulid(millis, random & RANDOM_BITS)))
            }

            /// The smallest id of anything happening at or after `at`:
            /// ids sort by time, so `id >= lower_bound(t)` means "since t".
            pub fn lower_bound(at: Timestamp) -> Self {
                let millis = u64::try_from(at.unix_millis()).unwrap_or(0);
                $name(format!("{}{}", $prefix, encode_ulid(millis, 0)))
            }

            pub fn parse(value: &str) -> Result<Self, IdError> {
                match value.strip_prefix($prefix) {
                    Some(body) if is_ulid(body) => Ok($name(value.to_string())),
                    _ => Err(IdError::BadPrefixed {
                        kind: $kind,
                        prefix: $prefix,
                        value: value.chars().take(80).collect(),
                    }),
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The ULID part, without the prefix.
            pub fn ulid(&self) -> &str {
                &self.0[$prefix.len()..]
            }
        }

        string_conversions!($name);
    };
}

prefixed_id!(
    /// An event hookrelay accepted: `evt_…`.
    EventId,
    "evt_",
    "event"
);
prefixed_id!(
    /// The Standard Webhooks `webhook-id` of an event's deliveries: `msg_…`.
    MessageId,
    "msg_",
    "message"
);

impl EventId {
    /// The message id destinations see for this event. It is derived, not
    /// stored, so every retry and replay of the event carries the same
    /// `webhook-id` and receivers can deduplicate on it.
    pub fn message_id(&self) -> MessageId {
        MessageId(format!("{}{}", MessageId::PREFIX, self.ulid()))
    }

    /// When the id was minted (millisecond precision).
    pub fn timestamp(&self) -> Timestamp {
        let mut value: u128 = 0;
        for b in self.ulid().bytes().take(10) {
            let digit = CROCKFORD.iter().position(|c| *c == b).unwrap_or(0) as u128;
            value = (value << 5) | digit;
        }
        // 10 characters hold 50 bits: the two always-zero padding bits
        // and the 48 bits of time.
        Timestamp::from_unix_millis(value as i64)
    }
}

fn is_slug(value: &str) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, IdError> {
                if is_slug(value) {
                    Ok($name(value.to_string()))
                } else {
                    Err(IdError::BadSlug {
                        kind: $kind,
                        value: value.chars().take(80).collect(),
                    })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        string_conversions!($name);
    };
}

slug_id!(
    /// A source's id, the `{source}` in `POST /hooks/{source}`.
    SourceId,
    "source"
);
slug_id!(
    /// A destination's id.
    DestinationId,
    "destination"
);

/// The built-in source of the relay's own operational events (a
/// destination disabled, a delivery failed for good, …): routes from it
/// choose where they go. No source may take this id, so no one can post
/// events under it.
pub const OPERATIONAL_SOURCE: &str = "hookrelay";

impl SourceId {
    /// [`OPERATIONAL_SOURCE`].
    pub fn operational() -> SourceId {
        SourceId(OPERATIONAL_SOURCE.to_string())
    }

    pub fn is_operational(&self) -> bool {
        self.0 == OPERATIONAL_SOURCE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn event_ids_have_prefix_and_round_trip() {
        let id = EventId::new(Timestamp::from_unix_millis(1_700_000_000_123));
        assert!(id.as_str().starts_with("evt_"));
        assert_eq!(id.as_str().len(), 4 + 26);
        assert_eq!(EventId::parse(id.as_str()), Ok(id.clone()));
        assert_eq!(
            id.timestamp(),
            Timestamp::from_unix_millis(1_700_000_000_123)
        );
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<EventId>(&json).unwrap(), id);
    }

    #[test]
    fn message_id_is_derived_and_stable() {
        let id = EventId::new(Timestamp::now());
        assert_eq!(id.message_id(), id.message_id());
        assert_eq!(id.message_id().as_str()[4..], id.as_str()[4..]);
        assert!(id.message_id().as_str().starts_with("msg_"));
    }

    #[test]
    fn ids_made_in_one_millisecond_sort_in_the_order_made() {
        let at = Timestamp::from_unix_millis((1 << 48) - 2);
        let ids: Vec<EventId> = (0..1000).map(|_| EventId::new(at)).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert!(ids.iter().all(|id| id.timestamp() == at));
    }

    #[test]
    fn ids_for_other_instants_in_between_keep_the_order() {
        // As when a simulated clock running ahead, or one stepped back,
        // makes ids in the same process as the ids being made for now: an
        // ordering test once saw a key's events out of order that way.
        let now = Timestamp::from_unix_millis((1 << 47) + 12_345);
        let ahead = Timestamp::from_unix_millis((1 << 47) + 86_400_000);
        let behind = Timestamp::from_unix_millis(7);
        let mut ids = Vec::new();
        for i in 0..500 {
            ids.push(EventId::new(now));
            let _ = EventId::new(if i % 2 == 0 { ahead } else { behind });
            // More other instants than are remembered, each used once:
            // the one in use now is not the least recently used.
            let _ = EventId::new(Timestamp::from_unix_millis(1_000 + i));
        }
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn two_ids_in_the_same_millisecond_differ() {
        let at = Timestamp::from_unix_millis(5);
        assert_ne!(EventId::new(at), EventId::new(at));
    }

    #[test]
    fn malformed_prefixed_ids_are_refused() {
        for bad in [
            "",
            "evt_",
            "msg_01hzzzzzzzzzzzzzzzzzzzzzzz",
            "evt_01HZZZZZZZZZZZZZZZZZZZZZZZ",
            "evt_01hzzzzzzzzzzzzzzzzzzzzzz",
            "evt_81hzzzzzzzzzzzzzzzzzzzzzzz",
            "evt_01hzzzzzzzzzzzzzzzzzzzzzzu",
        ] {
            assert!(EventId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<EventId>("\"evt_x\"").is_err());
    }

    #[test]
    fn slugs_refuse_path_tricks() {
        for good in ["github", "stripe-prod", "a", "A_1", &"x".repeat(64)] {
            assert!(SourceId::parse(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "../etc",
            "%2e%2e",
            "-lead",
            "a/b",
            "a b",
            "ü",
            "a.b",
            &"x".repeat(65),
        ] {
            assert!(SourceId::parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn ids_sort_by_time(a in 0u64..(1 << 47), b in 0u64..(1 << 47)) {
            let ia = EventId::new(Timestamp::from_unix_millis(a as i64));
            let ib = EventId::new(Timestamp::from_unix_millis(b as i64));
            if a < b { prop_assert!(ia < ib); }
            if a > b { prop_assert!(ia > ib); }
            prop_assert_eq!(ia.timestamp().unix_millis(), a as i64);
        }

        #[test]
        fn lower_bound_separates_before_from_since(at in 1u64..(1 << 47), offset in 0u64..1000) {
            let bound = EventId::lower_bound(Timestamp::from_unix_millis(at as i64));
            let since = EventId::new(Timestamp::from_unix_millis((at + offset) as i64));
            let before = EventId::new(Timestamp::from_unix_millis((at - 1) as i64));
            prop_assert!(since >= bound);
            prop_assert!(before < bound);
            prop_assert!(EventId::parse(bound.as_str()).is_ok());
        }
    }
}
