//! `vline apply FILE` and `vline plan show FILE`: saved plans, for a change board to review and
//! an operator to run later, refused whenever what would run is not what was reviewed.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use crate::cli::{ApplyArgs, Global, PlanCmd};
use crate::guard::{render_plan, PlanContext, Refused, Style};
use crate::host::header::ParamValue;
use crate::host::runner::{self, SavedPlan};
use crate::host::script::Script;
use crate::output::table;

use super::run::{execute, Flags, Job, Mode};
use super::Usage;

/// Read a plan file and its SHA-256 (of the bytes, as `--plan-out` reported it).
fn read_plan(file: &Path) -> anyhow::Result<(SavedPlan, String)> {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(file)
        .map_err(|e| Usage(format!("cannot read the plan {}: {e}", file.display())))?;
    let saved: SavedPlan = serde_json::from_slice(&bytes).map_err(|e| {
        Usage(format!(
            "{} is not a vline plan ({e}); make one with `vline run <procedure> … --plan-out FILE`",
            file.display()
        ))
    })?;
    if saved.format != runner::SAVED_PLAN_FORMAT {
        return Err(Usage(format!(
            "{} is a plan of format {} (this vline reads format {}); make it again with this vline",
            file.display(),
            saved.format,
            runner::SAVED_PLAN_FORMAT
        ))
        .into());
    }
    let digest = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((saved, digest))
}

fn refused(reason: String, file: &Path, saved: &SavedPlan) -> anyhow::Error {
    Refused {
        reason,
        how_to_proceed: format!(
            "nothing was sent; make a new plan (`vline run {} … --plan-out FILE`) and have it reviewed (was {})",
            saved.script,
            file.display()
        ),
    }
    .into()
}

pub fn apply(global: &Global, a: ApplyArgs) -> anyhow::Result<()> {
    let (saved, digest) = read_plan(&a.file)?;
    let file = a.file.as_path();
    let override_dir = Some(crate::config::data_dir());
    let (src, header) = Script::load(&saved.script, override_dir.as_deref()).map_err(|e| {
        refused(
            format!("the plan's script cannot be loaded: {e}"),
            file,
            &saved,
        )
    })?;
    let params: BTreeMap<String, ParamValue> = serde_json::from_value(saved.params.clone())
        .map_err(|e| {
            Usage(format!(
                "{}: bad parameters in the plan: {e}",
                file.display()
            ))
        })?;
    if runner::params_digest(&params) != saved.params_sha256 {
        return Err(refused(
            "the plan's parameters differ from the ones it was made with (edited, or a redacted secret that cannot be replayed)".into(),
            file,
            &saved,
        ));
    }
    let job = Job::new(&saved.script, src, header, params)?;
    if job.digest != saved.script_sha256 {
        return Err(refused(
            format!(
                "the script {} changed since the plan was made (sha256 {} then, {} now)",
                saved.script, saved.script_sha256, job.digest
            ),
            file,
            &saved,
        ));
    }
    let profile = super::config::load_profile(global)?;
    if profile.name != saved.profile || profile.kind.to_string() != saved.profile_kind {
        return Err(refused(
            format!(
                "the plan was made for profile {} ({}), this is profile {} ({})",
                saved.profile, saved.profile_kind, profile.name, profile.kind
            ),
            file,
            &saved,
        ));
    }
    if profile.zoom_account_id != saved.zoom_account_id || profile.movius_org != saved.movius_org {
        return Err(refused(
            format!(
                "the profile {} now points at Zoom account {} and Movius org {}; the plan was made for {} and {}",
                profile.name,
                profile.zoom_account_id,
                profile.movius_org.as_deref().unwrap_or("(none)"),
                saved.zoom_account_id,
                saved.movius_org.as_deref().unwrap_or("(none)")
            ),
            file,
            &saved,
        ));
    }
    let made: jiff::Timestamp = saved
        .made_at
        .parse()
        .map_err(|e| Usage(format!("{}: bad made_at in the plan: {e}", file.display())))?;
    let age = jiff::Timestamp::now().duration_since(made);
    if age > profile.plan_max_age {
        return Err(refused(
            format!(
                "the plan was made {:#} ago, more than the profile's plan_max_age of {:#}",
                jiff::SignedDuration::from_secs(age.as_secs()),
                profile.plan_max_age
            ),
            file,
            &saved,
        ));
    }
    let flags = Flags {
        yes: a.yes,
        max_changes: a.max_changes,
        outside_window: a.outside_window.clone(),
        ..Flags::default()
    };
    execute(
        global,
        &job,
        &flags,
        Mode::Apply {
            saved: &saved,
            digest,
        },
        &|v| super::run::show_result(global, v),
    )
}

pub fn plan(global: &Global, c: PlanCmd) -> anyhow::Result<()> {
    let PlanCmd::Show { file } = c;
    let (saved, digest) = read_plan(&file)?;
    if global.structured() {
        super::print_doc(
            global,
            &json!({"file": file, "sha256": digest, "plan": saved}),
            None,
        )?;
        return Ok(());
    }
    let params = match &saved.params {
        serde_json::Value::Object(m) if !m.is_empty() => m
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        _ => "(none)".into(),
    };
    println!("Saved plan {} (sha256 {digest})", file.display());
    println!("  made {} by vline {}", saved.made_at, saved.vline_version);
    println!("  script {} (sha256 {})", saved.script, saved.script_sha256);
    println!("  parameters {params}");
    let ctx = PlanContext {
        what: saved.script.clone(),
        profile: saved.profile.clone(),
        kind: saved.profile_kind.clone(),
        zoom_account: saved.zoom_account_id.clone(),
        movius_org: saved.movius_org.clone(),
    };
    println!(
        "{}",
        render_plan(&saved.plan, &ctx, Style::Plain, table::target_width())
    );
    println!("Apply: vline apply {}", file.display());
    Ok(())
}
