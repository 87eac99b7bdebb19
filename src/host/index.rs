//! An index of Zoom's phone numbers for bulk runs: Zoom's list endpoint has no documented number
//! filter, so checking one number naively pages the whole account for every row. The index is read
//! once, kept current by the run's own writes (assign, unassign, unpeer), and a number it does not
//! know (peered by this very row) is looked up with one filtered query.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::api::zoom::wire::{Assignee, PhoneNumber};
use crate::api::zoom::{NumberQuery, NumberType, ZoomClient};
use crate::api::{ApiError, E164};

#[derive(Default)]
pub struct NumberIndex {
    map: RwLock<Option<HashMap<String, PhoneNumber>>>,
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
            *w = Some(all.into_iter().map(|n| (n.number.clone(), n)).collect());
        }
        Ok(())
    }

    /// The number as Zoom lists it, or `None` when Zoom does not have it.
    pub fn find(&self, zoom: &ZoomClient, n: &E164) -> Result<Option<PhoneNumber>, ApiError> {
        self.ensure_loaded(zoom)?;
        if let Some(hit) = self
            .map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(|m| m.get(n.as_str()).cloned())
        {
            return Ok(Some(hit));
        }
        // Not known when the run started: ask for this one number (one call where Zoom filters).
        let q = NumberQuery {
            kind: None,
            phone_number: Some(n.clone()),
            site_id: None,
        };
        let found = zoom
            .numbers(&q)?
            .into_iter()
            .find(|p| p.number == n.as_str());
        if let Some(p) = &found {
            self.put(p.clone());
        }
        Ok(found)
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

    /// After an unpeer (account delete, carrier delete): Zoom no longer has the number.
    pub fn removed(&self, number: &str) {
        if let Some(m) = self.map.write().unwrap_or_else(|e| e.into_inner()).as_mut() {
            m.remove(number);
        }
    }
}
