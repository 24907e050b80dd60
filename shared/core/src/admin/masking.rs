//! What an event shows of its source's secrets: nothing. `events show`,
//! the console's event page and its body download read events through
//! [`Admin::show_event`](super::Admin), which masks the headers the
//! source's scheme carries its proof in (a configured `hmac` header such as
//! `X-Digest` included) and the body fields that hold its secret
//! (Microsoft Graph's `clientState`), as the scheme catalogue lists them.
//! The stored event, and what destinations receive, are unchanged.
use hookrelay_models::{Event, Source};
use hookrelay_signing::Scheme;
use serde_json::Value;

/// What a masked value reads as.
pub const MASKED: &str = "•••• masked";

/// `event` with its source's proof headers and secret body fields masked.
pub(super) fn mask_secrets(mut event: Event, source: Option<&Source>) -> Event {
    let Some(scheme) = source.and_then(|s| Scheme::from_parts(s.scheme, s.hmac.clone()).ok())
    else {
        return event;
    };
    let proof = scheme.proof_headers();
    for (name, value) in &mut event.headers {
        if proof.iter().any(|p| p.eq_ignore_ascii_case(name)) {
            *value = MASKED.to_string();
        }
    }
    let fields = scheme.secret_body_fields();
    if fields.is_empty() {
        return event;
    }
    if let Ok(mut json) = serde_json::from_slice::<Value>(&event.body) {
        for pointer in fields {
            let path: Vec<&str> = pointer.split('/').skip(1).collect();
            mask_at(&mut json, &path);
        }
        event.body = serde_json::to_vec(&json)
            .expect("JSON values serialize")
            .into();
    }
    event
}

/// Masks the value at `path` under `value`; `*` is every array element.
fn mask_at(value: &mut Value, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else {
        *value = Value::String(MASKED.to_string());
        return;
    };
    match (value, *first) {
        (Value::Array(items), "*") => items.iter_mut().for_each(|item| mask_at(item, rest)),
        (Value::Object(fields), name) => {
            if let Some(inner) = fields.get_mut(name) {
                mask_at(inner, rest);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_element_of_an_array_is_masked_and_nothing_else() {
        let mut body = json!({"value": [
            {"clientState": "secret", "resource": "a"},
            {"clientState": "secret", "resource": "b"},
            {"resource": "c"}
        ]});
        mask_at(&mut body, &["value", "*", "clientState"]);
        assert_eq!(
            body,
            json!({"value": [
                {"clientState": MASKED, "resource": "a"},
                {"clientState": MASKED, "resource": "b"},
                {"resource": "c"}
            ]})
        );
    }
}
