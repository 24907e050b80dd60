//! Output: tables for people, JSON for scripts, secrets and credentials
//! never shown.
use base64::Engine;
use hookrelay_core::admin::{EventDetail, EventSummary, FilterTestResult, Replayed};
use hookrelay_core::AdminResponse;
use hookrelay_models::{Attempt, DeliveryState, DestinationKind, RouteVerdict};
use hookrelay_signing::Secret;

use super::Output;

use crate::error::CliError;

pub(crate) fn done_text(response: &AdminResponse) -> String {
    match response {
        AdminResponse::Done(message) => message.clone(),
        other => redacted_json(other),
    }
}

/// An answer as JSON, with [`redact`] applied: for the paths that print
/// whatever came back.
pub(crate) fn redacted_json(response: &AdminResponse) -> String {
    let mut value = serde_json::to_value(response).unwrap_or_default();
    redact(&mut value);
    value.to_string()
}

/// Secrets never appear in output: each secret, each credential of a
/// destination's `auth` (and its certificates, long if not secret), and
/// each value of a destination's extra headers (API keys, as often as
/// not), is replaced by its fingerprint, and credentials in a URL are
/// masked.
pub(crate) fn redact(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            // An Ed25519 key's public half is shown beside its fingerprint.
            let mut public_keys = Vec::new();
            for (key, field) in map.iter_mut() {
                match (key.as_str(), &*field) {
                    (
                        "secret" | "second_secret" | "verify_token" | "password" | "token"
                        | "client_secret" | "private_key" | "certificate" | "ca_certificate",
                        serde_json::Value::String(s),
                    ) => {
                        if let Some(public) = public_key_of(s) {
                            let name = match key.as_str() {
                                "second_secret" => "second_public_key",
                                _ => "public_key",
                            };
                            public_keys.push((name, public));
                        }
                        *field = fingerprint_value(s);
                    }
                    ("headers", serde_json::Value::Object(headers)) => {
                        *field = serde_json::Value::Object(
                            headers
                                .iter()
                                .map(|(name, v)| {
                                    (
                                        name.clone(),
                                        fingerprint_value(v.as_str().unwrap_or_default()),
                                    )
                                })
                                .collect(),
                        );
                    }
                    ("url" | "token_url", serde_json::Value::String(url)) => {
                        *field = serde_json::Value::String(hookrelay_models::redact_url(url));
                    }
                    ("secrets", serde_json::Value::Array(items)) => {
                        *field = serde_json::Value::Array(
                            items
                                .iter()
                                .map(|s| fingerprint_value(s.as_str().unwrap_or_default()))
                                .collect(),
                        );
                    }
                    _ => redact(field),
                }
            }
            for (name, public) in public_keys {
                map.insert(name.into(), serde_json::Value::String(public));
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// The `whpk_` public key of a `whsk_` secret; `None` for anything else.
pub(crate) fn public_key_of(secret: &str) -> Option<String> {
    hookrelay_signing::Ed25519SigningKey::parse(secret)
        .ok()
        .map(|key| key.public_key().encode())
}

/// A signing key as listed: its fingerprint, and an Ed25519 key's public
/// key (which is not secret).
pub(crate) fn key_label(secret: &Secret) -> String {
    match public_key_of(secret.expose()) {
        Some(public) => format!("sha256:{} ({public})", secret.fingerprint()),
        None => format!("sha256:{}", secret.fingerprint()),
    }
}

pub(crate) fn fingerprint_value(secret: &str) -> serde_json::Value {
    serde_json::Value::String(format!("sha256:{}", Secret::new(secret).fingerprint()))
}

pub fn render(response: AdminResponse, output: Output) -> Result<String, CliError> {
    if output == Output::Json {
        // The answer's payload (`data` of its tagged form), and messages as
        // `{"message": …}`.
        let mut value = match &response {
            AdminResponse::Done(message) => serde_json::json!({ "message": message }),
            other => serde_json::to_value(other).expect("admin answers serialize")["data"].take(),
        };
        redact(&mut value);
        return Ok(format!("{value}\n"));
    }
    Ok(match response {
        AdminResponse::Done(message) => format!("{message}\n"),
        AdminResponse::Config(config) => config.to_toml(),
        AdminResponse::Count(count) => format!("{count}\n"),
        AdminResponse::Rejections(counts) => table(
            &["SOURCE", "HOUR", "REASON", "COUNT"],
            counts
                .iter()
                .map(|c| {
                    vec![
                        c.source.to_string(),
                        c.hour.to_string(),
                        c.reason.clone(),
                        c.count.to_string(),
                    ]
                })
                .collect(),
        ),
        AdminResponse::Sources(sources) => table(
            &["ID", "SCHEME", "SECRETS"],
            sources
                .iter()
                .map(|s| {
                    vec![
                        s.id.to_string(),
                        s.scheme.as_str().to_string(),
                        s.secrets
                            .iter()
                            .map(|x| format!("sha256:{}", x.fingerprint()))
                            .collect::<Vec<_>>()
                            .join(" "),
                    ]
                })
                .collect(),
        ),
        AdminResponse::Destinations(destinations) => table(
            &["ID", "URL", "STATUS", "RATE LIMIT", "AUTH", "SECRET"],
            destinations
                .iter()
                .map(|d| {
                    let rate_limit = match (d.rate_limit, d.burst) {
                        (Some(limit), Some(burst)) => format!("{limit} burst {burst}"),
                        (Some(limit), None) => limit.to_string(),
                        (None, _) => "-".to_string(),
                    };
                    let status = match (d.enabled, &d.disabled_reason) {
                        (true, _) => "enabled".to_string(),
                        (false, Some(reason)) => format!("disabled ({reason})"),
                        (false, None) => "disabled".to_string(),
                    };
                    let mut secret = key_label(&d.secret);
                    if let Some(second) = &d.second_secret {
                        secret.push_str(&format!(" & {}", key_label(second)));
                    }
                    for retiring in &d.retiring_secrets {
                        secret.push_str(&format!(
                            " +{} until {}",
                            key_label(&retiring.secret),
                            retiring.expires_at
                        ));
                    }
                    vec![
                        d.id.to_string(),
                        match d.kind {
                            DestinationKind::Http => hookrelay_models::redact_url(&d.url),
                            DestinationKind::Lambda => {
                                format!("lambda {} ({})", d.url, d.invocation().as_str())
                            }
                            kind => format!("{kind} {}", d.url),
                        },
                        status,
                        rate_limit,
                        d.auth.as_ref().map_or("-", |a| a.kind()).to_string(),
                        secret,
                    ]
                })
                .collect(),
        ),
        AdminResponse::Routes(routes) => table(
            &["SOURCE", "DESTINATION", "EVENTS", "FILTER"],
            routes
                .iter()
                .map(|r| {
                    vec![
                        r.source.to_string(),
                        r.destination.to_string(),
                        r.events
                            .iter()
                            .map(|f| f.as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                        r.filter
                            .as_ref()
                            .map(|f| excerpt(&f.pattern().to_string(), SHOWN_FILTER_CHARS))
                            .unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect(),
        ),
        AdminResponse::FilterTest(results) => filter_test_text(&results),
        AdminResponse::Events(events) => events_table(&events),
        AdminResponse::Event(detail) => event_text(&detail),
        AdminResponse::Attempts(attempts) => attempts_table(&attempts),
        AdminResponse::Replayed(replayed) => replayed_text(&replayed),
        AdminResponse::BlockedKeys(keys) => table(
            &[
                "KEY", "HEAD", "SINCE", "ATTEMPTS", "LAST", "NEXT", "WAITING",
            ],
            keys.iter()
                .map(|k| {
                    let delivery = k.delivery.as_ref();
                    vec![
                        k.key.clone(),
                        k.head.to_string(),
                        k.since.to_string(),
                        delivery.map_or("-".into(), |d| d.attempts.to_string()),
                        delivery
                            .and_then(|d| d.last_outcome)
                            .map_or("-".into(), |o| o.to_string()),
                        delivery
                            .and_then(|d| d.next_attempt_at)
                            .map_or("-".into(), |t| t.to_string()),
                        k.waiting.to_string(),
                    ]
                })
                .collect(),
        ),
    })
}

/// How much of a route's filter `routes list` shows (`routes list
/// --output json` or `config pull` show it whole).
const SHOWN_FILTER_CHARS: usize = 60;

fn excerpt(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// `routes test`: each event tried, then how many matched.
pub(crate) fn filter_test_text(results: &[FilterTestResult]) -> String {
    let mut out = table(
        &["ID", "SOURCE", "TYPE", "RECEIVED", "MATCH"],
        results
            .iter()
            .map(|r| {
                vec![
                    r.id.to_string(),
                    r.source.to_string(),
                    r.event_type.clone().unwrap_or_else(|| "-".into()),
                    r.received_at.to_string(),
                    match &r.failed_field {
                        None => "yes".to_string(),
                        Some(field) => format!("no: {field}"),
                    },
                ]
            })
            .collect(),
    );
    let matched = results.iter().filter(|r| r.matched).count();
    out.push_str(&format!(
        "{matched} of {} event(s) matched\n",
        results.len()
    ));
    out
}

pub(crate) fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        text.trim_end().to_string() + "\n"
    };
    let mut out = line(headers.iter().map(|h| h.to_string()).collect());
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

pub(crate) fn deliveries_cell(summary: &EventSummary) -> String {
    if summary.deliveries.is_empty() {
        return "-".into();
    }
    summary
        .deliveries
        .iter()
        .map(|d| format!("{}:{}", d.destination, d.state))
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn events_table(events: &[EventSummary]) -> String {
    table(
        &["ID", "SOURCE", "TYPE", "RECEIVED", "BYTES", "DELIVERIES"],
        events
            .iter()
            .map(|e| {
                vec![
                    e.id.to_string(),
                    e.source.to_string(),
                    e.event_type.clone().unwrap_or_else(|| "-".into()),
                    e.received_at.to_string(),
                    e.body_bytes.to_string(),
                    deliveries_cell(e),
                ]
            })
            .collect(),
    )
}

pub(crate) fn attempts_table(attempts: &[Attempt]) -> String {
    table(
        &[
            "STARTED",
            "EVENT",
            "DESTINATION",
            "SERIES",
            "ATTEMPT",
            "OUTCOME",
            "MS",
        ],
        attempts
            .iter()
            .map(|a| {
                vec![
                    a.started_at.to_string(),
                    a.event_id.to_string(),
                    a.destination.to_string(),
                    a.series.to_string(),
                    a.number.to_string(),
                    a.outcome.to_string(),
                    a.duration_ms.to_string(),
                ]
            })
            .collect(),
    )
}

/// How much of a body `events show` prints.
const SHOWN_BODY_BYTES: usize = 4 * 1024;

pub(crate) fn event_text(detail: &EventDetail) -> String {
    let event = &detail.event;
    let mut out = format!(
        "id:          {}\nwebhook-id:  {}\nsource:      {}\ntype:        {}\nreceived:    {}\n",
        event.id,
        event.message_id(),
        event.source,
        event.event_type.as_deref().unwrap_or("-"),
        event.received_at
    );
    if let Some(id) = &event.provider_delivery_id {
        out.push_str(&format!("provider id: {id}\n"));
    }
    out.push_str("\nheaders:\n");
    for (name, value) in &event.headers {
        out.push_str(&format!("  {name}: {value}\n"));
    }
    out.push_str(&format!("\nbody ({} bytes):\n", event.body.len()));
    // A large body is shown in part; `--body-out FILE` writes it whole.
    let shown = if event.body.len() > SHOWN_BODY_BYTES {
        &event.body[..SHOWN_BODY_BYTES]
    } else {
        &event.body[..]
    };
    match std::str::from_utf8(shown) {
        Ok(text) => {
            out.push_str(text);
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
        // Cut inside a character: the text up to it.
        Err(err) if err.error_len().is_none() && shown.len() < event.body.len() => {
            out.push_str(&String::from_utf8_lossy(&shown[..err.valid_up_to()]));
            out.push('\n');
        }
        Err(_) => out.push_str(&format!(
            "  (binary) {}\n",
            base64::engine::general_purpose::STANDARD.encode(shown)
        )),
    }
    if shown.len() < event.body.len() {
        out.push_str(&format!(
            "  … {} more bytes (`hookrelay events show {} --body-out FILE` writes the body whole)\n",
            event.body.len() - shown.len(),
            event.id
        ));
    }
    if !detail.routes.is_empty() {
        out.push_str("\nroutes (as configured now):\n");
    }
    for route in &detail.routes {
        let verdict = match &route.verdict {
            RouteVerdict::Matched => "matched".to_string(),
            RouteVerdict::EventTypeNotSelected => "not matched: event type not selected".into(),
            RouteVerdict::FilterFailed { field } => {
                format!("not matched: filter failed at {field}")
            }
        };
        out.push_str(&format!("  {}: {verdict}\n", route.destination));
    }
    out.push_str("\ndeliveries:\n");
    if detail.deliveries.is_empty() {
        out.push_str("  none\n");
    }
    for delivery in &detail.deliveries {
        out.push_str(&format!(
            "  {}: {} after {} attempt(s) in series {}{}\n",
            delivery.destination,
            delivery.state,
            delivery.attempts,
            delivery.series,
            delivery
                .next_attempt_at
                .filter(|_| delivery.state == DeliveryState::Pending)
                .map(|at| format!(", next at {at}"))
                .unwrap_or_default()
        ));
        for attempt in detail
            .attempts
            .iter()
            .filter(|a| a.destination == delivery.destination)
        {
            out.push_str(&format!(
                "    #{}.{} {} {} in {} ms{}\n",
                attempt.series,
                attempt.number,
                attempt.started_at,
                attempt.outcome,
                attempt.duration_ms,
                if attempt.response_body.is_empty() {
                    String::new()
                } else {
                    format!(
                        ": {}",
                        attempt.response_body.chars().take(120).collect::<String>()
                    )
                }
            ));
        }
    }
    out
}

pub(crate) fn replayed_text(replayed: &[Replayed]) -> String {
    let mut out = match replayed.len() {
        1 => "replayed 1 delivery\n".to_string(),
        n => format!("replayed {n} deliveries\n"),
    };
    for r in replayed {
        out.push_str(&format!(
            "  {} -> {} (was {})\n",
            r.event,
            r.destination
                .as_ref()
                .map(|d| d.to_string())
                .unwrap_or_else(|| "every routed destination".into()),
            r.previous_state
                .map(|s| s.to_string())
                .unwrap_or_else(|| "never attempted".into())
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookrelay_models::{Destination, DestinationId, Source, SourceId};

    const DEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn keyed_destination() -> Destination {
        let mut destination = Destination::new(
            DestinationId::parse("app").unwrap(),
            "https://user:pa55word@example.com/hook",
            Secret::new(DEST_SECRET),
        );
        destination
            .headers
            .insert("Authorization".into(), "Bearer api-key-123".into());
        destination
    }

    #[test]
    fn destinations_never_show_secrets_header_values_or_url_credentials() {
        for output in [Output::Table, Output::Json] {
            let printed = render(
                AdminResponse::Destinations(vec![keyed_destination()]),
                output,
            )
            .unwrap();
            for secret in ["MfKQ9r8G", "api-key-123", "pa55word", "user:"] {
                assert!(
                    !printed.contains(secret),
                    "{output:?} shows {secret}: {printed}"
                );
            }
            let fingerprint = Secret::new(DEST_SECRET).fingerprint();
            assert!(printed.contains(&fingerprint), "{output:?}: {printed}");
            assert!(
                printed.contains("https://***@example.com/hook"),
                "{printed}"
            );
        }
        let json: serde_json::Value = serde_json::from_str(
            &render(
                AdminResponse::Destinations(vec![keyed_destination()]),
                Output::Json,
            )
            .unwrap(),
        )
        .unwrap();
        let header = json[0]["headers"]["Authorization"].as_str().unwrap();
        assert!(header.starts_with("sha256:"), "{header}");
    }

    #[test]
    fn ed25519_keys_show_their_public_key_and_never_the_secret_key() {
        let whsk = hookrelay_signing::Ed25519SigningKey::generate();
        let public = public_key_of(&whsk).unwrap();
        let retiring = hookrelay_signing::Ed25519SigningKey::generate();
        let mut destination = keyed_destination();
        destination.second_secret = Some(Secret::new(whsk.clone()));
        destination
            .retiring_secrets
            .push(hookrelay_models::RetiringSecret {
                secret: Secret::new(retiring.clone()),
                expires_at: hookrelay_models::Timestamp::from_unix_secs(2_000_000_000),
            });
        for output in [Output::Table, Output::Json] {
            let printed = render(
                AdminResponse::Destinations(vec![destination.clone()]),
                output,
            )
            .unwrap();
            for secret in [&whsk, &retiring] {
                let encoded = secret.strip_prefix("whsk_").unwrap();
                assert!(!printed.contains(&encoded[..16]), "{output:?}: {printed}");
            }
            assert!(printed.contains(&public), "{output:?}: {printed}");
            assert!(
                printed.contains(&public_key_of(&retiring).unwrap()),
                "{printed}"
            );
            assert!(
                printed.contains(&Secret::new(whsk.clone()).fingerprint()),
                "{printed}"
            );
        }
        let json: serde_json::Value = serde_json::from_str(
            &render(AdminResponse::Destinations(vec![destination]), Output::Json).unwrap(),
        )
        .unwrap();
        assert_eq!(json[0]["second_public_key"], public.as_str());
        assert!(json[0]["second_secret"]
            .as_str()
            .unwrap()
            .starts_with("sha256:"));
        assert!(json[0].get("public_key").is_none(), "the whsec_ has none");
    }

    #[test]
    fn auth_credentials_are_fingerprints_and_its_kind_is_listed() {
        let cases = [
            r#"{"kind":"basic","username":"relay","password":"hunter2-pw"}"#,
            r#"{"kind":"bearer","token":"hunter2-token"}"#,
            r#"{"kind":"oauth2_client_credentials","token_url":"https://u:hunter2-url@id.example/t","client_id":"c","client_secret":"hunter2-cs"}"#,
            r#"{"kind":"oauth2_client_credentials","token_url":"https://id.example/t","client_id":"c","private_key_jwt":{"private_key":"-----BEGIN PRIVATE KEY-----hunter2-jwt","algorithm":"EdDSA"}}"#,
            r#"{"kind":"mtls","certificate":"-----BEGIN CERTIFICATE-----hunter2-cert","private_key":"-----BEGIN PRIVATE KEY-----hunter2-key","ca_certificate":"-----BEGIN CERTIFICATE-----hunter2-ca"}"#,
        ];
        for case in cases {
            let mut destination = keyed_destination();
            destination.headers.clear();
            destination.auth = Some(serde_json::from_str(case).unwrap());
            let kind = destination.auth.as_ref().unwrap().kind();
            for output in [Output::Table, Output::Json] {
                let printed = render(
                    AdminResponse::Destinations(vec![destination.clone()]),
                    output,
                )
                .unwrap();
                assert!(!printed.contains("hunter2"), "{output:?}: {printed}");
                assert!(printed.contains(kind), "{output:?}: {printed}");
            }
            let text = done_text(&AdminResponse::Destinations(vec![destination]));
            assert!(!text.contains("hunter2"), "{text}");
            assert!(text.contains("sha256:"), "{text}");
        }
    }

    #[test]
    fn source_secrets_are_fingerprints_in_every_format() {
        let mut source = Source::new(
            SourceId::parse("github").unwrap(),
            hookrelay_signing::SchemeKind::Github,
            vec![Secret::new("It's a Secret to Everybody")],
        );
        source.secrets.push(Secret::new("the next one"));
        for output in [Output::Table, Output::Json] {
            let printed = render(AdminResponse::Sources(vec![source.clone()]), output).unwrap();
            assert!(!printed.contains("Secret to Everybody"), "{printed}");
            assert!(!printed.contains("the next one"), "{printed}");
            assert_eq!(printed.matches("sha256:").count(), 2, "{printed}");
        }
    }

    #[test]
    fn answers_printed_whole_are_redacted_too() {
        let text = done_text(&AdminResponse::Destinations(vec![keyed_destination()]));
        assert!(
            !text.contains("api-key-123") && !text.contains("MfKQ9r8G"),
            "{text}"
        );
        assert_eq!(done_text(&AdminResponse::Done("saved".into())), "saved");
    }

    fn detail(body: Vec<u8>) -> EventDetail {
        let at = hookrelay_models::Timestamp::from_unix_secs(1_790_000_000);
        EventDetail {
            event: hookrelay_models::Event {
                id: hookrelay_models::EventId::new(at),
                source: SourceId::parse("github").unwrap(),
                event_type: None,
                provider_delivery_id: None,
                received_at: at,
                headers: Vec::new(),
                body: body.into(),
            },
            deliveries: Vec::new(),
            attempts: Vec::new(),
            routes: Vec::new(),
        }
    }

    #[test]
    fn a_large_body_is_shown_in_part_with_how_to_get_it_whole() {
        let mut body = "é".repeat(SHOWN_BODY_BYTES).into_bytes();
        body.extend_from_slice(b"THE END");
        let text = event_text(&detail(body.clone()));
        assert!(
            text.contains(&format!("body ({} bytes)", body.len())),
            "{text}"
        );
        assert!(!text.contains("THE END"));
        assert!(text.contains(&format!("{} more bytes", body.len() - SHOWN_BODY_BYTES)));
        assert!(text.contains("--body-out FILE"));
        // Whole characters only, cut where the part ends.
        assert!(text.contains(&"é".repeat(SHOWN_BODY_BYTES / 2)));

        let small = event_text(&detail(b"{\"ok\":true}".to_vec()));
        assert!(
            small.contains("{\"ok\":true}") && !small.contains("more bytes"),
            "{small}"
        );
    }

    #[test]
    fn routes_test_shows_each_event_matched_or_its_failing_field_then_a_count() {
        let at = hookrelay_models::Timestamp::from_unix_secs(1_790_000_000);
        let result = |failed_field: Option<&str>| FilterTestResult {
            id: hookrelay_models::EventId::new(at),
            source: SourceId::parse("shop").unwrap(),
            event_type: Some("order.paid".into()),
            received_at: at,
            matched: failed_field.is_none(),
            failed_field: failed_field.map(String::from),
        };
        let results = vec![result(None), result(Some("body.total"))];
        let text = render(AdminResponse::FilterTest(results.clone()), Output::Table).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].ends_with("MATCH"), "{text}");
        assert!(lines[1].ends_with("  yes"), "{text}");
        assert!(lines[2].ends_with("  no: body.total"), "{text}");
        assert_eq!(lines[3], "1 of 2 event(s) matched");
        let json: serde_json::Value = serde_json::from_str(
            &render(AdminResponse::FilterTest(results), Output::Json).unwrap(),
        )
        .unwrap();
        assert_eq!(json[0]["matched"], true);
        assert!(json[0].get("failed_field").is_none(), "{json}");
        assert_eq!(json[1]["failed_field"], "body.total");
    }

    #[test]
    fn routes_list_shows_the_start_of_each_filter() {
        let mut filtered = hookrelay_models::Route::new(
            SourceId::parse("shop").unwrap(),
            DestinationId::parse("app").unwrap(),
        );
        let long_prefix = "x".repeat(80);
        filtered.filter = Some(
            hookrelay_models::RouteFilter::parse(&format!(
                r#"{{"body":{{"ref":[{{"prefix":"{long_prefix}"}}]}}}}"#
            ))
            .unwrap(),
        );
        let plain = hookrelay_models::Route::new(
            SourceId::parse("github").unwrap(),
            DestinationId::parse("app").unwrap(),
        );
        let text = render(AdminResponse::Routes(vec![filtered, plain]), Output::Table).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].ends_with("FILTER"), "{text}");
        assert!(
            lines[1].contains(r#"{"body":{"ref":[{"prefix":"xxx"#),
            "{text}"
        );
        assert!(
            lines[1].ends_with('…') && !lines[1].contains(&long_prefix),
            "{text}"
        );
        assert!(lines[2].ends_with("  -"), "{text}");
    }

    #[test]
    fn events_show_says_what_each_route_made_of_the_event() {
        let mut shown = detail(b"{}".to_vec());
        shown.routes = vec![
            hookrelay_models::RouteMatch {
                destination: DestinationId::parse("big").unwrap(),
                verdict: RouteVerdict::FilterFailed {
                    field: "body.total".into(),
                },
            },
            hookrelay_models::RouteMatch {
                destination: DestinationId::parse("all").unwrap(),
                verdict: RouteVerdict::Matched,
            },
        ];
        let text = event_text(&shown);
        assert!(
            text.contains("  big: not matched: filter failed at body.total\n  all: matched\n"),
            "{text}"
        );
    }

    #[test]
    fn tables_align_their_columns() {
        let printed = table(
            &["ID", "URL"],
            vec![
                vec!["a".into(), "https://a.example/".into()],
                vec!["longer-id".into(), "https://b.example/".into()],
            ],
        );
        let lines: Vec<&str> = printed.lines().collect();
        assert_eq!(lines.len(), 3);
        let column = lines[0].find("URL").unwrap();
        assert_eq!(lines[1].find("https").unwrap(), column);
        assert_eq!(lines[2].find("https").unwrap(), column);
    }
}
