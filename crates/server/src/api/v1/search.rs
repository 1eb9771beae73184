//! `/search`: anything by part of its id, serial, ICCID, name or number.

use axum::Json;
use axum::extract::State;
use mpc_api_types::Problem;
use mpc_api_types::search::SearchResults;

use crate::AppState;
use crate::app::search::{self, SearchQuery};
use crate::error::ApiResult;
use crate::extract::{Caller, Params};

/// Finds contracts, devices, SIMs, contractors and invoices whose id, serial, ICCID, name or
/// number contains what is typed (case-insensitive), a few of each kind with its total, or
/// with `kind` a page of one kind. Contractor users find only their own things.
#[utoipa::path(get, path = "/search", tag = "search", params(SearchQuery),
    security(("bearer" = [])),
    responses((status = 200, body = SearchResults), (status = 422, body = Problem)))]
pub(super) async fn find(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<SearchQuery>,
) -> ApiResult<Json<SearchResults>> {
    Ok(Json(search::find(&state, &caller, &q).await?))
}
