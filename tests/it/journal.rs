//! `vline journal list|show|export` on a journal written through the library, as the host does.

use serde_json::json;
use vline::guard::Impact;
use vline::journal::{Journal, NewRun, RunId, RunOutcome, WriteOutcome, WriteRecord};

use crate::support::{assert_code, json, stderr, stdout, Home};

const SECRET: &str = "hunter2-very-secret";

/// Two runs: a finished one with a sent and a refused write, and a dry-run holding one write.
fn populate(home: &Home) -> (RunId, RunId) {
    let j = Journal::open(&home.path().join("journal.sqlite")).expect("open journal");
    let run = |script: &str, mode: &str| NewRun {
        ticket: None,
        operator: "alice".into(),
        host: "ops-1".into(),
        profile: "prod".into(),
        script: script.into(),
        script_digest: "0f".repeat(32),
        params: json!({"phone_number": "+13126173497", "movius": {"password": SECRET}}),
        mode: mode.into(),
        outside_window_reason: Some("CAB-42 approved".into()),
    };
    let write = |seq: u64,
                 op: &str,
                 outcome: WriteOutcome,
                 status: Option<u16>,
                 error: Option<&str>| WriteRecord {
        seq,
        op: op.into(),
        impact: if op.starts_with("movius") {
            Impact::Irreversible
        } else {
            Impact::Write
        },
        target: "+13126173497 → alice@jpmc.example".into(),
        params: json!({"number": "+13126173497", "client_secret": SECRET, "headers": {"Authorization": format!("Bearer {SECRET}")}}),
        outcome,
        http_status: status,
        duration_ms: 87,
        error: error.map(str::to_string),
    };
    let first = j.start_run(&run("onboard_user", "run")).unwrap();
    j.record_write(
        first,
        &write(
            1,
            "zoom::assign_number",
            WriteOutcome::Sent,
            Some(201),
            None,
        ),
    )
    .unwrap();
    j.record_write(
        first,
        &write(
            2,
            "movius::delete_account",
            WriteOutcome::Refused,
            None,
            Some("no terminal and no --yes"),
        ),
    )
    .unwrap();
    j.finish_run(
        first,
        RunOutcome::Refused,
        "movius::delete_account needs a confirmation",
    )
    .unwrap();
    let second = j.start_run(&run("offboard_user", "dry-run")).unwrap();
    j.record_write(
        second,
        &write(1, "zoom::unassign_number", WriteOutcome::Held, None, None),
    )
    .unwrap();
    j.finish_run(second, RunOutcome::Done, "").unwrap();
    (first, second)
}

#[test]
fn list_on_an_empty_home_is_an_empty_array() {
    let home = Home::new();
    let o = home.run(&["--json", "journal", "list"]);
    assert_code(&o, 0);
    assert_eq!(json(&o), json!([]));
    // Looking must not create a journal.
    assert!(!home.path().join("journal.sqlite").exists());
    let o = home.run(&["journal", "list"]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("No runs"), "{}", stdout(&o));
}

#[test]
fn list_shows_runs_newest_first() {
    let home = Home::new();
    let (first, second) = populate(&home);
    let o = home.run(&["journal", "list", "--json"]);
    assert_code(&o, 0);
    let v = json(&o);
    let runs = v.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["id"], json!(second.0));
    assert_eq!(runs[0]["mode"], "dry-run");
    assert_eq!(runs[1]["id"], json!(first.0));
    assert_eq!(runs[1]["outcome"], "refused");
    assert_eq!(runs[1]["writes"], 2);

    let o = home.run(&["journal", "list", "--limit", "1"]);
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(
        out.contains(&second.to_string())
            && out.contains("offboard_user")
            && out.contains("dry-run"),
        "{out}"
    );
    assert!(!out.contains("onboard_user"), "{out}");
    assert!(!out.contains(SECRET));
}

#[test]
fn show_prints_the_run_and_its_writes_in_order() {
    let home = Home::new();
    let (first, _) = populate(&home);
    let o = home.run(&["journal", "show", &first.to_string()]);
    assert_code(&o, 0);
    let out = stdout(&o);
    for want in [
        "onboard_user",
        "alice@ops-1",
        "refused",
        "CAB-42 approved",
        "zoom::assign_number",
        "movius::delete_account",
        "no terminal and no --yes",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    let table = &out[out.find("│ # ").expect("a table of writes")..];
    assert!(
        table.find("zoom::assign_number").unwrap() < table.find("movius::delete_account").unwrap(),
        "{out}"
    );
    assert!(!out.contains(SECRET), "secret leaked:\n{out}");

    // The bare number works too, and --json gives the run with its writes.
    let o = home.run(&["--json", "journal", "show", &first.0.to_string()]);
    assert_code(&o, 0);
    let v = json(&o);
    assert_eq!(v["run"]["script"], "onboard_user");
    assert_eq!(v["run"]["outside_window_reason"], "CAB-42 approved");
    assert_eq!(v["run"]["params"]["movius"]["password"], "***");
    let writes = v["writes"].as_array().unwrap();
    assert_eq!(
        writes
            .iter()
            .map(|w| w["seq"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(writes[0]["outcome"], "sent");
    assert_eq!(writes[0]["http_status"], 201);
    assert_eq!(writes[1]["outcome"], "refused");
    assert_eq!(writes[1]["impact"], "irreversible");
    assert_eq!(writes[0]["params"]["client_secret"], "***");
    assert!(!stdout(&o).contains(SECRET));
}

#[test]
fn show_of_an_unknown_run_says_how_to_find_one() {
    let home = Home::new();
    populate(&home);
    let o = home.run(&["journal", "show", "r999"]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("no run r999") && stderr(&o).contains("vline journal list"),
        "{}",
        stderr(&o)
    );
    let o = home.run(&["journal", "show", "twelve"]);
    assert_code(&o, 2);
}

#[test]
fn export_csv_has_every_write_and_no_secret() {
    let home = Home::new();
    let (first, second) = populate(&home);
    let o = home.run(&["journal", "export", "--csv"]);
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(!out.contains(SECRET), "secret leaked:\n{out}");
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
    };
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let cell = |r: usize, name: &str| rows[r][col(name)].to_string();
    assert_eq!(cell(0, "run"), first.to_string());
    assert_eq!(cell(0, "op"), "zoom::assign_number");
    assert_eq!(cell(0, "outcome"), "sent");
    assert_eq!(cell(0, "http_status"), "201");
    assert_eq!(cell(0, "operator"), "alice");
    assert_eq!(cell(0, "target"), "+13126173497 → alice@jpmc.example");
    assert_eq!(cell(1, "outcome"), "refused");
    assert_eq!(cell(2, "run"), second.to_string());
    assert_eq!(cell(2, "outcome"), "held");
    let params: serde_json::Value = serde_json::from_str(&cell(0, "params")).unwrap();
    assert_eq!(params["client_secret"], "***");
    assert_eq!(params["headers"]["Authorization"], "***");

    // One run, to a file.
    let file = home.path().join("audit.csv");
    let o = home.run(&[
        "journal",
        "export",
        "--csv",
        "--run",
        &second.to_string(),
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_code(&o, 0);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.contains("zoom::unassign_number") && !text.contains(SECRET),
        "{text}"
    );
}

#[test]
fn export_json_and_format_conflict() {
    let home = Home::new();
    populate(&home);
    let o = home.run(&["--json", "journal", "export"]);
    assert_code(&o, 0);
    let v = json(&o);
    assert_eq!(v.as_array().unwrap().len(), 3);
    assert_eq!(v[0]["profile"], "prod");
    assert!(!stdout(&o).contains(SECRET));
    let o = home.run(&["--json", "journal", "export", "--csv"]);
    assert_code(&o, 2);
}
