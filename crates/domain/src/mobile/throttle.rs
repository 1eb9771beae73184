//! Automatic throttles of one SIM against its usage type's cap (R9.9), and the shortcuts that
//! let a batch continue a month's count instead of replaying it.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::book::{ContractOption, Timeline};
use crate::calendar::{CalendarError, Month};
use crate::catalog::MobileUsageType;

use super::*;

/// What a throttle measured use against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum Basis {
    /// The monthly cap of a `plan_*` usage type (R9.9).
    Cap { usage_type: MobileUsageType },
    /// The monthly pack of a packet share group (R9.6, R9.9).
    Pack { group_id: String },
}

impl Basis {
    /// Why a SIM is throttled on this basis, as operators and mobile cores read it.
    pub fn reason(&self) -> String {
        match self {
            Basis::Cap { usage_type } => format!("R9.9: over the {usage_type} cap"),
            Basis::Pack { group_id } => format!("R9.9: over the pack of group {group_id}"),
        }
    }
}

/// An automatic throttle decision (R9.9): the option's SIM is restricted from `from` until
/// `until` (exclusive), because `used` bytes of the month exceeded `limit` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    pub option_id: String,
    pub month: Month,
    pub from: Timestamp,
    pub until: Timestamp,
    pub limit: u64,
    /// The month's use at `from`: the first value over `limit`.
    pub used: u64,
    pub basis: Basis,
}

/// Records in order of interval end, as use becomes known.
pub(super) fn by_end<'a>(records: impl Iterator<Item = &'a Usage>) -> Vec<&'a Usage> {
    let mut out: Vec<&Usage> = records.collect();
    out.sort_by_key(|r| (r.end, r.start));
    out
}

/// The throttle of `option` for `month` under its `plan_*` cap (R9.9), if its use exceeds it.
///
/// Every record of the option in `month` counts; the cap is the one of the usage type in force
/// on the day of the record that takes use over it (plan changes wait for a 1st, R9.4).
/// Records of other options or months are ignored.
///
/// # Errors
/// [`CalendarError::OutOfRange`] at the ends of the supported calendar.
pub fn sim_throttle(
    option: &ContractOption,
    month: Month,
    records: &[Usage],
) -> Result<Option<Throttle>, CalendarError> {
    cap_throttle(&option.id, &option.usage_types, month, 0, records)
}

/// The use of a month's records that end before `until`.
///
/// Records count in order of end, so these come before every other record of the month. When a
/// batch adds or replaces only records ending at or after `until`, and these did not exceed the
/// limit (the month had no throttle from before `until`), a decision needs only the records
/// from `until` on: the count goes on from `bytes` exactly as a replay of the month would
/// (R9.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub bytes: u64,
    pub until: Timestamp,
}

impl Counted {
    pub(super) fn precedes<'a>(&self, mut later: impl Iterator<Item = &'a Usage>) -> bool {
        later.all(|r| r.end >= self.until)
    }
}

/// [`sim_throttle`] from the use `counted` before its `until` and the month's `later` records
/// (every one ending at or after it); `None` when one of them ends before.
///
/// # Errors
/// [`CalendarError::OutOfRange`] at the ends of the supported calendar.
pub fn sim_throttle_after(
    option_id: &str,
    usage_types: &Timeline<MobileUsageType>,
    month: Month,
    counted: Counted,
    later: &[Usage],
) -> Result<Option<Option<Throttle>>, CalendarError> {
    let of_month = |r: &&Usage| r.option_id == option_id && r.month() == month;
    if !counted.precedes(later.iter().filter(of_month)) {
        return Ok(None);
    }
    cap_throttle(option_id, usage_types, month, counted.bytes, later).map(Some)
}

fn cap_throttle(
    option_id: &str,
    usage_types: &Timeline<MobileUsageType>,
    month: Month,
    counted: u64,
    records: &[Usage],
) -> Result<Option<Throttle>, CalendarError> {
    let (_, until) = month_bounds(month)?;
    let over = first_over(
        counted,
        records
            .iter()
            .filter(|r| r.option_id == option_id && r.month() == month),
        |day| usage_types.at(day).and_then(|u| u.monthly_cap_bytes()),
    );
    Ok(over.and_then(|(r, limit, used)| {
        let usage_type = *usage_types.at(r.day())?;
        (r.end < until).then(|| Throttle {
            option_id: option_id.to_owned(),
            month,
            from: r.end,
            until,
            limit,
            used,
            basis: Basis::Cap { usage_type },
        })
    }))
}

/// The record that takes use over the limit in force on its day, counting `records` in order
/// of end from `counted` bytes, with that limit and the use it reached.
pub(super) fn first_over<'a>(
    counted: u64,
    records: impl Iterator<Item = &'a Usage>,
    limit_on: impl Fn(Date) -> Option<u64>,
) -> Option<(&'a Usage, u64, u64)> {
    let mut used = counted;
    for r in by_end(records) {
        used = used.saturating_add(r.bytes);
        if let Some(limit) = limit_on(r.day())
            && exceeds(used, limit)
        {
            return Some((r, limit, used));
        }
    }
    None
}

/// The lowest limit that `limit_of` gives a value of `timeline` in force on some day of `month`.
///
/// A month's total use that does not exceed it exceeds no limit of the month at any point, so a
/// caller that keeps totals can rule a throttle out without replaying the records (R9.9).
pub fn lowest_limit<T: Clone>(
    timeline: &Timeline<T>,
    month: Month,
    limit_of: impl Fn(&T) -> Option<u64>,
) -> Option<u64> {
    timeline
        .entries()
        .iter()
        .filter(|(from, _)| *from <= month.last_day())
        .filter(|(from, _)| {
            timeline
                .next_after(*from)
                .is_none_or(|(next, _)| next > month.first_day())
        })
        .filter_map(|(_, v)| limit_of(v))
        .min()
}

/// Whether a throttle whose month crossed its limit at `from` stays as it is when the only new
/// records of that month end at or after `earliest_new_end`.
///
/// Records count in order of interval end (then start), so records ending strictly later leave
/// the use up to the crossing record, and that record itself, unchanged (R9.9).
pub fn throttle_stands(from: Timestamp, earliest_new_end: Timestamp) -> bool {
    earliest_new_end > from
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mobile::fixtures::*;

    #[test]
    fn r9_9_exactly_at_the_cap_is_not_throttled_one_byte_over_is() {
        let sim = option("s", MobileUsageType::Plan10gb);
        // 6 GB + 4 GB = 10,000,000,000 bytes = the plan_10gb cap exactly: not over it.
        let at_cap = [
            rec("s", "2026-04-03T01:00:00+09:00", 6 * GB),
            rec("s", "2026-04-20T01:00:00+09:00", 4 * GB),
        ];
        assert_eq!(sim_throttle(&sim, april(), &at_cap).unwrap(), None);
        // One byte more, on 04-25 10:00 JST: 10,000,000,001 > 10,000,000,000, throttled from
        // that record's end (10:15 JST = 01:15 UTC) until 2026-05-01 00:00 JST (04-30 15:00 UTC).
        let mut over = at_cap.to_vec();
        over.push(rec("s", "2026-04-25T10:00:00+09:00", 1));
        let t = sim_throttle(&sim, april(), &over).unwrap().unwrap();
        assert_eq!(t.from, ts("2026-04-25T01:15:00Z"));
        assert_eq!(t.until, ts("2026-04-30T15:00:00Z"));
        assert_eq!((t.used, t.limit), (10 * GB + 1, 10 * GB));
        assert_eq!(
            t.basis,
            Basis::Cap {
                usage_type: MobileUsageType::Plan10gb
            }
        );
    }

    #[test]
    fn r9_9_the_throttle_starts_when_use_first_exceeds_in_order_of_interval_end() {
        let sim = option("s", MobileUsageType::Plan30gb);
        // Given out of order: 20 GB (ends 04-10 00:15), 15 GB (ends 04-05 00:15). In order of
        // end: 15 GB ≤ 30 GB, then 35 GB > 30 GB at 04-10 00:15 JST.
        let records = [
            rec("s", "2026-04-10T00:00:00+09:00", 20 * GB),
            rec("s", "2026-04-05T00:00:00+09:00", 15 * GB),
        ];
        let t = sim_throttle(&sim, april(), &records).unwrap().unwrap();
        assert_eq!(t.from, ts("2026-04-09T15:15:00Z"));
        assert_eq!(t.used, 35 * GB);
    }

    #[test]
    fn r9_9_uncapped_usage_types_are_tracked_never_throttled() {
        for usage_type in [MobileUsageType::Standard, MobileUsageType::Backup] {
            let sim = option("s", usage_type);
            let records = [rec("s", "2026-04-02T00:00:00+09:00", 500 * GB)];
            assert_eq!(sim_throttle(&sim, april(), &records).unwrap(), None);
            assert_eq!(monthly_use(april(), &records, |_| true).total, 500 * GB);
        }
    }

    #[test]
    fn r9_9_lowest_limit_of_a_month_takes_every_value_in_force_in_it() {
        let caps = Timeline::from_entries(vec![
            (date(2026, 1, 1), MobileUsageType::Plan50gb),
            (date(2026, 5, 1), MobileUsageType::Plan10gb),
            (date(2026, 6, 1), MobileUsageType::Standard),
        ]);
        let cap = |t: &MobileUsageType| t.monthly_cap_bytes();
        // April: plan_50gb all month. May: plan_10gb. June on: standard, no cap.
        assert_eq!(lowest_limit(&caps, april(), cap), Some(50 * GB));
        assert_eq!(
            lowest_limit(&caps, "2026-05".parse().unwrap(), cap),
            Some(10 * GB)
        );
        assert_eq!(lowest_limit(&caps, "2026-06".parse().unwrap(), cap), None);
        // A change on the 15th (not one the regulation allows, but storage must not assume it):
        // both values were in force in the month.
        let mid = Timeline::from_entries(vec![
            (date(2026, 1, 1), MobileUsageType::Plan30gb),
            (date(2026, 4, 15), MobileUsageType::Plan10gb),
        ]);
        assert_eq!(lowest_limit(&mid, april(), cap), Some(10 * GB));
        assert_eq!(
            lowest_limit(&mid, "2026-03".parse().unwrap(), cap),
            Some(30 * GB)
        );
    }

    #[test]
    fn r9_9_records_ending_after_the_crossing_leave_the_throttle_as_it_was() {
        let sim = option("s", MobileUsageType::Plan10gb);
        let mut records = vec![
            rec("s", "2026-04-03T01:00:00+09:00", 6 * GB),
            rec("s", "2026-04-04T01:00:00+09:00", 5 * GB),
        ];
        let before = sim_throttle(&sim, april(), &records).unwrap().unwrap();
        // 6 + 5 = 11 GB > 10 GB at the second record's end, 04-04 01:15 JST.
        assert_eq!(before.from, ts("2026-04-03T16:15:00Z"));
        let later = rec("s", "2026-04-05T01:00:00+09:00", 3 * GB);
        assert!(throttle_stands(before.from, later.end));
        records.push(later);
        assert_eq!(
            sim_throttle(&sim, april(), &records).unwrap(),
            Some(before.clone())
        );
        // A late record ending before the crossing moves it: 6 + 5 GB (ends 04-03 12:15) is over.
        let early = rec("s", "2026-04-03T12:00:00+09:00", 5 * GB);
        assert!(!throttle_stands(before.from, early.end));
        records.push(early);
        let after = sim_throttle(&sim, april(), &records).unwrap().unwrap();
        assert_eq!(after.from, ts("2026-04-03T03:15:00Z"));
    }

    #[test]
    fn r9_9_the_records_from_a_batch_s_earliest_end_on_continue_the_count_like_a_replay() {
        let sim = option("s", MobileUsageType::Plan10gb);
        // 14 records of 1 GB, hourly from 04-01 00:00 JST. A batch touching records ending from
        // 04-01 08:15 JST on (the 9th) leaves the 8 before it: 8 GB ≤ 10 GB. Counting on, use
        // reaches 11 GB > 10 GB with the 11th record, ending 04-01 10:15 JST, as a replay finds.
        let all = hourly("s", 14);
        let until = all[8].end;
        let t = sim_throttle_after(
            "s",
            &sim.usage_types,
            april(),
            counted(&all, until),
            &all[8..],
        )
        .unwrap()
        .expect("every later record ends at or after `until`");
        assert_eq!(t, sim_throttle(&sim, april(), &all).unwrap());
        let t = t.unwrap();
        assert_eq!(t.from, ts("2026-04-01T01:15:00Z"));
        assert_eq!(t.used, 11 * GB);
        // Records of other options and months are no reason to replay.
        let mut mixed = all[8..].to_vec();
        mixed.push(rec("other", "2026-04-01T00:00:00+09:00", GB));
        mixed.push(rec("s", "2026-03-31T00:00:00+09:00", GB));
        assert_eq!(
            sim_throttle_after("s", &sim.usage_types, april(), counted(&all, until), &mixed)
                .unwrap(),
            Some(Some(t))
        );
        // A later record that ends before `until` leaves only a replay to tell.
        assert_eq!(
            sim_throttle_after(
                "s",
                &sim.usage_types,
                april(),
                counted(&all, until),
                &all[7..]
            )
            .unwrap(),
            None
        );
    }

    #[test]
    fn r9_9_a_late_record_moves_the_crossing_earlier_counting_on_from_its_end() {
        let sim = option("s", MobileUsageType::Plan10gb);
        // Stored: 12 hourly records of 1 GB; use crossed with the 11th (ending 04-01 10:15
        // JST). A late 3 GB record ending 04-01 02:30 JST: the first three hourly records end
        // before it (3 GB); counting on from its end, 6 GB with it, then 7, …, 11 GB > 10 GB
        // with the 8th hourly record, ending 04-01 07:15 JST (03-31 22:15 UTC).
        let mut all = hourly("s", 12);
        let late = Usage {
            end: ts("2026-03-31T17:30:00Z"),
            ..rec("s", "2026-03-31T17:00:00Z", 3 * GB)
        };
        all.push(late.clone());
        let later: Vec<Usage> = all.iter().filter(|r| r.end >= late.end).cloned().collect();
        let t = sim_throttle_after(
            "s",
            &sim.usage_types,
            april(),
            counted(&all, late.end),
            &later,
        )
        .unwrap()
        .unwrap();
        assert_eq!(t, sim_throttle(&sim, april(), &all).unwrap());
        let t = t.unwrap();
        assert_eq!(t.from, ts("2026-03-31T22:15:00Z"));
        assert_eq!(t.used, 11 * GB);
    }
}
