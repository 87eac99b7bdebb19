//! vline: automate Zoom Phone on Movius VirtualLine.
//!
//! Layers (dependencies point one way; `layers` checks them): `cmd → {bulk, repl, bench} →
//! connect → {host, config} → {guard, journal} → api`. `sandbox` shares only the wire types of `api`.

pub mod api;
pub mod bench;
pub mod bulk;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod connect;
pub mod guard;
pub mod host;
pub mod journal;
mod layers;
pub mod logging;
pub mod output;
pub mod repl;
pub mod sandbox;
