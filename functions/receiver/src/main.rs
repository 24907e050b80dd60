//! Receiver Lambda entry point: wire adapters once, then serve.
use hookrelay_aws::{Adapters, EmfMetrics};
use hookrelay_core::{CachedConfigStore, Clock, Ingest, SystemClock};
use hookrelay_receiver::{handle, ReceiverSettings};
use lambda_http::{run, service_fn, Error, Request};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HOOKRELAY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .without_time()
        .with_current_span(false)
        .init();

    let settings = ReceiverSettings::from_env()?;
    let adapters = Adapters::from_env().await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
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
        .with_metrics(Arc::new(EmfMetrics::new("receiver"))),
    );
    run(service_fn(move |request: Request| {
        let ingest = ingest.clone();
        async move { Ok::<_, Error>(handle(&ingest, request).await) }
    }))
    .await
}
