//! The Rhai engine: typed operations as script functions, with guardrails around each.
