//! Reading the event type and the provider's delivery id from a verified
//! request, per scheme, unless the source configures where to look.
use hookrelay_models::{FieldSelector, Source};
use hookrelay_signing::{Field, HeaderLookup, Pick};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Event types longer than this are cut (they are for routing and display).
const MAX_EVENT_TYPE: usize = 128;
/// Delivery ids longer than this are replaced by their SHA-256, so dedupe
/// keys stay small whatever a provider sends.
const MAX_DELIVERY_ID: usize = 128;

/// The body parsed as JSON at most once, and only if something needs it.
pub(crate) struct LazyJson<'a> {
    body: &'a [u8],
    parsed: Option<Option<Value>>,
}

impl<'a> LazyJson<'a> {
    pub(crate) fn new(body: &'a [u8]) -> Self {
        LazyJson { body, parsed: None }
    }

    pub(crate) fn get(&mut self) -> Option<&Value> {
        let body = self.body;
        self.parsed
            .get_or_insert_with(|| serde_json::from_slice(body).ok())
            .as_ref()
    }

    pub(crate) fn string_at(&mut self, pointer: &str) -> Option<String> {
        match self.get()?.pointer(pointer)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

fn select(
    selector: &FieldSelector,
    headers: &dyn HeaderLookup,
    json: &mut LazyJson<'_>,
) -> Option<String> {
    match selector {
        FieldSelector::Header(name) => headers.header(name).map(str::to_string),
        FieldSelector::JsonPointer(pointer) => json.string_at(pointer),
    }
}

/// A scheme's default place for a value, from the catalogue.
fn from_field(
    field: &Field,
    headers: &dyn HeaderLookup,
    json: &mut LazyJson<'_>,
) -> Option<String> {
    let first = field.first.iter().find_map(|pick| match pick {
        Pick::Header(name) => header(headers, name),
        Pick::Json(pointer) => json.string_at(pointer),
    })?;
    match field.then.and_then(|pointer| json.string_at(pointer)) {
        Some(suffix) => Some(format!("{first}.{suffix}")),
        None => Some(first),
    }
}

fn header(headers: &dyn HeaderLookup, name: &str) -> Option<String> {
    headers
        .header(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// `push`, `pull_request.opened`, `invoice.paid`, …
pub(crate) fn event_type(
    source: &Source,
    headers: &dyn HeaderLookup,
    json: &mut LazyJson<'_>,
) -> Option<String> {
    let found = match &source.event_type {
        Some(selector) => select(selector, headers, json),
        None => from_field(&source.scheme.spec().event_type, headers, json),
    };
    found.filter(|t| !t.is_empty()).map(|t| {
        t.chars()
            .filter(|c| !c.is_control())
            .take(MAX_EVENT_TYPE)
            .collect()
    })
}

/// The provider's id for this delivery, used to drop duplicates.
pub(crate) fn delivery_id(
    source: &Source,
    headers: &dyn HeaderLookup,
    json: &mut LazyJson<'_>,
) -> Option<String> {
    let found = match &source.delivery_id {
        Some(selector) => select(selector, headers, json),
        None => from_field(&source.scheme.spec().delivery_id, headers, json),
    };
    found.filter(|id| !id.is_empty()).map(|id| {
        if id.len() <= MAX_DELIVERY_ID && id.bytes().all(|b| b.is_ascii_graphic()) {
            id
        } else {
            format!("sha256:{}", hex::encode(Sha256::digest(id.as_bytes())))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookrelay_models::SourceId;
    use hookrelay_signing::SchemeKind;
    use hookrelay_signing::{HeaderPairs, Secret};

    fn source(scheme: SchemeKind) -> Source {
        Source::new(
            SourceId::parse("s").unwrap(),
            scheme,
            vec![Secret::new("x")],
        )
    }

    fn run(
        source: &Source,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (Option<String>, Option<String>) {
        let pairs = HeaderPairs(headers);
        let mut json = LazyJson::new(body.as_bytes());
        (
            event_type(source, &pairs, &mut json),
            delivery_id(source, &pairs, &mut json),
        )
    }

    #[test]
    fn github_appends_the_action_when_the_body_has_one() {
        let s = source(SchemeKind::Github);
        let headers = [
            ("X-GitHub-Event", "pull_request"),
            ("X-GitHub-Delivery", "d-1"),
        ];
        assert_eq!(
            run(&s, &headers, r#"{"action":"opened"}"#),
            (Some("pull_request.opened".into()), Some("d-1".into()))
        );
        let headers = [("X-GitHub-Event", "push")];
        assert_eq!(
            run(&s, &headers, r#"{"ref":"main"}"#),
            (Some("push".into()), None)
        );
    }

    #[test]
    fn json_schemes_read_type_and_id_from_the_body() {
        assert_eq!(
            run(
                &source(SchemeKind::Stripe),
                &[],
                r#"{"id":"evt_9","type":"invoice.paid"}"#
            ),
            (Some("invoice.paid".into()), Some("evt_9".into()))
        );
        assert_eq!(
            run(
                &source(SchemeKind::Slack),
                &[],
                r#"{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}"#
            ),
            (Some("app_mention".into()), Some("Ev1".into()))
        );
        assert_eq!(
            run(
                &source(SchemeKind::Standard),
                &[("svix-id", "msg_1")],
                r#"{"type":"user.created"}"#
            ),
            (Some("user.created".into()), Some("msg_1".into()))
        );
        assert_eq!(
            run(
                &source(SchemeKind::Linear),
                &[("Linear-Delivery", "ld")],
                r#"{"type":"Issue","action":"create","webhookId":"wh-1","webhookTimestamp":1700000000123}"#
            ),
            // From the signed body: the unsigned header is not trusted.
            (
                Some("Issue.create".into()),
                Some("wh-1.1700000000123".into())
            )
        );
    }

    #[test]
    fn configured_selectors_override_the_scheme_defaults() {
        let mut s = source(SchemeKind::Hmac);
        s.event_type = Some("json:/meta/kind".parse().unwrap());
        s.delivery_id = Some("header:X-Request-Id".parse().unwrap());
        assert_eq!(
            run(
                &s,
                &[("x-request-id", "r-7")],
                r#"{"meta":{"kind":"order.created"}}"#
            ),
            (Some("order.created".into()), Some("r-7".into()))
        );
    }

    #[test]
    fn long_or_odd_delivery_ids_are_hashed_and_bodies_that_are_not_json_yield_nothing() {
        let s = source(SchemeKind::Github);
        let long = "x".repeat(500);
        let headers = [("X-GitHub-Delivery", long.as_str())];
        let (_, id) = run(&s, &headers, "not json");
        let id = id.unwrap();
        assert!(id.starts_with("sha256:") && id.len() == 7 + 64, "{id}");
        assert_eq!(
            run(&source(SchemeKind::Stripe), &[], "not json"),
            (None, None)
        );
    }
}
