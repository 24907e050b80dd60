//! `hookrelay dev`: the receiver and the dispatcher in one process, on the
//! embedded adapters (no AWS, no Docker) or, with `--aws`, on DynamoDB and
//! SQS at `AWS_ENDPOINT_URL` (moto) or in a real account.
use clap::Args;
use hookrelay_aws::{
    provision, AwsRequestSigner, AwsTargetSender, BodyLinks, SecretsManagerReader,
};
use hookrelay_core::consume::{consume, ConsumeLimits};
use hookrelay_core::dispatch::SenderByTarget;
use hookrelay_core::{
    http_api, Admin, AdminRequest, AlertSettings, Clock, ConfigStore, DeliveryStore,
    DestinationHealth, DestinationPace, Dispatch, DispatchSettings, EventStore, Ingest,
    IngestSettings, Queue, QueueConsumer, RejectionTally, Sns, SnsHosts, Stores, SystemClock,
};
use hookrelay_embedded::{MemoryQueue, MemoryStore, Retention};
use hookrelay_http::{Authenticator, HttpFetcher, HttpSender, PrivateAddressCheck};
use hookrelay_models::{Config, BODY_LIMIT_CEILING};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::dev_bodies::DevBodies;
use crate::error::{read, CliError};
use crate::logging::{self, LogFormat};
use crate::server::{self, FullRequest};

#[derive(Debug, Args)]
pub struct DevArgs {
    /// Configuration file (sources, destinations, routes).
    #[arg(long, default_value = "hookrelay.toml")]
    pub config: PathBuf,
    /// Where the receiver listens.
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Where the admin endpoint the admin subcommands talk to listens
    /// (loopback only: it can change the configuration).
    #[arg(long, default_value = "127.0.0.1:3001")]
    pub admin_listen: SocketAddr,
    /// Use DynamoDB and SQS (honours AWS_ENDPOINT_URL) instead of memory.
    #[arg(long)]
    pub aws: bool,
    /// With --aws: create the tables and the queue first (for moto).
    #[arg(long, requires = "aws")]
    pub create: bool,
    #[arg(
        long,
        env = "HOOKRELAY_EVENTS_TABLE",
        default_value = "hookrelay-events"
    )]
    pub events_table: String,
    #[arg(
        long,
        env = "HOOKRELAY_CONFIG_TABLE",
        default_value = "hookrelay-config"
    )]
    pub config_table: String,
    /// With --aws: the queue's URL (or name it with --create).
    #[arg(long, env = "HOOKRELAY_QUEUE_URL")]
    pub queue_url: Option<String>,
    /// With --aws: the S3 bucket large bodies are kept in (created with
    /// --create); without one, an event must fit its DynamoDB item.
    #[arg(long, env = "HOOKRELAY_BODY_BUCKET")]
    pub body_bucket: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Disable a destination once every attempt to it has failed this long
    /// (`off` to never).
    #[arg(long, default_value = "24h", value_parser = period)]
    pub auto_disable_after: Period,
    /// Probe an automatically disabled destination this often (at most
    /// 15m) and enable it on success; `off` by default.
    #[arg(long, default_value = "off", value_parser = period)]
    pub probe_every: Period,
    /// Send each operational event (routes from the source `hookrelay`)
    /// at most once per destination and type in each window this long
    /// (`off`: every one).
    #[arg(long, env = "HOOKRELAY_ALERT_WINDOW", default_value = "1h", value_parser = period)]
    pub alert_window: Period,
    /// Raise `destination.failing` once a destination's last this many
    /// attempts all failed.
    #[arg(long, env = "HOOKRELAY_FAILING_ALERT_AFTER", default_value_t = hookrelay_core::operational::DEFAULT_FAILING_AFTER,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub failing_alert_after: u32,
    /// Keep events (and their deliveries and attempts) this many days.
    #[arg(long, env = "HOOKRELAY_RETENTION_DAYS", default_value_t = 30)]
    pub retention_days: u64,
    /// In memory: keep at most this many events, dropping the oldest
    /// settled ones first (never one that may still be delivered).
    #[arg(long, default_value_t = hookrelay_embedded::DEFAULT_MAX_EVENTS)]
    pub max_events: usize,
}

impl DevArgs {
    fn alert_settings(&self) -> AlertSettings {
        AlertSettings {
            window: self.alert_window.0.unwrap_or(Duration::ZERO),
            failing_after: self.failing_alert_after,
            retention: self.ingest_settings().retention,
        }
    }

    fn ingest_settings(&self) -> IngestSettings {
        IngestSettings {
            retention: Duration::from_secs(self.retention_days.saturating_mul(86_400)),
            ..IngestSettings::default()
        }
    }
}

/// A duration, or `off`. (A plain `Option` would make clap treat the flag
/// itself as optional.)
#[derive(Debug, Clone, Copy)]
pub struct Period(Option<Duration>);

fn period(value: &str) -> Result<Period, String> {
    hookrelay_models::parse_optional_period(value)
        .map(Period)
        .map_err(|e| e.to_string())
}

fn dispatch_settings(args: &DevArgs) -> DispatchSettings {
    DispatchSettings {
        auto_disable_after: args.auto_disable_after.0,
        probe_every: args.probe_every.0,
        alerts: args.alert_settings(),
        ..DispatchSettings::default()
    }
}

struct Stack {
    ingest: Arc<Ingest>,
    dispatch: Arc<Dispatch>,
    admin: Arc<Admin>,
    /// Where the dispatcher takes its messages from.
    consumer: Arc<dyn QueueConsumer>,
    /// Bodies the dev server serves for pointers, when there is no bucket.
    bodies: Option<Arc<DevBodies>>,
}

/// SNS sources fetch their certificates from SNS's own hosts, as deployed:
/// the stack has no switch that points them anywhere else.
fn sns_verification() -> Result<Sns, CliError> {
    let fetcher = HttpFetcher::new(false).map_err(|e| CliError::Usage(e.to_string()))?;
    Ok(Sns::new(SnsHosts::aws(), Arc::new(fetcher)))
}

/// HTTP, and AWS targets (SQS) with the AWS configuration of the
/// environment, read only when a first AWS delivery needs it; bodies too
/// large for an AWS target pointed to in `links`. The same configuration,
/// read as late, signs `aws_sigv4` destinations' requests and reads
/// `secretsmanager:` credentials, with or without `--aws`.
fn senders(
    config: &Config,
    links: Arc<dyn BodyLinks>,
) -> Result<Arc<dyn hookrelay_core::Sender>, CliError> {
    let http = HttpSender::new(config.allow_private_destinations)
        .map_err(|e| CliError::Usage(e.to_string()))?
        .with_authenticator(Authenticator::new(
            Some(Arc::new(SecretsManagerReader::from_env_when_needed())),
            Some(Arc::new(AwsRequestSigner::from_env_when_needed())),
        ));
    Ok(Arc::new(SenderByTarget::new(
        Arc::new(http),
        Some(Arc::new(
            AwsTargetSender::from_env_when_needed().with_body_links(links),
        )),
    )))
}

/// Without a body bucket, the dev server serves pointed-to bodies itself.
fn dev_bodies() -> Result<Arc<DevBodies>, CliError> {
    DevBodies::new()
        .map(Arc::new)
        .map_err(CliError::Unavailable)
}

fn build_memory(config: Config, args: &DevArgs) -> Result<Stack, CliError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let bodies = dev_bodies()?;
    let sender = senders(&config, bodies.clone())?;
    let store = Arc::new(MemoryStore::new(config).with_retention(Retention {
        by_age: true,
        max_events: args.max_events,
    }));
    let queue = Arc::new(MemoryQueue::new(clock.clone()));
    let ingest = Ingest::new(
        store.clone(),
        store.clone(),
        queue.clone(),
        clock.clone(),
        args.ingest_settings(),
    )
    .with_sns(sns_verification()?)
    .with_rejections(Arc::new(RejectionTally::new(store.clone())));
    let dispatch = Dispatch::new(
        Stores::all_in(store.clone()),
        queue.clone(),
        sender,
        clock.clone(),
        dispatch_settings(args),
    );
    let admin = Admin::new(
        Stores::all_in(store.clone()),
        store.clone(),
        Some(queue.clone()),
        clock,
        Arc::new(PrivateAddressCheck),
    )
    .with_alert_settings(args.alert_settings())
    .with_rejections(store);
    Ok(Stack {
        ingest: Arc::new(ingest),
        dispatch: Arc::new(dispatch),
        admin: Arc::new(admin),
        consumer: queue,
        bodies: Some(bodies),
    })
}

async fn build_aws(config: Config, args: &DevArgs) -> Result<Stack, CliError> {
    let unavailable = |e: hookrelay_aws::AwsError| CliError::Unavailable(e.to_string());
    let sdk = hookrelay_aws::sdk_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = if args.create {
        provision::create_events_table(&dynamo, &args.events_table)
            .await
            .map_err(unavailable)?;
        provision::create_config_table(&dynamo, &args.config_table)
            .await
            .map_err(unavailable)?;
        let name = args
            .queue_url
            .clone()
            .unwrap_or_else(|| "hookrelay-deliveries".into());
        let queue_url = provision::create_queue(&sqs, &name)
            .await
            .map_err(unavailable)?;
        if let Some(bucket) = &args.body_bucket {
            let retention_days = i32::try_from(args.retention_days).unwrap_or(i32::MAX);
            provision::create_body_bucket(&hookrelay_aws::s3_client(&sdk), bucket, retention_days)
                .await
                .map_err(unavailable)?;
        }
        queue_url
    } else {
        args.queue_url.clone().ok_or_else(|| {
            CliError::Usage("--aws needs --queue-url (or HOOKRELAY_QUEUE_URL), or --create".into())
        })?
    };
    let ingest_settings = args.ingest_settings();
    let adapters = hookrelay_aws::Adapters::new(
        &sdk,
        &hookrelay_aws::AwsSettings {
            events_table: args.events_table.clone(),
            config_table: args.config_table.clone(),
            queue_url,
            retention: ingest_settings.retention,
            // Written with, and recorded in the config table before the
            // first write; listings query the highest count recorded.
            index_shards: hookrelay_aws::IndexShards::from_env()
                .map_err(|e| CliError::Usage(e.to_string()))?,
            body_bucket: args.body_bucket.clone(),
            inline_body_bytes: hookrelay_aws::DEFAULT_INLINE_BODY_BYTES,
        },
    );
    adapters
        .config
        .replace_config(&config)
        .await
        .map_err(unavailable)?;
    let config_store = Arc::new(adapters.config);
    let rejections = Arc::new(adapters.rejections);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let events: Arc<dyn EventStore> = Arc::new(adapters.events);
    let delivery_store = Arc::new(adapters.deliveries);
    let health: Arc<dyn DestinationHealth> = delivery_store.clone();
    let pace: Arc<dyn DestinationPace> = delivery_store.clone();
    let deliveries: Arc<dyn DeliveryStore> = delivery_store;
    let sqs_queue = Arc::new(adapters.queue);
    let consumer: Arc<dyn QueueConsumer> = sqs_queue.clone();
    let queue: Arc<dyn Queue> = sqs_queue;
    let (links, bodies): (Arc<dyn BodyLinks>, _) = match adapters.body_bucket {
        Some(bucket) => (Arc::new(bucket), None),
        None => {
            let bodies = dev_bodies()?;
            (bodies.clone(), Some(bodies))
        }
    };
    let sender = senders(&config, links)?;
    let config_port: Arc<dyn ConfigStore> = config_store.clone();
    let stores = Stores {
        config: config_port.clone(),
        events: events.clone(),
        deliveries,
        health,
        pace,
    };
    let admin = Admin::new(
        stores.clone(),
        config_store,
        Some(queue.clone()),
        clock.clone(),
        Arc::new(PrivateAddressCheck),
    )
    .with_alert_settings(args.alert_settings())
    .with_rejections(rejections.clone());
    let ingest = Ingest::new(
        config_port.clone(),
        events.clone(),
        queue.clone(),
        clock.clone(),
        ingest_settings,
    )
    .with_sns(sns_verification()?)
    .with_rejections(Arc::new(RejectionTally::new(rejections)));
    let dispatch = Dispatch::new(stores, queue, sender, clock, dispatch_settings(args));
    Ok(Stack {
        ingest: Arc::new(ingest),
        dispatch: Arc::new(dispatch),
        admin: Arc::new(admin),
        consumer,
        bodies,
    })
}

pub async fn dev(args: DevArgs) -> Result<String, CliError> {
    logging::init(args.log_format);
    let text = read(&args.config)?;
    let config = Config::from_toml(&text, &args.config.display().to_string())?;
    let sources: Vec<String> = config.sources.iter().map(|s| s.id.to_string()).collect();
    let stack = if args.aws {
        build_aws(config, &args).await?
    } else {
        build_memory(config, &args)?
    };
    let (listener, address) = server::bind(args.listen).await?;
    if let Some(bodies) = &stack.bodies {
        bodies.serve_at(format!("http://{address}"));
    }
    tracing::info!(
        "hookrelay dev: POST http://{address}/hooks/{{source}} (sources: {}; {}); Ctrl-C to stop",
        sources.join(", "),
        if args.aws {
            "DynamoDB + SQS"
        } else {
            "in memory"
        }
    );

    if !args.admin_listen.ip().is_loopback() {
        return Err(CliError::Usage(format!(
            "--admin-listen {}: the admin endpoint can change the configuration, so it listens on loopback only",
            args.admin_listen
        )));
    }
    let (admin_listener, admin_address) = server::bind(args.admin_listen).await?;
    let (admin_token, token_file) = crate::admin_token::issue(admin_address.port())?;
    tracing::info!("hookrelay dev: admin endpoint http://{admin_address} (for `hookrelay sources|destinations|routes|events|attempts|replay|secrets`); its token is in {} (readable only by you; the admin commands read it from there)", token_file.display());
    let console = Arc::new(
        crate::console::Console::new(stack.admin.clone(), Some(format!("http://{address}")))
            .with_login_key(admin_token.clone()),
    );
    // On stdout, for scripts and tests that start dev on port 0; the
    // console's one-time login URL too (as Jupyter prints its own).
    println!(
        "hookrelay dev: receiver http://{address} admin http://{admin_address} console {}",
        console.login_url(&admin_address)
    );

    let shutdown = server::shutdown_on_signal();
    let admin_server = tokio::spawn(server::serve(
        admin_listener,
        4 * 1024 * 1024,
        admin_handler(stack.admin.clone(), admin_token, console),
        shutdown.clone(),
    ));
    // Up to 64 messages in hand, each its own batch: a destination that
    // stalls holds up only its own messages, not nine others'.
    let dispatcher = tokio::spawn(consume(
        stack.dispatch.clone(),
        stack.consumer.clone(),
        ConsumeLimits {
            batch_size: 1,
            concurrent_batches: 64,
        },
        shutdown.clone(),
    ));
    // Rejection counts held back (a burst's tail) are written once their
    // minute is up even if no other request comes.
    let flusher = {
        let ingest = stack.ingest.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(hookrelay_core::rejections::FLUSH_EVERY);
            loop {
                tokio::select! {
                    _ = every.tick() => ingest.flush_rejections().await,
                    _ = shutdown.changed() => return,
                }
            }
        })
    };
    let ingest = stack.ingest.clone();
    let bodies = stack.bodies.clone();
    server::serve(
        listener,
        BODY_LIMIT_CEILING + 1,
        move |request: FullRequest| {
            let ingest = ingest.clone();
            let bodies = bodies.clone();
            async move {
                if let (Some(bodies), &http::Method::GET) = (&bodies, request.method()) {
                    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
                    if let Some(served) = bodies.serve(path, SystemClock.now()) {
                        return served;
                    }
                }
                let public_url = request
                    .headers()
                    .get(http::header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .map(|host| {
                        let path = request
                            .uri()
                            .path_and_query()
                            .map(|p| p.as_str())
                            .unwrap_or("/");
                        format!("http://{host}{path}")
                    });
                let (parts, body) = request.into_parts();
                let path = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                http_api::handle(
                    &ingest,
                    &parts.method,
                    path,
                    &parts.headers,
                    &body,
                    public_url.as_deref(),
                )
                .await
            }
        },
        shutdown,
    )
    .await;
    tracing::info!("stopping: finishing deliveries in flight");
    let _ = admin_server.await;
    let _ = dispatcher.await;
    let _ = flusher.await;
    // What the last minute held back.
    stack.ingest.flush_rejections().await;
    let _ = std::fs::remove_file(&token_file);
    tracing::info!("stopped");
    Ok(String::new())
}

/// The admin endpoint: `POST /admin` with an [`AdminRequest`] as JSON,
/// answered with the [`hookrelay_core::AdminResponse`] or
/// `{"error": kind, "message": …}`.
fn admin_handler(
    admin: Arc<Admin>,
    token: String,
    console: Arc<crate::console::Console>,
) -> impl Fn(
    FullRequest,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = http::Response<Vec<u8>>> + Send>>
       + Send
       + Sync
       + 'static {
    let token = Arc::new(token);
    move |request: FullRequest| {
        let admin = admin.clone();
        let token = token.clone();
        let console = console.clone();
        Box::pin(async move {
            let json = |status: u16, body: serde_json::Value| {
                http::Response::builder()
                    .status(status)
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(body.to_string().into_bytes())
                    .expect("static response parts")
            };
            // Everything but the CLI's endpoint is the console, with its
            // own login and checks.
            if request.uri().path() != "/admin" {
                return console.handle(request).await;
            }
            if request.method() != http::Method::POST {
                return json(
                    405,
                    serde_json::json!({"error": "not_allowed", "message": "POST /admin"}),
                );
            }
            if let Some(refusal) = browser_refusal(&request) {
                tracing::warn!(refusal, "admin request refused");
                return json(
                    403,
                    serde_json::json!({"error": "forbidden", "message": refusal}),
                );
            }
            let authorization = request
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            if !crate::admin_token::authorizes(authorization, &token) {
                tracing::warn!("admin request without the admin token refused");
                return json(
                    401,
                    serde_json::json!({"error": "unauthorized", "message": "the admin endpoint needs its token"}),
                );
            }
            let parsed: AdminRequest = match serde_json::from_slice(request.body()) {
                Ok(parsed) => parsed,
                Err(err) => {
                    return json(
                        400,
                        serde_json::json!({"error": "invalid", "message": format!("unreadable admin request: {err}")}),
                    )
                }
            };
            match admin.execute(parsed).await {
                Ok(response) => json(
                    200,
                    serde_json::to_value(&response).expect("admin answers serialize"),
                ),
                Err(err) => {
                    let (status, kind) = crate::admin::error_kind(&err);
                    tracing::warn!(error = %err, "admin request refused");
                    json(
                        status,
                        serde_json::json!({"error": kind, "message": err.to_string()}),
                    )
                }
            }
        })
    }
}

/// Why a request to the admin endpoint looks like it came from a web page
/// rather than the CLI. Loopback alone does not keep browsers out: any page
/// the developer opens can POST to 127.0.0.1 (and a rebound DNS name can
/// point there). Browsers always name the page's `Origin` on such requests,
/// cannot send `application/json` cross-origin without a preflight this
/// endpoint never answers, and send the name they resolved as `Host`.
fn browser_refusal(request: &FullRequest) -> Option<&'static str> {
    let headers = request.headers();
    if headers.contains_key(http::header::ORIGIN) {
        return Some("requests from web pages are refused");
    }
    let json = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Some("content-type must be application/json");
    }
    let host = headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !server::loopback_host(host) {
        return Some("the Host must be a loopback address");
    }
    None
}
