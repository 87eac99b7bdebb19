//! Per-call overhead of the Rhai host: the same read calls through a script and through the Rust
//! client directly, against the in-memory sandbox.
//!
//! Both sides share one transport (token cache, connection pool) and one sandbox with its rate
//! limits off on both ends: this measures what the host adds per call (argument conversion, the
//! session's read path, the result turned into a script value, the interpreter's loop), not Zoom's
//! budget. Rounds alternate which side goes first so warm-up and drift hit both alike.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use crate::api::http::TransportOptions;
use crate::guard::{Guard, Policy, TerminalPrompter};
use crate::host::engine::{self, Limits};
use crate::host::session::Session;
use crate::sandbox::{Sandbox, SandboxOptions};

/// The number read on both sides (demo seed: peered, assigned to alice).
const NUMBER: &str = "+13126170001";
/// Rounds per side. Times per call are the median round's; the ratio is the median of the rounds'
/// own ratios (each pairs two runs next to each other in time, so drift cancels).
const ROUNDS: usize = 11;

/// What one benchmark run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HostBench {
    pub calls: u64,
    pub rounds: usize,
    pub direct_us_per_call: f64,
    pub script_us_per_call: f64,
    /// script / direct, the median of the rounds' ratios; the goal is ≤ 1.10.
    pub overhead_ratio: f64,
    pub direct_rounds_us: Vec<f64>,
    pub script_rounds_us: Vec<f64>,
    /// The host's own share, without the network: turning one answer into a script value…
    pub convert_us_per_call: f64,
    /// …and one loop turn calling a host function that returns a ready value.
    pub interpreter_us_per_call: f64,
}

/// `calls` read calls per side (at least 1).
pub fn run(json: bool, calls: u64) -> anyhow::Result<()> {
    let b = measure(calls)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&json!(b))?);
        return Ok(());
    }
    println!(
        "host overhead: {} read calls (zoom::number(\"{NUMBER}\")) per side per round, {} rounds, in-memory sandbox, rate limits off",
        b.calls, b.rounds
    );
    println!(
        "  direct (Rust client):  {:>9.1} µs/call  (rounds: {})",
        b.direct_us_per_call,
        list(&b.direct_rounds_us)
    );
    println!(
        "  script (Rhai host):    {:>9.1} µs/call  (rounds: {})",
        b.script_us_per_call,
        list(&b.script_rounds_us)
    );
    let verdict = if b.overhead_ratio <= 1.10 {
        "within the goal"
    } else {
        "over the goal"
    };
    println!(
        "  overhead ratio:        {:>9.3}  ({verdict}; median of the rounds' script/direct ratios)",
        b.overhead_ratio
    );
    println!(
        "  host share w/o network: {:>9.2} µs/call  (result → script value {:.2}, interpreter loop + call {:.2})",
        b.convert_us_per_call + b.interpreter_us_per_call,
        b.convert_us_per_call,
        b.interpreter_us_per_call
    );
    println!(
        "calls={} direct_us_per_call={:.1} script_us_per_call={:.1} overhead_ratio={:.3} (goal ≤ 1.10)",
        b.calls, b.direct_us_per_call, b.script_us_per_call, b.overhead_ratio
    );
    Ok(())
}

fn list(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x:.1}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Run the benchmark: `calls` reads per side per round.
pub fn measure(calls: u64) -> anyhow::Result<HostBench> {
    let sb = Sandbox::start(SandboxOptions {
        enforce_rate_limits: false,
        ..SandboxOptions::default()
    })
    .context("cannot start the in-memory sandbox")?;
    let profile = crate::config::Config::default()
        .profile(None)?
        .with_sandbox_urls(
            &sb.zoom_api_url(),
            &sb.zoom_oauth_url(),
            &sb.movius_url(),
            &sb.carrier_url(),
        );
    let secrets = profile.resolve_secrets()?;
    let opts = TransportOptions {
        rate_limit: false,
        ..profile.transport_options()
    };
    let clients = profile.clients_with(&secrets, opts)?;

    // Reads only: a read-only guard, no journal (reads are never journaled).
    let guard = Arc::new(Guard::new(
        Policy {
            read_only: true,
            ..Policy::default()
        },
        Box::new(TerminalPrompter),
    ));
    let mut session = Session::new(clients.clone(), guard, None, &profile.name, true);
    session.quiet = true;
    // The modules a real run offers.
    session.modules = vec![crate::bulk::script::register];
    let session = Arc::new(session);
    // The limits a real run has: counting operations is part of the host's cost.
    let mut engine = engine::build(Some(&session), Limits::default());
    let src = format!(
        "let last = ();\nfor i in 0..{calls} {{ last = zoom::number(\"{NUMBER}\"); }}\nlast.number"
    );
    let ast = engine.compile(&src).context("benchmark script")?;

    // The host's share without the network, to tell it from the sandbox's noise.
    let answer = clients.zoom.number(NUMBER)?;
    let t = Instant::now();
    for _ in 0..calls {
        let d =
            crate::host::value::to_dynamic(&answer).map_err(|e| anyhow::anyhow!("convert: {e}"))?;
        let _ = std::hint::black_box(d);
    }
    let convert = t.elapsed();
    let ready =
        crate::host::value::to_dynamic(&answer).map_err(|e| anyhow::anyhow!("convert: {e}"))?;
    engine.register_fn("bench_ready", move |_n: &str| ready.clone());
    let noop = engine
        .compile(format!(
            "let last = ();\nfor i in 0..{calls} {{ last = bench_ready(\"{NUMBER}\"); }}\nlast.number"
        ))
        .context("benchmark script")?;
    let t = Instant::now();
    let r: String = engine
        .eval_ast(&noop)
        .map_err(|e| anyhow::anyhow!("benchmark script failed: {e}"))?;
    let interpreter = t.elapsed();
    anyhow::ensure!(r == NUMBER, "script read returned {r}");

    let direct = || -> anyhow::Result<Duration> {
        let t = Instant::now();
        let mut last = None;
        for _ in 0..calls {
            last = Some(clients.zoom.number(NUMBER)?);
        }
        let d = t.elapsed();
        anyhow::ensure!(
            last.is_some_and(|n| n.number == NUMBER),
            "direct read returned another number"
        );
        Ok(d)
    };
    let script = || -> anyhow::Result<Duration> {
        let t = Instant::now();
        let r: String = engine
            .eval_ast(&ast)
            .map_err(|e| anyhow::anyhow!("benchmark script failed: {e}"))?;
        let d = t.elapsed();
        anyhow::ensure!(r == NUMBER, "script read returned {r}");
        Ok(d)
    };

    // Warm-up: token, connection, allocator, both paths once.
    for _ in 0..3 {
        clients.zoom.number(NUMBER)?;
    }
    let _ = engine.eval::<rhai::Dynamic>(&format!("zoom::number(\"{NUMBER}\")"));

    let mut d_rounds = Vec::with_capacity(ROUNDS);
    let mut s_rounds = Vec::with_capacity(ROUNDS);
    for r in 0..ROUNDS {
        if r % 2 == 0 {
            d_rounds.push(direct()?);
            s_rounds.push(script()?);
        } else {
            s_rounds.push(script()?);
            d_rounds.push(direct()?);
        }
    }
    drop(engine);
    drop(session);
    drop(clients);
    sb.shutdown();

    let per_call = |d: &Duration| d.as_secs_f64() * 1e6 / calls as f64;
    let d_us: Vec<f64> = d_rounds.iter().map(per_call).collect();
    let s_us: Vec<f64> = s_rounds.iter().map(per_call).collect();
    let ratios: Vec<f64> = d_us
        .iter()
        .zip(&s_us)
        .filter(|(d, _)| **d > 0.0)
        .map(|(d, s)| s / d)
        .collect();
    let round1 = |x: f64| (x * 10.0).round() / 10.0;
    Ok(HostBench {
        calls,
        rounds: ROUNDS,
        direct_us_per_call: round1(median(&d_us)),
        script_us_per_call: round1(median(&s_us)),
        overhead_ratio: (median(&ratios) * 1000.0).round() / 1000.0,
        direct_rounds_us: d_us.into_iter().map(round1).collect(),
        script_rounds_us: s_us.into_iter().map(round1).collect(),
        convert_us_per_call: (per_call(&convert) * 100.0).round() / 100.0,
        interpreter_us_per_call: (per_call(&interpreter) * 100.0).round() / 100.0,
    })
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    match s.len() {
        0 => 0.0,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}
