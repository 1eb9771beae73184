//! `/journal`: the record of every accepted change.

use axum::Json;
use axum::extract::State;
use mpc_api_types::Problem;
use mpc_api_types::journal::{JournalEntry, JournalPage};
use mpc_storage::journal::{self, JournalQuery};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{instant, limit};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
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
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListParams>,
) -> ApiResult<Json<JournalPage>> {
    let contractor_id = match (caller.actor.contractor_scope(), q.contractor_id) {
        (None, requested) => requested,
        (Some(own), Some(requested)) if requested != own => return Err(ApiError::not_found()),
        (Some(own), _) => Some(own.to_owned()),
    };
    let limit = limit(q.limit);
    let rows = journal::list(
        &state.store,
        &JournalQuery {
            operation: q.operation,
            actor: q.actor,
            contractor_id,
            subject: q.subject,
            before: q.before,
            limit: limit + 1,
        },
    )
    .await?;
    let next_cursor = (rows.len() as i64 > limit).then(|| rows[limit as usize - 1].seq);
    let entries = rows
        .into_iter()
        .take(limit as usize)
        .map(|r| {
            Ok(JournalEntry {
                seq: r.seq,
                at: instant(r.at)?,
                actor: r.actor,
                request_id: r.request_id,
                operation: r.operation,
                contractor_id: r.contractor_id,
                subject: r.subject,
                request: serde_json::from_str(&r.request).unwrap_or(serde_json::Value::Null),
                outcome: serde_json::from_str(&r.outcome).unwrap_or(serde_json::Value::Null),
            })
        })
        .collect::<ApiResult<_>>()?;
    Ok(Json(JournalPage {
        entries,
        next_cursor,
    }))
}
