//! The catalog of everything a script can call: signature, impact level and doc, in one table.
//! The engine registers from it, `vline doc` and the REPL's `:help` print it.

use crate::guard::Impact;

/// One script-callable function.
#[derive(Clone, Copy, Debug)]
pub struct FnDoc {
    pub module: &'static str,
    pub name: &'static str,
    /// e.g. `zoom::assign_number(user: string, number: string|map) -> array`
    pub signature: &'static str,
    /// `None` for helpers that reach no service (guard::, csv::, log::).
    pub impact: Option<Impact>,
    pub doc: &'static str,
}

impl FnDoc {
    /// The level the guard holds this function to: its impact, and read for a helper that
    /// reaches no service (it changes nothing the guard counts).
    pub fn level(&self) -> Impact {
        self.impact.unwrap_or(Impact::Read)
    }

    pub fn qualified(&self) -> String {
        format!("{}::{}", self.module, self.name)
    }
}

// The impact column of the table: a service operation's level, or `None` for a helper.
const READ: Option<Impact> = Some(Impact::Read);
const WRITE: Option<Impact> = Some(Impact::Write);
const IRREVERSIBLE: Option<Impact> = Some(Impact::Irreversible);

macro_rules! f {
    ($m:literal, $n:literal, $sig:literal, $imp:expr, $doc:literal) => {
        FnDoc {
            module: $m,
            name: $n,
            signature: $sig,
            impact: $imp,
            doc: $doc,
        }
    };
}

/// Every function, grouped by module. Keep docs short, with an example: the REPL shows them.
pub const CATALOG: &[FnDoc] = &[
    // ---- movius:: ----
    f!("movius", "org", "movius::org(org: string) -> map", READ,
       "One Movius organization: allow_zoom (Movius-managed), enable_zoom (Feature Settings), allowed_email_domains.\nExample: `let o = movius::org(\"org-zoom\"); o.allow_zoom`"),
    f!("movius", "orgs", "movius::orgs() -> array", READ,
       "Every organization this API user can see.\nExample: `movius::orgs()`"),
    f!("movius", "account", "movius::account(sel: string|map) -> map", READ,
       "One MultiLine account by selector: `#{phone_number}` or `#{account_sid}` or `#{email}` (that precedence), or a bare number/email string.\nExample: `movius::account(\"+13126170001\").enable_zoom`"),
    f!("movius", "find_account", "movius::find_account(sel: string|map) -> map|()", READ,
       "Like `movius::account` but returns `()` when there is no such account instead of throwing.\nExample: `if movius::find_account(n) == () { … }`"),
    f!("movius", "users", "movius::users(q: map) -> array", READ,
       "User list v2: `#{organization_id, sub_org: bool, exclude_channel: \"zoom\"}`; all pages.\nExample: `movius::users(#{organization_id: \"org-zoom\", exclude_channel: \"zoom\"})`"),
    f!("movius", "cdrs", "movius::cdrs(q: map) -> array", READ,
       "CDR v2: `#{organization_id, sub_org, exclude_channel, from, to}`.\nExample: `movius::cdrs(#{organization_id: \"org-zoom\", from: \"2026-11-01\", to: \"2026-11-23\"})`"),
    f!("movius", "available_numbers", "movius::available_numbers(org: string) -> array", READ,
       "Numbers in the available pool of an org (or its root).\nExample: `movius::available_numbers(\"org-jpmc\")`"),
    f!("movius", "in_pool", "movius::in_pool(org: string, number: string) -> bool", READ,
       "True when the number is in the available pool `org` draws from (its own or its root org's): such a number has no account yet. A run reads the pool once and keeps it current with its own writes.\nExample: `movius::in_pool(\"org-zoom\", \"+13126170100\")`"),
    f!("movius", "create_sub_org", "movius::create_sub_org(parent: string, name: string) -> map", WRITE,
       "Create a sub-organization under `parent`.\nExample: `movius::create_sub_org(\"org-jpmc\", \"JPMC Zoom Phone\")`"),
    f!("movius", "add_allowed_email_domain", "movius::add_allowed_email_domain(org: string, domain: string) -> map", WRITE,
       "Add an allowed email domain (the guide adds `@movius.ai`).\nExample: `movius::add_allowed_email_domain(\"org-zoom\", \"@movius.ai\")`"),
    f!("movius", "set_zoom_enabled", "movius::set_zoom_enabled(org: string, on: bool) -> map", WRITE,
       "Setup → Feature Settings → Zoom Phone → Enable Zoom. Needs the org to be Allowed for Zoom by Movius.\nExample: `movius::set_zoom_enabled(\"org-zoom\", true)`"),
    f!("movius", "add_account", "movius::add_account(a: map) -> map", IRREVERSIBLE,
       "Add a MultiLine account: `#{organization_id, phone_number, first_name, last_name, email, enable_zoom}`. With enable_zoom the number is peered into Zoom synchronously and the flag can never be turned off; if peering fails nothing is kept.\nExample: `movius::add_account(#{organization_id: \"org-zoom\", phone_number: \"+13126170100\", first_name: \"13126170100\", last_name: \"JPMC\", email: \"13126170100.JPMC@jpmc.movius.ai\", enable_zoom: true})`"),
    f!("movius", "modify_account", "movius::modify_account(sel: string|map, changes: map) -> map", WRITE,
       "Modify an account: `#{enable_zoom, teams_calling}`. `enable_zoom: true` is irreversible (peers the number; the flag cannot be turned off) and asks for confirmation.\nExample: `movius::modify_account(#{phone_number: \"+13126170201\"}, #{enable_zoom: true})`"),
    f!("movius", "delete_account", "movius::delete_account(org: string, sel: string|map) -> map", IRREVERSIBLE,
       "Delete an account, which unpeers its number from Zoom. Fails (and keeps the account) while the number is assigned to a Zoom user.\nExample: `movius::delete_account(\"org-zoom\", #{phone_number: \"+13126170003\"})`"),
    // ---- carrier:: ----
    f!("carrier", "provision_ptn", "carrier::provision_ptn(number: string|array, tags: array) -> map", WRITE,
       "What T-Mobile does: `POST /ptns` puts numbers in the available pool under the root org. Sandbox only.\nExample: `carrier::provision_ptn(\"+13126170150\", [\"reserved:jpmc\"])`"),
    f!("carrier", "delete_ptn", "carrier::delete_ptn(number: string) -> map", IRREVERSIBLE,
       "What T-Mobile does on a carrier-driven offboarding: removes the number from Movius and unpeers it. Sandbox only.\nExample: `carrier::delete_ptn(\"+13126170150\")`"),
    // ---- zoom:: ----
    f!("zoom", "numbers", "zoom::numbers(q: map) -> array", READ,
       "Zoom phone numbers, all pages: `#{type: \"assigned\"|\"unassigned\"|\"all\", phone_number, site_id}`. The number filter is applied client-side too.\nExample: `zoom::numbers(#{type: \"unassigned\"})`"),
    f!("zoom", "number", "zoom::number(number: string) -> map", READ,
       "One Zoom phone number by id or E.164; `assignee` tells who holds it. A number the run itself assigned is answered from the assign's answer; a bulk run checks all of them again at its end.\nExample: `zoom::number(\"+13126170001\").assignee`"),
    f!("zoom", "find_number", "zoom::find_number(e164: string) -> map|()", READ,
       "The Zoom number with this E.164, or `()` when Zoom does not have it (not peered). A run answers from what it knows (the phone users' numbers, its own assigns, a shared refresh of the unassigned list) before it asks Zoom.\nExample: `if zoom::find_number(n) == () { … }`"),
    f!("zoom", "user", "zoom::user(user: string) -> map", READ,
       "One Zoom user.\nExample: `zoom::user(\"alice@jpmc.example\")`"),
    f!("zoom", "users", "zoom::users() -> array", READ,
       "All Zoom users.\nExample: `zoom::users()`"),
    f!("zoom", "phone_user", "zoom::phone_user(user: string) -> map", READ,
       "One Zoom Phone user (extension, site, calling plans, phone numbers). Throws code 1001 when the user has no Phone licence. A bulk run reads every phone user in pages once and answers from them; a write to the user makes the next look read it again.\nExample: `zoom::phone_user(\"alice@jpmc.example\").extension_number`"),
    f!("zoom", "phone_users", "zoom::phone_users() -> array", READ,
       "All Zoom Phone users.\nExample: `zoom::phone_users()`"),
    f!("zoom", "sites", "zoom::sites() -> array", READ, "Phone sites.\nExample: `zoom::sites()`"),
    f!("zoom", "site", "zoom::site(site_id: string) -> map", READ, "One Phone site by id.\nExample: `zoom::site(\"site-chicago\").name`"),
    f!("zoom", "roles", "zoom::roles() -> array", READ, "Phone roles.\nExample: `zoom::roles()`"),
    f!("zoom", "calling_plans", "zoom::calling_plans() -> array", READ,
       "Calling plans with subscribed / assigned / available licences.\nExample: `zoom::calling_plans()`"),
    f!("zoom", "peering_numbers", "zoom::peering_numbers() -> array", READ,
       "Numbers peered into Zoom by carriers (Movius through PEX).\nExample: `zoom::peering_numbers()`"),
    f!("zoom", "internal_numbers", "zoom::internal_numbers(account: string) -> array", READ,
       "SIP-trunk internal numbers of the master account (`\"me\"`) or a sub account.\nExample: `zoom::internal_numbers(\"me\")`"),
    f!("zoom", "assign_number", "zoom::assign_number(user: string, number: string|map|array) -> array", WRITE,
       "Assign up to 10 numbers (E.164 or `#{id}`) to a Phone user.\nExample: `zoom::assign_number(\"alice@jpmc.example\", \"+13126170100\")`"),
    f!("zoom", "unassign_number", "zoom::unassign_number(user: string, number: string) -> ()", WRITE,
       "Remove a number (E.164 or id) from a user.\nExample: `zoom::unassign_number(\"alice@jpmc.example\", \"+13126170001\")`"),
    f!("zoom", "create_user", "zoom::create_user(email: string, opts: map) -> map", WRITE,
       "Create a Zoom user with the Zoom Phone licence (the portal's Add User with the Phone licence): `#{first_name, last_name, action}`; action `ssoCreate` (default: SSO pre-provisioning, active at once), `autoCreate`, `custCreate` or `create` (pending until the user confirms the mailed link). Returns `#{id, email, first_name, last_name, type}`.\nExample: `zoom::create_user(\"gina@jpmc.example\", #{first_name: \"Gina\", last_name: \"Grey\"})`"),
    f!("zoom", "enable_phone", "zoom::enable_phone(user: string, opts: map) -> map", WRITE,
       "Give a user a Zoom Phone licence; `#{site, extension}` optional (site by id or name).\nExample: `zoom::enable_phone(\"erin@jpmc.example\", #{site: \"Chicago\"})`"),
    f!("zoom", "assign_calling_plan", "zoom::assign_calling_plan(user: string, plan_type: int) -> ()", WRITE,
       "Assign a calling plan (e.g. 200 US/CA Unlimited).\nExample: `zoom::assign_calling_plan(\"erin@jpmc.example\", 200)`"),
    f!("zoom", "remove_calling_plan", "zoom::remove_calling_plan(user: string, plan_type: int) -> ()", WRITE,
       "Remove a calling plan. Zoom also drops the user's direct number with it: a warning is logged.\nExample: `zoom::remove_calling_plan(\"erin@jpmc.example\", 200)`"),
    f!("zoom", "add_role_members", "zoom::add_role_members(role_id: string, users: array) -> ()", WRITE,
       "Add users (ids or emails) to a phone role.\nExample: `zoom::add_role_members(\"role-admin\", [\"alice@jpmc.example\"])`"),
    f!("zoom", "add_device", "zoom::add_device(d: map) -> map", WRITE,
       "Add a desk phone: `#{display_name, mac_address, type, model, assignee_extension_ids}` (the ids assign it at once).\nExample: `zoom::add_device(#{display_name: \"Desk 1\", mac_address: \"001122334455\", type: \"yealink\"})`"),
    f!("zoom", "assign_device", "zoom::assign_device(device_id: string, extension_ids: array) -> ()", WRITE,
       "Assign a device to extensions.\nExample: `zoom::assign_device(d.id, [u.extension_id])`"),
    f!("zoom", "add_internal_numbers", "zoom::add_internal_numbers(account: string, rows: array) -> array", WRITE,
       "Add SIP-trunk internal numbers (`labels, number, display_number, type 0|1, country, languages`) to `\"me\"` or a sub account.\nExample: `zoom::add_internal_numbers(\"me\", [#{labels: \"HQ\", number: \"+442071234567\", display_number: \"+44 20 7123 4567\", type: 0, country: \"GB\", languages: \"en-GB\"}])`"),
    f!("zoom", "update_phone_user", "zoom::update_phone_user(user: string, partial: map) -> ()", WRITE,
       "Change only the given fields of a Phone user: `#{extension_number, site_id}` (Zoom's `PATCH /phone/users/{userId}` has no department or cost center).\nExample: `zoom::update_phone_user(\"erin@jpmc.example\", #{extension_number: 1010})`"),
    f!("zoom", "call_history", "zoom::call_history(q: map) -> array", READ,
       "Account call history `#{from, to}` (dates).\nExample: `zoom::call_history(#{from: \"2026-11-01\", to: \"2026-11-23\"})`"),
    f!("zoom", "export_users_csv", "zoom::export_users_csv(path: string) -> int", READ,
       "Write every Zoom Phone user's current profile as Zoom's bulk-import CSV (email, name, site_name, site_code, extension_number, calling_plans, phone_numbers, department, cost_center, status, desk_phone_N_brand/model/mac_address); the number of rows. A Zoom CSV upload clears every field it leaves out: start uploads from this. Only paths the operator passed as parameters are writable.\nExample: `zoom::export_users_csv(out)`"),
    f!("zoom", "merge_users_csv", "zoom::merge_users_csv(changes: array, path: string) -> map", READ,
       "Write a Zoom bulk-import CSV for the users in `changes` (maps keyed by `email`, with the columns to change; `()` clears one): each row keeps ALL the user's current values and changes only what was given, so the upload removes nothing by omission. Unknown users or columns: nothing is written. Returns `#{rows, path, columns, changes: [#{email, field, from, to}]}`.\nExample: `zoom::merge_users_csv([#{email: \"bob@jpmc.example\", department: \"Trading\"}], out)`"),
    // ---- guard:: ----
    f!("guard", "require_maintenance_window", "guard::require_maintenance_window(why: string) -> ()", None,
       "Stop the script unless now is inside one of the profile's maintenance windows (or the operator passed `--outside-window \"reason\"`, which is journaled).\nExample: `guard::require_maintenance_window(\"org-level to user-level move\")`"),
    f!("guard", "confirm", "guard::confirm(text: string) -> ()", None,
       "Ask the operator; stops the script on no. `--yes` answers yes; with no terminal and no `--yes` the run is refused.\nExample: `guard::confirm(\"Rollback is impossible. Continue?\")`"),
    f!("guard", "is_dry_run", "guard::is_dry_run() -> bool", None,
       "True when writes are held in a plan instead of sent (`--dry-run`).\nExample: `if guard::is_dry_run() { print(\"plan only\") }`"),
    f!("guard", "plan", "guard::plan() -> array", None,
       "The writes held so far in dry-run: `#{seq, op, impact, target, params}`.\nExample: `guard::plan()`"),
    // ---- csv:: ----
    f!("csv", "read", "csv::read(path: string) -> array", None,
       "Read a CSV (header row) into an array of maps. Only paths the operator passed as parameters are readable.\nExample: `csv::read(file)`"),
    f!("csv", "write", "csv::write(path: string, rows: array) -> int", None,
       "Write an array of maps as CSV (columns from the first row). Only paths the operator passed as parameters are writable.\nExample: `csv::write(out, report)`"),
    // ---- log:: ----
    f!("log", "info", "log::info(msg: string) -> ()", None, "Log a line on stderr (and in `-v` logs).\nExample: `log::info(\"done\")`"),
    f!("log", "warn", "log::warn(msg: string) -> ()", None, "Log a warning on stderr.\nExample: `log::warn(\"voicemail will be turned off\")`"),
    // ---- e164:: ----
    f!("e164", "parse", "e164::parse(s: string) -> string", None,
       "Normalise a number to E.164 (`+13126173497`); throws with the reason when it is not one.\nExample: `e164::parse(\"1 312-617-3497\")`"),
    f!("e164", "digits", "e164::digits(s: string) -> string", None,
       "The digits without `+`, as Movius writes numbers.\nExample: `e164::digits(\"+13126173497\")`"),
    // ---- time:: ----
    f!("time", "sleep_ms", "time::sleep_ms(ms: int) -> ()", None,
       "Wait up to 10 000 ms (Ctrl-C still stops the script). For bounded polling, e.g. waiting for a number to appear in Zoom.\nExample: `time::sleep_ms(500)`"),
    f!("time", "now", "time::now() -> string", None,
       "The current time, RFC 3339 UTC.\nExample: `let started = time::now();`"),
    // ---- profile:: ----
    f!("profile", "name", "profile::name() -> string", None,
       "The profile this run uses (`sandbox` by default).\nExample: `profile::name()`"),
    f!("profile", "default_org", "profile::default_org() -> string|()", None,
       "The profile's default Movius organization (`movius_org`), or `()`.\nExample: `let org = if org == () { profile::default_org() } else { org };`"),
    f!("profile", "naming", "profile::naming(number: string) -> map", None,
       "The account naming convention of the profile for a number: `#{first_name, last_name, email}`. The guide's default: first name = the number's digits, last name = JPMC, email = `<first_name>.<last_name>@jpmc.movius.ai`.\nExample: `profile::naming(\"+13126173497\").email`"),
    f!("profile", "is_sandbox", "profile::is_sandbox() -> bool", None,
       "True on the sandbox profile (where `carrier::` exists).\nExample: `if profile::is_sandbox() { carrier::provision_ptn(n, []) }`"),
    // ---- bulk:: ----
    f!("bulk", "map", "bulk::map(rows: array, f: FnPtr, opts: map) -> array", None,
       "Call `f(row)` for every row on a pool of threads (`#{concurrency: 1..64}`, default 4), through this run's guardrails, journal and Zoom rate limiter; returns `#{row, ok: true, result}` or `#{row, ok: false, error}` per row, in input order. A guard refusal or Ctrl-C stops the whole map. Above concurrency 1 the function sees the script's functions, closures' captured variables and imported modules, not its global variables: pass what it needs through the row.\nExample: `let out = bulk::map(csv::read(file), |r| zoom::phone_user(r.email).extension_number, #{concurrency: 8}); out.filter(|x| !x.ok)`"),
    f!("bulk", "preflight", "bulk::preflight(rows: array, procedure: string) -> map", READ,
       "Check rows (maps of the procedure's parameters) without changing anything: the procedure runs per row in dry-run, so its own checks decide. Returns the report `vline bulk --preflight --json` prints: `row_reports` (status ready / no-op / blocked, `would_do`, `blocked: #{kind, reason, next}`; line 2 = the first row), `writes` per operation, `licences`, `time` (calls per category, `at_bound_s`, `estimate_s` and the `model` it comes from: the ramp-up of `auto` concurrency, one row's duration, the reads made once per run, the end-of-run sweep; window fit), `ready`, `verdict`.\nExample: `let r = bulk::preflight(csv::read(file), \"onboard-new-user\"); if !r.ready { print(r.verdict) }`"),
];

/// The script modules, in the catalog's order (`zoom`, `movius`, …).
pub fn modules() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for d in CATALOG {
        if !out.contains(&d.module) {
            out.push(d.module);
        }
    }
    out
}

/// Look a function up by `module::name` or bare name.
pub fn find(name: &str) -> Vec<&'static FnDoc> {
    let (m, n) = match name.split_once("::") {
        Some((m, n)) => (Some(m), n),
        None => (None, name),
    };
    CATALOG
        .iter()
        .filter(|d| match m {
            Some(m) => d.module == m && (n.is_empty() || d.name == n),
            None => d.name == n || d.module == n,
        })
        .collect()
}

/// Render one entry as `vline doc` prints it.
pub fn render(d: &FnDoc) -> String {
    let impact = d
        .impact
        .map(|i| i.as_str())
        .unwrap_or("none (no service call)");
    format!(
        "{}\n  impact: {}\n\n{}\n",
        d.signature,
        impact,
        indent(d.doc)
    )
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_signatures_match() {
        let mut seen = std::collections::HashSet::new();
        for d in CATALOG {
            assert!(seen.insert(d.qualified()), "duplicate {}", d.qualified());
            assert!(
                d.signature.starts_with(&format!("{}(", d.qualified())),
                "{}",
                d.signature
            );
            assert!(
                d.doc.contains("Example:"),
                "{} has no example",
                d.qualified()
            );
        }
    }
}
