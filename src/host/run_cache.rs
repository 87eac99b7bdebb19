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

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::api::movius::wire::{Org, PoolNumber};
use crate::api::zoom::wire::{Assignee, PhoneNumber, PhoneUser};
use crate::api::zoom::{NumberQuery, NumberType, ZoomClient};
use crate::api::{ApiError, E164};

use super::index::NumberIndex;

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

/// The phone users, by id and by lower-cased email, and who holds each number.
#[derive(Default)]
struct Users {
    /// When the last complete read finished.
    loaded_at: Option<Instant>,
    /// A read of the pages is under way (rows wait a little for their user to arrive).
    loading: bool,
    by_key: HashMap<String, Arc<PhoneUser>>,
    /// E.164 → (number id, user id).
    holder: HashMap<String, (String, String)>,
    /// Users the run wrote to during a read: a page read before the write must not bring
    /// the old copy back.
    dirty: HashSet<String>,
}

impl Users {
    fn put(&mut self, u: PhoneUser) {
        for r in &u.phone_numbers {
            if let Some(n) = r.number.as_deref() {
                self.holder
                    .insert(key_of(n), (r.id.clone().unwrap_or_default(), u.id.clone()));
            }
        }
        let u = Arc::new(u);
        self.by_key.insert(u.email.to_ascii_lowercase(), u.clone());
        self.by_key.insert(u.id.clone(), u);
    }

    fn get(&self, key: &str) -> Option<&Arc<PhoneUser>> {
        self.by_key
            .get(key)
            .or_else(|| self.by_key.get(&key.to_ascii_lowercase()))
    }

    fn forget(&mut self, key: &str) {
        if let Some(u) = self.get(key).cloned() {
            self.by_key.remove(&u.id);
            self.by_key.remove(&u.email.to_ascii_lowercase());
            self.holder.retain(|_, (_, uid)| *uid != u.id);
            if self.loading {
                self.dirty.insert(u.id.clone());
                self.dirty.insert(u.email.to_ascii_lowercase());
            }
        }
        if self.loading {
            self.dirty.insert(key.to_ascii_lowercase());
        }
    }
}

/// How long a row waits for its user to arrive with the pages being read before it reads the
/// user on its own.
const USER_WAIT: Duration = Duration::from_millis(1500);

/// The shared refresh of Zoom's unassigned list.
#[derive(Default)]
struct Refresh {
    /// Refreshes started, and the last one finished (numbers in order: a refresh with a higher
    /// number started later).
    started: u64,
    done: u64,
    running: bool,
    last_start: Option<Instant>,
    last_done: Option<Instant>,
    /// E.164 → the number, as the last refresh listed it.
    listed: HashMap<String, PhoneNumber>,
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

    // ---- Movius ----

    /// The organization, read at most once per [`ORG_MAX_AGE`].
    pub fn org(
        &self,
        id: &str,
        read: impl FnOnce() -> Result<Org, ApiError>,
    ) -> Result<Org, ApiError> {
        let cached = || {
            lock(&self.orgs)
                .get(id)
                .filter(|t| t.at.elapsed() < ORG_MAX_AGE)
                .map(|t| t.value.clone())
        };
        if let Some(o) = cached() {
            return Ok(o);
        }
        // One read for all the rows that missed at once.
        let _one = lock(&self.movius_loading);
        if let Some(o) = cached() {
            return Ok(o);
        }
        self.org_reads.fetch_add(1, Ordering::Relaxed);
        let o = read()?;
        lock(&self.orgs).insert(
            id.to_string(),
            Timed {
                at: Instant::now(),
                value: o.clone(),
            },
        );
        Ok(o)
    }

    /// Is `n` in the pool `org` draws from? The pool is read once (again after
    /// [`POOL_MAX_AGE`], or when the run may have moved this number).
    pub fn in_pool(
        &self,
        org: &str,
        n: &E164,
        read: impl FnOnce() -> Result<Vec<PoolNumber>, ApiError>,
    ) -> Result<bool, ApiError> {
        let digits = n.digits().to_string();
        let cached = || {
            if lock(&self.pool_unknown).contains(&digits) {
                return None;
            }
            lock(&self.pools)
                .get(org)
                .filter(|t| t.at.elapsed() < POOL_MAX_AGE)
                .map(|t| t.value.contains(&digits))
        };
        if let Some(has) = cached() {
            self.pool_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(has);
        }
        // One read for all the rows that missed at once.
        let _one = lock(&self.movius_loading);
        if let Some(has) = cached() {
            self.pool_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(has);
        }
        let unknown = lock(&self.pool_unknown).contains(&digits);
        self.pool_reads.fetch_add(1, Ordering::Relaxed);
        let pool: HashSet<String> = read()?
            .into_iter()
            .map(|p| {
                E164::parse(&p.phone_number)
                    .map(|e| e.digits().to_string())
                    .unwrap_or(p.phone_number)
            })
            .collect();
        let has = pool.contains(&digits);
        // Every pool read after the run moved a number knows where it is now.
        let started = Instant::now();
        {
            let mut pools = lock(&self.pools);
            // Numbers marked unknown are current in this read only; other cached pools still
            // need theirs, so drop those pools rather than trust them.
            if unknown {
                pools.clear();
                lock(&self.pool_unknown).clear();
            }
            pools.insert(
                org.to_string(),
                Timed {
                    at: started,
                    value: pool,
                },
            );
        }
        Ok(has)
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

    fn pool_moved(&self, n: &str) {
        let digits = E164::parse(n)
            .map(|e| e.digits().to_string())
            .unwrap_or_else(|_| n.to_string());
        lock(&self.pool_unknown).insert(digits);
    }

    // ---- Zoom phone users ----

    /// Start reading every page of phone users in the background (again after
    /// [`USERS_MAX_AGE`]), unless a read is under way. The first read fills the map page by
    /// page, so rows start on the users read so far; a later one replaces it whole at its end.
    fn load_users(self: &Arc<Self>, zoom: &ZoomClient) {
        {
            let mut u = lock(&self.users);
            let fresh = u.loaded_at.is_some_and(|t| t.elapsed() < USERS_MAX_AGE);
            if u.loading || fresh {
                return;
            }
            u.loading = true;
        }
        let me = self.clone();
        let zoom = zoom.clone();
        let first = lock(&self.users).loaded_at.is_none();
        let spawned = std::thread::Builder::new()
            .name("vline-phone-users".into())
            .spawn(move || me.read_users(&zoom, first));
        match spawned {
            Ok(h) => {
                if let Some(old) = lock(&self.loader).replace(h) {
                    let _ = old.join();
                }
            }
            Err(e) => {
                tracing::warn!("cannot start the phone-user read: {e}");
                lock(&self.users).loading = false;
            }
        }
    }

    fn read_users(&self, zoom: &ZoomClient, first: bool) {
        let mut fresh = Users::default();
        let mut pages = 0u64;
        let res = zoom.phone_user_pages(|page| {
            pages += 1;
            let normal = page.into_iter().map(|mut u| {
                // The list names the site; the single read gives its id: answer both ways.
                if u.site_id.is_none() {
                    u.site_id = u
                        .site
                        .as_ref()
                        .map(|s| s.id.clone())
                        .filter(|s| !s.is_empty());
                }
                u
            });
            if first {
                let mut live = lock(&self.users);
                for u in normal {
                    let written = live.dirty.contains(&u.id)
                        || live.dirty.contains(&u.email.to_ascii_lowercase());
                    if !written {
                        live.put(u);
                    }
                }
                drop(live);
                self.users_arrived.notify_all();
            } else {
                normal.for_each(|u| fresh.put(u));
            }
        });
        self.user_pages.fetch_add(pages, Ordering::Relaxed);
        let mut live = lock(&self.users);
        live.loading = false;
        match res {
            Ok(()) => {
                tracing::info!(
                    users = live.by_key.len() / 2,
                    pages,
                    "zoom phone users read"
                );
                if !first {
                    let dirty = std::mem::take(&mut live.dirty);
                    for k in &dirty {
                        fresh.forget(k);
                    }
                    fresh.by_key.retain(|k, _| !dirty.contains(k));
                    live.by_key = fresh.by_key;
                    live.holder = fresh.holder;
                }
                live.loaded_at = Some(Instant::now());
            }
            // Rows read their users one by one; the next look tries the pages again.
            Err(e) => tracing::warn!("reading Zoom's phone users failed: {e}"),
        }
        live.dirty.clear();
        drop(live);
        self.users_arrived.notify_all();
    }

    /// One phone user by id or email. A bulk run reads every page once and answers from them
    /// (a row waits at most [`USER_WAIT`] for its user's page); a user not in them, or forgotten
    /// after a write to it, is read on its own.
    pub fn phone_user(
        self: &Arc<Self>,
        zoom: &ZoomClient,
        key: &str,
    ) -> Result<PhoneUser, ApiError> {
        if self.scope == Scope::Bulk {
            self.load_users(zoom);
        }
        let deadline = Instant::now() + USER_WAIT;
        let mut u = lock(&self.users);
        loop {
            if let Some(hit) = u.get(key) {
                self.user_hits.fetch_add(1, Ordering::Relaxed);
                return Ok(PhoneUser::clone(hit));
            }
            let now = Instant::now();
            if !u.loading || now >= deadline {
                break;
            }
            u = self
                .users_arrived
                .wait_timeout(u, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        drop(u);
        let got = zoom.phone_user(key)?;
        lock(&self.users).put(got.clone());
        Ok(got)
    }

    /// The end of a run: wait for a read of the phone users still under way.
    pub fn finish(&self) {
        if let Some(h) = lock(&self.loader).take() {
            let _ = h.join();
        }
    }

    fn forget_user(&self, key: &str) {
        lock(&self.users).forget(key);
    }

    // ---- Zoom numbers ----

    /// Before a write that may peer or unpeer the number (whether or not it succeeds): what the
    /// run knew about it no longer holds; only a refresh started after now answers it.
    pub fn touched(&self, number: &str) {
        let key = key_of(number);
        let started = lock(&self.refresh).started;
        lock(&self.touched).insert(key.clone(), started);
        lock(&self.filtered).remove(&key);
        lock(&self.assigned).remove(&key);
        lock(&self.users).holder.remove(&key);
        self.index.touched(&key);
        self.pool_moved(&key);
    }

    /// After an unpeer (account delete, carrier delete).
    pub fn removed(&self, number: &str) {
        self.touched(number);
    }

    /// After an assign: the number now belongs to `user` (an id or an email), as the assign's
    /// answer says; the end-of-run sweep checks it again.
    pub fn assigned(&self, number: &str, user: &str) {
        let key = key_of(number);
        let (uid, email, name, ext) = {
            let users = lock(&self.users);
            match users.get(user) {
                Some(u) => (
                    u.id.clone(),
                    Some(u.email.clone()),
                    u.name.clone(),
                    u.extension_number,
                ),
                None => (user.to_string(), None, None, None),
            }
        };
        let known_id = self.id_of_key(&key).unwrap_or_default();
        let p = PhoneNumber {
            id: known_id.clone(),
            number: key.clone(),
            assignee: Some(Assignee {
                id: uid.clone(),
                name: name.or(email),
                extension_number: ext,
                kind: "user".into(),
            }),
            ..PhoneNumber::default()
        };
        {
            let mut users = lock(&self.users);
            users.holder.insert(key.clone(), (known_id, uid));
        }
        self.index.assigned(&key, user);
        lock(&self.assigned).insert(key, (p, current_row()));
    }

    /// After an unassign: nobody holds the number.
    pub fn unassigned(&self, number: &str) {
        let key = key_of(number);
        lock(&self.assigned).remove(&key);
        lock(&self.users).holder.remove(&key);
        // Known unassigned only through a refresh from now on.
        let started = lock(&self.refresh).started;
        lock(&self.touched).insert(key.clone(), started);
        self.index.unassigned(&key);
    }

    /// The number as this run's assign answered it, if this run assigned it (no call: the end
    /// of the run checks it again).
    pub fn assigned_by_run(&self, n: &E164) -> Option<PhoneNumber> {
        lock(&self.assigned).get(n.as_str()).map(|(p, _)| p.clone())
    }

    fn id_of_key(&self, key: &str) -> Option<String> {
        if let Some((id, _)) = lock(&self.users).holder.get(key) {
            if !id.is_empty() {
                return Some(id.clone());
            }
        }
        if let Some(p) = lock(&self.refresh).listed.get(key) {
            return Some(p.id.clone());
        }
        if let Some((_, Some(p))) = lock(&self.filtered).get(key) {
            return Some(p.id.clone());
        }
        E164::parse(key).ok().and_then(|n| self.index.id_of(&n))
    }

    /// Zoom's id of a number the run knows (no call).
    pub fn id_of(&self, n: &E164) -> Option<String> {
        self.id_of_key(n.as_str()).filter(|s| !s.is_empty())
    }

    /// A fresh copy of a number read from Zoom.
    pub fn refresh(&self, p: PhoneNumber) {
        self.index.refresh(p);
    }

    /// The number as Zoom has it, or `None` when Zoom does not list it. Sources, cheapest
    /// first: the phone users' numbers (who holds what), the shared refresh of the unassigned
    /// list, and only for a number neither knows, one filtered query where Zoom honours the
    /// filter (single runs) or Zoom's whole list, read once per run.
    pub fn find(&self, zoom: &ZoomClient, n: &E164) -> Result<Option<PhoneNumber>, ApiError> {
        let key = n.to_string();
        let touched_at = lock(&self.touched).get(&key).copied();
        if touched_at.is_none() {
            if let Some(p) = self.held(&key) {
                self.number_hits.fetch_add(1, Ordering::Relaxed);
                return Ok(Some(p));
            }
        }
        if self.scope == Scope::Single && self.filter_honoured(zoom) == Some(true) {
            // One filtered query: Zoom answers for this number only.
            let q = NumberQuery {
                kind: None,
                phone_number: Some(n.clone()),
                site_id: None,
            };
            // A second look right after (the guide's unassigned check after the wait) is
            // answered by the first.
            if touched_at.is_none() {
                if let Some((at, p)) = lock(&self.filtered).get(&key) {
                    if at.elapsed() < REFRESH_FRESH {
                        self.number_hits.fetch_add(1, Ordering::Relaxed);
                        return Ok(p.clone());
                    }
                }
            }
            let found = zoom.numbers(&q)?.into_iter().find(|p| p.number == key);
            lock(&self.touched).remove(&key);
            lock(&self.filtered).insert(key, (Instant::now(), found.clone()));
            return Ok(found);
        }
        let (found, seen) = self.unassigned_look(zoom, &key, touched_at)?;
        if let Some(p) = found {
            return Ok(Some(p));
        }
        if touched_at.is_some() {
            // Peered or unpeered by this run and not listed as unassigned by a refresh that
            // started after: not in Zoom as unassigned (yet). A wait loop looks again, and
            // then only a later refresh answers it.
            lock(&self.touched).insert(key, seen);
            return Ok(None);
        }
        // Neither a user's nor unassigned: absent, or held by something other than a user.
        match self.scope {
            Scope::Bulk => self.index.find(zoom, n),
            Scope::Single => {
                let q = NumberQuery {
                    kind: Some(NumberType::All),
                    phone_number: Some(n.clone()),
                    site_id: None,
                };
                Ok(zoom.numbers(&q)?.into_iter().find(|p| p.number == key))
            }
        }
    }

    /// A number held by a user, as the phone users (or this run's assigns) say.
    fn held(&self, key: &str) -> Option<PhoneNumber> {
        if let Some((p, _)) = lock(&self.assigned).get(key) {
            return Some(p.clone());
        }
        let users = lock(&self.users);
        let (id, uid) = users.holder.get(key)?;
        let u = users.by_key.get(uid);
        Some(PhoneNumber {
            id: id.clone(),
            number: key.to_string(),
            assignee: Some(Assignee {
                id: uid.clone(),
                name: u.and_then(|u| u.name.clone().or(Some(u.email.clone()))),
                extension_number: u.and_then(|u| u.extension_number),
                kind: "user".into(),
            }),
            ..PhoneNumber::default()
        })
    }

    /// `key` in the unassigned list of a refresh recent enough: for a number the run touched
    /// (refresh count `touched_at` when it did), one started after that; otherwise one younger
    /// than [`REFRESH_FRESH`]. Rows that need one share it; at most one starts per
    /// [`REFRESH_EVERY`] in a bulk run. Returns what it listed and the refresh's count.
    fn unassigned_look(
        &self,
        zoom: &ZoomClient,
        key: &str,
        touched_at: Option<u64>,
    ) -> Result<(Option<PhoneNumber>, u64), ApiError> {
        let every = match self.scope {
            Scope::Bulk => REFRESH_EVERY,
            Scope::Single => Duration::ZERO,
        };
        let mut r = lock(&self.refresh);
        let need = match touched_at {
            Some(t) => t + 1,
            None if r.last_done.is_some_and(|t| t.elapsed() < REFRESH_FRESH) => r.done,
            None => r.started + 1,
        };
        loop {
            if r.done >= need && r.done > 0 {
                return Ok((r.listed.get(key).cloned(), r.done));
            }
            let due = r.last_start.is_none_or(|t| t.elapsed() >= every);
            if !r.running && due {
                r.running = true;
                r.started += 1;
                let mine = r.started;
                r.last_start = Some(Instant::now());
                drop(r);
                let res = zoom.numbers(&NumberQuery {
                    kind: Some(NumberType::Unassigned),
                    phone_number: None,
                    site_id: None,
                });
                let mut g = lock(&self.refresh);
                g.running = false;
                match res {
                    Ok(list) => {
                        self.refreshes.fetch_add(1, Ordering::Relaxed);
                        self.refresh_pages
                            .fetch_add((list.len() as u64).div_ceil(100).max(1), Ordering::Relaxed);
                        g.listed = list.into_iter().map(|p| (key_of(&p.number), p)).collect();
                        g.done = mine;
                        g.last_done = Some(Instant::now());
                        self.refreshed.notify_all();
                        r = g;
                    }
                    Err(e) => {
                        // The next waiter tries again; this row sees the failure.
                        self.refreshed.notify_all();
                        return Err(e);
                    }
                }
                continue;
            }
            let wait = if r.running {
                Duration::from_millis(100)
            } else {
                every
                    .saturating_sub(r.last_start.map(|t| t.elapsed()).unwrap_or_default())
                    .max(Duration::from_millis(1))
            };
            r = self
                .refreshed
                .wait_timeout(r, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The end of a bulk run: one refresh of the unassigned list, started after the run's last
    /// assign, and every number this run assigned that Zoom lists there again is reported (the
    /// assign answered, but did not hold). Costs ⌈unassigned / 100⌉ pages, whatever the
    /// account's size.
    pub fn sweep(&self, zoom: &ZoomClient) -> Result<Vec<Mismatch>, ApiError> {
        self.finish();
        let assigned: Vec<(String, PhoneNumber, Option<String>)> = lock(&self.assigned)
            .iter()
            .map(|(k, (p, row))| (k.clone(), p.clone(), row.clone()))
            .collect();
        if assigned.is_empty() {
            return Ok(Vec::new());
        }
        let after = lock(&self.refresh).started;
        self.unassigned_look(zoom, "", Some(after))?;
        let r = lock(&self.refresh);
        let users = lock(&self.users);
        let mut out = Vec::new();
        for (key, p, row) in assigned {
            if !r.listed.contains_key(&key) {
                continue;
            }
            let want = p.assignee.map(|a| a.id).unwrap_or_default();
            let user = users
                .by_key
                .get(&want)
                .map(|u| u.email.clone())
                .unwrap_or(want);
            out.push(Mismatch {
                number: key,
                row,
                found: "listed as unassigned".into(),
                user,
            });
        }
        self.mismatches
            .fetch_add(out.len() as u64, Ordering::Relaxed);
        Ok(out)
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

/// Whether Zoom honours the `phone_number` filter of `GET /phone/numbers`, probed once per
/// profile and kept in the data directory with the date: `{"prod": {"honoured": false,
/// "checked": "2026-12-02"}}`. vline never depends on it: it only decides whether a single run
/// asks Zoom for one number (one call) or reads the unassigned list.
mod probe {
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
}
