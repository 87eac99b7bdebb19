use super::limit::*;
use super::retry::*;
use super::*;

fn transport() -> Transport {
    Transport::new(
        Endpoints {
            zoom: ZoomCredentials {
                api_url: "http://127.0.0.1:1/zoom/v2".into(),
                oauth_url: "http://127.0.0.1:1/zoom/oauth/token".into(),
                account_id: "a".into(),
                client_id: "c".into(),
                client_secret: Secret::new("s"),
            },
            movius: BasicCredentials {
                base_url: "http://127.0.0.1:1/movius".into(),
                user: "u".into(),
                password: Secret::new("p"),
            },
            carrier: None,
        },
        TransportOptions::default(),
    )
    .unwrap()
}

#[test]
fn urls_encode_each_argument_as_one_segment() {
    let t = transport();
    let req = Request::get(
        Service::Zoom,
        "/phone/users/{userId}/phone_numbers/{n}",
        "x",
    )
    .arg("userId", "a/b@x.com")
    .arg("n", "+13126170001")
    .query("type", "unassigned");
    let url = t.url(&req).unwrap();
    assert_eq!(
        url.as_str(),
        "http://127.0.0.1:1/zoom/v2/phone/users/a%2Fb@x.com/phone_numbers/+13126170001?type=unassigned"
    );
    let req = Request::endpoint(Service::Movius, &crate::api::movius::paths::ORG, "org")
        .arg("org", "org-1");
    assert_eq!(
        t.url(&req).unwrap().path(),
        "/movius/adk/services/mcpwebapi/organizations/org-1"
    );
    let err = t
        .url(&Request::get(Service::Carrier, "/ptns", "x"))
        .unwrap_err();
    assert!(err.message.contains("sandbox"), "{err}");
    let err = t
        .url(&Request::get(Service::Zoom, "/users/{id}", "user").arg("id", ""))
        .unwrap_err();
    assert!(err.message.contains("id is empty"));
}

#[test]
fn error_bodies_of_both_services() {
    assert_eq!(
        service_message(br#"{"code":1001,"message":"User does not exist"}"#, 404),
        (Some(1001), "User does not exist".into())
    );
    assert_eq!(
        service_message(
            br#"{"status":"failure","error_code":1003,"message":"not allowed"}"#,
            400
        ),
        (Some(1003), "not allowed".into())
    );
    assert_eq!(
        service_message(b"<html>", 502),
        (None, "Bad Gateway".into())
    );
    let req = Request::post(Service::Movius, "/x", "add_account").target("+13126170001");
    let e = decode::<serde_json::Value>(
        &req,
        br#"{"status":"failure","error_code":1004,"message":"m"}"#,
    )
    .unwrap_err();
    assert_eq!((e.code, e.status), (Some(1004), Some(200)));
    assert_eq!(decode::<()>(&req, b"").unwrap(), ());
}

#[test]
fn daily_cap_is_told_apart() {
    let mut h = HeaderMap::new();
    assert!(!is_daily_limit(&h));
    h.insert("X-RateLimit-Type", "QPS".parse().unwrap());
    assert!(!is_daily_limit(&h));
    h.insert("X-RateLimit-Type", "Daily-limit".parse().unwrap());
    assert!(is_daily_limit(&h));
}

#[test]
fn retry_after_in_seconds() {
    let mut h = HeaderMap::new();
    assert_eq!(retry_after(&h), None);
    h.insert(RETRY_AFTER, "2".parse().unwrap());
    assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
    h.insert(
        RETRY_AFTER,
        "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
    );
    assert_eq!(retry_after(&h), None);
}

#[test]
fn limiter_drops_on_429_and_recovers_slowly() {
    let l = AdaptiveLimiter::new(20, RateShare::DEFAULT);
    assert_eq!(l.decrease(), 14);
    // A second 429 within the debounce window is the same signal.
    assert_eq!(l.decrease(), 14);
    assert_eq!(l.rate(), 14);
    l.state.lock().unwrap().last_change -= RECOVER_EVERY;
    l.current();
    assert_eq!(l.rate(), 16);
}

#[test]
fn limiter_spaces_requests_under_the_rate() {
    let l = limiter_for(10, RateShare::DEFAULT);
    let mut allowed = 0;
    for _ in 0..50 {
        if l.check().is_ok() {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 1, "no burst above one request per slot");
}

#[test]
fn refuses_to_block_inside_a_runtime() {
    let t = transport();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt
        .block_on(async {
            t.send::<serde_json::Value>(&Request::get(Service::Movius, "/x", "orgs"))
        })
        .unwrap_err();
    assert!(err.message.contains("async runtime"), "{err}");
}

#[test]
fn backoff_grows_and_is_capped() {
    let t = transport();
    let b1 = t.backoff(1);
    assert!(
        b1 >= Duration::from_millis(250) && b1 <= Duration::from_millis(500),
        "{b1:?}"
    );
    assert!(t.backoff(30) <= Duration::from_secs(8));
}
