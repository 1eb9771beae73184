//! Devices in their custody cycle (R7, R10–R12) and packet share groups (R9.6, R9.7), as of a
//! day; days as the caller wrote them (`YYYY-MM-DD`), today in Japan when `None`.

use mpc_api_types::contracts::{DeviceView, GroupView};
use mpc_storage::contracts::{Owned, load_book};

use crate::AppState;
use crate::app::support::{Dates, contractor_book, holder};
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;
use crate::views;

/// Where the device `serial` stands on `as_of` (`YYYY-MM-DD`, today in Japan when omitted: in
/// service, awaiting return, lost …) and the contract it serves, as its holder's book says.
///
/// # Errors
/// 404 for a device that no contractor holds or that is outside the caller's reach; 422 for a
/// date that is not one.
pub async fn get(
    state: &AppState,
    caller: &Caller,
    serial: &str,
    as_of: Option<&str>,
) -> ApiResult<DeviceView> {
    let owner = holder(state, caller, Owned::Device, serial).await?;
    let as_of = Dates::default().or_today("as_of", as_of)?;
    let book = load_book(&mut *state.store.conn().await?, &owner).await?;
    let device = book.device(serial).ok_or_else(ApiError::not_found)?;
    Ok(views::device(device, as_of, &views::name_in(&book)))
}

/// A contractor's devices.
///
/// # Errors
/// 404 for a contractor outside the caller's reach; 422 for a malformed day.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
    as_of: Option<&str>,
) -> ApiResult<Vec<DeviceView>> {
    let (book, as_of) = contractor_book(state, caller, contractor_id, as_of).await?;
    let name_of = views::name_in(&book);
    Ok(book
        .devices
        .iter()
        .map(|d| views::device(d, as_of, &name_of))
        .collect())
}

/// A contractor's packet share groups.
///
/// # Errors
/// 404 for a contractor outside the caller's reach; 422 for a malformed day.
pub async fn groups(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
    as_of: Option<&str>,
) -> ApiResult<Vec<GroupView>> {
    let (book, as_of) = contractor_book(state, caller, contractor_id, as_of).await?;
    Ok(book.groups.iter().map(|g| views::group(g, as_of)).collect())
}

/// One packet share group with its packs and members.
///
/// # Errors
/// 404 for a group outside the caller's reach; 422 for a malformed day.
pub async fn group(
    state: &AppState,
    caller: &Caller,
    group_id: &str,
    as_of: Option<&str>,
) -> ApiResult<GroupView> {
    let owner = holder(state, caller, Owned::Group, group_id).await?;
    let as_of = Dates::default().or_today("as_of", as_of)?;
    let book = load_book(&mut *state.store.conn().await?, &owner).await?;
    let g = book.group(group_id).ok_or_else(ApiError::not_found)?;
    Ok(views::group(g, as_of))
}
