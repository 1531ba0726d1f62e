//! Pitchside's library: the pure domain, the ports the handlers need, their adapters,
//! and the handlers' logic shared by the local gateway and the Lambdas.

pub mod app;
pub mod aws;
pub mod config;
pub mod domain;
pub mod embedded;
pub mod ports;

#[cfg(feature = "port-suite")]
pub mod port_suite;
