//! `/devices` and `/packet-share-groups`: custody of devices (R7, R10–R12) and packet share
//! groups (R9.6, R9.7).

use axum::Json;
use axum::extract::{Path, State};
use mpc_api_types::Problem;
use mpc_api_types::contracts::{
    DeviceList, DeviceView, GroupList, GroupView, OnDate, RecordResult,
};
use mpc_domain::custody::{record_found, record_return};
use mpc_storage::contracts::Owned;
use mpc_storage::contracts::requests;

use super::contracts::AsOf;
use super::support::{Dates, holder};
use crate::error::ApiResult;
use crate::extract::{Caller, JsonBody, Params};
use crate::{AppState, app};

/// A device by serial, as of a day.
#[utoipa::path(get, path = "/devices/{serial}", tag = "devices",
    params(("serial" = String, Path), AsOf), security(("bearer" = [])),
    responses((status = 200, body = DeviceView), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(serial): Path<String>,
    Params(q): Params<AsOf>,
) -> ApiResult<Json<DeviceView>> {
    Ok(Json(
        app::devices::get(&state, &caller, &serial, q.as_of.as_deref()).await?,
    ))
}

/// A contractor's devices, as of a day.
#[utoipa::path(get, path = "/contractors/{contractor_id}/devices", tag = "devices",
    params(("contractor_id" = String, Path), AsOf), security(("bearer" = [])),
    responses((status = 200, body = DeviceList), (status = 404, body = Problem)))]
pub(super) async fn list_of_contractor(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
    Params(q): Params<AsOf>,
) -> ApiResult<Json<DeviceList>> {
    let devices = app::devices::list(&state, &caller, &contractor_id, q.as_of.as_deref()).await?;
    Ok(Json(DeviceList { devices }))
}

async fn record_on_device(
    state: &AppState,
    caller: &Caller,
    serial: &str,
    payload: &JsonBody,
    operation: &str,
    decide: fn(
        &mpc_domain::book::Device,
        jiff::civil::Date,
    ) -> Result<Vec<mpc_domain::book::Effect>, mpc_domain::Refusal>,
) -> ApiResult<Json<RecordResult>> {
    let owner = holder(state, caller, Owned::Device, serial).await?;
    caller.require_operator()?;
    let (body, raw) = payload.parse_or_empty::<OnDate>()?;
    let mut dates = Dates::default();
    let on = dates.or_today("on", body.on.as_deref())?;
    let effects = requests::record(
        &state.store,
        &owner,
        caller.journal(operation).subject(serial).request(raw),
        |book| decide(book.known_device(serial)?, on),
    )
    .await?;
    Ok(Json(RecordResult {
        effects,
        defaulted_dates: dates.defaulted,
    }))
}

/// Devices released from their contracts and not yet back, with their return deadlines
/// (R10.3) and whether they are overdue on `as_of` (operators). Overdue ones become lost at
/// the next sweep.
#[utoipa::path(get, path = "/devices/awaiting-return", tag = "devices", params(AsOf),
    security(("bearer" = [])),
    responses((status = 200, body = DeviceList), (status = 403, body = Problem)))]
pub async fn awaiting_return(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<AsOf>,
) -> ApiResult<Json<DeviceList>> {
    let devices = app::devices::awaiting_return(&state, &caller, q.as_of.as_deref()).await?;
    Ok(Json(DeviceList { devices }))
}

/// Records a device's return (operators). A device already treated as lost comes back as
/// found: it stays out of service and its loss fee stands (R12.3).
#[utoipa::path(post, path = "/devices/{serial}/return", tag = "devices",
    params(("serial" = String, Path)), request_body = OnDate, security(("bearer" = [])),
    responses((status = 200, body = RecordResult), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn returned(
    State(state): State<AppState>,
    caller: Caller,
    Path(serial): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<RecordResult>> {
    record_on_device(
        &state,
        &caller,
        &serial,
        &payload,
        "device.return",
        record_return,
    )
    .await
}

/// Records that a lost device was found (R12.3; operators): it never serves again.
#[utoipa::path(post, path = "/devices/{serial}/found", tag = "devices",
    params(("serial" = String, Path)), request_body = OnDate, security(("bearer" = [])),
    responses((status = 200, body = RecordResult), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn found(
    State(state): State<AppState>,
    caller: Caller,
    Path(serial): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<RecordResult>> {
    record_on_device(
        &state,
        &caller,
        &serial,
        &payload,
        "device.found",
        record_found,
    )
    .await
}

/// Treats every device not returned by its deadline as lost, with its loss fee (R10.3, R12.2;
/// operators). `on` is the day of the sweep (today in Japan by default); the server also
/// sweeps by itself once a day.
#[utoipa::path(post, path = "/devices/overdue-returns/sweep", tag = "devices",
    request_body = OnDate, security(("bearer" = [])),
    responses((status = 200, body = RecordResult), (status = 403, body = Problem)))]
pub async fn sweep(
    State(state): State<AppState>,
    caller: Caller,
    payload: JsonBody,
) -> ApiResult<Json<RecordResult>> {
    caller.require_operator()?;
    let (body, raw) = payload.parse_or_empty::<OnDate>()?;
    let mut dates = Dates::default();
    let on = dates.or_today("on", body.on.as_deref())?;
    let effects = requests::sweep_overdue_returns(
        &state.store,
        on,
        caller.journal("device.sweep_overdue").request(raw),
    )
    .await?;
    Ok(Json(RecordResult {
        effects,
        defaulted_dates: dates.defaulted,
    }))
}

/// A contractor's packet share groups, as of a day.
#[utoipa::path(get, path = "/contractors/{contractor_id}/packet-share-groups", tag = "contracts",
    params(("contractor_id" = String, Path), AsOf), security(("bearer" = [])),
    responses((status = 200, body = GroupList), (status = 404, body = Problem)))]
pub(super) async fn groups(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
    Params(q): Params<AsOf>,
) -> ApiResult<Json<GroupList>> {
    let groups = app::devices::groups(&state, &caller, &contractor_id, q.as_of.as_deref()).await?;
    Ok(Json(GroupList { groups }))
}

/// One packet share group with its packs and members, as of a day.
#[utoipa::path(get, path = "/packet-share-groups/{group_id}", tag = "contracts",
    params(("group_id" = String, Path), AsOf), security(("bearer" = [])),
    responses((status = 200, body = GroupView), (status = 404, body = Problem)))]
pub(super) async fn group(
    State(state): State<AppState>,
    caller: Caller,
    Path(group_id): Path<String>,
    Params(q): Params<AsOf>,
) -> ApiResult<Json<GroupView>> {
    Ok(Json(
        app::devices::group(&state, &caller, &group_id, q.as_of.as_deref()).await?,
    ))
}
