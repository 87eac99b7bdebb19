//! `vline doctor`: read-only checks of a profile, one line each, exit 0 only when all pass.

use std::process::Output;

use crate::support::{assert_code, json, stderr, stdout, writes, Home};
use vline::sandbox::{Sandbox, SandboxOptions};

const ZOOM_VAR: &str = "VLINE_TEST_DOCTOR_ZOOM_SECRET";
const MOVIUS_VAR: &str = "VLINE_TEST_DOCTOR_MOVIUS_PASSWORD";

/// A home whose `lab` profile is kind "real" and points at `sb` over loopback.
fn lab(sb: &Sandbox, extra: &str) -> Home {
    let h = Home::new();
    h.file(
        "config.toml",
        &format!(
            r#"default_profile = "lab"
[profiles.lab]
kind = "real"
zoom_api_url = "{}"
zoom_oauth_url = "{}"
zoom_account_id = "sandbox-account"
zoom_client_id = "sandbox-client"
zoom_client_secret_env = "{ZOOM_VAR}"
movius_url = "{}"
movius_user = "sandbox-api"
movius_password_env = "{MOVIUS_VAR}"
movius_org = "org-zoom"
{extra}
"#,
            sb.zoom_api_url(),
            sb.zoom_oauth_url(),
            sb.movius_url()
        ),
    );
    h
}

fn doctor(h: &Home, secrets: bool) -> Output {
    let mut c = h.cmd();
    c.arg("doctor");
    if secrets {
        c.env(ZOOM_VAR, vline::sandbox::ZOOM_CLIENT_SECRET)
            .env(MOVIUS_VAR, vline::sandbox::MOVIUS_PASSWORD);
    } else {
        c.env_remove(ZOOM_VAR).env_remove(MOVIUS_VAR);
    }
    c.output().unwrap()
}

/// The line of one check (the first one named so).
fn line(o: &Output, check: &str) -> String {
    stdout(o)
        .lines()
        .find(|l| l.get(9..).is_some_and(|r| r.starts_with(check)))
        .unwrap_or_else(|| panic!("no line for {check}:\n{}", stdout(o)))
        .to_string()
}

fn no_secret_printed(o: &Output) {
    for s in [
        vline::sandbox::ZOOM_CLIENT_SECRET,
        vline::sandbox::MOVIUS_PASSWORD,
    ] {
        assert!(
            !stdout(o).contains(s) && !stderr(o).contains(s),
            "{s} printed:\n{}{}",
            stdout(o),
            stderr(o)
        );
    }
}

#[test]
fn doctor_passes_on_the_embedded_sandbox_with_no_config_and_says_the_filter_is_honoured() {
    let h = Home::new();
    let o = h.run(&["doctor"]);
    assert_code(&o, 0);
    no_secret_printed(&o);
    let out = stdout(&o);
    let checks: Vec<&str> = out
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        checks,
        [
            "config",
            "secrets",
            "secrets",
            "zoom",
            "zoom",
            "zoom",
            "zoom",
            "phone_number",
            "movius"
        ],
        "{out}"
    );
    assert!(out.lines().all(|l| l.starts_with("ok ")), "{out}");
    assert_eq!(
        line(&o, "config"),
        "ok       config               profile sandbox (sandbox), built in: no config file"
    );
    assert_eq!(
        line(&o, "zoom scopes"),
        "ok       zoom scopes          the 24 granted cover all 24 operations vline uses"
    );
    assert_eq!(
        line(&o, "zoom rate limits"),
        "ok       zoom rate limits     Medium QPS limit 20, remaining 19 (zoom_plan business)"
    );
    assert_eq!(
        line(&o, "phone_number filter"),
        "ok       phone_number filter  Zoom honours it: asked for +13126170001, only +13126170001 came back"
    );
    assert!(
        line(&o, "movius").ends_with("/movius as API user sandbox-api: org org-zoom found"),
        "{out}"
    );
    // Read-only: nothing written.
    assert_eq!(writes(&h), Vec::<serde_json::Value>::new());
    // --json: the same checks as objects.
    let o = h.run(&["--json", "doctor"]);
    assert_code(&o, 0);
    let v = json(&o);
    assert_eq!(v.as_array().unwrap().len(), 9);
    assert!(v.as_array().unwrap().iter().all(|c| c["ok"] == true));
}

#[test]
fn doctor_says_when_zoom_ignores_the_phone_number_filter() {
    let sb = Sandbox::start(SandboxOptions {
        published_spec_mode: true,
        ..SandboxOptions::default()
    })
    .unwrap();
    let h = lab(&sb, "");
    let o = doctor(&h, true);
    assert_code(&o, 0);
    no_secret_printed(&o);
    assert_eq!(
        line(&o, "phone_number filter"),
        "ok       phone_number filter  Zoom ignores it: asked for +13126170001, other numbers came back; vline filters the pages itself and a bulk run reads the number list once"
    );
    assert!(
        line(&o, "config").contains("profile lab (real), from "),
        "{}",
        stdout(&o)
    );
    assert!(
        line(&o, "secrets").ends_with(&format!("present (environment variable {ZOOM_VAR})")),
        "{}",
        stdout(&o)
    );
    assert!(
        line(&o, "movius").ends_with("org org-zoom found"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn doctor_names_a_missing_secret_and_what_to_do_and_exits_1() {
    let sb = Sandbox::start(SandboxOptions::default()).unwrap();
    let h = lab(&sb, "");
    let o = doctor(&h, false);
    assert_code(&o, 1);
    let out = stdout(&o);
    assert!(
        out.lines()
            .any(|l| l.starts_with("problem  secrets              zoom client secret: ")
                && l.contains(ZOOM_VAR)
                && l.ends_with("Next: set the environment variable the profile names, or the secrets file (mode 0600)")),
        "{out}"
    );
    assert!(
        stderr(&o).contains("error: 2 of 3 checks found a problem (see above)"),
        "{}",
        stderr(&o)
    );
    // Nothing was called without credentials.
    assert!(sb.requests().is_empty());
}

#[test]
fn doctor_finds_missing_scopes_and_a_zoom_plan_that_is_not_the_accounts() {
    let sb = Sandbox::start(SandboxOptions {
        granted_scopes: Some(
            "phone:read:admin user:read:admin user:write:admin phone:write:user_number:admin"
                .into(),
        ),
        ..SandboxOptions::default()
    })
    .unwrap();
    // The profile says pro; the account (the sandbox) is on business.
    let h = lab(&sb, "zoom_plan = \"pro\"");
    let o = doctor(&h, true);
    assert_code(&o, 1);
    no_secret_printed(&o);
    let scopes = line(&o, "zoom scopes");
    assert!(
        scopes.starts_with("problem  zoom scopes          "),
        "{scopes}"
    );
    for want in [
        "operations lack a scope: ",
        "unassign_number (one of phone:write, phone:write:admin, phone:delete:user_number, phone:delete:user_number:admin)",
        "add_role_members (one of phone:write:admin, phone:write:role_member:admin)",
        "Next: add the scopes to the Server-to-Server OAuth app in Zoom's App Marketplace (README: OAuth scopes)",
    ] {
        assert!(scopes.contains(want), "{want} not in {scopes}");
    }
    // Granted ones are not named: phone:write:user_number:admin covers assign_number.
    assert!(!scopes.contains("; assign_number ("), "{scopes}");
    assert_eq!(
        line(&o, "zoom rate limits"),
        "problem  zoom rate limits     Medium is 20/s where zoom_plan pro expects 10/s. Next: set the profile's zoom_plan to the account's plan"
    );
}
