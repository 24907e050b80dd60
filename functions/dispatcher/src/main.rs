//! Dispatcher Lambda entry point: wire adapters once, then serve batches.
use hookrelay_aws::{
    init_lambda_logging, Adapters, AwsRequestSigner, AwsTargetSender, EmfMetrics,
    SecretsManagerReader,
};
use hookrelay_core::dispatch::SenderByTarget;
use hookrelay_core::DeadLetters;
use hookrelay_core::{CachedConfigStore, Clock, Dispatch, Stores, SystemClock};
use hookrelay_dispatcher::{handle_invocation, DispatcherSettings};
use hookrelay_http::{Authenticator, HttpSender};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_lambda_logging();

    let settings = DispatcherSettings::from_env()?;
    let adapters = Adapters::from_env().await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // Written once per invocation, when it is done.
    let metrics = Arc::new(EmfMetrics::new("dispatcher"));
    let config = Arc::new(CachedConfigStore::new(
        Arc::new(adapters.config),
        clock.clone(),
        settings.config_cache,
    ));
    let deliveries = Arc::new(adapters.deliveries);
    let dead_letters: Option<Arc<dyn DeadLetters>> = settings
        .dead_letter_queue_url
        .as_ref()
        .map(|url| Arc::new(adapters.queue.sibling(url)) as Arc<dyn DeadLetters>);
    // Bodies too large for an AWS target are pointed to in the bucket.
    let aws_sender = match adapters.body_bucket {
        Some(bucket) => AwsTargetSender::from_env_when_needed().with_body_links(Arc::new(bucket)),
        None => AwsTargetSender::from_env_when_needed(),
    };
    // Destinations' auth: credentials kept in Secrets Manager (cached),
    // and SigV4 signing, with the function's role or one it assumes.
    // Neither reads the AWS configuration before a destination needs it.
    let http = HttpSender::new(settings.allow_private_destinations)?.with_authenticator(
        Authenticator::new(
            Some(Arc::new(SecretsManagerReader::from_env_when_needed())),
            Some(Arc::new(AwsRequestSigner::from_env_when_needed())),
        ),
    );
    let dispatch = Arc::new(
        Dispatch::new(
            Stores {
                config,
                events: Arc::new(adapters.events),
                deliveries: deliveries.clone(),
                health: deliveries.clone(),
                pace: deliveries,
            },
            Arc::new(adapters.queue),
            Arc::new(SenderByTarget::new(
                Arc::new(http),
                Some(Arc::new(aws_sender)),
            )),
            clock,
            settings.dispatch,
        )
        .with_metrics(metrics.clone()),
    );
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let dispatch = dispatch.clone();
        let metrics = metrics.clone();
        let dead_letters = dead_letters.clone();
        async move {
            let response =
                handle_invocation(&dispatch, dead_letters.as_deref(), event.payload).await;
            metrics.flush();
            response.map_err(Error::from)
        }
    }))
    .await
}
