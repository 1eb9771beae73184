//! `/contractors`: the customer accounts that hold contracts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mpc_api_types::Problem;
use mpc_api_types::accounts::{Contractor, ContractorList, CreateContractor, UpdateContractor};
use mpc_domain::account;
use mpc_storage::accounts;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::{PageParams, instant};
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Caller, JsonBody, Params};

const NAME_MAX: usize = 200;

pub(crate) fn body(c: accounts::Contractor) -> ApiResult<Contractor> {
    Ok(Contractor {
        created_at: instant(c.created_at)?,
        id: c.id,
        name: c.name,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only contractors whose name contains this text.
    pub name: Option<String>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

/// Lists contractors; a contractor user sees only its own.
#[utoipa::path(get, path = "/contractors", tag = "contractors", params(ListParams),
    security(("bearer" = [])),
    responses((status = 200, body = ContractorList), (status = 401, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListParams>,
) -> ApiResult<Json<ContractorList>> {
    let page = PageParams {
        after: q.after,
        limit: q.limit,
    };
    let rows = accounts::list_contractors(
        &state.store,
        caller.actor.contractor_scope(),
        q.name.as_deref(),
        &page.probe(),
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |c| &c.id);
    Ok(Json(ContractorList {
        contractors: rows.into_iter().map(body).collect::<ApiResult<_>>()?,
        next_cursor,
    }))
}

/// Registers a contractor (operators only).
#[utoipa::path(post, path = "/contractors", tag = "contractors", request_body = CreateContractor,
    security(("bearer" = [])),
    responses((status = 201, body = Contractor), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<Contractor>)> {
    caller.require_operator()?;
    let (req, raw) = payload.parse::<CreateContractor>()?;
    let name = account::text("name", &req.name, NAME_MAX)?;
    let mut tx = state.store.write().await?;
    let c = accounts::create_contractor(&mut tx, &name).await?;
    tx.commit(
        caller
            .journal("contractor.create")
            .contractor(Some(&c.id))
            .subject(&c.id)
            .request(raw)
            .outcome(json!({ "id": c.id })),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(body(c)?)))
}

/// Reads one contractor.
#[utoipa::path(get, path = "/contractors/{contractor_id}", tag = "contractors",
    params(("contractor_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Contractor), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
) -> ApiResult<Json<Contractor>> {
    caller.require_contractor(&contractor_id)?;
    Ok(Json(body(
        accounts::get_contractor(&state.store, &contractor_id).await?,
    )?))
}

/// Changes a contractor's name (operators only).
#[utoipa::path(patch, path = "/contractors/{contractor_id}", tag = "contractors",
    params(("contractor_id" = String, Path)), request_body = UpdateContractor,
    security(("bearer" = [])),
    responses((status = 200, body = Contractor), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<Contractor>> {
    caller.require_contractor(&contractor_id)?;
    accounts::get_contractor(&state.store, &contractor_id).await?;
    caller.require_operator()?;
    let (req, raw) = payload.parse::<UpdateContractor>()?;
    let current = accounts::get_contractor(&state.store, &contractor_id).await?;
    // Nothing to change (no name, `null`, or the same name) is not a change: no journal row.
    let name = req
        .name
        .as_deref()
        .map(|n| account::text("name", n, NAME_MAX))
        .transpose()?
        .filter(|n| *n != current.name);
    let Some(name) = name else {
        return Ok(Json(body(current)?));
    };
    let mut tx = state.store.write().await?;
    accounts::rename_contractor(&mut tx, &contractor_id, &name).await?;
    tx.commit(
        caller
            .journal("contractor.update")
            .contractor(Some(&contractor_id))
            .subject(&contractor_id)
            .request(raw),
    )
    .await?;
    Ok(Json(body(
        accounts::get_contractor(&state.store, &contractor_id).await?,
    )?))
}
