//! `vline bench bulk`: the benchmark runs the real bulk path against its in-memory sandbox, every
//! row ends done, and Zoom calls per user do not grow with the account (structural, not timing).

use crate::support::{assert_code, json, stdout, Home};

#[test]
fn bench_bulk_reports_a_constant_cost_per_user() {
    let home = Home::new();
    let out = home.run(&[
        "bench",
        "bulk",
        "--users",
        "30",
        "--sequential-users",
        "5",
        "--json",
    ]);
    assert_code(&out, 0);
    let r = json(&out);
    for k in [
        "users",
        "users_per_s",
        "bound",
        "ratio",
        "failed",
        "http_429",
        "p99_ms",
        "rss_mb",
        "sequential_ratio",
    ] {
        assert!(r.get(k).is_some(), "no {k} in {r}");
    }
    assert_eq!(r["users"], 30, "{r}");
    assert_eq!(r["failed"], 0, "{r}");
    assert_eq!(r["main"]["done"], 30, "{r}");
    assert_eq!(r["sequential"]["done"], 5, "{r}");
    assert_eq!(r["sequential"]["concurrency"], "1", "{r}");
    assert!(r["bound"].as_f64().unwrap() > 0.0, "{r}");
    assert!(r["rss_mb"].as_f64().unwrap() > 0.0, "{r}");

    // The probe ran on an account ~45 times larger than the main run's.
    let small = &r["main"];
    let large = &r["large_account"];
    assert!(
        large["account_numbers"].as_u64().unwrap()
            >= 40 * small["account_numbers"].as_u64().unwrap(),
        "{r}"
    );
    assert_eq!(large["failed"], 0, "{r}");
    // The index is read once per run (its pages grow with the account, once)...
    assert!(
        large["index_load_pages"].as_u64().unwrap() > small["index_load_pages"].as_u64().unwrap()
    );
    // ...but each user costs the same Zoom calls in every category (a 429 retry is the only
    // extra call allowed).
    let slack = large["retries"].as_f64().unwrap() / large["users"].as_f64().unwrap() + 0.01;
    for c in ["light", "medium", "heavy"] {
        let s = small["calls_per_user"][c].as_f64().unwrap_or(0.0);
        let l = large["calls_per_user"][c].as_f64().unwrap_or(0.0);
        assert!(
            l <= s + slack,
            "{c}: {s} calls/user at the small account, {l} at the large one: {r}"
        );
    }
    // Onboarding needs Zoom reads and writes: the measurement saw them.
    assert!(
        small["calls_per_user"]["light"].as_f64().unwrap() >= 1.0,
        "{r}"
    );
    assert_eq!(r["calls_per_user_constant"], true, "{r}");
}

#[test]
fn bench_bulk_machine_line_is_last() {
    let home = Home::new();
    let out = home.run(&["bench", "bulk", "--users", "3", "--sequential-users", "1"]);
    assert_code(&out, 0);
    let text = stdout(&out);
    let last = text.lines().last().unwrap_or_default();
    for k in [
        "users=3 ",
        "users_per_s=",
        "bound=",
        "ratio=",
        "failed=0 ",
        "http_429=",
        "p99_ms=",
        "rss_mb=",
        "sequential_ratio=",
    ] {
        assert!(last.contains(k), "no {k} in the last line: {last}");
    }
}

#[test]
fn bench_bulk_memory_mode_streams_without_calls() {
    let home = Home::new();
    let out = home.run(&["bench", "bulk", "--memory-rows", "2000", "--json"]);
    assert_code(&out, 0);
    let r = json(&out);
    assert_eq!(r["rows"], 2000, "{r}");
    assert_eq!(r["streamed"], 2000, "{r}");
    assert!(r["rss_mb"].as_f64().unwrap() > 0.0, "{r}");
}
