//! `vline bench bulk`: the benchmark runs the real bulk path against its in-memory sandbox, every
//! row ends done, its bound is the plan's light limit, and calls per user do not grow with the
//! account (structural, not timing).

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
        "--latency",
        "none",
        "--published-spec",
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
        "light_per_user",
        "medium_per_user",
        "movius_per_user",
        "mode",
        "p99_ms",
        "rss_mb",
        "sequential_ratio",
    ] {
        assert!(r.get(k).is_some(), "no {k} in {r}");
    }
    assert_eq!(r["users"], 30, "{r}");
    assert_eq!(r["failed"], 0, "{r}");
    assert_eq!(r["mode"], "published-spec", "{r}");
    assert_eq!(r["main"]["done"], 30, "{r}");
    assert_eq!(r["sequential"]["done"], 5, "{r}");
    assert_eq!(r["sequential"]["concurrency"], "1", "{r}");
    // The physical bound: Business's light limit ÷ the one assign per user.
    assert_eq!(r["bound"].as_f64().unwrap(), 40.0, "{r}");
    assert!(r["rss_mb"].as_f64().unwrap() > 0.0, "{r}");

    // The probe ran on an account of 50,000 numbers, the main run on one of about 1,000.
    let small = &r["main"];
    let large = &r["large_account"];
    assert!(large["account_numbers"].as_u64().unwrap() >= 50_000, "{r}");
    assert!(small["account_numbers"].as_u64().unwrap() < 2_000, "{r}");
    assert_eq!(large["failed"], 0, "{r}");
    // One assign per user, Movius at most 1.2 calls per user, in both runs.
    for x in [small, large] {
        // A retry after a 429 is a call too.
        let light = x["per_row"]["light"].as_f64().unwrap() * x["users"].as_f64().unwrap();
        let retries = x["retries"].as_f64().unwrap();
        assert!(light >= 30.0 && light <= 30.0 + retries + 0.001, "{r}");
        assert!(
            x["calls_per_user"]["movius"].as_f64().unwrap() <= 1.2,
            "{r}"
        );
    }
    // What is read once per run follows the phone users, not the numbers.
    assert_eq!(small["once_pages"], large["once_pages"], "{r}");
    assert_eq!(r["calls_per_user_constant"], true, "{r}");
}

#[test]
fn bench_bulk_machine_line_is_last() {
    let home = Home::new();
    let out = home.run(&[
        "bench",
        "bulk",
        "--users",
        "3",
        "--sequential-users",
        "1",
        "--latency",
        "none",
    ]);
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
        "light_per_user=1.000 ",
        "medium_per_user=",
        "movius_per_user=",
        "mode=filter ",
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
