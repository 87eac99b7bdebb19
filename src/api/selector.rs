//! How an operator names a Movius account.

use std::fmt;

use super::e164::E164;

/// A Movius account selector. The guide's precedence: if `phone_number` is given, `account_sid`
/// and `email` are ignored; if `account_sid` is given, `email` is ignored.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Selector {
    PhoneNumber(E164),
    AccountSid(String),
    Email(String),
}

/// The selector was empty or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error("an account selector needs phone_number, account_sid or email")]
    Empty,
    #[error("phone_number: {0}")]
    Number(#[from] super::e164::E164Error),
    #[error("email '{0}' {1}")]
    Email(String, String),
}

/// A value as a message may show it: control characters escaped, at most 60 characters.
pub fn shown(v: &str) -> String {
    let mut s: String = v.chars().take(60).flat_map(char::escape_debug).collect();
    if v.chars().nth(60).is_some() {
        s.push('…');
    }
    s
}

fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

impl Selector {
    /// Build a selector from the three optional fields with the guide's precedence.
    pub fn from_parts(
        phone_number: Option<&str>,
        account_sid: Option<&str>,
        email: Option<&str>,
    ) -> Result<Self, SelectorError> {
        if let Some(n) = present(phone_number) {
            return Ok(Selector::PhoneNumber(E164::parse(n)?));
        }
        if let Some(sid) = present(account_sid) {
            return Ok(Selector::AccountSid(sid.to_string()));
        }
        if let Some(e) = present(email) {
            if let Some(why) = email_problem(e) {
                return Err(SelectorError::Email(shown(e), why));
            }
            return Ok(Selector::Email(e.to_string()));
        }
        Err(SelectorError::Empty)
    }

    /// The one field this selector sends, as Movius names it.
    pub fn field(&self) -> (&'static str, String) {
        match self {
            Selector::PhoneNumber(n) => ("phone_number", n.digits().to_string()),
            Selector::AccountSid(s) => ("account_sid", s.clone()),
            Selector::Email(e) => ("email", e.clone()),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::PhoneNumber(n) => write!(f, "{n}"),
            Selector::AccountSid(s) => write!(f, "account {s}"),
            Selector::Email(e) => write!(f, "{e}"),
        }
    }
}

/// RFC 5321's limits: a path of 256 octets with its angle brackets, a local part of 64.
pub const MAX_EMAIL_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;

/// Why `s` is not an email address vline will send anywhere: RFC 5321's lengths, then a real
/// parser (`email_address`: RFC 5322 syntax, a domain with a dot, no display name, no domain
/// literal), then no whitespace or control characters (which the RFCs allow quoted, and no
/// service here accepts). `None` when it is one.
pub fn email_problem(s: &str) -> Option<String> {
    if s.len() > MAX_EMAIL_LEN {
        return Some(format!(
            "is {} bytes long; an email address has at most {MAX_EMAIL_LEN} (RFC 5321)",
            s.len()
        ));
    }
    if let Some(c) = s.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Some(format!(
            "contains {c:?}, which no email address here may hold"
        ));
    }
    match s.split_once('@') {
        Some((local, _)) if local.len() > MAX_LOCAL_LEN => {
            return Some(format!(
                "has a local part of {} bytes; at most {MAX_LOCAL_LEN} (RFC 5321)",
                local.len()
            ))
        }
        None => return Some("is not an email address (no @)".into()),
        _ => {}
    }
    let options = email_address::Options::default()
        .with_required_tld()
        .without_display_text()
        .without_domain_literal();
    match email_address::EmailAddress::parse_with_options(s, options) {
        Ok(_) => None,
        Err(e) => Some(format!("is not an email address ({e})")),
    }
}

/// Whether `s` is an email address (see [`email_problem`]).
pub fn is_email(s: &str) -> bool {
    email_problem(s).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guide_precedence() {
        let s = Selector::from_parts(Some("13126173497"), Some("AC1"), Some("a@b.com")).unwrap();
        assert_eq!(s.field(), ("phone_number", "13126173497".into()));
        let s = Selector::from_parts(None, Some("AC1"), Some("a@b.com")).unwrap();
        assert_eq!(s.field(), ("account_sid", "AC1".into()));
        let s = Selector::from_parts(Some(" "), None, Some("a@b.com")).unwrap();
        assert_eq!(s, Selector::Email("a@b.com".into()));
        assert_eq!(
            Selector::from_parts(None, None, None),
            Err(SelectorError::Empty)
        );
        assert!(Selector::from_parts(None, None, Some("nope")).is_err());
    }

    #[test]
    fn emails_by_rfc_5321_and_a_parser() {
        assert!(is_email("carol@jpmc.example"));
        assert!(is_email("13126173497.JPMC@jpmc.movius.ai"));
        for bad in [
            "nope",
            "a@b",
            "a b@x.com",
            "a@x.com\0",
            "Carol <carol@x.com>",
            "a@[1.2.3.4]",
            "a@@x.com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        let long = format!("{}@x.com", "a".repeat(5_000_000));
        assert!(email_problem(&long).unwrap().contains("at most 254"));
        let local = format!("{}@x.com", "a".repeat(65));
        assert!(email_problem(&local).unwrap().contains("local part of 65"));
    }
}
