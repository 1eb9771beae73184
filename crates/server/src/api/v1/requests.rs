//! `/requests`: what contractors ask for, and operators' acceptance.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mpc_api_types::Problem;
use mpc_api_types::contracts::{
    RejectRequest, RequestList, RequestPreview, RequestView, SubmitRequest,
};
use mpc_domain::request::Acceptance;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::app::requests::{self, PreviewQuery, Query};
use crate::error::ApiResult;
use crate::extract::{Caller, JsonBody, Params};

/// Submits a request for a contractor.
///
/// The request is checked against the regulation at once: a request the rules refuse answers
/// 422 with the rule id. Operators may give `submitted_on` (a paper form) and `accept` to
/// accept it in the same step.
#[utoipa::path(post, path = "/contractors/{contractor_id}/requests", tag = "requests",
    params(("contractor_id" = String, Path)), request_body = SubmitRequest, security(("bearer" = [])),
    responses((status = 201, body = RequestView), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<RequestView>)> {
    let view = requests::submit(&state, &caller, &contractor_id, payload.into()).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct ListParams {
    /// `pending`, `accepted`, `rejected` or `withdrawn`; anything else is a 400 listing them.
    pub(super) status: Option<String>,
    /// One kind of request: `apply_contract`, `change_item`, `add_option`,
    /// `change_usage_type`, `change_network_type`, `change_pack`, `cancel_contract`,
    /// `stop_option`, `stop_group`, `notify_serial`, `report_failure` or `report_loss`;
    /// anything else is a 400 listing them.
    pub(super) kind: Option<String>,
    /// Operators: only this contractor's requests.
    pub(super) contractor_id: Option<String>,
    /// The `next_cursor` of the previous page.
    pub(super) after: Option<String>,
    /// At most this many requests (1–1000, default 100).
    pub(super) limit: Option<u32>,
}

impl ListParams {
    fn query(self) -> Query {
        Query {
            status: self.status,
            kind: self.kind,
            after: self.after,
            limit: self.limit,
        }
    }
}

/// The work queue: every contractor's requests (operators only), oldest first.
#[utoipa::path(get, path = "/requests", tag = "requests", params(ListParams),
    security(("bearer" = [])),
    responses((status = 200, body = RequestList), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListParams>,
) -> ApiResult<Json<RequestList>> {
    let contractor_id = q.contractor_id.clone();
    Ok(Json(
        requests::queue(&state, &caller, contractor_id.as_deref(), &q.query()).await?,
    ))
}

/// A contractor's requests, oldest first.
#[utoipa::path(get, path = "/contractors/{contractor_id}/requests", tag = "requests",
    params(("contractor_id" = String, Path), ListParams), security(("bearer" = [])),
    responses((status = 200, body = RequestList), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn list_of_contractor(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
    Params(q): Params<ListParams>,
) -> ApiResult<Json<RequestList>> {
    Ok(Json(
        requests::list(&state, &caller, &contractor_id, &q.query()).await?,
    ))
}

/// Reads one request.
#[utoipa::path(get, path = "/requests/{request_id}", tag = "requests",
    params(("request_id" = String, Path, description = "The request's id or number (`REQ-000123`)")), security(("bearer" = [])),
    responses((status = 200, body = RequestView), (status = 404, body = Problem)))]
pub(super) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(request_id): Path<String>,
) -> ApiResult<Json<RequestView>> {
    Ok(Json(requests::get(&state, &caller, &request_id).await?))
}

/// Accepts a pending request (operators only) with its dates: the acceptance date, or for a
/// cancellation or stop the day the notice arrived (defaults: a notice arrived the day it was
/// submitted; anything else is accepted today).
#[utoipa::path(post, path = "/requests/{request_id}/accept", tag = "requests",
    params(("request_id" = String, Path, description = "The request's id or number (`REQ-000123`)")), request_body = Acceptance, security(("bearer" = [])),
    responses((status = 200, body = RequestView), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    Path(request_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<RequestView>> {
    Ok(Json(
        requests::accept(&state, &caller, &request_id, payload.into()).await?,
    ))
}

/// What accepting a pending request on a date would do (operators only), without doing it:
/// the decision acceptance runs, rolled back — its effects (end dates, what ends with it,
/// devices to return), the contractors it leaves ineligible (R6.8) and its charges in yen.
/// A date on which acceptance would be refused answers 422 with the rule.
#[utoipa::path(get, path = "/requests/{request_id}/preview", tag = "requests",
    params(("request_id" = String, Path), PreviewQuery), security(("bearer" = [])),
    responses((status = 200, body = RequestPreview), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    Path(request_id): Path<String>,
    Params(q): Params<PreviewQuery>,
) -> ApiResult<Json<RequestPreview>> {
    Ok(Json(
        requests::preview(&state, &caller, &request_id, &q).await?,
    ))
}

/// Rejects a pending request (operators only).
#[utoipa::path(post, path = "/requests/{request_id}/reject", tag = "requests",
    params(("request_id" = String, Path, description = "The request's id or number (`REQ-000123`)")), request_body = RejectRequest, security(("bearer" = [])),
    responses((status = 200, body = RequestView), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(request_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<RequestView>> {
    Ok(Json(
        requests::reject(&state, &caller, &request_id, payload.into()).await?,
    ))
}

/// Withdraws a pending request (its contractor, or an operator).
#[utoipa::path(post, path = "/requests/{request_id}/withdraw", tag = "requests",
    params(("request_id" = String, Path, description = "The request's id or number (`REQ-000123`)")), security(("bearer" = [])),
    responses((status = 200, body = RequestView), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub(super) async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    Path(request_id): Path<String>,
) -> ApiResult<Json<RequestView>> {
    Ok(Json(
        requests::withdraw(&state, &caller, &request_id).await?,
    ))
}
