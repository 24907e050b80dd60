//! Where a value is read from in a request or an event: a header, or a
//! JSON pointer into the body.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a value is read from in an inbound request: `header:X-GitHub-Event`
/// or `json:/type` (a JSON pointer into the body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum FieldSelector {
    Header(String),
    JsonPointer(String),
}

impl FromStr for FieldSelector {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if let Some(name) = value.strip_prefix("header:") {
            if !name.is_empty() && name.bytes().all(is_token_byte) {
                return Ok(FieldSelector::Header(name.to_string()));
            }
        } else if let Some(pointer) = value.strip_prefix("json:") {
            if pointer.is_empty() || pointer.starts_with('/') {
                return Ok(FieldSelector::JsonPointer(pointer.to_string()));
            }
        }
        Err(format!("{value:?} is not header:<Name> or json:/<pointer>"))
    }
}

impl TryFrom<String> for FieldSelector {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<FieldSelector> for String {
    fn from(selector: FieldSelector) -> String {
        selector.to_string()
    }
}

impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldSelector::Header(name) => write!(f, "header:{name}"),
            FieldSelector::JsonPointer(pointer) => write!(f, "json:{pointer}"),
        }
    }
}

/// RFC 9110 token characters: what a header name may be made of.
pub(crate) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}
