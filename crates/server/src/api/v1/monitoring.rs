//! The device inventory (operators), device monitoring (UP/DOWN, history) and alert webhooks
//! (operators).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use mpc_api_types::controller::{
    DeviceHistory, InventoryImport, MonitoredDevice, MonitoredDeviceList, NewSmfv2Identity,
    NewWebhook, Smfv2EventView, Smfv2IdentityView, Smfv2Keys, StateChangeView, WebhookList,
    WebhookView,
};
use mpc_api_types::{FieldProblem, Problem};
use mpc_storage::contracts::{self, Owned};
use mpc_storage::controller::{self, MonitorFilter, Webhook};
use mpc_storage::smfv2;
use serde::Deserialize;
use utoipa::IntoParams;

use super::instant;
use crate::AppState;
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
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<InventoryImport>)> {
    caller.require_operator()?;
    let is_csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv"));
    if !is_csv {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the inventory as `Content-Type: text/csv`",
        ));
    }
    let text = crate::extract::text_body(&body, "the CSV")?;
    let refused = |errors: Vec<controller::LineError>| {
        let mut e = ApiError::unprocessable(
            "invalid_inventory",
            format!("{} bad line(s); nothing was imported", errors.len()),
        )
        .ja("誤りのある行があるため、何も取り込んでいません");
        e.errors = errors
            .into_iter()
            .map(|l| FieldProblem {
                field: format!("line {}", l.line),
                message: l.message,
                message_ja: None,
            })
            .collect();
        e
    };
    let rows = controller::parse_inventory(text).map_err(refused)?;
    if rows.is_empty() {
        return Err(ApiError::unprocessable(
            "empty_inventory",
            "the file holds no device: nothing to import",
        )
        .ja("取り込む機器がありません"));
    }
    // Serials are matched without regard to letter case (R7.1: a contractor notifies a serial as
    // printed, in whichever case), so two that differ only by case are one device.
    let mut seen = std::collections::HashMap::new();
    let twice: Vec<controller::LineError> = rows
        .iter()
        .filter_map(|r| {
            let first = *seen.entry(r.serial.to_lowercase()).or_insert(r.line);
            (first != r.line).then(|| controller::LineError {
                line: r.line,
                message: format!(
                    "serial {} is the serial of line {first} in another letter case",
                    r.serial
                ),
            })
        })
        .collect();
    if !twice.is_empty() {
        return Err(refused(twice));
    }
    let serials: Vec<&str> = rows.iter().map(|r| r.serial.as_str()).collect();
    let journal = caller
        .journal("device.inventory_import")
        .request(serde_json::json!({ "serials": serials }));
    let key = state.secret_key.clone();
    let imported = state
        .jobs
        .run(move |store| async move {
            controller::import_inventory(&store, &key, &rows, journal).await
        })
        .await?
        .map_err(refused)?;
    state.devices.invalidate_all();
    Ok((StatusCode::CREATED, Json(InventoryImport { imported })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MonitorParams {
    /// `up` or `down`.
    pub state: Option<String>,
    pub contractor_id: Option<String>,
    /// `SEIL/X4`, `SA-W2L` or `SEIL CA10`.
    pub model: Option<String>,
    pub firmware: Option<String>,
}

/// Inventory devices with their monitoring state, filtered. Contractors see the devices
/// serving their contracts; operators see all.
#[utoipa::path(get, path = "/devices/monitoring", tag = "controller", params(MonitorParams),
    security(("bearer" = [])),
    responses((status = 200, body = MonitoredDeviceList), (status = 400, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<MonitorParams>,
) -> ApiResult<Json<MonitoredDeviceList>> {
    if let Some(s) = q.state.as_deref()
        && s != "up"
        && s != "down"
    {
        return Err(ApiError::bad_request(
            "invalid_query",
            "state is up or down",
        ));
    }
    let model = q
        .model
        .as_deref()
        .map(|m| {
            m.parse()
                .map_err(|_| ApiError::bad_request("invalid_query", format!("unknown model {m:?}")))
        })
        .transpose()?;
    let contractor_id = match (caller.actor.contractor_scope(), q.contractor_id) {
        (None, asked) => asked,
        (Some(own), Some(asked)) if own != asked => return Err(ApiError::not_found()),
        (Some(own), _) => Some(own.to_owned()),
    };
    let filter = MonitorFilter {
        state: q.state,
        contractor_id,
        model,
        firmware: q.firmware,
    };
    let rows = controller::monitored(&mut *state.store.conn().await?, &filter).await?;
    let opt = |m: Option<i64>| m.map(instant).transpose();
    let devices = rows
        .into_iter()
        .map(|r| {
            Ok(MonitoredDevice {
                state_since: opt(r.state_since)?,
                last_heartbeat: opt(r.last_heartbeat)?,
                serial: r.serial,
                model: r.model,
                contractor_id: r.contractor_id,
                state: r.state,
                firmware: r.firmware,
                uptime_seconds: r.uptime_seconds,
                applied_revision: r.applied_revision,
            })
        })
        .collect::<ApiResult<_>>()?;
    Ok(Json(MonitoredDeviceList { devices }))
}

/// A device's UP/DOWN changes, oldest first.
#[utoipa::path(get, path = "/devices/{serial}/history", tag = "controller",
    params(("serial" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = DeviceHistory), (status = 404, body = Problem)))]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(serial): Path<String>,
) -> ApiResult<Json<DeviceHistory>> {
    let mut conn = state.store.conn().await?;
    let owner = contracts::owner_of(&mut conn, Owned::Device, &serial).await?;
    let visible = match &owner {
        Some(owner) => caller.actor.sees_contractor(owner),
        None => caller.actor.is_operator() && controller::in_inventory(&mut conn, &serial).await?,
    };
    if !visible {
        return Err(ApiError::not_found());
    }
    let changes = controller::history(&mut conn, &serial)
        .await?
        .into_iter()
        .map(|(state, at)| {
            Ok(StateChangeView {
                state,
                at: instant(at)?,
            })
        })
        .collect::<ApiResult<_>>()?;
    let smfv2_events = smfv2::events(&mut conn, &serial)
        .await?
        .into_iter()
        .map(|e| {
            Ok(Smfv2EventView {
                at: instant(e.at)?,
                event: e.event,
                rule: e.rule,
                detail: e.detail,
            })
        })
        .collect::<ApiResult<_>>()?;
    Ok(Json(DeviceHistory {
        serial,
        changes,
        smfv2_events,
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
pub async fn add_smfv2(
    State(state): State<AppState>,
    caller: Caller,
    Path(serial): Path<String>,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<Smfv2IdentityView>)> {
    if !caller.actor.is_operator() {
        return Err(ApiError::not_found());
    }
    let (body, _) = payload.parse::<NewSmfv2Identity>()?;
    let columns = [
        body.distribution_id.as_str(),
        body.ls_key.as_deref().unwrap_or(""),
        body.rs_key.as_deref().unwrap_or(""),
        body.heartbeat_passphrase.as_deref().unwrap_or(""),
    ];
    let identity = match smfv2::Identity::from_columns(&columns) {
        Ok(Some(identity)) => identity,
        Ok(None) => {
            return Err(ApiError::unprocessable(
                "invalid_smfv2_identity",
                "a distribution ID is required",
            ));
        }
        Err(message) => return Err(ApiError::unprocessable("invalid_smfv2_identity", message)),
    };
    // The keys stay out of the journal: the outcome names the unit and its Distribution ID.
    let journal = caller.journal("device.smfv2_identity_create");
    smfv2::create(&state.store, &state.secret_key, &serial, &identity, journal).await?;
    let summary = smfv2::summary(&mut *state.store.conn().await?, &serial)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok((
        StatusCode::CREATED,
        Json(Smfv2IdentityView {
            created_at: instant(summary.created_at)?,
            revealed_at: summary.revealed_at.map(instant).transpose()?,
            serial: summary.serial,
            distribution_id: summary.distribution_id,
        }),
    ))
}

/// Shows a unit's SMFv2 keys, once (operators): they are marked shown as they are read, and
/// asked again the answer is 409. 404 when the unit has no SMFv2 identity, and to anyone but
/// an operator (the keys are no contractor's to see).
#[utoipa::path(post, path = "/devices/{serial}/smfv2/reveal", tag = "controller",
    params(("serial" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Smfv2Keys), (status = 404, body = Problem),
              (status = 409, body = Problem)))]
pub async fn reveal_smfv2(
    State(state): State<AppState>,
    caller: Caller,
    Path(serial): Path<String>,
) -> ApiResult<Json<Smfv2Keys>> {
    if !caller.actor.is_operator() {
        return Err(ApiError::not_found());
    }
    let journal = caller.journal("device.smfv2_reveal");
    let identity = smfv2::reveal(&state.store, &state.secret_key, &serial, journal).await?;
    Ok(Json(Smfv2Keys {
        serial,
        distribution_id: identity.distribution_id,
        ls_key: identity.ls_key,
        rs_key: identity.rs_key,
        heartbeat_passphrase: identity.heartbeat_passphrase,
    }))
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
pub async fn webhooks(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<WebhookList>> {
    caller.require_operator()?;
    let hooks = controller::webhooks(&mut *state.store.conn().await?).await?;
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
pub async fn add_webhook(
    State(state): State<AppState>,
    caller: Caller,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<WebhookView>)> {
    caller.require_operator()?;
    let (body, raw) = payload.parse::<NewWebhook>()?;
    let url = body.url.trim();
    let valid = reqwest::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !valid {
        return Err(mpc_domain::account::FieldError {
            field: "url",
            message_en: format!("url must be an http:// or https:// URL: {url:?}"),
            message_ja: "url は http:// または https:// の URL で指定してください".into(),
        }
        .into());
    }
    let hook = controller::add_webhook(
        &state.store,
        url,
        caller.journal("webhook.create").request(raw),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(webhook_view(hook)?)))
}

/// One alert webhook (operators; others get 404).
#[utoipa::path(get, path = "/webhooks/{webhook_id}", tag = "controller",
    params(("webhook_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = WebhookView), (status = 404, body = Problem)))]
pub async fn webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(webhook_id): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    if !caller.actor.is_operator() {
        return Err(ApiError::not_found());
    }
    let hook = controller::webhook(&mut *state.store.conn().await?, &webhook_id).await?;
    Ok(Json(webhook_view(hook)?))
}

/// Removes an alert webhook (operators; others get 404).
#[utoipa::path(delete, path = "/webhooks/{webhook_id}", tag = "controller",
    params(("webhook_id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(webhook_id): Path<String>,
) -> ApiResult<StatusCode> {
    if !caller.actor.is_operator() {
        return Err(ApiError::not_found());
    }
    controller::remove_webhook(&state.store, &webhook_id, caller.journal("webhook.delete")).await?;
    Ok(StatusCode::NO_CONTENT)
}
