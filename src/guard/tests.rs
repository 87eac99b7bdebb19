//! Every guard rule, as the operator would meet it.

use std::sync::{Arc, Mutex};

use serde_json::json;

use super::*;

/// Answers every question the same way and remembers what it was asked.
struct Fake {
    answer: bool,
    asked: Arc<Mutex<Vec<String>>>,
}

fn guard(policy: Policy, answer: bool) -> (Guard, Arc<Mutex<Vec<String>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    (
        Guard::new(
            policy,
            Box::new(Fake {
                answer,
                asked: asked.clone(),
            }),
        ),
        asked,
    )
}

impl Prompter for Fake {
    fn confirm(&self, question: &str) -> std::io::Result<bool> {
        self.asked.lock().unwrap().push(question.to_string());
        Ok(self.answer)
    }
}

fn call(op: &str, impact: Impact, target: &str) -> Call {
    Call {
        op: op.into(),
        impact,
        target: target.into(),
        params: json!({"user": "alice@jpmc.example", "client_secret": "s3cr3t"}),
        undo_note: (impact == Impact::Irreversible)
            .then(|| "the number stays peered to Zoom".to_string()),
    }
}

fn read() -> Call {
    call("zoom::numbers", Impact::Read, "all numbers")
}
fn write() -> Call {
    call(
        "zoom::assign_number",
        Impact::Write,
        "+13126173497 → alice@jpmc.example",
    )
}
fn irreversible() -> Call {
    call(
        "movius::add_account",
        Impact::Irreversible,
        "+13126173497 (org 5001)",
    )
}

fn interactive() -> Policy {
    Policy {
        interactive: true,
        ..Policy::default()
    }
}

#[test]
fn guard_is_shareable_between_workers() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Guard>();
}

#[test]
fn read_only_refuses_writes_but_allows_reads() {
    let (g, asked) = guard(
        Policy {
            read_only: true,
            ..interactive()
        },
        true,
    );
    assert_eq!(g.before(&read()), Ok(Decision::Send));
    let r = g.before(&write()).unwrap_err();
    assert!(
        r.reason.contains("read-only") && r.reason.contains("+13126173497 → alice@jpmc.example"),
        "{r}"
    );
    assert!(r.how_to_proceed.contains(":write on"), "{r}");
    assert!(g.before(&irreversible()).is_err());
    assert!(asked.lock().unwrap().is_empty());
    assert_eq!(g.changes_made(), 0);

    g.set_read_only(false);
    assert_eq!(g.before(&write()), Ok(Decision::Send));
    g.set_read_only(true);
    assert!(g.before(&write()).is_err());
}

#[test]
fn dry_run_holds_writes_and_numbers_the_plan() {
    let (g, asked) = guard(
        Policy {
            dry_run: true,
            ..Policy::default()
        },
        false,
    );
    assert_eq!(g.before(&read()), Ok(Decision::Send));
    assert_eq!(g.before(&write()), Ok(Decision::Hold { seq: 1 }));
    // Irreversible ops are held without asking, even with no terminal and no --yes.
    assert_eq!(g.before(&irreversible()), Ok(Decision::Hold { seq: 2 }));
    assert_eq!(g.before(&write()), Ok(Decision::Hold { seq: 3 }));
    assert!(asked.lock().unwrap().is_empty());
    let plan = g.plan();
    assert_eq!(
        plan.iter().map(|p| p.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(plan[1].op, "movius::add_account");
    assert_eq!(plan[1].impact, Impact::Irreversible);
    assert_eq!(plan[1].target, "+13126173497 (org 5001)");
    // The plan is printed: secrets must not be in it even if the host forgot to redact.
    assert_eq!(plan[0].params["client_secret"], "***");
    assert_eq!(plan[0].params["user"], "alice@jpmc.example");
    assert_eq!(g.confirm("Rollback is impossible. Continue?"), Ok(()));
}

#[test]
fn irreversible_without_terminal_or_yes_is_refused_naming_the_target() {
    let (g, asked) = guard(Policy::default(), true);
    let r = g.before(&irreversible()).unwrap_err();
    assert!(
        r.reason
            .contains("movius::add_account on +13126173497 (org 5001)"),
        "{r}"
    );
    assert!(r.reason.contains("the number stays peered to Zoom"), "{r}");
    assert_eq!(
        r.how_to_proceed,
        "re-run with --yes after checking the target, or run from a terminal"
    );
    assert!(asked.lock().unwrap().is_empty());
    assert_eq!(g.changes_made(), 0);
    // A plain write needs no confirmation.
    assert_eq!(g.before(&write()), Ok(Decision::Send));
}

#[test]
fn assume_yes_passes_irreversible_without_asking() {
    let (g, asked) = guard(
        Policy {
            assume_yes: true,
            ..Policy::default()
        },
        false,
    );
    assert_eq!(g.before(&irreversible()), Ok(Decision::Send));
    assert_eq!(g.confirm("Continue?"), Ok(()));
    assert!(asked.lock().unwrap().is_empty());
    assert_eq!(g.changes_made(), 1);
}

#[test]
fn prompt_names_target_and_what_cannot_be_undone() {
    let (g, asked) = guard(interactive(), true);
    assert_eq!(g.before(&irreversible()), Ok(Decision::Send));
    let q = asked.lock().unwrap().clone();
    assert_eq!(q.len(), 1);
    assert!(
        q[0].contains("movius::add_account") && q[0].contains("+13126173497 (org 5001)"),
        "{}",
        q[0]
    );
    assert!(
        q[0].contains("Cannot be undone: the number stays peered to Zoom"),
        "{}",
        q[0]
    );
}

#[test]
fn answering_no_refuses_and_frees_the_change() {
    let (g, _) = guard(
        Policy {
            max_changes: Some(1),
            ..interactive()
        },
        false,
    );
    let r = g.before(&irreversible()).unwrap_err();
    assert!(
        r.reason.contains("declined") && r.reason.contains("+13126173497 (org 5001)"),
        "{r}"
    );
    assert_eq!(g.changes_made(), 0);
    // The declined call did not use up the blast radius.
    assert_eq!(g.before(&write()), Ok(Decision::Send));
    let r = g.confirm("Move the whole org?").unwrap_err();
    assert!(
        r.reason.contains("answered no") && r.reason.contains("Move the whole org?"),
        "{r}"
    );
}

#[test]
fn confirm_without_terminal_is_refused() {
    let (g, _) = guard(Policy::default(), true);
    let r = g.confirm("Rollback is impossible. Continue?").unwrap_err();
    assert_eq!(r.how_to_proceed, HOW_NO_TERMINAL);
    let (g, _) = guard(interactive(), true);
    assert_eq!(g.confirm("Continue?"), Ok(()));
}

#[test]
fn max_changes_stops_at_n_plus_one() {
    let (g, _) = guard(
        Policy {
            max_changes: Some(3),
            ..Policy::default()
        },
        true,
    );
    for _ in 0..3 {
        assert_eq!(g.before(&write()), Ok(Decision::Send));
        // Reads never count.
        assert_eq!(g.before(&read()), Ok(Decision::Send));
    }
    let r = g.before(&write()).unwrap_err();
    assert!(
        r.reason.contains("max_changes = 3") && r.reason.contains("change 4"),
        "{r}"
    );
    assert!(r.how_to_proceed.contains("--max-changes"), "{r}");
    assert_eq!(g.changes_made(), 3);
    assert_eq!(g.before(&read()), Ok(Decision::Send));
}

#[test]
fn max_changes_also_caps_a_dry_run_plan() {
    let (g, _) = guard(
        Policy {
            dry_run: true,
            max_changes: Some(2),
            ..Policy::default()
        },
        true,
    );
    assert_eq!(g.before(&write()), Ok(Decision::Hold { seq: 1 }));
    assert_eq!(g.before(&write()), Ok(Decision::Hold { seq: 2 }));
    let r = g.before(&write()).unwrap_err();
    assert!(
        r.reason.contains("max_changes = 2") && r.reason.contains("change 3"),
        "{r}"
    );
    assert_eq!(g.plan().len(), 2);
}

#[test]
fn max_changes_is_exact_across_threads() {
    let (g, _) = guard(
        Policy {
            max_changes: Some(50),
            assume_yes: true,
            ..Policy::default()
        },
        true,
    );
    let g = Arc::new(g);
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (g, sent) = (g.clone(), sent.clone());
            std::thread::spawn(move || {
                for _ in 0..20 {
                    if g.before(&irreversible()).is_ok() {
                        sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(sent.load(std::sync::atomic::Ordering::SeqCst), 50);
    assert_eq!(g.changes_made(), 50);
}

fn ctx() -> PlanContext {
    PlanContext {
        what: "onboard_user on 1200 row(s) of users.csv".into(),
        profile: "prod".into(),
        kind: "real".into(),
        zoom_account: "acc-1".into(),
        movius_org: Some("org-zoom".into()),
    }
}

fn bulk(rows: u64) -> BulkPlan {
    BulkPlan {
        rows,
        ops: vec![
            ("movius::add_account".into(), Impact::Irreversible),
            ("zoom::assign_number".into(), Impact::Write),
        ],
    }
}

#[test]
fn bulk_asks_once_naming_where_and_the_writes_by_operation() {
    let (g, asked) = guard(interactive(), true);
    g.begin_bulk(&bulk(1200), &ctx(), Style::Plain).unwrap();
    for _ in 0..5 {
        assert_eq!(g.before(&irreversible()), Ok(Decision::Send));
        assert_eq!(g.before(&write()), Ok(Decision::Send));
    }
    assert_eq!(g.confirm("Continue?"), Ok(()));
    let q = asked.lock().unwrap().clone();
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(
        q[0],
        "Bulk run: onboard_user on 1200 row(s) of users.csv
  profile prod (real) · Zoom account acc-1 · Movius org org-zoom
  1200 row(s) to do; writes each row can make:
! movius::add_account × 1200  IRREVERSIBLE
  zoom::assign_number × 1200  write
up to 2400 write(s), 1200 irreversible
Proceed with all of them?"
    );
    // An operation the operator did not confirm is never sent.
    let r = g
        .before(&call(
            "movius::delete_account",
            Impact::Irreversible,
            "+13126173497",
        ))
        .unwrap_err();
    assert!(
        r.reason.contains("not one of the operations confirmed"),
        "{r}"
    );
}

#[test]
fn bulk_without_terminal_or_yes_is_refused_and_respects_max_changes() {
    let (g, _) = guard(Policy::default(), true);
    let r = g.begin_bulk(&bulk(10), &ctx(), Style::Plain).unwrap_err();
    assert_eq!(r.how_to_proceed, HOW_NO_TERMINAL);
    assert!(
        g.before(&irreversible()).is_err(),
        "a refused bulk approval must not approve calls"
    );

    let (g, _) = guard(
        Policy {
            assume_yes: true,
            max_changes: Some(100),
            ..Policy::default()
        },
        true,
    );
    let r = g.begin_bulk(&bulk(51), &ctx(), Style::Plain).unwrap_err();
    assert!(
        r.reason.contains("up to 102 write(s)") && r.reason.contains("max_changes = 100"),
        "{r}"
    );
    assert!(r.how_to_proceed.contains("--max-changes 102"), "{r}");
    assert_eq!(g.begin_bulk(&bulk(50), &ctx(), Style::Plain), Ok(()));

    let (g, asked) = guard(interactive(), false);
    assert!(g.begin_bulk(&bulk(3), &ctx(), Style::Plain).is_err());
    assert_eq!(asked.lock().unwrap().len(), 1);
    assert_eq!(g.begin_bulk(&bulk(0), &ctx(), Style::Plain), Ok(()));
}

fn plan_of(calls: &[Call]) -> Plan {
    let (g, _) = guard(
        Policy {
            dry_run: true,
            ..Policy::default()
        },
        true,
    );
    for c in calls {
        g.before(c).unwrap();
    }
    g.held_plan()
}

#[test]
fn an_approved_plan_sends_only_its_writes() {
    let plan = plan_of(&[irreversible(), write()]);
    let (g, asked) = guard(interactive(), true);
    g.approve(&plan, &ctx(), Style::Plain).unwrap();
    assert_eq!(
        asked.lock().unwrap().len(),
        1,
        "one question for the whole plan"
    );
    assert!(
        asked.lock().unwrap()[0].contains("! ")
            && asked.lock().unwrap()[0].contains("IRREVERSIBLE")
    );
    assert_eq!(g.before(&irreversible()), Ok(Decision::Send));
    // The same write twice is not in a plan that holds it once.
    let r = g.before(&irreversible()).unwrap_err();
    assert!(
        r.reason
            .starts_with("the state moved since the plan was approved"),
        "{r}"
    );
    let other = call(
        "zoom::assign_number",
        Impact::Write,
        "+13126173497 → bob@jpmc.example",
    );
    assert!(g.before(&other).is_err());
    assert_eq!(g.before(&write()), Ok(Decision::Send));
    assert_eq!(asked.lock().unwrap().len(), 1, "no question per write");
}

#[test]
fn a_plan_is_refused_whole_past_the_cap_without_a_terminal_or_on_a_no() {
    let plan = plan_of(&[irreversible(), write()]);
    let (g, asked) = guard(
        Policy {
            max_changes: Some(1),
            assume_yes: true,
            ..Policy::default()
        },
        true,
    );
    let r = g.approve(&plan, &ctx(), Style::Plain).unwrap_err();
    assert!(
        r.reason
            .contains("has 2 write(s), more than max_changes = 1"),
        "{r}"
    );
    assert!(
        g.before(&write()).is_ok(),
        "a refused plan approves nothing: the guard falls back to asking per write"
    );
    assert!(asked.lock().unwrap().is_empty());

    let (g, _) = guard(Policy::default(), true);
    let r = g.approve(&plan, &ctx(), Style::Plain).unwrap_err();
    assert_eq!(r.how_to_proceed, HOW_NO_TERMINAL);
    // Reversible writes alone need no terminal.
    assert_eq!(
        g.approve(&plan_of(&[write()]), &ctx(), Style::Plain),
        Ok(())
    );

    let (g, _) = guard(interactive(), false);
    let r = g.approve(&plan, &ctx(), Style::Plain).unwrap_err();
    assert!(r.reason.contains("declined the plan"), "{r}");
    // An empty plan asks nothing.
    let (g, asked) = guard(interactive(), false);
    assert_eq!(g.approve(&Plan::default(), &ctx(), Style::Plain), Ok(()));
    assert!(asked.lock().unwrap().is_empty());
}

mod windows {
    use super::*;
    use jiff::Timestamp;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn ny_weekend_nights() -> Vec<MaintenanceWindow> {
        vec![MaintenanceWindow {
            days: vec!["sat".into(), "sun".into()],
            start: "22:00".into(),
            end: "04:00".into(),
            tz: "America/New_York".into(),
        }]
    }

    fn with(windows: Vec<MaintenanceWindow>, reason: Option<&str>) -> Guard {
        guard(
            Policy {
                windows,
                outside_window: reason.map(str::to_string),
                ..Policy::default()
            },
            true,
        )
        .0
    }

    #[test]
    fn inside_a_window_past_midnight() {
        let g = with(ny_weekend_nights(), None);
        // Sun 2026-11-29 02:30 EST: inside Saturday's window, which closes at 04:00 EST.
        match g
            .require_maintenance_window("org-level to user-level move", ts("2026-11-29T07:30:00Z"))
            .unwrap()
        {
            WindowCheck::Inside { window, closes_at } => {
                assert!(window.contains("22:00–04:00 America/New_York"), "{window}");
                assert_eq!(closes_at.timestamp(), ts("2026-11-29T09:00:00Z"));
                assert_eq!(closes_at.time_zone().iana_name(), Some("America/New_York"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn outside_names_the_next_opening_in_the_window_zone() {
        let g = with(ny_weekend_nights(), None);
        // Tue 2026-11-24 15:00 UTC = 10:00 EST.
        let r = g
            .require_maintenance_window("org-level to user-level move", ts("2026-11-24T15:00:00Z"))
            .unwrap_err();
        assert!(
            r.reason
                .starts_with("org-level to user-level move needs a maintenance window"),
            "{r}"
        );
        assert!(r.reason.contains("Tue 2026-11-24 10:00 EST"), "{r}");
        assert!(
            r.how_to_proceed
                .contains("opens Sat 2026-11-28 22:00 EST (America/New_York)"),
            "{r}"
        );
        assert!(r.how_to_proceed.contains("--outside-window"), "{r}");
    }

    #[test]
    fn dst_aware_next_opening() {
        let g = with(ny_weekend_nights(), None);
        // Thu 2026-10-29: the next Saturday 22:00 is still daylight time (EDT, UTC-4).
        let r = g
            .require_maintenance_window("move", ts("2026-10-29T15:00:00Z"))
            .unwrap_err();
        assert!(r.how_to_proceed.contains("Sat 2026-10-31 22:00 EDT"), "{r}");
        assert_eq!(
            next_opening(&ny_weekend_nights(), ts("2026-10-29T15:00:00Z"))
                .unwrap()
                .timestamp(),
            ts("2026-11-01T02:00:00Z")
        );
        // Sat 2026-11-07 22:00 is standard time (EST, UTC-5).
        assert_eq!(
            next_opening(&ny_weekend_nights(), ts("2026-11-03T15:00:00Z"))
                .unwrap()
                .timestamp(),
            ts("2026-11-08T03:00:00Z")
        );
    }

    #[test]
    fn override_reason_is_returned_for_the_journal() {
        let g = with(ny_weekend_nights(), Some("  CAB-1234 emergency change "));
        assert_eq!(
            g.require_maintenance_window("move", ts("2026-11-24T15:00:00Z")),
            Ok(WindowCheck::Overridden {
                reason: "CAB-1234 emergency change".into()
            })
        );
        // Inside a window the override is not needed, and not reported.
        assert!(matches!(
            g.require_maintenance_window("move", ts("2026-11-29T07:30:00Z")),
            Ok(WindowCheck::Inside { .. })
        ));
        // A blank reason is no reason.
        let g = with(ny_weekend_nights(), Some("  "));
        assert!(g
            .require_maintenance_window("move", ts("2026-11-24T15:00:00Z"))
            .is_err());
    }

    #[test]
    fn no_windows_configured() {
        let g = with(vec![], None);
        let r = g
            .require_maintenance_window("move", ts("2026-11-24T15:00:00Z"))
            .unwrap_err();
        assert!(r.reason.contains("none configured"), "{r}");
        assert!(
            r.how_to_proceed.contains("`windows`") && r.how_to_proceed.contains("--outside-window"),
            "{r}"
        );
        let g = with(vec![], Some("no window on the lab tenant"));
        assert!(matches!(
            g.require_maintenance_window("move", ts("2026-11-24T15:00:00Z")),
            Ok(WindowCheck::Overridden { .. })
        ));
    }

    #[test]
    fn invalid_window_is_refused_with_the_reason() {
        let mut ws = ny_weekend_nights();
        ws[0].start = "25:00".into();
        let r = with(ws, None)
            .require_maintenance_window("move", ts("2026-11-24T15:00:00Z"))
            .unwrap_err();
        assert!(r.reason.contains("\"25:00\""), "{r}");
    }
}
