//! Bad input, property-tested: the parsers every operator input goes through never panic, accept
//! only what round-trips, and refuse with a one-line reason (CSV refusals name their line).

use proptest::prelude::*;

use vline::api::{E164Error, E164};
use vline::bulk::validate::validate;
use vline::config::Config;
use vline::host::header::{split_kv, Header};

/// Few cases by default (the whole suite must stay fast on 2 cores); `PROPTEST_CASES` raises it.
fn cases(default: u32) -> ProptestConfig {
    let n = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases: n,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Things people paste into a number cell: digits with separators, a stray letter or unicode.
fn number_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[+]?[0-9 ().-]{0,24}",
        "[+]?[0-9]{1,18}",
        "\\PC{0,20}",
        "[+0-9a-zA-Z ()\\-.٣０]{0,20}",
    ]
}

/// Every length a national number of the country code has, by libphonenumber's metadata.
fn possible_lengths(code: u16) -> Vec<u16> {
    use phonenumber::metadata::DATABASE;
    let mut out = Vec::new();
    for m in DATABASE.by_code(&code).unwrap_or_default() {
        let d = m.descriptors();
        for x in [
            Some(d.general()),
            d.fixed_line(),
            d.mobile(),
            d.toll_free(),
            d.premium_rate(),
            d.shared_cost(),
            d.personal_number(),
            d.voip(),
            d.pager(),
            d.uan(),
            d.voicemail(),
        ]
        .into_iter()
        .flatten()
        {
            out.extend_from_slice(x.possible_length());
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

const HEADER: &str = "//! title: T\n//! param: phone_number e164 required n\n//! param: user email required u\n//! param: site string optional=Chicago s\n//! param: enable bool optional e\n//! param: count int optional c\n";

proptest! {
    #![proptest_config(cases(400))]

    #[test]
    fn e164_never_panics_accepts_only_what_round_trips(s in number_like()) {
        match E164::parse(&s) {
            Ok(n) => {
                let canon = n.as_str();
                prop_assert!(canon.starts_with('+'));
                prop_assert_eq!(&canon[1..], n.digits());
                // E.164's 15 at most. No floor of our own: libphonenumber's metadata decides what
                // is short enough to be valid (Germany has 4-digit subscriber numbers: +49 1640).
                prop_assert!(n.digits().len() <= 15, "{}", canon);
                prop_assert!(n.digits().len() > n.calling_code().to_string().len(), "{}", canon);
                prop_assert!(n.digits().bytes().all(|b| b.is_ascii_digit()), "{}", canon);
                prop_assert!(!n.digits().starts_with('0'), "{}", canon);
                // Round trip: the canonical form, with or without a region, is the same number.
                prop_assert_eq!(E164::parse(canon), Ok(n.clone()));
                for r in ["US", "GB", "DE"] {
                    prop_assert_eq!(E164::parse_in(canon, Some(r.parse().unwrap())), Ok(n.clone()));
                }
                // Movius's digit form is the same number, or refused as ambiguous: never another.
                match E164::parse(n.digits()) {
                    Ok(m) => prop_assert_eq!(m, n.clone()),
                    Err(e) => prop_assert!(matches!(e, E164Error::Ambiguous { .. }), "{}", e),
                }
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(!msg.is_empty());
                prop_assert!(!msg.contains('\n'), "{}", msg);
                if !s.trim().is_empty() {
                    // The reason quotes what was refused (escaped, at most 40 characters), so an
                    // operator finds the cell.
                    let shown: String = s.trim().chars().take(40).flat_map(char::escape_debug).collect();
                    prop_assert!(msg.contains(&shown), "{} / {:?}", msg, s);
                }
            }
        }
    }

    /// A number whose length after its country code is not one its country uses is refused,
    /// whatever the digits.
    #[test]
    fn every_number_of_a_wrong_length_for_its_country_is_refused(
        country in prop::sample::select(vec![1u16, 44, 49, 33, 31, 91, 61, 81, 55, 353, 65, 852]),
        pick in 0usize..16,
        digits in "[0-9]{16}",
    ) {
        let lengths = possible_lengths(country);
        let wrong: Vec<usize> = (1..=16).filter(|l| !lengths.contains(&(*l as u16))).collect();
        let len = wrong[pick % wrong.len()];
        let input = format!("+{country}{}", &digits[..len]);
        let r = E164::parse(&input);
        prop_assert!(r.is_err(), "{} was accepted as {:?} (lengths of +{}: {:?})", input, r, country, lengths);
    }

    /// A US national form is never read as another country's number: without a region it is
    /// refused (or, written with its leading 1, the same +1 number); with `US` it is that number.
    #[test]
    fn no_national_form_becomes_another_countrys_number(
        area in "[2-9][0-9]{2}",
        exchange in "[2-9][0-9]{2}",
        line in "[0-9]{4}",
        form in 0usize..4,
    ) {
        let e164 = format!("+1{area}{exchange}{line}");
        if E164::parse(&e164).is_err() {
            return Ok(()); // not a number in use: nothing to read nationally
        }
        let national = match form {
            0 => format!("({area}) {exchange}-{line}"),
            1 => format!("{area}-{exchange}-{line}"),
            2 => format!("{area}{exchange}{line}"),
            _ => format!("{area}.{exchange}.{line}"),
        };
        match E164::parse(&national) {
            Ok(n) => prop_assert!(false, "{} became {} without a region", national, n),
            Err(e) => prop_assert!(
                matches!(&e, E164Error::NoCountryCode { .. } | E164Error::Ambiguous { .. }),
                "{}", e
            ),
        }
        match E164::parse_in(&national, Some("US".parse().unwrap())) {
            Ok(n) => prop_assert_eq!(n.as_str(), e164.as_str()),
            Err(e) => prop_assert!(matches!(e, E164Error::Ambiguous { .. }), "{}", e),
        }
        // Written with the country code's digits, it stays +1 in any profile.
        let with_code = format!("1{area}{exchange}{line}");
        prop_assert_eq!(E164::parse(&with_code).map(|n| n.to_string()), Ok(e164.clone()));
        prop_assert_eq!(
            E164::parse_in(&with_code, Some("US".parse().unwrap())).map(|n| n.to_string()),
            Ok(e164.clone())
        );
    }

    #[test]
    fn kv_params_never_panic_and_errors_are_one_line(
        args in prop::collection::vec(
            prop_oneof![
                "(phone_number|user|site|enable|count|x)=\\PC{0,16}",
                "\\PC{0,16}",
                "[a-z_]{1,8}=[0-9+ -]{0,14}",
            ],
            0..6,
        )
    ) {
        let header = Header::parse(HEADER).expect("header");
        match split_kv(&args) {
            Ok(kv) => {
                for (k, _) in &kv {
                    prop_assert!(!k.is_empty());
                    prop_assert!(k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
                }
                if let Err(errs) = header.bind(&kv) {
                    prop_assert!(!errs.is_empty());
                    for e in errs {
                        prop_assert!(!e.trim().is_empty());
                        prop_assert!(!e.contains('\n'), "{}", e);
                    }
                }
            }
            Err(e) => {
                prop_assert!(e.contains("is not KEY=VALUE"), "{}", e);
            }
        }
    }

    #[test]
    fn config_parse_never_panics_and_errors_are_one_line(
        lines in prop::collection::vec(
            prop_oneof![
                Just("[profiles.lab]".to_string()),
                Just("default_profile = \"lab\"".to_string()),
                Just("kind = \"real\"".to_string()),
                Just("kind = \"sandbox\"".to_string()),
                "(zoom_api_url|zoom_oauth_url|movius_url|carrier_url) = \"(http|https|ftp)://[a-z0-9.:]{0,20}/?\"",
                "(zoom_account_id|zoom_client_id|movius_user|movius_org|zoom_plan) = \"[a-z-]{0,10}\"",
                "(max_changes|http_timeout_secs) = -?[0-9]{1,20}",
                "\\[naming\\]|\\[\\[profiles.lab.windows\\]\\]",
                "(first_name|email|days|start|end|tz) = \"[{}a-z@._ ]{0,16}\"",
                "\\PC{0,24}",
                "[\\[\\]=\"{}a-z ]{0,12}",
            ],
            0..12,
        )
    ) {
        let text = lines.join("\n");
        match Config::parse(&text, None) {
            Ok(cfg) => {
                for name in [None, Some("lab"), Some("sandbox"), Some("nope")] {
                    if let Err(e) = cfg.profile(name) {
                        let msg = e.to_string();
                        prop_assert!(!msg.is_empty());
                        prop_assert!(!msg.contains('\n'), "{}", msg);
                    }
                }
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(!msg.is_empty());
                prop_assert!(!msg.contains('\n'), "{}", msg);
            }
        }
    }
}

proptest! {
    // Each case writes a file; fewer of them.
    #![proptest_config(cases(200))]

    #[test]
    fn csv_validator_never_panics_and_names_the_line_of_each_refusal(
        head in prop_oneof![
            Just("phone_number,user".to_string()),
            Just("phone_number,user,site,enable,count".to_string()),
            Just("user,phone_number,extra".to_string()),
            Just("number,user".to_string()),
            Just("phone_number,phone_number,user".to_string()),
            "\\PC{0,20}",
        ],
        rows in prop::collection::vec(
            prop_oneof![
                "\\+1312617[0-9]{4},[a-c]@jpmc\\.example",
                "[+0-9 -]{0,14},[a-z@.]{0,12}",
                "[+0-9 -]{0,14},[a-z@.]{0,12},[A-Za-z]{0,6},(true|false|yes|x)?,-?[0-9]{0,20}",
                "\\PC{0,30}",
                "\"[^\"]{0,10}",
                Just(String::new()),
            ],
            0..12,
        ),
        crlf in any::<bool>(),
    ) {
        let header = Header::parse(HEADER).expect("header");
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut text = head;
        for r in &rows {
            text.push_str(eol);
            text.push_str(r);
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("rows.csv");
        std::fs::write(&path, &text).expect("write");
        match validate(&path, &header) {
            Ok(summary) => {
                prop_assert!(summary.rows > 0);
                for p in &header.params {
                    if p.required && p.default.is_none() {
                        prop_assert!(summary.columns.contains(&p.name));
                    }
                }
            }
            Err(refusal) => {
                prop_assert!(!refusal.problems.is_empty());
                prop_assert!(refusal.total >= refusal.problems.len() as u64);
                for p in &refusal.problems {
                    prop_assert!(!p.message.trim().is_empty());
                    let shown = p.to_string();
                    if p.line == 0 {
                        // File-level problems (unreadable header, no rows) name the file instead.
                        prop_assert!(shown.contains("rows.csv"), "{}", shown);
                    } else {
                        prop_assert!(shown.starts_with(&format!("line {}: ", p.line)), "{}", shown);
                        let lines = text.split('\n').count() as u64;
                        prop_assert!(p.line <= lines.max(1), "line {} of {}: {}", p.line, lines, shown);
                    }
                }
                let whole = refusal.to_string();
                prop_assert!(whole.contains("nothing was sent"), "{}", whole);
            }
        }
    }
}

/// A good row next to bad ones: the bad lines are named, the file is refused whole.
#[test]
fn csv_refusal_lists_exactly_the_bad_lines() {
    let header = Header::parse(HEADER).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.csv");
    std::fs::write(
        &path,
        "phone_number,user\n+13126170100,a@jpmc.example\n+1312617,b@jpmc.example\n+13126170102,not-an-email\n+13126170100,d@jpmc.example\n",
    )
    .unwrap();
    let r = validate(&path, &header).unwrap_err();
    let lines: Vec<u64> = r.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![3, 4, 5], "{r}");
}
