//! SQLite state: one table per kind of thing (a JSON document per row, in order), the issued
//! tokens, the faults and the request log. One connection behind a mutex: simple and correct, and
//! the sandbox serves one operator, not production traffic.

use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::faults::Faults;
use super::reqlog::LoggedRequest;
use super::world::World;
use super::{seed, Counts, SandboxError, Seed, StateLocation};

const SCHEMA_VERSION: i64 = 2;

pub struct Store {
    conn: Mutex<Connection>,
    /// The state as last read, with the generation it was read at: parsing every row at every
    /// request would make large states slow. Another process that writes bumps the generation.
    cache: Mutex<Option<(i64, Arc<World>)>>,
    name: String,
}

fn kinds() -> Vec<String> {
    match serde_json::to_value(World::default()) {
        Ok(Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Millisecond)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

impl Store {
    /// Open (and create, seeding with `seed`, when new) the state.
    pub fn open(loc: &StateLocation, seed: Seed) -> Result<Store, SandboxError> {
        let name = loc.to_string();
        let db = |cause| SandboxError::Db {
            path: name.clone(),
            cause,
        };
        let conn = match loc {
            StateLocation::Memory => Connection::open_in_memory().map_err(db)?,
            StateLocation::File(p) => {
                if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| SandboxError::Dir(dir.display().to_string(), e))?;
                }
                let c = Connection::open(p).map_err(db)?;
                c.busy_timeout(std::time::Duration::from_secs(10))
                    .map_err(db)?;
                c.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
                c.pragma_update(None, "synchronous", "NORMAL").map_err(db)?;
                c
            }
        };
        let store = Store {
            conn: Mutex::new(conn),
            cache: Mutex::new(None),
            name,
        };
        store.init(seed)?;
        Ok(store)
    }

    fn err(&self, cause: rusqlite::Error) -> SandboxError {
        SandboxError::Db {
            path: self.name.clone(),
            cause,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic in one handler must not take the whole sandbox down with a poisoned lock.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn init(&self, seed: Seed) -> Result<(), SandboxError> {
        let mut c = self.lock();
        let tx = c.transaction().map_err(|e| self.err(e))?;
        // A file written by another vline (no meta table, or tables of another shape) must be
        // named as such, not fail half-way through the DDL below.
        let tables: i64 = tx
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type='table'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        let has_meta: i64 = tx
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        let old_version: Option<String> = if has_meta == 1 {
            tx.query_row(
                "SELECT value FROM meta WHERE key='schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?
        } else {
            None
        };
        if tables > 0 && old_version.as_deref() != Some(SCHEMA_VERSION.to_string().as_str()) {
            return Err(SandboxError::Corrupt(
                self.name.clone(),
                "written by another version of vline; run `vline sandbox reset`".into(),
            ));
        }
        let mut ddl = String::from(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS requests (seq INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL,
               service TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, query TEXT NOT NULL,
               status INTEGER NOT NULL, body_sha256 TEXT NOT NULL, op TEXT NOT NULL, is_write INTEGER NOT NULL);",
        );
        for k in kinds() {
            ddl.push_str(&format!(
                "CREATE TABLE IF NOT EXISTS \"{k}\" (seq INTEGER PRIMARY KEY, key TEXT NOT NULL, doc TEXT NOT NULL);
                 CREATE INDEX IF NOT EXISTS \"{k}_key\" ON \"{k}\"(key);"
            ));
        }
        tx.execute_batch(&ddl).map_err(|e| self.err(e))?;
        // Added after schema 2 shipped; an older state file gains the column in place.
        let has_lost: i64 = tx
            .query_row(
                "SELECT count(*) FROM pragma_table_info('requests') WHERE name = 'answer_lost'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if has_lost == 0 {
            tx.execute_batch(
                "ALTER TABLE requests ADD COLUMN answer_lost INTEGER NOT NULL DEFAULT 0",
            )
            .map_err(|e| self.err(e))?;
        }
        let version: Option<String> = tx
            .query_row(
                "SELECT value FROM meta WHERE key='schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        match version {
            None => {
                tx.execute("INSERT INTO meta(key,value) VALUES('schema_version',?1)", params![SCHEMA_VERSION.to_string()])
                    .map_err(|e| self.err(e))?;
                write_world(&tx, None, &seed::world(seed)).map_err(|e| self.err(e))?;
                bump_generation(&tx).map_err(|e| self.err(e))?;
                tx.execute("INSERT OR REPLACE INTO meta(key,value) VALUES('seed',?1)", params![seed_name(seed)])
                    .map_err(|e| self.err(e))?;
            }
            Some(v) if v == SCHEMA_VERSION.to_string() => {}
            Some(v) => {
                return Err(SandboxError::Corrupt(
                    self.name.clone(),
                    format!("schema version {v}, this vline knows {SCHEMA_VERSION}; run `vline sandbox reset`"),
                ))
            }
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Wipe everything (log, tokens, faults too) and load `seed`.
    pub fn reset(&self, seed: Seed) -> Result<(), SandboxError> {
        let mut c = self.lock();
        let tx = c.transaction().map_err(|e| self.err(e))?;
        tx.execute_batch("DELETE FROM tokens; DELETE FROM requests; DELETE FROM meta WHERE key IN ('faults','seed');")
            .map_err(|e| self.err(e))?;
        write_world(&tx, None, &seed::world(seed)).map_err(|e| self.err(e))?;
        bump_generation(&tx).map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT OR REPLACE INTO meta(key,value) VALUES('seed',?1)",
            params![seed_name(seed)],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// The current state (shared, not copied: readers do not pay for its size).
    pub fn load(&self) -> Result<Arc<World>, SandboxError> {
        let c = self.lock();
        self.cached_world(&c)
    }

    fn cached_world(&self, c: &Connection) -> Result<Arc<World>, SandboxError> {
        let gen = generation(c).map_err(|e| self.err(e))?;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((g, w)) = cache.as_ref() {
            if *g == gen {
                return Ok(w.clone());
            }
        }
        let w = Arc::new(read_world(c).map_err(|e| SandboxError::Corrupt(self.name.clone(), e))?);
        *cache = Some((gen, w.clone()));
        Ok(w)
    }

    /// Run `f` on the state; save the result only when `f` says so (a failed call keeps nothing).
    pub fn transact<R>(&self, f: impl FnOnce(&mut World) -> (R, bool)) -> Result<R, SandboxError> {
        let mut c = self.lock();
        // IMMEDIATE: another process on the same file cannot write between our read and write.
        let tx = c
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let before = self.cached_world(&tx)?;
        let mut w = World::clone(&before);
        let (r, commit) = f(&mut w);
        if commit && w != *before {
            write_world(&tx, Some(&before), &w).map_err(|e| self.err(e))?;
            let gen = bump_generation(&tx).map_err(|e| self.err(e))?;
            tx.commit().map_err(|e| self.err(e))?;
            *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = Some((gen, Arc::new(w)));
        }
        Ok(r)
    }

    pub fn faults(&self) -> Result<Faults, SandboxError> {
        let c = self.lock();
        let v: Option<String> = c
            .query_row("SELECT value FROM meta WHERE key='faults'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(v.and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default())
    }

    /// Store faults; `expire_tokens_now` expires every token issued so far, at once.
    pub fn set_faults(&self, f: &Faults) -> Result<(), SandboxError> {
        let c = self.lock();
        let s = serde_json::to_string(f).unwrap_or_else(|_| "{}".into());
        c.execute(
            "INSERT OR REPLACE INTO meta(key,value) VALUES('faults',?1)",
            params![s],
        )
        .map_err(|e| self.err(e))?;
        if f.expire_tokens_now {
            c.execute(
                "UPDATE tokens SET expires_at = MIN(expires_at, ?1)",
                params![now_secs() - 1],
            )
            .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    pub fn add_token(&self, token: &str, expires_at: i64) -> Result<(), SandboxError> {
        let c = self.lock();
        c.execute(
            "INSERT OR REPLACE INTO tokens(token, expires_at) VALUES(?1, ?2)",
            params![token, expires_at],
        )
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// When the token expires (unix seconds), if it was ever issued.
    pub fn token_expiry(&self, token: &str) -> Result<Option<i64>, SandboxError> {
        let c = self.lock();
        c.query_row(
            "SELECT expires_at FROM tokens WHERE token=?1",
            params![token],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| self.err(e))
    }

    pub fn log(&self, r: &LoggedRequest) -> Result<(), SandboxError> {
        let c = self.lock();
        c.execute(
            "INSERT INTO requests(ts,service,method,path,query,status,body_sha256,op,is_write,answer_lost) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
            params![r.ts, r.service, r.method, r.path, r.query, r.status, r.body_sha256, r.op, r.is_write, r.answer_lost],
        )
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn requests(&self) -> Result<Vec<LoggedRequest>, SandboxError> {
        let c = self.lock();
        let mut st = c
            .prepare("SELECT seq,ts,service,method,path,query,status,body_sha256,op,is_write,answer_lost FROM requests ORDER BY seq")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(LoggedRequest {
                    seq: r.get(0)?,
                    ts: r.get(1)?,
                    service: r.get(2)?,
                    method: r.get(3)?,
                    path: r.get(4)?,
                    query: r.get(5)?,
                    status: r.get(6)?,
                    body_sha256: r.get(7)?,
                    op: r.get(8)?,
                    is_write: r.get(9)?,
                    answer_lost: r.get(10)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    pub fn counts(&self) -> Result<Counts, SandboxError> {
        let w = self.load()?;
        let requests: i64 = {
            let c = self.lock();
            c.query_row("SELECT COUNT(*) FROM requests", [], |r| r.get(0))
                .map_err(|e| self.err(e))?
        };
        Ok(Counts {
            orgs: w.orgs.len() as u64,
            accounts: w.accounts.len() as u64,
            pool_numbers: w.pool.len() as u64,
            zoom_numbers: w.numbers.len() as u64,
            zoom_users: w.users.len() as u64,
            phone_users: w.users.iter().filter(|u| u.phone).count() as u64,
            requests: requests as u64,
        })
    }
}

fn seed_name(s: Seed) -> &'static str {
    match s {
        Seed::Demo => "demo",
        Seed::Empty => "empty",
    }
}

fn read_world(c: &Connection) -> Result<World, String> {
    let mut obj = serde_json::Map::new();
    let template = serde_json::to_value(World::default()).map_err(|e| e.to_string())?;
    let Value::Object(t) = template else {
        return Err("bad world template".into());
    };
    for (k, default) in t {
        let mut st = c
            .prepare(&format!("SELECT doc FROM \"{k}\" ORDER BY seq"))
            .map_err(|e| e.to_string())?;
        let docs = st
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| e.to_string())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let parsed = docs
            .iter()
            .map(|d| serde_json::from_str::<Value>(d).map_err(|e| format!("{k}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let v = if default.is_array() {
            Value::Array(parsed)
        } else {
            parsed.into_iter().next().unwrap_or(default)
        };
        obj.insert(k, v);
    }
    serde_json::from_value(Value::Object(obj)).map_err(|e| e.to_string())
}

fn generation(c: &Connection) -> Result<i64, rusqlite::Error> {
    let v: Option<String> = c
        .query_row("SELECT value FROM meta WHERE key='generation'", [], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(v.and_then(|s| s.parse().ok()).unwrap_or(0))
}

fn bump_generation(c: &Connection) -> Result<i64, rusqlite::Error> {
    let next = generation(c)? + 1;
    c.execute(
        "INSERT OR REPLACE INTO meta(key,value) VALUES('generation',?1)",
        params![next.to_string()],
    )?;
    Ok(next)
}

/// Write what changed, row by row: each row has a stable key (the thing's id), so a change
/// touches only its own rows however large the state is.
fn write_world(
    tx: &rusqlite::Transaction<'_>,
    before: Option<&World>,
    w: &World,
) -> Result<(), rusqlite::Error> {
    // Each table is named after its `World` field, keyed by the thing's id.
    macro_rules! table {
        ($field:ident, $key:expr) => {
            diff(
                tx,
                stringify!($field),
                before.map(|b| b.$field.rows()),
                w.$field.rows(),
                $key,
            )?
        };
    }
    table!(orgs, |x| x.organization_id.clone());
    table!(pool, |x| x.phone_number.clone());
    table!(accounts, |x| x.account_sid.clone());
    table!(cdrs, |x| x.cdr_id.clone());
    table!(users, |x| x.id.clone());
    table!(numbers, |x| x.id.clone());
    table!(peering, |x| x.phone_number.clone());
    table!(sites, |x| x.id.clone());
    table!(plans, |x| x.kind.to_string());
    table!(roles, |x| x.id.clone());
    table!(devices, |x| x.id.clone());
    table!(internal_numbers, |x| x.id.clone().unwrap_or_default());
    table!(call_logs, |x| x.id.clone());
    // Counters are one small row: compared by value.
    let old_counters = before.map(|b| [Arc::new(b.counters.clone())]);
    diff(
        tx,
        "counters",
        old_counters.as_ref().map(|c| &c[..]),
        &[Arc::new(w.counters.clone())],
        |_| "counters".into(),
    )?;
    Ok(())
}

/// Write a table whole (a new state, or keys that do not identify rows).
fn rewrite<T: serde::Serialize>(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    new: &[Arc<T>],
    key: &impl Fn(&T) -> String,
) -> Result<(), rusqlite::Error> {
    tx.execute(&format!("DELETE FROM \"{table}\""), [])?;
    let mut ins = tx.prepare(&format!(
        "INSERT INTO \"{table}\"(seq, key, doc) VALUES(?1, ?2, ?3)"
    ))?;
    for (i, x) in new.iter().enumerate() {
        let doc = serde_json::to_string(&**x).unwrap_or_else(|_| "null".into());
        ins.execute(params![i as i64 + 1, key(x), doc])?;
    }
    Ok(())
}

/// Write the rows of one table that differ between `old` and `new`. Rows a call did not touch
/// are the same allocation in both (see `Table`), so finding the changes costs a pointer
/// comparison per row and only changed rows are keyed, compared and written.
fn diff<T: serde::Serialize + PartialEq>(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    old: Option<&[Arc<T>]>,
    new: &[Arc<T>],
    key: impl Fn(&T) -> String,
) -> Result<(), rusqlite::Error> {
    let doc = |x: &T| serde_json::to_string(x).unwrap_or_else(|_| "null".into());
    let Some(old) = old else {
        return rewrite(tx, table, new, &key);
    };
    if old.as_ptr() == new.as_ptr() && old.len() == new.len() {
        return Ok(());
    }
    let same = |a: &Arc<T>, b: &Arc<T>| Arc::ptr_eq(a, b) || a == b;
    // The usual changes — rows edited in place, rows appended — need no look-up by key.
    let in_place = old.len() <= new.len()
        && old
            .iter()
            .zip(new)
            .all(|(a, b)| Arc::ptr_eq(a, b) || key(a) == key(b));
    if in_place {
        let mut upd = tx.prepare(&format!("UPDATE \"{table}\" SET doc=?2 WHERE key=?1"))?;
        for (_, b) in old.iter().zip(new).filter(|(a, b)| !same(a, b)) {
            upd.execute(params![key(b), doc(b)])?;
        }
        return insert_new(tx, table, &new[old.len()..], new, &key, &Default::default());
    }
    // Rows removed or re-ordered: match the rows that are not shared by key.
    let old_ptrs: std::collections::HashSet<*const T> = old.iter().map(Arc::as_ptr).collect();
    let new_ptrs: std::collections::HashSet<*const T> = new.iter().map(Arc::as_ptr).collect();
    let removed: Vec<&Arc<T>> = old
        .iter()
        .filter(|a| !new_ptrs.contains(&Arc::as_ptr(a)))
        .collect();
    let gone: std::collections::HashMap<String, &Arc<T>> =
        removed.iter().map(|a| (key(a), *a)).collect();
    if gone.len() != removed.len() {
        // Two removed rows shared a key: a delete by key could not tell them apart.
        return rewrite(tx, table, new, &key);
    }
    let mut kept = std::collections::HashSet::new();
    let mut added = Vec::new();
    let mut upd = tx.prepare(&format!("UPDATE \"{table}\" SET doc=?2 WHERE key=?1"))?;
    for b in new.iter().filter(|b| !old_ptrs.contains(&Arc::as_ptr(b))) {
        let k = key(b);
        match gone.get(&k) {
            Some(a) if kept.insert(k.clone()) => {
                if !same(a, b) {
                    upd.execute(params![k, doc(b)])?;
                }
            }
            Some(_) => return rewrite(tx, table, new, &key),
            None => added.push(b.clone()),
        }
    }
    let mut del = tx.prepare(&format!("DELETE FROM \"{table}\" WHERE key=?1"))?;
    for k in gone.keys().filter(|k| !kept.contains(*k)) {
        del.execute(params![k])?;
    }
    insert_new(tx, table, &added, new, &key, &kept)
}

/// Append `added` after the table's last row. A key already in the table (and not one of the
/// rows just updated in place) means keys do not identify rows here: rewrite the table whole.
fn insert_new<T: serde::Serialize>(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    added: &[Arc<T>],
    new: &[Arc<T>],
    key: &impl Fn(&T) -> String,
    updated: &std::collections::HashSet<String>,
) -> Result<(), rusqlite::Error> {
    if added.is_empty() {
        return Ok(());
    }
    let mut next: i64 = tx.query_row(
        &format!("SELECT COALESCE(MAX(seq), 0) FROM \"{table}\""),
        [],
        |r| r.get(0),
    )?;
    let mut ins = tx.prepare(&format!(
        "INSERT INTO \"{table}\"(seq, key, doc) VALUES(?1, ?2, ?3)"
    ))?;
    let mut exists = tx.prepare(&format!("SELECT COUNT(*) FROM \"{table}\" WHERE key=?1"))?;
    let mut seen = std::collections::HashSet::new();
    for b in added {
        let k = key(b);
        let taken: i64 = exists.query_row(params![k], |r| r.get(0))?;
        if taken > 0 || updated.contains(&k) || !seen.insert(k.clone()) {
            return rewrite(tx, table, new, key);
        }
        next += 1;
        let doc = serde_json::to_string(&**b).unwrap_or_else(|_| "null".into());
        ins.execute(params![next, k, doc])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::zoom::wire::InternalNumber;

    fn fresh(store: &Store) -> World {
        let c = store.lock();
        read_world(&c).unwrap()
    }

    #[test]
    fn partial_writes_leave_the_same_state_as_a_full_read() {
        let store = Store::open(&StateLocation::Memory, Seed::Demo).unwrap();
        // Change a row in the middle, append, then remove from the middle.
        store
            .transact(|w| {
                w.accounts[3].teams_calling = true;
                let mut extra = w.accounts[0].clone();
                extra.phone_number = "19999999999".into();
                w.accounts.push(extra);
                ((), true)
            })
            .unwrap();
        assert_eq!(fresh(&store), *store.load().unwrap());
        store
            .transact(|w| {
                w.accounts.remove(2);
                w.pool.truncate(3);
                ((), true)
            })
            .unwrap();
        let w = fresh(&store);
        assert_eq!(w, *store.load().unwrap());
        assert_eq!(w.pool.len(), 3);
        // Removed, edited and appended in one call (unpeer one number, edit another, add one).
        store
            .transact(|w| {
                let gone = w.numbers[0].number.clone();
                w.unpeer(&gone, true).unwrap();
                w.numbers[1].location = "Chicago".into();
                w.peer("+13129990000");
                ((), true)
            })
            .unwrap();
        let w = fresh(&store);
        assert_eq!(w, *store.load().unwrap());
        assert!(w.numbers.iter().any(|n| n.number == "+13129990000"));
        assert_eq!(w.accounts.last().unwrap().phone_number, "19999999999");
        // A refused change is not written.
        store
            .transact(|w| {
                w.accounts.clear();
                ((), false)
            })
            .unwrap();
        assert_eq!(fresh(&store).accounts.len(), w.accounts.len());
    }

    #[test]
    fn every_world_field_is_written_to_its_table() {
        // A field `write_world` forgot would be empty on disk while the state has rows for it.
        let store = Store::open(&StateLocation::Memory, Seed::Demo).unwrap();
        store
            .transact(|w| {
                w.internal_numbers.push(InternalNumber {
                    id: Some("inum-1".into()),
                    ..InternalNumber::default()
                });
                ((), true)
            })
            .unwrap();
        let state = serde_json::to_value(&*store.load().unwrap()).unwrap();
        let c = store.lock();
        for k in kinds() {
            let rows: i64 = c
                .query_row(&format!("SELECT COUNT(*) FROM \"{k}\""), [], |r| r.get(0))
                .unwrap();
            let want = state[&k].as_array().map_or(1, Vec::len);
            assert!(
                want > 0,
                "no {k} in the state: this test cannot see that table"
            );
            assert_eq!(rows as usize, want, "{k}");
        }
    }

    #[test]
    fn a_second_process_sees_writes_through_the_generation() {
        let dir = tempfile::tempdir().unwrap();
        let loc = StateLocation::File(dir.path().join("s.sqlite"));
        let a = Store::open(&loc, Seed::Demo).unwrap();
        let b = Store::open(&loc, Seed::Demo).unwrap();
        assert_eq!(b.load().unwrap().accounts.len(), 11);
        a.transact(|w| {
            w.accounts.pop();
            ((), true)
        })
        .unwrap();
        assert_eq!(b.load().unwrap().accounts.len(), 10);
        b.reset(Seed::Empty).unwrap();
        assert!(a.load().unwrap().accounts.is_empty());
    }
}
