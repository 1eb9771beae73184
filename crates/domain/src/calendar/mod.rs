//! The regulation's calendar: the date rules D1–D6 of `shared/spec/regulation.md`.
//!
//! Every contractual date is a civil date in Japan time (D1), so the rules work on
//! [`jiff::civil::Date`] and only [`tokyo_date`] and [`tokyo_start_of_day`] touch instants. Every
//! date these functions return is inclusive: an end date or deadline is itself the last day that
//! counts, and a termination date is the last day of service, billed in full (D6).
//!
//! The arithmetic follows the Japanese Civil Code rather than jiff's defaults. jiff clamps month
//! arithmetic to the end of the month, so `2026-01-31 + 1 month - 1 day` is 2026-02-27, while a
//! one-month period starting 2026-01-31 ends 2026-02-28 under Art. 143; [`period_end`] therefore
//! finds the corresponding day itself.
//!
//! Dates near the edges of jiff's range (-9999-01-01 to 9999-12-31) can push a result out of it;
//! such functions return [`CalendarError::OutOfRange`] instead of panicking.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

mod month;

pub use month::Month;

/// Japan time, embedded at compile time so that no rule depends on the host's time zone database.
static TOKYO: TimeZone = jiff::tz::get!("Asia/Tokyo");

/// Why a date could not be computed or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The result would fall outside the supported range of dates.
    #[error("date outside the supported range -9999-01-01 to 9999-12-31")]
    OutOfRange,
    /// The text is not an existing day written as `YYYY-MM-DD`.
    #[error("invalid date {input:?}: expected an existing day as YYYY-MM-DD")]
    InvalidDate { input: String },
    /// The text is not a calendar month written as `YYYY-MM`.
    #[error("invalid month {input:?}: expected YYYY-MM")]
    InvalidMonth { input: String },
    /// A date (or month) the business does not deal in: outside [`BUSINESS_DATES`].
    #[error("{input} is outside the supported business dates 2000-01-01 to 2099-12-31")]
    OutsideBusinessDates { input: String },
}

impl CalendarError {
    /// The error in Japanese, for the console's Japanese pages (the English is its `Display`).
    pub fn message_ja(&self) -> String {
        match self {
            CalendarError::OutOfRange => {
                "扱える日付の範囲（-9999-01-01〜9999-12-31）を超えています".into()
            }
            CalendarError::InvalidDate { input } => {
                format!(
                    "「{input}」は日付として読めません。実在する日を YYYY-MM-DD 形式で指定してください"
                )
            }
            CalendarError::InvalidMonth { input } => {
                format!("「{input}」は月として読めません。YYYY-MM 形式で指定してください")
            }
            CalendarError::OutsideBusinessDates { input } => {
                format!("{input} は取り扱う日付（2000-01-01〜2099-12-31）の範囲外です")
            }
        }
    }
}

/// The dates the service deals in: every date or month a request, an import or a command line
/// gives is within them (issue 15).
///
/// jiff accepts years -9999 to 9999, and the arithmetic of the D-rules needs room beyond a
/// date (a minimum period, a return deadline, the month after), so a date near jiff's edges
/// could fail deep inside a rule or be stored as a contract's end. The business range keeps
/// every given date far from those edges, and rejects typos like 0000-01-01 or 1900-01-01.
pub const BUSINESS_DATES: std::ops::RangeInclusive<Date> =
    jiff::civil::date(2000, 1, 1)..=jiff::civil::date(2099, 12, 31);

/// Returns `date` when it is within [`BUSINESS_DATES`]: the one check for every date that enters
/// the system (API bodies and query strings, CSV imports, console forms, CLI flags).
///
/// # Errors
///
/// [`CalendarError::OutsideBusinessDates`] otherwise.
///
/// # Example
///
/// ```
/// use jiff::civil::date;
/// use mpc_domain::calendar::business_date;
///
/// assert_eq!(business_date(date(2026, 4, 1)), Ok(date(2026, 4, 1)));
/// assert!(business_date(date(1900, 1, 1)).is_err());
/// assert!(business_date(date(9999, 12, 31)).is_err());
/// ```
pub fn business_date(date: Date) -> Result<Date, CalendarError> {
    if BUSINESS_DATES.contains(&date) {
        Ok(date)
    } else {
        Err(CalendarError::OutsideBusinessDates {
            input: date.to_string(),
        })
    }
}

/// Returns `ts` when its date in Japan (D1) is within [`BUSINESS_DATES`]: the check of
/// [`business_date`] for instants given from outside (usage records, an `at` query).
///
/// # Errors
///
/// [`CalendarError::OutsideBusinessDates`] otherwise.
pub fn business_instant(ts: Timestamp) -> Result<Timestamp, CalendarError> {
    business_date(tokyo_date(ts)).map(|_| ts)
}

/// Returns `month` when all of it is within [`BUSINESS_DATES`] (see [`business_date`]).
///
/// # Errors
///
/// [`CalendarError::OutsideBusinessDates`] otherwise.
pub fn business_month(month: Month) -> Result<Month, CalendarError> {
    match (
        business_date(month.first_day()),
        business_date(month.last_day()),
    ) {
        (Ok(_), Ok(_)) => Ok(month),
        _ => Err(CalendarError::OutsideBusinessDates {
            input: month.to_string(),
        }),
    }
}

/// Reads a `YYYY-MM-DD` date given from outside ([`parse_date`]) and checks it with
/// [`business_date`].
///
/// # Errors
///
/// [`CalendarError::InvalidDate`] or [`CalendarError::OutsideBusinessDates`].
pub fn parse_business_date(s: &str) -> Result<Date, CalendarError> {
    business_date(parse_date(s)?)
}

/// Reads a `YYYY-MM` month given from outside and checks it with [`business_month`].
///
/// # Errors
///
/// [`CalendarError::InvalidMonth`] or [`CalendarError::OutsideBusinessDates`].
pub fn parse_business_month(s: &str) -> Result<Month, CalendarError> {
    business_month(s.parse()?)
}

/// The civil date and time in Japan at an instant.
pub fn tokyo_time(ts: Timestamp) -> jiff::civil::DateTime {
    TOKYO.to_datetime(ts)
}

/// Returns the civil date in Japan at the instant `ts`.
///
/// Device check-ins and outages are recorded as instants; a rule that needs a date (a billing
/// start date, the day an outage's 24 hours were completed) takes it in Tokyo, D1.
///
/// # Example
///
/// ```
/// use jiff::civil::date;
/// use mpc_domain::calendar::tokyo_date;
///
/// // 15:00 UTC is midnight in Tokyo (UTC+9).
/// let ts: jiff::Timestamp = "2026-03-31T15:00:00Z".parse()?;
/// assert_eq!(tokyo_date(ts), date(2026, 4, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn tokyo_date(ts: Timestamp) -> Date {
    TOKYO.to_datetime(ts).date()
}

/// Returns the first instant of `date` in Japan.
///
/// This turns a civil date into a bound for instants, e.g. to select the heartbeats or outages of
/// a calendar month in Tokyo time, D1.
///
/// # Errors
///
/// [`CalendarError::OutOfRange`] when that instant is outside jiff's timestamp range, which only
/// happens on the first days of year -9999.
pub fn tokyo_start_of_day(date: Date) -> Result<Timestamp, CalendarError> {
    TOKYO
        .to_timestamp(date.into())
        .map_err(|_| CalendarError::OutOfRange)
}

/// A length of time counted in calendar months: the minimum usage periods of R5.1 and R9.8.
///
/// A year is twelve months, as the Civil Code counts it (Art. 143), so `Period::years(1)` and
/// `Period::months(12)` are the same value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    months: u32,
}

impl Period {
    /// A period of `n` months.
    pub const fn months(n: u16) -> Period {
        Period { months: n as u32 }
    }

    /// A period of `n` years.
    pub const fn years(n: u16) -> Period {
        Period {
            months: n as u32 * 12,
        }
    }
}

/// Returns the last day of the period of `length` whose first day is `start`.
///
/// D2 (Civil Code Art. 143): the period ends on the day before the day of its last month that
/// corresponds to `start`; when that month has no such day, it ends on that month's last day.
/// This is not `start + length - 1 day`, which jiff clamps: for 2026-01-31 and one month that
/// gives 2026-02-27, while the rule gives 2026-02-28. A period of zero months is empty and ends
/// the day before it starts.
///
/// # Errors
///
/// [`CalendarError::OutOfRange`] when the month of the corresponding day is after 9999-12 (even
/// if the period itself would end on 9999-12-31), or an empty period starts on -9999-01-01.
///
/// # Example
///
/// ```
/// use jiff::civil::date;
/// use mpc_domain::calendar::{period_end, Period};
///
/// assert_eq!(period_end(date(2026, 4, 10), Period::years(1))?, date(2027, 4, 9));
/// // February 2026 has no 31st.
/// assert_eq!(period_end(date(2026, 1, 31), Period::months(1))?, date(2026, 2, 28));
/// # Ok::<(), mpc_domain::calendar::CalendarError>(())
/// ```
pub fn period_end(start: Date, length: Period) -> Result<Date, CalendarError> {
    let last_month = Month::containing(start).add_months(length.months)?;
    match last_month.day(start.day()) {
        Some(corresponding) => corresponding
            .yesterday()
            .map_err(|_| CalendarError::OutOfRange),
        None => Ok(last_month.last_day()),
    }
}

/// Returns the day on which `days` days have passed from the day a notice arrived.
///
/// D3 (Civil Code Art. 140): the arrival day itself is not counted, so the result is
/// `arrival + days`. Used for the 30 days of an option stop (R9.10) and the 14 days of a
/// cancellation (R13.1).
///
/// # Errors
///
/// [`CalendarError::OutOfRange`] when the result is after 9999-12-31.
///
/// # Example
///
/// ```
/// use jiff::civil::date;
/// use mpc_domain::calendar::days_after_arrival;
///
/// assert_eq!(days_after_arrival(date(2026, 5, 1), 14)?, date(2026, 5, 15));
/// # Ok::<(), mpc_domain::calendar::CalendarError>(())
/// ```
pub fn days_after_arrival(arrival: Date, days: u16) -> Result<Date, CalendarError> {
    add_days(arrival, days)
}

/// Returns the last day of "within `days` days from the end date `end`".
///
/// D4: the deadline is `end + days`, and the deadline day itself still counts. Used for the
/// return of a device within 30 days of a contract's end (R10.3).
///
/// # Errors
///
/// [`CalendarError::OutOfRange`] when the result is after 9999-12-31.
pub fn deadline_within_days(end: Date, days: u16) -> Result<Date, CalendarError> {
    add_days(end, days)
}

/// Returns the last day of "by the day on which `months` months have passed from `from`".
///
/// D5: the deadline is the day of the `months`-th month after `from` that corresponds to it, or
/// that month's last day when it has no such day; the deadline day itself still counts. Used for
/// the 3 months within which an SLA credit must be claimed (R16.3).
///
/// # Errors
///
/// [`CalendarError::OutOfRange`] when the result is after 9999-12-31.
///
/// # Example
///
/// ```
/// use jiff::civil::date;
/// use mpc_domain::calendar::months_passed_deadline;
///
/// assert_eq!(months_passed_deadline(date(2026, 11, 30), 3)?, date(2027, 2, 28));
/// # Ok::<(), mpc_domain::calendar::CalendarError>(())
/// ```
pub fn months_passed_deadline(from: Date, months: u16) -> Result<Date, CalendarError> {
    let month = Month::containing(from).add_months(u32::from(months))?;
    Ok(month.day(from.day()).unwrap_or_else(|| month.last_day()))
}

/// Returns the first day of the calendar month after the one containing `date`.
///
/// Usage-type changes to or from a monthly plan (R9.4) and packet pack changes (R9.6) take
/// effect on this day.
///
/// # Errors
///
/// [`CalendarError::OutOfRange`] for dates in December 9999.
pub fn first_of_next_month(date: Date) -> Result<Date, CalendarError> {
    Month::containing(date).next().map(Month::first_day)
}

/// Returns whether `date` is the last day of its calendar month.
///
/// A usage-type change may not be requested on that day (R9.4), and a monthly plan stopped on
/// any other day is charged for the whole month (R9.11).
pub fn is_last_day_of_month(date: Date) -> bool {
    date == date.last_of_month()
}

/// Returns the number of days of the calendar month containing `date`: the D of D7's proration.
pub fn days_in_month(date: Date) -> i8 {
    date.days_in_month()
}

/// Reads a date written exactly as `YYYY-MM-DD`.
///
/// jiff's own parser also accepts datetimes and signed six-digit years; dates typed by operators
/// and contractors are held to the one form the regulation's examples use.
///
/// # Errors
///
/// [`CalendarError::InvalidDate`] when `s` is not in that form or names a day that does not
/// exist, such as 2026-02-29.
pub fn parse_date(s: &str) -> Result<Date, CalendarError> {
    let invalid = || CalendarError::InvalidDate {
        input: s.to_owned(),
    };
    if !has_shape(s, "0000-00-00") {
        return Err(invalid());
    }
    s.parse().map_err(|_| invalid())
}

fn add_days(date: Date, days: u16) -> Result<Date, CalendarError> {
    date.checked_add(Span::new().days(days))
        .map_err(|_| CalendarError::OutOfRange)
}

/// Whether `s` has the form of `shape`, where each `0` stands for one ASCII digit.
fn has_shape(s: &str, shape: &str) -> bool {
    s.len() == shape.len()
        && s.bytes().zip(shape.bytes()).all(|(c, p)| match p {
            b'0' => c.is_ascii_digit(),
            _ => c == p,
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn business_dates_are_2000_to_2099_for_every_entry() {
        use super::*;
        for ok in ["2000-01-01", "2026-04-01", "2099-12-31"] {
            assert!(parse_business_date(ok).is_ok(), "{ok}");
        }
        for out in [
            "0000-01-01",
            "1900-01-01",
            "1999-12-31",
            "2100-01-01",
            "9999-12-31",
        ] {
            assert!(
                matches!(
                    parse_business_date(out),
                    Err(CalendarError::OutsideBusinessDates { .. })
                ),
                "{out}"
            );
        }
        assert!(parse_business_month("2099-12").is_ok());
        assert!(parse_business_month("2000-01").is_ok());
        for out in ["1999-12", "2100-01", "9999-12", "-0001-01"] {
            assert!(parse_business_month(out).is_err(), "{out}");
        }
        assert!(matches!(
            parse_business_date("2026-02-29"),
            Err(CalendarError::InvalidDate { .. })
        ));
    }

    use jiff::SignedDuration;
    use jiff::civil::date;
    use proptest::prelude::*;

    use super::*;

    fn end(start: Date, length: Period) -> Date {
        period_end(start, length).unwrap()
    }

    #[test]
    fn d1_tokyo_is_nine_hours_ahead_of_utc() {
        let ts = |s: &str| s.parse::<Timestamp>().unwrap();
        // 2026-03-31T14:59:59Z + 9 h = 2026-03-31T23:59:59 in Tokyo.
        assert_eq!(tokyo_date(ts("2026-03-31T14:59:59Z")), date(2026, 3, 31));
        // 2026-03-31T15:00:00Z + 9 h = 2026-04-01T00:00:00 in Tokyo.
        assert_eq!(tokyo_date(ts("2026-03-31T15:00:00Z")), date(2026, 4, 1));
        assert_eq!(
            tokyo_start_of_day(date(2026, 4, 1)),
            Ok(ts("2026-03-31T15:00:00Z"))
        );
    }

    #[test]
    fn d1_start_of_day_at_the_edges_of_the_range() {
        assert_eq!(
            tokyo_start_of_day(Date::MIN),
            Err(CalendarError::OutOfRange)
        );
        assert!(tokyo_start_of_day(Date::MAX).is_ok());
        assert_eq!(tokyo_date(Timestamp::MAX), Date::MAX);
    }

    #[test]
    fn d2_examples() {
        // 2027-04-10 corresponds to 2026-04-10; the day before is 2027-04-09.
        assert_eq!(end(date(2026, 4, 10), Period::years(1)), date(2027, 4, 9));
        // 2026-02-28 corresponds to 2026-01-28; the day before is 2026-02-27.
        assert_eq!(end(date(2026, 1, 28), Period::months(1)), date(2026, 2, 27));
        // February 2026 has no 29th, 30th or 31st: the period ends on its last day, 2026-02-28.
        for day in [29, 30, 31] {
            assert_eq!(
                end(date(2026, 1, day), Period::months(1)),
                date(2026, 2, 28)
            );
        }
        // 2026-04-01 corresponds to 2026-03-01; the day before is 2026-03-31.
        assert_eq!(end(date(2026, 3, 1), Period::months(1)), date(2026, 3, 31));
        // February 2025 has no 29th: the period ends on 2025-02-28.
        assert_eq!(end(date(2024, 2, 29), Period::years(1)), date(2025, 2, 28));
    }

    #[test]
    fn d2_is_not_jiff_month_arithmetic() {
        // jiff clamps 2026-01-31 + 1 month to 2026-02-28, and minus a day gives 2026-02-27.
        let start = date(2026, 1, 31);
        let clamped = start
            .checked_add(Span::new().months(1))
            .and_then(Date::yesterday)
            .unwrap();
        assert_eq!(clamped, date(2026, 2, 27));
        assert_eq!(end(start, Period::months(1)), date(2026, 2, 28));
    }

    #[test]
    fn d2_zero_months_is_empty() {
        // The corresponding day of 2026-05-10 in its own month is itself; the day before ends it.
        assert_eq!(end(date(2026, 5, 10), Period::months(0)), date(2026, 5, 9));
    }

    #[test]
    fn d2_out_of_range() {
        // The last month would be 10000-12.
        assert_eq!(
            period_end(date(9999, 12, 2), Period::years(1)),
            Err(CalendarError::OutOfRange)
        );
        // -9999-01-01 has no day before it.
        assert_eq!(
            period_end(Date::MIN, Period::months(0)),
            Err(CalendarError::OutOfRange)
        );
        // The corresponding day of 9999-12-01 one month later would be 10000-01-01.
        assert_eq!(
            period_end(date(9999, 12, 1), Period::months(1)),
            Err(CalendarError::OutOfRange)
        );
    }

    #[test]
    fn d3_example() {
        // Arrival 2026-05-01 is not counted: 2026-05-01 + 14 days = 2026-05-15.
        assert_eq!(
            days_after_arrival(date(2026, 5, 1), 14),
            Ok(date(2026, 5, 15))
        );
        // R9.10: 2026-05-01 + 30 days = 2026-05-31.
        assert_eq!(
            days_after_arrival(date(2026, 5, 1), 30),
            Ok(date(2026, 5, 31))
        );
        assert_eq!(
            days_after_arrival(Date::MAX, 1),
            Err(CalendarError::OutOfRange)
        );
    }

    #[test]
    fn d4_example() {
        // R10.3: a contract ending 2026-06-15 must see its device back by 2026-06-15 + 30 days.
        assert_eq!(
            deadline_within_days(date(2026, 6, 15), 30),
            Ok(date(2026, 7, 15))
        );
        assert_eq!(
            deadline_within_days(Date::MAX, 1),
            Err(CalendarError::OutOfRange)
        );
    }

    #[test]
    fn d5_examples() {
        // 2027-02 has no 30th: the deadline is its last day, 2027-02-28.
        assert_eq!(
            months_passed_deadline(date(2026, 11, 30), 3),
            Ok(date(2027, 2, 28))
        );
        // The day of 2026-04 corresponding to 2026-01-15 is 2026-04-15.
        assert_eq!(
            months_passed_deadline(date(2026, 1, 15), 3),
            Ok(date(2026, 4, 15))
        );
        // 2028 is a leap year: 2027-11-29 + 3 months = 2028-02-29.
        assert_eq!(
            months_passed_deadline(date(2027, 11, 29), 3),
            Ok(date(2028, 2, 29))
        );
        assert_eq!(
            months_passed_deadline(date(9999, 10, 1), 3),
            Err(CalendarError::OutOfRange)
        );
    }

    #[test]
    fn parse_date_accepts_only_yyyy_mm_dd() {
        assert_eq!(parse_date("2026-04-10"), Ok(date(2026, 4, 10)));
        assert_eq!(parse_date("2024-02-29"), Ok(date(2024, 2, 29)));
        for bad in [
            "2026-02-29",
            "2026-4-10",
            "20260410",
            "2026-04-10T00:00",
            "+002026-04-10",
            "2026/04/10",
            " 2026-04-10",
            "",
        ] {
            assert_eq!(
                parse_date(bad),
                Err(CalendarError::InvalidDate {
                    input: bad.to_owned()
                }),
            );
        }
    }

    /// Any date of years 1900–2199, with month ends drawn often.
    fn any_date() -> impl Strategy<Value = Date> {
        (1900i16..2200, 1i8..=12, 1i8..=31).prop_map(|(y, m, d)| {
            let first = Date::new(y, m, 1).unwrap();
            first
                .with()
                .day(d.min(first.days_in_month()))
                .build()
                .unwrap()
        })
    }

    /// Any date jiff supports.
    pub(super) fn any_supported_date() -> impl Strategy<Value = Date> {
        (-9999i16..=9999, 1i8..=12, 1i8..=31).prop_map(|(y, m, d)| {
            let first = Date::new(y, m, 1).unwrap();
            first
                .with()
                .day(d.min(first.days_in_month()))
                .build()
                .unwrap()
        })
    }

    fn nth_month(date: Date, n: u16) -> Month {
        Month::containing(date).add_months(n.into()).unwrap()
    }

    proptest! {
        #[test]
        fn d2_ends_in_the_last_month_or_just_before_it(start in any_date(), n in 1u16..=240) {
            let end = end(start, Period::months(n));
            prop_assert!(end >= start);
            // A period starting on the 1st ends on the last day of the month before the
            // corresponding day's month.
            let expected = if start.day() == 1 { nth_month(start, n - 1) } else { nth_month(start, n) };
            prop_assert_eq!(Month::containing(end), expected);
        }

        #[test]
        fn d2_anchored_periods_tile_the_calendar(start in any_date(), n in 0u16..240) {
            // The (n+1)-th month from `start` begins the day after the n-th ends and is one
            // calendar month long: never empty, never overlapping, never leaving a gap.
            let days = end(start, Period::months(n))
                .duration_until(end(start, Period::months(n + 1)))
                .as_hours() / 24;
            prop_assert!((28..=31).contains(&days), "{days} days");
        }

        #[test]
        fn d2_chained_periods_equal_one_when_days_align(
            start in any_date(),
            a in 1u16..120,
            b in 1u16..120,
        ) {
            // Without a 29th–31st to clamp, the next period starting the day after the first
            // ends where a single period of a + b months would.
            prop_assume!(start.day() <= 28);
            let next = end(start, Period::months(a)).tomorrow().unwrap();
            prop_assert_eq!(end(next, Period::months(b)), end(start, Period::months(a + b)));
        }

        #[test]
        fn d2_from_the_first_ends_on_a_month_end(start in any_date(), n in 1u16..=240) {
            let first = start.first_of_month();
            prop_assert_eq!(end(first, Period::months(n)), nth_month(first, n - 1).last_day());
        }

        #[test]
        fn d2_a_year_is_twelve_months(start in any_date(), n in 0u16..=20) {
            prop_assert_eq!(end(start, Period::years(n)), end(start, Period::months(n * 12)));
        }

        #[test]
        fn d3_adds_exactly_n_days(arrival in any_date(), n in 0u16..=1000) {
            let day = days_after_arrival(arrival, n).unwrap();
            prop_assert_eq!(
                arrival.duration_until(day),
                SignedDuration::from_hours(24 * i64::from(n))
            );
        }

        #[test]
        fn d5_lies_in_the_nth_month_on_the_corresponding_day(from in any_date(), n in 0u16..=240) {
            let deadline = months_passed_deadline(from, n).unwrap();
            prop_assert!(deadline >= from);
            prop_assert_eq!(Month::containing(deadline), nth_month(from, n));
            prop_assert_eq!(deadline.day(), from.day().min(deadline.days_in_month()));
        }

        #[test]
        fn d1_start_of_day_is_the_first_instant_of_the_day(day in any_date()) {
            let start = tokyo_start_of_day(day).unwrap();
            prop_assert_eq!(tokyo_date(start), day);
            let before = start.checked_sub(SignedDuration::from_nanos(1)).unwrap();
            prop_assert_eq!(tokyo_date(before), day.yesterday().unwrap());
        }

        #[test]
        fn no_panic_anywhere_in_range(day in any_supported_date(), n in any::<u16>()) {
            let _ = period_end(day, Period::months(n));
            let _ = period_end(day, Period::years(n));
            let _ = days_after_arrival(day, n);
            let _ = deadline_within_days(day, n);
            let _ = months_passed_deadline(day, n);
            let _ = first_of_next_month(day);
            let _ = tokyo_start_of_day(day);
        }

        #[test]
        fn parse_date_round_trips_display(day in any_date()) {
            prop_assert_eq!(parse_date(&day.to_string()), Ok(day));
        }
    }
}
