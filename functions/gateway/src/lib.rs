//! The HTTP side of Pitchside: the routes (axum) over the shared handlers, served by
//! the local gateway and, under `lambda_http`, by the Lambda functions.

pub mod logging;
pub mod routes;
pub mod sockets;
pub mod state;
pub mod worker;
