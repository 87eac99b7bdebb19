//! `MoviusClient`: one typed, blocking method per Movius operation of DESIGN.md's `movius::` table.
//! Every URL comes from the path table in `paths.rs`.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::paths::{self, Endpoint};
use super::wire::*;
use crate::api::error::{ApiError, Service};
use crate::api::http::{Request, Transport};
use crate::api::selector::Selector;

/// User list v2 page size (the API pages by number).
const PAGE_SIZE: u32 = 100;

/// Filters of user list v2.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserListQuery {
    pub organization_id: String,
    /// Include the org's sub-orgs.
    pub sub_org: bool,
    /// `zoom` leaves Zoom-enabled accounts out.
    pub exclude_channel: Option<String>,
}

/// Filters of CDR v2.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CdrQuery {
    pub organization_id: String,
    pub sub_org: bool,
    pub exclude_channel: Option<String>,
    /// `yyyy-mm-dd` (or a timestamp), inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Typed Movius operations over the shared transport. Cheap to clone; blocking (see `api::http`).
#[derive(Clone, Debug)]
pub struct MoviusClient {
    t: Arc<Transport>,
    paths: paths::MoviusPaths,
}

/// The wire form of a selector (one field set, per the guide's precedence).
pub fn selector_body(sel: &Selector, org: Option<&str>) -> AccountSelector {
    let mut body = AccountSelector {
        organization_id: org.map(str::to_string),
        ..AccountSelector::default()
    };
    match sel {
        Selector::PhoneNumber(n) => body.phone_number = Some(n.digits().to_string()),
        Selector::AccountSid(s) => body.account_sid = Some(s.clone()),
        Selector::Email(e) => body.email = Some(e.clone()),
    }
    body
}

/// Pages of a numbered list (user list v2, CDR v2).
trait Numbered: DeserializeOwned {
    type Item;
    fn total(&self) -> u64;
    fn into_items(self) -> Vec<Self::Item>;
}

impl Numbered for UserListV2 {
    type Item = Account;
    fn total(&self) -> u64 {
        self.total
    }
    fn into_items(self) -> Vec<Account> {
        self.users
    }
}

impl Numbered for CdrListV2 {
    type Item = Cdr;
    fn total(&self) -> u64 {
        self.total
    }
    fn into_items(self) -> Vec<Cdr> {
        self.cdrs
    }
}

/// Is this the service telling us the thing does not exist?
pub fn is_not_found(e: &ApiError) -> bool {
    e.status == Some(404) || e.code == Some(codes::NOT_FOUND)
}

impl MoviusClient {
    pub fn new(t: Arc<Transport>) -> Self {
        Self::with_paths(t, paths::MoviusPaths::default())
    }

    /// With a profile's path overrides (`[profiles.X.movius_paths]`).
    pub fn with_paths(t: Arc<Transport>, paths: paths::MoviusPaths) -> Self {
        MoviusClient { t, paths }
    }

    fn req(&self, ep: &Endpoint, op: &str) -> Request {
        Request::at(Service::Movius, ep.method, &self.paths.path(ep), op)
    }

    /// One organization.
    pub fn org(&self, id: &str) -> Result<Org, ApiError> {
        self.t
            .send::<OrgResponse>(&self.req(&paths::ORG, "org").arg("org", id).target(id))
            .map(|r| r.organization)
    }

    /// Every organization the API user can see.
    pub fn orgs(&self) -> Result<Vec<Org>, ApiError> {
        self.t
            .send::<OrgList>(&self.req(&paths::ORGS, "orgs"))
            .map(|r| r.organizations)
    }

    /// One account by selector.
    pub fn account(&self, sel: &Selector) -> Result<Account, ApiError> {
        self.t
            .send::<AccountResponse>(
                &self
                    .req(&paths::ACCOUNT_GET, "account")
                    .read_only()
                    .target(sel.to_string())
                    .json(&selector_body(sel, None)),
            )
            .map(|r| r.account)
    }

    fn numbered<P: Numbered>(&self, base: Request) -> Result<Vec<P::Item>, ApiError> {
        let mut out = Vec::new();
        let mut page = 1u32;
        loop {
            let p: P = self.t.send(
                &base
                    .clone()
                    .query("page", page)
                    .query("page_size", PAGE_SIZE),
            )?;
            let total = p.total();
            let items = p.into_items();
            let got = items.len();
            out.extend(items);
            if got == 0 || out.len() as u64 >= total {
                return Ok(out);
            }
            page += 1;
        }
    }

    /// User list v2, every page.
    pub fn users(&self, q: &UserListQuery) -> Result<Vec<Account>, ApiError> {
        self.numbered::<UserListV2>(
            self.req(&paths::USER_LIST_V2, "users")
                .target(q.organization_id.clone())
                .query("organization_id", &q.organization_id)
                .query("sub_org", q.sub_org)
                .query_opt("exclude_channel", q.exclude_channel.as_deref()),
        )
    }

    /// CDR v2, every page.
    pub fn cdrs(&self, q: &CdrQuery) -> Result<Vec<Cdr>, ApiError> {
        self.numbered::<CdrListV2>(
            self.req(&paths::CDR_V2, "cdrs")
                .target(q.organization_id.clone())
                .query("organization_id", &q.organization_id)
                .query("sub_org", q.sub_org)
                .query_opt("exclude_channel", q.exclude_channel.as_deref())
                .query_opt("from", q.from.as_deref())
                .query_opt("to", q.to.as_deref()),
        )
    }

    /// Numbers in an org's available pool.
    pub fn available_numbers(&self, org: &str) -> Result<Vec<PoolNumber>, ApiError> {
        self.t
            .send::<PoolList>(
                &self
                    .req(&paths::AVAILABLE_NUMBERS, "available_numbers")
                    .arg("org", org)
                    .target(org),
            )
            .map(|r| r.numbers)
    }

    /// Create a sub-org; repeated after an ambiguous failure only if no sub-org of that name exists.
    pub fn create_sub_org(&self, parent: &str, name: &str) -> Result<Org, ApiError> {
        let req = self
            .req(&paths::SUB_ORG_CREATE, "create_sub_org")
            .arg("org", parent)
            .target(format!("{name} under {parent}"))
            .json(&CreateSubOrg {
                name: name.to_string(),
            });
        self.t
            .send_checked::<OrgResponse, _>(&req, || {
                Ok(self
                    .orgs()?
                    .into_iter()
                    .find(|o| o.parent_id.as_deref() == Some(parent) && o.name == name)
                    .map(|o| OrgResponse {
                        status: "success".into(),
                        organization: o,
                    }))
            })
            .map(|r| r.organization)
    }

    /// Add an allowed email domain (a set: adding it again changes nothing).
    pub fn add_allowed_email_domain(&self, org: &str, domain: &str) -> Result<Org, ApiError> {
        let req = self
            .req(&paths::ALLOWED_DOMAIN_ADD, "add_allowed_email_domain")
            .arg("org", org)
            .target(format!("{domain} on {org}"))
            .json(&AllowedDomain {
                domain: domain.to_string(),
            });
        let bare = domain.trim_start_matches('@').to_ascii_lowercase();
        self.t
            .send_checked::<OrgResponse, _>(&req, || {
                let o = self.org(org)?;
                let has = o
                    .allowed_email_domains
                    .iter()
                    .any(|d| d.trim_start_matches('@').eq_ignore_ascii_case(&bare));
                Ok(has.then(|| OrgResponse {
                    status: "success".into(),
                    organization: o,
                }))
            })
            .map(|r| r.organization)
    }

    /// Setup → Feature Settings → Zoom Phone → Enable Zoom. Setting a flag is safe to repeat.
    pub fn set_zoom_enabled(&self, org: &str, on: bool) -> Result<Org, ApiError> {
        self.t
            .send::<OrgResponse>(
                &self
                    .req(&paths::ZOOM_FEATURE, "set_zoom_enabled")
                    .read_only()
                    .arg("org", org)
                    .target(org)
                    .json(&ZoomFeature { enable_zoom: on }),
            )
            .map(|r| r.organization)
    }

    /// Add a MultiLine account. Not idempotent: after a timeout or 5xx it reads the account by
    /// number and sends again only if it does not exist.
    pub fn add_account(&self, a: &AddAccount) -> Result<Account, ApiError> {
        let sel = crate::api::e164::E164::parse(&a.phone_number)
            .map(Selector::PhoneNumber)
            .map_err(|e| {
                ApiError::local(
                    Service::Movius,
                    "add_account",
                    &a.phone_number,
                    format!("phone_number: {e}"),
                )
            })?;
        let mut body = a.clone();
        if let Selector::PhoneNumber(n) = &sel {
            body.phone_number = n.digits().to_string();
        }
        let req = self
            .req(&paths::ACCOUNT_ADD, "add_account")
            .target(sel.to_string())
            .json(&body);
        self.t
            .send_checked::<AccountResponse, _>(&req, || match self.account(&sel) {
                Ok(acct) => Ok(Some(AccountResponse {
                    status: "success".into(),
                    account: acct,
                })),
                Err(e) if is_not_found(&e) => Ok(None),
                Err(e) => Err(e),
            })
            .map(|r| r.account)
    }

    /// Change an account's Zoom and Teams flags (setting flags is safe to repeat).
    pub fn modify_account(
        &self,
        sel: &Selector,
        enable_zoom: Option<bool>,
        teams_calling: Option<bool>,
    ) -> Result<Account, ApiError> {
        let s = selector_body(sel, None);
        let body = ModifyAccount {
            phone_number: s.phone_number,
            account_sid: s.account_sid,
            email: s.email,
            enable_zoom,
            teams_calling,
        };
        self.t
            .send::<AccountResponse>(
                &self
                    .req(&paths::ACCOUNT_MODIFY, "modify_account")
                    .read_only()
                    .target(sel.to_string())
                    .json(&body),
            )
            .map(|r| r.account)
    }

    /// Delete an account (unpeers its number). After an ambiguous failure it is sent again only
    /// if the account still exists.
    pub fn delete_account(&self, org: &str, sel: &Selector) -> Result<DeleteResponse, ApiError> {
        let req = self
            .req(&paths::ACCOUNT_DELETE, "delete_account")
            .target(sel.to_string())
            .json(&selector_body(sel, Some(org)));
        self.t
            .send_checked::<DeleteResponse, _>(&req, || match self.account(sel) {
                Ok(_) => Ok(None),
                Err(e) if is_not_found(&e) => Ok(Some(DeleteResponse {
                    status: "success".into(),
                    account_sid: match sel {
                        Selector::AccountSid(s) => s.clone(),
                        _ => String::new(),
                    },
                    phone_number: match sel {
                        Selector::PhoneNumber(n) => n.digits().to_string(),
                        _ => String::new(),
                    },
                })),
                Err(e) => Err(e),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::e164::E164;

    #[test]
    fn selector_sends_one_field() {
        let b = selector_body(
            &Selector::PhoneNumber(E164::parse("+1 312 617 0001").unwrap()),
            Some("org-1"),
        );
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            serde_json::json!({"organization_id": "org-1", "phone_number": "13126170001"})
        );
        let b = selector_body(&Selector::Email("a@b.com".into()), None);
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            serde_json::json!({"email": "a@b.com"})
        );
    }
}
