//! Contractors: the customer accounts that hold contracts, and their records.
//!
//! Who may change what: operators change everything of any contractor. A contractor's own
//! users change their record — postal code, address, contact person, phone and billing e-mail —
//! since it is theirs to keep current, but not its name: the name is the party to its
//! contracts and the addressee (宛名) of its invoices, so renaming is the operator's act, done
//! on the contractor's notice.

use mpc_api_types::accounts::{Contractor, ContractorList, CreateContractor, UpdateContractor};
use mpc_domain::account::{self, FieldError};
use mpc_storage::accounts::{self, ContractorRecord};
use serde_json::json;

use super::Input;
use crate::AppState;
use crate::app::support::{PageParams, instant};
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

const NAME_MAX: usize = 200;

/// A stored contractor as the API shows it.
pub(crate) fn view(c: accounts::Contractor) -> ApiResult<Contractor> {
    Ok(Contractor {
        created_at: instant(c.created_at)?,
        id: c.id,
        name: c.name,
        postal_code: c.postal_code,
        address: c.address,
        contact_name: c.contact_name,
        phone: c.phone,
        billing_email: c.billing_email,
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
        &page.probe()?,
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

/// Changes a contractor's name and record, journaled as `contractor.update`. A field absent
/// stays as it is; an empty record field is cleared ("not set"). Nothing to change (every field
/// absent or as it is) is not a change: no journal row. Either everything asked is changed or,
/// on any refusal, nothing.
///
/// # Errors
/// 404 as [`get`]; 403 for a contractor user asking to change the name (see the module's
/// doc); 422 for a name as [`create`] refuses, or a record field [`record_of`] refuses.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
    change: Input<UpdateContractor>,
) -> ApiResult<Contractor> {
    caller.require_contractor(contractor_id)?;
    let current = accounts::get_contractor(&state.store, contractor_id).await?;
    let (req, raw) = change.parse()?;
    let name = req
        .name
        .as_deref()
        .map(|n| account::text("name", n, NAME_MAX))
        .transpose()?
        .filter(|n| *n != current.name);
    if name.is_some() && !caller.actor.is_operator() {
        return Err(ApiError::forbidden(
            "only operators may rename a contractor: the name is the party to its contracts \
             and the addressee of its invoices",
        )
        .ja("契約者名は契約の当事者名・請求書の宛名のため、変更はオペレーターが行います"));
    }
    let record = record_of(&req, current.record())?;
    let record = (record != current.record()).then_some(record);
    if name.is_none() && record.is_none() {
        return view(current);
    }
    let mut tx = state.store.write().await?;
    if let Some(name) = &name {
        accounts::rename_contractor(&mut tx, contractor_id, name).await?;
    }
    if let Some(record) = &record {
        accounts::set_contractor_record(&mut tx, contractor_id, record).await?;
    }
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

/// The record `req` asks for over `current`: each field given replaces the current one, blank
/// clears it.
///
/// # Errors
/// 422 naming the first field that is refused: a postal code that is not seven digits
/// ([`account::postal_code`]), an address over 200 characters, a contact name over 100, a phone
/// number ([`account::phone`]), a billing e-mail that is not an address
/// ([`account::email`]); control characters anywhere.
pub fn record_of(
    req: &UpdateContractor,
    current: ContractorRecord,
) -> Result<ContractorRecord, FieldError> {
    let field = |given: &Option<String>,
                 now: Option<String>,
                 check: &dyn Fn(&str) -> Result<String, FieldError>| {
        match given {
            Some(v) => account::optional(v, check),
            None => Ok(now),
        }
    };
    Ok(ContractorRecord {
        postal_code: field(&req.postal_code, current.postal_code, &account::postal_code)?,
        address: field(&req.address, current.address, &|v| {
            account::text("address", v, account::MAX_ADDRESS_CHARS)
        })?,
        contact_name: field(&req.contact_name, current.contact_name, &|v| {
            account::text("contact_name", v, account::MAX_CONTACT_CHARS)
        })?,
        phone: field(&req.phone, current.phone, &account::phone)?,
        billing_email: field(&req.billing_email, current.billing_email, &|v| {
            account::email("billing_email", v)
        })?,
    })
}
