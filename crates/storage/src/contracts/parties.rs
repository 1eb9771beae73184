//! Designated services (R6.1c), designations of another contractor's management (R6.2) and
//! invoice redirects (R6.3).

use jiff::civil::Date;
use mpc_domain::eligibility::{self, Designation, InvoiceRedirect};
use sqlx::AnyConnection;

use crate::contracts::requests::Result;
use crate::contracts::{date, load_contract, opt_date};
use crate::sql::Sql;
use crate::{StorageError, WriteTx, new_id};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DesignatedServiceRecord {
    pub id: String,
    pub contractor_id: String,
    pub reference: String,
    pub registered_on: String,
    pub ended_on: Option<String>,
}

pub async fn add_designated_service(
    tx: &mut WriteTx,
    contractor_id: &str,
    reference: &str,
    registered_on: Date,
) -> Result<DesignatedServiceRecord> {
    let row = DesignatedServiceRecord {
        id: new_id(),
        contractor_id: contractor_id.to_owned(),
        reference: reference.to_owned(),
        registered_on: registered_on.to_string(),
        ended_on: None,
    };
    sqlx::query("INSERT INTO designated_services (id, contractor_id, reference, registered_on) VALUES ($1, $2, $3, $4)")
        .bind(row.id.clone())
        .bind(row.contractor_id.clone())
        .bind(row.reference.clone())
        .bind(row.registered_on.clone())
        .execute(tx.conn())
        .await?;
    Ok(row)
}

pub async fn designated_services(
    conn: &mut AnyConnection,
    contractor_id: &str,
) -> Result<Vec<DesignatedServiceRecord>> {
    Ok(sqlx::query_as(
        "SELECT id, contractor_id, reference, registered_on, ended_on FROM designated_services \
         WHERE contractor_id = $1 ORDER BY id",
    )
    .bind(contractor_id.to_owned())
    .fetch_all(conn)
    .await?)
}

/// A rider names another contractor's management (R6.2); it holds once that contractor consents.
pub async fn create_designation(
    tx: &mut WriteTx,
    rider: &str,
    management_contract_id: &str,
    requested_on: Date,
) -> Result<Designation> {
    let management = load_contract(tx.conn(), management_contract_id).await?;
    eligibility::check_designation(rider, management.as_ref(), requested_on)?;
    let d = Designation {
        id: new_id(),
        rider_contractor_id: rider.to_owned(),
        management_contract_id: management_contract_id.to_owned(),
        requested_on,
        consented_on: None,
        withdrawn_on: None,
    };
    sqlx::query("INSERT INTO designations (id, rider_contractor_id, management_contract_id, requested_on) VALUES ($1, $2, $3, $4)")
        .bind(d.id.clone())
        .bind(d.rider_contractor_id.clone())
        .bind(d.management_contract_id.clone())
        .bind(d.requested_on.to_string())
        .execute(tx.conn())
        .await?;
    Ok(d)
}

#[derive(sqlx::FromRow)]
struct DesignationRecord {
    id: String,
    rider_contractor_id: String,
    management_contract_id: String,
    requested_on: String,
    consented_on: Option<String>,
    withdrawn_on: Option<String>,
}

fn designation(r: DesignationRecord) -> Result<Designation> {
    Ok(Designation {
        requested_on: date(&r.requested_on)?,
        consented_on: opt_date(r.consented_on)?,
        withdrawn_on: opt_date(r.withdrawn_on)?,
        id: r.id,
        rider_contractor_id: r.rider_contractor_id,
        management_contract_id: r.management_contract_id,
    })
}

const DESIGNATION_COLUMNS: &str = "SELECT id, rider_contractor_id, management_contract_id, requested_on, \
     consented_on, withdrawn_on FROM designations";

pub async fn designations(
    conn: &mut AnyConnection,
    column: &'static str,
    key: &str,
) -> Result<Vec<Designation>> {
    let mut q = Sql::new(DESIGNATION_COLUMNS);
    q.push(" WHERE ")
        .push(column)
        .push(" = ")
        .bind(key.to_owned())
        .push(" ORDER BY id");
    let rows: Vec<DesignationRecord> = q
        .query_as()?
        .fetch_all(conn)
        .await
        .map_err(StorageError::from)?;
    rows.into_iter().map(designation).collect()
}

pub async fn get_designation(conn: &mut AnyConnection, id: &str) -> Result<Designation> {
    designations(conn, "id", id)
        .await?
        .pop()
        .ok_or(StorageError::NotFound.into())
}

/// Designations a contractor made, or that name one of its managements.
pub async fn designations_involving(
    conn: &mut AnyConnection,
    contractor_id: &str,
) -> Result<Vec<Designation>> {
    let mut q = Sql::new(DESIGNATION_COLUMNS);
    q.push(" WHERE rider_contractor_id = ")
        .bind(contractor_id.to_owned())
        .push(" OR management_contract_id IN (SELECT id FROM contracts WHERE contractor_id = ")
        .bind(contractor_id.to_owned())
        .push(") ORDER BY id");
    let rows: Vec<DesignationRecord> = q
        .query_as()?
        .fetch_all(conn)
        .await
        .map_err(StorageError::from)?;
    rows.into_iter().map(designation).collect()
}

pub async fn consent_designation(tx: &mut WriteTx, id: &str, on: Date) -> Result<Designation> {
    let mut d = get_designation(tx.conn(), id).await?;
    d.consented_on = Some(eligibility::consent(d.requested_on, d.consented_on, on)?);
    sqlx::query("UPDATE designations SET consented_on = $1 WHERE id = $2")
        .bind(on.to_string())
        .bind(id.to_owned())
        .execute(tx.conn())
        .await?;
    Ok(d)
}

#[derive(sqlx::FromRow)]
struct RedirectRecord {
    id: String,
    management_contract_id: String,
    target_contractor_id: String,
    requested_on: String,
    consented_on: Option<String>,
    approved_on: Option<String>,
    ended_on: Option<String>,
}

impl RedirectRecord {
    fn parse(self) -> Result<InvoiceRedirect> {
        Ok(InvoiceRedirect {
            requested_on: date(&self.requested_on)?,
            consented_on: opt_date(self.consented_on)?,
            approved_on: opt_date(self.approved_on)?,
            ended_on: opt_date(self.ended_on)?,
            id: self.id,
            management_contract_id: self.management_contract_id,
            target_contractor_id: self.target_contractor_id,
        })
    }
}

const REDIRECT_COLUMNS: &str = "SELECT id, management_contract_id, target_contractor_id, requested_on, \
     consented_on, approved_on, ended_on FROM invoice_redirects";

/// A management contractor asks to send its management invoices elsewhere (R6.3).
pub async fn create_redirect(
    tx: &mut WriteTx,
    management_contract_id: &str,
    target: &str,
    requested_on: Date,
) -> Result<InvoiceRedirect> {
    let management = load_contract(tx.conn(), management_contract_id)
        .await?
        .ok_or(StorageError::NotFound)?;
    let rides: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM designations WHERE rider_contractor_id = $1 AND management_contract_id = $2 \
         AND consented_on IS NOT NULL AND withdrawn_on IS NULL",
    )
    .bind(target.to_owned())
    .bind(management_contract_id.to_owned())
    .fetch_one(tx.conn())
    .await?;
    let adapters: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM contracts WHERE contractor_id = $1 AND kind = 'service_adapter'",
    )
    .bind(target.to_owned())
    .fetch_one(tx.conn())
    .await?;
    eligibility::check_redirect(&management, target, rides > 0, adapters > 0)?;
    let r = InvoiceRedirect {
        id: new_id(),
        management_contract_id: management_contract_id.to_owned(),
        target_contractor_id: target.to_owned(),
        requested_on,
        consented_on: None,
        approved_on: None,
        ended_on: None,
    };
    sqlx::query(
        "INSERT INTO invoice_redirects (id, management_contract_id, target_contractor_id, requested_on) VALUES ($1, $2, $3, $4)",
    )
    .bind(r.id.clone())
    .bind(r.management_contract_id.clone())
    .bind(r.target_contractor_id.clone())
    .bind(r.requested_on.to_string())
    .execute(tx.conn())
    .await?;
    Ok(r)
}

pub async fn get_redirect(conn: &mut AnyConnection, id: &str) -> Result<InvoiceRedirect> {
    let mut q = Sql::new(REDIRECT_COLUMNS);
    q.push(" WHERE id = ").bind(id.to_owned());
    let row: RedirectRecord = q
        .query_as()?
        .fetch_one(conn)
        .await
        .map_err(StorageError::from)?;
    row.parse()
}

pub async fn redirects_of(
    conn: &mut AnyConnection,
    management_contract_id: &str,
) -> Result<Vec<InvoiceRedirect>> {
    let mut q = Sql::new(REDIRECT_COLUMNS);
    q.push(" WHERE management_contract_id = ")
        .bind(management_contract_id.to_owned())
        .push(" ORDER BY id");
    let rows: Vec<RedirectRecord> = q
        .query_as()?
        .fetch_all(conn)
        .await
        .map_err(StorageError::from)?;
    rows.into_iter().map(RedirectRecord::parse).collect()
}

/// The target consents (R6.3).
pub async fn consent_redirect(tx: &mut WriteTx, id: &str, on: Date) -> Result<InvoiceRedirect> {
    let mut r = get_redirect(tx.conn(), id).await?;
    r.consented_on = Some(eligibility::consent(r.requested_on, r.consented_on, on)?);
    sqlx::query("UPDATE invoice_redirects SET consented_on = $1 WHERE id = $2")
        .bind(on.to_string())
        .bind(id.to_owned())
        .execute(tx.conn())
        .await?;
    Ok(r)
}

/// The operator approves (R6.3): management fees go to the target from this day (B1).
pub async fn approve_redirect(tx: &mut WriteTx, id: &str, on: Date) -> Result<InvoiceRedirect> {
    let mut r = get_redirect(tx.conn(), id).await?;
    r.approved_on = Some(eligibility::approve_redirect(&r, on)?);
    sqlx::query("UPDATE invoice_redirects SET approved_on = $1 WHERE id = $2")
        .bind(on.to_string())
        .bind(id.to_owned())
        .execute(tx.conn())
        .await?;
    Ok(r)
}
