//! The gateway's accept loop: what `axum::serve` does, plus the two limits it lacks.
//! A client must send a request's headers within the header timeout (hyper enforces it
//! once it has a timer, which `axum::serve` never gives it), and only so many accepted
//! connections may be waiting for their first request at once: beyond that a new
//! connection is closed at once, so sockets that trickle or say nothing cannot pile up.
//! Live streams are unaffected: a connection stops counting as pending when its first
//! request arrives.
//!
//! A connection that opens with a stream's request (`GET /sse/events`, `GET /ws`) is
//! served on a runtime of its own threads (an event stream without hyper, in
//! `event_stream`). An event to 10,000 subscribers wakes 10,000 tasks at once; on one
//! runtime a webhook that arrives meanwhile queues behind all of them, and its
//! acknowledgement waits for the whole fan-out. On threads of their own the kernel's
//! scheduler interleaves the two, and a request is answered while the fan-out goes on.

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
use tokio::runtime::Handle;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

pub struct Limits {
    pub header_timeout: Duration,
    pub max_pending: usize,
}

/// Where connections are served: requests on the runtime that accepts them, streams on
/// `streams`.
pub struct Runtimes {
    pub streams: Handle,
}

/// Bytes enough to tell a stream's request line from any other.
const SNIFF: usize = 16;

/// What a connection's first bytes open.
#[derive(Debug, PartialEq, Eq)]
enum Opens {
    Request,
    EventStream,
    WebSocket,
}

/// What a connection's first bytes open. A request line split across segments is read
/// as an ordinary request: it is served all the same, only not apart.
fn opens(head: &[u8]) -> Opens {
    let path_then = |path: &[u8]| {
        head.strip_prefix(b"GET ".as_slice())
            .and_then(|rest| rest.strip_prefix(path))
            .is_some_and(|rest| matches!(rest.first(), Some(b' ' | b'?')))
    };
    if path_then(b"/sse/events") {
        Opens::EventStream
    } else if path_then(b"/ws") {
        Opens::WebSocket
    } else {
        Opens::Request
    }
}

/// Serves `app` until `shutdown` resolves with a deadline, then lets every connection
/// finish its requests (as `axum::serve`'s graceful shutdown does) until then, and
/// answers the deadline. `tune` is applied to each accepted socket.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    runtimes: Runtimes,
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
        tokio::spawn(route(
            tcp,
            remote,
            app.clone(),
            permit,
            limits.header_timeout,
            stopped.clone(),
            runtimes.streams.clone(),
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

/// Waits for the connection's first bytes, within the header timeout, and serves it
/// where its first request belongs.
async fn route(
    tcp: TcpStream,
    remote: SocketAddr,
    app: Router,
    permit: OwnedSemaphorePermit,
    header_timeout: Duration,
    stopping: watch::Receiver<()>,
    streams: Handle,
) {
    let started = Instant::now();
    let mut head = [0u8; SNIFF];
    let seen = match tokio::time::timeout(header_timeout, tcp.peek(&mut head)).await {
        Ok(Ok(n)) if n > 0 => n,
        // Silent past the timeout, closed, or failed: nothing to serve.
        _ => return,
    };
    // What is left of the timeout is the rest of the headers'.
    let header_timeout = header_timeout.saturating_sub(started.elapsed());
    let opened = opens(&head[..seen]);
    if opened == Opens::Request {
        return connection(tcp, remote, app, permit, header_timeout, stopping).await;
    }
    // A socket belongs to the runtime that registered it: hand it over unregistered.
    let Ok(tcp) = tcp.into_std() else { return };
    // Two tasks, not one with a match: a task is as big as its biggest future, and an
    // event stream's is a fraction of an HTTP connection's.
    match opened {
        Opens::EventStream => streams.spawn(async move {
            if let Ok(tcp) = TcpStream::from_std(tcp) {
                crate::event_stream::serve(tcp, remote, app, permit, header_timeout, stopping).await
            }
        }),
        _ => streams.spawn(async move {
            if let Ok(tcp) = TcpStream::from_std(tcp) {
                connection(tcp, remote, app, permit, header_timeout, stopping).await
            }
        }),
    };
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

#[cfg(test)]
mod tests {
    use super::{Opens, opens};

    #[test]
    fn only_a_streams_request_line_goes_apart() {
        for (head, opened) in [
            ("GET /sse/events HTT", Opens::EventStream),
            ("GET /sse/events?ty", Opens::EventStream),
            ("GET /ws HTTP/1.1\r\n", Opens::WebSocket),
            ("GET /ws?ticket=ab", Opens::WebSocket),
            ("GET /sse/eventsx ", Opens::Request),
            ("GET /wsx HTTP/1.1", Opens::Request),
            ("POST /ws HTTP/1.1", Opens::Request),
            ("GET /healthz HTTP", Opens::Request),
            ("GET /sse/ev", Opens::Request),
            ("GET /ws", Opens::Request),
            ("", Opens::Request),
        ] {
            assert_eq!(opens(head.as_bytes()), opened, "{head}");
        }
    }
}
