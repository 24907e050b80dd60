//! The console's pages, rendered on the server (maud escapes every value).
//! Read-only pages work without JavaScript; the events list refreshes
//! itself with a few lines of it.
use hookrelay_core::admin::{BlockedKeyView, EventDetail, EventSummary};
use hookrelay_models::{
    redact_url, Attempt, AttemptOutcome, Delivery, DeliveryState, Destination, RouteMatch,
    RouteVerdict, Source, Timestamp,
};
use maud::{html, Markup, DOCTYPE};

use super::chart::{self, Window};
use super::json_view;

/// Body bytes shown on the event page; the whole body is a download.
pub const SHOWN_BODY_BYTES: usize = 64 * 1024;

/// Header names whose values are credentials or signatures, masked.
const MASKED: [&str; 9] = [
    "signature",
    "token",
    "secret",
    "auth",
    "cookie",
    "hmac",
    "key",
    "password",
    "credential",
];

pub fn masked(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    MASKED.iter().any(|part| name.contains(part))
}

/// A page: navigation, the content, and the CSRF token its forms carry.
pub fn layout(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · hookrelay console" }
                link rel="icon" href="data:,";
                link rel="stylesheet" href="/assets/console.css";
                script src="/assets/console.js" defer {}
            }
            body {
                header {
                    nav aria-label="Console" {
                        strong { "hookrelay" }
                        a href="/" { "Events" }
                        a href="/destinations" { "Destinations" }
                        a href="/sources" { "Sources" }
                        a href="/logout" { "Log out" }
                    }
                }
                main { (content) }
            }
        }
    }
}

fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

fn state_badge(state: DeliveryState) -> Markup {
    html! { span class={ "badge " (state.as_str()) } { (state.as_str()) } }
}

/// What the events list is filtered by, as its query string says.
#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    pub source: String,
    pub event_type: String,
    pub status: String,
    /// `15m`, `1h`, `24h`, `7d` or empty (all).
    pub window: String,
    pub limit: usize,
}

impl EventFilter {
    pub fn query(&self, limit: usize) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("source", &self.source)
            .append_pair("type", &self.event_type)
            .append_pair("status", &self.status)
            .append_pair("window", &self.window)
            .append_pair("limit", &limit.to_string())
            .finish()
    }
}

pub fn events_page(
    filter: &EventFilter,
    sources: &[Source],
    events: &[EventSummary],
    more: bool,
) -> Markup {
    let content = html! {
        h1 { "Events" }
        form class="filters" method="get" action="/" {
            label { "Source "
                select name="source" {
                    option value="" { "any" }
                    @for source in sources {
                        option value=(source.id.as_str()) selected[filter.source == source.id.as_str()] { (source.id.as_str()) }
                    }
                }
            }
            label { "Event type " input name="type" value=(filter.event_type) placeholder="any"; }
            label { "Status "
                select name="status" {
                    @for (value, text) in [("", "any"), ("pending", "pending"), ("succeeded", "succeeded"), ("failed", "failed"), ("parked", "parked")] {
                        option value=(value) selected[filter.status == value] { (text) }
                    }
                }
            }
            label { "Received "
                select name="window" {
                    @for (value, text) in [("", "any time"), ("15m", "last 15 minutes"), ("1h", "last hour"), ("24h", "last day"), ("7d", "last week")] {
                        option value=(value) selected[filter.window == value] { (text) }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
        table class="events" {
            thead { tr { th { "Received" } th { "Source" } th { "Event type" } th { "Size" } th { "Deliveries" } } }
            tbody id="event-rows" data-refresh={ "/rows?" (filter.query(filter.limit)) } aria-live="polite" {
                (event_rows(events))
            }
        }
        @if more {
            p { a href={ "/?" (filter.query(filter.limit * 2)) } { "Show more" } }
        }
    };
    layout("Events", content)
}

/// The rows of the events table, also served alone for the live refresh.
pub fn event_rows(events: &[EventSummary]) -> Markup {
    html! {
        @if events.is_empty() {
            tr { td colspan="5" { "No events yet." } }
        }
        @for event in events {
            tr {
                td { a href={ "/events/" (event.id.as_str()) } { (event.received_at) } }
                td { (event.source.as_str()) }
                td { (event.event_type.as_deref().unwrap_or("—")) }
                td { (event.body_bytes) " B" }
                td {
                    @if event.deliveries.is_empty() { span class="muted" { "none yet" } }
                    @for delivery in &event.deliveries {
                        span class="delivery" { (delivery.destination.as_str()) " " (state_badge(delivery.state)) }
                    }
                }
            }
        }
    }
}

fn outcome_text(outcome: AttemptOutcome) -> String {
    outcome.to_string()
}

fn attempts_of<'a>(attempts: &'a [Attempt], delivery: &Delivery) -> Vec<&'a Attempt> {
    let mut mine: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| a.destination == delivery.destination)
        .collect();
    mine.sort_by_key(|a| (a.series, a.number));
    mine
}

pub fn event_page(detail: &EventDetail, csrf: &str) -> Markup {
    let event = &detail.event;
    let shown = &event.body[..event.body.len().min(SHOWN_BODY_BYTES)];
    let id = event.id.as_str();
    let content = html! {
        h1 { "Event " code { (id) } }
        dl class="meta" {
            dt { "Source" } dd { (event.source.as_str()) }
            dt { "Event type" } dd { (event.event_type.as_deref().unwrap_or("—")) }
            dt { "Provider's delivery id" } dd { (event.provider_delivery_id.as_deref().unwrap_or("—")) }
            dt { "Received" } dd { (event.received_at) }
            dt { "Body" } dd { (event.body.len()) " bytes · " a href={ "/events/" (id) "/body" } download { "download" } }
        }
        form method="post" action={ "/events/" (id) "/replay" } {
            (csrf_field(csrf))
            button type="submit" id="replay-all" { "Replay to every destination" }
        }
        h2 { "Routes" }
        (route_matches(&detail.routes))
        h2 { "Deliveries" }
        div id="deliveries" data-refresh={ "/events/" (id) "/deliveries" } aria-live="polite" {
            (deliveries(detail, csrf))
        }
        h2 { "Headers" }
        table class="headers" {
            @for (name, value) in &event.headers {
                tr { th scope="row" { (name) } td { @if masked(name) { span class="muted" { "•••• masked" } } @else { code { (value) } } } }
            }
        }
        h2 { "Body" }
        @if shown.len() < event.body.len() {
            p class="muted" { "The first " (shown.len()) " of " (event.body.len()) " bytes; download the whole body above." }
        }
        pre class="body" { (json_view::highlighted(shown)) }
    };
    layout("Event", content)
}

/// Each route of the event's source: whether it matched, and when not,
/// what failed (the event type, or the filter's first failing field).
pub fn route_matches(routes: &[RouteMatch]) -> Markup {
    html! {
        @if routes.is_empty() {
            p class="muted" { "No route takes this source's events." }
        } @else {
            p class="muted" { "Under the routes as configured now." }
            table class="routes" {
                thead { tr { th { "Destination" } th { "Match" } } }
                tbody {
                    @for route in routes {
                        tr class="route" data-destination=(route.destination.as_str()) {
                            td { (route.destination.as_str()) }
                            td {
                                @match &route.verdict {
                                    RouteVerdict::Matched => span class="badge succeeded" { "matched" },
                                    RouteVerdict::EventTypeNotSelected => {
                                        span class="badge failed" { "not matched" }
                                        " event type not selected"
                                    }
                                    RouteVerdict::FilterFailed { field } => {
                                        span class="badge failed" { "not matched" }
                                        " filter failed at " code { (field) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// An event's deliveries with their attempts and replay buttons; also
/// served alone, so the event page shows new attempts as they happen.
pub fn deliveries(detail: &EventDetail, csrf: &str) -> Markup {
    let id = detail.event.id.as_str();
    html! {
        @if detail.deliveries.is_empty() {
            @if !detail.routes.is_empty() && !detail.routes.iter().any(|r| r.verdict.is_matched()) {
                p class="muted" { "No deliveries: no route sends this event." }
            } @else {
                p class="muted" { "No deliveries yet." }
            }
        }
        @for delivery in &detail.deliveries {
            section class="delivery" data-destination=(delivery.destination.as_str()) {
                h3 { (delivery.destination.as_str()) " " (state_badge(delivery.state)) }
                form method="post" action={ "/events/" (id) "/replay" } {
                    (csrf_field(csrf))
                    input type="hidden" name="destination" value=(delivery.destination.as_str());
                    button type="submit" { "Replay to " (delivery.destination.as_str()) }
                }
                table class="attempts" {
                    thead { tr { th { "Attempt" } th { "Started" } th { "Took" } th { "Outcome" } th { "Response" } } }
                    tbody {
                        @for attempt in attempts_of(&detail.attempts, delivery) {
                            @let class = if attempt.outcome.is_success() { "attempt ok" } else { "attempt failed" };
                            tr class=(class) {
                                td { (attempt.series + 1) "." (attempt.number) }
                                td { (attempt.started_at) }
                                td { (attempt.duration_ms) " ms" }
                                td { (outcome_text(attempt.outcome)) }
                                td { code { (excerpt(&attempt.response_body, 200)) @if attempt.response_truncated { "…" } } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn excerpt(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

/// One destination with what the page shows beside it.
pub struct DestinationView<'a> {
    pub destination: &'a Destination,
    pub parked: u64,
    pub attempts: &'a [Attempt],
    /// An ordered destination's keys held back by a failing head.
    pub blocked: Vec<BlockedKeyView>,
}

/// An ordered destination's key and its blocked keys, each with Skip and
/// Release.
fn ordering_rows(d: &Destination, blocked: &[BlockedKeyView], csrf: &str) -> Markup {
    let Some(ordering) = &d.ordering else {
        return html! {};
    };
    let id = d.id.as_str();
    html! {
        dt { "Ordered by" } dd class="ordering" { code { (ordering.key) } }
        dt { "Blocked keys" } dd class="blocked" {
            @if blocked.is_empty() { "none" }
            @else {
                table {
                    tr { th { "Key" } th { "Head" } th { "Since" } th { "Attempts" } th { "Waiting" } th {} }
                    @for key in blocked {
                        tr {
                            td { code { (key.key) } }
                            td { a href={ "/events/" (key.head) } { (key.head) } }
                            td { (key.since) }
                            td { (key.delivery.as_ref().map_or(0, |d| d.attempts)) }
                            td { (key.waiting) }
                            td {
                                @for (action, label) in [("skip", "Skip"), ("release", "Release")] {
                                    form method="post" action={ "/destinations/" (id) "/" (action) } {
                                        (csrf_field(csrf))
                                        input type="hidden" name="key" value=(key.key);
                                        button type="submit" class=(action) { (label) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub fn destinations_page(views: &[DestinationView<'_>], now: Timestamp, csrf: &str) -> Markup {
    let content = html! {
        h1 { "Destinations" }
        @for view in views {
            @let d = view.destination;
            @let id = d.id.as_str();
            section class="destination" id={ "destination-" (id) } {
                h2 { (id) " "
                    @if d.enabled { span class="badge succeeded" { "enabled" } }
                    @else { span class="badge failed" { "disabled" } }
                }
                dl class="meta" {
                    @if d.kind.is_http() {
                        dt { "URL" } dd { code { (redact_url(&d.url)) } }
                    } @else {
                        dt { "Delivers to" } dd class="target" {
                            (d.kind) " " code { (d.url) }
                            @if d.kind == hookrelay_models::DestinationKind::Lambda {
                                ", invoked " (d.invocation().as_str())
                            }
                        }
                    }
                    @if let Some(reason) = &d.disabled_reason { dt { "Disabled because" } dd { (reason) } }
                    dt { "Parked deliveries" } dd class="parked" { (view.parked) }
                    (ordering_rows(d, &view.blocked, csrf))
                    dt { "Rate limit" } dd class="rate-limit" {
                        @match d.rate_limit {
                            Some(limit) => { (limit) @if let Some(burst) = d.burst { ", burst " (burst) } }
                            None => { "none" }
                        }
                    }
                    (super::destinations::auth_rows(d))
                    dt { "Signing secrets" } dd class="signing-keys" {
                        (signing_key(&d.secret))
                        @if let Some(second) = &d.second_secret { " & " (signing_key(second)) }
                        @for retiring in &d.retiring_secrets {
                            " · " (signing_key(&retiring.secret)) " (until " (retiring.expires_at) ")"
                        }
                    }
                }
                div class="charts" {
                    (chart::render(view.attempts, now, Window::Hour))
                    (chart::render(view.attempts, now, Window::Day))
                }
                div class="actions" {
                    form method="post" action={ "/destinations/" (id) "/enabled" } {
                        (csrf_field(csrf))
                        @if d.enabled {
                            input type="hidden" name="enabled" value="false";
                            button type="submit" class="disable" { "Disable" }
                        } @else {
                            input type="hidden" name="enabled" value="true";
                            button type="submit" class="enable" { "Enable" }
                        }
                    }
                    form method="post" action={ "/destinations/" (id) "/recover" } {
                        (csrf_field(csrf))
                        label { "Recover failed since "
                            select name="window" {
                                option value="1h" { "an hour ago" }
                                option value="24h" selected { "a day ago" }
                                option value="7d" { "a week ago" }
                                option value="" { "ever" }
                            }
                        }
                        button type="submit" { "Recover" }
                    }
                    form method="post" action={ "/destinations/" (id) "/rate-limit" } {
                        (csrf_field(csrf))
                        label { "Rate limit "
                            input type="text" name="rate_limit" size="8" placeholder="50/s"
                                value=(d.rate_limit.map(|l| l.to_string()).unwrap_or_default());
                        }
                        label { " burst "
                            input type="number" name="burst" min="1" max="1000" size="4"
                                value=(d.burst.map(|b| b.to_string()).unwrap_or_default());
                        }
                        button type="submit" class="rate-limit" { "Set limit" }
                    }
                    form method="post" action={ "/destinations/" (id) "/rotate" } {
                        (csrf_field(csrf))
                        // A new key of the kind the destination signs with.
                        input type="hidden" name="kind" value=(
                            if d.secret.expose().starts_with(hookrelay_signing::SECRET_KEY_PREFIX) { "ed25519" } else { "hmac" }
                        );
                        label { "Keep the old secret signing for "
                            input type="number" name="grace_hours" value="24" min="0" max="720" size="4";
                            " hours"
                        }
                        button type="submit" { "Rotate secret" }
                    }
                }
            }
        }
        @if views.is_empty() { p { "No destinations." } }
    };
    layout("Destinations", content)
}

/// Rejections over the last day: per source id, per reason.
pub type Rejected = std::collections::HashMap<String, std::collections::BTreeMap<String, u64>>;

pub fn sources_page(
    sources: &[Source],
    receiver_base: Option<&str>,
    rejected: &Rejected,
) -> Markup {
    let content = html! {
        h1 { "Sources" }
        table class="sources" {
            thead { tr { th { "Source" } th { "Scheme" } th { "Secrets" } th { "URL to give the provider" } th { "Refused, last day" } } }
            tbody {
                @for source in sources {
                    tr {
                        td { (source.id.as_str()) }
                        td { (source.scheme.as_str()) }
                        td { @for secret in &source.secrets { code { "sha256:" (secret.fingerprint()) } " " } }
                        td {
                            @if let Some(base) = receiver_base {
                                code { (base.trim_end_matches('/')) "/hooks/" (source.id.as_str()) }
                            } @else {
                                span class="muted" { "your API's URL + /hooks/" (source.id.as_str()) }
                            }
                        }
                        td class="rejections" {
                            @match rejected.get(source.id.as_str()) {
                                Some(reasons) => {
                                    @for (reason, count) in reasons {
                                        span class="rejection" { (reason) " " strong { (count) } } " "
                                    }
                                }
                                None => { span class="muted" { "none" } }
                            }
                        }
                    }
                }
            }
        }
    };
    layout("Sources", content)
}

/// A signing key as listed: its fingerprint, and an Ed25519 key's public
/// key (`whpk_`, not secret); never the secret itself.
fn signing_key(secret: &hookrelay_signing::Secret) -> Markup {
    html! {
        code { "sha256:" (secret.fingerprint()) }
        @if let Some(public) = crate::admin::public_key_of(secret.expose()) {
            " public key " code class="public-key" { (public) }
        }
    }
}

/// After a rotation: the one time a `whsec_` secret reaches the page. Of
/// a `whsk_` key only the public key is shown.
pub fn rotated_page(destination: &str, secret: &str, grace_hours: u64) -> Markup {
    let public = crate::admin::public_key_of(secret);
    layout(
        "Secret rotated",
        html! {
            @if let Some(public) = public {
                h1 { "New Ed25519 key for " (destination) }
                p { "Receivers verify v1a signatures with this public key, also published at "
                    code { "/.well-known/webhook-keys/" (destination) } ". The old key keeps signing alongside it for " (grace_hours) " hours." }
                pre class="public-key" id="new-public-key" { (public) }
            } @else {
                h1 { "New secret for " (destination) }
                p { "Give it to the receiving service now: it is not shown again. The old secret keeps signing alongside it for " (grace_hours) " hours." }
                pre class="secret" id="new-secret" { (secret) }
            }
            p { a href="/destinations" { "Back to destinations" } }
        },
    )
}

/// Logging out, confirmed by a form (a change, so a POST with its CSRF
/// token).
pub fn logout_page(csrf: &str) -> Markup {
    layout(
        "Log out",
        html! {
            h1 { "Log out" }
            form method="post" action="/logout" {
                (csrf_field(csrf))
                button type="submit" id="log-out" { "End this browser's session" }
            }
        },
    )
}

/// A short answer page (errors, the login page).
pub fn message_page(title: &str, message: &str) -> Markup {
    layout(
        title,
        html! {
            h1 { (title) }
            p { (message) }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookrelay_models::{Config, DestinationId, Event, EventId, Route, RouteFilter, SourceId};

    fn detail(body: Vec<u8>, headers: &[(&str, &str)]) -> EventDetail {
        let at = Timestamp::from_unix_secs(1_800_000_000);
        EventDetail {
            event: Event {
                id: EventId::new(at),
                source: SourceId::parse("github").unwrap(),
                event_type: Some("push".into()),
                provider_delivery_id: None,
                received_at: at,
                headers: headers
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
                body: body.into(),
            },
            deliveries: Vec::new(),
            attempts: Vec::new(),
            routes: Vec::new(),
        }
    }

    #[test]
    fn a_large_body_is_cut_on_the_page_and_offered_whole_as_a_download() {
        let body = format!("{{\"data\":\"{}\"}}", "x".repeat(100 * 1024)).into_bytes();
        let page = event_page(&detail(body.clone(), &[]), "csrf").into_string();
        assert!(
            page.contains(&format!(
                "The first {SHOWN_BODY_BYTES} of {} bytes",
                body.len()
            )),
            "{}",
            &page[..2000]
        );
        assert!(page.contains("/body\" download"), "a download link");
        assert!(page.len() < SHOWN_BODY_BYTES + 8 * 1024, "{}", page.len());
    }

    #[test]
    fn credential_and_signature_headers_are_masked_and_others_shown() {
        let headers = [
            ("x-hub-signature-256", "sha256=abc123"),
            ("x-gitlab-token", "tok-secret"),
            ("stripe-signature", "t=1,v1=ff"),
            ("x-api-key", "k-secret"),
            ("user-agent", "GitHub-Hookshot/1"),
        ];
        let page = event_page(&detail(b"{}".to_vec(), &headers), "csrf").into_string();
        for secret in ["abc123", "tok-secret", "v1=ff", "k-secret"] {
            assert!(!page.contains(secret), "{secret} reached the page");
        }
        assert!(page.contains("GitHub-Hookshot/1"));
        assert_eq!(page.matches("•••• masked").count(), 4);
    }

    #[test]
    fn an_ed25519_destination_shows_its_public_keys_and_rotates_the_same_kind() {
        use hookrelay_signing::{Ed25519SigningKey, Secret};
        let (current, retiring) = (Ed25519SigningKey::generate(), Ed25519SigningKey::generate());
        let mut destination = hookrelay_models::Destination::new(
            DestinationId::parse("orders").unwrap(),
            "https://orders.example.com/hook",
            Secret::new(current.clone()),
        );
        destination
            .retiring_secrets
            .push(hookrelay_models::RetiringSecret {
                secret: Secret::new(retiring.clone()),
                expires_at: Timestamp::from_unix_secs(1_900_000_000),
            });
        let view = DestinationView {
            destination: &destination,
            parked: 0,
            attempts: &[],
            blocked: Vec::new(),
        };
        let page = destinations_page(&[view], Timestamp::from_unix_secs(1_800_000_000), "csrf")
            .into_string();
        for key in [&current, &retiring] {
            let public = Ed25519SigningKey::parse(key).unwrap().public_key().encode();
            assert!(page.contains(&public), "{page}");
            assert!(
                !page.contains(&key["whsk_".len()..][..16]),
                "a secret key on the page"
            );
        }
        assert!(page.contains(r#"name="kind" value="ed25519""#), "{page}");
        // After a rotation, of a whsk_ key only its public key is shown.
        let rotated = rotated_page("orders", &current, 24).into_string();
        assert!(
            !rotated.contains(&current["whsk_".len()..][..16]),
            "{rotated}"
        );
        assert!(
            rotated.contains(
                &Ed25519SigningKey::parse(&current)
                    .unwrap()
                    .public_key()
                    .encode()
            ),
            "{rotated}"
        );
    }

    #[test]
    fn a_queue_destination_shows_its_kind_and_target() {
        let mut queue = hookrelay_models::Destination::new(
            DestinationId::parse("orders").unwrap(),
            "arn:aws:sqs:eu-west-1:123456789012:orders",
            hookrelay_signing::Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        );
        queue.kind = hookrelay_models::DestinationKind::Sqs;
        let view = DestinationView {
            destination: &queue,
            parked: 0,
            attempts: &[],
            blocked: Vec::new(),
        };
        let page = destinations_page(&[view], Timestamp::from_unix_secs(1_800_000_000), "csrf")
            .into_string();
        assert!(
            page.contains("sqs <code>arn:aws:sqs:eu-west-1:123456789012:orders</code>"),
            "{page}"
        );
        assert!(!page.contains(">URL<"), "{page}");
    }

    #[test]
    fn an_ordered_destination_shows_its_key_and_blocked_keys_with_skip_and_release() {
        let mut ordered = hookrelay_models::Destination::new(
            DestinationId::parse("orders").unwrap(),
            "https://example.com/hook",
            hookrelay_signing::Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        );
        ordered.ordering = Some(hookrelay_models::Ordering {
            key: "json:/customer".parse().unwrap(),
        });
        let head = hookrelay_models::EventId::new(Timestamp::from_unix_secs(1_800_000_000));
        let view = DestinationView {
            destination: &ordered,
            parked: 0,
            attempts: &[],
            blocked: vec![BlockedKeyView {
                key: "cus_42".into(),
                head: head.clone(),
                since: Timestamp::from_unix_secs(1_800_000_000),
                delivery: None,
                waiting: 7,
            }],
        };
        let page = destinations_page(&[view], Timestamp::from_unix_secs(1_800_000_100), "csrf")
            .into_string();
        assert!(page.contains("<code>json:/customer</code>"), "{page}");
        assert!(page.contains("<code>cus_42</code>"), "{page}");
        assert!(page.contains(&format!("href=\"/events/{head}\"")), "{page}");
        assert!(
            page.contains("action=\"/destinations/orders/skip\""),
            "{page}"
        );
        assert!(
            page.contains("action=\"/destinations/orders/release\""),
            "{page}"
        );
        assert!(page.contains("<td>7</td>"), "{page}");
    }

    #[test]
    fn a_lambda_destination_shows_its_function_and_invocation() {
        let mut function = hookrelay_models::Destination::new(
            DestinationId::parse("orders").unwrap(),
            "orders:live",
            hookrelay_signing::Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        );
        function.kind = hookrelay_models::DestinationKind::Lambda;
        function.invocation = Some(hookrelay_models::LambdaInvocation::Event);
        let view = DestinationView {
            destination: &function,
            parked: 0,
            attempts: &[],
            blocked: Vec::new(),
        };
        let page = destinations_page(&[view], Timestamp::from_unix_secs(1_800_000_000), "csrf")
            .into_string();
        assert!(
            page.contains("lambda <code>orders:live</code>, invoked event"),
            "{page}"
        );
    }

    #[test]
    fn a_destinations_auth_shows_its_kind_and_settings_and_fingerprints_only() {
        let mut app = hookrelay_models::Destination::new(
            DestinationId::parse("app").unwrap(),
            "https://app.example/hook",
            hookrelay_signing::Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        );
        app.auth = Some(
            serde_json::from_str(
                r#"{"kind":"oauth2_client_credentials","token_url":"https://id.example/token","client_id":"relay-client","client_secret":"hunter2-client","scope":"hooks:write"}"#,
            )
            .unwrap(),
        );
        let view = DestinationView {
            destination: &app,
            parked: 0,
            attempts: &[],
            blocked: Vec::new(),
        };
        let page = destinations_page(&[view], Timestamp::from_unix_secs(1_800_000_000), "csrf")
            .into_string();
        for shown in [
            "oauth2_client_credentials",
            "relay-client",
            "https://id.example/token",
            "hooks:write",
            &hookrelay_signing::Secret::new("hunter2-client").fingerprint(),
        ] {
            assert!(page.contains(shown), "{shown} not on the page");
        }
        assert!(!page.contains("hunter2"), "a credential reached the page");
    }

    #[test]
    fn the_event_page_shows_each_route_matched_or_what_failed() {
        let at = Timestamp::from_unix_secs(1_800_000_000);
        let event = Event {
            id: EventId::new(at),
            source: SourceId::parse("shop").unwrap(),
            event_type: Some("order.paid".into()),
            provider_delivery_id: None,
            received_at: at,
            headers: vec![("content-type".into(), "application/json".into())],
            body: br#"{"total":50}"#.to_vec().into(),
        };
        let route = |destination: &str, events: &str, filter: Option<&str>| {
            let mut route = Route::new(
                SourceId::parse("shop").unwrap(),
                DestinationId::parse(destination).unwrap(),
            );
            route.events = vec![hookrelay_models::EventFilter::parse(events).unwrap()];
            route.filter = filter.map(|f| RouteFilter::parse(f).unwrap());
            route
        };
        let config = Config {
            routes: vec![
                route(
                    "big",
                    "*",
                    Some(r#"{"body":{"total":[{"numeric":[">",100]}]}}"#),
                ),
                route("refunds", "refund.*", None),
                route("all", "*", Some(r#"{"type":["order.paid"]}"#)),
            ],
            ..Config::default()
        };
        let detail = EventDetail {
            routes: config.explain_routes(&event),
            event,
            deliveries: Vec::new(),
            attempts: Vec::new(),
        };
        let page = event_page(&detail, "csrf").into_string();
        let row = |destination: &str| {
            let start = page
                .find(&format!("data-destination=\"{destination}\""))
                .unwrap_or_else(|| panic!("no row for {destination}"));
            let end = start + page[start..].find("</tr>").unwrap();
            page[start..end].to_string()
        };
        let big = row("big");
        assert!(
            big.contains("not matched") && big.contains("filter failed at <code>body.total</code>"),
            "{big}"
        );
        assert!(page.contains("No deliveries yet."), "one route matched");
        let refunds = row("refunds");
        assert!(refunds.contains("event type not selected"), "{refunds}");
        let all = row("all");
        assert!(
            all.contains("matched") && !all.contains("not matched"),
            "{all}"
        );

        let turned_away = EventDetail {
            routes: detail.routes[..2].to_vec(),
            ..detail.clone()
        };
        let page = event_page(&turned_away, "csrf").into_string();
        assert!(page.contains("No deliveries: no route sends this event."));
        let unrouted = EventDetail {
            routes: Vec::new(),
            ..detail
        };
        let page = event_page(&unrouted, "csrf").into_string();
        assert!(
            page.contains("No route takes this source"),
            "a page without routes says so"
        );
    }
}
