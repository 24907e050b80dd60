//! `hookrelay sink`: a destination for trying hookrelay out. Prints each
//! delivery (headers, a body preview, whether the Standard Webhooks
//! signatures verify: v1 with --secret, v1a with --public-key) and can be
//! told to fail.
use clap::Args;
use hookrelay_signing::{
    InboundRequest, Scheme, SchemeKind, Secret, Verifier, WebhookPublicKey, DEFAULT_TOLERANCE_SECS,
};
use http::{Response, StatusCode};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::error::CliError;
use crate::server::{self, FullRequest};

#[derive(Debug, Args)]
pub struct SinkArgs {
    #[arg(long, default_value = "127.0.0.1:9000")]
    pub listen: SocketAddr,
    /// The destination's whsec_ secret, to check its v1 signatures.
    #[arg(long, env = "HOOKRELAY_SINK_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// The destination's whpk_ public key, to check its v1a (Ed25519)
    /// signatures.
    #[arg(long)]
    pub public_key: Option<String>,
    /// Fraction of requests (0 to 1) answered with --status instead of 200.
    #[arg(long, default_value_t = 0.0)]
    pub fail_rate: f64,
    /// Status of failed answers.
    #[arg(long, default_value_t = 500)]
    pub status: u16,
}

fn random_fraction() -> f64 {
    let mut bytes = [0u8; 4];
    let _ = getrandom::fill(&mut bytes);
    f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
}

fn preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut preview: String = text.chars().take(200).filter(|c| !c.is_control()).collect();
    if text.chars().count() > 200 {
        preview.push('…');
    }
    preview
}

pub async fn sink(args: SinkArgs) -> Result<String, CliError> {
    if !(0.0..=1.0).contains(&args.fail_rate) {
        return Err(CliError::Usage(
            "--fail-rate must be between 0 and 1".into(),
        ));
    }
    let failure = StatusCode::from_u16(args.status)
        .map_err(|_| CliError::Usage(format!("--status {} is not an HTTP status", args.status)))?;
    let verifier = match &args.secret {
        Some(secret) => Some(
            Verifier::new(
                Scheme::Named(SchemeKind::Standard),
                &[Secret::new(secret.clone())],
            )
            .map_err(|e| CliError::Usage(format!("--secret: {e}")))?,
        ),
        None => None,
    };
    let public_key = args
        .public_key
        .as_deref()
        .map(WebhookPublicKey::parse)
        .transpose()
        .map_err(|e| CliError::Usage(format!("--public-key: {e}")))?;
    let (listener, address) = server::bind(args.listen).await?;
    println!("hookrelay sink: listening on http://{address}/ (Ctrl-C to stop)");
    let verifier = Arc::new(verifier);
    let fail_rate = args.fail_rate;
    server::serve(
        listener,
        16 << 20,
        move |request: FullRequest| {
            let verifier = verifier.clone();
            let public_key = public_key;
            async move {
                let headers = request.headers();
                let get = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-")
                        .to_string()
                };
                let now = hookrelay_models::Timestamp::now().unix_secs();
                let v1 = verifier.as_ref().as_ref().map(|verifier| {
                    let inbound = InboundRequest::new(headers, request.body());
                    verifier.verify(&inbound, now).is_ok()
                });
                let v1a = public_key.map(|key| {
                    let timestamp = get("webhook-timestamp").parse::<i64>().unwrap_or(i64::MIN);
                    now.abs_diff(timestamp) <= DEFAULT_TOLERANCE_SECS
                        && key.verifies(
                            &get("webhook-signature"),
                            &get("webhook-id"),
                            timestamp,
                            request.body(),
                        )
                });
                let signature = match (v1, v1a) {
                    (None, None) => "unchecked (no --secret or --public-key)",
                    (Some(false), _) => "INVALID (v1)",
                    (_, Some(false)) => "INVALID (v1a)",
                    _ => "valid",
                };
                let fail = fail_rate > 0.0 && random_fraction() < fail_rate;
                let status = if fail { failure } else { StatusCode::OK };
                let mut out = std::io::stdout().lock();
                let _ = writeln!(
                    out,
                    "{} {} webhook-id={} event={} source={} signature={} -> {}",
                    request.method(),
                    request.uri().path(),
                    get("webhook-id"),
                    get("hookrelay-event-type"),
                    get("hookrelay-source"),
                    signature,
                    status.as_u16()
                );
                let _ = writeln!(out, "  body: {}", preview(request.body()));
                let _ = out.flush();
                let mut response =
                    Response::new(format!("{{\"status\":{}}}", status.as_u16()).into_bytes());
                *response.status_mut() = status;
                response
            }
        },
        server::shutdown_on_signal(),
    )
    .await;
    Ok(String::new())
}
