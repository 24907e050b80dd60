//! Flags to model values: ids, selectors, periods, states, and the
//! source, destination and route a command's flags describe.
use base64::Engine;
use hookrelay_core::{AdminRequest, AdminResponse};
use hookrelay_models::{
    DeliveryFormat, DeliveryState, Destination, DestinationAuth, DestinationId, DestinationKind,
    EventFilter, FieldSelector, Ordering, RetrySchedule, Route, RouteFilter, Source, SourceId,
    Timestamp,
};
use hookrelay_signing::{HmacOptions, SchemeKind, Secret};
use std::io::Read;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use super::render::redacted_json;
use super::{Backend, DestinationArgs, RouteArgs, SourceArgs};

use crate::error::{read, CliError};

pub(crate) fn source_id(value: &str) -> Result<SourceId, CliError> {
    SourceId::parse(value).map_err(|e| CliError::Invalid(e.to_string()))
}

pub(crate) fn destination_id(value: &str) -> Result<DestinationId, CliError> {
    DestinationId::parse(value).map_err(|e| CliError::Invalid(e.to_string()))
}

pub(crate) fn selector(value: &str) -> Result<FieldSelector, CliError> {
    FieldSelector::from_str(value).map_err(CliError::Invalid)
}

pub(crate) fn duration(value: &str) -> Result<Duration, CliError> {
    humantime::parse_duration(value)
        .map_err(|e| CliError::Invalid(format!("duration {value:?}: {e}")))
}

/// RFC 3339, or an age (`2h`: two hours ago).
pub fn since(value: &str) -> Result<Timestamp, CliError> {
    if let Ok(at) = humantime::parse_rfc3339_weak(value) {
        let millis = at
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        return Ok(Timestamp::from_unix_millis(millis));
    }
    let age = humantime::parse_duration(value).map_err(|_| {
        CliError::Invalid(format!(
            "--since {value:?}: give an RFC 3339 time (2026-11-27T10:00:00Z) or an age (2h)"
        ))
    })?;
    let now = Timestamp::now().unix_millis();
    Ok(Timestamp::from_unix_millis(
        now.saturating_sub(age.as_millis() as i64),
    ))
}

pub(crate) fn state(value: &str) -> Result<DeliveryState, CliError> {
    match value {
        "pending" => Ok(DeliveryState::Pending),
        "succeeded" => Ok(DeliveryState::Succeeded),
        "failed" => Ok(DeliveryState::Failed),
        "parked" => Ok(DeliveryState::Parked),
        other => Err(CliError::Invalid(format!(
            "--status {other:?}: expected failed, succeeded, pending or parked"
        ))),
    }
}

/// A new Standard Webhooks secret: 24 random bytes, like Svix's.
pub(crate) fn generate_secret() -> Secret {
    let mut key = [0u8; 24];
    getrandom::fill(&mut key).expect("operating system random source");
    Secret::new(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    ))
}

/// A new Ed25519 `whsk_` key (v1a).
pub(crate) fn generate_ed25519_key() -> Secret {
    Secret::new(hookrelay_signing::Ed25519SigningKey::generate())
}

/// What to print of a new signing key, once: a `whsec_` secret itself
/// (the receiver needs it), but of a `whsk_` key only its public key.
pub(crate) fn shown_key(secret: &Secret) -> (&'static str, String) {
    match hookrelay_signing::Ed25519SigningKey::parse(secret.expose()) {
        Ok(key) => ("public_key", key.public_key().encode()),
        Err(_) => ("secret", secret.expose().to_string()),
    }
}

pub(crate) fn apply_source_args(source: &mut Source, args: SourceArgs) -> Result<(), CliError> {
    if let Some(scheme) = args.scheme {
        source.scheme = SchemeKind::from_str(&scheme).map_err(CliError::Invalid)?;
    }
    if !args.secrets.is_empty() {
        source.secrets = args.secrets.into_iter().map(Secret::new).collect();
    }
    if let Some(header) = args.hmac_header {
        source.hmac = Some(HmacOptions::new(header));
    }
    if args.tolerance_secs.is_some() {
        source.tolerance_secs = args.tolerance_secs;
    }
    if args.max_body_bytes.is_some() {
        source.max_body_bytes = args.max_body_bytes;
    }
    if let Some(value) = args.event_type {
        source.event_type = Some(selector(&value)?);
    }
    if let Some(value) = args.delivery_id {
        source.delivery_id = Some(selector(&value)?);
    }
    if args.public_url.is_some() {
        source.public_url = args.public_url;
    }
    if let Some(token) = args.verify_token {
        source.verify_token = Some(Secret::new(token));
    }
    if let Some(auto_confirm) = args.auto_confirm {
        source.auto_confirm = auto_confirm;
    }
    Ok(())
}

pub(crate) fn apply_destination_args(
    destination: &mut Destination,
    args: &DestinationArgs,
) -> Result<(), CliError> {
    if let Some(url) = &args.url {
        destination.url = url.clone();
    }
    if let Some(secret) = &args.secret {
        destination.secret = Secret::new(secret.clone());
    }
    match args.second_secret.as_deref() {
        Some("none") => destination.second_secret = None,
        Some(second) => destination.second_secret = Some(Secret::new(second)),
        None => {}
    }
    for header in &args.headers {
        let (name, value) = header.split_once('=').ok_or_else(|| {
            // The value may be a credential: name only what precedes it.
            let shown: String = header
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            CliError::Invalid(format!("--header {shown:?}…: expected Name=value"))
        })?;
        destination
            .headers
            .insert(name.trim().to_string(), value.to_string());
    }
    if let Some(timeout) = &args.timeout {
        destination.timeout = Some(duration(timeout)?);
    }
    if let Some(schedule) = &args.retry_schedule {
        let delays = schedule
            .split(',')
            .map(|d| duration(d.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        destination.retry_schedule =
            Some(RetrySchedule::new(delays).map_err(|e| CliError::Invalid(e.to_string()))?);
    }
    if args.max_in_flight.is_some() {
        destination.max_in_flight = args.max_in_flight;
    }
    if let Some(format) = &args.format {
        destination.format = match format.as_str() {
            "raw" => DeliveryFormat::Raw,
            "slack" => DeliveryFormat::Slack,
            other => {
                return Err(CliError::Invalid(format!(
                    "--format {other:?}: raw or slack"
                )))
            }
        };
    }
    if let Some(limit) = &args.rate_limit {
        destination.rate_limit = Some(limit.parse().map_err(CliError::Invalid)?);
    }
    if args.burst.is_some() {
        destination.burst = args.burst;
    }
    if args.no_rate_limit {
        destination.rate_limit = None;
        destination.burst = None;
    }
    if let Some(kind) = &args.kind {
        destination.kind = match kind.as_str() {
            "http" => DestinationKind::Http,
            "sqs" => DestinationKind::Sqs,
            "sns" => DestinationKind::Sns,
            "eventbridge" => DestinationKind::Eventbridge,
            "lambda" => DestinationKind::Lambda,
            other => {
                return Err(CliError::Invalid(format!(
                    "--kind {other:?}: http, sqs, sns, eventbridge or lambda"
                )))
            }
        };
    }
    if let Some(invocation) = &args.invocation {
        destination.invocation = Some(
            invocation
                .parse()
                .map_err(|e: String| CliError::Invalid(format!("--{e}")))?,
        );
    }
    if args.role_arn.is_some() {
        destination.role_arn = args.role_arn.clone();
        destination.external_id = args.external_id.clone();
    }
    if let Some(key) = &args.group_key {
        destination.group_key = Some(key.parse().map_err(CliError::Invalid)?);
    }
    if let Some(oversize) = &args.oversize {
        destination.oversize = oversize.parse().map_err(CliError::Invalid)?;
        if !destination.oversize.is_pointer() {
            // A URL lifetime means nothing without a pointer.
            destination.pointer_url_ttl = None;
        }
    }
    if let Some(ttl) = &args.pointer_url_ttl {
        destination.pointer_url_ttl = Some(duration(ttl)?);
    }
    if let Some(key) = &args.ordering_key {
        destination.ordering = Some(Ordering {
            key: key
                .parse()
                .map_err(|e: String| CliError::Invalid(format!("--ordering-key: {e}")))?,
        });
    }
    if args.no_ordering {
        destination.ordering = None;
    }
    if let Some(path) = &args.auth {
        destination.auth = Some(auth_json(&read_text(path)?, path)?);
    }
    if args.no_auth {
        destination.auth = None;
    }
    Ok(())
}

/// `--auth FILE`'s JSON. A complaint names fields, never a value: values
/// here are credentials.
pub(crate) fn auth_json(text: &str, path: &Path) -> Result<DestinationAuth, CliError> {
    serde_json::from_str(text).map_err(|e| {
        let said = e.to_string();
        let reason = if said.starts_with("unknown field")
            || said.starts_with("missing field")
            || said.starts_with("unknown variant")
        {
            said
        } else {
            format!(
                "not an auth object (line {}, column {})",
                e.line(),
                e.column()
            )
        };
        CliError::Invalid(format!("--auth {}: {reason}", path.display()))
    })
}

/// Sets what `args` names on `route` (a new one for `add`, the stored one
/// for `update`), leaving the rest as it is.
pub(crate) fn apply_route_args(route: &mut Route, args: &RouteArgs) -> Result<(), CliError> {
    if let Some(events) = &args.events {
        route.events = events
            .split(',')
            .map(|f| EventFilter::parse(f.trim()).map_err(|e| CliError::Invalid(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
    }
    if let Some(path) = &args.filter {
        let filter = RouteFilter::from_value(pattern_json(path)?)
            .map_err(|e| CliError::Invalid(format!("{}: {e}", path.display())))?;
        route.filter = Some(filter);
    }
    if args.no_filter {
        route.filter = None;
    }
    Ok(())
}

/// The event pattern in `path` (`-`: stdin), read as JSON; whether it is a
/// pattern is for the use case (or [`RouteFilter`]) to say.
pub(crate) fn pattern_json(path: &Path) -> Result<serde_json::Value, CliError> {
    let text = read_text(path)?;
    serde_json::from_str(&text)
        .map_err(|e| CliError::Invalid(format!("{}: filter is not JSON: {e}", path.display())))
}

/// The text of `path`, or of stdin for `-`.
fn read_text(path: &Path) -> Result<String, CliError> {
    Ok(if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|source| CliError::Read {
                path: "stdin".into(),
                source,
            })?;
        text
    } else {
        read(&path.to_path_buf())?
    })
}

pub(crate) async fn current_route(
    backend: &Backend,
    source: &SourceId,
    destination: &DestinationId,
) -> Result<Route, CliError> {
    match backend.run(AdminRequest::ListRoutes).await? {
        AdminResponse::Routes(routes) => routes
            .into_iter()
            .find(|r| &r.source == source && &r.destination == destination)
            .ok_or_else(|| CliError::NotFound(format!("no route {source} -> {destination}"))),
        other => Err(unexpected(other)),
    }
}

pub(crate) async fn current_source(backend: &Backend, id: &SourceId) -> Result<Source, CliError> {
    match backend.run(AdminRequest::ListSources).await? {
        AdminResponse::Sources(sources) => sources
            .into_iter()
            .find(|s| &s.id == id)
            .ok_or_else(|| CliError::NotFound(format!("no source {id}"))),
        other => Err(unexpected(other)),
    }
}

pub(crate) async fn current_destination(
    backend: &Backend,
    id: &DestinationId,
) -> Result<Destination, CliError> {
    match backend.run(AdminRequest::ListDestinations).await? {
        AdminResponse::Destinations(destinations) => destinations
            .into_iter()
            .find(|d| &d.id == id)
            .ok_or_else(|| CliError::NotFound(format!("no destination {id}"))),
        other => Err(unexpected(other)),
    }
}

pub(crate) fn unexpected(response: AdminResponse) -> CliError {
    CliError::Unavailable(format!("unexpected answer: {}", redacted_json(&response)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookrelay_models::Oversize;

    fn destination_args(headers: &[&str]) -> DestinationArgs {
        DestinationArgs {
            id: "app".into(),
            url: None,
            secret: None,
            second_secret: None,
            ed25519: false,
            headers: headers.iter().map(|h| h.to_string()).collect(),
            timeout: Some("3s".into()),
            retry_schedule: Some("0s, 5s,5m".into()),
            max_in_flight: Some(4),
            format: None,
            rate_limit: None,
            burst: None,
            no_rate_limit: false,
            kind: None,
            role_arn: None,
            external_id: None,
            group_key: None,
            oversize: None,
            pointer_url_ttl: None,
            invocation: None,
            ordering_key: None,
            no_ordering: false,
            auth: None,
            no_auth: false,
            allow_private: false,
        }
    }

    #[test]
    fn auth_is_read_from_a_file_set_and_removed_and_complaints_hold_no_value() {
        let dir = std::env::temp_dir().join(format!("hookrelay-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("auth.json");
        std::fs::write(&file, r#"{"kind": "bearer", "token": "tok-hunter2"}"#).unwrap();
        let mut destination = app();
        let mut args = destination_args(&[]);
        args.auth = Some(file.clone());
        apply_destination_args(&mut destination, &args).unwrap();
        let auth = destination.auth.as_ref().unwrap();
        assert_eq!(auth.kind(), "bearer");
        assert_eq!(auth.credentials()[0].1.expose(), "tok-hunter2");
        args.auth = None;
        args.no_auth = true;
        apply_destination_args(&mut destination, &args).unwrap();
        assert_eq!(destination.auth, None);

        for (text, said) in [
            (r#"{"kind": "bearer", "token": 7}"#, "not an auth object"),
            (
                r#"{"kind": "bearer", "token": "hunter2", "x": 1}"#,
                "unknown field `x`",
            ),
            (
                r#"{"kind": "digest", "token": "hunter2"}"#,
                "unknown variant",
            ),
            ("hunter2", "not an auth object"),
        ] {
            let refused = auth_json(text, &file).unwrap_err().to_string();
            assert!(refused.contains(said), "{refused}");
            assert!(!refused.contains("hunter2"), "{refused}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_ordering_key_is_set_checked_and_removed() {
        let mut destination = app();
        let mut args = destination_args(&[]);
        args.ordering_key = Some("/data/object/customer".into());
        apply_destination_args(&mut destination, &args).unwrap();
        assert_eq!(
            destination
                .ordering
                .as_ref()
                .map(|o| o.key.to_string())
                .as_deref(),
            Some("json:/data/object/customer")
        );
        args.ordering_key = Some("customer".into());
        let refused = apply_destination_args(&mut destination, &args).unwrap_err();
        assert!(refused.to_string().contains("--ordering-key"), "{refused}");
        args.ordering_key = None;
        args.no_ordering = true;
        apply_destination_args(&mut destination, &args).unwrap();
        assert_eq!(destination.ordering, None);
    }

    fn app() -> Destination {
        Destination::new(
            destination_id("app").unwrap(),
            "https://example.com/hook",
            Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        )
    }

    #[test]
    fn destination_flags_change_only_what_they_name() {
        let mut destination = app();
        apply_destination_args(
            &mut destination,
            &destination_args(&["X-Api-Key=k=with=equals"]),
        )
        .unwrap();
        assert_eq!(destination.url, "https://example.com/hook");
        assert_eq!(destination.headers["X-Api-Key"], "k=with=equals");
        assert_eq!(destination.timeout(), Duration::from_secs(3));
        assert_eq!(destination.retry_schedule().max_attempts(), 3);
        assert_eq!(destination.max_in_flight, Some(4));
        assert_eq!(destination.rate_limit, None);
    }

    #[test]
    fn a_queue_destination_is_made_from_flags() {
        let mut destination = app();
        let queue = DestinationArgs {
            url: Some("arn:aws:sqs:eu-west-1:123456789012:orders.fifo".into()),
            kind: Some("sqs".into()),
            role_arn: Some("arn:aws:iam::210987654321:role/delivery".into()),
            external_id: Some("ext".into()),
            group_key: Some("json:/customer".into()),
            ..destination_args(&[])
        };
        apply_destination_args(&mut destination, &queue).unwrap();
        assert_eq!(destination.kind, DestinationKind::Sqs);
        assert_eq!(destination.external_id.as_deref(), Some("ext"));
        assert_eq!(
            destination.group_key,
            Some(FieldSelector::JsonPointer("/customer".into()))
        );
        destination.validate().unwrap();
        let bad = DestinationArgs {
            kind: Some("kafka".into()),
            ..destination_args(&[])
        };
        let refused = apply_destination_args(&mut destination, &bad).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("http, sqs, sns, eventbridge or lambda"),
            "{refused}"
        );
    }

    #[test]
    fn a_lambda_destination_is_made_from_flags() {
        let mut destination = app();
        let function = DestinationArgs {
            url: Some("arn:aws:lambda:eu-west-1:123456789012:function:orders:live".into()),
            kind: Some("lambda".into()),
            invocation: Some("event".into()),
            ..destination_args(&[])
        };
        apply_destination_args(&mut destination, &function).unwrap();
        assert_eq!(destination.kind, DestinationKind::Lambda);
        assert_eq!(
            destination.invocation,
            Some(hookrelay_models::LambdaInvocation::Event)
        );
        destination.validate().unwrap();
        let bad = DestinationArgs {
            invocation: Some("async".into()),
            ..destination_args(&[])
        };
        let refused = apply_destination_args(&mut destination, &bad).unwrap_err();
        assert!(
            refused.to_string().contains("request_response"),
            "{refused}"
        );
    }

    #[test]
    fn oversize_is_set_from_flags_and_kept_on_update() {
        let mut destination = app();
        let queue = DestinationArgs {
            url: Some("arn:aws:sqs:eu-west-1:123456789012:orders".into()),
            kind: Some("sqs".into()),
            pointer_url_ttl: Some("15m".into()),
            ..destination_args(&[])
        };
        apply_destination_args(&mut destination, &queue).unwrap();
        assert_eq!(destination.oversize, Oversize::Pointer);
        assert_eq!(destination.pointer_url_ttl(), Duration::from_secs(900));
        destination.validate().unwrap();
        apply_destination_args(&mut destination, &destination_args(&[])).unwrap();
        assert_eq!(
            destination.pointer_url_ttl(),
            Duration::from_secs(900),
            "kept"
        );
        let fail = DestinationArgs {
            oversize: Some("fail".into()),
            ..destination_args(&[])
        };
        apply_destination_args(&mut destination, &fail).unwrap();
        assert_eq!(destination.oversize, Oversize::Fail);
        assert_eq!(
            destination.pointer_url_ttl, None,
            "no URL without a pointer"
        );
        destination.validate().unwrap();
    }

    #[test]
    fn a_rate_limit_is_set_kept_and_removed() {
        let mut destination = app();
        let limited = DestinationArgs {
            rate_limit: Some("50/s".into()),
            burst: Some(10),
            ..destination_args(&[])
        };
        apply_destination_args(&mut destination, &limited).unwrap();
        assert_eq!(destination.rate_limit.unwrap().to_string(), "50/s");
        assert_eq!(destination.burst, Some(10));
        apply_destination_args(&mut destination, &destination_args(&[])).unwrap();
        assert_eq!(destination.rate_limit.unwrap().to_string(), "50/s", "kept");
        let removed = DestinationArgs {
            no_rate_limit: true,
            ..destination_args(&[])
        };
        apply_destination_args(&mut destination, &removed).unwrap();
        assert_eq!((destination.rate_limit, destination.burst), (None, None));
        let bad = DestinationArgs {
            rate_limit: Some("50/week".into()),
            ..destination_args(&[])
        };
        let refused = apply_destination_args(&mut destination, &bad).unwrap_err();
        assert!(
            refused.to_string().contains("50/s, 600/m or 1000/h"),
            "{refused}"
        );
    }

    #[test]
    fn a_malformed_header_flag_is_refused_without_repeating_its_value() {
        let mut destination = app();
        let err = apply_destination_args(
            &mut destination,
            &destination_args(&["Authorization: Bearer s3cr3t-value"]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("expected Name=value"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn since_takes_a_time_or_an_age_and_says_which_it_wants() {
        let at = since("2026-11-27T10:00:00Z").unwrap();
        assert_eq!(at.unix_secs(), 1_795_773_600);
        let two_hours_ago = since("2h").unwrap();
        let age = Timestamp::now().since(two_hours_ago);
        assert!(
            (Duration::from_secs(7199)..=Duration::from_secs(7201)).contains(&age),
            "{age:?}"
        );
        let err = since("yesterday").unwrap_err().to_string();
        assert!(err.contains("RFC 3339") && err.contains("2h"), "{err}");
    }

    #[test]
    fn states_are_the_four_a_delivery_can_be_in() {
        for (text, expected) in [
            ("pending", DeliveryState::Pending),
            ("succeeded", DeliveryState::Succeeded),
            ("failed", DeliveryState::Failed),
            ("parked", DeliveryState::Parked),
        ] {
            assert_eq!(state(text).unwrap(), expected);
        }
        assert!(state("done")
            .unwrap_err()
            .to_string()
            .contains("expected failed"));
    }

    fn route_args(events: Option<&str>, filter: Option<&Path>, no_filter: bool) -> RouteArgs {
        RouteArgs {
            source: "github".into(),
            destination: "app".into(),
            events: events.map(String::from),
            filter: filter.map(Path::to_path_buf),
            no_filter,
        }
    }

    #[test]
    fn routes_take_comma_separated_event_filters() {
        let mut route = Route::new(source_id("github").unwrap(), destination_id("app").unwrap());
        apply_route_args(
            &mut route,
            &route_args(Some("push, pull_request.*"), None, false),
        )
        .unwrap();
        let filters: Vec<&str> = route.events.iter().map(|f| f.as_str()).collect();
        assert_eq!(filters, ["push", "pull_request.*"]);
        assert!(source_id("../etc").is_err());
    }

    #[test]
    fn a_route_filter_is_read_from_its_file_kept_on_update_and_removed_with_no_filter() {
        let dir = std::env::temp_dir().join(format!("hookrelay-flags-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("filter.json");
        std::fs::write(&file, r#"{"body": {"ref": [{"prefix": "refs/heads/"}]}}"#).unwrap();
        let mut route = Route::new(source_id("github").unwrap(), destination_id("app").unwrap());
        apply_route_args(&mut route, &route_args(None, Some(&file), false)).unwrap();
        let filter = route.filter.clone().expect("a filter");
        assert_eq!(filter.pattern()["body"]["ref"][0]["prefix"], "refs/heads/");
        // Only the events change: the filter stays.
        apply_route_args(&mut route, &route_args(Some("push"), None, false)).unwrap();
        assert_eq!(route.filter.as_ref(), Some(&filter));
        apply_route_args(&mut route, &route_args(None, None, true)).unwrap();
        assert_eq!(route.filter, None);
        // A wrong pattern: refused with the file and the offending part.
        std::fs::write(&file, r#"{"body": {"total": [{"numeric": [">"]}]}}"#).unwrap();
        let refused = apply_route_args(&mut route, &route_args(None, Some(&file), false))
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("filter.json") && refused.contains("/body/total/0/numeric"),
            "{refused}"
        );
        std::fs::write(&file, "{not json").unwrap();
        let refused = pattern_json(&file).unwrap_err().to_string();
        assert!(refused.contains("not JSON"), "{refused}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn generated_ed25519_keys_show_only_their_public_key() {
        let key = generate_ed25519_key();
        assert!(key.expose().starts_with("whsk_"));
        let (what, shown) = shown_key(&key);
        assert_eq!(what, "public_key");
        assert!(shown.starts_with("whpk_"), "{shown}");
        let parsed = hookrelay_signing::Ed25519SigningKey::parse(key.expose()).unwrap();
        assert_eq!(shown, parsed.public_key().encode());
        let hmac = generate_secret();
        assert_eq!(shown_key(&hmac), ("secret", hmac.expose().to_string()));
    }

    #[test]
    fn generated_secrets_are_fresh_standard_webhooks_secrets() {
        let (a, b) = (generate_secret(), generate_secret());
        assert!(a.expose().starts_with("whsec_"));
        assert_ne!(a.expose(), b.expose());
        hookrelay_signing::Verifier::new(
            hookrelay_signing::Scheme::Named(SchemeKind::Standard),
            &[a],
        )
        .unwrap();
    }
}
