//! Maintenance windows: when the profile allows changes that the guide says need one.

use serde::{Deserialize, Serialize};

/// One weekly window in a named time zone, as written in `config.toml`:
///
/// ```toml
/// [[profiles.prod.windows]]
/// days = ["sat", "sun"]     # empty = every day
/// start = "22:00"           # local time in `tz`
/// end = "04:00"             # may be past midnight: the window then ends the next day
/// tz = "America/New_York"
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    #[serde(default)]
    pub days: Vec<String>,
    pub start: String,
    pub end: String,
    pub tz: String,
}
