//! Who works a run now: its lease. A run is owned by one live process — host, pid, the process's
//! start time (so a reused pid is not taken for the owner) and a heartbeat (so an owner on
//! another host, whose process table we cannot read, expires). `--resume` of a run whose owner is
//! alive is refused; an owner that died (SIGKILL, power loss) is recognised and its lease taken
//! over without operator help.

use std::time::Duration;

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use super::{current_host, now_text, Journal, JournalError, RunId, RunOutcome};

/// How often an owner says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// An owner on another host with no heartbeat for this long is taken for dead.
pub const LEASE_TTL_MS: i64 = 90_000;

/// The process that owns (or owned) a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub host: String,
    pub pid: u32,
    /// The process's start time (clock ticks after boot, `/proc/<pid>/stat` field 22).
    pub started: Option<u64>,
    /// Last heartbeat, milliseconds since the epoch.
    pub heartbeat_ms: Option<i64>,
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "process {} on {}", self.pid, self.host)
    }
}

/// What taking a run's lease found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lease {
    /// This process owns the run now; `from` is the owner that died without finishing it.
    Taken { from: Option<Owner> },
    /// A live process owns it.
    Held(Owner),
}

impl Owner {
    /// This process.
    pub fn me() -> Owner {
        let pid = std::process::id();
        Owner {
            host: current_host(),
            pid,
            started: process_start(pid),
            heartbeat_ms: Some(now_ms()),
        }
    }

    /// Whether the owner still runs. On this host the process table says (a pid that exists
    /// with another start time is a reused pid, not the owner; a zombie is dead); elsewhere, or
    /// without `/proc`, a heartbeat within [`LEASE_TTL_MS`] does. An owner on another host that
    /// never sent a heartbeat cannot be judged and counts as alive.
    pub fn alive(&self) -> bool {
        if self.host == current_host() && proc_available() {
            return match proc_stat(self.pid) {
                None => false,
                Some(st) => !st.zombie && self.started.is_none_or(|s| s == st.started),
            };
        }
        match self.heartbeat_ms {
            Some(hb) => now_ms() - hb < LEASE_TTL_MS,
            None => true,
        }
    }

    fn is_me(&self) -> bool {
        self.host == current_host() && self.pid == std::process::id()
    }

    /// Why it is taken for dead, for the journal.
    fn death(&self) -> String {
        if self.host == current_host() && proc_available() {
            format!("{self} ended without finishing the run")
        } else {
            format!("{self} sent no heartbeat for {} s", LEASE_TTL_MS / 1000)
        }
    }
}

pub(super) fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn proc_available() -> bool {
    std::path::Path::new("/proc/self/stat").exists()
}

struct ProcStat {
    started: u64,
    zombie: bool,
}

/// State (field 3) and start time (field 22) of a process, from `/proc/<pid>/stat`. The command
/// name (field 2) may hold spaces and parentheses, so fields are counted after its last `)`.
fn proc_stat(pid: u32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state); field 22 is fields[19].
    Some(ProcStat {
        zombie: matches!(fields.first(), Some(&"Z") | Some(&"X")),
        started: fields.get(19)?.parse().ok()?,
    })
}

/// A process's start time, if it exists and `/proc` can say.
pub fn process_start(pid: u32) -> Option<u64> {
    proc_stat(pid).map(|s| s.started)
}

/// The owner recorded for a run (its lease, else the pid that started it).
pub(super) fn owner_of(
    host: String,
    pid: i64,
    lease: (Option<String>, Option<i64>, Option<i64>, Option<i64>),
) -> Owner {
    let (lhost, lpid, lstarted, hb) = lease;
    Owner {
        host: lhost.unwrap_or(host),
        pid: u32::try_from(lpid.unwrap_or(pid)).unwrap_or(0),
        started: lstarted.and_then(|s| u64::try_from(s).ok()),
        heartbeat_ms: hb,
    }
}

const OWNER_COLS: &str = "host, pid, lease_host, lease_pid, lease_started, lease_heartbeat_ms";

fn read_owner(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Owner> {
    Ok(owner_of(
        r.get(at)?,
        r.get(at + 1)?,
        (
            r.get(at + 2)?,
            r.get(at + 3)?,
            r.get(at + 4)?,
            r.get(at + 5)?,
        ),
    ))
}

impl Journal {
    /// The live process working `run`, if any (a run that is not `running`, or whose owner died,
    /// has none).
    pub fn live_owner(&self, run: RunId) -> Result<Option<Owner>, JournalError> {
        let conn = self.conn();
        let found = conn
            .query_row(
                &format!("SELECT outcome, {OWNER_COLS} FROM runs WHERE id = ?1"),
                [run.0],
                |r| Ok((r.get::<_, String>(0)?, read_owner(r, 1)?)),
            )
            .optional()?;
        Ok(found
            .filter(|(outcome, o)| outcome == RunOutcome::Running.as_str() && !o.is_me())
            .map(|(_, o)| o)
            .filter(Owner::alive))
    }

    /// Make this process the owner of `run`, unless a live process owns it. Taking it marks
    /// the run `running` again (a resume of a run that ended or whose owner died).
    pub fn take_lease(&self, run: RunId) -> Result<Lease, JournalError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (outcome, owner) = tx.query_row(
            &format!("SELECT outcome, {OWNER_COLS} FROM runs WHERE id = ?1"),
            [run.0],
            |r| Ok((r.get::<_, String>(0)?, read_owner(r, 1)?)),
        )?;
        let mut from = None;
        if outcome == RunOutcome::Running.as_str() && !owner.is_me() {
            if owner.alive() {
                return Ok(Lease::Held(owner));
            }
            from = Some(owner);
        }
        let me = Owner::me();
        tx.execute(
            "UPDATE runs SET outcome = 'running', finished_at = NULL, pid = ?2, lease_host = ?3,
                 lease_pid = ?2, lease_started = ?4, lease_heartbeat_ms = ?5
             WHERE id = ?1",
            params![
                run.0,
                me.pid,
                me.host,
                me.started.and_then(|s| i64::try_from(s).ok()),
                me.heartbeat_ms
            ],
        )?;
        super::chain::append(&tx, super::chain::Kind::State, run.0)?;
        tx.commit()?;
        Ok(Lease::Taken { from })
    }

    /// Say this process still works `run` (a no-op if another took the lease over).
    pub fn heartbeat(&self, run: RunId) -> Result<(), JournalError> {
        self.conn().execute(
            "UPDATE runs SET lease_heartbeat_ms = ?2 WHERE id = ?1 AND lease_pid = ?3 AND lease_host = ?4",
            params![run.0, now_ms(), std::process::id(), current_host()],
        )?;
        Ok(())
    }
}

/// Runs still marked `running` whose owner died are marked `interrupted`, which frees their
/// claims.
pub(super) fn mark_dead_runs(
    tx: &rusqlite::Transaction<'_>,
    except: RunId,
) -> Result<(), JournalError> {
    let candidates = {
        let mut st = tx.prepare(&format!(
            "SELECT id, {OWNER_COLS} FROM runs WHERE outcome = 'running' AND id <> ?1"
        ))?;
        let rows = st.query_map([except.0], |r| Ok((r.get::<_, i64>(0)?, read_owner(r, 1)?)))?;
        rows.collect::<Result<Vec<_>, _>>()?
    };
    for (id, owner) in candidates {
        if owner.is_me() || owner.alive() {
            continue;
        }
        tx.execute(
            "UPDATE runs SET outcome = ?2, detail = ?3, finished_at = ?4 WHERE id = ?1 AND outcome = 'running'",
            params![id, RunOutcome::Interrupted.as_str(), owner.death(), now_text()],
        )?;
        super::chain::append(tx, super::chain::Kind::State, id)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reused_pid_is_not() {
        let me = Owner::me();
        assert!(me.alive());
        if proc_available() {
            assert!(me.started.is_some());
            let reused = Owner {
                started: me.started.map(|s| s + 1),
                ..me.clone()
            };
            assert!(
                !reused.alive(),
                "same pid, another start time: not the owner"
            );
            let gone = Owner {
                pid: 2_147_483_646,
                ..me.clone()
            };
            assert!(!gone.alive());
        }
    }

    #[test]
    fn an_owner_elsewhere_lives_by_its_heartbeat() {
        let far = |hb| Owner {
            host: "another-host.example".into(),
            pid: 1,
            started: None,
            heartbeat_ms: hb,
        };
        assert!(far(Some(now_ms())).alive());
        assert!(!far(Some(now_ms() - LEASE_TTL_MS - 1)).alive());
        assert!(
            far(None).alive(),
            "no heartbeat: cannot tell, so not taken over"
        );
    }
}
