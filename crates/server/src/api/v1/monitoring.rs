//! The device inventory (operators), device monitoring (UP/DOWN, history) and alert webhooks
//! (operators).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use mpc_api_types::Problem;
use mpc_api_types::controller::{
    DeviceHistory, HeartbeatFiguresView, InventoryImport, MonitoredDevice, MonitoredDeviceList,
    NewSmfv2Identity, NewWebhook, Smfv2EventView, Smfv2IdentityView, Smfv2Keys, StateChangeView,
    WebhookList, WebhookView,
};
use mpc_domain::monitoring::ConnectionState;
use mpc_storage::controller::{MonitorOrder, Webhook};
use serde::Deserialize;
use utoipa::IntoParams;

use super::instant;
use crate::AppState;
use crate::app::inventory::{self, Upload};
use crate::app::monitoring;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, Params};

/// Imports devices into the inventory from CSV lines `serial,model,factory_secret` (operators;
/// `Content-Type: text/csv`), optionally followed by an SMFv2 identity
/// `distribution_id,ls_key,rs_key,heartbeat_passphrase` (empty keys are generated). All or
/// nothing: any bad line refuses the whole file, each bad line named in `errors` as `line N`.
#[utoipa::path(post, path = "/devices/inventory", tag = "controller",
    request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 201, body = InventoryImport), (status = 403, body = Problem),
              (status = 415, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn import(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<InventoryImport>)> {
    let upload = Upload::Body {
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        bytes: &body,
    };
    let imported = inventory::import(&state, &caller, upload).await?;
    Ok((StatusCode::CREATED, Json(InventoryImport { imported })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct MonitorParams {
    /// `in_stock`, `never_connected`, `up` or `down`.
    pub(super) state: Option<String>,
    pub(super) contractor_id: Option<String>,
    /// `SEIL/X4`, `SA-W2L` or `SEIL CA10`.
    pub(super) model: Option<String>,
    pub(super) firmware: Option<String>,
    /// The page, from 1.
    pub(super) page: Option<u32>,
    /// Devices per page (1–1000, default 100).
    pub(super) limit: Option<u32>,
}

/// Inventory devices with their connection state (in stock, never connected, UP, DOWN), by
/// serial, filtered by state, model, contractor and firmware together (in the query), a
/// numbered page at a time with the total. Contractors see the devices serving their
/// contracts; operators see all.
#[utoipa::path(get, path = "/devices/monitoring", tag = "controller", params(MonitorParams),
    security(("bearer" = [])),
    responses((status = 200, body = MonitoredDeviceList),
              (status = 400, body = Problem, description = "an unknown state or model (`invalid_query`) or a page or limit out of range (`invalid_paging`)")))]
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<MonitorParams>,
) -> ApiResult<Json<MonitoredDeviceList>> {
    let state_asked = q
        .state
        .as_deref()
        .map(|s| {
            s.parse::<ConnectionState>().map_err(|_| {
                ApiError::bad_request(
                    "invalid_query",
                    "state is in_stock, never_connected, up or down",
                )
            })
        })
        .transpose()?;
    let model = q
        .model
        .as_deref()
        .map(|m| {
            m.parse()
                .map_err(|_| ApiError::bad_request("invalid_query", format!("unknown model {m:?}")))
        })
        .transpose()?;
    let filter = monitoring::Filter {
        state: state_asked,
        contractor_id: q.contractor_id,
        model,
        firmware: q.firmware,
        assigned_only: false,
        serial: None,
    };
    let fleet = monitoring::page(
        &state,
        &caller,
        filter,
        (MonitorOrder::Serial, false),
        q.page,
        q.limit,
    )
    .await?;
    let devices = fleet
        .devices
        .into_iter()
        .map(|d| MonitoredDevice {
            serial: d.serial,
            model: d.model,
            contractor_id: d.contractor_id,
            state: d.state,
            state_since: d.state_since.map(|t| t.to_string()),
            last_heartbeat: d.last_heartbeat.map(|t| t.to_string()),
            firmware: d.firmware,
            uptime_seconds: d.uptime_seconds,
            applied_revision: d.applied_revision,
        })
        .collect();
    Ok(Json(MonitoredDeviceList {
        devices,
        total: fleet.total,
        page: fleet.page,
        next_page: fleet.next,
    }))
}

/// A device's UP/DOWN changes, oldest first.
#[utoipa::path(get, path = "/devices/{serial}/history", tag = "controller",
    params(("serial" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = DeviceHistory), (status = 404, body = Problem)))]
pub(super) async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(serial): Path<String>,
) -> ApiResult<Json<DeviceHistory>> {
    let history = monitoring::history(&state, &caller, &serial).await?;
    let changes = history
        .changes
        .into_iter()
        .map(|c| StateChangeView {
            state: c.state.to_string(),
            at: c.at.to_string(),
        })
        .collect();
    let smfv2_events = history
        .smfv2_events
        .into_iter()
        .map(|e| Smfv2EventView {
            at: e.at.to_string(),
            event: e.event,
            rule: e.rule,
            detail: e.detail,
        })
        .collect();
    let heartbeat_figures = history
        .figures
        .into_iter()
        .map(|(at, figures)| HeartbeatFiguresView {
            at: at.to_string(),
            figures,
        })
        .collect();
    Ok(Json(DeviceHistory {
        serial,
        changes,
        smfv2_events,
        heartbeat_figures,
    }))
}

/// Gives a unit of the inventory its SMFv2 identity (operators): its Distribution ID and keys,
/// those left out generated, sealed at rest; shown once by `…/smfv2/reveal`. 404 to anyone but
/// an operator and for a serial not in the inventory; 409 when the unit has an identity or
/// another unit holds the Distribution ID.
#[utoipa::path(post, path = "/devices/{serial}/smfv2", tag = "controller",
    params(("serial" = String, Path)), request_body = NewSmfv2Identity, security(("bearer" = [])),
    responses((status = 201, body = Smfv2IdentityView), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn add_smfv2(
    State(state): State<AppState>,
    caller: Caller,
    Path(serial): Path<String>,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<Smfv2IdentityView>)> {
    let view = inventory::create_smfv2(&state, &caller, &serial, payload.into()).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Shows a unit's SMFv2 keys, once (operators): they are marked shown as they are read, and
/// asked again the answer is 409. 404 when the unit has no SMFv2 identity, and to anyone but
/// an operator (the keys are no contractor's to see).
#[utoipa::path(post, path = "/devices/{serial}/smfv2/reveal", tag = "controller",
    params(("serial" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Smfv2Keys), (status = 404, body = Problem),
              (status = 409, body = Problem)))]
pub(super) async fn reveal_smfv2(
    State(state): State<AppState>,
    caller: Caller,
    Path(serial): Path<String>,
) -> ApiResult<Json<Smfv2Keys>> {
    Ok(Json(
        inventory::reveal_smfv2(&state, &caller, &serial).await?,
    ))
}

fn webhook_view(w: Webhook) -> ApiResult<WebhookView> {
    Ok(WebhookView {
        created_at: instant(w.created_at)?,
        id: w.id,
        url: w.url,
    })
}

/// The alert webhooks (operators).
#[utoipa::path(get, path = "/webhooks", tag = "controller", security(("bearer" = [])),
    responses((status = 200, body = WebhookList), (status = 403, body = Problem)))]
pub(super) async fn webhooks(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<WebhookList>> {
    let hooks = monitoring::webhooks(&state, &caller).await?;
    Ok(Json(WebhookList {
        webhooks: hooks
            .into_iter()
            .map(webhook_view)
            .collect::<ApiResult<_>>()?,
    }))
}

/// Registers a URL to receive a JSON POST on every device UP/DOWN change (operators).
#[utoipa::path(post, path = "/webhooks", tag = "controller", request_body = NewWebhook,
    security(("bearer" = [])),
    responses((status = 201, body = WebhookView), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn add_webhook(
    State(state): State<AppState>,
    caller: Caller,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<WebhookView>)> {
    let hook = monitoring::add_webhook(&state, &caller, payload.into()).await?;
    Ok((StatusCode::CREATED, Json(webhook_view(hook)?)))
}

/// One alert webhook (operators; others get 404).
#[utoipa::path(get, path = "/webhooks/{webhook_id}", tag = "controller",
    params(("webhook_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = WebhookView), (status = 404, body = Problem)))]
pub(super) async fn webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(webhook_id): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    let hook = monitoring::webhook(&state, &caller, &webhook_id).await?;
    Ok(Json(webhook_view(hook)?))
}

/// Removes an alert webhook (operators; others get 404).
#[utoipa::path(delete, path = "/webhooks/{webhook_id}", tag = "controller",
    params(("webhook_id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem)))]
pub(super) async fn remove_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(webhook_id): Path<String>,
) -> ApiResult<StatusCode> {
    monitoring::remove_webhook(&state, &caller, &webhook_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
