//! The subcommands, as functions from arguments to the text they print, so
//! they can be tested without a process.
use clap::{Args, Subcommand};
use hookrelay_models::Config;
use hookrelay_signing::{
    sign_as_provider, sign_body_as_provider, HmacOptions, ProviderMessage, Scheme, SchemeKind,
    Secret,
};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::admin::TargetArgs;
pub use crate::error::{read, CliError};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a configuration file and summarise it.
    Check {
        #[arg(long, default_value = "hookrelay.toml")]
        config: PathBuf,
    },
    /// Make the running stack (`hookrelay dev`, or DynamoDB with --aws)
    /// hold exactly this file's sources, destinations and routes
    /// (idempotent).
    Push {
        #[arg(long, default_value = "hookrelay.toml")]
        config: PathBuf,
        /// Allow destinations at private addresses (the file's
        /// allow_private_destinations does the same).
        #[arg(long)]
        allow_private: bool,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Print the running stack's configuration as a configuration file.
    Pull {
        #[command(flatten)]
        target: TargetArgs,
    },
}

pub async fn config(command: ConfigCommand) -> Result<String, CliError> {
    match command {
        ConfigCommand::Push {
            config,
            allow_private,
            target,
        } => crate::admin::push(&config, allow_private, &target).await,
        ConfigCommand::Pull { target } => crate::admin::pull(&target).await,
        ConfigCommand::Check { config } => {
            let text = read(&config)?;
            let parsed = Config::from_toml(&text, &config.display().to_string())?;
            Ok(format!(
                "{}: ok ({} sources, {} destinations, {} routes)\n",
                config.display(),
                parsed.sources.len(),
                parsed.destinations.len(),
                parsed.routes.len()
            ))
        }
    }
}

#[derive(Debug, Args)]
pub struct SchemesArgs {
    /// Print README's table (markdown) instead of one line per scheme.
    #[arg(long)]
    markdown: bool,
}

/// The catalogue: one line per scheme (name, provider, where the signature
/// is), or README's markdown table.
pub fn schemes(args: &SchemesArgs) -> String {
    if args.markdown {
        return hookrelay_signing::markdown_table();
    }
    let width = SchemeKind::ALL
        .iter()
        .map(|kind| kind.as_str().len())
        .max()
        .unwrap_or(0);
    hookrelay_signing::CATALOG
        .iter()
        .map(|spec| {
            format!(
                "{:width$}  {}: {}\n",
                spec.kind.as_str(),
                spec.provider,
                spec.header.replace('`', "")
            )
        })
        .collect()
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// github|stripe|shopify|slack|standard|zoom|twitch|paddle|linear|twilio|hmac
    #[arg(long)]
    scheme: SchemeKind,
    /// The shared secret (or set HOOKRELAY_SIGN_SECRET to keep it out of
    /// shell history).
    #[arg(long, env = "HOOKRELAY_SIGN_SECRET", hide_env_values = true)]
    secret: String,
    /// The payload to sign.
    #[arg(long)]
    file: PathBuf,
    /// Unix seconds; default now.
    #[arg(long)]
    timestamp: Option<i64>,
    /// Delivery id, for schemes that sign one.
    #[arg(long, default_value = "msg_hookrelay_sample")]
    id: String,
    /// Public URL, for Twilio.
    #[arg(long)]
    url: Option<String>,
    /// Signature header, for the generic hmac scheme.
    #[arg(long)]
    hmac_header: Option<String>,
}

pub fn sign(args: SignArgs) -> Result<String, CliError> {
    let body = std::fs::read(&args.file).map_err(|source| CliError::Read {
        path: args.file.display().to_string(),
        source,
    })?;
    let hmac = match (args.scheme, args.hmac_header) {
        (SchemeKind::Hmac, Some(header)) => Some(HmacOptions::new(header)),
        (SchemeKind::Hmac, None) => {
            return Err(CliError::Usage("--scheme hmac needs --hmac-header".into()))
        }
        (_, _) => None,
    };
    if args.scheme.spec().signs_url() && args.url.is_none() {
        return Err(CliError::Usage(format!(
            "--scheme {} needs --url",
            args.scheme
        )));
    }
    let scheme = Scheme::from_parts(args.scheme, hmac)?;
    let timestamp = args.timestamp.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    });
    let message = ProviderMessage {
        body: &body,
        timestamp,
        id: &args.id,
        url: args.url.as_deref(),
    };
    let secret = Secret::new(args.secret);
    let headers = sign_as_provider(&scheme, &secret, &message)?;
    let mut out: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\n"))
        .collect();
    // Mailgun signs inside the body: print the body as it would be sent.
    if let Some(body) = sign_body_as_provider(&scheme, &secret, &message)? {
        out.push('\n');
        out.push_str(&String::from_utf8_lossy(&body));
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_lists_every_scheme_once() {
        let plain = schemes(&SchemesArgs { markdown: false });
        for kind in SchemeKind::ALL {
            let lines = plain
                .lines()
                .filter(|l| l.split_whitespace().next() == Some(kind.as_str()))
                .count();
            assert_eq!(lines, 1, "{kind}");
        }
        let markdown = schemes(&SchemesArgs { markdown: true });
        assert!(
            markdown.contains("| `gitlab` | GitLab | `X-Gitlab-Token` |"),
            "{markdown}"
        );
    }
}
