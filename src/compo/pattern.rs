//! `pattern` for the schema check's yes/no pass, matched by a precompiled DFA.
//!
//! Almost every record is valid, so [`super::schema::Schemas::check`] first asks a validator
//! only "valid or not", and asks the standard validator for the details when the answer is no.
//! In that first pass the `pattern` keyword (seven ids, codes and file names per product) was a
//! tenth of the validator's time: the regex crate's lazy DFA needs a cache per call, taken from
//! a pool that is slow from any thread but the one that built it. A dense DFA needs no cache.
//!
//! Soundness is all the first pass needs: it may only call valid what the standard validator
//! calls valid. The pattern is translated from ECMA-262 by the same function `jsonschema` uses
//! and compiled by the same regex engine family, so a DFA match is a match. Anything it cannot
//! compile, or a search it gives up on, counts as "not valid", which sends the record to the
//! standard validator: slower, never wrong.

use super::tape::{TapeJson, TapeNode};
use jsonschema::{Keyword, ValidationError};
use regex_automata::dfa::{dense, Automaton, StartKind};
use regex_automata::{Anchored, Input};

/// A schema `pattern` compiled into a dense DFA.
pub struct DfaPattern {
    dfa: dense::DFA<Vec<u32>>,
    /// The pattern starts with `^`: a search tries position 0 only.
    anchored: bool,
}

impl DfaPattern {
    /// `None` when the pattern is not one the regex engine can take as a DFA.
    pub fn new(ecma: &str) -> Option<DfaPattern> {
        let rust = jsonschema_regex::to_rust_regex(ecma).ok()?;
        let dfa = dense::Builder::new()
            .configure(dense::Config::new().start_kind(StartKind::Both))
            .build(&rust)
            .ok()?;
        Some(DfaPattern {
            dfa,
            anchored: rust.starts_with('^'),
        })
    }

    /// Whether `s` matches; `false` also when the search gave up.
    pub fn is_match(&self, s: &str) -> bool {
        let anchored = if self.anchored {
            Anchored::Yes
        } else {
            Anchored::No
        };
        let input = Input::new(s).earliest(true).anchored(anchored);
        matches!(self.dfa.try_search_fwd(&input), Ok(Some(_)))
    }
}

/// The `pattern` keyword of the yes/no pass.
pub struct FastPattern(Option<DfaPattern>);

impl FastPattern {
    /// The keyword for a schema's `pattern` value.
    pub fn keyword<'a>(
        _: &'a serde_json::Map<String, serde_json::Value>,
        value: &'a serde_json::Value,
        _: jsonschema::paths::Location,
    ) -> Result<Box<dyn for<'i> Keyword<'i, TapeJson>>, ValidationError<'a>> {
        Ok(Box::new(FastPattern(
            value.as_str().and_then(DfaPattern::new),
        )))
    }
}

impl<'i> Keyword<'i, TapeJson> for FastPattern {
    fn validate(&self, instance: TapeNode<'i>) -> Result<(), ValidationError<'i>> {
        if self.is_valid(instance) {
            Ok(())
        } else {
            // Never shown: records this pass rejects are explained by the standard validator.
            Err(ValidationError::custom("does not match the pattern"))
        }
    }

    fn is_valid(&self, instance: TapeNode<'i>) -> bool {
        match instance.as_str() {
            None => true,
            Some(s) => self.0.as_ref().is_some_and(|p| p.is_match(s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pattern of the shipped schemas compiles, and agrees with the regex crate on
    /// values that match and values that do not.
    #[test]
    fn the_schemas_patterns_match_as_the_regex_crate_does() {
        let mut patterns = Vec::new();
        for (_, text) in super::super::schema::EMBEDDED {
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            collect(&v, &mut patterns);
        }
        patterns.sort();
        patterns.dedup();
        assert!(patterns.len() >= 8, "{patterns:?}");
        let samples = [
            "",
            "P0000001",
            "CAT-618",
            "RU",
            "Ru",
            "RUB",
            "4600000000008",
            "460000000000",
            "1234567",
            "12345678901234567890",
            "img-000148.jpg",
            "img 1.jpg",
            "a/b.png",
            "2026-11-22",
            "2026-11-22T10:00:00Z",
            "2026-11-22T10:00:00.5+03:00",
            "2026-11-22 10:00",
            "ivan@example.ru",
            "ivan@@example.ru",
            "ivan @example.ru",
            "Чайник «Чистота»",
            "tab\there",
            "line\nbreak",
            "del\u{7f}",
            "😀",
            "044525225",
        ];
        for p in &patterns {
            let dfa = DfaPattern::new(p).unwrap_or_else(|| panic!("{p:?} does not compile"));
            let re = regex::Regex::new(&jsonschema_regex::to_rust_regex(p).unwrap()).unwrap();
            for s in samples {
                assert_eq!(dfa.is_match(s), re.is_match(s), "pattern {p:?} on {s:?}");
            }
        }
    }

    #[test]
    fn a_pattern_without_anchor_is_searched_everywhere() {
        let p = DfaPattern::new("[0-9]{3}").unwrap();
        assert!(p.is_match("abc123"));
        assert!(!p.is_match("ab12c"));
        let anchored = DfaPattern::new("^[0-9]{3}").unwrap();
        assert!(!anchored.is_match("abc123"));
    }

    fn collect(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x) {
                        ("pattern", serde_json::Value::String(p)) => out.push(p.clone()),
                        _ => collect(x, out),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
            _ => {}
        }
    }
}
