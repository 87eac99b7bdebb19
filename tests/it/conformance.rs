//! The sandbox and the client against Zoom's published specs (`../shared/specs/zoom/`, read at
//! test time: a missing spec file fails the test, it never skips).

use std::path::PathBuf;

use serde_json::Value;
use vline::sandbox::spec;

fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/specs/zoom")
}

/// A spec document; panics (fails the test) when the file is missing.
pub fn spec_doc(rel: &str) -> Value {
    let p = spec_dir().join(rel);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| {
        panic!(
            "Zoom spec {} is missing ({e}): the conformance test needs it",
            p.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn phone_spec() -> Value {
    spec_doc("phone-raw-jnolan-ehl/ZoomPhoneAPISpec.json")
}

pub fn users_spec() -> Value {
    spec_doc("folio-sec-terraform-provider-zoom/ZoomUserAPISpec.json")
}

/// The request schemas the sandbox carries are the spec's, as the spec files say today.
/// `VLINE_BLESS=1` rewrites the embedded copy from the spec files.
#[test]
fn the_sandbox_checks_requests_against_the_specs_as_published() {
    let fresh = spec::extract(&phone_spec(), &users_spec()).expect("every operation in its spec");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/sandbox/zoom_requests.json");
    if std::env::var_os("VLINE_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&fresh).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
        return;
    }
    let embedded: Value = serde_json::from_str(spec::EMBEDDED).expect("embedded subset is JSON");
    assert!(
        embedded == fresh,
        "src/sandbox/zoom_requests.json differs from the specs in {}: run `VLINE_BLESS=1 cargo test --test it conformance::the_sandbox_checks` and review the diff",
        spec_dir().display()
    );
}

/// The scope table `vline doctor` and README use is the specs' `security` sections, as published.
#[test]
fn the_scope_table_is_the_specs_security_sections() {
    let (phone, users) = (phone_spec(), users_spec());
    let mut diffs = Vec::new();
    for (op, method, path, scopes) in vline::api::zoom::scopes::SCOPES {
        let doc = if path.starts_with("/users") {
            &users
        } else {
            &phone
        };
        let sec = &doc["paths"][*path][method.to_ascii_lowercase()]["security"];
        assert!(
            sec.is_array(),
            "{method} {path} ({op}) has no security section"
        );
        let published: Vec<String> = sec
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["openapi_oauth"].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        if published
            .iter()
            .map(String::as_str)
            .ne(scopes.iter().copied())
        {
            diffs.push(format!("{op}: table {scopes:?}, spec {published:?}"));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// The spec operation (path template and its object) a concrete request is for.
fn spec_op<'a>(doc: &'a Value, method: &str, path: &str) -> Option<(String, &'a Value)> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let m = method.to_ascii_lowercase();
    doc["paths"]
        .as_object()?
        .iter()
        .filter(|(_, ops)| ops.get(&m).is_some())
        .filter(|(t, _)| {
            let ts: Vec<&str> = t.split('/').filter(|s| !s.is_empty()).collect();
            ts.len() == segs.len()
                && ts
                    .iter()
                    .zip(&segs)
                    .all(|(t, s)| t.starts_with('{') || t == s)
        })
        .max_by_key(|(t, _)| t.split('/').filter(|s| !s.starts_with('{')).count())
        .map(|(t, ops)| (t.clone(), &ops[&m]))
}

/// Drive every Zoom operation the client has against the strict sandbox, then check each
/// exchange against the spec files read now: the request the client sent (query and body, no
/// field the spec does not name) and the sandbox's answer (status declared, body by its schema).
#[test]
fn every_client_operation_sends_and_gets_what_the_spec_says() {
    use std::sync::{Arc, Mutex};
    use vline::api::zoom::wire::*;
    use vline::api::zoom::NumberQuery;
    use vline::api::E164;
    use vline::config::Config;
    use vline::sandbox::{Sandbox, SandboxOptions};

    let (phone, users) = (phone_spec(), users_spec());
    let fresh = spec::Operations::from_json(
        &spec::extract(&phone, &users).expect("every operation in its spec"),
    );
    let capture = Arc::new(Mutex::new(Vec::new()));
    let sb = Sandbox::start(SandboxOptions {
        capture: Some(capture.clone()),
        ..SandboxOptions::default()
    })
    .unwrap();
    let profile = Config::default().profile(None).unwrap().with_sandbox_urls(
        &sb.zoom_api_url(),
        &sb.zoom_oauth_url(),
        &sb.movius_url(),
        &sb.carrier_url(),
    );
    let c = profile
        .clients(&profile.resolve_secrets().unwrap())
        .unwrap();
    let z = &c.zoom;

    // ---- every read ----
    let numbers = z.numbers(&NumberQuery::default()).unwrap();
    z.number(&numbers[0].id).unwrap();
    z.number(&numbers[0].number).unwrap();
    z.user("alice@jpmc.example").unwrap();
    z.users().unwrap();
    z.phone_user("alice@jpmc.example").unwrap();
    z.phone_users().unwrap();
    let sites = z.sites().unwrap();
    z.site(&sites[0].id).unwrap();
    let roles = z.roles().unwrap();
    z.calling_plans().unwrap();
    z.peering_numbers().unwrap();
    let calls = z.call_history("2026-01-01", "2026-12-31").unwrap();
    assert!(
        calls.iter().any(|c| c.caller_did_number.is_none()),
        "an internal call without DID decodes: {calls:?}"
    );
    z.devices(DeviceListType::Assigned).unwrap();
    z.devices(DeviceListType::Unassigned).unwrap();
    z.probe_number_filter().unwrap();

    // ---- every write ----
    let gina = z
        .create_user(&CreateUser {
            action: CreateAction::SsoCreate,
            user_info: NewUserInfo {
                email: "gina@jpmc.example".into(),
                kind: 1,
                first_name: Some("Gina".into()),
                last_name: Some("Grey".into()),
                feature: Some(UserFeature { zoom_phone: true }),
            },
        })
        .unwrap();
    assert_eq!(gina.email, "gina@jpmc.example");
    let hal = z
        .create_user(&CreateUser {
            action: CreateAction::SsoCreate,
            user_info: NewUserInfo {
                email: "hal@jpmc.example".into(),
                kind: 1,
                ..NewUserInfo::default()
            },
        })
        .unwrap();
    let added = z
        .batch_add_phone_users(&[BatchPhoneUser {
            email: hal.email.clone(),
            extension_number: "1201".into(),
            calling_plans: vec!["US/CA Unlimited".into()],
            ..BatchPhoneUser::default()
        }])
        .unwrap();
    assert_eq!(added[0].email, "hal@jpmc.example");
    z.enable_phone("erin@jpmc.example", Some(&sites[0].id), Some(1099))
        .unwrap();
    z.assign_calling_plan("erin@jpmc.example", 200).unwrap();
    let free = z
        .numbers(&NumberQuery {
            kind: Some(vline::api::zoom::NumberType::Unassigned),
            ..NumberQuery::default()
        })
        .unwrap();
    let n = E164::parse(&free[0].number).unwrap();
    z.assign_number("erin@jpmc.example", &[NumberRef::by_number(&n)])
        .unwrap();
    z.unassign_number("erin@jpmc.example", n.as_str()).unwrap();
    z.update_phone_user(
        "erin@jpmc.example",
        &PhoneUserPatch {
            extension_number: Some("1098".into()),
            site_id: None,
        },
    )
    .unwrap();
    z.add_role_members(&roles[0].id, &["erin@jpmc.example".to_string()])
        .unwrap();
    let erin = z.phone_user("erin@jpmc.example").unwrap();
    let ext = erin.extension_id.clone().unwrap();
    let d = z
        .add_device(&AddDevice {
            display_name: "Erin desk".into(),
            mac_address: "00:04:f2:aa:bb:09".into(),
            kind: "yealink".into(),
            model: None,
            assignee_extension_ids: vec![],
        })
        .unwrap();
    z.assign_device(&d.id, &[ext]).unwrap();
    z.remove_calling_plan("erin@jpmc.example", 200).unwrap();

    // ---- what went over the wire, against the spec ----
    let exchanges = capture.lock().unwrap().clone();
    let mut errs = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for x in exchanges.iter().filter(|x| x.service == "zoom") {
        let what = format!("{} {}", x.method, x.path);
        if x.path.starts_with("/accounts/") {
            continue; // SIP-trunk internal numbers: in no spec
        }
        let doc = if x.path.starts_with("/users") {
            &users
        } else {
            &phone
        };
        let Some((template, op)) = spec_op(doc, &x.method, &x.path) else {
            errs.push(format!("{what}: no such operation in the spec"));
            continue;
        };
        seen.insert(format!("{} {template}", x.method));
        let segs: Vec<&str> = x.path.split('/').filter(|s| !s.is_empty()).collect();
        if let Err(m) = fresh.check(&x.method, &segs, &x.query, &x.body, true) {
            errs.push(format!("{what}: request: {m}"));
        }
        if !(200..300).contains(&x.status) {
            errs.push(format!("{what}: answered {} {:?}", x.status, x.response));
            continue;
        }
        let responses = &op["responses"];
        let status = x.status.to_string();
        // folio-sec saw 201 where the raw spec says 200 (assign number, calling plan): the same body.
        let declared = if responses.get(&status).is_some() {
            status.clone()
        } else if x.status == 201 && responses.get("200").is_some() {
            "200".into()
        } else {
            errs.push(format!("{what}: status {status} is not declared"));
            continue;
        };
        let schema = &responses[&declared]["content"]["application/json"]["schema"];
        match (&x.response, schema.is_null()) {
            (Some(body), false) => {
                let schema = spec::resolve(doc, schema);
                if let Err(m) = spec::validate(&schema, body, "", false) {
                    errs.push(format!("{what}: response: {m}"));
                }
            }
            (Some(body), true) if x.status != 204 => errs.push(format!(
                "{what}: answered a body the spec does not declare: {body}"
            )),
            _ => {}
        }
    }
    // Every operation the client has was driven.
    for (op, method, path, _) in vline::api::zoom::scopes::SCOPES {
        if !seen.contains(&format!("{method} {path}")) {
            errs.push(format!("{op} ({method} {path}) was not exercised"));
        }
    }
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}
