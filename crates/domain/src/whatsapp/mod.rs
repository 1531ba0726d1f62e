//! Meta's WhatsApp Cloud API webhooks: the signature over the raw body, the
//! notification as typed values, and samples of every kind for the simulator.

mod content;
mod fields;
mod payload;
pub mod samples;
mod signature;

pub use payload::*;
pub use signature::{SignatureError, sign, verify_signature};

#[cfg(test)]
mod tests;
