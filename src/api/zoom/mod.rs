//! Zoom Phone, Users and SIP-trunk operations.

pub mod wire;
pub mod client;

pub use client::{NumberQuery, NumberType, ZoomClient};
