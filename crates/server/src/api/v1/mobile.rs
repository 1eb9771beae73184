//! Mobile data: SIM registration and usage ingestion (operators), usage views (owners and
//! operators), throttle decisions and their changes (operators) — R9.3, R9.6, R9.9.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use jiff::Timestamp;
use mpc_api_types::Problem;
use mpc_api_types::mobile::{
    ContractMobileUsage, GroupUsage, ManualThrottle, RejectedRecord, SimBinding, SimView,
    ThrottleDecision, ThrottleDecisions, ThrottleEvent, ThrottleEvents, UsageIngest,
};
use mpc_domain::mobile::{self, ManualAction, Source};
use mpc_storage::mobile as store;
use serde::Deserialize;
use utoipa::IntoParams;

use super::instant;
use super::support::Dates;
use crate::error::{ApiError, ApiResult};
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
    caller.require_operator()?;
    let text = crate::extract::text_body(&body, "the body")?;
    let (records, rejected) = match media_type(&headers).as_str() {
        "application/x-ndjson" | "application/jsonl" => store::parse_ndjson(text),
        "text/csv" => {
            store::parse_csv(text).map_err(|e| ApiError::unprocessable("invalid_csv_header", e))?
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send usage as `application/x-ndjson` or `text/csv`",
            ));
        }
    };
    let lines = records.len() + rejected.len();
    let journal = caller
        .journal("mobile.usage_ingest")
        .request(serde_json::json!({ "lines": lines }));
    let s = state
        .jobs
        .run(move |store| async move { store::ingest(&store, records, rejected, journal).await })
        .await?;
    Ok(Json(UsageIngest {
        batch_id: s.batch_id,
        accepted: s.accepted as u64,
        duplicates: s.duplicates as u64,
        corrected: s.corrected as u64,
        rejected: s
            .rejected
            .into_iter()
            .map(|r| RejectedRecord {
                line: r.line as u64,
                record_id: r.record_id,
                iccid: r.iccid,
                reason: r.reason.to_owned(),
                detail: r.detail,
            })
            .collect(),
    }))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RejectionParams {
    /// The `batch_id` an ingestion answered with.
    pub batch_id: String,
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
    caller.require_operator()?;
    let rows = store::rejections(&mut *state.store.conn().await?, &q.batch_id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| RejectedRecord {
                line: u64::try_from(r.line).unwrap_or_default(),
                record_id: r.record_id,
                iccid: r.iccid,
                reason: r.reason,
                detail: r.detail,
            })
            .collect(),
    ))
}

/// An ICCID: 18 to 22 digits (ITU-T E.118).
fn check_iccid(iccid: &str) -> ApiResult<()> {
    if mobile::is_iccid(iccid) {
        return Ok(());
    }
    Err(mpc_domain::account::FieldError {
        field: "iccid",
        message_en: format!("iccid must be 18 to 22 digits: {iccid:?}"),
        message_ja: "ICCID は18〜22桁の数字で指定してください".into(),
    }
    .into())
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
    if !caller.actor.is_operator() {
        return Err(ApiError::not_found());
    }
    let (body, raw) = payload.parse::<SimBinding>()?;
    check_iccid(&iccid)?;
    let from = Dates::default().or_today("from", body.from.as_deref())?;
    let row = store::bind_sim(
        &state.store,
        &iccid,
        &body.option_id,
        from,
        caller.journal("mobile.sim_bind").request(raw),
    )
    .await??;
    Ok(Json(SimView {
        iccid: row.iccid,
        option_id: row.option_id,
        from: row.from_on,
        until: row.until_on,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MonthParams {
    /// `YYYY-MM` (Tokyo); the current month when omitted.
    pub month: Option<String>,
}

/// A contract's mobile use in a Tokyo month: per SIM, use against the cap and per day (owner and
/// operators; others get 404). A record counts in the month and on the day of its start.
#[utoipa::path(get, path = "/contracts/{contract_id}/mobile-usage", tag = "mobile",
    params(("contract_id" = String, Path), MonthParams), security(("bearer" = [])),
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
pub struct AtParams {
    /// An RFC 3339 instant; now when omitted.
    pub at: Option<String>,
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
    caller.require_operator()?;
    let at = match q.at.as_deref() {
        Some(s) => s
            .parse::<Timestamp>()
            .map_err(|_| format!("at {s:?} is not an RFC 3339 instant"))
            .and_then(|at| {
                mpc_domain::calendar::business_instant(at).map_err(|e| format!("at: {e}"))
            })
            .map_err(|detail| ApiError::bad_request("invalid_query", detail))?,
        None => Timestamp::now(),
    };
    let decisions = store::decisions(&mut *state.store.conn().await?, at)
        .await?
        .into_iter()
        .map(|d| ThrottleDecision {
            iccid: d.iccid,
            option_id: d.option_id,
            throttled: d.state.throttled,
            source: match d.state.source {
                Source::Automatic => "automatic",
                Source::Manual => "manual",
            }
            .to_owned(),
            until: d.state.until.map(|u| u.to_string()),
            reason: match d.state.source {
                Source::Manual => d.manual.map(|m| m.reason),
                Source::Automatic => d.automatic.map(|t| t.basis.reason()),
            },
        })
        .collect();
    Ok(Json(ThrottleDecisions {
        at: at.to_string(),
        decisions,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// The `cursor` of the previous answer; 0 (from the start) when omitted.
    pub after: Option<i64>,
    /// At most this many events (1–1000, default 100).
    pub limit: Option<u32>,
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
        super::limit(q.limit),
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

async fn manual(
    state: AppState,
    caller: Caller,
    iccid: String,
    payload: JsonBody,
    action: ManualAction,
) -> ApiResult<Json<ThrottleDecision>> {
    if !caller.actor.is_operator() {
        return Err(ApiError::not_found());
    }
    let (body, raw) = payload.parse::<ManualThrottle>()?;
    let at = Timestamp::now();
    let operation = match action {
        ManualAction::Throttle => "mobile.throttle",
        ManualAction::Release => "mobile.release",
    };
    let m = store::manual(
        &state.store,
        &iccid,
        action,
        &body.reason,
        at,
        caller.journal(operation).request(raw),
    )
    .await??;
    let option_id = store::sim(&mut *state.store.conn().await?, &iccid)
        .await?
        .last()
        .map(|s| s.option_id.clone())
        .unwrap_or_default();
    let state = mobile::state_at(at, &[], Some(&m)).map_err(|_| ApiError::internal())?;
    Ok(Json(ThrottleDecision {
        iccid,
        option_id,
        throttled: state.throttled,
        source: "manual".to_owned(),
        until: state.until.map(|u| u.to_string()),
        reason: Some(m.reason),
    }))
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
    manual(state, caller, iccid, payload, ManualAction::Throttle).await
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
    manual(state, caller, iccid, payload, ManualAction::Release).await
}
