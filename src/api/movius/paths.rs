//! Every Movius and carrier path vline calls, in one table.
//!
//! The guide spells out only the three `myid_authentications` operations and the carrier's
//! `POST /ptns`. Every other path here is **assumed** (marked so) until Movius documents it; the
//! sandbox serves exactly this table, so a correction here moves both sides at once. A profile
//! overrides any entry by name (`[profiles.X.movius_paths]`, [`MoviusPaths`]) so that an admin who
//! learns a real path need not recompile.

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

/// Where an entry of the resolved table comes from (`vline config show` marks each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PathSource {
    /// Spelled out by the guide.
    Guide,
    /// vline's assumption, until Movius documents it.
    Assumed,
    /// Set by the profile's `[profiles.X.movius_paths]`.
    Configured,
}

impl std::fmt::Display for PathSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PathSource::Guide => "guide",
            PathSource::Assumed => "assumed",
            PathSource::Configured => "configured",
        })
    }
}

/// One entry of the resolved table.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ResolvedPath {
    pub name: &'static str,
    pub method: &'static str,
    pub path: String,
    pub source: PathSource,
}

/// The path table with a profile's overrides: an admin who learns a real path sets it in the
/// config (`[profiles.X.movius_paths] org = "/…/orgs/{org}"`) instead of recompiling. The names
/// are those of [`ALL`]; an override keeps the entry's method and must use the same `{…}`
/// variables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MoviusPaths {
    overrides: std::collections::BTreeMap<String, String>,
}

fn variables(path: &str) -> Vec<&str> {
    let mut v: Vec<&str> = path
        .split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(name, _)| name))
        .collect();
    v.sort_unstable();
    v
}

impl MoviusPaths {
    /// Check the overrides: known names, paths from `/`, the default's variables exactly.
    pub fn new(overrides: &std::collections::BTreeMap<String, String>) -> Result<Self, String> {
        for (name, path) in overrides {
            let Some((_, ep)) = ALL.iter().find(|(n, _)| n == name) else {
                let known: Vec<&str> = ALL.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "movius_paths.{name} is not a Movius path vline calls; known: {}",
                    known.join(", ")
                ));
            };
            if !path.starts_with('/')
                || path.contains(['?', '#'])
                || path.chars().any(char::is_whitespace)
            {
                return Err(format!(
                    "movius_paths.{name} = \"{path}\": a path below movius_url, starting with /, without query or spaces"
                ));
            }
            if variables(path) != variables(ep.path) {
                return Err(format!(
                    "movius_paths.{name} = \"{path}\": must use the variables of \"{}\" ({})",
                    ep.path,
                    if variables(ep.path).is_empty() {
                        "none".to_string()
                    } else {
                        variables(ep.path)
                            .iter()
                            .map(|v| format!("{{{v}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ));
            }
        }
        Ok(MoviusPaths {
            overrides: overrides.clone(),
        })
    }

    /// The path template to call for an endpoint of [`ALL`].
    pub fn path(&self, ep: &Endpoint) -> String {
        ALL.iter()
            .find(|(_, e)| e.method == ep.method && e.path == ep.path)
            .and_then(|(name, _)| self.overrides.get(*name))
            .cloned()
            .unwrap_or_else(|| ep.path.to_string())
    }

    /// Every entry, resolved, in the order of [`ALL`].
    pub fn table(&self) -> Vec<ResolvedPath> {
        ALL.iter()
            .map(|(name, ep)| match self.overrides.get(*name) {
                Some(p) => ResolvedPath {
                    name,
                    method: ep.method,
                    path: p.clone(),
                    source: PathSource::Configured,
                },
                None => ResolvedPath {
                    name,
                    method: ep.method,
                    path: ep.path.to_string(),
                    source: if ep.assumed {
                        PathSource::Assumed
                    } else {
                        PathSource::Guide
                    },
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn map(k: &str, v: &str) -> BTreeMap<String, String> {
        BTreeMap::from([(k.to_string(), v.to_string())])
    }

    #[test]
    fn overrides_replace_one_path_and_are_marked() {
        let p = MoviusPaths::new(&map("org", "/mmp/api/orgs/{org}")).unwrap();
        assert_eq!(p.path(&ORG), "/mmp/api/orgs/{org}");
        assert_eq!(p.path(&ORGS), ORGS.path);
        let t = p.table();
        let src = |n: &str| t.iter().find(|r| r.name == n).unwrap().source;
        assert_eq!(src("org"), PathSource::Configured);
        assert_eq!(src("orgs"), PathSource::Assumed);
        assert_eq!(src("account_add"), PathSource::Guide);
    }

    #[test]
    fn bad_overrides_are_refused_naming_the_entry() {
        assert!(MoviusPaths::new(&map("orgz", "/x"))
            .unwrap_err()
            .starts_with(
                "movius_paths.orgz is not a Movius path vline calls; known: account_add,"
            ));
        assert_eq!(
            MoviusPaths::new(&map("org", "/orgs/{id}")).unwrap_err(),
            "movius_paths.org = \"/orgs/{id}\": must use the variables of \"/adk/services/mcpwebapi/organizations/{org}\" ({org})"
        );
        assert!(MoviusPaths::new(&map("orgs", "orgs")).is_err());
    }
}
