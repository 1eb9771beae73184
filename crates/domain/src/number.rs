//! Short sequential numbers people read and quote for contracts (`C-000123`), requests
//! (`REQ-000123`), outages (`OUT-000123`) and SLA claims (`CLM-000123`), beside the ids the
//! system keeps.
//!
//! Each kind counts on its own from 1, in the order its records are made; a number is never
//! reused. The counter's key is the kind's text.

crate::state::states! {
    /// What a number counts.
    pub enum Numbered ("numbered kind") {
        Contract = "contract",
        Request = "request",
        Outage = "outage",
        Claim = "claim",
    }
}

impl Numbered {
    /// The letters before the digits.
    pub const fn prefix(self) -> &'static str {
        match self {
            Numbered::Contract => "C",
            Numbered::Request => "REQ",
            Numbered::Outage => "OUT",
            Numbered::Claim => "CLM",
        }
    }
}

/// A record's number: its kind and serial, written as the kind's prefix, `-` and at least six
/// digits.
///
/// ```
/// use mpc_domain::number::{Number, Numbered};
/// let n = Number::new(Numbered::Request, 123);
/// assert_eq!(n.to_string(), "REQ-000123");
/// assert_eq!(Number::parse(Numbered::Request, "req-123"), Some(n));
/// assert_eq!(Number::parse(Numbered::Outage, "REQ-000123"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Number {
    pub kind: Numbered,
    pub serial: i64,
}

impl Number {
    pub const fn new(kind: Numbered, serial: i64) -> Self {
        Self { kind, serial }
    }

    /// The number written as [`Number`]'s `Display` writes it, in any letter case, with or
    /// without leading zeros; `None` for anything else (an id, another kind's number, zero).
    pub fn parse(kind: Numbered, s: &str) -> Option<Self> {
        let s = s.trim();
        let prefix = kind.prefix();
        let head = s.get(..prefix.len())?;
        if !head.eq_ignore_ascii_case(prefix) {
            return None;
        }
        let digits = s[prefix.len()..].strip_prefix('-')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .map(|serial| Self::new(kind, serial))
    }
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{:06}", self.kind.prefix(), self.serial)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn numbers_read_back_in_any_case_and_only_as_their_kind() {
        let n = Number::new(Numbered::Claim, 7);
        assert_eq!(n.to_string(), "CLM-000007");
        assert_eq!(Number::parse(Numbered::Claim, " clm-7 "), Some(n));
        assert_eq!(Number::parse(Numbered::Claim, "CLM-0000007"), Some(n));
        assert_eq!(
            Number::new(Numbered::Outage, 1_234_567).to_string(),
            "OUT-1234567"
        );
        for wrong in [
            "CLM-",
            "CLM-0",
            "CLM7",
            "CLM-+7",
            "CLM-7a",
            "OUT-000007",
            "0192f0c4-7d1e-7000-8000-000000000007",
            "CLM-9999999999999999999",
            "ＣＬＭ-7",
        ] {
            assert_eq!(Number::parse(Numbered::Claim, wrong), None, "{wrong}");
        }
        let c = Number::new(Numbered::Contract, 12);
        assert_eq!(c.to_string(), "C-000012");
        assert_eq!(Number::parse(Numbered::Contract, "c-12"), Some(c));
        assert_eq!(Number::parse(Numbered::Contract, "CLM-000012"), None);
    }

    proptest! {
        #[test]
        fn a_written_number_reads_back(serial in 1i64..=i64::MAX, k in 0usize..Numbered::ALL.len()) {
            let n = Number::new(Numbered::ALL[k], serial);
            prop_assert_eq!(Number::parse(n.kind, &n.to_string()), Some(n));
        }
    }
}
