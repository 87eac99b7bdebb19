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
    #[error("email '{0}' is not an email address")]
    Email(String),
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
            if !is_email(e) {
                return Err(SelectorError::Email(e.to_string()));
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

/// A deliberately plain check: one `@`, something on both sides, a dot in the domain, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(char::is_whitespace)
        && !domain.contains('@')
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
}
