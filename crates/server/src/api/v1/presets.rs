//! `/contracts/{contract_id}/preset` and `/revisions`: a service adapter's preset parameters
//! (R2.2, R17.1), their numbered revisions, diffs and rollback.
//!
//! Secrets are masked unless the caller asks with `reveal=true`; anyone who may see the
//! contract (its contractor's users, operators) may ask.

use axum::Json;
use axum::extract::{Path, State};
use mpc_api_types::Problem;
use mpc_api_types::controller::{PresetView, RevisionDiff, RevisionList, RevisionView};
use mpc_domain::preset::PresetParams;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::app::presets;
pub(super) use crate::app::presets::preset_error;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, Params};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct Reveal {
    /// Show secrets (passwords, pre-shared key) in clear.
    #[serde(default)]
    pub(super) reveal: bool,
}

/// The preset parameters in force today: those of the current revision, or the item's defaults
/// while none was saved.
#[utoipa::path(get, path = "/contracts/{contract_id}/preset", tag = "controller",
    params(("contract_id" = String, Path, description = "The contract's number (C-000123) or its id"), Reveal), security(("bearer" = [])),
    responses((status = 200, body = PresetView), (status = 404, body = Problem)))]
pub(super) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
    Params(q): Params<Reveal>,
) -> ApiResult<Json<PresetView>> {
    Ok(Json(
        presets::get(&state, &caller, &contract_id, q.reveal).await?,
    ))
}

/// Saves new preset parameters as the next revision (R17.1). The body is the whole parameter
/// set of the contract's item, tagged by `preset`; every invalid field is named in `errors`.
#[utoipa::path(put, path = "/contracts/{contract_id}/preset", tag = "controller",
    params(("contract_id" = String, Path, description = "The contract's number (C-000123) or its id")), request_body = PresetParams, security(("bearer" = [])),
    responses((status = 200, body = PresetView), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub(super) async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<PresetView>> {
    Ok(Json(
        presets::put(&state, &caller, &contract_id, payload.into()).await?,
    ))
}

/// Every revision of the contract's preset, oldest first.
#[utoipa::path(get, path = "/contracts/{contract_id}/revisions", tag = "controller",
    params(("contract_id" = String, Path, description = "The contract's number (C-000123) or its id")), security(("bearer" = [])),
    responses((status = 200, body = RevisionList), (status = 404, body = Problem)))]
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
) -> ApiResult<Json<RevisionList>> {
    Ok(Json(
        presets::revisions(&state, &caller, &contract_id).await?,
    ))
}

/// One revision with its parameters and recipe text.
#[utoipa::path(get, path = "/contracts/{contract_id}/revisions/{revision}", tag = "controller",
    params(("contract_id" = String, Path, description = "The contract's number (C-000123) or its id"), ("revision" = i64, Path), Reveal),
    security(("bearer" = [])),
    responses((status = 200, body = RevisionView), (status = 404, body = Problem)))]
pub(super) async fn get_revision(
    State(state): State<AppState>,
    caller: Caller,
    Path((contract_id, revision)): Path<(String, String)>,
    Params(q): Params<Reveal>,
) -> ApiResult<Json<RevisionView>> {
    let revision = number(&revision)?;
    Ok(Json(
        presets::revision(&state, &caller, &contract_id, revision, q.reveal).await?,
    ))
}

/// A revision number from the path; anything else names no revision.
fn number(text: &str) -> ApiResult<i64> {
    text.parse().map_err(|_| ApiError::not_found())
}

/// What changed in the recipe from revision `from` to revision `to`, key by key.
#[utoipa::path(get, path = "/contracts/{contract_id}/revisions/{from}/diff/{to}", tag = "controller",
    params(("contract_id" = String, Path, description = "The contract's number (C-000123) or its id"), ("from" = i64, Path), ("to" = i64, Path), Reveal),
    security(("bearer" = [])),
    responses((status = 200, body = RevisionDiff), (status = 404, body = Problem)))]
pub(super) async fn diff_revisions(
    State(state): State<AppState>,
    caller: Caller,
    Path((contract_id, from, to)): Path<(String, String, String)>,
    Params(q): Params<Reveal>,
) -> ApiResult<Json<RevisionDiff>> {
    let between = (number(&from)?, number(&to)?);
    Ok(Json(
        presets::diff_revisions(&state, &caller, &contract_id, between, q.reveal).await?,
    ))
}

/// Makes a new revision equal to `revision` (a rollback); devices fetch it at their next poll.
#[utoipa::path(post, path = "/contracts/{contract_id}/revisions/{revision}/rollback", tag = "controller",
    params(("contract_id" = String, Path, description = "The contract's number (C-000123) or its id"), ("revision" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = PresetView), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub(super) async fn rollback(
    State(state): State<AppState>,
    caller: Caller,
    Path((contract_id, revision)): Path<(String, String)>,
) -> ApiResult<Json<PresetView>> {
    let revision = number(&revision)?;
    Ok(Json(
        presets::rollback(&state, &caller, &contract_id, revision).await?,
    ))
}
