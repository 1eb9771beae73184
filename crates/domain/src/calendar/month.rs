//! The calendar month (D7, B1): its days, its text form and its serde form.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{CalendarError, has_shape};

/// A calendar month, such as 2026-02.
///
/// Proration divides by a calendar month's days (D7), invoices are issued per calendar month
/// (B1), and some changes wait for the next one (R9.4, R9.6). It is written `YYYY-MM` in text and
/// in serde formats (`-YYYY-MM` before year 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(Date);

impl Month {
    /// The month that contains `date`.
    pub fn containing(date: Date) -> Month {
        Month(date.first_of_month())
    }

    /// The month's first day.
    pub fn first_day(self) -> Date {
        self.0
    }

    /// The month's last day.
    pub fn last_day(self) -> Date {
        self.0.last_of_month()
    }

    /// Whether `date` falls in this month.
    pub fn contains(self, date: Date) -> bool {
        self.first_day() <= date && date <= self.last_day()
    }

    /// The number of days in the month: 28 to 31.
    pub fn days(self) -> i8 {
        self.0.days_in_month()
    }

    /// The month after this one.
    ///
    /// # Errors
    ///
    /// [`CalendarError::OutOfRange`] for 9999-12.
    pub fn next(self) -> Result<Month, CalendarError> {
        self.add_months(1)
    }

    /// The month `n` months after this one, counted on (year, month) so that no day is clamped.
    pub(super) fn add_months(self, n: u32) -> Result<Month, CalendarError> {
        let index = i64::from(self.0.year()) * 12 + i64::from(self.0.month() - 1) + i64::from(n);
        let (Ok(year), Ok(month)) = (
            i16::try_from(index.div_euclid(12)),
            i8::try_from(index.rem_euclid(12) + 1),
        ) else {
            return Err(CalendarError::OutOfRange);
        };
        Date::new(year, month, 1)
            .map(Month)
            .map_err(|_| CalendarError::OutOfRange)
    }

    /// The day numbered `day` of this month, if the month has one.
    pub(super) fn day(self, day: i8) -> Option<Date> {
        self.0.with().day(day).build().ok()
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let year = self.0.year();
        let sign = if year < 0 { "-" } else { "" };
        write!(f, "{sign}{:04}-{:02}", year.unsigned_abs(), self.0.month())
    }
}

impl FromStr for Month {
    type Err = CalendarError;

    /// Reads `YYYY-MM`, or `-YYYY-MM` for a month before year 0.
    fn from_str(s: &str) -> Result<Month, CalendarError> {
        let invalid = || CalendarError::InvalidMonth {
            input: s.to_owned(),
        };
        let (negative, unsigned) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        if !has_shape(unsigned, "0000-00") {
            return Err(invalid());
        }
        let (Ok(year), Ok(month)) = (unsigned[..4].parse::<i16>(), unsigned[5..].parse::<i8>())
        else {
            return Err(invalid());
        };
        let year = if negative { -year } else { year };
        Date::new(year, month, 1).map(Month).map_err(|_| invalid())
    }
}

impl Serialize for Month {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Month, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use proptest::prelude::*;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as DeError, StrDeserializer};

    use super::*;
    use crate::calendar::tests::any_supported_date;
    use crate::calendar::{days_in_month, first_of_next_month, is_last_day_of_month};

    #[test]
    fn month_helpers() {
        let feb = "2026-02".parse::<Month>().unwrap();
        assert_eq!(feb, Month::containing(date(2026, 2, 17)));
        assert_eq!(feb.first_day(), date(2026, 2, 1));
        assert_eq!(feb.last_day(), date(2026, 2, 28));
        assert_eq!(feb.days(), 28);
        assert_eq!(feb.next().unwrap().to_string(), "2026-03");
        assert_eq!(
            "2025-12"
                .parse::<Month>()
                .unwrap()
                .next()
                .unwrap()
                .to_string(),
            "2026-01"
        );
        assert_eq!(
            Month::containing(Date::MAX).next(),
            Err(CalendarError::OutOfRange)
        );
        assert_eq!(days_in_month(date(2024, 2, 1)), 29);
        assert_eq!(
            first_of_next_month(date(2026, 12, 31)),
            Ok(date(2027, 1, 1))
        );
        assert!(is_last_day_of_month(date(2024, 2, 29)));
        assert!(!is_last_day_of_month(date(2024, 2, 28)));
    }

    #[test]
    fn month_text_and_serde() {
        for text in ["2026-02", "0000-01", "9999-12", "-9999-01", "-0001-12"] {
            let month: Month = text.parse().unwrap();
            assert_eq!(month.to_string(), text);
            let de: StrDeserializer<'_, DeError> = text.into_deserializer();
            assert_eq!(Month::deserialize(de), Ok(month));
        }
        for bad in [
            "2026-2",
            "2026-13",
            "2026-00",
            "26-02",
            "+2026-02",
            "2026-02-01",
            "２０２６-02",
        ] {
            assert_eq!(
                bad.parse::<Month>(),
                Err(CalendarError::InvalidMonth {
                    input: bad.to_owned()
                }),
            );
        }
    }

    proptest! {
        #[test]
        fn month_round_trips_through_text(day in any_supported_date()) {
            let month = Month::containing(day);
            prop_assert_eq!(month.to_string().parse::<Month>(), Ok(month));
        }
    }
}
