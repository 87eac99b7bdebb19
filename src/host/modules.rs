//! Registers `movius::`, `carrier::`, `zoom::`, `guard::`, `csv::`, `log::` and `e164::` into an
//! engine. Every service function goes through `Session::op`, which applies the guardrails; its
//! impact level comes from the catalog, so a new function cannot forget it.

use std::path::Path;
use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, FuncRegistration, Map, Module};
use serde_json::{json, Value};

use crate::api::movius::wire::AddAccount;
use crate::api::movius::{CdrQuery, UserListQuery};
use crate::api::zoom::wire::{
    AddDevice, CreateAction, CreateUser, InternalNumber, NewUserInfo, NumberRef, PhoneUserPatch,
};
use crate::api::zoom::{NumberQuery, NumberType};
use crate::api::{ApiError, E164};
use crate::guard::Impact;

use super::args::{self, bad, field, only_fields, R};
use super::catalog::{self, FnDoc};
use super::session::{stop, Change, Session, Stop};
use super::value::{from_json, to_dynamic, to_json};

fn doc(module: &str, name: &str) -> &'static FnDoc {
    catalog::CATALOG
        .iter()
        .find(|d| d.module == module && d.name == name)
        .unwrap_or_else(|| panic!("{module}::{name} is registered but has no catalog entry"))
}

/// A change whose impact level is the catalog's for `op` (`zoom::assign_number`).
fn change<'a>(op: &'a str, target: &'a str, params: Value) -> Change<'a> {
    let (m, n) = op.split_once("::").unwrap_or(("", op));
    Change {
        op,
        impact: impact(m, n),
        target,
        params,
        undo: None,
    }
}

fn impact(module: &str, name: &str) -> Impact {
    doc(module, name).impact.unwrap_or(Impact::Read)
}

/// The catalog doc as Rhai doc comments (the REPL and metadata read them back).
fn comments(d: &FnDoc) -> Vec<String> {
    let mut c = vec![format!("/// {}", d.signature)];
    if let Some(i) = d.impact {
        c.push(format!("/// impact: {i}"));
    }
    c.extend(d.doc.lines().map(|l| format!("/// {l}")));
    c
}

/// A function's registration with its catalog doc: every module registers through this, so a
/// function without a catalog entry cannot be registered.
pub fn registration(module: &str, name: &str, params: &[&str]) -> FuncRegistration {
    let d = doc(module, name);
    FuncRegistration::new(name)
        .in_global_namespace()
        .with_volatility(true)
        .with_params_info(params)
        .with_comments(comments(d))
}

macro_rules! reg {
    ($m:ident, $module:literal, $name:literal, [$($p:literal),*], $f:expr) => {
        registration($module, $name, &[$($p),*]).set_into_module(&mut $m, $f);
    };
}

/// A read with no argument, straight to the client: `zoom::users()`.
macro_rules! read0 {
    ($m:ident, $s:ident, $module:literal, $name:literal, $ret:literal, $svc:ident . $op:ident) => {{
        let x = $s.clone();
        reg!($m, $module, $name, [$ret], move || x
            .read(|| x.clients.$svc.$op()));
    }};
}

/// A read with one string argument, straight to the client: `zoom::user(id_or_email)`.
macro_rules! read1 {
    ($m:ident, $s:ident, $module:literal, $name:literal, $param:literal, $ret:literal, $svc:ident . $op:ident) => {{
        let x = $s.clone();
        reg!($m, $module, $name, [$param, $ret], move |a: &str| x
            .read(|| x.clients.$svc.$op(a)));
    }};
}

/// Register every module on `engine`, bound to `s`.
pub fn register_all(engine: &mut Engine, s: &Arc<Session>) {
    engine.register_static_module("movius", movius(s).into());
    engine.register_static_module("carrier", carrier(s).into());
    engine.register_static_module("zoom", zoom(s).into());
    engine.register_static_module("guard", guard_mod(s).into());
    engine.register_static_module("csv", csv_mod(s).into());
    engine.register_static_module("log", log_mod().into());
    engine.register_static_module("e164", e164_mod(s.default_region).into());
    engine.register_static_module("time", time_mod(Some(s)).into());
    engine.register_static_module("profile", profile_mod(s).into());
}

/// The modules with no session behind them: `vline check` and `vline doc` compile against these.
pub fn register_offline(engine: &mut Engine) {
    engine.register_static_module("log", log_mod().into());
    engine.register_static_module("e164", e164_mod(None).into());
    engine.register_static_module("time", time_mod(None).into());
}

fn digits(n: &E164) -> String {
    n.digits().to_string()
}

fn movius(s: &Arc<Session>) -> Module {
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
                Err(e) => Err(super::session::api_error(&e)),
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
            let query = UserListQuery {
                organization_id: field(&q, "organization_id")
                    .ok_or_else(|| bad(f, "organization_id is required"))?,
                sub_org: q
                    .get("sub_org")
                    .map(|v| v.as_bool().unwrap_or(false))
                    .unwrap_or(false),
                exclude_channel: field(&q, "exclude_channel"),
            };
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
            let query = CdrQuery {
                organization_id: field(&q, "organization_id")
                    .ok_or_else(|| bad(f, "organization_id is required"))?,
                sub_org: q
                    .get("sub_org")
                    .map(|v| v.as_bool().unwrap_or(false))
                    .unwrap_or(false),
                exclude_channel: field(&q, "exclude_channel"),
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
    let x = s.clone();
    reg!(
        m,
        "movius",
        "create_sub_org",
        ["parent: string", "name: string", "map"],
        move |parent: &str, name: &str| {
            x.write(
                change(
                    "movius::create_sub_org",
                    &format!("{name} under {parent}"),
                    json!({"parent": parent, "name": name}),
                ),
                || json!({"organization_id": crate::guard::PLACEHOLDER, "name": name, "parent_id": parent}),
                || x.clients.movius.create_sub_org(parent, name),
            )
        }
    );
    let x = s.clone();
    reg!(
        m,
        "movius",
        "add_allowed_email_domain",
        ["org: string", "domain: string", "map"],
        move |org: &str, domain: &str| {
            x.write(
                change(
                    "movius::add_allowed_email_domain",
                    &format!("{domain} on {org}"),
                    json!({"org": org, "domain": domain}),
                ),
                || json!({"organization_id": org}),
                || x.clients.movius.add_allowed_email_domain(org, domain),
            )
        }
    );
    let x = s.clone();
    reg!(
        m,
        "movius",
        "set_zoom_enabled",
        ["org: string", "on: bool", "map"],
        move |org: &str, on: bool| {
            x.write(
                change(
                    "movius::set_zoom_enabled",
                    org,
                    json!({"org": org, "enable_zoom": on}),
                ),
                || json!({"organization_id": org, "enable_zoom": on}),
                || x.clients.movius.set_zoom_enabled(org, on),
            )
        }
    );
    let x = s.clone();
    reg!(
        m,
        "movius",
        "add_account",
        ["a: map", "map"],
        move |a: Dynamic| {
            let f = "movius::add_account";
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
            let ph = params.clone();
            x.write(
                Change {
                    op: f,
                    impact: Impact::Irreversible,
                    target: &format!("{number} in {}", req.organization_id),
                    params,
                    undo: Some(undo),
                },
                move || {
                    let mut v = ph;
                    v["account_sid"] = json!(crate::guard::PLACEHOLDER);
                    v
                },
                || {
                    // Peering may put the number into Zoom (even when the call fails half-way):
                    // the run's number index must ask Zoom about it next time.
                    if let (Some(idx), true) = (&x.numbers, req.enable_zoom) {
                        idx.touched(number.as_str());
                    }
                    x.clients.movius.add_account(&req)
                },
            )
        }
    );
    let x = s.clone();
    reg!(
        m,
        "movius",
        "modify_account",
        ["sel: string|map", "changes: map", "map"],
        move |sel: Dynamic, changes: Dynamic| {
            let f = "movius::modify_account";
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
            let ph = params.clone();
            x.write(
                Change {
                    op: f,
                    impact: imp,
                    target: &sel.to_string(),
                    params,
                    undo,
                },
                move || ph,
                || {
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
            )
        }
    );
    let x = s.clone();
    reg!(
        m,
        "movius",
        "delete_account",
        ["org: string", "sel: string|map", "map"],
        move |org: &str, sel: Dynamic| {
            let f = "movius::delete_account";
            let sel = args::selector(f, &sel)?;
            let (k, v) = sel.field();
            let params = json!({"organization_id": org, k: v});
            let ph = params.clone();
            x.write(
                Change {
                    op: f,
                    impact: Impact::Irreversible,
                    target: &format!("{sel} in {org}"),
                    params,
                    undo: Some(
                        "the Movius account is deleted and its number is unpeered from Zoom",
                    ),
                },
                move || ph,
                || {
                    let r = x.clients.movius.delete_account(org, &sel)?;
                    if let (Some(idx), crate::api::Selector::PhoneNumber(n)) = (&x.numbers, &sel) {
                        idx.removed(n.as_str());
                    }
                    Ok(r)
                },
            )
        }
    );
    m
}

fn carrier(s: &Arc<Session>) -> Module {
    let mut m = Module::new();
    let x = s.clone();
    reg!(
        m,
        "carrier",
        "provision_ptn",
        ["number: string|array", "tags: array", "map"],
        move |numbers: Dynamic, tags: Array| {
            let f = "carrier::provision_ptn";
            let list: Vec<Dynamic> = if numbers.is_array() {
                args::array(f, "number", &numbers)?
            } else {
                vec![numbers]
            };
            let nums = list
                .iter()
                .map(|d| args::e164(f, "number", d))
                .collect::<R<Vec<_>>>()?;
            let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
            let carrier = x.clients.carrier.clone().ok_or_else(|| bad(f, "the carrier API exists only on the sandbox profile: on a real profile T-Mobile provisions PTNs"))?;
            let target = nums
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let params = json!({"numbers": nums, "tags": tags});
            let ph = params.clone();
            x.write(
                change(f, &target, params),
                move || ph,
                || carrier.provision_ptn(&nums, &tags),
            )
        }
    );
    let x = s.clone();
    reg!(
        m,
        "carrier",
        "delete_ptn",
        ["number: string", "map"],
        move |number: Dynamic| {
            let f = "carrier::delete_ptn";
            let n = args::e164(f, "number", &number)?;
            let carrier = x.clients.carrier.clone().ok_or_else(|| bad(f, "the carrier API exists only on the sandbox profile: on a real profile ask T-Mobile to delete the number"))?;
            x.write(
                Change {
                    op: f,
                    impact: Impact::Irreversible,
                    target: n.as_str(),
                    params: json!({"number": n}),
                    undo: Some("the number is removed from Movius and unpeered from Zoom"),
                },
                || json!({"number": n.to_string()}),
                || {
                    carrier.delete_ptn(&n)?;
                    if let Some(idx) = &x.numbers {
                        idx.removed(n.as_str());
                    }
                    Ok(())
                },
            )
        }
    );
    m
}

fn number_refs(f: &str, d: &Dynamic) -> R<Vec<NumberRef>> {
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

fn number_query(f: &str, q: &Map) -> R<NumberQuery> {
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

fn zoom(s: &Arc<Session>) -> Module {
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
                Err(e) => Err(super::session::api_error(&e)),
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
    let x = s.clone();
    reg!(
        m,
        "zoom",
        "assign_number",
        ["user: string", "number: string|map|array", "array"],
        move |user: Dynamic, number: Dynamic| {
            let f = "zoom::assign_number";
            let user = args::string(f, "user", &user)?;
            let refs = number_refs(f, &number)?;
            let shown = refs
                .iter()
                .map(|r| r.number.clone().or(r.id.clone()).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(", ");
            let params = json!({"user": user, "phone_numbers": refs});
            // Same shape as the live answer: the numbers assigned.
            let ph = json!(refs
                .iter()
                .map(|r| json!({"id": r.id.clone().unwrap_or_else(|| crate::guard::PLACEHOLDER.into()), "number": r.number}))
                .collect::<Vec<_>>());
            x.write(
                change(f, &format!("{shown} → {user}"), params),
                move || ph,
                || {
                    let done = x.clients.zoom.assign_number(&user, &refs)?;
                    if let Some(idx) = &x.numbers {
                        for r in refs.iter().filter_map(|r| r.number.as_deref()) {
                            idx.assigned(r, &user);
                        }
                    }
                    Ok(done)
                },
            )
        }
    );
    let x = s.clone();
    reg!(
        m,
        "zoom",
        "unassign_number",
        ["user: string", "number: string", "()"],
        move |user: Dynamic, number: Dynamic| {
            let f = "zoom::unassign_number";
            let user = args::string(f, "user", &user)?;
            let number = args::string(f, "number", &number)?;
            let number = E164::parse(&number)
                .map(|n| n.to_string())
                .unwrap_or(number);
            x.write(
                change(
                    f,
                    &format!("{number} from {user}"),
                    json!({"user": user, "number": number}),
                ),
                || json!({}),
                || {
                    x.clients.zoom.unassign_number(&user, &number)?;
                    if let Some(idx) = &x.numbers {
                        idx.unassigned(&number);
                    }
                    Ok(())
                },
            )
            .map(|_| Dynamic::UNIT)
        }
    );
    let x = s.clone();
    reg!(
        m,
        "zoom",
        "create_user",
        ["email: string", "opts: map", "map"],
        move |email: Dynamic, opts: Map| {
            let f = "zoom::create_user";
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
            let params = serde_json::to_value(&body).unwrap_or(Value::Null);
            let ph = json!({"id": crate::guard::PLACEHOLDER, "email": email, "type": 1});
            x.write(
                change(f, &email, params),
                move || ph,
                || x.clients.zoom.create_user(&body),
            )
        }
    );
    let x = s.clone();
    reg!(
        m,
        "zoom",
        "enable_phone",
        ["user: string", "opts: map", "map"],
        move |user: Dynamic, opts: Map| {
            let f = "zoom::enable_phone";
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
            let ph = params.clone();
            x.write(
                change(f, &user, params),
                move || ph,
                || x.clients.zoom.enable_phone(&user, site_id.as_deref(), ext),
            )
        }
    );
    let x = s.clone();
    reg!(
        m,
        "zoom",
        "assign_calling_plan",
        ["user: string", "plan_type: int", "()"],
        move |user: Dynamic, plan: i64| {
            let f = "zoom::assign_calling_plan";
            let user = args::string(f, "user", &user)?;
            x.write(
                change(
                    f,
                    &format!("plan {plan} → {user}"),
                    json!({"user": user, "plan_type": plan}),
                ),
                || json!({}),
                || x.clients.zoom.assign_calling_plan(&user, plan),
            )
            .map(|_| Dynamic::UNIT)
        }
    );
    let x = s.clone();
    reg!(
        m,
        "zoom",
        "remove_calling_plan",
        ["user: string", "plan_type: int", "()"],
        move |user: Dynamic, plan: i64| {
            let f = "zoom::remove_calling_plan";
            let user = args::string(f, "user", &user)?;
            tracing::warn!("removing calling plan {plan} from {user} also removes the user's direct number in Zoom");
            eprintln!("warning: removing calling plan {plan} from {user} also removes the user's direct number in Zoom");
            x.write(
                change(
                    f,
                    &format!("plan {plan} from {user}"),
                    json!({"user": user, "plan_type": plan}),
                ),
                || json!({}),
                || x.clients.zoom.remove_calling_plan(&user, plan),
            )
            .map(|_| Dynamic::UNIT)
        }
    );
    let x = s.clone();
    reg!(
        m,
        "zoom",
        "add_role_members",
        ["role_id: string", "users: array", "()"],
        move |role: &str, users: Array| {
            let f = "zoom::add_role_members";
            let members = users
                .iter()
                .map(|u| args::string(f, "users", u))
                .collect::<R<Vec<_>>>()?;
            x.write(
                change(f, role, json!({"role_id": role, "user_ids": members})),
                || json!({}),
                || x.clients.zoom.add_role_members(role, &members),
            )
            .map(|_| Dynamic::UNIT)
        }
    );
    let x = s.clone();
    reg!(
        m,
        "zoom",
        "add_device",
        ["d: map", "map"],
        move |d: Dynamic| {
            let f = "zoom::add_device";
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
            let mut ph = params.clone();
            // The id Zoom will give the device: later writes that use it match any id.
            ph["id"] = json!(crate::guard::PLACEHOLDER);
            x.write(
                change(f, &dev.mac_address.clone(), params),
                move || ph,
                || x.clients.zoom.add_device(&dev),
            )
        }
    );
    let x = s.clone();
    reg!(
        m,
        "zoom",
        "assign_device",
        ["device_id: string", "extension_ids: array", "()"],
        move |device: &str, exts: Array| {
            let f = "zoom::assign_device";
            let exts: Vec<String> = exts
                .iter()
                .map(|e| args::string(f, "extension_ids", e))
                .collect::<R<_>>()?;
            x.write(
                change(
                    f,
                    device,
                    json!({"device_id": device, "extension_ids": exts}),
                ),
                || json!({}),
                || x.clients.zoom.assign_device(device, &exts),
            )
            .map(|_| Dynamic::UNIT)
        }
    );
    let x = s.clone();
    reg!(
        m,
        "zoom",
        "add_internal_numbers",
        ["account: string", "rows: array", "array"],
        move |acct: &str, rows: Array| {
            let f = "zoom::add_internal_numbers";
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
                .collect::<R<_>>()?;
            let target = format!("{} internal number(s) on {acct}", rows.len());
            let params = json!({"account": acct, "internal_numbers": rows});
            let ph = params["internal_numbers"].clone();
            x.write(
                change(f, &target, params),
                move || json!({"internal_numbers": ph}),
                || x.clients.zoom.add_internal_numbers(acct, &rows),
            )
        }
    );
    let x = s.clone();
    reg!(
        m,
        "zoom",
        "update_phone_user",
        ["user: string", "partial: map", "()"],
        move |user: Dynamic, partial: Dynamic| {
            let f = "zoom::update_phone_user";
            let user = args::string(f, "user", &user)?;
            let pm = args::map(f, "partial", &partial)?;
            only_fields(f, &pm, &["extension_number", "site_id"])?;
            let mut v = to_json(&partial);
            // Zoom takes the extension as a string; a script may write it as a number.
            if let Some(n) = v.get("extension_number").and_then(Value::as_i64) {
                v["extension_number"] = json!(n.to_string());
            }
            let patch: PhoneUserPatch = from_json(v, f)?;
            let params = json!({"user": user, "changes": patch});
            x.write(
                change(f, &user, params),
                || json!({}),
                || x.clients.zoom.update_phone_user(&user, &patch),
            )
            .map(|_| Dynamic::UNIT)
        }
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

fn resolve_site(x: &Session, f: &str, site: &str) -> R<String> {
    let sites = x
        .clients
        .zoom
        .sites()
        .map_err(|e| super::session::api_error(&e))?;
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

fn guard_mod(s: &Arc<Session>) -> Module {
    let mut m = Module::new();
    let x = s.clone();
    reg!(
        m,
        "guard",
        "require_maintenance_window",
        ["why: string", "()"],
        move |why: &str| {
            match x
                .guard
                .require_maintenance_window(why, jiff::Timestamp::now())
            {
                Ok(check) => {
                    tracing::info!("maintenance window: {check:?}");
                    Ok(())
                }
                Err(r) => Err(stop(Stop::Refused(r))),
            }
        }
    );
    let x = s.clone();
    reg!(
        m,
        "guard",
        "confirm",
        ["text: string", "()"],
        move |text: &str| { x.guard.confirm(text).map_err(|r| stop(Stop::Refused(r))) }
    );
    let x = s.clone();
    reg!(m, "guard", "is_dry_run", ["bool"], move || x
        .guard
        .policy()
        .dry_run);
    let x = s.clone();
    reg!(m, "guard", "plan", ["array"], move || to_dynamic(
        &x.guard.plan()
    ));
    m
}

fn csv_mod(s: &Arc<Session>) -> Module {
    let mut m = Module::new();
    let x = s.clone();
    reg!(
        m,
        "csv",
        "read",
        ["path: string", "array"],
        move |path: &str| {
            let f = "csv::read";
            if !x.file_granted(Path::new(path)) {
                return Err(bad(f, format!("'{path}' was not named by the operator; pass it as a parameter (e.g. file={path})")));
            }
            let mut rd =
                csv::Reader::from_path(path).map_err(|e| bad(f, format!("{path}: {e}")))?;
            let headers = rd
                .headers()
                .map_err(|e| bad(f, format!("{path}: {e}")))?
                .clone();
            let mut out = Array::new();
            for (i, rec) in rd.records().enumerate() {
                let rec = rec.map_err(|e| bad(f, format!("{path} line {}: {e}", i + 2)))?;
                let mut row = Map::new();
                for (h, v) in headers.iter().zip(rec.iter()) {
                    row.insert(h.into(), v.to_string().into());
                }
                out.push(row.into());
            }
            Ok(out)
        }
    );
    let x = s.clone();
    reg!(
        m,
        "csv",
        "write",
        ["path: string", "rows: array", "int"],
        move |path: &str, rows: Array| {
            let f = "csv::write";
            if !x.file_granted(Path::new(path)) {
                return Err(bad(f, format!("'{path}' was not named by the operator; pass it as a parameter (e.g. out={path})")));
            }
            write_csv(path, &rows).map_err(|e| bad(f, format!("{path}: {e}")))?;
            Ok(rows.len() as i64)
        }
    );
    m
}

/// Write maps as CSV with the union of their keys as columns, first-seen order.
pub fn write_csv(path: &str, rows: &[Dynamic]) -> Result<(), String> {
    let json: Vec<Value> = rows.iter().map(to_json).collect();
    let mut cols: Vec<String> = Vec::new();
    for r in &json {
        if let Value::Object(o) = r {
            for k in o.keys() {
                if !cols.contains(k) {
                    cols.push(k.clone());
                }
            }
        }
    }
    let mut w = csv::Writer::from_path(path).map_err(|e| e.to_string())?;
    w.write_record(&cols).map_err(|e| e.to_string())?;
    for r in &json {
        let rec: Vec<String> = cols
            .iter()
            .map(|c| match r.get(c) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(v) => v.to_string(),
            })
            .collect();
        w.write_record(&rec).map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())
}

fn log_mod() -> Module {
    let mut m = Module::new();
    reg!(m, "log", "info", ["msg: string", "()"], |msg: &str| {
        tracing::debug!(target: "vline::script", "{msg}");
        eprintln!("{msg}");
    });
    reg!(m, "log", "warn", ["msg: string", "()"], |msg: &str| {
        tracing::debug!(target: "vline::script", "warning: {msg}");
        eprintln!("warning: {msg}");
    });
    m
}

/// `e164::` reads numbers as operator input: with the profile's `default_region`, national forms
/// are that region's numbers; without one they are refused (the same rules as parameters).
fn e164_mod(region: Option<crate::api::Region>) -> Module {
    let mut m = Module::new();
    reg!(
        m,
        "e164",
        "parse",
        ["s: string", "string"],
        move |s: &str| -> R<String> {
            E164::parse_in(s, region)
                .map(|n| n.to_string())
                .map_err(|e| bad("e164::parse", e))
        }
    );
    reg!(
        m,
        "e164",
        "digits",
        ["s: string", "string"],
        move |s: &str| -> R<String> {
            E164::parse_in(s, region)
                .map(|n| n.digits().to_string())
                .map_err(|e| bad("e164::digits", e))
        }
    );
    m
}

fn time_mod(s: Option<&Arc<Session>>) -> Module {
    let mut m = Module::new();
    let x = s.cloned();
    reg!(
        m,
        "time",
        "sleep_ms",
        ["ms: int", "()"],
        move |ms: i64| -> R<()> {
            let ms = ms.clamp(0, 10_000) as u64;
            let until = std::time::Instant::now() + std::time::Duration::from_millis(ms);
            // Sleep in slices so Ctrl-C stops a wait promptly.
            while std::time::Instant::now() < until {
                if let Some(x) = &x {
                    x.check_cancel()?;
                }
                std::thread::sleep(
                    (until - std::time::Instant::now()).min(std::time::Duration::from_millis(50)),
                );
            }
            Ok(())
        }
    );
    reg!(m, "time", "now", ["string"], || jiff::Timestamp::now()
        .to_string());
    m
}

fn profile_mod(s: &Arc<Session>) -> Module {
    let mut m = Module::new();
    let x = s.clone();
    reg!(m, "profile", "name", ["string"], move || x.profile.clone());
    let x = s.clone();
    reg!(
        m,
        "profile",
        "default_org",
        ["string|()"],
        move || match &x.default_org {
            Some(o) => Dynamic::from(o.clone()),
            None => Dynamic::UNIT,
        }
    );
    let x = s.clone();
    reg!(
        m,
        "profile",
        "naming",
        ["number: string", "map"],
        move |n: Dynamic| -> R<Map> {
            let n = args::e164("profile::naming", "number", &n)?;
            let (first, last, email) = (x.naming)(&n);
            let mut out = Map::new();
            out.insert("first_name".into(), first.into());
            out.insert("last_name".into(), last.into());
            out.insert("email".into(), email.into());
            Ok(out)
        }
    );
    let x = s.clone();
    reg!(m, "profile", "is_sandbox", ["bool"], move || x.sandbox);
    m
}

/// `zoom::export_users_csv` and `zoom::merge_users_csv` (Zoom's phone-user bulk-import file).
fn zoom_csv_fns(m: &mut Module, s: &Arc<Session>) {
    use super::zoomcsv;
    let mut m = m;
    fn granted(x: &Session, f: &str, path: &str) -> R<()> {
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
            zoomcsv::CsvError::Api(e) => super::session::api_error(&e),
            other => bad(f, other),
        }
    }
    let x = s.clone();
    reg!(
        m,
        "zoom",
        "export_users_csv",
        ["path: string", "int"],
        move |path: &str| -> R<i64> {
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
        move |changes: Array, path: &str| -> R<Dynamic> {
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
