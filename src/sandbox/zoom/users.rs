//! Zoom users and phone users: create, batch-add, update, settings, calling plans, roles.

use super::*;

pub(super) fn user_settings(w: &mut World, u: &str, v: &Value) -> Reply {
    let Some(ui) = w.user_idx(u) else {
        return no_user(u);
    };
    let Some(feature) = v.get("feature") else {
        // Other settings are accepted and ignored: the sandbox models only the Phone licence.
        return if v.is_object() {
            Reply::empty(204)
        } else {
            invalid("Validation Failed: request body must be a JSON object.")
        };
    };
    let Some(on) = feature.get("zoom_phone").and_then(Value::as_bool) else {
        return Reply::empty(204);
    };
    let next_ext = w.next_extension();
    let default_site = w.sites.first().map(|s| s.id.clone());
    let uid = w.users[ui].id.clone();
    if on {
        let user = &mut w.users[ui];
        user.phone = true;
        if user.extension.is_none() {
            user.extension = Some(next_ext);
        }
        if user.site_id.is_none() {
            user.site_id = default_site;
        }
    } else {
        let user = &mut w.users[ui];
        user.phone = false;
        user.extension = None;
        user.calling_plans.clear();
        w.release_numbers_of(&uid);
    }
    Reply::empty(204)
}

/// `POST /users`: a new Zoom user; `create` leaves it pending (Zoom mails a confirmation link),
/// the other actions make it active. `user_info.feature.zoom_phone` licenses it for Phone at once,
/// with the next extension on the first site (the portal's "Add User" with the Phone licence).
pub(super) fn create_user(w: &mut World, v: &Value) -> Reply {
    let action = v.get("action").and_then(Value::as_str).unwrap_or("");
    if !["create", "autoCreate", "custCreate", "ssoCreate"].contains(&action) {
        return invalid(&format!(
            "Validation Failed: action must be one of create, autoCreate, custCreate, ssoCreate; got '{action}'."
        ));
    }
    let info = &v["user_info"];
    let email = info["email"]
        .as_str()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !email.contains('@') {
        return invalid("Validation Failed: user_info.email is not an email address.");
    }
    if w.user(&email).is_some() {
        return err(409, 1005, &format!("User already in the account: {email}."));
    }
    let kind = info["type"].as_i64().unwrap_or(1);
    let phone = info["feature"]["zoom_phone"].as_bool() == Some(true);
    let text = |k: &str| info[k].as_str().unwrap_or("").to_string();
    let user = ZUser {
        id: format!("user-{}", random_token(22)),
        email: email.clone(),
        first_name: text("first_name"),
        last_name: text("last_name"),
        kind,
        status: if action == "create" {
            "pending"
        } else {
            "active"
        }
        .into(),
        phone,
        extension: phone.then(|| w.next_extension()),
        site_id: if phone {
            w.sites.first().map(|s| s.id.clone())
        } else {
            None
        },
        calling_plans: Vec::new(),
        department: None,
        cost_center: None,
    };
    let created = User {
        id: user.id.clone(),
        email: user.email.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        kind,
        status: String::new(),
        dept: None,
    };
    w.users.push(user);
    Reply::json(
        201,
        json!({"id": created.id, "email": created.email, "first_name": created.first_name,
               "last_name": created.last_name, "type": created.kind}),
    )
}

/// `POST /phone/users/batch`: active Zoom users made phone users, each with its extension (a
/// string), calling plans by name (`US/CA Unlimited` names `US/CA Unlimited Calling Plan`), an
/// optional site (by code or name) and numbers. All checked first: one bad user changes nothing.
pub(super) fn batch_add_phone_users(w: &mut World, v: &Value) -> Reply {
    let Some(list) = v["users"].as_array().filter(|l| !l.is_empty()) else {
        return invalid("Validation Failed: users is required.");
    };
    let mut plan_of = Vec::new();
    for (i, u) in list.iter().enumerate() {
        let email = u["email"].as_str().unwrap_or("");
        let Some(ui) = w.user_idx(email) else {
            return err(404, 1001, &format!("User does not exist: {email}."));
        };
        if w.users[ui].status != "active" {
            return invalid(&format!(
                "users[{i}]: {email} is not active in the Zoom account."
            ));
        }
        if w.users[ui].phone {
            return invalid(&format!(
                "users[{i}]: {email} is already a Zoom Phone user."
            ));
        }
        let Some(ext) = u["extension_number"]
            .as_str()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|x| *x > 0)
        else {
            return invalid(&format!(
                "Validation Failed: users[{i}].extension_number must be a string of digits."
            ));
        };
        let taken = w.users.iter().any(|o| o.extension == Some(ext))
            || plan_of
                .iter()
                .any(|(_, e, _, _, _): &(usize, i64, _, _, _)| *e == ext);
        if taken {
            return invalid(&format!("Extension number {ext} is already in use."));
        }
        let mut plans = Vec::new();
        for name in u["calling_plans"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or("");
            match w.plans.iter().find(|p| {
                p.name.eq_ignore_ascii_case(name)
                    || p.name
                        .to_ascii_lowercase()
                        .starts_with(&format!("{} ", name.to_ascii_lowercase()))
            }) {
                Some(p) => plans.push(p.kind),
                None => {
                    return invalid(&format!(
                        "users[{i}]: calling plan '{name}' is not subscribed by this account."
                    ))
                }
            }
        }
        let site = match (u["site_code"].as_str(), u["site_name"].as_str()) {
            (None, None) => w.sites.first().map(|s| s.id.clone()),
            (code, name) => match w.sites.iter().find(|s| {
                code.is_some_and(|c| s.site_code.map(|x| x.to_string()).as_deref() == Some(c))
                    || name.is_some_and(|n| s.name.eq_ignore_ascii_case(n))
            }) {
                Some(s) => Some(s.id.clone()),
                None => return err(404, 404, &format!("users[{i}]: site does not exist.")),
            },
        };
        let mut numbers = Vec::new();
        for n in u["phone_numbers"].as_array().into_iter().flatten() {
            let n = n.as_str().unwrap_or("");
            match w.number_idx(n) {
                Some(ni) if w.numbers[ni].assignee.is_none() => numbers.push(ni),
                Some(_) => {
                    return invalid(&format!(
                        "users[{i}]: phone number {n} is already assigned."
                    ))
                }
                None => return invalid(&format!("users[{i}]: phone number {n} does not exist.")),
            }
        }
        plan_of.push((ui, ext, plans, site, numbers));
    }
    let mut out = Vec::new();
    for (ui, ext, plans, site, numbers) in plan_of {
        let uid = w.users[ui].id.clone();
        let u = &mut w.users[ui];
        u.phone = true;
        u.extension = Some(ext);
        u.site_id = site.clone();
        u.calling_plans = plans;
        out.push(json!({"email": u.email, "id": uid}));
        for ni in numbers {
            w.numbers[ni].assignee = Some(uid.clone());
            if w.numbers[ni].site_id.is_none() {
                w.numbers[ni].site_id = site.clone();
            }
        }
    }
    w.sync_peering();
    Reply::json(201, Value::Array(out))
}

pub(super) fn update_phone_user(w: &mut World, u: &str, v: &Value) -> Reply {
    let ui = match w.user_idx(u) {
        Some(i) if w.users[i].phone => i,
        Some(_) => return invalid(&format!("Zoom Phone is not enabled for user {u}.")),
        None => return no_user(u),
    };
    if !v.is_object() {
        return invalid("Validation Failed: request body must be a JSON object.");
    }
    // The spec's extension_number is a string of digits (site number + short extension).
    if let Some(e) = v.get("extension_number").filter(|e| !e.is_null()) {
        let Some(ext) = e
            .as_str()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|x| *x > 0)
        else {
            return invalid(
                "Validation Failed: extension_number must be a string of digits, e.g. \"1001\".",
            );
        };
        if let Some(other) = w
            .users
            .iter()
            .find(|o| o.extension == Some(ext) && o.id != w.users[ui].id)
        {
            return invalid(&format!(
                "Extension number {ext} is already used by {}.",
                other.email
            ));
        }
        w.users[ui].extension = Some(ext);
    }
    if let Some(s) = v.get("site_id").and_then(Value::as_str) {
        if !w.sites.iter().any(|x| x.id == s) {
            return err(404, 404, &format!("Site does not exist: {s}."));
        }
        w.users[ui].site_id = Some(s.to_string());
    }
    Reply::empty(204)
}

pub(super) fn assign_plans(w: &mut World, u: &str, v: &Value) -> Reply {
    let ui = match phone_user_idx(w, u) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let Some(list) = v
        .get("calling_plans")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
    else {
        return invalid("Validation Failed: calling_plans is required (an array of {type}).");
    };
    let plans = calling_plans(w);
    let mut add = Vec::new();
    for p in list {
        let Some(t) = p.get("type").and_then(|t| {
            t.as_i64()
                .or_else(|| t.as_str().and_then(|s| s.parse().ok()))
        }) else {
            return invalid("Validation Failed: each calling plan needs a numeric type.");
        };
        let Some(plan) = plans.calling_plans.iter().find(|x| x.kind == t) else {
            return invalid(&format!(
                "Invalid field: calling plan type {t} is not subscribed by this account."
            ));
        };
        if w.users[ui].calling_plans.contains(&t) {
            continue;
        }
        if plan.available <= 0 {
            return invalid(&format!(
                "No licenses available for calling plan '{}' ({} of {} assigned).",
                plan.name, plan.assigned, plan.subscribed
            ));
        }
        add.push(t);
    }
    w.users[ui].calling_plans.extend(add);
    Reply::empty(201)
}

pub(super) fn unassign_plan(w: &mut World, u: &str, t: &str) -> Reply {
    let Some(ui) = w.user_idx(u) else {
        return no_user(u);
    };
    let Ok(t) = t.parse::<i64>() else {
        return err(
            400,
            400,
            &format!("Invalid field: calling plan type '{t}'."),
        );
    };
    if !w.users[ui].calling_plans.contains(&t) {
        return invalid(&format!(
            "User {} does not hold calling plan type {t}.",
            w.users[ui].email
        ));
    }
    w.users[ui].calling_plans.retain(|x| *x != t);
    // Zoom drops the user's direct numbers with the plan.
    let uid = w.users[ui].id.clone();
    w.release_numbers_of(&uid);
    Reply::empty(204)
}

pub(super) fn add_role_members(w: &mut World, r: &str, v: &Value) -> Reply {
    let Some(ri) = w.roles.iter().position(|x| x.id == r) else {
        return err(404, 300, &format!("Role does not exist: {r}."));
    };
    // The spec's body: `user_ids`, user ids or email addresses. (Copying another role's members,
    // `role_id` + `copy_*`, is not modelled.)
    let Some(list) = v
        .get("user_ids")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
    else {
        return invalid("Validation Failed: user_ids is required (user ids or email addresses).");
    };
    let mut ids = Vec::new();
    let mut bad = Vec::new();
    for m in list {
        let key = m.as_str().unwrap_or("");
        match w.user(key) {
            Some(u) => ids.push(u.id.clone()),
            None => bad.push(key.to_string()),
        }
    }
    if !bad.is_empty() {
        return err(
            400,
            400,
            &format!("There are invalid user ids: {}", bad.join(",")),
        );
    }
    for id in ids {
        if !w.roles[ri].members.contains(&id) {
            w.roles[ri].members.push(id);
        }
    }
    Reply::empty(201)
}
