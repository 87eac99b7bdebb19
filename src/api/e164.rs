//! E.164 telephone numbers: the one representation of a number anywhere in vline.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A telephone number in E.164 form (`+` and 8 to 15 digits, no leading zero in the country code).
///
/// Parsing accepts what admins paste from spreadsheets and portals — `+1 312-617-3497`,
/// `(312) 617-3497` is *not* accepted (no country code), `13126173497` is (Movius writes numbers
/// without the `+`) — and rejects everything else with the reason.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

/// Why a string is not an E.164 number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum E164Error {
    #[error("empty phone number")]
    Empty,
    #[error("'{input}' contains '{ch}', which is not part of a phone number (digits, one leading +, spaces, dashes, dots and parentheses only)")]
    BadCharacter { input: String, ch: char },
    #[error("'{input}' has {digits} digits; an E.164 number has 8 to 15 (country code included)")]
    Length { input: String, digits: usize },
    #[error(
        "'{input}' starts with 0; an E.164 number starts with its country code (e.g. +1 or +44)"
    )]
    LeadingZero { input: String },
}

impl E164 {
    /// Parse a number, tolerating the separators people type.
    pub fn parse(input: &str) -> Result<Self, E164Error> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(E164Error::Empty);
        }
        let mut digits = String::with_capacity(16);
        for (i, ch) in trimmed.chars().enumerate() {
            match ch {
                '0'..='9' => digits.push(ch),
                '+' if i == 0 => {}
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => {
                    return Err(E164Error::BadCharacter {
                        input: trimmed.to_string(),
                        ch,
                    })
                }
            }
        }
        if digits.starts_with('0') {
            return Err(E164Error::LeadingZero {
                input: trimmed.to_string(),
            });
        }
        if !(8..=15).contains(&digits.len()) {
            return Err(E164Error::Length {
                input: trimmed.to_string(),
                digits: digits.len(),
            });
        }
        Ok(E164(format!("+{digits}")))
    }

    /// `+13126173497`: the form Zoom uses.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `13126173497`: the form Movius uses (first names, emails, PTNs).
    pub fn digits(&self) -> &str {
        &self.0[1..]
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

    #[test]
    fn accepts_what_admins_paste() {
        for s in [
            "+1 312-617-3497",
            "13126173497",
            "+13126173497",
            " 1.312.617.3497 ",
        ] {
            assert_eq!(E164::parse(s).unwrap().as_str(), "+13126173497", "{s}");
        }
        assert_eq!(E164::parse("13126173497").unwrap().digits(), "13126173497");
    }

    #[test]
    fn rejects_with_reason() {
        assert!(matches!(E164::parse(""), Err(E164Error::Empty)));
        assert!(matches!(
            E164::parse("+1 312 abc"),
            Err(E164Error::BadCharacter { ch: 'a', .. })
        ));
        assert!(matches!(
            E164::parse("12345"),
            Err(E164Error::Length { digits: 5, .. })
        ));
        assert!(matches!(
            E164::parse("03126173497"),
            Err(E164Error::LeadingZero { .. })
        ));
        assert!(matches!(
            E164::parse("1+3126173497"),
            Err(E164Error::BadCharacter { ch: '+', .. })
        ));
    }
}
