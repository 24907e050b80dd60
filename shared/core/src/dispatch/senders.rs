//! Sends each request by its target's kind: HTTP, or AWS through an
//! adapter that knows the AWS APIs (`hookrelay-aws`).
use async_trait::async_trait;
use hookrelay_models::{AttemptErrorKind, AttemptOutcome};
use std::sync::Arc;
use std::time::Duration;

use crate::ports::{OutboundRequest, SendResult, Sender, Target};

/// A [`Sender`] that hands HTTP requests to one sender and AWS targets to
/// another, when there is one.
pub struct SenderByTarget {
    http: Arc<dyn Sender>,
    aws: Option<Arc<dyn Sender>>,
}

impl SenderByTarget {
    pub fn new(http: Arc<dyn Sender>, aws: Option<Arc<dyn Sender>>) -> Self {
        SenderByTarget { http, aws }
    }
}

#[async_trait]
impl Sender for SenderByTarget {
    async fn send(&self, request: &OutboundRequest) -> SendResult {
        match (&request.target, &self.aws) {
            (Target::Http, _) => self.http.send(request).await,
            (_, Some(aws)) => aws.send(request).await,
            (_, None) => SendResult {
                outcome: AttemptOutcome::Error {
                    error: AttemptErrorKind::Io,
                },
                response_body: "this dispatcher has no AWS client for AWS destinations".into(),
                response_truncated: false,
                retry_after: None,
                duration: Duration::ZERO,
            },
        }
    }
}
