//! `profile::`: the profile a script runs under: name, default org, naming.

use super::*;

pub(super) fn module(s: &Arc<Session>) -> Module {
    let mut m = Module::new();
    let x = s.clone();
    reg!(m, "profile", "name", ["string"], move || x.profile.clone());
    let x = s.clone();
    reg!(
        m,
        "profile",
        "default_org",
        ["string|()"],
        move || match &x.default_org {
            Some(o) => Dynamic::from(o.clone()),
            None => Dynamic::UNIT,
        }
    );
    let x = s.clone();
    reg!(
        m,
        "profile",
        "naming",
        ["number: string", "map"],
        move |n: Dynamic| -> ScriptResult<Map> {
            let n = args::e164("profile::naming", "number", &n)?;
            let (first, last, email) = (x.naming)(&n);
            let mut out = Map::new();
            out.insert("first_name".into(), first.into());
            out.insert("last_name".into(), last.into());
            out.insert("email".into(), email.into());
            Ok(out)
        }
    );
    let x = s.clone();
    reg!(m, "profile", "is_sandbox", ["bool"], move || x.sandbox);
    m
}
