//! `guard::`: maintenance windows, confirmation, dry-run and the plan, for scripts.

use super::*;

pub(super) fn module(s: &Arc<Session>) -> Module {
    let mut m = Module::new();
    let x = s.clone();
    reg!(
        m,
        "guard",
        "require_maintenance_window",
        ["why: string", "()"],
        move |why: &str| {
            match x
                .guard
                .require_maintenance_window(why, jiff::Timestamp::now())
            {
                Ok(check) => {
                    tracing::info!("maintenance window: {check:?}");
                    Ok(())
                }
                Err(r) => Err(stop(Stop::Refused(r))),
            }
        }
    );
    let x = s.clone();
    reg!(
        m,
        "guard",
        "confirm",
        ["text: string", "()"],
        move |text: &str| { x.guard.confirm(text).map_err(|r| stop(Stop::Refused(r))) }
    );
    let x = s.clone();
    reg!(m, "guard", "is_dry_run", ["bool"], move || x
        .guard
        .policy()
        .dry_run);
    let x = s.clone();
    reg!(m, "guard", "plan", ["array"], move || to_dynamic(
        &x.guard.plan()
    ));
    m
}
