//! Eligibility (R6.1), designated services (R6.1c), designations of another contractor's
//! management (R6.2) and invoice redirects (R6.3).

use mpc_api_types::contracts::{EligibilityView, OnDate};
use mpc_api_types::parties::{
    CreateDesignatedService, CreateDesignation, CreateInvoiceRedirect, DesignatedService,
    DesignatedServiceList, Designation, DesignationList, InvoiceRedirect, InvoiceRedirectList,
};
use mpc_domain::eligibility;
use mpc_storage::accounts;
use mpc_storage::contracts::parties::{self, DesignatedServiceRecord};
use mpc_storage::contracts::standing;
use mpc_storage::contracts::{Owned, load_contract, owner_of};
use serde_json::json;

use super::Input;
use crate::AppState;
use crate::app::contracts::{Names, names};
use crate::app::support::Dates;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;
use crate::views::unmet_view;

/// What the contractor lacks of R6.1 on a day; eligible when nothing.
pub async fn eligibility(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
    as_of: Option<&str>,
) -> ApiResult<EligibilityView> {
    caller.require_contractor(contractor_id)?;
    accounts::get_contractor(&state.store, contractor_id).await?;
    let as_of = Dates::default().or_today("as_of", as_of)?;
    let unmet = standing::eligibility(&state.store, contractor_id, as_of).await?;
    Ok(EligibilityView {
        contractor_id: contractor_id.to_owned(),
        as_of: as_of.to_string(),
        eligible: unmet.is_empty(),
        unmet: unmet.into_iter().map(unmet_view).collect(),
    })
}

/// The contractor's contracts for designated services (R6.1c).
pub async fn designated_services(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
) -> ApiResult<DesignatedServiceList> {
    caller.require_contractor(contractor_id)?;
    accounts::get_contractor(&state.store, contractor_id).await?;
    let rows = parties::designated_services(&mut *state.store.conn().await?, contractor_id).await?;
    Ok(DesignatedServiceList {
        designated_services: rows.into_iter().map(service_view).collect(),
    })
}

/// Records a contract for a designated service (R6.1c; operators).
pub async fn add_designated_service(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
    input: Input<CreateDesignatedService>,
) -> ApiResult<DesignatedService> {
    caller.require_contractor(contractor_id)?;
    accounts::get_contractor(&state.store, contractor_id).await?;
    caller.require_operator()?;
    let (body, raw) = input.parse()?;
    let reference = mpc_domain::account::text("reference", &body.reference, 200)?;
    let on = Dates::default().or_today("registered_on", body.registered_on.as_deref())?;
    let mut tx = state.store.write().await?;
    let row = parties::add_designated_service(&mut tx, contractor_id, &reference, on).await?;
    tx.commit(
        caller
            .journal("designated_service.add")
            .contractor(Some(contractor_id))
            .subject(&row.id)
            .request(raw),
    )
    .await?;
    Ok(service_view(row))
}

/// Designations the contractor made, and those naming its managements (R6.2).
pub async fn designations(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
) -> ApiResult<DesignationList> {
    caller.require_contractor(contractor_id)?;
    accounts::get_contractor(&state.store, contractor_id).await?;
    let list =
        parties::designations_involving(&mut *state.store.conn().await?, contractor_id).await?;
    let managements: Vec<&str> = list
        .iter()
        .map(|d| d.management_contract_id.as_str())
        .collect();
    let names = names(state, caller, &managements, &[]).await?;
    Ok(DesignationList {
        designations: list
            .into_iter()
            .map(|d| designation_view(d, Dates::default(), &names))
            .collect(),
    })
}

/// Names another contractor's management for this contractor's service adapters (R6.2); it
/// holds once that contractor consents.
pub async fn designate(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
    input: Input<CreateDesignation>,
) -> ApiResult<Designation> {
    caller.require_contractor(contractor_id)?;
    accounts::get_contractor(&state.store, contractor_id).await?;
    let (mut body, raw) = input.parse()?;
    // A number names a contract only to those who may see it (operators); another
    // contractor's management is named by its id.
    crate::app::contracts::resolve_named(state, caller, &mut body.management_contract_id).await?;
    let mut dates = Dates::default();
    let on = dates.or_today("requested_on", body.requested_on.as_deref())?;
    let mut tx = state.store.write().await?;
    let d = parties::create_designation(&mut tx, contractor_id, &body.management_contract_id, on)
        .await?;
    tx.commit(
        caller
            .journal("designation.create")
            .contractor(Some(contractor_id))
            .subject(&d.id)
            .request(raw),
    )
    .await?;
    let names = names(state, caller, &[&d.management_contract_id], &[]).await?;
    Ok(designation_view(d, dates, &names))
}

/// The management's contractor consents to a designation (R6.2).
pub async fn consent_designation(
    state: &AppState,
    caller: &Caller,
    designation_id: &str,
    input: Input<OnDate>,
) -> ApiResult<Designation> {
    let mut conn = state.store.conn().await?;
    let d = parties::get_designation(&mut conn, designation_id).await?;
    let host = owner_of(&mut conn, Owned::Contract, &d.management_contract_id)
        .await?
        .unwrap_or_default();
    drop(conn);
    if !caller.actor.sees_contractor(&d.rider_contractor_id) && !caller.actor.sees_contractor(&host)
    {
        return Err(ApiError::not_found());
    }
    if !caller.actor.sees_contractor(&host) {
        return Err(ApiError::forbidden(
            "only the management's contractor consents to a designation",
        )
        .ja("指定への同意は、マネージメントの契約者だけが行えます"));
    }
    let (body, raw) = input.parse_or_empty()?;
    let mut dates = Dates::default();
    let on = dates.or_today("on", body.on.as_deref())?;
    let mut tx = state.store.write().await?;
    let d = parties::consent_designation(&mut tx, designation_id, on).await?;
    tx.commit(
        caller
            .journal("designation.consent")
            .contractor(Some(&d.rider_contractor_id))
            .subject(designation_id)
            .request(raw),
    )
    .await?;
    let names = names(state, caller, &[&d.management_contract_id], &[]).await?;
    Ok(designation_view(d, dates, &names))
}

/// Invoice redirects of a management contract (R6.3).
pub async fn redirects(
    state: &AppState,
    caller: &Caller,
    contract_id: &str,
) -> ApiResult<InvoiceRedirectList> {
    let id = crate::app::contracts::resolve(state, caller, contract_id)
        .await?
        .id;
    let contract_id = id.as_str();
    let list = parties::redirects_of(&mut *state.store.conn().await?, contract_id).await?;
    let names = names(state, caller, &[contract_id], &[]).await?;
    Ok(InvoiceRedirectList {
        invoice_redirects: list
            .into_iter()
            .map(|r| redirect_view(r, Dates::default(), &names))
            .collect(),
    })
}

/// Asks that this management's invoices go to another party (R6.3): it consents, then the
/// operator approves.
pub async fn request_redirect(
    state: &AppState,
    caller: &Caller,
    contract_id: &str,
    input: Input<CreateInvoiceRedirect>,
) -> ApiResult<InvoiceRedirect> {
    let crate::app::contracts::Resolved { id, owner } =
        crate::app::contracts::resolve(state, caller, contract_id).await?;
    let contract_id = id.as_str();
    let (body, raw) = input.parse()?;
    let mut dates = Dates::default();
    let on = dates.or_today("requested_on", body.requested_on.as_deref())?;
    let mut tx = state.store.write().await?;
    let r = parties::create_redirect(&mut tx, contract_id, &body.target_contractor_id, on).await?;
    tx.commit(
        caller
            .journal("invoice_redirect.create")
            .contractor(Some(&owner))
            .subject(&r.id)
            .request(raw),
    )
    .await?;
    let names = names(state, caller, &[&r.management_contract_id], &[]).await?;
    Ok(redirect_view(r, dates, &names))
}

/// The target of a redirect consents to receive the invoices (R6.3).
pub async fn consent_redirect(
    state: &AppState,
    caller: &Caller,
    redirect_id: &str,
    input: Input<OnDate>,
) -> ApiResult<InvoiceRedirect> {
    let (owner, target) = redirect_parties(state, caller, redirect_id).await?;
    if !caller.actor.sees_contractor(&target) {
        return Err(
            ApiError::forbidden("only the party named consents to receive the invoices")
                .ja("請求書の受け取りへの同意は、指定された相手だけが行えます"),
        );
    }
    let (body, raw) = input.parse_or_empty()?;
    let mut dates = Dates::default();
    let on = dates.or_today("on", body.on.as_deref())?;
    let mut tx = state.store.write().await?;
    let r = parties::consent_redirect(&mut tx, redirect_id, on).await?;
    tx.commit(
        caller
            .journal("invoice_redirect.consent")
            .contractor(Some(&owner))
            .subject(redirect_id)
            .request(raw),
    )
    .await?;
    let names = names(state, caller, &[&r.management_contract_id], &[]).await?;
    Ok(redirect_view(r, dates, &names))
}

/// The operator approves a consented redirect (R6.3): from that day the management fees are
/// invoiced to the target (B1).
pub async fn approve_redirect(
    state: &AppState,
    caller: &Caller,
    redirect_id: &str,
    input: Input<OnDate>,
) -> ApiResult<InvoiceRedirect> {
    let (owner, _) = redirect_parties(state, caller, redirect_id).await?;
    caller.require_operator()?;
    let (body, raw) = input.parse_or_empty()?;
    let mut dates = Dates::default();
    let on = dates.or_today("on", body.on.as_deref())?;
    let mut tx = state.store.write().await?;
    let r = parties::approve_redirect(&mut tx, redirect_id, on).await?;
    tx.commit(
        caller
            .journal("invoice_redirect.approve")
            .contractor(Some(&owner))
            .subject(redirect_id)
            .request(raw)
            .outcome(json!({ "approved_on": on.to_string() })),
    )
    .await?;
    let names = names(state, caller, &[&r.management_contract_id], &[]).await?;
    Ok(redirect_view(r, dates, &names))
}

fn service_view(r: DesignatedServiceRecord) -> DesignatedService {
    DesignatedService {
        id: r.id,
        contractor_id: r.contractor_id,
        reference: r.reference,
        registered_on: r.registered_on,
        ended_on: r.ended_on,
    }
}

/// A designation with its management's number from `names` (never its site label, which is
/// the other contractor's own).
fn designation_view(d: eligibility::Designation, dates: Dates, names: &Names) -> Designation {
    Designation {
        id: d.id,
        rider_contractor_id: d.rider_contractor_id,
        management_contract_number: names.of(&d.management_contract_id).0,
        management_contract_id: d.management_contract_id,
        requested_on: d.requested_on.to_string(),
        consented_on: d.consented_on.map(|d| d.to_string()),
        withdrawn_on: d.withdrawn_on.map(|d| d.to_string()),
        defaulted_dates: dates.defaulted,
    }
}

/// A redirect with its management's number from `names`.
fn redirect_view(r: eligibility::InvoiceRedirect, dates: Dates, names: &Names) -> InvoiceRedirect {
    let text = |d: Option<jiff::civil::Date>| d.map(|d| d.to_string());
    InvoiceRedirect {
        id: r.id,
        management_contract_number: names.of(&r.management_contract_id).0,
        management_contract_id: r.management_contract_id,
        target_contractor_id: r.target_contractor_id,
        requested_on: r.requested_on.to_string(),
        consented_on: text(r.consented_on),
        approved_on: text(r.approved_on),
        ended_on: text(r.ended_on),
        defaulted_dates: dates.defaulted,
    }
}

/// The parties of a redirect: the management's contractor and the target.
async fn redirect_parties(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<(String, String)> {
    let mut conn = state.store.conn().await?;
    let r = parties::get_redirect(&mut conn, id).await?;
    let management = load_contract(&mut conn, &r.management_contract_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !caller.actor.sees_contractor(&management.contractor_id)
        && !caller.actor.sees_contractor(&r.target_contractor_id)
    {
        return Err(ApiError::not_found());
    }
    Ok((management.contractor_id, r.target_contractor_id))
}
