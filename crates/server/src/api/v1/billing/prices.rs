//! `/prices`: the price book (R14.1).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use mpc_api_types::Problem;
use mpc_api_types::billing::{PriceList, SetPrices};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::api::csv_download;
use crate::app::prices::{self, Part};
use crate::error::ApiResult;
use crate::extract::{Caller, JsonBody, Params};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(in crate::api::v1) struct PriceParams {
    /// Operators: only this contractor's agreements (`list` for list prices only).
    pub(in crate::api::v1) contractor_id: Option<String>,
}

/// The price book: list prices and agreements (R14.1). Contractors see the list and their own
/// agreements.
#[utoipa::path(get, path = "/prices", tag = "billing", params(PriceParams), security(("bearer" = [])),
    responses((status = 200, body = PriceList), (status = 401, body = Problem)))]
pub(in crate::api::v1) async fn prices(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<PriceParams>,
) -> ApiResult<Json<PriceList>> {
    let part = Part::of(q.contractor_id.as_deref());
    let prices = prices::list(&state, &caller, part).await?;
    Ok(Json(PriceList {
        prices: prices.into_iter().map(prices::view).collect(),
    }))
}
/// Sets prices (operators): each replaces the amount of the same key, contractor and day.
#[utoipa::path(put, path = "/prices", tag = "billing", request_body = SetPrices, security(("bearer" = [])),
    responses((status = 200, body = PriceList), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(in crate::api::v1) async fn set_prices(
    State(state): State<AppState>,
    caller: Caller,
    payload: JsonBody,
) -> ApiResult<Json<PriceList>> {
    let prices = prices::set(&state, &caller, payload.into()).await?;
    Ok(Json(PriceList {
        prices: prices.into_iter().map(prices::view).collect(),
    }))
}
/// The price book as CSV (operators), with the names of the items and contractors.
///
/// Columns `key,contractor_id,effective_from,amount,label,contractor_name`; UTF-8 with a byte
/// order mark, so that Excel opens it as written. Import does not read the names back.
#[utoipa::path(get, path = "/prices.csv", tag = "billing", security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = Problem)))]
pub(in crate::api::v1) async fn prices_csv(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Response> {
    let csv = prices::csv(&state, &caller).await?;
    Ok(csv_download(csv, "prices.csv"))
}
/// Imports prices from CSV (operators), all or nothing; each bad row is named by line.
///
/// The file may start with a byte order mark and may carry the export's name columns.
#[utoipa::path(post, path = "/prices/import", tag = "billing", request_body(content = String, content_type = "text/csv"),
    security(("bearer" = [])),
    responses((status = 200, body = PriceList), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(in crate::api::v1) async fn import_prices(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<PriceList>> {
    let prices = prices::import(&state, &caller, &body).await?;
    Ok(Json(PriceList {
        prices: prices.into_iter().map(prices::view).collect(),
    }))
}
/// Removes a contractor's agreed price (operators, R14.1): the agreement for `key` from
/// `effective_from` (`YYYY-MM-DD`); a key naming a device model carries it URL-encoded
/// (`adapter.monthly.internet_gateway.SEIL%2FX4`). From then on the price in force is the
/// contractor's earlier agreement for the key, or the list price.
#[utoipa::path(delete, path = "/contractors/{contractor_id}/agreed-prices/{key}/{effective_from}",
    tag = "billing",
    params(("contractor_id" = String, Path), ("key" = String, Path), ("effective_from" = String, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "removed"), (status = 403, body = Problem),
              (status = 404, body = Problem, description = "no such agreement"),
              (status = 422, body = Problem)))]
pub(in crate::api::v1) async fn remove_agreement(
    State(state): State<AppState>,
    caller: Caller,
    Path((contractor_id, key, effective_from)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    prices::remove(&state, &caller, &contractor_id, &key, &effective_from).await?;
    Ok(StatusCode::NO_CONTENT)
}
