//! What a bulk onboarding costs per user, counted in the sandbox's request log (calls, not
//! time): the assign is the only Zoom call a row makes on its own, Movius is asked about a row
//! once (the add is the check), and the rest — organizations, the pool, the phone users, the
//! "unassigned in Zoom" check and the final verification — is read once per run or shared, so
//! the Zoom calls per user stay the same when the account holds many more numbers. The sandbox
//! serves Zoom as its spec is published: the `phone_number` filter is ignored.

use std::process::Output;

use vline::sandbox::LoggedRequest;

use crate::reliability::{lab, lab_bulk, provision, read_results, row, write_csv, Serve};
use crate::support::{assert_code, stdout, Home};

const ROWS: usize = 40;

/// A published-spec sandbox with `ROWS` licensed users, their numbers in the pool, and
/// `held` more Zoom numbers held by those users; the home's profile on it.
fn lab_with(home: &Home, held: u64) -> Serve {
    let sb = Serve::start(home, ROWS, &["--published-spec"]);
    sb.configure(home, "");
    provision(&sb, 0..ROWS);
    if held > 0 {
        vline::sandbox::seed_held_numbers(&sb.loc(), held).expect("seed held numbers");
    }
    sb
}

/// Onboard the rows one at a time (so every row waits for its own refresh: a count that does
/// not depend on timing) and return the requests the run made.
fn onboard(home: &Home, sb: &Serve) -> Vec<LoggedRequest> {
    let before = sb.log().len();
    let csv = write_csv(home, "rows.csv", &(0..ROWS).collect::<Vec<_>>());
    let out = home.path().join("rows.results.csv");
    let o: Output = lab_bulk(home, &csv, 1, &out).output().unwrap();
    assert_code(&o, 0);
    let results = read_results(&out);
    assert!(results.iter().all(|r| r["status"] == "done"), "{results:?}");
    sb.log()[before..].to_vec()
}

fn count(log: &[LoggedRequest], f: impl Fn(&LoggedRequest) -> bool) -> usize {
    log.iter().filter(|r| f(r)).count()
}

fn zoom_calls(log: &[LoggedRequest]) -> usize {
    count(log, |r| r.service == "zoom")
}

#[test]
fn a_bulk_onboarding_asks_zoom_once_per_user_and_movius_at_most_1_2_times() {
    let home = Home::new();
    let sb = lab_with(&home, 0);
    let log = onboard(&home, &sb);
    let per_user = |n: usize| n as f64 / ROWS as f64;

    // The one call a row cannot avoid, once per user; Zoom's phone user read per row is gone.
    assert_eq!(count(&log, |r| r.op == "zoom.assign_number"), ROWS);
    assert_eq!(count(&log, |r| r.op == "zoom.get_phone_user"), 0);
    assert_eq!(count(&log, |r| r.op == "zoom.get_user"), 0);
    assert_eq!(count(&log, |r| r.op == "zoom.get_number"), 0);
    // Never a query for one number (the published spec has no such filter).
    assert_eq!(count(&log, |r| r.query.contains("phone_number=")), 0);
    // Movius: the add per row; the org and the pool once per run; no account read.
    let movius = count(&log, |r| r.service == "movius");
    assert!(
        per_user(movius) <= 1.2,
        "{movius} Movius calls for {ROWS} users"
    );
    assert_eq!(count(&log, |r| r.op == "movius.add"), ROWS);
    assert_eq!(count(&log, |r| r.op == "movius.get"), 0);
    assert_eq!(count(&log, |r| r.op == "movius.org"), 1);
    assert_eq!(count(&log, |r| r.op == "movius.available_numbers"), 1);
    // Zoom in all: the assign, the row's share of the unassigned list (one page per refresh
    // here: one row waits at a time), the phone users' pages once, one final check.
    let zoom = zoom_calls(&log);
    assert!(per_user(zoom) <= 2.1, "{zoom} Zoom calls for {ROWS} users");
}

#[test]
fn zoom_calls_per_user_do_not_grow_with_the_numbers_in_the_account() {
    let small = Home::new();
    let sb = lab_with(&small, 0);
    let a = onboard(&small, &sb);
    drop(sb);
    let large = Home::new();
    let sb = lab_with(&large, 3_000);
    let b = onboard(&large, &sb);
    // 3,000 more numbers (30 list pages), the same Zoom calls, request for request.
    assert_eq!(
        zoom_calls(&a),
        zoom_calls(&b),
        "small: {a:#?}\nlarge: {b:#?}"
    );
    assert_eq!(
        count(&a, |r| r.op == "zoom.list_numbers"),
        count(&b, |r| r.op == "zoom.list_numbers")
    );
}

#[test]
fn a_single_run_on_the_published_spec_reads_the_unassigned_list_not_the_account() {
    let home = Home::new();
    let sb = lab_with(&home, 3_000);
    let run = |i: usize| {
        let (n, user) = row(i);
        lab(&home)
            .args(["run", "onboard-new-user", "--yes"])
            .arg(format!("phone_number={n}"))
            .arg(format!("user={user}"))
            .output()
            .unwrap()
    };
    // The first run of the profile probes the filter once and keeps the answer.
    assert_code(&run(0), 0);
    let probe = std::fs::read_to_string(home.path().join("zoom-filter-probe.json")).unwrap();
    assert!(probe.contains("\"honoured\": false"), "{probe}");

    let unassigned = vline::sandbox::status(&sb.loc()).unwrap();
    let before = sb.log().len();
    let o = run(1);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("done"), "{}", stdout(&o));
    let log = &sb.log()[before..];
    let pages = count(log, |r| r.op == "zoom.list_numbers");
    // The unassigned list fits a page or two; the account's 3,000 held numbers are never read.
    assert!(pages <= 2, "{pages} list pages: {log:#?}");
    assert_eq!(count(log, |r| r.query.contains("type=all")), 0, "{log:#?}");
    let zoom = zoom_calls(log);
    assert!(zoom <= pages + 3, "{zoom} Zoom calls: {log:#?}");
    assert!(unassigned.zoom_numbers > 3_000);
}
