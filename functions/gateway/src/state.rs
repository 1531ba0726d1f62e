//! What every request handler shares.

use crate::sockets::LocalSockets;
use pitchside::app::Ports;
use pitchside::app::authn::Authenticator;
use pitchside::config::Settings;
use pitchside::embedded::Hub;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub ports: Ports,
    /// In-process push: SSE streams and local WebSocket connections subscribe here.
    pub hub: Arc<Hub>,
    pub auth: Authenticator,
    pub settings: Arc<Settings>,
    /// The WebSocket connections this process holds, for the `@connections` endpoint.
    pub sockets: Arc<LocalSockets>,
    /// How events reach this process's WebSockets: from the hub (embedded), or through
    /// the `@connections` endpoint that the worker's API Gateway client posts to (AWS
    /// mode, as on AWS).
    pub ws_delivery: WsDelivery,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WsDelivery {
    Hub,
    Management,
}
