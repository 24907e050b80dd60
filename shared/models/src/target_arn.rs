//! Whether an AWS destination's target is among the ARNs the deployed
//! stack lets the dispatcher reach (its `DeliveryTargetArns` and
//! `DeliveryRoleArns` parameters), as IAM would match them: each part of
//! the ARN against the pattern's, `*` any run of characters, `?` any one.
//! A target named without its region or account (a bus by name, a local
//! queue URL) leaves that part open: it matches whatever the pattern has
//! there, since the dispatcher's own region and account fill it in.
use crate::destination::Destination;
use crate::destination_kind::{BusTarget, DestinationKind, LambdaTarget, SnsTarget, SqsTarget};

/// An ARN's parts, some perhaps unknown: partition, service, region,
/// account, resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetArn {
    pub parts: [Option<String>; 5],
}

impl TargetArn {
    /// A whole ARN's parts (`None` if it is not one).
    pub fn from_arn(arn: &str) -> Option<TargetArn> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let ["arn", partition, service, region, account, resource] = parts.as_slice() else {
            return None;
        };
        Some(TargetArn {
            parts: [partition, service, region, account, resource].map(|p| Some(p.to_string())),
        })
    }

    /// The ARN, `*` for a part not known.
    pub fn shown(&self) -> String {
        let parts: Vec<&str> = self
            .parts
            .iter()
            .map(|p| p.as_deref().unwrap_or("*"))
            .collect();
        format!("arn:{}", parts.join(":"))
    }

    /// Whether the pattern (an ARN, wildcards allowed) covers it.
    pub fn allowed_by(&self, pattern: &str) -> bool {
        let pattern = pattern.trim();
        let Some(rest) = pattern.strip_prefix("arn:") else {
            return pattern == "*";
        };
        let wanted: Vec<&str> = rest.splitn(5, ':').collect();
        if wanted.len() != 5 {
            return false;
        }
        self.parts
            .iter()
            .zip(wanted)
            .all(|(part, wanted)| part.as_deref().is_none_or(|part| glob(wanted, part)))
    }
}

/// The target of an AWS destination as an ARN (`None` for `http`, or a
/// target that does not parse).
pub fn target_arn(destination: &Destination) -> Option<TargetArn> {
    let known = |s: &str| Some(s.to_string());
    match destination.kind {
        DestinationKind::Http => None,
        DestinationKind::Sns => TargetArn::from_arn(&SnsTarget::parse(&destination.url).ok()?.arn),
        DestinationKind::Eventbridge => {
            if destination.url.starts_with("arn:") {
                return TargetArn::from_arn(&destination.url);
            }
            let bus = BusTarget::parse(&destination.url).ok()?;
            Some(TargetArn {
                parts: [
                    None,
                    known("events"),
                    bus.region,
                    None,
                    Some(format!("event-bus/{}", bus.bus)),
                ],
            })
        }
        DestinationKind::Lambda => {
            LambdaTarget::parse(&destination.url).ok()?;
            if destination.url.starts_with("arn:") {
                return TargetArn::from_arn(&destination.url);
            }
            // `name` or `name:qualifier`, in the dispatcher's account.
            Some(TargetArn {
                parts: [
                    None,
                    known("lambda"),
                    None,
                    None,
                    Some(format!("function:{}", destination.url)),
                ],
            })
        }
        DestinationKind::Sqs => {
            if destination.url.starts_with("arn:") {
                return TargetArn::from_arn(&destination.url);
            }
            let queue = SqsTarget::parse(&destination.url).ok()?;
            // …/ACCOUNT/NAME, on AWS's own hosts and on a local endpoint's.
            let mut path = queue.url.trim_end_matches('/').rsplit('/');
            let name = path.next()?;
            let account = path.next()?;
            Some(TargetArn {
                parts: [
                    None,
                    known("sqs"),
                    queue.region,
                    known(account),
                    known(name),
                ],
            })
        }
    }
}

/// IAM's wildcards: `*` any run of characters, `?` any one.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // The last `*` seen, and where in the text it was tried from.
    let (mut pi, mut ti, mut star, mut from) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            from = ti;
            pi += 1;
        } else if let Some(at) = star {
            pi = at + 1;
            from += 1;
            ti = from;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::DestinationId;
    use hookrelay_signing::Secret;

    fn destination(kind: DestinationKind, url: &str) -> Destination {
        let mut destination = Destination::new(
            DestinationId::parse("d").unwrap(),
            url,
            Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        );
        destination.kind = kind;
        destination
    }

    #[test]
    fn globs_match_as_iam_does() {
        assert!(glob("orders-*", "orders-eu"));
        assert!(glob("*", ""));
        assert!(glob("ord?rs", "orders"));
        assert!(glob("*-queue-*", "a-queue-b"));
        assert!(!glob("orders-*", "billing-eu"));
        assert!(!glob("orders", "orders-eu"));
    }

    #[test]
    fn each_kind_is_matched_part_by_part() {
        let queue = target_arn(&destination(
            DestinationKind::Sqs,
            "https://sqs.eu-west-1.amazonaws.com/123456789012/orders",
        ))
        .unwrap();
        assert_eq!(queue.shown(), "arn:*:sqs:eu-west-1:123456789012:orders");
        assert!(queue.allowed_by("arn:aws:sqs:eu-west-1:123456789012:orders"));
        assert!(queue.allowed_by("arn:aws:sqs:*:123456789012:ord*"));
        assert!(!queue.allowed_by("arn:aws:sqs:us-east-1:123456789012:orders"));
        assert!(!queue.allowed_by("arn:aws:sqs:eu-west-1:123456789012:billing"));
        assert!(!queue.allowed_by("arn:aws:sns:eu-west-1:123456789012:orders"));

        let bus = target_arn(&destination(DestinationKind::Eventbridge, "orders")).unwrap();
        assert_eq!(bus.shown(), "arn:*:events:*:*:event-bus/orders");
        assert!(bus.allowed_by("arn:aws:events:eu-west-1:123456789012:event-bus/orders"));
        assert!(!bus.allowed_by("arn:aws:events:eu-west-1:123456789012:event-bus/other"));

        let topic = target_arn(&destination(
            DestinationKind::Sns,
            "arn:aws:sns:eu-west-1:123456789012:alerts.fifo",
        ))
        .unwrap();
        assert!(topic.allowed_by("arn:aws:sns:eu-west-1:123456789012:*"));
        assert!(!topic.allowed_by("arn:aws:sns:eu-west-1:210987654321:*"));
        assert!(!topic.allowed_by("not an arn"));
        assert!(target_arn(&destination(DestinationKind::Http, "https://example.com")).is_none());

        let function = target_arn(&destination(DestinationKind::Lambda, "orders:live")).unwrap();
        assert_eq!(function.shown(), "arn:*:lambda:*:*:function:orders:live");
        assert!(function.allowed_by("arn:aws:lambda:eu-west-1:123456789012:function:orders*"));
        assert!(!function.allowed_by("arn:aws:lambda:eu-west-1:123456789012:function:orders"));
    }
}
