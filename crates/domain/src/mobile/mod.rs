//! Mobile data: SIM usage against caps and packet share packs, and throttle decisions (R9.3,
//! R9.6, R9.9).
//!
//! Readings of the regulation, since it says "monthly" without saying how a record is dated:
//!
//! - A usage record belongs to the calendar month, in Tokyo time (D1), of its interval **start**,
//!   and counts on the Tokyo day of its start. A record that crosses 00:00 Tokyo on the 1st is not
//!   split: the mobile core reports no distribution of bytes within an interval, so splitting
//!   would invent one. All of it counts for the month it started in.
//! - Use is known at the end of a record's interval, so a cap or pack is exceeded at the **end**
//!   of the record that takes the month's use over it. If that instant is already in the next
//!   month (a crossing record), the month's throttle would start after its own release and so
//!   does not happen.
//! - "Exceeded" is strictly more than the cap: a SIM exactly at its cap is not throttled.
//! - Throttles end at 00:00 Tokyo on the 1st of the next month. A larger pack takes effect only on
//!   a 1st (R9.6), which is that same instant, so no throttle needs another end.
//!
//! Usage is metered per `mobile_access` option: a SIM serves one option at a time, and the cap
//! belongs to the option's usage type; storage resolves a record's SIM to its option.

mod binding;
#[cfg(test)]
mod fixtures;
mod group;
mod manual;
mod throttle;

pub use binding::*;
pub use group::*;
pub use manual::*;
pub use throttle::*;

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;

use crate::Refusal;
use crate::book::{Contract, ContractOption};
use crate::calendar::{CalendarError, Month, tokyo_date, tokyo_start_of_day};
use crate::catalog::{DeviceType, OptionKind};

/// Bytes in a GB: 10^9, as
/// [`MobileUsageType::monthly_cap_bytes`](crate::catalog::MobileUsageType::monthly_cap_bytes)
/// takes it.
pub const GB: u64 = 1_000_000_000;

/// The longest `record_id` of a usage record, in characters: a carrier's id of one session, far
/// below what would let one record fill the database (issue 15).
pub const MAX_RECORD_ID_CHARS: usize = 128;

/// The longest `iccid` of a usage record, in characters (an ICCID has at most 22 digits).
pub const MAX_ICCID_CHARS: usize = 32;

crate::state::states! {
    /// Why a usage record is refused at ingestion (kept with it for operators).
    pub enum RejectReason ("usage record rejection reason") {
        /// Not a usage record as the feed defines one: a field missing, empty, too long or
        /// unreadable, or an interval that ends before it starts.
        Invalid = "invalid",
        /// Its ICCID is no SIM the service knows.
        UnknownSim = "unknown_sim",
        /// Its SIM served no mobile access option in service on the record's day (R9.3).
        OutsideOptionPeriod = "outside_option_period",
    }
}

impl RejectReason {
    /// What the reason means, in English.
    pub fn label_en(self) -> &'static str {
        match self {
            RejectReason::Invalid => "Not a valid usage record",
            RejectReason::UnknownSim => "Unknown SIM",
            RejectReason::OutsideOptionPeriod => "Outside the mobile access option's service",
        }
    }

    /// What the reason means, in Japanese.
    pub fn label_ja(self) -> &'static str {
        match self {
            RejectReason::Invalid => "利用記録の形式に誤りがあります",
            RejectReason::UnknownSim => "登録されていないSIMです",
            RejectReason::OutsideOptionPeriod => "モバイルアクセスオプションの提供期間外の記録です",
        }
    }
}

/// One usage record of a SIM, resolved to the `mobile_access` option the SIM served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub option_id: String,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Up plus down: caps and packs count both directions.
    pub bytes: u64,
}

impl Usage {
    /// The Tokyo day the record counts on: the day of its interval start (D1).
    pub fn day(&self) -> Date {
        tokyo_date(self.start)
    }

    /// The Tokyo month the record counts in: the month of its interval start (D1).
    pub fn month(&self) -> Month {
        Month::containing(self.day())
    }
}

/// Whether `used` bytes exceed `limit`: strictly more (R9.9). At the limit is not over it.
pub fn exceeds(used: u64, limit: u64) -> bool {
    used > limit
}

/// A packet pack of `gb` whole GB in bytes (R9.6).
pub fn pack_bytes(gb: u32) -> u64 {
    u64::from(gb) * GB
}

/// The instants bounding a Tokyo month: 00:00 on its 1st and 00:00 on the next 1st (D1).
///
/// # Errors
/// [`CalendarError::OutOfRange`] at the ends of the supported calendar.
pub fn month_bounds(month: Month) -> Result<(Timestamp, Timestamp), CalendarError> {
    Ok((
        tokyo_start_of_day(month.first_day())?,
        tokyo_start_of_day(month.next()?.first_day())?,
    ))
}

/// The instant of a Tokyo civil date-time (D1): usage intervals may be reported without offset.
///
/// Japan has kept UTC+9 without daylight saving since 1951, so the time of day adds to the start
/// of the day as is.
///
/// # Errors
/// [`CalendarError::OutOfRange`] at the ends of the supported calendar.
pub fn tokyo_instant(dt: jiff::civil::DateTime) -> Result<Timestamp, CalendarError> {
    let since_midnight = dt.time().duration_since(jiff::civil::Time::midnight());
    tokyo_start_of_day(dt.date())?
        .checked_add(since_midnight)
        .map_err(|_| CalendarError::OutOfRange)
}

/// Whether `iccid` has the shape of an ICCID: 18 to 22 digits (ITU-T E.118).
pub fn is_iccid(iccid: &str) -> bool {
    (18..=22).contains(&iccid.len()) && iccid.bytes().all(|b| b.is_ascii_digit())
}
/// One Tokyo month of an option's use: the total and the per-day series (D1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthlyUse {
    pub total: u64,
    pub days: BTreeMap<Date, u64>,
}

/// Sums the records of `month` that `keep` accepts, by the day they count on.
pub fn monthly_use(month: Month, records: &[Usage], keep: impl Fn(&Usage) -> bool) -> MonthlyUse {
    let mut out = MonthlyUse::default();
    for r in records.iter().filter(|r| r.month() == month && keep(r)) {
        out.total = out.total.saturating_add(r.bytes);
        *out.days.entry(r.day()).or_default() += r.bytes;
    }
    out
}

/// Checks that a SIM may serve `option` from `from`: a `mobile_access` option of an SA-W2L
/// contract (R6.5, R9.3), in service that day.
///
/// # Errors
/// A refusal with R6.5 for any other option, R9.3 for a day outside the option's service.
pub fn check_sim_binding(
    contract: &Contract,
    option: &ContractOption,
    from: Date,
) -> Result<(), Refusal> {
    if option.kind != OptionKind::MobileAccess || contract.device_type != Some(DeviceType::SaW2l) {
        return Err(Refusal::new(
            "R6.5",
            "a SIM serves only the mobile access option of an SA-W2L contract",
            "SIMはSA-W2L契約のモバイルアクセスオプションにのみ登録できます",
        ));
    }
    if from < option.accepted_on || option.end_on().is_some_and(|end| from > end) {
        return Err(Refusal::new(
            "R9.3",
            format!("the mobile access option is not in service on {from}"),
            format!("{from} はモバイルアクセスオプションの提供期間外です"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_reasons_are_codes_on_the_wire_and_labels_in_each_language() {
        let japanese = |t: &str| t.chars().any(|c| ('\u{3040}'..='\u{9fff}').contains(&c));
        for reason in RejectReason::ALL {
            assert_eq!(reason.as_str().parse(), Ok(reason));
            assert_eq!(
                serde_json::to_value(reason).unwrap(),
                serde_json::json!(reason.as_str())
            );
            assert!(japanese(reason.label_ja()) && !japanese(reason.label_en()));
        }
        assert!("unknown_iccid".parse::<RejectReason>().is_err());
    }
    use crate::mobile::fixtures::*;

    #[test]
    fn an_iccid_is_18_to_22_digits() {
        assert!(is_iccid("898110000000000001")); // 18
        assert!(is_iccid("8981100000000000000001")); // 22
        assert!(!is_iccid("89811000000000001")); // 17
        assert!(!is_iccid("89811000000000000000001")); // 23
        assert!(!is_iccid("8981100000000000O01"));
        assert!(!is_iccid("+8981100000000000001"));
    }

    #[test]
    fn d1_a_record_at_23_59_counts_for_the_month_ending_one_at_00_00_for_the_next() {
        let sim = option("s", MobileUsageType::Plan10gb);
        // 04-30 23:59 JST is still April; 05-01 00:00 JST is May.
        let late = Usage {
            option_id: "s".into(),
            start: ts("2026-04-30T23:59:00+09:00"),
            end: ts("2026-04-30T23:59:59+09:00"),
            bytes: 10 * GB,
        };
        let next = rec("s", "2026-05-01T00:00:00+09:00", 1);
        assert_eq!(late.month(), april());
        assert_eq!(next.month(), "2026-05".parse().unwrap());
        // April: 10 GB + 0 = at the cap; May: 1 byte. Neither month is over its cap.
        let records = [late.clone(), next];
        assert_eq!(sim_throttle(&sim, april(), &records).unwrap(), None);
        assert_eq!(
            sim_throttle(&sim, "2026-05".parse().unwrap(), &records).unwrap(),
            None
        );
        // One more byte at 23:59: April is 10 GB + 1 > 10 GB, throttled from 23:59:59 JST for
        // the one second left of April.
        let byte = Usage {
            end: ts("2026-04-30T23:59:30+09:00"),
            ..rec("s", "2026-04-30T23:59:00+09:00", 1)
        };
        let over = [late, byte];
        let t = sim_throttle(&sim, april(), &over).unwrap().unwrap();
        assert_eq!(t.until - jiff::SignedDuration::from_secs(1), t.from);
    }

    #[test]
    fn d1_civil_date_times_are_read_as_tokyo_time() {
        // 2026-05-01 00:00 JST = 2026-04-30 15:00 UTC.
        let dt: jiff::civil::DateTime = "2026-05-01T00:00:00".parse().unwrap();
        assert_eq!(tokyo_instant(dt).unwrap(), ts("2026-04-30T15:00:00Z"));
    }

    #[test]
    fn d1_a_record_crossing_midnight_of_the_1st_counts_for_its_start_month_only() {
        let sim = option("s", MobileUsageType::Plan10gb);
        // 04-30 23:50 → 05-01 00:05 JST: all 11 GB count for April, over 10 GB, but use is
        // known only at 00:05 in May, after April's release: no throttle, and May has 0 bytes.
        let crossing = Usage {
            option_id: "s".into(),
            start: ts("2026-04-30T23:50:00+09:00"),
            end: ts("2026-05-01T00:05:00+09:00"),
            bytes: 11 * GB,
        };
        let records = [crossing];
        assert_eq!(sim_throttle(&sim, april(), &records).unwrap(), None);
        assert_eq!(monthly_use(april(), &records, |_| true).total, 11 * GB);
        let may = "2026-05".parse().unwrap();
        assert_eq!(monthly_use(may, &records, |_| true).total, 0);
    }
}
