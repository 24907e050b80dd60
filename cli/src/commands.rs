//! The subcommands, as functions from arguments to the text they print, so
//! they can be tested without a process.
use clap::{Args, Subcommand};
use hookrelay_models::{Config, ConfigError};
use hookrelay_signing::{
    sign_as_provider, HmacOptions, ProviderMessage, Scheme, SchemeKind, Secret, SecretError,
};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};
use thiserror::Error;

use crate::admin::TargetArgs;

#[derive(Debug, Error)]
pub enum CliError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot listen on {0}: {1}")]
    Bind(String, String),
    #[error("{0}")]
    Unavailable(String),
    #[error("refused: {0}")]
    Rejected(String),
    /// The request would make the configuration invalid, or its flags are
    /// wrong; nothing was written.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The admin endpoint refused the request's token.
    #[error("{0}")]
    Unauthorized(String),
}

impl CliError {
    /// 1: try again (unreachable, refused); 2: fix the input (file,
    /// flags, an invalid change; nothing was written); 3: no such thing;
    /// 4: it exists already or is still in use. Scripts can rely on these.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Read { .. }
            | CliError::Bind(..)
            | CliError::Unavailable(_)
            | CliError::Rejected(_) => ExitCode::from(1),
            CliError::Config(_)
            | CliError::Secret(_)
            | CliError::Usage(_)
            | CliError::Invalid(_) => ExitCode::from(2),
            CliError::NotFound(_) => ExitCode::from(3),
            CliError::Conflict(_) => ExitCode::from(4),
            CliError::Unauthorized(_) => ExitCode::from(5),
        }
    }
}

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

pub fn read(path: &PathBuf) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.display().to_string(),
        source,
    })
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
    if args.scheme == SchemeKind::Twilio && args.url.is_none() {
        return Err(CliError::Usage("--scheme twilio needs --url".into()));
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
    let headers = sign_as_provider(&scheme, &Secret::new(args.secret), &message)?;
    Ok(headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\n"))
        .collect())
}
