//! `zoom::export_users_csv` and `zoom::merge_users_csv` through `vline run`: the upload file keeps
//! every current value (a Zoom CSV upload clears what it leaves out) and changes only what was given.

use crate::support::{assert_code, demo, json, stderr};

/// CSV rows as maps (header → value).
fn read(path: &std::path::Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut rd = csv::Reader::from_path(path).unwrap();
    let head: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
    rd.records()
        .map(|r| {
            head.iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

const SCRIPT: &str = r#"//! title: export, then an upload file for two changes
//! param: all path required the export
//! param: upload path required the upload file
let n = zoom::export_users_csv(all);
let m = zoom::merge_users_csv([
    #{email: "bob@jpmc.example", department: "Trading"},
    #{email: "Alice@jpmc.example", extension_number: 1011},
], upload);
#{exported: n, rows: m.rows, changes: m.changes.len()}
"#;

#[test]
fn export_has_every_phone_user_and_merge_keeps_all_current_values() {
    let h = demo();
    // State that an upload must not lose: alice's department and cost center (the demo seed's,
    // set in Zoom's portal) and a desk phone.
    let setup = h.file(
        "setup.rhai",
        r#"let d = zoom::add_device(#{display_name: "Alice desk", mac_address: "001122334455", type: "yealink", model: "T54W"});
zoom::assign_device(d.id, [zoom::phone_user("alice@jpmc.example").extension_id]);
"#,
    );
    assert_code(&h.run(&["run", setup.to_str().unwrap(), "--yes"]), 0);
    let s = h.file("x.rhai", SCRIPT);
    let all = h.path().join("all.csv");
    let up = h.path().join("upload.csv");
    let o = h.run(&[
        "--json",
        "run",
        s.to_str().unwrap(),
        &format!("all={}", all.display()),
        &format!("upload={}", up.display()),
    ]);
    assert_code(&o, 0);
    let r = &json(&o)["result"];
    assert_eq!(r["exported"], 4, "{r:#}");
    assert_eq!(r["rows"], 2, "{r:#}");
    assert_eq!(r["changes"], 2, "{r:#}");

    let exported = read(&all);
    let emails: Vec<&str> = exported.iter().map(|r| r["email"].as_str()).collect();
    assert_eq!(
        emails,
        [
            "alice@jpmc.example",
            "bob@jpmc.example",
            "carol@jpmc.example",
            "dave@jpmc.example"
        ]
    );
    let alice = &exported[0];
    assert_eq!(alice["extension_number"], "1001");
    assert_eq!(alice["site_name"], "Chicago");
    assert_eq!(alice["calling_plans"], "US/CA Unlimited Calling Plan");
    assert_eq!(alice["phone_numbers"], "+13126170001");
    assert_eq!(alice["department"], "Sales");
    assert_eq!(alice["cost_center"], "CC-7");
    assert_eq!(
        alice["desk_phone_1_mac_address"], "001122334455",
        "{alice:?}"
    );
    assert_eq!(alice["desk_phone_1_brand"], "yealink");

    // The upload file: only the two users, every current value kept, the changes applied.
    let upload = read(&up);
    assert_eq!(upload.len(), 2);
    let bob = upload
        .iter()
        .find(|r| r["email"] == "bob@jpmc.example")
        .unwrap();
    assert_eq!(bob["department"], "Trading");
    assert_eq!(bob["phone_numbers"], "+13126170002");
    assert_eq!(bob["calling_plans"], "US/CA Unlimited Calling Plan");
    assert_eq!(bob["extension_number"], "1002");
    let alice = upload
        .iter()
        .find(|r| r["email"] == "alice@jpmc.example")
        .unwrap();
    assert_eq!(alice["extension_number"], "1011");
    assert_eq!(alice["department"], "Sales", "kept, not cleared");
    assert_eq!(alice["cost_center"], "CC-7");
    assert_eq!(alice["phone_numbers"], "+13126170001");
    assert_eq!(alice["desk_phone_1_mac_address"], "001122334455");
    // Both helpers only read: the sandbox saw no write after the setup.
    let o = h.run(&["sandbox", "log", "--writes", "--json"]);
    let ops: Vec<String> = json(&o)
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["op"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ops,
        ["zoom.add_device", "zoom.assign_device"],
        "only the setup wrote"
    );
}

#[test]
fn merge_refuses_unknown_users_and_columns_and_ungranted_paths() {
    let h = demo();
    let up = h.path().join("upload.csv");
    let s = h.file(
        "bad.rhai",
        r#"//! param: upload path required the upload file
zoom::merge_users_csv([#{email: "nobody@jpmc.example", department: "X"}, #{email: "bob@jpmc.example", dept: "X"}], upload)
"#,
    );
    let o = h.run(&[
        "run",
        s.to_str().unwrap(),
        &format!("upload={}", up.display()),
    ]);
    assert_code(&o, 1);
    let e = stderr(&o);
    assert!(
        e.contains("nobody@jpmc.example is not a Zoom Phone user"),
        "{e}"
    );
    assert!(e.contains("unknown column 'dept'"), "{e}");
    assert!(!up.exists(), "nothing written");

    let s = h.file(
        "nogrant.rhai",
        r#"zoom::export_users_csv("/tmp/vline-not-granted.csv")"#,
    );
    let o = h.run(&["run", s.to_str().unwrap()]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("was not named by the operator"),
        "{}",
        stderr(&o)
    );
}
