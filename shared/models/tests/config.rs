//! The configuration file as users write it: the example from the docs
//! parses, and every mistake is refused with a message that says where.
use hookrelay_models::{Config, ConfigError, DestinationId, RetrySchedule, SourceId, Timestamp};
use std::time::Duration;

const EXAMPLE: &str = r#"
allow_private_destinations = true        # local only

[[sources]]
id = "github"
scheme = "github"
secrets = ["It's a Secret to Everybody"]

[[sources]]
id = "billing"
scheme = "hmac"
secrets = ["abc"]
event_type = "json:/kind"
delivery_id = "header:X-Request-Id"
hmac = { header = "X-Signature", prefix = "sha256=", encoding = "hex" }

[[destinations]]
id = "orders"
url = "http://127.0.0.1:9000/hook"
secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
retry_schedule = ["0s", "1s", "5s"]
timeout = "3s"
headers = { "X-Api-Key" = "k" }

[[routes]]
source = "github"
destination = "orders"
events = ["push", "pull_request.*"]

[[routes]]
source = "billing"
destination = "orders"
"#;

fn sid(s: &str) -> SourceId {
    SourceId::parse(s).unwrap()
}

#[test]
fn the_documented_example_parses_with_defaults_filled_in() {
    let config = Config::from_toml(EXAMPLE, "hookrelay.toml").unwrap();
    assert!(config.allow_private_destinations);
    let orders = config
        .destination(&DestinationId::parse("orders").unwrap())
        .unwrap();
    assert_eq!(orders.timeout(), Duration::from_secs(3));
    assert_eq!(orders.retry_schedule().max_attempts(), 3);
    assert!(orders.enabled);
    let billing_route = &config.routes[1];
    assert_eq!(billing_route.events[0].as_str(), "*");

    let github = sid("github");
    assert_eq!(config.routes_for(&github, Some("push")).count(), 1);
    assert_eq!(
        config
            .routes_for(&github, Some("pull_request.opened"))
            .count(),
        1
    );
    assert_eq!(config.routes_for(&github, Some("issues.opened")).count(), 0);
    assert_eq!(config.routes_for(&sid("billing"), None).count(), 1);
}

#[test]
fn config_round_trips_through_toml() {
    let config = Config::from_toml(EXAMPLE, "a.toml").unwrap();
    let written = config.to_toml();
    let again = Config::from_toml(&written, "b.toml").unwrap();
    assert_eq!(again, config);
}

#[test]
fn syntax_errors_name_file_line_and_column() {
    let broken = "[[sources]]\nid = \"github\"\nscheme = \"github\nsecrets = []\n";
    match Config::from_toml(broken, "hookrelay.toml").unwrap_err() {
        ConfigError::Syntax { file, line, .. } => {
            assert_eq!(file, "hookrelay.toml");
            assert_eq!(line, 3);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_schemes_and_fields_are_refused_with_their_line() {
    let bad_scheme = "[[sources]]\nid = \"x\"\nscheme = \"gitlob\"\nsecrets = [\"s\"]\n";
    let err = Config::from_toml(bad_scheme, "f.toml").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("line 3") && text.contains("gitlob"), "{text}");

    let typo = "[[sources]]\nid = \"x\"\nscheme = \"github\"\nsecret = [\"s\"]\n";
    let text = Config::from_toml(typo, "f.toml").unwrap_err().to_string();
    assert!(text.contains("secret"), "{text}");
}

fn refused(toml_text: &str) -> String {
    Config::from_toml(toml_text, "f.toml")
        .expect_err("should be refused")
        .to_string()
}

#[test]
fn semantic_mistakes_are_refused_with_what_to_fix() {
    let dest = "[[destinations]]\nid = \"d\"\nurl = \"https://example.com/h\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n";
    let source = "[[sources]]\nid = \"s\"\nscheme = \"github\"\nsecrets = [\"x\"]\n";

    let cases: Vec<(String, &str)> = vec![
        (
            format!("{source}[[routes]]\nsource = \"s\"\ndestination = \"nope\"\n"),
            "no such destination",
        ),
        (
            format!("{dest}[[routes]]\nsource = \"nope\"\ndestination = \"d\"\n"),
            "no such source",
        ),
        (
            format!("{source}{dest}[[routes]]\nsource = \"s\"\ndestination = \"d\"\nevents = []\n"),
            "events is empty",
        ),
        (format!("{source}{source}"), "defined twice"),
        (format!("{source}auto_confirm = true\n"), "auto_confirm is only used by scheme sns"),
        (
            "[[sources]]\nid = \"s\"\nscheme = \"sns\"\nsecrets = [\"not-an-arn\"]\n".to_string(),
            "must be a topic ARN",
        ),
        (dest.replace("whsec_MfKQ", "MfKQ"), "whsec_"),
        (
            dest.replace("https://example.com/h", "ftp://example.com/h"),
            "only http and https",
        ),
        (
            dest.replace("https://example.com/h", "https://user:pw@example.com/h"),
            "credentials",
        ),
        (
            format!("{dest}headers = {{ \"webhook-signature\" = \"x\" }}\n"),
            "set by hookrelay",
        ),
        (format!("{dest}timeout = \"10m\"\n"), "timeout"),
        (
            format!("{dest}retry_schedule = []\n"),
            "at least one attempt",
        ),
        (source.replace("[\"x\"]", "[]"), "no secrets"),
        (format!("{source}max_body_bytes = 10000000\n"), "ceiling"),
        (
            "[[sources]]\nid = \"../etc\"\nscheme = \"github\"\nsecrets = [\"x\"]\n".into(),
            "source id",
        ),
        (
            "[[sources]]\nid = \"h\"\nscheme = \"hmac\"\nsecrets = [\"x\"]\n".into(),
            "hmac",
        ),
        (
            format!("{source}event_type = \"body:/type\"\n"),
            "header:<Name> or json:/<pointer>",
        ),
        (
            format!("{source}tolerance_secs = 3601\n"),
            "above the maximum of 3600 (one hour)",
        ),
        (
            "[[sources]]\nid = \"h\"\nscheme = \"hmac\"\nsecrets = [\"x\"]\nhmac = { header = \"X-Sig\", template = \"{body}\", timestamp_header = \"X-Ts\" }\n".into(),
            "the template has no {timestamp}",
        ),
        (
            "[[sources]]\nid = \"h\"\nscheme = \"hmac\"\nsecrets = [\"x\"]\nhmac = { header = \"X-Sig\", timestamp_header = \"X-Ts\" }\n".into(),
            "timestamp_header needs a template with {timestamp}",
        ),
    ];
    for (text, expected) in cases {
        let message = refused(&text);
        assert!(
            message.contains(expected),
            "expected {expected:?} in {message:?}\nfor:\n{text}"
        );
    }
}

#[test]
fn an_hour_of_tolerance_and_a_signed_timestamp_header_are_accepted() {
    let text = "[[sources]]\nid = \"h\"\nscheme = \"hmac\"\nsecrets = [\"x\"]\ntolerance_secs = 3600\nhmac = { header = \"X-Sig\", template = \"{timestamp}.{body}\", timestamp_header = \"X-Ts\" }\n";
    let config = Config::from_toml(text, "f.toml").unwrap();
    assert_eq!(config.sources[0].tolerance_secs, Some(3600));
}

#[test]
fn a_refused_url_with_credentials_does_not_repeat_them() {
    let text = "[[destinations]]\nid = \"d\"\nurl = \"https://admin:hunter2@example.com/h\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n";
    let message = refused(text);
    assert!(message.contains("credentials"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
    assert!(!message.contains("admin:"), "{message}");
}

#[test]
fn secrets_never_appear_in_debug_output_of_the_config() {
    let config = Config::from_toml(EXAMPLE, "f.toml").unwrap();
    let printed = format!("{config:?}");
    assert!(!printed.contains("It's a Secret"), "{printed}");
    assert!(!printed.contains("MfKQ9r8G"), "{printed}");
}

#[test]
fn retiring_secrets_sign_only_during_their_grace_period() {
    let mut config = Config::from_toml(EXAMPLE, "f.toml").unwrap();
    let orders = &mut config.destinations[0];
    orders
        .retiring_secrets
        .push(hookrelay_models::RetiringSecret {
            secret: "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
            expires_at: Timestamp::from_unix_secs(2_000),
        });
    assert_eq!(
        orders
            .signing_secrets(Timestamp::from_unix_secs(1_999))
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        orders
            .signing_secrets(Timestamp::from_unix_secs(2_000))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        orders.retry_schedule(),
        RetrySchedule::new(vec![
            Duration::ZERO,
            Duration::from_secs(1),
            Duration::from_secs(5)
        ])
        .unwrap()
    );
}
