//! `vline sandbox serve|reset|status|log|fault`.

use std::collections::HashMap;

use anyhow::Context;

use crate::api::ZoomPlan;
use crate::cli::{Global, SandboxCmd, SandboxFaultCmd, SandboxFaultSet, SandboxServe};
use crate::sandbox::{self, Burst429, Faults, Sandbox, SandboxOptions, Seed, StateLocation};

use super::Usage;

pub fn run(global: &Global, cmd: SandboxCmd) -> anyhow::Result<()> {
    match cmd {
        SandboxCmd::Serve(s) => serve(s),
        SandboxCmd::Reset {
            seed,
            state,
            users,
            extra_numbers,
            held_numbers,
        } => {
            let seed: Seed = seed
                .parse()
                .map_err(|e: sandbox::SandboxError| Usage(e.to_string()))?;
            let loc = location(state.as_deref());
            sandbox::reset(&loc, seed).context("resetting the sandbox state")?;
            if users > 0 || extra_numbers > 0 {
                sandbox::seed_scale(&loc, users, extra_numbers)
                    .with_context(|| format!("adding the scale seed to {loc}"))?;
            }
            if held_numbers > 0 {
                sandbox::seed_held_numbers(&loc, held_numbers)
                    .with_context(|| format!("adding held numbers to {loc}"))?;
            }
            let counts = sandbox::status(&loc)?;
            if global.structured() {
                super::print_doc(global, &counts, None)?;
            } else {
                println!(
                    "sandbox state {loc} reset with the {} seed",
                    if seed == Seed::Demo { "demo" } else { "empty" }
                );
                print_counts(&counts);
            }
            Ok(())
        }
        SandboxCmd::Status { state } => {
            let loc = location(state.as_deref());
            let counts = sandbox::status(&loc).context("reading the sandbox state")?;
            if global.structured() {
                super::print_doc(global, &counts, None)?;
            } else {
                println!("sandbox state {loc}");
                print_counts(&counts);
                let faults = sandbox::read_faults(&loc)?;
                if !faults.is_empty() {
                    println!("faults in force:");
                    for line in faults.describe() {
                        println!("  {line}");
                    }
                }
            }
            Ok(())
        }
        SandboxCmd::Log {
            writes,
            last,
            state,
        } => {
            let loc = location(state.as_deref());
            let mut log = sandbox::read_request_log(&loc)?;
            if writes {
                log.retain(|r| r.is_write);
            }
            if let Some(n) = last {
                let skip = log.len().saturating_sub(n);
                log.drain(..skip);
            }
            if global.structured() {
                super::print_doc(global, &log, None)?;
            } else if log.is_empty() {
                println!("no requests logged in {loc}");
            } else {
                let mut t = comfy_table::Table::new();
                t.load_preset(comfy_table::presets::NOTHING);
                t.set_header(["seq", "time", "op", "method", "path", "status", "write"]);
                for r in &log {
                    let path = if r.query.is_empty() {
                        r.path.clone()
                    } else {
                        format!("{}?{}", r.path, r.query)
                    };
                    t.add_row([
                        r.seq.to_string(),
                        r.ts.clone(),
                        r.op.clone(),
                        r.method.clone(),
                        path,
                        // An answer that never reached the client shows as `201 lost`.
                        if r.answer_lost {
                            format!("{} lost", r.status)
                        } else {
                            r.status.to_string()
                        },
                        if r.is_write {
                            "w".into()
                        } else {
                            String::new()
                        },
                    ]);
                }
                println!("{t}");
            }
            Ok(())
        }
        SandboxCmd::Fault(f) => fault(global, f),
    }
}

fn location(state: Option<&str>) -> StateLocation {
    match state {
        Some(s) => StateLocation::parse(s),
        None => StateLocation::File(sandbox::default_state_path()),
    }
}

fn print_counts(c: &sandbox::Counts) {
    println!("  orgs            {}", c.orgs);
    println!("  accounts        {}", c.accounts);
    println!("  pool numbers    {}", c.pool_numbers);
    println!("  zoom numbers    {}", c.zoom_numbers);
    println!("  zoom users      {}", c.zoom_users);
    println!("  phone users     {}", c.phone_users);
    println!("  requests logged {}", c.requests);
}

fn serve(s: SandboxServe) -> anyhow::Result<()> {
    let seed: Seed = s
        .seed
        .parse()
        .map_err(|e: sandbox::SandboxError| Usage(e.to_string()))?;
    let plan: ZoomPlan = s.plan.parse().map_err(Usage)?;
    let state = location(s.state.as_deref());
    let opts = SandboxOptions {
        state: state.clone(),
        seed,
        plan,
        enforce_rate_limits: !s.no_rate_limits,
        published_spec_mode: s.published_spec,
        strict: s.strict,
        granted_scopes: None,
        capture: None,
        token_ttl_secs: s.token_ttl,
        page_token_ttl: std::time::Duration::from_secs(s.page_token_ttl),
    };
    let drop_share = match s.drop_after_apply {
        Some(f) => Some(share("--drop-after-apply", Some(f))?),
        None => None,
    };
    let sb = Sandbox::start_on(opts, s.port)?;
    // Listen for the stop signals before saying we are up: a SIGTERM sent right after the
    // banner must stop the server cleanly, not kill it.
    let stop = StopSignal::install()?;
    if let Some(share) = drop_share {
        sb.set_faults(Faults {
            drop_after_apply_share: share,
            ..sb.faults()
        });
    }
    let base = sb.base_url();
    println!("vline sandbox listening on {base} (state {state}, Zoom plan {plan})");
    println!("  Zoom API    {}", sb.zoom_api_url());
    println!(
        "  Zoom OAuth  {}  client id {}, client secret {}, account id {}",
        sb.zoom_oauth_url(),
        sandbox::ZOOM_CLIENT_ID,
        sandbox::ZOOM_CLIENT_SECRET,
        sandbox::ZOOM_ACCOUNT_ID
    );
    println!(
        "  Movius      {}  API user {}, password {}",
        sb.movius_url(),
        sandbox::MOVIUS_USER,
        sandbox::MOVIUS_PASSWORD
    );
    println!(
        "  Carrier     {}  (same API user as Movius)",
        sb.carrier_url()
    );
    println!("  Admin       {base}/_sandbox/status | requests | faults | reset");
    println!("These are the sandbox's fixed demo credentials. Ctrl-C stops it.");
    stop.wait()?;
    sb.shutdown();
    println!("sandbox stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM, listened for from `install` on.
struct StopSignal {
    rt: tokio::runtime::Runtime,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl StopSignal {
    fn install() -> anyhow::Result<StopSignal> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        #[cfg(unix)]
        let term = {
            let _in_rt = rt.enter();
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?
        };
        Ok(StopSignal {
            rt,
            #[cfg(unix)]
            term,
        })
    }

    fn wait(mut self) -> anyhow::Result<()> {
        self.rt.block_on(async {
            #[cfg(unix)]
            tokio::select! {
                r = tokio::signal::ctrl_c() => r?,
                _ = self.term.recv() => {}
            }
            #[cfg(not(unix))]
            tokio::signal::ctrl_c().await?;
            Ok::<(), anyhow::Error>(())
        })
    }
}

fn fault(global: &Global, cmd: SandboxFaultCmd) -> anyhow::Result<()> {
    let (loc, faults) = match cmd {
        SandboxFaultCmd::Set(set) => {
            let loc = location(set.state.as_deref());
            let f = faults_from(&set)?;
            sandbox::write_faults(&loc, &f)?;
            (loc, f)
        }
        SandboxFaultCmd::Clear { state } => {
            let loc = location(state.as_deref());
            sandbox::write_faults(&loc, &Faults::default())?;
            (loc, Faults::default())
        }
        SandboxFaultCmd::Show { state } => {
            let loc = location(state.as_deref());
            let f = sandbox::read_faults(&loc)?;
            (loc, f)
        }
    };
    if global.structured() {
        super::print_doc(global, &faults, None)?;
    } else if faults.is_empty() {
        println!("no faults in {loc}");
    } else {
        println!("faults in {loc}:");
        for line in faults.describe() {
            println!("  {line}");
        }
    }
    Ok(())
}

fn share(name: &str, v: Option<f64>) -> anyhow::Result<f64> {
    match v {
        None => Ok(0.0),
        Some(x) if (0.0..=1.0).contains(&x) => Ok(x),
        Some(x) => Err(Usage(format!(
            "{name} {x}: a share is between 0 and 1 (0.1 = 10% of requests)"
        ))
        .into()),
    }
}

fn faults_from(set: &SandboxFaultSet) -> anyhow::Result<Faults> {
    let mut peering = Vec::new();
    for n in &set.peering_fail {
        let e =
            crate::api::E164::parse(n).map_err(|e| Usage(format!("--peering-fail {n}: {e}")))?;
        peering.push(e.to_string());
    }
    let latency: HashMap<String, u64> = match &set.latency {
        Some(l) => crate::sandbox::parse_latency(l)
            .map_err(Usage)?
            .into_iter()
            .collect(),
        None => HashMap::new(),
    };
    let burst_429 = match &set.burst_429 {
        None => None,
        Some(b) => {
            let bad = || {
                Usage(format!("--burst-429 '{b}': write N:LEN, e.g. 10:3 (of every 10 Zoom requests the last 3 get 429)"))
            };
            let (n, len) = b.split_once(':').ok_or_else(bad)?;
            let every_n: u32 = n.trim().parse().map_err(|_| bad())?;
            let len: u32 = len.trim().parse().map_err(|_| bad())?;
            if every_n == 0 || len == 0 || len > every_n {
                return Err(bad().into());
            }
            Some(Burst429 {
                every_n,
                len,
                retry_after: !set.no_retry_after,
            })
        }
    };
    Ok(Faults {
        peering_fail_numbers: peering,
        peering_fail_share: share("--peering-fail-share", set.peering_fail_share)?,
        http_5xx_share: share("--5xx", set.http_5xx)?,
        timeout_share: share("--timeouts", set.timeouts)?,
        latency_ms: latency,
        burst_429,
        expire_tokens_now: set.expire_tokens,
        omit_retry_after: set.no_retry_after,
        drop_after_apply_share: share("--drop-after-apply", set.drop_after_apply)?,
    })
}
