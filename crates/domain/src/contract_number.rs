//! How people name a contract: its number (`C-000123`), which they say on the phone and type,
//! and the site label its contractor gives it (本社, 大阪支店 …).
//!
//! The number is given once, when the contract is created on acceptance of its application,
//! from one counter: sequential, unique and never reused, even after the contract ends.
//! Storage gives it; this module only reads and writes it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::account::FieldError;
use crate::number::{Number, Numbered};

/// A contract's number: shown `C-` and at least six digits (`C-000123`, `C-1234567`).
///
/// # Reading one
/// [`ContractNumber::from_str`] accepts the shown form in any case and with or without its
/// leading zeros (`C-000123`, `c-123`), or the bare digits (`123`, `000123`), surrounding
/// blanks ignored. Zero is no number.
///
/// ```
/// use mpc_domain::contract_number::ContractNumber;
///
/// let n: ContractNumber = "c-123".parse().unwrap();
/// assert_eq!(n.to_string(), "C-000123");
/// assert_eq!("123".parse::<ContractNumber>().unwrap(), n);
/// assert_eq!(ContractNumber::new(1_234_567).unwrap().to_string(), "C-1234567");
/// assert!("C-0".parse::<ContractNumber>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContractNumber(u64);

/// The longest number read, in digits (an `i64` column holds 18 without overflow).
const MAX_DIGITS: usize = 18;

/// What a number that does not read says, in English and Japanese.
pub const FORMAT_EN: &str =
    "a contract number is written C-000123 (the C- and the leading zeros may be left out)";
pub const FORMAT_JA: &str =
    "契約番号は C-000123 の形式で指定してください（C- と先頭の 0 は省略できます）";

impl ContractNumber {
    /// The number `n`; none for zero.
    pub fn new(n: u64) -> Option<Self> {
        (n > 0 && n.to_string().len() <= MAX_DIGITS).then_some(Self(n))
    }

    pub fn get(self) -> u64 {
        self.0
    }

    /// The number as the counter shared with requests, outages and claims writes it.
    pub fn number(self) -> Number {
        // `new` keeps the value within 18 digits, so it fits an `i64`.
        Number::new(Numbered::Contract, self.0 as i64)
    }
}

impl TryFrom<Number> for ContractNumber {
    type Error = NotANumber;

    fn try_from(n: Number) -> Result<Self, NotANumber> {
        if n.kind != Numbered::Contract {
            return Err(NotANumber);
        }
        u64::try_from(n.serial)
            .ok()
            .and_then(Self::new)
            .ok_or(NotANumber)
    }
}

/// Why a text is not a contract number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{FORMAT_EN}")]
pub struct NotANumber;

impl FromStr for ContractNumber {
    type Err = NotANumber;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        // Bare digits read as if `C-` stood before them.
        let number = if s.starts_with(|c: char| c.is_ascii_digit()) {
            Number::parse(Numbered::Contract, &format!("C-{s}"))
        } else {
            Number::parse(Numbered::Contract, s)
        };
        number.ok_or(NotANumber)?.try_into()
    }
}

impl fmt::Display for ContractNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.number(), f)
    }
}

impl Serialize for ContractNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ContractNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The longest site label, in characters.
pub const MAX_LABEL_CHARS: usize = 60;

/// A contract's site label as its contractor wrote it: trimmed, at most [`MAX_LABEL_CHARS`]
/// characters, no control characters. Empty means no label.
///
/// ```
/// use mpc_domain::contract_number::label;
///
/// assert_eq!(label("label", "  本社 ").unwrap(), "本社");
/// assert_eq!(label("label", "").unwrap(), "");
/// assert!(label("label", "本社\n2F").is_err());
/// ```
///
/// # Errors
/// When the text is too long or holds a control character.
pub fn label(field: &'static str, value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    if value.chars().count() > MAX_LABEL_CHARS {
        return Err(FieldError::new(
            field,
            format!("{field} must be at most {MAX_LABEL_CHARS} characters"),
            format!("{field} は{MAX_LABEL_CHARS}文字以内で入力してください"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            format!("{field} must not contain control characters"),
            format!("{field} に制御文字は使えません"),
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_shown_form_has_six_digits_at_least() {
        assert_eq!(ContractNumber::new(1).unwrap().to_string(), "C-000001");
        assert_eq!(ContractNumber::new(123).unwrap().to_string(), "C-000123");
        assert_eq!(
            ContractNumber::new(999_999).unwrap().to_string(),
            "C-999999"
        );
        assert_eq!(
            ContractNumber::new(1_000_000).unwrap().to_string(),
            "C-1000000"
        );
        assert_eq!(ContractNumber::new(0), None);
    }

    #[test]
    fn what_reads_as_a_number() {
        for ok in [
            "C-000123", "c-000123", "C-123", "c-123", "123", "000123", " C-123 ",
        ] {
            assert_eq!(ok.parse::<ContractNumber>().unwrap().get(), 123, "{ok:?}");
        }
        for bad in [
            "",
            "C-",
            "C123",
            "C-12a",
            "C--12",
            "-12",
            "+12",
            "C-0",
            "0",
            "C-000000",
            "1e3",
            "C-1 2",
            "０１２",
            "019a5f3c-7b1e-7cc0-9c53-3c1c7b1e1a22",
            "C-9999999999999999999",
        ] {
            assert_eq!(bad.parse::<ContractNumber>(), Err(NotANumber), "{bad:?}");
        }
    }

    #[test]
    fn a_number_is_a_string_on_the_wire() {
        let n = ContractNumber::new(42).unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"C-000042\"");
        assert_eq!(
            serde_json::from_str::<ContractNumber>("\"c-42\"").unwrap(),
            n
        );
        assert!(serde_json::from_str::<ContractNumber>("\"x\"").is_err());
    }

    #[test]
    fn labels_are_trimmed_bounded_and_printable() {
        assert_eq!(label("label", " 大阪支店\u{3000}").unwrap(), "大阪支店");
        let longest = "本".repeat(MAX_LABEL_CHARS);
        assert_eq!(label("label", &longest).unwrap(), longest);
        let e = label("label", &format!("{longest}本")).unwrap_err();
        assert_eq!(e.field, "label");
        assert!(e.message_en.contains("60"), "{}", e.message_en);
        assert!(label("label", "本社\t2F").is_err());
        assert!(label("label", "本社\u{7f}").is_err());
    }

    proptest! {
        #[test]
        fn shown_numbers_read_back(n in 1u64..=999_999_999_999_999_999) {
            let shown = ContractNumber::new(n).unwrap().to_string();
            prop_assert_eq!(shown.parse::<ContractNumber>().unwrap().get(), n);
            prop_assert_eq!(shown.to_lowercase().parse::<ContractNumber>().unwrap().get(), n);
            prop_assert_eq!(n.to_string().parse::<ContractNumber>().unwrap().get(), n);
        }

        #[test]
        fn reading_never_panics(s in ".{0,40}") {
            let _ = s.parse::<ContractNumber>();
        }
    }
}
