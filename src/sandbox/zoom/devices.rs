//! Desk phones: list filters, add, assign to extensions.

use super::*;

/// The filters of `GET /phone/devices`: `type` (required; the spec checks it before this),
/// `assignee_type`, `site_id` (the assignee's site), `device_type` (the brand), `keyword` (name,
/// MAC or assignee).
pub(super) fn device_matches(w: &World, d: &Device, req: &Req) -> bool {
    let assigned = d.assignee.is_some();
    let user = d.assignee.as_ref().and_then(|a| w.user(&a.id));
    let kind_ok = match req.q("type") {
        Some("assigned") => assigned,
        Some("unassigned") => !assigned,
        _ => true,
    };
    let assignee_ok = req
        .q("assignee_type")
        .is_none_or(|t| t == "user" && assigned);
    let site_ok = req
        .q("site_id")
        .is_none_or(|s| user.and_then(|u| u.site_id.as_deref()) == Some(s));
    let brand_ok = req.q("device_type").is_none_or(|t| {
        let brand = d.kind.to_ascii_lowercase();
        match t {
            // Zoom groups every brand it does not name under `other`.
            "other" => ![
                "algo",
                "audiocodes",
                "cisco",
                "cyberdata",
                "grandstream",
                "poly",
                "polycom",
                "yealink",
            ]
            .contains(&brand.as_str()),
            "poly" => brand == "poly" || brand == "polycom",
            t => brand == t.to_ascii_lowercase(),
        }
    });
    let keyword_ok = req.q("keyword").is_none_or(|k| {
        let k = k.to_ascii_lowercase();
        let mac_k: String = k.chars().filter(char::is_ascii_hexdigit).collect();
        d.display_name.to_ascii_lowercase().contains(&k)
            || (!mac_k.is_empty() && d.mac_address.contains(&mac_k))
            || user.is_some_and(|u| u.email.to_ascii_lowercase().contains(&k))
    });
    kind_ok && assignee_ok && site_ok && brand_ok && keyword_ok
}

pub(super) fn normalize_mac(m: &str) -> Option<String> {
    let s: String = m
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect::<String>()
        .to_ascii_lowercase();
    (s.len() == 12 && s.chars().all(|c| c.is_ascii_hexdigit())).then_some(s)
}

pub(super) fn add_device(w: &mut World, v: &Value) -> Reply {
    let get = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let Some(name) = get("display_name") else {
        return invalid("Validation Failed: display_name is required.");
    };
    let Some(mac) = get("mac_address") else {
        return invalid("Validation Failed: mac_address is required.");
    };
    let Some(kind) = get("type") else {
        return invalid("Validation Failed: type is required (e.g. polycom, yealink).");
    };
    let Some(mac) = normalize_mac(mac) else {
        return err(400, 400, "The MAC Address is invalid.");
    };
    if w.devices.iter().any(|d| d.mac_address == mac) {
        return err(400, 400, "The MAC Address already exists in the system.");
    }
    // Assigned to the first of `assignee_extension_ids`, else to `assigned_to` (a user id or
    // email), else unassigned.
    let ext_ids: Vec<&str> = v
        .get("assignee_extension_ids")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let assignee = match (ext_ids.first(), get("assigned_to")) {
        (Some(e), _) => match extension_assignee(w, e) {
            Ok(a) => Some(a),
            Err(r) => return r,
        },
        (None, Some(u)) => match w.user(u) {
            Some(x) => Some(Assignee {
                id: x.id.clone(),
                name: Some(x.name()),
                extension_number: x.extension,
                kind: "user".into(),
            }),
            None => return err(404, 1001, &format!("User not found: {u}")),
        },
        (None, None) => None,
    };
    for e in ext_ids.iter().skip(1) {
        if let Err(r) = extension_assignee(w, e) {
            return r;
        }
    }
    w.counters.device += 1;
    let id = format!("dev-{:04}", w.counters.device);
    w.devices.push(Device {
        id: id.clone(),
        display_name: name.to_string(),
        mac_address: mac,
        kind: kind.to_string(),
        model: get("model").map(str::to_string),
        assignee,
        status: Some("offline".into()),
    });
    Reply::json(201, json!({"id": id, "display_name": name}))
}

/// The phone user an extension id names (Zoom takes extension ids here, not user ids).
pub(super) fn extension_assignee(w: &World, key: &str) -> Result<Assignee, Reply> {
    match w.users.iter().find(|u| u.extension_id() == key) {
        Some(u) if u.phone => Ok(Assignee {
            id: u.id.clone(),
            name: Some(u.name()),
            extension_number: u.extension,
            kind: "user".into(),
        }),
        _ => Err(err(
            404,
            1001,
            &format!("User extension Id or common area extension Id not found: {key}."),
        )),
    }
}

pub(super) fn assign_device(w: &mut World, d: &str, v: &Value) -> Reply {
    let Some(di) = w.devices.iter().position(|x| x.id == d) else {
        return err(404, 1001, &format!("Device does not exist: {d}."));
    };
    let Some(list) = v
        .get("assignee_extension_ids")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
    else {
        return invalid("Validation Failed: assignee_extension_ids is required (extension ids).");
    };
    let mut first = None;
    for e in list {
        match extension_assignee(w, e.as_str().unwrap_or("")) {
            Ok(a) => {
                first.get_or_insert(a);
            }
            Err(r) => return r,
        }
    }
    w.devices[di].assignee = first;
    Reply::empty(201)
}
