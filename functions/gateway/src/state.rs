//! What every request handler shares.

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
}
