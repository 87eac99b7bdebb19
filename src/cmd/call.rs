//! `vline call <service> <op> [k=v…] [--allow-write]`: one script function from the command line.
//!
//! A thin front on the host: the operation, its impact and its parameters come from the
//! catalog, and the call runs as a one-line script through [`super::run::execute`], so a write
//! passes the same plan, confirmation, guard and journal as a procedure. The operator's
//! arguments are checked by the function itself before anything opens (a mistake is one line
//! and exit code 2); writes are refused (exit 3) without `--allow-write`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::cli::{CallArgs, Global};
use crate::cmd::config::load_profile;
use crate::cmd::Usage;
use crate::config::Profile;
use crate::host::bundle::{Origin, Source};
use crate::host::catalog::{FnDoc, CATALOG};
use crate::host::header::Header;
use crate::host::script::{explain, Failure, Script};
use crate::host::session::{as_stop, Stop};

use super::run::{execute, Flags, Job, Mode};

/// The services a script reaches (modules with functions that call them).
const SERVICES: [&str; 3] = ["zoom", "movius", "carrier"];

/// Keys that select a Movius account; they fill a `sel` parameter.
const SELECTOR_KEYS: [&str; 3] = ["phone_number", "account_sid", "email"];

/// Keys that hold phone numbers: read as operator input (national forms in the profile's
/// `default_region`, else refused) and passed on in E.164.
const NUMBER_KEYS: [&str; 3] = ["phone_number", "number", "e164"];

/// `v` (one number, or a comma-separated list) in E.164, by the profile's region.
fn numbers_in(op: &str, k: &str, v: &str, profile: &Profile) -> Result<String, Usage> {
    v.split(',')
        .map(|n| {
            crate::api::E164::parse_in(n.trim(), profile.default_region)
                .map(|e| e.to_string())
                .map_err(|e| Usage(format!("{op}: {k}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|v| v.join(","))
}

fn ops_of(service: &str) -> Vec<&'static FnDoc> {
    CATALOG.iter().filter(|d| d.module == service).collect()
}

fn find_op(service: &str, op: &str) -> Result<&'static FnDoc, Usage> {
    if !SERVICES.contains(&service) {
        return Err(Usage(format!(
            "unknown service '{service}': use zoom, movius or carrier"
        )));
    }
    CATALOG
        .iter()
        .find(|d| d.module == service && d.name == op)
        .ok_or_else(|| {
            Usage(format!(
                "unknown {service} operation '{op}'; {service} has: {}",
                ops_of(service)
                    .iter()
                    .map(|d| d.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// One parameter of a catalog signature: `number: string|map|array`.
#[derive(Debug, Clone, PartialEq)]
struct Param {
    name: String,
    types: Vec<String>,
}

impl Param {
    fn takes(&self, ty: &str) -> bool {
        self.types.iter().any(|t| t == ty)
    }
}

/// The parameters of `zoom::assign_number(user: string, number: string|map|array) -> array`.
fn params_of(signature: &str) -> Vec<Param> {
    let inner = signature
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(args, _)| args)
        .unwrap_or_default();
    inner
        .split(',')
        .filter_map(|p| p.split_once(':'))
        .map(|(n, t)| Param {
            name: n.trim().to_string(),
            types: t.split('|').map(|t| t.trim().to_string()).collect(),
        })
        .collect()
}

/// A value typed from the command line: `true`/`false`, a small whole number, or text (phone
/// numbers, ids and emails stay text).
fn typed(v: &str) -> Value {
    match v {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ if v.len() <= 9 && !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => v
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| v.into()),
        _ => Value::String(v.to_string()),
    }
}

/// A Rhai literal for `v`; every character that is not plainly safe is escaped, so an argument
/// can never become code.
fn literal(v: &Value) -> String {
    match v {
        Value::Null => "()".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let mut out = String::from("\"");
            for c in s.chars() {
                if c.is_ascii_alphanumeric() || " @.+-_:/".contains(c) {
                    out.push(c);
                } else if (c as u32) <= 0xFFFF {
                    out.push_str(&format!("\\u{:04X}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08X}", c as u32));
                }
            }
            out.push('"');
            out
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(literal).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "#{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", literal(&Value::String(k.clone())), literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The one script call for `key=value` arguments, by the signature's parameter names. A key
/// naming a parameter fills it (`array` parameters take comma-separated lists); the other keys
/// fill the function's map parameter (account selector keys its `sel`); a missing Movius org
/// takes the profile's `movius_org`.
fn build(doc: &FnDoc, raw: &[String], profile: &Profile) -> Result<String, Usage> {
    let op = format!("{} {}", doc.module, doc.name);
    let params = params_of(doc.signature);
    let mut named: BTreeMap<String, Value> = BTreeMap::new();
    let mut sel = serde_json::Map::new();
    let mut rest = serde_json::Map::new();
    let has_sel = params.iter().any(|p| p.name == "sel");
    let map_param = params
        .iter()
        .rev()
        .find(|p| p.takes("map") && p.name != "sel")
        .map(|p| p.name.clone());
    for arg in raw {
        let Some((k, v)) = arg.split_once('=') else {
            return Err(Usage(format!("{op}: '{arg}' is not key=value")));
        };
        let (k, v) = (k.trim(), v.trim());
        let normalized;
        // `number` may also be a Zoom number id (`zoom::number`): letters mean an id.
        let an_id = k == "number" && v.bytes().any(|b| b.is_ascii_alphabetic());
        let v = if NUMBER_KEYS.contains(&k) && !v.is_empty() && !an_id {
            normalized = numbers_in(&op, k, v, profile)?;
            normalized.as_str()
        } else {
            v
        };
        let dup = |k: &str| Usage(format!("{op}: key '{k}' given twice"));
        if let Some(p) = params.iter().find(|p| p.name == k) {
            let val = if p.takes("array") && !p.takes("string") {
                Value::Array(
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(typed)
                        .collect(),
                )
            } else if p.takes("array") && v.contains(',') {
                Value::Array(v.split(',').map(str::trim).map(typed).collect())
            } else if p.takes("string") {
                Value::String(v.to_string())
            } else {
                typed(v)
            };
            if named.insert(k.to_string(), val).is_some() {
                return Err(dup(k));
            }
        } else if has_sel && SELECTOR_KEYS.contains(&k) {
            if sel
                .insert(k.to_string(), Value::String(v.to_string()))
                .is_some()
            {
                return Err(dup(k));
            }
        } else if map_param.is_some() {
            if rest.insert(k.to_string(), typed(v)).is_some() {
                return Err(dup(k));
            }
        } else {
            let keys = params
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Usage(format!(
                "{op}: unknown key '{k}'; keys: {}",
                if keys.is_empty() { "none" } else { &keys }
            )));
        }
    }
    let org = profile.movius_org.clone();
    let mut args = Vec::new();
    for p in &params {
        let v = if let Some(v) = named.remove(&p.name) {
            v
        } else if p.name == "sel" {
            Value::Object(std::mem::take(&mut sel))
        } else if Some(&p.name) == map_param.as_ref() {
            let mut m = std::mem::take(&mut rest);
            // Only where the function's map takes an organization (its doc names the field).
            if doc.doc.contains("organization_id") && !m.contains_key("organization_id") {
                if let Some(o) = &org {
                    m.insert("organization_id".into(), Value::String(o.clone()));
                }
            }
            Value::Object(m)
        } else if doc.module == "movius" && ["org", "parent"].contains(&p.name.as_str()) {
            match &org {
                Some(o) => Value::String(o.clone()),
                None => {
                    return Err(Usage(format!(
                        "{op}: {}=… is required (or set movius_org in the profile)",
                        p.name
                    )))
                }
            }
        } else if p.takes("array") {
            Value::Array(vec![])
        } else {
            return Err(Usage(format!(
                "{op}: {}=… is required ({})",
                p.name,
                p.types.join(" or ")
            )));
        };
        args.push(literal(&v));
    }
    Ok(format!("{}::{}({})", doc.module, doc.name, args.join(", ")))
}

/// The call as a script: a header naming its impact, and the one line.
fn source(doc: &FnDoc, call: &str) -> Source {
    let impact = doc.impact.map(|i| i.as_str()).unwrap_or("read");
    Source {
        name: format!("call {} {}", doc.module, doc.name),
        text: format!(
            "//! title: vline call {} {}\n//! impact: {impact}\n\n{call}\n",
            doc.module, doc.name
        ),
        origin: Origin::Command,
    }
}

/// Check the arguments as the function itself does, before anything opens: an engine whose
/// session is stopped parses every argument and stops at the first operation, so nothing is
/// sent. An argument the function refuses is the operator's mistake (exit 2).
fn check_args(src: &Source, header: &Header, doc: &FnDoc, profile: &Profile) -> anyhow::Result<()> {
    let mut session = super::setup::offline_session()?;
    if let Some(s) = std::sync::Arc::get_mut(&mut session) {
        s.args_only = true;
        // National numbers read as the live call will read them.
        s.default_region = profile.default_region;
    }
    let engine = crate::host::engine::build(Some(&session), crate::host::engine::Limits::default());
    let script =
        Script::compile(&engine, src.clone(), header.clone()).map_err(|e| Usage(e.to_string()))?;
    match script.run(&engine, &BTreeMap::new()) {
        Ok(_) => Ok(()),
        Err(e) if matches!(as_stop(&e), Some(Stop::Interrupted)) => Ok(()),
        Err(e) => {
            let m = match explain(&e) {
                Failure::Error(m) | Failure::Refused { reason: m, .. } => m,
                Failure::Blocked(b) => b.to_string(),
                Failure::Interrupted => return Ok(()),
            };
            let prefix = format!("{}::{}: ", doc.module, doc.name);
            let m = m.split(" (at vline").next().unwrap_or(&m).to_string();
            Err(Usage(format!(
                "{} {}: {}",
                doc.module,
                doc.name,
                m.strip_prefix(&prefix).unwrap_or(&m)
            ))
            .into())
        }
    }
}

pub fn run(global: &Global, args: CallArgs) -> anyhow::Result<()> {
    if args.op == "help" && SERVICES.contains(&args.service.as_str()) {
        return print_ops(&args.service, global);
    }
    let doc = find_op(&args.service, &args.op)?;
    let profile = load_profile(global)?;
    if doc.module == "carrier" && !profile.is_sandbox() {
        return Err(Usage(format!(
            "carrier operations exist only in the sandbox profile (profile '{}' is real)",
            profile.name
        ))
        .into());
    }
    let call = build(doc, &args.params, &profile)?;
    let src = source(doc, &call);
    let header = Header::parse(&src.text).map_err(Usage)?;
    check_args(&src, &header, doc, &profile)?;
    if doc.impact.is_none_or(|i| !i.changes_state()) {
        return read(global, src, header, &|v| print_value(global, doc, v));
    }
    let job = Job::new(&src.name.clone(), src, header, BTreeMap::new())?;
    let flags = Flags {
        dry_run: args.dry_run,
        yes: args.yes,
        read_only: !args.allow_write,
        max_changes: args.max_changes,
        bare_json: true,
        ..Flags::default()
    };
    execute(global, &job, &flags, Mode::Run, &|v| {
        print_value(global, doc, v)
    })
}

/// A read: sent as it is, under a guard that refuses any write; not journaled (the journal is
/// for changes).
fn read(
    global: &Global,
    src: Source,
    header: Header,
    show: super::run::Show<'_>,
) -> anyhow::Result<()> {
    let opened = super::setup::open(global)?;
    let guard = std::sync::Arc::new(crate::guard::Guard::new(
        crate::guard::Policy {
            read_only: true,
            ..crate::guard::Policy::default()
        },
        Box::new(crate::guard::TerminalPrompter),
    ));
    let mut session = crate::host::session::Session::new(
        opened.clients.clone(),
        guard,
        None,
        &opened.profile.name,
        opened.sandbox.is_some(),
    );
    super::setup::configure(&mut session, &opened.profile);
    let session = std::sync::Arc::new(session);
    super::setup::on_ctrl_c(session.cancel.clone());
    let engine = crate::host::engine::build(Some(&session), crate::host::engine::Limits::default());
    let script = Script::compile(&engine, src, header).map_err(|e| Usage(e.to_string()))?;
    let v = match script.run(&engine, &BTreeMap::new()) {
        Ok(v) => crate::host::value::to_json(&v),
        Err(e) => {
            return Err(match explain(&e) {
                Failure::Refused { reason, how } => crate::guard::Refused {
                    reason,
                    how_to_proceed: how,
                }
                .into(),
                Failure::Interrupted => anyhow::anyhow!("interrupted by Ctrl-C"),
                Failure::Blocked(b) => b.into(),
                Failure::Error(m) => anyhow::anyhow!(m),
            })
        }
    };
    show(&v)
}

/// `vline call <service> help`: the operations, their impact and signature, from the catalog.
fn print_ops(service: &str, global: &Global) -> anyhow::Result<()> {
    let ops = ops_of(service);
    if global.structured() {
        let v: Vec<Value> = ops
            .iter()
            .map(|o| {
                serde_json::json!({
                    "op": o.name,
                    "impact": o.impact.map(|i| i.as_str()),
                    "keys": params_of(o.signature).iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
                    "signature": o.signature,
                })
            })
            .collect();
        super::print_doc(global, &v, None)?;
        return Ok(());
    }
    let rows = ops
        .iter()
        .map(|o| {
            vec![
                o.name.to_string(),
                o.impact.map(|i| i.as_str()).unwrap_or("").to_string(),
                o.signature.to_string(),
            ]
        })
        .collect();
    println!(
        "{}",
        crate::output::grid(
            &["op", "impact", "signature (keys are its parameter names)"],
            rows
        )
    );
    Ok(())
}

/// Zoom phone numbers as a person scans them: the number and its state, who holds it, where;
/// the ids and the carrier last (the first to be left out on a narrow terminal).
const NUMBER_COLUMNS: &[&str] = &[
    "number",
    "status",
    "assignee.name",
    "assignee.extension_number",
    "site.name",
    "number_type",
    "source",
    "display_name",
    "location",
    "capability",
    "assignee.type",
    "assignee.id",
    "site.id",
    "carrier.name",
    "carrier.code",
    "id",
];

/// Movius accounts: the number and the account, whose it is, then Zoom's flags.
const ACCOUNT_COLUMNS: &[&str] = &[
    "phone_number",
    "account_sid",
    "email",
    "first_name",
    "last_name",
    "organization_id",
    "enable_zoom",
    "teams_calling",
    "channel",
];

/// The columns an operation's records lead with (the wire types' order as a person reads it).
fn layout_of(doc: &FnDoc) -> crate::output::Layout {
    match (doc.module, doc.name) {
        ("zoom", "numbers" | "number" | "find_number") => {
            crate::output::Layout::columns(NUMBER_COLUMNS)
        }
        ("movius", "account" | "find_account" | "users" | "available_numbers") => {
            crate::output::Layout::columns(ACCOUNT_COLUMNS)
        }
        _ => crate::output::Layout::default(),
    }
}

/// A table (arrays of objects) or key/value lines (one object); `done` for a call with no
/// result.
fn print_value(global: &Global, doc: &FnDoc, v: &Value) -> anyhow::Result<()> {
    if v.is_null() && !global.structured() {
        println!("done");
        return Ok(());
    }
    super::print_laid_out(global, v, None, &layout_of(doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        crate::config::Config::default()
            .profile(None)
            .expect("sandbox profile")
    }

    fn built(service: &str, op: &str, args: &[&str]) -> Result<String, Usage> {
        let doc = find_op(service, op)?;
        build(
            doc,
            &args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            &profile(),
        )
    }

    #[test]
    fn every_catalog_op_of_a_service_is_reachable() {
        for d in CATALOG.iter().filter(|d| SERVICES.contains(&d.module)) {
            assert!(find_op(d.module, d.name).is_ok(), "{}", d.qualified());
        }
    }

    #[test]
    fn arguments_become_one_call_by_parameter_name() {
        assert_eq!(
            built("movius", "delete_account", &["phone_number=13126170003"]).unwrap(),
            "movius::delete_account(\"org-zoom\", #{\"phone_number\": \"+13126170003\"})"
        );
        assert_eq!(
            built("zoom", "numbers", &["type=unassigned"]).unwrap(),
            "zoom::numbers(#{\"type\": \"unassigned\"})"
        );
        assert_eq!(
            built(
                "zoom",
                "add_role_members",
                &["role_id=r1", "users=a@b.example,c@d.example"]
            )
            .unwrap(),
            "zoom::add_role_members(\"r1\", [\"a@b.example\", \"c@d.example\"])"
        );
        assert_eq!(
            built("movius", "modify_account", &["phone_number=13126170001", "enable_zoom=true"]).unwrap(),
            "movius::modify_account(#{\"phone_number\": \"+13126170001\"}, #{\"enable_zoom\": true})"
        );
    }

    #[test]
    fn an_argument_never_becomes_code() {
        let s = built("zoom", "user", &["user=\"); movius::delete_account(\"x"]).unwrap();
        assert_eq!(
            s,
            "zoom::user(\"\\u0022\\u0029\\u003B movius::delete_account\\u0028\\u0022x\")"
        );
    }

    #[test]
    fn mistakes_are_one_line() {
        let err = |s: &str, o: &str, a: &[&str]| built(s, o, a).unwrap_err().0;
        assert!(
            err("zoom", "numbrs", &[]).starts_with("unknown zoom operation 'numbrs'; zoom has: ")
        );
        assert_eq!(
            err("teams", "x", &[]),
            "unknown service 'teams': use zoom, movius or carrier"
        );
        assert_eq!(
            err("zoom", "numbers", &["type"]),
            "zoom numbers: 'type' is not key=value"
        );
        assert_eq!(
            err("zoom", "sites", &["x=1"]),
            "zoom sites: unknown key 'x'; keys: none"
        );
        assert_eq!(
            err("zoom", "user", &[]),
            "zoom user: user=… is required (string)"
        );
    }
}
