//! What a destination is: an HTTP endpoint (the default), or an AWS
//! target (a queue, a topic, a bus, a function) the dispatcher reaches with its own role, or a role it assumes
//! for another account. No access keys are ever configured.
use serde::{Deserialize, Serialize};
use std::fmt;

/// A destination's kind, `kind = "sqs"` in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DestinationKind {
    /// `url` is an http(s) URL, POSTed to.
    #[default]
    Http,
    /// `url` is an SQS queue URL or ARN, sent to with `SendMessage`.
    Sqs,
    /// `url` is an SNS topic ARN, published to with `Publish`.
    Sns,
    /// `url` is an EventBridge bus name or ARN, put to with `PutEvents`.
    Eventbridge,
    /// `url` is a Lambda function's name (`name[:qualifier]`) or ARN,
    /// invoked with `Invoke`.
    Lambda,
}

impl DestinationKind {
    pub fn is_http(&self) -> bool {
        *self == DestinationKind::Http
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DestinationKind::Http => "http",
            DestinationKind::Sqs => "sqs",
            DestinationKind::Sns => "sns",
            DestinationKind::Eventbridge => "eventbridge",
            DestinationKind::Lambda => "lambda",
        }
    }
}

impl fmt::Display for DestinationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An SQS queue as a destination names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsTarget {
    /// What `SendMessage` is given.
    pub url: String,
    /// The queue's region, when its URL or ARN says (AWS's own URLs and
    /// ARNs do; a local endpoint's URL does not).
    pub region: Option<String>,
    /// A FIFO queue (its name ends in `.fifo`): messages carry a group id
    /// and a deduplication id.
    pub fifo: bool,
}

impl SqsTarget {
    /// From a queue URL (`https://sqs.us-east-1.amazonaws.com/123456789012/orders`,
    /// or a local endpoint's, such as moto's) or an ARN
    /// (`arn:aws:sqs:us-east-1:123456789012:orders`).
    pub fn parse(target: &str) -> Result<SqsTarget, String> {
        let bad = || {
            format!(
                "sqs destination {target:?}: expected a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME) or ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)"
            )
        };
        if let Some(rest) = target.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.split(':').collect();
            let [partition, "sqs", region, account, name] = parts.as_slice() else {
                return Err(bad());
            };
            let valid = partition.starts_with("aws")
                && !region.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && valid_queue_name(name);
            if !valid {
                return Err(bad());
            }
            let domain = if partition.ends_with("-cn") {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            return Ok(SqsTarget {
                url: format!("https://sqs.{region}.{domain}/{account}/{name}"),
                region: Some(region.to_string()),
                fifo: name.ends_with(".fifo"),
            });
        }
        let url = url::Url::parse(target).map_err(|_| bad())?;
        if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() {
            return Err(bad());
        }
        // `/ACCOUNT/NAME`, on AWS's host or a local endpoint's.
        let segments: Vec<&str> = url
            .path_segments()
            .map(Iterator::collect)
            .unwrap_or_default();
        let [account, name] = segments.as_slice() else {
            return Err(bad());
        };
        if account.len() != 12
            || !account.bytes().all(|b| b.is_ascii_digit())
            || !valid_queue_name(name)
        {
            return Err(bad());
        }
        let host = url.host_str().unwrap_or_default();
        let region = host
            .strip_prefix("sqs.")
            .and_then(|rest| rest.split('.').next())
            .filter(|_| host.contains(".amazonaws.com"))
            .map(str::to_string);
        Ok(SqsTarget {
            fifo: name.ends_with(".fifo"),
            url: target.to_string(),
            region,
        })
    }
}

/// An SNS topic as a destination names it: its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsTarget {
    pub arn: String,
    pub region: String,
    /// A FIFO topic (its name ends in `.fifo`).
    pub fifo: bool,
}

impl SnsTarget {
    /// From a topic ARN (`arn:aws:sns:us-east-1:123456789012:orders`).
    pub fn parse(target: &str) -> Result<SnsTarget, String> {
        let bad = || {
            format!("sns destination {target:?}: expected a topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
        };
        let parts: Vec<&str> = target.split(':').collect();
        let ["arn", partition, "sns", region, account, name] = parts.as_slice() else {
            return Err(bad());
        };
        let stem = name.strip_suffix(".fifo").unwrap_or(name);
        let valid = partition.starts_with("aws")
            && !region.is_empty()
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && !stem.is_empty()
            && name.len() <= 256
            && stem
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(bad());
        }
        Ok(SnsTarget {
            arn: target.to_string(),
            region: region.to_string(),
            fifo: name.ends_with(".fifo"),
        })
    }
}

/// An EventBridge bus as a destination names it: `default`, a name, or
/// an ARN (`arn:aws:events:us-east-1:123456789012:event-bus/orders`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusTarget {
    /// What `PutEvents` is given as `EventBusName`.
    pub bus: String,
    /// The bus's region, when its ARN says.
    pub region: Option<String>,
}

impl BusTarget {
    pub fn parse(target: &str) -> Result<BusTarget, String> {
        let bad = || {
            format!("eventbridge destination {target:?}: expected a bus name (default, orders) or ARN (arn:aws:events:REGION:ACCOUNT:event-bus/NAME)")
        };
        let valid_name = |name: &str| {
            (1..=256).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
        };
        if target.starts_with("arn:") {
            let parts: Vec<&str> = target.splitn(6, ':').collect();
            let ["arn", partition, "events", region, account, resource] = parts.as_slice() else {
                return Err(bad());
            };
            let name = resource.strip_prefix("event-bus/").ok_or_else(bad)?;
            let valid = partition.starts_with("aws")
                && !region.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && valid_name(name);
            if !valid {
                return Err(bad());
            }
            return Ok(BusTarget {
                bus: target.to_string(),
                region: Some(region.to_string()),
            });
        }
        if !valid_name(target) || target.contains('/') {
            return Err(bad());
        }
        Ok(BusTarget {
            bus: target.to_string(),
            region: None,
        })
    }
}

/// How a Lambda destination's function is invoked, `invocation =
/// "request_response"` (the default) or `"event"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LambdaInvocation {
    /// Synchronous: the attempt waits for the function and records its
    /// outcome, so a function error is a failed attempt, retried.
    #[default]
    RequestResponse,
    /// Asynchronous: Lambda queues the event and answers 202, which says
    /// only that it was accepted; Lambda owns the function's retries.
    Event,
}

impl LambdaInvocation {
    pub fn as_str(self) -> &'static str {
        match self {
            LambdaInvocation::RequestResponse => "request_response",
            LambdaInvocation::Event => "event",
        }
    }

    /// The largest payload (the whole JSON event) Lambda accepts for this
    /// invocation type: 6 MB synchronous, 1 MB asynchronous (AWS's
    /// `Invoke` documentation; docs/research/aws-destinations.md §5).
    /// Larger ones are refused with `RequestTooLargeException`.
    pub const fn max_payload_bytes(self) -> usize {
        match self {
            LambdaInvocation::RequestResponse => 6 * 1024 * 1024,
            LambdaInvocation::Event => 1024 * 1024,
        }
    }
}

impl std::str::FromStr for LambdaInvocation {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "request_response" => Ok(LambdaInvocation::RequestResponse),
            "event" => Ok(LambdaInvocation::Event),
            other => Err(format!(
                "invocation {other:?}: request_response (the default) or event"
            )),
        }
    }
}

/// A Lambda function as a destination names it: `name`, `name:qualifier`
/// (a version or alias) or its ARN
/// (`arn:aws:lambda:us-east-1:123456789012:function:name[:qualifier]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaTarget {
    /// What `Invoke` is given as `FunctionName` (the qualifier included).
    pub function: String,
    /// The function's region, when its ARN says; else the dispatcher's.
    pub region: Option<String>,
}

impl LambdaTarget {
    pub fn parse(target: &str) -> Result<LambdaTarget, String> {
        let bad = || {
            format!("lambda destination {target:?}: expected a function name (orders, orders:live) or ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER])")
        };
        // Names: letters, digits, `-` and `_`, at most 64. Qualifiers: a
        // version (`$LATEST`, `7`) or an alias, at most 128.
        let valid_name = |name: &str| {
            (1..=64).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        let valid_qualifier = |qualifier: &str| {
            (1..=128).contains(&qualifier.len())
                && qualifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_$".contains(&b))
        };
        let parts: Vec<&str> = target.split(':').collect();
        let (name, qualifier, region) = match parts.as_slice() {
            [name] => (*name, None, None),
            [name, qualifier] => (*name, Some(*qualifier), None),
            ["arn", partition, "lambda", region, account, "function", name, rest @ ..]
                if partition.starts_with("aws")
                    && !region.is_empty()
                    && account.len() == 12
                    && account.bytes().all(|b| b.is_ascii_digit())
                    && rest.len() <= 1 =>
            {
                (*name, rest.first().copied(), Some(region.to_string()))
            }
            _ => return Err(bad()),
        };
        if !valid_name(name) || !qualifier.is_none_or(valid_qualifier) {
            return Err(bad());
        }
        Ok(LambdaTarget {
            function: target.to_string(),
            region,
        })
    }
}

/// SQS queue names: 1 to 80 letters, digits, `-` and `_`, with `.fifo`
/// at the end of a FIFO queue's.
fn valid_queue_name(name: &str) -> bool {
    let stem = name.strip_suffix(".fifo").unwrap_or(name);
    !stem.is_empty()
        && name.len() <= 80
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks an IAM role ARN to assume (`arn:aws:iam::123456789012:role/name`).
pub fn check_role_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource]
            if partition.starts_with("aws")
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.starts_with("role/")
                && resource.len() > 5 =>
        {
            Ok(())
        }
        _ => Err(format!(
            "role_arn {arn:?} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_are_read_from_urls_and_arns() {
        let by_arn = SqsTarget::parse("arn:aws:sqs:eu-west-1:123456789012:orders.fifo").unwrap();
        assert_eq!(
            by_arn,
            SqsTarget {
                url: "https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo".into(),
                region: Some("eu-west-1".into()),
                fifo: true,
            }
        );
        let by_url =
            SqsTarget::parse("https://sqs.us-east-1.amazonaws.com/123456789012/orders").unwrap();
        assert_eq!(by_url.region.as_deref(), Some("us-east-1"));
        assert!(!by_url.fifo);
        let local = SqsTarget::parse("http://127.0.0.1:5000/123456789012/orders").unwrap();
        assert_eq!(local.region, None);
        assert_eq!(local.url, "http://127.0.0.1:5000/123456789012/orders");
        for bad in [
            "arn:aws:sns:us-east-1:123456789012:topic",
            "arn:aws:sqs:us-east-1:12345:orders",
            "arn:aws:sqs:us-east-1:123456789012:bad name",
            "ftp://example.com/123/q",
            "https://sqs.us-east-1.amazonaws.com/",
            "orders",
        ] {
            let err = SqsTarget::parse(bad).unwrap_err();
            assert!(err.contains("queue URL"), "{bad}: {err}");
        }
    }

    #[test]
    fn topics_are_read_from_arns() {
        let topic = SnsTarget::parse("arn:aws:sns:us-east-1:123456789012:orders.fifo").unwrap();
        assert_eq!(topic.region, "us-east-1");
        assert!(topic.fifo);
        for bad in [
            "arn:aws:sqs:us-east-1:123456789012:orders",
            "https://sns.us-east-1.amazonaws.com/",
            "arn:aws:sns:us-east-1:123456789012:",
        ] {
            assert!(
                SnsTarget::parse(bad).unwrap_err().contains("topic ARN"),
                "{bad}"
            );
        }
    }

    #[test]
    fn buses_are_read_from_names_and_arns() {
        assert_eq!(BusTarget::parse("default").unwrap().region, None);
        let by_arn =
            BusTarget::parse("arn:aws:events:eu-west-1:123456789012:event-bus/orders").unwrap();
        assert_eq!(by_arn.region.as_deref(), Some("eu-west-1"));
        for bad in [
            "",
            "a bus",
            "arn:aws:events:eu-west-1:123456789012:rule/x",
            "https://x/y",
        ] {
            assert!(
                BusTarget::parse(bad).unwrap_err().contains("bus name"),
                "{bad}"
            );
        }
    }

    #[test]
    fn functions_are_read_from_names_and_arns() {
        let plain = LambdaTarget::parse("orders").unwrap();
        assert_eq!((plain.function.as_str(), plain.region), ("orders", None));
        assert_eq!(
            LambdaTarget::parse("orders:$LATEST").unwrap().function,
            "orders:$LATEST"
        );
        let by_arn =
            LambdaTarget::parse("arn:aws:lambda:eu-west-1:123456789012:function:orders:live")
                .unwrap();
        assert_eq!(by_arn.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            by_arn.function,
            "arn:aws:lambda:eu-west-1:123456789012:function:orders:live"
        );
        for bad in [
            "",
            "a function",
            "orders:",
            "orders:live:extra",
            "arn:aws:sqs:eu-west-1:123456789012:orders",
            "arn:aws:lambda:eu-west-1:12345:function:orders",
            "arn:aws:lambda:eu-west-1:123456789012:layer:orders",
            "arn:aws:lambda:eu-west-1:123456789012:function:orders:1:2",
            "https://example.com/fn",
        ] {
            assert!(
                LambdaTarget::parse(bad)
                    .unwrap_err()
                    .contains("function name"),
                "{bad}"
            );
        }
    }

    #[test]
    fn invocation_types_and_their_payload_limits() {
        assert_eq!(
            LambdaInvocation::default(),
            LambdaInvocation::RequestResponse
        );
        assert_eq!("event".parse(), Ok(LambdaInvocation::Event));
        assert!("Event"
            .parse::<LambdaInvocation>()
            .unwrap_err()
            .contains("request_response"));
        assert_eq!(
            LambdaInvocation::RequestResponse.max_payload_bytes(),
            6_291_456
        );
        assert_eq!(LambdaInvocation::Event.max_payload_bytes(), 1_048_576);
    }

    #[test]
    fn only_role_arns_are_assumed() {
        assert!(check_role_arn("arn:aws:iam::123456789012:role/hookrelay-delivery").is_ok());
        assert!(check_role_arn("arn:aws:iam::123456789012:role/path/to/role").is_ok());
        for bad in [
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:iam::12345:role/x",
            "arn:aws:sts::123456789012:role/x",
            "role/x",
        ] {
            assert!(check_role_arn(bad).is_err(), "{bad}");
        }
    }
}
