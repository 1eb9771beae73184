//! Which months a batch must decide again, and deciding them (R9.6).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mpc_domain::calendar::Month;
use mpc_domain::mobile::{self, Usage, exceeds};

use super::ROWS_PER_STATEMENT;
use super::book::MobileBook;
use super::totals::{Months, Touched, touch};
use crate::mobile::{recompute, store_decisions, usage_of_starting};
use crate::{Result, StorageError, WriteTx, timestamp};

/// The option months a batch decides beyond its totals.
pub(crate) struct Plan<'b> {
    /// Months over their limit, to decide from their later records: an option's own (cap), or
    /// its group's (pack) with the members.
    over: Vec<(String, Month, Option<&'b str>, Vec<&'b str>)>,
    /// Months to recompute from all their records.
    again: BTreeSet<(String, Month)>,
}

/// An option month's total after the batch.
fn total_after(before: &Months, touched: &Touched<'_>, option: &str, month: Month) -> u64 {
    let stored = before.total(option, month).map_or(0, |(bytes, _)| bytes);
    let added = touch(touched, option, month).map_or(0, |t| t.bytes);
    u64::try_from(stored.saturating_add(added)).unwrap_or(0)
}

/// Plans the throttle decisions of the option months a batch touched (R9.6, R9.9) from the
/// month totals: a month whose total does not exceed its lowest cap or pack, or whose throttle
/// only got records ending after its crossing, stays as it was; the others are [`decide`]d.
pub(crate) async fn plan<'b>(
    book: &'b MobileBook,
    touched: &Touched<'b>,
    before: &Months,
) -> Result<Plan<'b>> {
    let total = |option: &str, month: Month| total_after(before, touched, option, month);
    let throttle = |option: &str, month: Month| before.throttle(option, month).flatten();
    let mut over: Vec<(String, Month, Option<&'b str>, Vec<&'b str>)> = Vec::new();
    let mut group_seen: BTreeSet<(&'b str, Month)> = BTreeSet::new();
    let mut again: BTreeSet<(String, Month)> = BTreeSet::new();
    // In key order, so that events come out in the same order whatever the map's.
    let mut changes: Vec<_> = touched.iter().collect();
    changes.sort_unstable_by_key(|(key, _)| **key);
    for (i, (&(option, month), change)) in changes.into_iter().enumerate() {
        // Lets the totals statements it runs beside go on (see `ingest`).
        if i % 512 == 511 {
            tokio::task::yield_now().await;
        }
        let groups: Vec<&str> = book
            .groups_of
            .get(option)
            .into_iter()
            .flatten()
            .filter(|g| {
                book.members[*g]
                    .iter()
                    .any(|m| m.option_id == option && m.in_month(month))
            })
            .map(String::as_str)
            .collect();
        if groups.is_empty() {
            let cap = book
                .usage_types
                .get(option)
                .and_then(|t| mobile::lowest_limit(t, month, |u| u.monthly_cap_bytes()));
            let stands = match (cap, throttle(option, month)) {
                (None, None) => true,
                (Some(cap), None) => !exceeds(total(option, month), cap),
                (Some(_), Some(from)) => change.keeps(from)?,
                (None, Some(_)) => {
                    again.insert((option.to_owned(), month));
                    true
                }
            };
            if !stands {
                over.push((option.to_owned(), month, None, vec![option]));
            }
        }
        for g in groups {
            if !group_seen.insert((g, month)) {
                continue;
            }
            let members: Vec<&str> = book.members[g]
                .iter()
                .filter(|m| m.in_month(month))
                .map(|m| m.option_id.as_str())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let stands = match members.iter().filter_map(|m| throttle(m, month)).min() {
                Some(from) => {
                    let mut keeps = true;
                    for m in &members {
                        if let Some(t) = touch(touched, m, month) {
                            keeps &= t.keeps(from)?;
                        }
                    }
                    keeps
                }
                None => {
                    // Every byte of every member that month bounds the pooled use.
                    let pooled = members
                        .iter()
                        .fold(0u64, |sum, m| sum.saturating_add(total(m, month)));
                    book.packs
                        .get(g)
                        .and_then(|p| {
                            mobile::lowest_limit(p, month, |gb| Some(mobile::pack_bytes(*gb)))
                        })
                        .is_none_or(|pack| !exceeds(pooled, pack))
                }
            };
            if !stands {
                over.push((option.to_owned(), month, Some(g), members));
            }
        }
    }

    Ok(Plan { over, again })
}

/// A month over its limit, to decide from its members' records ending at or after `until`
/// (which start at or after `from`).
pub(crate) struct Reread<'b> {
    option: String,
    month: Month,
    group: Option<&'b str>,
    members: Vec<&'b str>,
    until: i64,
    from: i64,
}

/// The records the `rereads` need, by option and month: per month, those of all their members
/// starting at or after the earliest `from`, read together instead of month by month.
async fn later_records(
    tx: &mut WriteTx,
    rereads: &[Reread<'_>],
) -> Result<HashMap<(String, Month), Vec<Usage>>> {
    let mut months: BTreeMap<Month, (BTreeSet<&str>, i64)> = BTreeMap::new();
    for r in rereads {
        let (options, from) = months.entry(r.month).or_insert((BTreeSet::new(), r.from));
        options.extend(r.members.iter().copied());
        *from = (*from).min(r.from);
    }
    let mut out: HashMap<(String, Month), Vec<Usage>> = HashMap::new();
    for (month, (options, from)) in months {
        let options: Vec<String> = options.into_iter().map(str::to_owned).collect();
        for chunk in options.chunks(ROWS_PER_STATEMENT) {
            for r in usage_of_starting(tx.conn(), chunk, month, from).await? {
                out.entry((r.option_id.clone(), month)).or_default().push(r);
            }
        }
    }
    Ok(out)
}

/// Carries out a [`Plan`]: a month over its limit is decided from the records ending at or
/// after the earliest end the batch touched, counting on from the rest of the total
/// ([`mobile::Counted`]); the few months that cannot be (a member joined or left mid-month, a
/// throttle without a cap) are recomputed from all their records by [`recompute`]. Returns the
/// option months whose throttle it rewrote.
pub(crate) async fn decide(
    tx: &mut WriteTx,
    book: &MobileBook,
    touched: &Touched<'_>,
    before: &Months,
    plan: Plan<'_>,
) -> Result<Vec<(String, Month)>> {
    let Plan { over, mut again } = plan;
    let stored = |option: &str, month: Month| before.total(option, month).unwrap_or((0, 0));
    let total = |option: &str, month: Month| total_after(before, touched, option, month);
    let mut rereads = Vec::new();
    for (option, month, group, members) in over {
        // The batch changed no record of these months ending before `until`.
        let Some(until) = members
            .iter()
            .filter_map(|m| touch(touched, m, month).and_then(|t| t.earliest_end))
            .min()
        else {
            again.insert((option, month));
            continue;
        };
        let longest = members
            .iter()
            .map(|m| {
                stored(m, month)
                    .1
                    .max(touch(touched, m, month).map_or(0, |t| t.longest))
            })
            .max()
            .unwrap_or(0);
        rereads.push(Reread {
            option,
            month,
            group,
            members,
            until,
            from: until - longest,
        });
    }
    let records = later_records(tx, &rereads).await?;
    let mut decided = Vec::new();
    for Reread {
        option,
        month,
        group,
        members,
        until,
        from,
    } in rereads
    {
        let member_ids: Vec<String> = members.iter().map(|m| (*m).to_owned()).collect();
        let later: Vec<Usage> = member_ids
            .iter()
            .filter_map(|m| records.get(&(m.clone(), month)))
            .flatten()
            .filter(|r| r.start.as_microsecond() >= from && r.end.as_microsecond() >= until)
            .cloned()
            .collect();
        let counted = mobile::Counted {
            bytes: members
                .iter()
                .fold(0u64, |sum, m| sum.saturating_add(total(m, month)))
                .saturating_sub(
                    later
                        .iter()
                        .fold(0u64, |sum, r| sum.saturating_add(r.bytes)),
                ),
            until: timestamp(until)?,
        };
        let corrupt = |e: mpc_domain::calendar::CalendarError| StorageError::Corrupt(e.to_string());
        let decisions = match group {
            None => mobile::sim_throttle_after(
                &option,
                &book.usage_types[&option],
                month,
                counted,
                &later,
            )
            .map_err(corrupt)?
            .map(|t| vec![(option.clone(), t)]),
            Some(g) => match book.packs.get(g) {
                Some(packs) => mobile::group_throttles_after(
                    g,
                    &book.members[g],
                    packs,
                    month,
                    counted,
                    &later,
                )
                .map_err(corrupt)?,
                None => None,
            }
            .map(|throttles| {
                member_ids
                    .iter()
                    .map(|m| {
                        (
                            m.clone(),
                            throttles.iter().find(|t| t.option_id == *m).cloned(),
                        )
                    })
                    .collect()
            }),
        };
        match decisions {
            Some(decisions) => decided.extend(decisions.into_iter().map(|(o, t)| (o, month, t))),
            None => {
                again.insert((option, month));
            }
        }
    }
    let mut rewritten = store_decisions(tx, decided).await?;
    rewritten.extend(recompute(tx, &again).await?);
    Ok(rewritten)
}
