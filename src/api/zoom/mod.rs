//! Zoom Phone, Users and SIP-trunk operations.

pub mod client;
pub mod scopes;
pub mod wire;

pub use client::{NumberQuery, NumberType, ZoomClient};
