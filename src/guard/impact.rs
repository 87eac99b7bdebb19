//! What an operation can do to production, which decides the guardrails around it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Impact level of an operation; part of its registration, never chosen by a script.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Impact {
    /// Reads state; always runs.
    Read,
    /// Changes state that can be changed back.
    Write,
    /// Changes state that cannot be undone (peering a number, deleting an account).
    Irreversible,
}

impl Impact {
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::Read => "read",
            Impact::Write => "write",
            Impact::Irreversible => "irreversible",
        }
    }

    pub fn changes_state(self) -> bool {
        self != Impact::Read
    }
}

impl fmt::Display for Impact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
