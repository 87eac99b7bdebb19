//! Guardrails: impact levels, confirmation, maintenance windows, dry-run plan, read-only, blast radius.

pub mod impact;
pub mod window;

pub use impact::Impact;
pub use window::MaintenanceWindow;

/// A guard said no. Exit code 3 at the command line; `how_to_proceed` tells the operator the way on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("refused: {reason}. {how_to_proceed}")]
pub struct Refused {
    pub reason: String,
    pub how_to_proceed: String,
}
