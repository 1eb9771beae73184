//! Presets as operators oversee them: which devices cannot get their configuration until
//! someone sets the parameters their preset lacks.

use mpc_domain::book::Book;
use mpc_domain::catalog::{ContractKind, DeviceType, Item};
use mpc_domain::custody::provisionable;
use mpc_domain::preset::PresetParams;
use mpc_storage::accounts::{self, Page};
use mpc_storage::contracts::{Scope, load_books};
use mpc_storage::controller;

use crate::AppState;
use crate::error::ApiResult;
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
    let today = crate::api::v1::support::today();
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
