use super::paths::{config_path_from, data_dir_from};
use super::*;
use crate::api::{RateShare, ZoomPlan, E164};

fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |k| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

const REAL: &str = r#"
default_profile = "prod"
[profiles.prod]
kind = "real"
zoom_account_id = "acct"
zoom_client_id = "cid"
zoom_client_secret_env = "MY_ZOOM_SECRET"
movius_url = "https://mmp.example.com"
movius_user = "api"
zoom_plan = "pro"
movius_org = "org-1"
zoom_rate_share = 80
"#;

#[test]
fn no_config_is_the_sandbox() {
    let p = Config::default().profile(None).unwrap();
    assert_eq!((p.name.as_str(), p.kind), ("sandbox", ProfileKind::Sandbox));
    assert_eq!(p.zoom_client_id, "sandbox-client");
    let (s, from) = p
        .resolve_secret_with(
            SecretKind::ZoomClientSecret,
            &env_of(&[("ZOOM_CLIENT_SECRET", "real!")]),
        )
        .unwrap();
    // An operator's real secret in the environment is not sent to the sandbox.
    assert_eq!(
        (s.expose(), from),
        ("sandbox-secret", SecretSource::SandboxDemo)
    );
    assert!(
        p.endpoints(&p.resolve_secrets().unwrap()).is_err(),
        "no URLs until the sandbox starts"
    );
    let p = p.with_sandbox_urls(
        "http://127.0.0.1:9/zoom/v2",
        "http://127.0.0.1:9/zoom/oauth/token",
        "http://127.0.0.1:9/movius",
        "http://127.0.0.1:9/carrier",
    );
    let e = p.endpoints(&p.resolve_secrets().unwrap()).unwrap();
    assert_eq!(e.carrier.unwrap().base_url, "http://127.0.0.1:9/carrier");
}

#[test]
fn real_profile_defaults_and_secrets() {
    let c = Config::parse(REAL, None).unwrap();
    let p = c.profile(None).unwrap();
    assert_eq!(p.zoom_api_url, "https://api.zoom.us/v2");
    assert_eq!(p.zoom_plan, ZoomPlan::Pro);
    assert_eq!(
        p.transport_options().rate_share,
        RateShare::new(80).unwrap()
    );
    assert_eq!(p.max_changes, 50);
    assert_eq!(p.movius_password_env.as_deref(), Some("MOVIUS_PASSWORD"));
    let err = p
        .resolve_secret_with(SecretKind::ZoomClientSecret, &env_of(&[]))
        .unwrap_err()
        .to_string();
    assert_eq!(
            err,
            "profile 'prod': environment variable MY_ZOOM_SECRET is not set (it holds the Zoom OAuth client secret; or put it in a secrets_file)"
        );
    let (s, from) = p
        .resolve_secret_with(
            SecretKind::ZoomClientSecret,
            &env_of(&[("MY_ZOOM_SECRET", "x")]),
        )
        .unwrap();
    assert_eq!(
        (s.expose(), from),
        ("x", SecretSource::Env("MY_ZOOM_SECRET".into()))
    );
}

#[test]
fn unknown_profile_lists_known_ones() {
    let c = Config::parse(REAL, None).unwrap();
    let err = c.profile(Some("staging")).unwrap_err().to_string();
    assert_eq!(
        err,
        "unknown profile 'staging'; known profiles: prod, sandbox"
    );
}

#[test]
fn http_only_to_loopback() {
    for (url, ok) in [
        ("https://mmp.example.com", true),
        ("http://127.0.0.1:8642/movius", true),
        ("http://127.5.0.1/movius", true),
        ("http://[::1]:80/movius", true),
        ("http://localhost/movius", true),
        ("http://mmp.example.com", false),
        ("http://10.0.0.1", false),
        ("ftp://mmp.example.com", false),
    ] {
        let text = REAL.replace("https://mmp.example.com", url);
        let r = Config::parse(&text, None).unwrap().profile(None);
        assert_eq!(r.is_ok(), ok, "{url}: {r:?}");
    }
    let text = REAL.replace("https://mmp.example.com", "http://mmp.example.com");
    let err = Config::parse(&text, None)
        .unwrap()
        .profile(None)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("profile 'prod': movius_url = \"http://mmp.example.com\": real endpoints must use https"), "{err}");
}

#[test]
fn config_errors_are_one_line() {
    let err = Config::parse("[profiles.x]\nbogus = 1\n", None)
        .unwrap_err()
        .to_string();
    assert!(!err.contains('\n') && err.contains("bogus"), "{err}");
    let err = Config::parse(
        &REAL.replace("movius_url = \"https://mmp.example.com\"\n", ""),
        None,
    )
    .unwrap()
    .profile(None)
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "profile 'prod': movius_url is required for a real profile"
    );
    let err = Config::parse(&REAL.replace("\"pro\"", "\"gold\""), None)
        .unwrap()
        .profile(None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown Zoom plan 'gold'"), "{err}");
    let err = Config::parse(&REAL.replace("= 80", "= 150"), None)
        .unwrap()
        .profile(None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("zoom_rate_share = 150"), "{err}");
}

#[test]
fn naming_follows_the_guide_by_default() {
    let n = E164::parse("+1 312-617-3497").unwrap();
    assert_eq!(
        Naming::default().render(&n),
        (
            "13126173497".into(),
            "JPMC".into(),
            "13126173497.JPMC@jpmc.movius.ai".into()
        )
    );
    let custom = Naming {
        first_name: "u{digits}".into(),
        last_name: "Acme".into(),
        email: "{first_name}@acme.example".into(),
    };
    assert_eq!(custom.render(&n).2, "u13126173497@acme.example");
    assert!(Naming {
        email: "{nope}@x.com".into(),
        ..Naming::default()
    }
    .validate()
    .is_err());
    assert!(Naming {
        email: "{first_name}".into(),
        ..Naming::default()
    }
    .validate()
    .is_err());
}

#[test]
fn paths_follow_vline_home_then_xdg() {
    assert_eq!(
        data_dir_from(&env_of(&[("VLINE_HOME", "/v"), ("XDG_DATA_HOME", "/x")])),
        PathBuf::from("/v")
    );
    assert_eq!(
        data_dir_from(&env_of(&[("XDG_DATA_HOME", "/x")])),
        PathBuf::from("/x/vline")
    );
    assert_eq!(
        data_dir_from(&env_of(&[("HOME", "/h")])),
        PathBuf::from("/h/.local/share/vline")
    );
    // VLINE_HOME's config.toml only counts when it exists.
    assert_eq!(
        config_path_from(
            None,
            &env_of(&[
                ("VLINE_HOME", "/nonexistent-vline"),
                ("XDG_CONFIG_HOME", "/x")
            ])
        ),
        PathBuf::from("/x/vline/config.toml")
    );
    assert_eq!(
        config_path_from(Some(Path::new("/c.toml")), &env_of(&[])),
        PathBuf::from("/c.toml")
    );
    assert_eq!(
        config_path_from(None, &env_of(&[("HOME", "/h")])),
        PathBuf::from("/h/.config/vline/config.toml")
    );
}

#[test]
fn secrets_file_must_be_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.toml");
    std::fs::write(
        &f,
        "zoom_client_secret = \"zs\"\nmovius_password = \"mp\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = format!("{REAL}secrets_file = \"{}\"\n", f.display());
    let p = Config::parse(&text, None).unwrap().profile(None).unwrap();
    let err = p
        .resolve_secret_with(SecretKind::MoviusPassword, &env_of(&[]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "secrets file {0} is readable by other users (mode 644); run: chmod 600 {0}",
            f.display()
        )
    );
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (s, from) = p
        .resolve_secret_with(SecretKind::MoviusPassword, &env_of(&[]))
        .unwrap();
    assert_eq!((s.expose(), from), ("mp", SecretSource::File(f.clone())));
    std::fs::write(&f, "zoom_client_secret = hunter2\n").unwrap();
    let err = p
        .resolve_secret_with(SecretKind::MoviusPassword, &env_of(&[]))
        .unwrap_err()
        .to_string();
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn example_config_parses() {
    let c = Config::parse(EXAMPLE_CONFIG, None).unwrap();
    assert_eq!(c.profile_names(), vec!["prod", "sandbox"]);
    let p = c.profile(Some("prod")).unwrap();
    assert_eq!(p.windows.len(), 1);
    assert_eq!(c.profile(None).unwrap().kind, ProfileKind::Sandbox);
}
