//! The sandbox's domain state: Movius orgs, pool and accounts; Zoom users, numbers, peering and
//! the rest. Loaded from SQLite per request and written back on change, so a failed call keeps
//! nothing (the handler works on a copy and only a success is saved).

use serde::{Deserialize, Serialize};

pub use super::table::Table;

use crate::api::movius::wire::{Account, Cdr, Org, PoolNumber};
use crate::api::zoom::wire::{CallLog, Carrier, Device, InternalNumber, PeeringNumber, Site};

/// Zoom's carrier entry for numbers Movius peers in through Provider Exchange.
pub const MOVIUS_CARRIER_CODE: i64 = 8801;
pub const MOVIUS_CARRIER_NAME: &str = "Movius";
/// SIP trunk name the Movius PEX app peers its numbers with.
pub const MOVIUS_SIP_TRUNK: &str = "movius-pex-trunk";

/// A Zoom user with its Phone profile.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ZUser {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// 1 basic, 2 licensed.
    pub kind: i64,
    pub status: String,
    pub phone: bool,
    pub extension: Option<i64>,
    pub site_id: Option<String>,
    pub calling_plans: Vec<i64>,
    pub department: Option<String>,
    pub cost_center: Option<String>,
}

impl ZUser {
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_string()
    }
    pub fn extension_id(&self) -> String {
        format!("ext-{}", self.id)
    }
}

/// A number in the Zoom account.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ZNumber {
    pub id: String,
    /// E.164.
    pub number: String,
    /// `internal` (Zoom-native) or `external` (peered, BYOC).
    pub source: String,
    pub carrier: Option<Carrier>,
    pub site_id: Option<String>,
    /// Zoom user id.
    pub assignee: Option<String>,
    /// `toll` / `tollfree`.
    pub number_type: String,
    pub location: String,
}

/// An account calling plan and how many licences it has.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Plan {
    pub kind: i64,
    pub name: String,
    pub subscribed: i64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RoleRow {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Zoom user ids.
    pub members: Vec<String>,
}

/// Next ids for things the sandbox creates, so ids are deterministic.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Counters {
    pub device: u64,
    pub internal_number: u64,
    pub org: u64,
    pub cdr: u64,
}

/// Everything the sandbox knows.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct World {
    pub orgs: Table<Org>,
    pub pool: Table<PoolNumber>,
    pub accounts: Table<Account>,
    pub cdrs: Table<Cdr>,
    pub users: Table<ZUser>,
    pub numbers: Table<ZNumber>,
    pub peering: Table<PeeringNumber>,
    pub sites: Table<Site>,
    pub plans: Table<Plan>,
    pub roles: Table<RoleRow>,
    pub devices: Table<Device>,
    pub internal_numbers: Table<InternalNumber>,
    pub call_logs: Table<CallLog>,
    pub counters: Counters,
}

/// The id the sandbox gives a Zoom number (stable across unpeer and re-peer).
pub fn number_id(e164: &str) -> String {
    format!("num{}", e164.trim_start_matches('+'))
}

/// The account sid the sandbox gives the account of a number.
pub fn account_sid(digits: &str) -> String {
    format!("AC{digits}")
}

impl World {
    pub fn org(&self, id: &str) -> Option<&Org> {
        self.orgs.iter().find(|o| o.organization_id == id)
    }
    pub fn org_mut(&mut self, id: &str) -> Option<&mut Org> {
        self.orgs.find_mut(|o| o.organization_id == id)
    }
    /// The org at the top of `id`'s tree.
    pub fn root_of(&self, id: &str) -> Option<&Org> {
        let mut cur = self.org(id)?;
        for _ in 0..32 {
            match cur.parent_id.as_deref().and_then(|p| self.org(p)) {
                Some(p) => cur = p,
                None => break,
            }
        }
        Some(cur)
    }
    /// `id` and every org below it.
    pub fn org_tree(&self, id: &str) -> Vec<String> {
        let mut out = vec![id.to_string()];
        let mut i = 0;
        while i < out.len() {
            let cur = out[i].clone();
            for o in &self.orgs {
                if o.parent_id.as_deref() == Some(cur.as_str()) && !out.contains(&o.organization_id)
                {
                    out.push(o.organization_id.clone());
                }
            }
            i += 1;
        }
        out
    }

    pub fn user(&self, id_or_email: &str) -> Option<&ZUser> {
        self.users
            .iter()
            .find(|u| u.id == id_or_email || u.email.eq_ignore_ascii_case(id_or_email))
    }
    pub fn user_idx(&self, id_or_email: &str) -> Option<usize> {
        self.users
            .iter()
            .position(|u| u.id == id_or_email || u.email.eq_ignore_ascii_case(id_or_email))
    }

    /// A Zoom number by id or by number (any form E164 accepts).
    pub fn number_idx(&self, id_or_number: &str) -> Option<usize> {
        if let Some(i) = self.numbers.iter().position(|n| n.id == id_or_number) {
            return Some(i);
        }
        let e = crate::api::E164::parse(id_or_number).ok()?;
        self.numbers.iter().position(|n| n.number == e.as_str())
    }

    pub fn account_by_number(&self, digits: &str) -> Option<usize> {
        self.accounts.iter().position(|a| a.phone_number == digits)
    }

    /// Why Zoom would not take `e164` from Movius: it is already in the account from another
    /// carrier (a Zoom-native number, say). A number peered before may be peered again.
    pub fn peering_refused(&self, e164: &str) -> Option<String> {
        let n = self.numbers.iter().find(|n| n.number == e164)?;
        let carrier = n.carrier.as_ref();
        if carrier.is_some_and(|c| c.code == MOVIUS_CARRIER_CODE) {
            return None;
        }
        Some(format!(
            "{e164} is already in the Zoom account from carrier {} (source {})",
            carrier.map_or("none", |c| c.name.as_str()),
            n.source
        ))
    }

    /// Peer a number into Zoom (idempotent): an unassigned external number with carrier Movius,
    /// and its peering entry.
    pub fn peer(&mut self, e164: &str) {
        if !self.numbers.iter().any(|n| n.number == e164) {
            self.numbers.push(ZNumber {
                id: number_id(e164),
                number: e164.to_string(),
                source: "external".into(),
                carrier: Some(Carrier {
                    code: MOVIUS_CARRIER_CODE,
                    name: MOVIUS_CARRIER_NAME.into(),
                }),
                site_id: None,
                assignee: None,
                number_type: "toll".into(),
                location: String::new(),
            });
        }
        if !self.peering.iter().any(|p| p.phone_number == e164) {
            self.peering.push(PeeringNumber {
                phone_number: e164.to_string(),
                sip_trunk_name: MOVIUS_SIP_TRUNK.into(),
                status: 1,
                assigned: 0,
                billing_reference_id: None,
                service_info: None,
            });
        }
    }

    /// Who holds a peered number in Zoom, if anyone.
    pub fn zoom_holder(&self, e164: &str) -> Option<&ZUser> {
        let n = self.numbers.iter().find(|n| n.number == e164)?;
        n.assignee.as_deref().and_then(|u| self.user(u))
    }

    /// Remove a number from Zoom and from peering (unassigning it first when `force`).
    /// Fails with the holder's email when assigned and not forced.
    pub fn unpeer(&mut self, e164: &str, force: bool) -> Result<(), String> {
        if let Some(u) = self.zoom_holder(e164) {
            if !force {
                return Err(u.email.clone());
            }
        }
        self.numbers.retain(|n| n.number != e164);
        self.peering.retain(|p| p.phone_number != e164);
        Ok(())
    }

    /// Keep the peering `assigned` flag in step with Zoom's assignment.
    /// Unassign every number a user holds (licence removed, calling plan removed: Zoom drops
    /// the user's direct numbers with them) and keep the peering list in step.
    pub fn release_numbers_of(&mut self, uid: &str) {
        self.numbers.update_where(
            |n| n.assignee.as_deref() == Some(uid),
            |n| n.assignee = None,
        );
        self.sync_peering();
    }

    pub fn sync_peering(&mut self) {
        let assigned: std::collections::HashSet<&str> = self
            .numbers
            .iter()
            .filter(|n| n.assignee.is_some())
            .map(|n| n.number.as_str())
            .collect();
        let flag = |p: &PeeringNumber| i64::from(assigned.contains(p.phone_number.as_str()));
        self.peering
            .update_where(|p| p.assigned != flag(p), |p| p.assigned = flag(p));
    }

    pub fn next_extension(&self) -> i64 {
        let max = self
            .users
            .iter()
            .filter_map(|u| u.extension)
            .max()
            .unwrap_or(1000);
        max.max(1000) + 1
    }
}
