//! How a new account is named from its number.

use serde::{Deserialize, Serialize};

use crate::api::e164::E164;

/// How a new account is named from its number (the guide's convention by default: first name =
/// the number's digits, last name `JPMC`, email `<first_name>.<last_name>@jpmc.movius.ai`).
///
/// Placeholders: `{digits}` (`13126173497`), `{e164}` (`+13126173497`), and in later fields the
/// earlier ones: `{first_name}`, `{last_name}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Naming {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

impl Default for Naming {
    fn default() -> Self {
        Naming {
            first_name: "{digits}".into(),
            last_name: "JPMC".into(),
            email: "{first_name}.{last_name}@jpmc.movius.ai".into(),
        }
    }
}

impl Naming {
    /// `(first_name, last_name, email)` for a number.
    pub fn render(&self, n: &E164) -> (String, String, String) {
        let base = |t: &str| {
            t.replace("{digits}", n.digits())
                .replace("{e164}", n.as_str())
        };
        let first = base(&self.first_name);
        let last = base(&self.last_name).replace("{first_name}", &first);
        let email = base(&self.email)
            .replace("{first_name}", &first)
            .replace("{last_name}", &last);
        (first, last, email)
    }

    pub(super) fn validate(&self) -> Result<(), String> {
        let sample = E164::parse("+13126173497").map_err(|e| e.to_string())?;
        let (f, l, e) = self.render(&sample);
        for (field, v) in [("first_name", &f), ("last_name", &l), ("email", &e)] {
            if v.contains('{') || v.contains('}') {
                return Err(format!(
                    "naming.{field} has an unknown placeholder ('{v}'); use {{digits}}, {{e164}}, {{first_name}}, {{last_name}}"
                ));
            }
            if v.trim().is_empty() {
                return Err(format!("naming.{field} is empty"));
            }
        }
        if !crate::api::selector::is_email(&e) {
            return Err(format!(
                "naming.email gives '{e}', which is not an email address"
            ));
        }
        Ok(())
    }
}
