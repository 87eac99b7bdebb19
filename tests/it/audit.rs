//! The journal as an auditor reads it: who, under which ticket, filters, and a hash chain that
//! shows any row edited, inserted or removed behind vline's back.

use crate::support::{assert_code, demo, json, stderr, stdout, Home};

fn onboard(h: &Home, extra: &[&str]) {
    let mut args = vec![
        "run",
        "onboard-new-user",
        "phone_number=+13126170100",
        "user=carol@jpmc.example",
        "--yes",
    ];
    args.extend_from_slice(extra);
    assert_code(&h.run(&args), 0);
}

fn sql(h: &Home, statement: &str) {
    let c = rusqlite::Connection::open(h.path().join("journal.sqlite")).unwrap();
    c.execute_batch(statement).unwrap();
}

#[test]
fn the_ticket_and_operator_are_journaled_and_runs_are_found_by_them() {
    let h = demo();
    onboard(&h, &["--ticket", "CHG-4242"]);
    let o = h
        .cmd()
        .env("VLINE_OPERATOR", "bob.admin")
        .args([
            "run",
            "offboard-number",
            "phone_number=+13126170003",
            "--yes",
        ])
        .output()
        .unwrap();
    assert_code(&o, 0);

    let o = h.run(&["journal", "list", "--json"]);
    let runs = json(&o);
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1]["ticket"], "CHG-4242");
    assert_eq!(runs[0]["operator"], "bob.admin");

    let o = h.run(&["journal", "list", "--ticket", "CHG-4242", "--json"]);
    assert_eq!(json(&o).as_array().unwrap().len(), 1);
    let o = h.run(&["journal", "list", "--target", "+13126170003", "--json"]);
    let found = json(&o);
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["script"], "offboard-number");
    let o = h.run(&["journal", "list", "--op", "assign_number", "--json"]);
    assert_eq!(json(&o)[0]["script"], "onboard-new-user");
    let o = h.run(&["journal", "list", "--operator", "bob.admin"]);
    assert!(stdout(&o).contains("offboard-number") && !stdout(&o).contains("onboard-new-user"));
}

#[test]
fn a_profile_can_require_a_ticket() {
    let h = Home::new();
    h.file("config.toml", "[profiles.sandbox]\nkind = \"sandbox\"\nmovius_org = \"org-zoom\"\nrequire_ticket = true\n");
    assert_code(&h.run(&["sandbox", "reset", "--seed", "demo"]), 0);
    let o = h.run(&[
        "run",
        "offboard-number",
        "phone_number=+13126170003",
        "--yes",
    ]);
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("requires a change ticket: add --ticket ID"),
        "{}",
        stderr(&o)
    );
    let o = h.run(&[
        "run",
        "offboard-number",
        "phone_number=+13126170003",
        "--yes",
        "--ticket",
        "CHG-1",
    ]);
    assert_code(&o, 0);
}

#[test]
fn verify_finds_a_row_edited_inserted_or_removed_behind_the_journal() {
    let h = demo();
    onboard(&h, &["--ticket", "CHG-4242"]);
    let o = h.run(&["journal", "verify"]);
    assert_code(&o, 0);
    assert!(stdout(&o).starts_with("journal intact: "), "{}", stdout(&o));

    // An edited write: the target no longer says which number was assigned.
    sql(
        &h,
        "UPDATE writes SET target = '+13126170999 → user-carol' WHERE op = 'zoom::assign_number'",
    );
    let o = h.run(&["journal", "verify"]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("of run r1 was edited"),
        "{}",
        stderr(&o)
    );
    sql(
        &h,
        "UPDATE writes SET target = '+13126170100 → user-carol' WHERE op = 'zoom::assign_number'",
    );
    assert_code(&h.run(&["journal", "verify"]), 0);

    // An edited outcome or ticket.
    sql(&h, "UPDATE runs SET outcome = 'failed'");
    let o = h.run(&["journal", "verify"]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("run r1's outcome, detail or end was edited"),
        "{}",
        stderr(&o)
    );
    sql(&h, "UPDATE runs SET outcome = 'done'");
    sql(&h, "UPDATE runs SET ticket = 'CHG-1'");
    assert!(stderr(&h.run(&["journal", "verify"])).contains("run r1 was edited"));
    sql(&h, "UPDATE runs SET ticket = 'CHG-4242'");
    assert_code(&h.run(&["journal", "verify"]), 0);

    // A write inserted, then one removed.
    sql(&h, "INSERT INTO writes (run_id, seq, at, op, impact, target, params, outcome, duration_ms) SELECT run_id, 9, at, op, impact, target, params, outcome, 0 FROM writes LIMIT 1");
    let o = h.run(&["journal", "verify"]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("was inserted behind the journal's back"),
        "{}",
        stderr(&o)
    );
    sql(
        &h,
        "DELETE FROM writes WHERE seq = 9; DELETE FROM writes WHERE op = 'movius::add_account'",
    );
    let o = h.run(&["journal", "verify"]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("was removed"), "{}", stderr(&o));
}

#[test]
fn export_gives_json_lines_of_the_writes_the_filters_find() {
    let h = demo();
    onboard(&h, &["--ticket", "CHG-4242"]);
    assert_code(
        &h.run(&[
            "run",
            "offboard-number",
            "phone_number=+13126170003",
            "--yes",
        ]),
        0,
    );
    let o = h.run(&[
        "journal", "export", "--format", "jsonl", "--ticket", "CHG-4242",
    ]);
    assert_code(&o, 0);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    let ops: Vec<&str> = lines.iter().map(|l| l["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["movius::add_account", "zoom::assign_number"]);
    assert!(lines.iter().all(|l| l["ticket"] == "CHG-4242"));
    // Nested values stay JSON, never JSON inside a string.
    assert_eq!(lines[0]["params"]["phone_number"], "13126170100");
    let o = h.run(&[
        "journal",
        "export",
        "--format",
        "jsonl",
        "--op",
        "delete_account",
    ]);
    assert_eq!(stdout(&o).lines().count(), 1);
    let o = h.run(&["journal", "export", "--format", "xml"]);
    assert_code(&o, 2);
}
