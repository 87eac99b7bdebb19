//! Movius MCP web API: accounts (add, modify, delete, get), orgs, sub-orgs, allowed email domains,
//! the Zoom feature setting, the available pool, user list v2 and CDR v2. Routes come from
//! `crate::api::movius::paths`, the one table of Movius paths.

use serde_json::Value;

use crate::api::movius::paths::{self, Endpoint};
use crate::api::movius::wire::{
    codes, Account, AccountResponse, CdrListV2, DeleteResponse, Features, Org, OrgList,
    OrgResponse, PoolList, PoolNumber, UserListV2,
};
use crate::api::selector::is_email;
use crate::api::{Selector, E164};

use super::faults::Faults;
use super::server::{Ctx, Reply, Req, Svc};
use super::store::now_rfc3339;
use super::world::{account_sid, World};
use super::{MOVIUS_PASSWORD, MOVIUS_USER};

/// The HTTP status each Movius error code comes with.
fn status_of(code: i64) -> u16 {
    match code {
        codes::INVALID_PARAMETER => 400,
        codes::NOT_FOUND => 404,
        codes::ZOOM_NOT_ALLOWED | codes::ZOOM_NOT_ENABLED | codes::FORBIDDEN => 403,
        codes::PEERING_FAILED => 422,
        codes::UNAUTHORIZED => 401,
        _ => 409,
    }
}

pub fn fail(code: i64, message: &str) -> Reply {
    Reply::movius_err(status_of(code), code, message)
}

fn bad(message: &str) -> Reply {
    fail(codes::INVALID_PARAMETER, message)
}

/// HTTP Basic with the portal's API user (Movius and the carrier sandbox share it).
pub fn check_basic(_svc: Svc, req: &Req) -> Result<(), Reply> {
    match super::zoom::basic_credentials(req) {
        Some((u, p)) if u == MOVIUS_USER && p == MOVIUS_PASSWORD => Ok(()),
        Some(_) => Err(fail(
            codes::UNAUTHORIZED,
            "Authentication failed: wrong API user name or password.",
        )),
        None => Err(fail(
            codes::UNAUTHORIZED,
            "Authentication required: send the API user's name and password (HTTP Basic).",
        )),
    }
}

/// Match `path` against a template with `{var}` segments.
pub fn match_template(tpl: &str, path: &str) -> Option<Vec<(String, String)>> {
    let t: Vec<&str> = tpl.split('/').filter(|s| !s.is_empty()).collect();
    let p: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if t.len() != p.len() {
        return None;
    }
    let mut vars = Vec::new();
    for (a, b) in t.iter().zip(p.iter()) {
        if a.starts_with('{') && a.ends_with('}') {
            vars.push((
                a.trim_matches(|c| c == '{' || c == '}').to_string(),
                b.to_string(),
            ));
        } else if a != b {
            return None;
        }
    }
    Some(vars)
}

fn route(
    req: &Req,
    table: &[(&'static str, Endpoint)],
) -> Option<(&'static str, Vec<(String, String)>)> {
    table.iter().find_map(|(name, ep)| {
        if ep.method != req.method {
            return None;
        }
        match_template(ep.path, &req.path).map(|v| (*name, v))
    })
}

fn movius_table() -> Vec<(&'static str, Endpoint)> {
    paths::ALL
        .iter()
        .filter(|(n, _)| !n.starts_with("carrier_"))
        .copied()
        .collect()
}

fn op_name(name: &str) -> &'static str {
    match name {
        "account_add" => "add",
        "account_modify" => "modify",
        "account_delete" => "delete",
        "account_get" => "get",
        "orgs" => "orgs",
        "org" => "org",
        "sub_org_create" => "create_sub_org",
        "allowed_domain_add" => "add_allowed_email_domain",
        "zoom_feature" => "set_zoom_enabled",
        "available_numbers" => "available_numbers",
        "user_list_v2" => "user_list_v2",
        "cdr_v2" => "cdr_v2",
        _ => "unknown",
    }
}

pub fn op(req: &Req) -> (String, bool) {
    match route(req, &movius_table()) {
        Some((name, _)) => {
            let op = op_name(name);
            (
                format!("movius.{op}"),
                !matches!(
                    op,
                    "get" | "orgs" | "org" | "available_numbers" | "user_list_v2" | "cdr_v2"
                ),
            )
        }
        None => ("movius.unknown".into(), req.method != "GET"),
    }
}

/// The body as a JSON object; a form body (`a=b&c=d`) is accepted too, as portals post forms.
pub fn body_object(req: &Req) -> Result<serde_json::Map<String, Value>, Reply> {
    match req.json() {
        Ok(Value::Object(m)) => Ok(m),
        Ok(Value::Null) => Ok(serde_json::Map::new()),
        Ok(_) => Err(bad("The request body must be a JSON object.")),
        Err(e) => {
            let text = String::from_utf8_lossy(&req.body);
            if text.contains('=') && !text.trim_start().starts_with('{') {
                Ok(text
                    .split('&')
                    .filter_map(|p| p.split_once('='))
                    .map(|(k, v)| (k.to_string(), Value::String(v.replace('+', " "))))
                    .collect())
            } else {
                Err(bad(&e))
            }
        }
    }
}

/// A string parameter (numbers are accepted and written as digits); empty counts as absent.
pub fn text(m: &serde_json::Map<String, Value>, k: &str) -> Option<String> {
    match m.get(k)? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn flag(m: &serde_json::Map<String, Value>, k: &str) -> Result<Option<bool>, Reply> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(bad(&format!("{k} must be true or false, got {other}."))),
    }
}

fn required(m: &serde_json::Map<String, Value>, k: &str) -> Result<String, Reply> {
    text(m, k).ok_or_else(|| bad(&format!("Missing required parameter: {k}.")))
}

fn selector(m: &serde_json::Map<String, Value>) -> Result<Selector, Reply> {
    Selector::from_parts(
        text(m, "phone_number").as_deref(),
        text(m, "account_sid").as_deref(),
        text(m, "email").as_deref(),
    )
    .map_err(|e| bad(&format!("Invalid account selector: {e}.")))
}

fn find_account(w: &World, sel: &Selector) -> Result<usize, Reply> {
    let found = match sel {
        Selector::PhoneNumber(n) => w.accounts.iter().position(|a| a.phone_number == n.digits()),
        Selector::AccountSid(s) => w.accounts.iter().position(|a| a.account_sid == *s),
        Selector::Email(e) => w
            .accounts
            .iter()
            .position(|a| a.email.eq_ignore_ascii_case(e)),
    };
    let (field, value) = sel.field();
    found.ok_or_else(|| {
        fail(
            codes::NOT_FOUND,
            &format!("No account with {field} {value}."),
        )
    })
}

fn zoom_off_features() -> Features {
    Features::default()
}

/// The org's Zoom gates, in the order the guide states them.
fn check_zoom_org(org: &Org) -> Result<(), Reply> {
    if !org.allow_zoom {
        return Err(fail(
            codes::ZOOM_NOT_ALLOWED,
            &format!("Organization {} ({}) is not allowed for Zoom: Allow Zoom is managed by Movius SRE/CS; ask Movius to allow it.", org.organization_id, org.name),
        ));
    }
    if !org.enable_zoom {
        return Err(fail(
            codes::ZOOM_NOT_ENABLED,
            &format!("Organization {} ({}) does not have Enable Zoom on (Setup → Feature Settings → Zoom Phone).", org.organization_id, org.name),
        ));
    }
    Ok(())
}

fn peer_or_fail(w: &mut World, e: &E164, faults: &Faults, what: &str) -> Result<(), Reply> {
    if faults.peering_fails(e.as_str()) {
        return Err(fail(
            codes::PEERING_FAILED,
            &format!("Number {} could not be peered to Zoom; {what}.", e.digits()),
        ));
    }
    if let Some(why) = w.peering_refused(e.as_str()) {
        return Err(fail(
            codes::PEERING_FAILED,
            &format!(
                "Number {} could not be peered to Zoom ({why}); {what}.",
                e.digits()
            ),
        ));
    }
    w.peer(e.as_str());
    Ok(())
}

fn domain_allowed(org: &Org, email: &str) -> bool {
    if org.allowed_email_domains.is_empty() {
        return true;
    }
    let domain = email
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    org.allowed_email_domains.iter().any(|d| {
        let d = d.trim_start_matches('@').to_ascii_lowercase();
        domain == d || domain.ends_with(&format!(".{d}"))
    })
}

macro_rules! tryr {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

pub fn handle(ctx: &Ctx, req: &Req, faults: &Faults) -> Reply {
    let Some((name, vars)) = route(req, &movius_table()) else {
        return fail(
            codes::NOT_FOUND,
            &format!("No Movius API at {} {}.", req.method, req.path),
        );
    };
    let org_var = vars
        .iter()
        .find(|(k, _)| k == "org")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    match name {
        "account_add" => {
            let m = tryr!(body_object(req));
            ctx.with_world(|w| add(w, &m, faults))
        }
        "account_modify" => {
            let m = tryr!(body_object(req));
            ctx.with_world(|w| modify(w, &m, faults))
        }
        "account_delete" => {
            let m = tryr!(body_object(req));
            ctx.with_world(|w| delete(w, &m))
        }
        "account_get" => {
            let m = tryr!(body_object(req));
            ctx.with_world(|w| {
                let sel = tryr!(selector(&m));
                let i = tryr!(find_account(w, &sel));
                Reply::ok(
                    200,
                    &AccountResponse {
                        status: "success".into(),
                        account: w.accounts[i].clone(),
                    },
                )
            })
        }
        "orgs" => ctx.with_world(|w| {
            Reply::ok(
                200,
                &OrgList {
                    status: "success".into(),
                    organizations: w.orgs.to_vec(),
                },
            )
        }),
        "org" => ctx.with_world(|w| match w.org(&org_var) {
            Some(o) => Reply::ok(
                200,
                &OrgResponse {
                    status: "success".into(),
                    organization: o.clone(),
                },
            ),
            None => fail(codes::NOT_FOUND, &format!("No organization {org_var}.")),
        }),
        "sub_org_create" => {
            let m = tryr!(body_object(req));
            ctx.with_world(|w| create_sub_org(w, &org_var, &m))
        }
        "allowed_domain_add" => {
            let m = tryr!(body_object(req));
            ctx.with_world(|w| add_domain(w, &org_var, &m))
        }
        "zoom_feature" => {
            let m = tryr!(body_object(req));
            ctx.with_world(|w| zoom_feature(w, &org_var, &m))
        }
        "available_numbers" => ctx.with_world(|w| {
            if w.org(&org_var).is_none() {
                return fail(codes::NOT_FOUND, &format!("No organization {org_var}."));
            }
            let root = w
                .root_of(&org_var)
                .map(|o| o.organization_id.clone())
                .unwrap_or_default();
            let numbers: Vec<PoolNumber> = w
                .pool
                .iter()
                .filter(|p| p.organization_id == org_var || p.organization_id == root)
                .cloned()
                .collect();
            Reply::ok(
                200,
                &PoolList {
                    status: "success".into(),
                    numbers,
                },
            )
        }),
        "user_list_v2" => ctx.with_world(|w| user_list(w, req)),
        "cdr_v2" => ctx.with_world(|w| cdr_list(w, req)),
        _ => fail(
            codes::NOT_FOUND,
            &format!("No Movius API at {} {}.", req.method, req.path),
        ),
    }
}

fn add(w: &mut World, m: &serde_json::Map<String, Value>, faults: &Faults) -> Reply {
    let org_id = tryr!(required(m, "organization_id"));
    let raw_number = tryr!(required(m, "phone_number"));
    let first = tryr!(required(m, "first_name"));
    let last = tryr!(required(m, "last_name"));
    let email = tryr!(required(m, "email"));
    let enable_zoom = tryr!(flag(m, "enable_zoom")).unwrap_or(false);
    let teams = tryr!(flag(m, "teams_calling")).unwrap_or(false);
    let number = match E164::parse(&raw_number) {
        Ok(n) => n,
        Err(e) => return bad(&format!("phone_number: {e}.")),
    };
    if !is_email(&email) {
        return bad(&format!("email '{email}' is not an email address."));
    }
    let Some(org) = w.org(&org_id).cloned() else {
        return fail(codes::NOT_FOUND, &format!("No organization {org_id}."));
    };
    if !domain_allowed(&org, &email) {
        let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        return bad(&format!(
            "The email domain '@{domain}' is not an allowed email domain of {} (allowed: {}); add it under Allowed Email Domains first.",
            org.organization_id,
            org.allowed_email_domains.join(", ")
        ));
    }
    if let Some(i) = w.account_by_number(number.digits()) {
        return fail(
            codes::DUPLICATE,
            &format!(
                "Number {} already belongs to account {}.",
                number.digits(),
                w.accounts[i].account_sid
            ),
        );
    }
    if let Some(a) = w
        .accounts
        .iter()
        .find(|a| a.email.eq_ignore_ascii_case(&email))
    {
        return fail(
            codes::DUPLICATE,
            &format!(
                "Email {email} is already used by account {}.",
                a.account_sid
            ),
        );
    }
    let root = w
        .root_of(&org_id)
        .map(|o| o.organization_id.clone())
        .unwrap_or_default();
    let Some(pi) = w.pool.iter().position(|p| {
        p.phone_number == number.digits()
            && (p.organization_id == org_id || p.organization_id == root)
    }) else {
        return fail(
            codes::NUMBER_UNAVAILABLE,
            &format!(
                "Number {} is not in the available pool of {org_id} or its root org {root}.",
                number.digits()
            ),
        );
    };
    let mut features = Features {
        call_recording: false,
        message_logging: true,
        voicemail: true,
        opt_in: false,
        out_of_office: false,
    };
    if enable_zoom {
        tryr!(check_zoom_org(&org));
        tryr!(peer_or_fail(
            w,
            &number,
            faults,
            "the account was not created"
        ));
        features = zoom_off_features();
    }
    w.pool.remove(pi);
    let account = Account {
        account_sid: account_sid(number.digits()),
        organization_id: org_id,
        phone_number: number.digits().to_string(),
        first_name: first,
        last_name: last,
        email,
        enable_zoom,
        teams_calling: teams,
        app_version: "4.16.0".into(),
        features,
        channel: if enable_zoom {
            "zoom".into()
        } else {
            "multiline".into()
        },
        created_at: now_rfc3339(),
    };
    w.accounts.push(account.clone());
    Reply::ok(
        200,
        &AccountResponse {
            status: "success".into(),
            account,
        },
    )
}

fn modify(w: &mut World, m: &serde_json::Map<String, Value>, faults: &Faults) -> Reply {
    let sel = tryr!(selector(m));
    let enable_zoom = tryr!(flag(m, "enable_zoom"));
    let teams = tryr!(flag(m, "teams_calling"));
    let i = tryr!(find_account(w, &sel));
    let acct = w.accounts[i].clone();
    match enable_zoom {
        Some(false) if acct.enable_zoom => {
            return fail(
                codes::ZOOM_FLAG_PERMANENT,
                &format!(
                    "The Zoom flag of account {} cannot be turned off once enabled; to take the number out of Zoom, offboard it (unassign it in Zoom, then delete the account).",
                    acct.account_sid
                ),
            )
        }
        Some(true) if !acct.enable_zoom => {
            let Some(org) = w.org(&acct.organization_id).cloned() else {
                return fail(codes::NOT_FOUND, &format!("No organization {}.", acct.organization_id));
            };
            tryr!(check_zoom_org(&org));
            let number = match E164::parse(&acct.phone_number) {
                Ok(n) => n,
                Err(e) => return bad(&format!("account number: {e}")),
            };
            tryr!(peer_or_fail(w, &number, faults, "Zoom was not enabled"));
            let a = &mut w.accounts[i];
            a.enable_zoom = true;
            a.channel = "zoom".into();
            a.features = zoom_off_features();
        }
        _ => {}
    }
    if let Some(t) = teams {
        w.accounts[i].teams_calling = t;
    }
    for k in ["first_name", "last_name"] {
        if let Some(v) = text(m, k) {
            if k == "first_name" {
                w.accounts[i].first_name = v;
            } else {
                w.accounts[i].last_name = v;
            }
        }
    }
    Reply::ok(
        200,
        &AccountResponse {
            status: "success".into(),
            account: w.accounts[i].clone(),
        },
    )
}

fn delete(w: &mut World, m: &serde_json::Map<String, Value>) -> Reply {
    let sel = tryr!(selector(m));
    let i = tryr!(find_account(w, &sel));
    let acct = w.accounts[i].clone();
    if let Some(org) = text(m, "organization_id") {
        if w.org(&org).is_none() {
            return fail(codes::NOT_FOUND, &format!("No organization {org}."));
        }
        if !w.org_tree(&org).contains(&acct.organization_id) {
            return fail(
                codes::NOT_FOUND,
                &format!("Account {} is not in organization {org}.", acct.account_sid),
            );
        }
    }
    let e164 = format!("+{}", acct.phone_number);
    if let Err(holder) = w.unpeer(&e164, false) {
        return fail(
            codes::UNPEERING_FAILED,
            &format!(
                "Unpeering {} from Zoom failed: the number is still assigned to Zoom user {holder}; unassign it in Zoom first. The account was not deleted.",
                acct.phone_number
            ),
        );
    }
    w.accounts.remove(i);
    // The number stays reserved to the org it served.
    w.pool.push(PoolNumber {
        phone_number: acct.phone_number.clone(),
        organization_id: acct.organization_id.clone(),
        tags: vec![],
    });
    Reply::ok(
        200,
        &DeleteResponse {
            status: "success".into(),
            account_sid: acct.account_sid,
            phone_number: acct.phone_number,
        },
    )
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

fn create_sub_org(w: &mut World, parent: &str, m: &serde_json::Map<String, Value>) -> Reply {
    let name = tryr!(required(m, "name"));
    if w.org(parent).is_none() {
        return fail(codes::NOT_FOUND, &format!("No organization {parent}."));
    }
    if w.orgs
        .iter()
        .any(|o| o.parent_id.as_deref() == Some(parent) && o.name.eq_ignore_ascii_case(&name))
    {
        return fail(
            codes::DUPLICATE,
            &format!("{parent} already has a sub-organization named '{name}'."),
        );
    }
    let base = format!("org-{}", slug(&name));
    let mut id = base.clone();
    let mut n = 1;
    while w.org(&id).is_some() {
        n += 1;
        id = format!("{base}-{n}");
    }
    let org = Org {
        organization_id: id,
        name,
        parent_id: Some(parent.to_string()),
        allow_zoom: false,
        enable_zoom: false,
        allowed_email_domains: vec![],
        zoom_org_level: false,
    };
    w.orgs.push(org.clone());
    Reply::ok(
        200,
        &OrgResponse {
            status: "success".into(),
            organization: org,
        },
    )
}

fn add_domain(w: &mut World, org: &str, m: &serde_json::Map<String, Value>) -> Reply {
    let raw = tryr!(required(m, "domain"));
    let d = raw.trim_start_matches('@').to_ascii_lowercase();
    if d.is_empty() || !d.contains('.') || d.contains(char::is_whitespace) || d.contains('@') {
        return bad(&format!(
            "'{raw}' is not an email domain (e.g. @movius.ai)."
        ));
    }
    let Some(o) = w.org_mut(org) else {
        return fail(codes::NOT_FOUND, &format!("No organization {org}."));
    };
    let d = format!("@{d}");
    if !o
        .allowed_email_domains
        .iter()
        .any(|x| x.eq_ignore_ascii_case(&d))
    {
        o.allowed_email_domains.push(d);
    }
    Reply::ok(
        200,
        &OrgResponse {
            status: "success".into(),
            organization: o.clone(),
        },
    )
}

fn zoom_feature(w: &mut World, org: &str, m: &serde_json::Map<String, Value>) -> Reply {
    if m.contains_key("allow_zoom") {
        return fail(
            codes::FORBIDDEN,
            &format!("Allow Zoom is managed by Movius SRE/CS and cannot be changed with customer credentials; ask Movius to allow Zoom for {org}."),
        );
    }
    let Some(enable) = tryr!(flag(m, "enable_zoom")) else {
        return bad("Missing required parameter: enable_zoom.");
    };
    let Some(o) = w.org_mut(org) else {
        return fail(codes::NOT_FOUND, &format!("No organization {org}."));
    };
    if enable && !o.allow_zoom {
        let o = o.clone();
        return tryr!(check_zoom_org(&o).map(|_| Reply::empty(500)));
    }
    o.enable_zoom = enable;
    Reply::ok(
        200,
        &OrgResponse {
            status: "success".into(),
            organization: o.clone(),
        },
    )
}

struct ListQuery {
    orgs: Vec<String>,
    exclude_zoom: bool,
    page: u32,
    page_size: u32,
}

fn list_query(w: &World, req: &Req) -> Result<ListQuery, Reply> {
    let org = req
        .q("organization_id")
        .ok_or_else(|| bad("Missing required parameter: organization_id."))?;
    if w.org(org).is_none() {
        return Err(fail(codes::NOT_FOUND, &format!("No organization {org}.")));
    }
    let sub = match req.q("sub_org") {
        None => false,
        Some(s) if s.eq_ignore_ascii_case("true") || s == "1" => true,
        Some(s) if s.eq_ignore_ascii_case("false") || s == "0" => false,
        Some(s) => return Err(bad(&format!("sub_org must be true or false, got '{s}'."))),
    };
    let exclude_zoom = match req.q("exclude_channel") {
        None => false,
        Some(c) if c.eq_ignore_ascii_case("zoom") => true,
        Some(c) => {
            return Err(bad(&format!(
                "exclude_channel '{c}' is not supported; use zoom."
            )))
        }
    };
    let num = |k: &str, d: u32| -> Result<u32, Reply> {
        match req.q(k) {
            None => Ok(d),
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| bad(&format!("{k} must be a positive integer, got '{s}'."))),
        }
    };
    let page = num("page", 1)?;
    let page_size = num("page_size", 100)?.min(1000);
    let orgs = if sub {
        w.org_tree(org)
    } else {
        vec![org.to_string()]
    };
    Ok(ListQuery {
        orgs,
        exclude_zoom,
        page,
        page_size,
    })
}

fn page_of<T: Clone>(items: &[T], page: u32, size: u32) -> Vec<T> {
    items
        .iter()
        .skip(((page - 1) as usize) * size as usize)
        .take(size as usize)
        .cloned()
        .collect()
}

fn user_list(w: &mut World, req: &Req) -> Reply {
    let q = tryr!(list_query(w, req));
    let all: Vec<Account> = w
        .accounts
        .iter()
        .filter(|a| q.orgs.contains(&a.organization_id) && !(q.exclude_zoom && a.enable_zoom))
        .cloned()
        .collect();
    Reply::ok(
        200,
        &UserListV2 {
            status: "success".into(),
            total: all.len() as u64,
            page: q.page,
            page_size: q.page_size,
            users: page_of(&all, q.page, q.page_size),
        },
    )
}

fn cdr_list(w: &mut World, req: &Req) -> Reply {
    let q = tryr!(list_query(w, req));
    let from = req.q("from").unwrap_or("").to_string();
    let to = req
        .q("to")
        .map(|t| format!("{t}\u{ffff}"))
        .unwrap_or_else(|| "\u{ffff}".into());
    let zoom_numbers: Vec<&str> = w
        .accounts
        .iter()
        .filter(|a| a.enable_zoom)
        .map(|a| a.phone_number.as_str())
        .collect();
    let all: Vec<_> = w
        .cdrs
        .iter()
        .filter(|c| q.orgs.contains(&c.organization_id))
        .filter(|c| {
            !(q.exclude_zoom
                && (c.channel == "zoom" || zoom_numbers.contains(&c.phone_number.as_str())))
        })
        .filter(|c| c.start_time >= from && c.start_time <= to)
        .cloned()
        .collect();
    Reply::ok(
        200,
        &CdrListV2 {
            status: "success".into(),
            total: all.len() as u64,
            page: q.page,
            page_size: q.page_size,
            cdrs: page_of(&all, q.page, q.page_size),
        },
    )
}
