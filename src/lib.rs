//! vline: automate Zoom Phone on Movius VirtualLine.
//!
//! Layers (dependencies point one way): `cli → {bulk, repl} → host → {guard, journal} → api`.
//! `sandbox` shares only the wire types of `api`.

pub mod api;
pub mod bulk;
pub mod guard;
pub mod journal;
pub mod host;
pub mod sandbox;
pub mod repl;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod logging;
