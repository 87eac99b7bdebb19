//! The typed clients and the transport against the real sandbox over loopback: auth, 429s,
//! retries, pagination, the limiter, and every operation of DESIGN.md's table.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vline::api::clients::Clients;
use vline::api::http::TransportOptions;
use vline::api::movius::wire::AddAccount;
use vline::api::movius::{CdrQuery, UserListQuery};
use vline::api::zoom::wire::{
    AddDevice, DeviceListType, InternalNumber, NumberRef, PhoneUserPatch,
};
use vline::api::zoom::{NumberQuery, NumberType};
use vline::api::{RateCategory, Selector, ZoomPlan, E164};
use vline::config::Config;
use vline::sandbox::{Burst429, Faults, LoggedRequest, Sandbox, SandboxOptions};

/// Short times so failures and retries are quick; generous retry counts so random faults pass.
fn fast() -> TransportOptions {
    TransportOptions {
        timeout: Duration::from_secs(5),
        max_retries: 12,
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(50),
        ..TransportOptions::default()
    }
}

fn start(opts: SandboxOptions) -> Sandbox {
    Sandbox::start(opts).expect("start sandbox")
}

fn clients(sb: &Sandbox, opts: TransportOptions) -> Clients {
    let profile = Config::default()
        .profile(None)
        .expect("sandbox profile")
        .with_sandbox_urls(
            &sb.zoom_api_url(),
            &sb.zoom_oauth_url(),
            &sb.movius_url(),
            &sb.carrier_url(),
        );
    let secrets = profile.resolve_secrets().expect("demo secrets");
    profile.clients_with(&secrets, opts).expect("clients")
}

fn n(s: &str) -> E164 {
    E164::parse(s).unwrap()
}

fn count(log: &[LoggedRequest], f: impl Fn(&LoggedRequest) -> bool) -> usize {
    log.iter().filter(|r| f(r)).count()
}

#[test]
fn token_is_fetched_again_after_it_expires_and_no_call_fails() {
    let sb = start(SandboxOptions {
        token_ttl_secs: 1,
        ..SandboxOptions::default()
    });
    let c = clients(&sb, fast());
    c.zoom.sites().expect("first call");
    std::thread::sleep(Duration::from_millis(1100));
    c.zoom.sites().expect("call after expiry");
    let log = sb.requests();
    assert_eq!(
        count(&log, |r| r.service == "zoom-oauth"),
        2,
        "a second token was fetched: {log:#?}"
    );
    assert_eq!(
        count(&log, |r| r.status == 401),
        0,
        "refreshed before expiry, not after a failure"
    );
}

#[test]
fn token_revoked_early_is_refreshed_once_on_401() {
    let sb = start(SandboxOptions::default());
    let c = clients(&sb, fast());
    c.zoom.sites().expect("first call");
    sb.set_faults(Faults {
        expire_tokens_now: true,
        ..Faults::default()
    });
    sb.set_faults(Faults::default());
    let sites = c.zoom.sites().expect("the 401 is absorbed");
    assert!(!sites.is_empty());
    let log = sb.requests();
    let statuses: Vec<(String, u16)> = log.iter().map(|r| (r.service.clone(), r.status)).collect();
    assert_eq!(
        statuses,
        vec![
            ("zoom-oauth".to_string(), 200),
            ("zoom".to_string(), 200),
            ("zoom".to_string(), 401),
            ("zoom-oauth".to_string(), 200),
            ("zoom".to_string(), 200),
        ]
    );
    assert_eq!(c.transport.stats().token_fetches, 2);
}

#[test]
fn burst_of_429_is_absorbed_by_waiting_retry_after() {
    let sb = start(SandboxOptions::default());
    // Every third Zoom request is a 429 with `Retry-After: 1`.
    sb.set_faults(Faults {
        burst_429: Some(Burst429 {
            every_n: 3,
            len: 1,
            retry_after: true,
        }),
        ..Faults::default()
    });
    let c = clients(&sb, fast());
    let t0 = Instant::now();
    for _ in 0..3 {
        c.zoom.sites().expect("no call fails");
    }
    let elapsed = t0.elapsed();
    assert!(
        elapsed >= Duration::from_secs(1),
        "waited Retry-After (1 s), took {elapsed:?}"
    );
    let log = sb.requests();
    assert_eq!(count(&log, |r| r.status == 429), 1);
    assert_eq!(c.transport.stats().rate_limited, 1);
}

#[test]
fn burst_of_429_without_retry_after_backs_off() {
    // The same calls through the same bursts, with and without `Retry-After: 1`.
    let four_calls = |retry_after: bool| {
        let sb = start(SandboxOptions::default());
        sb.set_faults(Faults {
            burst_429: Some(Burst429 {
                every_n: 2,
                len: 1,
                retry_after,
            }),
            omit_retry_after: !retry_after,
            ..Faults::default()
        });
        let c = clients(&sb, fast());
        let t0 = Instant::now();
        for _ in 0..4 {
            c.zoom.roles().expect("no call fails");
        }
        (t0.elapsed(), sb)
    };
    let (told, _) = four_calls(true);
    let (backed_off, sb) = four_calls(false);
    assert!(
        backed_off * 2 < told,
        "backoff, not a fixed second: {backed_off:?} without Retry-After, {told:?} with it"
    );
    let log = sb.requests();
    assert!(count(&log, |r| r.status == 429) >= 3, "{log:#?}");
    assert_eq!(count(&log, |r| r.service == "zoom" && r.status == 200), 4);
}

#[test]
fn reads_are_retried_on_5xx() {
    let sb = start(SandboxOptions::default());
    sb.set_faults(Faults {
        http_5xx_share: 0.5,
        ..Faults::default()
    });
    let c = clients(&sb, fast());
    for _ in 0..10 {
        c.movius.orgs().expect("retried until it answers");
        c.zoom.calling_plans().expect("retried until it answers");
    }
    let log = sb.requests();
    let failed = count(&log, |r| r.status == 503);
    assert!(failed > 0, "the fault hit some requests");
    assert_eq!(
        count(&log, |r| r.op == "movius.orgs" && r.status == 200),
        10
    );
    assert!(c.transport.stats().retries >= failed as u64);
}

#[test]
fn timeouts_are_retried_for_reads_then_reported() {
    let sb = start(SandboxOptions::default());
    sb.set_faults(Faults {
        latency_ms: HashMap::from([("movius".to_string(), 400)]),
        ..Faults::default()
    });
    let c = clients(
        &sb,
        TransportOptions {
            timeout: Duration::from_millis(100),
            max_retries: 2,
            ..fast()
        },
    );
    let err = c.movius.orgs().unwrap_err();
    assert_eq!((err.status, err.retryable), (None, true), "{err}");
    assert!(err.to_string().contains("no answer within 0.1 s"), "{err}");
    assert_eq!(c.transport.stats().retries, 2);
}

#[test]
fn a_write_is_not_repeated_blindly_after_a_5xx() {
    let sb = start(SandboxOptions::default());
    sb.set_faults(Faults {
        http_5xx_share: 1.0,
        ..Faults::default()
    });
    let c = clients(&sb, fast());
    let a = AddAccount {
        organization_id: "org-zoom".into(),
        phone_number: "13126170100".into(),
        first_name: "13126170100".into(),
        last_name: "JPMC".into(),
        email: "13126170100.JPMC@jpmc.movius.ai".into(),
        enable_zoom: true,
    };
    let err = c.movius.add_account(&a).unwrap_err();
    assert_eq!(err.status, Some(503));
    let log = sb.requests();
    // The read check could not answer either, so the add was sent once and never again.
    assert_eq!(count(&log, |r| r.op == "movius.add"), 1, "{log:#?}");
    assert!(
        count(&log, |r| r.op == "movius.get") >= 1,
        "the check read was tried"
    );
}

#[test]
fn a_write_is_repeated_only_when_the_read_shows_it_did_not_happen() {
    let sb = start(SandboxOptions::default());
    let c = clients(&sb, fast());
    let pool: Vec<String> = c
        .movius
        .available_numbers("org-jpmc")
        .unwrap()
        .into_iter()
        .map(|p| p.phone_number)
        .collect();
    assert!(pool.len() >= 3, "demo pool: {pool:?}");
    sb.set_faults(Faults {
        http_5xx_share: 0.5,
        ..Faults::default()
    });
    for digits in &pool[..3] {
        let a = AddAccount {
            organization_id: "org-zoom".into(),
            phone_number: digits.clone(),
            first_name: digits.clone(),
            last_name: "JPMC".into(),
            email: format!("{digits}.JPMC@jpmc.movius.ai"),
            enable_zoom: false,
        };
        let acct = c.movius.add_account(&a).expect("added despite 5xx");
        assert_eq!(acct.phone_number, *digits);
    }
    sb.set_faults(Faults::default());
    let log = sb.requests();
    let adds: Vec<&LoggedRequest> = log.iter().filter(|r| r.op == "movius.add").collect();
    assert_eq!(
        count(&log, |r| r.op == "movius.add" && r.status == 200),
        3,
        "each account added once"
    );
    // After every failed add, a read (the check) came before the next add.
    for w in adds.windows(2) {
        if w[0].status == 503 {
            let between = log.iter().filter(|r| r.seq > w[0].seq && r.seq < w[1].seq);
            // The check answered (not found), so the add was sent again.
            assert!(
                between
                    .clone()
                    .any(|r| r.op == "movius.get" && r.status < 500),
                "no check between {w:#?}"
            );
        }
    }
    for digits in &pool[..3] {
        c.movius
            .account(&Selector::PhoneNumber(n(digits)))
            .expect("exists");
    }
}

#[test]
fn numbers_are_paginated_over_more_than_three_pages() {
    let sb = start(SandboxOptions::default());
    let c = clients(&sb, fast());
    let numbers: Vec<E164> = (0..310).map(|i| n(&format!("+1415555{i:04}"))).collect();
    let carrier = c.carrier.as_ref().expect("sandbox has a carrier");
    carrier
        .provision_ptn(&numbers, &["reserved:test".to_string()])
        .expect("provision");
    let naming = vline::config::Naming::default();
    for e in &numbers {
        let (first, last, email) = naming.render(e);
        c.movius
            .add_account(&AddAccount {
                organization_id: "org-zoom".into(),
                phone_number: e.digits().into(),
                first_name: first,
                last_name: last,
                email,
                enable_zoom: true,
            })
            .expect("add and peer");
    }
    let before = sb.requests().len();
    let all = c
        .zoom
        .numbers(&NumberQuery {
            kind: Some(NumberType::Unassigned),
            ..NumberQuery::default()
        })
        .unwrap();
    let log = sb.requests();
    let pages = count(&log[before..], |r| r.op == "zoom.list_numbers");
    assert!(pages >= 4, "{pages} pages");
    for e in &numbers {
        assert_eq!(
            all.iter().filter(|z| z.number == e.as_str()).count(),
            1,
            "{e} once"
        );
    }
}

#[test]
fn number_filter_is_applied_by_the_client_too() {
    for published in [false, true] {
        let sb = start(SandboxOptions {
            published_spec_mode: published,
            ..SandboxOptions::default()
        });
        let c = clients(&sb, fast());
        let all = c.zoom.numbers(&NumberQuery::default()).unwrap();
        assert!(all.len() > 1);
        let want = n(&all[1].number);
        let q = NumberQuery {
            kind: Some(NumberType::All),
            phone_number: Some(want.clone()),
            site_id: None,
        };
        let got = c.zoom.numbers(&q).unwrap();
        assert_eq!(got.len(), 1, "published_spec_mode={published}");
        assert_eq!(got[0].number, want.as_str());
        assert_eq!(c.zoom.number(want.as_str()).unwrap().id, got[0].id);
        let missing = c.zoom.number("+14155559999").unwrap_err();
        assert_eq!(missing.status, Some(404), "{missing}");
    }
}

#[test]
fn limiter_keeps_parallel_reads_under_the_plan() {
    let sb = start(SandboxOptions {
        plan: ZoomPlan::Pro,
        enforce_rate_limits: true,
        ..SandboxOptions::default()
    });
    let c = clients(
        &sb,
        TransportOptions {
            plan: ZoomPlan::Pro,
            ..fast()
        },
    );
    c.zoom.user("alice@jpmc.example").unwrap(); // the token, outside the timing
    let t0 = Instant::now();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let z = c.zoom.clone();
            std::thread::spawn(move || {
                for _ in 0..6 {
                    z.phone_user("alice@jpmc.example").expect("read");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let elapsed = t0.elapsed();
    let log = sb.requests();
    assert_eq!(
        count(&log, |r| r.status == 429),
        0,
        "no 429 with the limiter on"
    );
    assert_eq!(c.transport.stats().rate_limited, 0);
    // 48 light calls at Pro's 20/s take over two seconds.
    assert!(elapsed >= Duration::from_millis(2000), "{elapsed:?}");
}

#[test]
fn without_the_limiter_the_same_burst_hits_429_and_the_rate_adapts() {
    let sb = start(SandboxOptions {
        plan: ZoomPlan::Pro,
        enforce_rate_limits: true,
        ..SandboxOptions::default()
    });
    // The client believes it is on Business (40/s) while the account is Pro (20/s).
    let c = Arc::new(clients(
        &sb,
        TransportOptions {
            plan: ZoomPlan::Business,
            ..fast()
        },
    ));
    c.zoom.user("alice@jpmc.example").unwrap();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let z = c.zoom.clone();
            std::thread::spawn(move || {
                for _ in 0..8 {
                    z.phone_user("alice@jpmc.example")
                        .expect("429s are absorbed");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert!(
        c.transport.stats().rate_limited > 0,
        "the server pushed back"
    );
    assert!(
        c.transport.current_rate(RateCategory::Light) < 40,
        "the client slowed down"
    );
}

/// Every operation of the `zoom::`, `movius::` and `carrier::` tables against the demo seed.
#[test]
fn every_operation_round_trips() {
    let sb = start(SandboxOptions::default());
    let c = clients(&sb, fast());
    let carrier = c.carrier.clone().expect("carrier");

    // ---- reads ----
    assert!(!c.movius.orgs().unwrap().is_empty());
    let org = c.movius.org("org-zoom").unwrap();
    assert!(org.allow_zoom && org.enable_zoom);
    let acct = c
        .movius
        .account(&Selector::PhoneNumber(n("+13126170001")))
        .unwrap();
    assert_eq!(acct.organization_id, "org-zoom");
    let users = c
        .movius
        .users(&UserListQuery {
            organization_id: "org-jpmc".into(),
            sub_org: true,
            exclude_channel: Some("zoom".into()),
        })
        .unwrap();
    assert!(users.iter().all(|u| !u.enable_zoom), "exclude_channel=zoom");
    c.movius
        .cdrs(&CdrQuery {
            organization_id: "org-zoom".into(),
            sub_org: false,
            exclude_channel: None,
            from: None,
            to: None,
        })
        .unwrap();
    let zoom_users = c.zoom.users().unwrap();
    assert!(zoom_users.iter().any(|u| u.email == "alice@jpmc.example"));
    assert_eq!(
        c.zoom.user("alice@jpmc.example").unwrap().email,
        "alice@jpmc.example"
    );
    let phone_users = c.zoom.phone_users().unwrap();
    assert!(!phone_users.is_empty());
    let sites = c.zoom.sites().unwrap();
    let roles = c.zoom.roles().unwrap();
    let plans = c.zoom.calling_plans().unwrap();
    assert!(!sites.is_empty() && !roles.is_empty() && !plans.is_empty());
    assert!(!c.zoom.peering_numbers().unwrap().is_empty());
    c.zoom.call_history("2026-01-01", "2026-12-31").unwrap();
    let first = &c.zoom.numbers(&NumberQuery::default()).unwrap()[0];
    assert_eq!(c.zoom.number(&first.id).unwrap().number, first.number);

    // ---- carrier and movius writes: a new number, peered into Zoom by its account ----
    let new = n("+13126170900");
    let gone = n("+13126170901");
    carrier
        .provision_ptn(&[new.clone(), gone.clone()], &["reserved:jpmc".into()])
        .unwrap();
    let pool = c.movius.available_numbers("org-jpmc").unwrap();
    assert!(pool.iter().any(|p| p.phone_number == new.digits()));
    carrier.delete_ptn(&gone).unwrap();
    assert!(!c
        .movius
        .available_numbers("org-jpmc")
        .unwrap()
        .iter()
        .any(|p| p.phone_number == gone.digits()));

    let sub = c
        .movius
        .create_sub_org("org-jpmc", "vline test sub")
        .unwrap();
    assert_eq!(sub.parent_id.as_deref(), Some("org-jpmc"));
    let o = c
        .movius
        .add_allowed_email_domain("org-trading", "@example.org")
        .unwrap();
    assert!(o
        .allowed_email_domains
        .iter()
        .any(|d| d.contains("example.org")));
    assert!(
        c.movius
            .set_zoom_enabled("org-trading", true)
            .unwrap()
            .enable_zoom
    );

    let (first_name, last_name, email) = vline::config::Naming::default().render(&new);
    let acct = c
        .movius
        .add_account(&AddAccount {
            organization_id: "org-zoom".into(),
            phone_number: new.digits().into(),
            first_name,
            last_name,
            email,
            enable_zoom: true,
        })
        .unwrap();
    assert!(acct.enable_zoom);
    let peered = c.zoom.number(new.as_str()).unwrap();
    assert!(peered.assignee.is_none(), "peered unassigned");
    let sel = Selector::PhoneNumber(new.clone());
    assert!(
        c.movius
            .modify_account(&sel, None, Some(true))
            .unwrap()
            .teams_calling
    );

    // ---- zoom writes on a user without Phone ----
    let phone_emails: Vec<&str> = phone_users.iter().map(|p| p.email.as_str()).collect();
    let user = zoom_users
        .iter()
        .find(|u| !phone_emails.contains(&u.email.as_str()))
        .expect("a user without Phone");
    let site = &sites[0];
    c.zoom
        .enable_phone(&user.email, Some(&site.id), Some(1099))
        .unwrap();
    let pu = c.zoom.phone_user(&user.email).unwrap();
    assert_eq!(pu.extension_number, Some(1099));
    let plan = plans
        .iter()
        .find(|p| p.available > 0)
        .expect("a plan with licences");
    c.zoom.assign_calling_plan(&user.email, plan.kind).unwrap();
    assert!(c
        .zoom
        .phone_user(&user.email)
        .unwrap()
        .calling_plans
        .iter()
        .any(|p| p.kind == plan.kind));
    let assigned = c
        .zoom
        .assign_number(&user.email, &[NumberRef::by_number(&new)])
        .unwrap();
    assert_eq!(assigned.len(), 1);
    assert_eq!(
        c.zoom.number(new.as_str()).unwrap().assignee.map(|a| a.id),
        Some(pu.id.clone())
    );
    let too_many: Vec<NumberRef> = (0..11)
        .map(|i| NumberRef::by_number(&n(&format!("+1312617{i:04}"))))
        .collect();
    assert!(c
        .zoom
        .assign_number(&user.email, &too_many)
        .unwrap_err()
        .message
        .contains("at most 10"));
    c.zoom.unassign_number(&user.email, new.as_str()).unwrap();
    assert!(c.zoom.number(new.as_str()).unwrap().assignee.is_none());
    c.zoom
        .update_phone_user(
            &user.email,
            &PhoneUserPatch {
                extension_number: Some("1098".into()),
                ..PhoneUserPatch::default()
            },
        )
        .unwrap();
    assert_eq!(
        c.zoom.phone_user(&user.email).unwrap().extension_number,
        Some(1098)
    );
    let role = &roles[0];
    c.zoom
        .add_role_members(&role.id, std::slice::from_ref(&user.email))
        .unwrap();
    let after = c
        .zoom
        .roles()
        .unwrap()
        .into_iter()
        .find(|r| r.id == role.id)
        .unwrap();
    assert_eq!(after.total_members, role.total_members + 1);
    let device = c
        .zoom
        .add_device(&AddDevice {
            display_name: "Desk 1".into(),
            mac_address: "00:04:f2:aa:bb:01".into(),
            kind: "polycom".into(),
            model: Some("VVX 450".into()),
            assignee_extension_ids: vec![],
        })
        .unwrap();
    assert!(!device.id.is_empty());
    let unassigned = c.zoom.devices(DeviceListType::Unassigned).unwrap();
    assert!(
        unassigned.iter().any(|d| d.id == device.id),
        "added unassigned"
    );
    let ext = pu
        .extension_id
        .clone()
        .expect("a phone user has an extension id");
    c.zoom
        .assign_device(&device.id, std::slice::from_ref(&ext))
        .unwrap();
    let assigned = c.zoom.devices(DeviceListType::Assigned).unwrap();
    let d = assigned
        .iter()
        .find(|d| d.id == device.id)
        .expect("assigned");
    assert_eq!(
        d.assignee.as_ref().map(|a| a.id.as_str()),
        Some(pu.id.as_str())
    );
    assert!(!c
        .zoom
        .devices(DeviceListType::Unassigned)
        .unwrap()
        .iter()
        .any(|d| d.id == device.id));
    // Added with an extension: assigned at once.
    let second = c
        .zoom
        .add_device(&AddDevice {
            display_name: "Desk 2".into(),
            mac_address: "00:04:f2:aa:bb:02".into(),
            kind: "yealink".into(),
            model: None,
            assignee_extension_ids: vec![ext],
        })
        .unwrap();
    assert!(c
        .zoom
        .devices(DeviceListType::Assigned)
        .unwrap()
        .iter()
        .any(|d| d.id == second.id));
    let row = InternalNumber {
        id: None,
        labels: "HQ".into(),
        number: "+13125550199".into(),
        display_number: "+1 312-555-0199".into(),
        kind: 0,
        country: "US".into(),
        languages: "en-US".into(),
        visible: Some(true),
        allow_join: Some(true),
        allow_for_external_meetings: None,
    };
    let added = c.zoom.add_internal_numbers("me", &[row]).unwrap();
    assert!(added[0].id.is_some(), "{added:?}");
    assert!(c
        .zoom
        .internal_numbers("me")
        .unwrap()
        .iter()
        .any(|i| i.number == "+13125550199"));
    c.zoom.remove_calling_plan(&user.email, plan.kind).unwrap();
    assert!(!c
        .zoom
        .phone_user(&user.email)
        .unwrap()
        .calling_plans
        .iter()
        .any(|p| p.kind == plan.kind));

    // ---- offboard: delete the account, which unpeers the number ----
    c.movius.delete_account("org-zoom", &sel).unwrap();
    let err = c.movius.account(&sel).unwrap_err();
    assert!(vline::api::movius::client::is_not_found(&err), "{err}");
    assert_eq!(c.zoom.number(new.as_str()).unwrap_err().status, Some(404));
}
