//! The run's Zoom numbers: one shared refresh of the unassigned list, the run's own assigns,
//! the whole-list index as the last resort, and the sweep at the end of a run.

use crate::api::zoom::wire::Assignee;
use crate::api::zoom::{NumberQuery, NumberType, ZoomClient};
use crate::api::ApiError;

use super::*;

/// The shared refresh of Zoom's unassigned list.
#[derive(Default)]
pub(super) struct Refresh {
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

impl RunCache {
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
}
