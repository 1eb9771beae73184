//! `/outages` and `/sla-claims`: outages and the SLA credits claimed for them (R16).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mpc_api_types::Problem;
use mpc_api_types::billing::{
    ClaimList, ClaimView, DecideClaim, OutageList, OutageView, RecordOutage, SubmitClaim,
};

use crate::AppState;
use crate::app::sla::{self, Decision};
use crate::error::ApiResult;
use crate::extract::{Caller, JsonBody};

/// Records an outage (operators, R16.1).
#[utoipa::path(post, path = "/outages", tag = "billing", request_body = RecordOutage, security(("bearer" = [])),
    responses((status = 201, body = OutageView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(in crate::api::v1) async fn record_outage(
    State(state): State<AppState>,
    caller: Caller,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<OutageView>)> {
    let outage = sla::record_outage(&state, &caller, payload.into()).await?;
    Ok((StatusCode::CREATED, Json(outage)))
}
/// Outages, newest first; a contractor sees those that affected its contracts.
#[utoipa::path(get, path = "/outages", tag = "billing", security(("bearer" = [])),
    responses((status = 200, body = OutageList), (status = 401, body = Problem)))]
pub(in crate::api::v1) async fn outages(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<OutageList>> {
    let outages = sla::outages(&state, &caller).await?;
    Ok(Json(OutageList { outages }))
}
/// One outage with its claim deadline (R16.3).
#[utoipa::path(get, path = "/outages/{outage_id}", tag = "billing", params(("outage_id" = String, Path, description = "The outage's id or number (`OUT-000123`)")),
    security(("bearer" = [])), responses((status = 200, body = OutageView), (status = 404, body = Problem)))]
pub(in crate::api::v1) async fn outage(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<OutageView>> {
    Ok(Json(sla::outage(&state, &caller, &id).await?))
}
/// Claims the SLA credit of an outage for a service adapter (R16.2), by the deadline (R16.3).
#[utoipa::path(post, path = "/contracts/{contract_id}/sla-claims", tag = "billing", params(("contract_id" = String, Path, description = "The contract's number (C-000123) or its id")),
    request_body = SubmitClaim, security(("bearer" = [])),
    responses((status = 201, body = ClaimView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(in crate::api::v1) async fn claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<ClaimView>)> {
    let c = sla::claim(&state, &caller, &contract_id, payload.into()).await?;
    Ok((
        StatusCode::CREATED,
        Json(sla::claim_view_named(&state, &caller, c).await?),
    ))
}
/// A contractor's SLA claims.
#[utoipa::path(get, path = "/contractors/{contractor_id}/sla-claims", tag = "billing", params(("contractor_id" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = ClaimList), (status = 404, body = Problem)))]
pub(in crate::api::v1) async fn claims(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
) -> ApiResult<Json<ClaimList>> {
    let rows = sla::claims(&state, &caller, &contractor_id).await?;
    Ok(Json(ClaimList {
        claims: sla::claim_views(&state, &caller, rows).await?,
    }))
}
/// Approves a claim (operators): the credit is on the invoice of the month of approval.
#[utoipa::path(post, path = "/sla-claims/{claim_id}/approve", tag = "billing", params(("claim_id" = String, Path, description = "The claim's id or number (`CLM-000123`)")),
    request_body = DecideClaim, security(("bearer" = [])),
    responses((status = 200, body = ClaimView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(in crate::api::v1) async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<ClaimView>> {
    let c = sla::decide(&state, &caller, &id, Decision::Approve, payload.into()).await?;
    Ok(Json(sla::claim_view_named(&state, &caller, c).await?))
}
/// Refuses a claim (operators), with the reason for the journal.
#[utoipa::path(post, path = "/sla-claims/{claim_id}/refuse", tag = "billing", params(("claim_id" = String, Path, description = "The claim's id or number (`CLM-000123`)")),
    request_body = DecideClaim, security(("bearer" = [])),
    responses((status = 200, body = ClaimView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(in crate::api::v1) async fn refuse(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<ClaimView>> {
    let c = sla::decide(&state, &caller, &id, Decision::Refuse, payload.into()).await?;
    Ok(Json(sla::claim_view_named(&state, &caller, c).await?))
}
