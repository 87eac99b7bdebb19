//! Zoom's JSON shapes of the sandbox's state: users, numbers, phone users, plans, devices.

use super::*;

pub(super) fn user_json(u: &ZUser) -> User {
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

pub(super) fn site_ref(w: &World, id: &str) -> IdName {
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
pub(super) fn phone_user_json(w: &World, u: &ZUser, detail: bool) -> PhoneUser {
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

pub(super) fn calling_plans(w: &World) -> CallingPlanList {
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

/// A device as `GET /phone/devices` shows it (`device_type`, `extension_type`).
pub(super) fn device_json(d: &Device) -> Value {
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
