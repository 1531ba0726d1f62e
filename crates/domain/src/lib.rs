//! The pure domain: types and rules, no I/O, no clock or randomness it is not handed.

pub mod auction;
pub mod auth;
pub mod availability;
pub mod catchup;
pub mod chat;
pub mod event;
pub mod ids;
pub mod inbound;
pub mod limits;
pub mod push;
pub mod quarantine;
pub mod receipts;
pub mod revocation;
pub mod rooms;
pub mod scoring;
pub mod sse;
pub mod stripe;
pub mod tenancy;
pub mod throttle;
pub mod whatsapp;
pub mod work;
pub mod ws;
