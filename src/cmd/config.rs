//! `vline config show|init`.

use anyhow::Context;

use crate::cli::{ConfigCmd, Global};
use crate::cmd::Usage;
use crate::config::{self, Config, ConfigError, Profile, SecretKind};

/// A configuration problem is the operator's to fix: exit code 2, one line.
pub(crate) fn usage(e: ConfigError) -> anyhow::Error {
    Usage(e.to_string()).into()
}

/// The config file and the profile `--profile` (or the default) names.
pub(crate) fn load_profile(global: &Global) -> anyhow::Result<Profile> {
    let cfg = Config::load(global.config.as_deref()).map_err(usage)?;
    cfg.profile(global.profile.as_deref()).map_err(usage)
}

pub fn run(global: &Global, cmd: ConfigCmd) -> anyhow::Result<()> {
    match cmd {
        ConfigCmd::Show => show(global),
        ConfigCmd::Init { force } => init(global, force),
    }
}

fn show(global: &Global) -> anyhow::Result<()> {
    let profile = load_profile(global)?;
    let secrets: Vec<(&str, Result<String, String>)> = [
        ("zoom_client_secret", SecretKind::ZoomClientSecret),
        ("movius_password", SecretKind::MoviusPassword),
    ]
    .into_iter()
    .map(|(name, kind)| {
        (
            name,
            profile
                .resolve_secret(kind)
                .map(|(_, from)| from.to_string())
                .map_err(|e| e.to_string()),
        )
    })
    .collect();
    if global.structured() {
        let mut v = serde_json::to_value(&profile)?;
        let s: serde_json::Map<String, serde_json::Value> = secrets
            .iter()
            .map(|(name, r)| {
                let entry = match r {
                    Ok(from) => serde_json::json!({"value": "***", "from": from}),
                    Err(e) => serde_json::json!({"value": null, "error": e}),
                };
                (name.to_string(), entry)
            })
            .collect();
        v["secrets"] = serde_json::Value::Object(s);
        v["movius_paths"] = serde_json::to_value(profile.movius_paths().map_err(usage)?.table())?;
        super::print_doc(global, &v, None)?;
        return Ok(());
    }
    let sandbox_url = |u: &str| {
        if u.is_empty() {
            "(embedded sandbox, loopback port chosen at start)".to_string()
        } else {
            u.to_string()
        }
    };
    let mut rows: Vec<(String, String)> = vec![
        ("profile".into(), profile.name.clone()),
        ("kind".into(), profile.kind.to_string()),
        (
            "config file".into(),
            profile
                .source
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "(none: built-in sandbox profile)".into()),
        ),
        ("zoom_api_url".into(), sandbox_url(&profile.zoom_api_url)),
        (
            "zoom_oauth_url".into(),
            sandbox_url(&profile.zoom_oauth_url),
        ),
        ("zoom_account_id".into(), profile.zoom_account_id.clone()),
        ("zoom_client_id".into(), profile.zoom_client_id.clone()),
        ("movius_url".into(), sandbox_url(&profile.movius_url)),
        ("movius_user".into(), profile.movius_user.clone()),
    ];
    if profile.is_sandbox() {
        rows.push((
            "carrier_url".into(),
            sandbox_url(profile.carrier_url.as_deref().unwrap_or("")),
        ));
    }
    for (name, r) in &secrets {
        rows.push((
            name.to_string(),
            match r {
                Ok(from) => format!("*** (from {from})"),
                Err(e) => format!("MISSING: {e}"),
            },
        ));
    }
    rows.extend([
        ("zoom_plan".into(), profile.zoom_plan.to_string()),
        (
            "zoom_rate_share".into(),
            profile.zoom_rate_share.to_string(),
        ),
        (
            "movius_org".into(),
            profile
                .movius_org
                .clone()
                .unwrap_or_else(|| "(none)".into()),
        ),
        (
            "naming".into(),
            format!(
                "first_name={} last_name={} email={}",
                profile.naming.first_name, profile.naming.last_name, profile.naming.email
            ),
        ),
        (
            "windows".into(),
            if profile.windows.is_empty() {
                "(none)".into()
            } else {
                profile
                    .windows
                    .iter()
                    .map(|w| {
                        format!(
                            "{} {}-{} {}",
                            if w.days.is_empty() {
                                "daily".into()
                            } else {
                                w.days.join(",")
                            },
                            w.start,
                            w.end,
                            w.tz
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            },
        ),
        ("max_changes".into(), profile.max_changes.to_string()),
        ("plan_max_age".into(), format!("{:#}", profile.plan_max_age)),
        (
            "http_timeout_secs".into(),
            profile.http_timeout_secs.to_string(),
        ),
        (
            "default_region".into(),
            profile
                .default_region
                .map(|r| r.to_string())
                .unwrap_or_else(|| "(none: numbers need + and their country code)".into()),
        ),
        ("max_run_secs".into(), profile.max_run_secs.to_string()),
        ("max_calls".into(), profile.max_calls.to_string()),
    ]);
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        println!("{k:width$}  {v}");
    }
    // The Movius path table as this profile resolves it: guide (documented), assumed (vline's
    // guess until Movius documents it) or configured ([profiles.X.movius_paths]).
    let table = profile.movius_paths().map_err(usage)?.table();
    let name_w = table.iter().map(|r| r.name.len()).max().unwrap_or(0);
    let path_w = table
        .iter()
        .map(|r| r.method.len() + 1 + r.path.len())
        .max()
        .unwrap_or(0);
    println!("movius_paths");
    for r in table {
        let call = format!("{} {}", r.method, r.path);
        println!("  {:name_w$}  {call:path_w$}  {}", r.name, r.source);
    }
    Ok(())
}

fn init(global: &Global, force: bool) -> anyhow::Result<()> {
    let path = config::init_path(global.config.as_deref());
    if path.exists() && !force {
        return Err(usage(ConfigError::Exists { path }));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(&path, config::EXAMPLE_CONFIG)
        .with_context(|| format!("cannot write {}", path.display()))?;
    if global.structured() {
        println!("{}", serde_json::json!({"written": path}));
    } else {
        println!(
            "wrote {} (edit the `prod` profile, then `vline --profile prod config show`)",
            path.display()
        );
    }
    Ok(())
}
