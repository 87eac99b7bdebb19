//! Maintenance windows: when the profile allows changes that the guide says need one.
//!
//! A window is weekly and written in local time of a named zone, so "Saturday 22:00 in New York"
//! stays 22:00 across daylight-saving changes. Windows may run past midnight: the `days` name the
//! day the window *opens*.

use std::fmt;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
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

impl fmt::Display for MaintenanceWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = if self.days.is_empty() {
            "daily".to_string()
        } else {
            self.days.join(",")
        };
        write!(f, "{days} {}–{} {}", self.start, self.end, self.tz)
    }
}

/// A window checked and parsed once, ready for arithmetic.
#[derive(Clone, Debug)]
pub(crate) struct Compiled {
    /// Days the window opens on; all seven when the config left `days` empty.
    days: Vec<Weekday>,
    start: Time,
    /// `None` for "24:00": the window closes at the next midnight.
    end: Option<Time>,
    tz: TimeZone,
    text: String,
}

/// One concrete opening of a window: `[opens, closes)`.
#[derive(Clone, Debug)]
pub(crate) struct Occurrence {
    pub opens: Zoned,
    pub closes: Zoned,
    pub text: String,
}

impl Compiled {
    pub(crate) fn new(w: &MaintenanceWindow) -> Result<Compiled, String> {
        let text = w.to_string();
        let days = if w.days.is_empty() {
            ALL_DAYS.to_vec()
        } else {
            w.days
                .iter()
                .map(|d| {
                    parse_day(d).ok_or_else(|| {
                        format!("maintenance window `{text}`: unknown day {d:?} (use mon, tue, wed, thu, fri, sat, sun)")
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        let start = match parse_hhmm(&w.start) {
            Some(Some(t)) => t,
            _ => return Err(format!("maintenance window `{text}`: start {:?} is not a time of day HH:MM (00:00 to 23:59)", w.start)),
        };
        let end = parse_hhmm(&w.end).ok_or_else(|| {
            format!(
                "maintenance window `{text}`: end {:?} is not a time of day HH:MM (00:00 to 24:00)",
                w.end
            )
        })?;
        let tz = TimeZone::get(&w.tz).map_err(|_| {
            format!("maintenance window `{text}`: unknown time zone {:?} (use an IANA name such as America/New_York or UTC)", w.tz)
        })?;
        Ok(Compiled {
            days,
            start,
            end,
            tz,
            text,
        })
    }

    /// The opening of this window on local date `d`, if the window opens that day.
    fn on(&self, d: Date) -> Option<Occurrence> {
        if !self.days.contains(&d.weekday()) {
            return None;
        }
        // Windows are at most 24 h: an end at or before the start means "the next day".
        let end_date = match self.end {
            Some(e) if e > self.start => d,
            _ => d.tomorrow().ok()?,
        };
        let end = self.end.unwrap_or(Time::midnight());
        // `to_zoned` resolves times in a DST gap or fold the "compatible" way (later in a gap,
        // earlier in a fold), which is what a person reading a wall clock expects.
        let opens = d.to_datetime(self.start).to_zoned(self.tz.clone()).ok()?;
        let closes = end_date.to_datetime(end).to_zoned(self.tz.clone()).ok()?;
        Some(Occurrence {
            opens,
            closes,
            text: self.text.clone(),
        })
    }

    /// Openings around `now`, in order: from the day before (a window that opened yesterday may
    /// still be open) to eight days ahead (every weekly window opens within that span).
    fn around(&self, now: Timestamp) -> Vec<Occurrence> {
        let today = now.to_zoned(self.tz.clone()).date();
        let mut out = Vec::new();
        let mut d = match today.yesterday() {
            Ok(d) => d,
            Err(_) => today,
        };
        for _ in 0..10 {
            if let Some(o) = self.on(d) {
                out.push(o);
            }
            match d.tomorrow() {
                Ok(n) => d = n,
                Err(_) => break,
            }
        }
        out
    }
}

const ALL_DAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

fn parse_day(s: &str) -> Option<Weekday> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Monday,
        "tue" | "tues" | "tuesday" => Weekday::Tuesday,
        "wed" | "wednesday" => Weekday::Wednesday,
        "thu" | "thur" | "thurs" | "thursday" => Weekday::Thursday,
        "fri" | "friday" => Weekday::Friday,
        "sat" | "saturday" => Weekday::Saturday,
        "sun" | "sunday" => Weekday::Sunday,
        _ => return None,
    })
}

/// "HH:MM" → `Some(Some(time))`; "24:00" → `Some(None)` (end of day); anything else → `None`.
fn parse_hhmm(s: &str) -> Option<Option<Time>> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: i8 = h.parse().ok()?;
    let m: i8 = m.parse().ok()?;
    if h == 24 && m == 0 {
        return Some(None);
    }
    if !(0..=23).contains(&h) || !(0..=59).contains(&m) {
        return None;
    }
    Time::new(h, m, 0, 0).ok().map(Some)
}

pub(crate) fn compile_all(windows: &[MaintenanceWindow]) -> Result<Vec<Compiled>, String> {
    windows.iter().map(Compiled::new).collect()
}

/// Every known occurrence of every window around `now`.
fn occurrences(windows: &[Compiled], now: Timestamp) -> Vec<Occurrence> {
    windows.iter().flat_map(|w| w.around(now)).collect()
}

/// The occurrence that contains `now` and closes last, if any.
pub(crate) fn containing(windows: &[Compiled], now: Timestamp) -> Option<Occurrence> {
    occurrences(windows, now)
        .into_iter()
        .filter(|o| o.opens.timestamp() <= now && now < o.closes.timestamp())
        .max_by_key(|o| o.closes.timestamp())
}

/// Check that every window in a profile makes sense; the message names the window and the field.
pub fn validate_windows(windows: &[MaintenanceWindow]) -> Result<(), String> {
    compile_all(windows).map(|_| ())
}

/// When the next window opens after `now`, in that window's time zone. `None` when no window is
/// configured or one of them is invalid (`validate_windows` says why).
pub fn next_opening(windows: &[MaintenanceWindow], now: Timestamp) -> Option<Zoned> {
    let compiled = compile_all(windows).ok()?;
    next_opening_compiled(&compiled, now).map(|o| o.opens)
}

pub(crate) fn next_opening_compiled(windows: &[Compiled], now: Timestamp) -> Option<Occurrence> {
    occurrences(windows, now)
        .into_iter()
        .filter(|o| o.opens.timestamp() > now)
        .min_by_key(|o| o.opens.timestamp())
}

/// When the time inside windows that holds `now` ends, in the closing window's time zone; `None`
/// when `now` is outside every window. Windows that overlap or touch count as one stretch, so a
/// bulk run learns how long it really has.
pub fn window_closes(windows: &[MaintenanceWindow], now: Timestamp) -> Option<Zoned> {
    let compiled = compile_all(windows).ok()?;
    stretch_end(&compiled, now)
}

pub(crate) fn stretch_end(compiled: &[Compiled], now: Timestamp) -> Option<Zoned> {
    let mut end = containing(compiled, now)?.closes;
    // Each hop moves at least one minute forward and a stretch is bounded by the 10-day search
    // horizon, so this ends; the cap is only a guard against a logic slip.
    for _ in 0..64 {
        match containing(compiled, end.timestamp()) {
            Some(next) if next.closes.timestamp() > end.timestamp() => end = next.closes,
            _ => break,
        }
    }
    Some(end)
}

/// How the guard shows a moment to the operator: the zone's abbreviation and its IANA name.
pub(crate) fn show(z: &Zoned) -> String {
    let name = z.time_zone().iana_name().unwrap_or("UTC").to_string();
    format!("{} ({name})", z.strftime("%a %Y-%m-%d %H:%M %Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(days: &[&str], start: &str, end: &str, tz: &str) -> MaintenanceWindow {
        MaintenanceWindow {
            days: days.iter().map(|d| d.to_string()).collect(),
            start: start.into(),
            end: end.into(),
            tz: tz.into(),
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn validate_names_the_bad_field() {
        let e = validate_windows(&[w(&["sat", "caturday"], "22:00", "04:00", "UTC")]).unwrap_err();
        assert!(e.contains("caturday"), "{e}");
        let e = validate_windows(&[w(&[], "25:00", "04:00", "UTC")]).unwrap_err();
        assert!(e.contains("start \"25:00\""), "{e}");
        let e = validate_windows(&[w(&[], "22:00", "4pm", "UTC")]).unwrap_err();
        assert!(e.contains("end \"4pm\""), "{e}");
        let e = validate_windows(&[w(&[], "22:00", "04:00", "Mars/Olympus")]).unwrap_err();
        assert!(e.contains("unknown time zone \"Mars/Olympus\""), "{e}");
        assert!(
            validate_windows(&[w(&["Saturday", "SUN"], "00:00", "24:00", "Europe/Berlin")]).is_ok()
        );
    }

    #[test]
    fn past_midnight_belongs_to_the_opening_day() {
        let ws = [w(&["sat"], "22:00", "04:00", "UTC")];
        // 2026-11-28 is a Saturday; 03:00 Sunday is still inside Saturday's window.
        assert!(window_closes(&ws, ts("2026-11-29T03:00:00Z")).is_some());
        assert_eq!(
            window_closes(&ws, ts("2026-11-29T03:00:00Z"))
                .unwrap()
                .timestamp(),
            ts("2026-11-29T04:00:00Z")
        );
        // 03:00 Saturday is not: Friday has no window.
        assert!(window_closes(&ws, ts("2026-11-28T03:00:00Z")).is_none());
        assert_eq!(
            next_opening(&ws, ts("2026-11-28T03:00:00Z"))
                .unwrap()
                .timestamp(),
            ts("2026-11-28T22:00:00Z")
        );
    }

    #[test]
    fn dst_keeps_local_wall_clock() {
        // New York: EDT (UTC-4) until 2026-11-01 02:00, then EST (UTC-5).
        let ws = [w(&["sat"], "22:00", "04:00", "America/New_York")];
        let before = next_opening(&ws, ts("2026-10-30T12:00:00Z")).unwrap();
        assert_eq!(before.timestamp(), ts("2026-11-01T02:00:00Z")); // Sat Oct 31 22:00 EDT
                                                                    // This window spans the fall-back hour: it closes 04:00 EST = 09:00 UTC (seven hours).
        assert_eq!(
            window_closes(&ws, ts("2026-11-01T05:00:00Z"))
                .unwrap()
                .timestamp(),
            ts("2026-11-01T09:00:00Z")
        );
        let after = next_opening(&ws, ts("2026-11-02T12:00:00Z")).unwrap();
        assert_eq!(after.timestamp(), ts("2026-11-08T03:00:00Z")); // Sat Nov 7 22:00 EST
        assert!(
            show(&after).contains("Sat 2026-11-07 22:00 EST (America/New_York)"),
            "{}",
            show(&after)
        );
    }

    #[test]
    fn touching_windows_are_one_stretch() {
        let ws = [
            w(&["fri"], "20:00", "24:00", "UTC"),
            w(&["sat"], "00:00", "06:00", "UTC"),
        ];
        // 2026-11-27 is a Friday.
        assert_eq!(
            window_closes(&ws, ts("2026-11-27T21:00:00Z"))
                .unwrap()
                .timestamp(),
            ts("2026-11-28T06:00:00Z")
        );
    }

    #[test]
    fn empty_days_means_every_day() {
        let ws = [w(&[], "01:00", "02:00", "Asia/Tokyo")];
        // 01:30 in Tokyo = 16:30 UTC the day before.
        assert!(window_closes(&ws, ts("2026-11-24T16:30:00Z")).is_some());
        assert!(window_closes(&ws, ts("2026-11-24T18:00:00Z")).is_none());
        assert_eq!(
            next_opening(&ws, ts("2026-11-24T18:00:00Z"))
                .unwrap()
                .timestamp(),
            ts("2026-11-25T16:00:00Z")
        );
    }

    #[test]
    fn no_windows_no_opening() {
        assert!(next_opening(&[], ts("2026-11-24T18:00:00Z")).is_none());
        assert!(window_closes(&[], ts("2026-11-24T18:00:00Z")).is_none());
    }
}
