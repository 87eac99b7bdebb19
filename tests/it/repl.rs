//! `vline repl` driven through a pseudo-terminal, as an operator types into it.
//!
//! rustyline redraws the whole line (prompt included) on every key, so a bare prompt is not a
//! sign that a line was evaluated: each step waits for output that only the evaluation prints.

use std::process::Stdio;
use std::time::{Duration, Instant};

use rexpect::reader::Options;
use rexpect::session::{spawn_with_options, PtySession};

use crate::support::{assert_code, demo, json, Home};

const TIMEOUT_MS: u64 = 10_000;

/// `vline repl ARGS…` on a pty; returns once the first (read-only) prompt is drawn, with the
/// time it took.
fn repl(home: &Home, args: &[&str]) -> (PtySession, Duration) {
    let mut cmd = home.cmd();
    // The pty's slave is the child's stdin; `Home::cmd` would point it at /dev/null.
    cmd.stdin(Stdio::inherit())
        .env("COLUMNS", "200")
        .env("TERM", "xterm")
        .arg("repl")
        .args(args);
    let started = Instant::now();
    let mut p = spawn_with_options(
        cmd,
        Options::new()
            .timeout_ms(Some(TIMEOUT_MS))
            .strip_ansi_escape_codes(false),
    )
    .expect("spawn vline repl on a pty");
    p.exp_string("sandbox ro> ").expect("the first prompt");
    (p, started.elapsed())
}

/// Expect `needle` (ASCII); returns the output before it, showing what came instead on failure.
#[track_caller]
fn expect(p: &mut PtySession, needle: &str) -> String {
    match p.exp_string(needle) {
        Ok(before) => utf8(&before),
        Err(e) => panic!("expected {needle:?}: {e}"),
    }
}

/// rexpect reads bytes as one char each; put the UTF-8 (table borders, arrows) back together.
fn utf8(s: &str) -> String {
    let bytes: Vec<u8> = s.chars().map(|c| c as u32 as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Ctrl-C at the prompt: the line is dropped (with any keys typed ahead), a fresh prompt comes.
fn cancel_line(p: &mut PtySession) {
    p.send_control('c').expect("Ctrl-C");
    if let Err(e) = p.exp_regex("\n[^\n]*sandbox r[ow]> ") {
        panic!("no fresh prompt after Ctrl-C: {e}");
    }
}

/// Type keys without Enter.
fn send(p: &mut PtySession, keys: &str) {
    p.send(keys).expect("send keys");
    p.flush().expect("flush keys");
}

fn leave(mut p: PtySession) -> String {
    p.send_control('d').expect("Ctrl-D");
    let rest = p.exp_eof().expect("the REPL leaves on Ctrl-D");
    assert!(rest.contains("bye: journal run"), "{rest}");
    rest
}

#[test]
fn completes_hints_takes_multi_line_functions_and_prints_tables() {
    let home = demo();
    let (mut p, startup) = repl(&home, &[]);
    // rexpect polls the pty every 100 ms, so this is an upper bound at that resolution.
    eprintln!(
        "repl: at most {} ms from spawn to the first prompt (debug build)",
        startup.as_millis()
    );

    // Tab completes what the candidates share, a second Tab lists them all; the hint shows
    // the signature once the call is open.
    send(&mut p, "zoom::as\t");
    expect(&mut p, "zoom::assign_");
    send(&mut p, "\t");
    let listed = expect(&mut p, "assign_device");
    assert!(
        listed.ends_with("\r\nassign_number        assign_calling_plan  "),
        "{listed:?}"
    );
    send(&mut p, "n\t");
    expect(&mut p, "zoom::assign_number");
    send(&mut p, "(");
    expect(&mut p, "(user: string, number: string|map|array) -> array");
    // Ctrl-C on a partial line drops the line, not the REPL.
    cancel_line(&mut p);

    // A function defined over three lines, then called from the next entry.
    p.send_line("fn twice(x) {").unwrap();
    p.send_line("  x * 2").unwrap();
    p.send_line("}").unwrap();
    p.send_line("let answer = twice(21);").unwrap();
    p.send_line("answer + 0").unwrap();
    expect(&mut p, "\r\n42\r\n");
    // :vars shows what is in scope: name, type, value; and the functions defined.
    p.send_line(":vars").unwrap();
    let vars = expect(&mut p, "functions: twice(x)");
    assert!(vars.contains("│ answer   ┆ i64  ┆ 42    │"), "{vars:?}");

    // Fields of a map held in scope complete.
    p.send_line("let acct = movius::account(\"+13126170001\");")
        .unwrap();
    p.send_line("\"loaded\"").unwrap();
    expect(&mut p, "\r\nloaded\r\n");
    send(&mut p, "acct.enable_z\t");
    expect(&mut p, "acct.enable_zoom");
    cancel_line(&mut p);

    // An array of maps prints as a table.
    p.send_line("zoom::numbers(#{type: \"unassigned\"})")
        .unwrap();
    let table = expect(&mut p, "row(s)");
    assert!(
        table.contains("│ number       ┆"),
        "a column header: {table}"
    );
    assert!(table.contains("│ +13126170003 ┆"), "{table}");
    assert!(table.contains("╞═"), "a table border: {table}");

    // :json on prints JSON; :help shows signature, impact and doc.
    p.send_line(":json on").unwrap();
    p.send_line("zoom::number(\"+13126170003\")").unwrap();
    expect(&mut p, "\"number\": \"+13126170003\"");
    p.send_line(":help zoom::assign_number").unwrap();
    expect(&mut p, "impact: write");
    p.send_line(":procs").unwrap();
    expect(&mut p, "onboard-new-user");
    p.send_line("nosuch::thing()").unwrap();
    expect(&mut p, "error: ");
    p.send_line("1 + 1").unwrap();
    expect(&mut p, "\r\n2\r\n");
    leave(p);
}

#[test]
fn writes_are_refused_until_write_on_and_irreversible_ones_ask() {
    let home = demo();
    let (mut p, _) = repl(&home, &[]);
    let assign = "zoom::assign_number(\"carol@jpmc.example\", \"+13126170003\")";
    p.send_line(assign).unwrap();
    let refused = expect(&mut p, "`:write on`");
    assert!(refused.contains("refused: read-only mode"), "{refused}");

    p.send_line(":write on").unwrap();
    expect(&mut p, "writes on:");
    expect(&mut p, "sandbox rw> ");
    p.send_line(assign).unwrap();
    expect(&mut p, "1 row(s)");

    // Irreversible: the question names the target; no is a refusal, yes sends it.
    let delete = "movius::delete_account(\"org-zoom\", \"+13126170004\")";
    p.send_line(delete).unwrap();
    expect(&mut p, "IRREVERSIBLE: movius::delete_account");
    expect(&mut p, "Target: +13126170004 in org-zoom");
    expect(&mut p, "[y/N] ");
    p.send_line("n").unwrap();
    expect(&mut p, "refused: the operator declined");
    p.send_line(delete).unwrap();
    expect(&mut p, "[y/N] ");
    p.send_line("y").unwrap();
    expect(&mut p, "AC13126170004");

    p.send_line(":journal").unwrap();
    expect(&mut p, "(repl, started");
    let bye = leave(p);
    assert!(bye.contains("2 change(s) sent"), "{bye}");

    let out = home.run(&["journal", "show", "r1", "--json"]);
    assert_code(&out, 0);
    let shown = json(&out).to_string();
    for want in [
        "\"mode\":\"repl\"",
        "\"outcome\":\"refused\"",
        "\"outcome\":\"sent\"",
        "movius::delete_account",
    ] {
        assert!(shown.contains(want), "{want} not in {shown}");
    }
}

#[test]
fn history_survives_a_restart() {
    let home = demo();
    let (mut p, _) = repl(&home, &[]);
    p.send_line("40 + 2").unwrap();
    expect(&mut p, "\r\n42\r\n");
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
    let saved = std::fs::read_to_string(home.path().join("repl_history")).expect("history file");
    assert!(saved.contains("40 + 2"), "{saved}");

    let (mut p, _) = repl(&home, &[]);
    // Up twice: `:quit`, then `40 + 2` from the previous session.
    send(&mut p, "\x1b[A\x1b[A\r");
    expect(&mut p, "\r\n42\r\n");
    leave(p);
}

#[test]
fn ctrl_c_stops_a_slow_call_and_the_repl_goes_on() {
    let home = demo();
    assert_code(
        &home.run(&["sandbox", "fault", "set", "--latency", "zoom=3000ms"]),
        0,
    );
    let (mut p, _) = repl(&home, &[]);
    p.send_line("let n = zoom::numbers();").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let pressed = Instant::now();
    p.send_control('c').unwrap();
    expect(&mut p, "interrupted: back to the prompt");
    expect(&mut p, "sandbox ro> ");
    let back = pressed.elapsed();
    // The HTTP request in flight cannot be cut (the transport blocks); the next evaluation
    // waits for it to return, meta-commands do not.
    p.send_line(":profile").unwrap();
    expect(&mut p, "max changes");
    p.send_line("1 + 1").unwrap();
    p.exp_string("\r\n2\r\n")
        .expect("the REPL still evaluates after the interrupted call returns");
    // Measured in this run: the prompt came back well before the call it left behind returned.
    let call_returned = pressed.elapsed();
    assert!(
        back * 2 < call_returned,
        "the prompt took {back:?} to come back; the call returned after {call_returned:?}"
    );
    leave(p);
}

#[test]
fn exit_and_quit_leave_as_in_any_console() {
    let home = demo();
    for word in ["exit", "quit"] {
        let (mut p, _) = repl(&home, &[]);
        p.send_line(word).unwrap();
        p.exp_eof()
            .unwrap_or_else(|e| panic!("`{word}` did not leave: {e}"));
    }
}
