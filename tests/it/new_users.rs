//! Seed 001's "Assign a license to a new user": `assign-phone-license create_missing=true`
//! creates the users Zoom does not have, with the Zoom Phone licence (`POST /users`).

use crate::support::{assert_code, demo, json, stderr, writes};

#[test]
fn assign_phone_license_creates_missing_users_only_when_asked() {
    let h = demo();
    let args = [
        "--json",
        "run",
        "assign-phone-license",
        "users=gina@jpmc.example,alice@jpmc.example",
        "calling_plan=200",
        "--yes",
    ];
    // Not asked: refused, nothing sent, and the message says how.
    let o = h.run(&args);
    assert_code(&o, 3);
    assert!(
        stderr(&o).contains("error: 1 user(s) do not exist in Zoom: gina@jpmc.example (nothing was changed). Next: re-run with create_missing=true to create them with the Zoom Phone licence"),
        "{}",
        stderr(&o)
    );
    assert!(writes(&h).is_empty());

    // Asked: gina is created with the licence and gets the plan; alice already has both.
    let o = h.run(&[&args[..], &["create_missing=true"]].concat());
    assert_code(&o, 0);
    let r = json(&o)["result"].clone();
    assert_eq!(r["status"], "done", "{r:#}");
    let row = |e: &str| {
        r["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == e)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        row("gina@jpmc.example")["user"],
        "created (ssoCreate)",
        "{r:#}"
    );
    assert_eq!(row("gina@jpmc.example")["licence"], "licensed", "{r:#}");
    assert_eq!(
        row("alice@jpmc.example")["licence"],
        "already licensed",
        "{r:#}"
    );
    let ops: Vec<String> = writes(&h)
        .iter()
        .map(|w| {
            format!(
                "{} {} {}",
                w["op"].as_str().unwrap(),
                w["path"].as_str().unwrap(),
                w["status"]
            )
        })
        .collect();
    assert_eq!(
        ops,
        [
            "zoom.create_user /users 201",
            "zoom.assign_calling_plan /phone/users/gina@jpmc.example/calling_plans 201"
        ]
    );
    let o = h.run(&[
        "--json",
        "call",
        "zoom",
        "phone_user",
        "user=gina@jpmc.example",
    ]);
    assert_code(&o, 0);
    let pu = json(&o);
    assert_eq!(
        pu["extension_number"], 1005,
        "the next free extension: {pu:#}"
    );
    assert_eq!(pu["calling_plans"][0]["type"], 200, "{pu:#}");

    // Again: nothing to do, nothing sent.
    let o = h.run(&[&args[..], &["create_missing=true"]].concat());
    assert_code(&o, 0);
    assert_eq!(json(&o)["result"]["status"], "already done");
    assert_eq!(writes(&h).len(), 2);
}
