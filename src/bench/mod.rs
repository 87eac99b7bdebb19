//! `vline bench`: throughput and overhead measured against the limits they chase, reported as
//! ratios (never as timed assertions in tests).

pub mod bulk;
pub mod host;
