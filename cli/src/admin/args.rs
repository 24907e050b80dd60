//! The admin subcommands' arguments, as clap parses them.
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

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
    /// Requests refused per source, hour and reason (bad signature, stale
    /// timestamp, malformed, …).
    Rejections {
        /// One source (default: every source).
        #[arg(long)]
        source: Option<String>,
        /// Since when: RFC 3339 or an age like `24h`.
        #[arg(long, default_value = "24h")]
        since: String,
    },
}

#[derive(Debug, Args)]
pub struct SourceArgs {
    pub id: String,
    /// A scheme `hookrelay schemes` lists (github, stripe, sns, hmac, …).
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
    /// The token Meta echoes when it checks the endpoint (scheme meta).
    #[arg(long)]
    pub verify_token: Option<String>,
    /// Confirm SNS subscriptions by fetching their SubscribeURL (scheme sns).
    #[arg(long)]
    pub auto_confirm: Option<bool>,
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
    /// An ordered destination's keys held back by a failing event: each
    /// key's head, its attempts, and how many events wait behind it.
    Blocked {
        id: String,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Fail a blocked key's head for good (replayable later) so the key's
    /// next event goes.
    Skip {
        id: String,
        #[arg(long)]
        key: String,
    },
    /// Take a blocked key's head out of the key's order: it keeps its
    /// retries, and the key's next event goes now.
    Release {
        id: String,
        #[arg(long)]
        key: String,
    },
}

#[derive(Debug, Args)]
pub struct DestinationArgs {
    pub id: String,
    #[arg(long)]
    pub url: Option<String>,
    /// Signing secret: `whsec_…` (HMAC, v1) or `whsk_…` (Ed25519, v1a).
    /// Or HOOKRELAY_DESTINATION_SECRET.
    #[arg(long, env = "HOOKRELAY_DESTINATION_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// A second current secret of the other kind, so deliveries carry
    /// both a v1 and a v1a signature (`none` removes it). Or
    /// HOOKRELAY_DESTINATION_SECOND_SECRET.
    #[arg(
        long,
        env = "HOOKRELAY_DESTINATION_SECOND_SECRET",
        hide_env_values = true
    )]
    pub second_secret: Option<String>,
    /// Add: generate an Ed25519 `whsk_` key (v1a; its public key is
    /// printed) instead of a `whsec_` secret.
    #[arg(long, conflicts_with = "secret")]
    pub ed25519: bool,
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
    /// `raw` (the default: the event's body as received) or `slack`
    /// (`{"text": …}` for a Slack-compatible incoming webhook, e.g. for
    /// operational events).
    #[arg(long)]
    pub format: Option<String>,
    /// Most deliveries per second, minute or hour, across every
    /// dispatcher: `50/s`, `600/m`, `1000/h`. Deliveries beyond it wait.
    #[arg(long, conflicts_with = "no_rate_limit")]
    pub rate_limit: Option<String>,
    /// How many may go at once after a quiet spell (with --rate-limit;
    /// default 1).
    #[arg(long, conflicts_with = "no_rate_limit")]
    pub burst: Option<u32>,
    /// Remove the rate limit (update).
    #[arg(long)]
    pub no_rate_limit: bool,
    /// `http` (the default), `sqs` (--url is then the queue's URL or ARN),
    /// `sns` (the topic's ARN), `eventbridge` (the bus's name or ARN) or
    /// `lambda` (the function's name, `name:qualifier`, or ARN).
    #[arg(long)]
    pub kind: Option<String>,
    /// Lambda: `request_response` (the default: the attempt waits for the
    /// function and a function error is retried) or `event` (asynchronous:
    /// Lambda accepts it and retries the function itself).
    #[arg(long)]
    pub invocation: Option<String>,
    /// AWS kinds: a role to assume to reach another account's target.
    #[arg(long)]
    pub role_arn: Option<String>,
    /// AWS kinds: the external id that role's trust policy asks for.
    #[arg(long, requires = "role_arn")]
    pub external_id: Option<String>,
    /// FIFO queue or topic: where each message's group id is read (header:<Name> or
    /// json:/<pointer>; default the source's id).
    #[arg(long)]
    pub group_key: Option<String>,
    /// AWS kinds: a body over the target's limit goes as a pointer to it
    /// in the body bucket (`pointer`, the default) or fails for good
    /// (`fail`).
    #[arg(long, value_parser = ["pointer", "fail"])]
    pub oversize: Option<String>,
    /// AWS kinds: how long a pointer's presigned URL is valid (default
    /// 1h, at most 7d).
    #[arg(long)]
    pub pointer_url_ttl: Option<String>,
    /// Deliver events that share a key in the order they were accepted,
    /// one at a time per key: `json:/<pointer>` (or `/<pointer>`) into the
    /// body, `header:<Name>`, or `source`.
    #[arg(long, conflicts_with = "no_ordering")]
    pub ordering_key: Option<String>,
    /// Remove the ordering (update).
    #[arg(long)]
    pub no_ordering: bool,
    /// How the receiver authenticates the relay: a file holding the
    /// `auth` as JSON (`{"kind": "bearer", "token": "…"}`; kinds basic,
    /// bearer, oauth2_client_credentials, mtls, aws_sigv4); `-` reads it
    /// from stdin. Its credentials are never printed.
    #[arg(long, value_name = "FILE", conflicts_with = "no_auth")]
    pub auth: Option<PathBuf>,
    /// Remove the destination's auth (update).
    #[arg(long)]
    pub no_auth: bool,
    /// Allow a private, loopback or link-local URL (local development).
    #[arg(long)]
    pub allow_private: bool,
}

#[derive(Debug, Subcommand)]
pub enum RoutesCommand {
    /// Routes, their event types, and whether each has a content filter.
    List,
    Add(RouteArgs),
    /// Change a route; options not given keep their value.
    Update(RouteArgs),
    Remove {
        #[arg(long)]
        source: String,
        #[arg(long)]
        destination: String,
    },
    /// Try a content filter on stored events without saving it: which
    /// match, and for those that do not, the first field that failed.
    Test(RouteTestArgs),
}

#[derive(Debug, Args)]
pub struct RouteArgs {
    #[arg(long)]
    pub source: String,
    #[arg(long)]
    pub destination: String,
    /// Event types, comma-separated: `push,pull_request.*`; a new route
    /// takes every event by default.
    #[arg(long)]
    pub events: Option<String>,
    /// A content filter: a file holding an EventBridge event pattern
    /// (JSON) over the event's source, type, headers and body; `-` reads
    /// it from stdin.
    #[arg(long, value_name = "FILE", conflicts_with = "no_filter")]
    pub filter: Option<PathBuf>,
    /// Remove the route's content filter (update).
    #[arg(long)]
    pub no_filter: bool,
}

#[derive(Debug, Args)]
pub struct RouteTestArgs {
    /// A file holding the EventBridge event pattern (JSON) to try; `-`
    /// reads it from stdin.
    #[arg(long, value_name = "FILE")]
    pub filter: PathBuf,
    /// One source's events (default: every source's).
    #[arg(long)]
    pub source: Option<String>,
    /// Events received since: RFC 3339 or an age like `24h`.
    #[arg(long)]
    pub since: Option<String>,
    /// How many of the newest events to try (at most 1000).
    #[arg(long, default_value_t = hookrelay_core::admin::DEFAULT_FILTER_TEST_EVENTS)]
    pub limit: usize,
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
    /// An event's headers, body, deliveries and attempts (a large body
    /// only in part: `--body-out` writes it whole).
    Show {
        id: String,
        /// Write the body, byte for byte, to this file.
        #[arg(long)]
        body_out: Option<std::path::PathBuf>,
    },
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
    /// Destination: the new `whsec_` or `whsk_` secret (default: a
    /// generated `whsec_`, printed). It replaces the current key of its
    /// kind. Or HOOKRELAY_NEW_SECRET.
    #[arg(long, env = "HOOKRELAY_NEW_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Destination: generate an Ed25519 `whsk_` key (v1a) instead; only
    /// its public key is printed.
    #[arg(long, conflicts_with = "secret")]
    pub ed25519: bool,
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
