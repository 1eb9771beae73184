//! Mobile data: SIM registration and usage ingestion (operators), usage views (owners and
//! operators), throttle decisions and their changes (operators) — R9.3, R9.6, R9.9.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use mpc_api_types::Problem;
use mpc_api_types::mobile::{
    ContractMobileUsage, GroupUsage, ManualThrottle, RejectedRecord, SimBinding, SimView,
    ThrottleDecision, ThrottleDecisions, ThrottleEvent, ThrottleEvents, UsageIngest,
};
use mpc_domain::mobile::ManualAction;
use mpc_storage::mobile as store;
use serde::Deserialize;
use utoipa::IntoParams;

use super::instant;
use crate::error::ApiResult;
use crate::extract::{Caller, JsonBody, Params};
use crate::{AppState, app};

fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Ingests usage records (operators): JSON lines (`application/x-ndjson`) of
/// `{record_id, iccid, start, end, bytes_up, bytes_down}`, or CSV (`text/csv`) with a header
/// naming those columns. `start` and `end` are RFC 3339 instants, or date-times without offset
/// read as Tokyo time. Records are idempotent by `record_id`: an identical re-send is a
/// duplicate, one with other values a correction. Bad records, unknown SIMs and records outside
/// any option period are refused line by line and kept for operators; the rest is stored.
#[utoipa::path(post, path = "/mobile/usage", tag = "mobile",
    request_body(content = String, content_type = "application/x-ndjson"), security(("bearer" = [])),
    responses((status = 200, body = UsageIngest), (status = 403, body = Problem),
              (status = 415, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn ingest(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<UsageIngest>> {
    let batch = app::mobile::UsageBatch {
        body: &body,
        format: match media_type(&headers).as_str() {
            "application/x-ndjson" | "application/jsonl" => Some(app::mobile::UsageFormat::Ndjson),
            "text/csv" => Some(app::mobile::UsageFormat::Csv),
            _ => None,
        },
        lines_before: 0,
        file: None,
    };
    Ok(Json(app::mobile::ingest(&state, &caller, batch).await?))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct RejectionParams {
    /// The `batch_id` an ingestion answered with.
    pub(super) batch_id: String,
}

/// The records an ingestion refused, with their lines and reasons, as kept for operators.
#[utoipa::path(get, path = "/mobile/rejections", tag = "mobile", params(RejectionParams),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<RejectedRecord>), (status = 403, body = Problem)))]
pub(super) async fn rejections(
    State(state): State<AppState>,
    caller: Caller,
    crate::extract::Params(q): crate::extract::Params<RejectionParams>,
) -> ApiResult<Json<Vec<RejectedRecord>>> {
    Ok(Json(
        app::mobile::rejections(&state, &caller, &q.batch_id).await?,
    ))
}

/// Binds a SIM to a `mobile_access` option of an SA-W2L contract from a day (operators; others
/// get 404). The SIM's earlier service, and the option's earlier SIM, end the day before.
#[utoipa::path(put, path = "/mobile/sims/{iccid}", tag = "mobile", request_body = SimBinding,
    params(("iccid" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = SimView), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub(super) async fn bind_sim(
    State(state): State<AppState>,
    caller: Caller,
    Path(iccid): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<SimView>> {
    Ok(Json(
        app::mobile::bind_sim(&state, &caller, &iccid, payload.into()).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct MonthParams {
    /// `YYYY-MM` (Tokyo); the current month when omitted.
    pub(super) month: Option<String>,
}

/// A contract's mobile use in a Tokyo month: per SIM, use against the cap and per day (owner and
/// operators; others get 404). A record counts in the month and on the day of its start.
#[utoipa::path(get, path = "/contracts/{contract_id}/mobile-usage", tag = "mobile",
    params(("contract_id" = String, Path, description = "The contract's number (C-000123) or its id"), MonthParams), security(("bearer" = [])),
    responses((status = 200, body = ContractMobileUsage), (status = 404, body = Problem)))]
pub(super) async fn contract_usage(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
    Params(q): Params<MonthParams>,
) -> ApiResult<Json<ContractMobileUsage>> {
    Ok(Json(
        app::mobile::contract_usage(&state, &caller, &contract_id, q.month.as_deref()).await?,
    ))
}

/// A packet share group's pooled use in a Tokyo month against the pack in force (R9.6), per
/// member counting only the days it was a member (owner and operators; others get 404).
#[utoipa::path(get, path = "/packet-share-groups/{group_id}/usage", tag = "mobile",
    params(("group_id" = String, Path), MonthParams), security(("bearer" = [])),
    responses((status = 200, body = GroupUsage), (status = 404, body = Problem)))]
pub(super) async fn group_usage(
    State(state): State<AppState>,
    caller: Caller,
    Path(group_id): Path<String>,
    Params(q): Params<MonthParams>,
) -> ApiResult<Json<GroupUsage>> {
    Ok(Json(
        app::mobile::group_usage(&state, &caller, &group_id, q.month.as_deref()).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct AtParams {
    /// An RFC 3339 instant; now when omitted.
    pub(super) at: Option<String>,
}

/// The throttle decisions in force (operators): every SIM throttled automatically or by hand,
/// or released by hand.
#[utoipa::path(get, path = "/mobile/throttles", tag = "mobile", params(AtParams),
    security(("bearer" = [])),
    responses((status = 200, body = ThrottleDecisions), (status = 400, body = Problem),
              (status = 403, body = Problem)))]
pub(super) async fn throttles(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<AtParams>,
) -> ApiResult<Json<ThrottleDecisions>> {
    Ok(Json(
        app::mobile::throttles(&state, &caller, q.at.as_deref()).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct EventParams {
    /// The `cursor` of the previous answer; 0 (from the start) when omitted.
    pub(super) after: Option<i64>,
    /// At most this many events (1–1000, default 100).
    pub(super) limit: Option<u32>,
}

/// Changes of throttle decisions after a cursor, oldest first (operators): what a mobile core
/// polls to act on.
#[utoipa::path(get, path = "/mobile/throttle-events", tag = "mobile", params(EventParams),
    security(("bearer" = [])),
    responses((status = 200, body = ThrottleEvents), (status = 403, body = Problem)))]
pub(super) async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<EventParams>,
) -> ApiResult<Json<ThrottleEvents>> {
    caller.require_operator()?;
    let after = q.after.unwrap_or(0);
    let rows = store::events_since(
        &mut *state.store.conn().await?,
        after,
        super::limit(q.limit)?,
    )
    .await?;
    let cursor = rows.last().map_or(after, |r| r.seq);
    let opt = |m: Option<i64>| m.map(instant).transpose();
    let events = rows
        .into_iter()
        .map(|r| {
            Ok(ThrottleEvent {
                from: opt(r.from_at)?,
                until: opt(r.until_at)?,
                created_at: instant(r.created_at)?,
                seq: r.seq,
                iccid: r.iccid,
                option_id: r.option_id,
                kind: r.kind.to_string(),
                month: r.month,
                reason: r.reason,
            })
        })
        .collect::<ApiResult<_>>()?;
    Ok(Json(ThrottleEvents { events, cursor }))
}

/// Throttles a SIM by hand, with a reason, until released by hand (operators; others get 404;
/// R9.9). Journaled and published as a `manual_throttle` event.
#[utoipa::path(post, path = "/mobile/sims/{iccid}/throttle", tag = "mobile",
    request_body = ManualThrottle, params(("iccid" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ThrottleDecision), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub(super) async fn throttle(
    State(state): State<AppState>,
    caller: Caller,
    Path(iccid): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<ThrottleDecision>> {
    Ok(Json(
        app::mobile::manual(
            &state,
            &caller,
            &iccid,
            ManualAction::Throttle,
            payload.into(),
        )
        .await?,
    ))
}

/// Releases a SIM by hand, with a reason, until 00:00 Tokyo on the next 1st, when the next
/// month's use is measured afresh (operators; others get 404; R9.9).
#[utoipa::path(post, path = "/mobile/sims/{iccid}/release", tag = "mobile",
    request_body = ManualThrottle, params(("iccid" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ThrottleDecision), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub(super) async fn release(
    State(state): State<AppState>,
    caller: Caller,
    Path(iccid): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<ThrottleDecision>> {
    Ok(Json(
        app::mobile::manual(
            &state,
            &caller,
            &iccid,
            ManualAction::Release,
            payload.into(),
        )
        .await?,
    ))
}
