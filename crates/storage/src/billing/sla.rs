//! Outages and SLA claims (R16).

use mpc_domain::number::{Number, Numbered};

use super::*;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutageRecord {
    pub id: String,
    /// Its number, `OUT-` and these digits ([`OutageRecord::number`]).
    pub number: i64,
    pub learned_at: i64,
    pub restored_at: i64,
    pub operator_caused: i64,
    pub scope: String,
    pub affected: String,
    pub description: String,
}

impl OutageRecord {
    /// The number people quote (`OUT-000123`).
    pub fn number(&self) -> Number {
        Number::new(Numbered::Outage, self.number)
    }

    pub fn outage(&self) -> Result<mpc_domain::sla::Outage> {
        let ids: Vec<String> = serde_json::from_str(&self.affected)
            .map_err(|e| StorageError::Corrupt(e.to_string()))?;
        Ok(mpc_domain::sla::Outage {
            id: self.id.clone(),
            learned_at: crate::timestamp(self.learned_at)?,
            restored_at: crate::timestamp(self.restored_at)?,
            operator_caused: self.operator_caused != 0,
            affected: match self.scope.as_str() {
                "all_under_management" => mpc_domain::sla::Affected::AllUnderManagement(
                    ids.into_iter().next().unwrap_or_default(),
                ),
                _ => mpc_domain::sla::Affected::Contracts(ids),
            },
        })
    }
}

pub(super) const OUTAGE_COLUMNS: &str = "SELECT id, number, learned_at, restored_at, operator_caused, scope, affected, description FROM outages";

/// Records an outage (R16.1) and gives it the next outage number, which it returns.
pub async fn record_outage(
    tx: &mut WriteTx,
    o: &mpc_domain::sla::Outage,
    description: &str,
) -> Result<i64> {
    let named = match &o.affected {
        mpc_domain::sla::Affected::Contracts(ids) => ids.clone(),
        mpc_domain::sla::Affected::AllUnderManagement(m) => vec![m.clone()],
    };
    let mut contracts = Vec::with_capacity(named.len());
    for id in &named {
        contracts.extend(crate::contracts::load_contract(tx.conn(), id).await?);
    }
    mpc_domain::sla::check_outage(o, |id| contracts.iter().find(|c| c.id == id))?;
    let (scope, ids) = match &o.affected {
        mpc_domain::sla::Affected::Contracts(ids) => ("contracts", ids.clone()),
        mpc_domain::sla::Affected::AllUnderManagement(m) => {
            ("all_under_management", vec![m.clone()])
        }
    };
    let number = crate::numbers::next(tx, Numbered::Outage).await?;
    sqlx::query(
        "INSERT INTO outages (id, learned_at, restored_at, operator_caused, scope, affected, description, created_at, number) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(o.id.clone())
    .bind(o.learned_at.as_microsecond())
    .bind(o.restored_at.as_microsecond())
    .bind(i64::from(o.operator_caused))
    .bind(scope.to_owned())
    .bind(serde_json::to_string(&ids).unwrap_or_default())
    .bind(description.to_owned())
    .bind(now_micros())
    .bind(number)
    .execute(tx.conn())
    .await?;
    Ok(number)
}

pub async fn list_outages(conn: &mut AnyConnection) -> Result<Vec<OutageRecord>> {
    let mut q = Sql::new(OUTAGE_COLUMNS);
    q.push(" ORDER BY learned_at DESC, id");
    Ok(q.query_as()?
        .fetch_all(conn)
        .await
        .map_err(StorageError::from)?)
}

pub async fn get_outage(conn: &mut AnyConnection, id: &str) -> Result<OutageRecord> {
    let mut q = Sql::new(OUTAGE_COLUMNS);
    q.push(" WHERE id = ").bind(id.to_owned());
    Ok(q.query_as()?
        .fetch_one(conn)
        .await
        .map_err(StorageError::from)?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimRecord {
    pub id: String,
    /// Its number, `CLM-` and these digits ([`ClaimRecord::number`]).
    pub number: i64,
    pub outage_id: String,
    pub contract_id: String,
    pub contractor_id: String,
    pub claimed_on: String,
    #[sqlx(try_from = "String")]
    pub status: ClaimStatus,
    pub decided_on: Option<String>,
}

impl ClaimRecord {
    /// The number people quote (`CLM-000123`).
    pub fn number(&self) -> Number {
        Number::new(Numbered::Claim, self.number)
    }
}

pub(super) const CLAIM_COLUMNS: &str = "SELECT id, number, outage_id, contract_id, contractor_id, claimed_on, status, decided_on FROM sla_claims";

/// A contractor claims the credit of an outage for a contract (R16.2, R16.3).
pub async fn claim(
    tx: &mut WriteTx,
    outage_id: &str,
    contract_id: &str,
    claimed_on: Date,
) -> Result<ClaimRecord> {
    let outage = get_outage(tx.conn(), outage_id).await?.outage()?;
    let contract = crate::contracts::load_contract(tx.conn(), contract_id)
        .await?
        .ok_or(StorageError::NotFound)?;
    let book = crate::contracts::load_book(tx.conn(), &contract.contractor_id).await?;
    mpc_domain::sla::check_claim(&outage, &book, &contract, claimed_on)?;
    let row = ClaimRecord {
        id: new_id(),
        number: crate::numbers::next(tx, Numbered::Claim).await?,
        outage_id: outage_id.to_owned(),
        contract_id: contract_id.to_owned(),
        contractor_id: contract.contractor_id.clone(),
        claimed_on: claimed_on.to_string(),
        status: ClaimStatus::Pending,
        decided_on: None,
    };
    sqlx::query(
        "INSERT INTO sla_claims (id, outage_id, contract_id, contractor_id, claimed_on, status, number) \
         VALUES ($1, $2, $3, $4, $5, 'pending', $6)",
    )
    .bind(row.id.clone())
    .bind(row.outage_id.clone())
    .bind(row.contract_id.clone())
    .bind(row.contractor_id.clone())
    .bind(row.claimed_on.clone())
    .bind(row.number)
    .execute(tx.conn())
    .await
    .map_err(|e| match StorageError::from(e) {
        StorageError::Conflict(_) => BillingError::Refused(mpc_domain::sla::already_claimed()),
        e => e.into(),
    })?;
    Ok(row)
}

pub async fn get_claim(conn: &mut AnyConnection, id: &str) -> Result<ClaimRecord> {
    let mut q = Sql::new(CLAIM_COLUMNS);
    q.push(" WHERE id = ").bind(id.to_owned());
    Ok(q.query_as()?
        .fetch_one(conn)
        .await
        .map_err(StorageError::from)?)
}

pub async fn claims_of(
    conn: &mut AnyConnection,
    contractor: Option<&str>,
) -> Result<Vec<ClaimRecord>> {
    let mut q = Sql::new(CLAIM_COLUMNS);
    if let Some(c) = contractor {
        q.push(" WHERE contractor_id = ").bind(c.to_owned());
    }
    q.push(" ORDER BY claimed_on, id");
    Ok(q.query_as()?
        .fetch_all(conn)
        .await
        .map_err(StorageError::from)?)
}

/// Approves or refuses a pending claim; an approved credit appears on the invoice of the
/// month of approval (R16.2).
pub async fn decide_claim(
    tx: &mut WriteTx,
    id: &str,
    approve: bool,
    on: Date,
) -> Result<ClaimRecord> {
    let mut c = get_claim(tx.conn(), id).await?;
    mpc_domain::sla::check_decision(c.status != ClaimStatus::Pending, date(&c.claimed_on)?, on)?;
    c.status = if approve {
        ClaimStatus::Approved
    } else {
        ClaimStatus::Refused
    };
    c.decided_on = Some(on.to_string());
    sqlx::query("UPDATE sla_claims SET status = $1, decided_on = $2 WHERE id = $3")
        .bind(c.status.as_str())
        .bind(c.decided_on.clone())
        .bind(id.to_owned())
        .execute(tx.conn())
        .await?;
    Ok(c)
}
