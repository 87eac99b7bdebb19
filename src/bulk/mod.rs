//! Bulk runs: a CSV in, the procedure once per row on a pool of threads, progress, resume, and a
//! results CSV out.

pub mod concurrency;
pub mod identity;
pub mod job;
pub mod lines;
pub mod map;
pub mod pool;
pub mod preflight;
pub mod progress;
pub mod results;
pub mod rows;
pub mod script;
pub mod validate;
