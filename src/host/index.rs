//! An index of Zoom's phone numbers for bulk runs: Zoom's list endpoint has no documented number
//! filter, so checking one number naively pages the whole account for every row. The index is read
//! once and kept current by the run's own writes (assign, unassign). A number absent from the load
//! is answered "absent" from the load the first time a row asks (no call: that is what the load
//! is for); after that, and after any write that may put it into Zoom or take it out (peering,
//! unpeering), every look asks Zoom for that one number with one filtered query, so a wait loop
//! sees the change and a verification is never answered by our own bookkeeping.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use serde::Serialize;

use crate::api::zoom::wire::{Assignee, PhoneNumber};
use crate::api::zoom::{NumberQuery, NumberType, ZoomClient};
use crate::api::{ApiError, E164};

/// Zoom's list endpoint answers at most this many numbers a page.
const PAGE_SIZE: u64 = 100;

/// What the index cost and answered (benchmarks show that the per-row cost does not grow with
/// the account: the load is once per run, every lookup after it is at most one filtered query).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IndexStats {
    /// Numbers read when the index loaded (0 when nothing asked for a number).
    pub numbers_loaded: u64,
    /// List pages read to load it (once per run).
    pub load_pages: u64,
    /// Lookups answered.
    pub lookups: u64,
    /// Lookups the index answered without a call.
    pub hits: u64,
    /// Lookups that took one filtered query (numbers the index did not know).
    pub queries: u64,
}

/// Zoom's numbers for one bulk run, shared by its workers.
#[derive(Default)]
pub struct NumberIndex {
    map: RwLock<Option<HashMap<String, PhoneNumber>>>,
    /// Numbers absent from the map whose next look must ask Zoom: their absence was answered
    /// from the load once already, or this run peered or unpeered them.
    ask: Mutex<HashSet<String>>,
    loaded: AtomicU64,
    load_pages: AtomicU64,
    lookups: AtomicU64,
    hits: AtomicU64,
    queries: AtomicU64,
}

impl NumberIndex {
    pub fn new() -> Self {
        NumberIndex::default()
    }

    fn ensure_loaded(&self, zoom: &ZoomClient) -> Result<(), ApiError> {
        if self.map.read().unwrap_or_else(|e| e.into_inner()).is_some() {
            return Ok(());
        }
        let mut w = self.map.write().unwrap_or_else(|e| e.into_inner());
        if w.is_none() {
            let all = zoom.numbers(&NumberQuery {
                kind: Some(NumberType::All),
                phone_number: None,
                site_id: None,
            })?;
            tracing::info!(numbers = all.len(), "zoom number index loaded");
            // An empty list is still one page.
            let pages = (all.len() as u64).div_ceil(PAGE_SIZE).max(1);
            self.load_pages.store(pages, Ordering::Relaxed);
            self.loaded.store(all.len() as u64, Ordering::Relaxed);
            *w = Some(all.into_iter().map(|n| (n.number.clone(), n)).collect());
        }
        Ok(())
    }

    /// The number as Zoom lists it, or `None` when Zoom does not have it.
    pub fn find(&self, zoom: &ZoomClient, n: &E164) -> Result<Option<PhoneNumber>, ApiError> {
        self.ensure_loaded(zoom)?;
        self.lookups.fetch_add(1, Ordering::Relaxed);
        if let Some(hit) = self
            .map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(|m| m.get(n.as_str()).cloned())
        {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(hit));
        }
        if self
            .ask
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(n.to_string())
        {
            // Absent when the run started and not touched since: the load answers, once.
            return Ok(None);
        }
        // Asked before, or peered/unpeered by this run: ask for this one number (one call where
        // Zoom filters).
        let q = NumberQuery {
            kind: None,
            phone_number: Some(n.clone()),
            site_id: None,
        };
        self.queries.fetch_add(1, Ordering::Relaxed);
        let found = zoom
            .numbers(&q)?
            .into_iter()
            .find(|p| p.number == n.as_str());
        if let Some(p) = &found {
            self.put(p.clone());
        }
        Ok(found)
    }

    /// What the index cost and answered so far.
    pub fn stats(&self) -> IndexStats {
        IndexStats {
            numbers_loaded: self.loaded.load(Ordering::Relaxed),
            load_pages: self.load_pages.load(Ordering::Relaxed),
            lookups: self.lookups.load(Ordering::Relaxed),
            hits: self.hits.load(Ordering::Relaxed),
            queries: self.queries.load(Ordering::Relaxed),
        }
    }

    fn put(&self, p: PhoneNumber) {
        if let Some(m) = self.map.write().unwrap_or_else(|e| e.into_inner()).as_mut() {
            m.insert(p.number.clone(), p);
        }
    }

    /// After an assign: the number now belongs to `user`.
    pub fn assigned(&self, number: &str, user_id: &str) {
        if let Some(m) = self.map.write().unwrap_or_else(|e| e.into_inner()).as_mut() {
            if let Some(p) = m.get_mut(number) {
                p.assignee = Some(Assignee {
                    id: user_id.to_string(),
                    name: None,
                    extension_number: None,
                    kind: "user".into(),
                });
            }
        }
    }

    /// After an unassign: nobody holds the number.
    pub fn unassigned(&self, number: &str) {
        if let Some(m) = self.map.write().unwrap_or_else(|e| e.into_inner()).as_mut() {
            if let Some(p) = m.get_mut(number) {
                p.assignee = None;
            }
        }
    }

    /// After an unpeer (account delete, carrier delete): Zoom should no longer have the number;
    /// the next look asks Zoom (a check that it is gone must not read our own bookkeeping).
    pub fn removed(&self, number: &str) {
        self.touched(number);
    }

    /// Before a write that may peer or unpeer the number (whether or not it succeeds): forget
    /// what the load said; the next look asks Zoom.
    pub fn touched(&self, number: &str) {
        let key = E164::parse(number)
            .map(|e| e.to_string())
            .unwrap_or_else(|_| number.to_string());
        if let Some(m) = self.map.write().unwrap_or_else(|e| e.into_inner()).as_mut() {
            m.remove(&key);
        }
        self.ask
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key);
    }

    /// Zoom's id of a number the index holds (no call, no load).
    pub fn id_of(&self, n: &E164) -> Option<String> {
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(|m| m.get(n.as_str()).map(|p| p.id.clone()))
            .filter(|id| !id.is_empty())
    }

    /// A fresh copy of a number read from Zoom.
    pub fn refresh(&self, p: PhoneNumber) {
        self.put(p);
    }
}
