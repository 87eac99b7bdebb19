//! Movius MCP web API and the carrier PTN API.

pub mod paths;
pub mod wire;
