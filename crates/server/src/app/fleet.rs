//! Custody of devices as operators keep it (R10–R12): devices released and not back yet,
//! returns, lost devices found, and the sweep that treats overdue returns as lost.

use mpc_api_types::contracts::{DeviceView, OnDate, RecordResult};
use mpc_domain::Refusal;
use mpc_domain::book::{Device, DeviceState, Effect};
use mpc_domain::custody::{record_found, record_return, unknown_device};
use mpc_storage::contracts::{self, Owned, ReturnOrder, requests};

use super::Input;
use crate::AppState;
use crate::app::support::{Dates, holder, today};
use crate::error::ApiResult;
use crate::extract::Caller;
use crate::views;

/// Devices released from their contracts and not yet back, with their return deadlines
/// (R10.3) and whether they are overdue on `as_of` (`YYYY-MM-DD`, today in Japan when
/// omitted; operators). Overdue ones become lost at the next sweep.
///
/// # Errors
/// 403 for anyone but operators; 422 for a date that is not one.
pub async fn awaiting_return(
    state: &AppState,
    caller: &Caller,
    as_of: Option<&str>,
) -> ApiResult<Vec<DeviceView>> {
    caller.require_operator()?;
    let as_of = Dates::default().or_today("as_of", as_of)?;
    let devices = mpc_storage::contracts::awaiting_return(&mut *state.store.conn().await?).await?;
    named_views(state, caller, devices.iter().map(|(_, d)| d), as_of).await
}

/// `devices` as the API shows them on `as_of`, their contracts named in one lookup.
async fn named_views<'a>(
    state: &AppState,
    caller: &Caller,
    devices: impl Iterator<Item = &'a Device> + Clone,
    as_of: jiff::civil::Date,
) -> ApiResult<Vec<DeviceView>> {
    let ids: Vec<&str> = devices
        .clone()
        .flat_map(|d| d.assignments.iter().map(|a| a.contract_id.as_str()))
        .collect();
    let names = crate::app::contracts::names(state, caller, &ids, &[]).await?;
    Ok(devices
        .map(|d| views::device(d, as_of, &|id| names.of(id)))
        .collect())
}

/// Devices lost and not found since, as of today in Japan (R12.3; operators), earliest loss
/// first: the devices a find may be recorded for, which the console offers to pick from.
///
/// # Errors
/// 403 for anyone but operators.
pub async fn lost(state: &AppState, caller: &Caller) -> ApiResult<Vec<DeviceView>> {
    caller.require_operator()?;
    let today = today();
    let devices = mpc_storage::contracts::lost_devices(&mut *state.store.conn().await?).await?;
    let lost = devices
        .iter()
        .map(|(_, d)| d)
        .filter(|d| d.state_on(today) == DeviceState::Lost);
    named_views(state, caller, lost, today).await
}

/// The most units [`spares`] names: a picker's suggestions, not the whole stock.
pub const SPARES_SHOWN: i64 = 200;

/// Units of the inventory that may replace the device of the contract `contract_id` today
/// (R11.1, R12.1; operators), by serial, at most [`SPARES_SHOWN`]: of its device type (R3.1),
/// never in service or back from it, and neither lost nor found (R12.3). With `serial`, that
/// unit alone when it is one of them, to check a serial typed rather than picked.
///
/// # Errors
/// As [`crate::app::contracts::get`]; 403 for anyone but operators.
pub async fn spares(
    state: &AppState,
    caller: &Caller,
    contract_id: &str,
    serial: Option<&str>,
) -> ApiResult<Vec<String>> {
    caller.require_operator()?;
    let contract = crate::app::contracts::get(state, caller, contract_id, None).await?;
    let Some(model) = contract.device_type else {
        return Ok(Vec::new());
    };
    Ok(mpc_storage::controller::spare_devices(
        &mut *state.store.conn().await?,
        model,
        serial,
        today(),
        SPARES_SHOWN,
    )
    .await?)
}

/// A numbered page of the devices awaiting return, and how many there are.
#[derive(Debug)]
pub struct AwaitingPage {
    pub devices: Vec<DeviceView>,
    /// How many await return, on every page.
    pub total: i64,
    /// How many of them are overdue today, on every page.
    pub overdue: i64,
    /// The position of the first device among all, from 1.
    pub first: i64,
    pub previous: Option<u32>,
    pub next: Option<u32>,
}

/// Page `page` (from 1) of the devices awaiting return, `per_page` a page (1–1000) in `order`
/// (reversed when `desc`), overdue as of today (operators): one count query and one page
/// query, only the page's devices loaded.
///
/// # Errors
/// 403 for anyone but operators; 400 `invalid_paging` for a page or size out of range.
pub async fn awaiting_return_page(
    state: &AppState,
    caller: &Caller,
    (order, desc): (ReturnOrder, bool),
    page: u32,
    per_page: u32,
) -> ApiResult<AwaitingPage> {
    caller.require_operator()?;
    let (page, offset, limit) = crate::app::support::numbered(
        Some(page),
        "per_page",
        Some(per_page),
        crate::app::support::DEFAULT_LIMIT,
        crate::app::support::MAX_LIMIT,
    )?;
    let as_of = today();
    let mut conn = state.store.conn().await?;
    let (total, overdue) = contracts::count_awaiting_return(&mut conn, as_of).await?;
    let devices = contracts::awaiting_return_page(&mut conn, order, desc, offset, limit).await?;
    drop(conn);
    let shown = devices.len() as i64;
    Ok(AwaitingPage {
        devices: named_views(state, caller, devices.iter().map(|(_, d)| d), as_of).await?,
        total,
        overdue,
        first: offset + 1,
        previous: (page > 1).then(|| page - 1),
        next: (offset + shown < total).then_some(page + 1),
    })
}

/// How many devices await return and how many of them are overdue today (operators), counted
/// in one query.
///
/// # Errors
/// 403 for anyone but operators.
pub async fn awaiting_return_counts(state: &AppState, caller: &Caller) -> ApiResult<(i64, i64)> {
    caller.require_operator()?;
    let mut conn = state.store.conn().await?;
    Ok(contracts::count_awaiting_return(&mut conn, today()).await?)
}

/// Records what `decide` makes of the device `serial` on the day given (today by default),
/// journaled as `operation` (operators).
async fn record_on_device(
    state: &AppState,
    caller: &Caller,
    serial: &str,
    on: Input<OnDate>,
    operation: &str,
    decide: fn(&Device, jiff::civil::Date) -> Result<Vec<Effect>, Refusal>,
) -> ApiResult<RecordResult> {
    let owner = holder(state, caller, Owned::Device, serial).await?;
    caller.require_operator()?;
    let (body, raw) = on.parse_or_empty()?;
    let mut dates = Dates::default();
    let on = dates.or_today("on", body.on.as_deref())?;
    let effects = requests::record(
        &state.store,
        &owner,
        caller.journal(operation).subject(serial).request(raw),
        |book| {
            let device = book.device(serial).ok_or_else(unknown_device)?;
            decide(device, on)
        },
    )
    .await?;
    Ok(RecordResult {
        effects,
        defaulted_dates: dates.defaulted,
    })
}

/// Records a device's return (operators), journaled as `device.return`. A device already
/// treated as lost comes back as found: it stays out of service and its loss fee stands
/// (R12.3).
///
/// # Errors
/// 404 for a device outside the caller's reach; 403 for anyone but operators; 422 with the
/// rule for a return the rules refuse.
pub async fn returned(
    state: &AppState,
    caller: &Caller,
    serial: &str,
    on: Input<OnDate>,
) -> ApiResult<RecordResult> {
    record_on_device(state, caller, serial, on, "device.return", record_return).await
}

/// Records that a lost device was found (R12.3; operators), journaled as `device.found`: it
/// never serves again.
///
/// # Errors
/// As [`returned`].
pub async fn found(
    state: &AppState,
    caller: &Caller,
    serial: &str,
    on: Input<OnDate>,
) -> ApiResult<RecordResult> {
    record_on_device(state, caller, serial, on, "device.found", record_found).await
}

/// Treats every device not returned by its deadline as lost, with its loss fee (R10.3, R12.2;
/// operators), journaled as `device.sweep_overdue`. The day is today in Japan by default.
///
/// # Errors
/// 403 for anyone but operators.
pub async fn sweep(
    state: &AppState,
    caller: &Caller,
    on: Input<OnDate>,
) -> ApiResult<RecordResult> {
    caller.require_operator()?;
    let (body, raw) = on.parse_or_empty()?;
    let mut dates = Dates::default();
    let on = dates.or_today("on", body.on.as_deref())?;
    let effects = requests::sweep_overdue_returns(
        &state.store,
        on,
        caller.journal("device.sweep_overdue").request(raw),
    )
    .await?;
    Ok(RecordResult {
        effects,
        defaulted_dates: dates.defaulted,
    })
}
