//! `/contracts/{contract_id}/preset` and `/revisions`: a service adapter's preset parameters
//! (R2.2, R17.1), their numbered revisions, diffs and rollback.
//!
//! Secrets are masked unless the caller asks with `reveal=true`; anyone who may see the
//! contract (its contractor's users, operators) may ask.

use axum::Json;
use axum::extract::{Path, State};
use mpc_api_types::FieldProblem;
use mpc_api_types::Problem;
use mpc_api_types::controller::{
    PresetView, RevisionDiff, RevisionList, RevisionSummary, RevisionView,
};
use mpc_domain::book::Contract;
use mpc_domain::preset::{MobileSettings, PresetParams, Recipe, diff};
use mpc_storage::contracts::{Owned, load_contract};
use mpc_storage::controller::{self, PresetError, Revision};
use serde::Deserialize;
use utoipa::IntoParams;

use super::instant;
use super::support::{holder, today};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, Params};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Reveal {
    /// Show secrets (passwords, pre-shared key) in clear.
    #[serde(default)]
    pub reveal: bool,
}

/// The service-adapter contract `id` when the caller may see it.
async fn adapter(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Contract> {
    holder(state, caller, Owned::Contract, id).await?;
    let contract = load_contract(&mut *state.store.conn().await?, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if contract.device_type.is_none() {
        return Err(ApiError::not_found());
    }
    Ok(contract)
}

fn shown(params: &PresetParams, reveal: bool) -> PresetParams {
    if reveal {
        params.clone()
    } else {
        params.masked()
    }
}

fn summary(r: &Revision) -> ApiResult<RevisionSummary> {
    Ok(RevisionSummary {
        revision: r.revision,
        item: r.item,
        cause: r.cause.as_str().to_owned(),
        based_on: r.based_on,
        created_at: instant(r.created_at)?,
        created_by: r.created_by.clone(),
    })
}

/// The recipe of a revision as shown: rendered from masked parameters unless revealed.
fn recipe_shown(contract: &Contract, r: &Revision, reveal: bool) -> ApiResult<String> {
    if reveal {
        return Ok(r.recipe.clone());
    }
    let mobile = r.mobile.as_ref().map(MobileSettings::masked);
    controller::render(contract, &r.params.masked(), mobile.as_ref()).map_err(preset_error)
}

pub(super) fn preset_error(e: PresetError) -> ApiError {
    match e {
        PresetError::Refused(r) => r.into(),
        PresetError::Invalid(errors) => {
            let mut err = ApiError::unprocessable(
                "R17.1",
                format!(
                    "the preset parameters are invalid: {}",
                    errors
                        .iter()
                        .map(|e| e.message_en.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            )
            .ja("プリセットのパラメータに誤りがあります");
            err.errors = errors
                .into_iter()
                .map(|e| FieldProblem {
                    field: e.field.to_owned(),
                    message: e.message_en,
                    message_ja: Some(e.message_ja),
                })
                .collect();
            err
        }
        PresetError::Storage(e) => e.into(),
    }
}

fn view(contract: &Contract, current: Option<&Revision>, reveal: bool) -> ApiResult<PresetView> {
    let day = today();
    let params = controller::params_in_force(contract, current, day).ok_or_else(|| {
        ApiError::unprocessable("R2.2", "the contract has no item in force today")
    })?;
    Ok(PresetView {
        contract_id: contract.id.clone(),
        item: params.item(),
        device_type: contract.device_type.ok_or_else(ApiError::not_found)?,
        revision: current
            .filter(|r| Some(r.item) == contract.item(day))
            .map(|r| r.revision),
        params: shown(&params, reveal),
        revealed: reveal,
    })
}

/// The preset parameters in force today: those of the current revision, or the item's defaults
/// while none was saved.
#[utoipa::path(get, path = "/contracts/{contract_id}/preset", tag = "controller",
    params(("contract_id" = String, Path), Reveal), security(("bearer" = [])),
    responses((status = 200, body = PresetView), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
    Params(q): Params<Reveal>,
) -> ApiResult<Json<PresetView>> {
    let contract = adapter(&state, &caller, &contract_id).await?;
    let current = controller::latest(
        &mut *state.store.conn().await?,
        &state.secret_key,
        &contract_id,
    )
    .await?;
    Ok(Json(view(&contract, current.as_ref(), q.reveal)?))
}

/// Saves new preset parameters as the next revision (R17.1). The body is the whole parameter
/// set of the contract's item, tagged by `preset`; every invalid field is named in `errors`.
#[utoipa::path(put, path = "/contracts/{contract_id}/preset", tag = "controller",
    params(("contract_id" = String, Path)), request_body = PresetParams, security(("bearer" = [])),
    responses((status = 200, body = PresetView), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<PresetView>> {
    let contract = adapter(&state, &caller, &contract_id).await?;
    let (params, raw) = payload.parse::<PresetParams>()?;
    let revision = controller::save_params(
        &state.store,
        &state.secret_key,
        &contract,
        &params,
        today(),
        caller.journal("preset.update").request(raw),
    )
    .await
    .map_err(preset_error)?;
    state.devices.invalidate_contractor(&contract.contractor_id);
    Ok(Json(view(&contract, Some(&revision), false)?))
}

/// Every revision of the contract's preset, oldest first.
#[utoipa::path(get, path = "/contracts/{contract_id}/revisions", tag = "controller",
    params(("contract_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = RevisionList), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
) -> ApiResult<Json<RevisionList>> {
    adapter(&state, &caller, &contract_id).await?;
    let all = controller::revisions(
        &mut *state.store.conn().await?,
        &state.secret_key,
        &contract_id,
    )
    .await?;
    Ok(Json(RevisionList {
        contract_id,
        revisions: all.iter().map(summary).collect::<ApiResult<_>>()?,
    }))
}

async fn one(state: &AppState, contract_id: &str, revision: i64) -> ApiResult<Revision> {
    controller::revision(
        &mut *state.store.conn().await?,
        &state.secret_key,
        contract_id,
        revision,
    )
    .await?
    .ok_or_else(ApiError::not_found)
}

/// One revision with its parameters and recipe text.
#[utoipa::path(get, path = "/contracts/{contract_id}/revisions/{revision}", tag = "controller",
    params(("contract_id" = String, Path), ("revision" = i64, Path), Reveal),
    security(("bearer" = [])),
    responses((status = 200, body = RevisionView), (status = 404, body = Problem)))]
pub async fn get_revision(
    State(state): State<AppState>,
    caller: Caller,
    Path((contract_id, revision)): Path<(String, String)>,
    Params(q): Params<Reveal>,
) -> ApiResult<Json<RevisionView>> {
    let contract = adapter(&state, &caller, &contract_id).await?;
    let r = one(&state, &contract_id, number(&revision)?).await?;
    Ok(Json(RevisionView {
        summary: summary(&r)?,
        params: shown(&r.params, q.reveal),
        recipe: recipe_shown(&contract, &r, q.reveal)?,
        revealed: q.reveal,
    }))
}

/// A revision number from the path; anything else names no revision.
fn number(text: &str) -> ApiResult<i64> {
    text.parse().map_err(|_| ApiError::not_found())
}

/// What changed in the recipe from revision `from` to revision `to`, key by key.
#[utoipa::path(get, path = "/contracts/{contract_id}/revisions/{from}/diff/{to}", tag = "controller",
    params(("contract_id" = String, Path), ("from" = i64, Path), ("to" = i64, Path), Reveal),
    security(("bearer" = [])),
    responses((status = 200, body = RevisionDiff), (status = 404, body = Problem)))]
pub async fn diff_revisions(
    State(state): State<AppState>,
    caller: Caller,
    Path((contract_id, from, to)): Path<(String, String, String)>,
    Params(q): Params<Reveal>,
) -> ApiResult<Json<RevisionDiff>> {
    let contract = adapter(&state, &caller, &contract_id).await?;
    let (from, to) = (number(&from)?, number(&to)?);
    let recipe = |r: &Revision| -> ApiResult<Recipe> {
        Recipe::from_text(&recipe_shown(&contract, r, q.reveal)?).map_err(|e| {
            tracing::error!(error = %e, "a stored recipe does not parse");
            ApiError::internal()
        })
    };
    let a = recipe(&one(&state, &contract_id, from).await?)?;
    let b = recipe(&one(&state, &contract_id, to).await?)?;
    Ok(Json(RevisionDiff {
        from,
        to,
        changes: diff(&a, &b),
        revealed: q.reveal,
    }))
}

/// Makes a new revision equal to `revision` (a rollback); devices fetch it at their next poll.
#[utoipa::path(post, path = "/contracts/{contract_id}/revisions/{revision}/rollback", tag = "controller",
    params(("contract_id" = String, Path), ("revision" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = PresetView), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub async fn rollback(
    State(state): State<AppState>,
    caller: Caller,
    Path((contract_id, revision)): Path<(String, String)>,
) -> ApiResult<Json<PresetView>> {
    let contract = adapter(&state, &caller, &contract_id).await?;
    let of = number(&revision)?;
    let new = controller::rollback(
        &state.store,
        &state.secret_key,
        &contract,
        of,
        today(),
        caller
            .journal("preset.rollback")
            .request(serde_json::json!({ "revision": of })),
    )
    .await
    .map_err(preset_error)?;
    state.devices.invalidate_contractor(&contract.contractor_id);
    Ok(Json(view(&contract, Some(&new), false)?))
}
