//! `/contracts`: contracts and options as of any day, the termination quote, billing start and
//! charge events.

use axum::Json;
use axum::extract::{Path, State};
use mpc_api_types::Problem;
use mpc_api_types::contracts::{
    ChargeList, ChargeView, ContractList, ContractPatch, ContractView, OnDate, QuoteView,
    RecordResult,
};
use mpc_storage::contracts::charges_of;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::contracts::{OfferedQuery, QuoteQuery};
use crate::error::ApiResult;
use crate::extract::{Caller, JsonBody, Params};
use crate::{AppState, app};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct AsOf {
    /// The day to show (`YYYY-MM-DD`); today in Japan when omitted.
    pub(super) as_of: Option<String>,
}

/// A contractor's contracts with their options, as of a day.
#[utoipa::path(get, path = "/contractors/{contractor_id}/contracts", tag = "contracts",
    params(("contractor_id" = String, Path), AsOf), security(("bearer" = [])),
    responses((status = 200, body = ContractList), (status = 404, body = Problem)))]
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
    Params(q): Params<AsOf>,
) -> ApiResult<Json<ContractList>> {
    let contracts =
        app::contracts::list(&state, &caller, &contractor_id, q.as_of.as_deref()).await?;
    Ok(Json(ContractList { contracts }))
}

/// The contracts a request of a kind can be about on a day: those request forms offer (only
/// contracts in service for a change, only SA-W2L adapters for mobile access (R6.5), only
/// contracts not already ending for a cancellation (R13.1)).
#[utoipa::path(get, path = "/contractors/{contractor_id}/offered-contracts", tag = "contracts",
    params(("contractor_id" = String, Path), OfferedQuery), security(("bearer" = [])),
    responses((status = 200, body = ContractList), (status = 400, body = Problem),
              (status = 404, body = Problem)))]
pub(super) async fn offered(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
    Params(q): Params<OfferedQuery>,
) -> ApiResult<Json<ContractList>> {
    let contracts = app::contracts::offered(&state, &caller, &contractor_id, &q).await?;
    Ok(Json(ContractList { contracts }))
}

/// One contract with its options, device and provisioning state, as of a day.
#[utoipa::path(get, path = "/contracts/{contract_id}", tag = "contracts",
    params(("contract_id" = String, Path, description = "The contract's number (C-000123) or its id"), AsOf), security(("bearer" = [])),
    responses((status = 200, body = ContractView), (status = 404, body = Problem)))]
pub(super) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
    Params(q): Params<AsOf>,
) -> ApiResult<Json<ContractView>> {
    Ok(Json(
        app::contracts::get(&state, &caller, &contract_id, q.as_of.as_deref()).await?,
    ))
}

/// Sets the contract's site label (its holder or an operator): at most 60 characters, trimmed,
/// no control characters; empty removes it.
#[utoipa::path(patch, path = "/contracts/{contract_id}", tag = "contracts",
    params(("contract_id" = String, Path, description = "The contract's number (C-000123) or its id")),
    request_body = ContractPatch, security(("bearer" = [])),
    responses((status = 200, body = ContractView), (status = 400, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn set_label(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<ContractView>> {
    Ok(Json(
        app::contracts::set_label(&state, &caller, &contract_id, payload.into()).await?,
    ))
}

/// What cancelling would do — end date (R13.1), everything ending with it (R13.2, R13.3, R9.7),
/// devices to return (R10.3), the early-termination days (R15) and the contractors left
/// ineligible (R6.8). Changes nothing.
#[utoipa::path(get, path = "/contracts/{contract_id}/termination-quote", tag = "contracts",
    params(("contract_id" = String, Path, description = "The contract's number (C-000123) or its id"), QuoteQuery), security(("bearer" = [])),
    responses((status = 200, body = QuoteView), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub(super) async fn quote(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
    Params(q): Params<QuoteQuery>,
) -> ApiResult<Json<QuoteView>> {
    Ok(Json(
        app::contracts::quote(&state, &caller, &contract_id, &q).await?,
    ))
}

/// Records the billing start date: the day the service was made available (R5.2; operators).
#[utoipa::path(post, path = "/contracts/{contract_id}/billing-start", tag = "contracts",
    params(("contract_id" = String, Path, description = "The contract's number (C-000123) or its id")), request_body = OnDate, security(("bearer" = [])),
    responses((status = 200, body = RecordResult), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn billing_start(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<RecordResult>> {
    Ok(Json(
        app::contracts::billing_start(&state, &caller, &contract_id, payload.into()).await?,
    ))
}

/// One-time fees the contract's changes caused (R8.1, R9.5, R11.2, R12.2), for billing.
#[utoipa::path(get, path = "/contracts/{contract_id}/charges", tag = "contracts",
    params(("contract_id" = String, Path, description = "The contract's number (C-000123) or its id")), security(("bearer" = [])),
    responses((status = 200, body = ChargeList), (status = 404, body = Problem)))]
pub(super) async fn charges(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
) -> ApiResult<Json<ChargeList>> {
    let contract = app::contracts::resolve(&state, &caller, &contract_id).await?;
    let charges = charges_of(&mut *state.store.conn().await?, &contract.id).await?;
    let (contract_number, contract_label) =
        app::contracts::names(&state, &caller, &[contract.id.as_str()], &[])
            .await?
            .of(&contract.id);
    Ok(Json(ChargeList {
        charges: charges
            .into_iter()
            .map(|c| ChargeView {
                rule: c.kind.rule().to_owned(),
                id: c.id,
                contract_id: c.contract_id,
                contract_number: contract_number.clone(),
                contract_label: contract_label.clone(),
                kind: c.kind,
                occurred_on: c.occurred_on.to_string(),
                device_type: c.device_type,
                note: c.note,
            })
            .collect(),
    }))
}
