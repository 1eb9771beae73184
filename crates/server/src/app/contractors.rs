//! Contractors: the customer accounts that hold contracts.

use mpc_api_types::accounts::{Contractor, ContractorList, CreateContractor, UpdateContractor};
use mpc_domain::account;
use mpc_storage::accounts;
use serde_json::json;

use super::Input;
use crate::AppState;
use crate::app::support::{PageParams, instant};
use crate::error::ApiResult;
use crate::extract::Caller;

const NAME_MAX: usize = 200;

/// A stored contractor as the API shows it.
pub(crate) fn view(c: accounts::Contractor) -> ApiResult<Contractor> {
    Ok(Contractor {
        created_at: instant(c.created_at)?,
        id: c.id,
        name: c.name,
    })
}

/// Contractors whose name contains `name` (every one without it), in registration order, one
/// page after `page.after`; a contractor user sees only its own.
///
/// # Errors
/// The database's.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    name: Option<&str>,
    page: &PageParams,
) -> ApiResult<ContractorList> {
    let rows = accounts::list_contractors(
        &state.store,
        caller.actor.contractor_scope(),
        name,
        &page.probe(),
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |c| &c.id);
    Ok(ContractorList {
        contractors: rows.into_iter().map(view).collect::<ApiResult<_>>()?,
        next_cursor,
    })
}

/// Registers a contractor (operators only), journaled as `contractor.create`.
///
/// # Errors
/// 403 for anyone but operators; 422 for a name that is empty or longer than 200 characters.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    new: Input<CreateContractor>,
) -> ApiResult<Contractor> {
    caller.require_operator()?;
    let (req, raw) = new.parse()?;
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
    view(c)
}

/// One contractor.
///
/// # Errors
/// 404 for a contractor that does not exist or is outside the caller's reach.
pub async fn get(state: &AppState, caller: &Caller, contractor_id: &str) -> ApiResult<Contractor> {
    caller.require_contractor(contractor_id)?;
    view(accounts::get_contractor(&state.store, contractor_id).await?)
}

/// Changes a contractor's name (operators only), journaled as `contractor.update`. Nothing to
/// change (no name, or the same name) is not a change: no journal row.
///
/// # Errors
/// 404 as [`get`]; 403 for anyone but operators; 422 for a name as [`create`] refuses.
pub async fn rename(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
    change: Input<UpdateContractor>,
) -> ApiResult<Contractor> {
    caller.require_contractor(contractor_id)?;
    accounts::get_contractor(&state.store, contractor_id).await?;
    caller.require_operator()?;
    let (req, raw) = change.parse()?;
    let current = accounts::get_contractor(&state.store, contractor_id).await?;
    let name = req
        .name
        .as_deref()
        .map(|n| account::text("name", n, NAME_MAX))
        .transpose()?
        .filter(|n| *n != current.name);
    let Some(name) = name else {
        return view(current);
    };
    let mut tx = state.store.write().await?;
    accounts::rename_contractor(&mut tx, contractor_id, &name).await?;
    tx.commit(
        caller
            .journal("contractor.update")
            .contractor(Some(contractor_id))
            .subject(contractor_id)
            .request(raw),
    )
    .await?;
    view(accounts::get_contractor(&state.store, contractor_id).await?)
}
