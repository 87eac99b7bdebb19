//! Reads a run shares, so that the only call a bulk onboarding row cannot avoid — Zoom's assign —
//! is the only one it makes. Scripts do not see this: the same `zoom::` and `movius::` functions
//! answer from here when the session has a cache, which is scoped to one run, kept current by
//! the run's own writes, and re-read after a bounded age.
//!
//! - Movius organizations: read once per run (and again after [`ORG_MAX_AGE`] or a write to the
//!   org); the guide's "Allowed and Enabled for Zoom" check is then a look-up.
//! - Movius available pools: read once per org; an account added takes its number out (the
//!   add's own answer says so), any other write that may move a number marks it unknown, so the
//!   next look reads the pool again. A number in the pool has no account, so a row whose number
//!   is in the pool needs no account read: the add is the check.
//! - Zoom phone users (bulk runs): every page of `GET /phone/users` (100 a page) read once up
//!   front, answering `zoom::phone_user` for existence, licence, site and the numbers each user
//!   holds; writes to a user forget it (the next look reads it), an assign or unassign updates it.
//! - Zoom's "is the number in Zoom as unassigned" check: one shared refresh of the
//!   `type=unassigned` list answers every row waiting on it. A row whose number the run just
//!   peered waits for a refresh that started after the peering (at most [`REFRESH_EVERY`] plus
//!   the refresh itself); Zoom's list is never asked about one number per row, and the
//!   undocumented `phone_number` filter is never needed.
//! - Verification after an assign: the assign's own answer (Zoom answers 201 with the numbers it
//!   assigned), then one sweep at the end of a bulk run ([`RunCache::sweep`]) that reads the
//!   phone users again and reports, per number, an assignment Zoom does not show.

mod movius;
mod numbers;
mod probe;
mod users;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::api::movius::wire::Org;
use crate::api::zoom::wire::PhoneNumber;
use crate::api::zoom::ZoomClient;
use crate::api::E164;

use super::index::NumberIndex;
use numbers::Refresh;
use users::Users;

pub use probe::PROBE_MAX_AGE_DAYS;

/// An organization read this long ago is read again (Allow/Enable Zoom rarely change during a
/// run, but a run of a day must notice when they do).
pub const ORG_MAX_AGE: Duration = Duration::from_secs(60);
/// A pool read this long ago is read again.
pub const POOL_MAX_AGE: Duration = Duration::from_secs(300);
/// The phone-user pages are read again after this long (Zoom's page tokens live 15 minutes).
pub const USERS_MAX_AGE: Duration = Duration::from_secs(900);
/// In a bulk run, at most one refresh of the unassigned list starts in this interval: rows
/// waiting on it share the next one.
pub const REFRESH_EVERY: Duration = Duration::from_millis(400);
/// A refresh younger than this answers a number the run did not touch.
pub const REFRESH_FRESH: Duration = Duration::from_secs(2);

/// For a write that may peer a number into Zoom or unpeer it, the parameter naming the number.
/// Only a refresh of Zoom's list that starts after such a write answers for its number, so a
/// bulk row that makes one and then looks at Zoom waits for the next shared refresh
/// (pre-flight's estimate counts that wait).
pub fn peering_number_param(op: &str) -> Option<&'static str> {
    match op {
        "movius::add_account" | "movius::modify_account" | "movius::delete_account" => {
            Some("phone_number")
        }
        "carrier::delete_ptn" => Some("number"),
        _ => None,
    }
}

/// A bulk run (shared refreshes, phone users read in pages) or a single run (reads memoized for
/// the run; the plan pass and the live pass share them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Bulk,
    Single,
}

/// What the caches cost and answered (the benchmark reports it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    /// Pages of `GET /phone/users` read (loads and the end-of-run sweep).
    pub user_pages: u64,
    /// `zoom::phone_user` answered without a call.
    pub user_hits: u64,
    /// Refreshes of the unassigned list, and the pages they read.
    pub refreshes: u64,
    pub refresh_pages: u64,
    /// Number look-ups answered without a call of their own.
    pub number_hits: u64,
    /// Movius organization and pool reads.
    pub org_reads: u64,
    pub pool_reads: u64,
    /// Pool look-ups answered without a call.
    pub pool_hits: u64,
    /// Numbers the run assigned, and those the end-of-run sweep did not find on their user.
    pub assigned: u64,
    pub sweep_mismatches: u64,
    /// Look-ups that fell back to Zoom's whole number list (read once per run).
    pub index_load_pages: u64,
}

/// One number the run assigned that Zoom does not show on its user at the end of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub number: String,
    /// The bulk row that assigned it (its key), when the assign came from a bulk row.
    pub row: Option<String>,
    /// What Zoom shows: `assigned to X` or `not assigned`.
    pub found: String,
    pub user: String,
}

struct Timed<T> {
    at: Instant,
    value: T,
}

/// The run's caches. One per run; bulk workers share it.
pub struct RunCache {
    scope: Scope,
    /// Does Zoom honour the `phone_number` filter (the profile's cached probe)? Only a single
    /// run uses it: one filtered query instead of the unassigned pages.
    filter: Option<bool>,
    /// Where the profile's probe of the filter is cached, and the profile.
    probe: Option<(PathBuf, String)>,
    probed: std::sync::OnceLock<Option<bool>>,
    /// Single runs where Zoom honours the filter: each number's last answer, and when.
    filtered: Mutex<HashMap<String, (Instant, Option<PhoneNumber>)>>,
    orgs: Mutex<HashMap<String, Timed<Org>>>,
    pools: Mutex<HashMap<String, Timed<HashSet<String>>>>,
    /// Numbers whose pool membership the run may have changed: the next look reads the pool.
    pool_unknown: Mutex<HashSet<String>>,
    users: Mutex<Users>,
    /// Signalled when a page of users arrives or the read ends.
    users_arrived: Condvar,
    /// The thread reading the pages (joined at the end of the run).
    loader: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Held while an organization or a pool is read, so rows that miss at once read it once.
    movius_loading: Mutex<()>,
    refresh: Mutex<Refresh>,
    refreshed: Condvar,
    /// Numbers the run peered or unpeered, with the refresh count when it did: only a refresh
    /// started after that answers them.
    touched: Mutex<HashMap<String, u64>>,
    /// Numbers this run assigned: E.164 → (the number as the assign answered, the row's key).
    assigned: Mutex<HashMap<String, (PhoneNumber, Option<String>)>>,
    /// Zoom's whole number list, for a look-up no cheaper source answers (read once per run).
    index: NumberIndex,
    user_pages: AtomicU64,
    user_hits: AtomicU64,
    refreshes: AtomicU64,
    refresh_pages: AtomicU64,
    number_hits: AtomicU64,
    org_reads: AtomicU64,
    pool_reads: AtomicU64,
    pool_hits: AtomicU64,
    mismatches: AtomicU64,
}

thread_local! {
    /// The bulk row this thread works on (its key), so that an assign can be traced back to it.
    static ROW: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Name the bulk row the current thread works on (`None` when it finishes).
pub fn set_row(key: Option<&str>) {
    ROW.with(|r| *r.borrow_mut() = key.map(str::to_string));
}

fn current_row() -> Option<String> {
    ROW.with(|r| r.borrow().clone())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The E.164 form of a number as Zoom or a script wrote it. Zoom writes E.164 already: taken
/// as is (parsing every number of a large account costs seconds); anything else is parsed.
fn key_of(n: &str) -> String {
    let canonical = n.len() > 1 && n.starts_with('+') && n[1..].bytes().all(|b| b.is_ascii_digit());
    if canonical {
        return n.to_string();
    }
    E164::parse(n)
        .map(|e| e.to_string())
        .unwrap_or_else(|_| n.to_string())
}

impl RunCache {
    pub fn new(scope: Scope) -> RunCache {
        RunCache {
            scope,
            filter: None,
            probe: None,
            probed: std::sync::OnceLock::new(),
            filtered: Mutex::default(),
            orgs: Mutex::default(),
            pools: Mutex::default(),
            pool_unknown: Mutex::default(),
            users: Mutex::default(),
            users_arrived: Condvar::new(),
            loader: Mutex::default(),
            movius_loading: Mutex::default(),
            refresh: Mutex::default(),
            refreshed: Condvar::new(),
            touched: Mutex::default(),
            assigned: Mutex::default(),
            index: NumberIndex::new(),
            user_pages: AtomicU64::new(0),
            user_hits: AtomicU64::new(0),
            refreshes: AtomicU64::new(0),
            refresh_pages: AtomicU64::new(0),
            number_hits: AtomicU64::new(0),
            org_reads: AtomicU64::new(0),
            pool_reads: AtomicU64::new(0),
            pool_hits: AtomicU64::new(0),
            mismatches: AtomicU64::new(0),
        }
    }

    /// A single run's cache that learns whether Zoom honours the `phone_number` filter from
    /// `file` in the data directory (the profile's entry, with the date it was probed; probed
    /// again when missing or older than [`PROBE_MAX_AGE_DAYS`]), the first time it looks a
    /// number up.
    pub fn with_filter_probe(mut self, file: PathBuf, profile: &str) -> RunCache {
        self.probe = Some((file, profile.to_string()));
        self
    }

    /// Does Zoom honour the `phone_number` filter? `None` when unknown (no probe file, or the
    /// account has too few numbers to tell).
    fn filter_honoured(&self, zoom: &ZoomClient) -> Option<bool> {
        let Some((file, profile)) = &self.probe else {
            return self.filter;
        };
        *self
            .probed
            .get_or_init(|| probe::honoured(file, profile, || zoom.probe_number_filter()))
    }

    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// After a sent write (whatever its answer): forget what it may have changed. `params` are
    /// the write's journaled parameters.
    pub fn after_write(&self, op: &str, params: &serde_json::Value) {
        let s = |k: &str| params.get(k).and_then(|v| v.as_str()).map(str::to_string);
        match op {
            "movius::set_zoom_enabled" | "movius::add_allowed_email_domain" => {
                if let Some(org) = s("org") {
                    lock(&self.orgs).remove(&org);
                }
            }
            "movius::create_sub_org" => lock(&self.orgs).clear(),
            // Peering and unpeering happen within the call: only a refresh that starts after
            // its answer can show the number (the touch before the call covered the call's
            // failure; this one covers its success).
            op if peering_number_param(op).is_some() => {
                if let Some(n) = peering_number_param(op).and_then(s) {
                    self.touched(&n);
                }
            }
            "carrier::provision_ptn" => {
                for n in params
                    .get("numbers")
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str())
                {
                    self.pool_moved(n);
                }
            }
            "zoom::enable_phone"
            | "zoom::update_phone_user"
            | "zoom::assign_calling_plan"
            | "zoom::remove_calling_plan"
            | "zoom::create_user" => {
                if let Some(u) = s("user").or_else(|| {
                    params
                        .pointer("/user_info/email")
                        .and_then(|v| v.as_str())
                        .map(str::to_string)
                }) {
                    self.forget_user(&u);
                }
            }
            _ => {}
        }
    }

    /// What the caches cost and answered so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            user_pages: self.user_pages.load(Ordering::Relaxed),
            user_hits: self.user_hits.load(Ordering::Relaxed),
            refreshes: self.refreshes.load(Ordering::Relaxed),
            refresh_pages: self.refresh_pages.load(Ordering::Relaxed),
            number_hits: self.number_hits.load(Ordering::Relaxed),
            org_reads: self.org_reads.load(Ordering::Relaxed),
            pool_reads: self.pool_reads.load(Ordering::Relaxed),
            pool_hits: self.pool_hits.load(Ordering::Relaxed),
            assigned: lock(&self.assigned).len() as u64,
            sweep_mismatches: self.mismatches.load(Ordering::Relaxed),
            index_load_pages: self.index.stats().load_pages,
        }
    }
}
