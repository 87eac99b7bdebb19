//! The run's Zoom phone users: every page read once, in the background, kept current.

use crate::api::zoom::wire::PhoneUser;
use crate::api::zoom::ZoomClient;
use crate::api::ApiError;

use super::*;

/// The phone users, by id and by lower-cased email, and who holds each number.
#[derive(Default)]
pub(super) struct Users {
    /// When the last complete read finished.
    loaded_at: Option<Instant>,
    /// A read of the pages is under way (rows wait a little for their user to arrive).
    loading: bool,
    pub(super) by_key: HashMap<String, Arc<PhoneUser>>,
    /// E.164 → (number id, user id).
    pub(super) holder: HashMap<String, (String, String)>,
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

    pub(super) fn get(&self, key: &str) -> Option<&Arc<PhoneUser>> {
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

impl RunCache {
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

    pub(super) fn forget_user(&self, key: &str) {
        lock(&self.users).forget(key);
    }
}
