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

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::Refusal;
use crate::book::{Contract, ContractOption, Membership, PacketShareGroup, Timeline};
use crate::calendar::{CalendarError, Month, tokyo_date, tokyo_start_of_day};
use crate::catalog::{DeviceType, MobileUsageType, OptionKind};

/// Bytes in a GB: 10^9, as [`MobileUsageType::monthly_cap_bytes`] takes it.
pub const GB: u64 = 1_000_000_000;

/// The longest `record_id` of a usage record, in characters: a carrier's id of one session, far
/// below what would let one record fill the database (issue 15).
pub const MAX_RECORD_ID_CHARS: usize = 128;

/// The longest `iccid` of a usage record, in characters (an ICCID has at most 22 digits).
pub const MAX_ICCID_CHARS: usize = 32;

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

/// Whether `iccid` has the shape of an ICCID: 18 to 22 digits (ITU-T E.118).
pub fn is_iccid(iccid: &str) -> bool {
    (18..=22).contains(&iccid.len()) && iccid.bytes().all(|b| b.is_ascii_digit())
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
fn by_end<'a>(records: impl Iterator<Item = &'a Usage>) -> Vec<&'a Usage> {
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
    fn precedes<'a>(&self, mut later: impl Iterator<Item = &'a Usage>) -> bool {
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
fn first_over<'a>(
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

/// Whether `record` counts towards `group`'s pack: its option was a member on the record's day
/// (R9.6; members that joined or left mid-month count for the days they were members).
pub fn counts_for_group(group: &PacketShareGroup, record: &Usage) -> bool {
    counts_for(&group.members, record)
}

fn counts_for(members: &[Membership], record: &Usage) -> bool {
    let day = record.day();
    members
        .iter()
        .any(|m| m.option_id == record.option_id && m.covers(day))
}

/// The month's pooled use of `group`: the records that count for it (see [`counts_for_group`]).
pub fn pooled_use(group: &PacketShareGroup, month: Month, records: &[Usage]) -> u64 {
    records
        .iter()
        .filter(|r| r.month() == month && counts_for_group(group, r))
        .fold(0u64, |sum, r| sum.saturating_add(r.bytes))
}

/// The throttles of `group`'s members for `month` once pooled use exceeds the pack (R9.6, R9.9).
///
/// The pack is the one in force on the day of the record that takes pooled use over it; packs
/// change only on a 1st (R9.6), so a pack increase requested mid-month counts from the next
/// month. Every member is throttled from that instant, or from 00:00 of the day it joined, until
/// the month's end or 00:00 of the day after it left.
///
/// # Errors
/// [`CalendarError::OutOfRange`] at the ends of the supported calendar.
pub fn group_throttles(
    group: &PacketShareGroup,
    month: Month,
    records: &[Usage],
) -> Result<Vec<Throttle>, CalendarError> {
    pack_throttles(&group.id, &group.members, &group.packs, month, 0, records)
}

/// [`group_throttles`] from the members' use `counted` before its `until` and their `later`
/// records of the month (every one ending at or after it). `None` when one of them ends before,
/// or when a member joined or left during the month: `counted` comes from the members' month
/// totals, which then hold records that do not count for the group.
///
/// # Errors
/// [`CalendarError::OutOfRange`] at the ends of the supported calendar.
pub fn group_throttles_after(
    group_id: &str,
    members: &[Membership],
    packs: &Timeline<u32>,
    month: Month,
    counted: Counted,
    later: &[Usage],
) -> Result<Option<Vec<Throttle>>, CalendarError> {
    let whole_month = members
        .iter()
        .filter(|m| m.in_month(month))
        .all(|m| m.whole_month(month));
    let of_month = |r: &&Usage| r.month() == month && counts_for(members, r);
    if !whole_month || !counted.precedes(later.iter().filter(of_month)) {
        return Ok(None);
    }
    pack_throttles(group_id, members, packs, month, counted.bytes, later).map(Some)
}

fn pack_throttles(
    group_id: &str,
    members: &[Membership],
    packs: &Timeline<u32>,
    month: Month,
    counted: u64,
    records: &[Usage],
) -> Result<Vec<Throttle>, CalendarError> {
    let (_, month_end) = month_bounds(month)?;
    let over = first_over(
        counted,
        records
            .iter()
            .filter(|r| r.month() == month && counts_for(members, r)),
        |day| packs.at(day).map(|gb| pack_bytes(*gb)),
    );
    let Some((crossing, limit, used)) = over else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for m in members {
        let joined = tokyo_start_of_day(m.from)?;
        let left = match m.until {
            Some(u) => tokyo_start_of_day(u.tomorrow().map_err(|_| CalendarError::OutOfRange)?)?,
            None => month_end,
        };
        let (from, until) = (crossing.end.max(joined), month_end.min(left));
        if from < until {
            out.push(Throttle {
                option_id: m.option_id.clone(),
                month,
                from,
                until,
                limit,
                used,
                basis: Basis::Pack {
                    group_id: group_id.to_owned(),
                },
            });
        }
    }
    Ok(out)
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

/// An operator's throttle or release by hand (R9.9: "without notice").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManualAction {
    Throttle,
    Release,
}

/// A manual action, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manual {
    pub action: ManualAction,
    pub at: Timestamp,
    pub reason: String,
}

impl Manual {
    /// A manual throttle or release at `at` (R9.9); the reason is required, since the
    /// contractor is not told beforehand and the journal is the only account of why.
    ///
    /// # Errors
    /// A refusal with R9.9 when the reason is blank.
    pub fn new(action: ManualAction, at: Timestamp, reason: &str) -> Result<Manual, Refusal> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Refusal::new(
                "R9.9",
                "a manual throttle or release needs a reason",
                "手動での通信制限・解除には理由が必要です",
            ));
        }
        Ok(Manual {
            action,
            at,
            reason: reason.to_owned(),
        })
    }
}

/// Who decided a SIM's current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Automatic,
    Manual,
}

/// A SIM's throttle state at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub throttled: bool,
    pub source: Source,
    /// When the state ends by itself, if it does.
    pub until: Option<Timestamp>,
}

/// The SIM's state at `now` (R9.9): the operator's latest manual action overrides the automatic
/// decisions. A manual throttle holds until released by hand; a manual release holds until 00:00
/// Tokyo on the 1st after it, when the next month's use is measured afresh.
///
/// # Errors
/// [`CalendarError::OutOfRange`] at the ends of the supported calendar.
pub fn state_at(
    now: Timestamp,
    automatic: &[Throttle],
    manual: Option<&Manual>,
) -> Result<State, CalendarError> {
    if let Some(m) = manual.filter(|m| m.at <= now) {
        match m.action {
            ManualAction::Throttle => {
                return Ok(State {
                    throttled: true,
                    source: Source::Manual,
                    until: None,
                });
            }
            ManualAction::Release => {
                let (_, release_ends) = month_bounds(Month::containing(tokyo_date(m.at)))?;
                if now < release_ends {
                    return Ok(State {
                        throttled: false,
                        source: Source::Manual,
                        until: Some(release_ends),
                    });
                }
            }
        }
    }
    let current = automatic.iter().find(|t| t.from <= now && now < t.until);
    Ok(State {
        throttled: current.is_some(),
        source: Source::Automatic,
        until: current.map(|t| t.until),
    })
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
    use jiff::civil::date;

    use super::*;
    use crate::book::Membership;
    use crate::catalog::NetworkType;

    #[test]
    fn an_iccid_is_18_to_22_digits() {
        assert!(is_iccid("898110000000000001")); // 18
        assert!(is_iccid("8981100000000000000001")); // 22
        assert!(!is_iccid("89811000000000001")); // 17
        assert!(!is_iccid("89811000000000000000001")); // 23
        assert!(!is_iccid("8981100000000000O01"));
        assert!(!is_iccid("+8981100000000000001"));
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn option(id: &str, usage_type: MobileUsageType) -> ContractOption {
        ContractOption {
            id: id.into(),
            contract_id: "c".into(),
            kind: OptionKind::MobileAccess,
            applied_on: date(2026, 1, 1),
            accepted_on: date(2026, 1, 1),
            install_address: None,
            usage_types: Timeline::starting(date(2026, 1, 1), usage_type),
            network_types: Timeline::starting(date(2026, 1, 1), NetworkType::DynamicIp),
            ending: None,
        }
    }

    /// A record of `bytes` over the 15 minutes starting at `start` (an RFC 3339 instant).
    fn rec(option_id: &str, start: &str, bytes: u64) -> Usage {
        let start = ts(start);
        Usage {
            option_id: option_id.into(),
            start,
            end: start + jiff::SignedDuration::from_mins(15),
            bytes,
        }
    }

    fn april() -> Month {
        "2026-04".parse().unwrap()
    }

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

    #[test]
    fn r9_9_uncapped_usage_types_are_tracked_never_throttled() {
        for usage_type in [MobileUsageType::Standard, MobileUsageType::Backup] {
            let sim = option("s", usage_type);
            let records = [rec("s", "2026-04-02T00:00:00+09:00", 500 * GB)];
            assert_eq!(sim_throttle(&sim, april(), &records).unwrap(), None);
            assert_eq!(monthly_use(april(), &records, |_| true).total, 500 * GB);
        }
    }

    fn group(packs: &[(Date, u32)], members: Vec<Membership>) -> PacketShareGroup {
        PacketShareGroup {
            id: "g".into(),
            contractor_id: "k".into(),
            applied_on: date(2026, 1, 1),
            accepted_on: date(2026, 1, 1),
            packs: Timeline::from_entries(packs.to_vec()),
            members,
            ending: None,
        }
    }

    fn member(option_id: &str, from: Date, until: Option<Date>) -> Membership {
        Membership {
            option_id: option_id.into(),
            from,
            until,
        }
    }

    #[test]
    fn r9_6_a_pack_increase_requested_mid_month_counts_from_the_1st() {
        // Pack 50 GB; an increase to 100 GB requested 04-15 takes effect 05-01 (R9.6).
        let g = group(
            &[(date(2026, 1, 1), 50), (date(2026, 5, 1), 100)],
            vec![
                member("a", date(2026, 1, 1), None),
                member("b", date(2026, 1, 1), None),
            ],
        );
        // April: a 30 GB + b 30 GB = 60 GB > 50 GB at b's record end, 04-20 12:15 JST.
        let april_records = [
            rec("a", "2026-04-10T12:00:00+09:00", 30 * GB),
            rec("b", "2026-04-20T12:00:00+09:00", 30 * GB),
        ];
        let t = group_throttles(&g, april(), &april_records).unwrap();
        assert_eq!(t.len(), 2, "every member");
        assert!(t.iter().all(|t| t.from == ts("2026-04-20T03:15:00Z")
            && t.until == ts("2026-04-30T15:00:00Z")
            && t.limit == 50 * GB
            && t.used == 60 * GB));
        // May, the same 60 GB against 100 GB: not over.
        let may_records = [
            rec("a", "2026-05-10T12:00:00+09:00", 30 * GB),
            rec("b", "2026-05-20T12:00:00+09:00", 30 * GB),
        ];
        let may = "2026-05".parse().unwrap();
        assert!(group_throttles(&g, may, &may_records).unwrap().is_empty());
        assert_eq!(pooled_use(&g, may, &may_records), 60 * GB);
    }

    #[test]
    fn r9_6_a_member_leaving_mid_month_counts_only_for_its_member_days() {
        // b is a member until 04-15 (inclusive), then a standard SIM in no group.
        let g = group(
            &[(date(2026, 1, 1), 50)],
            vec![
                member("a", date(2026, 1, 1), None),
                member("b", date(2026, 1, 1), Some(date(2026, 4, 15))),
            ],
        );
        // Pooled: a 20 GB + b 25 GB (04-15, a member) = 45 GB; b's 40 GB on 04-16 does not
        // count. 45 GB ≤ 50 GB.
        let mut records = vec![
            rec("a", "2026-04-05T08:00:00+09:00", 20 * GB),
            rec("b", "2026-04-15T23:00:00+09:00", 25 * GB),
            rec("b", "2026-04-16T08:00:00+09:00", 40 * GB),
        ];
        assert_eq!(pooled_use(&g, april(), &records), 45 * GB);
        assert!(group_throttles(&g, april(), &records).unwrap().is_empty());
        // a adds 6 GB on 04-10 (ends 09:15 JST): 20 + 6 + 25 = 51 GB > 50 GB only once b's
        // 04-15 23:00 record ends (23:15 JST = 14:15 UTC). b is throttled until 04-16 00:00 JST
        // (04-15 15:00 UTC), the day after it left; a until the month's end.
        records.push(rec("a", "2026-04-10T09:00:00+09:00", 6 * GB));
        let t = group_throttles(&g, april(), &records).unwrap();
        let of = |id: &str| t.iter().find(|t| t.option_id == id).unwrap();
        assert_eq!(of("a").from, ts("2026-04-15T14:15:00Z"));
        assert_eq!(of("a").until, ts("2026-04-30T15:00:00Z"));
        assert_eq!(of("b").from, ts("2026-04-15T14:15:00Z"));
        assert_eq!(of("b").until, ts("2026-04-15T15:00:00Z"));
        assert_eq!(of("a").used, 51 * GB);
    }

    #[test]
    fn r9_6_a_member_joining_after_the_pack_is_exceeded_is_throttled_from_its_first_day() {
        let g = group(
            &[(date(2026, 1, 1), 50)],
            vec![
                member("a", date(2026, 1, 1), None),
                member("c", date(2026, 4, 20), None),
            ],
        );
        // a: 51 GB > 50 GB on 04-05 (ends 00:15 JST); c joins 04-20: throttled from 04-20 00:00
        // JST (04-19 15:00 UTC).
        let records = [rec("a", "2026-04-05T00:00:00+09:00", 51 * GB)];
        let t = group_throttles(&g, april(), &records).unwrap();
        let c = t.iter().find(|t| t.option_id == "c").unwrap();
        assert_eq!(c.from, ts("2026-04-19T15:00:00Z"));
    }

    #[test]
    fn r9_9_manual_actions_override_and_need_a_reason() {
        let sim = option("s", MobileUsageType::Plan10gb);
        let records = [rec("s", "2026-04-10T00:00:00+09:00", 11 * GB)];
        let auto: Vec<Throttle> = sim_throttle(&sim, april(), &records)
            .unwrap()
            .into_iter()
            .collect();
        let before = ts("2026-04-09T00:00:00Z");
        let during = ts("2026-04-20T00:00:00Z");
        assert!(!state_at(before, &auto, None).unwrap().throttled);
        assert!(state_at(during, &auto, None).unwrap().throttled);

        assert_eq!(
            Manual::new(ManualAction::Release, during, "  ")
                .unwrap_err()
                .rule,
            "R9.9"
        );
        // Released by hand on 04-15: open until 05-01 00:00 JST, automatic again after.
        let release =
            Manual::new(ManualAction::Release, ts("2026-04-15T00:00:00Z"), "VIP").unwrap();
        let s = state_at(during, &auto, Some(&release)).unwrap();
        assert_eq!((s.throttled, s.source), (false, Source::Manual));
        assert_eq!(s.until, Some(ts("2026-04-30T15:00:00Z")));
        // Throttled by hand on 04-01, before any automatic decision, until released by hand.
        let throttle =
            Manual::new(ManualAction::Throttle, ts("2026-04-01T00:00:00Z"), "abuse").unwrap();
        let s = state_at(before, &auto, Some(&throttle)).unwrap();
        assert_eq!(
            (s.throttled, s.source, s.until),
            (true, Source::Manual, None)
        );
        // A manual action in the future does not apply yet.
        assert!(!state_at(before, &auto, Some(&release)).unwrap().throttled);
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

    /// April's records of `s` in order: each 1 GB, ending 04-01 00:15, 01:15, … JST.
    fn hourly(option_id: &str, hours: usize) -> Vec<Usage> {
        (0..hours)
            .map(|h| {
                let start = ts("2026-03-31T15:00:00Z") + jiff::SignedDuration::from_hours(h as i64);
                Usage {
                    end: start + jiff::SignedDuration::from_mins(15),
                    ..rec(option_id, &start.to_string(), GB)
                }
            })
            .collect()
    }

    /// The use of `records` ending before `until`.
    fn counted(records: &[Usage], until: Timestamp) -> Counted {
        Counted {
            bytes: records
                .iter()
                .filter(|r| r.end < until)
                .map(|r| r.bytes)
                .sum(),
            until,
        }
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

    #[test]
    fn r9_6_a_group_continues_the_pooled_count_only_when_every_member_was_in_all_month() {
        let all_month = vec![
            member("a", date(2026, 1, 1), None),
            member("b", date(2026, 1, 1), None),
        ];
        let g = group(&[(date(2026, 1, 1), 50)], all_month);
        // a: 30 × 1 GB, b: 30 × 1 GB, each hour from 04-01 00:00 JST. Before the 21st hour's
        // end: 40 GB ≤ 50 GB. 40 + 2 × 5 = 50 GB after the 25th hour; a's record of the 26th
        // hour takes it to 51 GB, ending 04-02 01:15 JST (04-01 16:15 UTC).
        let (a, b) = (hourly("a", 30), hourly("b", 30));
        let all: Vec<Usage> = a.iter().chain(&b).cloned().collect();
        let until = a[20].end;
        let later: Vec<Usage> = a[20..].iter().chain(&b[20..]).cloned().collect();
        let after = group_throttles_after(
            &g.id,
            &g.members,
            &g.packs,
            april(),
            counted(&all, until),
            &later,
        )
        .unwrap()
        .expect("every member was in all month");
        assert_eq!(after, group_throttles(&g, april(), &all).unwrap());
        assert_eq!(after.len(), 2);
        assert_eq!(after[0].from, ts("2026-04-01T16:15:00Z"));
        assert_eq!(after[0].used, 51 * GB);
        // b left on 04-20: its month total holds days it was not a member, so replay.
        let left = group(
            &[(date(2026, 1, 1), 50)],
            vec![
                member("a", date(2026, 1, 1), None),
                member("b", date(2026, 1, 1), Some(date(2026, 4, 20))),
            ],
        );
        let counted = counted(&all, until);
        assert_eq!(
            group_throttles_after(
                &left.id,
                &left.members,
                &left.packs,
                april(),
                counted,
                &later
            )
            .unwrap(),
            None
        );
    }
}
