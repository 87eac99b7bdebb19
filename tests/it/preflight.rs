//! `vline bulk <procedure> --csv FILE --preflight`: per-row blockers from the procedures' own
//! checks, totals, licences, time against the window — and no write reaches the sandbox.

use serde_json::Value;

use crate::support::{assert_code, demo, json, stderr, stdout, writes, Home};

fn preflight(h: &Home, procedure: &str, csv: &str) -> std::process::Output {
    let f = h.file("in.csv", csv);
    h.run(&[
        "--json",
        "bulk",
        procedure,
        "--csv",
        f.to_str().unwrap(),
        "--preflight",
    ])
}

/// line → (status, blocker kind, reason).
fn rows(r: &Value) -> Vec<(u64, String, String, String)> {
    r["row_reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["line"].as_u64().unwrap(),
                x["status"].as_str().unwrap().to_string(),
                x["blocked"]["kind"].as_str().unwrap_or("").to_string(),
                x["blocked"]["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn every_blocking_kind_is_reported_with_its_reason_and_nothing_is_written() {
    let h = demo();
    let o = preflight(
        &h,
        "onboard-new-user",
        "phone_number,user,org\n\
         +13126170100,carol@jpmc.example,org-zoom\n\
         +13126170101,erin@jpmc.example,org-zoom\n\
         +13126170001,dave@jpmc.example,org-zoom\n\
         +13126170103,x1@jpmc.example,org-retail\n\
         +13126170104,x2@jpmc.example,org-trading\n\
         +13126170105,nobody@jpmc.example,org-zoom\n\
         +13126170100,zed@jpmc.example,org-zoom\n\
         +13126170201,alice@jpmc.example,org-zoom\n",
    );
    assert_code(&o, 3);
    let r = json(&o);
    let got = rows(&r);
    let kinds: Vec<(u64, &str, &str)> = got
        .iter()
        .map(|(l, s, k, _)| (*l, s.as_str(), k.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (2, "ready", ""),
            (3, "blocked", "not_licensed"),
            (4, "blocked", "assigned_elsewhere"),
            (5, "blocked", "org_not_allowed"),
            (6, "blocked", "org_not_enabled"),
            (7, "blocked", "user_not_found"),
            (8, "blocked", "duplicate"),
            (9, "blocked", "account_elsewhere"),
        ],
        "{r:#}"
    );
    let reason = |l: u64| got.iter().find(|g| g.0 == l).unwrap().3.clone();
    for (line, why) in [
        (3, "erin@jpmc.example has no Zoom Phone licence"),
        (4, "already assigned in Zoom to Alice"),
        (5, "org-retail is not Allowed for Zoom"),
        (6, "org-trading is Allowed but not Enabled"),
        (7, "nobody@jpmc.example does not exist"),
        (8, "duplicates line 2"),
    ] {
        assert!(reason(line).contains(why), "line {line}: {}", reason(line));
    }
    assert!(
        reason(9)
            .contains("already has a Movius account (AC13126170201) in organization org-trading"),
        "{}",
        reason(9)
    );
    assert_eq!(r["verdict"], "not ready: 7 row(s) blocked", "{r:#}");
    assert_eq!(r["ready"], false);
    assert_eq!(r["licences"]["phone_licences_missing"], 1);
    // The ready row's plan: the procedure's own writes, held.
    assert_eq!(r["writes"]["movius::add_account"], 1, "{r:#}");
    assert_eq!(r["writes"]["zoom::assign_number"], 1, "{r:#}");
    // The CSV beside the input keeps every row: its verdict, what it would do, and for a
    // blocked row the reason and next step.
    let failed = std::fs::read_to_string(h.path().join("in.preflight.csv")).unwrap();
    let lines: Vec<&str> = failed.lines().collect();
    assert_eq!(lines.len(), 9, "{failed}");
    assert!(
        lines[0].starts_with("phone_number,user,org,line,status,would_do,blocked,reason,next"),
        "{failed}"
    );
    assert!(
        failed.contains("org-retail,5,blocked,,org_not_allowed"),
        "{failed}"
    );
    assert!(
        lines[1].contains("carol@jpmc.example,org-zoom,2,ready,movius::add_account"),
        "{failed}"
    );
    assert!(
        stderr(&o).contains("not ready: 7 row(s) blocked"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        writes(&h),
        Vec::<Value>::new(),
        "a pre-flight sends no write"
    );
}

#[test]
fn an_old_app_blocks_a_migration() {
    let h = demo();
    let o = preflight(
        &h,
        "migrate-existing-user",
        "phone_number,user\n+13126170202,carol@jpmc.example\n+13126170203,dave@jpmc.example\n",
    );
    assert_code(&o, 3);
    let r = json(&o);
    let got = rows(&r);
    assert_eq!(got[0].2, "app_too_old", "{r:#}");
    assert!(got[0].3.contains("4.14.3"), "{r:#}");
    // 203 is in org-trading, which is not enabled for Zoom.
    assert_eq!(got[1].2, "org_not_enabled", "{r:#}");
    assert_eq!(writes(&h), Vec::<Value>::new());
}

#[test]
fn a_clean_file_is_ready_with_write_counts_and_an_estimate() {
    let h = demo();
    let o = preflight(
        &h,
        "onboard-new-user",
        "phone_number,user,org\n\
         +13126170110,alice@jpmc.example,org-zoom\n\
         +13126170111,bob@jpmc.example,org-zoom\n\
         +13126170112,carol@jpmc.example,org-zoom\n\
         +13126170002,bob2@jpmc.example,org-zoom\n",
    );
    // bob2 does not exist: take that row out and try again with the clean part.
    assert_code(&o, 3);
    let o = preflight(
        &h,
        "onboard-new-user",
        "phone_number,user,org\n\
         +13126170110,alice@jpmc.example,org-zoom\n\
         +13126170111,bob@jpmc.example,org-zoom\n\
         +13126170112,carol@jpmc.example,org-zoom\n",
    );
    assert_code(&o, 0);
    let r = json(&o);
    assert_eq!(r["verdict"], "ready");
    assert_eq!(r["ready_rows"], 3);
    assert_eq!(r["writes"]["movius::add_account"], 3, "{r:#}");
    assert_eq!(r["writes"]["zoom::assign_number"], 3, "{r:#}");
    let t = &r["time"];
    // The held assignments (light) plus the reads made, per category: the phone users' page,
    // read once for every row (medium).
    assert!(t["calls"]["light"].as_u64().unwrap() >= 3, "{t:#}");
    assert!(t["calls"]["medium"].as_u64().unwrap() >= 1, "{t:#}");
    assert!(t["at_bound_s"].as_f64().unwrap() > 0.0, "{t:#}");
    assert_eq!(t["limits"]["light_per_s"], 40);
    assert_eq!(writes(&h), Vec::<Value>::new());
    // Before any run the estimate is the model's: more than the client's pace, since each row
    // peers its number and waits for the shared refresh of Zoom's unassigned list (one every
    // 400 ms at most), and the run ends with the sweep.
    let m = &t["model"];
    assert_eq!(t["estimate_s"], m["estimate_s"], "{t:#}");
    assert_eq!(t["last_rate_rows_per_s"], Value::Null, "{t:#}");
    let f = |v: &Value| v.as_f64().unwrap();
    assert!(f(&m["row_s"]) >= 0.4, "{t:#}");
    assert!(f(&m["sweep_s"]) >= 0.2, "{t:#}");
    assert!(
        f(&t["estimate_s"]) >= f(&t["at_client_pace_s"]) + f(&m["row_s"]) + f(&m["sweep_s"]),
        "{t:#}"
    );
    // The latencies it used were measured on this pre-flight's reads: the rows write to
    // Movius and Zoom, both read from.
    assert!(f(&m["latency_ms"]["movius"]) > 0.0, "{t:#}");
    assert_eq!(m["unmeasured"], serde_json::json!([]), "{t:#}");
    // The terminal form, read top-down.
    let f = h.file(
        "in.csv",
        "phone_number,user,org\n+13126170110,alice@jpmc.example,org-zoom\n",
    );
    let file = f.to_str().unwrap();
    let shown = |more: &[&str]| {
        let args = [
            &["bulk", "onboard-new-user", "--csv", file, "--preflight"][..],
            more,
        ]
        .concat();
        let o = h.run(&args);
        assert_code(&o, 0);
        stdout(&o)
    };
    let out = shown(&[]);
    // The verdict first; a ready row is not listed without --verbose.
    assert_eq!(
        out.lines().next(),
        Some("READY — pre-flight of onboard-new-user on 1 row(s)"),
        "{out}"
    );
    assert!(out.contains("at the bound"), "{out}");
    assert!(!out.contains("zoom::assign_number +13126170110"), "{out}");
    let out = shown(&["--verbose"]);
    assert!(out.contains("Every row:"), "{out}");
    assert!(out.contains("zoom::assign_number +13126170110"), "{out}");
}

#[test]
fn after_a_run_the_estimate_is_that_runs_rate() {
    let h = demo();
    let csv = "phone_number,user,org\n\
               +13126170110,alice@jpmc.example,org-zoom\n\
               +13126170111,bob@jpmc.example,org-zoom\n";
    let t = json(&preflight(&h, "onboard-new-user", csv))["time"].clone();
    assert_eq!(t["last_rate_rows_per_s"], Value::Null, "{t:#}");
    assert_eq!(t["estimate_s"], t["model"]["estimate_s"], "{t:#}");
    let f = h.path().join("in.csv");
    let csv_path = f.to_str().unwrap();
    assert_code(
        &h.run(&["bulk", "onboard-new-user", "--csv", csv_path, "--yes"]),
        0,
    );
    let o = h.run(&[
        "--json",
        "bulk",
        "onboard-new-user",
        "--csv",
        csv_path,
        "--preflight",
    ]);
    assert_code(&o, 0);
    let t = json(&o)["time"].clone();
    assert!(t["last_rate_rows_per_s"].as_f64().unwrap() > 0.0, "{t:#}");
    assert_eq!(t["estimate_s"], t["at_last_rate_s"], "{t:#}");
    // The model stays beside it.
    assert!(t["model"]["estimate_s"].as_f64().unwrap() > 0.0, "{t:#}");
}

#[test]
fn calling_plans_short_by_one_block_the_run() {
    let h = demo();
    let csv = "users,calling_plan\nerin@jpmc.example,300\nfrank@jpmc.example,300\n";
    // Plan 300 has two free licences: enough.
    let o = preflight(&h, "assign-phone-license", csv);
    assert_code(&o, 0);
    let r = json(&o);
    assert_eq!(r["licences"]["calling_plans"][0]["needed"], 2, "{r:#}");
    assert_eq!(r["licences"]["calling_plans"][0]["available"], 2, "{r:#}");
    // Use one of them for real; now the file needs one more than there is.
    let o = h.run(&[
        "run",
        "assign-phone-license",
        "users=alice@jpmc.example",
        "calling_plan=300",
        "--yes",
    ]);
    assert_code(&o, 0);
    let before = writes(&h).len();
    let o = preflight(&h, "assign-phone-license", csv);
    assert_code(&o, 3);
    let r = json(&o);
    assert_eq!(r["blocked_rows"], 0, "each row alone passes: {r:#}");
    assert_eq!(r["licences"]["calling_plans"][0]["short"], 1, "{r:#}");
    assert!(
        r["verdict"]
            .as_str()
            .unwrap()
            .contains("calling plan 300 (International Toll Free) short by 1"),
        "{r:#}"
    );
    assert_eq!(writes(&h).len(), before, "the pre-flight wrote nothing");
}

#[test]
fn the_window_is_stated_in_the_profiles_time_zone() {
    let h = demo();
    h.file(
        "config.toml",
        "[profiles.sandbox]\nkind = \"sandbox\"\nmovius_org = \"org-zoom\"\nwindows = [{days = [], start = \"01:00\", end = \"01:00\", tz = \"Asia/Tokyo\"}]\n",
    );
    let o = preflight(
        &h,
        "onboard-new-user",
        "phone_number,user\n+13126170110,alice@jpmc.example\n",
    );
    assert_code(&o, 0);
    let r = json(&o);
    let w = &r["time"]["window"];
    // A daily 24-hour window (01:00 to 01:00 the next day) is open now: it closes at 01:00 Tokyo.
    assert_eq!(w["window"], "daily 01:00–01:00 Asia/Tokyo", "{w:#}");
    assert!(
        w["closes"]
            .as_str()
            .unwrap()
            .ends_with("01:00 JST (Asia/Tokyo)"),
        "{w:#}"
    );
    assert_eq!(w["fits"], true, "{w:#}");
    // A window too short for the estimate (one minute, once a week) does not fit.
    h.file(
        "config.toml",
        "[profiles.sandbox]\nkind = \"sandbox\"\nmovius_org = \"org-zoom\"\nwindows = [{days = [\"sun\"], start = \"03:00\", end = \"03:01\", tz = \"Asia/Tokyo\"}]\n",
    );
    let many: String = (0..4)
        .map(|i| {
            format!(
                "+1312617011{i},{}@jpmc.example\n",
                ["alice", "bob", "carol", "dave"][i]
            )
        })
        .collect();
    let o = preflight(
        &h,
        "onboard-new-user",
        &format!("phone_number,user\n{many}"),
    );
    let r = json(&o);
    let w = &r["time"]["window"];
    assert!(w["opens"].as_str().unwrap().contains("Sun"), "{w:#}");
    assert!(
        w["opens"]
            .as_str()
            .unwrap()
            .ends_with("03:00 JST (Asia/Tokyo)"),
        "{w:#}"
    );
    assert_eq!(w["length_s"], 60.0, "{w:#}");
    // Four rows take well under a minute at the bound: it fits, and says by how much.
    assert_eq!(w["fits"], true, "{w:#}");
    assert!(w["margin_s"].as_f64().unwrap() > 0.0, "{w:#}");
    assert_code(&o, 0);
}

#[test]
fn malformed_values_still_refuse_the_file() {
    let h = demo();
    let o = preflight(
        &h,
        "onboard-new-user",
        "phone_number,user\nnot-a-number,alice@jpmc.example\n",
    );
    assert_code(&o, 2);
    assert!(stderr(&o).contains("line 2"), "{}", stderr(&o));
}

#[test]
fn a_custom_procedure_can_report_structured_blockers() {
    let h = demo();
    // The convention: throw (or return) `#{blocked: kind, reason, next}`; `text` keeps `vline run`'s
    // message the same.
    let p = h.file(
        "quota.rhai",
        r#"//! title: Give a desk phone
//! impact: write
//! param: user email required who
if user.starts_with("full") {
    throw #{blocked: "desk_phones_full", reason: `${user} already has 9 desk phones`, next: "remove one first", text: "full. Next: remove one first"};
}
if user.starts_with("later") {
    return #{blocked: "not_yet", reason: "wait for the hardware", next: "re-run next week"};
}
zoom::update_phone_user(user, #{site_id: "site-chicago"});
#{status: "done"}
"#,
    );
    let f = h.file(
        "q.csv",
        "user\nalice@jpmc.example\nfull@jpmc.example\nlater@jpmc.example\n",
    );
    let o = h.run(&[
        "--json",
        "bulk",
        p.to_str().unwrap(),
        "--csv",
        f.to_str().unwrap(),
        "--preflight",
    ]);
    assert_code(&o, 3);
    let r = json(&o);
    let got = rows(&r);
    assert_eq!(got[0].1, "ready", "{r:#}");
    assert_eq!(got[1].2, "desk_phones_full", "{r:#}");
    assert_eq!(got[1].3, "full@jpmc.example already has 9 desk phones");
    assert_eq!(got[2].2, "not_yet", "{r:#}");
    assert_eq!(r["row_reports"][2]["blocked"]["next"], "re-run next week");
    assert_eq!(r["writes"]["zoom::update_phone_user"], 1, "{r:#}");
    assert_eq!(writes(&h), Vec::<Value>::new());
}

#[test]
fn a_window_procedure_without_a_window_is_not_ready() {
    let h = demo();
    let o = preflight(&h, "move-org-to-user-level", "org\norg-legacy\n");
    let r = json(&o);
    assert_code(&o, 3);
    assert!(
        r["verdict"]
            .as_str()
            .unwrap()
            .contains("needs a maintenance window"),
        "{r:#}"
    );
}

/// 10,000 ready rows: ready, in a screenful. Each row's held writes were cloned whole per row
/// and kept to the end, and the worker engines ran into the script memory limit after ≈ 4,700
/// rows, blocking every row after as `check_failed`.
#[test]
fn ten_thousand_ready_rows_are_ready_in_a_screenful() {
    let h = Home::new();
    assert_code(
        &h.run(&["sandbox", "reset", "--seed", "demo", "--users", "10000"]),
        0,
    );
    let mut text = String::from("phone_number,user\n");
    for i in 0..10_000 {
        text.push_str(&format!(
            "+1312{:07},bench{:05}@jpmc.example\n",
            5_550_000 + i,
            i + 1
        ));
    }
    let csv = h.file("ten.csv", &text);
    let o = h
        .cmd()
        .env("COLUMNS", "80")
        .args(["bulk", "onboard-new-user", "--preflight", "--csv"])
        .arg(&csv)
        .output()
        .unwrap();
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(
        out.starts_with("READY — pre-flight of onboard-new-user on 10000 row(s)\nRows: 10000 ready, 0 already done, 0 blocked\n"),
        "{out}"
    );
    assert!(out.lines().count() < 40, "{out}");
}
