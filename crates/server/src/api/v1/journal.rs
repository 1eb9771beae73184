//! `/journal`: the record of every accepted change.

use axum::Json;
use axum::extract::State;
use mpc_api_types::Problem;
use mpc_api_types::journal::JournalPage;

use crate::AppState;
use crate::app::journal;
use crate::error::ApiResult;
use crate::extract::{Caller, Params};

/// Reads the journal, newest first. Contractor users read the changes to their own data only.
#[utoipa::path(get, path = "/journal", tag = "journal", params(journal::Search),
    security(("bearer" = [])),
    responses((status = 200, body = JournalPage), (status = 404, body = Problem)))]
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(search): Params<journal::Search>,
) -> ApiResult<Json<JournalPage>> {
    Ok(Json(journal::list(&state, &caller, search).await?))
}
