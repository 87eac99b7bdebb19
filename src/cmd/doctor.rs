//! `vline doctor`: will this profile work, before the maintenance window? Read-only checks, one
//! line each — `ok` or `problem`, what was seen, and for a problem what to do. No secret, token or
//! password is ever printed: only where it comes from.

use serde::Serialize;

use crate::api::rate::RateCategory;
use crate::api::zoom::scopes;
use crate::cli::Global;
use crate::cmd::config::load_profile;
use crate::config::SecretKind;

/// One check's outcome.
#[derive(Debug, Serialize)]
struct Check {
    check: &'static str,
    ok: bool,
    detail: String,
    /// What to do about a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

fn ok(check: &'static str, detail: impl Into<String>) -> Check {
    Check {
        check,
        ok: true,
        detail: detail.into(),
        next: None,
    }
}

fn problem(check: &'static str, detail: impl Into<String>, next: impl Into<String>) -> Check {
    Check {
        check,
        ok: false,
        detail: detail.into(),
        next: Some(next.into()),
    }
}

/// Some check found a problem (exit code 1); the lines above say which.
#[derive(Debug, thiserror::Error)]
#[error("{0} of {1} checks found a problem (see above)")]
pub struct Problems(usize, usize);

pub fn run(global: &Global) -> anyhow::Result<()> {
    let checks = checks(global);
    print(global, &checks)?;
    let bad = checks.iter().filter(|c| !c.ok).count();
    if bad > 0 {
        return Err(Problems(bad, checks.len()).into());
    }
    Ok(())
}

fn print(global: &Global, checks: &[Check]) -> anyhow::Result<()> {
    if global.structured() {
        println!("{}", serde_json::to_string_pretty(checks)?);
        return Ok(());
    }
    for c in checks {
        let status = if c.ok { "ok" } else { "problem" };
        match &c.next {
            Some(n) => println!("{status:<8} {:<20} {}. Next: {n}", c.check, c.detail),
            None => println!("{status:<8} {:<20} {}", c.check, c.detail),
        }
    }
    Ok(())
}

fn checks(global: &Global) -> Vec<Check> {
    let mut out = Vec::new();
    // Config.
    let profile = match load_profile(global) {
        Ok(p) => p,
        Err(e) => {
            out.push(problem(
                "config",
                format!("{e:#}"),
                "fix the config file (`vline config init` writes a commented example)",
            ));
            return out;
        }
    };
    let source = profile
        .source
        .as_ref()
        .map(|p| format!("from {}", p.display()))
        .unwrap_or_else(|| "built in: no config file".into());
    out.push(ok(
        "config",
        format!("profile {} ({}), {source}", profile.name, profile.kind),
    ));
    // Secrets: where each comes from, never the value.
    let mut secrets_ok = true;
    for (name, kind) in [
        ("zoom client secret", SecretKind::ZoomClientSecret),
        ("movius password", SecretKind::MoviusPassword),
    ] {
        match profile.resolve_secret(kind) {
            Ok((_, from)) => out.push(ok("secrets", format!("{name}: present ({from})"))),
            Err(e) => {
                secrets_ok = false;
                out.push(problem(
                    "secrets",
                    format!("{name}: {e}"),
                    "set the environment variable the profile names, or the secrets file (mode 0600)",
                ));
            }
        }
    }
    if !secrets_ok {
        return out;
    }
    // The sandbox (on the sandbox profile) lives until the checks are done.
    let crate::connect::Connection {
        clients,
        profile,
        sandbox: _sandbox,
    } = match crate::connect::connect(profile) {
        Ok(x) => x,
        Err(e) => {
            out.push(problem(
                "clients",
                format!("{:#}", anyhow::Error::from(e)),
                "check the profile's URLs (https unless loopback)",
            ));
            return out;
        }
    };
    // Zoom: token and scopes.
    match clients.transport.zoom_scopes() {
        Ok(granted) => {
            out.push(ok(
                "zoom token",
                format!(
                    "obtained for account {} from {}",
                    profile.zoom_account_id, profile.zoom_oauth_url
                ),
            ));
            let missing = scopes::missing(&granted);
            if missing.is_empty() {
                out.push(ok(
                    "zoom scopes",
                    format!(
                        "the {} granted cover all {} operations vline uses",
                        granted.len(),
                        scopes::SCOPES.len()
                    ),
                ));
            } else {
                let list: Vec<String> = missing
                    .iter()
                    .map(|(op, need)| format!("{op} (one of {})", need.join(", ")))
                    .collect();
                out.push(problem(
                    "zoom scopes",
                    format!(
                        "{} of {} operations lack a scope: {}",
                        missing.len(),
                        scopes::SCOPES.len(),
                        list.join("; ")
                    ),
                    "add the scopes to the Server-to-Server OAuth app in Zoom's App Marketplace (README: OAuth scopes)",
                ));
            }
        }
        Err(e) => out.push(problem(
            "zoom token",
            e.to_string(),
            "check zoom_account_id, zoom_client_id and the client secret of the Server-to-Server OAuth app",
        )),
    }
    // Zoom: a read, and the plan's limits as Zoom states them.
    match clients.zoom.sites() {
        Ok(sites) => {
            out.push(ok(
                "zoom api",
                format!("reached {} ({} sites)", profile.zoom_api_url, sites.len()),
            ));
            out.push(rate_limits(&clients, profile.zoom_plan));
        }
        Err(e) => out.push(problem(
            "zoom api",
            e.to_string(),
            "check zoom_api_url and the app's scopes",
        )),
    }
    // Zoom: the undocumented number filter (the bulk-performance probe).
    match clients.zoom.probe_number_filter() {
        Ok(Some((n, true))) => out.push(ok(
            "phone_number filter",
            format!("Zoom honours it: asked for {n}, only {n} came back"),
        )),
        Ok(Some((n, false))) => out.push(ok(
            "phone_number filter",
            format!("Zoom ignores it: asked for {n}, other numbers came back; vline filters the pages itself and a bulk run reads the number list once"),
        )),
        Ok(None) => out.push(ok(
            "phone_number filter",
            "cannot tell: the account has fewer than two numbers",
        )),
        Err(e) => out.push(problem(
            "phone_number filter",
            e.to_string(),
            "check the app's phone:read scopes",
        )),
    }
    // Movius, with the API user.
    let movius = match profile.movius_org.as_deref() {
        Some(org) => clients
            .movius
            .org(org)
            .map(|o| format!("org {} found", o.organization_id)),
        None => clients
            .movius
            .orgs()
            .map(|o| format!("{} organizations visible", o.len())),
    };
    match movius {
        Ok(d) => out.push(ok(
            "movius",
            format!(
                "reached {} as API user {}: {d}",
                profile.movius_url, profile.movius_user
            ),
        )),
        Err(e) => out.push(problem(
            "movius",
            e.to_string(),
            "check movius_url, the API user (MMP portal → API users) and its password",
        )),
    }
    out
}

/// Compare the `X-RateLimit-*` Zoom sent with the limits of the profile's `zoom_plan`.
fn rate_limits(clients: &crate::api::clients::Clients, plan: crate::api::ZoomPlan) -> Check {
    let seen = clients.transport.rate_limits_seen();
    if seen.is_empty() {
        return problem(
            "zoom rate limits",
            "Zoom sent no X-RateLimit-* headers",
            "run again; if it persists, bulk runs pace by the profile's zoom_plan alone",
        );
    }
    let mut parts = Vec::new();
    let mut wrong = Vec::new();
    for s in &seen {
        let limit = s.limit.map(|l| l.to_string()).unwrap_or_else(|| "?".into());
        parts.push(format!(
            "{} {} limit {limit}, remaining {}",
            s.category,
            s.kind,
            s.remaining
                .map(|r| r.to_string())
                .unwrap_or_else(|| "?".into())
        ));
        let cat = RateCategory::ALL
            .into_iter()
            .find(|c| c.header_value().eq_ignore_ascii_case(&s.category));
        if let (Some(cat), Some(l), true) = (cat, s.limit, s.kind.eq_ignore_ascii_case("QPS")) {
            let expected = plan.per_second(cat) as u64;
            if l != expected {
                wrong.push(format!(
                    "{} is {l}/s where zoom_plan {} expects {expected}/s",
                    s.category,
                    plan.as_str()
                ));
            }
        }
    }
    if wrong.is_empty() {
        ok(
            "zoom rate limits",
            format!("{} (zoom_plan {})", parts.join("; "), plan.as_str()),
        )
    } else {
        problem(
            "zoom rate limits",
            wrong.join("; "),
            "set the profile's zoom_plan to the account's plan",
        )
    }
}
