//! `/requests`: what contractors ask for, and operators' acceptance.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mpc_api_types::Problem;
use mpc_api_types::contracts::{
    DefaultedDates, RejectRequest, RequestList, RequestView, SubmitRequest,
};
use mpc_domain::request::{Acceptance, RequestStatus};
use mpc_storage::accounts;
use mpc_storage::contracts::requests::{self, RequestRecord};
use serde::Deserialize;
use utoipa::IntoParams;

use super::support::{Dates, today};
use super::{MAX_LIMIT, limit};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, Params};
use crate::views;

/// A pending or closed request the caller may see.
async fn visible(state: &AppState, caller: &Caller, id: &str) -> ApiResult<RequestRecord> {
    let row = requests::get_request(&state.store, id).await?;
    caller.require_contractor(&row.contractor_id)?;
    Ok(row)
}

/// Fills an acceptance's date: a notice arrives the day it was submitted, anything else is
/// accepted today.
fn complete(
    mut acceptance: Acceptance,
    notice: bool,
    submitted_on: &str,
    dates: &mut Dates,
) -> ApiResult<Acceptance> {
    if acceptance.on.is_none() {
        let on = if notice {
            Dates::parse("submitted_on", Some(submitted_on))?.unwrap_or_else(today)
        } else {
            today()
        };
        dates.defaulted.insert("accept.on".into(), on.to_string());
        acceptance.on = Some(on);
    }
    Ok(acceptance)
}

/// Submits a request for a contractor.
///
/// The request is checked against the regulation at once: a request the rules refuse answers
/// 422 with the rule id. Operators may give `submitted_on` (a paper form) and `accept` to
/// accept it in the same step.
#[utoipa::path(post, path = "/contractors/{contractor_id}/requests", tag = "requests",
    params(("contractor_id" = String, Path)), request_body = SubmitRequest, security(("bearer" = [])),
    responses((status = 201, body = RequestView), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<RequestView>)> {
    caller.require_contractor(&contractor_id)?;
    accounts::get_contractor(&state.store, &contractor_id).await?;
    let (body, raw) = payload.parse::<SubmitRequest>()?;
    body.request.check_entry()?;
    if let Some(a) = &body.accept {
        a.check_entry()?;
    }
    if !caller.actor.is_operator() && (body.submitted_on.is_some() || body.accept.is_some()) {
        return Err(ApiError::forbidden(
            "only operators record submission dates or accept requests",
        ));
    }
    let mut dates = Dates::default();
    let submitted_on = dates.or_today("submitted_on", body.submitted_on.as_deref())?;
    let accept = body
        .accept
        .map(|a| {
            complete(
                a,
                body.request.is_notice(),
                &submitted_on.to_string(),
                &mut dates,
            )
        })
        .transpose()?;
    let (row, _) = requests::submit(
        &state.store,
        &contractor_id,
        &body.request,
        submitted_on,
        &format!("user:{}", caller.actor.user_id()),
        accept.as_ref(),
        caller.journal("request.submit").request(raw),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(views::request(row, dates.defaulted)?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `pending`, `accepted`, `rejected` or `withdrawn`.
    pub status: Option<String>,
    /// Operators: only this contractor's requests.
    pub contractor_id: Option<String>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

async fn list_for(
    state: &AppState,
    contractor: Option<&str>,
    q: &ListParams,
) -> ApiResult<Json<RequestList>> {
    if let Some(s) = q.status.as_deref()
        && !mpc_domain::request::STATUSES.contains(&s)
    {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!(
                "status {s:?} is not one of {}",
                mpc_domain::request::STATUSES.join(", ")
            ),
        ));
    }
    let limit = limit(q.limit.map(|l| l.min(MAX_LIMIT)));
    let mut rows = requests::list_requests(
        &state.store,
        contractor,
        q.status.as_deref(),
        q.after.as_deref(),
        limit + 1,
    )
    .await?;
    let next_cursor = (rows.len() as i64 > limit).then(|| {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id.clone())
    });
    Ok(Json(RequestList {
        requests: rows
            .into_iter()
            .map(|r| views::request(r, DefaultedDates::new()))
            .collect::<Result<_, _>>()?,
        next_cursor: next_cursor.flatten(),
    }))
}

/// The work queue: every contractor's requests (operators only), oldest first.
#[utoipa::path(get, path = "/requests", tag = "requests", params(ListParams),
    security(("bearer" = [])),
    responses((status = 200, body = RequestList), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListParams>,
) -> ApiResult<Json<RequestList>> {
    caller.require_operator()?;
    list_for(&state, q.contractor_id.as_deref(), &q).await
}

/// A contractor's requests, oldest first.
#[utoipa::path(get, path = "/contractors/{contractor_id}/requests", tag = "requests",
    params(("contractor_id" = String, Path), ListParams), security(("bearer" = [])),
    responses((status = 200, body = RequestList), (status = 404, body = Problem)))]
pub async fn list_of_contractor(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
    Params(q): Params<ListParams>,
) -> ApiResult<Json<RequestList>> {
    caller.require_contractor(&contractor_id)?;
    accounts::get_contractor(&state.store, &contractor_id).await?;
    list_for(&state, Some(&contractor_id), &q).await
}

/// Reads one request.
#[utoipa::path(get, path = "/requests/{request_id}", tag = "requests",
    params(("request_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = RequestView), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(request_id): Path<String>,
) -> ApiResult<Json<RequestView>> {
    Ok(Json(views::request(
        visible(&state, &caller, &request_id).await?,
        DefaultedDates::new(),
    )?))
}

/// Accepts a pending request (operators only) with its dates: the acceptance date, or for a
/// cancellation or stop the day the notice arrived (defaults: a notice arrived the day it was
/// submitted; anything else is accepted today).
#[utoipa::path(post, path = "/requests/{request_id}/accept", tag = "requests",
    params(("request_id" = String, Path)), request_body = Acceptance, security(("bearer" = [])),
    responses((status = 200, body = RequestView), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    Path(request_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<RequestView>> {
    let row = visible(&state, &caller, &request_id).await?;
    caller.require_operator()?;
    let (acceptance, raw) = payload.parse_or_empty::<Acceptance>()?;
    acceptance.check_entry()?;
    let mut dates = Dates::default();
    let acceptance = complete(
        acceptance,
        row.request()?.is_notice(),
        &row.submitted_on,
        &mut dates,
    )?;
    let (row, _) = requests::accept(
        &state.store,
        &request_id,
        &acceptance,
        &format!("user:{}", caller.actor.user_id()),
        caller.journal("request.accept").request(raw),
    )
    .await?;
    Ok(Json(views::request(row, dates.defaulted)?))
}

/// Rejects a pending request (operators only).
#[utoipa::path(post, path = "/requests/{request_id}/reject", tag = "requests",
    params(("request_id" = String, Path)), request_body = RejectRequest, security(("bearer" = [])),
    responses((status = 200, body = RequestView), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(request_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<RequestView>> {
    visible(&state, &caller, &request_id).await?;
    caller.require_operator()?;
    let (body, raw) = payload.parse::<RejectRequest>()?;
    let reason = mpc_domain::account::text("reason", &body.reason, 500)?;
    let row = requests::close_pending(
        &state.store,
        &request_id,
        RequestStatus::Rejected,
        today(),
        &format!("user:{}", caller.actor.user_id()),
        Some(&reason),
        caller.journal("request.reject").request(raw),
    )
    .await?;
    Ok(Json(views::request(row, DefaultedDates::new())?))
}

/// Withdraws a pending request (its contractor, or an operator).
#[utoipa::path(post, path = "/requests/{request_id}/withdraw", tag = "requests",
    params(("request_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = RequestView), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    Path(request_id): Path<String>,
) -> ApiResult<Json<RequestView>> {
    visible(&state, &caller, &request_id).await?;
    let row = requests::close_pending(
        &state.store,
        &request_id,
        RequestStatus::Withdrawn,
        today(),
        &format!("user:{}", caller.actor.user_id()),
        None,
        caller.journal("request.withdraw"),
    )
    .await?;
    Ok(Json(views::request(row, DefaultedDates::new())?))
}
