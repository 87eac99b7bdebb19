//! `[profiles.X.movius_paths]`: Movius paths the guide does not spell out, set in config.

use crate::support::{assert_code, json, stderr, stdout, Home};
use vline::sandbox::{Sandbox, SandboxOptions};

const MOVIUS_VAR: &str = "VLINE_TEST_PATHS_MOVIUS_PASSWORD";
const ZOOM_VAR: &str = "VLINE_TEST_PATHS_ZOOM_SECRET";

fn home(movius_url: &str, zoom: &str, oauth: &str, paths: &str) -> Home {
    let h = Home::new();
    h.file(
        "config.toml",
        &format!(
            r#"default_profile = "lab"
[profiles.lab]
kind = "real"
zoom_api_url = "{zoom}"
zoom_oauth_url = "{oauth}"
zoom_account_id = "sandbox-account"
zoom_client_id = "sandbox-client"
zoom_client_secret_env = "{ZOOM_VAR}"
movius_url = "{movius_url}"
movius_user = "sandbox-api"
movius_password_env = "{MOVIUS_VAR}"

[profiles.lab.movius_paths]
{paths}
"#
        ),
    );
    h
}

#[test]
fn config_show_marks_each_path_guide_assumed_or_configured() {
    let h = home(
        "https://mmp.example.com",
        "https://api.zoom.us/v2",
        "https://zoom.us/oauth/token",
        r#"org = "/mmp/v3/orgs/{org}""#,
    );
    let o = h.run(&["config", "show"]);
    assert_code(&o, 0);
    let out = stdout(&o);
    let row = |name: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| panic!("no row {name}:\n{out}"))
    };
    assert_eq!(row("org"), "org GET /mmp/v3/orgs/{org} configured");
    assert_eq!(
        row("orgs"),
        "orgs GET /adk/services/mcpwebapi/organizations assumed"
    );
    assert_eq!(
        row("account_add"),
        "account_add POST /adk/services/mcpwebapi/myid_authentications/add guide"
    );
    assert_eq!(row("carrier_ptns"), "carrier_ptns POST /ptns guide");
    let o = h.run(&["--json", "config", "show"]);
    assert_code(&o, 0);
    let v = json(&o);
    let org = v["movius_paths"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "org")
        .unwrap()
        .clone();
    assert_eq!(
        org,
        serde_json::json!({"name": "org", "method": "GET", "path": "/mmp/v3/orgs/{org}", "source": "configured"})
    );
}

#[test]
fn a_configured_path_is_the_one_called() {
    let sb = Sandbox::start(SandboxOptions::default()).unwrap();
    let h = home(
        &sb.movius_url(),
        &sb.zoom_api_url(),
        &sb.zoom_oauth_url(),
        r#"orgs = "/mmp/v3/organizations""#,
    );
    let o = h
        .cmd()
        .env(MOVIUS_VAR, vline::sandbox::MOVIUS_PASSWORD)
        .env(ZOOM_VAR, vline::sandbox::ZOOM_CLIENT_SECRET)
        .args(["call", "movius", "orgs"])
        .output()
        .unwrap();
    // The sandbox serves the assumed table, so the configured path is not found there: what
    // matters is that the request went to it.
    assert_code(&o, 1);
    let movius: Vec<String> = sb
        .requests()
        .into_iter()
        .filter(|r| r.service == "movius")
        .map(|r| format!("{} {} {}", r.method, r.path, r.status))
        .collect();
    assert_eq!(movius, ["GET /mmp/v3/organizations 404"], "{}", stderr(&o));
}

#[test]
fn a_bad_override_is_refused_before_any_call() {
    for (paths, message) in [
        (
            r#"org = "/orgs/{id}""#,
            r#"error: profile 'lab': movius_paths.org = "/orgs/{id}": must use the variables of "/adk/services/mcpwebapi/organizations/{org}" ({org})"#,
        ),
        (
            r#"orgz = "/orgs""#,
            "error: profile 'lab': movius_paths.orgz is not a Movius path vline calls; known: account_add, account_modify, account_delete, account_get, orgs, org, sub_org_create, allowed_domain_add, zoom_feature, available_numbers, user_list_v2, cdr_v2, carrier_ptns, carrier_ptn_delete",
        ),
    ] {
        let h = home(
            "https://mmp.example.com",
            "https://api.zoom.us/v2",
            "https://zoom.us/oauth/token",
            paths,
        );
        let o = h.run(&["config", "show"]);
        assert_code(&o, 2);
        assert_eq!(stderr(&o).trim_end(), message);
    }
}
