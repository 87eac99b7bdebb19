//! Phone numbers: list, assign, unassign; peering; SIP-trunk internal numbers.

use super::*;

pub(super) fn list_numbers(ctx: &Ctx, req: &Req) -> Reply {
    let kind = req.q("type").unwrap_or("all");
    if !["assigned", "unassigned", "all", "byoc"].contains(&kind) {
        return invalid(&format!(
            "Invalid field: type '{kind}'; use assigned, unassigned, all or byoc."
        ));
    }
    let number_filter = if ctx.opts.published_spec_mode {
        None
    } else {
        req.q("phone_number").map(digits)
    };
    let ext_type = req.q("extension_type");
    let number_type = req.q("number_type");
    let site = req.q("site_id");
    read(ctx, |w| {
        // Only the page is turned into JSON: each number's assignee is a look-up by user.
        let items: Vec<&ZNumber> = w
            .numbers
            .iter()
            .filter(|n| match kind {
                "assigned" => n.assignee.is_some(),
                "unassigned" => n.assignee.is_none(),
                "byoc" => n.source == "external",
                _ => true,
            })
            .filter(|n| ext_type.is_none_or(|t| t == "user" && n.assignee.is_some()))
            .filter(|n| number_type.is_none_or(|t| n.number_type == t))
            .filter(|n| site.is_none_or(|s| n.site_id.as_deref() == Some(s)))
            .filter(|n| {
                number_filter
                    .as_ref()
                    .is_none_or(|f| digits(&n.number).contains(f.as_str()))
            })
            .collect();
        let p = ctx.paginate(req, &list_key("numbers", req), items, 30, 100)?;
        Ok(Reply::ok(
            200,
            &PhoneNumberPage {
                next_page_token: p.next_page_token,
                page_size: p.page_size,
                total_records: p.total_records,
                phone_numbers: p.items.iter().map(|n| number_json(w, n)).collect(),
            },
        ))
    })
}

pub(super) fn phone_user_idx(w: &World, u: &str) -> Result<usize, Reply> {
    let i = w.user_idx(u).ok_or_else(|| no_user(u))?;
    if !w.users[i].phone {
        return Err(invalid(&format!(
            "Zoom Phone is not enabled for user {}: license it first (PATCH /users/{{userId}}/settings with feature.zoom_phone=true).",
            w.users[i].email
        )));
    }
    Ok(i)
}

pub(super) fn assign_numbers(w: &mut World, u: &str, v: &Value) -> Reply {
    let ui = match phone_user_idx(w, u) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let Some(list) = v.get("phone_numbers").and_then(Value::as_array) else {
        return invalid(
            "Validation Failed: phone_numbers is required (an array of {id} or {number}).",
        );
    };
    if list.is_empty() {
        return invalid("Validation Failed: phone_numbers must not be empty.");
    }
    if list.len() > 10 {
        return invalid(&format!(
            "Validation Failed: at most 10 phone numbers can be assigned per request, got {}.",
            list.len()
        ));
    }
    let uid = w.users[ui].id.clone();
    let mut idxs = Vec::new();
    for item in list {
        let key = item
            .get("id")
            .and_then(Value::as_str)
            .or_else(|| item.get("number").and_then(Value::as_str))
            .unwrap_or("");
        if key.is_empty() {
            return invalid("Validation Failed: each phone_numbers entry needs id or number.");
        }
        let Some(i) = w.number_idx(key) else {
            return invalid(&format!("Phone number does not exist: {key}."));
        };
        if let Some(other) = w.numbers[i].assignee.as_deref().filter(|a| *a != uid) {
            let who = w
                .user(other)
                .map(|x| x.email.clone())
                .unwrap_or_else(|| other.to_string());
            return invalid(&format!(
                "Phone number {} is already assigned to another user ({who}).",
                w.numbers[i].number
            ));
        }
        idxs.push(i);
    }
    let site = w.users[ui].site_id.clone();
    let mut out = Vec::new();
    for i in idxs {
        let n = &mut w.numbers[i];
        n.assignee = Some(uid.clone());
        if n.site_id.is_none() {
            n.site_id = site.clone();
        }
        out.push(NumberRef {
            id: Some(n.id.clone()),
            number: Some(n.number.clone()),
        });
    }
    w.sync_peering();
    Reply::ok(201, &json!({ "phone_numbers": out }))
}

pub(super) fn unassign_number(w: &mut World, u: &str, n: &str) -> Reply {
    let Some(ui) = w.user_idx(u) else {
        return no_user(u);
    };
    let Some(ni) = w.number_idx(n) else {
        return err(404, 300, &format!("Phone number does not exist: {n}."));
    };
    if w.numbers[ni].assignee.as_deref() != Some(w.users[ui].id.as_str()) {
        return invalid(&format!(
            "Phone number {} is not assigned to user {}.",
            w.numbers[ni].number, w.users[ui].email
        ));
    }
    w.numbers[ni].assignee = None;
    w.sync_peering();
    Reply::empty(204)
}

/// Peer numbers through the API, as the PEX app does.
pub(super) fn add_peering(w: &mut World, v: &Value, faults: &Faults) -> Reply {
    let code = v.get("carrier_code").and_then(Value::as_i64);
    if code != Some(MOVIUS_CARRIER_CODE) {
        return err(400, 404, "Unknown carrier.");
    }
    let Some(list) = v
        .get("phone_numbers")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
    else {
        return invalid("Validation Failed: phone_numbers is required.");
    };
    if list.len() > 200 {
        return invalid(
            "Validation Failed. Batch adding phone numbers is limited to 200 per request.",
        );
    }
    let mut unprocessed = Vec::new();
    for item in list {
        let raw = item
            .get("phone_number")
            .and_then(Value::as_str)
            .unwrap_or("");
        let e = match E164::parse(raw) {
            Ok(e) => e,
            Err(e) => {
                unprocessed.push(Unprocessed {
                    phone_number: raw.to_string(),
                    failure_reason: format!("Invalid phone number: {e}"),
                });
                continue;
            }
        };
        if faults.peering_fails(e.as_str()) {
            unprocessed.push(Unprocessed {
                phone_number: e.to_string(),
                failure_reason: "Peering failed (sandbox fault).".into(),
            });
            continue;
        }
        if let Some(why) = w.peering_refused(e.as_str()) {
            unprocessed.push(Unprocessed {
                phone_number: e.to_string(),
                failure_reason: format!("Number already exists: {why}."),
            });
            continue;
        }
        w.peer(e.as_str());
        if let Some(p) = w.peering.find_mut(|p| p.phone_number == e.as_str()) {
            if let Some(t) = item
                .get("sip_trunk_name")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                p.sip_trunk_name = t.to_string();
            }
            p.billing_reference_id = item
                .get("billing_reference_id")
                .and_then(Value::as_str)
                .map(str::to_string);
            p.service_info = item
                .get("service_info")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
    }
    w.sync_peering();
    Reply::ok(
        201,
        &PeeringResult {
            unprocessed_numbers: unprocessed,
        },
    )
}

pub(super) fn delete_peering(w: &mut World, req: &Req) -> Reply {
    let list = req.q_all("phone_numbers");
    if list.is_empty() {
        return invalid("Validation Failed: phone_numbers is required.");
    }
    if list.len() > 200 {
        return invalid(
            "Validation Failed. Batch deleting phone numbers is limited to 200 per request.",
        );
    }
    let mut unprocessed = Vec::new();
    for raw in list {
        let Ok(e) = E164::parse(&raw) else {
            unprocessed.push(Unprocessed {
                phone_number: raw,
                failure_reason: "Invalid phone number.".into(),
            });
            continue;
        };
        if !w.peering.iter().any(|p| p.phone_number == e.as_str()) {
            unprocessed.push(Unprocessed {
                phone_number: e.to_string(),
                failure_reason: "Phone number is not peered.".into(),
            });
            continue;
        }
        if let Err(holder) = w.unpeer(e.as_str(), false) {
            unprocessed.push(Unprocessed {
                phone_number: e.to_string(),
                failure_reason: format!("Phone number is assigned to {holder}; unassign it first."),
            });
        }
    }
    Reply::ok(
        200,
        &PeeringResult {
            unprocessed_numbers: unprocessed,
        },
    )
}

pub(super) fn add_internal_numbers(w: &mut World, v: &Value) -> Reply {
    let Some(list) = v
        .get("internal_numbers")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
    else {
        return invalid("Validation Failed: internal_numbers is required.");
    };
    let mut new = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let field = |k: &str| {
            item.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let need = |k: &str| {
            field(k).map(str::to_string).ok_or_else(|| {
                invalid(&format!(
                    "Validation Failed: internal_numbers[{i}].{k} is required."
                ))
            })
        };
        let labels = match need("labels") {
            Ok(x) => x,
            Err(r) => return r,
        };
        let raw_number = match need("number") {
            Ok(x) => x,
            Err(r) => return r,
        };
        let display_number = match need("display_number") {
            Ok(x) => x,
            Err(r) => return r,
        };
        let country = match need("country") {
            Ok(x) => x,
            Err(r) => return r,
        };
        let languages = match need("languages") {
            Ok(x) => x,
            Err(r) => return r,
        };
        if !raw_number.starts_with('+') {
            return invalid(&format!("Validation Failed: internal_numbers[{i}].number '{raw_number}' must be in E.164 format (+ and country code)."));
        }
        let number = match E164::parse(&raw_number) {
            Ok(e) => e,
            Err(e) => {
                return invalid(&format!(
                    "Validation Failed: internal_numbers[{i}].number: {e}."
                ))
            }
        };
        let Some(kind) = item
            .get("type")
            .and_then(Value::as_i64)
            .filter(|t| *t == 0 || *t == 1)
        else {
            return invalid(&format!("Validation Failed: internal_numbers[{i}].type is required: 0 (toll) or 1 (toll-free)."));
        };
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
            return invalid(&format!("Validation Failed: internal_numbers[{i}].country '{country}' must be a two-letter country code."));
        }
        if !["en-GB", "en-US", "de-DE"].contains(&languages.as_str()) {
            return invalid(&format!("Validation Failed: internal_numbers[{i}].languages '{languages}' must be en-GB, en-US or de-DE."));
        }
        if w.internal_numbers
            .iter()
            .chain(new.iter())
            .any(|n: &InternalNumber| n.number == number.as_str())
        {
            return invalid(&format!(
                "Validation Failed: internal number {number} already exists."
            ));
        }
        let flag = |k: &str| item.get(k).and_then(Value::as_bool);
        new.push(InternalNumber {
            id: None,
            labels,
            number: number.to_string(),
            display_number,
            kind,
            country: country.to_ascii_uppercase(),
            languages,
            visible: flag("visible"),
            allow_join: flag("allow_join"),
            allow_for_external_meetings: flag("allow_for_external_meetings"),
        });
    }
    for n in &mut new {
        w.counters.internal_number += 1;
        n.id = Some(format!("inum-{:04}", w.counters.internal_number));
    }
    w.internal_numbers.extend(new.iter().cloned());
    Reply::ok(
        201,
        &InternalNumbers {
            internal_numbers: new,
            next_page_token: String::new(),
            total_records: None,
        },
    )
}
