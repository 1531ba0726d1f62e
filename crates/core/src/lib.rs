//! Pitchside's core: the ports the handlers need (one trait per file), the handlers'
//! logic shared by the local gateway and the Lambdas, the settings, and in-process push.
//! It depends on the domain and on no adapter: the backends depend on it.

pub mod app;
pub mod clock;
pub mod config;
pub mod live;
pub mod metrics;
pub mod ports;
pub mod secrets;
