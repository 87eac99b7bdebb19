//! The bundled procedures (`scripts/*.rhai`) through the real binary against the sandbox: the happy
//! path with the state of both services asserted afterwards, every prerequisite failure refused
//! with a next step and no write, and a re-run after success that sends no write.

use std::process::Output;

use serde_json::Value;

use crate::support::{assert_code, demo, json, stderr, stdout, writes, Home};

/// `vline --json run NAME PARAMS… --yes`.
fn run(h: &Home, name: &str, params: &[&str]) -> Output {
    let mut args = vec!["--json", "run", name];
    args.extend_from_slice(params);
    args.push("--yes");
    h.run(&args)
}

/// Run a procedure that must succeed; its result.
#[track_caller]
fn done(h: &Home, name: &str, params: &[&str]) -> Value {
    let o = run(h, name, params);
    assert_code(&o, 0);
    json(&o)["result"].clone()
}

/// Run a procedure that must stop with `code`; everything it printed.
#[track_caller]
fn refused(h: &Home, name: &str, params: &[&str], code: i32) -> String {
    let o = run(h, name, params);
    assert_code(&o, code);
    format!("{}\n{}", stdout(&o), stderr(&o))
}

/// The write requests that succeeded (a failed peering is sent, answered 422, and keeps nothing).
fn ok_writes(h: &Home) -> Vec<Value> {
    writes(h)
        .into_iter()
        .filter(|w| w["status"].as_u64().unwrap_or(0) < 400)
        .collect()
}

fn ops(ws: &[Value]) -> Vec<String> {
    ws.iter()
        .map(|w| w["op"].as_str().unwrap_or("").to_string())
        .collect()
}

#[track_caller]
fn assert_mentions(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "expected {n:?} in:\n{text}");
    }
}

/// The Movius account of a number, if any.
fn account(h: &Home, n: &str) -> Option<Value> {
    let o = h.run(&[
        "--json",
        "call",
        "movius",
        "account",
        &format!("phone_number={n}"),
    ]);
    if o.status.code() == Some(0) {
        Some(json(&o))
    } else {
        assert!(
            stderr(&o).contains("1002"),
            "unexpected failure: {}",
            stderr(&o)
        );
        None
    }
}

/// The Zoom number, if Zoom lists it.
fn zoom_number(h: &Home, n: &str) -> Option<Value> {
    let o = h.run(&[
        "--json",
        "call",
        "zoom",
        "numbers",
        "type=all",
        &format!("phone_number={n}"),
    ]);
    assert_code(&o, 0);
    json(&o)
        .as_array()
        .and_then(|a| a.iter().find(|x| x["number"] == n).cloned())
}

fn assignee(h: &Home, n: &str) -> Option<String> {
    zoom_number(h, n).and_then(|z| z["assignee"]["id"].as_str().map(str::to_string))
}

fn phone_user(h: &Home, email: &str) -> Option<Value> {
    let o = h.run(&[
        "--json",
        "call",
        "zoom",
        "phone_user",
        &format!("user={email}"),
    ]);
    (o.status.code() == Some(0)).then(|| json(&o))
}

fn in_pool(h: &Home, n: &str) -> bool {
    let o = h.run(&[
        "--json",
        "call",
        "movius",
        "available_numbers",
        "org=org-jpmc",
    ]);
    assert_code(&o, 0);
    let digits = n.trim_start_matches('+');
    json(&o)
        .as_array()
        .is_some_and(|a| a.iter().any(|p| p["phone_number"] == digits))
}

/// A config with a sandbox profile and these maintenance windows (TOML inline array).
fn windows(h: &Home, windows: &str) {
    h.file("config.toml", &format!("[profiles.sandbox]\nkind = \"sandbox\"\nmovius_org = \"org-zoom\"\nwindows = {windows}\n"));
}

/// Play Movius SRE: turn "Allow Zoom" on for an org through the sandbox's admin API (customers
/// cannot), with a `vline sandbox serve` on the same state for the time of one request.
fn movius_allows_zoom(h: &Home, org: &str) {
    use std::io::{Read, Write};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut serve = h
        .cmd()
        .args(["sandbox", "serve", "--port", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start vline sandbox serve");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut conn = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(c) => break c,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            Err(e) => {
                let _ = serve.kill();
                panic!("sandbox serve did not listen on {port}: {e}");
            }
        }
    };
    let body = r#"{"allow_zoom": true}"#;
    let req = format!(
        "POST /_sandbox/orgs/{org}/allow_zoom HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(req.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "allow_zoom answered: {answer}"
    );
}

// ---------------------------------------------------------------------------------------------
// Listing and help

#[test]
fn procedures_lists_every_procedure_with_its_guide_section() {
    let h = Home::new();
    let o = h.run(&["--json", "procedures"]);
    assert_code(&o, 0);
    let list = json(&o);
    let expect = [
        ("org-setup", "Organization Setup & Configuration"),
        ("onboard-account", "Account Onboarding in MMP Portal"),
        (
            "onboard-new-user",
            "Onboard a new Zoom Phone user (BAU steps)",
        ),
        (
            "migrate-existing-user",
            "Onboard an existing multiline user to Zoom Phone",
        ),
        ("offboard-number", "Admin Driven Offboarding"),
        ("carrier-offboard", "Carrier-Driven Offboarding"),
        (
            "move-org-to-user-level",
            "Move from Zoom Org-level to User-Level",
        ),
        ("add-internal-numbers", "SIP trunk internal numbers"),
        ("assign-phone-license", "Managing phone users in Zoom"),
        ("reconcile", "reconciliation"),
        ("pex-authorization", "Authorization Steps"),
    ];
    for (name, section) in expect {
        let p = list
            .as_array()
            .and_then(|a| a.iter().find(|p| p["name"] == name))
            .unwrap_or_else(|| panic!("{name} is not listed: {list}"));
        assert!(
            p["section"].as_str().unwrap_or("").contains(section),
            "{name}: {}",
            p["section"]
        );
        assert!(
            !p["title"].as_str().unwrap_or("").is_empty(),
            "{name} has no title"
        );
    }
    let human = h.run(&["procedures"]);
    assert_code(&human, 0);
    assert_mentions(
        &stdout(&human),
        &[
            "onboard-new-user",
            "Onboard a new Zoom Phone user (BAU steps)",
            "reconcile",
        ],
    );
    let mw = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "move-org-to-user-level")
        .unwrap();
    assert_eq!(mw["window_required"], true);
}

#[test]
fn run_help_shows_the_parameters_and_prerequisites() {
    let h = Home::new();
    let o = h.run(&["run", "onboard-new-user", "--help"]);
    assert_code(&o, 0);
    assert_mentions(
        &stdout(&o),
        &[
            "phone_number",
            "e164",
            "required",
            "user",
            "email",
            "org",
            "Guide section",
            "Prerequisites",
            "Allowed for and Enabled",
        ],
    );
}

#[test]
fn every_bundled_procedure_compiles() {
    let h = Home::new();
    for name in [
        "org-setup",
        "onboard-account",
        "onboard-new-user",
        "migrate-existing-user",
        "offboard-number",
        "carrier-offboard",
        "move-org-to-user-level",
        "add-internal-numbers",
        "assign-phone-license",
        "reconcile",
        "pex-authorization",
    ] {
        let o = h.run(&["check", name]);
        assert_code(&o, 0);
    }
}

// ---------------------------------------------------------------------------------------------
// onboard-new-user

#[test]
fn onboard_new_user_adds_the_account_assigns_the_number_and_a_rerun_changes_nothing() {
    let h = demo();
    let r = done(
        &h,
        "onboard-new-user",
        &[
            "phone_number=+13126170100",
            "user=carol@jpmc.example",
            "org=org-zoom",
        ],
    );
    assert_eq!(r["status"], "done");
    assert_eq!(r["procedure"], "onboard-new-user");
    assert_eq!(r["account_sid"], "AC13126170100");

    // Movius: the account, named by the convention, Zoom on.
    let a = account(&h, "+13126170100").expect("account");
    assert_eq!(a["organization_id"], "org-zoom");
    assert_eq!(a["enable_zoom"], true);
    assert_eq!(a["first_name"], "13126170100");
    assert_eq!(a["last_name"], "JPMC");
    assert_eq!(
        a["email"].as_str().unwrap().to_lowercase(),
        "13126170100.jpmc@jpmc.movius.ai"
    );
    // Zoom: peered, carried by Movius, assigned to carol.
    let z = zoom_number(&h, "+13126170100").expect("in Zoom");
    assert_eq!(z["carrier"]["name"], "Movius");
    assert_eq!(z["assignee"]["id"], "user-carol");
    assert_eq!(
        ops(&ok_writes(&h)),
        vec!["movius.add", "zoom.assign_number"]
    );

    let before = writes(&h).len();
    let again = done(
        &h,
        "onboard-new-user",
        &[
            "phone_number=+13126170100",
            "user=carol@jpmc.example",
            "org=org-zoom",
        ],
    );
    assert_eq!(again["status"], "already done");
    assert_eq!(writes(&h).len(), before, "a re-run must send no write");
}

#[test]
fn onboard_new_user_uses_the_profile_default_org() {
    let h = demo();
    windows(&h, "[]");
    let r = done(
        &h,
        "onboard-new-user",
        &["phone_number=1 312 617 0101", "user=carol@jpmc.example"],
    );
    assert_eq!(r["organization_id"], "org-zoom");
    assert_eq!(r["phone_number"], "+13126170101");
    assert_eq!(
        account(&h, "+13126170101").unwrap()["organization_id"],
        "org-zoom"
    );
}

#[test]
fn onboard_new_user_has_the_sandbox_carrier_provision_a_number_not_in_the_pool() {
    let h = demo();
    assert!(!in_pool(&h, "+13126170150"));
    let r = done(
        &h,
        "onboard-new-user",
        &[
            "phone_number=+13126170150",
            "user=dave@jpmc.example",
            "org=org-zoom",
        ],
    );
    assert_eq!(r["status"], "done");
    assert_eq!(
        ops(&ok_writes(&h)),
        vec!["carrier.provision_ptn", "movius.add", "zoom.assign_number"]
    );
    assert_eq!(account(&h, "+13126170150").unwrap()["enable_zoom"], true);
    assert_eq!(assignee(&h, "+13126170150").as_deref(), Some("user-dave"));
}

#[test]
fn onboard_new_user_assigns_an_already_enabled_unassigned_number() {
    let h = demo();
    let r = done(
        &h,
        "onboard-new-user",
        &[
            "phone_number=+13126170003",
            "user=carol@jpmc.example",
            "org=org-zoom",
        ],
    );
    assert_eq!(r["status"], "done");
    assert_eq!(ops(&ok_writes(&h)), vec!["zoom.assign_number"]);
    assert_eq!(assignee(&h, "+13126170003").as_deref(), Some("user-carol"));
}

#[test]
fn onboard_new_user_dry_run_sends_no_write_and_prints_the_plan() {
    let h = demo();
    let o = h.run(&[
        "run",
        "onboard-new-user",
        "phone_number=+13126170100",
        "user=carol@jpmc.example",
        "org=org-zoom",
        "--dry-run",
    ]);
    assert_code(&o, 0);
    assert_mentions(
        &stdout(&o),
        &[
            "Dry run",
            "movius::add_account",
            "zoom::assign_number",
            "planned",
        ],
    );
    assert!(writes(&h).is_empty(), "dry-run sent: {:?}", writes(&h));
    assert!(account(&h, "+13126170100").is_none());

    let o = h.run(&[
        "--json",
        "run",
        "onboard-new-user",
        "phone_number=+13126170100",
        "user=carol@jpmc.example",
        "org=org-zoom",
        "--dry-run",
    ]);
    assert_code(&o, 0);
    let j = json(&o);
    assert_eq!(j["result"]["status"], "planned");
    assert_eq!(j["plan"].as_array().map(Vec::len), Some(2), "{}", j["plan"]);
    assert!(writes(&h).is_empty());
}

#[test]
fn onboard_new_user_refuses_unmet_prerequisites_without_writing() {
    let h = demo();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &[
                "phone_number=+13126170100",
                "user=carol@jpmc.example",
                "org=org-retail",
            ],
            &[
                "org-retail is not Allowed for Zoom",
                "Next: ask Movius SRE/CS to Allow Zoom for org org-retail",
            ],
        ),
        (
            &[
                "phone_number=+13126170100",
                "user=carol@jpmc.example",
                "org=org-trading",
            ],
            &[
                "org-trading is Allowed but not Enabled",
                "Next: run `vline run org-setup org=org-trading",
            ],
        ),
        (
            &[
                "phone_number=+13126170100",
                "user=erin@jpmc.example",
                "org=org-zoom",
            ],
            &[
                "erin@jpmc.example has no Zoom Phone licence",
                "assign-phone-license users=erin@jpmc.example",
            ],
        ),
        (
            &[
                "phone_number=+13126170100",
                "user=nobody@jpmc.example",
                "org=org-zoom",
            ],
            &["nobody@jpmc.example does not exist", "Next:"],
        ),
        (
            // Number still assigned: 001 belongs to alice; it is never taken from her.
            &[
                "phone_number=+13126170001",
                "user=carol@jpmc.example",
                "org=org-zoom",
            ],
            &[
                "already assigned in Zoom to Alice Adams",
                "Next:",
                "offboard-number",
            ],
        ),
        (
            &[
                "phone_number=+13126170201",
                "user=carol@jpmc.example",
                "org=org-trading",
            ],
            &["not Enabled"],
        ),
        (
            &[
                "phone_number=+13126170201",
                "user=carol@jpmc.example",
                "org=org-zoom",
            ],
            &["already has a Movius account", "org-trading"],
        ),
    ];
    for (params, needles) in cases {
        let out = refused(&h, "onboard-new-user", params, 3);
        assert_mentions(&out, needles);
        assert!(writes(&h).is_empty(), "{params:?} wrote: {:?}", writes(&h));
    }
    assert_eq!(assignee(&h, "+13126170001").as_deref(), Some("user-alice"));
}

#[test]
fn onboard_new_user_peering_failure_is_reported_and_leaves_nothing_behind() {
    let h = demo();
    assert_code(
        &h.run(&["sandbox", "fault", "set", "--peering-fail", "+13126170100"]),
        0,
    );
    let out = refused(
        &h,
        "onboard-new-user",
        &[
            "phone_number=+13126170100",
            "user=carol@jpmc.example",
            "org=org-zoom",
        ],
        1,
    );
    assert_mentions(
        &out,
        &[
            "peering +13126170100 into Zoom failed",
            "no account was created",
            "Next: retry later",
        ],
    );
    assert!(ok_writes(&h).is_empty(), "{:?}", ok_writes(&h));
    assert!(account(&h, "+13126170100").is_none());
    assert!(zoom_number(&h, "+13126170100").is_none());
    assert!(in_pool(&h, "+13126170100"), "the number stays in the pool");

    // Once peering works again, the same command finishes the job.
    assert_code(&h.run(&["sandbox", "fault", "clear"]), 0);
    let r = done(
        &h,
        "onboard-new-user",
        &[
            "phone_number=+13126170100",
            "user=carol@jpmc.example",
            "org=org-zoom",
        ],
    );
    assert_eq!(r["status"], "done");
    assert_eq!(assignee(&h, "+13126170100").as_deref(), Some("user-carol"));
}

/// A number Zoom already has from another carrier (Zoom-native, here dave's) cannot be peered:
/// Movius creates no account, Zoom keeps the number on its holder, and no one else gets it.
#[test]
fn onboard_new_user_of_a_number_zoom_already_has_leaves_it_with_its_holder() {
    let h = demo();
    let out = refused(
        &h,
        "onboard-new-user",
        &["phone_number=+13125550100", "user=carol@jpmc.example"],
        1,
    );
    assert_mentions(
        &out,
        &[
            "peering +13125550100 into Zoom failed",
            "no account was created",
            "already in the Zoom account from carrier Zoom",
        ],
    );
    assert!(account(&h, "+13125550100").is_none());
    assert_eq!(assignee(&h, "+13125550100").as_deref(), Some("user-dave"));
}

// ---------------------------------------------------------------------------------------------
// onboard-account

#[test]
fn onboard_account_adds_a_zoom_enabled_account_and_a_rerun_changes_nothing() {
    let h = demo();
    let r = done(
        &h,
        "onboard-account",
        &["phone_number=+13126170105", "org=org-zoom"],
    );
    assert_eq!(r["status"], "done");
    let a = account(&h, "+13126170105").unwrap();
    assert_eq!(a["enable_zoom"], true);
    assert_eq!(a["first_name"], "13126170105");
    assert_eq!(a["last_name"], "JPMC");
    let z = zoom_number(&h, "+13126170105").expect("peered");
    assert!(
        z.get("assignee").is_none() || z["assignee"].is_null(),
        "{z}"
    );
    assert_eq!(ops(&ok_writes(&h)), vec!["movius.add"]);

    let before = writes(&h).len();
    assert_eq!(
        done(
            &h,
            "onboard-account",
            &["phone_number=+13126170105", "org=org-zoom"]
        )["status"],
        "already done"
    );
    assert_eq!(writes(&h).len(), before);
}

#[test]
fn onboard_account_picks_the_first_available_number_when_none_is_given() {
    let h = demo();
    let r = done(&h, "onboard-account", &["org=org-zoom"]);
    assert_eq!(r["phone_number"], "+13126170100");
    assert_eq!(account(&h, "+13126170100").unwrap()["enable_zoom"], true);
}

#[test]
fn onboard_account_refusals_and_peering_failure_change_nothing() {
    let h = demo();
    assert_mentions(
        &refused(
            &h,
            "onboard-account",
            &["phone_number=+13126170100", "org=org-retail"],
            3,
        ),
        &["not Allowed for Zoom", "ask Movius SRE/CS"],
    );
    assert_mentions(
        &refused(
            &h,
            "onboard-account",
            &["phone_number=+13126170150", "org=org-zoom"],
            3,
        ),
        &["not in the available pool", "Next:"],
    );
    assert_mentions(
        &refused(
            &h,
            "onboard-account",
            &["phone_number=+13126170201", "org=org-zoom"],
            3,
        ),
        &["without Zoom", "migrate-existing-user"],
    );
    assert!(writes(&h).is_empty());

    assert_code(
        &h.run(&["sandbox", "fault", "set", "--peering-fail", "+13126170101"]),
        0,
    );
    assert_mentions(
        &refused(
            &h,
            "onboard-account",
            &["phone_number=+13126170101", "org=org-zoom"],
            1,
        ),
        &[
            "could not be peered to Zoom",
            "nothing was left behind",
            "Next:",
        ],
    );
    assert!(ok_writes(&h).is_empty());
    assert!(account(&h, "+13126170101").is_none());
    assert!(zoom_number(&h, "+13126170101").is_none());
}

// ---------------------------------------------------------------------------------------------
// org-setup

#[test]
fn org_setup_enables_an_allowed_org_and_a_rerun_changes_nothing() {
    let h = demo();
    let r = done(&h, "org-setup", &["org=org-trading"]);
    assert_eq!(r["status"], "done");
    let o = h.run(&["--json", "call", "movius", "org", "org=org-trading"]);
    assert_code(&o, 0);
    let org = json(&o);
    assert_eq!(org["enable_zoom"], true);
    assert!(org["allowed_email_domains"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d == "@movius.ai"));
    assert_eq!(ops(&ok_writes(&h)), vec!["movius.set_zoom_enabled"]);

    let before = writes(&h).len();
    assert_eq!(
        done(&h, "org-setup", &["org=org-trading"])["status"],
        "already done"
    );
    assert_eq!(writes(&h).len(), before);
}

#[test]
fn org_setup_refuses_an_org_that_movius_has_not_allowed() {
    let h = demo();
    let out = refused(&h, "org-setup", &["org=org-retail"], 3);
    assert_mentions(
        &out,
        &[
            "org-retail is not Allowed for Zoom",
            "Next: ask Movius SRE/CS to Allow Zoom for org org-retail",
        ],
    );
    let out = refused(
        &h,
        "org-setup",
        &["name=Retail Zoom", "parent=org-retail"],
        3,
    );
    assert_mentions(&out, &["org-retail is not Allowed for Zoom"]);
    assert!(writes(&h).is_empty());
    assert_mentions(
        &refused(&h, "org-setup", &[], 3),
        &["give either org=", "Next:"],
    );
}

#[test]
fn org_setup_creates_a_sub_org_adds_the_domain_and_stops_until_movius_allows_zoom() {
    let h = demo();
    let out = refused(&h, "org-setup", &["name=JPMC Zoom 2", "parent=org-jpmc"], 3);
    assert_mentions(
        &out,
        &[
            "org-jpmc-zoom-2",
            "needs \"Allow Zoom\" first",
            "Next: ask Movius SRE/CS to Allow Zoom for org org-jpmc-zoom-2",
        ],
    );
    assert_eq!(
        ops(&ok_writes(&h)),
        vec!["movius.create_sub_org", "movius.add_allowed_email_domain"]
    );
    let o = h.run(&["--json", "call", "movius", "org", "org=org-jpmc-zoom-2"]);
    assert_code(&o, 0);
    let org = json(&o);
    assert_eq!(org["parent_id"], "org-jpmc");
    assert!(org["allowed_email_domains"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d == "@movius.ai"));

    // A re-run reuses the sub-org: no second one, no write.
    let before = writes(&h).len();
    refused(&h, "org-setup", &["name=JPMC Zoom 2", "parent=org-jpmc"], 3);
    assert_eq!(writes(&h).len(), before);

    // Movius allows it; the re-run the message names finishes the setup, and then nothing is left.
    movius_allows_zoom(&h, "org-jpmc-zoom-2");
    assert_eq!(
        done(&h, "org-setup", &["org=org-jpmc-zoom-2"])["status"],
        "done"
    );
    let o = h.run(&["--json", "call", "movius", "org", "org=org-jpmc-zoom-2"]);
    assert_eq!(json(&o)["enable_zoom"], true);
    let before = writes(&h).len();
    assert_eq!(
        done(&h, "org-setup", &["name=JPMC Zoom 2", "parent=org-jpmc"])["status"],
        "already done"
    );
    assert_eq!(writes(&h).len(), before);
    // The new sub-org takes Zoom accounts.
    assert_eq!(
        done(
            &h,
            "onboard-new-user",
            &[
                "phone_number=+13126170112",
                "user=dave@jpmc.example",
                "org=org-jpmc-zoom-2"
            ]
        )["status"],
        "done"
    );
}

// ---------------------------------------------------------------------------------------------
// migrate-existing-user

#[test]
fn migrate_existing_user_refuses_app_4_14_and_an_org_not_enabled() {
    let h = demo();
    let out = refused(
        &h,
        "migrate-existing-user",
        &["phone_number=+13126170202", "user=carol@jpmc.example"],
        3,
    );
    assert_mentions(
        &out,
        &["app 4.14.3", "4.15", "Next: ask the user to upgrade"],
    );
    let out = refused(
        &h,
        "migrate-existing-user",
        &["phone_number=+13126170201", "user=carol@jpmc.example"],
        3,
    );
    assert_mentions(
        &out,
        &[
            "org-trading is Allowed but not Enabled",
            "org-setup org=org-trading",
        ],
    );
    let out = refused(
        &h,
        "migrate-existing-user",
        &["phone_number=+13126170199", "user=carol@jpmc.example"],
        3,
    );
    assert_mentions(&out, &["no MultiLine account", "onboard-new-user"]);
    assert!(writes(&h).is_empty());
    assert_eq!(account(&h, "+13126170202").unwrap()["enable_zoom"], false);
}

#[test]
fn migrate_existing_user_turns_zoom_on_warns_what_goes_off_and_assigns() {
    let h = demo();
    done(&h, "org-setup", &["org=org-trading"]);
    let o = run(
        &h,
        "migrate-existing-user",
        &["phone_number=+13126170201", "user=carol@jpmc.example"],
    );
    assert_code(&o, 0);
    assert_eq!(json(&o)["result"]["status"], "done");
    assert_mentions(
        &stderr(&o),
        &[
            "call recording",
            "message logging",
            "voicemail",
            "opt-in",
            "out of office",
        ],
    );

    let a = account(&h, "+13126170201").unwrap();
    assert_eq!(a["enable_zoom"], true);
    for f in [
        "call_recording",
        "message_logging",
        "voicemail",
        "opt_in",
        "out_of_office",
    ] {
        assert_eq!(a["features"][f], false, "{f} should be off: {a}");
    }
    assert_eq!(assignee(&h, "+13126170201").as_deref(), Some("user-carol"));

    let before = writes(&h).len();
    assert_eq!(
        done(
            &h,
            "migrate-existing-user",
            &["phone_number=+13126170201", "user=carol@jpmc.example"]
        )["status"],
        "already done"
    );
    assert_eq!(writes(&h).len(), before);
}

#[test]
fn migrate_existing_user_peering_failure_keeps_the_account_unchanged() {
    let h = demo();
    done(&h, "org-setup", &["org=org-trading"]);
    let before = ok_writes(&h).len();
    assert_code(
        &h.run(&["sandbox", "fault", "set", "--peering-fail", "+13126170203"]),
        0,
    );
    let out = refused(
        &h,
        "migrate-existing-user",
        &["phone_number=+13126170203", "user=dave@jpmc.example"],
        1,
    );
    assert_mentions(
        &out,
        &[
            "peering +13126170203 into Zoom failed",
            "Zoom still off",
            "Next:",
        ],
    );
    assert_eq!(ok_writes(&h).len(), before);
    let a = account(&h, "+13126170203").unwrap();
    assert_eq!(a["enable_zoom"], false);
    assert_eq!(a["features"]["voicemail"], true);
    assert!(zoom_number(&h, "+13126170203").is_none());
}

// ---------------------------------------------------------------------------------------------
// offboard-number and carrier-offboard

#[test]
fn offboard_number_unassigns_then_deletes_and_verifies_and_a_rerun_changes_nothing() {
    let h = demo();
    let r = done(
        &h,
        "offboard-number",
        &["phone_number=+13126170001", "user=alice@jpmc.example"],
    );
    assert_eq!(r["status"], "done");
    // The guide's order: Zoom unassign first, then the Movius delete (which unpeers).
    assert_eq!(
        ops(&ok_writes(&h)),
        vec!["zoom.unassign_number", "movius.delete"]
    );
    assert!(account(&h, "+13126170001").is_none());
    assert!(zoom_number(&h, "+13126170001").is_none());

    let before = writes(&h).len();
    assert_eq!(
        done(&h, "offboard-number", &["phone_number=+13126170001"])["status"],
        "already done"
    );
    assert_eq!(writes(&h).len(), before);
}

#[test]
fn offboard_number_refuses_when_the_number_is_held_by_someone_else() {
    let h = demo();
    let out = refused(
        &h,
        "offboard-number",
        &["phone_number=+13126170001", "user=bob@jpmc.example"],
        3,
    );
    assert_mentions(
        &out,
        &[
            "assigned in Zoom to Alice Adams, not to bob@jpmc.example",
            "nothing was changed",
            "Next:",
        ],
    );
    let out = refused(
        &h,
        "offboard-number",
        &["phone_number=+13126170001", "org=org-trading"],
        3,
    );
    assert_mentions(&out, &["belongs to organization org-zoom", "Next:"]);
    assert!(writes(&h).is_empty());
    assert_eq!(assignee(&h, "+13126170001").as_deref(), Some("user-alice"));
    assert!(account(&h, "+13126170001").is_some());
}

#[test]
fn offboard_number_without_an_assignment_only_deletes() {
    let h = demo();
    // org= may name the account's org or one above it.
    done(
        &h,
        "offboard-number",
        &["phone_number=+13126170004", "org=org-jpmc"],
    );
    assert_eq!(ops(&ok_writes(&h)), vec!["movius.delete"]);
    assert!(zoom_number(&h, "+13126170004").is_none());
}

#[test]
fn carrier_offboard_unassigns_then_has_the_carrier_delete_and_verifies() {
    let h = demo();
    let r = done(
        &h,
        "carrier-offboard",
        &["phone_number=+13126170002", "user=bob@jpmc.example"],
    );
    assert_eq!(r["status"], "done");
    assert_eq!(
        ops(&ok_writes(&h)),
        vec!["zoom.unassign_number", "carrier.delete_ptn"]
    );
    assert!(account(&h, "+13126170002").is_none());
    assert!(zoom_number(&h, "+13126170002").is_none());

    let before = writes(&h).len();
    assert_eq!(
        done(&h, "carrier-offboard", &["phone_number=+13126170002"])["status"],
        "already done"
    );
    assert_eq!(writes(&h).len(), before);

    let out = refused(
        &h,
        "carrier-offboard",
        &["phone_number=+13126170001", "user=carol@jpmc.example"],
        3,
    );
    assert_mentions(&out, &["not to carol@jpmc.example", "Next:"]);
    assert_eq!(writes(&h).len(), before);
}

// ---------------------------------------------------------------------------------------------
// move-org-to-user-level

#[test]
fn move_org_to_user_level_refuses_outside_a_maintenance_window() {
    let h = demo();
    // No window configured.
    let out = refused(&h, "move-org-to-user-level", &["org=org-legacy"], 3);
    assert_mentions(&out, &["maintenance window", "--outside-window"]);
    assert!(writes(&h).is_empty());

    // A window that is closed now (it opens twelve hours from now).
    let now: u32 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
        / 3600
        % 24;
    let (start, end) = ((now + 12) % 24, (now + 13) % 24);
    windows(
        &h,
        &format!("[{{days = [], start = \"{start:02}:00\", end = \"{end:02}:00\", tz = \"UTC\"}}]"),
    );
    let out = refused(&h, "move-org-to-user-level", &["org=org-legacy"], 3);
    assert_mentions(&out, &["maintenance window"]);
    assert!(writes(&h).is_empty());
    for n in ["+13126170301", "+13126170302", "+13126170303"] {
        let a = account(&h, n).unwrap();
        assert_eq!(a["enable_zoom"], false);
        assert_eq!(a["teams_calling"], true);
    }
}

#[test]
fn move_org_to_user_level_moves_every_account_inside_a_window_and_a_rerun_changes_nothing() {
    let h = demo();
    windows(
        &h,
        "[{days = [], start = \"00:00\", end = \"24:00\", tz = \"UTC\"}]",
    );
    let r = done(&h, "move-org-to-user-level", &["org=org-legacy"]);
    assert_eq!(r["status"], "done");
    assert_eq!(r["moved"], 3);
    let per_account = r["accounts"].as_array().unwrap();
    assert_eq!(per_account.len(), 3);
    assert!(
        per_account.iter().all(|a| a["status"] == "done"),
        "{per_account:?}"
    );
    for n in ["+13126170301", "+13126170302", "+13126170303"] {
        let a = account(&h, n).unwrap();
        assert_eq!(a["enable_zoom"], true, "{n}");
        assert_eq!(a["teams_calling"], false, "{n}");
    }
    // The numbers stay peered; carol keeps 301.
    assert_eq!(assignee(&h, "+13126170301").as_deref(), Some("user-carol"));
    assert_eq!(ops(&ok_writes(&h)), vec!["movius.modify"; 3]);

    let before = writes(&h).len();
    assert_eq!(
        done(&h, "move-org-to-user-level", &["org=org-legacy"])["status"],
        "already done"
    );
    assert_eq!(writes(&h).len(), before);
}

#[test]
fn move_org_to_user_level_with_outside_window_reason_runs_and_needs_a_confirmation() {
    let h = demo();
    // No --yes and no terminal: the "rollback is impossible" confirmation refuses.
    let o = h.run(&[
        "run",
        "move-org-to-user-level",
        "org=org-legacy",
        "--outside-window",
        "incident 42",
    ]);
    assert_code(&o, 3);
    assert!(writes(&h).is_empty());
    let r = done(
        &h,
        "move-org-to-user-level",
        &["org=org-legacy", "--outside-window", "incident 42"],
    );
    assert_eq!(r["moved"], 3);
}

#[test]
fn move_org_to_user_level_refuses_old_apps_and_unready_orgs() {
    let h = demo();
    windows(
        &h,
        "[{days = [], start = \"00:00\", end = \"24:00\", tz = \"UTC\"}]",
    );
    assert_mentions(
        &refused(&h, "move-org-to-user-level", &["org=org-retail"], 3),
        &["not Allowed for Zoom", "ask Movius SRE/CS"],
    );
    assert_mentions(
        &refused(&h, "move-org-to-user-level", &["org=org-trading"], 3),
        &["not Enabled", "org-setup"],
    );
    assert!(writes(&h).is_empty());

    done(&h, "org-setup", &["org=org-trading"]);
    let before = writes(&h).len();
    let out = refused(&h, "move-org-to-user-level", &["org=org-trading"], 3);
    assert_mentions(&out, &["13126170202 (app 4.14.3)", "skip_old_apps=true"]);
    assert_eq!(writes(&h).len(), before);

    let r = done(
        &h,
        "move-org-to-user-level",
        &["org=org-trading", "skip_old_apps=true"],
    );
    assert_eq!(r["moved"], 2);
    assert_eq!(account(&h, "+13126170202").unwrap()["enable_zoom"], false);
    assert_eq!(account(&h, "+13126170203").unwrap()["enable_zoom"], true);
}

// ---------------------------------------------------------------------------------------------
// add-internal-numbers

const GOOD_CSV: &str = "labels,number,display_number,type,country,languages,visible\n\
London HQ,+442071234567,+44 20 7123 4567,0,GB,en-GB,true\n\
US toll free,+18005550199,+1 800 555 0199,1,us,en-US,\n";

#[test]
fn add_internal_numbers_refuses_a_bad_file_whole_with_line_numbers() {
    let h = demo();
    let bad = h.file(
        "bad.csv",
        "labels,number,display_number,type,country,languages\n\
London HQ,+442071234567,+44 20 7123 4567,0,GB,en-GB\n\
,2071234567,,2,GBR,fr-FR\n\
Berlin,+493012345678,+49 30 1234 5678,0,DE,de-DE\n\
Dup,+442071234567,+44 20 7123 4567,0,GB,en-GB\n",
    );
    let out = refused(
        &h,
        "add-internal-numbers",
        &[&format!("file={}", bad.display())],
        1,
    );
    assert_mentions(
        &out,
        &[
            "refused whole",
            "line 3:",
            "labels is required",
            "not E.164",
            "type '2'",
            "country 'GBR'",
            "languages 'fr-FR'",
            "line 5:",
            "already on line 2",
            "Next:",
        ],
    );
    assert!(!out.contains("line 4:"), "line 4 is valid:\n{out}");
    assert!(writes(&h).is_empty());

    let cols = h.file(
        "cols.csv",
        "labels,number,display_number,type,country\nA,+442071234567,x,0,GB\n",
    );
    assert_mentions(
        &refused(
            &h,
            "add-internal-numbers",
            &[&format!("file={}", cols.display())],
            1,
        ),
        &["missing column 'languages'"],
    );
    assert!(writes(&h).is_empty());
}

#[test]
fn add_internal_numbers_adds_valid_rows_and_a_rerun_changes_nothing() {
    let h = demo();
    let good = h.file("good.csv", GOOD_CSV);
    let file = format!("file={}", good.display());
    let r = done(&h, "add-internal-numbers", &[&file]);
    assert_eq!(r["status"], "done");
    assert_eq!(r["added"], 2);
    let o = h.run(&["--json", "call", "zoom", "internal_numbers", "account=me"]);
    assert_code(&o, 0);
    let list = json(&o);
    let uk = list
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["number"] == "+442071234567")
        .expect("added");
    assert_eq!(uk["type"], 0);
    assert_eq!(uk["languages"], "en-GB");
    assert_eq!(uk["visible"], true);
    let us = list
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["number"] == "+18005550199")
        .expect("added");
    assert_eq!(us["country"], "US");
    assert_eq!(us["type"], 1);

    let before = writes(&h).len();
    let again = done(&h, "add-internal-numbers", &[&file]);
    assert_eq!(again["status"], "already done");
    assert_eq!(again["skipped"], 2);
    assert_eq!(writes(&h).len(), before);
}

// ---------------------------------------------------------------------------------------------
// assign-phone-license

#[test]
fn assign_phone_license_licenses_with_site_and_plan_and_a_rerun_changes_nothing() {
    let h = demo();
    let r = done(
        &h,
        "assign-phone-license",
        &[
            "users=erin@jpmc.example, alice@jpmc.example",
            "site=New York",
            "calling_plan=200",
        ],
    );
    assert_eq!(r["status"], "done");
    assert_eq!(r["batches"], 1);
    let erin = phone_user(&h, "erin@jpmc.example").expect("erin is a phone user now");
    assert_eq!(erin["site_id"], "site-newyork");
    assert!(erin["calling_plans"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["type"] == 200));
    // alice already had everything: only erin was written to.
    let ws = ok_writes(&h);
    assert!(
        ops(&ws).contains(&"zoom.assign_calling_plan".to_string()),
        "{:?}",
        ops(&ws)
    );
    assert!(
        ws.iter()
            .all(|w| w["path"].as_str().unwrap_or("").contains("erin")),
        "{ws:?}"
    );

    let before = writes(&h).len();
    assert_eq!(
        done(
            &h,
            "assign-phone-license",
            &[
                "users=erin@jpmc.example,alice@jpmc.example",
                "site=New York",
                "calling_plan=200"
            ]
        )["status"],
        "already done"
    );
    assert_eq!(writes(&h).len(), before);
}

#[test]
fn assign_phone_license_reads_users_from_a_csv_and_assigns_a_direct_number() {
    let h = demo();
    let f = h.file("users.csv", "email,name\nerin@jpmc.example,Erin\n");
    let r = done(
        &h,
        "assign-phone-license",
        &[
            &format!("file={}", f.display()),
            "calling_plan=200",
            "number=+13126170003",
        ],
    );
    assert_eq!(r["status"], "done");
    assert_eq!(assignee(&h, "+13126170003").as_deref(), Some("user-erin"));
}

#[test]
fn assign_phone_license_checks_everything_before_changing_anything() {
    let h = demo();
    assert_mentions(
        &refused(
            &h,
            "assign-phone-license",
            &["users=erin@jpmc.example,ghost@jpmc.example,ghost2@jpmc.example"],
            3,
        ),
        &[
            "2 user(s) do not exist in Zoom: ghost@jpmc.example, ghost2@jpmc.example",
            "Next:",
        ],
    );
    assert_mentions(
        &refused(
            &h,
            "assign-phone-license",
            &["users=erin@jpmc.example,not-an-email"],
            1,
        ),
        &["'not-an-email' is not an email address"],
    );
    assert_mentions(
        &refused(
            &h,
            "assign-phone-license",
            &["users=erin@jpmc.example", "site=Mars"],
            3,
        ),
        &["no Zoom Phone site 'Mars'", "Chicago"],
    );
    assert_mentions(
        &refused(
            &h,
            "assign-phone-license",
            &["users=erin@jpmc.example", "calling_plan=999"],
            3,
        ),
        &["no calling plan of type 999"],
    );
    assert_mentions(
        &refused(
            &h,
            "assign-phone-license",
            &[
                "users=erin@jpmc.example,frank@jpmc.example",
                "number=+13126170003",
            ],
            1,
        ),
        &["assigns a direct number to one user", "2 users were given"],
    );
    assert_mentions(
        &refused(
            &h,
            "assign-phone-license",
            &["users=erin@jpmc.example", "number=+13126170001"],
            3,
        ),
        &["already assigned in Zoom to Alice Adams"],
    );
    assert_mentions(
        &refused(&h, "assign-phone-license", &[], 3),
        &["give either users="],
    );
    assert!(writes(&h).is_empty(), "{:?}", writes(&h));
    assert!(phone_user(&h, "erin@jpmc.example").is_none());
}

#[test]
fn assign_phone_license_remove_plan_warns_that_the_direct_number_goes_too() {
    let h = demo();
    done(
        &h,
        "assign-phone-license",
        &[
            "users=erin@jpmc.example",
            "calling_plan=200",
            "number=+13126170003",
        ],
    );
    let o = run(
        &h,
        "assign-phone-license",
        &["users=erin@jpmc.example", "remove_plan=200"],
    );
    assert_code(&o, 0);
    assert_mentions(
        &stderr(&o),
        &["warning:", "also removes the direct number: +13126170003"],
    );
    let erin = phone_user(&h, "erin@jpmc.example").unwrap();
    assert!(
        erin["calling_plans"].as_array().unwrap().is_empty(),
        "{erin}"
    );
    assert!(assignee(&h, "+13126170003").is_none());

    let before = writes(&h).len();
    assert_eq!(
        done(
            &h,
            "assign-phone-license",
            &["users=erin@jpmc.example", "remove_plan=200"]
        )["status"],
        "already done"
    );
    assert_eq!(writes(&h).len(), before);
}

// ---------------------------------------------------------------------------------------------
// reconcile and pex-authorization

#[test]
fn reconcile_reports_drift_as_a_table_and_a_csv_and_writes_nothing() {
    let h = demo();
    let csv = h.path().join("drift.csv");
    let out_param = format!("out={}", csv.display());
    let o = h.run(&["--json", "run", "reconcile", "org=org-jpmc", &out_param]);
    assert_code(&o, 0);
    let findings = json(&o)["result"].as_array().cloned().unwrap();
    let kinds: Vec<(String, String)> = findings
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["phone_number"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for n in ["+13126170003", "+13126170004", "+13126170005"] {
        assert!(
            kinds.contains(&("unassigned_in_zoom".into(), n.into())),
            "{kinds:?}"
        );
    }
    assert!(
        kinds.contains(&("app_below_4_15".into(), "+13126170202".into())),
        "{kinds:?}"
    );
    assert_eq!(findings.len(), 4, "{kinds:?}");
    assert_mentions(&stderr(&o), &["4 finding(s)"]);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_mentions(&text, &["kind", "unassigned_in_zoom", "+13126170202"]);
    assert!(writes(&h).is_empty());

    let human = h.run(&["run", "reconcile", "org=org-jpmc"]);
    assert_code(&human, 0);
    assert_mentions(&stdout(&human), &["unassigned_in_zoom", "4 row(s)"]);
}

#[test]
fn reconcile_finds_no_drift_once_every_zoom_number_is_assigned() {
    let h = demo();
    for (n, u) in [
        ("+13126170003", "carol"),
        ("+13126170004", "dave"),
        ("+13126170005", "alice"),
    ] {
        done(
            &h,
            "onboard-new-user",
            &[
                &format!("phone_number={n}"),
                &format!("user={u}@jpmc.example"),
                "org=org-zoom",
            ],
        );
    }
    let o = h.run(&[
        "--json",
        "run",
        "reconcile",
        "org=org-zoom",
        "sub_org=false",
    ]);
    assert_code(&o, 0);
    assert_eq!(json(&o)["result"], serde_json::json!([]));
    assert_mentions(&stderr(&o), &["no drift"]);
}

#[test]
fn reconcile_reports_a_new_zoom_account_nobody_holds_yet() {
    let h = demo();
    // Zoom on without an assignment is drift the reconciliation must show.
    done(
        &h,
        "onboard-account",
        &["phone_number=+13126170107", "org=org-zoom"],
    );
    let o = h.run(&[
        "--json",
        "run",
        "reconcile",
        "org=org-zoom",
        "sub_org=false",
    ]);
    assert_code(&o, 0);
    let findings = json(&o)["result"].clone();
    assert!(
        findings
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "unassigned_in_zoom" && f["phone_number"] == "+13126170107"),
        "{findings}"
    );
}

#[test]
fn reconcile_reports_numbers_lost_from_zoom_and_numbers_peered_without_an_account() {
    let h = demo();
    {
        let zoom = crate::sandbox::Env::on_home(&h);
        // Peering lost: Zoom no longer has a number whose Movius account has Zoom on.
        zoom.zoom(
            "DELETE",
            "/phone/peering/numbers?phone_numbers=%2B13126170003",
            None,
        )
        .expect(200);
        // Peered into Zoom, but no Movius account has the number.
        zoom.zoom(
            "POST",
            "/phone/peering/numbers",
            Some(serde_json::json!({"carrier_code": 8801,
                "phone_numbers": [{"phone_number": "+13125550199",
                    "sip_trunk_name": "movius-pex-trunk", "status": 1}]})),
        )
        .expect(201);
    }
    let o = h.run(&["--json", "run", "reconcile", "org=org-jpmc"]);
    assert_code(&o, 0);
    let findings = json(&o)["result"].as_array().cloned().unwrap();
    let has = |kind: &str, n: &str| {
        findings
            .iter()
            .any(|f| f["kind"] == kind && f["phone_number"] == n)
    };
    assert!(has("missing_in_zoom", "+13126170003"), "{findings:?}");
    assert!(!has("unassigned_in_zoom", "+13126170003"), "{findings:?}");
    assert!(
        has("peered_without_account", "+13125550199"),
        "{findings:?}"
    );
    let detail = findings
        .iter()
        .find(|f| f["kind"] == "peered_without_account")
        .map(|f| f["detail"].to_string())
        .unwrap_or_default();
    assert_mentions(&detail, &["no Movius account", "unassigned"]);
    assert_eq!(writes(&h).len(), 2, "reconcile writes nothing");
}

#[test]
fn pex_authorization_prints_the_checklist_and_verifies_the_peering() {
    let h = demo();
    let o = h.run(&["--json", "run", "pex-authorization", "org=org-zoom"]);
    assert_code(&o, 0);
    let r = json(&o)["result"].clone();
    assert_eq!(r["verified"], true, "{r}");
    assert_eq!(r["peering_numbers"], 8);
    assert_mentions(
        &stderr(&o),
        &["Provider Exchange", "Search for \"Movius\"", "Allow"],
    );
    assert!(writes(&h).is_empty());

    let empty = Home::new();
    assert_code(&empty.run(&["sandbox", "reset", "--seed", "empty"]), 0);
    let o = empty.run(&["--json", "run", "pex-authorization"]);
    assert_code(&o, 0);
    let r = json(&o)["result"].clone();
    assert_eq!(r["verified"], false);
    assert_eq!(r["status"], "not verified");
    assert_mentions(&stderr(&o), &["could not be verified", "Next:"]);
}

// ---------------------------------------------------------------------------------------------
// stdlib

#[test]
fn stdlib_compares_versions_numerically_and_batches_by_100() {
    let h = Home::new();
    let script = h.file(
        "t.rhai",
        r#"
import "vline/util" as vu;
import "vline/movius" as vm;
import "vline/zoom" as vz;
let big = [];
for i in 0..250 { big.push(i); }
#{
    lt_4_9: vu::version_lt("4.9", "4.15"),
    lt_4_14_3: vu::version_lt("4.14.3", "4.15"),
    eq_4_15: vu::version_cmp("4.15", "4.15.0"),
    gt_4_16: vu::version_cmp("4.16.0", "4.15"),
    rc: vu::version_lt("4.15.0-rc1", "4.15"),
    old_app: vm::app_too_old(#{app_version: "4.14.3"}),
    no_app: vm::app_too_old(#{app_version: ""}),
    batches: vu::chunks(big, 100).map(|b| b.len()),
    list: vu::split_list(" a@x.com, b@x.com,,a@x.com"),
    digits: vu::same_number("+13126170001", "13126170001"),
    holder: vz::holder_name(vz::holder(#{number: "+13126170009", assignee: #{id: "cq1", name: "Desk", type: "callQueue"}})),
    nobody: vz::holder(#{number: "+13126170009"}),
}
"#,
    );
    let o = h.run(&["--json", "run", script.to_str().unwrap()]);
    assert_code(&o, 0);
    let r = json(&o)["result"].clone();
    assert_eq!(r["lt_4_9"], true);
    assert_eq!(r["lt_4_14_3"], true);
    assert_eq!(r["eq_4_15"], 0);
    assert_eq!(r["gt_4_16"], 1);
    assert_eq!(r["rc"], false);
    assert_eq!(r["old_app"], true);
    assert_eq!(r["no_app"], false);
    assert_eq!(r["batches"], serde_json::json!([100, 100, 50]));
    assert_eq!(r["list"], serde_json::json!(["a@x.com", "b@x.com"]));
    assert_eq!(r["digits"], true);
    assert_eq!(r["holder"], "Desk (callQueue)");
    assert!(r["nobody"].is_null());
}
