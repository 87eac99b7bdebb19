//! The Rhai engine: typed operations as script functions, with guardrails around each.
//!
//! `catalog` lists every function a script can call (signature, impact, doc); `modules` registers
//! them bound to a `session`; `engine` configures limits and imports; `script` loads, compiles and
//! runs a procedure with its declared parameters (`header`).

pub mod args;
pub mod bundle;
pub mod catalog;
pub mod engine;
pub mod header;
pub mod index;
pub mod memory;
pub mod modules;
pub mod run_cache;
pub mod runner;
pub mod script;
pub mod session;
pub mod value;
pub mod zoomcsv;
