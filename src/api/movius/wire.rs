//! Movius MCP web API and carrier PTN API bodies.
//!
//! Field names follow the guide (`organization_id`, `first_name`, `enable_zoom`, `account_sid`,
//! `teams_calling`, …). The envelope (`status`, `error_code`, `message`) is **assumed**: the guide
//! does not show responses. Numbers travel as digits without `+` (`13126173497`), as in the guide.

use serde::{Deserialize, Serialize};

/// Error codes the Movius side answers with (assumed, kept in one place).
pub mod codes {
    /// A required parameter is missing or malformed.
    pub const INVALID_PARAMETER: i64 = 1001;
    /// Organization, account or number not found.
    pub const NOT_FOUND: i64 = 1002;
    /// The org is not Allowed for Zoom (Movius-managed).
    pub const ZOOM_NOT_ALLOWED: i64 = 1003;
    /// The org does not have Enable Zoom on (Feature Settings).
    pub const ZOOM_NOT_ENABLED: i64 = 1004;
    /// Peering the number into Zoom failed; nothing was kept.
    pub const PEERING_FAILED: i64 = 1005;
    /// Unpeering failed (e.g. the number is still assigned to a Zoom user); nothing was deleted.
    pub const UNPEERING_FAILED: i64 = 1006;
    /// The Zoom flag cannot be turned off once on.
    pub const ZOOM_FLAG_PERMANENT: i64 = 1007;
    /// The number is not in the available pool, or already belongs to an account.
    pub const NUMBER_UNAVAILABLE: i64 = 1008;
    /// The account already exists (same email or number).
    pub const DUPLICATE: i64 = 1009;
    /// Needs Movius SRE/CS (e.g. changing Allow Zoom).
    pub const FORBIDDEN: i64 = 1010;
    /// Authentication failed.
    pub const UNAUTHORIZED: i64 = 401;
}

/// Every Movius response carries this envelope; errors set `status = "failure"`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MoviusStatus {
    /// `success` or `failure`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `myid_authentications/add`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct AddAccount {
    pub organization_id: String,
    /// Digits, e.g. `13126173497`. Optional in the portal (an available number is picked), required here.
    pub phone_number: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(default)]
    pub enable_zoom: bool,
}

/// `myid_authentications/modify`: selector fields (precedence phone_number, account_sid, email)
/// plus the flags to change.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ModifyAccount {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_zoom: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams_calling: Option<bool>,
}

/// `myid_authentications/delete` and `/get`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct AccountSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Features that turning Zoom on disables (the guide's list).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Features {
    pub call_recording: bool,
    pub message_logging: bool,
    pub voicemail: bool,
    pub opt_in: bool,
    pub out_of_office: bool,
}

/// A MultiLine account.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Account {
    pub account_sid: String,
    pub organization_id: String,
    /// Digits.
    pub phone_number: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub enable_zoom: bool,
    pub teams_calling: bool,
    /// MultiLine app version the user runs (`4.15.2`); empty for VirtualLine-only accounts.
    #[serde(default)]
    pub app_version: String,
    pub features: Features,
    /// `zoom` when Zoom-enabled, else `multiline`.
    pub channel: String,
    pub created_at: String,
}

/// `{status, account}` from add, modify, get.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccountResponse {
    pub status: String,
    pub account: Account,
}

/// `{status, deleted}` from delete.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeleteResponse {
    pub status: String,
    pub account_sid: String,
    pub phone_number: String,
}

/// An organization (root or sub-org).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Org {
    pub organization_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// "Allow Zoom": managed by Movius SRE/CS; customers cannot change it.
    pub allow_zoom: bool,
    /// "Enable Zoom" under Setup → Feature Settings → Zoom Phone.
    pub enable_zoom: bool,
    pub allowed_email_domains: Vec<String>,
    /// Org-level Zoom attribute (the old model the guide moves away from).
    #[serde(default)]
    pub zoom_org_level: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrgResponse {
    pub status: String,
    pub organization: Org,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrgList {
    pub status: String,
    pub organizations: Vec<Org>,
}

/// Body of sub-org creation.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CreateSubOrg {
    pub name: String,
}

/// Body of allowed-domain add: `@movius.ai` or `movius.ai`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AllowedDomain {
    pub domain: String,
}

/// Body of the Zoom Phone feature setting.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ZoomFeature {
    pub enable_zoom: bool,
}

/// A number in the available pool.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PoolNumber {
    pub phone_number: String,
    pub organization_id: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PoolList {
    pub status: String,
    pub numbers: Vec<PoolNumber>,
}

/// User list v2 response (`organization_id`, `sub_org`, `exclude_channel`, `page`, `page_size`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserListV2 {
    pub status: String,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
    pub users: Vec<Account>,
}

/// One call detail record.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Cdr {
    pub cdr_id: String,
    pub account_sid: String,
    pub organization_id: String,
    pub phone_number: String,
    pub peer_number: String,
    pub direction: String,
    pub channel: String,
    pub start_time: String,
    pub duration: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CdrListV2 {
    pub status: String,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
    pub cdrs: Vec<Cdr>,
}

/// Carrier `POST /ptns`: numbers into the available pool under the root org.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ProvisionPtns {
    pub ptns: Vec<Ptn>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Ptn {
    /// Digits.
    pub number: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PtnResult {
    pub status: String,
    pub provisioned: Vec<String>,
}
