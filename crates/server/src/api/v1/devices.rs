//! `/devices` and `/packet-share-groups`: custody of devices (R7, R10–R12) and packet share
//! groups (R9.6, R9.7).

use axum::Json;
use axum::extract::{Path, State};
use mpc_api_types::Problem;
use mpc_api_types::contracts::{
    DeviceList, DeviceView, GroupList, GroupView, OnDate, RecordResult,
};

use super::contracts::AsOf;

use crate::app::fleet;
use crate::error::ApiResult;
use crate::extract::{Caller, JsonBody, Params};
use crate::{AppState, app};

/// A device by serial, as of a day.
#[utoipa::path(get, path = "/devices/{serial}", tag = "devices",
    params(("serial" = String, Path), AsOf), security(("bearer" = [])),
    responses((status = 200, body = DeviceView), (status = 404, body = Problem)))]
pub(super) async fn get(
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

/// Devices released from their contracts and not yet back, with their return deadlines
/// (R10.3) and whether they are overdue on `as_of` (operators). Overdue ones become lost at
/// the next sweep.
#[utoipa::path(get, path = "/devices/awaiting-return", tag = "devices", params(AsOf),
    security(("bearer" = [])),
    responses((status = 200, body = DeviceList), (status = 403, body = Problem)))]
pub(super) async fn awaiting_return(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<AsOf>,
) -> ApiResult<Json<DeviceList>> {
    let devices = fleet::awaiting_return(&state, &caller, q.as_of.as_deref()).await?;
    Ok(Json(DeviceList { devices }))
}

/// Records a device's return (operators). A device already treated as lost comes back as
/// found: it stays out of service and its loss fee stands (R12.3).
#[utoipa::path(post, path = "/devices/{serial}/return", tag = "devices",
    params(("serial" = String, Path)), request_body = OnDate, security(("bearer" = [])),
    responses((status = 200, body = RecordResult), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn returned(
    State(state): State<AppState>,
    caller: Caller,
    Path(serial): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<RecordResult>> {
    Ok(Json(
        fleet::returned(&state, &caller, &serial, payload.into()).await?,
    ))
}

/// Records that a lost device was found (R12.3; operators): it never serves again.
#[utoipa::path(post, path = "/devices/{serial}/found", tag = "devices",
    params(("serial" = String, Path)), request_body = OnDate, security(("bearer" = [])),
    responses((status = 200, body = RecordResult), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn found(
    State(state): State<AppState>,
    caller: Caller,
    Path(serial): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<RecordResult>> {
    Ok(Json(
        fleet::found(&state, &caller, &serial, payload.into()).await?,
    ))
}

/// Treats every device not returned by its deadline as lost, with its loss fee (R10.3, R12.2;
/// operators). `on` is the day of the sweep (today in Japan by default); the server also
/// sweeps by itself once a day.
#[utoipa::path(post, path = "/devices/overdue-returns/sweep", tag = "devices",
    request_body = OnDate, security(("bearer" = [])),
    responses((status = 200, body = RecordResult), (status = 403, body = Problem)))]
pub(super) async fn sweep(
    State(state): State<AppState>,
    caller: Caller,
    payload: JsonBody,
) -> ApiResult<Json<RecordResult>> {
    Ok(Json(fleet::sweep(&state, &caller, payload.into()).await?))
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
