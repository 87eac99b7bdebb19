//! Whether Zoom honours the `phone_number` filter of `GET /phone/numbers`, probed once per
//! profile and kept in the data directory with the date: `{"prod": {"honoured": false,
//! "checked": "2026-12-02"}}`. vline never depends on it: it only decides whether a single run
//! asks Zoom for one number (one call) or reads the unassigned list.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::api::{ApiError, E164};

/// A probe older than this is made again (Zoom may start or stop honouring the filter).
pub const PROBE_MAX_AGE_DAYS: i64 = 30;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Entry {
    honoured: bool,
    /// `YYYY-MM-DD`, when it was probed.
    checked: String,
}

pub fn honoured(
    file: &Path,
    profile: &str,
    probe: impl FnOnce() -> Result<Option<(E164, bool)>, ApiError>,
) -> Option<bool> {
    let mut all: BTreeMap<String, Entry> = std::fs::read_to_string(file)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    let today = jiff::Zoned::now().date();
    if let Some(e) = all.get(profile) {
        let fresh = e
            .checked
            .parse::<jiff::civil::Date>()
            .ok()
            .and_then(|d| today.since(d).ok())
            .is_some_and(|span| i64::from(span.get_days()) < PROBE_MAX_AGE_DAYS);
        if fresh {
            return Some(e.honoured);
        }
    }
    match probe() {
        Ok(Some((_, honoured))) => {
            all.insert(
                profile.to_string(),
                Entry {
                    honoured,
                    checked: today.to_string(),
                },
            );
            if let Ok(text) = serde_json::to_string_pretty(&all) {
                // Written whole through a rename: two runs at once never tear it.
                let tmp = file.with_extension(format!("tmp{}", std::process::id()));
                if std::fs::write(&tmp, text).is_ok() {
                    let _ = std::fs::rename(&tmp, file);
                }
            }
            Some(honoured)
        }
        Ok(None) => None,
        Err(e) => {
            tracing::warn!("probing Zoom's phone_number filter failed: {e}");
            None
        }
    }
}
