//! The HTTP edge of Pitchside: the axum routes over the handlers, their extractors,
//! and errors as HTTP. Served by the local gateway and, under `lambda_http`, by the
//! Lambda functions; it knows no backend (the ports arrive in `AppState`).

pub mod error;
pub mod extract;
pub mod logging;
pub mod routes;
pub mod sockets;
pub mod state;
