//! The gateway's accept loop: what `axum::serve` does, plus the two limits it lacks.
//! A client must send a request's headers within the header timeout (hyper enforces it
//! once it has a timer, which `axum::serve` never gives it), and only so many accepted
//! connections may be waiting for their first request at once: beyond that a new
//! connection is closed at once, so sockets that trickle or say nothing cannot pile up.
//! Live streams are unaffected: a connection stops counting as pending when its first
//! request arrives.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

pub struct Limits {
    pub header_timeout: Duration,
    pub max_pending: usize,
}

/// Serves `app` until `shutdown` resolves with a deadline, then lets every connection
/// finish its requests (as `axum::serve`'s graceful shutdown does) until then, and
/// answers the deadline. `tune` is applied to each accepted socket.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tune: impl Fn(&TcpStream),
    shutdown: impl Future<Output = Instant>,
) -> Instant {
    let pending = Arc::new(Semaphore::new(limits.max_pending));
    // Sent on to tell connections to finish; its receivers are the connections left.
    let (stop, stopped) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    let deadline = loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors, most likely: give the others a moment.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            deadline = &mut shutdown => break deadline,
        };
        let Ok(permit) = pending.clone().try_acquire_owned() else {
            tracing::debug!(%remote, "too many connections waiting for a request: closed");
            continue;
        };
        tune(&tcp);
        tokio::spawn(connection(
            tcp,
            remote,
            app.clone(),
            permit,
            limits.header_timeout,
            stopped.clone(),
        ));
    };
    drop(listener);
    // Every connection holds a receiver: tell them, and wait for the last to finish.
    drop(stopped);
    let _ = stop.send(());
    if tokio::time::timeout_at(deadline, stop.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            open = stop.receiver_count(),
            "connections still open at the stop deadline"
        );
    }
    deadline
}

async fn connection(
    tcp: TcpStream,
    remote: SocketAddr,
    app: Router,
    permit: OwnedSemaphorePermit,
    header_timeout: Duration,
    mut stopping: watch::Receiver<()>,
) {
    // The permit goes at the first request: from then on this is a live connection.
    let permit = Arc::new(Mutex::new(Some(permit)));
    let service = tower::service_fn(move |mut req: hyper::Request<Incoming>| {
        permit.lock().unwrap_or_else(|p| p.into_inner()).take();
        req.extensions_mut().insert(ConnectInfo(remote));
        app.clone().oneshot(req.map(Body::new))
    });
    // HTTP/1.1 only: browsers speak HTTP/2 only over TLS, and the HTTP/2 preface sniff
    // of hyper's auto builder would wait on a silent socket with no timeout at all.
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service))
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::trace!(error = %e, %remote, "connection ended");
            }
            return;
        }
        _ = stopping.changed() => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}
