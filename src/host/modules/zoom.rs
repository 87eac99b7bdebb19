//! `zoom::`: Zoom Phone numbers, users, sites, plans, devices, and the phone-user CSV.

use super::*;

fn number_refs(f: &str, d: &Dynamic) -> ScriptResult<Vec<NumberRef>> {
    let items: Vec<Dynamic> = if d.is_array() {
        args::array(f, "number", d)?
    } else {
        vec![d.clone()]
    };
    if items.is_empty() || items.len() > 10 {
        return Err(bad(
            f,
            format!("Zoom assigns 1 to 10 numbers per call, not {}", items.len()),
        ));
    }
    items
        .iter()
        .map(|i| {
            if let Some(m) = i.read_lock::<Map>() {
                if let Some(id) = field(&m, "id") {
                    return Ok(NumberRef {
                        id: Some(id),
                        number: None,
                    });
                }
            }
            Ok(NumberRef {
                id: None,
                number: Some(args::e164(f, "number", i)?.to_string()),
            })
        })
        .collect()
}

fn number_query(f: &str, q: &Map) -> ScriptResult<NumberQuery> {
    only_fields(f, q, &["type", "phone_number", "site_id"])?;
    let kind = match field(q, "type") {
        Some(t) => Some(t.parse::<NumberType>().map_err(|e| bad(f, e))?),
        None => None,
    };
    let phone_number = match field(q, "phone_number") {
        Some(n) => Some(E164::parse(&n).map_err(|e| bad(f, format!("phone_number: {e}")))?),
        None => None,
    };
    Ok(NumberQuery {
        kind,
        phone_number,
        site_id: field(q, "site_id"),
    })
}

pub(super) fn module(s: &Arc<Session>) -> Module {
    let mut m = Module::new();
    let x = s.clone();
    reg!(m, "zoom", "numbers", ["q: map", "array"], move |q: Map| {
        let query = number_query("zoom::numbers", &q)?;
        x.read(|| match (&query.phone_number, &x.numbers) {
            // One number asked for in a bulk run: the index answers.
            (Some(n), Some(_)) => find_number(&x, n).map(|found| {
                found
                    .into_iter()
                    .filter(|p| type_matches(query.kind, p))
                    .collect::<Vec<_>>()
            }),
            _ => x.clients.zoom.numbers(&query),
        })
    });
    let x = s.clone();
    registration("zoom", "numbers", &["array"]).set_into_module(&mut m, move || {
        let query = NumberQuery::default();
        x.read(|| x.clients.zoom.numbers(&query))
    });
    let x = s.clone();
    reg!(
        m,
        "zoom",
        "number",
        ["number: string", "map"],
        move |id: &str| {
            // In a bulk run, a number the index holds is read by its Zoom id: one light call
            // whatever the account's size (by E.164 it is a list call, a full scan where Zoom
            // ignores the number filter). Still a real read: verifications stay verifications.
            if let (Some(idx), Ok(n)) = (&x.numbers, E164::parse(id)) {
                if let Some(zid) = idx.id_of(&n) {
                    return x.read(|| {
                        let p = x.clients.zoom.number(&zid)?;
                        idx.refresh(p.clone());
                        Ok(p)
                    });
                }
            }
            x.read(|| x.clients.zoom.number(id))
        }
    );
    let x = s.clone();
    reg!(
        m,
        "zoom",
        "find_number",
        ["e164: string", "map|()"],
        move |n: Dynamic| {
            let f = "zoom::find_number";
            let n = args::e164(f, "e164", &n)?;
            x.check_cancel()?;
            match find_number(&x, &n) {
                Ok(Some(p)) => to_dynamic(&p),
                Ok(None) => Ok(Dynamic::UNIT),
                Err(e) => Err(api_error(&e)),
            }
        }
    );
    read1!(m, s, "zoom", "user", "user: string", "map", zoom.user);
    read0!(m, s, "zoom", "users", "array", zoom.users);
    read1!(
        m,
        s,
        "zoom",
        "phone_user",
        "user: string",
        "map",
        zoom.phone_user
    );
    read0!(m, s, "zoom", "phone_users", "array", zoom.phone_users);
    read0!(m, s, "zoom", "sites", "array", zoom.sites);
    read1!(m, s, "zoom", "site", "site_id: string", "map", zoom.site);
    read0!(m, s, "zoom", "roles", "array", zoom.roles);
    read0!(m, s, "zoom", "calling_plans", "array", zoom.calling_plans);
    read0!(
        m,
        s,
        "zoom",
        "peering_numbers",
        "array",
        zoom.peering_numbers
    );
    read1!(
        m,
        s,
        "zoom",
        "internal_numbers",
        "account: string",
        "array",
        zoom.internal_numbers
    );
    write_fn!(
        m, s, "zoom", "assign_number", ["user: string", "number: string|map|array"] -> "array",
        |x, f, user: Dynamic, number: Dynamic| {
            let user = args::string(f, "user", &user)?;
            let refs = number_refs(f, &number)?;
            let shown = refs
                .iter()
                .map(|r| r.number.clone().or(r.id.clone()).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(", ");
        }
        change: change(f, format!("{shown} → {user}"), json!({"user": user, "phone_numbers": refs})),
        // Same shape as the live answer: the numbers assigned.
        dry_run: json!(refs
            .iter()
            .map(|r| json!({"id": r.id.clone().unwrap_or_else(|| crate::guard::PLACEHOLDER.into()), "number": r.number}))
            .collect::<Vec<_>>()),
        send: {
            let done = x.clients.zoom.assign_number(&user, &refs)?;
            if let Some(idx) = &x.numbers {
                for r in refs.iter().filter_map(|r| r.number.as_deref()) {
                    idx.assigned(r, &user);
                }
            }
            Ok(done)
        },
    );
    write_fn!(
        m, s, "zoom", "unassign_number", ["user: string", "number: string"] -> "()",
        |x, f, user: Dynamic, number: Dynamic| {
            let user = args::string(f, "user", &user)?;
            let number = args::string(f, "number", &number)?;
            let number = E164::parse(&number)
                .map(|n| n.to_string())
                .unwrap_or(number);
        }
        change: change(f, format!("{number} from {user}"), json!({"user": user, "number": number})),
        dry_run: json!({}),
        send: {
            x.clients.zoom.unassign_number(&user, &number)?;
            if let Some(idx) = &x.numbers {
                idx.unassigned(&number);
            }
            Ok(())
        },
    );
    write_fn!(
        m, s, "zoom", "create_user", ["email: string", "opts: map"] -> "map",
        |x, f, email: Dynamic, opts: Map| {
            let email = args::string(f, "email", &email)?;
            only_fields(f, &opts, &["first_name", "last_name", "action"])?;
            let action: CreateAction = field(&opts, "action")
                .unwrap_or_else(|| "ssoCreate".into())
                .parse()
                .map_err(|e: String| bad(f, e))?;
            // Type 1 (basic) with the Zoom Phone feature: the licence the seed's "Add User" picks.
            let body = CreateUser {
                action,
                user_info: NewUserInfo {
                    email: email.clone(),
                    kind: 1,
                    first_name: field(&opts, "first_name"),
                    last_name: field(&opts, "last_name"),
                    feature: Some(crate::api::zoom::wire::UserFeature { zoom_phone: true }),
                },
            };
        }
        change: change(f, email.clone(), serde_json::to_value(&body).unwrap_or(Value::Null)),
        dry_run: json!({"id": crate::guard::PLACEHOLDER, "email": email, "type": 1}),
        send: x.clients.zoom.create_user(&body),
    );
    write_fn!(
        m, s, "zoom", "enable_phone", ["user: string", "opts: map"] -> "map",
        |x, f, user: Dynamic, opts: Map| {
            let user = args::string(f, "user", &user)?;
            only_fields(f, &opts, &["site", "site_id", "extension"])?;
            let site = field(&opts, "site").or_else(|| field(&opts, "site_id"));
            let ext = opts
                .get("extension")
                .map(|v| args::int(f, "extension", v))
                .transpose()?;
            // Operators name sites; Zoom wants ids.
            let site_id = match site {
                Some(s) => Some(resolve_site(&x, f, &s)?),
                None => None,
            };
            let params = json!({"user": user, "site_id": site_id, "extension": ext});
        }
        change: change(f, user.clone(), params.clone()),
        dry_run: params,
        send: x.clients.zoom.enable_phone(&user, site_id.as_deref(), ext),
    );
    write_fn!(
        m, s, "zoom", "assign_calling_plan", ["user: string", "plan_type: int"] -> "()",
        |x, f, user: Dynamic, plan: i64| {
            let user = args::string(f, "user", &user)?;
        }
        change: change(f, format!("plan {plan} → {user}"), json!({"user": user, "plan_type": plan})),
        dry_run: json!({}),
        send: x.clients.zoom.assign_calling_plan(&user, plan),
    );
    write_fn!(
        m, s, "zoom", "remove_calling_plan", ["user: string", "plan_type: int"] -> "()",
        |x, f, user: Dynamic, plan: i64| {
            let user = args::string(f, "user", &user)?;
            tracing::warn!("removing calling plan {plan} from {user} also removes the user's direct number in Zoom");
            eprintln!("warning: removing calling plan {plan} from {user} also removes the user's direct number in Zoom");
        }
        change: change(f, format!("plan {plan} from {user}"), json!({"user": user, "plan_type": plan})),
        dry_run: json!({}),
        send: x.clients.zoom.remove_calling_plan(&user, plan),
    );
    write_fn!(
        m, s, "zoom", "add_role_members", ["role_id: string", "users: array"] -> "()",
        |x, f, role: &str, users: Array| {
            let members = users
                .iter()
                .map(|u| args::string(f, "users", u))
                .collect::<ScriptResult<Vec<_>>>()?;
        }
        change: change(f, role, json!({"role_id": role, "user_ids": members})),
        dry_run: json!({}),
        send: x.clients.zoom.add_role_members(role, &members),
    );
    write_fn!(
        m, s, "zoom", "add_device", ["d: map"] -> "map",
        |x, f, d: Dynamic| {
            let dm = args::map(f, "d", &d)?;
            only_fields(
                f,
                &dm,
                &[
                    "display_name",
                    "mac_address",
                    "type",
                    "model",
                    "assignee_extension_ids",
                ],
            )?;
            let dev: AddDevice = from_json(to_json(&d), f)?;
            let params = serde_json::to_value(&dev).unwrap_or(Value::Null);
            let mut dry = params.clone();
            // The id Zoom will give the device: later writes that use it match any id.
            dry["id"] = json!(crate::guard::PLACEHOLDER);
        }
        change: change(f, dev.mac_address.clone(), params),
        dry_run: dry,
        send: x.clients.zoom.add_device(&dev),
    );
    write_fn!(
        m, s, "zoom", "assign_device", ["device_id: string", "extension_ids: array"] -> "()",
        |x, f, device: &str, exts: Array| {
            let exts: Vec<String> = exts
                .iter()
                .map(|e| args::string(f, "extension_ids", e))
                .collect::<ScriptResult<_>>()?;
        }
        change: change(f, device, json!({"device_id": device, "extension_ids": exts})),
        dry_run: json!({}),
        send: x.clients.zoom.assign_device(device, &exts),
    );
    write_fn!(
        m, s, "zoom", "add_internal_numbers", ["account: string", "rows: array"] -> "array",
        |x, f, acct: &str, rows: Array| {
            let rows: Vec<InternalNumber> = rows
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let mut v = to_json(r);
                    let n = v
                        .get("number")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_default();
                    let n = E164::parse(&n)
                        .map_err(|e| bad(f, format!("row {}: number: {e}", i + 1)))?;
                    v["number"] = json!(n.to_string());
                    from_json(v, &format!("{f} row {}", i + 1))
                })
                .collect::<ScriptResult<_>>()?;
            let params = json!({"account": acct, "internal_numbers": rows});
            let dry = json!({"internal_numbers": params["internal_numbers"].clone()});
        }
        change: change(f, format!("{} internal number(s) on {acct}", rows.len()), params),
        dry_run: dry,
        send: x.clients.zoom.add_internal_numbers(acct, &rows),
    );
    write_fn!(
        m, s, "zoom", "update_phone_user", ["user: string", "partial: map"] -> "()",
        |x, f, user: Dynamic, partial: Dynamic| {
            let user = args::string(f, "user", &user)?;
            let pm = args::map(f, "partial", &partial)?;
            only_fields(f, &pm, &["extension_number", "site_id"])?;
            let mut v = to_json(&partial);
            // Zoom takes the extension as a string; a script may write it as a number.
            if let Some(n) = v.get("extension_number").and_then(Value::as_i64) {
                v["extension_number"] = json!(n.to_string());
            }
            let patch: PhoneUserPatch = from_json(v, f)?;
        }
        change: change(f, user.clone(), json!({"user": user, "changes": patch})),
        dry_run: json!({}),
        send: x.clients.zoom.update_phone_user(&user, &patch),
    );
    let x = s.clone();
    reg!(
        m,
        "zoom",
        "call_history",
        ["q: map", "array"],
        move |q: Map| {
            let f = "zoom::call_history";
            only_fields(f, &q, &["from", "to"])?;
            let (from, to) = match (field(&q, "from"), field(&q, "to")) {
                (Some(a), Some(b)) => (a, b),
                _ => return Err(bad(f, "from and to are required (dates like 2026-11-01)")),
            };
            x.read(|| x.clients.zoom.call_history(&from, &to))
        }
    );
    zoom_csv_fns(&mut m, s);
    m
}

/// One number from Zoom: through the run's index when there is one, else a filtered list call.
fn find_number(
    x: &Session,
    n: &E164,
) -> Result<Option<crate::api::zoom::wire::PhoneNumber>, ApiError> {
    match &x.numbers {
        Some(idx) => idx.find(&x.clients.zoom, n),
        None => {
            let q = NumberQuery {
                kind: None,
                phone_number: Some(n.clone()),
                site_id: None,
            };
            Ok(x.clients
                .zoom
                .numbers(&q)?
                .into_iter()
                .find(|p| p.number == n.as_str()))
        }
    }
}

fn type_matches(kind: Option<NumberType>, p: &crate::api::zoom::wire::PhoneNumber) -> bool {
    let assigned = p.assignee.as_ref().is_some_and(|a| !a.id.is_empty());
    match kind {
        None | Some(NumberType::All) => true,
        Some(NumberType::Assigned) => assigned,
        Some(NumberType::Unassigned) => !assigned,
        Some(NumberType::Byoc) => p.source.as_deref() == Some("external"),
    }
}

fn resolve_site(x: &Session, f: &str, site: &str) -> ScriptResult<String> {
    let sites = x.clients.zoom.sites().map_err(|e| api_error(&e))?;
    sites
        .iter()
        .find(|s| s.id == site || s.name.eq_ignore_ascii_case(site))
        .map(|s| s.id.clone())
        .ok_or_else(|| {
            bad(
                f,
                format!(
                    "no Zoom Phone site '{site}' (sites: {})",
                    sites
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}

/// `zoom::export_users_csv` and `zoom::merge_users_csv` (Zoom's phone-user bulk-import file).
fn zoom_csv_fns(m: &mut Module, s: &Arc<Session>) {
    use crate::host::zoomcsv;
    let mut m = m;
    fn granted(x: &Session, f: &str, path: &str) -> ScriptResult<()> {
        if x.file_granted(Path::new(path)) {
            return Ok(());
        }
        Err(bad(
            f,
            format!(
                "'{path}' was not named by the operator; pass it as a parameter (e.g. out={path})"
            ),
        ))
    }
    fn fail(f: &str, e: zoomcsv::CsvError) -> Box<rhai::EvalAltResult> {
        match e {
            zoomcsv::CsvError::Api(e) => api_error(&e),
            other => bad(f, other),
        }
    }
    let x = s.clone();
    reg!(
        m,
        "zoom",
        "export_users_csv",
        ["path: string", "int"],
        move |path: &str| -> ScriptResult<i64> {
            let f = "zoom::export_users_csv";
            granted(&x, f, path)?;
            x.check_cancel()?;
            let t = zoomcsv::current(&x.clients).map_err(|e| fail(f, e))?;
            zoomcsv::write(&t, path)
                .map(|n| n as i64)
                .map_err(|e| fail(f, e))
        }
    );
    let x = s.clone();
    reg!(
        m,
        "zoom",
        "merge_users_csv",
        ["changes: array", "path: string", "map"],
        move |changes: Array, path: &str| -> ScriptResult<Dynamic> {
            let f = "zoom::merge_users_csv";
            granted(&x, f, path)?;
            x.check_cancel()?;
            let changes: Vec<Value> = changes.iter().map(to_json).collect();
            let t = zoomcsv::current(&x.clients).map_err(|e| fail(f, e))?;
            let (merged, log) = zoomcsv::merge(&t, &changes).map_err(|e| fail(f, e))?;
            let rows = zoomcsv::write(&merged, path).map_err(|e| fail(f, e))?;
            to_dynamic(
                &json!({"rows": rows, "path": path, "columns": merged.columns, "changes": log}),
            )
        }
    );
}
