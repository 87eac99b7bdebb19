//! The script host's guardrails through the real binary against the embedded sandbox: each test
//! runs a small script and asserts what the sandbox received (its request log), its state, the
//! journal, the exit code and the message. Every protection is shown failing closed; where it
//! helps, the same script without the protection is shown to reach the sandbox, so a test cannot
//! pass because the script never tried.

use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use crate::support::{assert_code, demo, json, stderr, stdout, writes, Home};

/// Write a script into the home; its path as the argument `vline run` takes.
fn script(h: &Home, name: &str, src: &str) -> String {
    let p: PathBuf = h.file(name, src);
    p.to_string_lossy().into_owned()
}

/// `vline ARGS…` with `run` and the script first.
fn run(h: &Home, path: &str, extra: &[&str]) -> Output {
    let mut args = vec!["run", path];
    args.extend_from_slice(extra);
    h.run(&args)
}

/// `vline --json run …`.
fn run_json(h: &Home, path: &str, extra: &[&str]) -> Output {
    let mut args = vec!["--json", "run", path];
    args.extend_from_slice(extra);
    h.run(&args)
}

/// The newest journal run and its writes.
fn last_run(h: &Home) -> (Value, Vec<Value>) {
    let o = h.run(&["journal", "list", "--json"]);
    assert_code(&o, 0);
    let runs = json(&o);
    let id = runs[0]["id"].as_i64().expect("a journaled run");
    let o = h.run(&["journal", "show", &id.to_string(), "--json"]);
    assert_code(&o, 0);
    let v = json(&o);
    (
        v["run"].clone(),
        v["writes"].as_array().cloned().unwrap_or_default(),
    )
}

fn journal_runs(h: &Home) -> usize {
    let o = h.run(&["journal", "list", "--json"]);
    assert_code(&o, 0);
    json(&o).as_array().map_or(0, Vec::len)
}

/// Zoom's view of a number: its assignee id, if any.
fn assignee(h: &Home, n: &str) -> Option<String> {
    let o = h.run(&["--json", "call", "zoom", "number", &format!("number={n}")]);
    assert_code(&o, 0);
    json(&o)["assignee"]["id"].as_str().map(str::to_string)
}

/// Whether Movius has an account for the number.
fn has_account(h: &Home, n: &str) -> bool {
    let o = h.run(&[
        "--json",
        "call",
        "movius",
        "account",
        &format!("phone_number={n}"),
    ]);
    match o.status.code() {
        Some(0) => true,
        _ => {
            assert!(stderr(&o).contains("1002"), "{}", stderr(&o));
            false
        }
    }
}

#[track_caller]
fn assert_mentions(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "expected {n:?} in:\n{text}");
    }
}

fn both(o: &Output) -> String {
    format!("{}\n{}", stdout(o), stderr(o))
}

// ---------------------------------------------------------------------------------------------
// Dry run

const ASSIGN_003: &str = r#"
let r = zoom::assign_number("carol@jpmc.example", "+13126170003");
// Live, Zoom answers with the numbers assigned; a dry run's placeholder has the same shape
// (so `r[0].number` works either way) and each record says what it is.
let dry = "dry_run" in r[0] && r[0].dry_run == true;
#{dry_run: dry, plan_step: if dry { r[0].plan_step } else { 0 }, number: r[0].number, guard_says: guard::is_dry_run()}
"#;

#[test]
fn dry_run_sends_no_write_lists_it_in_the_plan_and_gives_the_script_a_placeholder() {
    let h = demo();
    let s = script(&h, "assign.rhai", ASSIGN_003);

    let o = run_json(&h, &s, &["--dry-run"]);
    assert_code(&o, 0);
    let v = json(&o);
    assert_eq!(v["outcome"], "done");
    assert_eq!(v["result"]["dry_run"], true, "{v}");
    assert_eq!(v["result"]["plan_step"], 1);
    assert_eq!(v["result"]["number"], "+13126170003");
    assert_eq!(v["result"]["guard_says"], true);
    let plan = v["plan"].as_array().expect("plan");
    assert_eq!(plan.len(), 1, "{v}");
    assert_eq!(plan[0]["seq"], 1);
    assert_eq!(plan[0]["op"], "zoom::assign_number");
    assert_mentions(
        plan[0]["target"].as_str().unwrap(),
        &["+13126170003", "carol@jpmc.example"],
    );
    assert_eq!(plan[0]["params"]["user"], "carol@jpmc.example");
    assert!(writes(&h).is_empty(), "{:?}", writes(&h));
    assert_eq!(assignee(&h, "+13126170003"), None);
    let (run_row, jw) = last_run(&h);
    assert_eq!(run_row["mode"], "dry-run");
    assert_eq!(jw.len(), 1);
    assert_eq!(jw[0]["outcome"], "held");

    // The human output numbers the plan and says nothing was sent.
    let o = run(&h, &s, &["--dry-run"]);
    assert_code(&o, 0);
    let out = stdout(&o);
    assert_mentions(
        &out,
        &[
            "Dry run: 1 write(s) held, nothing was sent.",
            "1. zoom::assign_number [write] +13126170003 → carol@jpmc.example",
        ],
    );
    assert!(!stderr(&o).contains("change(s) sent"), "{}", stderr(&o));
    assert!(writes(&h).is_empty());

    // Without --dry-run the same script reaches Zoom.
    let o = run_json(&h, &s, &[]);
    assert_code(&o, 0);
    assert_eq!(json(&o)["result"]["dry_run"], false);
    let w = writes(&h);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0]["op"], "zoom.assign_number");
    assert_eq!(assignee(&h, "+13126170003").as_deref(), Some("user-carol"));
}

// ---------------------------------------------------------------------------------------------
// Irreversible operations

const ADD_100: &str = r#"
movius::add_account(#{organization_id: "org-zoom", phone_number: "+13126170100",
    first_name: "13126170100", last_name: "JPMC", email: "13126170100.JPMC@jpmc.movius.ai",
    enable_zoom: true})
"#;

#[test]
fn irreversible_ops_without_a_terminal_or_yes_are_refused_naming_the_target() {
    let h = demo();
    let add = script(&h, "add.rhai", ADD_100);
    let o = run(&h, &add, &[]);
    assert_code(&o, 3);
    assert_mentions(
        &stderr(&o),
        &[
            "movius::add_account",
            "+13126170100 in org-zoom",
            "irreversible",
            "can never be turned off",
            "no terminal",
            "--yes",
        ],
    );
    assert!(writes(&h).is_empty(), "{:?}", writes(&h));
    assert!(!has_account(&h, "+13126170100"));
    let (run_row, jw) = last_run(&h);
    assert_eq!(run_row["outcome"], "refused");
    assert_eq!(jw.len(), 1, "{jw:?}");
    assert_eq!(jw[0]["op"], "movius::add_account");
    assert_eq!(jw[0]["outcome"], "refused");
    assert_eq!(jw[0]["impact"], "irreversible");

    let del = script(
        &h,
        "del.rhai",
        r#"movius::delete_account("org-zoom", #{phone_number: "+13126170003"})"#,
    );
    let o = run(&h, &del, &[]);
    assert_code(&o, 3);
    assert_mentions(
        &stderr(&o),
        &[
            "movius::delete_account",
            "+13126170003",
            "unpeered",
            "--yes",
        ],
    );
    assert!(writes(&h).is_empty());
    assert!(has_account(&h, "+13126170003"));
    assert_eq!(last_run(&h).1[0]["outcome"], "refused");

    // With --yes both go through.
    assert_code(&run(&h, &add, &["--yes"]), 0);
    assert_code(&run(&h, &del, &["--yes"]), 0);
    let ops: Vec<_> = writes(&h)
        .iter()
        .map(|w| w["op"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(ops, ["movius.add", "movius.delete"], "{ops:?}");
    assert!(has_account(&h, "+13126170100"));
    assert!(!has_account(&h, "+13126170003"));
}

// ---------------------------------------------------------------------------------------------
// Maintenance windows

const WINDOWED: &str = r#"
guard::require_maintenance_window("the org-level move");
zoom::unassign_number("alice@jpmc.example", "+13126170001");
"passed"
"#;

fn config_with_windows(h: &Home, windows: &str) {
    h.file(
        "config.toml",
        &format!("[profiles.sandbox]\nkind = \"sandbox\"\nmovius_org = \"org-zoom\"\nwindows = {windows}\n"),
    );
}

#[test]
fn a_maintenance_window_op_is_refused_outside_the_window_and_allowed_with_a_journaled_reason() {
    let h = demo();
    // A one-minute window twelve hours from now: certainly closed.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let minute_of_day = (secs / 60 + 12 * 60) % (24 * 60);
    let (hh, mm) = (minute_of_day / 60, minute_of_day % 60);
    let end = (minute_of_day + 1) % (24 * 60);
    config_with_windows(
        &h,
        &format!(
            "[{{days = [], start = \"{hh:02}:{mm:02}\", end = \"{:02}:{:02}\", tz = \"UTC\"}}]",
            end / 60,
            end % 60
        ),
    );
    let s = script(&h, "windowed.rhai", WINDOWED);
    let o = run(&h, &s, &[]);
    assert_code(&o, 3);
    assert_mentions(
        &stderr(&o),
        &[
            "the org-level move needs a maintenance window",
            "outside the profile's windows",
            "--outside-window",
        ],
    );
    assert!(writes(&h).is_empty());
    assert_eq!(assignee(&h, "+13126170001").as_deref(), Some("user-alice"));
    assert_eq!(last_run(&h).0["outcome"], "refused");

    let o = run_json(&h, &s, &["--outside-window", "CAB-7 approved"]);
    assert_code(&o, 0);
    assert_eq!(json(&o)["result"], "passed");
    assert_eq!(writes(&h).len(), 1);
    assert_eq!(assignee(&h, "+13126170001"), None);
    let (run_row, jw) = last_run(&h);
    assert_eq!(run_row["outside_window_reason"], "CAB-7 approved");
    assert_eq!(run_row["outcome"], "done");
    assert_eq!(jw[0]["outcome"], "sent");
}

#[test]
fn a_maintenance_window_op_runs_inside_an_always_open_window() {
    let h = demo();
    config_with_windows(
        &h,
        r#"[{days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start = "00:00", end = "24:00", tz = "America/New_York"}]"#,
    );
    let s = script(&h, "windowed.rhai", WINDOWED);
    let o = run_json(&h, &s, &[]);
    assert_code(&o, 0);
    assert_eq!(json(&o)["result"], "passed");
    assert_eq!(writes(&h).len(), 1);
    assert_eq!(last_run(&h).0["outside_window_reason"], Value::Null);
}

// ---------------------------------------------------------------------------------------------
// Read-only and the blast radius

#[test]
fn read_only_refuses_writes_and_allows_reads() {
    let h = demo();
    let s = script(
        &h,
        "ro.rhai",
        r#"
let n = zoom::number("+13126170001");
print(`held by ${n.assignee.id}`);
zoom::unassign_number("alice@jpmc.example", "+13126170001");
"#,
    );
    let o = run(&h, &s, &["--read-only"]);
    assert_code(&o, 3);
    assert_mentions(
        &stderr(&o),
        &[
            "held by user-alice",
            "read-only mode",
            "zoom::unassign_number",
            "+13126170001",
        ],
    );
    assert!(writes(&h).is_empty());
    assert_eq!(assignee(&h, "+13126170001").as_deref(), Some("user-alice"));
    let (run_row, jw) = last_run(&h);
    assert_eq!(run_row["mode"], "read-only");
    assert_eq!(jw[0]["outcome"], "refused");

    let reads = script(
        &h,
        "reads.rhai",
        r#"zoom::number("+13126170002").assignee.id"#,
    );
    let o = run_json(&h, &reads, &["--read-only"]);
    assert_code(&o, 0);
    assert_eq!(json(&o)["result"], "user-bob");
}

#[test]
fn max_changes_stops_a_runaway_loop_in_the_plan_before_any_write() {
    let h = demo();
    let s = script(
        &h,
        "runaway.rhai",
        r#"
loop {
    zoom::unassign_number("alice@jpmc.example", "+13126170001");
    zoom::assign_number("alice@jpmc.example", "+13126170001");
}
"#,
    );
    let o = run(&h, &s, &["--max-changes", "3"]);
    assert_code(&o, 3);
    assert_mentions(
        &stderr(&o),
        &["max_changes = 3", "change 4", "--max-changes"],
    );
    // The plan pass stops at the cap: nothing reaches the service.
    let w = writes(&h);
    assert_eq!(w.len(), 0, "{w:?}");
    assert_mentions(&stderr(&o), &["nothing was sent"]);
    let (run_row, jw) = last_run(&h);
    assert_eq!(run_row["outcome"], "refused");
    let outcomes: Vec<_> = jw.iter().map(|w| w["outcome"].clone()).collect();
    assert_eq!(outcomes, ["refused", "refused", "refused"]);
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn a_caught_api_error_carries_its_code_and_an_uncaught_one_names_service_op_target_and_next_step() {
    let h = demo();
    let s = script(
        &h,
        "caught.rhai",
        r#"
let r = ();
try {
    zoom::user("nobody@x.example");
} catch (e) {
    r = #{code: e.code, service: e.service, status: e.status, target: e.target, retryable: e.retryable};
}
r
"#,
    );
    let o = run_json(&h, &s, &[]);
    assert_code(&o, 0);
    let r = &json(&o)["result"];
    assert_eq!(r["code"], 1001, "{r}");
    assert_eq!(r["service"], "zoom");
    assert_eq!(r["status"], 404);
    assert_eq!(r["target"], "nobody@x.example");
    assert_eq!(r["retryable"], false);

    let s = script(
        &h,
        "uncaught.rhai",
        "let x = 1;\nzoom::user(\"nobody@x.example\")\n",
    );
    let o = run(&h, &s, &[]);
    assert_code(&o, 1);
    assert_mentions(
        &stderr(&o),
        &["zoom", "user", "nobody@x.example", "1001", "Next:"],
    );
    assert_eq!(last_run(&h).0["outcome"], "failed");
}

#[test]
fn script_errors_show_file_line_and_column_and_check_reports_them_without_running() {
    let h = demo();
    let s = script(
        &h,
        "my.rhai",
        "let a = 1;\nlet b = 2;\nthrow \"x marks the spot\";\n",
    );
    let o = run(&h, &s, &[]);
    assert_code(&o, 1);
    assert_mentions(
        &stderr(&o),
        &["my.rhai", "x marks the spot", "line 3, column 1"],
    );

    let s = script(
        &h,
        "rt.rhai",
        "fn half(x) {\n    x / \"two\"\n}\nlet a = 1;\nhalf(a)\n",
    );
    let o = run(&h, &s, &[]);
    assert_code(&o, 1);
    assert_mentions(&stderr(&o), &["rt.rhai", "line 2"]);

    let s = script(
        &h,
        "typo.rhai",
        "let a = 1;\nlet b = 2;\nlet c = a + nope;\n",
    );
    let o = h.run(&["check", &s]);
    assert_code(&o, 2);
    assert_mentions(
        &both(&o),
        &[
            "typo.rhai",
            "Undefined variable: nope",
            "line 3",
            "position 13",
        ],
    );
    // `vline run` refuses it the same way, before the journal or the sandbox is touched.
    let before = journal_runs(&h);
    let o = run(&h, &s, &[]);
    assert_code(&o, 2);
    assert_mentions(&stderr(&o), &["nope", "line 3"]);
    assert_eq!(journal_runs(&h), before);

    let ok = script(
        &h,
        "fine.rhai",
        "let a = zoom::number(\"+13126170001\");\na\n",
    );
    assert_code(&h.run(&["check", &ok]), 0);
    assert!(writes(&h).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Docs, help and parameters

#[test]
fn doc_prints_signature_impact_and_doc_and_refuses_unknown_names() {
    let h = Home::new();
    let o = h.run(&["doc", "zoom::assign_number"]);
    assert_code(&o, 0);
    assert_mentions(
        &stdout(&o),
        &[
            "zoom::assign_number(user: string, number: string|map|array) -> array",
            "impact: write",
            "Assign up to 10 numbers",
            "Example:",
        ],
    );
    let o = h.run(&["doc", "movius::delete_account"]);
    assert_code(&o, 0);
    assert_mentions(&stdout(&o), &["impact: irreversible"]);
    let o = h.run(&["doc", "nope"]);
    assert_code(&o, 2);
    assert_mentions(&stderr(&o), &["no function or module 'nope'", "zoom"]);
}

#[test]
fn run_help_lists_parameters_and_bad_parameters_are_refused_before_the_script_runs() {
    let h = demo();
    let o = h.run(&["run", "onboard-new-user", "--help"]);
    assert_code(&o, 0);
    assert_mentions(
        &stdout(&o),
        &["phone_number", "e164", "required", "user", "email", "org"],
    );

    let o = h.run(&["run", "onboard-new-user"]);
    assert_code(&o, 2);
    assert_mentions(
        &stderr(&o),
        &[
            "2 problem(s)",
            "missing required parameter phone_number",
            "missing required parameter user",
        ],
    );
    let o = h.run(&[
        "run",
        "onboard-new-user",
        "phone_number=12ab",
        "user=not-an-email",
        "colour=red",
        "--yes",
    ]);
    assert_code(&o, 2);
    assert_mentions(
        &stderr(&o),
        &[
            "3 problem(s)",
            "phone_number: '12ab' contains 'a', which is not part of a phone number",
            "user=\"not-an-email\": is not an email address (no @)",
            "unknown parameter 'colour'",
            "nothing was run",
        ],
    );
    assert!(writes(&h).is_empty());
    assert_eq!(journal_runs(&h), 0);

    // Parameters reach the script as typed constants.
    let s = script(
        &h,
        "typed.rhai",
        "//! title: typed\n//! param: n e164 required A number\n//! param: count int optional=2 How many\n//! param: loud bool optional Shout\n#{n: n, count: count + 1, loud: loud, types: [type_of(n), type_of(count), type_of(loud)]}\n",
    );
    let o = run_json(&h, &s, &["n=1 (312) 617-0001", "loud=yes"]);
    assert_code(&o, 0);
    let r = &json(&o)["result"];
    assert_eq!(r["n"], "+13126170001", "{r}");
    assert_eq!(r["count"], 3);
    assert_eq!(r["loud"], true);
    assert_eq!(r["types"], serde_json::json!(["string", "i64", "bool"]));
    let o = run(&h, &s, &["n=x", "count=many"]);
    assert_code(&o, 2);
    assert_mentions(
        &stderr(&o),
        &["2 problem(s)", "n: 'x' contains 'x'", "count=\"many\""],
    );
}

// ---------------------------------------------------------------------------------------------
// No file access

// ---------------------------------------------------------------------------------------------
// Output

#[test]
fn results_print_as_tables_for_people_and_as_json_with_run_outcome_result_plan_error() {
    let h = demo();
    let s = script(
        &h,
        "list.rhai",
        "zoom::numbers(#{type: \"assigned\"})\n    .map(|n| #{number: n.number, assignee: #{id: n.assignee.id, name: n.assignee.name}})\n",
    );
    let o = run(&h, &s, &[]);
    assert_code(&o, 0);
    let out = stdout(&o);
    assert_mentions(
        &out,
        &[
            "number",
            "assignee.id",
            "+13126170001",
            "user-alice",
            "│",
            "row(s)",
        ],
    );

    let o = run_json(&h, &s, &[]);
    assert_code(&o, 0);
    let v = json(&o);
    let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["error", "outcome", "plan", "result", "run"]);
    assert_eq!(v["outcome"], "done");
    assert_eq!(v["error"], Value::Null);
    assert_eq!(v["plan"], serde_json::json!([]));
    let rows = v["result"].as_array().unwrap();
    assert!(rows
        .iter()
        .any(|r| r["number"] == "+13126170001" && r["assignee"]["id"] == "user-alice"));
    let run_id = v["run"].as_str().unwrap().to_string();
    let o = h.run(&["journal", "show", &run_id, "--json"]);
    assert_code(&o, 0);
    assert_eq!(json(&o)["run"]["script"], s.as_str());

    // A failure in --json still prints the object, with the error, and exits 1.
    let s = script(&h, "fails.rhai", "throw \"stop here\";\n");
    let o = run_json(&h, &s, &[]);
    assert_code(&o, 1);
    let v = json(&o);
    assert_eq!(v["outcome"], "failed");
    assert_eq!(v["result"], Value::Null);
    assert_mentions(v["error"].as_str().unwrap(), &["stop here", "line 1"]);
}

// ---------------------------------------------------------------------------------------------
// Benchmark

#[test]
fn bench_host_reports_direct_and_script_time_per_call_and_their_ratio() {
    let h = Home::new();
    let o = h.run(&["--json", "bench", "host", "--calls", "50"]);
    assert_code(&o, 0);
    let v = json(&o);
    assert_eq!(v["calls"], 50);
    for k in [
        "direct_us_per_call",
        "script_us_per_call",
        "overhead_ratio",
        "convert_us_per_call",
        "interpreter_us_per_call",
    ] {
        let x = v[k].as_f64().unwrap_or(-1.0);
        assert!(x > 0.0, "{k} = {x} in {v}");
    }
    assert_eq!(
        v["direct_rounds_us"].as_array().map(Vec::len),
        v["rounds"].as_u64().map(|n| n as usize)
    );

    let o = h.run(&["bench", "host", "--calls", "5"]);
    assert_code(&o, 0);
    let last = stdout(&o).lines().last().unwrap_or_default().to_string();
    assert!(
        last.starts_with("calls=5 direct_us_per_call=") && last.contains(" overhead_ratio="),
        "{last}"
    );
    assert_code(&h.run(&["bench", "host", "--calls", "0"]), 2);
}

#[test]
fn run_and_bulk_help_teach_with_examples() {
    let h = Home::new();
    for cmd in [&["run", "--help"][..], &["bulk", "--help"][..]] {
        let o = h.run(cmd);
        assert_code(&o, 0);
        let out = stdout(&o);
        assert!(
            out.contains("Examples:") && out.contains("onboard-new-user"),
            "{cmd:?}: {out}"
        );
    }
}
