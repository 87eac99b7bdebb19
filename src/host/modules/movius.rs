//! `movius::`: Movius accounts, orgs, users and CDRs.

use super::*;

fn digits(n: &E164) -> String {
    n.digits().to_string()
}

pub(super) fn module(s: &Arc<Session>) -> Module {
    let mut m = Module::new();
    read1!(m, s, "movius", "org", "org: string", "map", movius.org);
    read0!(m, s, "movius", "orgs", "array", movius.orgs);
    let x = s.clone();
    reg!(
        m,
        "movius",
        "account",
        ["sel: string|map", "map"],
        move |sel: Dynamic| {
            let sel = args::selector("movius::account", &sel)?;
            x.read(|| x.clients.movius.account(&sel))
        }
    );
    let x = s.clone();
    reg!(
        m,
        "movius",
        "find_account",
        ["sel: string|map", "map|()"],
        move |sel: Dynamic| {
            let sel = args::selector("movius::find_account", &sel)?;
            x.check_cancel()?;
            match x.clients.movius.account(&sel) {
                Ok(a) => to_dynamic(&a),
                Err(e)
                    if e.status == Some(404)
                        || e.code == Some(crate::api::movius::wire::codes::NOT_FOUND) =>
                {
                    Ok(Dynamic::UNIT)
                }
                Err(e) => Err(api_error(&e)),
            }
        }
    );
    let x = s.clone();
    reg!(
        m,
        "movius",
        "users",
        ["q: map", "array"],
        move |q: Dynamic| {
            let f = "movius::users";
            let q = args::map(f, "q", &q)?;
            only_fields(f, &q, &["organization_id", "sub_org", "exclude_channel"])?;
            let query = org_query(f, &q)?;
            x.read(|| x.clients.movius.users(&query))
        }
    );
    let x = s.clone();
    reg!(
        m,
        "movius",
        "cdrs",
        ["q: map", "array"],
        move |q: Dynamic| {
            let f = "movius::cdrs";
            let q = args::map(f, "q", &q)?;
            only_fields(
                f,
                &q,
                &[
                    "organization_id",
                    "sub_org",
                    "exclude_channel",
                    "from",
                    "to",
                ],
            )?;
            let org = org_query(f, &q)?;
            let query = CdrQuery {
                organization_id: org.organization_id,
                sub_org: org.sub_org,
                exclude_channel: org.exclude_channel,
                from: field(&q, "from"),
                to: field(&q, "to"),
            };
            x.read(|| x.clients.movius.cdrs(&query))
        }
    );
    let x = s.clone();
    reg!(
        m,
        "movius",
        "available_numbers",
        ["org: string", "array"],
        move |org: &str| { x.read(|| { x.clients.movius.available_numbers(org) }) }
    );
    write_fn!(
        m, s, "movius", "create_sub_org", ["parent: string", "name: string"] -> "map",
        |x, f, parent: &str, name: &str| {}
        change: change(f, format!("{name} under {parent}"), json!({"parent": parent, "name": name})),
        dry_run: json!({"organization_id": crate::guard::PLACEHOLDER, "name": name, "parent_id": parent}),
        send: x.clients.movius.create_sub_org(parent, name),
    );
    write_fn!(
        m, s, "movius", "add_allowed_email_domain", ["org: string", "domain: string"] -> "map",
        |x, f, org: &str, domain: &str| {}
        change: change(f, format!("{domain} on {org}"), json!({"org": org, "domain": domain})),
        dry_run: json!({"organization_id": org}),
        send: x.clients.movius.add_allowed_email_domain(org, domain),
    );
    write_fn!(
        m, s, "movius", "set_zoom_enabled", ["org: string", "on: bool"] -> "map",
        |x, f, org: &str, on: bool| {}
        change: change(f, org, json!({"org": org, "enable_zoom": on})),
        dry_run: json!({"organization_id": org, "enable_zoom": on}),
        send: x.clients.movius.set_zoom_enabled(org, on),
    );
    write_fn!(
        m, s, "movius", "add_account", ["a: map"] -> "map",
        |x, f, a: Dynamic| {
            let a = args::map(f, "a", &a)?;
            only_fields(
                f,
                &a,
                &[
                    "organization_id",
                    "phone_number",
                    "first_name",
                    "last_name",
                    "email",
                    "enable_zoom",
                ],
            )?;
            let need = |k: &str| field(&a, k).ok_or_else(|| bad(f, format!("{k} is required")));
            let number = E164::parse(&need("phone_number")?)
                .map_err(|e| bad(f, format!("phone_number: {e}")))?;
            let req = AddAccount {
                organization_id: need("organization_id")?,
                phone_number: digits(&number),
                first_name: need("first_name")?,
                last_name: need("last_name")?,
                email: need("email")?,
                enable_zoom: a
                    .get("enable_zoom")
                    .map(|v| v.as_bool().unwrap_or(false))
                    .unwrap_or(false),
            };
            let undo = if req.enable_zoom {
                "the number is peered into Zoom and the account's Zoom flag can never be turned off; call recording, message logging, voicemail, opt-in and out of office are disabled"
            } else {
                "the account is created in Movius"
            };
            let params = serde_json::to_value(&req).unwrap_or(Value::Null);
            let mut dry = params.clone();
            dry["account_sid"] = json!(crate::guard::PLACEHOLDER);
        }
        change: Change {
            op: f,
            impact: Impact::Irreversible,
            target: format!("{number} in {}", req.organization_id),
            params,
            undo: Some(undo),
        },
        dry_run: dry,
        send: {
            // Peering may put the number into Zoom (even when the call fails half-way):
            // the run's number index must ask Zoom about it next time.
            if let (Some(idx), true) = (&x.numbers, req.enable_zoom) {
                idx.touched(number.as_str());
            }
            x.clients.movius.add_account(&req)
        },
    );
    write_fn!(
        m, s, "movius", "modify_account", ["sel: string|map", "changes: map"] -> "map",
        |x, f, sel: Dynamic, changes: Dynamic| {
            let sel = args::selector(f, &sel)?;
            let c = args::map(f, "changes", &changes)?;
            only_fields(f, &c, &["enable_zoom", "teams_calling"])?;
            let enable_zoom = c
                .get("enable_zoom")
                .map(|v| args::boolean(f, "enable_zoom", v))
                .transpose()?;
            let teams_calling = c
                .get("teams_calling")
                .map(|v| args::boolean(f, "teams_calling", v))
                .transpose()?;
            // Turning Zoom on peers the number and can never be undone: that, not the function, sets the level.
            let (imp, undo) = if enable_zoom == Some(true) {
                (Impact::Irreversible, Some("Zoom is turned on for this account: the number is peered, the flag can never be turned off, and call recording, message logging, voicemail, opt-in and out of office are disabled"))
            } else {
                (Impact::Write, None)
            };
            let (k, v) = sel.field();
            let params = json!({k: v, "enable_zoom": enable_zoom, "teams_calling": teams_calling});
        }
        change: Change {
            op: f,
            impact: imp,
            target: sel.to_string(),
            params: params.clone(),
            undo,
        },
        dry_run: params,
        send: {
            // Turning Zoom on peers the number: the index must ask Zoom about it next time.
            if let (Some(idx), Some(true), crate::api::Selector::PhoneNumber(n)) =
                (&x.numbers, enable_zoom, &sel)
            {
                idx.touched(n.as_str());
            }
            x.clients
                .movius
                .modify_account(&sel, enable_zoom, teams_calling)
        },
    );
    write_fn!(
        m, s, "movius", "delete_account", ["org: string", "sel: string|map"] -> "map",
        |x, f, org: &str, sel: Dynamic| {
            let sel = args::selector(f, &sel)?;
            let (k, v) = sel.field();
            let params = json!({"organization_id": org, k: v});
        }
        change: Change {
            op: f,
            impact: Impact::Irreversible,
            target: format!("{sel} in {org}"),
            params: params.clone(),
            undo: Some("the Movius account is deleted and its number is unpeered from Zoom"),
        },
        dry_run: params,
        send: {
            let r = x.clients.movius.delete_account(org, &sel)?;
            if let (Some(idx), crate::api::Selector::PhoneNumber(n)) = (&x.numbers, &sel) {
                idx.removed(n.as_str());
            }
            Ok(r)
        },
    );
    m
}

/// The org filter user list v2 and CDR v2 share: `organization_id` (required), `sub_org`,
/// `exclude_channel`.
fn org_query(f: &str, q: &Map) -> ScriptResult<UserListQuery> {
    Ok(UserListQuery {
        organization_id: field(q, "organization_id")
            .ok_or_else(|| bad(f, "organization_id is required"))?,
        sub_org: q
            .get("sub_org")
            .map(|v| v.as_bool().unwrap_or(false))
            .unwrap_or(false),
        exclude_channel: field(q, "exclude_channel"),
    })
}
