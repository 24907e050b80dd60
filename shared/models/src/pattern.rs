//! Content filters in Amazon EventBridge's event-pattern syntax (issue
//! 27): a pattern is parsed and checked once, then matched against a JSON
//! document (a route's envelope of an event). The semantics follow AWS's
//! documentation and the cases AWS's own `TestEventPattern` was checked
//! against (docs/research/eventbridge-patterns.md):
//!
//! - a pattern mirrors the document: every field it names must be there,
//!   nested the same way, and fields it does not name are ignored;
//! - a leaf is an array of matchers, any of which may match (OR), while
//!   every named field must match (AND); `$or` takes alternatives;
//! - an array in the document matches if any element does; the fields of a
//!   nested pattern must all match within one element of an array of
//!   objects;
//! - operators: exact values (numbers compared as numbers), `prefix`,
//!   `suffix` (each also `{"equals-ignore-case": …}`), `equals-ignore-case`,
//!   `anything-but` (values, or `prefix`, `suffix`, `equals-ignore-case`,
//!   `wildcard`), `numeric`, `exists`, `cidr`, `wildcard`.
//!
//! Routes match with [`EventPattern::matches`]; [`EventPattern::first_mismatch`]
//! (in `explain`) says which field failed, for people.
use serde_json::{Map, Value};
use std::fmt;
use std::net::IpAddr;

mod explain;

/// A pattern's largest size, in bytes of JSON: twice EventBridge's default
/// quota (2,048 characters), as EventBridge Pipes allows, so that
/// patterns written for EventBridge fit.
pub const MAX_PATTERN_BYTES: usize = 4096;
/// How deep objects may nest in a pattern: matching recurses that deep,
/// and no event worth routing is deeper.
pub const MAX_PATTERN_DEPTH: usize = 16;
/// The most combinations `$or` may make (the product of every `$or`
/// array's length), as EventBridge allows.
pub const MAX_OR_COMBINATIONS: usize = 1000;

/// Why a pattern was refused, and where in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// A JSON pointer to the offending part (`""`: the whole pattern).
    pub path: String,
    pub reason: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.reason)
    }
}

impl std::error::Error for PatternError {}

/// A parsed, checked event pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPattern {
    root: Object,
}

#[derive(Debug, Clone, PartialEq)]
struct Object {
    fields: Vec<(String, Node)>,
    /// Each `$or`: alternatives, one of which must match.
    ors: Vec<Vec<Object>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Object(Object),
    Leaf(Vec<Matcher>),
}

#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    Exact(Value),
    Prefix(String, Case),
    Suffix(String, Case),
    EqualsIgnoreCase(String),
    AnythingBut(AnythingBut),
    Numeric(Vec<(Comparison, f64)>),
    Exists(bool),
    Cidr(IpAddr, u8),
    Wildcard(Wildcard),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Sensitive,
    Ignored,
}

#[derive(Debug, Clone, PartialEq)]
enum AnythingBut {
    Values(Vec<Value>),
    Prefixes(Vec<String>),
    Suffixes(Vec<String>),
    EqualsIgnoreCase(Vec<String>),
    Wildcards(Vec<Wildcard>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// A `wildcard` value: literal pieces between `*`s.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wildcard {
    pieces: Vec<String>,
}

fn refuse(path: &str, reason: impl Into<String>) -> PatternError {
    PatternError {
        path: path.to_string(),
        reason: reason.into(),
    }
}

/// A JSON pointer segment (`~` and `/` escaped).
fn child(path: &str, key: &str) -> String {
    format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"))
}

impl EventPattern {
    /// Parses and checks `text`; refused with the path of the first part
    /// that is wrong.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        if text.len() > MAX_PATTERN_BYTES {
            return Err(refuse("", format!("longer than {MAX_PATTERN_BYTES} bytes")));
        }
        let value: Value =
            serde_json::from_str(text).map_err(|e| refuse("", format!("not JSON: {e}")))?;
        Self::from_value(&value)
    }

    /// Checks a pattern already read as JSON (a route's filter written as
    /// a TOML table, or sent in an admin request): its size counted as
    /// compact JSON, since it came without its text.
    pub fn from_value(value: &Value) -> Result<Self, PatternError> {
        let bytes = value.to_string().len();
        if bytes > MAX_PATTERN_BYTES {
            return Err(refuse(
                "",
                format!("{bytes} bytes of JSON, more than {MAX_PATTERN_BYTES}"),
            ));
        }
        let Value::Object(map) = value else {
            return Err(refuse("", "a pattern is a JSON object"));
        };
        let root = parse_object(map, "", 1)?;
        let combinations = root.or_combinations();
        if combinations > MAX_OR_COMBINATIONS {
            return Err(refuse(
                "",
                format!("$or makes {combinations} combinations, more than {MAX_OR_COMBINATIONS}"),
            ));
        }
        Ok(EventPattern { root })
    }

    /// Whether `document` matches.
    pub fn matches(&self, document: &Value) -> bool {
        self.root.matches(Some(document))
    }
}

fn parse_object(
    map: &Map<String, Value>,
    path: &str,
    depth: usize,
) -> Result<Object, PatternError> {
    if depth > MAX_PATTERN_DEPTH {
        return Err(refuse(
            path,
            format!("nested deeper than {MAX_PATTERN_DEPTH}"),
        ));
    }
    if map.is_empty() {
        return Err(refuse(path, "an empty object matches nothing"));
    }
    let mut object = Object {
        fields: Vec::new(),
        ors: Vec::new(),
    };
    for (key, value) in map {
        let here = child(path, key);
        if key == "$or" {
            let Value::Array(alternatives) = value else {
                return Err(refuse(&here, "$or takes an array of patterns"));
            };
            if alternatives.len() < 2 {
                return Err(refuse(&here, "$or takes at least two patterns"));
            }
            let mut parsed = Vec::with_capacity(alternatives.len());
            for (i, alternative) in alternatives.iter().enumerate() {
                let at = child(&here, &i.to_string());
                let Value::Object(alternative) = alternative else {
                    return Err(refuse(&at, "each $or alternative is an object"));
                };
                parsed.push(parse_object(alternative, &at, depth + 1)?);
            }
            object.ors.push(parsed);
            continue;
        }
        let node = match value {
            Value::Object(inner) => Node::Object(parse_object(inner, &here, depth + 1)?),
            Value::Array(values) => Node::Leaf(parse_leaf(values, &here)?),
            _ => return Err(refuse(&here, "must be an object or an array")),
        };
        object.fields.push((key.clone(), node));
    }
    Ok(object)
}

fn parse_leaf(values: &[Value], path: &str) -> Result<Vec<Matcher>, PatternError> {
    if values.is_empty() {
        return Err(refuse(path, "empty arrays are not allowed"));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let at = child(path, &i.to_string());
            match value {
                Value::Object(operator) => parse_operator(operator, &at),
                Value::Array(_) => Err(refuse(&at, "a value is not an array")),
                scalar => Ok(Matcher::Exact(scalar.clone())),
            }
        })
        .collect()
}

fn string<'a>(value: &'a Value, path: &str, what: &str) -> Result<&'a str, PatternError> {
    value
        .as_str()
        .ok_or_else(|| refuse(path, format!("{what} takes a string")))
}

/// A string, or `{"equals-ignore-case": string}`.
fn text_with_case(value: &Value, path: &str, what: &str) -> Result<(String, Case), PatternError> {
    match value {
        Value::String(s) => Ok((s.clone(), Case::Sensitive)),
        Value::Object(inner) if inner.len() == 1 && inner.contains_key("equals-ignore-case") => {
            let s = string(&inner["equals-ignore-case"], path, "equals-ignore-case")?;
            Ok((s.to_string(), Case::Ignored))
        }
        _ => Err(refuse(path, format!("{what} takes a string"))),
    }
}

/// One string or a non-empty list of them.
fn strings(value: &Value, path: &str, what: &str) -> Result<Vec<String>, PatternError> {
    let list: Vec<&Value> = match value {
        Value::Array(items) if !items.is_empty() => items.iter().collect(),
        Value::Array(_) => return Err(refuse(path, format!("{what} takes at least one value"))),
        single => vec![single],
    };
    list.into_iter()
        .map(|v| string(v, path, what).map(str::to_string))
        .collect()
}

fn parse_operator(operator: &Map<String, Value>, path: &str) -> Result<Matcher, PatternError> {
    if operator.len() != 1 {
        return Err(refuse(path, "one operator per object"));
    }
    let (name, value) = operator.iter().next().expect("one entry");
    let at = child(path, name);
    Ok(match name.as_str() {
        "prefix" => {
            let (text, case) = text_with_case(value, &at, "prefix")?;
            Matcher::Prefix(text, case)
        }
        "suffix" => {
            let (text, case) = text_with_case(value, &at, "suffix")?;
            Matcher::Suffix(text, case)
        }
        "equals-ignore-case" => {
            Matcher::EqualsIgnoreCase(string(value, &at, "equals-ignore-case")?.to_string())
        }
        "exists" => match value {
            Value::Bool(exists) => Matcher::Exists(*exists),
            _ => return Err(refuse(&at, "exists takes true or false")),
        },
        "numeric" => Matcher::Numeric(parse_numeric(value, &at)?),
        "cidr" => {
            let (address, bits) = parse_cidr(string(value, &at, "cidr")?)
                .ok_or_else(|| refuse(&at, "not a CIDR block (address/bits)"))?;
            Matcher::Cidr(address, bits)
        }
        "wildcard" => Matcher::Wildcard(parse_wildcard(string(value, &at, "wildcard")?, &at)?),
        "anything-but" => Matcher::AnythingBut(parse_anything_but(value, &at)?),
        other => return Err(refuse(&at, format!("unknown operator {other:?}"))),
    })
}

fn parse_anything_but(value: &Value, path: &str) -> Result<AnythingBut, PatternError> {
    match value {
        Value::Object(inner) if inner.len() == 1 => {
            let (name, value) = inner.iter().next().expect("one entry");
            let at = child(path, name);
            let list = strings(value, &at, name)?;
            match name.as_str() {
                "prefix" | "suffix" if list.iter().any(String::is_empty) => {
                    Err(refuse(&at, format!("an empty {name} is not allowed")))
                }
                "prefix" => Ok(AnythingBut::Prefixes(list)),
                "suffix" => Ok(AnythingBut::Suffixes(list)),
                "equals-ignore-case" => Ok(AnythingBut::EqualsIgnoreCase(list)),
                "wildcard" => Ok(AnythingBut::Wildcards(
                    list.iter()
                        .map(|w| parse_wildcard(w, &at))
                        .collect::<Result<_, _>>()?,
                )),
                other => Err(refuse(&at, format!("anything-but cannot take {other:?}"))),
            }
        }
        Value::String(_) | Value::Number(_) => Ok(AnythingBut::Values(vec![value.clone()])),
        Value::Array(items) if !items.is_empty() => {
            let all_strings = items.iter().all(Value::is_string);
            let all_numbers = items.iter().all(Value::is_number);
            if !all_strings && !all_numbers {
                return Err(refuse(path, "anything-but takes all strings or all numbers"));
            }
            Ok(AnythingBut::Values(items.clone()))
        }
        _ => Err(refuse(
            path,
            "anything-but takes a string, a number, a list of them, or prefix/suffix/equals-ignore-case/wildcard",
        )),
    }
}

fn parse_numeric(value: &Value, path: &str) -> Result<Vec<(Comparison, f64)>, PatternError> {
    let bad = || {
        refuse(
            path,
            "numeric takes [op, n] or [\">\"|\">=\", low, \"<\"|\"<=\", high]",
        )
    };
    let Value::Array(items) = value else {
        return Err(bad());
    };
    let pair = |op: &Value, n: &Value| -> Result<(Comparison, f64), PatternError> {
        let comparison = match op.as_str() {
            Some("=") => Comparison::Equal,
            Some("<") => Comparison::Less,
            Some("<=") => Comparison::LessOrEqual,
            Some(">") => Comparison::Greater,
            Some(">=") => Comparison::GreaterOrEqual,
            _ => return Err(bad()),
        };
        let n = n.as_f64().filter(|n| n.is_finite()).ok_or_else(bad)?;
        Ok((comparison, n))
    };
    match items.as_slice() {
        [op, n] => Ok(vec![pair(op, n)?]),
        [low_op, low, high_op, high] => {
            let lower = pair(low_op, low)?;
            let upper = pair(high_op, high)?;
            let is_lower = matches!(lower.0, Comparison::Greater | Comparison::GreaterOrEqual);
            let is_upper = matches!(upper.0, Comparison::Less | Comparison::LessOrEqual);
            if !is_lower || !is_upper {
                return Err(bad());
            }
            Ok(vec![lower, upper])
        }
        _ => Err(bad()),
    }
}

fn parse_cidr(text: &str) -> Option<(IpAddr, u8)> {
    let (address, bits) = text.split_once('/')?;
    let address: IpAddr = address.parse().ok()?;
    let bits: u8 = bits.parse().ok()?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((address, bits))
}

fn parse_wildcard(text: &str, path: &str) -> Result<Wildcard, PatternError> {
    let mut pieces = vec![String::new()];
    let mut chars = text.chars().peekable();
    let mut last_was_star = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped @ ('*' | '\\')) => {
                    pieces.last_mut().expect("one piece").push(escaped);
                    last_was_star = false;
                }
                _ => return Err(refuse(path, "only \\* and \\\\ are escapes")),
            },
            '*' => {
                if last_was_star {
                    return Err(refuse(path, "consecutive wildcard characters"));
                }
                pieces.push(String::new());
                last_was_star = true;
            }
            other => {
                pieces.last_mut().expect("one piece").push(other);
                last_was_star = false;
            }
        }
    }
    Ok(Wildcard { pieces })
}

impl Object {
    fn or_combinations(&self) -> usize {
        let mut total: usize = 1;
        for (_, node) in &self.fields {
            if let Node::Object(inner) = node {
                total = total.saturating_mul(inner.or_combinations());
            }
        }
        for alternatives in &self.ors {
            let sum: usize = alternatives.iter().map(Object::or_combinations).sum();
            total = total.saturating_mul(sum);
        }
        total
    }

    /// Whether `document` (absent: `None`) matches. An array of objects
    /// matches if one of its elements does, all fields within it.
    fn matches(&self, document: Option<&Value>) -> bool {
        if let Some(Value::Array(items)) = document {
            return items.iter().any(|item| self.matches(Some(item)));
        }
        let map = match document {
            Some(Value::Object(map)) => Some(map),
            _ => None,
        };
        let field = |key: &str| map.and_then(|m| m.get(key));
        self.fields.iter().all(|(key, node)| match node {
            Node::Object(inner) => inner.matches(field(key)),
            Node::Leaf(matchers) => leaf_matches(matchers, field(key)),
        }) && self
            .ors
            .iter()
            .all(|alternatives| alternatives.iter().any(|alt| alt.matches(document)))
    }
}

/// Whether `test` holds for a leaf value of `value`: itself, or an
/// element of it (nested arrays opened). Objects are no leaf values.
fn any_scalar(value: &Value, test: &mut impl FnMut(&Value) -> bool) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|item| any_scalar(item, test)),
        Value::Object(_) => false,
        scalar => test(scalar),
    }
}

fn leaf_matches(matchers: &[Matcher], value: Option<&Value>) -> bool {
    let present = value.is_some_and(|v| !matches!(v, Value::Array(items) if items.is_empty()));
    matchers.iter().any(|matcher| match (matcher, value) {
        (Matcher::Exists(false), _) => !present,
        (_, None) => false,
        // A field that holds an object does not "exist" as a leaf.
        (Matcher::Exists(true), Some(value)) => any_scalar(value, &mut |_| true),
        (matcher, Some(value)) => any_scalar(value, &mut |v| scalar_matches(matcher, v)),
    })
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn scalar_matches(matcher: &Matcher, value: &Value) -> bool {
    let text = value.as_str();
    match matcher {
        Matcher::Exact(expected) => same_value(expected, value),
        Matcher::Prefix(prefix, case) => text.is_some_and(|t| affix(t, prefix, *case, true)),
        Matcher::Suffix(suffix, case) => text.is_some_and(|t| affix(t, suffix, *case, false)),
        Matcher::EqualsIgnoreCase(expected) => {
            text.is_some_and(|t| t.to_lowercase() == expected.to_lowercase())
        }
        Matcher::AnythingBut(but) => match but {
            AnythingBut::Values(values) => !values.iter().any(|v| same_value(v, value)),
            AnythingBut::Prefixes(list) => {
                text.is_none_or(|t| !list.iter().any(|p| t.starts_with(p.as_str())))
            }
            AnythingBut::Suffixes(list) => {
                text.is_none_or(|t| !list.iter().any(|s| t.ends_with(s.as_str())))
            }
            AnythingBut::EqualsIgnoreCase(list) => {
                text.is_none_or(|t| !list.iter().any(|s| s.to_lowercase() == t.to_lowercase()))
            }
            AnythingBut::Wildcards(list) => text.is_none_or(|t| !list.iter().any(|w| w.matches(t))),
        },
        Matcher::Numeric(comparisons) => value.as_f64().is_some_and(|n| {
            comparisons
                .iter()
                .all(|(comparison, bound)| match comparison {
                    Comparison::Equal => n == *bound,
                    Comparison::Less => n < *bound,
                    Comparison::LessOrEqual => n <= *bound,
                    Comparison::Greater => n > *bound,
                    Comparison::GreaterOrEqual => n >= *bound,
                })
        }),
        Matcher::Cidr(network, bits) => text
            .and_then(|t| t.parse::<IpAddr>().ok())
            .is_some_and(|address| in_network(address, *network, *bits)),
        Matcher::Wildcard(wildcard) => text.is_some_and(|t| wildcard.matches(t)),
        Matcher::Exists(_) => unreachable!("judged on the field, not a value"),
    }
}

fn affix(text: &str, affix: &str, case: Case, at_start: bool) -> bool {
    match (case, at_start) {
        (Case::Sensitive, true) => text.starts_with(affix),
        (Case::Sensitive, false) => text.ends_with(affix),
        (Case::Ignored, true) => text.to_lowercase().starts_with(&affix.to_lowercase()),
        (Case::Ignored, false) => text.to_lowercase().ends_with(&affix.to_lowercase()),
    }
}

fn in_network(address: IpAddr, network: IpAddr, bits: u8) -> bool {
    let (address, network, width): (u128, u128, u32) = match (address, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u32::from(a).into(), u32::from(n).into(), 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    let shift = width - u32::from(bits);
    shift >= width || (address >> shift) == (network >> shift)
}

impl Wildcard {
    /// Anchored at both ends; each `*` any run of characters.
    fn matches(&self, text: &str) -> bool {
        let (first, rest) = self.pieces.split_first().expect("one piece at least");
        let Some(mut remaining) = text.strip_prefix(first.as_str()) else {
            return false;
        };
        let Some((last, middle)) = rest.split_last() else {
            return remaining.is_empty();
        };
        for piece in middle {
            match remaining.find(piece.as_str()) {
                Some(at) => remaining = &remaining[at + piece.len()..],
                None => return false,
            }
        }
        remaining.ends_with(last.as_str())
    }
}

#[cfg(test)]
mod tests;
