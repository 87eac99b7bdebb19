//! `bulk::map(rows, fn, #{concurrency})`: a script function over rows on worker threads, with the
//! run's guardrails, results in input order.

use std::time::Instant;

use serde_json::{json, Value};

use crate::support::{assert_code, demo, json, stderr, writes};

const ROWS: &str = r#"[#{email: "alice@jpmc.example"}, #{email: "bob@jpmc.example"}, #{email: "nobody@jpmc.example"}, #{email: "carol@jpmc.example"}, #{email: "dave@jpmc.example"}]"#;

#[test]
fn results_come_back_in_input_order_with_errors_per_row() {
    let h = demo();
    let s = h.file(
        "m.rhai",
        &format!(
            r#"import "vline/util" as vu;
fn ext(r) {{ vu::get(zoom::phone_user(r.email), "extension_number") }}
let suffix = "!";
let rows = {ROWS};
let named = bulk::map(rows, Fn("ext"), #{{concurrency: 3}});
let closure = bulk::map(rows, |r| `${{ext(r)}}${{suffix}}`, #{{concurrency: 4}});
let one = bulk::map(rows, |r| ext(r), #{{concurrency: 1}});
#{{
  named: named.map(|x| if x.ok {{ x.result }} else {{ x.error.code }}),
  closure: closure.map(|x| if x.ok {{ x.result }} else {{ "error" }}),
  one: one.map(|x| x.ok),
  rows: named.map(|x| x.row.email),
}}
"#
        ),
    );
    let o = h.run(&["--json", "run", s.to_str().unwrap()]);
    assert_code(&o, 0);
    let r = &json(&o)["result"];
    // alice 1001, bob 1002, nobody → Zoom's 1001 "user does not exist", carol 1003, dave 1004.
    assert_eq!(r["named"], json!([1001, 1002, 1001, 1003, 1004]), "{r:#}");
    assert_eq!(
        r["closure"],
        json!(["1001!", "1002!", "error", "1003!", "1004!"]),
        "{r:#}"
    );
    assert_eq!(r["one"], json!([true, true, false, true, true]), "{r:#}");
    assert_eq!(r["rows"][2], "nobody@jpmc.example");
}

#[test]
fn writes_inside_the_map_pass_the_same_guard() {
    let h = demo();
    let s = h.file(
        "w.rhai",
        r#"let rows = [#{user: "erin@jpmc.example", ext: 1201}, #{user: "alice@jpmc.example", ext: 1202}, #{user: "bob@jpmc.example", ext: 1203}];
bulk::map(rows, |r| zoom::update_phone_user(r.user, #{extension_number: r.ext}), #{concurrency: 3}).map(|x| x.ok)
"#,
    );
    // Dry-run: every write is held in the run's one plan, none is sent.
    let o = h.run(&["--json", "run", s.to_str().unwrap(), "--dry-run"]);
    assert_code(&o, 0);
    let r = json(&o);
    assert_eq!(r["result"], json!([true, true, true]), "{r:#}");
    assert_eq!(r["plan"].as_array().unwrap().len(), 3, "{r:#}");
    assert_eq!(writes(&h), Vec::<Value>::new());
    // Read-only: the first write is refused and the whole map stops (exit 3), nothing sent.
    let o = h.run(&["run", s.to_str().unwrap(), "--read-only"]);
    assert_code(&o, 3);
    assert!(stderr(&o).contains("read-only"), "{}", stderr(&o));
    assert_eq!(writes(&h), Vec::<Value>::new());
}

#[test]
fn rows_run_at_once_on_worker_threads() {
    let h = demo();
    assert_code(
        &h.run(&["sandbox", "fault", "set", "--latency", "zoom=250ms"]),
        0,
    );
    let rows: String = (0..8)
        .map(|i| {
            format!(
                "#{{email: \"{}@jpmc.example\"}}",
                ["alice", "bob", "carol", "dave"][i % 4]
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let time_it = |c: u32| {
        let s = h.file(
            "p.rhai",
            &format!("bulk::map([{rows}], |r| zoom::user(r.email).id, #{{concurrency: {c}}}).filter(|x| x.ok).len()"),
        );
        let t = Instant::now();
        let o = h.run(&["--json", "run", s.to_str().unwrap()]);
        let took = t.elapsed();
        assert_code(&o, 0);
        assert_eq!(json(&o)["result"], 8);
        took
    };
    let sequential = time_it(1);
    let parallel = time_it(8);
    // Eight 250 ms calls one after another take 2 s; at once, a fraction of that.
    assert!(
        parallel * 2 < sequential,
        "concurrency 8 took {parallel:?}, concurrency 1 took {sequential:?}"
    );
}

#[test]
fn bad_options_are_named() {
    let h = demo();
    let s = h.file("b.rhai", "bulk::map([1, 2], |r| r, #{concurrency: 0})");
    let o = h.run(&["run", s.to_str().unwrap()]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("concurrency must be an integer from 1 to 64"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn preflight_from_a_script() {
    let h = demo();
    let s = h.file(
        "p.rhai",
        r#"let r = bulk::preflight([#{phone_number: "+13126170110", user: "alice@jpmc.example", org: "org-zoom"}, #{phone_number: "+13126170111", user: "erin@jpmc.example", org: "org-zoom"}], "onboard-new-user");
#{verdict: r.verdict, kinds: r.row_reports.map(|x| if x.blocked == () { x.status } else { x.blocked.kind }), writes: r.writes}
"#,
    );
    let o = h.run(&["--json", "run", s.to_str().unwrap()]);
    assert_code(&o, 0);
    let r = &json(&o)["result"];
    assert_eq!(r["verdict"], "not ready: 1 row(s) blocked", "{r:#}");
    assert_eq!(r["kinds"], json!(["ready", "not_licensed"]), "{r:#}");
    assert_eq!(r["writes"]["zoom::assign_number"], 1, "{r:#}");
    assert_eq!(writes(&h), Vec::<Value>::new());
}
