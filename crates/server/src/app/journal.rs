//! The journal: the record of every accepted change, as operators and contractors may read it.

use mpc_api_types::journal::{JournalEntry, JournalPage};
use mpc_storage::journal::{self, JournalQuery};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::app::support::{instant, limit};
use crate::app::users;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

/// What to look for in the journal; every field narrows the search. The API reads it from
/// the query string.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Search {
    /// Only this operation, e.g. `contractor.create`.
    pub operation: Option<String>,
    /// Only changes by this actor: a username, or as recorded (`user:<id>`, `cli`, `system`).
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

/// One page of the journal, newest first. Contractor users read the changes to their own data
/// only.
///
/// # Errors
/// 404 when a contractor user asks for another contractor's changes; the database's.
pub async fn list(state: &AppState, caller: &Caller, search: Search) -> ApiResult<JournalPage> {
    let contractor_id = match (caller.actor.contractor_scope(), search.contractor_id) {
        (None, requested) => requested,
        (Some(own), Some(requested)) if requested != own => return Err(ApiError::not_found()),
        (Some(own), _) => Some(own.to_owned()),
    };
    let limit = limit(search.limit);
    let actor = match search.actor.as_deref() {
        Some(named) => Some(users::actor_named(state, named).await?),
        None => None,
    };
    let rows = journal::list(
        &state.store,
        &JournalQuery {
            operation: search.operation,
            actor,
            contractor_id,
            subject: search.subject,
            before: search.before,
            limit: limit + 1,
        },
    )
    .await?;
    let next_cursor = (rows.len() as i64 > limit).then(|| rows[limit as usize - 1].seq);
    let actors: Vec<&str> = rows.iter().map(|r| r.actor.as_str()).collect();
    let names = users::actor_names(state, &actors).await?;
    let entries = rows
        .into_iter()
        .take(limit as usize)
        .map(|r| {
            Ok(JournalEntry {
                seq: r.seq,
                at: instant(r.at)?,
                actor_name: names.get(&r.actor).cloned(),
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
    Ok(JournalPage {
        entries,
        next_cursor,
    })
}
