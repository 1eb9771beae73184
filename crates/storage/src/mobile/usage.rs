//! Reading usage records back, and replaying a month's decisions from them whole.

use std::collections::{BTreeMap, BTreeSet};

use mpc_domain::calendar::Month;
use mpc_domain::mobile::{self, Throttle, Usage, exceeds, month_bounds};
use sqlx::AnyConnection;

use super::throttles::store_decisions;
use crate::contracts::load_book;
use crate::sql::Sql;
use crate::{Result, StorageError, WriteTx, timestamp};

/// Microseconds in an hour: SQLite indexes usage records by `start_at / HOUR_MICROS`
/// (migration 0010).
const HOUR_MICROS: i64 = 3_600_000_000;

/// The records of `options` in `month`, as the domain reads them.
pub async fn usage_of(
    conn: &mut AnyConnection,
    options: &[String],
    month: Month,
) -> Result<Vec<Usage>> {
    usage_of_starting(conn, options, month, i64::MIN).await
}

/// The records of `options` in `month` that start at or after `from` (microseconds).
///
/// On SQLite records are indexed by their hour and then option, so the month is read hour by
/// hour (a Tokyo month starts on a whole UTC hour) up to the latest hour stored; PostgreSQL
/// indexes them by option.
pub(crate) async fn usage_of_starting(
    conn: &mut AnyConnection,
    options: &[String],
    month: Month,
    from: i64,
) -> Result<Vec<Usage>> {
    if options.is_empty() {
        return Ok(Vec::new());
    }
    let (start, until) = month_bounds(month).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    let (from, until) = (start.as_microsecond().max(from), until.as_microsecond());
    if from >= until {
        return Ok(Vec::new());
    }
    const COLUMNS: &str = "SELECT u.option_id, u.start_at, u.end_at, u.bytes_up, u.bytes_down";
    let mut q = if conn.backend_name() == "SQLite" {
        // Up to the latest hour any record starts in (a lookup in the hour index), not through
        // the hours of the month still to come.
        let mut q = Sql::new("WITH RECURSIVE hours(h) AS (SELECT ");
        q.bind(from / HOUR_MICROS)
            .push(" UNION ALL SELECT h + 1 FROM hours WHERE h < MIN(")
            .bind((until - 1) / HOUR_MICROS)
            .push(", (SELECT MAX(start_at / 3600000000) FROM usage_records))) ")
            .push(COLUMNS)
            .push(" FROM hours CROSS JOIN usage_records u WHERE u.start_at / 3600000000 = hours.h AND ");
        q
    } else {
        let mut q = Sql::new(COLUMNS);
        q.push(" FROM usage_records u WHERE ");
        q
    };
    q.push("u.option_id IN ")
        .bind_list(options.iter().cloned())
        .push(" AND u.start_at >= ")
        .bind(from)
        .push(" AND u.start_at < ")
        .bind(until);
    q.query_as::<(String, i64, i64, i64, i64)>()?
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|(option_id, start, end, up, down)| {
            Ok(Usage {
                option_id,
                start: timestamp(start)?,
                end: timestamp(end)?,
                bytes: u64::try_from(up.saturating_add(down))
                    .map_err(|_| StorageError::Corrupt("negative bytes".into()))?,
            })
        })
        .collect()
}

/// Recomputes the decisions of the option months in `affected`, and of the groups their
/// options belonged to in those months; appends an event for each decision that changed.
/// Returns the option months whose throttle it rewrote.
pub(crate) async fn recompute(
    tx: &mut WriteTx,
    affected: &BTreeSet<(String, Month)>,
) -> Result<Vec<(String, Month)>> {
    let mut rewritten = Vec::new();
    let mut by_contractor: BTreeMap<String, Vec<(String, Month)>> = BTreeMap::new();
    for (option_id, month) in affected {
        let owner =
            crate::contracts::owner_of(tx.conn(), crate::contracts::Owned::Option, option_id)
                .await?
                .ok_or_else(|| {
                    StorageError::Corrupt(format!("usage of unknown option {option_id}"))
                })?;
        by_contractor
            .entry(owner)
            .or_default()
            .push((option_id.clone(), *month));
    }
    for (contractor, months) in by_contractor {
        let book = load_book(tx.conn(), &contractor).await?;
        let mut decided: BTreeMap<(String, Month), Option<Throttle>> = BTreeMap::new();
        let mut groups: BTreeSet<(String, Month)> = BTreeSet::new();
        for (option_id, month) in months {
            let option = book
                .option(&option_id)
                .ok_or_else(|| StorageError::Corrupt(format!("option {option_id}")))?;
            for g in &book.groups {
                if g.members
                    .iter()
                    .any(|m| m.option_id == option_id && m.in_month(month))
                {
                    groups.insert((g.id.clone(), month));
                }
            }
            let throttle = match mobile::lowest_limit(&option.usage_types, month, |u| {
                u.monthly_cap_bytes()
            }) {
                Some(cap) => {
                    let used: Option<i64> = sqlx::query_scalar(
                        "SELECT bytes FROM usage_totals WHERE option_id = $1 AND month = $2",
                    )
                    .bind(option_id.clone())
                    .bind(month.to_string())
                    .fetch_optional(tx.conn())
                    .await?;
                    if exceeds(u64::try_from(used.unwrap_or(0)).unwrap_or(0), cap) {
                        let records =
                            usage_of(tx.conn(), std::slice::from_ref(&option_id), month).await?;
                        mobile::sim_throttle(option, month, &records)
                            .map_err(|e| StorageError::Corrupt(e.to_string()))?
                    } else {
                        None
                    }
                }
                None => None,
            };
            decided.entry((option_id, month)).or_insert(throttle);
        }
        for (group_id, month) in groups {
            let group = book
                .group(&group_id)
                .ok_or_else(|| StorageError::Corrupt(group_id.clone()))?;
            let members: Vec<String> = group
                .members
                .iter()
                .map(|m| m.option_id.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let records = usage_of(tx.conn(), &members, month).await?;
            let throttles = mobile::group_throttles(group, month, &records)
                .map_err(|e| StorageError::Corrupt(e.to_string()))?;
            for m in members {
                let t = throttles.iter().find(|t| t.option_id == m).cloned();
                decided.insert((m, month), t);
            }
        }
        let decided = decided.into_iter().map(|((o, m), t)| (o, m, t)).collect();
        rewritten.extend(store_decisions(tx, decided).await?);
    }
    Ok(rewritten)
}
