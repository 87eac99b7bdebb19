//! Movius MCP web API and the carrier PTN API.

pub mod paths;
pub mod wire;
pub mod carrier;
pub mod client;

pub use carrier::CarrierClient;
pub use client::{CdrQuery, MoviusClient, UserListQuery};
