//! Every Movius and carrier path vline calls, in one table.
//!
//! The guide spells out only the three `myid_authentications` operations and the carrier's
//! `POST /ptns`. Every other path here is **assumed** (marked so) until Movius documents it; the
//! sandbox serves exactly this table, so a correction here moves both sides at once.

/// One endpoint: method, path template (`{org}`, `{number}` are filled in), and whether the guide
/// documents it or we assumed it.
#[derive(Clone, Copy, Debug)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub assumed: bool,
}

const fn documented(method: &'static str, path: &'static str) -> Endpoint {
    Endpoint {
        method,
        path,
        assumed: false,
    }
}
const fn assumed(method: &'static str, path: &'static str) -> Endpoint {
    Endpoint {
        method,
        path,
        assumed: true,
    }
}

/// Root of the MCP web API (relative to the Movius base URL).
pub const MCP: &str = "/adk/services/mcpwebapi";

pub const ACCOUNT_ADD: Endpoint =
    documented("POST", "/adk/services/mcpwebapi/myid_authentications/add");
pub const ACCOUNT_MODIFY: Endpoint = documented(
    "POST",
    "/adk/services/mcpwebapi/myid_authentications/modify",
);
pub const ACCOUNT_DELETE: Endpoint = documented(
    "POST",
    "/adk/services/mcpwebapi/myid_authentications/delete",
);
/// Read one account by selector (body: the selector fields, same precedence).
pub const ACCOUNT_GET: Endpoint =
    assumed("POST", "/adk/services/mcpwebapi/myid_authentications/get");
pub const ORGS: Endpoint = assumed("GET", "/adk/services/mcpwebapi/organizations");
pub const ORG: Endpoint = assumed("GET", "/adk/services/mcpwebapi/organizations/{org}");
pub const SUB_ORG_CREATE: Endpoint = assumed(
    "POST",
    "/adk/services/mcpwebapi/organizations/{org}/sub_orgs",
);
pub const ALLOWED_DOMAIN_ADD: Endpoint = assumed(
    "POST",
    "/adk/services/mcpwebapi/organizations/{org}/allowed_email_domains",
);
/// Setup → Feature Settings → Zoom Phone → Enable Zoom.
pub const ZOOM_FEATURE: Endpoint = assumed(
    "POST",
    "/adk/services/mcpwebapi/organizations/{org}/feature_settings/zoom_phone",
);
pub const AVAILABLE_NUMBERS: Endpoint = assumed(
    "GET",
    "/adk/services/mcpwebapi/organizations/{org}/available_numbers",
);
/// User list v2: `organization_id`, `sub_org`, `exclude_channel`.
pub const USER_LIST_V2: Endpoint = assumed("GET", "/adk/services/mcpwebapi/v2/user/list");
/// CDR v2: `organization_id`, `sub_org`, `exclude_channel`, `from`, `to`.
pub const CDR_V2: Endpoint = assumed("GET", "/adk/services/mcpwebapi/v2/cdr");

/// Carrier (T-Mobile) PTN API: documented by the guide as `POST /ptns`.
pub const CARRIER_PTNS: Endpoint = documented("POST", "/ptns");
pub const CARRIER_PTN_DELETE: Endpoint = assumed("DELETE", "/ptns/{number}");

/// All endpoints, for `vline doc` and the sandbox's route check.
pub const ALL: &[(&str, Endpoint)] = &[
    ("account_add", ACCOUNT_ADD),
    ("account_modify", ACCOUNT_MODIFY),
    ("account_delete", ACCOUNT_DELETE),
    ("account_get", ACCOUNT_GET),
    ("orgs", ORGS),
    ("org", ORG),
    ("sub_org_create", SUB_ORG_CREATE),
    ("allowed_domain_add", ALLOWED_DOMAIN_ADD),
    ("zoom_feature", ZOOM_FEATURE),
    ("available_numbers", AVAILABLE_NUMBERS),
    ("user_list_v2", USER_LIST_V2),
    ("cdr_v2", CDR_V2),
    ("carrier_ptns", CARRIER_PTNS),
    ("carrier_ptn_delete", CARRIER_PTN_DELETE),
];

impl Endpoint {
    /// The path with `{org}` / `{number}` filled in.
    pub fn fill(&self, vars: &[(&str, &str)]) -> String {
        let mut p = self.path.to_string();
        for (k, v) in vars {
            p = p.replace(&format!("{{{k}}}"), v);
        }
        p
    }
}
