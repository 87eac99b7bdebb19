//! `vline call <service> <op> [k=v…] [--allow-write]`: one typed operation from the command line.
//!
//! Everything the operator typed is checked before any call (service, op, keys, numbers,
//! booleans); a mistake is one line and exit code 2. Operations that change state are refused
//! (exit code 3) without `--allow-write`.

use std::collections::BTreeMap;

use anyhow::Context;
use serde::Serialize;
use serde_json::Value;

use crate::api::clients::Clients;
use crate::api::movius::wire::AddAccount;
use crate::api::movius::{CdrQuery, UserListQuery};
use crate::api::zoom::wire::{Device, IdOrEmail, InternalNumber, NumberRef, PhoneUserPatch};
use crate::api::zoom::{NumberQuery, NumberType};
use crate::api::{ApiError, Selector, E164};
use crate::cli::{CallArgs, Global};
use crate::cmd::config::{load_profile, usage};
use crate::cmd::Usage;
use crate::config::Profile;
use crate::guard::{Impact, Refused};
use crate::sandbox::{Sandbox, SandboxOptions, StateLocation};

use Impact::{Irreversible as I, Read as R, Write as W};

/// One operation `vline call` knows: its impact and the keys it takes.
struct OpSpec {
    service: &'static str,
    name: &'static str,
    impact: Impact,
    keys: &'static [&'static str],
}

const SEL: [&str; 3] = ["phone_number", "account_sid", "email"];

const OPS: &[OpSpec] = &[
    OpSpec {
        service: "zoom",
        name: "numbers",
        impact: R,
        keys: &["type", "phone_number", "site_id"],
    },
    OpSpec {
        service: "zoom",
        name: "number",
        impact: R,
        keys: &["number", "id"],
    },
    OpSpec {
        service: "zoom",
        name: "user",
        impact: R,
        keys: &["user"],
    },
    OpSpec {
        service: "zoom",
        name: "users",
        impact: R,
        keys: &[],
    },
    OpSpec {
        service: "zoom",
        name: "phone_user",
        impact: R,
        keys: &["user"],
    },
    OpSpec {
        service: "zoom",
        name: "phone_users",
        impact: R,
        keys: &[],
    },
    OpSpec {
        service: "zoom",
        name: "sites",
        impact: R,
        keys: &[],
    },
    OpSpec {
        service: "zoom",
        name: "roles",
        impact: R,
        keys: &[],
    },
    OpSpec {
        service: "zoom",
        name: "calling_plans",
        impact: R,
        keys: &[],
    },
    OpSpec {
        service: "zoom",
        name: "peering_numbers",
        impact: R,
        keys: &[],
    },
    OpSpec {
        service: "zoom",
        name: "internal_numbers",
        impact: R,
        keys: &["account"],
    },
    OpSpec {
        service: "zoom",
        name: "call_history",
        impact: R,
        keys: &["from", "to"],
    },
    OpSpec {
        service: "zoom",
        name: "assign_number",
        impact: W,
        keys: &["user", "number", "number_id"],
    },
    OpSpec {
        service: "zoom",
        name: "unassign_number",
        impact: W,
        keys: &["user", "number", "number_id"],
    },
    OpSpec {
        service: "zoom",
        name: "enable_phone",
        impact: W,
        keys: &["user", "site_id", "extension"],
    },
    OpSpec {
        service: "zoom",
        name: "assign_calling_plan",
        impact: W,
        keys: &["user", "plan_type"],
    },
    OpSpec {
        service: "zoom",
        name: "remove_calling_plan",
        impact: W,
        keys: &["user", "plan_type"],
    },
    OpSpec {
        service: "zoom",
        name: "add_role_members",
        impact: W,
        keys: &["role_id", "members"],
    },
    OpSpec {
        service: "zoom",
        name: "add_device",
        impact: W,
        keys: &["display_name", "mac_address", "type", "model"],
    },
    OpSpec {
        service: "zoom",
        name: "assign_device",
        impact: W,
        keys: &["device_id", "extension_ids"],
    },
    OpSpec {
        service: "zoom",
        name: "add_internal_numbers",
        impact: W,
        keys: &[
            "account",
            "number",
            "display_number",
            "labels",
            "type",
            "country",
            "languages",
        ],
    },
    OpSpec {
        service: "zoom",
        name: "update_phone_user",
        impact: W,
        keys: &[
            "user",
            "extension_number",
            "site_id",
            "department",
            "cost_center",
        ],
    },
    OpSpec {
        service: "movius",
        name: "org",
        impact: R,
        keys: &["org", "id"],
    },
    OpSpec {
        service: "movius",
        name: "orgs",
        impact: R,
        keys: &[],
    },
    OpSpec {
        service: "movius",
        name: "account",
        impact: R,
        keys: &SEL,
    },
    OpSpec {
        service: "movius",
        name: "users",
        impact: R,
        keys: &["organization_id", "sub_org", "exclude_channel"],
    },
    OpSpec {
        service: "movius",
        name: "cdrs",
        impact: R,
        keys: &[
            "organization_id",
            "sub_org",
            "exclude_channel",
            "from",
            "to",
        ],
    },
    OpSpec {
        service: "movius",
        name: "available_numbers",
        impact: R,
        keys: &["org"],
    },
    OpSpec {
        service: "movius",
        name: "create_sub_org",
        impact: W,
        keys: &["parent", "name"],
    },
    OpSpec {
        service: "movius",
        name: "add_allowed_email_domain",
        impact: W,
        keys: &["org", "domain"],
    },
    OpSpec {
        service: "movius",
        name: "set_zoom_enabled",
        impact: W,
        keys: &["org", "on"],
    },
    OpSpec {
        service: "movius",
        name: "add_account",
        impact: I,
        keys: &[
            "organization_id",
            "phone_number",
            "first_name",
            "last_name",
            "email",
            "enable_zoom",
        ],
    },
    OpSpec {
        service: "movius",
        name: "modify_account",
        impact: W,
        keys: &[
            "phone_number",
            "account_sid",
            "email",
            "enable_zoom",
            "teams_calling",
        ],
    },
    OpSpec {
        service: "movius",
        name: "delete_account",
        impact: I,
        keys: &["organization_id", "phone_number", "account_sid", "email"],
    },
    OpSpec {
        service: "carrier",
        name: "provision_ptn",
        impact: W,
        keys: &["number", "tags"],
    },
    OpSpec {
        service: "carrier",
        name: "delete_ptn",
        impact: I,
        keys: &["number"],
    },
];

fn ops_of(service: &str) -> String {
    OPS.iter()
        .filter(|o| o.service == service)
        .map(|o| o.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn find_op(service: &str, op: &str) -> Result<&'static OpSpec, Usage> {
    if !OPS.iter().any(|o| o.service == service) {
        return Err(Usage(format!(
            "unknown service '{service}': use zoom, movius or carrier"
        )));
    }
    OPS.iter()
        .find(|o| o.service == service && o.name == op)
        .ok_or_else(|| {
            Usage(format!(
                "unknown {service} operation '{op}'; {service} has: {}",
                ops_of(service)
            ))
        })
}

/// The `key=value` arguments of one op, checked against its keys.
struct Params {
    op: String,
    map: BTreeMap<String, String>,
    /// The profile's `default_region`: how numbers without a country code are read.
    region: Option<crate::api::Region>,
}

impl Params {
    fn parse(spec: &OpSpec, raw: &[String]) -> Result<Params, Usage> {
        let op = format!("{} {}", spec.service, spec.name);
        let mut map = BTreeMap::new();
        for arg in raw {
            let Some((k, v)) = arg.split_once('=') else {
                return Err(Usage(format!("{op}: '{arg}' is not key=value")));
            };
            let k = k.trim();
            if !spec.keys.contains(&k) {
                let keys = if spec.keys.is_empty() {
                    "none".to_string()
                } else {
                    spec.keys.join(", ")
                };
                return Err(Usage(format!("{op}: unknown key '{k}'; keys: {keys}")));
            }
            if map.insert(k.to_string(), v.trim().to_string()).is_some() {
                return Err(Usage(format!("{op}: key '{k}' given twice")));
            }
        }
        Ok(Params {
            op,
            map,
            region: None,
        })
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.map
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn req(&self, k: &str) -> Result<String, Usage> {
        self.get(k)
            .map(str::to_string)
            .ok_or_else(|| Usage(format!("{}: {k}=… is required", self.op)))
    }

    fn e164(&self, k: &str) -> Result<Option<E164>, Usage> {
        self.get(k)
            .map(|v| {
                E164::parse_in(v, self.region).map_err(|e| Usage(format!("{}: {k}: {e}", self.op)))
            })
            .transpose()
    }

    fn e164_list(&self, k: &str) -> Result<Vec<E164>, Usage> {
        self.list(k)
            .iter()
            .map(|v| {
                E164::parse_in(v, self.region).map_err(|e| Usage(format!("{}: {k}: {e}", self.op)))
            })
            .collect()
    }

    fn list(&self, k: &str) -> Vec<String> {
        self.get(k)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn bool(&self, k: &str) -> Result<Option<bool>, Usage> {
        self.get(k)
            .map(|v| match v.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => Ok(true),
                "false" | "no" | "off" | "0" => Ok(false),
                _ => Err(Usage(format!(
                    "{}: {k}={v} is not a boolean (true or false)",
                    self.op
                ))),
            })
            .transpose()
    }

    fn int(&self, k: &str) -> Result<Option<i64>, Usage> {
        self.get(k)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| Usage(format!("{}: {k}={v} is not a whole number", self.op)))
            })
            .transpose()
    }

    fn selector(&self) -> Result<Selector, Usage> {
        let number = self.e164("phone_number")?.map(|n| n.to_string());
        Selector::from_parts(
            number.as_deref(),
            self.get("account_sid"),
            self.get("email"),
        )
        .map_err(|e| Usage(format!("{}: {e}", self.op)))
    }

    /// An org id from `key`, else the profile's `movius_org`.
    fn org(&self, k: &str, profile: &Profile) -> Result<String, Usage> {
        self.get(k)
            .map(str::to_string)
            .or_else(|| profile.movius_org.clone())
            .ok_or_else(|| {
                Usage(format!(
                    "{}: {k}=… is required (or set movius_org in the profile)",
                    self.op
                ))
            })
    }

    /// `number=` (E.164, comma-separated) and `number_id=` (Zoom ids) as number references.
    fn number_refs(&self) -> Result<Vec<NumberRef>, Usage> {
        let mut refs: Vec<NumberRef> = self
            .e164_list("number")?
            .iter()
            .map(NumberRef::by_number)
            .collect();
        refs.extend(self.list("number_id").iter().map(|id| NumberRef::by_id(id)));
        if refs.is_empty() {
            return Err(Usage(format!(
                "{}: number=… (E.164) or number_id=… is required",
                self.op
            )));
        }
        Ok(refs)
    }
}

type Action = Box<dyn FnOnce(&Clients) -> Result<Value, ApiError>>;

fn json<T: Serialize>(r: Result<T, ApiError>) -> Result<Value, ApiError> {
    r.map(|v| serde_json::to_value(v).unwrap_or(Value::Null))
}

fn done(r: Result<(), ApiError>) -> Result<Value, ApiError> {
    r.map(|()| serde_json::json!({"status": "done"}))
}

fn carrier(c: &Clients, op: &str) -> Result<crate::api::movius::CarrierClient, ApiError> {
    c.carrier.clone().ok_or_else(|| {
        ApiError::local(
            crate::api::Service::Carrier,
            op,
            "",
            "the carrier API exists only in the sandbox profile",
        )
    })
}

/// Turn checked arguments into the one call to make.
fn plan(spec: &OpSpec, p: &Params, profile: &Profile) -> Result<Action, Usage> {
    let a: Action = match (spec.service, spec.name) {
        ("zoom", "numbers") => {
            let q = NumberQuery {
                kind: p
                    .get("type")
                    .map(|t| {
                        t.parse::<NumberType>()
                            .map_err(|e| Usage(format!("{}: type: {e}", p.op)))
                    })
                    .transpose()?,
                phone_number: p.e164("phone_number")?,
                site_id: p.get("site_id").map(str::to_string),
            };
            Box::new(move |c| json(c.zoom.numbers(&q)))
        }
        ("zoom", "number") => {
            let key = match (p.e164("number")?, p.get("id")) {
                (Some(n), _) => n.to_string(),
                (None, Some(id)) => id.to_string(),
                (None, None) => {
                    return Err(Usage(format!(
                        "{}: number=… (E.164) or id=… is required",
                        p.op
                    )))
                }
            };
            Box::new(move |c| json(c.zoom.number(&key)))
        }
        ("zoom", "user") => {
            let u = p.req("user")?;
            Box::new(move |c| json(c.zoom.user(&u)))
        }
        ("zoom", "users") => Box::new(|c| json(c.zoom.users())),
        ("zoom", "phone_user") => {
            let u = p.req("user")?;
            Box::new(move |c| json(c.zoom.phone_user(&u)))
        }
        ("zoom", "phone_users") => Box::new(|c| json(c.zoom.phone_users())),
        ("zoom", "sites") => Box::new(|c| json(c.zoom.sites())),
        ("zoom", "roles") => Box::new(|c| json(c.zoom.roles())),
        ("zoom", "calling_plans") => Box::new(|c| json(c.zoom.calling_plans())),
        ("zoom", "peering_numbers") => Box::new(|c| json(c.zoom.peering_numbers())),
        ("zoom", "internal_numbers") => {
            let acct = p.get("account").unwrap_or("me").to_string();
            Box::new(move |c| json(c.zoom.internal_numbers(&acct)))
        }
        ("zoom", "call_history") => {
            let (from, to) = (p.req("from")?, p.req("to")?);
            Box::new(move |c| json(c.zoom.call_history(&from, &to)))
        }
        ("zoom", "assign_number") => {
            let (u, refs) = (p.req("user")?, p.number_refs()?);
            if refs.len() > crate::api::zoom::client::MAX_ASSIGN {
                return Err(Usage(format!(
                    "{}: at most {} numbers per call",
                    p.op,
                    crate::api::zoom::client::MAX_ASSIGN
                )));
            }
            Box::new(move |c| json(c.zoom.assign_number(&u, &refs)))
        }
        ("zoom", "unassign_number") => {
            let u = p.req("user")?;
            let refs = p.number_refs()?;
            if refs.len() != 1 {
                return Err(Usage(format!("{}: one number at a time", p.op)));
            }
            let n = refs[0]
                .number
                .clone()
                .or_else(|| refs[0].id.clone())
                .unwrap_or_default();
            Box::new(move |c| done(c.zoom.unassign_number(&u, &n)))
        }
        ("zoom", "enable_phone") => {
            let u = p.req("user")?;
            let site = p.get("site_id").map(str::to_string);
            let ext = p.int("extension")?;
            Box::new(move |c| done(c.zoom.enable_phone(&u, site.as_deref(), ext)))
        }
        ("zoom", "assign_calling_plan") | ("zoom", "remove_calling_plan") => {
            let u = p.req("user")?;
            let plan = p
                .int("plan_type")?
                .ok_or_else(|| Usage(format!("{}: plan_type=… is required", p.op)))?;
            if spec.name == "assign_calling_plan" {
                Box::new(move |c| done(c.zoom.assign_calling_plan(&u, plan)))
            } else {
                Box::new(move |c| {
                    eprintln!(
                        "warning: removing a calling plan also drops the user's direct number"
                    );
                    done(c.zoom.remove_calling_plan(&u, plan))
                })
            }
        }
        ("zoom", "add_role_members") => {
            let role = p.req("role_id")?;
            let members: Vec<IdOrEmail> = p
                .list("members")
                .into_iter()
                .map(|m| {
                    if m.contains('@') {
                        IdOrEmail {
                            id: None,
                            email: Some(m),
                        }
                    } else {
                        IdOrEmail {
                            id: Some(m),
                            email: None,
                        }
                    }
                })
                .collect();
            if members.is_empty() {
                return Err(Usage(format!(
                    "{}: members=… (ids or emails, comma-separated) is required",
                    p.op
                )));
            }
            Box::new(move |c| done(c.zoom.add_role_members(&role, &members)))
        }
        ("zoom", "add_device") => {
            let d = Device {
                display_name: p.req("display_name")?,
                mac_address: p.req("mac_address")?,
                kind: p.req("type")?,
                model: p.get("model").map(str::to_string),
                ..Device::default()
            };
            Box::new(move |c| json(c.zoom.add_device(&d)))
        }
        ("zoom", "assign_device") => {
            let id = p.req("device_id")?;
            let ext = p.list("extension_ids");
            if ext.is_empty() {
                return Err(Usage(format!("{}: extension_ids=… is required", p.op)));
            }
            Box::new(move |c| done(c.zoom.assign_device(&id, &ext)))
        }
        ("zoom", "add_internal_numbers") => {
            let acct = p.get("account").unwrap_or("me").to_string();
            let n = p
                .e164("number")?
                .ok_or_else(|| Usage(format!("{}: number=… is required", p.op)))?;
            let row = InternalNumber {
                id: None,
                labels: p.get("labels").unwrap_or("vline").to_string(),
                number: n.to_string(),
                display_number: p
                    .get("display_number")
                    .map(str::to_string)
                    .unwrap_or_else(|| n.to_string()),
                kind: p.int("type")?.unwrap_or(0),
                country: p.get("country").unwrap_or("US").to_string(),
                languages: p.get("languages").unwrap_or("en-US").to_string(),
                visible: None,
                allow_join: None,
                allow_for_external_meetings: None,
            };
            Box::new(move |c| json(c.zoom.add_internal_numbers(&acct, &[row])))
        }
        ("zoom", "update_phone_user") => {
            let u = p.req("user")?;
            let patch = PhoneUserPatch {
                extension_number: p.int("extension_number")?,
                site_id: p.get("site_id").map(str::to_string),
                department: p.get("department").map(str::to_string),
                cost_center: p.get("cost_center").map(str::to_string),
            };
            Box::new(move |c| done(c.zoom.update_phone_user(&u, &patch)))
        }
        ("movius", "org") => {
            // `id=` as in the script function `movius::org(id)`.
            let org = match p.get("id") {
                Some(id) => id.to_string(),
                None => p.org("org", profile)?,
            };
            Box::new(move |c| json(c.movius.org(&org)))
        }
        ("movius", "orgs") => Box::new(|c| json(c.movius.orgs())),
        ("movius", "account") => {
            let sel = p.selector()?;
            Box::new(move |c| json(c.movius.account(&sel)))
        }
        ("movius", "users") => {
            let q = UserListQuery {
                organization_id: p.org("organization_id", profile)?,
                sub_org: p.bool("sub_org")?.unwrap_or(false),
                exclude_channel: p.get("exclude_channel").map(str::to_string),
            };
            Box::new(move |c| json(c.movius.users(&q)))
        }
        ("movius", "cdrs") => {
            let q = CdrQuery {
                organization_id: p.org("organization_id", profile)?,
                sub_org: p.bool("sub_org")?.unwrap_or(false),
                exclude_channel: p.get("exclude_channel").map(str::to_string),
                from: p.get("from").map(str::to_string),
                to: p.get("to").map(str::to_string),
            };
            Box::new(move |c| json(c.movius.cdrs(&q)))
        }
        ("movius", "available_numbers") => {
            let org = p.org("org", profile)?;
            Box::new(move |c| json(c.movius.available_numbers(&org)))
        }
        ("movius", "create_sub_org") => {
            let (parent, name) = (p.org("parent", profile)?, p.req("name")?);
            Box::new(move |c| json(c.movius.create_sub_org(&parent, &name)))
        }
        ("movius", "add_allowed_email_domain") => {
            let (org, domain) = (p.org("org", profile)?, p.req("domain")?);
            Box::new(move |c| json(c.movius.add_allowed_email_domain(&org, &domain)))
        }
        ("movius", "set_zoom_enabled") => {
            let org = p.org("org", profile)?;
            let on = p
                .bool("on")?
                .ok_or_else(|| Usage(format!("{}: on=true|false is required", p.op)))?;
            Box::new(move |c| json(c.movius.set_zoom_enabled(&org, on)))
        }
        ("movius", "add_account") => {
            let n = p
                .e164("phone_number")?
                .ok_or_else(|| Usage(format!("{}: phone_number=… is required", p.op)))?;
            let (first, last, email) = profile.naming.render(&n);
            let email = p.get("email").map(str::to_string).unwrap_or(email);
            if !crate::api::selector::is_email(&email) {
                return Err(Usage(format!(
                    "{}: email '{email}' is not an email address",
                    p.op
                )));
            }
            let a = AddAccount {
                organization_id: p.org("organization_id", profile)?,
                phone_number: n.digits().to_string(),
                first_name: p.get("first_name").map(str::to_string).unwrap_or(first),
                last_name: p.get("last_name").map(str::to_string).unwrap_or(last),
                email,
                enable_zoom: p.bool("enable_zoom")?.unwrap_or(false),
            };
            Box::new(move |c| json(c.movius.add_account(&a)))
        }
        ("movius", "modify_account") => {
            let sel = p.selector()?;
            let (z, t) = (p.bool("enable_zoom")?, p.bool("teams_calling")?);
            if z.is_none() && t.is_none() {
                return Err(Usage(format!(
                    "{}: give enable_zoom=… and/or teams_calling=…",
                    p.op
                )));
            }
            Box::new(move |c| json(c.movius.modify_account(&sel, z, t)))
        }
        ("movius", "delete_account") => {
            let org = p.org("organization_id", profile)?;
            let sel = p.selector()?;
            Box::new(move |c| json(c.movius.delete_account(&org, &sel)))
        }
        ("carrier", "provision_ptn") => {
            let numbers = p.e164_list("number")?;
            if numbers.is_empty() {
                return Err(Usage(format!(
                    "{}: number=… (comma-separated E.164) is required",
                    p.op
                )));
            }
            let tags = p.list("tags");
            Box::new(move |c| json(carrier(c, "provision_ptn")?.provision_ptn(&numbers, &tags)))
        }
        ("carrier", "delete_ptn") => {
            let n = p
                .e164("number")?
                .ok_or_else(|| Usage(format!("{}: number=… is required", p.op)))?;
            Box::new(move |c| done(carrier(c, "delete_ptn")?.delete_ptn(&n)))
        }
        (s, o) => return Err(Usage(format!("{s} {o} is not available from `vline call`"))),
    };
    Ok(a)
}

/// Same, for an already loaded profile; returns the profile with its URLs filled in.
pub(crate) fn open_clients_for(
    profile: Profile,
) -> anyhow::Result<(Clients, Option<Sandbox>, Profile)> {
    // Secrets first: a missing one is a usage error, before a sandbox starts or a call leaves.
    let secrets = profile.resolve_secrets().map_err(usage)?;
    let (profile, sandbox) = if profile.is_sandbox() {
        let state = crate::config::data_dir().join("sandbox.sqlite");
        let opts = SandboxOptions {
            state: StateLocation::File(state.clone()),
            plan: profile.zoom_plan,
            ..SandboxOptions::default()
        };
        let sb = Sandbox::start(opts)
            .with_context(|| format!("cannot start the sandbox on {}", state.display()))?;
        let p = profile.with_sandbox_urls(
            &sb.zoom_api_url(),
            &sb.zoom_oauth_url(),
            &sb.movius_url(),
            &sb.carrier_url(),
        );
        (p, Some(sb))
    } else {
        (profile, None)
    };
    let clients = Clients::new(&profile, &secrets).map_err(usage)?;
    Ok((clients, sandbox, profile))
}

pub fn run(global: &Global, args: CallArgs) -> anyhow::Result<()> {
    if args.op == "help" && OPS.iter().any(|o| o.service == args.service) {
        return print_ops(&args.service, global.json);
    }
    let spec = find_op(&args.service, &args.op)?;
    let mut params = Params::parse(spec, &args.params)?;
    let profile = load_profile(global)?;
    params.region = profile.default_region;
    if spec.service == "carrier" && !profile.is_sandbox() {
        return Err(Usage(format!(
            "carrier operations exist only in the sandbox profile (profile '{}' is real)",
            profile.name
        ))
        .into());
    }
    let action = plan(spec, &params, &profile)?;
    if spec.impact.changes_state() && !args.allow_write {
        return Err(Refused {
            reason: format!(
                "{} {} is a {} operation",
                spec.service,
                spec.name,
                spec.impact.as_str()
            ),
            how_to_proceed: "re-run with --allow-write to send it".into(),
        }
        .into());
    }
    let (clients, sandbox, _) = open_clients_for(profile)?;
    let result = action(&clients);
    drop(clients);
    if let Some(sb) = sandbox {
        sb.shutdown();
    }
    let value = result?;
    print_value(&value, global.json)
}

/// `vline call <service> help`: the operations, their impact and keys.
fn print_ops(service: &str, as_json: bool) -> anyhow::Result<()> {
    let ops: Vec<&OpSpec> = OPS.iter().filter(|o| o.service == service).collect();
    if as_json {
        let v: Vec<Value> = ops
            .iter()
            .map(|o| serde_json::json!({"op": o.name, "impact": o.impact.as_str(), "keys": o.keys}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(vec!["op", "impact", "keys (key=value)"]);
    for o in ops {
        t.add_row(vec![
            o.name.to_string(),
            o.impact.as_str().to_string(),
            o.keys.join(" "),
        ]);
    }
    println!("{t}");
    Ok(())
}

/// JSON for pipelines, else a table (arrays of objects) or key/value lines (one object).
fn print_value(v: &Value, as_json: bool) -> anyhow::Result<()> {
    if as_json {
        println!("{}", serde_json::to_string_pretty(v)?);
        return Ok(());
    }
    match v {
        Value::Array(rows) if rows.is_empty() => println!("(none)"),
        Value::Array(rows) => {
            let mut cols: Vec<String> = Vec::new();
            for r in rows {
                if let Value::Object(m) = r {
                    for k in m.keys() {
                        if !cols.contains(k) {
                            cols.push(k.clone());
                        }
                    }
                }
            }
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            if cols.is_empty() {
                t.set_header(vec!["value"]);
                for r in rows {
                    t.add_row(vec![cell(r)]);
                }
            } else {
                t.set_header(cols.clone());
                for r in rows {
                    t.add_row(
                        cols.iter()
                            .map(|c| r.get(c).map(cell).unwrap_or_default())
                            .collect::<Vec<_>>(),
                    );
                }
            }
            println!("{t}");
            println!(
                "{} row{}",
                rows.len(),
                if rows.len() == 1 { "" } else { "s" }
            );
        }
        Value::Object(m) => {
            let width = m.keys().map(String::len).max().unwrap_or(0);
            for (k, val) in m {
                println!("{k:width$}  {}", cell(val));
            }
        }
        other => println!("{}", cell(other)),
    }
    Ok(())
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Object(m) if m.is_empty() => String::new(),
        Value::Array(a) if a.is_empty() => String::new(),
        // `{id, name}`-like references read better by name.
        Value::Object(m) if m.contains_key("name") || m.contains_key("number") => m
            .get("name")
            .or_else(|| m.get("number"))
            .map(cell)
            .unwrap_or_default(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(service: &str, op: &str, args: &[&str]) -> Result<Action, Usage> {
        let spec = find_op(service, op)?;
        let p = Params::parse(
            spec,
            &args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )?;
        plan(
            spec,
            &p,
            &crate::config::Config::default()
                .profile(None)
                .expect("sandbox profile"),
        )
    }

    fn err(service: &str, op: &str, args: &[&str]) -> String {
        match parse(service, op, args) {
            Ok(_) => panic!("{service} {op} {args:?} was accepted"),
            Err(e) => e.0,
        }
    }

    #[test]
    fn every_op_is_planned() {
        for o in OPS {
            let _ = parse(o.service, o.name, &[]);
        }
    }

    #[test]
    fn mistakes_are_one_line() {
        assert_eq!(
            err("zoom", "numbrs", &[]),
            format!(
                "unknown zoom operation 'numbrs'; zoom has: {}",
                ops_of("zoom")
            )
        );
        assert_eq!(
            err("teams", "x", &[]),
            "unknown service 'teams': use zoom, movius or carrier"
        );
        assert_eq!(
            err("zoom", "numbers", &["kind=all"]),
            "zoom numbers: unknown key 'kind'; keys: type, phone_number, site_id"
        );
        assert_eq!(
            err("zoom", "numbers", &["type"]),
            "zoom numbers: 'type' is not key=value"
        );
        assert!(err("zoom", "numbers", &["phone_number=+1 312 abc"])
            .starts_with("zoom numbers: phone_number: '+1 312 abc' contains 'a'"));
        assert!(err("movius", "account", &["phone_number=12345"]).contains("has no country code"));
        assert_eq!(
            err("movius", "account", &[]),
            "movius account: an account selector needs phone_number, account_sid or email"
        );
        assert!(err(
            "movius",
            "modify_account",
            &["phone_number=13126170001", "enable_zoom=maybe"]
        )
        .contains("not a boolean"));
        assert!(err("zoom", "numbers", &["type=free"]).contains("unknown number type"));
        // The built-in sandbox profile names a default org (org-zoom), so none is needed.
        assert!(parse("movius", "org", &[]).is_ok());
    }

    #[test]
    fn cells_read_like_the_portal() {
        assert_eq!(
            cell(&serde_json::json!({"id": "x", "name": "Main"})),
            "Main"
        );
        assert_eq!(cell(&serde_json::json!(true)), "true");
        assert_eq!(cell(&Value::Null), "");
    }
}
