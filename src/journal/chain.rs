//! Tamper evidence: every change to the journal's runs and writes appends an event to a hash
//! chain, `hash = SHA-256(previous hash, kind, the row as stored)`, in the same transaction.
//!
//! `verify` recomputes the chain and holds every row against it: a row edited behind the
//! journal's back no longer matches its event, a row inserted has no event, a row removed leaves
//! an event without a row, and an edited event breaks the chain from there on. (The chain is not
//! signed: it shows edits made with a database tool, not a rewrite of the whole chain.)

use std::collections::{HashMap, HashSet};

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::JournalError;

/// What an event records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// A run started: its identity (who, where, what, with which parameters and ticket).
    Run,
    /// A write, as journaled.
    Write,
    /// A run's state changed: outcome, detail, end, the plan it applied.
    State,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Write => "write",
            Kind::State => "state",
        }
    }
}

const RUN_COLS: &str = "id, started_at, operator, host, profile, script, script_digest, params, mode, outside_window_reason, ticket";
const WRITE_COLS: &str =
    "id, run_id, seq, at, op, impact, target, params, outcome, http_status, duration_ms, error";
const STATE_COLS: &str = "id, outcome, detail, finished_at, plan_digest";

/// The row as stored, as one canonical text (a JSON array of its columns).
fn payload(conn: &Connection, kind: Kind, id: i64) -> Result<Option<String>, JournalError> {
    let (table, cols) = match kind {
        Kind::Run => ("runs", RUN_COLS),
        Kind::Write => ("writes", WRITE_COLS),
        Kind::State => ("runs", STATE_COLS),
    };
    let n = cols.split(',').count();
    let row = conn
        .query_row(
            &format!("SELECT {cols} FROM {table} WHERE id = ?1"),
            [id],
            |r| {
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    let v: rusqlite::types::Value = r.get(i)?;
                    out.push(match v {
                        rusqlite::types::Value::Null => serde_json::Value::Null,
                        rusqlite::types::Value::Integer(i) => i.into(),
                        rusqlite::types::Value::Real(f) => f.into(),
                        rusqlite::types::Value::Text(t) => t.into(),
                        rusqlite::types::Value::Blob(b) => hex(&b).into(),
                    });
                }
                Ok(out)
            },
        )
        .optional()?;
    Ok(row.map(|r| serde_json::Value::Array(r).to_string()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn link(prev: &str, kind: &str, payload: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(kind.as_bytes());
    h.update(b"\n");
    h.update(payload.as_bytes());
    hex(&h.finalize())
}

/// Append the event for row `id` as it is now stored. Call inside the transaction that changed
/// the row, so the row and its event land together.
pub(super) fn append(conn: &Connection, kind: Kind, id: i64) -> Result<(), JournalError> {
    let Some(p) = payload(conn, kind, id)? else {
        return Ok(());
    };
    let prev: String = conn
        .query_row("SELECT hash FROM chain ORDER BY id DESC LIMIT 1", [], |r| {
            r.get(0)
        })
        .optional()?
        .unwrap_or_default();
    let hash = link(&prev, kind.as_str(), &p);
    conn.execute(
        "INSERT INTO chain (kind, ref_id, payload, hash) VALUES (?1, ?2, ?3, ?4)",
        params![kind.as_str(), id, p, hash],
    )?;
    Ok(())
}

/// Chain every row already there (a journal upgraded from before the chain existed): its
/// history before the upgrade is vouched for from then on.
pub(super) fn seal_existing(conn: &Connection) -> Result<(), JournalError> {
    let ids = |sql: &str| -> Result<Vec<i64>, JournalError> {
        let mut st = conn.prepare(sql)?;
        let v = st
            .query_map([], |r| r.get::<_, i64>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    };
    for run in ids("SELECT id FROM runs ORDER BY id")? {
        append(conn, Kind::Run, run)?;
        append(conn, Kind::State, run)?;
    }
    for w in ids("SELECT id FROM writes ORDER BY id")? {
        append(conn, Kind::Write, w)?;
    }
    Ok(())
}

/// What `vline journal verify` found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    /// Events checked.
    pub events: u64,
    /// The last event's hash (what an auditor can note down to compare later).
    pub head: String,
    /// The first problem, if any: which row, and how it differs.
    pub problem: Option<String>,
}

fn describe(kind: &str, id: i64, run: Option<i64>) -> String {
    match (kind, run) {
        ("write", Some(r)) => format!("write {id} of run r{r}"),
        ("write", None) => format!("write {id}"),
        (_, _) => format!("run r{id}"),
    }
}

/// Recompute the chain and hold every run and write against it.
pub(super) fn verify(conn: &Connection) -> Result<Verdict, JournalError> {
    let mut st = conn.prepare("SELECT id, kind, ref_id, payload, hash FROM chain ORDER BY id")?;
    let events = st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut prev = String::new();
    let mut last_state: HashMap<i64, String> = HashMap::new();
    let mut runs_seen = HashSet::new();
    let mut writes_seen = HashSet::new();
    let write_run = |id: i64| -> Option<i64> {
        conn.query_row("SELECT run_id FROM writes WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .ok()
    };
    let verdict = |n: usize, head: &str, problem: Option<String>| Verdict {
        events: n as u64,
        head: head.to_string(),
        problem,
    };
    for (n, (eid, kind, ref_id, p, hash)) in events.iter().enumerate() {
        if link(&prev, kind, p) != *hash {
            return Ok(verdict(
                n,
                &prev,
                Some(format!("chain event {eid} ({}) was edited: its hash does not follow from the one before", describe(kind, *ref_id, None))),
            ));
        }
        prev = hash.clone();
        let k = match kind.as_str() {
            "run" => Kind::Run,
            "write" => Kind::Write,
            _ => Kind::State,
        };
        match k {
            Kind::State => {
                last_state.insert(*ref_id, p.clone());
            }
            Kind::Run | Kind::Write => {
                if k == Kind::Run {
                    runs_seen.insert(*ref_id);
                } else {
                    writes_seen.insert(*ref_id);
                }
                match payload(conn, k, *ref_id)? {
                    None => {
                        return Ok(verdict(
                            n,
                            &prev,
                            Some(format!("{} was removed", describe(kind, *ref_id, None))),
                        ))
                    }
                    Some(now) if now != *p => {
                        return Ok(verdict(
                            n,
                            &prev,
                            Some(format!(
                                "{} was edited: journaled as {p}, now {now}",
                                describe(kind, *ref_id, write_run(*ref_id))
                            )),
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
    }
    let n = events.len();
    let mut runs: Vec<i64> = runs_seen.iter().copied().collect();
    runs.sort_unstable();
    for run in runs {
        if let Some(p) = last_state.get(&run) {
            if payload(conn, Kind::State, run)?.as_deref() != Some(p.as_str()) {
                return Ok(verdict(
                    n,
                    &prev,
                    Some(format!("run r{run}'s outcome, detail or end was edited")),
                ));
            }
        }
    }
    let ids = |sql: &str| -> Result<Vec<i64>, JournalError> {
        let mut st = conn.prepare(sql)?;
        let v = st
            .query_map([], |r| r.get::<_, i64>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    };
    if let Some(r) = ids("SELECT id FROM runs ORDER BY id")?
        .into_iter()
        .find(|r| !runs_seen.contains(r))
    {
        return Ok(verdict(
            n,
            &prev,
            Some(format!("run r{r} was inserted behind the journal's back")),
        ));
    }
    if let Some(w) = ids("SELECT id FROM writes ORDER BY id")?
        .into_iter()
        .find(|w| !writes_seen.contains(w))
    {
        return Ok(verdict(
            n,
            &prev,
            Some(format!(
                "{} was inserted behind the journal's back",
                describe("write", w, write_run(w))
            )),
        ));
    }
    Ok(verdict(n, &prev, None))
}
