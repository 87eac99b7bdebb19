//! Plan first, one door: every entry point computes its plan before its first write, shows it,
//! asks once, and sends only what the plan holds; refusals send nothing and are journaled.

use std::process::Stdio;

use rexpect::reader::Options;
use rexpect::session::spawn_with_options;
use serde_json::Value;

use crate::support::{assert_code, demo, json, stderr, stdout, writes, Home};

/// The journal's writes (all runs), as `vline journal export --json` gives them.
fn journal_writes(h: &Home) -> Vec<Value> {
    let o = h.run(&["journal", "export", "--json"]);
    assert_code(&o, 0);
    json(&o).as_array().cloned().unwrap_or_default()
}

fn assignee(h: &Home, n: &str) -> Option<String> {
    let o = h.run(&["--json", "call", "zoom", "number", &format!("number={n}")]);
    assert_code(&o, 0);
    json(&o)["assignee"]["id"].as_str().map(str::to_string)
}

/// `vline run onboard-new-user` for carol's +13126170100, with `extra` flags.
fn onboard_carol(h: &Home, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "run",
        "onboard-new-user",
        "phone_number=+13126170100",
        "user=carol@jpmc.example",
    ];
    args.extend_from_slice(extra);
    h.run(&args)
}

/// `vline ARGS…` on a pseudo-terminal, as a person at a keyboard runs it.
fn on_a_terminal(h: &Home, args: &[&str]) -> rexpect::session::PtySession {
    let mut cmd = h.cmd();
    // The pty's slave is the child's stdin; `Home::cmd` would point it at /dev/null.
    cmd.stdin(Stdio::inherit())
        .env("TERM", "xterm")
        .env("COLUMNS", "200")
        .args(args);
    spawn_with_options(cmd, Options::new().timeout_ms(Some(20_000))).expect("spawn vline on a pty")
}

fn has_account(h: &Home, n: &str) -> bool {
    h.run(&["call", "movius", "account", &format!("phone_number={n}")])
        .status
        .code()
        == Some(0)
}

#[test]
fn call_of_an_irreversible_write_without_a_terminal_sends_nothing_and_is_journaled() {
    let h = demo();
    let o = h.run(&[
        "call",
        "movius",
        "delete_account",
        "phone_number=13126170003",
        "--allow-write",
    ]);
    assert_code(&o, 3);
    let err = stderr(&o);
    assert!(
        err.contains("! ")
            && err.contains("movius::delete_account  +13126170003 in org-zoom  IRREVERSIBLE"),
        "the plan is shown: {err}"
    );
    assert!(
        err.contains("no terminal is attached") && err.contains("nothing was sent"),
        "{err}"
    );
    assert!(writes(&h).is_empty(), "nothing reached the sandbox");
    assert!(has_account(&h, "+13126170003"));
    let j = journal_writes(&h);
    assert!(
        j.iter()
            .any(|w| w["op"] == "movius::delete_account" && w["outcome"] == "refused"),
        "the refused write is journaled: {j:?}"
    );

    // Without --allow-write it is refused too, and journaled.
    let o = h.run(&[
        "call",
        "movius",
        "delete_account",
        "phone_number=13126170003",
    ]);
    assert_code(&o, 3);
    assert!(stderr(&o).contains("--allow-write"), "{}", stderr(&o));
    assert!(writes(&h).is_empty());
    assert_eq!(journal_writes(&h).len(), 2);

    // --yes approves it, and the journal keeps the service's own status.
    let o = h.run(&[
        "call",
        "movius",
        "delete_account",
        "phone_number=13126170003",
        "--allow-write",
        "--yes",
    ]);
    assert_code(&o, 0);
    assert!(!has_account(&h, "+13126170003"));
    let sent: Vec<Value> = journal_writes(&h)
        .into_iter()
        .filter(|w| w["outcome"] == "sent")
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["http_status"], 200);
}

#[test]
fn offboarding_without_a_terminal_is_refused_before_the_unassign() {
    let h = demo();
    let o = h.run(&["run", "offboard-number", "phone_number=+13126170001"]);
    assert_code(&o, 3);
    let err = stderr(&o);
    // The whole plan, both writes, before anything: the unassign is not sent on its own.
    assert!(err.contains("1. zoom::unassign_number"), "{err}");
    assert!(err.contains("2. movius::delete_account"), "{err}");
    assert!(err.contains("nothing was sent"), "{err}");
    assert!(writes(&h).is_empty(), "{:?}", writes(&h));
    assert_eq!(assignee(&h, "+13126170001").as_deref(), Some("user-alice"));
    assert!(has_account(&h, "+13126170001"));
    let refused: Vec<Value> = journal_writes(&h)
        .into_iter()
        .filter(|w| w["outcome"] == "refused")
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
}

#[test]
fn on_a_terminal_answering_no_leaves_zoom_and_movius_untouched() {
    let h = demo();
    let mut p = on_a_terminal(&h, &["run", "offboard-number", "phone_number=+13126170001"]);
    let shown = p
        .exp_string("Apply this plan? [y/N]")
        .expect("the plan's one question");
    assert!(shown.contains("profile sandbox (sandbox)"), "{shown}");
    assert!(shown.contains("Zoom account sandbox-account"), "{shown}");
    assert!(shown.contains("Movius org org-zoom"), "{shown}");
    assert!(shown.contains("zoom::unassign_number"), "{shown}");
    assert!(shown.contains("IRREVERSIBLE"), "{shown}");
    p.send_line("n").unwrap();
    p.exp_string("declined the plan").expect("the refusal");
    let status = format!("{:?}", p.process().wait().unwrap());
    assert!(
        status.starts_with("Exited(") && status.ends_with(", 3)"),
        "{status}"
    );
    assert!(writes(&h).is_empty(), "{:?}", writes(&h));
    assert_eq!(assignee(&h, "+13126170001").as_deref(), Some("user-alice"));
    assert!(has_account(&h, "+13126170001"));
}

#[test]
fn the_cap_is_compared_with_the_plan_before_the_first_write() {
    let h = demo();
    let o = onboard_carol(&h, &["--max-changes", "1", "--yes"]);
    assert_code(&o, 3);
    let err = stderr(&o);
    assert!(
        err.contains("max_changes = 1") && err.contains("change 2"),
        "{err}"
    );
    assert!(err.contains("nothing was sent"), "{err}");
    assert!(
        writes(&h).is_empty(),
        "no half-onboarded number: {:?}",
        writes(&h)
    );
    assert!(!has_account(&h, "+13126170100"));
}

#[test]
fn a_saved_plan_is_applied_later_and_the_journal_names_it() {
    let h = demo();
    let plan = h.path().join("chg.plan.json");
    let o = onboard_carol(&h, &["--plan-out", plan.to_str().unwrap()]);
    assert_code(&o, 0);
    assert!(writes(&h).is_empty(), "a saved plan changes nothing");
    let saved: Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    assert_eq!(saved["script"], "onboard-new-user");
    assert_eq!(saved["profile"], "sandbox");
    assert_eq!(saved["params"]["phone_number"], "+13126170100");
    let ops: Vec<&str> = saved["plan"]["writes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["movius::add_account", "zoom::assign_number"]);
    let digest = stderr(&o)
        .split("sha256 ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap()
        .to_string();

    let o = h.run(&["plan", "show", plan.to_str().unwrap()]);
    assert_code(&o, 0);
    let shown = stdout(&o);
    assert!(shown.contains("script onboard-new-user"), "{shown}");
    assert!(
        shown.contains("parameters phone_number=+13126170100 user=carol@jpmc.example"),
        "{shown}"
    );
    assert!(
        shown.contains("movius::add_account  +13126170100 in org-zoom  IRREVERSIBLE"),
        "{shown}"
    );

    // Without a terminal an irreversible plan still needs --yes.
    let o = h.run(&["apply", plan.to_str().unwrap()]);
    assert_code(&o, 3);
    assert!(writes(&h).is_empty());

    let o = h.run(&["apply", plan.to_str().unwrap(), "--yes"]);
    assert_code(&o, 0);
    assert_eq!(assignee(&h, "+13126170100").as_deref(), Some("user-carol"));
    let o = h.run(&["journal", "list", "--json"]);
    let runs = json(&o);
    let apply = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["mode"] == "apply")
        .expect("the apply run");
    assert_eq!(apply["plan_digest"], digest.as_str());
    assert_eq!(apply["outcome"], "done");
}

#[test]
fn a_saved_plan_whose_state_moved_is_refused_and_sends_nothing() {
    let h = demo();
    let plan = h.path().join("chg.plan.json");
    let o = onboard_carol(&h, &["--plan-out", plan.to_str().unwrap()]);
    assert_code(&o, 0);
    // Someone else takes the number in between.
    let o = h.run(&[
        "run",
        "onboard-new-user",
        "phone_number=+13126170100",
        "user=dave@jpmc.example",
        "--yes",
    ]);
    assert_code(&o, 0);
    let before = writes(&h).len();
    let o = h.run(&["apply", plan.to_str().unwrap(), "--yes"]);
    assert_code(&o, 3);
    assert!(stderr(&o).contains("no longer applies"), "{}", stderr(&o));
    assert_eq!(writes(&h).len(), before, "the apply sent nothing");
    assert_eq!(assignee(&h, "+13126170100").as_deref(), Some("user-dave"));
}

#[test]
fn a_saved_plan_is_refused_when_the_live_state_needs_a_write_it_does_not_hold() {
    let h = demo();
    let s = h.file(
        "release.rhai",
        "//! impact: write\n//! writes: zoom::unassign_number\nlet n = zoom::number(\"+13126170001\");\nif n.assignee != () { zoom::unassign_number(n.assignee.id, \"+13126170001\"); }\n",
    );
    let plan = h.path().join("p.json");
    let o = h.run(&[
        "run",
        s.to_str().unwrap(),
        "--plan-out",
        plan.to_str().unwrap(),
    ]);
    assert_code(&o, 0);
    // The number moves from alice to bob: the same script would now unassign bob.
    for args in [
        &[
            "call",
            "zoom",
            "unassign_number",
            "user=alice@jpmc.example",
            "number=+13126170001",
            "--allow-write",
        ][..],
        &[
            "call",
            "zoom",
            "assign_number",
            "user=bob@jpmc.example",
            "number=+13126170001",
            "--allow-write",
        ][..],
    ] {
        assert_code(&h.run(args), 0);
    }
    let before = writes(&h).len();
    let o = h.run(&["apply", plan.to_str().unwrap(), "--yes"]);
    assert_code(&o, 3);
    let err = stderr(&o);
    assert!(
        err.contains("the state moved since the plan was made") && err.contains("user-bob"),
        "{err}"
    );
    assert_eq!(writes(&h).len(), before);
    assert_eq!(assignee(&h, "+13126170001").as_deref(), Some("user-bob"));

    // An edited script or edited parameters are refused too.
    std::fs::write(&s, std::fs::read_to_string(&s).unwrap() + "\n// edited\n").unwrap();
    let o = h.run(&["apply", plan.to_str().unwrap(), "--yes"]);
    assert_code(&o, 3);
    assert!(
        stderr(&o).contains("changed since the plan was made"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_journal_keeps_the_real_http_status_of_each_write() {
    let h = demo();
    let o = onboard_carol(&h, &["--yes"]);
    assert_code(&o, 0);
    let j = journal_writes(&h);
    let status = |op: &str| {
        j.iter()
            .find(|w| w["op"] == op && w["outcome"] == "sent")
            .map(|w| w["http_status"].clone())
    };
    // Zoom answers the assign with 201 (its spec; the Terraform provider saw the same).
    assert_eq!(status("zoom::assign_number"), Some(Value::from(201)));
    assert_eq!(status("movius::add_account"), Some(Value::from(200)));
}

#[test]
fn an_empty_plan_asks_nothing_and_says_already_done() {
    let h = demo();
    let args = [
        "run",
        "onboard-new-user",
        "phone_number=+13126170100",
        "user=carol@jpmc.example",
    ];
    assert_code(&h.run(&[&args[..], &["--yes"]].concat()), 0);
    let before = writes(&h).len();
    // No terminal and no --yes: an empty plan needs no confirmation.
    let o = h.run(&args);
    assert_code(&o, 0);
    assert!(stderr(&o).contains("already done"), "{}", stderr(&o));
    assert_eq!(writes(&h).len(), before);
}

/// Every command that can reach a service, and how its writes are guarded. A new command must
/// be added here, with a check that it goes through the guard, or this test fails.
#[test]
fn every_entry_point_passes_the_guard_and_the_journal() {
    use clap::CommandFactory;
    let known = [
        // (command, what it does with writes)
        ("run", "plan first"),
        ("apply", "plan first"),
        ("call", "plan first"),
        ("bulk", "one confirmation by operation"),
        ("repl", "read-only until :write on; :run plans first"),
        ("bench", "its own sandbox, --yes by construction"),
        ("procedures", "no service"),
        ("doc", "no service"),
        ("check", "no service"),
        ("completions", "no service"),
        ("sandbox", "the sandbox itself"),
        ("journal", "no service"),
        ("config", "no service"),
        ("plan", "no service"),
        (
            "doctor",
            "reads only, no write op (doctor::doctor_passes_on_the_embedded_sandbox_…)",
        ),
        ("help", "no service"),
    ];
    for c in vline::cli::Cli::command().get_subcommands() {
        assert!(
            known.iter().any(|(k, _)| *k == c.get_name()),
            "`vline {}` is new: say how its writes pass the guard (and test it) in this table",
            c.get_name()
        );
    }

    let h = demo();
    // run: a script's irreversible write without a terminal.
    let s = h.file(
        "w.rhai",
        "//! impact: irreversible\n//! writes: movius::delete_account\nmovius::delete_account(\"org-zoom\", #{phone_number: \"+13126170003\"});\n",
    );
    assert_code(&h.run(&["run", s.to_str().unwrap()]), 3);
    // bulk: the same through a CSV.
    let csv = h.file("rows.csv", "phone_number\n+13126170003\n");
    assert_code(
        &h.run(&["bulk", "offboard-number", "--csv", csv.to_str().unwrap()]),
        3,
    );
    // bulk::map inside a script: its writes are in the script's plan.
    let m = h.file(
        "map.rhai",
        "//! impact: irreversible\nbulk::map([\"+13126170003\"], |n| movius::delete_account(\"org-zoom\", #{phone_number: n}), #{concurrency: 2});\n",
    );
    let o = h.run(&["run", m.to_str().unwrap()]);
    assert_code(&o, 3);
    assert!(
        stderr(&o).contains("movius::delete_account"),
        "{}",
        stderr(&o)
    );
    // call: see call_of_an_irreversible_write_… above; here the reversible write of a read-only call.
    assert_code(
        &h.run(&[
            "call",
            "zoom",
            "unassign_number",
            "user=alice@jpmc.example",
            "number=+13126170001",
        ]),
        3,
    );
    // The REPL starts read-only.
    let mut p = on_a_terminal(&h, &["repl"]);
    p.exp_string("sandbox ro> ").unwrap();
    p.send_line("movius::delete_account(\"org-zoom\", #{phone_number: \"+13126170003\"})")
        .unwrap();
    p.exp_string("read-only mode").unwrap();
    p.send_line(":quit").unwrap();
    let _ = p.process().wait();

    assert!(
        writes(&h).is_empty(),
        "no entry point sent a write: {:?}",
        writes(&h)
    );
    assert!(has_account(&h, "+13126170003"));
    let refused = journal_writes(&h)
        .iter()
        .filter(|w| w["outcome"] == "refused")
        .count();
    // run, bulk::map, call, REPL (bulk refuses before its first row: the run's detail says why).
    assert!(refused >= 4, "every refused write is journaled: {refused}");
}

#[test]
fn ctrl_c_at_the_plan_question_answers_no_at_once() {
    let h = demo();
    let mut p = on_a_terminal(&h, &["run", "offboard-number", "phone_number=+13126170001"]);
    p.exp_string("Apply this plan? [y/N]")
        .expect("the question");
    p.send_control('c').unwrap();
    p.exp_string("declined the plan")
        .expect("a no, without waiting for Enter");
    let status = format!("{:?}", p.process().wait().unwrap());
    assert!(
        status.starts_with("Exited(") && status.ends_with(", 3)"),
        "{status}"
    );
    assert!(writes(&h).is_empty(), "{:?}", writes(&h));
}

#[test]
fn the_repl_run_shows_the_plan_and_asks_once() {
    let h = demo();
    let mut p = on_a_terminal(&h, &["repl"]);
    p.exp_string("sandbox ro> ").unwrap();
    p.send_line(":write on").unwrap();
    p.exp_string("sandbox rw> ").unwrap();
    p.send_line(":run offboard-number phone_number=+13126170001")
        .unwrap();
    let shown = p
        .exp_string("Apply this plan?")
        .expect("one question for the plan");
    assert!(shown.contains("1. zoom::unassign_number"), "{shown}");
    assert!(shown.contains("2. movius::delete_account"), "{shown}");
    p.send_line("n").unwrap();
    p.exp_string("declined the plan").unwrap();
    p.send_line(":quit").unwrap();
    let _ = p.process().wait();
    assert!(writes(&h).is_empty(), "{:?}", writes(&h));
    assert_eq!(assignee(&h, "+13126170001").as_deref(), Some("user-alice"));
}
