//! Zoom: server-to-server OAuth, Phone, Users and SIP-trunk internal numbers, with Zoom's paths,
//! field names, pagination and `{code, message}` errors.

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

fn err(status: u16, code: i64, message: &str) -> Reply {
    Reply::zoom_err(status, code, message)
}
fn invalid(message: &str) -> Reply {
    err(400, 300, message)
}
fn no_user(u: &str) -> Reply {
    err(404, 1001, &format!("User does not exist: {u}."))
}

/// The operation name and whether it writes, for the log and the rate limiter.
pub fn op(req: &Req) -> (String, bool) {
    let s = req.seg();
    let m = req.method.as_str();
    let name = match (m, s.as_slice()) {
        ("GET", ["phone", "numbers"]) => "list_numbers",
        ("GET", ["phone", "numbers", _]) => "get_number",
        ("POST", ["phone", "users", _, "phone_numbers"]) => "assign_number",
        ("DELETE", ["phone", "users", _, "phone_numbers", _]) => "unassign_number",
        ("GET", ["users"]) => "list_users",
        ("GET", ["users", _]) => "get_user",
        ("PATCH", ["users", _, "settings"]) => "update_user_settings",
        ("GET", ["phone", "users"]) => "list_phone_users",
        ("GET", ["phone", "users", _]) => "get_phone_user",
        ("PATCH", ["phone", "users", _]) => "update_phone_user",
        ("GET", ["phone", "sites"]) => "list_sites",
        ("GET", ["phone", "sites", _]) => "get_site",
        ("POST", ["users"]) => "create_user",
        ("POST", ["phone", "users", "batch"]) => "batch_add_phone_users",
        ("GET", ["phone", "calling_plans"]) => "list_calling_plans",
        ("POST", ["phone", "users", _, "calling_plans"]) => "assign_calling_plan",
        ("DELETE", ["phone", "users", _, "calling_plans", _]) => "unassign_calling_plan",
        ("GET", ["phone", "roles"]) => "list_roles",
        ("GET", ["phone", "roles", _, "members"]) => "list_role_members",
        ("POST", ["phone", "roles", _, "members"]) => "add_role_members",
        ("GET", ["phone", "devices"]) => "list_devices",
        ("POST", ["phone", "devices"]) => "add_device",
        ("POST", ["phone", "devices", _, "extensions"]) => "assign_device",
        ("GET", ["phone", "peering", "numbers"]) => "list_peering_numbers",
        ("POST", ["phone", "peering", "numbers"]) => "add_peering_numbers",
        ("DELETE", ["phone", "peering", "numbers"]) => "delete_peering_numbers",
        ("GET", ["accounts", _, "sip_trunk", "internal_numbers"]) => "list_internal_numbers",
        ("POST", ["accounts", _, "sip_trunk", "internal_numbers"]) => "add_internal_numbers",
        ("DELETE", ["accounts", _, "sip_trunk", "internal_numbers", _]) => "delete_internal_number",
        ("GET", ["phone", "call_history"]) => "call_history",
        ("GET", ["phone", "reports", "call_charges"]) => "call_charges_report",
        _ => "unknown",
    };
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
    match (req.method.as_str(), s.as_slice()) {
        ("GET", ["phone", "numbers"]) => list_numbers(ctx, req),
        ("GET", ["phone", "numbers", id]) => {
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
        ("POST", ["phone", "users", u, "phone_numbers"]) => {
            let v = body!(req);
            ctx.with_world(|w| assign_numbers(w, u, &v))
        }
        ("DELETE", ["phone", "users", u, "phone_numbers", n]) => {
            ctx.with_world(|w| unassign_number(w, u, n))
        }
        ("GET", ["users"]) => read(ctx, |w| {
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
        ("POST", ["users"]) => {
            let v = body!(req);
            ctx.with_world(|w| create_user(w, &v))
        }
        ("POST", ["phone", "users", "batch"]) => {
            let v = body!(req);
            ctx.with_world(|w| batch_add_phone_users(w, &v))
        }
        ("GET", ["phone", "sites", id]) => {
            read(ctx, |w| match w.sites.iter().find(|s| s.id == *id) {
                Some(s) => Ok(Reply::ok(200, s)),
                None => Ok(err(404, 404, &format!("Site does not exist: {id}."))),
            })
        }
        ("GET", ["users", u]) => read(ctx, |w| match w.user(u) {
            Some(x) => Ok(Reply::ok(200, &user_json(x))),
            None => Ok(no_user(u)),
        }),
        ("PATCH", ["users", u, "settings"]) => {
            let v = body!(req);
            ctx.with_world(|w| user_settings(w, u, &v))
        }
        ("GET", ["phone", "users"]) => read(ctx, |w| {
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
        ("GET", ["phone", "users", u]) => {
            read(ctx, |w| {
                match w.user(u) {
            Some(x) if x.phone => Ok(Reply::ok(200, &phone_user_json(w, x, true))),
            Some(x) => Ok(err(404, 1001, &format!("User does not exist: {u}. ({} is a Zoom user without a Zoom Phone license.)", x.email))),
            None => Ok(no_user(u)),
        }
            })
        }
        ("PATCH", ["phone", "users", u]) => {
            let v = body!(req);
            ctx.with_world(|w| update_phone_user(w, u, &v))
        }
        ("GET", ["phone", "sites"]) => read(ctx, |w| {
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
        ("GET", ["phone", "calling_plans"]) => read(ctx, |w| Ok(Reply::ok(200, &calling_plans(w)))),
        ("POST", ["phone", "users", u, "calling_plans"]) => {
            let v = body!(req);
            ctx.with_world(|w| assign_plans(w, u, &v))
        }
        ("DELETE", ["phone", "users", u, "calling_plans", t]) => {
            ctx.with_world(|w| unassign_plan(w, u, t))
        }
        ("GET", ["phone", "roles"]) => read(ctx, |w| {
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
        ("GET", ["phone", "roles", r, "members"]) => read(ctx, |w| {
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
        ("POST", ["phone", "roles", r, "members"]) => {
            let v = body!(req);
            ctx.with_world(|w| add_role_members(w, r, &v))
        }
        ("GET", ["phone", "devices"]) => read(ctx, |w| {
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
        ("POST", ["phone", "devices"]) => {
            let v = body!(req);
            ctx.with_world(|w| add_device(w, &v))
        }
        ("POST", ["phone", "devices", d, "extensions"]) => {
            let v = body!(req);
            ctx.with_world(|w| assign_device(w, d, &v))
        }
        ("GET", ["phone", "peering", "numbers"]) => read(ctx, |w| {
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
        ("POST", ["phone", "peering", "numbers"]) => {
            let v = body!(req);
            ctx.with_world(|w| add_peering(w, &v, faults))
        }
        ("DELETE", ["phone", "peering", "numbers"]) => ctx.with_world(|w| delete_peering(w, req)),
        ("GET", ["accounts", a, "sip_trunk", "internal_numbers"]) => {
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
        ("POST", ["accounts", a, "sip_trunk", "internal_numbers"]) => {
            if let Some(r) = check_account(a) {
                return r;
            }
            let v = body!(req);
            ctx.with_world(|w| add_internal_numbers(w, &v))
        }
        ("DELETE", ["accounts", a, "sip_trunk", "internal_numbers", id]) => {
            if let Some(r) = check_account(a) {
                return r;
            }
            ctx.with_world(|w| {
                let found = w
                    .internal_numbers
                    .iter()
                    .position(|n| n.id.as_deref() == Some(*id));
                match found {
                    Some(i) => {
                        w.internal_numbers.remove(i);
                        Reply::empty(204)
                    }
                    None => err(404, 300, &format!("Internal number does not exist: {id}.")),
                }
            })
        }
        ("GET", ["phone", "call_history"]) => read(ctx, |w| {
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
        ("GET", ["phone", "reports", "call_charges"]) => read(ctx, |w| {
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
        _ => err(
            404,
            404,
            &format!("No API found for {} /v2{}.", req.method, req.path),
        ),
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

fn user_json(u: &ZUser) -> User {
    User {
        id: u.id.clone(),
        email: u.email.clone(),
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        kind: u.kind,
        status: u.status.clone(),
        dept: u.department.clone(),
    }
}

fn site_ref(w: &World, id: &str) -> IdName {
    IdName {
        id: id.to_string(),
        name: w.sites.iter().find(|s| s.id == id).map(|s| s.name.clone()),
    }
}

pub fn number_json(w: &World, n: &ZNumber) -> PhoneNumber {
    let assignee = n
        .assignee
        .as_deref()
        .and_then(|id| w.user(id))
        .map(|u| Assignee {
            id: u.id.clone(),
            name: Some(u.name()),
            extension_number: u.extension,
            kind: "user".into(),
        });
    PhoneNumber {
        id: n.id.clone(),
        number: n.number.clone(),
        display_name: None,
        assignee,
        carrier: n.carrier.clone(),
        site: n.site_id.as_deref().map(|s| site_ref(w, s)),
        number_type: Some(n.number_type.clone()),
        source: Some(n.source.clone()),
        status: Some("available".into()),
        location: Some(n.location.clone()).filter(|l| !l.is_empty()),
        capability: vec!["incoming".into(), "outgoing".into()],
    }
}

/// A phone user as Zoom shows it: the list carries `name` and `site`, the detail `site_id`.
fn phone_user_json(w: &World, u: &ZUser, detail: bool) -> PhoneUser {
    PhoneUser {
        id: u.id.clone(),
        email: u.email.clone(),
        name: (!detail).then(|| u.name()),
        extension_number: u.extension,
        extension_id: Some(u.extension_id()),
        phone_user_id: Some(u.id.clone()),
        site: u
            .site_id
            .as_deref()
            .filter(|_| !detail)
            .map(|s| site_ref(w, s)),
        site_id: u.site_id.clone().filter(|_| detail),
        status: "activate".into(),
        calling_plans: u
            .calling_plans
            .iter()
            .map(|t| UserCallingPlan {
                kind: *t,
                name: w
                    .plans
                    .iter()
                    .find(|p| p.kind == *t)
                    .map(|p| p.name.clone())
                    .filter(|_| !detail),
                billing_account_id: None,
            })
            .collect(),
        phone_numbers: w
            .numbers
            .iter()
            .filter(|n| n.assignee.as_deref() == Some(u.id.as_str()))
            .map(|n| NumberRef {
                id: Some(n.id.clone()),
                number: Some(n.number.clone()),
            })
            .collect(),
        department: u.department.clone(),
        cost_center: u.cost_center.clone(),
    }
}

fn list_numbers(ctx: &Ctx, req: &Req) -> Reply {
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

fn phone_user_idx(w: &World, u: &str) -> Result<usize, Reply> {
    let i = w.user_idx(u).ok_or_else(|| no_user(u))?;
    if !w.users[i].phone {
        return Err(invalid(&format!(
            "Zoom Phone is not enabled for user {}: license it first (PATCH /users/{{userId}}/settings with feature.zoom_phone=true).",
            w.users[i].email
        )));
    }
    Ok(i)
}

fn assign_numbers(w: &mut World, u: &str, v: &Value) -> Reply {
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

fn unassign_number(w: &mut World, u: &str, n: &str) -> Reply {
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

fn user_settings(w: &mut World, u: &str, v: &Value) -> Reply {
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
fn create_user(w: &mut World, v: &Value) -> Reply {
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
fn batch_add_phone_users(w: &mut World, v: &Value) -> Reply {
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

fn update_phone_user(w: &mut World, u: &str, v: &Value) -> Reply {
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

fn calling_plans(w: &World) -> CallingPlanList {
    CallingPlanList {
        calling_plans: w
            .plans
            .iter()
            .map(|p| {
                let assigned = w
                    .users
                    .iter()
                    .filter(|u| u.calling_plans.contains(&p.kind))
                    .count() as i64;
                CallingPlan {
                    kind: p.kind,
                    name: p.name.clone(),
                    subscribed: p.subscribed,
                    assigned,
                    available: (p.subscribed - assigned).max(0),
                }
            })
            .collect(),
    }
}

fn assign_plans(w: &mut World, u: &str, v: &Value) -> Reply {
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

fn unassign_plan(w: &mut World, u: &str, t: &str) -> Reply {
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

fn add_role_members(w: &mut World, r: &str, v: &Value) -> Reply {
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

/// The filters of `GET /phone/devices`: `type` (required; the spec checks it before this),
/// `assignee_type`, `site_id` (the assignee's site), `device_type` (the brand), `keyword` (name,
/// MAC or assignee).
fn device_matches(w: &World, d: &Device, req: &Req) -> bool {
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

/// A device as `GET /phone/devices` shows it (`device_type`, `extension_type`).
fn device_json(d: &Device) -> Value {
    let mut v = json!({"id": d.id, "display_name": d.display_name, "mac_address": d.mac_address,
                       "device_type": d.kind, "status": d.status.clone().unwrap_or_else(|| "offline".into())});
    if let Some(a) = &d.assignee {
        let mut who = json!({"id": a.id, "extension_type": "user"});
        if let Some(n) = &a.name {
            who["name"] = json!(n);
        }
        if let Some(e) = a.extension_number {
            who["extension_number"] = json!(e);
        }
        v["assignee"] = who;
    }
    v
}

fn normalize_mac(m: &str) -> Option<String> {
    let s: String = m
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect::<String>()
        .to_ascii_lowercase();
    (s.len() == 12 && s.chars().all(|c| c.is_ascii_hexdigit())).then_some(s)
}

fn add_device(w: &mut World, v: &Value) -> Reply {
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
fn extension_assignee(w: &World, key: &str) -> Result<Assignee, Reply> {
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

fn assign_device(w: &mut World, d: &str, v: &Value) -> Reply {
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

/// Peer numbers through the API, as the PEX app does.
fn add_peering(w: &mut World, v: &Value, faults: &Faults) -> Reply {
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

fn delete_peering(w: &mut World, req: &Req) -> Reply {
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

fn add_internal_numbers(w: &mut World, v: &Value) -> Reply {
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
