//! The run's Movius reads: organizations and available pools.

use crate::api::movius::wire::PoolNumber;
use crate::api::ApiError;

use super::*;

impl RunCache {
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

    pub(super) fn pool_moved(&self, n: &str) {
        let digits = E164::parse(n)
            .map(|e| e.digits().to_string())
            .unwrap_or_else(|_| n.to_string());
        lock(&self.pool_unknown).insert(digits);
    }
}
