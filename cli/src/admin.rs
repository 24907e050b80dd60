//! The admin subcommands: `sources`, `destinations`, `routes`, `events`,
//! `attempts`, `replay`, `secrets`, and `config push|pull`.
//!
//! Each builds an [`AdminRequest`] and runs it against a target: a running
//! `hookrelay dev` (its admin endpoint, the default) or DynamoDB and SQS
//! (`--aws`), where the request runs in this process. Either way the core's
//! `Admin` use case carries it out, so both behave the same.
use base64::Engine;
use clap::{Args, Subcommand, ValueEnum};
use hookrelay_aws::{DynamoConfigStore, DynamoDeliveryStore, DynamoEventStore, SqsQueue};
use hookrelay_core::admin::{EventDetail, EventSummary, Replayed};
use hookrelay_core::{
    Admin, AdminRequest, AdminResponse, Clock, ConfigStore, CoreError, ErrorKind, Queue,
    SystemClock,
};
use hookrelay_http::PrivateAddressCheck;
use hookrelay_models::{
    Attempt, Config, DeliveryState, Destination, DestinationId, EventFilter, EventId,
    FieldSelector, RetrySchedule, Route, Source, SourceId, Timestamp,
};
use hookrelay_signing::{HmacOptions, SchemeKind, Secret};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crate::commands::{read, CliError};

/// Where an admin command acts. Global, so it may follow the subcommand.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Act on DynamoDB and SQS (honours AWS_ENDPOINT_URL) instead of a
    /// running `hookrelay dev`.
    #[arg(long, global = true)]
    pub aws: bool,
    /// The admin endpoint of `hookrelay dev`.
    #[arg(
        long,
        global = true,
        env = "HOOKRELAY_ADMIN_URL",
        default_value = "http://127.0.0.1:3001"
    )]
    pub admin_url: String,
    #[arg(
        long,
        global = true,
        env = "HOOKRELAY_CONFIG_TABLE",
        default_value = "hookrelay-config"
    )]
    pub config_table: String,
    #[arg(
        long,
        global = true,
        env = "HOOKRELAY_EVENTS_TABLE",
        default_value = "hookrelay-events"
    )]
    pub events_table: String,
    /// With --aws: the delivery queue, for replay and enable.
    #[arg(long, global = true, env = "HOOKRELAY_QUEUE_URL")]
    pub queue_url: Option<String>,
    /// `table` for people, `json` for scripts.
    #[arg(long, global = true, value_enum, default_value = "table")]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

// ---- subcommands -------------------------------------------------------

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    List,
    /// Add a source: providers POST to /hooks/{ID}.
    Add(SourceArgs),
    /// Change a source; options not given keep their value.
    Update(SourceArgs),
    Remove {
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct SourceArgs {
    pub id: String,
    /// github|stripe|shopify|slack|standard|zoom|twitch|paddle|linear|twilio|hmac
    #[arg(long)]
    pub scheme: Option<String>,
    /// A signing secret (repeat for several). Or HOOKRELAY_SOURCE_SECRET.
    #[arg(
        long = "secret",
        env = "HOOKRELAY_SOURCE_SECRET",
        hide_env_values = true
    )]
    pub secrets: Vec<String>,
    /// For the hmac scheme: the signature header.
    #[arg(long)]
    pub hmac_header: Option<String>,
    #[arg(long)]
    pub tolerance_secs: Option<u64>,
    #[arg(long)]
    pub max_body_bytes: Option<usize>,
    /// Where the event type is read: header:<Name> or json:/<pointer>.
    #[arg(long)]
    pub event_type: Option<String>,
    /// Where the provider's delivery id is read: header:<Name> or json:/<pointer>.
    #[arg(long)]
    pub delivery_id: Option<String>,
    #[arg(long)]
    pub public_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DestinationsCommand {
    /// Destinations, whether each is enabled, and why not.
    List,
    /// Add a destination; without --secret one is generated and printed.
    Add(DestinationArgs),
    /// Change a destination; options not given keep their value.
    Update(DestinationArgs),
    Remove {
        id: String,
    },
    /// Enable it again; its parked deliveries go out in arrival order.
    Enable {
        id: String,
    },
    /// Disable it: deliveries for it are parked, not attempted.
    Disable {
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct DestinationArgs {
    pub id: String,
    #[arg(long)]
    pub url: Option<String>,
    /// `whsec_…` signing secret. Or HOOKRELAY_DESTINATION_SECRET.
    #[arg(long, env = "HOOKRELAY_DESTINATION_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// An extra header on every delivery, `Name=value` (repeatable).
    #[arg(long = "header")]
    pub headers: Vec<String>,
    /// e.g. 10s
    #[arg(long)]
    pub timeout: Option<String>,
    /// Delays before each attempt, e.g. `0s,5s,5m,30m`.
    #[arg(long)]
    pub retry_schedule: Option<String>,
    #[arg(long)]
    pub max_in_flight: Option<u32>,
    /// Allow a private, loopback or link-local URL (local development).
    #[arg(long)]
    pub allow_private: bool,
}

#[derive(Debug, Subcommand)]
pub enum RoutesCommand {
    List,
    Add(RouteArgs),
    /// Replace a route's event filters.
    Update(RouteArgs),
    Remove {
        #[arg(long)]
        source: String,
        #[arg(long)]
        destination: String,
    },
}

#[derive(Debug, Args)]
pub struct RouteArgs {
    #[arg(long)]
    pub source: String,
    #[arg(long)]
    pub destination: String,
    /// Event types, comma-separated: `push,pull_request.*`; default every event.
    #[arg(long, default_value = "*")]
    pub events: String,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Events, newest first.
    List {
        #[arg(long)]
        source: Option<String>,
        /// RFC 3339 time, or an age such as `2h`.
        #[arg(long)]
        since: Option<String>,
        /// Only events with a delivery in this state (e.g. failed).
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// An event's headers, body, deliveries and attempts.
    Show { id: String },
}

#[derive(Debug, Subcommand)]
pub enum AttemptsCommand {
    /// A destination's attempts, newest first.
    List {
        #[arg(long)]
        destination: String,
        /// `failed`: only attempts that did not get a 2xx.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The event to send again (omit for a bulk recovery).
    pub event: Option<String>,
    #[arg(long)]
    pub destination: Option<String>,
    /// Bulk recovery: `failed`, with --destination.
    #[arg(long)]
    pub status: Option<String>,
    /// Bulk recovery: events received since (RFC 3339 or an age like `24h`).
    #[arg(long)]
    pub since: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Rotate a destination's signing secret (the old one keeps signing
    /// for --grace), or add/retire a source's secret.
    Rotate(RotateArgs),
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    #[arg(long, conflicts_with = "source")]
    pub destination: Option<String>,
    #[arg(long)]
    pub source: Option<String>,
    /// Destination: the new `whsec_` secret (default: generated, printed).
    /// Or HOOKRELAY_NEW_SECRET.
    #[arg(long, env = "HOOKRELAY_NEW_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Destination: how long the previous secret keeps signing.
    #[arg(long, default_value = "24h")]
    pub grace: String,
    /// Source: a secret to accept from now on.
    #[arg(long, requires = "source")]
    pub add: Option<String>,
    /// Source: a secret to stop accepting.
    #[arg(long, requires = "source")]
    pub retire: Option<String>,
}

// ---- targets -----------------------------------------------------------

/// Runs admin requests somewhere.
pub enum Backend {
    Remote {
        url: String,
        client: reqwest::Client,
        /// The endpoint's token (see [`crate::admin_token`]), if found.
        token: Option<String>,
    },
    Local(Box<Admin>),
}

impl Backend {
    pub async fn connect(target: &TargetArgs) -> Result<Backend, CliError> {
        if !target.aws {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .no_proxy()
                .build()
                .map_err(|e| CliError::Unavailable(e.to_string()))?;
            return Ok(Backend::Remote {
                url: format!("{}/admin", target.admin_url.trim_end_matches('/')),
                client,
                token: crate::admin_token::for_url(&target.admin_url),
            });
        }
        let sdk = hookrelay_aws::sdk_config().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let config = Arc::new(DynamoConfigStore::new(dynamo.clone(), &target.config_table));
        let queue: Option<Arc<dyn Queue>> = target.queue_url.as_ref().map(|url| {
            Arc::new(SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), url)) as Arc<dyn Queue>
        });
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        Ok(Backend::Local(Box::new(Admin::new(
            config.clone() as Arc<dyn ConfigStore>,
            config,
            Arc::new(DynamoEventStore::new(dynamo.clone(), &target.events_table)),
            Arc::new(DynamoDeliveryStore::new(dynamo, &target.events_table)),
            queue,
            clock,
            Arc::new(PrivateAddressCheck),
        ))))
    }

    pub async fn run(&self, request: AdminRequest) -> Result<AdminResponse, CliError> {
        match self {
            Backend::Local(admin) => admin.execute(request).await.map_err(CliError::from),
            Backend::Remote { url, client, token } => {
                let body = serde_json::to_vec(&request).expect("admin requests serialize");
                let mut call = client
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body);
                if let Some(token) = token {
                    call = call.bearer_auth(token);
                }
                let response = call
                    .send()
                    .await
                    .map_err(|e| {
                        CliError::Unavailable(format!(
                            "cannot reach hookrelay dev's admin endpoint at {url} ({e}); is `hookrelay dev` running? For a deployed stack, add --aws"
                        ))
                    })?;
                let status = response.status();
                let bytes = response
                    .bytes()
                    .await
                    .map_err(|e| CliError::Unavailable(e.to_string()))?;
                if status.is_success() {
                    return serde_json::from_slice(&bytes).map_err(|e| {
                        CliError::Unavailable(format!("unreadable answer from {url}: {e}"))
                    });
                }
                let error: serde_json::Value =
                    serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
                let message = error["message"].as_str().unwrap_or("no detail").to_string();
                Err(match error["error"].as_str() {
                    Some("invalid") => CliError::Invalid(message),
                    Some("not_found") => CliError::NotFound(message),
                    Some("conflict") => CliError::Conflict(message),
                    Some("unauthorized") => CliError::Unauthorized(format!(
                        "{message}: run the command as the user who started `hookrelay dev` (it wrote its token under {}), or set HOOKRELAY_ADMIN_TOKEN",
                        crate::admin_token::token_path(0).parent().map(|d| d.display().to_string()).unwrap_or_default()
                    )),
                    _ => CliError::Unavailable(format!("{url} answered {status}: {message}")),
                })
            }
        }
    }
}

/// The admin endpoint's answer to a failed request: a kind the CLI turns
/// back into the same error (and exit code) as when run in process.
pub fn error_kind(err: &CoreError) -> (u16, &'static str) {
    let kind = err.kind();
    let status = match kind {
        ErrorKind::Invalid => 400,
        ErrorKind::Unauthorized => 401,
        ErrorKind::NotFound => 404,
        ErrorKind::Conflict => 409,
        ErrorKind::TooLarge => 413,
        ErrorKind::Unavailable => 503,
        ErrorKind::Misconfigured | ErrorKind::Corrupt => 500,
    };
    (status, kind.label())
}

impl From<CoreError> for CliError {
    fn from(err: CoreError) -> Self {
        let message = err.to_string();
        match err.kind() {
            ErrorKind::Invalid | ErrorKind::TooLarge => CliError::Invalid(message),
            ErrorKind::NotFound => CliError::NotFound(message),
            ErrorKind::Conflict => CliError::Conflict(message),
            ErrorKind::Unauthorized => CliError::Unauthorized(message),
            ErrorKind::Unavailable | ErrorKind::Misconfigured | ErrorKind::Corrupt => {
                CliError::Unavailable(message)
            }
        }
    }
}

// ---- parsing flags -----------------------------------------------------

fn source_id(value: &str) -> Result<SourceId, CliError> {
    SourceId::parse(value).map_err(|e| CliError::Invalid(e.to_string()))
}

fn destination_id(value: &str) -> Result<DestinationId, CliError> {
    DestinationId::parse(value).map_err(|e| CliError::Invalid(e.to_string()))
}

fn selector(value: &str) -> Result<FieldSelector, CliError> {
    FieldSelector::from_str(value).map_err(CliError::Invalid)
}

fn duration(value: &str) -> Result<Duration, CliError> {
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

fn state(value: &str) -> Result<DeliveryState, CliError> {
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
fn generate_secret() -> Secret {
    let mut key = [0u8; 24];
    getrandom::fill(&mut key).expect("operating system random source");
    Secret::new(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    ))
}

fn apply_source_args(source: &mut Source, args: SourceArgs) -> Result<(), CliError> {
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
    Ok(())
}

fn apply_destination_args(
    destination: &mut Destination,
    args: &DestinationArgs,
) -> Result<(), CliError> {
    if let Some(url) = &args.url {
        destination.url = url.clone();
    }
    if let Some(secret) = &args.secret {
        destination.secret = Secret::new(secret.clone());
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
    Ok(())
}

fn route_from(args: &RouteArgs) -> Result<Route, CliError> {
    let mut route = Route::new(source_id(&args.source)?, destination_id(&args.destination)?);
    route.events = args
        .events
        .split(',')
        .map(|f| EventFilter::parse(f.trim()).map_err(|e| CliError::Invalid(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(route)
}

async fn current_source(backend: &Backend, id: &SourceId) -> Result<Source, CliError> {
    match backend.run(AdminRequest::ListSources).await? {
        AdminResponse::Sources(sources) => sources
            .into_iter()
            .find(|s| &s.id == id)
            .ok_or_else(|| CliError::NotFound(format!("no source {id}"))),
        other => Err(unexpected(other)),
    }
}

async fn current_destination(
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

fn unexpected(response: AdminResponse) -> CliError {
    CliError::Unavailable(format!("unexpected answer: {}", redacted_json(&response)))
}

// ---- running -----------------------------------------------------------

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
                None => generated.insert(generate_secret()).clone(),
            };
            let mut destination = Destination::new(destination_id(&args.id)?, url, secret);
            apply_destination_args(&mut destination, &args)?;
            AdminRequest::AddDestination {
                destination,
                allow_private: args.allow_private,
            }
        }
        DestinationsCommand::Update(args) => {
            let mut destination = current_destination(&backend, &destination_id(&args.id)?).await?;
            apply_destination_args(&mut destination, &args)?;
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
    };
    let response = backend.run(request).await?;
    match (generated, target.output) {
        (Some(secret), Output::Json) => Ok(format!(
            "{}\n",
            serde_json::json!({ "message": done_text(&response), "secret": secret.expose() })
        )),
        (Some(secret), Output::Table) => Ok(format!(
            "{}\nsigning secret (shown once; give it to the receiver): {}\n",
            done_text(&response),
            secret.expose()
        )),
        (None, output) => render(response, output),
    }
}

pub async fn routes(command: RoutesCommand, target: TargetArgs) -> Result<String, CliError> {
    let backend = Backend::connect(&target).await?;
    let request = match command {
        RoutesCommand::List => AdminRequest::ListRoutes,
        RoutesCommand::Add(args) => AdminRequest::AddRoute {
            route: route_from(&args)?,
        },
        RoutesCommand::Update(args) => AdminRequest::UpdateRoute {
            route: route_from(&args)?,
        },
        RoutesCommand::Remove {
            source,
            destination,
        } => AdminRequest::RemoveRoute {
            source: source_id(&source)?,
            destination: destination_id(&destination)?,
        },
    };
    render(backend.run(request).await?, target.output)
}

pub async fn events(command: EventsCommand, target: TargetArgs) -> Result<String, CliError> {
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
        EventsCommand::Show { id } => AdminRequest::ShowEvent {
            id: EventId::parse(&id).map_err(|e| CliError::Invalid(e.to_string()))?,
        },
    };
    let backend = Backend::connect(&target).await?;
    render(backend.run(request).await?, target.output)
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
            Ok(match target.output {
                Output::Json => format!(
                    "{}\n",
                    serde_json::json!({ "message": done_text(&response), "secret": secret.expose() })
                ),
                Output::Table => format!(
                    "{}\nnew signing secret: {}\n",
                    done_text(&response),
                    secret.expose()
                ),
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

// ---- output ------------------------------------------------------------

fn done_text(response: &AdminResponse) -> String {
    match response {
        AdminResponse::Done(message) => message.clone(),
        other => redacted_json(other),
    }
}

/// An answer as JSON, with [`redact`] applied: for the paths that print
/// whatever came back.
fn redacted_json(response: &AdminResponse) -> String {
    let mut value = serde_json::to_value(response).unwrap_or_default();
    redact(&mut value);
    value.to_string()
}

/// Secrets never appear in output: each secret, and each value of a
/// destination's extra headers (API keys, as often as not), is replaced by
/// its fingerprint, and credentials in a URL are masked.
fn redact(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                match (key.as_str(), &*field) {
                    ("secret", serde_json::Value::String(s)) => {
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
                    ("url", serde_json::Value::String(url)) => {
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
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

fn fingerprint_value(secret: &str) -> serde_json::Value {
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
            &["ID", "URL", "STATUS", "SECRET"],
            destinations
                .iter()
                .map(|d| {
                    let status = match (d.enabled, &d.disabled_reason) {
                        (true, _) => "enabled".to_string(),
                        (false, Some(reason)) => format!("disabled ({reason})"),
                        (false, None) => "disabled".to_string(),
                    };
                    let mut secret = format!("sha256:{}", d.secret.fingerprint());
                    for retiring in &d.retiring_secrets {
                        secret.push_str(&format!(
                            " +sha256:{} until {}",
                            retiring.secret.fingerprint(),
                            retiring.expires_at
                        ));
                    }
                    vec![
                        d.id.to_string(),
                        hookrelay_models::redact_url(&d.url),
                        status,
                        secret,
                    ]
                })
                .collect(),
        ),
        AdminResponse::Routes(routes) => table(
            &["SOURCE", "DESTINATION", "EVENTS"],
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
                    ]
                })
                .collect(),
        ),
        AdminResponse::Events(events) => events_table(&events),
        AdminResponse::Event(detail) => event_text(&detail),
        AdminResponse::Attempts(attempts) => attempts_table(&attempts),
        AdminResponse::Replayed(replayed) => replayed_text(&replayed),
    })
}

fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
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

fn deliveries_cell(summary: &EventSummary) -> String {
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

fn events_table(events: &[EventSummary]) -> String {
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

fn attempts_table(attempts: &[Attempt]) -> String {
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

fn event_text(detail: &EventDetail) -> String {
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
    match std::str::from_utf8(&event.body) {
        Ok(text) => {
            out.push_str(text);
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
        Err(_) => out.push_str(&format!(
            "  (binary) {}\n",
            base64::engine::general_purpose::STANDARD.encode(&event.body)
        )),
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

fn replayed_text(replayed: &[Replayed]) -> String {
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
