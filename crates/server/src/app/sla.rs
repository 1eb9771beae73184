//! Outages and SLA claims (R16): operators record outages and decide claims; a contractor
//! sees the outages that touched its contracts and claims their credit by the deadline.

use mpc_api_types::billing::{ClaimView, DecideClaim, OutageView, RecordOutage, SubmitClaim};
use mpc_domain::book::Book;
use mpc_domain::number::{Number, Numbered};
use mpc_domain::sla::{Affected, ClaimStatus, Outage};
use mpc_storage::billing::{self, ClaimRecord, OutageRecord};
use mpc_storage::numbers;

use super::Input;
use crate::AppState;
use crate::app::contracts::Names;
use crate::app::support::Dates;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

/// An outage as the API shows it to the holder of `own` (operators: `None`), with its claim
/// deadline (R16.3) and the numbers of the contracts it names: a contractor is shown its own
/// contracts among them, not the other contractors'.
fn outage_view(row: &OutageRecord, o: &Outage, names: &Names, own: Option<&Book>) -> OutageView {
    let (contract_ids, management_id) = match &o.affected {
        Affected::Contracts(ids) => (
            ids.iter()
                .filter(|id| own.is_none_or(|b| b.contract(id).is_some()))
                .cloned()
                .collect(),
            None,
        ),
        Affected::AllUnderManagement(m) => (Vec::new(), Some(m.clone())),
    };
    let number = |id: &String| names.of(id).0;
    OutageView {
        contract_numbers: contract_ids.iter().filter_map(number).collect(),
        management_number: management_id.as_ref().and_then(number),
        id: row.id.clone(),
        number: row.number().to_string(),
        learned_at: o.learned_at.to_string(),
        restored_at: o.restored_at.to_string(),
        operator_caused: o.operator_caused,
        full_days: o.full_days(),
        qualifies: o.qualifies(),
        claimable_from: o.claimable_on().to_string(),
        claim_deadline: o.claim_deadline().to_string(),
        contract_ids,
        management_id,
        description: row.description.clone(),
    }
}

/// The contracts of a contractor caller, to show it the outages that touched them; `None` for
/// operators, who see every outage.
async fn own_book(state: &AppState, caller: &Caller) -> ApiResult<Option<Book>> {
    Ok(match caller.actor.contractor_scope() {
        Some(own) => {
            Some(mpc_storage::contracts::load_book(&mut *state.store.conn().await?, own).await?)
        }
        None => None,
    })
}

fn concerns(own: Option<&Book>, o: &Outage) -> bool {
    own.is_none_or(|b| b.contracts.iter().any(|c| o.affects(c)))
}

/// The outages as the API shows them to `caller` ([`outage_view`]), their contracts named in
/// one lookup.
async fn outage_views(
    state: &AppState,
    caller: &Caller,
    outages: &[(OutageRecord, Outage)],
    own: Option<&Book>,
) -> ApiResult<Vec<OutageView>> {
    let ids: Vec<&str> = outages
        .iter()
        .flat_map(|(_, o)| match &o.affected {
            Affected::Contracts(ids) => ids.iter().map(String::as_str).collect::<Vec<_>>(),
            Affected::AllUnderManagement(m) => vec![m.as_str()],
        })
        .collect();
    let names = crate::app::contracts::names(state, caller, &ids, &[]).await?;
    Ok(outages
        .iter()
        .map(|(row, o)| outage_view(row, o, &names, own))
        .collect())
}

/// Records an outage (operators, R16.1), journaled as `outage.record`.
///
/// # Errors
/// 403 for anyone but operators; 422 for instants that are not RFC 3339 within the business
/// dates, or for naming both or neither of `contract_ids` and `management_id`.
pub async fn record_outage(
    state: &AppState,
    caller: &Caller,
    new: Input<RecordOutage>,
) -> ApiResult<OutageView> {
    caller.require_operator()?;
    let (mut body, raw) = new.parse()?;
    crate::app::contracts::resolve_all(state, caller, &mut body.contract_ids).await?;
    if let Some(m) = body.management_id.as_mut() {
        crate::app::contracts::resolve_named(state, caller, m).await?;
    }
    let instant = |field: &'static str, s: &str| -> ApiResult<jiff::Timestamp> {
        let at: jiff::Timestamp = s.parse().map_err(|_| {
            ApiError::unprocessable(
                "invalid_field",
                format!("{field}: expected an RFC 3339 instant"),
            )
            .ja(format!(
                "{field} は RFC 3339 形式の日時（例: 2026-04-01T09:00:00+09:00）で指定してください"
            ))
        })?;
        mpc_domain::calendar::business_instant(at).map_err(|e| {
            ApiError::unprocessable("invalid_field", format!("{field}: {e}"))
                .ja(format!("{field}: {}", e.message_ja()))
        })
    };
    let affected = match (body.management_id.clone(), body.contract_ids.is_empty()) {
        (Some(m), true) => Affected::AllUnderManagement(m),
        (None, false) => Affected::Contracts(body.contract_ids.clone()),
        _ => {
            return Err(ApiError::unprocessable(
                "invalid_field",
                "name either contract_ids or management_id",
            )
            .ja("contract_ids か management_id のどちらか一方を指定してください"));
        }
    };
    let outage = Outage {
        id: mpc_storage::new_id(),
        learned_at: instant("learned_at", &body.learned_at)?,
        restored_at: instant("restored_at", &body.restored_at)?,
        operator_caused: body.operator_caused,
        affected,
    };
    let mut tx = state.store.write().await?;
    billing::record_outage(&mut tx, &outage, &body.description).await?;
    tx.commit(
        caller
            .journal("outage.record")
            .subject(&outage.id)
            .request(raw),
    )
    .await?;
    let row = billing::get_outage(&mut *state.store.conn().await?, &outage.id).await?;
    Ok(outage_views(state, caller, &[(row, outage)], None)
        .await?
        .remove(0))
}

/// Outages, newest first; a contractor sees those that affected its contracts.
///
/// # Errors
/// The database's.
pub async fn outages(state: &AppState, caller: &Caller) -> ApiResult<Vec<OutageView>> {
    let rows = billing::list_outages(&mut *state.store.conn().await?).await?;
    let own = own_book(state, caller).await?;
    let mut shown = Vec::new();
    for row in rows {
        let o = row.outage()?;
        if concerns(own.as_ref(), &o) {
            shown.push((row, o));
        }
    }
    outage_views(state, caller, &shown, own.as_ref()).await
}

/// One outage with its claim deadline (R16.3), named by its id or its number (`OUT-000123`).
///
/// # Errors
/// 404 for an outage that does not exist or did not touch the caller's contracts.
pub async fn outage(state: &AppState, caller: &Caller, named: &str) -> ApiResult<OutageView> {
    let mut conn = state.store.conn().await?;
    let id = numbers::resolve(&mut conn, Numbered::Outage, named).await?;
    let row = billing::get_outage(&mut conn, &id).await?;
    drop(conn);
    let o = row.outage()?;
    let own = own_book(state, caller).await?;
    if !concerns(own.as_ref(), &o) {
        return Err(ApiError::not_found());
    }
    Ok(outage_views(state, caller, &[(row, o)], own.as_ref())
        .await?
        .remove(0))
}

/// An SLA claim with its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub id: String,
    /// The number people quote.
    pub number: Number,
    pub outage_id: String,
    pub contract_id: String,
    pub contractor_id: String,
    /// `YYYY-MM-DD`.
    pub claimed_on: String,
    pub state: ClaimStatus,
    /// `YYYY-MM-DD`, once approved or refused.
    pub decided_on: Option<String>,
}

fn claim_of(c: ClaimRecord) -> ApiResult<Claim> {
    let state = c.status;
    Ok(Claim {
        number: c.number(),
        id: c.id,
        outage_id: c.outage_id,
        contract_id: c.contract_id,
        contractor_id: c.contractor_id,
        claimed_on: c.claimed_on,
        state,
        decided_on: c.decided_on,
    })
}

/// Claims as the API shows them, with their contracts' numbers (one lookup for them all).
///
/// # Errors
/// Only storage failures.
pub async fn claim_views(
    state: &AppState,
    caller: &Caller,
    claims: Vec<Claim>,
) -> ApiResult<Vec<ClaimView>> {
    let ids: Vec<&str> = claims.iter().map(|c| c.contract_id.as_str()).collect();
    let names = crate::app::contracts::names(state, caller, &ids, &[]).await?;
    Ok(claims
        .into_iter()
        .map(|c| {
            let contract_number = names.of(&c.contract_id).0;
            ClaimView {
                contract_number,
                ..claim_view(c)
            }
        })
        .collect())
}

/// [`claim_views`] for one claim.
///
/// # Errors
/// Only storage failures.
pub async fn claim_view_named(
    state: &AppState,
    caller: &Caller,
    claim: Claim,
) -> ApiResult<ClaimView> {
    Ok(claim_views(state, caller, vec![claim]).await?.remove(0))
}

/// A claim as the API shows it, without its contract's number.
fn claim_view(c: Claim) -> ClaimView {
    ClaimView {
        id: c.id,
        number: c.number.to_string(),
        outage_id: c.outage_id,
        contract_id: c.contract_id,
        contract_number: None,
        contractor_id: c.contractor_id,
        claimed_on: c.claimed_on,
        status: c.state.as_str().to_owned(),
        decided_on: c.decided_on,
    }
}

/// Claims the SLA credit of an outage for a service adapter (R16.2), by the deadline (R16.3),
/// journaled as `sla_claim.submit`. Only operators record the date of a claim made on paper.
///
/// # Errors
/// 404 for a contract outside the caller's reach; 403 for a contractor giving `claimed_on`;
/// 422 with the rule for a claim the rules refuse.
pub async fn claim(
    state: &AppState,
    caller: &Caller,
    contract_id: &str,
    new: Input<SubmitClaim>,
) -> ApiResult<Claim> {
    let crate::app::contracts::Resolved { id, owner } =
        crate::app::contracts::resolve(state, caller, contract_id).await?;
    let contract_id = id.as_str();
    let (body, raw) = new.parse()?;
    if !caller.actor.is_operator() && body.claimed_on.is_some() {
        return Err(
            ApiError::forbidden("only operators record the date of a claim made on paper")
                .ja("書面で受け付けた請求の日付は、運用者だけが記録できます"),
        );
    }
    let on = Dates::default().or_today("claimed_on", body.claimed_on.as_deref())?;
    let outage_id = numbers::resolve(
        &mut *state.store.conn().await?,
        Numbered::Outage,
        &body.outage_id,
    )
    .await?;
    let mut tx = state.store.write().await?;
    let c = billing::claim(&mut tx, &outage_id, contract_id, on).await?;
    tx.commit(
        caller
            .journal("sla_claim.submit")
            .contractor(Some(&owner))
            .subject(&c.id)
            .request(raw),
    )
    .await?;
    claim_of(c)
}

/// A contractor's SLA claims.
///
/// # Errors
/// 404 for a contractor that does not exist or is outside the caller's reach.
pub async fn claims(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
) -> ApiResult<Vec<Claim>> {
    caller.require_contractor(contractor_id)?;
    mpc_storage::accounts::get_contractor(&state.store, contractor_id).await?;
    let rows = billing::claims_of(&mut *state.store.conn().await?, Some(contractor_id)).await?;
    rows.into_iter().map(claim_of).collect()
}

/// Every contractor's claims (operators).
///
/// # Errors
/// 403 for anyone but operators.
pub async fn all_claims(state: &AppState, caller: &Caller) -> ApiResult<Vec<Claim>> {
    caller.require_operator()?;
    let rows = billing::claims_of(&mut *state.store.conn().await?, None).await?;
    rows.into_iter().map(claim_of).collect()
}

/// How an operator decides a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The credit is on the invoice of the month of the decision (R16.2).
    Approve,
    Refuse,
}

/// Decides a claim named by its id or its number (`CLM-000123`) (operators), journaled as
/// `sla_claim.approve` or `sla_claim.refuse` with the reason given; the day defaults to today
/// in Japan.
///
/// # Errors
/// 404 for a claim outside the caller's reach; 403 for anyone but operators; 422 for a reason
/// over 500 characters or a claim the rules do not let be decided.
pub async fn decide(
    state: &AppState,
    caller: &Caller,
    named: &str,
    decision: Decision,
    how: Input<DecideClaim>,
) -> ApiResult<Claim> {
    let mut conn = state.store.conn().await?;
    let id = numbers::resolve(&mut conn, Numbered::Claim, named).await?;
    let c = billing::get_claim(&mut conn, &id).await?;
    drop(conn);
    let id = id.as_str();
    caller.require_contractor(&c.contractor_id)?;
    caller.require_operator()?;
    let (body, raw) = how.parse_or_empty()?;
    let on = Dates::default().or_today("on", body.on.as_deref())?;
    if let Some(reason) = &body.reason {
        mpc_domain::account::text("reason", reason, 500)?;
    }
    let approve = decision == Decision::Approve;
    let mut tx = state.store.write().await?;
    let c = billing::decide_claim(&mut tx, id, approve, on).await?;
    let op = if approve {
        "sla_claim.approve"
    } else {
        "sla_claim.refuse"
    };
    tx.commit(
        caller
            .journal(op)
            .contractor(Some(&c.contractor_id))
            .subject(id)
            .request(raw),
    )
    .await?;
    claim_of(c)
}
