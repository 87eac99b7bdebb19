use std::sync::Arc;

use serde_json::json;

use super::*;

fn new_run(script: &str, mode: &str) -> NewRun {
    NewRun {
        ticket: None,
        operator: "alice".into(),
        host: "test-host".into(),
        profile: "prod".into(),
        script: script.into(),
        script_digest: "ab".repeat(32),
        params: json!({"phone_number": "+13126173497", "zoom": {"client_secret": "s3cr3t-value"}}),
        mode: mode.into(),
        outside_window_reason: None,
    }
}

fn done(ms: u64) -> RowEnd<'static> {
    RowEnd {
        status: RowStatus::Done,
        detail: "",
        zoom_number_id: None,
        movius_account_id: None,
        duration_ms: ms,
    }
}

fn write(seq: u64, outcome: WriteOutcome) -> WriteRecord {
    WriteRecord {
        seq,
        op: "zoom::assign_number".into(),
        impact: Impact::Write,
        target: "+13126173497 → alice@jpmc.example".into(),
        params: json!({"number": "+13126173497", "Authorization": "Bearer abc.def"}),
        outcome,
        http_status: (outcome == WriteOutcome::Sent).then_some(204),
        duration_ms: 12,
        error: (outcome == WriteOutcome::Refused).then(|| "read-only mode".to_string()),
    }
}

fn keys(ks: &[&str]) -> Vec<String> {
    ks.iter().map(|k| k.to_string()).collect()
}

#[test]
fn journal_is_shareable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Journal>();
}

#[test]
fn run_ids_parse_both_ways() {
    assert_eq!("r12".parse::<RunId>(), Ok(RunId(12)));
    assert_eq!("12".parse::<RunId>(), Ok(RunId(12)));
    assert_eq!(RunId(7).to_string(), "r7");
    assert!("x1".parse::<RunId>().unwrap_err().contains("r12 or 12"));
    assert!("r0".parse::<RunId>().is_err());
}

#[test]
fn a_run_and_its_writes_read_back_in_order_without_secrets() {
    let j = Journal::open_in_memory().unwrap();
    let r = j
        .start_run(&NewRun {
            ticket: None,
            outside_window_reason: Some("CAB-1234".into()),
            ..new_run("onboard_user", "run")
        })
        .unwrap();
    j.record_write(r, &write(2, WriteOutcome::Refused)).unwrap();
    j.record_write(r, &write(1, WriteOutcome::Sent)).unwrap();
    j.finish_run(r, RunOutcome::Refused, "read-only mode")
        .unwrap();

    let (run, writes) = j.run(r).unwrap().unwrap();
    assert_eq!(run.id, r);
    assert_eq!(run.outcome, RunOutcome::Refused);
    assert_eq!(run.detail, "read-only mode");
    assert_eq!(run.outside_window_reason.as_deref(), Some("CAB-1234"));
    assert_eq!(run.writes, 2);
    assert!(run.finished_at.is_some());
    assert!(run.started_at.ends_with('Z'), "{}", run.started_at);
    assert_eq!(run.params["zoom"]["client_secret"], "***");
    assert_eq!(
        writes
            .iter()
            .map(|w| (w.seq, w.outcome))
            .collect::<Vec<_>>(),
        vec![(1, WriteOutcome::Sent), (2, WriteOutcome::Refused)]
    );
    assert_eq!(writes[0].http_status, Some(204));
    assert_eq!(writes[0].impact, Impact::Write);
    assert_eq!(writes[0].params["Authorization"], "***");
    assert_eq!(writes[1].error.as_deref(), Some("read-only mode"));
    let all = format!("{run:?}{writes:?}");
    assert!(
        !all.contains("s3cr3t-value") && !all.contains("abc.def"),
        "{all}"
    );

    assert!(j.run(RunId(99)).unwrap().is_none());
}

#[test]
fn runs_list_newest_first_with_limit() {
    let j = Journal::open_in_memory().unwrap();
    let a = j.start_run(&new_run("a", "run")).unwrap();
    let b = j.start_run(&new_run("b", "dry-run")).unwrap();
    let c = j.start_run(&new_run("c", "bulk")).unwrap();
    let ids: Vec<_> = j.runs(2).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![c, b]);
    let all = j.runs(10).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].id, a);
    assert_eq!(all[0].outcome, RunOutcome::Running);
    assert!(all[0].finished_at.is_none());
}

#[test]
fn bulk_rows_track_each_line() {
    let j = Journal::open_in_memory().unwrap();
    let r = j.start_run(&new_run("onboard_user", "bulk")).unwrap();
    let rows = vec![
        (
            2,
            "+13126173497".to_string(),
            r#"{"phone_number":"+13126173497"}"#.to_string(),
        ),
        (
            3,
            "+13126173498".to_string(),
            r#"{"phone_number":"+13126173498"}"#.to_string(),
        ),
        (
            4,
            "+13126173499".to_string(),
            r#"{"phone_number":"+13126173499"}"#.to_string(),
        ),
    ];
    j.bulk_rows_begin(r, &rows).unwrap();
    let end = |status, detail, zoom| RowEnd {
        status,
        detail,
        zoom_number_id: zoom,
        movius_account_id: None,
        duration_ms: 40,
    };
    j.bulk_row_started(r, "+13126173497").unwrap();
    j.bulk_row_finished(
        r,
        "+13126173497",
        &end(RowStatus::Done, "assigned", Some("zn_1")),
    )
    .unwrap();
    j.bulk_row_started(r, "+13126173498").unwrap();
    j.bulk_row_finished(
        r,
        "+13126173498",
        &end(RowStatus::Failed, "zoom 409 code 300", None),
    )
    .unwrap();
    j.bulk_row_started(r, "+13126173499").unwrap();
    // Beginning again (a resume) keeps what is known.
    j.bulk_rows_begin(r, &rows).unwrap();

    let got = j.bulk_rows(r).unwrap();
    assert_eq!(
        got.iter().map(|b| (b.line, b.status)).collect::<Vec<_>>(),
        vec![
            (2, RowStatus::Done),
            (3, RowStatus::Failed),
            (4, RowStatus::InFlight)
        ]
    );
    assert_eq!(got[0].zoom_number_id.as_deref(), Some("zn_1"));
    assert_eq!(got[0].row["phone_number"], "+13126173497");
    assert_eq!(got[1].detail, "zoom 409 code 300");
    assert_eq!(got[2].attempts, 1);
    assert!(matches!(
        j.bulk_row_started(r, "+19999999999"),
        Err(JournalError::NoBulkRow { .. })
    ));

    // A later attempt of the same run on an edited file: the rows keep their state under their
    // key and take their new lines; a second failure keeps the first one's reason.
    let moved = vec![
        (5, rows[0].1.clone(), rows[0].2.clone()),
        (2, rows[1].1.clone(), rows[1].2.clone()),
    ];
    j.bulk_rows_begin(r, &moved).unwrap();
    j.bulk_row_started(r, "+13126173498").unwrap();
    j.bulk_row_finished(
        r,
        "+13126173498",
        &end(RowStatus::Failed, "movius 503", None),
    )
    .unwrap();
    let got = j.bulk_rows(r).unwrap();
    assert_eq!(
        got.iter()
            .map(|b| (b.line, b.key.as_str(), b.status))
            .collect::<Vec<_>>(),
        vec![
            (2, "+13126173498", RowStatus::Failed),
            (4, "+13126173499", RowStatus::InFlight),
            (5, "+13126173497", RowStatus::Done),
        ]
    );
    assert_eq!(got[0].detail, "movius 503");
    assert_eq!(got[0].first_failure.as_deref(), Some("zoom 409 code 300"));
    assert_eq!(got[0].attempts, 2);
}

#[test]
fn claim_keys_reports_the_other_unfinished_run() {
    let j = Journal::open_in_memory().unwrap();
    let first = j.start_run(&new_run("onboard_user", "bulk")).unwrap();
    let second = j.start_run(&new_run("onboard_user", "bulk")).unwrap();
    assert!(j
        .claim_keys(first, &keys(&["+1", "+2"]))
        .unwrap()
        .is_empty());
    // Claiming again for the same run is not a conflict.
    assert!(j.claim_keys(first, &keys(&["+1"])).unwrap().is_empty());
    assert_eq!(
        j.claim_keys(second, &keys(&["+2", "+3"])).unwrap(),
        vec![("+2".to_string(), first)]
    );
    j.finish_run(first, RunOutcome::Done, "").unwrap();
    assert!(j.claim_keys(second, &keys(&["+2"])).unwrap().is_empty());
    let third = j.start_run(&new_run("onboard_user", "bulk")).unwrap();
    let held = j.claim_keys(third, &keys(&["+1", "+2", "+3"])).unwrap();
    assert_eq!(
        held,
        vec![("+2".to_string(), second), ("+3".to_string(), second)]
    );
}

#[test]
fn a_resumed_run_holds_its_keys_again() {
    let j = Journal::open_in_memory().unwrap();
    let first = j.start_run(&new_run("onboard_user", "bulk")).unwrap();
    j.claim_keys(first, &keys(&["+1"])).unwrap();
    j.finish_run(first, RunOutcome::Interrupted, "Ctrl-C")
        .unwrap();
    // `--resume r1`: the same run takes its lease, claims its keys again and is running once
    // more.
    assert_eq!(j.take_lease(first).unwrap(), Lease::Taken { from: None });
    assert!(j.claim_keys(first, &keys(&["+1"])).unwrap().is_empty());
    let (run, _) = j.run(first).unwrap().unwrap();
    assert_eq!(run.outcome, RunOutcome::Running);
    assert!(run.finished_at.is_none());
    let other = j.start_run(&new_run("onboard_user", "bulk")).unwrap();
    assert_eq!(
        j.claim_keys(other, &keys(&["+1"])).unwrap(),
        vec![("+1".to_string(), first)]
    );
}

#[test]
fn claims_of_a_dead_process_are_released() {
    let j = Journal::open_in_memory().unwrap();
    let dead = j
        .start_run(&NewRun {
            ticket: None,
            host: current_host(),
            ..new_run("onboard_user", "bulk")
        })
        .unwrap();
    j.claim_keys(dead, &keys(&["+1"])).unwrap();
    // Pretend the run belonged to a process that no longer exists.
    j.conn()
        .execute(
            "UPDATE runs SET pid = 2147483646, lease_pid = 2147483646 WHERE id = ?1",
            [dead.0],
        )
        .unwrap();
    let next = j.start_run(&new_run("onboard_user", "bulk")).unwrap();
    assert!(j.claim_keys(next, &keys(&["+1"])).unwrap().is_empty());
    let (run, _) = j.run(dead).unwrap().unwrap();
    assert_eq!(run.outcome, RunOutcome::Interrupted);
    assert!(run.detail.contains("2147483646"), "{}", run.detail);
}

#[test]
fn last_rate_comes_from_the_last_finished_bulk_run() {
    let j = Journal::open_in_memory().unwrap();
    assert_eq!(j.last_rate("prod", "onboard_user").unwrap(), None);
    let r = j.start_run(&new_run("onboard_user", "bulk")).unwrap();
    let rows: Vec<_> = (1..=4)
        .map(|l| (l, format!("+{l}"), "{}".to_string()))
        .collect();
    j.bulk_rows_begin(r, &rows).unwrap();
    for l in 1..=4 {
        j.bulk_row_started(r, &format!("+{l}")).unwrap();
        j.bulk_row_finished(r, &format!("+{l}"), &done(5)).unwrap();
    }
    // Not finished yet: no rate.
    assert_eq!(j.last_rate("prod", "onboard_user").unwrap(), None);
    j.finish_run(r, RunOutcome::Done, "").unwrap();
    // Pin the timings: 4 rows over 2 seconds.
    j.conn()
        .execute(
            "UPDATE bulk_rows SET started_ms = 1000 + line, finished_ms = 3000 WHERE run_id = ?1",
            [r.0],
        )
        .unwrap();
    let rate = j.last_rate("prod", "onboard_user").unwrap().unwrap();
    assert!((rate - 4.0 / 1.999).abs() < 1e-9, "{rate}");
    assert_eq!(j.last_rate("prod", "offboard_user").unwrap(), None);
    assert_eq!(j.last_rate("staging", "onboard_user").unwrap(), None);
}

#[test]
fn two_handles_on_one_file_write_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/journal.sqlite");
    let a = Arc::new(Journal::open(&path).unwrap());
    let b = Arc::new(Journal::open(&path).unwrap());
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let j = if i % 2 == 0 { a.clone() } else { b.clone() };
            std::thread::spawn(move || {
                let r = j.start_run(&new_run(&format!("s{i}"), "bulk")).unwrap();
                let rows: Vec<_> = (1..=20)
                    .map(|l| (l, format!("+{i}{l}"), "{}".to_string()))
                    .collect();
                j.bulk_rows_begin(r, &rows).unwrap();
                j.claim_keys(r, &rows.iter().map(|x| x.1.clone()).collect::<Vec<_>>())
                    .unwrap();
                for l in 1..=20 {
                    j.record_write(r, &write(l, WriteOutcome::Sent)).unwrap();
                    j.bulk_row_started(r, &format!("+{i}{l}")).unwrap();
                    j.bulk_row_finished(r, &format!("+{i}{l}"), &done(1))
                        .unwrap();
                }
                j.finish_run(r, RunOutcome::Done, "").unwrap();
                r
            })
        })
        .collect();
    let ids: Vec<RunId> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    // A third handle (another process, say) sees everything.
    let c = Journal::open(&path).unwrap();
    let runs = c.runs(100).unwrap();
    assert_eq!(runs.len(), 6);
    assert!(runs
        .iter()
        .all(|r| r.writes == 20 && r.outcome == RunOutcome::Done));
    for id in ids {
        assert!(c
            .bulk_rows(id)
            .unwrap()
            .iter()
            .all(|b| b.status == RowStatus::Done));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    drop(Journal::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE schema_version SET version = 999", [])
        .unwrap();
    drop(conn);
    let e = Journal::open(&path).unwrap_err();
    assert!(e.to_string().contains("newer vline"), "{e}");
}

/// Two `vline bulk` runs started together on a fresh journal both open it: the first switches the
/// new file to WAL while the other waits, instead of failing with "database is locked".
#[test]
fn many_processes_opening_a_fresh_journal_at_once_all_succeed() {
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = Arc::new(dir.path().join("journal.sqlite"));
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let j = Journal::open(&path)
                        .map_err(|e| format!("round {round} opener {i}: {e}"))?;
                    j.start_run(&new_run("onboard-new-user", "bulk"))
                        .map_err(|e| e.to_string())?;
                    Ok::<(), String>(())
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
    }
}

#[test]
fn a_run_owned_by_a_live_process_is_not_taken_and_a_dead_owner_is() {
    let j = Journal::open_in_memory().unwrap();
    let r = j.start_run(&new_run("onboard_user", "bulk")).unwrap();
    assert_eq!(j.take_lease(r).unwrap(), Lease::Taken { from: None });
    assert_eq!(j.live_owner(r).unwrap(), None, "this process is no rival");
    if process_start(1).is_none() {
        return; // no /proc to stand another live process in for
    }
    // Another live process of this host owns it: pid 1, with its real start time.
    let own = |pid: i64, started: Option<u64>| {
        j.conn()
            .execute(
                "UPDATE runs SET outcome = 'running', lease_host = ?2, lease_pid = ?3, lease_started = ?4 WHERE id = ?1",
                rusqlite::params![r.0, current_host(), pid, started.map(|s| s as i64)],
            )
            .unwrap();
    };
    own(1, process_start(1));
    let Lease::Held(owner) = j.take_lease(r).unwrap() else {
        panic!("a live owner's run was taken");
    };
    assert_eq!(owner.pid, 1);
    assert_eq!(j.live_owner(r).unwrap().map(|o| o.pid), Some(1));
    // The same pid with another start time is a reused pid: its owner died.
    own(1, process_start(1).map(|s| s + 7));
    assert!(matches!(
        j.take_lease(r).unwrap(),
        Lease::Taken {
            from: Some(Owner { pid: 1, .. })
        }
    ));
    let (run, _) = j.run(r).unwrap().unwrap();
    assert_eq!(run.outcome, RunOutcome::Running);
    assert_eq!(j.live_owner(r).unwrap(), None);
}

#[test]
fn a_version_1_journal_keeps_its_bulk_rows_now_keyed_by_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);",
        )
        .unwrap();
        c.execute_batch(schema::MIGRATIONS[0]).unwrap();
        c.execute_batch(
            "INSERT INTO runs (started_at, operator, host, pid, profile, script, script_digest, params, mode, outcome)
               VALUES ('2026-01-01T00:00:00Z', 'alice', 'h', 1, 'prod', 'onboard-new-user', 'd', '{}', 'bulk', 'interrupted');
             INSERT INTO bulk_rows (run_id, line, row_key, row_json, status, detail, attempts)
               VALUES (1, 2, '+13126170100', '{\"phone_number\":\"+13126170100\"}', 'done', 'ok', 1),
                      (1, 3, '', '{}', 'failed', 'boom', 1);",
        )
        .unwrap();
    }
    let j = Journal::open(&path).unwrap();
    let rows = j.bulk_rows(RunId(1)).unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (r.line, r.key.as_str(), r.status))
            .collect::<Vec<_>>(),
        vec![
            (2, "+13126170100", RowStatus::Done),
            (3, "line 3", RowStatus::Failed)
        ]
    );
    // Its run can be resumed: no live owner.
    assert_eq!(j.take_lease(RunId(1)).unwrap(), Lease::Taken { from: None });
}
