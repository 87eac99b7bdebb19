//! Zoom: server-to-server OAuth, Phone, Users and SIP-trunk internal numbers, with Zoom's paths,
//! field names, pagination and `{code, message}` errors.
//! `handle` routes a request; `users`, `numbers` and `devices` change the state, `shapes` shows it
//! as Zoom does.

use serde_json::{json, Value};

use crate::api::zoom::wire::{
    Assignee, CallingPlan, CallingPlanList, Device, IdName, InternalNumber, InternalNumbers,
    NumberRef, PeeringNumber, PeeringNumberPage, PeeringResult, PhoneNumber, PhoneNumberPage,
    PhoneUser, PhoneUserPage, Role, RoleList, SitePage, TokenResponse, Unprocessed, User,
    UserCallingPlan, UserPage,
};
use crate::api::E164;

use super::faults::Faults;
use super::server::{random_token, Ctx, Reply, Req};
use super::store::now_secs;
use super::world::{World, ZNumber, ZUser, MOVIUS_CARRIER_CODE};
use super::{ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET};

mod devices;
mod numbers;
mod shapes;
mod users;

use devices::*;
use numbers::*;
pub use shapes::number_json;
use shapes::*;
use users::*;

fn err(status: u16, code: i64, message: &str) -> Reply {
    Reply::zoom_err(status, code, message)
}
fn invalid(message: &str) -> Reply {
    err(400, 300, message)
}
fn no_user(u: &str) -> Reply {
    err(404, 1001, &format!("User does not exist: {u}."))
}

/// Zoom's routes, matched in one table (`route`): `op` names them for the log and the rate
/// limiter, `handle` serves them.
enum Route<'a> {
    ListNumbers,
    GetNumber(&'a str),
    AssignNumber(&'a str),
    UnassignNumber(&'a str, &'a str),
    ListUsers,
    GetUser(&'a str),
    UpdateUserSettings(&'a str),
    ListPhoneUsers,
    GetPhoneUser(&'a str),
    UpdatePhoneUser(&'a str),
    ListSites,
    GetSite(&'a str),
    CreateUser,
    BatchAddPhoneUsers,
    ListCallingPlans,
    AssignCallingPlan(&'a str),
    UnassignCallingPlan(&'a str, &'a str),
    ListRoles,
    ListRoleMembers(&'a str),
    AddRoleMembers(&'a str),
    ListDevices,
    AddDevice,
    AssignDevice(&'a str),
    ListPeeringNumbers,
    AddPeeringNumbers,
    DeletePeeringNumbers,
    ListInternalNumbers(&'a str),
    AddInternalNumbers(&'a str),
    DeleteInternalNumber(&'a str, &'a str),
    CallHistory,
    CallChargesReport,
}

/// The route of a request and its operation name, or `None` for a path Zoom does not have.
fn route<'a>(method: &str, s: &[&'a str]) -> Option<(&'static str, Route<'a>)> {
    Some(match (method, s) {
        ("GET", ["phone", "numbers"]) => ("list_numbers", Route::ListNumbers),
        ("GET", ["phone", "numbers", id]) => ("get_number", Route::GetNumber(id)),
        ("POST", ["phone", "users", user, "phone_numbers"]) => {
            ("assign_number", Route::AssignNumber(user))
        }
        ("DELETE", ["phone", "users", user, "phone_numbers", number]) => {
            ("unassign_number", Route::UnassignNumber(user, number))
        }
        ("GET", ["users"]) => ("list_users", Route::ListUsers),
        ("GET", ["users", user]) => ("get_user", Route::GetUser(user)),
        ("PATCH", ["users", user, "settings"]) => {
            ("update_user_settings", Route::UpdateUserSettings(user))
        }
        ("GET", ["phone", "users"]) => ("list_phone_users", Route::ListPhoneUsers),
        ("GET", ["phone", "users", user]) => ("get_phone_user", Route::GetPhoneUser(user)),
        ("PATCH", ["phone", "users", user]) => ("update_phone_user", Route::UpdatePhoneUser(user)),
        ("GET", ["phone", "sites"]) => ("list_sites", Route::ListSites),
        ("GET", ["phone", "sites", id]) => ("get_site", Route::GetSite(id)),
        ("POST", ["users"]) => ("create_user", Route::CreateUser),
        ("POST", ["phone", "users", "batch"]) => {
            ("batch_add_phone_users", Route::BatchAddPhoneUsers)
        }
        ("GET", ["phone", "calling_plans"]) => ("list_calling_plans", Route::ListCallingPlans),
        ("POST", ["phone", "users", user, "calling_plans"]) => {
            ("assign_calling_plan", Route::AssignCallingPlan(user))
        }
        ("DELETE", ["phone", "users", user, "calling_plans", plan_type]) => (
            "unassign_calling_plan",
            Route::UnassignCallingPlan(user, plan_type),
        ),
        ("GET", ["phone", "roles"]) => ("list_roles", Route::ListRoles),
        ("GET", ["phone", "roles", role, "members"]) => {
            ("list_role_members", Route::ListRoleMembers(role))
        }
        ("POST", ["phone", "roles", role, "members"]) => {
            ("add_role_members", Route::AddRoleMembers(role))
        }
        ("GET", ["phone", "devices"]) => ("list_devices", Route::ListDevices),
        ("POST", ["phone", "devices"]) => ("add_device", Route::AddDevice),
        ("POST", ["phone", "devices", device, "extensions"]) => {
            ("assign_device", Route::AssignDevice(device))
        }
        ("GET", ["phone", "peering", "numbers"]) => {
            ("list_peering_numbers", Route::ListPeeringNumbers)
        }
        ("POST", ["phone", "peering", "numbers"]) => {
            ("add_peering_numbers", Route::AddPeeringNumbers)
        }
        ("DELETE", ["phone", "peering", "numbers"]) => {
            ("delete_peering_numbers", Route::DeletePeeringNumbers)
        }
        ("GET", ["accounts", account, "sip_trunk", "internal_numbers"]) => {
            ("list_internal_numbers", Route::ListInternalNumbers(account))
        }
        ("POST", ["accounts", account, "sip_trunk", "internal_numbers"]) => {
            ("add_internal_numbers", Route::AddInternalNumbers(account))
        }
        ("DELETE", ["accounts", account, "sip_trunk", "internal_numbers", id]) => (
            "delete_internal_number",
            Route::DeleteInternalNumber(account, id),
        ),
        ("GET", ["phone", "call_history"]) => ("call_history", Route::CallHistory),
        ("GET", ["phone", "reports", "call_charges"]) => {
            ("call_charges_report", Route::CallChargesReport)
        }
        _ => return None,
    })
}

/// The operation name and whether it writes, for the log and the rate limiter.
pub fn op(req: &Req) -> (String, bool) {
    let s = req.seg();
    let m = req.method.as_str();
    let name = route(m, &s).map_or("unknown", |(name, _)| name);
    (format!("zoom.{name}"), m != "GET")
}

/// User and password of an HTTP Basic `Authorization` header.
pub fn basic_credentials(req: &Req) -> Option<(String, String)> {
    use base64::Engine;
    let h = req.headers.get("authorization")?.to_str().ok()?;
    let b64 = h
        .strip_prefix("Basic ")
        .or_else(|| h.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// `POST /zoom/oauth/token?grant_type=account_credentials&account_id=…` with HTTP Basic.
pub fn oauth(ctx: &Ctx, req: &Req) -> Reply {
    let oauth_err = |status: u16, reason: &str, error: &str| {
        Reply::json(status, json!({"reason": reason, "error": error}))
    };
    if req.method != "POST" {
        return oauth_err(405, "Method not allowed: use POST", "invalid_request");
    }
    // Zoom takes the parameters in the query or as a form body.
    let form: Vec<(String, String)> = String::from_utf8_lossy(&req.body)
        .split('&')
        .filter_map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    let param = |k: &str| {
        req.q(k)
            .map(str::to_string)
            .or_else(|| form.iter().find(|(fk, _)| fk == k).map(|(_, v)| v.clone()))
    };
    match basic_credentials(req) {
        Some((id, secret)) if id == ZOOM_CLIENT_ID && secret == ZOOM_CLIENT_SECRET => {}
        _ => return oauth_err(401, "Invalid client_id or client_secret", "invalid_client"),
    }
    match param("grant_type").as_deref() {
        Some("account_credentials") => {}
        Some(_) | None => {
            return oauth_err(400, "Unsupported grant type", "unsupported_grant_type")
        }
    }
    match param("account_id").as_deref() {
        Some(a) if a == ZOOM_ACCOUNT_ID => {}
        _ => return oauth_err(400, "Invalid account_id", "invalid_request"),
    }
    let token = random_token(48);
    let ttl = ctx.opts.token_ttl_secs;
    if let Err(e) = ctx.store.add_token(&token, now_secs() + ttl as i64) {
        return oauth_err(500, &format!("sandbox state error: {e}"), "server_error");
    }
    Reply::ok(
        200,
        &TokenResponse {
            access_token: token,
            token_type: "bearer".into(),
            expires_in: ttl,
            scope: ctx
                .opts
                .granted_scopes
                .clone()
                .unwrap_or_else(granted_scopes),
        },
    )
}

/// What a Server-to-Server OAuth app set up for vline is granted: the granular scope (Zoom's
/// current kind, the last of each list in the spec) of every operation the client uses.
fn granted_scopes() -> String {
    let mut out: Vec<&str> = Vec::new();
    for (_, _, _, need) in crate::api::zoom::scopes::SCOPES {
        if let Some(s) = need.last() {
            if !out.contains(s) {
                out.push(s);
            }
        }
    }
    out.join(" ")
}

/// Every Zoom API call needs a live bearer token.
pub fn check_bearer(ctx: &Ctx, req: &Req) -> Result<(), Reply> {
    let token = req
        .headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(err(401, 124, "Invalid access token."));
    };
    match ctx.store.token_expiry(token) {
        Ok(Some(exp)) if exp > now_secs() => Ok(()),
        Ok(Some(_)) => Err(err(401, 124, "Access token is expired.")),
        Ok(None) => Err(err(401, 124, "Invalid access token.")),
        Err(e) => Err(err(500, 500, &format!("sandbox state error: {e}"))),
    }
}

/// The pagination key: the list and its filters, so a token only continues the list it came from.
fn list_key(name: &str, req: &Req) -> String {
    let mut q: Vec<String> = req
        .query
        .iter()
        .filter(|(k, _)| k != "next_page_token" && k != "page_size")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    q.sort();
    format!("{name}?{}", q.join("&"))
}

macro_rules! body {
    ($req:expr) => {
        match $req.json() {
            Ok(v) => v,
            Err(m) => return invalid(&m),
        }
    };
}

pub fn handle(ctx: &Ctx, req: &Req, faults: &Faults) -> Reply {
    let s = req.seg();
    let Some((_, route)) = route(req.method.as_str(), &s) else {
        return err(
            404,
            404,
            &format!("No API found for {} /v2{}.", req.method, req.path),
        );
    };
    match route {
        Route::ListNumbers => list_numbers(ctx, req),
        Route::GetNumber(id) => {
            let w = ctx.store.load();
            match w {
                Ok(w) => match w.number_idx(id) {
                    Some(i) => Reply::ok(200, &number_json(&w, &w.numbers[i])),
                    None => err(
                        400,
                        400,
                        &format!("Phone number does not exist, phonenumberId:{id}"),
                    ),
                },
                Err(e) => err(500, 500, &e.to_string()),
            }
        }
        Route::AssignNumber(u) => {
            let v = body!(req);
            ctx.with_world(|w| assign_numbers(w, u, &v))
        }
        Route::UnassignNumber(u, n) => ctx.with_world(|w| unassign_number(w, u, n)),
        Route::ListUsers => read(ctx, |w| {
            let status = req.q("status").unwrap_or("active");
            let users: Vec<User> = w
                .users
                .iter()
                .filter(|u| u.status == status)
                .map(user_json)
                .collect();
            let p = ctx.paginate(req, &list_key("users", req), users, 30, 300)?;
            Ok(Reply::ok(
                200,
                &UserPage {
                    next_page_token: p.next_page_token,
                    page_size: p.page_size,
                    total_records: p.total_records,
                    users: p.items,
                },
            ))
        }),
        Route::CreateUser => {
            let v = body!(req);
            ctx.with_world(|w| create_user(w, &v))
        }
        Route::BatchAddPhoneUsers => {
            let v = body!(req);
            ctx.with_world(|w| batch_add_phone_users(w, &v))
        }
        Route::GetSite(id) => read(ctx, |w| match w.sites.iter().find(|s| s.id == *id) {
            Some(s) => Ok(Reply::ok(200, s)),
            None => Ok(err(404, 404, &format!("Site does not exist: {id}."))),
        }),
        Route::GetUser(u) => read(ctx, |w| match w.user(u) {
            Some(x) => Ok(Reply::ok(200, &user_json(x))),
            None => Ok(no_user(u)),
        }),
        Route::UpdateUserSettings(u) => {
            let v = body!(req);
            ctx.with_world(|w| user_settings(w, u, &v))
        }
        Route::ListPhoneUsers => read(ctx, |w| {
            let site = req.q("site_id");
            let users: Vec<&ZUser> = w
                .users
                .iter()
                .filter(|u| u.phone && site.is_none_or(|s| u.site_id.as_deref() == Some(s)))
                .collect();
            let p = ctx.paginate(req, &list_key("phone_users", req), users, 30, 100)?;
            Ok(Reply::ok(
                200,
                &PhoneUserPage {
                    next_page_token: p.next_page_token,
                    page_size: p.page_size,
                    total_records: p.total_records,
                    users: p
                        .items
                        .iter()
                        .map(|u| phone_user_json(w, u, false))
                        .collect(),
                },
            ))
        }),
        Route::GetPhoneUser(u) => {
            read(ctx, |w| {
                match w.user(u) {
            Some(x) if x.phone => Ok(Reply::ok(200, &phone_user_json(w, x, true))),
            Some(x) => Ok(err(404, 1001, &format!("User does not exist: {u}. ({} is a Zoom user without a Zoom Phone license.)", x.email))),
            None => Ok(no_user(u)),
        }
            })
        }
        Route::UpdatePhoneUser(u) => {
            let v = body!(req);
            ctx.with_world(|w| update_phone_user(w, u, &v))
        }
        Route::ListSites => read(ctx, |w| {
            let p = ctx.paginate(req, &list_key("sites", req), w.sites.to_vec(), 30, 300)?;
            Ok(Reply::ok(
                200,
                &SitePage {
                    next_page_token: p.next_page_token,
                    page_size: p.page_size,
                    total_records: p.total_records,
                    sites: p.items,
                },
            ))
        }),
        Route::ListCallingPlans => read(ctx, |w| Ok(Reply::ok(200, &calling_plans(w)))),
        Route::AssignCallingPlan(u) => {
            let v = body!(req);
            ctx.with_world(|w| assign_plans(w, u, &v))
        }
        Route::UnassignCallingPlan(u, t) => ctx.with_world(|w| unassign_plan(w, u, t)),
        Route::ListRoles => read(ctx, |w| {
            let roles = w
                .roles
                .iter()
                .map(|r| Role {
                    id: r.id.clone(),
                    name: r.name.clone(),
                    total_members: r.members.len() as i64,
                    description: Some(r.description.clone()),
                })
                .collect();
            Ok(Reply::ok(200, &RoleList { roles }))
        }),
        Route::ListRoleMembers(r) => read(ctx, |w| {
            let Some(role) = w.roles.iter().find(|x| x.id == *r) else {
                return Ok(err(404, 300, &format!("Role does not exist: {r}.")));
            };
            // The spec gives this list no pagination fields: it comes whole.
            let members: Vec<Value> = role
                .members
                .iter()
                .filter_map(|m| w.user(m))
                .map(|u| {
                    let mut m =
                        json!({"user_id": u.id, "display_name": u.name(), "email": u.email});
                    if let Some(e) = u.extension {
                        m["extension_number"] = json!(e);
                    }
                    if let Some(s) = u.site_id.as_deref() {
                        m["site"] = serde_json::to_value(site_ref(w, s)).unwrap_or(Value::Null);
                    }
                    m
                })
                .collect();
            Ok(Reply::json(200, json!({ "members": members })))
        }),
        Route::AddRoleMembers(r) => {
            let v = body!(req);
            ctx.with_world(|w| add_role_members(w, r, &v))
        }
        Route::ListDevices => read(ctx, |w| {
            let devices: Vec<Value> = w
                .devices
                .iter()
                .filter(|d| device_matches(w, d, req))
                .map(device_json)
                .collect();
            let p = ctx.paginate(req, &list_key("devices", req), devices, 30, 300)?;
            Ok(Reply::json(
                200,
                json!({"next_page_token": p.next_page_token, "page_size": p.page_size,
                       "total_records": p.total_records, "devices": p.items}),
            ))
        }),
        Route::AddDevice => {
            let v = body!(req);
            ctx.with_world(|w| add_device(w, &v))
        }
        Route::AssignDevice(d) => {
            let v = body!(req);
            ctx.with_world(|w| assign_device(w, d, &v))
        }
        Route::ListPeeringNumbers => read(ctx, |w| {
            let filter = req.q("phone_number").map(digits);
            let items: Vec<PeeringNumber> = w
                .peering
                .iter()
                .filter(|p| {
                    filter
                        .as_ref()
                        .is_none_or(|f| digits(&p.phone_number).contains(f.as_str()))
                })
                .cloned()
                .collect();
            let p = ctx.paginate(req, &list_key("peering", req), items, 30, 200)?;
            Ok(Reply::ok(
                200,
                &PeeringNumberPage {
                    next_page_token: p.next_page_token,
                    total_records: p.total_records,
                    numbers: p.items,
                },
            ))
        }),
        Route::AddPeeringNumbers => {
            let v = body!(req);
            ctx.with_world(|w| add_peering(w, &v, faults))
        }
        Route::DeletePeeringNumbers => ctx.with_world(|w| delete_peering(w, req)),
        Route::ListInternalNumbers(a) => {
            if let Some(r) = check_account(a) {
                return r;
            }
            read(ctx, |w| {
                let p = ctx.paginate(
                    req,
                    &list_key("internal_numbers", req),
                    w.internal_numbers.to_vec(),
                    30,
                    300,
                )?;
                Ok(Reply::ok(
                    200,
                    &InternalNumbers {
                        internal_numbers: p.items,
                        next_page_token: p.next_page_token,
                        total_records: Some(p.total_records),
                    },
                ))
            })
        }
        Route::AddInternalNumbers(a) => {
            if let Some(r) = check_account(a) {
                return r;
            }
            let v = body!(req);
            ctx.with_world(|w| add_internal_numbers(w, &v))
        }
        Route::DeleteInternalNumber(a, id) => {
            if let Some(r) = check_account(a) {
                return r;
            }
            ctx.with_world(|w| {
                let found = w
                    .internal_numbers
                    .iter()
                    .position(|n| n.id.as_deref() == Some(id));
                match found {
                    Some(i) => {
                        w.internal_numbers.remove(i);
                        Reply::empty(204)
                    }
                    None => err(404, 300, &format!("Internal number does not exist: {id}.")),
                }
            })
        }
        Route::CallHistory => read(ctx, |w| {
            let from = req.q("from").unwrap_or("");
            let to = req
                .q("to")
                .map(|t| format!("{t}\u{ffff}"))
                .unwrap_or_else(|| "\u{ffff}".into());
            let logs: Vec<Value> = w
                .call_logs
                .iter()
                .filter(|c| c.start_time.as_str() >= from && c.start_time.as_str() <= to.as_str())
                .map(|c| {
                    // Only the fields a call has: an internal call carries extensions, no DID.
                    let mut v = json!({"id": c.id, "call_id": c.id, "direction": c.direction,
                           "start_time": c.start_time, "duration": c.duration, "call_result": c.result,
                           "call_type": "general",
                           "connect_type": c.connect_type.as_deref().unwrap_or("external")});
                    for (k, f) in [
                        ("caller_did_number", &c.caller_did_number),
                        ("callee_did_number", &c.callee_did_number),
                        ("caller_ext_number", &c.caller_ext_number),
                        ("callee_ext_number", &c.callee_ext_number),
                    ] {
                        if let Some(x) = f {
                            v[k] = json!(x);
                        }
                    }
                    v
                })
                .collect();
            let p = ctx.paginate(req, &list_key("call_history", req), logs, 30, 300)?;
            Ok(Reply::json(
                200,
                json!({"from": from, "to": req.q("to").unwrap_or(""), "next_page_token": p.next_page_token,
                       "page_size": p.page_size, "total_records": p.total_records, "call_logs": p.items}),
            ))
        }),
        Route::CallChargesReport => read(ctx, |w| {
            let charges: Vec<Value> = w
                .call_logs
                .iter()
                .filter(|c| c.direction == "outbound" && c.connect_type.as_deref() != Some("internal"))
                .map(|c| {
                    let minutes = (c.duration as f64 / 60.0).ceil();
                    json!({"call_log_id": c.id, "caller_number": c.caller_did_number,
                           "caller_billing_number": c.caller_did_number, "callee_number": c.callee_did_number,
                           "call_type": "local", "service_type": "call", "end_time": c.start_time,
                           "duration": c.duration, "charge_mode": "per_min", "rate": "0.01", "currency": "USD",
                           "total_charge": format!("{:.2}", minutes * 0.01), "billing_number": c.caller_did_number})
                })
                .collect();
            let p = ctx.paginate(req, &list_key("call_charges", req), charges, 30, 300)?;
            Ok(Reply::json(
                200,
                json!({"from": req.q("from").unwrap_or(""), "to": req.q("to").unwrap_or(""),
                       "next_page_token": p.next_page_token, "page_size": p.page_size,
                       "total_records": p.total_records, "call_charges": p.items}),
            ))
        }),
    }
}

/// A read-only handler on the current state.
fn read(ctx: &Ctx, f: impl FnOnce(&World) -> Result<Reply, Reply>) -> Reply {
    match ctx.store.load() {
        Ok(w) => f(&w).unwrap_or_else(|r| r),
        Err(e) => err(500, 500, &format!("sandbox state error: {e}")),
    }
}

fn check_account(a: &str) -> Option<Reply> {
    if a == "me" || a == ZOOM_ACCOUNT_ID {
        None
    } else {
        Some(err(404, 2001, &format!("Account does not exist: {a}.")))
    }
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}
