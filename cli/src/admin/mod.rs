//! The admin subcommands: `sources`, `destinations`, `routes` (and
//! `routes test`, a filter tried on stored events), `events`, `attempts`,
//! `replay`, `secrets`, and `config push|pull`.
//!
//! Each builds an [`AdminRequest`] and runs it against a target: a running
//! `hookrelay dev` (its admin endpoint, the default) or DynamoDB and SQS
//! (`--aws`), where the request runs in this process. Either way the core's
//! `Admin` use case carries it out, so both behave the same.
mod args;
mod backend;
mod flags;
mod render;
mod stack_grants;

pub use args::*;
pub use backend::{aws_admin, error_kind, Backend};
use flags::*;
pub(crate) use flags::{generate_ed25519_key, generate_secret};
use render::done_text;
pub(crate) use render::public_key_of;
pub use render::render;

use hookrelay_core::admin::HeadAction;
use hookrelay_core::{AdminRequest, AdminResponse};
use hookrelay_models::{Config, Destination, EventId, Route, Source};
use hookrelay_signing::{SchemeKind, Secret};
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::{read, CliError};

pub async fn sources(command: SourcesCommand, target: TargetArgs) -> Result<String, CliError> {
    let backend = Backend::connect(&target).await?;
    let request = match command {
        SourcesCommand::List => AdminRequest::ListSources,
        SourcesCommand::Add(args) => {
            let id = source_id(&args.id)?;
            let scheme = args
                .scheme
                .as_deref()
                .ok_or_else(|| CliError::Invalid("sources add needs --scheme".into()))?;
            let scheme = SchemeKind::from_str(scheme).map_err(CliError::Invalid)?;
            if args.secrets.is_empty() {
                return Err(CliError::Invalid("sources add needs --secret".into()));
            }
            let mut source = Source::new(id, scheme, Vec::new());
            apply_source_args(&mut source, args)?;
            AdminRequest::AddSource { source }
        }
        SourcesCommand::Update(args) => {
            let mut source = current_source(&backend, &source_id(&args.id)?).await?;
            apply_source_args(&mut source, args)?;
            AdminRequest::UpdateSource { source }
        }
        SourcesCommand::Remove { id } => AdminRequest::RemoveSource {
            id: source_id(&id)?,
        },
        SourcesCommand::Rejections { source, since } => AdminRequest::ListRejections {
            source: source.as_deref().map(source_id).transpose()?,
            since: flags::since(&since)?,
        },
    };
    render(backend.run(request).await?, target.output)
}

pub async fn destinations(
    command: DestinationsCommand,
    target: TargetArgs,
) -> Result<String, CliError> {
    let backend = Backend::connect(&target).await?;
    let mut generated = None;
    let request = match command {
        DestinationsCommand::List => AdminRequest::ListDestinations,
        DestinationsCommand::Add(args) => {
            let url = args
                .url
                .clone()
                .ok_or_else(|| CliError::Invalid("destinations add needs --url".into()))?;
            let secret = match &args.secret {
                Some(secret) => Secret::new(secret.clone()),
                None if args.ed25519 => generated.insert(flags::generate_ed25519_key()).clone(),
                None => generated.insert(generate_secret()).clone(),
            };
            let mut destination = Destination::new(destination_id(&args.id)?, url, secret);
            apply_destination_args(&mut destination, &args)?;
            warn_about_stack_grants(&destination, &target);
            AdminRequest::AddDestination {
                destination,
                allow_private: args.allow_private,
            }
        }
        DestinationsCommand::Update(args) => {
            if args.ed25519 {
                return Err(CliError::Invalid(
                    "--ed25519 generates a key for destinations add; to change a destination's key, use secrets rotate --destination ID --ed25519".into(),
                ));
            }
            let mut destination = current_destination(&backend, &destination_id(&args.id)?).await?;
            apply_destination_args(&mut destination, &args)?;
            warn_about_stack_grants(&destination, &target);
            AdminRequest::UpdateDestination {
                destination,
                allow_private: args.allow_private,
            }
        }
        DestinationsCommand::Remove { id } => AdminRequest::RemoveDestination {
            id: destination_id(&id)?,
        },
        DestinationsCommand::Enable { id } => AdminRequest::SetDestinationEnabled {
            destination: destination_id(&id)?,
            enabled: true,
        },
        DestinationsCommand::Disable { id } => AdminRequest::SetDestinationEnabled {
            destination: destination_id(&id)?,
            enabled: false,
        },
        DestinationsCommand::Blocked { id, limit } => AdminRequest::ListBlockedKeys {
            destination: destination_id(&id)?,
            limit,
        },
        DestinationsCommand::Skip { id, key } => AdminRequest::UnblockKey {
            destination: destination_id(&id)?,
            key,
            action: HeadAction::Skip,
        },
        DestinationsCommand::Release { id, key } => AdminRequest::UnblockKey {
            destination: destination_id(&id)?,
            key,
            action: HeadAction::Release,
        },
    };
    let response = backend.run(request).await?;
    match (generated, target.output) {
        (Some(secret), Output::Json) => {
            let (what, shown) = flags::shown_key(&secret);
            Ok(format!(
                "{}\n",
                serde_json::json!({ "message": done_text(&response), what: shown })
            ))
        }
        (Some(secret), Output::Table) => Ok(match flags::shown_key(&secret) {
            ("public_key", public) => format!(
                "{}\npublic key (verifies v1a; also at /.well-known/webhook-keys/{{destination}}): {public}\n",
                done_text(&response),
            ),
            (_, shown) => format!(
                "{}\nsigning secret (shown once; give it to the receiver): {shown}\n",
                done_text(&response),
            ),
        }),
        (None, output) => render(response, output),
    }
}

/// On the deployed stack (`--aws`), says on stderr when it does not let
/// the dispatcher reach an AWS destination's target or role.
fn warn_about_stack_grants(destination: &Destination, target: &TargetArgs) {
    if !target.aws {
        return;
    }
    let variable = |name| std::env::var(name).ok();
    for warning in stack_grants::warnings(
        destination,
        variable(stack_grants::TARGETS_VARIABLE).as_deref(),
        variable(stack_grants::ROLES_VARIABLE).as_deref(),
    ) {
        eprintln!("warning: destination {}: {warning}", destination.id);
    }
}

pub async fn routes(command: RoutesCommand, target: TargetArgs) -> Result<String, CliError> {
    let backend = Backend::connect(&target).await?;
    let request = match command {
        RoutesCommand::List => AdminRequest::ListRoutes,
        RoutesCommand::Add(args) => {
            let mut route =
                Route::new(source_id(&args.source)?, destination_id(&args.destination)?);
            apply_route_args(&mut route, &args)?;
            AdminRequest::AddRoute { route }
        }
        RoutesCommand::Update(args) => {
            let (source, destination) =
                (source_id(&args.source)?, destination_id(&args.destination)?);
            let mut route = current_route(&backend, &source, &destination).await?;
            apply_route_args(&mut route, &args)?;
            AdminRequest::UpdateRoute { route }
        }
        RoutesCommand::Remove {
            source,
            destination,
        } => AdminRequest::RemoveRoute {
            source: source_id(&source)?,
            destination: destination_id(&destination)?,
        },
        RoutesCommand::Test(args) => AdminRequest::TestFilter {
            filter: pattern_json(&args.filter)?,
            source: args.source.as_deref().map(source_id).transpose()?,
            since: args.since.as_deref().map(since).transpose()?,
            limit: args.limit,
        },
    };
    render(backend.run(request).await?, target.output)
}

pub async fn events(command: EventsCommand, target: TargetArgs) -> Result<String, CliError> {
    let mut body_out = None;
    let request = match command {
        EventsCommand::List {
            source,
            since: since_text,
            status,
            limit,
        } => AdminRequest::ListEvents {
            source: source.as_deref().map(source_id).transpose()?,
            since: since_text.as_deref().map(since).transpose()?,
            status: status.as_deref().map(state).transpose()?,
            limit,
        },
        EventsCommand::Show { id, body_out: out } => {
            body_out = out;
            AdminRequest::ShowEvent {
                id: EventId::parse(&id).map_err(|e| CliError::Invalid(e.to_string()))?,
            }
        }
    };
    let backend = Backend::connect(&target).await?;
    let response = backend.run(request).await?;
    if let (Some(path), AdminResponse::Event(detail)) = (&body_out, &response) {
        std::fs::write(path, &detail.event.body).map_err(|e| {
            CliError::Unavailable(format!("could not write {}: {e}", path.display()))
        })?;
    }
    render(response, target.output)
}

pub async fn attempts(command: AttemptsCommand, target: TargetArgs) -> Result<String, CliError> {
    let AttemptsCommand::List {
        destination,
        status,
        limit,
    } = command;
    let failed_only = match status.as_deref() {
        None => false,
        Some("failed") => true,
        Some(other) => {
            return Err(CliError::Invalid(format!(
                "--status {other:?}: only `failed` filters attempts"
            )))
        }
    };
    let request = AdminRequest::ListAttempts {
        destination: destination_id(&destination)?,
        failed_only,
        limit,
    };
    let backend = Backend::connect(&target).await?;
    render(backend.run(request).await?, target.output)
}

pub async fn replay(args: ReplayArgs, target: TargetArgs) -> Result<String, CliError> {
    let destination = args
        .destination
        .as_deref()
        .map(destination_id)
        .transpose()?;
    let request = match (&args.event, args.status.as_deref()) {
        (Some(event), None) => {
            if args.since.is_some() {
                return Err(CliError::Invalid(
                    "--since is for bulk recovery (--destination D --status failed)".into(),
                ));
            }
            AdminRequest::Replay {
                event: EventId::parse(event).map_err(|e| CliError::Invalid(e.to_string()))?,
                destination,
            }
        }
        (None, Some("failed")) => AdminRequest::Recover {
            destination: destination
                .ok_or_else(|| CliError::Invalid("bulk recovery needs --destination".into()))?,
            since: args.since.as_deref().map(since).transpose()?,
        },
        (None, Some(other)) => {
            return Err(CliError::Invalid(format!(
                "--status {other:?}: bulk recovery replays `failed` deliveries"
            )))
        }
        (Some(_), Some(_)) => {
            return Err(CliError::Invalid(
                "give an event id, or --status failed for bulk recovery, not both".into(),
            ))
        }
        (None, None) => {
            return Err(CliError::Invalid(
                "give an event id, or --destination D --status failed [--since T]".into(),
            ))
        }
    };
    let backend = Backend::connect(&target).await?;
    render(backend.run(request).await?, target.output)
}

pub async fn secrets(command: SecretsCommand, target: TargetArgs) -> Result<String, CliError> {
    let SecretsCommand::Rotate(args) = command;
    let backend = Backend::connect(&target).await?;
    match (&args.destination, &args.source) {
        (Some(destination), None) => {
            if args.add.is_some() || args.retire.is_some() {
                return Err(CliError::Invalid(
                    "--add and --retire are for sources; a destination's secret is rotated".into(),
                ));
            }
            let secret = match &args.secret {
                Some(secret) => Secret::new(secret.clone()),
                None if args.ed25519 => flags::generate_ed25519_key(),
                None => generate_secret(),
            };
            let grace = duration(&args.grace)?;
            let response = backend
                .run(AdminRequest::RotateDestinationSecret {
                    destination: destination_id(destination)?,
                    secret: secret.clone(),
                    grace_secs: grace.as_secs(),
                })
                .await?;
            // A whsk_ key is never printed: its public key is.
            let (what, shown) = flags::shown_key(&secret);
            Ok(match target.output {
                Output::Json => format!(
                    "{}\n",
                    serde_json::json!({ "message": done_text(&response), what: shown })
                ),
                Output::Table if what == "public_key" => {
                    format!("{}\nnew public key: {shown}\n", done_text(&response))
                }
                Output::Table => {
                    format!("{}\nnew signing secret: {shown}\n", done_text(&response))
                }
            })
        }
        (None, Some(source)) => {
            let source = source_id(source)?;
            let request = match (&args.add, &args.retire) {
                (Some(add), None) => AdminRequest::AddSourceSecret {
                    source,
                    secret: Secret::new(add.clone()),
                },
                (None, Some(retire)) => AdminRequest::RetireSourceSecret {
                    source,
                    secret: Secret::new(retire.clone()),
                },
                _ => {
                    return Err(CliError::Invalid(
                        "a source's secrets change with --add SECRET or --retire SECRET (one at a time)"
                            .into(),
                    ))
                }
            };
            render(backend.run(request).await?, target.output)
        }
        _ => Err(CliError::Invalid(
            "give --destination D or --source S".into(),
        )),
    }
}

pub async fn push(
    path: &PathBuf,
    allow_private: bool,
    target: &TargetArgs,
) -> Result<String, CliError> {
    let text = read(path)?;
    let config = Config::from_toml(&text, &path.display().to_string())?;
    let backend = Backend::connect(target).await?;
    let response = backend
        .run(AdminRequest::PushConfig {
            config,
            allow_private,
        })
        .await?;
    render(response, target.output)
}

pub async fn pull(target: &TargetArgs) -> Result<String, CliError> {
    let backend = Backend::connect(target).await?;
    match backend.run(AdminRequest::PullConfig).await? {
        AdminResponse::Config(config) => Ok(config.to_toml()),
        other => Err(unexpected(other)),
    }
}
