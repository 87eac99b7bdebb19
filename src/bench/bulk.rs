//! A bulk onboarding against the in-memory sandbox with the plan's rate limits enforced: users/s
//! against the bound the limits set.
//!
//! Every run goes through `bulk::job::run`, the code path of `vline bulk`. Three runs, each with
//! its own clients (so one run's lowered limiter does not slow the next) on fresh users:
//! 1. the main run, `--users` rows at `--concurrency`, on an account with 100 extra numbers;
//! 2. the sequential baseline, `--sequential-users` rows at concurrency 1 (what a hand-written
//!    loop does), same account;
//! 3. a probe of a few rows after the account grew to 5,000 extra numbers: its Zoom calls per user
//!    must equal the main run's (the number index is read once per run; no row pages the list).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use crate::api::{RateCategory, ZoomPlan};
use crate::bulk::job::{self, Env, Prepared};
use crate::bulk::run::Concurrency;
use crate::bulk::validate;
use crate::config::{Config, Profile};
use crate::host::script::Script;
use crate::journal::Journal;
use crate::sandbox::{Faults, Sandbox, SandboxOptions};

const PROCEDURE: &str = "onboard-new-user";
/// Account sizes (extra Zoom-native numbers) of the main run and of the probe.
const SMALL_ACCOUNT: u64 = 100;
const LARGE_ACCOUNT: u64 = 5_000;
/// Rows of the large-account probe.
const PROBE_USERS: u64 = 20;

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
    /// Requests per user per Zoom category (and Movius, carrier), without the index load.
    pub calls_per_user: BTreeMap<String, f64>,
    /// List pages read once to load the number index (not in `calls_per_user`).
    pub index_load_pages: u64,
    /// Number lookups the index answered without a call / with one filtered query.
    pub index_hits: u64,
    pub index_queries: u64,
    pub http_429: u64,
    pub retries: u64,
    /// The bound the rate limits set on users/s: min over Zoom categories of the plan's limit ÷
    /// this run's calls per user in that category.
    pub bound: f64,
    /// The category that sets the bound.
    pub binding: String,
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
    pub main: RunResult,
    pub sequential: RunResult,
    pub large_account: RunResult,
    /// Calls per user do not grow from the main run's account to the large one.
    pub calls_per_user_constant: bool,
    pub rss_mb: f64,
    // The machine-readable summary.
    pub users: u64,
    pub users_per_s: f64,
    pub bound: f64,
    pub ratio: f64,
    pub failed: u64,
    pub http_429: u64,
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
    /// Added latency per service, e.g. `zoom=120ms,movius=350ms`.
    pub latency: Option<String>,
    /// Concurrency of the main run.
    pub concurrency: crate::bulk::run::Concurrency,
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
    let latency = crate::sandbox::parse_latency(a.latency.as_deref().unwrap_or(""))
        .map_err(anyhow::Error::msg)?;
    let dir = TempDir::new()?;
    let journal = Arc::new(Journal::open(&dir.path().join("journal.sqlite"))?);

    let sb = Sandbox::start(SandboxOptions {
        plan: a.plan,
        enforce_rate_limits: true,
        ..SandboxOptions::default()
    })?;
    let seq_users = a.sequential_users;
    let probe_users = a.users.min(PROBE_USERS);
    let emails = sb.seed_phone_users(a.users + seq_users + probe_users, "site-chicago")?;
    sb.seed_extra_numbers(SMALL_ACCOUNT)?;
    sb.set_faults(Faults {
        latency_ms: latency.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        ..Faults::default()
    });
    let profile = sandbox_profile(&sb, a.plan)?;
    let (main_emails, rest) = emails.split_at(a.users as usize);
    let (seq_emails, probe_emails) = rest.split_at(seq_users as usize);

    eprintln!(
        "bench bulk: {} users, plan {}, latency {:?}, concurrency {}",
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
        main_emails,
        0,
        a.concurrency,
    )?;
    let sequential = if seq_users > 0 {
        one_run(
            &sb,
            &profile,
            &journal,
            dir.path(),
            "sequential",
            seq_emails,
            500_000,
            Concurrency::Fixed(1),
        )?
    } else {
        empty_run()
    };
    sb.seed_extra_numbers(LARGE_ACCOUNT - SMALL_ACCOUNT)?;
    let large_account = one_run(
        &sb,
        &profile,
        &journal,
        dir.path(),
        "large-account",
        probe_emails,
        900_000,
        a.concurrency,
    )?;
    sb.shutdown();

    let constant = ["light", "medium", "heavy", "intensive"].iter().all(|c| {
        let small = main.calls_per_user.get(*c).copied().unwrap_or(0.0);
        let large = large_account.calls_per_user.get(*c).copied().unwrap_or(0.0);
        // Retries after a 429 are calls too; allow for them, nothing else.
        let slack = large_account.retries as f64 / large_account.users.max(1) as f64;
        large <= small + slack + 0.01
    });
    let rss_mb = peak_rss_mb();
    let r = BenchReport {
        plan: a.plan.to_string(),
        latency,
        users: main.users,
        users_per_s: main.users_per_s,
        bound: main.bound,
        ratio: main.ratio,
        failed: main.failed + sequential.failed + large_account.failed,
        http_429: main.http_429,
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

#[allow(clippy::too_many_arguments)]
fn one_run(
    sb: &Sandbox,
    profile: &Profile,
    journal: &Arc<Journal>,
    dir: &Path,
    name: &str,
    emails: &[String],
    number_offset: u64,
    concurrency: Concurrency,
) -> anyhow::Result<RunResult> {
    let csv = dir.join(format!("{name}.csv"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&csv)?);
    writeln!(f, "phone_number,user")?;
    for (i, e) in emails.iter().enumerate() {
        writeln!(f, "+13127{:06},{e}", number_offset + i as u64 + 1)?;
    }
    f.flush()?;
    drop(f);

    let (src, header) = Script::load(PROCEDURE, None)?;
    let summary =
        validate::validate(&csv, &header).map_err(|r| anyhow::anyhow!("{}: {r}", csv.display()))?;
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
            csv: csv.clone(),
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
    tracing::debug!(secs = started.elapsed().as_secs_f64(), "bench run {name}");
    let after = clients.transport.stats();
    let rep = &fin.report;
    let users = rep.done + rep.failed;
    let mut calls_per_user = BTreeMap::new();
    for (k, v) in &after.calls {
        let mut n = v - before.calls.get(k).copied().unwrap_or(0);
        if k == "medium" {
            n = n.saturating_sub(fin.index.load_pages);
        }
        calls_per_user.insert(k.clone(), n as f64 / users.max(1) as f64);
    }
    let plan = clients.transport.options().plan;
    let pace_share = clients.transport.options().rate_share.fraction();
    let (bound, binding) = bound_of(&calls_per_user, plan);
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
        binding,
        ratio: if bound > 0.0 {
            rep.rows_per_s / bound
        } else {
            0.0
        },
        pace_share,
        calls_per_user,
        index_load_pages: fin.index.load_pages,
        index_hits: fin.index.hits,
        index_queries: fin.index.queries,
        http_429: rep.http_429,
        retries: after.retries - before.retries,
        p50_ms: percentile(&durations, 0.50),
        p99_ms: percentile(&durations, 0.99),
        first_failure,
    })
}

/// min over Zoom categories of limit ÷ calls per user; heavy and intensive share a budget.
fn bound_of(cpu: &BTreeMap<String, f64>, plan: ZoomPlan) -> (f64, String) {
    let get = |k: &str| cpu.get(k).copied().unwrap_or(0.0);
    let cats = [
        ("light", get("light"), RateCategory::Light),
        ("medium", get("medium"), RateCategory::Medium),
        (
            "heavy",
            get("heavy") + get("intensive"),
            RateCategory::Heavy,
        ),
    ];
    cats.iter()
        .filter(|(_, n, _)| *n > 0.0)
        .map(|(name, n, c)| (f64::from(plan.per_second(*c)) / n, name.to_string()))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap_or((0.0, "none".into()))
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
        index_load_pages: 0,
        index_hits: 0,
        index_queries: 0,
        http_429: 0,
        retries: 0,
        bound: 0.0,
        binding: "none".into(),
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
        let cpu = x
            .calls_per_user
            .iter()
            .map(|(k, v)| format!("{k} {v:.2}"))
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "{name:<14} {} users ({} failed) at concurrency {}, account of {} Zoom numbers: {:.2} users/s in {:.1} s",
            x.users, x.failed, x.concurrency, x.account_numbers, x.users_per_s, x.elapsed_s
        );
        println!("{:<14} calls per user: {cpu}", "");
        println!(
            "{:<14} number index: {} pages once, {} hits, {} filtered queries",
            "", x.index_load_pages, x.index_hits, x.index_queries
        );
        println!(
            "{:<14} bound {:.2} users/s (the plan's {} limit ÷ calls per user): ratio {:.3} (the client paces to {:.0} % of the limits)",
            "", x.bound, x.binding, x.ratio, x.pace_share * 100.0
        );
        println!(
            "{:<14} 429s {}, retries {}; seconds per user p50 {:.2}, p99 {:.2}",
            "",
            x.http_429,
            x.retries,
            x.p50_ms as f64 / 1000.0,
            x.p99_ms as f64 / 1000.0
        );
        if let Some(f) = &x.first_failure {
            println!("{:<14} first failure: {f}", "");
        }
    };
    println!(
        "plan {}, latency {}",
        r.plan,
        if r.latency.is_empty() {
            "none".to_string()
        } else {
            r.latency
                .iter()
                .map(|(k, v)| format!("{k}={v}ms"))
                .collect::<Vec<_>>()
                .join(",")
        }
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
        "users={} users_per_s={:.3} bound={:.3} ratio={:.3} failed={} http_429={} p99_ms={} rss_mb={:.1} sequential_ratio={:.3}",
        r.users,
        r.users_per_s,
        r.bound,
        r.ratio,
        r.failed,
        r.http_429,
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
    fn bound_is_set_by_the_tightest_category() {
        let mut cpu = BTreeMap::new();
        cpu.insert("light".to_string(), 3.0);
        cpu.insert("medium".to_string(), 2.0);
        cpu.insert("movius".to_string(), 9.0);
        let (b, c) = bound_of(&cpu, ZoomPlan::Business);
        assert_eq!(c, "medium");
        assert!((b - 10.0).abs() < 1e-9);
    }

    #[test]
    fn percentiles_of_durations() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), 50);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&[], 0.99), 0);
    }
}
