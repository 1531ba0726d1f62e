//! What every request handler shares.

use crate::sockets::LocalSockets;
use pitchside_core::app::authn::Authenticator;
use pitchside_core::app::scoring::ScoreCache;
use pitchside_core::config::Settings;
use pitchside_core::live::Hub;
use pitchside_core::ports::Ports;
use pitchside_core::secrets::Keys;
use std::sync::Arc;
use tokio::sync::watch;

#[derive(Clone)]
pub struct AppState {
    pub ports: Ports,
    /// In-process push: SSE streams and local WebSocket connections subscribe here.
    pub hub: Arc<Hub>,
    pub auth: Authenticator,
    /// The secrets this process was given, as they are now.
    pub keys: Arc<Keys>,
    pub settings: Arc<Settings>,
    /// The WebSocket connections this process holds, for the `@connections` endpoint.
    pub sockets: Arc<LocalSockets>,
    /// How events reach this process's WebSockets: from the hub (embedded), or through
    /// the `@connections` endpoint that the worker's API Gateway client posts to (AWS
    /// mode, as on AWS).
    pub ws_delivery: WsDelivery,
    /// Where SSE streams follow new events from.
    pub sse_source: SseSource,
    /// Recently scored matches' states.
    pub scores: Arc<ScoreCache>,
    /// Tells the live streams this process holds that it is stopping.
    pub shutdown: Shutdown,
}

/// A stopping process's word to its live streams, and its count of them. An SSE
/// response never ends by itself and an upgraded WebSocket is no longer the HTTP
/// server's, so waiting for requests to finish would wait forever: each stream holds
/// a [`Stopping`], ends when it is told (SSE after a `retry:` hint, WebSocket with
/// 1001), and the process exits once the last has let go.
#[derive(Clone)]
pub struct Shutdown(Arc<watch::Sender<bool>>);

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown(Arc::new(watch::Sender::new(false)))
    }
}

impl Shutdown {
    /// A live stream's view of the stop; the stream counts as open while it holds it.
    pub fn watch(&self) -> Stopping {
        Stopping(self.0.subscribe())
    }

    /// Tells every live stream, and every one opened from now on, to end.
    pub fn begin(&self) {
        self.0.send_replace(true);
    }

    /// Resolves when no stream holds a [`Stopping`] any more.
    pub async fn streams_ended(&self) {
        self.0.closed().await;
    }

    /// The streams still open.
    pub fn open_streams(&self) -> usize {
        self.0.receiver_count()
    }
}

/// One live stream's view of [`Shutdown`].
pub struct Stopping(watch::Receiver<bool>);

impl Stopping {
    /// Whether the process is stopping.
    pub fn is_told(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the process is stopping (at once if it already is).
    pub async fn told(&mut self) {
        if self.0.wait_for(|stopping| *stopping).await.is_err() {
            // The process's handle is gone, and with it any way to be told.
            std::future::pending::<()>().await;
        }
    }
}

/// How an SSE stream learns of new events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SseSource {
    /// The in-process hub: the worker runs in this process.
    Hub,
    /// Polling the log (the `sse` Lambda: nothing is pushed into a function) every
    /// `settings.sse.poll`, for at most `settings.sse.lifetime`, after which the stream
    /// ends with a `retry:` hint and the client resumes from its last id.
    Poll,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WsDelivery {
    Hub,
    Management,
}
