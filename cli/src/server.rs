//! A small HTTP/1.1 server for `hookrelay dev` and `hookrelay sink`:
//! accept on a listener, hand each request (body read up to a limit) to a
//! handler, stop accepting on shutdown and let open requests finish.
//!
//! Slow clients cannot hold it: a connection must send its headers within
//! [`HEADER_TIMEOUT`] and its body within [`BODY_TIMEOUT`], and at most
//! [`MAX_CONNECTIONS`] are served at once (more wait to be accepted).
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

/// A request with its whole body.
pub type FullRequest = Request<Bytes>;

/// How long a connection may take to send a request's headers (and, kept
/// alive, to start the next request) before it is dropped.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request's body may take to arrive.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once; further ones wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 512;

pub async fn serve<H, F>(
    listener: TcpListener,
    body_limit: usize,
    handler: H,
    mut shutdown: watch::Receiver<bool>,
) where
    H: Fn(FullRequest) -> F + Send + Sync + 'static,
    F: Future<Output = Response<Vec<u8>>> + Send + 'static,
{
    let handler = Arc::new(handler);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = async {
                let slot = slots.clone().acquire_owned().await.expect("never closed");
                (slot, listener.accept().await)
            } => accepted,
            _ = shutdown.changed() => break,
        };
        let (slot, Ok((stream, _))) = accepted else {
            continue;
        };
        let handler = handler.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let handler = handler.clone();
                async move {
                    let (parts, body) = request.into_parts();
                    let collected = tokio::time::timeout(
                        BODY_TIMEOUT,
                        Limited::new(body, body_limit).collect(),
                    )
                    .await;
                    let response = match collected {
                        Ok(Ok(collected)) => {
                            handler(Request::from_parts(parts, collected.to_bytes())).await
                        }
                        Ok(Err(_)) => too_large(body_limit),
                        Err(_) => error(
                            StatusCode::REQUEST_TIMEOUT,
                            "the body took too long to arrive",
                        ),
                    };
                    Ok::<_, std::convert::Infallible>(response.map(|b| Full::new(Bytes::from(b))))
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            drop(slot);
        });
        while connections.try_join_next().is_some() {}
    }
    // Let requests already being answered finish, briefly.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

/// Whether a `Host` header names a loopback address (any port).
pub fn loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    name == "localhost"
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Listens on `address`, and says which address it got (port 0 picks one).
pub async fn bind(
    address: std::net::SocketAddr,
) -> Result<(TcpListener, std::net::SocketAddr), crate::error::CliError> {
    let failed =
        |e: std::io::Error| crate::error::CliError::Bind(address.to_string(), e.to_string());
    let listener = TcpListener::bind(address).await.map_err(failed)?;
    let bound = listener.local_addr().map_err(failed)?;
    Ok((listener, bound))
}

fn too_large(limit: usize) -> Response<Vec<u8>> {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("body over the limit of {limit} bytes"),
    )
}

fn error(status: StatusCode, message: &str) -> Response<Vec<u8>> {
    let mut response = Response::new(
        serde_json::json!({ "error": message })
            .to_string()
            .into_bytes(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    // As every other answer: a browser must not guess another type.
    response.headers_mut().insert(
        http::header::X_CONTENT_TYPE_OPTIONS,
        http::HeaderValue::from_static("nosniff"),
    );
    response
}

/// A watch channel flipped by Ctrl-C (SIGINT) or SIGTERM.
pub fn shutdown_on_signal() -> watch::Receiver<bool> {
    let (sender, receiver) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("install SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        let _ = sender.send(true);
    });
    receiver
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_pass() {
        for host in [
            "127.0.0.1:3001",
            "localhost:3001",
            "[::1]:3001",
            "127.0.0.1",
        ] {
            assert!(loopback_host(host), "{host}");
        }
        for host in [
            "evil.example:3001",
            "127.0.0.1.evil.example",
            "",
            "10.0.0.1:3001",
        ] {
            assert!(!loopback_host(host), "{host}");
        }
    }

    #[test]
    fn the_servers_own_refusals_say_nosniff() {
        for response in [
            too_large(10),
            error(
                StatusCode::REQUEST_TIMEOUT,
                "the body took too long to arrive",
            ),
        ] {
            assert_eq!(
                response.headers()[http::header::X_CONTENT_TYPE_OPTIONS],
                "nosniff"
            );
        }
    }
}
