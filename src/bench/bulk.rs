//! A bulk onboarding against the in-memory sandbox with the plan's rate limits enforced: users/s
//! against the physical bound, the plan's light limit ÷ 1 (the assign is the one Zoom call
//! onboarding cannot avoid; every other read is amortized by the run).
//!
//! Every run goes through `bulk::job::run`, the code path of `vline bulk`. The rows' numbers are
//! in Movius's available pool before the run, as T-Mobile puts them there before a window (the
//! guide's steps 1-3 happen outside vline). Three runs, each with its own clients (so one run's
//! lowered limiter does not slow the next) on fresh users:
//! 1. the main run, `--users` rows at `--concurrency`, on an account of 1,000 Zoom numbers;
//! 2. the sequential baseline, `--sequential-users` rows at concurrency 1 (what a hand-written
//!    loop does), same account;
//! 3. the same onboarding (up to 1,000 rows) after the account grew to 50,000 numbers, held by
//!    its phone users: calls per user must not grow with the numbers.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use crate::api::{RateCategory, ZoomPlan};
use crate::bulk::concurrency::Concurrency;
use crate::bulk::job::{self, Env, Prepared};
use crate::bulk::validate;
use crate::config::{Config, Profile};
use crate::host::script::Script;
use crate::journal::Journal;
use crate::sandbox::{Faults, Sandbox, SandboxOptions};

const PROCEDURE: &str = "onboard-new-user";
/// Zoom numbers in the account when the main run starts, and when the probe starts.
const SMALL_ACCOUNT: u64 = 1_000;
const LARGE_ACCOUNT: u64 = 50_000;
/// Rows of the large-account probe (at most).
const PROBE_USERS: u64 = 1_000;
/// The Movius org the rows' numbers are pooled in (the sandbox profile's default org).
const ORG: &str = "org-zoom";

/// One bulk run of the benchmark.
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    pub users: u64,
    pub done: u64,
    pub failed: u64,
    pub concurrency: String,
    /// Zoom numbers in the account when the run started.
    pub account_numbers: u64,
    pub elapsed_s: f64,
    pub users_per_s: f64,
    /// Requests per user per Zoom category (and Movius, carrier), everything the run sent
    /// included: the pages it reads once (phone users, the end-of-run check) and its share of the
    /// refreshes of the unassigned list.
    pub calls_per_user: BTreeMap<String, f64>,
    /// The same without the pages read once per run, whose number follows the account's phone
    /// users, not the run: what each row costs.
    pub per_row: BTreeMap<String, f64>,
    /// Pages read once per run: phone users (up front and at the end) and Zoom's whole number
    /// list (only for a look-up nothing cheaper answers; 0 when onboarding).
    pub once_pages: u64,
    /// Refreshes of the unassigned list and the pages they read.
    pub refreshes: u64,
    pub refresh_pages: u64,
    pub http_429: u64,
    /// Every request the run sent (for the share answered 429).
    pub requests: u64,
    pub retries: u64,
    /// The physical bound on users/s: the plan's light limit ÷ 1 (the assign).
    pub bound: f64,
    /// users/s ÷ bound.
    pub ratio: f64,
    /// The share of the limits the client paces to (the profile's `zoom_rate_share`): the
    /// highest ratio a run can reach.
    pub pace_share: f64,
    pub p50_ms: u64,
    pub p99_ms: u64,
    pub first_failure: Option<String>,
}

/// The benchmark's answer (`--json`).
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub plan: String,
    pub latency: BTreeMap<String, u64>,
    /// `filter` (the sandbox honours the `phone_number` filter) or `published-spec` (it ignores
    /// it, as Zoom's spec documents none).
    pub mode: String,
    pub main: RunResult,
    pub sequential: RunResult,
    pub large_account: RunResult,
    /// Calls per row and pages per run do not grow from the main run's account to the large one.
    pub calls_per_user_constant: bool,
    pub rss_mb: f64,
    // The machine-readable summary.
    pub users: u64,
    pub users_per_s: f64,
    pub bound: f64,
    pub ratio: f64,
    pub failed: u64,
    pub http_429: u64,
    pub light_per_user: f64,
    pub medium_per_user: f64,
    pub movius_per_user: f64,
    pub p99_ms: u64,
    pub sequential_ratio: f64,
}

/// What `vline bench bulk` measures (its flags, without clap).
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Users to onboard.
    pub users: u64,
    /// Zoom plan whose rate limits the sandbox enforces and the client paces to.
    pub plan: crate::api::ZoomPlan,
    /// Added latency per service, e.g. `zoom=120ms,movius=350ms` (empty: none).
    pub latency: String,
    /// The sandbox ignores the `phone_number` filter, as Zoom's published spec documents none.
    pub published_spec: bool,
    /// Concurrency of the main run.
    pub concurrency: crate::bulk::concurrency::Concurrency,
    /// Users in the sequential baseline run (concurrency 1).
    pub sequential_users: u64,
    /// Only measure memory on a generated CSV of this many rows (0: the throughput bench).
    pub memory_rows: u64,
}

pub fn run(json: bool, a: &BenchOptions) -> anyhow::Result<()> {
    if a.memory_rows > 0 {
        return memory(json, a.memory_rows);
    }
    anyhow::ensure!(a.users > 0, "--users must be at least 1");
    let latency = crate::sandbox::parse_latency(&a.latency).map_err(anyhow::Error::msg)?;
    let dir = TempDir::new()?;
    let journal = Arc::new(Journal::open(&dir.path().join("journal.sqlite"))?);

    let sb = Sandbox::start(SandboxOptions {
        plan: a.plan,
        enforce_rate_limits: true,
        published_spec_mode: a.published_spec,
        ..SandboxOptions::default()
    })?;
    let seq_users = a.sequential_users;
    let probe_users = a.users.min(PROBE_USERS);
    // The probe's users first: Zoom lists phone users in a fixed order, and a row starts as soon
    // as its user's page has been read, so both measured runs find theirs on the first pages
    // (the probe compares account sizes, not places in the list).
    let emails = sb.seed_phone_users(probe_users + a.users + seq_users, "site-chicago")?;
    let (probe_emails, rest) = emails.split_at(probe_users as usize);
    let (main_emails, seq_emails) = rest.split_at(a.users as usize);
    let main_csv = write_csv(dir.path(), "main", main_emails, 0)?;
    let seq_csv = write_csv(dir.path(), "sequential", seq_emails, 500_000)?;
    let probe_csv = write_csv(dir.path(), "large-account", probe_emails, 900_000)?;
    for (_, numbers) in [&main_csv, &seq_csv, &probe_csv] {
        sb.seed_pool(numbers, ORG)?;
    }
    grow_account(&sb, SMALL_ACCOUNT)?;
    tracing::info!(rss_mb = peak_rss_mb(), "bench seeded");
    sb.set_faults(Faults {
        latency_ms: latency.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        ..Faults::default()
    });
    let profile = sandbox_profile(&sb, a.plan)?;
    let mode = if a.published_spec {
        "published-spec"
    } else {
        "filter"
    };

    eprintln!(
        "bench bulk: {} users, plan {}, latency {:?}, concurrency {}, mode {mode}",
        a.users,
        a.plan,
        latency,
        conc_str(a.concurrency)
    );
    let main = one_run(
        &sb,
        &profile,
        &journal,
        dir.path(),
        "main",
        &main_csv.0,
        a.concurrency,
    )?;
    let sequential = if seq_users > 0 {
        one_run(
            &sb,
            &profile,
            &journal,
            dir.path(),
            "sequential",
            &seq_csv.0,
            Concurrency::Fixed(1),
        )?
    } else {
        empty_run()
    };
    grow_account(&sb, LARGE_ACCOUNT)?;
    tracing::info!(rss_mb = peak_rss_mb(), "bench account grown");
    let large_account = one_run(
        &sb,
        &profile,
        &journal,
        dir.path(),
        "large-account",
        &probe_csv.0,
        a.concurrency,
    )?;
    sb.shutdown();

    let constant = flat(&main, &large_account);
    let rss_mb = peak_rss_mb();
    let get = |k: &str| main.calls_per_user.get(k).copied().unwrap_or(0.0);
    let r = BenchReport {
        plan: a.plan.to_string(),
        latency,
        mode: mode.into(),
        users: main.users,
        users_per_s: main.users_per_s,
        bound: main.bound,
        ratio: main.ratio,
        failed: main.failed + sequential.failed + large_account.failed,
        http_429: main.http_429,
        light_per_user: get("light"),
        medium_per_user: get("medium"),
        movius_per_user: get("movius"),
        p99_ms: main.p99_ms,
        sequential_ratio: sequential.ratio,
        rss_mb,
        calls_per_user_constant: constant,
        main,
        sequential,
        large_account,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print_human(&r);
    }
    Ok(())
}

/// Top the account up to `numbers` Zoom numbers, held by the bench users.
fn grow_account(sb: &Sandbox, numbers: u64) -> anyhow::Result<()> {
    let have = sb.counts().zoom_numbers;
    if have < numbers {
        sb.seed_assigned_numbers(numbers - have)?;
    }
    Ok(())
}

/// Calls per row do not grow (retries after a 429 aside; the shared refreshes within a small
/// margin, since a shorter run shares each among fewer rows while it ramps up), and the pages
/// read once per run do not grow with the numbers (they follow the phone users).
fn flat(small: &RunResult, large: &RunResult) -> bool {
    let slack = large.retries as f64 / large.users.max(1) as f64;
    let rows = ["light", "heavy", "intensive", "movius"].iter().all(|c| {
        let a = small.per_row.get(*c).copied().unwrap_or(0.0);
        let b = large.per_row.get(*c).copied().unwrap_or(0.0);
        b <= a + slack + 0.01
    });
    let medium = large.per_row.get("medium").copied().unwrap_or(0.0)
        <= small.per_row.get("medium").copied().unwrap_or(0.0) + slack + 0.1;
    // The probe's phone users are the main run's (its own were seeded with them).
    rows && medium && large.once_pages <= small.once_pages + 2
}

/// The run's CSV (`+13127NNNNNN` numbers from `offset`) and its numbers.
fn write_csv(
    dir: &Path,
    name: &str,
    emails: &[String],
    offset: u64,
) -> anyhow::Result<(PathBuf, Vec<String>)> {
    let csv = dir.join(format!("{name}.csv"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&csv)?);
    writeln!(f, "phone_number,user")?;
    let mut numbers = Vec::with_capacity(emails.len());
    for (i, e) in emails.iter().enumerate() {
        let n = format!("+13127{:06}", offset + i as u64 + 1);
        writeln!(f, "{n},{e}")?;
        numbers.push(n);
    }
    f.flush()?;
    Ok((csv, numbers))
}

fn one_run(
    sb: &Sandbox,
    profile: &Profile,
    journal: &Arc<Journal>,
    dir: &Path,
    name: &str,
    csv: &Path,
    concurrency: Concurrency,
) -> anyhow::Result<RunResult> {
    let (src, header) = Script::load(PROCEDURE, None)?;
    let summary =
        validate::validate(csv, &header).map_err(|r| anyhow::anyhow!("{}: {r}", csv.display()))?;
    let secrets = profile.resolve_secrets()?;
    // Fresh clients: a limiter lowered by one run's 429s must not slow the next.
    let clients = profile.clients(&secrets)?;
    let out = dir.join(format!("{name}.results.csv"));
    let account_numbers = sb.counts().zoom_numbers;
    let before = clients.transport.stats();
    let started = Instant::now();
    let fin = job::run(
        &Env {
            clients: &clients,
            profile,
            sandbox: true,
            journal: journal.clone(),
            override_dir: None,
            on_interrupt: None,
        },
        &job::Options {
            script: PROCEDURE.into(),
            csv: csv.to_path_buf(),
            concurrency,
            resume: None,
            dry_run: false,
            yes: true,
            // A benchmark's size is its own cap: it measures, it does not guard.
            max_changes: Some(u64::MAX),
            outside_window: None,
            out: Some(out.clone()),
            interactive: false,
            ticket: None,
        },
        Prepared {
            src,
            header,
            summary,
        },
    )?;
    tracing::info!(
        secs = started.elapsed().as_secs_f64(),
        rss_mb = peak_rss_mb(),
        "bench run {name}"
    );
    let after = clients.transport.stats();
    let rep = &fin.report;
    let users = rep.done + rep.failed;
    let once_pages = fin.cache.user_pages + fin.cache.index_load_pages;
    let mut calls_per_user = BTreeMap::new();
    let mut per_row = BTreeMap::new();
    let mut requests = 0;
    for (k, v) in &after.calls {
        let n = v - before.calls.get(k).copied().unwrap_or(0);
        requests += n;
        calls_per_user.insert(k.clone(), n as f64 / users.max(1) as f64);
        let own = if k == "medium" {
            n.saturating_sub(once_pages)
        } else {
            n
        };
        per_row.insert(k.clone(), own as f64 / users.max(1) as f64);
    }
    let plan = clients.transport.options().plan;
    let pace_share = clients.transport.options().rate_share.fraction();
    let bound = physical_bound(plan);
    let (mut durations, first_failure) = read_results(&out)?;
    durations.sort_unstable();
    Ok(RunResult {
        users,
        done: rep.done,
        failed: rep.failed,
        concurrency: conc_str(concurrency),
        account_numbers,
        elapsed_s: rep.elapsed_s,
        users_per_s: rep.rows_per_s,
        bound,
        ratio: if bound > 0.0 {
            rep.rows_per_s / bound
        } else {
            0.0
        },
        pace_share,
        calls_per_user,
        per_row,
        once_pages,
        refreshes: fin.cache.refreshes,
        refresh_pages: fin.cache.refresh_pages,
        http_429: rep.http_429,
        requests,
        retries: after.retries - before.retries,
        p50_ms: percentile(&durations, 0.50),
        p99_ms: percentile(&durations, 0.99),
        first_failure,
    })
}

/// Users/s the plan allows at most: its light limit ÷ the one light call a user needs (the
/// assign), whatever vline itself calls.
pub fn physical_bound(plan: ZoomPlan) -> f64 {
    f64::from(plan.per_second(RateCategory::Light))
}

fn read_results(path: &Path) -> anyhow::Result<(Vec<u64>, Option<String>)> {
    let mut rd = csv::Reader::from_path(path)?;
    let h = rd.headers()?.clone();
    let col = |n: &str| h.iter().position(|c| c == n);
    let (Some(ms), Some(st), Some(detail)) = (col("duration_ms"), col("status"), col("detail"))
    else {
        anyhow::bail!("{}: no duration_ms/status/detail columns", path.display());
    };
    let mut out = Vec::new();
    let mut first_failure = None;
    for rec in rd.records() {
        let rec = rec?;
        if let Some(v) = rec.get(ms).and_then(|s| s.parse().ok()) {
            out.push(v);
        }
        if rec.get(st) == Some("failed") && first_failure.is_none() {
            first_failure = rec.get(detail).map(str::to_string);
        }
    }
    Ok((out, first_failure))
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn empty_run() -> RunResult {
    RunResult {
        users: 0,
        done: 0,
        failed: 0,
        concurrency: "-".into(),
        account_numbers: 0,
        elapsed_s: 0.0,
        users_per_s: 0.0,
        calls_per_user: BTreeMap::new(),
        per_row: BTreeMap::new(),
        once_pages: 0,
        refreshes: 0,
        refresh_pages: 0,
        http_429: 0,
        requests: 0,
        retries: 0,
        bound: 0.0,
        ratio: 0.0,
        pace_share: 0.0,
        p50_ms: 0,
        p99_ms: 0,
        first_failure: None,
    }
}

fn sandbox_profile(sb: &Sandbox, plan: ZoomPlan) -> anyhow::Result<Profile> {
    let mut p = Config::default().profile(None)?.with_sandbox_urls(
        &sb.zoom_api_url(),
        &sb.zoom_oauth_url(),
        &sb.movius_url(),
        &sb.carrier_url(),
    );
    p.zoom_plan = plan;
    Ok(p)
}

fn conc_str(c: Concurrency) -> String {
    match c {
        Concurrency::Auto => "auto".into(),
        Concurrency::Fixed(n) => n.to_string(),
    }
}

/// Peak resident memory of this process (VmHWM), in MB.
pub fn peak_rss_mb() -> f64 {
    status_kb("VmHWM:") as f64 / 1024.0
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn print_human(r: &BenchReport) {
    let line = |name: &str, x: &RunResult| {
        let fmt = |m: &BTreeMap<String, f64>| {
            m.iter()
                .filter(|(k, _)| *k != "oauth")
                .map(|(k, v)| format!("{k} {v:.3}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "{name:<14} {} users ({} failed) at concurrency {}, account of {} Zoom numbers: {:.2} users/s in {:.1} s",
            x.users, x.failed, x.concurrency, x.account_numbers, x.users_per_s, x.elapsed_s
        );
        println!("{:<14} calls per user: {}", "", fmt(&x.calls_per_user));
        println!(
            "{:<14} per row: {}; read once per run: {} pages; unassigned list: {} refreshes, {} pages",
            "",
            fmt(&x.per_row),
            x.once_pages,
            x.refreshes,
            x.refresh_pages
        );
        println!(
            "{:<14} bound {:.2} users/s (the plan's light limit ÷ 1 assign per user): ratio {:.3} (the client paces to {:.0} % of the limits)",
            "", x.bound, x.ratio, x.pace_share * 100.0
        );
        println!(
            "{:<14} 429s {} of {} requests, retries {}; seconds per user p50 {:.2}, p99 {:.2}",
            "",
            x.http_429,
            x.requests,
            x.retries,
            x.p50_ms as f64 / 1000.0,
            x.p99_ms as f64 / 1000.0
        );
        if let Some(f) = &x.first_failure {
            println!("{:<14} first failure: {f}", "");
        }
    };
    println!(
        "plan {}, latency {}, mode {}",
        r.plan,
        if r.latency.is_empty() {
            "none".to_string()
        } else {
            r.latency
                .iter()
                .map(|(k, v)| format!("{k}={v}ms"))
                .collect::<Vec<_>>()
                .join(",")
        },
        r.mode
    );
    line("main", &r.main);
    line("sequential", &r.sequential);
    line("large account", &r.large_account);
    println!(
        "calls per user {} from {} to {} Zoom numbers; peak RSS {:.1} MB",
        if r.calls_per_user_constant {
            "constant"
        } else {
            "GREW"
        },
        r.main.account_numbers,
        r.large_account.account_numbers,
        r.rss_mb
    );
    println!(
        "users={} users_per_s={:.3} bound={:.3} ratio={:.3} failed={} http_429={} light_per_user={:.3} medium_per_user={:.3} movius_per_user={:.3} mode={} p99_ms={} rss_mb={:.1} sequential_ratio={:.3}",
        r.users,
        r.users_per_s,
        r.bound,
        r.ratio,
        r.failed,
        r.http_429,
        r.light_per_user,
        r.medium_per_user,
        r.movius_per_user,
        r.mode,
        r.p99_ms,
        r.rss_mb,
        r.sequential_ratio
    );
}

/// Memory for a large file: validate it, journal its rows and claim its keys (what `vline bulk`
/// does before the first call), then stream it as the worker pool's reader does.
fn memory(json: bool, rows: u64) -> anyhow::Result<()> {
    let dir = TempDir::new()?;
    let csv = dir.path().join("rows.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&csv)?);
    writeln!(f, "phone_number,user")?;
    for i in 1..=rows {
        writeln!(f, "+1312{:07},bench{i:06}@jpmc.example", 2_000_000 + i)?;
    }
    f.flush()?;
    drop(f);
    let start_kb = status_kb("VmRSS:");
    let t = Instant::now();
    let (_, header) = Script::load(PROCEDURE, None)?;
    let summary =
        validate::validate(&csv, &header).map_err(|r| anyhow::anyhow!("{}: {r}", csv.display()))?;
    let journal = Journal::open(&dir.path().join("journal.sqlite"))?;
    let run = journal.start_run(&crate::journal::NewRun {
        ticket: None,
        operator: crate::journal::current_operator(),
        host: crate::journal::current_host(),
        profile: "bench".into(),
        script: PROCEDURE.into(),
        script_digest: String::new(),
        params: serde_json::json!({"rows": summary.rows}),
        mode: "bench memory".into(),
        outside_window_reason: None,
    })?;
    job::record_rows(&journal, run, &csv, &header, &summary.columns)?;
    let mut rd = csv::Reader::from_path(&csv)?;
    let mut rec = csv::StringRecord::new();
    let mut streamed = 0u64;
    while rd.read_record(&mut rec)? {
        validate::bind_row(&header, &summary.columns, &rec)
            .map_err(|e| anyhow::anyhow!(e.join("; ")))?;
        streamed += 1;
    }
    // The results file every attempt writes whole, from the journal.
    crate::bulk::results::write(
        &journal,
        run,
        &csv,
        &header,
        &summary.columns,
        &dir.path().join("rows.results.csv"),
    )?;
    let peak = peak_rss_mb();
    let secs = t.elapsed().as_secs_f64();
    if json {
        println!(
            "{}",
            serde_json::json!({"rows": summary.rows, "streamed": streamed, "seconds": secs,
                "rss_start_mb": start_kb as f64 / 1024.0, "rss_mb": peak})
        );
    } else {
        println!(
            "validated, journaled, streamed and wrote the results of {} rows in {secs:.1} s; RSS {:.1} MB at start, peak {peak:.1} MB",
            summary.rows,
            start_kb as f64 / 1024.0
        );
        println!("rows={} rss_mb={peak:.1}", summary.rows);
    }
    Ok(())
}

/// A directory under the system temp dir, removed on drop (no dev-dependency at run time).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<TempDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!("vline-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).with_context(|| format!("creating {}", p.display()))?;
        Ok(TempDir(p))
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_the_plans_light_limit() {
        assert!((physical_bound(ZoomPlan::Business) - 40.0).abs() < 1e-9);
        assert!((physical_bound(ZoomPlan::Pro) - 20.0).abs() < 1e-9);
    }

    #[test]
    fn percentiles_of_durations() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), 50);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&[], 0.99), 0);
    }
}
