//! Deliveries to AWS targets (issue 28): an SQS queue, an SNS topic, an
//! EventBridge bus (its entry: `bus_entry`) or a Lambda function (its
//! event and what its answers mean: `lambda_invoke`),
//! reached with the dispatcher's own role or one it assumes (another
//! account's). The
//! request's headers — `webhook-id`, `webhook-timestamp`,
//! `webhook-signature`, `content-type`, `hookrelay-source`,
//! `hookrelay-event-type`, `hookrelay-event-id` — become message
//! attributes, so a consumer needs no body parsing to know what it got; the
//! body is the message, as it came (a body that is not UTF-8 is sent as
//! base64, and `hookrelay-body-encoding` says so).
//!
//! Clients are made once per region and role (one assumed-role session
//! for every kind) and kept for the life of the process; an assumed
//! role's session is renewed by the SDK shortly before it expires. The
//! SDK's own retries are off: the delivery's retry schedule is the one
//! that counts.
//!
//! A message over its target's limit is sent as a pointer to the body,
//! or fails for good, as the destination says (`oversize`).
use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::{Region, SdkConfig};
use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::operation::RequestId;
use aws_sdk_sqs::types::MessageAttributeValue;
use base64::Engine;
use hookrelay_core::{AwsTarget, OutboundRequest, SendResult, Sender, Target};
use hookrelay_models::{AttemptErrorKind, AttemptOutcome, LambdaInvocation};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use tokio::sync::Mutex;

use crate::body_link::BodyLinks;
use crate::oversize::Message;

/// Headers that are not the consumer's business on a queue.
const NOT_ATTRIBUTES: [&str; 1] = ["user-agent"];

type ReachKey = (Option<String>, Option<(String, Option<String>)>);

/// How targets in one region, under one role, are reached: one SDK
/// configuration (one assumed-role session, whatever the kinds), and each
/// kind's client, made when first needed.
struct Reach {
    config: SdkConfig,
    sqs: OnceLock<aws_sdk_sqs::Client>,
    sns: OnceLock<aws_sdk_sns::Client>,
    events: OnceLock<aws_sdk_eventbridge::Client>,
    lambda: OnceLock<aws_sdk_lambda::Client>,
}

pub struct AwsTargetSender {
    sdk: tokio::sync::OnceCell<SdkConfig>,
    reaches: Mutex<HashMap<ReachKey, Arc<Reach>>>,
    /// Where bodies too large for their target are kept for a pointer.
    links: Option<Arc<dyn BodyLinks>>,
}

impl AwsTargetSender {
    /// Sends with `sdk`'s credentials and region (the dispatcher's role),
    /// and its endpoint if one is set (`AWS_ENDPOINT_URL`, for moto).
    pub fn new(sdk: SdkConfig) -> Self {
        AwsTargetSender {
            sdk: tokio::sync::OnceCell::new_with(Some(sdk)),
            reaches: Mutex::new(HashMap::new()),
            links: None,
        }
    }

    /// Reads the AWS configuration from the environment only when a first
    /// AWS delivery needs it: `hookrelay dev` in memory, with no AWS
    /// destination, never looks for credentials or a region.
    pub fn from_env_when_needed() -> Self {
        AwsTargetSender {
            sdk: tokio::sync::OnceCell::new(),
            reaches: Mutex::new(HashMap::new()),
            links: None,
        }
    }

    /// Keeps bodies too large for their target in `links` (the body
    /// bucket), for the pointer sent instead. Without it such a delivery
    /// fails for good, saying why.
    pub fn with_body_links(mut self, links: Arc<dyn BodyLinks>) -> Self {
        self.links = Some(links);
        self
    }

    /// `target`'s region and role, made once and kept for the process.
    async fn reach(&self, target: &AwsTarget) -> Arc<Reach> {
        let key = (target.region.clone(), target.role.clone());
        let mut reaches = self.reaches.lock().await;
        if let Some(reach) = reaches.get(&key) {
            return reach.clone();
        }
        let reach = Arc::new(Reach {
            config: self.target_config(target).await,
            sqs: OnceLock::new(),
            sns: OnceLock::new(),
            events: OnceLock::new(),
            lambda: OnceLock::new(),
        });
        reaches.insert(key, reach.clone());
        reach
    }

    /// The SDK configuration for `target`: its region, and the role it
    /// assumes (a provider that renews its session before it expires),
    /// with the SDK's own retries off.
    async fn target_config(&self, target: &AwsTarget) -> SdkConfig {
        let sdk = self.sdk.get_or_init(crate::sdk_config).await;
        let mut config = sdk.to_builder().retry_config(RetryConfig::disabled());
        if let Some(region) = &target.region {
            config = config.region(Region::new(region.clone()));
        }
        if let Some((arn, external_id)) = &target.role {
            config = config.credentials_provider(
                crate::credentials::assumed_role(sdk, arn, external_id.as_deref()).await,
            );
        }
        config.build()
    }

    async fn put_to_bus(&self, request: &OutboundRequest, target: &AwsTarget) -> SendResult {
        let started = Instant::now();
        let reach = self.reach(target).await;
        let client = reach
            .events
            .get_or_init(|| aws_sdk_eventbridge::Client::new(&reach.config));
        let links = self.links.as_deref();
        let (entry, pointed_to) =
            match crate::oversize::fit_entry(links, request, target, &request.url, started).await {
                Ok(fitted) => fitted,
                Err(refused) => return refused,
            };
        let call = client.put_events().entries(entry);
        match tokio::time::timeout(request.timeout, call.send()).await {
            Err(_) => failed(AttemptErrorKind::Timeout, started, String::new()),
            Ok(Ok(answer)) => match crate::bus_entry::put_result(&answer, started) {
                put if put.outcome.is_success() => put.pointing_to(pointed_to),
                refused => refused,
            },
            Ok(Err(err)) => aws_failure(err, started),
        }
    }

    /// One `Invoke`. The SDK's own operation timeouts are off for it (a
    /// synchronous invoke lasts as long as the function runs): the
    /// destination's timeout is the one that counts.
    async fn invoke_function(
        &self,
        request: &OutboundRequest,
        target: &AwsTarget,
        invocation: LambdaInvocation,
    ) -> SendResult {
        use aws_sdk_lambda::types::InvocationType;
        let started = Instant::now();
        let reach = self.reach(target).await;
        let client = reach.lambda.get_or_init(|| {
            let timeouts = aws_config::timeout::TimeoutConfig::builder()
                .disable_operation_timeout()
                .disable_operation_attempt_timeout()
                .build();
            aws_sdk_lambda::Client::from_conf(
                aws_sdk_lambda::config::Builder::from(&reach.config)
                    .timeout_config(timeouts)
                    .build(),
            )
        });
        let fitted =
            crate::oversize::fit_lambda_event(self.links.as_deref(), request, target, started)
                .await;
        let (payload, pointed_to) = match fitted {
            Ok(fitted) => fitted,
            Err(refused) => return refused,
        };
        let call = client
            .invoke()
            .function_name(&request.url)
            .invocation_type(match invocation {
                LambdaInvocation::RequestResponse => InvocationType::RequestResponse,
                LambdaInvocation::Event => InvocationType::Event,
            })
            .payload(aws_sdk_lambda::primitives::Blob::new(payload));
        match tokio::time::timeout(request.timeout, call.send()).await {
            Err(_) => failed(AttemptErrorKind::Timeout, started, String::new()),
            Ok(Ok(output)) => {
                crate::lambda_invoke::answered(&output, invocation, started).pointing_to(pointed_to)
            }
            Ok(Err(err)) => crate::lambda_invoke::function_error_in(&err, started)
                .unwrap_or_else(|| aws_failure(err, started)),
        }
    }

    /// The SQS or SNS message for `request`: its body and attributes, or
    /// the pointer in the body's place when they are over the target's
    /// limit (or the attempt's failure).
    async fn fitted_message(
        &self,
        request: &OutboundRequest,
        target: &AwsTarget,
        started: Instant,
    ) -> Result<Message, SendResult> {
        let (body, attributes) = message_parts(request);
        crate::oversize::fit_message(
            self.links.as_deref(),
            request,
            target,
            body,
            attributes,
            started,
        )
        .await
    }

    async fn publish_to_topic(&self, request: &OutboundRequest, target: &AwsTarget) -> SendResult {
        use aws_sdk_sns::types::MessageAttributeValue;
        let started = Instant::now();
        let reach = self.reach(target).await;
        let client = reach
            .sns
            .get_or_init(|| aws_sdk_sns::Client::new(&reach.config));
        let Message {
            body,
            attributes,
            pointed_to,
        } = match self.fitted_message(request, target, started).await {
            Ok(message) => message,
            Err(refused) => return refused,
        };
        let mut call = client.publish().topic_arn(&request.url).message(body);
        for (name, value) in attributes {
            match MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
            {
                Ok(attribute) => call = call.message_attributes(name, attribute),
                Err(err) => return failed(AttemptErrorKind::Io, started, err.to_string()),
            }
        }
        if let Some((group, deduplication)) = &target.fifo {
            call = call
                .message_group_id(group)
                .message_deduplication_id(deduplication);
        }
        match tokio::time::timeout(request.timeout, call.send()).await {
            Err(_) => failed(AttemptErrorKind::Timeout, started, String::new()),
            Ok(Ok(sent)) => {
                delivered(sent.message_id().unwrap_or_default(), started).pointing_to(pointed_to)
            }
            Ok(Err(err)) => aws_failure(err, started),
        }
    }

    async fn send_to_queue(&self, request: &OutboundRequest, target: &AwsTarget) -> SendResult {
        let started = Instant::now();
        let reach = self.reach(target).await;
        let client = reach
            .sqs
            .get_or_init(|| aws_sdk_sqs::Client::new(&reach.config));
        let Message {
            body,
            attributes,
            pointed_to,
        } = match self.fitted_message(request, target, started).await {
            Ok(message) => message,
            Err(refused) => return refused,
        };
        let mut call = client
            .send_message()
            .queue_url(&request.url)
            .message_body(body);
        for (name, value) in attributes {
            match MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
            {
                Ok(attribute) => call = call.message_attributes(name, attribute),
                Err(err) => return failed(AttemptErrorKind::Io, started, err.to_string()),
            }
        }
        if let Some((group, deduplication)) = &target.fifo {
            call = call
                .message_group_id(group)
                .message_deduplication_id(deduplication);
        }
        match tokio::time::timeout(request.timeout, call.send()).await {
            Err(_) => failed(AttemptErrorKind::Timeout, started, String::new()),
            Ok(Ok(sent)) => {
                delivered(sent.message_id().unwrap_or_default(), started).pointing_to(pointed_to)
            }
            Ok(Err(err)) => aws_failure(err, started),
        }
    }
}

/// A message's body and attributes: the body as it came, or as base64
/// (said by an attribute) when it is not text SQS and SNS accept; the
/// request's headers as attributes.
fn message_parts(request: &OutboundRequest) -> (String, Vec<(String, String)>) {
    let (body, encoded) = match std::str::from_utf8(&request.body) {
        Ok(text) if text.chars().all(sqs_allows) => (text.to_string(), false),
        _ => (
            base64::engine::general_purpose::STANDARD.encode(&request.body),
            true,
        ),
    };
    let mut attributes: Vec<(String, String)> = request
        .headers
        .iter()
        .filter(|(name, _)| !NOT_ATTRIBUTES.contains(&name.as_str()))
        .cloned()
        .collect();
    if encoded {
        attributes.push(("hookrelay-body-encoding".into(), "base64".into()));
    }
    (body, attributes)
}

/// A delivery's result that says where the body went when a pointer
/// went in its place.
trait PointingTo {
    fn pointing_to(self, pointed_to: Option<String>) -> Self;
}

impl PointingTo for SendResult {
    fn pointing_to(mut self, pointed_to: Option<String>) -> Self {
        self.response_body.push_str(&pointed_to.unwrap_or_default());
        self
    }
}

fn delivered(message_id: &str, started: Instant) -> SendResult {
    SendResult {
        outcome: AttemptOutcome::Response { status: 200 },
        response_body: format!("MessageId {message_id}"),
        response_truncated: false,
        retry_after: None,
        duration: started.elapsed(),
    }
}

/// What SQS accepts in a message body: XML's characters.
fn sqs_allows(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{a}' | '\u{d}' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

fn failed(kind: AttemptErrorKind, started: Instant, detail: String) -> SendResult {
    SendResult {
        outcome: AttemptOutcome::Error { error: kind },
        response_body: detail,
        response_truncated: false,
        retry_after: None,
        duration: started.elapsed(),
    }
}

/// An AWS error as an attempt records it: the HTTP status AWS answered,
/// and its error code, message and request id as the response.
fn aws_failure<E>(err: SdkError<E, HttpResponse>, started: Instant) -> SendResult
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let request_id = err.request_id().unwrap_or("none").to_string();
    match &err {
        SdkError::ServiceError(service) => {
            let detail = format!(
                "{}: {} (request id {request_id})",
                err.code().unwrap_or("error"),
                err.message().unwrap_or("no message")
            );
            SendResult {
                outcome: AttemptOutcome::Response {
                    status: service.raw().status().as_u16(),
                },
                response_body: detail,
                response_truncated: false,
                retry_after: None,
                duration: started.elapsed(),
            }
        }
        SdkError::TimeoutError(_) => failed(AttemptErrorKind::Timeout, started, String::new()),
        SdkError::DispatchFailure(_) => failed(
            AttemptErrorKind::Connect,
            started,
            DisplayErrorContext(&err).to_string(),
        ),
        _ => failed(
            AttemptErrorKind::Io,
            started,
            DisplayErrorContext(&err).to_string(),
        ),
    }
}

#[async_trait]
impl Sender for AwsTargetSender {
    async fn send(&self, request: &OutboundRequest) -> SendResult {
        match &request.target {
            Target::Sqs(target) => self.send_to_queue(request, target).await,
            Target::Sns(target) => self.publish_to_topic(request, target).await,
            Target::Eventbridge(target) => self.put_to_bus(request, target).await,
            Target::Lambda(target, invocation) => {
                self.invoke_function(request, target, *invocation).await
            }
            Target::Http => failed(
                AttemptErrorKind::Io,
                Instant::now(),
                "an http request reached the AWS sender".into(),
            ),
        }
    }
}

impl std::fmt::Debug for AwsTargetSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsTargetSender").finish_non_exhaustive()
    }
}
