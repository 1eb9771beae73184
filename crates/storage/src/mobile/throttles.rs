//! Throttle decisions: automatic ones stored per option and month, manual ones (R9.9).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use mpc_domain::Refusal;
use mpc_domain::calendar::{Month, tokyo_date};
use mpc_domain::catalog::MobileUsageType;
use mpc_domain::mobile::{self, Basis, Manual, ManualAction, State, Throttle, ThrottleEventKind};
use sqlx::AnyConnection;

use super::feeds::{NewEvent, append_events};
use super::ingest::{pipelined, rows_in};
use super::sims::{SIM_COLUMNS, SimRecord, sim, sim_owner, sims_of};
use crate::contracts::{from_wire, wire};
use crate::sql::Sql;
use crate::{JournalEntry, Result, StorageError, Store, WriteTx, timestamp};

#[derive(sqlx::FromRow)]
pub(crate) struct AutoRecord {
    option_id: String,
    month: String,
    from_at: i64,
    until_at: i64,
    limit_bytes: i64,
    used_bytes: i64,
    basis: String,
    group_id: Option<String>,
    usage_type: Option<String>,
}

impl AutoRecord {
    fn throttle(self) -> Result<Throttle> {
        let basis = match (self.basis.as_str(), self.group_id, self.usage_type) {
            ("pack", Some(group_id), _) => Basis::Pack { group_id },
            ("cap", _, Some(t)) => Basis::Cap {
                usage_type: from_wire::<MobileUsageType>(&t)?,
            },
            (other, ..) => return Err(StorageError::Corrupt(format!("throttle basis {other}"))),
        };
        Ok(Throttle {
            option_id: self.option_id,
            month: self
                .month
                .parse()
                .map_err(|e: mpc_domain::calendar::CalendarError| {
                    StorageError::Corrupt(e.to_string())
                })?,
            from: timestamp(self.from_at)?,
            until: timestamp(self.until_at)?,
            limit: u64::try_from(self.limit_bytes).unwrap_or(0),
            used: u64::try_from(self.used_bytes).unwrap_or(0),
            basis,
        })
    }
}

const AUTO_COLUMNS: &str = "SELECT option_id, month, from_at, until_at, limit_bytes, used_bytes, basis, group_id, usage_type FROM auto_throttles";

/// Stores the automatic throttles of option months, or their absence (R9.9), appending an
/// event for each SIM of a month whose throttle changed, in the order given (the last decision
/// of a month counts); the option months that changed.
pub(crate) async fn store_decisions(
    tx: &mut WriteTx,
    decisions: Vec<(String, Month, Option<Throttle>)>,
) -> Result<Vec<(String, Month)>> {
    let mut last: HashMap<(String, Month), usize> = HashMap::new();
    for (i, (option_id, month, _)) in decisions.iter().enumerate() {
        last.insert((option_id.clone(), *month), i);
    }
    let options: BTreeSet<String> = last.keys().map(|(o, _)| o.clone()).collect();
    let options: Vec<String> = options.into_iter().collect();
    let mut stored: HashMap<(String, Month), Throttle> = HashMap::new();
    for row in rows_in::<AutoRecord>(tx, AUTO_COLUMNS, "option_id", &options).await? {
        let t = row.throttle()?;
        stored.insert((t.option_id.clone(), t.month), t);
    }
    // Only the instants matter to a mobile core; a higher use after the throttle is no change.
    let instants = |t: Option<&Throttle>| t.map(|t| (t.from, t.until));
    let changed: Vec<(String, Month, Option<Throttle>)> = decisions
        .into_iter()
        .enumerate()
        .filter(|(i, (o, m, t))| {
            let key = (o.clone(), *m);
            last[&key] == *i && instants(stored.get(&key)) != instants(t.as_ref())
        })
        .map(|(_, d)| d)
        .collect();
    let backend = tx.backend();
    pipelined(
        tx,
        &changed,
        |chunk| {
            let mut q = Sql::positional(
                backend,
                "DELETE FROM auto_throttles WHERE (option_id, month) IN (VALUES ",
            );
            for (i, (option_id, month, _)) in chunk.iter().enumerate() {
                q.row(i == 0, |r| {
                    r.bind(option_id.clone()).bind(month.to_string());
                });
            }
            q.push(")");
            q
        },
        |_, _| {},
    )
    .await?;
    let throttles: Vec<&Throttle> = changed.iter().filter_map(|(.., t)| t.as_ref()).collect();
    pipelined(
        tx,
        &throttles,
        |chunk| {
            let mut q = Sql::positional(
                backend,
                "INSERT INTO auto_throttles (option_id, month, from_at, until_at, limit_bytes, \
                 used_bytes, basis, group_id, usage_type) VALUES ",
            );
            for (i, t) in chunk.iter().enumerate() {
                let (basis, group_id, usage_type) = match &t.basis {
                    Basis::Cap { usage_type } => {
                        ("cap", None, Some(usage_type.as_str().to_owned()))
                    }
                    Basis::Pack { group_id } => ("pack", Some(group_id.clone()), None),
                };
                q.row(i == 0, |r| {
                    r.bind(t.option_id.clone())
                        .bind(t.month.to_string())
                        .bind(t.from.as_microsecond())
                        .bind(t.until.as_microsecond())
                        .bind(i64::try_from(t.limit).unwrap_or(i64::MAX))
                        .bind(i64::try_from(t.used).unwrap_or(i64::MAX))
                        .bind(basis.to_owned())
                        .bind(group_id)
                        .bind(usage_type);
                });
            }
            q
        },
        |_, _| {},
    )
    .await?;
    let changed_options: BTreeSet<String> = changed.iter().map(|(o, ..)| o.clone()).collect();
    let changed_options: Vec<String> = changed_options.into_iter().collect();
    let mut sims: HashMap<String, Vec<SimRecord>> = HashMap::new();
    for s in rows_in::<SimRecord>(tx, SIM_COLUMNS, "option_id", &changed_options).await? {
        sims.entry(s.option_id.clone()).or_default().push(s);
    }
    let mut events = Vec::new();
    for (option_id, month, throttle) in &changed {
        let (kind, from, until, reason) = match throttle {
            Some(t) => (
                ThrottleEventKind::Throttle,
                Some(t.from.as_microsecond()),
                Some(t.until.as_microsecond()),
                Some(wire(&t.basis)),
            ),
            None => (
                ThrottleEventKind::Withdrawn,
                None,
                None,
                Some("corrected use no longer exceeds the limit".to_owned()),
            ),
        };
        let mut serving: Vec<&SimRecord> = sims.get(option_id).into_iter().flatten().collect();
        serving.sort_by(|a, b| (&a.iccid, &a.from_on).cmp(&(&b.iccid, &b.from_on)));
        for s in serving {
            if s.overlaps(*month)? {
                events.push(NewEvent {
                    iccid: s.iccid.clone(),
                    option_id: option_id.clone(),
                    kind,
                    month: Some(*month),
                    from,
                    until,
                    reason: reason.clone(),
                });
            }
        }
    }
    append_events(tx, &events).await?;
    Ok(changed.into_iter().map(|(o, m, _)| (o, m)).collect())
}

/// Throttles or releases a SIM by hand (R9.9), overriding the automatic decisions.
///
/// # Errors
/// [`StorageError::NotFound`] for an unknown SIM; a refusal with R9.9 without a reason.
pub async fn manual(
    store: &Store,
    iccid: &str,
    action: ManualAction,
    reason: &str,
    at: Timestamp,
    journal: JournalEntry,
) -> Result<Result<Manual, Refusal>> {
    let manual = match Manual::new(action, at, reason) {
        Ok(m) => m,
        Err(r) => return Ok(Err(r)),
    };
    let mut tx = store.write().await?;
    let services = sim(tx.conn(), iccid).await?;
    let last = services.last().ok_or(StorageError::NotFound)?;
    let contractor = sim_owner(tx.conn(), iccid).await?;
    sqlx::query(
        "INSERT INTO manual_throttles (iccid, action, at, reason, actor) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (iccid) DO UPDATE SET action = excluded.action, at = excluded.at, \
         reason = excluded.reason, actor = excluded.actor",
    )
    .bind(iccid.to_owned())
    .bind(wire(&action))
    .bind(at.as_microsecond())
    .bind(manual.reason.clone())
    .bind(journal.actor.clone())
    .execute(tx.conn())
    .await?;
    let event = NewEvent {
        iccid: iccid.to_owned(),
        option_id: last.option_id.clone(),
        kind: action.into(),
        month: None,
        from: Some(at.as_microsecond()),
        until: None,
        reason: Some(manual.reason.clone()),
    };
    append_events(&mut tx, &[event]).await?;
    tx.commit(
        journal
            .contractor(contractor.as_deref())
            .subject(iccid)
            .outcome(serde_json::json!({ "action": action, "at": at.to_string() })),
    )
    .await?;
    Ok(Ok(manual))
}

/// A SIM's decision at an instant.
#[derive(Debug, Clone)]
pub struct Decision {
    pub iccid: String,
    pub option_id: String,
    pub state: State,
    /// The automatic throttle in force, if any (a manual release may override it).
    pub automatic: Option<Throttle>,
    pub manual: Option<Manual>,
}

/// The decisions in force at `now` of every SIM with an automatic throttle or a manual action
/// (R9.9), by ICCID.
pub async fn decisions(conn: &mut AnyConnection, now: Timestamp) -> Result<Vec<Decision>> {
    let micros = now.as_microsecond();
    let autos: Vec<AutoRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{AUTO_COLUMNS} WHERE from_at <= $1 AND until_at > $1"
    )))
    .bind(micros)
    .fetch_all(&mut *conn)
    .await?;
    let manuals: Vec<(String, String, i64, String)> =
        sqlx::query_as("SELECT iccid, action, at, reason FROM manual_throttles WHERE at <= $1")
            .bind(micros)
            .fetch_all(&mut *conn)
            .await?;
    let mut out: BTreeMap<String, Decision> = BTreeMap::new();
    let today = tokyo_date(now);
    for a in autos {
        let t = a.throttle()?;
        for s in sims_of(conn, &t.option_id).await? {
            if s.covers(today)? {
                out.insert(
                    s.iccid.clone(),
                    Decision {
                        iccid: s.iccid,
                        option_id: t.option_id.clone(),
                        state: mobile::state_at(now, std::slice::from_ref(&t), None)
                            .map_err(|e| StorageError::Corrupt(e.to_string()))?,
                        automatic: Some(t.clone()),
                        manual: None,
                    },
                );
            }
        }
    }
    for (iccid, action, at, reason) in manuals {
        let manual = Manual {
            action: from_wire(&action)?,
            at: timestamp(at)?,
            reason,
        };
        let automatic = out.get(&iccid).and_then(|d| d.automatic.clone());
        let state = mobile::state_at(now, automatic.as_slice(), Some(&manual))
            .map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let option_id = match out.get(&iccid) {
            Some(d) => d.option_id.clone(),
            None => sim(conn, &iccid)
                .await?
                .last()
                .map(|s| s.option_id.clone())
                .unwrap_or_default(),
        };
        out.insert(
            iccid.clone(),
            Decision {
                iccid,
                option_id,
                state,
                automatic,
                manual: Some(manual),
            },
        );
    }
    Ok(out.into_values().collect())
}

/// The automatic throttle of an option for a month, if any.
pub async fn throttle_of(
    conn: &mut AnyConnection,
    option_id: &str,
    month: Month,
) -> Result<Option<Throttle>> {
    let row: Option<AutoRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{AUTO_COLUMNS} WHERE option_id = $1 AND month = $2"
    )))
    .bind(option_id.to_owned())
    .bind(month.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(AutoRecord::throttle).transpose()
}
