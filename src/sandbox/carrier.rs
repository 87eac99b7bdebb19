//! Carrier PTN API (what T-Mobile calls): provision numbers into the available pool under the
//! root org, and delete a PTN — which removes it from Movius and unpeers it from Zoom.
//!
//! Carrier delete is forced: the guide has the Zoom admin unassign first, but the carrier does
//! not ask Movius or Zoom, so a number still assigned in Zoom is unassigned and unpeered anyway.

use serde_json::{json, Value};

use crate::api::movius::paths;
use crate::api::movius::wire::{codes, PoolNumber, PtnResult};
use crate::api::E164;

use super::movius::{body_object, fail, match_template};
use super::server::{Ctx, Reply, Req};

pub fn op(req: &Req) -> (String, bool) {
    if req.method == paths::CARRIER_PTNS.method
        && match_template(paths::CARRIER_PTNS.path, &req.path).is_some()
    {
        ("carrier.provision_ptn".into(), true)
    } else if req.method == paths::CARRIER_PTN_DELETE.method
        && match_template(paths::CARRIER_PTN_DELETE.path, &req.path).is_some()
    {
        ("carrier.delete_ptn".into(), true)
    } else {
        ("carrier.unknown".into(), req.method != "GET")
    }
}

pub fn handle(ctx: &Ctx, req: &Req) -> Reply {
    if req.method == paths::CARRIER_PTNS.method
        && match_template(paths::CARRIER_PTNS.path, &req.path).is_some()
    {
        let m = match body_object(req) {
            Ok(m) => m,
            Err(r) => return r,
        };
        return ctx.with_world(|w| provision(w, m.get("ptns")));
    }
    if req.method == paths::CARRIER_PTN_DELETE.method {
        if let Some(vars) = match_template(paths::CARRIER_PTN_DELETE.path, &req.path) {
            let raw = vars
                .into_iter()
                .find(|(k, _)| k == "number")
                .map(|(_, v)| v)
                .unwrap_or_default();
            let raw = super::server::decode(&raw);
            return ctx.with_world(|w| delete(w, &raw));
        }
    }
    fail(
        codes::NOT_FOUND,
        &format!("No carrier API at {} {}.", req.method, req.path),
    )
}

fn provision(w: &mut super::world::World, ptns: Option<&Value>) -> Reply {
    let Some(list) = ptns.and_then(Value::as_array).filter(|l| !l.is_empty()) else {
        return fail(
            codes::INVALID_PARAMETER,
            "Missing required parameter: ptns (an array of {number, tags}).",
        );
    };
    let Some(root) = w
        .orgs
        .iter()
        .find(|o| o.parent_id.is_none())
        .map(|o| o.organization_id.clone())
    else {
        return fail(codes::NOT_FOUND, "No root organization to provision into.");
    };
    let mut parsed = Vec::new();
    for (i, p) in list.iter().enumerate() {
        let raw = match p.get("number") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                return fail(
                    codes::INVALID_PARAMETER,
                    &format!("ptns[{i}].number is required."),
                )
            }
        };
        let e = match E164::parse(&raw) {
            Ok(e) => e,
            Err(e) => return fail(codes::INVALID_PARAMETER, &format!("ptns[{i}].number: {e}.")),
        };
        if let Some(a) = w.accounts.iter().find(|a| a.phone_number == e.digits()) {
            return fail(
                codes::NUMBER_UNAVAILABLE,
                &format!(
                    "PTN {} is already in use by account {}.",
                    e.digits(),
                    a.account_sid
                ),
            );
        }
        let tags: Vec<String> = p
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        parsed.push((e, tags));
    }
    let mut provisioned = Vec::new();
    for (e, tags) in parsed {
        // Provisioning again is a no-op apart from new tags: the carrier retries.
        match w.pool.find_mut(|p| p.phone_number == e.digits()) {
            Some(p) => {
                for t in tags {
                    if !p.tags.contains(&t) {
                        p.tags.push(t);
                    }
                }
            }
            None => w.pool.push(PoolNumber {
                phone_number: e.digits().to_string(),
                organization_id: root.clone(),
                tags,
            }),
        }
        provisioned.push(e.digits().to_string());
    }
    Reply::ok(
        200,
        &PtnResult {
            status: "success".into(),
            provisioned,
        },
    )
}

fn delete(w: &mut super::world::World, raw: &str) -> Reply {
    let e = match E164::parse(raw) {
        Ok(e) => e,
        Err(e) => return fail(codes::INVALID_PARAMETER, &format!("number: {e}.")),
    };
    let in_pool = w.pool.iter().any(|p| p.phone_number == e.digits());
    let account = w
        .account_by_number(e.digits())
        .map(|i| w.accounts.remove(i));
    if !in_pool && account.is_none() {
        return fail(
            codes::NOT_FOUND,
            &format!("PTN {} is not known to Movius.", e.digits()),
        );
    }
    w.pool.retain(|p| p.phone_number != e.digits());
    let was_peered = w.numbers.iter().any(|n| n.number == e.as_str());
    let _ = w.unpeer(e.as_str(), true);
    Reply::json(
        200,
        json!({"status": "success", "deleted": e.digits(), "account_sid": account.map(|a| a.account_sid), "unpeered": was_peered}),
    )
}
