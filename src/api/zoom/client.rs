//! `ZoomClient`: one typed, blocking method per Zoom operation of DESIGN.md's `zoom::` table.
//!
//! Each method knows its Zoom rate-limit category (the spec's "Rate Limit Label"), an op name and
//! a target for errors. Lists are collected over every `next_page_token` page.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::wire::*;
use crate::api::e164::E164;
use crate::api::error::{ApiError, Service};
use crate::api::http::{Paged, Request, Transport};
use crate::api::rate::RateCategory::{self, Heavy, Light, Medium};

/// Zoom's page-size maximum for phone numbers and users.
const PAGE_SIZE: u32 = 100;
/// Zoom assigns at most this many numbers per call.
pub const MAX_ASSIGN: usize = 10;
/// `POST /phone/users/batch` takes at most this many users.
pub const MAX_BATCH_USERS: usize = 10;

/// The `type` filter of `GET /phone/numbers`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NumberType {
    Assigned,
    Unassigned,
    Byoc,
    All,
}

impl NumberType {
    pub fn as_str(self) -> &'static str {
        match self {
            NumberType::Assigned => "assigned",
            NumberType::Unassigned => "unassigned",
            NumberType::Byoc => "byoc",
            NumberType::All => "all",
        }
    }
}

impl fmt::Display for NumberType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NumberType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "assigned" => Ok(NumberType::Assigned),
            "unassigned" => Ok(NumberType::Unassigned),
            "byoc" => Ok(NumberType::Byoc),
            "all" => Ok(NumberType::All),
            other => Err(format!(
                "unknown number type '{other}': use assigned, unassigned, byoc or all"
            )),
        }
    }
}

/// Filters of [`ZoomClient::numbers`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NumberQuery {
    pub kind: Option<NumberType>,
    pub phone_number: Option<E164>,
    pub site_id: Option<String>,
}

/// A Zoom phone number as `assign_number` takes it: by id or by E.164.
impl NumberRef {
    pub fn by_number(n: &E164) -> Self {
        NumberRef {
            id: None,
            number: Some(n.as_str().to_string()),
        }
    }
    pub fn by_id(id: &str) -> Self {
        NumberRef {
            id: Some(id.to_string()),
            number: None,
        }
    }
    fn label(&self) -> String {
        self.number
            .clone()
            .or_else(|| self.id.clone())
            .unwrap_or_default()
    }
}

macro_rules! paged {
    ($page:ty, $item:ty, $field:ident) => {
        impl Paged for $page {
            type Item = $item;
            fn next_page_token(&self) -> &str {
                &self.next_page_token
            }
            fn into_items(self) -> Vec<$item> {
                self.$field
            }
        }
    };
}
paged!(PhoneNumberPage, PhoneNumber, phone_numbers);
paged!(UserPage, User, users);
paged!(PhoneUserPage, PhoneUser, users);
paged!(SitePage, Site, sites);
paged!(PeeringNumberPage, PeeringNumber, numbers);
paged!(InternalNumbers, InternalNumber, internal_numbers);
paged!(CallLogPage, CallLog, call_logs);
paged!(DevicePage, Device, devices);

/// `add_internal_numbers` answers with the numbers and their ids; accept the list bare or wrapped.
#[derive(Deserialize)]
#[serde(untagged)]
enum InternalNumbersAnswer {
    Wrapped(InternalNumbers),
    Bare(Vec<InternalNumber>),
    Other(#[allow(dead_code)] serde_json::Value),
}

/// `POST /phone/devices` answers `{id, display_name}` only.
#[derive(Deserialize)]
struct DeviceCreated {
    id: String,
}

/// Typed Zoom operations over the shared transport. Cheap to clone; blocking (see `api::http`).
#[derive(Clone, Debug)]
pub struct ZoomClient {
    t: Arc<Transport>,
}

/// Is this string an E.164 number rather than a Zoom id? Zoom ids are never all digits.
fn as_e164(s: &str) -> Option<E164> {
    let t = s.trim();
    let looks_numeric = t
        .chars()
        .all(|c| c.is_ascii_digit() || " +-.()".contains(c));
    if looks_numeric {
        E164::parse(t).ok()
    } else {
        None
    }
}

impl ZoomClient {
    pub fn new(t: Arc<Transport>) -> Self {
        ZoomClient { t }
    }

    pub fn transport(&self) -> &Arc<Transport> {
        &self.t
    }

    fn req(method: reqwest::Method, path: &str, op: &str, cat: RateCategory) -> Request {
        Request::new(Service::Zoom, method, path, op).category(cat)
    }
    fn get(path: &str, op: &str, cat: RateCategory) -> Request {
        Self::req(reqwest::Method::GET, path, op, cat)
    }

    /// Phone numbers of the account, every page. The `phone_number` filter is sent to Zoom and
    /// also applied here: Zoom's published list endpoint does not document it.
    pub fn numbers(&self, q: &NumberQuery) -> Result<Vec<PhoneNumber>, ApiError> {
        let target = q
            .phone_number
            .as_ref()
            .map(E164::to_string)
            .unwrap_or_default();
        let req = Self::get("/phone/numbers", "numbers", Medium)
            .target(target)
            .query("page_size", PAGE_SIZE)
            .query_opt("type", q.kind.map(NumberType::as_str))
            .query_opt("site_id", q.site_id.as_deref())
            .query_opt("phone_number", q.phone_number.as_ref().map(E164::as_str));
        match &q.phone_number {
            None => self.t.collect_pages::<PhoneNumberPage>(req),
            Some(want) => {
                let mut out = Vec::new();
                for page in self.t.pages::<PhoneNumberPage>(req) {
                    out.extend(
                        page?.phone_numbers.into_iter().filter(|n| {
                            E164::parse(&n.number).map(|e| &e == want).unwrap_or(false)
                        }),
                    );
                }
                Ok(out)
            }
        }
    }

    /// Does Zoom honour the undocumented `phone_number` filter of `GET /phone/numbers`? Reads one
    /// unfiltered page for a number the account has, then asks for that number with the filter:
    /// `Some((n, true))` when only `n` comes back, `Some((n, false))` when other numbers do (the
    /// filter is ignored), `None` when the account has fewer than two numbers (nothing to tell).
    /// vline never depends on the answer; it tells an admin what a bulk run's reads cost.
    pub fn probe_number_filter(&self) -> Result<Option<(E164, bool)>, ApiError> {
        let list = |filter: Option<&E164>| {
            self.t.send::<PhoneNumberPage>(
                &Self::get("/phone/numbers", "probe_number_filter", Medium)
                    .target(filter.map(E164::to_string).unwrap_or_default())
                    .query("type", NumberType::All.as_str())
                    .query("page_size", PAGE_SIZE)
                    .query_opt("phone_number", filter.map(E164::as_str)),
            )
        };
        let first = list(None)?;
        if first.total_records < 2 {
            return Ok(None);
        }
        let Some(known) = first
            .phone_numbers
            .iter()
            .find_map(|n| E164::parse(&n.number).ok())
        else {
            return Ok(None);
        };
        let filtered = list(Some(&known))?;
        let others = filtered
            .phone_numbers
            .iter()
            .any(|n| E164::parse(&n.number).map(|e| e != known).unwrap_or(true));
        Ok(Some((known, !others)))
    }

    /// One number by Zoom id or by E.164 (looked up in the number list).
    pub fn number(&self, id_or_e164: &str) -> Result<PhoneNumber, ApiError> {
        if let Some(n) = as_e164(id_or_e164) {
            let q = NumberQuery {
                kind: Some(NumberType::All),
                phone_number: Some(n.clone()),
                site_id: None,
            };
            return self
                .numbers(&q)?
                .into_iter()
                .next()
                .ok_or_else(|| ApiError {
                    service: Service::Zoom,
                    op: "number".into(),
                    target: n.to_string(),
                    status: Some(404),
                    code: None,
                    message: format!("Zoom has no phone number {n} (not peered, or removed)"),
                    retryable: false,
                });
        }
        self.t.send(
            &Self::get("/phone/numbers/{phoneNumberId}", "number", Light)
                .arg("phoneNumberId", id_or_e164)
                .target(id_or_e164),
        )
    }

    /// One Zoom user by id or email.
    pub fn user(&self, id_or_email: &str) -> Result<User, ApiError> {
        self.t.send(
            &Self::get("/users/{userId}", "user", Light)
                .arg("userId", id_or_email)
                .target(id_or_email),
        )
    }

    /// Every Zoom user.
    pub fn users(&self) -> Result<Vec<User>, ApiError> {
        self.t.collect_pages::<UserPage>(
            Self::get("/users", "users", Medium).query("page_size", PAGE_SIZE),
        )
    }

    /// One Zoom Phone user by id or email.
    pub fn phone_user(&self, id_or_email: &str) -> Result<PhoneUser, ApiError> {
        self.t.send(
            &Self::get("/phone/users/{userId}", "phone_user", Light)
                .arg("userId", id_or_email)
                .target(id_or_email),
        )
    }

    /// Every Zoom Phone user.
    pub fn phone_users(&self) -> Result<Vec<PhoneUser>, ApiError> {
        let mut out = Vec::new();
        self.phone_user_pages(|page| out.extend(page))?;
        Ok(out)
    }

    /// Every Zoom Phone user, handed over a page (of 100) at a time as it arrives: a bulk run
    /// starts its rows on the users read so far instead of waiting for the last page.
    pub fn phone_user_pages(&self, mut each: impl FnMut(Vec<PhoneUser>)) -> Result<(), ApiError> {
        let req = Self::get("/phone/users", "phone_users", Medium).query("page_size", PAGE_SIZE);
        for page in self.t.pages::<PhoneUserPage>(req) {
            each(page?.users);
        }
        Ok(())
    }

    pub fn sites(&self) -> Result<Vec<Site>, ApiError> {
        self.t.collect_pages::<SitePage>(
            Self::get("/phone/sites", "sites", Medium).query("page_size", PAGE_SIZE),
        )
    }

    /// One Zoom Phone site.
    pub fn site(&self, site_id: &str) -> Result<Site, ApiError> {
        self.t.send(
            &Self::get("/phone/sites/{siteId}", "site", Light)
                .arg("siteId", site_id)
                .target(site_id),
        )
    }

    /// Create a Zoom user (`POST /users`), with the Zoom Phone licence when
    /// `user_info.feature.zoom_phone` is set, as the portal's "Add User" with the Zoom Phone
    /// licence does. Repeated after an ambiguous failure only if the user does not exist.
    pub fn create_user(&self, u: &CreateUser) -> Result<CreatedUser, ApiError> {
        let email = u.user_info.email.clone();
        let req = Self::req(reqwest::Method::POST, "/users", "create_user", Light)
            .target(email.clone())
            .json(u);
        self.t.send_checked(&req, || match self.user(&email) {
            Ok(x) => Ok(Some(CreatedUser {
                id: x.id,
                email: x.email,
                first_name: x.first_name,
                last_name: x.last_name,
                kind: x.kind,
            })),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        })
    }

    /// Make up to ten active Zoom users phone users at once (`POST /phone/users/batch`), each
    /// with its extension and calling plans. Sent once: Zoom refuses a user already added.
    pub fn batch_add_phone_users(
        &self,
        users: &[BatchPhoneUser],
    ) -> Result<Vec<BatchAdded>, ApiError> {
        let target = users
            .iter()
            .map(|u| u.email.as_str())
            .collect::<Vec<_>>()
            .join(",");
        if users.is_empty() || users.len() > MAX_BATCH_USERS {
            return Err(ApiError::local(
                Service::Zoom,
                "batch_add_phone_users",
                &target,
                format!(
                    "{} users in one call; Zoom adds 1 to {MAX_BATCH_USERS} per call: split them",
                    users.len()
                ),
            ));
        }
        self.t.send(
            &Self::req(
                reqwest::Method::POST,
                "/phone/users/batch",
                "batch_add_phone_users",
                Medium,
            )
            .target(target)
            .json(&BatchPhoneUsers {
                users: users.to_vec(),
            }),
        )
    }

    pub fn roles(&self) -> Result<Vec<Role>, ApiError> {
        self.t
            .send::<RoleList>(&Self::get("/phone/roles", "roles", Medium))
            .map(|r| r.roles)
    }

    pub fn calling_plans(&self) -> Result<Vec<CallingPlan>, ApiError> {
        self.t
            .send::<CallingPlanList>(&Self::get("/phone/calling_plans", "calling_plans", Medium))
            .map(|r| r.calling_plans)
    }

    /// Numbers carriers peered in through Provider Exchange.
    pub fn peering_numbers(&self) -> Result<Vec<PeeringNumber>, ApiError> {
        self.t.collect_pages::<PeeringNumberPage>(
            Self::get("/phone/peering/numbers", "peering_numbers", Light)
                .query("page_size", PAGE_SIZE),
        )
    }

    /// SIP-trunk internal numbers of an account (`me` for the master account). The category is
    /// assumed (no spec lists the endpoint).
    pub fn internal_numbers(&self, account: &str) -> Result<Vec<InternalNumber>, ApiError> {
        self.t.collect_pages::<InternalNumbers>(
            Self::get(
                "/accounts/{accountId}/sip_trunk/internal_numbers",
                "internal_numbers",
                Medium,
            )
            .arg("accountId", account)
            .target(account)
            .query("page_size", PAGE_SIZE),
        )
    }

    /// Assign up to ten numbers to a user. Not idempotent: after an ambiguous failure it is sent
    /// again only if a read shows the numbers still unassigned.
    pub fn assign_number(
        &self,
        user: &str,
        numbers: &[NumberRef],
    ) -> Result<Vec<NumberRef>, ApiError> {
        let target = format!(
            "{} → {user}",
            numbers
                .iter()
                .map(NumberRef::label)
                .collect::<Vec<_>>()
                .join(",")
        );
        let local = |m: String| ApiError::local(Service::Zoom, "assign_number", &target, m);
        if numbers.is_empty() {
            return Err(local("no number to assign".into()));
        }
        if numbers.len() > MAX_ASSIGN {
            return Err(local(format!(
                "{} numbers in one call; Zoom assigns at most {MAX_ASSIGN} per call: split them",
                numbers.len()
            )));
        }
        let req = Self::req(
            reqwest::Method::POST,
            "/phone/users/{userId}/phone_numbers",
            "assign_number",
            Light,
        )
        .arg("userId", user)
        .target(target.clone())
        .json(&AssignNumbers {
            phone_numbers: numbers.to_vec(),
        });
        let answer: AssignNumbers = self.t.send_checked(&req, || {
            let mut user_id: Option<String> = None;
            for r in numbers {
                let key =
                    r.id.clone()
                        .or_else(|| r.number.clone())
                        .unwrap_or_default();
                let n = self.number(&key)?;
                let Some(a) = n.assignee else { return Ok(None) };
                if a.id != user {
                    if user_id.is_none() {
                        user_id = Some(self.phone_user(user)?.id);
                    }
                    if user_id.as_deref() != Some(a.id.as_str()) {
                        // Held by someone else: not our change; keep the original error.
                        return Err(local(format!("{} is assigned to {}", n.number, a.id)));
                    }
                }
            }
            Ok(Some(AssignNumbers {
                phone_numbers: numbers.to_vec(),
            }))
        })?;
        Ok(if answer.phone_numbers.is_empty() {
            numbers.to_vec()
        } else {
            answer.phone_numbers
        })
    }

    /// Unassign one number (id or E.164; Zoom takes either) from a user.
    pub fn unassign_number(&self, user: &str, number: &str) -> Result<(), ApiError> {
        let n = as_e164(number)
            .map(|e| e.to_string())
            .unwrap_or_else(|| number.to_string());
        self.t.send_unit(
            &Self::req(
                reqwest::Method::DELETE,
                "/phone/users/{userId}/phone_numbers/{phoneNumberId}",
                "unassign_number",
                Light,
            )
            .arg("userId", user)
            .arg("phoneNumberId", n.clone())
            .target(format!("{n} from {user}")),
        )
    }

    /// License a user for Zoom Phone, then set its site and extension when given.
    pub fn enable_phone(
        &self,
        user: &str,
        site_id: Option<&str>,
        extension: Option<i64>,
    ) -> Result<(), ApiError> {
        self.t.send_unit(
            &Self::req(
                reqwest::Method::PATCH,
                "/users/{userId}/settings",
                "enable_phone",
                Medium,
            )
            .arg("userId", user)
            .target(user)
            .json(&UserSettingsPatch {
                feature: UserFeature { zoom_phone: true },
            }),
        )?;
        if site_id.is_some() || extension.is_some() {
            let patch = PhoneUserPatch {
                site_id: site_id.map(str::to_string),
                // The spec's extension_number is a string.
                extension_number: extension.map(|e| e.to_string()),
            };
            self.patch_phone_user("enable_phone", user, &patch)?;
        }
        Ok(())
    }

    /// Give a phone user a calling plan (checked by a read before it is ever repeated).
    pub fn assign_calling_plan(&self, user: &str, plan_type: i64) -> Result<(), ApiError> {
        let body = AssignCallingPlans {
            calling_plans: vec![UserCallingPlan {
                kind: plan_type,
                name: None,
                billing_account_id: None,
            }],
        };
        let req = Self::req(
            reqwest::Method::POST,
            "/phone/users/{userId}/calling_plans",
            "assign_calling_plan",
            Light,
        )
        .arg("userId", user)
        .target(format!("plan {plan_type} → {user}"))
        .json(&body);
        self.t.send_checked::<serde_json::Value, _>(&req, || {
            let held = self
                .phone_user(user)?
                .calling_plans
                .iter()
                .any(|p| p.kind == plan_type);
            Ok(held.then_some(serde_json::Value::Null))
        })?;
        Ok(())
    }

    /// Remove a calling plan from a user. Zoom also drops the user's direct number with it.
    pub fn remove_calling_plan(&self, user: &str, plan_type: i64) -> Result<(), ApiError> {
        self.t.send_unit(
            &Self::req(
                reqwest::Method::DELETE,
                "/phone/users/{userId}/calling_plans/{planType}",
                "remove_calling_plan",
                Light,
            )
            .arg("userId", user)
            .arg("planType", plan_type.to_string())
            .target(format!("plan {plan_type} from {user}")),
        )
    }

    /// Add users (ids or emails) to a phone role: `{"user_ids": [...]}` as the spec names it.
    /// Sent once (no read check exists for it).
    pub fn add_role_members(&self, role_id: &str, users: &[String]) -> Result<(), ApiError> {
        self.t.send_unit(
            &Self::req(
                reqwest::Method::POST,
                "/phone/roles/{roleId}/members",
                "add_role_members",
                Light,
            )
            .arg("roleId", role_id)
            .target(role_id)
            .json(&RoleMembers {
                user_ids: users.to_vec(),
            }),
        )
    }

    /// Desk phones, every page. Zoom requires the `type` filter: assigned or unassigned.
    pub fn devices(&self, kind: DeviceListType) -> Result<Vec<Device>, ApiError> {
        self.t.collect_pages::<DevicePage>(
            Self::get("/phone/devices", "devices", Medium)
                .query("type", kind.as_str())
                .query("page_size", PAGE_SIZE),
        )
    }

    /// Add a desk phone (assigned to `assignee_extension_ids` when it holds any); repeated after
    /// an ambiguous failure only if no device, assigned or not, has its MAC.
    pub fn add_device(&self, device: &AddDevice) -> Result<Device, ApiError> {
        let req = Self::req(reqwest::Method::POST, "/phone/devices", "add_device", Light)
            .target(device.mac_address.clone())
            .json(device);
        let mac = normalize_mac(&device.mac_address);
        let created: DeviceCreated = self.t.send_checked(&req, || {
            for kind in [DeviceListType::Assigned, DeviceListType::Unassigned] {
                if let Some(d) = self
                    .devices(kind)?
                    .into_iter()
                    .find(|d| normalize_mac(&d.mac_address) == mac)
                {
                    return Ok(Some(DeviceCreated { id: d.id }));
                }
            }
            Ok(None)
        })?;
        Ok(Device {
            id: created.id,
            display_name: device.display_name.clone(),
            mac_address: device.mac_address.clone(),
            kind: device.kind.clone(),
            model: device.model.clone(),
            assignee: None,
            status: None,
        })
    }

    /// Assign a device to extensions.
    pub fn assign_device(&self, device_id: &str, extension_ids: &[String]) -> Result<(), ApiError> {
        self.t.send_unit(
            &Self::req(
                reqwest::Method::POST,
                "/phone/devices/{deviceId}/extensions",
                "assign_device",
                Light,
            )
            .arg("deviceId", device_id)
            .target(device_id)
            .json(&DeviceExtensions {
                assignee_extension_ids: extension_ids.to_vec(),
            }),
        )
    }

    /// Add SIP-trunk internal numbers to an account (`me` or a sub account id); returns the rows
    /// with their new ids. Repeated after an ambiguous failure only if the numbers are absent.
    pub fn add_internal_numbers(
        &self,
        account: &str,
        rows: &[InternalNumber],
    ) -> Result<Vec<InternalNumber>, ApiError> {
        let req = Self::req(
            reqwest::Method::POST,
            "/accounts/{accountId}/sip_trunk/internal_numbers",
            "add_internal_numbers",
            Light,
        )
        .arg("accountId", account)
        .target(account)
        .json(&InternalNumbers {
            internal_numbers: rows.to_vec(),
            next_page_token: String::new(),
            total_records: None,
        });
        let answer: InternalNumbersAnswer = self.t.send_checked(&req, || {
            let have = self.internal_numbers(account)?;
            let all = rows
                .iter()
                .all(|r| have.iter().any(|h| h.number == r.number));
            Ok(all.then(|| {
                InternalNumbersAnswer::Bare(
                    have.into_iter()
                        .filter(|h| rows.iter().any(|r| r.number == h.number))
                        .collect(),
                )
            }))
        })?;
        let created = match answer {
            InternalNumbersAnswer::Wrapped(w) => w.internal_numbers,
            InternalNumbersAnswer::Bare(v) => v,
            InternalNumbersAnswer::Other(_) => Vec::new(),
        };
        Ok(rows
            .iter()
            .map(|r| {
                let id = created
                    .iter()
                    .find(|c| c.number == r.number)
                    .and_then(|c| c.id.clone());
                InternalNumber {
                    id: id.or_else(|| r.id.clone()),
                    ..r.clone()
                }
            })
            .collect())
    }

    /// Change a phone user's extension or site.
    pub fn update_phone_user(&self, user: &str, patch: &PhoneUserPatch) -> Result<(), ApiError> {
        self.patch_phone_user("update_phone_user", user, patch)
    }

    fn patch_phone_user(
        &self,
        op: &str,
        user: &str,
        patch: &PhoneUserPatch,
    ) -> Result<(), ApiError> {
        self.t.send_unit(
            &Self::req(reqwest::Method::PATCH, "/phone/users/{userId}", op, Light)
                .arg("userId", user)
                .target(user)
                .json(patch),
        )
    }

    /// Account call history between two dates (`yyyy-mm-dd`), every page.
    pub fn call_history(&self, from: &str, to: &str) -> Result<Vec<CallLog>, ApiError> {
        self.t.collect_pages::<CallLogPage>(
            Self::get("/phone/call_history", "call_history", Heavy)
                .target(format!("{from}..{to}"))
                .query("page_size", PAGE_SIZE)
                .query("from", from)
                .query("to", to),
        )
    }
}

fn normalize_mac(m: &str) -> String {
    m.chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_or_id() {
        assert_eq!(as_e164("+1 312-617-0001").unwrap().as_str(), "+13126170001");
        assert_eq!(as_e164("13126170001").unwrap().as_str(), "+13126170001");
        assert!(as_e164("iHE1MQAET2iV85MbfaQmwg").is_none());
        assert!(as_e164("12").is_none());
    }

    #[test]
    fn number_type_parses() {
        assert_eq!(
            "Unassigned".parse::<NumberType>(),
            Ok(NumberType::Unassigned)
        );
        assert!("free"
            .parse::<NumberType>()
            .unwrap_err()
            .contains("assigned, unassigned"));
    }

    #[test]
    fn macs_compare_without_separators() {
        assert_eq!(normalize_mac("AA:bb-CC.dd:ee:ff"), "aabbccddeeff");
    }
}
