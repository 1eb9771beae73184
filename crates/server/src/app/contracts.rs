//! Contracts as their holders and operators see them.

use mpc_api_types::contracts::{ContractView, Provisioning};
use mpc_domain::book::{Book, Contract};
use mpc_storage::controller::SecretKey;
use mpc_storage::{StorageError, Store};

use crate::views;

/// `contract` as of `as_of`. A contract whose device may fetch today but whose preset does not
/// render is not provisionable: its device waits for the parameters named (R17.1), and the
/// view says which, as a fetch would.
///
/// # Errors
/// Storage errors while rendering today's configuration.
pub async fn view(
    store: &Store,
    key: &SecretKey,
    book: &Book,
    contract: &Contract,
    as_of: jiff::civil::Date,
) -> Result<ContractView, StorageError> {
    let mut view = views::contract(book, contract, as_of);
    let today = mpc_domain::calendar::tokyo_date(jiff::Timestamp::now());
    let Some(p) = view.provisioning.as_mut() else {
        return Ok(view);
    };
    if !p.provisionable || as_of != today {
        return Ok(view);
    }
    let rendered = crate::device::cache::current_recipe(store, key, book, contract, today).await?;
    if let Err(r) = rendered {
        *p = Provisioning {
            provisionable: false,
            code: Some(r.rule.to_owned()),
            reason: Some(r.message_en),
            reason_ja: Some(r.message_ja),
        };
    }
    Ok(view)
}
