//! Output for pipelines: `-o json|jsonl|csv|yaml`, `--json` as its short form, `--fields`.

use serde_json::Value;

use crate::support::{assert_code, demo, json, stderr, stdout};

#[test]
fn call_as_csv_has_a_number_column_and_fields_choose_the_columns() {
    let h = demo();
    let o = h.run(&["call", "zoom", "numbers", "type=all", "--output", "csv"]);
    assert_code(&o, 0);
    let out = stdout(&o);
    let mut rd = csv::Reader::from_reader(out.as_bytes());
    let head: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&head[..2], ["number", "status"], "{out}");
    let numbers: Vec<String> = rd.records().map(|r| r.unwrap()[0].to_string()).collect();
    assert_eq!(numbers.len(), 12, "{out}");
    assert!(numbers.contains(&"+13126170001".to_string()), "{out}");

    let o = h.run(&[
        "-o",
        "csv",
        "--fields",
        "number,assignee.name",
        "call",
        "zoom",
        "numbers",
        "type=assigned",
    ]);
    assert_code(&o, 0);
    assert!(
        stdout(&o).starts_with("number,assignee.name\n+13126170001,Alice Adams\n"),
        "{}",
        stdout(&o)
    );
    // A field no row has is a mistake on the command line (exit 2), naming the fields there are.
    let o = h.run(&["--fields", "nmber", "call", "zoom", "numbers", "type=all"]);
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("--fields: no field 'nmber' in this output; fields: number, status,"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn jsonl_yaml_and_json_carry_nested_values_as_values() {
    let h = demo();
    let o = h.run(&["-o", "jsonl", "call", "zoom", "numbers", "type=assigned"]);
    assert_code(&o, 0);
    let rows: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(rows.len() >= 3, "{rows:?}");
    assert_eq!(rows[0]["assignee"]["name"], "Alice Adams", "{rows:?}");
    let o = h.run(&[
        "-o",
        "yaml",
        "call",
        "zoom",
        "number",
        "number=+13126170001",
    ]);
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains("assignee:\n  extension_number: 1001\n"),
        "{}",
        stdout(&o)
    );
    // --json is -o json; --fields keeps the nesting.
    let o = h.run(&[
        "--json",
        "--fields",
        "number,assignee.name",
        "call",
        "zoom",
        "number",
        "number=+13126170001",
    ]);
    assert_code(&o, 0);
    assert_eq!(
        json(&o),
        serde_json::json!({"number": "+13126170001", "assignee": {"name": "Alice Adams"}})
    );
}

#[test]
fn bulk_json_carries_each_rows_result() {
    let h = demo();
    let f = h.file(
        "in.csv",
        "phone_number,user\n+13126170100,carol@jpmc.example\n+13126170110,nobody@jpmc.example\n",
    );
    let o = h.run(&[
        "--json",
        "bulk",
        "onboard-new-user",
        "--csv",
        f.to_str().unwrap(),
        "--yes",
    ]);
    assert_code(&o, 1);
    let v = json(&o);
    assert_eq!(v["report"]["done"], 1, "{v:#}");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{v:#}");
    assert_eq!(rows[0]["phone_number"], "+13126170100");
    assert_eq!(rows[0]["status"], "done");
    assert_eq!(rows[0]["line"], 2);
    assert_eq!(rows[0]["zoom_number_id"], "num13126170100");
    assert_eq!(rows[1]["status"], "failed");
    assert!(
        rows[1]["detail"]
            .as_str()
            .unwrap()
            .contains("nobody@jpmc.example does not exist"),
        "{v:#}"
    );
    // -o csv: one line per row.
    let o = h.run(&[
        "-o",
        "csv",
        "bulk",
        "onboard-new-user",
        "--csv",
        f.to_str().unwrap(),
        "--resume",
        "r1",
        "--yes",
    ]);
    assert_code(&o, 1);
    let out = stdout(&o);
    assert!(out.starts_with("phone_number,user,line,status,"), "{out}");
    assert_eq!(out.lines().count(), 3, "{out}");
}
