//! Eligibility (R6.1), designated services (R6.1c), designations of another contractor's
//! management (R6.2) and invoice redirects (R6.3).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mpc_api_types::Problem;
use mpc_api_types::contracts::{EligibilityView, OnDate};
use mpc_api_types::parties::{
    CreateDesignatedService, CreateDesignation, CreateInvoiceRedirect, DesignatedService,
    DesignatedServiceList, Designation, DesignationList, InvoiceRedirect, InvoiceRedirectList,
};

use super::contracts::AsOf;
use crate::error::ApiResult;
use crate::extract::{Caller, JsonBody, Params};
use crate::{AppState, app};

/// What the contractor lacks of R6.1 on a day; eligible when nothing.
#[utoipa::path(get, path = "/contractors/{contractor_id}/eligibility", tag = "eligibility",
    params(("contractor_id" = String, Path), AsOf), security(("bearer" = [])),
    responses((status = 200, body = EligibilityView), (status = 404, body = Problem)))]
pub(super) async fn eligibility(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
    Params(q): Params<AsOf>,
) -> ApiResult<Json<EligibilityView>> {
    Ok(Json(
        app::parties::eligibility(&state, &caller, &contractor_id, q.as_of.as_deref()).await?,
    ))
}

/// The contractor's contracts for designated services (R6.1c).
#[utoipa::path(get, path = "/contractors/{contractor_id}/designated-services", tag = "eligibility",
    params(("contractor_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = DesignatedServiceList), (status = 404, body = Problem)))]
pub(super) async fn designated_services(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
) -> ApiResult<Json<DesignatedServiceList>> {
    Ok(Json(
        app::parties::designated_services(&state, &caller, &contractor_id).await?,
    ))
}

/// Records a contract for a designated service (R6.1c; operators).
#[utoipa::path(post, path = "/contractors/{contractor_id}/designated-services", tag = "eligibility",
    params(("contractor_id" = String, Path)), request_body = CreateDesignatedService,
    security(("bearer" = [])),
    responses((status = 201, body = DesignatedService), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn add_designated_service(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<DesignatedService>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            app::parties::add_designated_service(&state, &caller, &contractor_id, payload.into())
                .await?,
        ),
    ))
}

/// Designations the contractor made, and those naming its managements (R6.2).
#[utoipa::path(get, path = "/contractors/{contractor_id}/designations", tag = "eligibility",
    params(("contractor_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = DesignationList), (status = 404, body = Problem)))]
pub(super) async fn designations(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
) -> ApiResult<Json<DesignationList>> {
    Ok(Json(
        app::parties::designations(&state, &caller, &contractor_id).await?,
    ))
}

/// Names another contractor's management for this contractor's service adapters (R6.2); it
/// holds once that contractor consents.
#[utoipa::path(post, path = "/contractors/{contractor_id}/designations", tag = "eligibility",
    params(("contractor_id" = String, Path)), request_body = CreateDesignation,
    security(("bearer" = [])),
    responses((status = 201, body = Designation), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub(super) async fn designate(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<Designation>)> {
    Ok((
        StatusCode::CREATED,
        Json(app::parties::designate(&state, &caller, &contractor_id, payload.into()).await?),
    ))
}

/// The management's contractor consents to a designation (R6.2).
#[utoipa::path(post, path = "/designations/{designation_id}/consent", tag = "eligibility",
    params(("designation_id" = String, Path)), request_body = OnDate, security(("bearer" = [])),
    responses((status = 200, body = Designation), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn consent_designation(
    State(state): State<AppState>,
    caller: Caller,
    Path(designation_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<Designation>> {
    Ok(Json(
        app::parties::consent_designation(&state, &caller, &designation_id, payload.into()).await?,
    ))
}

/// Invoice redirects of a management contract (R6.3).
#[utoipa::path(get, path = "/contracts/{contract_id}/invoice-redirects", tag = "eligibility",
    params(("contract_id" = String, Path, description = "The contract's number (C-000123) or its id")), security(("bearer" = [])),
    responses((status = 200, body = InvoiceRedirectList), (status = 404, body = Problem)))]
pub(super) async fn redirects(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
) -> ApiResult<Json<InvoiceRedirectList>> {
    Ok(Json(
        app::parties::redirects(&state, &caller, &contract_id).await?,
    ))
}

/// Asks that this management's invoices go to another party (R6.3): it consents, then the
/// operator approves.
#[utoipa::path(post, path = "/contracts/{contract_id}/invoice-redirects", tag = "eligibility",
    params(("contract_id" = String, Path, description = "The contract's number (C-000123) or its id")), request_body = CreateInvoiceRedirect,
    security(("bearer" = [])),
    responses((status = 201, body = InvoiceRedirect), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub(super) async fn request_redirect(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<InvoiceRedirect>)> {
    Ok((
        StatusCode::CREATED,
        Json(app::parties::request_redirect(&state, &caller, &contract_id, payload.into()).await?),
    ))
}

/// The target of a redirect consents to receive the invoices (R6.3).
#[utoipa::path(post, path = "/invoice-redirects/{redirect_id}/consent", tag = "eligibility",
    params(("redirect_id" = String, Path)), request_body = OnDate, security(("bearer" = [])),
    responses((status = 200, body = InvoiceRedirect), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn consent_redirect(
    State(state): State<AppState>,
    caller: Caller,
    Path(redirect_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<InvoiceRedirect>> {
    Ok(Json(
        app::parties::consent_redirect(&state, &caller, &redirect_id, payload.into()).await?,
    ))
}

/// The operator approves a consented redirect (R6.3): from that day the management fees are
/// invoiced to the target (B1).
#[utoipa::path(post, path = "/invoice-redirects/{redirect_id}/approve", tag = "eligibility",
    params(("redirect_id" = String, Path)), request_body = OnDate, security(("bearer" = [])),
    responses((status = 200, body = InvoiceRedirect), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn approve_redirect(
    State(state): State<AppState>,
    caller: Caller,
    Path(redirect_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<InvoiceRedirect>> {
    Ok(Json(
        app::parties::approve_redirect(&state, &caller, &redirect_id, payload.into()).await?,
    ))
}
