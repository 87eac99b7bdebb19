//! Reliability: bulk onboarding against the sandbox as a separate process, with injected faults
//! (5xx, timeouts, 429 bursts, peering failures, latency), SIGKILLs of the run and of the sandbox,
//! and two runs on one journal. Every test checks what an operator would: the results CSV, the
//! sandbox's state and request log, the journal, and `reconcile`.
//!
//! Default sizes keep this file under ~2 minutes on 2 cores; the `#[ignore]`d variants are the
//! full-size runs (`cargo test --release --test it -- --ignored reliability`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::Value;

use vline::api::clients::Clients;
use vline::api::http::TransportOptions;
use vline::api::movius::UserListQuery;
use vline::api::zoom::{NumberQuery, NumberType};
use vline::api::E164;
use vline::config::Config;
use vline::journal::{Journal, RowStatus, RunId};
use vline::sandbox::{Burst429, Faults, LoggedRequest, StateLocation};

use crate::support::{assert_code, json, stderr, stdout, Home};

pub(crate) const ZOOM_SECRET_VAR: &str = "VLINE_REL_ZOOM_SECRET";
pub(crate) const MOVIUS_SECRET_VAR: &str = "VLINE_REL_MOVIUS_PASSWORD";
pub(crate) const ZOOM_SECRET: &str = "sandbox-secret";
pub(crate) const MOVIUS_SECRET: &str = "sandbox-api-secret";

/// `vline sandbox serve` as its own process, on a state file that outlives it.
pub(crate) struct Serve {
    child: Option<Child>,
    pub base: String,
    pub port: u16,
    pub state: PathBuf,
    home: PathBuf,
    extra: Vec<String>,
}

fn spawn_serve(home: &Path, state: &Path, port: u16, extra: &[String]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vline"))
        .env("VLINE_HOME", home)
        .env("XDG_CONFIG_HOME", home.join("xdg-config"))
        .env_remove("VLINE_PROFILE")
        .env_remove("VLINE_CONFIG")
        .env_remove("RUST_LOG")
        .args(["sandbox", "serve", "--port", &port.to_string(), "--state"])
        .arg(state)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn vline sandbox serve");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    // Keep draining the banner and the goodbye so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .map(|w| w.trim_end_matches('/').to_string())
        .unwrap_or_default();
    (child, base)
}

impl Serve {
    /// Reset the state (demo seed + `users` bench users), then serve it.
    pub fn start(home: &Home, users: usize, extra: &[&str]) -> Serve {
        let state = home.path().join("served.sqlite");
        let o = home
            .cmd()
            .args(["sandbox", "reset", "--seed", "demo", "--users"])
            .arg(users.to_string())
            .arg("--state")
            .arg(&state)
            .output()
            .unwrap();
        assert_code(&o, 0);
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let (child, base) = spawn_serve(home.path(), &state, 0, &extra);
        assert!(!base.is_empty(), "serve printed no base URL");
        let port = base.rsplit(':').next().unwrap().parse().unwrap();
        Serve {
            child: Some(child),
            base,
            port,
            state,
            home: home.path().to_path_buf(),
            extra,
        }
    }

    /// SIGKILL the sandbox.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Start it again on the same port and state file (the bulk run's URLs stay valid).
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (mut child, base) = spawn_serve(&self.home, &self.state, self.port, &self.extra);
            if !base.is_empty() {
                self.child = Some(child);
                return;
            }
            let _ = child.kill();
            let _ = child.wait();
            assert!(
                Instant::now() < deadline,
                "sandbox could not bind port {} again",
                self.port
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn loc(&self) -> StateLocation {
        StateLocation::File(self.state.clone())
    }

    pub fn set_faults(&self, f: &Faults) {
        vline::sandbox::write_faults(&self.loc(), f).expect("write faults");
    }

    pub fn log(&self) -> Vec<LoggedRequest> {
        vline::sandbox::read_request_log(&self.loc()).expect("request log")
    }

    /// Clients that talk to this sandbox directly (setup and checks), patient with faults.
    pub fn clients(&self) -> Clients {
        let b = &self.base;
        let profile = Config::default()
            .profile(None)
            .expect("sandbox profile")
            .with_sandbox_urls(
                &format!("{b}/zoom/v2"),
                &format!("{b}/zoom/oauth/token"),
                &format!("{b}/movius"),
                &format!("{b}/carrier"),
            );
        let secrets = profile.resolve_secrets().expect("demo secrets");
        let opts = TransportOptions {
            timeout: Duration::from_secs(2),
            max_retries: 12,
            backoff_base: Duration::from_millis(5),
            backoff_max: Duration::from_millis(100),
            ..TransportOptions::default()
        };
        profile.clients_with(&secrets, opts).expect("clients")
    }

    /// A sandbox process with `n` licensed users and their `n` row numbers in the pool, and the
    /// home's profile pointing at it: the start of every lab run.
    pub fn ready(home: &Home, n: usize) -> Serve {
        let sb = Serve::start(home, n, &[]);
        sb.configure(home, "");
        provision(&sb, 0..n);
        sb
    }

    /// Write `$VLINE_HOME/config.toml`: a real-kind profile `lab` on this sandbox over loopback.
    pub fn configure(&self, home: &Home, extra: &str) {
        home.file("config.toml", &lab_config(&self.base, extra));
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A real-kind profile pointing at a sandbox at `base`; secrets come from the environment.
pub(crate) fn lab_config(base: &str, extra: &str) -> String {
    format!(
        r#"default_profile = "lab"
[profiles.lab]
kind = "real"
zoom_api_url = "{base}/zoom/v2"
zoom_oauth_url = "{base}/zoom/oauth/token"
zoom_account_id = "sandbox-account"
zoom_client_id = "sandbox-client"
zoom_client_secret_env = "{ZOOM_SECRET_VAR}"
movius_url = "{base}/movius"
movius_user = "sandbox-api"
movius_password_env = "{MOVIUS_SECRET_VAR}"
movius_org = "org-zoom"
max_changes = 100000
{extra}
"#
    )
}

/// `vline` in this home with the lab secrets in the environment.
pub(crate) fn lab(home: &Home) -> Command {
    let mut c = home.cmd();
    c.env(ZOOM_SECRET_VAR, ZOOM_SECRET)
        .env(MOVIUS_SECRET_VAR, MOVIUS_SECRET);
    c
}

/// `vline --json bulk onboard-new-user --yes` on `csv` through the lab profile, results to `out`,
/// output piped: the run the lab tests start (callers add `--resume`, then spawn or wait).
pub(crate) fn lab_bulk(home: &Home, csv: &Path, concurrency: usize, out: &Path) -> Command {
    let mut c = lab(home);
    c.args([
        "--json",
        "bulk",
        "onboard-new-user",
        "--yes",
        "--concurrency",
    ])
    .arg(concurrency.to_string())
    .arg("--csv")
    .arg(csv)
    .arg("--out")
    .arg(out)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    c
}

/// Row `i`'s number and Zoom user (the bench users of `vline sandbox reset --users`).
pub(crate) fn row(i: usize) -> (E164, String) {
    (
        E164::parse(&format!("+1646555{i:04}")).unwrap(),
        format!("bench{:05}@jpmc.example", i + 1),
    )
}

/// The carrier puts the rows' numbers into the pool (what T-Mobile does before a migration).
pub(crate) fn provision(sb: &Serve, rows: std::ops::Range<usize>) {
    let c = sb.clients();
    let carrier = c.carrier.as_ref().expect("carrier client");
    let numbers: Vec<E164> = rows.map(|i| row(i).0).collect();
    for chunk in numbers.chunks(500) {
        carrier
            .provision_ptn(chunk, &["reserved:jpmc".to_string()])
            .expect("provision PTNs");
    }
}

pub(crate) fn write_csv(home: &Home, name: &str, rows: &[usize]) -> PathBuf {
    let mut s = String::from("phone_number,user\n");
    for &i in rows {
        let (n, u) = row(i);
        s.push_str(&format!("{n},{u}\n"));
    }
    home.file(name, &s)
}

pub(crate) fn read_results(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut rd = csv::Reader::from_path(path).expect("results CSV");
    let head: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    rd.records()
        .map(|r| {
            let r = r.expect("results row");
            head.iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

pub(crate) fn bulk(home: &Home, csv: &Path, out: &Path, extra: &[&str]) -> Output {
    lab(home)
        .args(["--json", "bulk", "onboard-new-user", "--yes", "--csv"])
        .arg(csv)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn report(o: &Output) -> Value {
    json(o)["report"].clone()
}

/// What the sandbox holds for the rows' numbers: for each number, (account has Zoom on,
/// Zoom holder's email, peered).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct NumberState {
    pub account: Option<bool>,
    pub holder: Option<String>,
    pub peered: bool,
}

pub(crate) fn sandbox_state(sb: &Serve) -> HashMap<String, NumberState> {
    let c = sb.clients();
    let ids: HashMap<String, String> = c
        .zoom
        .users()
        .expect("zoom users")
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect();
    let mut out: HashMap<String, NumberState> = HashMap::new();
    for a in c
        .movius
        .users(&UserListQuery {
            organization_id: "org-jpmc".into(),
            sub_org: true,
            exclude_channel: None,
        })
        .expect("movius users")
    {
        let n = E164::parse(&a.phone_number).unwrap().to_string();
        out.entry(n).or_default().account = Some(a.enable_zoom);
    }
    for z in c
        .zoom
        .numbers(&NumberQuery {
            kind: Some(NumberType::All),
            ..NumberQuery::default()
        })
        .expect("zoom numbers")
    {
        let e = out.entry(z.number.clone()).or_default();
        e.holder = z.assignee.map(|a| ids.get(&a.id).cloned().unwrap_or(a.id));
    }
    for p in c.zoom.peering_numbers().expect("peering numbers") {
        let n = E164::parse(&p.phone_number).unwrap().to_string();
        out.entry(n).or_default().peered = true;
    }
    out
}

/// Check the results CSV against the sandbox: every row has a status; done rows are fully
/// onboarded; failed rows have a reason and no half state. Returns the failed rows' indexes.
fn check_results_match_sandbox(
    results: &[BTreeMap<String, String>],
    rows: &[usize],
    state: &HashMap<String, NumberState>,
) -> Vec<usize> {
    assert_eq!(results.len(), rows.len(), "no row lost from the results");
    let by_number: HashMap<String, usize> =
        rows.iter().map(|&i| (row(i).0.to_string(), i)).collect();
    let mut seen = HashSet::new();
    let mut failed = Vec::new();
    for r in results {
        let n = E164::parse(&r["phone_number"]).unwrap().to_string();
        let i = *by_number.get(&n).expect("a row of the input");
        assert!(seen.insert(i), "row {n} appears twice in the results");
        let (_, user) = row(i);
        let st = state.get(&n).cloned().unwrap_or_default();
        match r["status"].as_str() {
            "done" | "skipped" => {
                assert_eq!(
                    st.account,
                    Some(true),
                    "{n} done: Zoom-enabled account ({r:?})"
                );
                assert!(st.peered, "{n} done: peered");
                assert_eq!(
                    st.holder.as_deref(),
                    Some(user.as_str()),
                    "{n} done: assigned to {user}"
                );
            }
            "failed" => {
                assert!(
                    !r["detail"].trim().is_empty(),
                    "{n} failed without a reason"
                );
                // No half state: either nothing was created, or a Zoom-enabled account whose
                // peered number nobody else holds (a re-run finishes it).
                match st.account {
                    None => {
                        assert!(!st.peered, "{n} failed: peered without an account");
                        assert_eq!(st.holder, None, "{n} failed: assigned without an account");
                    }
                    Some(zoom) => {
                        assert!(zoom, "{n} failed: an account without Zoom");
                        assert!(st.peered, "{n} failed: Zoom account but not peered");
                        assert!(
                            st.holder.is_none() || st.holder.as_deref() == Some(user.as_str()),
                            "{n} failed: held by {:?}",
                            st.holder
                        );
                    }
                }
                failed.push(i);
            }
            other => panic!("{n}: status '{other}' is neither done nor failed ({r:?})"),
        }
    }
    failed
}

/// No write repeated: no Movius add that found the account already there, at most one
/// successful add per account created, at most one successful assign per user.
fn check_no_repeated_write(log: &[LoggedRequest], accounts_created: usize) {
    let ok = |r: &LoggedRequest| (200..300).contains(&r.status);
    let adds: Vec<&LoggedRequest> = log.iter().filter(|r| r.op == "movius.add").collect();
    let dup_adds: Vec<_> = adds.iter().filter(|r| r.status == 409).collect();
    assert!(
        dup_adds.is_empty(),
        "an add was sent for an existing account: {dup_adds:?}"
    );
    assert_eq!(
        adds.iter().filter(|r| ok(r)).count(),
        accounts_created,
        "one successful add per account"
    );
    let mut assigns: HashMap<&str, usize> = HashMap::new();
    for r in log.iter().filter(|r| r.op == "zoom.assign_number" && ok(r)) {
        *assigns.entry(r.path.as_str()).or_default() += 1;
    }
    let repeated: Vec<_> = assigns.iter().filter(|(_, &c)| c > 1).collect();
    assert!(repeated.is_empty(), "numbers assigned twice: {repeated:?}");
}

fn reconcile(home: &Home) -> Vec<Value> {
    let o = lab(home)
        .args(["--json", "run", "reconcile", "org=org-jpmc"])
        .output()
        .unwrap();
    assert_code(&o, 0);
    json(&o)["result"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("reconcile result: {}", stdout(&o)))
}

/// Findings about the rows' numbers only (the demo seed has drift of its own, on purpose).
fn findings_for(findings: &[Value], rows: &[usize]) -> Vec<(String, String)> {
    let ours: HashSet<String> = rows.iter().map(|&i| row(i).0.to_string()).collect();
    findings
        .iter()
        .filter_map(|f| {
            let n = f["phone_number"].as_str()?.to_string();
            ours.contains(&n)
                .then(|| (n, f["kind"].as_str().unwrap_or("").to_string()))
        })
        .collect()
}

fn fault_mix(latency_ms: u64) -> Faults {
    Faults {
        http_5xx_share: 0.05,
        timeout_share: 0.02,
        peering_fail_share: 0.03,
        // A few certain failures on top of the random 3%, so the re-run always has work.
        peering_fail_numbers: [5, 50, 100].iter().map(|&i| row(i).0.to_string()).collect(),
        burst_429: Some(Burst429 {
            every_n: 100,
            len: 2,
            retry_after: true,
        }),
        latency_ms: [
            ("zoom", latency_ms),
            ("movius", latency_ms),
            ("carrier", latency_ms),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
        ..Faults::default()
    }
}

/// Group 1: the whole fault mix on `n` rows; then reconcile; then a re-run of the failed rows.
fn faults_run(n: usize, latency_ms: u64, concurrency: &str) {
    let home = Home::new();
    let sb = Serve::start(&home, n, &[]);
    // Shorter than the sandbox's 30 s hang, so a timeout is a timeout, not a stall.
    sb.configure(&home, "http_timeout_secs = 2");
    provision(&sb, 0..n);
    let rows: Vec<usize> = (0..n).collect();
    let csv = write_csv(&home, "rows.csv", &rows);
    let out = home.path().join("results.csv");
    sb.set_faults(&fault_mix(latency_ms));

    let t0 = Instant::now();
    let o = bulk(&home, &csv, &out, &["--concurrency", concurrency]);
    let took = t0.elapsed();
    let rep = report(&o);
    assert!(
        matches!(o.status.code(), Some(0) | Some(1)),
        "exit {:?}: {}",
        o.status.code(),
        stderr(&o)
    );
    assert_eq!(rep["rows"], n as u64, "{rep}");
    assert_eq!(rep["not_started"], 0, "{rep}");
    let failed_n = rep["failed"].as_u64().unwrap();
    assert_eq!(rep["done"].as_u64().unwrap() + failed_n, n as u64, "{rep}");
    assert_eq!(o.status.code(), Some(if failed_n > 0 { 1 } else { 0 }));

    sb.set_faults(&Faults::default());
    let results = read_results(&out);
    let state = sandbox_state(&sb);
    let failed = check_results_match_sandbox(&results, &rows, &state);
    assert_eq!(failed.len() as u64, failed_n);
    let accounts = rows
        .iter()
        .filter(|&&i| {
            state
                .get(&row(i).0.to_string())
                .is_some_and(|s| s.account.is_some())
        })
        .count();
    check_no_repeated_write(&sb.log(), accounts);

    // Reconcile: drift only on the numbers of failed rows (a Zoom account left unassigned).
    let findings = findings_for(&reconcile(&home), &rows);
    let failed_numbers: HashSet<String> = failed.iter().map(|&i| row(i).0.to_string()).collect();
    for (num, kind) in &findings {
        assert!(
            failed_numbers.contains(num) && kind == "unassigned_in_zoom",
            "reconcile found {kind} on {num}, which is not a reported failure"
        );
    }

    // Re-run the failed rows (a CSV of them), faults still on except peering failures.
    let mut rerun_faults = fault_mix(latency_ms);
    rerun_faults.peering_fail_share = 0.0;
    rerun_faults.peering_fail_numbers.clear();
    sb.set_faults(&rerun_faults);
    if !failed.is_empty() {
        let csv2 = write_csv(&home, "failed.csv", &failed);
        let out2 = home.path().join("failed.results.csv");
        let o2 = bulk(&home, &csv2, &out2, &["--concurrency", concurrency]);
        assert_code(&o2, 0);
        assert_eq!(report(&o2)["done"], failed.len() as u64);
    }
    sb.set_faults(&Faults::default());
    let state = sandbox_state(&sb);
    for &i in &rows {
        let (num, user) = row(i);
        let st = &state[num.as_str()];
        assert_eq!(st.account, Some(true), "{num}");
        assert_eq!(st.holder.as_deref(), Some(user.as_str()), "{num}");
    }
    assert!(findings_for(&reconcile(&home), &rows).is_empty());
    let log = sb.log();
    check_no_repeated_write(&log, n);
    let faults_seen = |s: u16| log.iter().filter(|r| r.status == s).count();
    eprintln!(
        "FIGURE faults: rows={n} latency={latency_ms}ms concurrency={concurrency} time={:.1}s done={} failed={failed_n} rerun_done={} requests={} 503={} 504={} 429={} peering_1005={}",
        took.as_secs_f64(),
        rep["done"],
        failed.len(),
        log.len(),
        faults_seen(503),
        faults_seen(504),
        faults_seen(429),
        log.iter().filter(|r| r.op == "movius.add" && r.status == 422).count(),
    );
}

#[test]
fn bulk_under_faults_loses_no_row_and_reruns_the_failed_ones() {
    faults_run(200, 20, "8");
}

#[test]
#[ignore = "full size: 2,000 rows with 200 ms latency (run with --release)"]
fn bulk_under_faults_full_size() {
    faults_run(2000, 200, "24");
}

/// The newest run in the journal, if any.
fn last_run(home: &Home) -> Option<i64> {
    let o = lab(home)
        .args(["--json", "journal", "list"])
        .output()
        .unwrap();
    assert_code(&o, 0);
    json(&o).as_array()?.first()?["id"].as_i64()
}

/// Group 2: SIGKILL the run `kills` times at random points, resume each time; optionally also
/// SIGKILL and restart the sandbox mid-run.
fn crash_run(n: usize, kills: usize, kill_sandbox: bool) {
    let seed: u64 = std::env::var("VLINE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("crash test seed {seed} (VLINE_CRASH_SEED to replay)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let home = Home::new();
    let mut sb = Serve::start(&home, n, &[]);
    sb.configure(&home, "http_timeout_secs = 2");
    provision(&sb, 0..n);
    let rows: Vec<usize> = (0..n).collect();
    let csv = write_csv(&home, "rows.csv", &rows);
    // Faults without peering failures, so that at the end every row must be done.
    let mut faults = fault_mix(10);
    faults.peering_fail_share = 0.0;
    faults.peering_fail_numbers.clear();
    faults.timeout_share = 0.0;
    sb.set_faults(&faults);

    let t0 = Instant::now();
    let mut run: Option<i64> = None;
    let mut killed = 0;
    let mut attempts = 0;
    let final_out = home.path().join("results-final.csv");
    let final_report = loop {
        attempts += 1;
        assert!(attempts <= kills + 6, "the run never finished");
        let out = home.path().join(format!("results-{attempts}.csv"));
        let mut cmd = lab_bulk(
            &home,
            &csv,
            8,
            if killed < kills { &out } else { &final_out },
        );
        if let Some(r) = run {
            cmd.args(["--resume", &r.to_string()]);
        }
        let mut child = cmd.spawn().unwrap();
        if killed < kills {
            // Spread the kills over the whole run (roughly 10 rows/s in a release build).
            let hi = (n as u64 * 100 / (kills as u64 + 1)).max(2500);
            let wait = Duration::from_millis(rng.random_range(400..hi));
            let deadline = Instant::now() + wait;
            let mut sandbox_bounced = false;
            while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
                if kill_sandbox && !sandbox_bounced && killed == 0 {
                    // Mid-run, the sandbox dies too and comes back on the same state file.
                    std::thread::sleep(wait / 2);
                    sb.restart();
                    sandbox_bounced = true;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap();
                let _ = child.wait();
                killed += 1;
                run = run.or_else(|| last_run(&home));
                continue;
            }
        }
        let o = child.wait_with_output().unwrap();
        if o.status.code() == Some(0) && killed >= kills {
            break report(&o);
        }
        // Finished before the planned kills (small run): that attempt counts as the last.
        assert!(
            matches!(o.status.code(), Some(0) | Some(1)),
            "exit {:?}: {}",
            o.status.code(),
            stderr(&o)
        );
        run = run.or_else(|| last_run(&home));
        killed = kills;
        if o.status.code() == Some(0) {
            std::fs::copy(&out, &final_out).unwrap();
            break report(&o);
        }
    };
    let took = t0.elapsed();
    sb.set_faults(&Faults::default());
    assert_eq!(final_report["rows"], n as u64, "{final_report}");
    assert_eq!(final_report["failed"], 0, "{final_report}");
    assert_eq!(
        final_report["done"].as_u64().unwrap() + final_report["skipped"].as_u64().unwrap(),
        n as u64,
        "{final_report}"
    );

    let results = read_results(&final_out);
    let state = sandbox_state(&sb);
    let failed = check_results_match_sandbox(&results, &rows, &state);
    assert!(failed.is_empty(), "{failed:?}");
    check_no_repeated_write(&sb.log(), n);

    // The journal agrees: one run, every line done, with the Zoom number id the sandbox has.
    let run = RunId(run.or_else(|| last_run(&home)).expect("a run"));
    let journal = Journal::open(&home.path().join("journal.sqlite")).unwrap();
    let jrows = journal.bulk_rows(run).unwrap();
    assert_eq!(jrows.len(), n);
    let zoom_ids: HashMap<String, String> = sb
        .clients()
        .zoom
        .numbers(&NumberQuery {
            kind: Some(NumberType::Assigned),
            ..NumberQuery::default()
        })
        .unwrap()
        .into_iter()
        .map(|z| (z.number, z.id))
        .collect();
    for r in &jrows {
        assert_eq!(
            r.status,
            RowStatus::Done,
            "line {} {}: {}",
            r.line,
            r.key,
            r.detail
        );
        let num = E164::parse(&r.key).unwrap().to_string();
        assert_eq!(state[&num].account, Some(true), "{num}");
        if let Some(id) = &r.zoom_number_id {
            assert_eq!(zoom_ids.get(&num), Some(id), "{num}: journal's Zoom id");
        }
    }
    // An operator who runs (part of) the same file again as a new run changes nothing: each row
    // sees its state is already there and sends no write.
    let writes_before = sb.log().iter().filter(|r| r.is_write).count();
    let again_rows: Vec<usize> = (0..n.min(30)).collect();
    let again = bulk(
        &home,
        &write_csv(&home, "again.csv", &again_rows),
        &home.path().join("again.results.csv"),
        &["--concurrency", "8"],
    );
    assert_code(&again, 0);
    let writes_after: Vec<LoggedRequest> = sb.log().into_iter().filter(|r| r.is_write).collect();
    assert_eq!(
        writes_after.len(),
        writes_before,
        "a second run of done rows sent writes: {:?}",
        &writes_after[writes_before.min(writes_after.len())..]
    );

    let reattempted = jrows.iter().filter(|r| r.attempts > 1).count();
    eprintln!(
        "FIGURE crashes: rows={n} kills={killed} sandbox_restart={kill_sandbox} attempts={attempts} time={:.1}s rows_started_twice={reattempted} failed=0 repeated_writes=0",
        took.as_secs_f64()
    );
}

#[test]
fn bulk_killed_at_random_points_resumes_and_does_every_row_once() {
    crash_run(120, 3, false);
}

#[test]
fn sandbox_killed_and_restarted_mid_run_keeps_its_state() {
    crash_run(60, 1, true);
}

#[test]
#[ignore = "full size: 2,000 rows, 10 SIGKILLs (run with --release)"]
fn bulk_killed_ten_times_full_size() {
    crash_run(2000, 10, false);
}

/// Group 5: two bulk runs on one journal at once, overlapping rows.
#[test]
fn two_runs_on_one_journal_the_second_is_told_who_holds_the_rows() {
    let home = Home::new();
    let n = 40;
    let sb = Serve::ready(&home, n);
    // Slow the first run down so the second starts while it holds its rows.
    let mut slow = Faults::default();
    slow.latency_ms.insert("movius".into(), 150);
    sb.set_faults(&slow);
    let first_rows: Vec<usize> = (0..30).collect();
    let second_rows: Vec<usize> = (20..n).collect();
    let csv1 = write_csv(&home, "a.csv", &first_rows);
    let csv2 = write_csv(&home, "b.csv", &second_rows);
    let first = lab_bulk(&home, &csv1, 2, &home.path().join("a.out.csv"))
        .spawn()
        .unwrap();
    // Wait until the first run has claimed its rows (it is in the journal and has started rows).
    let journal_path = home.path().join("journal.sqlite");
    let deadline = Instant::now() + Duration::from_secs(30);
    let first_id = loop {
        assert!(Instant::now() < deadline, "first run never started");
        if journal_path.exists() {
            if let Ok(j) = Journal::open(&journal_path) {
                if let Some(r) = j.runs(5).unwrap().first() {
                    let id = r.id;
                    if j.bulk_rows(id)
                        .unwrap()
                        .iter()
                        .any(|r| r.status != RowStatus::Pending)
                    {
                        break id;
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let second = lab(&home)
        .args(["bulk", "onboard-new-user", "--yes", "--csv"])
        .arg(&csv2)
        .arg("--out")
        .arg(home.path().join("b.out.csv"))
        .output()
        .unwrap();
    assert_code(&second, 3);
    let msg = stderr(&second);
    assert!(
        msg.contains(&format!("run {first_id}"))
            && msg.contains("still working on 10 of these rows"),
        "{msg}"
    );
    // The refused run changed nothing: no request for its own rows beyond the first run's.
    let first_out = first.wait_with_output().unwrap();
    assert_code(&first_out, 0);
    assert_eq!(report(&first_out)["done"], 30);
    let state = sandbox_state(&sb);
    for i in 30..n {
        let num = row(i).0.to_string();
        assert!(
            state.get(&num).is_none_or(|s| s.account.is_none()),
            "{num} was touched"
        );
    }
    // The journal is intact and readable; the refused run is recorded as refused.
    let o = lab(&home)
        .args(["--json", "journal", "list"])
        .output()
        .unwrap();
    assert_code(&o, 0);
    let runs = json(&o);
    let outcomes: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, vec!["refused", "done"], "{runs}");
    let j = Journal::open(&journal_path).unwrap();
    assert!(j
        .bulk_rows(first_id)
        .unwrap()
        .iter()
        .all(|r| r.status == RowStatus::Done));
    let check: String = rusqlite::Connection::open(&journal_path)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");

    // Once the first is finished, the second run goes through (its overlap is already done).
    let again = lab(&home)
        .args(["--json", "bulk", "onboard-new-user", "--yes", "--csv"])
        .arg(&csv2)
        .arg("--out")
        .arg(home.path().join("b2.out.csv"))
        .output()
        .unwrap();
    assert_code(&again, 0);
    assert_eq!(report(&again)["done"], 20);
}

/// Group 5: two runs on disjoint rows at the same time share the journal without corrupting it.
#[test]
fn two_disjoint_runs_at_once_both_finish_and_the_journal_is_intact() {
    let home = Home::new();
    let n = 40;
    let sb = Serve::ready(&home, n);
    let csv1 = write_csv(&home, "a.csv", &(0..20).collect::<Vec<_>>());
    let csv2 = write_csv(&home, "b.csv", &(20..40).collect::<Vec<_>>());
    let spawn = |csv: &Path, out: &str| {
        lab_bulk(&home, csv, 4, &home.path().join(out))
            .spawn()
            .unwrap()
    };
    let a = spawn(&csv1, "a.out.csv");
    let b = spawn(&csv2, "b.out.csv");
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_code(&a, 0);
    assert_code(&b, 0);
    assert_eq!(report(&a)["done"], 20);
    assert_eq!(report(&b)["done"], 20);
    let j = Journal::open(&home.path().join("journal.sqlite")).unwrap();
    let runs = j.runs(10).unwrap();
    assert_eq!(runs.len(), 2);
    for r in &runs {
        let rows = j.bulk_rows(r.id).unwrap();
        assert_eq!(rows.len(), 20);
        for x in &rows {
            assert!(
                x.status == RowStatus::Done && x.attempts == 1,
                "run {} line {}: {:?} after {} attempt(s): {}",
                r.id,
                x.line,
                x.status,
                x.attempts,
                x.detail
            );
        }
    }
    let o = lab(&home).args(["journal", "list"]).output().unwrap();
    assert_code(&o, 0);
    check_no_repeated_write(&sb.log(), n);
}

// ---- What operators do between and during attempts (issue 15) ----

fn journal_of(home: &Home) -> Journal {
    Journal::open(&home.path().join("journal.sqlite")).expect("journal")
}

/// Poll the journal until `f` finds what it waits for (or fail after `secs`).
fn wait_journal<T>(
    home: &Home,
    secs: u64,
    what: &str,
    mut f: impl FnMut(&Journal) -> Option<T>,
) -> T {
    let path = home.path().join("journal.sqlite");
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        if path.exists() {
            if let Ok(j) = Journal::open(&path) {
                if let Some(t) = f(&j) {
                    return t;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The newest run, once at least `n` of its rows are done.
fn run_with_done_rows(j: &Journal, n: usize) -> Option<RunId> {
    let r = j.runs(1).ok()?.first()?.id;
    let done = j
        .bulk_rows(r)
        .ok()?
        .iter()
        .filter(|x| x.status == RowStatus::Done)
        .count();
    (done >= n).then_some(r)
}

fn signal(pid: u32, sig: &str) {
    let st = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .expect("kill");
    assert!(st.success(), "kill -{sig} {pid}");
}

/// The child's output once it exits; fails (and kills it) if it runs past `limit`.
fn exit_within(mut child: Child, limit: Duration) -> Output {
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!("still running after {limit:?}:\n{}", stderr(&o));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn writes_logged(sb: &Serve) -> usize {
    sb.log().iter().filter(|r| r.is_write).count()
}

/// One owner per run: `--resume` of a run whose process is alive is refused (exit 3, naming the
/// pid and host) and sends nothing; the owner finishes the run alone, every row once.
#[test]
fn a_resume_while_the_run_is_alive_is_refused_and_sends_nothing() {
    let home = Home::new();
    let n = 30;
    let sb = Serve::ready(&home, n);
    let mut slow = Faults::default();
    slow.latency_ms.insert("movius".into(), 100);
    sb.set_faults(&slow);
    let csv = write_csv(&home, "rows.csv", &(0..n).collect::<Vec<_>>());
    let out = home.path().join("rows.out.csv");
    let first = lab_bulk(&home, &csv, 2, &out).spawn().unwrap();
    let run = wait_journal(&home, 60, "the first rows done", |j| {
        run_with_done_rows(j, 2)
    });
    // Freeze the owner (alive, but sending nothing), so that any request logged from now on
    // would come from the resume.
    signal(first.id(), "STOP");
    std::thread::sleep(Duration::from_millis(600));
    let before = sb.log().len();
    let second = lab_bulk(&home, &csv, 2, &home.path().join("second.out.csv"))
        .args(["--resume", &run.to_string()])
        .output()
        .unwrap();
    let after = sb.log().len();
    signal(first.id(), "CONT");
    assert_code(&second, 3);
    let msg = stderr(&second);
    let host = vline::journal::current_host();
    assert!(
        msg.contains(&format!(
            "run {run} is being worked by process {} on {host}",
            first.id()
        )),
        "{msg}"
    );
    assert!(msg.contains("nothing was sent"), "{msg}");
    assert_eq!(after, before, "the refused resume sent requests");

    let first = first.wait_with_output().unwrap();
    assert_code(&first, 0);
    assert_eq!(report(&first)["done"], n as u64);
    let j = journal_of(&home);
    let (summary, _) = j.run(run).unwrap().unwrap();
    assert_eq!(summary.outcome, vline::journal::RunOutcome::Done);
    for r in j.bulk_rows(run).unwrap() {
        assert!(
            r.status == RowStatus::Done && r.attempts == 1,
            "{}: {:?} after {} attempts",
            r.key,
            r.status,
            r.attempts
        );
    }
    check_no_repeated_write(&sb.log(), n);
}

/// Rows have an identity: a run SIGKILLed, its file edited (a row inserted at the top, one
/// removed, two swapped), then resumed: every row of the edited file is done exactly once, the
/// removed one is reported, no row is skipped that was not done. A file whose row changed its
/// values under the same key is refused whole; while the resume works, a new run over the same
/// rows is refused.
#[test]
fn a_killed_run_resumed_on_an_edited_file_does_every_row_of_it_once() {
    let home = Home::new();
    let n = 60;
    // Row `n` is the one inserted later.
    let sb = Serve::ready(&home, n + 1);
    let mut slow = Faults::default();
    slow.latency_ms.insert("movius".into(), 40);
    sb.set_faults(&slow);
    let rows: Vec<usize> = (0..n).collect();
    let csv = write_csv(&home, "rows.csv", &rows);
    let out = home.path().join("rows.out.csv");
    let mut first = lab_bulk(&home, &csv, 4, &out).spawn().unwrap();
    let run = wait_journal(&home, 60, "12 rows done", |j| run_with_done_rows(j, 12));
    first.kill().unwrap();
    let _ = first.wait();
    // The sandbox finishes (and logs) what the killed process had in flight.
    std::thread::sleep(Duration::from_millis(800));
    let before: HashMap<String, (RowStatus, u64)> = journal_of(&home)
        .bulk_rows(run)
        .unwrap()
        .into_iter()
        .map(|r| (r.key, (r.status, r.attempts)))
        .collect();
    let removed = row(n - 1).0.to_string();
    assert_ne!(
        before[&removed].0,
        RowStatus::Done,
        "the row to remove should not be done yet"
    );

    let mut edited = rows.clone();
    edited.pop();
    edited.swap(20, 45);
    edited.insert(0, n);
    write_csv(&home, "rows.csv", &edited);

    // Same key, another user: the attempt is refused whole, with both values, before any call.
    let mut changed = String::from("phone_number,user\n");
    for &i in &edited {
        let (num, user) = row(i);
        let user = if i == 3 {
            "someone.else@jpmc.example".to_string()
        } else {
            user
        };
        changed.push_str(&format!("{num},{user}\n"));
    }
    let changed = home.file("changed.csv", &changed);
    let log0 = sb.log().len();
    let o = lab_bulk(&home, &changed, 4, &out)
        .args(["--resume", &run.to_string()])
        .output()
        .unwrap();
    assert_code(&o, 3);
    let msg = stderr(&o);
    assert!(
        msg.contains(row(3).0.as_str())
            && msg.contains(&row(3).1)
            && msg.contains("someone.else@jpmc.example"),
        "{msg}"
    );
    assert_eq!(sb.log().len(), log0, "a refused resume sent requests");

    // The resume; while it works, a new run over some of its rows is refused.
    let resumed = lab_bulk(&home, &csv, 4, &out)
        .args(["--resume", &run.to_string()])
        .spawn()
        .unwrap();
    let resumed_pid = resumed.id();
    wait_journal(&home, 60, "the resume to own the run", |j| {
        j.live_owner(run)
            .ok()
            .flatten()
            .filter(|o| o.pid == resumed_pid)
    });
    let overlap = write_csv(&home, "overlap.csv", &[n - 3, n - 2]);
    let other = lab_bulk(&home, &overlap, 2, &home.path().join("overlap.out.csv"))
        .output()
        .unwrap();
    let resumed = resumed.wait_with_output().unwrap();
    assert_code(&resumed, 0);
    assert_code(&other, 3);
    assert!(
        stderr(&other).contains(&format!("run {run} is still working on 2 of these rows")),
        "{}",
        stderr(&other)
    );

    let rep = report(&resumed);
    assert_eq!(rep["failed"], 0, "{rep}");
    assert_eq!(
        rep["done"].as_u64().unwrap() + rep["skipped"].as_u64().unwrap(),
        n as u64,
        "{rep}"
    );
    assert_eq!(rep["removed"], serde_json::json!([removed]), "{rep}");
    assert!(
        stderr(&resumed).contains(&removed) && stderr(&resumed).contains("not in"),
        "{}",
        stderr(&resumed)
    );
    // One results file for the run: every row of the edited file once, done, and the removed
    // row reported as not in the file.
    let results = read_results(&out);
    let mut seen = HashSet::new();
    for r in &results {
        let num = E164::parse(&r["phone_number"]).unwrap().to_string();
        assert!(seen.insert(num.clone()), "{num} twice in the results");
        if num == removed {
            assert!(r["detail"].starts_with("not in the latest file"), "{r:?}");
            continue;
        }
        assert_eq!(r["status"], "done", "{r:?}");
        assert!(!r["zoom_number_id"].is_empty(), "{r:?}");
        assert!(!r["movius_account_id"].is_empty(), "{r:?}");
    }
    assert_eq!(seen.len(), n + 1);
    // No row skipped that was not done: a row the resume did not start was done before.
    let j = journal_of(&home);
    for r in j.bulk_rows(run).unwrap() {
        if r.key == removed {
            continue;
        }
        assert_eq!(r.status, RowStatus::Done, "{}: {}", r.key, r.detail);
        match before.get(&r.key) {
            Some((st, attempts)) if *attempts == r.attempts => {
                assert_eq!(
                    *st,
                    RowStatus::Done,
                    "{} skipped but not done before",
                    r.key
                )
            }
            _ => {}
        }
    }
    // The sandbox: every row of the edited file onboarded; no write made twice.
    let state = sandbox_state(&sb);
    for &i in &edited {
        let (num, user) = row(i);
        let st = state.get(num.as_str()).cloned().unwrap_or_default();
        assert_eq!(st.account, Some(true), "{num}");
        assert_eq!(st.holder.as_deref(), Some(user.as_str()), "{num}");
    }
    let accounts = (0..=n)
        .filter(|&i| {
            state
                .get(row(i).0.as_str())
                .is_some_and(|s| s.account.is_some())
        })
        .count();
    check_no_repeated_write(&sb.log(), accounts);
}

/// The sandbox applies 30 % of writes and drops their answer; the run still does every row and
/// makes no write twice. The carrier's `POST /ptns` (the setup) is retried through the same
/// fault.
#[test]
fn writes_applied_whose_answer_is_lost_are_not_made_twice() {
    let home = Home::new();
    let n = 200;
    let sb = Serve::start(&home, n, &["--drop-after-apply", "0.3"]);
    sb.configure(&home, "http_timeout_secs = 2");
    // The carrier provisions the numbers 5 at a time: 40 POST /ptns, some answers dropped, each
    // repeated (it is idempotent) until answered.
    let c = sb.clients();
    let carrier = c.carrier.as_ref().expect("carrier client");
    let numbers: Vec<E164> = (0..n).map(|i| row(i).0).collect();
    for chunk in numbers.chunks(5) {
        carrier
            .provision_ptn(chunk, &["reserved:jpmc".to_string()])
            .expect("provision PTNs through dropped answers");
    }
    let csv = write_csv(&home, "rows.csv", &(0..n).collect::<Vec<_>>());
    let out = home.path().join("rows.out.csv");
    let t0 = Instant::now();
    let o = bulk(&home, &csv, &out, &["--concurrency", "8"]);
    assert_code(&o, 0);
    let rep = report(&o);
    assert_eq!(rep["done"], n as u64, "{rep}");
    let log = sb.log();
    let lost = |op: &str| log.iter().filter(|r| r.op == op && r.answer_lost).count();
    // The fault fired on every kind of write the run and its setup make.
    for op in ["carrier.provision_ptn", "movius.add", "zoom.assign_number"] {
        assert!(lost(op) > 0, "no {op} answer was dropped");
    }
    check_no_repeated_write(&log, n);
    let state = sandbox_state(&sb);
    for i in 0..n {
        let (num, user) = row(i);
        assert_eq!(state[num.as_str()].holder.as_deref(), Some(user.as_str()));
    }
    eprintln!(
        "FIGURE dropped: rows={n} time={:.1}s requests={} answers_lost={} (add {}, assign {})",
        t0.elapsed().as_secs_f64(),
        log.len(),
        log.iter().filter(|r| r.answer_lost).count(),
        lost("movius.add"),
        lost("zoom.assign_number"),
    );
}

/// One Ctrl-C: no new row, the rows in flight finish, the summary and the exact resume command,
/// exit 130, the journal run `interrupted`; the resume then does every remaining row once.
#[test]
fn one_ctrl_c_drains_the_rows_in_flight_and_says_how_to_resume() {
    let home = Home::new();
    let n = 60;
    let sb = Serve::ready(&home, n);
    let mut slow = Faults::default();
    slow.latency_ms.insert("movius".into(), 150);
    sb.set_faults(&slow);
    let csv = write_csv(&home, "rows.csv", &(0..n).collect::<Vec<_>>());
    let out = home.path().join("rows.out.csv");
    let child = lab_bulk(&home, &csv, 4, &out).spawn().unwrap();
    let run = wait_journal(&home, 60, "8 rows done", |j| run_with_done_rows(j, 8));
    let t0 = Instant::now();
    signal(child.id(), "INT");
    let o = exit_within(child, Duration::from_secs(30));
    let took = t0.elapsed();
    assert_code(&o, 130);
    let msg = stderr(&o);
    let resume_cmd = format!(
        "vline bulk onboard-new-user --csv {} --resume {run} --out {} --yes",
        csv.display(),
        out.display()
    );
    assert!(msg.contains(&resume_cmd), "{msg}");
    assert!(msg.contains(&format!("bulk run {run}: ")), "{msg}");
    let j = journal_of(&home);
    let (summary, _) = j.run(run).unwrap().unwrap();
    assert_eq!(summary.outcome, vline::journal::RunOutcome::Interrupted);
    let rows = j.bulk_rows(run).unwrap();
    let done_at_stop = rows.iter().filter(|r| r.status == RowStatus::Done).count();
    assert!(done_at_stop < n, "the run did not stop");
    // Drained: every row started has finished; none was cut off in flight.
    for r in &rows {
        assert!(
            matches!(r.status, RowStatus::Done | RowStatus::Pending),
            "{}: {:?} {}",
            r.key,
            r.status,
            r.detail
        );
    }

    let again = lab_bulk(&home, &csv, 4, &out)
        .args(["--resume", &run.to_string()])
        .output()
        .unwrap();
    assert_code(&again, 0);
    let rep = report(&again);
    assert_eq!(rep["skipped"], done_at_stop as u64, "{rep}");
    assert_eq!(rep["done"], (n - done_at_stop) as u64, "{rep}");
    for r in j.bulk_rows(run).unwrap() {
        assert!(
            r.status == RowStatus::Done && r.attempts == 1,
            "{}: {:?} after {} attempts",
            r.key,
            r.status,
            r.attempts
        );
    }
    check_no_repeated_write(&sb.log(), n);
    eprintln!(
        "FIGURE ctrl-c: stopped in {:.1}s with {done_at_stop}/{n} done; resume did {} once each",
        took.as_secs_f64(),
        n - done_at_stop
    );
}

/// A dry run is a plan: its rows say `planned`, and `--resume` of it is refused with a message
/// that says to run it live; nothing is sent.
#[test]
fn resuming_a_dry_run_is_refused_and_says_to_run_it_live() {
    let home = Home::new();
    let n = 5;
    let sb = Serve::ready(&home, n);
    let csv = write_csv(&home, "rows.csv", &(0..n).collect::<Vec<_>>());
    let out = home.path().join("plan.out.csv");
    let writes = writes_logged(&sb);
    let o = lab(&home)
        .args(["--json", "bulk", "onboard-new-user", "--dry-run", "--csv"])
        .arg(&csv)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_code(&o, 0);
    assert!(read_results(&out).iter().all(|r| r["status"] == "planned"));
    assert_eq!(writes_logged(&sb), writes, "the dry run sent a write");
    let run = last_run(&home).expect("the dry run");
    let again = lab_bulk(&home, &csv, 2, &home.path().join("again.out.csv"))
        .args(["--resume", &run.to_string()])
        .output()
        .unwrap();
    assert_code(&again, 2);
    let msg = stderr(&again);
    assert!(
        msg.contains(&format!("run r{run} was a dry run")) && msg.contains("Run it live"),
        "{msg}"
    );
    assert_eq!(
        writes_logged(&sb),
        writes,
        "the refused resume sent a write"
    );
}

/// Two processes race to resume the same killed run: exactly one takes it over, the other is
/// refused naming it; every row is done once.
#[test]
fn two_resumes_racing_for_a_dead_run_one_wins() {
    let home = Home::new();
    let n = 30;
    let sb = Serve::ready(&home, n);
    let mut slow = Faults::default();
    slow.latency_ms.insert("movius".into(), 60);
    sb.set_faults(&slow);
    let csv = write_csv(&home, "rows.csv", &(0..n).collect::<Vec<_>>());
    let mut first = lab_bulk(&home, &csv, 2, &home.path().join("first.out.csv"))
        .spawn()
        .unwrap();
    let run = wait_journal(&home, 60, "4 rows done", |j| run_with_done_rows(j, 4));
    first.kill().unwrap();
    let _ = first.wait();
    let resume = |name: &str| {
        lab_bulk(&home, &csv, 2, &home.path().join(name))
            .args(["--resume", &run.to_string()])
            .spawn()
            .unwrap()
    };
    let (a, b) = (resume("a.out.csv"), resume("b.out.csv"));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let codes = [a.status.code(), b.status.code()];
    assert!(
        codes == [Some(0), Some(3)] || codes == [Some(3), Some(0)],
        "{codes:?}\n--- a:\n{}\n--- b:\n{}",
        stderr(&a),
        stderr(&b)
    );
    let (won, lost) = if codes[0] == Some(0) {
        (&a, &b)
    } else {
        (&b, &a)
    };
    assert!(
        stderr(lost).contains(&format!("run {run} is being worked by process")),
        "{}",
        stderr(lost)
    );
    let rep = report(won);
    assert_eq!(
        rep["done"].as_u64().unwrap() + rep["skipped"].as_u64().unwrap(),
        n as u64,
        "{rep}"
    );
    for r in journal_of(&home).bulk_rows(run).unwrap() {
        assert_eq!(r.status, RowStatus::Done, "{}: {}", r.key, r.detail);
    }
    check_no_repeated_write(&sb.log(), n);
}

/// Ctrl-C twice: the calls in flight are abandoned at once, their rows recorded `interrupted`
/// with what the journal shows was sent for them ("no write was sent" only when none was); the
/// resume re-checks them and finishes every row without repeating a write.
#[test]
fn a_second_ctrl_c_abandons_the_calls_in_flight_and_says_what_was_sent() {
    let home = Home::new();
    let n = 24;
    let sb = Serve::ready(&home, n);
    let csv = write_csv(&home, "rows.csv", &(0..n).collect::<Vec<_>>());
    let out = home.path().join("rows.out.csv");
    let child = lab_bulk(&home, &csv, 4, &out).spawn().unwrap();
    let run = wait_journal(&home, 60, "2 rows done", |j| run_with_done_rows(j, 2));
    // From now on every call takes 3 s: the rows in flight are stuck in their calls.
    let mut slow = Faults::default();
    for svc in ["movius", "zoom"] {
        slow.latency_ms.insert(svc.into(), 3000);
    }
    sb.set_faults(&slow);
    std::thread::sleep(Duration::from_millis(700));
    signal(child.id(), "INT");
    std::thread::sleep(Duration::from_millis(300));
    signal(child.id(), "INT");
    let o = exit_within(child, Duration::from_secs(5));
    assert_code(&o, 130);
    assert!(stderr(&o).contains("--resume"), "{}", stderr(&o));
    let j = journal_of(&home);
    assert_eq!(
        j.run(run).unwrap().unwrap().0.outcome,
        vline::journal::RunOutcome::Interrupted
    );
    let rows = j.bulk_rows(run).unwrap();
    let cut: Vec<_> = rows
        .iter()
        .filter(|r| r.status == RowStatus::Interrupted)
        .collect();
    assert!(!cut.is_empty(), "no row was in flight");
    let writes = j.writes(Some(run)).unwrap();
    // A write abandoned in flight may have been made: its journal entry never says otherwise.
    // (Whether a row was in a write or a read at that moment is up to timing.)
    let abandoned: Vec<_> = writes
        .iter()
        .filter_map(|w| w.error.as_deref())
        .filter(|e| e.contains("interrupted by the operator"))
        .collect();
    for e in &abandoned {
        assert!(
            e.contains("may have reached the service") && !e.contains("nothing was sent"),
            "{e}"
        );
    }
    for r in &cut {
        let sent_for_it = writes
            .iter()
            .filter(|w| w.target.contains(r.key.trim_start_matches('+')))
            .count();
        if sent_for_it == 0 {
            assert!(
                r.detail.contains("before any write was sent"),
                "{}",
                r.detail
            );
        } else {
            assert!(
                r.detail.contains("the journal shows for it")
                    && !r.detail.contains("nothing was sent"),
                "{}",
                r.detail
            );
        }
    }
    sb.set_faults(&Faults::default());
    // The sandbox finishes what the abandoned calls had started.
    std::thread::sleep(Duration::from_millis(3500));
    let again = lab_bulk(&home, &csv, 4, &out)
        .args(["--resume", &run.to_string()])
        .output()
        .unwrap();
    assert_code(&again, 0);
    for r in journal_of(&home).bulk_rows(run).unwrap() {
        assert_eq!(r.status, RowStatus::Done, "{}: {}", r.key, r.detail);
    }
    let results = read_results(&out);
    assert!(
        results
            .iter()
            .filter(|r| r["first_failure"].starts_with("interrupted"))
            .count()
            >= cut.len(),
        "the first attempts' reasons are kept in the results"
    );
    check_no_repeated_write(&sb.log(), n);
}
