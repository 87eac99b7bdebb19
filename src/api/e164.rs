//! E.164 telephone numbers: the one representation of a number anywhere in vline.
//!
//! A number is checked against libphonenumber's metadata (the `phonenumber` crate): it must be a
//! valid number of its country — the right length and a range in use — never just "8 to 15
//! digits". A number is never moved to another country to make it fit: `(312) 617-0104` is read
//! as a US number only when the profile says national numbers are US numbers
//! (`default_region = "US"`); without that it is refused, with the number it probably means.

use std::fmt;
use std::str::FromStr;

use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;
use phonenumber::PhoneNumber;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A valid telephone number in E.164 form (`+13126173497`).
///
/// Input forms: `+1 312-617-3497` (`+` and the country code, any of the separators people type),
/// `13126173497` (country-code digits without `+`, as Movius writes numbers), and — only with a
/// region ([`E164::parse_in`]) — the region's national forms: `(312) 617-3497`, `312-617-3497`,
/// `3126173497`. Letters, extensions and control characters are refused.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

/// The region national numbers belong to (`default_region` of a profile): a CLDR two-letter code
/// that libphonenumber has metadata for, such as `US` or `GB`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Region(Id);

/// Where a number without `+` probably belongs, to suggest a `default_region` when none is set.
/// The bank's numbers are North American and British.
const SUGGESTED_REGIONS: [Id; 2] = [Id::US, Id::GB];

/// Longer input is not a phone number; refusing it first bounds the work done on it.
pub const MAX_INPUT_CHARS: usize = 40;

/// Why a string is not a valid number. Each message is one line that says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum E164Error {
    #[error("empty phone number")]
    Empty,
    #[error("'{input}' is {chars} characters long; a phone number has at most {MAX_INPUT_CHARS}")]
    TooLong { input: String, chars: usize },
    #[error("'{input}' contains {ch:?}, which is not part of a phone number (digits, one leading +, spaces, dashes, dots and parentheses only)")]
    BadCharacter { input: String, ch: char },
    #[error("{}", no_country_code(input, suggestion.as_ref()))]
    NoCountryCode {
        input: String,
        /// The number it is in a likely region, and that region.
        suggestion: Option<(E164, Region)>,
    },
    #[error("'{input}' could be {international} (country code {}) or {national} (a national number of {region}); write it with + and its country code", international.calling_code())]
    Ambiguous {
        input: String,
        international: E164,
        national: E164,
        region: Region,
    },
    #[error("'{input}' is not a valid {}: {reason}", match region { Some(r) => format!("{r} number"), None => "phone number".to_string() })]
    Invalid {
        input: String,
        region: Option<Region>,
        reason: String,
    },
}

fn no_country_code(input: &str, suggestion: Option<&(E164, Region)>) -> String {
    match suggestion {
        Some((n, r)) => format!(
            "'{input}' has no country code: did you mean {n}? set default_region = \"{r}\" in the profile, or write the number with + and its country code"
        ),
        None => format!(
            "'{input}' has no country code (and is no valid number with one); write it with + and its country code, e.g. +1 312 617 3497"
        ),
    }
}

/// The input as it may appear in a message: control characters escaped, at most 40 characters.
fn shown(input: &str) -> String {
    let mut s: String = input
        .chars()
        .take(MAX_INPUT_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if input.chars().nth(MAX_INPUT_CHARS).is_some() {
        s.push('…');
    }
    s
}

impl Region {
    /// The country calling code of the region (`1` for US).
    pub fn calling_code(self) -> u16 {
        DATABASE
            .by_id(self.0.as_ref())
            .map(|m| m.country_code())
            .unwrap_or(0)
    }
}

impl FromStr for Region {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let up = s.trim().to_ascii_uppercase();
        match up.parse::<Id>() {
            Ok(id) if DATABASE.by_id(id.as_ref()).is_some() => Ok(Region(id)),
            _ => Err(format!(
                "'{}' is not a region with phone numbers; use a two-letter country code such as \"US\" or \"GB\"",
                shown(s)
            )),
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_ref())
    }
}

impl Serialize for Region {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_ref())
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A number libphonenumber calls valid, as `+digits`.
fn valid(n: &PhoneNumber) -> Option<E164> {
    // E.164 is `+`, the code and the national significant number (its leading zeros kept by
    // its Display): the crate's formatter takes a tenth of a parse to say the same.
    let e164 = format!("+{}{}", n.code().value(), n.national());
    // libphonenumber's metadata admits a few longer national ranges (Indonesia's 0800 ranges
    // reach 16 digits with the country code); Zoom and Movius take E.164, which stops at 15.
    (super::validity::is_valid(n) && e164.len() - 1 <= MAX_DIGITS).then_some(E164(e164))
}

/// E.164's limit: a country code and national number of at most 15 digits together.
const MAX_DIGITS: usize = 15;

/// Why `+digits` is not valid: no such country code, or the wrong length, or a range not in use.
fn why_invalid(digits: &str) -> String {
    if digits.len() > MAX_DIGITS {
        return format!(
            "+{digits} has {} digits; an E.164 number has at most {MAX_DIGITS}",
            digits.len()
        );
    }
    let (code, national) = match phonenumber::parse(None, format!("+{digits}")) {
        Ok(n) => (n.code().value(), n.national().to_string()),
        Err(phonenumber::ParseError::InvalidCountryCode) => {
            return format!("+{digits} starts with no country's calling code")
        }
        Err(_) => return format!("+{digits} is too short or too long for any country"),
    };
    // The main region of the code speaks for it (the US for +1, the UK for +44).
    let metas = DATABASE.by_code(&code).unwrap_or_default();
    let Some(main) = metas
        .iter()
        .find(|m| m.is_main_country_for_code())
        .or(metas.first())
    else {
        return format!("+{digits} starts with no country's calling code");
    };
    let d = main.descriptors();
    let mut lengths: Vec<u16> = [
        Some(d.general()),
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.personal_number(),
        d.voip(),
        d.uan(),
    ]
    .into_iter()
    .flatten()
    .flat_map(|x| x.possible_length().to_vec())
    .collect();
    lengths.sort_unstable();
    lengths.dedup();
    let n = national.len() as u16;
    let place = format!("+{code} ({})", main.id());
    if !lengths.is_empty() && !lengths.contains(&n) {
        let want = lengths
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        format!("it has {n} digits after the country code +{code}; numbers of {place} have {want}")
    } else {
        format!("{national} is not a number range in use in {place}")
    }
}

/// libphonenumber's parse of `+digits`, told the main region of the digits' calling code: left
/// to find the region itself, the crate walks every region sharing the code (25 for +1) through
/// its regex cache, two thirds of the cost of a parse. What `parse` accepts is the same (a test
/// holds it); told the region, the crate may also strip a national prefix after the code, which
/// `parse` refuses with "did you mean".
fn parse_plus(digits: &str) -> Option<PhoneNumber> {
    static MAIN: std::sync::OnceLock<std::collections::HashMap<u16, Id>> =
        std::sync::OnceLock::new();
    let main = MAIN.get_or_init(|| {
        let mut m = std::collections::HashMap::new();
        for meta in DATABASE.iter() {
            if let Ok(id) = meta.id().parse::<Id>() {
                if meta.is_main_country_for_code() || !m.contains_key(&meta.country_code()) {
                    m.insert(meta.country_code(), id);
                }
            }
        }
        m
    });
    // Calling codes are prefix-free: at most one of the first one, two or three digits is one.
    let region = (1..=3.min(digits.len()))
        .filter_map(|n| digits[..n].parse::<u16>().ok())
        .find_map(|code| main.get(&code).copied());
    phonenumber::parse(region, format!("+{digits}")).ok()
}

impl E164 {
    /// Parse a number in international form (`+` and country code, or country-code digits
    /// without `+`); a national form is refused. For what vline reads from services and its own
    /// files; operator input goes through [`E164::parse_in`].
    pub fn parse(input: &str) -> Result<Self, E164Error> {
        Self::parse_in(input, None)
    }

    /// Parse operator input: like [`E164::parse`], and with a region, digits without `+` are read
    /// as that region's national form (its national prefix and country code included:
    /// `13126173497` and `3126173497` are the same US number).
    pub fn parse_in(input: &str, region: Option<Region>) -> Result<Self, E164Error> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(E164Error::Empty);
        }
        let chars = trimmed.chars().count();
        if chars > MAX_INPUT_CHARS {
            return Err(E164Error::TooLong {
                input: shown(trimmed),
                chars,
            });
        }
        let mut digits = String::with_capacity(16);
        let plus = trimmed.starts_with('+');
        for (i, ch) in trimmed.chars().enumerate() {
            match ch {
                '0'..='9' => digits.push(ch),
                '+' if i == 0 => {}
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => {
                    return Err(E164Error::BadCharacter {
                        input: shown(trimmed),
                        ch,
                    })
                }
            }
        }
        if digits.is_empty() {
            return Err(E164Error::Invalid {
                input: shown(trimmed),
                region: None,
                reason: "it has no digits".into(),
            });
        }
        // Written with its country code, a number is exactly its digits: libphonenumber would
        // drop a national prefix or carrier code after the country code (`+44 (0)20…`,
        // `+55 0011…`), which is a different string of digits than the one written.
        let as_written = || parse_plus(&digits).as_ref().and_then(valid);
        let international = || as_written().filter(|n| n.digits() == digits);
        let national_in = |r: Id| {
            let n = phonenumber::parse(Some(r), &digits).ok()?;
            // A national form stays in its region: an international dialling prefix (011…)
            // is not a national form.
            let code = DATABASE.by_id(r.as_ref())?.country_code();
            (n.code().value() == code).then_some(())?;
            valid(&n)
        };
        if plus {
            return match as_written() {
                Some(n) if n.digits() == digits => Ok(n),
                Some(n) => Err(E164Error::Invalid {
                    input: shown(trimmed),
                    region: None,
                    reason: format!("with + the digits must be the number itself; did you mean {n} (without the national prefix)?"),
                }),
                None => Err(E164Error::Invalid {
                    input: shown(trimmed),
                    region: None,
                    reason: why_invalid(&digits),
                }),
            };
        }
        match region {
            Some(r) => {
                let national = national_in(r.0).ok_or_else(|| E164Error::Invalid {
                    input: shown(trimmed),
                    region: Some(r),
                    reason: format!(
                        "read as a national number of {r} it is not one ({}); a number of another country is written with + and its country code",
                        why_invalid(&format!("{}{}", r.calling_code(), digits.trim_start_matches('0')))
                    ),
                })?;
                match international() {
                    Some(i) if i != national => Err(E164Error::Ambiguous {
                        input: shown(trimmed),
                        international: i,
                        national,
                        region: r,
                    }),
                    _ => Ok(national),
                }
            }
            None => {
                let likely = SUGGESTED_REGIONS
                    .iter()
                    .find_map(|&r| national_in(r).map(|n| (n, Region(r))));
                match (international(), likely) {
                    (Some(i), Some((n, r))) if i != n => Err(E164Error::Ambiguous {
                        input: shown(trimmed),
                        international: i,
                        national: n,
                        region: r,
                    }),
                    (Some(i), _) => Ok(i),
                    (None, suggestion) => Err(E164Error::NoCountryCode {
                        input: shown(trimmed),
                        suggestion,
                    }),
                }
            }
        }
    }

    /// `+13126173497`: the form Zoom uses.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `13126173497`: the form Movius uses (first names, emails, PTNs).
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }

    /// The country calling code (`1` for `+13126173497`).
    pub fn calling_code(&self) -> u16 {
        phonenumber::parse(None, &self.0)
            .map(|n| n.code().value())
            .unwrap_or(0)
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E164({})", self.0)
    }
}

impl FromStr for E164 {
    type Err = E164Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        E164::parse(s)
    }
}

impl Serialize for E164 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for E164 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        E164::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> Option<Region> {
        Some("US".parse().unwrap())
    }

    #[test]
    fn accepts_what_admins_paste() {
        for s in [
            "+1 312-617-3497",
            "13126173497",
            "+13126173497",
            " 1.312.617.3497 ",
            "+1 (312) 617-3497",
        ] {
            assert_eq!(E164::parse(s).unwrap().as_str(), "+13126173497", "{s}");
        }
        assert_eq!(E164::parse("13126173497").unwrap().digits(), "13126173497");
        // Italy keeps the leading 0 of its national number after the country code.
        assert_eq!(
            E164::parse("+39 06 6982 0000").unwrap().as_str(),
            "+390669820000"
        );
        assert_eq!(
            E164::parse("+44 20 7183 8750").unwrap().as_str(),
            "+442071838750"
        );
    }

    #[test]
    fn national_forms_need_a_region_and_stay_in_it() {
        for s in ["(312) 617-0104", "312-617-0104", "3126170104"] {
            let e = E164::parse(s).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("'{s}' has no country code: did you mean +13126170104? set default_region = \"US\" in the profile, or write the number with + and its country code"),
            );
            assert_eq!(E164::parse_in(s, us()).unwrap().as_str(), "+13126170104");
        }
        assert_eq!(
            E164::parse_in("13126170104", us()).unwrap().as_str(),
            "+13126170104"
        );
        // A UK national form in a UK profile.
        let gb = Some("gb".parse().unwrap());
        assert_eq!(
            E164::parse_in("020 7183 8750", gb).unwrap().as_str(),
            "+442071838750"
        );
    }

    #[test]
    fn wrong_lengths_are_refused_with_the_country_rule() {
        let e = E164::parse("+1312617011").unwrap_err();
        assert_eq!(
            e.to_string(),
            "'+1312617011' is not a valid phone number: it has 9 digits after the country code +1; numbers of +1 (US) have 10"
        );
        assert!(E164::parse("+131261701150").is_err());
        assert_eq!(
            E164::parse("+44 (0)20 7183 8750").unwrap_err().to_string(),
            "'+44 (0)20 7183 8750' is not a valid phone number: with + the digits must be the number itself; did you mean +442071838750 (without the national prefix)?"
        );
        let e = E164::parse_in("312-617-01", us()).unwrap_err();
        assert!(e.to_string().starts_with("'312-617-01' is not a valid US number: read as a national number of US it is not one (it has 8 digits after the country code +1"), "{e}");
    }

    #[test]
    fn rejects_with_reason() {
        assert!(matches!(E164::parse(""), Err(E164Error::Empty)));
        assert!(matches!(
            E164::parse("+1 312 abc"),
            Err(E164Error::BadCharacter { ch: 'a', .. })
        ));
        assert!(matches!(
            E164::parse("1-800-FLOWERS"),
            Err(E164Error::BadCharacter { ch: 'F', .. })
        ));
        assert_eq!(
            E164::parse("+1312\0").unwrap_err().to_string(),
            "'+1312\\0' contains '\\0', which is not part of a phone number (digits, one leading +, spaces, dashes, dots and parentheses only)"
        );
        assert!(matches!(
            E164::parse("12345"),
            Err(E164Error::NoCountryCode { .. })
        ));
        assert!(matches!(
            E164::parse("1+3126173497"),
            Err(E164Error::BadCharacter { ch: '+', .. })
        ));
        // libphonenumber calls this Indonesian range valid; E.164 stops at 15 digits.
        assert_eq!(
            E164::parse("+6280000000000000").unwrap_err().to_string(),
            "'+6280000000000000' is not a valid phone number: +6280000000000000 has 16 digits; an E.164 number has at most 15"
        );
        assert!(E164::parse("6280000000000000").is_err());
        let long = "1".repeat(5_000_000);
        assert!(matches!(E164::parse(&long), Err(E164Error::TooLong { .. })));
    }

    /// What `parse` accepts from a parse of `+digits`: a valid number that is exactly the digits.
    /// (Told the region, the crate may strip a national prefix the lone parse keeps; both are
    /// refused, the first with "did you mean".)
    fn accepted(n: Option<PhoneNumber>, digits: &str) -> Option<E164> {
        n.as_ref().and_then(valid).filter(|e| e.digits() == digits)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 800, failure_persistence: None, ..Default::default() })]

        /// Told the main region of the code, the crate parses `+digits` as it does left alone.
        #[test]
        fn parse_plus_is_the_crates_parse(d in "[1-9][0-9]{5,15}") {
            proptest::prop_assert_eq!(accepted(parse_plus(&d), &d), accepted(phonenumber::parse(None, format!("+{d}")).ok(), &d), "{}", d);
        }
    }

    /// And on every example number of every region (the valid numbers of shared codes), each
    /// also with a leading national prefix digit and a digit more.
    #[test]
    fn parse_plus_agrees_on_every_example_number() {
        let mut n = 0;
        for m in DATABASE.iter() {
            let d = m.descriptors();
            let types = [
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.voip(),
                d.uan(),
                d.personal_number(),
                d.pager(),
                d.shared_cost(),
                d.voicemail(),
            ];
            for ex in types.into_iter().flatten().filter_map(|x| x.example()) {
                let code = m.country_code();
                for digits in [
                    format!("{code}{ex}"),
                    format!("{code}0{ex}"),
                    format!("{code}1{ex}"),
                    format!("{code}{ex}5"),
                ] {
                    assert_eq!(
                        accepted(parse_plus(&digits), &digits),
                        accepted(phonenumber::parse(None, format!("+{digits}")).ok(), &digits),
                        "{digits} ({})",
                        m.id()
                    );
                    n += 1;
                }
            }
        }
        assert!(n > 2000, "{n}");
    }

    #[test]
    fn regions() {
        assert_eq!("us".parse::<Region>().unwrap().to_string(), "US");
        assert_eq!(
            "USA".parse::<Region>().unwrap_err(),
            "'USA' is not a region with phone numbers; use a two-letter country code such as \"US\" or \"GB\""
        );
    }
}
