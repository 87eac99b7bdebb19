//! Zoom Phone, Users and SIP-trunk operations.

pub mod wire;
