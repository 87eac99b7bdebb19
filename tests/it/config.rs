//! Profiles, secrets and `vline call` / `vline config` as an operator sees them: the real binary,
//! a temporary home, and a sandbox started by the test standing in for "real" endpoints.

use std::path::Path;
use std::process::Output;

use vline::sandbox::{Sandbox, SandboxOptions, StateLocation};

use crate::support::{assert_code, json, stderr, stdout, Home};

const ZOOM_SECRET_VAR: &str = "VLINE_IT_ZOOM_SECRET";
const MOVIUS_SECRET_VAR: &str = "VLINE_IT_MOVIUS_PASSWORD";

/// A config whose `lab` profile is kind "real" and points at `sb` over loopback http.
fn real_profile_config(sb: &Sandbox, extra: &str) -> String {
    format!(
        r#"default_profile = "lab"
[profiles.lab]
kind = "real"
zoom_api_url = "{}"
zoom_oauth_url = "{}"
zoom_account_id = "sandbox-account"
zoom_client_id = "sandbox-client"
zoom_client_secret_env = "{ZOOM_SECRET_VAR}"
movius_url = "{}"
movius_user = "sandbox-api"
movius_password_env = "{MOVIUS_SECRET_VAR}"
movius_org = "org-zoom"
{extra}
"#,
        sb.zoom_api_url(),
        sb.zoom_oauth_url(),
        sb.movius_url()
    )
}

fn with_secrets(home: &Home, args: &[&str]) -> Output {
    home.cmd()
        .env(ZOOM_SECRET_VAR, "sandbox-secret")
        .env(MOVIUS_SECRET_VAR, "sandbox-api-secret")
        .args(args)
        .output()
        .expect("run vline")
}

/// Exit code 2, one line on stderr containing `want`.
#[track_caller]
fn assert_usage(o: &Output, want: &str) {
    assert_code(o, 2);
    let err = stderr(o);
    assert_eq!(err.trim_end().lines().count(), 1, "one line:\n{err}");
    assert!(err.contains(want), "expected '{want}' in:\n{err}");
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn no_secret_or_token_in_any_output_at_the_most_verbose_level() {
    let state_dir = tempfile::tempdir().unwrap();
    let state = state_dir.path().join("sandbox.sqlite");
    let sb = Sandbox::start(SandboxOptions {
        state: StateLocation::File(state.clone()),
        ..SandboxOptions::default()
    })
    .unwrap();
    let home = Home::new();
    home.file("config.toml", &real_profile_config(&sb, ""));
    let runs = [
        with_secrets(
            &home,
            &[
                "-vvv",
                "call",
                "zoom",
                "numbers",
                "type=unassigned",
                "phone_number=+13126170003",
            ],
        ),
        with_secrets(
            &home,
            &[
                "-vvv",
                "--json",
                "call",
                "movius",
                "account",
                "phone_number=13126170001",
            ],
        ),
        with_secrets(&home, &["-vvv", "config", "show"]),
        with_secrets(&home, &["-vvv", "--json", "config", "show"]),
        home.cmd()
            .env(ZOOM_SECRET_VAR, "sandbox-secret")
            .env(MOVIUS_SECRET_VAR, "sandbox-api-secret")
            .env("RUST_LOG", "trace")
            .args(["call", "zoom", "user", "user=alice@jpmc.example"])
            .output()
            .unwrap(),
    ];
    for o in &runs {
        assert_code(o, 0);
    }
    assert!(stdout(&runs[0]).contains("+13126170003"));
    assert!(
        stderr(&runs[0]).contains("op=numbers"),
        "trace spans are on: {}",
        stderr(&runs[0])
    );
    assert!(stdout(&runs[2]).contains(&format!(
        "*** (from environment variable {ZOOM_SECRET_VAR})"
    )));

    let db = rusqlite::Connection::open(&state).unwrap();
    let tokens: Vec<String> = db
        .prepare("SELECT token FROM tokens")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        tokens.len(),
        2,
        "each Zoom run fetched its own token: {tokens:?}"
    );
    let mut haystacks: Vec<(String, String)> = Vec::new();
    for (i, o) in runs.iter().enumerate() {
        haystacks.push((format!("run {i} stdout"), stdout(o)));
        haystacks.push((format!("run {i} stderr"), stderr(o)));
    }
    for f in files_under(home.path()) {
        haystacks.push((
            f.display().to_string(),
            String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned(),
        ));
    }
    let needles: Vec<&str> = ["sandbox-secret", "sandbox-api-secret"]
        .into_iter()
        .chain(tokens.iter().map(String::as_str))
        .collect();
    for (where_, text) in &haystacks {
        for needle in &needles {
            assert!(!text.contains(needle), "a secret leaked into {where_}");
        }
    }
}

#[test]
fn out_of_the_box_on_the_sandbox() {
    let home = Home::new();
    let o = home.run(&["call", "zoom", "numbers", "type=unassigned", "--json"]);
    assert_code(&o, 0);
    let numbers = json(&o);
    let list = numbers.as_array().expect("an array");
    assert!(!list.is_empty());
    assert!(
        list.iter().all(|n| n.get("assignee").is_none()),
        "{numbers}"
    );
    let o = home.run(&["call", "movius", "account", "phone_number=13126170001"]);
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains("AC13126170001") || stdout(&o).contains("13126170001"),
        "{}",
        stdout(&o)
    );
    // The state carries to the next command: a number provisioned now is in the pool next time.
    let o = home.run(&[
        "call",
        "carrier",
        "provision_ptn",
        "number=+13126170950",
        "--allow-write",
    ]);
    assert_code(&o, 0);
    let o = home.run(&[
        "--json",
        "call",
        "movius",
        "available_numbers",
        "org=org-jpmc",
    ]);
    assert!(stdout(&o).contains("13126170950"), "{}", stdout(&o));
}

#[test]
fn writes_need_allow_write() {
    let home = Home::new();
    let o = home.run(&[
        "call",
        "movius",
        "set_zoom_enabled",
        "org=org-trading",
        "on=true",
    ]);
    assert_code(&o, 3);
    assert!(stderr(&o).contains("--allow-write"), "{}", stderr(&o));
    let o = home.run(&["--json", "call", "movius", "org", "org=org-trading"]);
    assert_eq!(json(&o)["enable_zoom"], false, "nothing was sent");
    let o = home.run(&[
        "--json",
        "call",
        "movius",
        "set_zoom_enabled",
        "org=org-trading",
        "on=true",
        "--allow-write",
    ]);
    assert_code(&o, 0);
    assert_eq!(json(&o)["enable_zoom"], true);
}

#[test]
fn mistakes_give_one_line_and_exit_2_before_any_call() {
    let sb = Sandbox::start(SandboxOptions::default()).unwrap();
    let home = Home::new();
    home.file("config.toml", &real_profile_config(&sb, ""));
    let cases: &[(&[&str], &str)] = &[
        (
            &["call", "movius", "account", "phone_number=+1 312 abc"],
            "contains 'a', which is not part of a phone number",
        ),
        (
            &["call", "zoom", "numbers", "phone_number=12345"],
            "'12345' has no country code",
        ),
        (
            &["call", "zoom", "numbrs"],
            "unknown zoom operation 'numbrs'",
        ),
        (
            &["call", "zoom", "numbers", "kind=all"],
            "unknown field 'kind'",
        ),
        (
            &["--profile", "staging", "call", "zoom", "sites"],
            "unknown profile 'staging'; known profiles: lab, sandbox",
        ),
        (
            &["call", "carrier", "delete_ptn", "number=+13126170001"],
            "carrier operations exist only in the sandbox profile",
        ),
    ];
    for (args, want) in cases {
        assert_usage(&with_secrets(&home, args), want);
    }
    // The secret's variable is named, its value never.
    let o = home
        .cmd()
        .env(MOVIUS_SECRET_VAR, "x")
        .args(["call", "zoom", "sites"])
        .output()
        .unwrap();
    assert_usage(
        &o,
        &format!("environment variable {ZOOM_SECRET_VAR} is not set"),
    );
    assert!(
        sb.requests().is_empty(),
        "no call was made: {:#?}",
        sb.requests()
    );
}

#[test]
fn http_to_a_remote_host_is_refused() {
    let home = Home::new();
    home.file(
        "config.toml",
        r#"[profiles.prod]
kind = "real"
zoom_account_id = "a"
zoom_client_id = "c"
movius_url = "http://mmp.example.com"
movius_user = "api"
"#,
    );
    let o = with_secrets(&home, &["--profile", "prod", "call", "movius", "orgs"]);
    assert_usage(
        &o,
        "movius_url = \"http://mmp.example.com\": real endpoints must use https",
    );
}

#[test]
fn secrets_file_must_be_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::start(SandboxOptions::default()).unwrap();
    let home = Home::new();
    let secrets = home.file(
        "secrets.toml",
        "zoom_client_secret = \"sandbox-secret\"\nmovius_password = \"sandbox-api-secret\"\n",
    );
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o644)).unwrap();
    let cfg = real_profile_config(&sb, &format!("secrets_file = \"{}\"", secrets.display()));
    home.file("config.toml", &cfg);
    let o = home.run(&["call", "movius", "orgs"]);
    assert_usage(&o, &format!("run: chmod 600 {}", secrets.display()));
    assert!(sb.requests().is_empty());
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = home.run(&["--json", "call", "movius", "orgs"]);
    assert_code(&o, 0);
    assert!(json(&o).as_array().is_some_and(|a| !a.is_empty()));
    let o = home.run(&["config", "show"]);
    assert!(
        stdout(&o).contains(&format!("*** (from secrets file {})", secrets.display())),
        "{}",
        stdout(&o)
    );
}

#[test]
fn config_show_and_init() {
    let home = Home::new();
    let o = home.run(&["config", "show"]);
    assert_code(&o, 0);
    let out = stdout(&o);
    let kind = out
        .lines()
        .find(|l| l.starts_with("kind "))
        .map(|l| l.split_whitespace().collect::<Vec<_>>());
    assert_eq!(kind, Some(vec!["kind", "sandbox"]), "{out}");
    assert!(stdout(&o).contains("*** (from the sandbox's demo credentials)"));

    let o = home.run(&["config", "init"]);
    assert_code(&o, 0);
    let path = home.path().join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("zoom_client_secret_env = \"ZOOM_CLIENT_SECRET\""));
    assert_usage(
        &home.run(&["config", "init"]),
        "already exists; use --force",
    );
    assert_code(&home.run(&["config", "init", "--force"]), 0);

    let o = home
        .cmd()
        .env_remove("ZOOM_CLIENT_SECRET")
        .env_remove("MOVIUS_PASSWORD")
        .args(["--json", "--profile", "prod", "config", "show"])
        .output()
        .unwrap();
    assert_code(&o, 0);
    let v = json(&o);
    assert_eq!(v["kind"], "real");
    assert_eq!(v["zoom_plan"], "business");
    assert_eq!(
        v["naming"]["email"],
        "{first_name}.{last_name}@jpmc.movius.ai"
    );
    assert!(v["secrets"]["zoom_client_secret"]["error"]
        .as_str()
        .unwrap()
        .contains("ZOOM_CLIENT_SECRET is not set"));
    let o = home
        .cmd()
        .env("ZOOM_CLIENT_SECRET", "s3cr3t-value")
        .args(["--json", "--profile", "prod", "config", "show"])
        .output()
        .unwrap();
    let v = json(&o);
    assert_eq!(v["secrets"]["zoom_client_secret"]["value"], "***");
    assert!(!stdout(&o).contains("s3cr3t-value"));
}

#[test]
fn a_wrong_secret_is_reported_without_the_secret() {
    let sb = Sandbox::start(SandboxOptions::default()).unwrap();
    let home = Home::new();
    home.file("config.toml", &real_profile_config(&sb, ""));
    let o = home
        .cmd()
        .env(ZOOM_SECRET_VAR, "not-the-secret-42")
        .env(MOVIUS_SECRET_VAR, "also-wrong-43")
        .args(["-vvv", "call", "zoom", "sites"])
        .output()
        .unwrap();
    assert_code(&o, 1);
    let err = stderr(&o);
    assert!(
        err.contains("zoom oauth_token on account sandbox-account"),
        "{err}"
    );
    assert!(err.contains("HTTP 401"), "{err}");
    assert!(err.contains("check the profile's credentials"), "{err}");
    let o = home
        .cmd()
        .env(ZOOM_SECRET_VAR, "not-the-secret-42")
        .env(MOVIUS_SECRET_VAR, "also-wrong-43")
        .args(["-vvv", "call", "movius", "orgs"])
        .output()
        .unwrap();
    assert_code(&o, 1);
    let err2 = stderr(&o);
    assert!(err2.contains("movius orgs failed (HTTP 401"), "{err2}");
    for text in [err, err2] {
        assert!(
            !text.contains("not-the-secret-42") && !text.contains("also-wrong-43"),
            "{text}"
        );
    }
}
