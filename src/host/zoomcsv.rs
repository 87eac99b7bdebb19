//! Zoom's phone-user bulk-import CSV, made safe to upload.
//!
//! Zoom's admin guide warns that a CSV upload sets users *exactly* as the file says: a field left
//! out is cleared (upload only a new desk phone, and the user loses their number and calling
//! plan). `export` writes every phone user's current profile with every template field the API
//! returns; `merge` writes an upload file whose rows keep all current values and change only what
//! was asked.
//!
//! Columns, in order: `email, name, site_name, site_code, extension_number, calling_plans`
//! (the template's "Package"), `phone_numbers`, `department, cost_center, status`, then
//! `desk_phone_N_brand, desk_phone_N_model, desk_phone_N_mac_address` for as many desk phones as
//! the user with the most has (the template allows 9). Lists are joined with `", "`.
//! The template's "User Template", "Set Outbound Caller ID", "Allow User to Change Outbound Caller
//! ID", "SMS Enablement" and "Desk Phone Provision Template" are not returned by the phone-user
//! API, so they are not in the file.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::api::clients::Clients;
use crate::api::zoom::wire::{Device, DeviceListType, PhoneUser};
use crate::api::ApiError;

/// The fixed columns (desk-phone columns follow).
pub const COLUMNS: &[&str] = &[
    "email",
    "name",
    "site_name",
    "site_code",
    "extension_number",
    "calling_plans",
    "phone_numbers",
    "department",
    "cost_center",
    "status",
];

/// Zoom's template takes at most this many desk phones per user.
pub const MAX_DESK_PHONES: usize = 9;

const PHONE_FIELDS: &[&str] = &["brand", "model", "mac_address"];

/// The current phone users as upload rows (column → value), and the column list.
#[derive(Debug)]
pub struct Table {
    pub columns: Vec<String>,
    /// Keyed by lower-case email, in Zoom's order.
    pub rows: Vec<(String, BTreeMap<String, String>)>,
}

/// Why a CSV could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("{0}")]
    Api(#[from] ApiError),
    #[error("{0}")]
    Bad(String),
    #[error("{path}: {why}")]
    File { path: String, why: String },
}

/// Read every phone user, the sites and the desk phones: the account's current profile.
pub fn current(c: &Clients) -> Result<Table, CsvError> {
    let users = c.zoom.phone_users()?;
    let sites: HashMap<String, (String, Option<i64>)> = c
        .zoom
        .sites()?
        .into_iter()
        .map(|s| (s.id, (s.name, s.site_code)))
        .collect();
    // Only assigned desk phones belong to a user's row.
    let devices: Vec<Device> = c.zoom.devices(DeviceListType::Assigned)?;
    let mut phones_of: HashMap<String, Vec<&Device>> = HashMap::new();
    for d in &devices {
        let Some(a) = &d.assignee else { continue };
        if let Some(u) = users.iter().find(|u| {
            a.id == u.id
                || u.extension_id.as_deref() == Some(a.id.as_str())
                || (a.extension_number.is_some() && a.extension_number == u.extension_number)
        }) {
            phones_of.entry(u.email.to_lowercase()).or_default().push(d);
        }
    }
    let most = phones_of
        .values()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .min(MAX_DESK_PHONES);
    let mut columns: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
    for i in 1..=most {
        for f in PHONE_FIELDS {
            columns.push(format!("desk_phone_{i}_{f}"));
        }
    }
    let rows = users
        .iter()
        .map(|u| {
            let key = u.email.to_lowercase();
            let mut r = row_of(u, &sites);
            for (i, d) in phones_of
                .get(&key)
                .into_iter()
                .flatten()
                .take(most)
                .enumerate()
            {
                let n = i + 1;
                r.insert(format!("desk_phone_{n}_brand"), d.kind.clone());
                r.insert(
                    format!("desk_phone_{n}_model"),
                    d.model.clone().unwrap_or_default(),
                );
                r.insert(format!("desk_phone_{n}_mac_address"), d.mac_address.clone());
            }
            (key, r)
        })
        .collect();
    Ok(Table { columns, rows })
}

fn row_of(
    u: &PhoneUser,
    sites: &HashMap<String, (String, Option<i64>)>,
) -> BTreeMap<String, String> {
    let site_id = u
        .site_id
        .clone()
        .or_else(|| u.site.as_ref().map(|s| s.id.clone()));
    let (site_name, site_code) = site_id
        .as_ref()
        .and_then(|id| sites.get(id))
        .map(|(n, c)| (n.clone(), c.map(|c| c.to_string()).unwrap_or_default()))
        .or_else(|| {
            u.site
                .as_ref()
                .map(|s| (s.name.clone().unwrap_or_default(), String::new()))
        })
        .unwrap_or_default();
    let plans = u
        .calling_plans
        .iter()
        .map(|p| p.name.clone().unwrap_or_else(|| p.kind.to_string()))
        .collect::<Vec<_>>()
        .join(", ");
    let numbers = u
        .phone_numbers
        .iter()
        .filter_map(|n| n.number.clone().or_else(|| n.id.clone()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut r = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        r.insert(k.to_string(), v);
    };
    put("email", u.email.clone());
    put("name", u.name.clone().unwrap_or_default());
    put("site_name", site_name);
    put("site_code", site_code);
    put(
        "extension_number",
        u.extension_number
            .map(|e| e.to_string())
            .unwrap_or_default(),
    );
    put("calling_plans", plans);
    put("phone_numbers", numbers);
    put("department", u.department.clone().unwrap_or_default());
    put("cost_center", u.cost_center.clone().unwrap_or_default());
    put("status", u.status.clone());
    r
}

/// One value of a change as the CSV cell: lists joined with ", ", `()` as empty (clears it).
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(cell).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// What `merge` changed: `email`, `field`, `from`, `to`.
pub type ChangeLog = Vec<BTreeMap<String, String>>;

/// Apply `changes` (objects with `email` and the columns to change) to the current profile.
/// Only the users named are kept; every other column keeps its current value.
pub fn merge(t: &Table, changes: &[Value]) -> Result<(Table, ChangeLog), CsvError> {
    let mut problems = Vec::new();
    let mut out: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    let mut log = Vec::new();
    let mut columns = t.columns.clone();
    for (i, c) in changes.iter().enumerate() {
        let Some(obj) = c.as_object() else {
            problems.push(format!("change {}: not a map", i + 1));
            continue;
        };
        let Some(email) = obj.get("email").and_then(Value::as_str) else {
            problems.push(format!("change {}: no email", i + 1));
            continue;
        };
        let key = email.trim().to_lowercase();
        let Some((_, current)) = t.rows.iter().find(|(k, _)| *k == key) else {
            problems.push(format!("{email} is not a Zoom Phone user"));
            continue;
        };
        let pos = match out.iter().position(|(k, _)| *k == key) {
            Some(p) => p,
            None => {
                out.push((key.clone(), current.clone()));
                out.len() - 1
            }
        };
        for (field, v) in obj {
            if field == "email" {
                continue;
            }
            let known = COLUMNS.contains(&field.as_str()) || desk_phone_column(field);
            if !known {
                problems.push(format!(
                    "{email}: unknown column '{field}' (columns: {}, desk_phone_N_brand|model|mac_address)",
                    COLUMNS.join(", ")
                ));
                continue;
            }
            // A desk phone goes in whole: brand, model and MAC together.
            let group: Vec<String> = match field.strip_suffix(
                PHONE_FIELDS
                    .iter()
                    .find(|f| field.ends_with(*f))
                    .copied()
                    .unwrap_or("\u{0}"),
            ) {
                Some(prefix) if desk_phone_column(field) => PHONE_FIELDS
                    .iter()
                    .map(|f| format!("{prefix}{f}"))
                    .collect(),
                _ => vec![field.clone()],
            };
            for c in group {
                if !columns.contains(&c) {
                    columns.push(c);
                }
            }
            let to = cell(v);
            let row = &mut out[pos].1;
            let from = row.get(field).cloned().unwrap_or_default();
            if from != to {
                log.push(BTreeMap::from([
                    ("email".to_string(), email.to_string()),
                    ("field".to_string(), field.clone()),
                    ("from".to_string(), from),
                    ("to".to_string(), to.clone()),
                ]));
            }
            row.insert(field.clone(), to);
        }
    }
    if !problems.is_empty() {
        return Err(CsvError::Bad(format!(
            "nothing was written; {} problem(s): {}",
            problems.len(),
            problems.join("; ")
        )));
    }
    Ok((Table { columns, rows: out }, log))
}

fn desk_phone_column(f: &str) -> bool {
    let Some(rest) = f.strip_prefix("desk_phone_") else {
        return false;
    };
    let Some((n, field)) = rest.split_once('_') else {
        return false;
    };
    matches!(n.parse::<usize>(), Ok(1..=MAX_DESK_PHONES)) && PHONE_FIELDS.contains(&field)
}

/// Write the table as CSV; the number of rows.
pub fn write(t: &Table, path: &str) -> Result<u64, CsvError> {
    let err = |e: csv::Error| CsvError::File {
        path: path.to_string(),
        why: e.to_string(),
    };
    let mut w = csv::Writer::from_path(path).map_err(err)?;
    w.write_record(&t.columns).map_err(err)?;
    for (_, r) in &t.rows {
        let rec: Vec<&str> = t
            .columns
            .iter()
            .map(|c| r.get(c).map(String::as_str).unwrap_or(""))
            .collect();
        w.write_record(&rec).map_err(err)?;
    }
    w.flush().map_err(|e| CsvError::File {
        path: path.to_string(),
        why: e.to_string(),
    })?;
    Ok(t.rows.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table() -> Table {
        let row = |e: &str, d: &str| {
            (
                e.to_string(),
                BTreeMap::from([
                    ("email".to_string(), e.to_string()),
                    ("department".to_string(), d.to_string()),
                    ("phone_numbers".to_string(), "+13126170001".to_string()),
                    (
                        "calling_plans".to_string(),
                        "US/CA Unlimited Calling Plan".to_string(),
                    ),
                ]),
            )
        };
        Table {
            columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
            rows: vec![row("a@x.com", "Sales"), row("b@x.com", "Ops")],
        }
    }

    #[test]
    fn merge_keeps_every_current_value() {
        let (t, log) = merge(
            &table(),
            &[json!({"email": "A@x.com", "department": "Trading"})],
        )
        .unwrap();
        assert_eq!(t.rows.len(), 1);
        let r = &t.rows[0].1;
        assert_eq!(r["department"], "Trading");
        assert_eq!(r["phone_numbers"], "+13126170001");
        assert_eq!(r["calling_plans"], "US/CA Unlimited Calling Plan");
        assert_eq!(log.len(), 1);
        assert_eq!(log[0]["from"], "Sales");
    }

    #[test]
    fn merge_refuses_unknown_users_and_columns() {
        let e = merge(
            &table(),
            &[
                json!({"email": "z@x.com", "department": "X"}),
                json!({"email": "a@x.com", "dept": "X"}),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("z@x.com is not a Zoom Phone user"), "{e}");
        assert!(e.contains("unknown column 'dept'"), "{e}");
        assert!(desk_phone_column("desk_phone_2_mac_address"));
        assert!(!desk_phone_column("desk_phone_10_brand"));
    }
}
