//! `hookrelay send`: POST a payload to a running receiver, signed the way
//! the source's provider signs it, with the headers it sends.
use clap::Args;
use hookrelay_models::{Config, EventId, SourceId, Timestamp};
use hookrelay_signing::{
    sign_as_provider, sign_body_as_provider, Pick, ProviderMessage, Scheme, SchemeKind,
};
use std::path::PathBuf;

use crate::error::{read, CliError};

#[derive(Debug, Args)]
pub struct SendArgs {
    /// The source to send as (its scheme and first secret are used).
    #[arg(long)]
    pub source: String,
    /// The payload.
    #[arg(long)]
    pub file: PathBuf,
    #[arg(long, default_value = "hookrelay.toml")]
    pub config: PathBuf,
    /// The receiver's base URL.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// Event type for schemes that send it in a header (GitHub's
    /// X-GitHub-Event, Shopify's X-Shopify-Topic, Twitch's subscription type).
    #[arg(long)]
    pub event: Option<String>,
}

pub async fn send(args: SendArgs) -> Result<String, CliError> {
    let text = read(&args.config)?;
    let config = Config::from_toml(&text, &args.config.display().to_string())?;
    let source_id = SourceId::parse(&args.source).map_err(|e| CliError::Usage(e.to_string()))?;
    let source = config.source(&source_id).ok_or_else(|| {
        CliError::Usage(format!(
            "no source {:?} in {}",
            args.source,
            args.config.display()
        ))
    })?;
    let body = std::fs::read(&args.file).map_err(|source| CliError::Read {
        path: args.file.display().to_string(),
        source,
    })?;
    let url = format!("{}/hooks/{}", args.url.trim_end_matches('/'), source.id);
    let now = Timestamp::now();
    let delivery = EventId::new(now).ulid().to_string();
    let msg_id = format!("msg_{delivery}");
    let scheme = Scheme::from_parts(source.scheme, source.hmac.clone())?;
    let public_url = source.public_url.clone().unwrap_or_else(|| url.clone());
    let message = ProviderMessage {
        body: &body,
        timestamp: now.unix_secs(),
        id: &msg_id,
        url: Some(&public_url),
    };
    let mut headers = sign_as_provider(&scheme, &source.secrets[0], &message)?;
    // Mailgun's signature travels inside the body.
    let signed_body = sign_body_as_provider(&scheme, &source.secrets[0], &message)?;
    let extra = provider_headers(source.scheme, args.event.as_deref(), &delivery, &headers);
    headers.extend(extra);

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| CliError::Unavailable(e.to_string()))?;
    let mut request = client.post(&url).body(signed_body.unwrap_or(body));
    for (name, value) in &headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request
        .send()
        .await
        .map_err(|e| CliError::Unavailable(format!("POST {url}: {e}")))?;
    let status = response.status();
    let answer = response.text().await.unwrap_or_default();
    let line = format!("POST {url} -> {} {answer}\n", status.as_u16());
    if status.is_success() {
        Ok(line)
    } else {
        Err(CliError::Rejected(line.trim_end().to_string()))
    }
}

/// The non-signature headers each provider sends, so the receiver reads an
/// event type and a delivery id as it would in production: the headers the
/// scheme's catalogue entry reads them from, unless signing set them.
fn provider_headers(
    scheme: SchemeKind,
    event: Option<&str>,
    delivery: &str,
    signed: &[(String, String)],
) -> Vec<(String, String)> {
    let header = |n: &str, v: &str| (n.to_string(), v.to_string());
    let content_type = if scheme == SchemeKind::Twilio {
        "application/x-www-form-urlencoded"
    } else {
        "application/json"
    };
    let mut headers = vec![
        header("Content-Type", content_type),
        header(
            "User-Agent",
            &format!("hookrelay-send/{}", env!("CARGO_PKG_VERSION")),
        ),
    ];
    if scheme == SchemeKind::Twitch {
        headers.push(header("Twitch-Eventsub-Message-Type", "notification"));
    }
    let spec = scheme.spec();
    let event = event.unwrap_or(match scheme {
        SchemeKind::Github => "push",
        SchemeKind::Shopify => "orders/create",
        SchemeKind::Twitch => "channel.follow",
        SchemeKind::Gitlab => "Push Hook",
        SchemeKind::Bitbucket => "repo:push",
        SchemeKind::Woocommerce => "order.created",
        _ => "test",
    });
    let unset = |name: &str, headers: &[(String, String)]| {
        !signed
            .iter()
            .chain(headers)
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    if let Some(Pick::Header(name)) = spec.event_type.first.first() {
        if unset(name, &headers) {
            headers.push(header(name, event));
        }
    }
    if let Some(Pick::Header(name)) = spec.delivery_id.first.first() {
        if unset(name, &headers) {
            headers.push(header(name, delivery));
        }
    }
    headers
}
