//! What every request handler shares.

use crate::sockets::LocalSockets;
use pitchside_core::app::authn::Authenticator;
use pitchside_core::app::scoring::ScoreCache;
use pitchside_core::config::Settings;
use pitchside_core::live::Hub;
use pitchside_core::ports::Ports;
use pitchside_core::secrets::Keys;
use std::sync::Arc;

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
