//! `/options/{option_id}/mobile-line`: the mobile line of an SA-W2L's built-in module (`ta1`),
//! one per mobile access option (R6.5, R9.3). The contractor gives the APN, PPP id and
//! password; the network type is the option's own in force (R9.5).
//!
//! Setting the line renders the contract's preset parameters in force with it as a new
//! revision, which the device fetches. The password is masked unless the caller asks with
//! `reveal=true`; anyone who may see the option (its contractor's users, operators) may ask.

use axum::Json;
use axum::extract::{Path, State};
use mpc_api_types::Problem;
use mpc_api_types::controller::{MobileLineBody, MobileLineView};
use mpc_domain::book::{Contract, ContractOption};
use mpc_domain::preset::MobileSettings;
use mpc_storage::contracts::{Owned, load_book};
use mpc_storage::controller;

use super::presets::{Reveal, preset_error};
use super::support::{holder, today};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, Params};

/// The option `id` and its contract when the caller may see them; 404 otherwise.
async fn option_of(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<(Contract, ContractOption)> {
    let holder = holder(state, caller, Owned::Option, id).await?;
    let book = load_book(&mut *state.store.conn().await?, &holder).await?;
    let option = book.option(id).cloned().ok_or_else(ApiError::not_found)?;
    let contract = book
        .contract(&option.contract_id)
        .cloned()
        .ok_or_else(ApiError::not_found)?;
    Ok((contract, option))
}

/// The option's mobile line with its network type in force today; `line` is null until set.
#[utoipa::path(get, path = "/options/{option_id}/mobile-line", tag = "controller",
    params(("option_id" = String, Path), Reveal), security(("bearer" = [])),
    responses((status = 200, body = MobileLineView), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub(super) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(option_id): Path<String>,
    Params(q): Params<Reveal>,
) -> ApiResult<Json<MobileLineView>> {
    let (contract, option) = option_of(&state, &caller, &option_id).await?;
    let day = today();
    let line =
        |apn, id, password| MobileSettings::for_option(&contract, &option, day, apn, id, password);
    let stored = controller::mobile_line(
        &mut *state.store.conn().await?,
        &state.secret_key,
        &option_id,
    )
    .await?;
    let settings = match stored {
        Some(l) => Some(line(l.apn, l.id, l.password)?),
        None => {
            line(String::new(), String::new(), String::new())?;
            None
        }
    };
    Ok(Json(MobileLineView {
        option_id,
        contract_number: contract.number.map(|n| n.to_string()),
        contract_id: contract.id,
        line: settings.map(|s| if q.reveal { s } else { s.masked() }),
        revision: None,
        revealed: q.reveal,
    }))
}

/// Sets the option's mobile line (R6.5, R9.3) and renders the contract's preset parameters in
/// force with it as the next revision (cause `mobile_line`); every invalid field is named in
/// `errors` as `mobile.apn`, `mobile.id`, `mobile.password` (R17.1).
#[utoipa::path(put, path = "/options/{option_id}/mobile-line", tag = "controller",
    params(("option_id" = String, Path)), request_body = MobileLineBody,
    security(("bearer" = [])),
    responses((status = 200, body = MobileLineView), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub(super) async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(option_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<MobileLineView>> {
    let (contract, option) = option_of(&state, &caller, &option_id).await?;
    let (body, raw) = payload.parse::<MobileLineBody>()?;
    let day = today();
    let settings =
        MobileSettings::for_option(&contract, &option, day, body.apn, body.id, body.password)?;
    let revision = controller::save_mobile_line(
        &state.store,
        &state.secret_key,
        &contract,
        &option_id,
        &settings,
        day,
        caller.journal("mobile_line.update").request(raw),
    )
    .await
    .map_err(preset_error)?;
    state.devices.invalidate_contractor(&contract.contractor_id);
    Ok(Json(MobileLineView {
        option_id,
        contract_number: contract.number.map(|n| n.to_string()),
        contract_id: contract.id,
        line: Some(settings.masked()),
        revision: revision.map(|r| r.revision),
        revealed: false,
    }))
}
