//! Zoom's wire format: request and response bodies named as Zoom names them
//! (`../shared/specs/zoom/`). Shared by the client and the sandbox; no behaviour here.

use serde::{Deserialize, Serialize};

/// `POST /oauth/token?grant_type=account_credentials&account_id=…` (server-to-server OAuth).
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
    #[serde(default)]
    pub scope: String,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Every Zoom error body: `{code, message}`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ZoomError {
    pub code: i64,
    pub message: String,
}

/// `{id, name}` references Zoom embeds in many objects.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct IdName {
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Who holds a phone number.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Assignee {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_number: Option<i64>,
    /// `user`, `callQueue`, `autoReceptionist`, `commonArea`, …
    #[serde(rename = "type", default)]
    pub kind: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Carrier {
    pub code: i64,
    pub name: String,
}

/// One entry of `GET /phone/numbers` and `GET /phone/numbers/{phoneNumberId}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PhoneNumber {
    pub id: String,
    /// E.164, e.g. `+13126173497`.
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<Assignee>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<Carrier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<IdName>,
    /// `toll` or `tollfree`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_type: Option<String>,
    /// `internal` or `external` (peered numbers are external).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `pending` or `available`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capability: Vec<String>,
}

/// `GET /phone/numbers` page.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PhoneNumberPage {
    /// Empty string when there is no further page (as Zoom sends it).
    #[serde(default)]
    pub next_page_token: String,
    #[serde(default)]
    pub page_size: u32,
    #[serde(default)]
    pub total_records: u64,
    #[serde(default)]
    pub phone_numbers: Vec<PhoneNumber>,
}

/// `{id}` or `{number}` of a phone number, as assign requests and responses carry it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct NumberRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

/// `POST /phone/users/{userId}/phone_numbers` body and response (at most 10 numbers).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AssignNumbers {
    pub phone_numbers: Vec<NumberRef>,
}

/// A Zoom user (`GET /users`, `GET /users/{userId}`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct User {
    pub id: String,
    pub email: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    /// 1 basic, 2 licensed.
    #[serde(rename = "type", default)]
    pub kind: i64,
    /// `active`, `inactive`, `pending`.
    #[serde(default)]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept: Option<String>,
}

/// `GET /users` page.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct UserPage {
    #[serde(default)]
    pub next_page_token: String,
    #[serde(default)]
    pub page_size: u32,
    #[serde(default)]
    pub total_records: u64,
    #[serde(default)]
    pub users: Vec<User>,
}

/// `PATCH /users/{userId}/settings` with the Zoom Phone feature, which licenses a user for Phone.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct UserSettingsPatch {
    pub feature: UserFeature,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct UserFeature {
    pub zoom_phone: bool,
}

/// A calling plan held by a phone user.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct UserCallingPlan {
    #[serde(rename = "type")]
    pub kind: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_account_id: Option<String>,
}

/// A Zoom Phone user (`GET /phone/users`, `GET /phone/users/{userId}`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PhoneUser {
    pub id: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_number: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<IdName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    /// `activate` / `deactivate`.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub calling_plans: Vec<UserCallingPlan>,
    #[serde(default)]
    pub phone_numbers: Vec<NumberRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_center: Option<String>,
}

/// `GET /phone/users` page.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PhoneUserPage {
    #[serde(default)]
    pub next_page_token: String,
    #[serde(default)]
    pub page_size: u32,
    #[serde(default)]
    pub total_records: u64,
    #[serde(default)]
    pub users: Vec<PhoneUser>,
}

/// `PATCH /phone/users/{userId}` (`updateUserProfile`): only the fields given change. The spec
/// gives `extension_number` as a string (site number + short extension) and has no department or
/// cost center: those belong to the Zoom user's profile, not to this endpoint.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneUserPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Site {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_code: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SitePage {
    #[serde(default)]
    pub next_page_token: String,
    #[serde(default)]
    pub page_size: u32,
    #[serde(default)]
    pub total_records: u64,
    #[serde(default)]
    pub sites: Vec<Site>,
}

/// An account's calling plan with its licence counts (`GET /phone/calling_plans`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CallingPlan {
    #[serde(rename = "type")]
    pub kind: i64,
    pub name: String,
    #[serde(default)]
    pub subscribed: i64,
    #[serde(default)]
    pub assigned: i64,
    #[serde(default)]
    pub available: i64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CallingPlanList {
    pub calling_plans: Vec<CallingPlan>,
}

/// `POST /phone/users/{userId}/calling_plans`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AssignCallingPlans {
    pub calling_plans: Vec<UserCallingPlan>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Role {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub total_members: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RoleList {
    pub roles: Vec<Role>,
}

/// `POST /phone/roles/{roleId}/members` (`AddRoleMembers`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RoleMembers {
    /// User ids or email addresses.
    pub user_ids: Vec<String>,
}

/// `POST /phone/devices` (`addPhoneDevice`): the spec requires `assignee_extension_ids` (it may
/// be empty: the device is added unassigned).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AddDevice {
    pub display_name: String,
    pub mac_address: String,
    /// Manufacturer (brand), e.g. `yealink`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Extension ids of the users (or common areas) that get the device.
    #[serde(default)]
    pub assignee_extension_ids: Vec<String>,
}

/// The `type` filter of `GET /phone/devices`, which the spec requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceListType {
    Assigned,
    Unassigned,
}

impl DeviceListType {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceListType::Assigned => "assigned",
            DeviceListType::Unassigned => "unassigned",
        }
    }
}

/// A desk phone (`GET /phone/devices`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Device {
    #[serde(default)]
    pub id: String,
    pub display_name: String,
    pub mac_address: String,
    /// `type` in the add request; the list answers it as `device_type`.
    #[serde(rename = "type", alias = "device_type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<Assignee>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DevicePage {
    #[serde(default)]
    pub next_page_token: String,
    #[serde(default)]
    pub page_size: u32,
    #[serde(default)]
    pub total_records: u64,
    #[serde(default)]
    pub devices: Vec<Device>,
}

/// `POST /phone/devices/{deviceId}/extensions` (`addExtensionsToADevice`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DeviceExtensions {
    pub assignee_extension_ids: Vec<String>,
}

/// `GET /phone/peering/numbers` entry: what a carrier (here Movius, through PEX) peered in.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PeeringNumber {
    pub phone_number: String,
    pub sip_trunk_name: String,
    /// 0 inactive, 1 active.
    pub status: i64,
    /// 0 unassigned, 1 assigned.
    #[serde(default)]
    pub assigned: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_reference_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_info: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PeeringNumberPage {
    #[serde(default)]
    pub next_page_token: String,
    #[serde(default)]
    pub total_records: u64,
    #[serde(default)]
    pub numbers: Vec<PeeringNumber>,
}

/// `POST /phone/peering/numbers` body (at most 200 numbers).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AddPeeringNumbers {
    pub carrier_code: i64,
    pub phone_numbers: Vec<PeeringNumber>,
}

/// Peering add/delete result: the numbers Zoom did not process.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PeeringResult {
    #[serde(default)]
    pub unprocessed_numbers: Vec<Unprocessed>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Unprocessed {
    pub phone_number: String,
    pub failure_reason: String,
}

/// SIP-trunk internal number (`../shared/seeds/003_…`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct InternalNumber {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub labels: String,
    /// E.164.
    pub number: String,
    pub display_number: String,
    /// 0 toll, 1 toll-free.
    #[serde(rename = "type")]
    pub kind: i64,
    /// Two-letter country code.
    pub country: String,
    /// `en-GB`, `en-US` or `de-DE`.
    pub languages: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_join: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_for_external_meetings: Option<bool>,
}

/// `POST /accounts/{accountId}/sip_trunk/internal_numbers` body and list response.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct InternalNumbers {
    pub internal_numbers: Vec<InternalNumber>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub next_page_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_records: Option<u64>,
}

/// One call-history record (`GET /phone/call_history`). The spec marks no field required: an
/// internal call has no DID, so every field may be missing without failing the page.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CallLog {
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_did_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callee_did_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_ext_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callee_ext_number: Option<String>,
    #[serde(default)]
    pub direction: String,
    /// `internal` or `external`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_type: Option<String>,
    #[serde(default)]
    pub start_time: String,
    #[serde(default)]
    pub duration: i64,
    /// Zoom's field is `call_result` (`answered`, `no_answer`, …).
    #[serde(default, alias = "call_result")]
    pub result: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CallLogPage {
    #[serde(default)]
    pub next_page_token: String,
    #[serde(default)]
    pub total_records: u64,
    #[serde(default)]
    pub call_logs: Vec<CallLog>,
}

/// `POST /users` (`userCreate`): how the user is created. `create` mails a confirmation link (the
/// user is pending until confirmed); `autoCreate` (managed domains), `custCreate` and `ssoCreate`
/// (SSO pre-provisioning) make the user active at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CreateAction {
    #[serde(rename = "create")]
    Create,
    #[serde(rename = "autoCreate")]
    AutoCreate,
    #[serde(rename = "custCreate")]
    CustCreate,
    #[serde(rename = "ssoCreate")]
    SsoCreate,
}

impl std::str::FromStr for CreateAction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "create" => Ok(CreateAction::Create),
            "autoCreate" => Ok(CreateAction::AutoCreate),
            "custCreate" => Ok(CreateAction::CustCreate),
            "ssoCreate" => Ok(CreateAction::SsoCreate),
            other => Err(format!(
                "unknown action '{other}': use create, autoCreate, custCreate or ssoCreate"
            )),
        }
    }
}

/// `POST /users` body.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CreateUser {
    pub action: CreateAction,
    pub user_info: NewUserInfo,
}

/// `user_info` of `POST /users`: the Zoom Phone licence is `feature.zoom_phone`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NewUserInfo {
    pub email: String,
    /// 1 basic, 2 licensed.
    #[serde(rename = "type")]
    pub kind: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<UserFeature>,
}

/// `POST /users` answer (201).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CreatedUser {
    pub id: String,
    pub email: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(rename = "type", default)]
    pub kind: i64,
}

/// One user of `POST /phone/users/batch` (`batchAddUsers`): an active Zoom user made a phone user.
/// `calling_plans` are names as the spec lists them (`US/CA Unlimited`); `extension_number` is a
/// string.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BatchPhoneUser {
    pub email: String,
    pub extension_number: String,
    pub calling_plans: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<String>,
}

/// `POST /phone/users/batch` body (at most 10 users).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BatchPhoneUsers {
    pub users: Vec<BatchPhoneUser>,
}

/// One entry of the `POST /phone/users/batch` answer.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct BatchAdded {
    pub email: String,
    pub id: String,
}
