//! Packet share groups: pooled use against the pack, and the members' throttles (R9.6, R9.9).

use crate::book::{Membership, PacketShareGroup, Timeline};
use crate::calendar::{CalendarError, Month, tokyo_start_of_day};

use super::*;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mobile::fixtures::*;

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
