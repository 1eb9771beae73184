//! A rule's "no": the value every decision returns when the regulation forbids a change.

use std::fmt;

/// A change refused because it would break a rule.
///
/// `rule` is the id from `shared/spec/regulation.md` (for example `R13.1`); the API answers with
/// it as the problem's `code`, so clients can react to the rule rather than to the prose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub rule: &'static str,
    pub message_en: String,
    pub message_ja: String,
}

impl Refusal {
    pub fn new(rule: &'static str, en: impl Into<String>, ja: impl Into<String>) -> Self {
        Self {
            rule,
            message_en: en.into(),
            message_ja: ja.into(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule, self.message_en)
    }
}

impl std::error::Error for Refusal {}
