//! The numbers people quote for contracts, requests, outages and SLA claims (`C-000123`,
//! `REQ-000123` …): taken from one counter row per kind inside the transaction that makes the record.

use mpc_domain::number::{Number, Numbered};
use sqlx::AnyConnection;

use crate::{Result, StorageError, WriteTx};

/// The next number of `kind`, given in `tx`: a second transaction taking one waits for this
/// one to end, so numbers are consecutive and never given twice, even across servers.
pub(crate) async fn next(tx: &mut WriteTx, kind: Numbered) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "UPDATE record_numbers SET last = last + 1 WHERE kind = $1 RETURNING last",
    )
    .bind(kind.as_str())
    .fetch_one(tx.conn())
    .await?)
}

/// The query finding the id of a record of `kind` by its number.
fn by_number(kind: Numbered) -> &'static str {
    match kind {
        Numbered::Contract => "SELECT id FROM contracts WHERE number = $1",
        Numbered::Request => "SELECT id FROM requests WHERE number = $1",
        Numbered::Outage => "SELECT id FROM outages WHERE number = $1",
        Numbered::Claim => "SELECT id FROM sla_claims WHERE number = $1",
    }
}

/// The id of the record a caller names, by its number (`REQ-000123`) or by its id: a number
/// is looked up, anything else is taken as the id it is.
///
/// # Errors
/// [`StorageError::NotFound`] for a number no record has.
pub async fn resolve(conn: &mut AnyConnection, kind: Numbered, named: &str) -> Result<String> {
    let Some(number) = Number::parse(kind, named) else {
        return Ok(named.to_owned());
    };
    let id: Option<String> = sqlx::query_scalar(by_number(kind))
        .bind(number.serial)
        .fetch_optional(conn)
        .await?;
    id.ok_or(StorageError::NotFound)
}
