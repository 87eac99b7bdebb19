//! The seeds a new state starts with. Ids are fixed: procedures, tests and docs/sandbox.md rely on them.

use crate::api::movius::wire::{Account, Cdr, Features, Org, PoolNumber};
use crate::api::zoom::wire::{CallLog, Carrier, Device, Site};

use super::world::{account_sid, number_id, Plan, RoleRow, World, ZNumber, ZUser};
use super::Seed;

const CREATED: &str = "2026-01-15T09:00:00Z";

fn org(
    id: &str,
    name: &str,
    parent: Option<&str>,
    allow: bool,
    enable: bool,
    domains: &[&str],
) -> Org {
    Org {
        organization_id: id.into(),
        name: name.into(),
        parent_id: parent.map(Into::into),
        allow_zoom: allow,
        enable_zoom: enable,
        allowed_email_domains: domains.iter().map(|d| d.to_string()).collect(),
        zoom_org_level: false,
    }
}

fn features(on: bool) -> Features {
    Features {
        call_recording: on,
        message_logging: on,
        voicemail: on,
        opt_in: on,
        out_of_office: on,
    }
}

#[allow(clippy::too_many_arguments)]
fn account(
    org: &str,
    digits: &str,
    first: &str,
    last: &str,
    email: &str,
    zoom: bool,
    teams: bool,
    app: &str,
    feat: Features,
) -> Account {
    Account {
        account_sid: account_sid(digits),
        organization_id: org.into(),
        phone_number: digits.into(),
        first_name: first.into(),
        last_name: last.into(),
        email: email.into(),
        enable_zoom: zoom,
        teams_calling: teams,
        app_version: app.into(),
        features: feat,
        channel: if zoom {
            "zoom".into()
        } else {
            "multiline".into()
        },
        created_at: CREATED.into(),
    }
}

fn user(id: &str, first: &str, last: &str, ext: Option<i64>) -> ZUser {
    ZUser {
        id: id.into(),
        email: format!("{}@jpmc.example", first.to_ascii_lowercase()),
        first_name: first.into(),
        last_name: last.into(),
        kind: 2,
        status: "active".into(),
        phone: ext.is_some(),
        extension: ext,
        site_id: ext.map(|_| "site-chicago".to_string()),
        calling_plans: if ext.is_some() { vec![200] } else { vec![] },
        department: None,
        cost_center: None,
    }
}

/// The state for a seed.
pub fn world(seed: Seed) -> World {
    let mut w = World {
        orgs: vec![org(
            "org-jpmc",
            "JPMC",
            None,
            true,
            true,
            &["@jpmc.example"],
        )]
        .into(),
        sites: vec![
            Site {
                id: "site-chicago".into(),
                name: "Chicago".into(),
                site_code: Some(312),
            },
            Site {
                id: "site-newyork".into(),
                name: "New York".into(),
                site_code: Some(212),
            },
        ]
        .into(),
        plans: vec![
            Plan {
                kind: 200,
                name: "US/CA Unlimited Calling Plan".into(),
                subscribed: 10,
            },
            Plan {
                kind: 100,
                name: "US/CA Metered Calling Plan".into(),
                subscribed: 5,
            },
            Plan {
                kind: 300,
                name: "International Toll Free".into(),
                subscribed: 2,
            },
        ]
        .into(),
        roles: vec![
            RoleRow {
                id: "role-admin".into(),
                name: "Admin".into(),
                description: "Zoom Phone administrators".into(),
                members: vec![],
            },
            RoleRow {
                id: "role-phone-user".into(),
                name: "Phone User".into(),
                description: "Zoom Phone users".into(),
                members: vec![],
            },
        ]
        .into(),
        ..World::default()
    };
    if seed == Seed::Empty {
        return w;
    }

    let zoom_domains = ["@movius.ai", "@jpmc.movius.ai"];
    w.orgs.push(org(
        "org-zoom",
        "JPMC Zoom Phone",
        Some("org-jpmc"),
        true,
        true,
        &zoom_domains,
    ));
    w.orgs.push(org(
        "org-trading",
        "JPMC Trading",
        Some("org-jpmc"),
        true,
        false,
        &["@jpmc.example", "@movius.ai"],
    ));
    w.orgs.push(org(
        "org-retail",
        "JPMC Retail",
        Some("org-jpmc"),
        false,
        false,
        &["@jpmc.example", "@movius.ai"],
    ));
    let mut legacy = org(
        "org-legacy",
        "JPMC Legacy Zoom",
        Some("org-jpmc"),
        true,
        true,
        &["@jpmc.example", "@movius.ai"],
    );
    legacy.zoom_org_level = true;
    w.orgs.push(legacy);

    for i in 100..120 {
        w.pool.push(PoolNumber {
            phone_number: format!("13126170{i}"),
            organization_id: "org-jpmc".into(),
            tags: vec!["reserved:jpmc".into()],
        });
    }

    w.users = vec![
        user("user-alice", "Alice", "Adams", Some(1001)),
        user("user-bob", "Bob", "Brown", Some(1002)),
        user("user-carol", "Carol", "Clark", Some(1003)),
        user("user-dave", "Dave", "Davis", Some(1004)),
        user("user-erin", "Erin", "Evans", None),
        user("user-frank", "Frank", "Fisher", None),
    ]
    .into();
    // erin is licensed for Zoom but not for Phone; frank is a basic user.
    if let Some(f) = w.users.find_mut(|u| u.id == "user-frank") {
        f.kind = 1;
    }
    // Set in Zoom's portal (the user profile): the Phone API shows them and cannot change them.
    if let Some(a) = w.users.find_mut(|u| u.id == "user-alice") {
        a.department = Some("Sales".into());
        a.cost_center = Some("CC-7".into());
    }
    w.roles[1].members = vec![
        "user-alice".into(),
        "user-bob".into(),
        "user-carol".into(),
        "user-dave".into(),
    ];
    w.roles[0].members = vec!["user-alice".into()];

    // org-zoom: Zoom-enabled and peered; 001 and 002 assigned to alice and bob.
    for i in 1..=5 {
        let d = format!("1312617000{i}");
        let email = format!("{d}.jpmc@jpmc.movius.ai");
        w.accounts.push(account(
            "org-zoom",
            &d,
            &d,
            "JPMC",
            &email,
            true,
            false,
            "4.16.0",
            features(false),
        ));
        let e = format!("+{d}");
        w.peer(&e);
    }
    for (d, u) in [("+13126170001", "user-alice"), ("+13126170002", "user-bob")] {
        if let Some(n) = w.numbers.find_mut(|n| n.number == d) {
            n.assignee = Some(u.into());
            n.site_id = Some("site-chicago".into());
        }
    }

    // org-trading: MultiLine accounts on several app versions, features on.
    let trading = [
        ("13126170201", "4.15.1", true),
        ("13126170202", "4.14.3", false),
        ("13126170203", "4.16.0", true),
    ];
    for (n, (d, app, on)) in trading.iter().enumerate() {
        let first = format!("Trader{}", n + 1);
        let email = format!("trader{}@jpmc.example", n + 1);
        let mut f = features(*on);
        if !on {
            f.voicemail = true;
        }
        w.accounts.push(account(
            "org-trading",
            d,
            &first,
            "JPMC",
            &email,
            false,
            false,
            app,
            f,
        ));
    }

    // org-legacy: Zoom at org level (the old model): numbers peered, user-level flag off.
    let legacy = [
        ("13126170301", "4.15.0"),
        ("13126170302", "4.15.2"),
        ("13126170303", "4.15.3"),
    ];
    for (n, (d, app)) in legacy.iter().enumerate() {
        let first = format!("Legacy{}", n + 1);
        let email = format!("legacy{}@jpmc.example", n + 1);
        w.accounts.push(account(
            "org-legacy",
            d,
            &first,
            "JPMC",
            &email,
            false,
            true,
            app,
            features(true),
        ));
        w.peer(&format!("+{d}"));
    }
    if let Some(n) = w.numbers.find_mut(|n| n.number == "+13126170301") {
        n.assignee = Some("user-carol".into());
        n.site_id = Some("site-chicago".into());
    }

    // Zoom-native numbers.
    let native = [
        ("+13125550100", Some("user-dave"), "site-chicago"),
        ("+13125550101", None, "site-chicago"),
        ("+12125550102", None, "site-newyork"),
        ("+18885550103", None, "site-newyork"),
    ];
    for (num, who, site) in native {
        w.numbers.push(ZNumber {
            id: number_id(num),
            number: num.into(),
            source: "internal".into(),
            carrier: Some(Carrier {
                code: 1,
                name: "Zoom".into(),
            }),
            site_id: Some(site.into()),
            assignee: who.map(Into::into),
            number_type: if num.starts_with("+1888") {
                "tollfree".into()
            } else {
                "toll".into()
            },
            location: if site == "site-chicago" {
                "Chicago, IL".into()
            } else {
                "New York, NY".into()
            },
        });
    }
    w.sync_peering();

    w.devices.push(Device {
        id: "dev-0001".into(),
        display_name: "Alice desk phone".into(),
        mac_address: "001122aabb01".into(),
        kind: "polycom".into(),
        model: Some("VVX 450".into()),
        assignee: None,
        status: Some("offline".into()),
    });
    w.counters.device = 1;

    for (i, (from, to, dir, dur)) in [
        ("+13126170001", "+13125559000", "outbound", 125),
        ("+13125559001", "+13126170002", "inbound", 60),
        ("+13125550100", "+12125550102", "outbound", 300),
    ]
    .iter()
    .enumerate()
    {
        w.call_logs.push(CallLog {
            id: format!("call-{:04}", i + 1),
            caller_did_number: Some(from.to_string()),
            callee_did_number: Some(to.to_string()),
            direction: dir.to_string(),
            connect_type: Some("external".into()),
            start_time: format!("2026-02-0{}T15:00:00Z", i + 1),
            duration: *dur,
            result: "answered".into(),
            ..CallLog::default()
        });
    }
    // An internal call, extension to extension: Zoom sends no DID for it.
    w.call_logs.push(CallLog {
        id: "call-0004".into(),
        caller_ext_number: Some("1001".into()),
        callee_ext_number: Some("1002".into()),
        direction: "outbound".into(),
        connect_type: Some("internal".into()),
        start_time: "2026-02-04T15:00:00Z".into(),
        duration: 42,
        result: "answered".into(),
        ..CallLog::default()
    });

    for (i, (d, peer, dir, ch)) in [
        ("13126170001", "13125559000", "outbound", "zoom"),
        ("13126170201", "13125559002", "inbound", "multiline"),
        ("13126170202", "13125559003", "outbound", "multiline"),
        ("13126170301", "13125559004", "inbound", "multiline"),
    ]
    .iter()
    .enumerate()
    {
        let org = w
            .accounts
            .iter()
            .find(|a| a.phone_number == *d)
            .map(|a| a.organization_id.clone())
            .unwrap_or_default();
        w.cdrs.push(Cdr {
            cdr_id: format!("cdr-{:04}", i + 1),
            account_sid: account_sid(d),
            organization_id: org,
            phone_number: d.to_string(),
            peer_number: peer.to_string(),
            direction: dir.to_string(),
            channel: ch.to_string(),
            start_time: format!("2026-02-0{}T16:00:00Z", i + 1),
            duration: 30 * (i as i64 + 1),
        });
    }
    w.counters.cdr = w.cdrs.len() as u64;
    w
}

/// Prefix of the scale seed's users: `bench00001@jpmc.example`, ….
pub const BENCH_USER_PREFIX: &str = "bench";

/// Add `n` licensed Zoom Phone users (`bench00001@jpmc.example` …, numbered on from the bench
/// users already there) with extensions on `site`; their emails, in order.
pub fn phone_users(w: &mut World, n: u64, site: &str) -> Vec<String> {
    let have = w
        .users
        .iter()
        .filter(|u| u.id.starts_with("user-bench"))
        .count() as u64;
    let first_ext = w.next_extension().max(100_000);
    let mut emails = Vec::with_capacity(n as usize);
    w.users.reserve(n as usize);
    for (i, ext) in (have + 1..=have + n).zip(first_ext..) {
        let first = format!("{BENCH_USER_PREFIX}{i:05}");
        let mut u = user(&format!("user-{first}"), &first, "Bench", Some(ext));
        u.site_id = Some(site.to_string());
        emails.push(u.email.clone());
        w.users.push(u);
    }
    emails
}

/// Put numbers into the available pool of `org`, as T-Mobile's `POST /ptns` does before a
/// migration window (the benchmark's rows then start from the guide's step 4).
pub fn pool_numbers(w: &mut World, numbers: &[String], org: &str) {
    w.pool.reserve(numbers.len());
    for n in numbers {
        let digits: String = n.chars().filter(char::is_ascii_digit).collect();
        if !w.pool.iter().any(|p| p.phone_number == digits) {
            w.pool.push(crate::api::movius::wire::PoolNumber {
                phone_number: digits,
                organization_id: org.to_string(),
                tags: vec!["reserved:jpmc".into()],
            });
        }
    }
}

/// Add `m` Zoom-native numbers (`+1416…`) held by the bench users already there, a few each,
/// round robin: a large account whose numbers are in use, as a bank's are. Its unassigned list
/// and its phone users stay as they were; only the numbers grow.
pub fn assigned_numbers(w: &mut World, m: u64) {
    let holders: Vec<String> = w
        .users
        .iter()
        .filter(|u| u.id.starts_with("user-bench") && u.phone)
        .map(|u| u.id.clone())
        .collect();
    if holders.is_empty() {
        return;
    }
    let have = w
        .numbers
        .iter()
        .filter(|n| n.number.starts_with("+1416"))
        .count() as u64;
    w.numbers.reserve(m as usize);
    for i in have..have + m {
        w.numbers.push(native_number(
            format!("+1416{:07}", 2_000_000 + i),
            Some(holders[(i as usize) % holders.len()].clone()),
            "Toronto, ON",
        ));
    }
}

/// A Zoom-native number on site Chicago.
fn native_number(num: String, assignee: Option<String>, location: &str) -> ZNumber {
    ZNumber {
        id: number_id(&num),
        number: num,
        source: "internal".into(),
        carrier: Some(Carrier {
            code: 1,
            name: "Zoom".into(),
        }),
        site_id: Some("site-chicago".into()),
        assignee,
        number_type: "toll".into(),
        location: location.into(),
    }
}

/// Add `m` unassigned Zoom-native numbers (`+1415…`, numbered on from those already there): a
/// larger account for showing that a bulk run's calls per user do not grow with it.
pub fn extra_numbers(w: &mut World, m: u64) {
    let have = w
        .numbers
        .iter()
        .filter(|n| n.number.starts_with("+1415"))
        .count() as u64;
    w.numbers.reserve(m as usize);
    for i in have..have + m {
        w.numbers.push(native_number(
            format!("+1415{:07}", 2_000_000 + i),
            None,
            "San Francisco, CA",
        ));
    }
}
