//! libphonenumber's validity rule (`phonenumber::is_valid`), with each of its patterns compiled
//! once and kept.
//!
//! The crate matches every pattern through a shared LRU cache of 100 regexes behind one mutex,
//! keyed by the pattern's text: each match hashes the pattern (some are kilobytes) twice, and a
//! North American number walks the patterns of up to 25 regions. 100,000 numbers cost 1.5 s of
//! CPU there, most of it hashing. This is the same rule on the same metadata — region by leading
//! digits or by type, then a type that matches — and a test holds it equal to the crate's on
//! random numbers of every country.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use phonenumber::metadata::{Descriptor, Metadata, DATABASE};
use phonenumber::PhoneNumber;
use regex::Regex;

/// Compiled patterns by the address and length of their text.
type Compiled = HashMap<(usize, usize), Arc<Regex>>;

/// The crate's `CachedRegex::find(..).start() == 0`, with the pattern compiled once. Patterns
/// are known by the address of their text: the crate's database is a static, so each pattern's
/// text stays where it is for the life of the process.
fn starts(pattern: &str, value: &str) -> bool {
    static ALL: OnceLock<RwLock<Compiled>> = OnceLock::new();
    let all = ALL.get_or_init(Default::default);
    let key = (pattern.as_ptr() as usize, pattern.len());
    let known = all
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .cloned();
    let r = known.unwrap_or_else(|| {
        // The crate builds every pattern with `ignore_whitespace`, and it compiled once already.
        // Shared, not cloned: a cloned `Regex` starts with an empty match cache.
        let r = Arc::new(
            regex::RegexBuilder::new(pattern)
                .ignore_whitespace(true)
                .build()
                .expect("libphonenumber's patterns compile"),
        );
        all.write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, r.clone());
        r
    });
    r.find(value).is_some_and(|m| m.start() == 0)
}

/// The crate's `Descriptor::is_match`: a possible length, and the pattern at the start.
fn is_match(d: &Descriptor, value: &str) -> bool {
    let lengths = d.possible_length();
    (lengths.is_empty() || lengths.contains(&(value.len() as u16)))
        && starts(d.national_number().as_str(), value)
}

/// The crate's `number_type(..) != Type::Unknown`: the general pattern and one of the types.
fn has_type(meta: &Metadata, value: &str) -> bool {
    let d = meta.descriptors();
    is_match(d.general(), value)
        && [
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
            d.fixed_line(),
            d.mobile(),
        ]
        .into_iter()
        .flatten()
        .any(|x| is_match(x, value))
}

/// Whether libphonenumber calls the number valid (the crate's `is_valid`).
pub fn is_valid(number: &PhoneNumber) -> bool {
    let code = number.code().value();
    let national = number.national().to_string();
    let Some(regions) = DATABASE.region(&code) else {
        return false;
    };
    // The crate's `source_for`: the one region of the code, else the first whose leading digits
    // start the number or (without leading digits) whose types match it.
    let meta = if regions.len() == 1 {
        if regions[0] == "001" {
            DATABASE.by_code(&code).and_then(|m| m.into_iter().next())
        } else {
            DATABASE.by_id(regions[0])
        }
    } else {
        regions.iter().find_map(|r| {
            let m = DATABASE.by_id(*r)?;
            let here = match m.leading_digits() {
                Some(p) => starts(p.as_str(), &national),
                None => has_type(m, &national),
            };
            here.then_some(m)
        })
    };
    meta.is_some_and(|m| has_type(m, &national))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 800, failure_persistence: None, ..ProptestConfig::default() })]

        /// The same verdict as the crate on numbers of every calling code, valid or not.
        #[test]
        fn agrees_with_the_crate(code in 1u16..999, national in "[0-9]{2,14}") {
            if let Ok(n) = phonenumber::parse(None, format!("+{code}{national}")) {
                prop_assert_eq!(super::is_valid(&n), phonenumber::is_valid(&n), "{}", n);
            }
        }

        /// And on numbers built from each country's own example numbers, mostly valid ones.
        #[test]
        fn agrees_on_example_numbers(pick in 0usize..10_000, tail in "[0-9]{0,3}", cut in 0usize..3) {
            let metas: Vec<_> = phonenumber::metadata::DATABASE.iter().collect();
            let m = metas[pick % metas.len()];
            let d = m.descriptors();
            for ex in [d.fixed_line(), d.mobile(), d.toll_free(), Some(d.general())].into_iter().flatten().filter_map(|x| x.example()) {
                let national = format!("{}{tail}", &ex[..ex.len().saturating_sub(cut)]);
                if let Ok(n) = phonenumber::parse(None, format!("+{}{national}", m.country_code())) {
                    prop_assert_eq!(super::is_valid(&n), phonenumber::is_valid(&n), "{}", n);
                }
            }
        }
    }
}
