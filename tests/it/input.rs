//! Never the wrong number, every input bounded (issue 14): what an operator sees when a number,
//! an email or a CSV cell is wrong, through the real binary, and the sandbox's request log that
//! shows nothing was sent. Also: runaway scripts, `--json` errors, a closed stdout.

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{assert_code, demo, json, stderr, stdout, Home};

/// Every request the sandbox received (reads too).
fn requests(h: &Home) -> Vec<serde_json::Value> {
    let o = h.run(&["sandbox", "log", "--json"]);
    assert_code(&o, 0);
    json(&o).as_array().cloned().unwrap_or_default()
}

/// A sandbox profile whose national numbers are US numbers.
fn with_region(h: &Home, region: &str) {
    h.file(
        "config.toml",
        &format!("[profiles.sandbox]\nkind = \"sandbox\"\nmovius_org = \"org-zoom\"\ndefault_region = \"{region}\"\n"),
    );
}

const NATIONAL: [&str; 3] = ["(312) 617-0100", "312-617-0100", "3126170100"];

#[test]
fn national_forms_are_refused_without_a_region_and_are_us_numbers_with_one() {
    let h = demo();
    for n in NATIONAL {
        let o = h.run(&[
            "run",
            "onboard-new-user",
            &format!("phone_number={n}"),
            "user=carol@jpmc.example",
            "--yes",
        ]);
        assert_code(&o, 2);
        assert_eq!(
            stderr(&o),
            format!("error: onboard-new-user: 1 problem(s) with the parameters, nothing was run:\n  - phone_number: '{n}' has no country code: did you mean +13126170100? set default_region = \"US\" in the profile, or write the number with + and its country code\n(see `vline run onboard-new-user --help`)\n"),
        );
    }
    // `vline call` reads its arguments by the same rules.
    let o = h.run(&["call", "movius", "account", "phone_number=(312) 617-0001"]);
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("'(312) 617-0001' has no country code: did you mean +13126170001?"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        requests(&h),
        Vec::<serde_json::Value>::new(),
        "nothing was sent"
    );

    // A script's e164::parse follows the same rules.
    let p = h.file("parse.rhai", "e164::parse(\"(312) 617-0100\")");
    let o = h.cmd().arg("run").arg(&p).output().unwrap();
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("'(312) 617-0100' has no country code: did you mean +13126170100?"),
        "{}",
        stderr(&o)
    );

    with_region(&h, "US");
    let o = h.run(&[
        "--json",
        "call",
        "movius",
        "account",
        "phone_number=(312) 617-0001",
    ]);
    assert_code(&o, 0);
    assert_eq!(json(&o)["phone_number"], "13126170001", "{}", stdout(&o));
    let o = h.cmd().args(["--json", "run"]).arg(&p).output().unwrap();
    assert_code(&o, 0);
    assert_eq!(json(&o)["result"], "+13126170100");
    for n in NATIONAL {
        let o = h.run(&[
            "--json",
            "run",
            "onboard-new-user",
            &format!("phone_number={n}"),
            "user=carol@jpmc.example",
            "--dry-run",
        ]);
        assert_code(&o, 0);
        let plan = &json(&o)["plan"];
        assert_eq!(plan[0]["target"], "+13126170100 in org-zoom", "{plan}");
        assert_eq!(
            plan[1]["params"]["phone_numbers"][0]["number"],
            "+13126170100"
        );
    }
}

#[test]
fn wrong_lengths_and_letters_are_refused_in_run_bulk_and_preflight() {
    let h = demo();
    let bad = [
        ("+1312617011", "'+1312617011' is not a valid phone number: it has 9 digits after the country code +1; numbers of +1 (US) have 10"),
        ("+131261701150", "'+131261701150' is not a valid phone number: it has 11 digits after the country code +1; numbers of +1 (US) have 10"),
        ("+1312617O100", "'+1312617O100' contains 'O', which is not part of a phone number (digits, one leading +, spaces, dashes, dots and parentheses only)"),
    ];
    for (n, why) in bad {
        let o = h.run(&[
            "run",
            "onboard-new-user",
            &format!("phone_number={n}"),
            "user=carol@jpmc.example",
            "--yes",
        ]);
        assert_code(&o, 2);
        assert!(
            stderr(&o).contains(&format!("  - phone_number: {why}\n")),
            "{}",
            stderr(&o)
        );
    }
    // A blank line and a quoted two-line cell before the bad rows: lines are the file's own.
    let csv = h.file(
        "users.csv",
        "phone_number,user,note\n+13126170100,a@jpmc.example,\"two\nlines\"\n\n+1312617011,b@jpmc.example,\n+131261701150,c@jpmc.example,\n\n+1312617O100,d@jpmc.example,\n",
    );
    let want = format!(
        "  line 5: column phone_number: {}\n  line 6: column phone_number: {}\n  line 8: column phone_number: {}\n",
        bad[0].1, bad[1].1, bad[2].1
    );
    for extra in [&[][..], &["--preflight"][..]] {
        let mut args = vec![
            "bulk",
            "onboard-new-user",
            "--csv",
            csv.to_str().unwrap(),
            "--yes",
        ];
        args.extend_from_slice(extra);
        let o = h.run(&args);
        assert_code(&o, 2);
        assert!(stderr(&o).contains(&want), "{args:?}\n{}", stderr(&o));
    }
    assert_eq!(
        requests(&h),
        Vec::<serde_json::Value>::new(),
        "nothing was sent"
    );
}

#[test]
fn a_csv_with_a_nul_after_a_blank_line_or_a_huge_email_is_refused_whole_before_any_call() {
    let h = demo();
    let csv = h.file(
        "users.csv",
        "phone_number,user\n+13126170100,a@jpmc.example\n\n+13126170101,b\0@jpmc.example\n",
    );
    let o = onboard_all(&h, &csv);
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("the CSV was refused whole (1 problem(s)); nothing was sent:\n  line 4: column user=\"b\\0@jpmc.example\": contains the control character '\\0'; values are text on one line\n"),
        "{}",
        stderr(&o)
    );
    let huge = format!("{}@jpmc.example", "a".repeat(5 * 1024 * 1024));
    let csv = h.file(
        "big.csv",
        &format!("phone_number,user\n\n+13126170100,{huge}\n"),
    );
    let t0 = Instant::now();
    let o = onboard_all(&h, &csv);
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains(&format!("  line 3: column user=\"{}…\": is {} bytes long; an email address has at most 254 (RFC 5321)\n", "a".repeat(60), huge.len())),
        "{}",
        &stderr(&o)[..stderr(&o).len().min(2000)]
    );
    assert!(t0.elapsed() < Duration::from_secs(20));
    assert_eq!(
        requests(&h),
        Vec::<serde_json::Value>::new(),
        "nothing was sent"
    );
}

#[test]
fn a_bad_default_region_is_refused_and_a_good_one_is_shown() {
    let h = Home::new();
    with_region(&h, "USA");
    let o = h.run(&["config", "show"]);
    assert_code(&o, 2);
    assert_eq!(
        stderr(&o),
        format!("error: profile 'sandbox': default_region: 'USA' is not a region with phone numbers; use a two-letter country code such as \"US\" or \"GB\"\n")
    );
    with_region(&h, "gb");
    let o = h.run(&["config", "show"]);
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains("default_region      GB\n"),
        "{}",
        stdout(&o)
    );
}

fn script(h: &Home, src: &str, args: &[&str]) -> std::process::Output {
    let p = h.file("s.rhai", src);
    h.cmd().arg("run").arg(&p).args(args).output().unwrap()
}

#[test]
fn runaway_scripts_and_huge_allocations_stop_with_one_line_and_the_process_survives() {
    let h = demo();
    let cases: [(&str, &[&str], &str); 5] = [
        (
            "let a = []; a.pad(2000000000, 0); a.len()",
            &[],
            "the script was stopped: pad(2000000000) of an array would allocate 29.8 GiB, more than the",
        ),
        (
            "let s = \"x\"; s.pad(2000000000, \"ab\"); s.len()",
            &[],
            "the script was stopped: pad(2000000000) of a string would allocate 1.9 GiB",
        ),
        (
            "let b = blob(3000000000); b.len()",
            &[],
            "the script was stopped: blob(3000000000) would allocate 2.8 GiB",
        ),
        (
            "loop { zoom::numbers(#{type: \"unassigned\"}); }",
            &["--max-calls", "20"],
            "the run was stopped after 20 service calls, its limit (max_calls); if that many are right, raise it with --max-calls N or max_calls in the profile",
        ),
        (
            // Catching the refusal does not keep it going: the engine stops it.
            "loop { try { zoom::numbers(#{type: \"unassigned\"}); } catch {} }",
            &["--max-run-secs", "2"],
            "the run was stopped after 2 s, its wall-clock limit (max_run_secs); if it needs longer, raise it with --max-run-secs N or max_run_secs in the profile",
        ),
    ];
    for (src, args, want) in cases {
        let t0 = Instant::now();
        let o = script(&h, src, args);
        assert_code(&o, 1);
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "one line: {e}");
        assert!(e.starts_with("error: ") && e.contains(want), "{src}: {e}");
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "{src}: {:?}",
            t0.elapsed()
        );
    }
}

#[test]
fn with_json_a_failing_command_prints_one_error_object_on_stdout() {
    let h = demo();
    let o = h.run(&[
        "--json",
        "run",
        "onboard-new-user",
        "phone_number=312-617-0100",
        "user=carol@jpmc.example",
    ]);
    assert_code(&o, 2);
    let e = &json(&o)["error"];
    assert_eq!(e["kind"], "usage");
    assert_eq!(e["exit_code"], 2);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("did you mean +13126170100?"),
        "{e}"
    );
    assert_eq!(
        e["next"],
        "fix the command line or the input as the message says and run again; nothing was sent"
    );
    // So does a command line clap refuses.
    let o = h.run(&["--json", "run", "--nope"]);
    assert_code(&o, 2);
    let e = &json(&o)["error"];
    assert_eq!(e["kind"], "usage");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("error: unexpected argument '--nope' found"),
        "{e}"
    );
    // A command that printed its own document adds no second one.
    let p = h.file("fail.rhai", "throw \"no\";");
    let o = h.cmd().args(["--json", "run"]).arg(&p).output().unwrap();
    assert_code(&o, 1);
    assert_eq!(json(&o)["outcome"], "failed");
}

#[test]
fn a_closed_stdout_ends_a_command_quietly() {
    let h = demo();
    assert_code(
        &h.run(&[
            "run",
            "onboard-new-user",
            "phone_number=+13126170100",
            "user=carol@jpmc.example",
            "--dry-run",
        ]),
        0,
    );
    for args in [
        &["procedures"][..],
        &["journal", "show", "r1"][..],
        &["doc"][..],
    ] {
        let mut child = h
            .cmd()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the command writes (`| head -0`).
        drop(child.stdout.take());
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(
            matches!(status.code(), Some(0) | Some(141)),
            "{args:?}: {status:?}\n{err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// `vline bulk onboard-new-user --csv FILE --yes`.
fn onboard_all(h: &Home, csv: &std::path::Path) -> std::process::Output {
    h.run(&[
        "bulk",
        "onboard-new-user",
        "--csv",
        csv.to_str().unwrap(),
        "--yes",
    ])
}

/// The results file names each row by the line an editor shows: blank lines and a line break
/// inside a quoted cell counted, as the refusal of a bad file does.
#[test]
fn results_name_each_row_by_its_physical_line() {
    let h = demo();
    let csv = h.file(
        "u.csv",
        "phone_number,user,note\n\n+13126170100,nobody@jpmc.example,first\n\n\n+13126170101,none@jpmc.example,\"two\nlines\"\n",
    );
    let o = onboard_all(&h, &csv);
    assert_code(&o, 1);
    let results = std::fs::read_to_string(h.path().join("u.results-r1.csv")).unwrap();
    let mut rd = csv::Reader::from_reader(results.as_bytes());
    let head = rd.headers().unwrap().clone();
    let at = head.iter().position(|c| c == "line").unwrap();
    let lines: Vec<(String, String)> = rd
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[at].to_string())
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("+13126170100".to_string(), "3".to_string()),
            ("+13126170101".to_string(), "6".to_string())
        ]
    );
}

/// A script run from the REPL (`:run`) reads national forms by the profile's region, as the REPL
/// itself and `vline run` do.
#[test]
fn the_repls_run_reads_numbers_by_the_profiles_region() {
    let h = demo();
    with_region(&h, "US");
    let script = h.file("p.rhai", "print(e164::parse(\"(312) 617-0104\"));\n");
    let mut child = h
        .cmd()
        .arg("repl")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        format!(":run {}\n", script.display()).as_bytes(),
    )
    .unwrap();
    let o = child.wait_with_output().unwrap();
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(all.contains("+13126170104"), "{all}");
    assert!(!all.contains("has no country code"), "{all}");
}
