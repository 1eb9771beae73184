//! SIMs and the options they serve, day by day (R9.3).

use jiff::civil::Date;
use mpc_domain::Refusal;
use mpc_domain::calendar::Month;
use mpc_domain::mobile::{self};
use sqlx::AnyConnection;

use crate::contracts::{date, load_book, opt_date};
use crate::sql::Sql;
use crate::{JournalEntry, Result, StorageError, Store};

/// A SIM's service of an option, both days inclusive.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SimRecord {
    pub iccid: String,
    pub option_id: String,
    pub from_on: String,
    pub until_on: Option<String>,
}

impl SimRecord {
    pub(crate) fn covers(&self, day: Date) -> Result<bool> {
        Ok(
            date(&self.from_on)? <= day
                && opt_date(self.until_on.clone())?.is_none_or(|u| day <= u),
        )
    }

    /// Whether the service overlaps `month`.
    pub fn overlaps(&self, month: Month) -> Result<bool> {
        Ok(date(&self.from_on)? <= month.last_day()
            && opt_date(self.until_on.clone())?.is_none_or(|u| u >= month.first_day()))
    }
}

pub(crate) const SIM_COLUMNS: &str = "SELECT iccid, option_id, from_on, until_on FROM sims";

async fn sims_where(conn: &mut AnyConnection, column: &str, value: &str) -> Result<Vec<SimRecord>> {
    let mut q = Sql::new(SIM_COLUMNS);
    q.push(" WHERE ")
        .push(column)
        .push(" = ")
        .bind(value.to_owned())
        .push(" ORDER BY iccid, from_on");
    Ok(q.query_as()?.fetch_all(conn).await?)
}

/// The services of a SIM, oldest first.
pub async fn sim(conn: &mut AnyConnection, iccid: &str) -> Result<Vec<SimRecord>> {
    sims_where(conn, "iccid", iccid).await
}

/// The SIMs that served an option.
pub async fn sims_of(conn: &mut AnyConnection, option_id: &str) -> Result<Vec<SimRecord>> {
    sims_where(conn, "option_id", option_id).await
}

/// The contractor whose option a SIM serves or served last.
pub async fn sim_owner(conn: &mut AnyConnection, iccid: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT o.contractor_id FROM sims s JOIN options o ON o.id = s.option_id \
         WHERE s.iccid = $1 ORDER BY s.from_on DESC LIMIT 1",
    )
    .bind(iccid.to_owned())
    .fetch_optional(conn)
    .await?)
}

/// Binds `iccid` to `option_id` from `from` (R6.5, R9.3). The SIM's open service ends the day
/// before, and so does the service of another SIM the option had: an option has one SIM a day.
///
/// # Errors
/// [`StorageError::NotFound`] for an unknown option; a refusal from the domain; a refusal with
/// R9.3 when `from` is not after the services it would close.
pub async fn bind_sim(
    store: &Store,
    iccid: &str,
    option_id: &str,
    from: Date,
    journal: JournalEntry,
) -> Result<Result<SimRecord, Refusal>> {
    let mut tx = store.write().await?;
    let contractor =
        crate::contracts::owner_of(tx.conn(), crate::contracts::Owned::Option, option_id)
            .await?
            .ok_or(StorageError::NotFound)?;
    tx.lock(&contractor).await?;
    let book = load_book(tx.conn(), &contractor).await?;
    let option = book.option(option_id).ok_or(StorageError::NotFound)?;
    let contract = book
        .contract(&option.contract_id)
        .ok_or(StorageError::NotFound)?;
    if let Err(r) = mobile::check_sim_binding(contract, option, from) {
        return Ok(Err(r));
    }
    let mut open = sim(tx.conn(), iccid).await?;
    open.extend(sims_of(tx.conn(), option_id).await?);
    let before = from
        .yesterday()
        .map_err(|e| StorageError::Corrupt(e.to_string()))?;
    for s in open
        .iter()
        .filter(|s| s.from_on != from.to_string() || s.iccid != iccid)
    {
        if let Err(r) = mobile::check_closing(&s.iccid, date(&s.from_on)?, from) {
            return Ok(Err(r));
        }
        if opt_date(s.until_on.clone())?.is_none_or(|u| u >= from) {
            sqlx::query("UPDATE sims SET until_on = $1 WHERE iccid = $2 AND from_on = $3")
                .bind(before.to_string())
                .bind(s.iccid.clone())
                .bind(s.from_on.clone())
                .execute(tx.conn())
                .await?;
        }
    }
    sqlx::query(
        "INSERT INTO sims (iccid, from_on, until_on, option_id) VALUES ($1, $2, NULL, $3) \
         ON CONFLICT (iccid, from_on) DO UPDATE SET option_id = excluded.option_id, until_on = NULL",
    )
    .bind(iccid.to_owned())
    .bind(from.to_string())
    .bind(option_id.to_owned())
    .execute(tx.conn())
    .await?;
    let row = SimRecord {
        iccid: iccid.to_owned(),
        option_id: option_id.to_owned(),
        from_on: from.to_string(),
        until_on: None,
    };
    tx.commit(
        journal
            .contractor(Some(&contractor))
            .subject(iccid)
            .outcome(serde_json::json!({ "option_id": option_id, "from": from })),
    )
    .await?;
    Ok(Ok(row))
}
