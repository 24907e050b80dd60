//! `destinations add|update --aws` for an AWS destination: a warning when
//! the deployed stack does not let the dispatcher reach the target (its
//! `DeliveryTargetArns` parameter) or assume the role (`DeliveryRoleArns`).
//! The stack's outputs of the same names say what it grants; the CLI reads
//! them from `HOOKRELAY_DELIVERY_TARGET_ARNS` and
//! `HOOKRELAY_DELIVERY_ROLE_ARNS`, as it reads the tables' names. A
//! warning, not a refusal: the stack may be updated after the destination
//! is added, and until then each delivery fails with AccessDenied and is
//! retried.
use hookrelay_models::{target_arn, Destination, TargetArn};

pub const TARGETS_VARIABLE: &str = "HOOKRELAY_DELIVERY_TARGET_ARNS";
pub const ROLES_VARIABLE: &str = "HOOKRELAY_DELIVERY_ROLE_ARNS";

/// What to warn about `destination`, given the two variables' values
/// (comma-separated ARNs, as the outputs give them; `None` when unset).
pub fn warnings(
    destination: &Destination,
    targets: Option<&str>,
    roles: Option<&str>,
) -> Vec<String> {
    if destination.kind.is_http() {
        return Vec::new();
    }
    let mut said = Vec::new();
    if let Some(role) = &destination.role_arn {
        // The role's own policy decides what it reaches; the stack only
        // decides whether the dispatcher may assume it.
        let role_arn = TargetArn::from_arn(role);
        match (roles, role_arn) {
            (None, _) => said.push(format!(
                "cannot check the role: set {ROLES_VARIABLE} to the stack's GrantedDeliveryRoleArns output"
            )),
            (Some(list), Some(arn)) if !listed(list).any(|p| arn.allowed_by(p)) => said.push(format!(
                "role {role} is not in the stack's DeliveryRoleArns ({}): the dispatcher cannot assume it until the stack lists it (sam deploy --parameter-overrides DeliveryRoleArns=…)",
                shown(list)
            )),
            _ => {}
        }
        return said;
    }
    let Some(arn) = target_arn(destination) else {
        return said;
    };
    match targets {
        None => said.push(format!(
            "cannot check the target: set {TARGETS_VARIABLE} to the stack's GrantedDeliveryTargetArns output"
        )),
        Some(list) if !listed(list).any(|p| arn.allowed_by(p)) => said.push(format!(
            "{} {} is not in the stack's DeliveryTargetArns ({}): its deliveries will fail with AccessDenied (and be retried) until the stack lists it (sam deploy --parameter-overrides DeliveryTargetArns=…)",
            destination.kind,
            arn.shown(),
            shown(list)
        )),
        Some(_) => {}
    }
    said
}

fn listed(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|p| !p.is_empty())
}

fn shown(list: &str) -> String {
    if listed(list).next().is_none() {
        "empty".to_string()
    } else {
        listed(list).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookrelay_models::{DestinationId, DestinationKind};
    use hookrelay_signing::Secret;

    fn queue(url: &str) -> Destination {
        let mut destination = Destination::new(
            DestinationId::parse("orders").unwrap(),
            url,
            Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        );
        destination.kind = DestinationKind::Sqs;
        destination
    }

    #[test]
    fn a_target_outside_the_stacks_grant_is_warned_about() {
        let orders = queue("arn:aws:sqs:eu-west-1:123456789012:orders");
        let granted = "arn:aws:sqs:eu-west-1:123456789012:orders,arn:aws:sns:*:123456789012:*";
        assert!(warnings(&orders, Some(granted), None).is_empty());
        let other = "arn:aws:sqs:eu-west-1:123456789012:billing";
        let said = warnings(&orders, Some(other), None);
        assert_eq!(said.len(), 1);
        assert!(said[0].contains("arn:aws:sqs:eu-west-1:123456789012:orders is not in the stack's DeliveryTargetArns (arn:aws:sqs:eu-west-1:123456789012:billing)"), "{said:?}");
        assert!(warnings(&orders, Some(""), None)[0].contains("(empty)"));
        assert!(warnings(&orders, None, None)[0].contains(TARGETS_VARIABLE));
    }

    #[test]
    fn with_a_role_the_role_is_what_the_stack_must_grant() {
        let mut orders = queue("arn:aws:sqs:eu-west-1:210987654321:orders");
        orders.role_arn = Some("arn:aws:iam::210987654321:role/hookrelay".into());
        assert!(warnings(&orders, Some(""), Some("arn:aws:iam::210987654321:role/*")).is_empty());
        let said = warnings(&orders, None, Some("arn:aws:iam::210987654321:role/other"));
        assert!(said[0].contains("role arn:aws:iam::210987654321:role/hookrelay is not in the stack's DeliveryRoleArns"), "{said:?}");
    }

    #[test]
    fn http_destinations_have_nothing_to_check() {
        let mut hook = queue("https://example.com/hook");
        hook.kind = DestinationKind::Http;
        assert!(warnings(&hook, None, None).is_empty());
    }
}
