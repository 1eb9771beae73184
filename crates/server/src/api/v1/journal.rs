//! `/journal`: the record of every accepted change.

use axum::Json;
use axum::extract::State;
use mpc_api_types::Problem;
use mpc_api_types::journal::JournalPage;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::app::journal;
use crate::error::ApiResult;
use crate::extract::{Caller, Params};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this operation, e.g. `contractor.create`.
    pub operation: Option<String>,
    /// Only changes by this actor, e.g. `user:<id>`.
    pub actor: Option<String>,
    /// Only changes to this contractor's data.
    pub contractor_id: Option<String>,
    /// Only changes of this resource.
    pub subject: Option<String>,
    /// Only entries older than this sequence number (the previous page's `next_cursor`).
    pub before: Option<i64>,
    /// At most this many entries (1–1000, default 100).
    pub limit: Option<u32>,
}

/// Reads the journal, newest first. Contractor users read the changes to their own data only.
#[utoipa::path(get, path = "/journal", tag = "journal", params(ListParams),
    security(("bearer" = [])),
    responses((status = 200, body = JournalPage), (status = 404, body = Problem)))]
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListParams>,
) -> ApiResult<Json<JournalPage>> {
    let search = journal::Search {
        operation: q.operation,
        actor: q.actor,
        contractor_id: q.contractor_id,
        subject: q.subject,
        before: q.before,
        limit: q.limit,
    };
    Ok(Json(journal::list(&state, &caller, search).await?))
}
