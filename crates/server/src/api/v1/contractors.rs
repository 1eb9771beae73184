//! `/contractors`: the customer accounts that hold contracts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mpc_api_types::Problem;
use mpc_api_types::accounts::{Contractor, ContractorList, CreateContractor, UpdateContractor};
use serde::Deserialize;
use utoipa::IntoParams;

use super::PageParams;
use crate::AppState;
use crate::app::contractors;
use crate::error::ApiResult;
use crate::extract::{Caller, JsonBody, Params};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct ListParams {
    /// Only contractors whose name contains this text.
    pub(super) name: Option<String>,
    pub(super) after: Option<String>,
    pub(super) limit: Option<u32>,
}

/// Lists contractors; a contractor user sees only its own.
#[utoipa::path(get, path = "/contractors", tag = "contractors", params(ListParams),
    security(("bearer" = [])),
    responses((status = 200, body = ContractorList), (status = 401, body = Problem)))]
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListParams>,
) -> ApiResult<Json<ContractorList>> {
    let page = PageParams {
        after: q.after,
        limit: q.limit,
    };
    Ok(Json(
        contractors::list(&state, &caller, q.name.as_deref(), &page).await?,
    ))
}

/// Registers a contractor (operators only).
#[utoipa::path(post, path = "/contractors", tag = "contractors", request_body = CreateContractor,
    security(("bearer" = [])),
    responses((status = 201, body = Contractor), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<Contractor>)> {
    let c = contractors::create(&state, &caller, payload.into()).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// Reads one contractor.
#[utoipa::path(get, path = "/contractors/{contractor_id}", tag = "contractors",
    params(("contractor_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Contractor), (status = 404, body = Problem)))]
pub(super) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
) -> ApiResult<Json<Contractor>> {
    Ok(Json(
        contractors::get(&state, &caller, &contractor_id).await?,
    ))
}

/// Changes a contractor's name (operators only) and record: postal code, address, contact
/// person, phone, billing e-mail (operators, and the contractor's own users). A field absent
/// stays as it is; an empty record field is cleared.
#[utoipa::path(patch, path = "/contractors/{contractor_id}", tag = "contractors",
    params(("contractor_id" = String, Path)), request_body = UpdateContractor,
    security(("bearer" = [])),
    responses((status = 200, body = Contractor), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<Contractor>> {
    Ok(Json(
        contractors::update(&state, &caller, &contractor_id, payload.into()).await?,
    ))
}
