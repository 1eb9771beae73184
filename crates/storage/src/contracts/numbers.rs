//! Contract numbers and site labels: the names people use for a contract (issue 17).
//!
//! A number is taken from the contract row of the record counters (`record_numbers`, kind
//! `contract`, as [`crate::numbers::next`] gives requests and claims theirs) in the transaction
//! that writes the new contract, so numbers are sequential and never reused, even when two acceptances
//! run at once on two servers (the second waits on the row; a rolled-back acceptance gives its
//! number back with the rest of its transaction).

use std::collections::HashMap;

use mpc_domain::book::Effect;
use mpc_domain::contract_number::ContractNumber;
use mpc_domain::number::Numbered;
use sqlx::AnyConnection;

use super::book::contract_number;
use crate::sql::Sql;
use crate::{Result, StorageError, WriteTx};

/// The next contract number, taken in `tx`.
pub async fn next_number(tx: &mut WriteTx) -> Result<ContractNumber> {
    let last = crate::numbers::next(tx, Numbered::Contract).await?;
    contract_number(Some(last))
}

/// Numbers the contracts `effects` create (in their order), so the effects a caller is shown
/// and the rows written carry the same number.
pub async fn number_created(tx: &mut WriteTx, effects: &mut [Effect]) -> Result<()> {
    for e in effects {
        if let Effect::ContractCreated(c) = e
            && c.number.is_none()
        {
            c.number = Some(next_number(tx).await?);
        }
    }
    Ok(())
}

/// The contract numbered `number`: its id and contractor.
pub async fn find(
    conn: &mut AnyConnection,
    number: ContractNumber,
) -> Result<Option<(String, String)>> {
    let n = i64::try_from(number.get()).map_err(|_| StorageError::NotFound)?;
    Ok(
        sqlx::query_as("SELECT id, contractor_id FROM contracts WHERE number = $1")
            .bind(n)
            .fetch_optional(conn)
            .await?,
    )
}

/// Sets the site label of `contract_id` (already checked by the domain) in `tx`.
pub async fn set_label(tx: &mut WriteTx, contract_id: &str, label: &str) -> Result<()> {
    let changed = sqlx::query("UPDATE contracts SET label = $1 WHERE id = $2")
        .bind(label.to_owned())
        .bind(contract_id.to_owned())
        .execute(tx.conn())
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(StorageError::NotFound);
    }
    Ok(())
}

/// How people name a contract: its number and site label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractName {
    pub number: ContractNumber,
    pub label: String,
    /// Who holds it, so a caller can keep to what it may see.
    pub contractor_id: String,
}

/// How people name an option: its kind and the name of the contract it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionName {
    pub kind: mpc_domain::catalog::OptionKind,
    pub contract: ContractName,
}

#[derive(sqlx::FromRow)]
struct NameRecord {
    id: String,
    number: Option<i64>,
    label: String,
    contractor_id: String,
}

#[derive(sqlx::FromRow)]
struct OptionNameRecord {
    id: String,
    kind: String,
    number: Option<i64>,
    label: String,
    contractor_id: String,
}

/// The kind and contract name of each of `ids` (option ids) that exists, in one query per
/// 500 ids.
pub async fn option_names_of(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<HashMap<String, OptionName>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let mut q = Sql::new(
            "SELECT o.id, o.kind, c.number, c.label, c.contractor_id FROM options o \
             JOIN contracts c ON c.id = o.contract_id WHERE o.id IN (",
        );
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(id.clone());
        }
        q.push(")");
        let rows: Vec<OptionNameRecord> = q.query_as()?.fetch_all(&mut *conn).await?;
        for r in rows {
            out.insert(
                r.id,
                OptionName {
                    kind: super::from_wire(&r.kind)?,
                    contract: ContractName {
                        number: contract_number(r.number)?,
                        label: r.label,
                        contractor_id: r.contractor_id,
                    },
                },
            );
        }
    }
    Ok(out)
}

/// The number and label of each of `ids` that exists, in one query per 500 ids.
pub async fn names_of(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<HashMap<String, ContractName>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let mut q =
            Sql::new("SELECT id, number, label, contractor_id FROM contracts WHERE id IN (");
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(id.clone());
        }
        q.push(")");
        let rows: Vec<NameRecord> = q.query_as()?.fetch_all(&mut *conn).await?;
        for r in rows {
            out.insert(
                r.id,
                ContractName {
                    number: contract_number(r.number)?,
                    label: r.label,
                    contractor_id: r.contractor_id,
                },
            );
        }
    }
    Ok(out)
}

/// A contract in service on a day, as a picker offers it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InService {
    pub id: String,
    pub number: Option<i64>,
    pub label: String,
    /// `service_adapter` or `management` (the wire name of its kind).
    pub kind: String,
    pub contractor_name: String,
}

/// Every contract in service on `on` (accepted by then, not ended before it), by number.
pub async fn in_service(conn: &mut AnyConnection, on: jiff::civil::Date) -> Result<Vec<InService>> {
    let on = on.to_string();
    Ok(sqlx::query_as(
        "SELECT c.id, c.number, c.label, c.kind, k.name AS contractor_name FROM contracts c \
         JOIN contractors k ON k.id = c.contractor_id \
         WHERE c.accepted_on <= $1 AND (c.end_on IS NULL OR c.end_on >= $2) ORDER BY c.number",
    )
    .bind(on.clone())
    .bind(on)
    .fetch_all(conn)
    .await?)
}
