//! Audit journal and bulk-run state (SQLite).
