//! A service adapter's preset parameters (R2.2, R17.1), their numbered revisions, diffs and
//! rollback; and, for operators, which devices cannot get their configuration until someone
//! sets the parameters their preset lacks.
//!
//! Secrets are masked unless the caller asks to reveal them; anyone who may see the contract
//! (its contractor's users, operators) may ask.

use mpc_domain::book::Book;
use mpc_domain::catalog::{ContractKind, DeviceType, Item};
use mpc_domain::custody::provisionable;
use mpc_domain::preset::PresetParams;
use mpc_storage::accounts::{self, Page};
use mpc_storage::contracts::{Scope, load_books};
use mpc_storage::controller;

use mpc_api_types::FieldProblem;
use mpc_api_types::controller::{
    PresetView, RevisionDiff, RevisionList, RevisionSummary, RevisionView,
};
use mpc_domain::book::Contract;
use mpc_domain::preset::{MobileSettings, Recipe, diff};
use mpc_storage::contracts::load_contract;
use mpc_storage::controller::{PresetError, Revision};

use super::Input;
use crate::AppState;
use crate::app::support::instant;
use crate::app::support::today;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

/// A device that may fetch today but whose preset does not render: it waits for the
/// parameters named (R17.1), typically after an item change whose carried parameters do not
/// complete the new preset (R8.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwaitingParameters {
    pub contractor_id: String,
    pub contract_id: String,
    pub serial: String,
    pub device_type: DeviceType,
    /// The item whose preset the device would run today.
    pub item: Item,
    /// The parameters that are unset or invalid, as the preset names them
    /// (`l2tp.pre_shared_key` …), each once.
    pub missing: Vec<&'static str>,
}

/// Contractors whose books are loaded at once.
const CONTRACTORS_PER_BATCH: i64 = 500;

/// Every device that waits for preset parameters today (R17.1), by contractor and contract id
/// (operators).
///
/// A stored revision was valid when it was stored, so only a device whose revision is of an
/// earlier item, or whose item's defaults do not render without one, can wait; the others
/// cost no query. Read-only: unlike a fetch, looking does not store the converted revision.
///
/// # Errors
/// 403 for anyone but operators; the database's.
pub async fn awaiting_parameters(
    state: &AppState,
    caller: &Caller,
) -> ApiResult<Vec<AwaitingParameters>> {
    caller.require_operator()?;
    let today = crate::app::support::today();
    let mut out = Vec::new();
    let mut page = Page {
        after: None,
        limit: CONTRACTORS_PER_BATCH,
    };
    loop {
        let batch = accounts::list_contractors(&state.store, None, None, &page).await?;
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
            return Ok(out);
        };
        let mut conn = state.store.conn().await?;
        let books = load_books(&mut conn, Scope::Range(&first.id, &last.id), true).await?;
        for (_, book) in &books {
            for waiting in candidates(book, today) {
                let (contract, device, item, serial) = waiting;
                let latest = if needs_revision(contract, device, item) {
                    controller::latest(&mut conn, &state.secret_key, &contract.id).await?
                } else {
                    None
                };
                if latest.as_ref().is_some_and(|r| r.item == item) {
                    continue;
                }
                let Some(params) = controller::params_in_force(contract, latest.as_ref(), today)
                else {
                    continue;
                };
                if let Err(errors) = params.validate(device) {
                    let mut missing: Vec<&'static str> = errors.iter().map(|e| e.field).collect();
                    missing.dedup();
                    out.push(AwaitingParameters {
                        contractor_id: contract.contractor_id.clone(),
                        contract_id: contract.id.clone(),
                        serial: serial.to_owned(),
                        device_type: device,
                        item,
                        missing,
                    });
                }
            }
        }
        if batch.len() < CONTRACTORS_PER_BATCH as usize {
            return Ok(out);
        }
        page.after = Some(last.id.clone());
    }
}

/// The service adapters of `book` whose device may fetch today (R7.1, R3.1 …), with the
/// device's model, today's item and the serial.
fn candidates(
    book: &Book,
    today: jiff::civil::Date,
) -> impl Iterator<Item = (&mpc_domain::book::Contract, DeviceType, Item, &str)> {
    book.contracts
        .iter()
        .filter(move |c| c.kind == ContractKind::ServiceAdapter && c.is_active(today))
        .filter_map(move |c| {
            let device = book.device_of(&c.id, today)?;
            provisionable(book, &device.serial, today).ok()?;
            Some((c, c.device_type?, c.item(today)?, device.serial.as_str()))
        })
}

/// Whether the stored revision matters: with one item all along and defaults that render,
/// any revision is of today's item and was valid when stored.
fn needs_revision(contract: &mpc_domain::book::Contract, device: DeviceType, item: Item) -> bool {
    contract.items.entries().len() > 1 || PresetParams::default_for(item).validate(device).is_err()
}

async fn adapter(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Contract> {
    let id = crate::app::contracts::resolve(state, caller, id).await?.id;
    let contract = load_contract(&mut *state.store.conn().await?, &id)
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
        created_by_name: None,
    })
}

/// Fills who saved each revision by username (one lookup for them all).
async fn with_names(state: &AppState, summaries: &mut [RevisionSummary]) -> ApiResult<()> {
    let actors: Vec<&str> = summaries.iter().map(|s| s.created_by.as_str()).collect();
    let names = super::users::actor_names(state, &actors).await?;
    for s in summaries {
        s.created_by_name = names.get(&s.created_by).cloned();
    }
    Ok(())
}

/// The recipe of a revision as shown: rendered from masked parameters unless revealed.
fn recipe_shown(contract: &Contract, r: &Revision, reveal: bool) -> ApiResult<String> {
    if reveal {
        return Ok(r.recipe.clone());
    }
    let mobile = r.mobile.as_ref().map(MobileSettings::masked);
    controller::render(contract, &r.params.masked(), mobile.as_ref()).map_err(preset_error)
}

/// A refused or invalid preset as a problem: the rule, and every invalid field (R17.1).
pub(crate) fn preset_error(e: PresetError) -> ApiError {
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
                .map(|e| FieldProblem::new(e.field.to_owned(), e.message_en, e.message_ja))
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
            .ja("この契約には本日有効な品目がありません")
    })?;
    Ok(PresetView {
        contract_id: contract.id.clone(),
        contract_number: contract.number.map(|n| n.to_string()),
        item: params.item(),
        device_type: contract.device_type.ok_or_else(ApiError::not_found)?,
        revision: current
            .filter(|r| Some(r.item) == contract.item(day))
            .map(|r| r.revision),
        params: shown(&params, reveal),
        revealed: reveal,
    })
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

/// The preset parameters in force today: those of the current revision, or the item's
/// defaults while none was saved; secrets masked unless `reveal`.
///
/// # Errors
/// 404 for a contract that is not a service adapter the caller may see; 422 `R2.2` when the
/// contract has no item in force today.
pub async fn get(
    state: &AppState,
    caller: &Caller,
    contract_id: &str,
    reveal: bool,
) -> ApiResult<PresetView> {
    let contract = adapter(state, caller, contract_id).await?;
    let contract_id = contract.id.as_str();
    let current = controller::latest(
        &mut *state.store.conn().await?,
        &state.secret_key,
        contract_id,
    )
    .await?;
    view(&contract, current.as_ref(), reveal)
}

/// Saves new preset parameters as the next revision (R17.1), journaled as `preset.update`:
/// the whole parameter set of the contract's item. Devices of the contractor fetch it at their
/// next poll.
///
/// # Errors
/// As [`get`]; 422 `R17.1` naming every invalid field.
pub async fn put(
    state: &AppState,
    caller: &Caller,
    contract_id: &str,
    params: Input<PresetParams>,
) -> ApiResult<PresetView> {
    let contract = adapter(state, caller, contract_id).await?;
    let (params, raw) = params.parse()?;
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
    view(&contract, Some(&revision), false)
}

/// Every revision of the contract's preset, oldest first.
///
/// # Errors
/// As [`get`].
pub async fn revisions(
    state: &AppState,
    caller: &Caller,
    contract_id: &str,
) -> ApiResult<RevisionList> {
    let contract = adapter(state, caller, contract_id).await?;
    let contract_id = contract.id.as_str();
    let all = controller::revisions(
        &mut *state.store.conn().await?,
        &state.secret_key,
        contract_id,
    )
    .await?;
    let mut revisions = all.iter().map(summary).collect::<ApiResult<Vec<_>>>()?;
    with_names(state, &mut revisions).await?;
    Ok(RevisionList {
        contract_id: contract_id.to_owned(),
        contract_number: contract.number.map(|n| n.to_string()),
        revisions,
    })
}

/// One revision with its parameters and recipe text; secrets masked unless `reveal`.
///
/// # Errors
/// As [`get`]; 404 for a revision that does not exist.
pub async fn revision(
    state: &AppState,
    caller: &Caller,
    contract_id: &str,
    revision: i64,
    reveal: bool,
) -> ApiResult<RevisionView> {
    let contract = adapter(state, caller, contract_id).await?;
    let contract_id = contract.id.as_str();
    let r = one(state, contract_id, revision).await?;
    let mut summaries = [summary(&r)?];
    with_names(state, &mut summaries).await?;
    let [summary] = summaries;
    Ok(RevisionView {
        summary,
        params: shown(&r.params, reveal),
        recipe: recipe_shown(&contract, &r, reveal)?,
        revealed: reveal,
    })
}

/// What changed in the recipe from revision `from` to revision `to`, key by key.
///
/// # Errors
/// As [`revision`], for either.
pub async fn diff_revisions(
    state: &AppState,
    caller: &Caller,
    contract_id: &str,
    (from, to): (i64, i64),
    reveal: bool,
) -> ApiResult<RevisionDiff> {
    let contract = adapter(state, caller, contract_id).await?;
    let contract_id = contract.id.as_str();
    let recipe = |r: &Revision| -> ApiResult<Recipe> {
        Recipe::from_text(&recipe_shown(&contract, r, reveal)?).map_err(|e| {
            tracing::error!(error = %e, "a stored recipe does not parse");
            ApiError::internal()
        })
    };
    let a = recipe(&one(state, contract_id, from).await?)?;
    let b = recipe(&one(state, contract_id, to).await?)?;
    Ok(RevisionDiff {
        from,
        to,
        changes: diff(&a, &b),
        revealed: reveal,
    })
}

/// Makes a new revision equal to `revision` (a rollback), journaled as `preset.rollback`;
/// devices fetch it at their next poll.
///
/// # Errors
/// As [`revision`]; 422 with the rule when the revision's item is not the one in force.
pub async fn rollback(
    state: &AppState,
    caller: &Caller,
    contract_id: &str,
    revision: i64,
) -> ApiResult<PresetView> {
    let contract = adapter(state, caller, contract_id).await?;
    let new = controller::rollback(
        &state.store,
        &state.secret_key,
        &contract,
        revision,
        today(),
        caller
            .journal("preset.rollback")
            .request(serde_json::json!({ "revision": revision })),
    )
    .await
    .map_err(preset_error)?;
    state.devices.invalidate_contractor(&contract.contractor_id);
    view(&contract, Some(&new), false)
}
