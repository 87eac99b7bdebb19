//! What a person reads: snapshots (insta) of the human output at 80 and 160 columns. Run ids,
//! times, durations, digests, the host and the temporary home are masked to the same width, so
//! tables keep their shape and the snapshots do not move from one run to the next.

use std::process::Output;

use crate::support::{assert_code, demo, stderr, stdout, Home};

/// Same-width masks for what changes between runs.
fn mask(text: &str, h: &Home) -> String {
    let home = h.path().display().to_string();
    let mut s = text.replace(&home, "[HOME]");
    let host = vline::cmd::setup::hostname();
    let rules: &[(&str, char)] = &[
        // 2026-12-02, 00:10:12Z, 00:10:12.123Z
        (r"\d{4}-\d{2}-\d{2}", 'D'),
        (r"\d{2}:\d{2}:\d{2}(\.\d+)?Z", 'T'),
        (r"[0-9a-f]{64}", 'h'),
    ];
    for (re, c) in rules {
        let re = regex::Regex::new(re).unwrap();
        s = re
            .replace_all(&s, |m: &regex::Captures| {
                m[0].chars().map(|_| *c).collect::<String>()
            })
            .into_owned();
    }
    // A run's rate varies in width (9.5, 10.9): it is prose, masked whole.
    let rate = regex::Regex::new(r"\d+(\.\d+)? rows/s").unwrap();
    s = rate.replace_all(&s, "R rows/s").into_owned();
    // Pre-flight's estimate adds what it measured (latencies, a dry-run row's time): its
    // figures are masked, the client's pace and the bound (counted calls) are not.
    for re in [
        r"()\d+(\.\d+)?(\s+s\s+estimated)",
        r"(\+\s+)\d+(\.\d+)?(\s+s\s+ramp-up)",
    ] {
        let re = regex::Regex::new(re).unwrap();
        s = re.replace_all(&s, "${1}E${3}").into_owned();
    }
    // The journal's `duration_ms` cells: the number after a time cell (its header is wider
    // than any duration, so the column keeps its width).
    let ms = regex::Regex::new(r"(T ┆ )(\d+ +)(┆)").unwrap();
    s = ms
        .replace_all(&s, |m: &regex::Captures| {
            let cell = m[2].chars().count();
            format!("{}m{}{}", &m[1], " ".repeat(cell - 1), &m[3])
        })
        .into_owned();
    if !host.is_empty() {
        s = s.replace(&format!("@{host}"), "@[HOST]");
    }
    s
}

/// `vline ARGS…` at `width` columns, as the person reads it: stdout, then stderr.
/// It runs in the home directory, so a file is named as an operator types it (and a message
/// that names it wraps the same wherever the temporary directory is).
fn at(h: &Home, width: u16, args: &[&str]) -> Output {
    h.cmd()
        .current_dir(h.path())
        .env("COLUMNS", width.to_string())
        .env("VLINE_OPERATOR", "alice")
        .args(args)
        .output()
        .expect("run vline")
}

fn screen(h: &Home, o: &Output) -> String {
    let err = stderr(o);
    let mut s = stdout(o);
    if !err.is_empty() {
        s.push_str("--- stderr\n");
        s.push_str(&err);
    }
    mask(&s, h)
}

/// Carol's onboarding, approved up front.
const ONBOARD: [&str; 5] = [
    "run",
    "onboard-new-user",
    "phone_number=+13126170100",
    "user=carol@jpmc.example",
    "--yes",
];

/// Every line fits `width`.
#[track_caller]
fn fits(s: &str, width: usize) {
    for line in s.lines() {
        assert!(line.chars().count() <= width, "over {width}: {line:?}\n{s}");
    }
}

#[test]
fn procedures_fit_80_and_160() {
    let h = Home::new();
    for w in [80u16, 160] {
        let o = at(&h, w, &["procedures"]);
        assert_code(&o, 0);
        fits(&stdout(&o), w.into());
        insta::assert_snapshot!(format!("procedures_{w}"), screen(&h, &o));
    }
}

#[test]
fn call_zoom_numbers_fits_and_keeps_every_number_whole() {
    let h = demo();
    for w in [80u16, 160] {
        let o = at(&h, w, &["call", "zoom", "numbers", "type=all"]);
        assert_code(&o, 0);
        let out = stdout(&o);
        fits(&out, w.into());
        for n in ["+13126170001", "+13125550100", "+18885550103"] {
            assert!(out.contains(&format!("│ {n} ┆")), "{n} whole:\n{out}");
        }
        insta::assert_snapshot!(format!("call_zoom_numbers_{w}"), screen(&h, &o));
    }
}

#[test]
fn run_done_already_done_and_refused() {
    let h = demo();
    let o = at(&h, 80, &ONBOARD);
    assert_code(&o, 0);
    fits(&stdout(&o), 80);
    insta::assert_snapshot!("run_done_80", screen(&h, &o));
    let o = at(&h, 160, &ONBOARD);
    assert_code(&o, 0);
    insta::assert_snapshot!("run_already_done_160", screen(&h, &o));
    // Irreversible, no terminal, no --yes: refused before anything is sent.
    let o = at(
        &h,
        80,
        &["run", "offboard-number", "phone_number=+13126170001"],
    );
    assert_code(&o, 3);
    insta::assert_snapshot!("run_refused_80", screen(&h, &o));

    for w in [80u16, 160] {
        let o = at(&h, w, &["journal", "list"]);
        assert_code(&o, 0);
        fits(&stdout(&o), w.into());
        insta::assert_snapshot!(format!("journal_list_{w}"), screen(&h, &o));
        let o = at(&h, w, &["journal", "show", "r1"]);
        assert_code(&o, 0);
        insta::assert_snapshot!(format!("journal_show_{w}"), screen(&h, &o));
    }
}

#[test]
fn bulk_summary_and_preflight() {
    let h = demo();
    h.file(
        "in.csv",
        "phone_number,user\n+13126170100,carol@jpmc.example\n+13126170110,nobody@jpmc.example\n",
    );
    let file = "in.csv";
    for w in [80u16, 160] {
        let o = at(
            &h,
            w,
            &["bulk", "onboard-new-user", "--csv", file, "--preflight"],
        );
        assert_code(&o, 3);
        fits(&stdout(&o), w.into());
        insta::assert_snapshot!(format!("preflight_{w}"), screen(&h, &o));
    }
    let o = at(
        &h,
        80,
        &["bulk", "onboard-new-user", "--csv", file, "--yes"],
    );
    assert_code(&o, 1);
    insta::assert_snapshot!("bulk_summary_80", screen(&h, &o));
}

/// `vline ARGS…` on a pseudo-terminal (stdout and stderr a terminal); everything it printed.
fn on_a_terminal(h: &Home, env: &[(&str, &str)], args: &[&str]) -> String {
    let mut cmd = h.cmd();
    cmd.stdin(std::process::Stdio::inherit())
        .env("TERM", "xterm")
        .env("COLUMNS", "120")
        .env_remove("NO_COLOR")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut p = rexpect::session::spawn_with_options(
        cmd,
        rexpect::reader::Options::new().timeout_ms(Some(20_000)),
    )
    .expect("spawn vline on a pty");
    p.exp_eof().expect("vline ends")
}

/// comfy-table's green (done), and the yellow and red vline paints.
const GREEN_CELL: &str = "\x1b[38;5;10m";
const YELLOW: &str = "\x1b[33m";

#[test]
fn colour_means_done_refused_irreversible_on_a_terminal_only() {
    let h = demo();
    assert_code(&h.run(&ONBOARD), 0);
    // A terminal: done is green in the table, a refusal's error yellow.
    let shown = on_a_terminal(&h, &[], &["journal", "list"]);
    assert!(shown.contains(&format!("{GREEN_CELL} done ")), "{shown:?}");
    // NO_COLOR and --color never: none.
    let shown = on_a_terminal(&h, &[("NO_COLOR", "1")], &["journal", "list"]);
    assert!(!shown.contains('\x1b'), "{shown:?}");
    let shown = on_a_terminal(&h, &[], &["--color", "never", "journal", "list"]);
    assert!(!shown.contains('\x1b'), "{shown:?}");

    // A pipe: none, even without NO_COLOR.
    let o = h
        .cmd()
        .env_remove("NO_COLOR")
        .args(["run", "offboard-number", "phone_number=+13126170001"])
        .output()
        .unwrap();
    assert_code(&o, 3);
    assert!(!stderr(&o).contains('\x1b'), "{}", stderr(&o));
    // --color always colours a pipe (for `less -R`): the refusal yellow, the irreversible
    // write red, a done run green.
    let o = h.run(&[
        "--color",
        "always",
        "run",
        "offboard-number",
        "phone_number=+13126170001",
    ]);
    assert_code(&o, 3);
    let err = stderr(&o);
    assert!(
        err.contains(&format!("{YELLOW}error\x1b[0m: refused:")),
        "{err:?}"
    );
    assert!(err.contains("\x1b[1;31mIRREVERSIBLE\x1b[0m"), "{err:?}");
    let o = h.run(&[&["--color", "always"][..], &ONBOARD[..]].concat());
    assert_code(&o, 0);
    assert!(
        stderr(&o).contains("\x1b[32mdone\x1b[0m: run r"),
        "{}",
        stderr(&o)
    );
}
