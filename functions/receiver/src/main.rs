//! Receiver Lambda entry point: wire adapters once, then serve.
use hookrelay_aws::{init_lambda_logging, Adapters, EmfMetrics};
use hookrelay_core::{
    CachedConfigStore, Clock, Ingest, RejectionTally, Sns, SnsHosts, SystemClock,
};
use hookrelay_http::HttpFetcher;
use hookrelay_receiver::{handle, ReceiverSettings};
use lambda_http::{run, service_fn, Error, Request};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_lambda_logging();

    let settings = ReceiverSettings::from_env()?;
    let adapters = Adapters::from_env().await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // Written once per invocation, when it is done.
    let metrics = Arc::new(EmfMetrics::new("receiver"));
    let config = Arc::new(CachedConfigStore::new(
        Arc::new(adapters.config),
        clock.clone(),
        settings.config_cache,
    ));
    let ingest = Arc::new(
        Ingest::new(
            config,
            Arc::new(adapters.events),
            Arc::new(adapters.queue),
            clock,
            settings.ingest,
        )
        .with_metrics(metrics.clone())
        // SNS certificates only from SNS's own hosts, never private ones.
        .with_sns(Sns::new(
            SnsHosts::aws(),
            Arc::new(HttpFetcher::new(false)?),
        ))
        .with_rejections(Arc::new(RejectionTally::new(Arc::new(adapters.rejections)))),
    );
    run(service_fn(move |request: Request| {
        let ingest = ingest.clone();
        let metrics = metrics.clone();
        async move {
            let response = handle(&ingest, request).await;
            metrics.flush();
            Ok::<_, Error>(response)
        }
    }))
    .await
}
