//! The journal: the record of every accepted change, as operators and contractors may read it.

use mpc_api_types::journal::{JournalEntry, JournalPage};
use mpc_domain::calendar::tokyo_start_of_day;
use mpc_storage::journal::{self, JournalQuery};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::app::support::{Dates, instant, limit};
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
    /// Only entries written on or after this day, `YYYY-MM-DD` (Japan, D1).
    pub from: Option<String>,
    /// Only entries written on or before this day, `YYYY-MM-DD` (Japan, D1).
    pub to: Option<String>,
    /// At most this many entries (1–1000, default 100).
    pub limit: Option<u32>,
}

/// One page of the journal, newest first. Contractor users read the changes to their own data
/// only.
///
/// # Errors
/// 404 when a contractor user asks for another contractor's changes; the database's.
pub async fn list(state: &AppState, caller: &Caller, search: Search) -> ApiResult<JournalPage> {
    let limit = limit(search.limit)?;
    let query = JournalQuery {
        limit: limit + 1,
        ..query(state, caller, search).await?
    };
    let rows = journal::list(&state.store, &query).await?;
    let next_cursor = (rows.len() as i64 > limit).then(|| rows[limit as usize - 1].seq);
    let entries = entries(state, rows.into_iter().take(limit as usize).collect()).await?;
    Ok(JournalPage {
        entries,
        next_cursor,
    })
}

/// A numbered page of the journal and how many entries all pages hold.
#[derive(Debug)]
pub struct NumberedPage {
    pub entries: Vec<JournalEntry>,
    pub total: i64,
    /// The position of the first entry among all, from 1.
    pub first: i64,
    pub previous: Option<u32>,
    pub next: Option<u32>,
}

/// The entries per numbered page of [`page`] unless asked otherwise, and the most allowed.
pub const PER_PAGE: u32 = 50;
pub const MAX_PER_PAGE: u32 = 200;

/// Page `number` (from 1) of the journal, newest first, `search.limit` entries a page
/// ([`PER_PAGE`] by default), with the total the filters find: one count query and one page
/// query, never all rows.
///
/// # Errors
/// 422 `invalid_field` for page 0, more than [`MAX_PER_PAGE`] a page, or a malformed day; 404
/// as [`list`].
pub async fn page(
    state: &AppState,
    caller: &Caller,
    search: Search,
    number: u32,
) -> ApiResult<NumberedPage> {
    let (number, offset, per_page) =
        crate::app::support::numbered(Some(number), "limit", search.limit, PER_PAGE, MAX_PER_PAGE)?;
    let query = JournalQuery {
        offset,
        limit: per_page,
        ..query(state, caller, search).await?
    };
    let total = journal::count(&state.store, &query).await?;
    let rows = journal::list(&state.store, &query).await?;
    let shown = rows.len() as i64;
    Ok(NumberedPage {
        entries: entries(state, rows).await?,
        total,
        first: offset + 1,
        previous: (number > 1).then(|| number - 1),
        next: (offset + shown < total).then_some(number + 1),
    })
}

/// The storage query of a search as `caller` may run it: a contractor's own changes only,
/// days as Tokyo's instants (D1).
async fn query(state: &AppState, caller: &Caller, search: Search) -> ApiResult<JournalQuery> {
    let contractor_id = match (caller.actor.contractor_scope(), search.contractor_id) {
        (None, requested) => requested,
        (Some(own), Some(requested)) if requested != own => return Err(ApiError::not_found()),
        (Some(own), _) => Some(own.to_owned()),
    };
    let actor = match search.actor.as_deref() {
        Some(named) => Some(users::actor_named(state, named).await?),
        None => None,
    };
    let from = Dates::parse("from", search.from.as_deref())?;
    let to = Dates::parse("to", search.to.as_deref())?;
    let start = |d: jiff::civil::Date| {
        tokyo_start_of_day(d)
            .map(|t| t.as_microsecond())
            .map_err(|_| ApiError::internal())
    };
    let until = match to {
        // The day after `to` starts where `to` ends; past 2099-12-31 nothing is written.
        Some(d) => match d.tomorrow() {
            Ok(next) => Some(start(next)?),
            Err(_) => None,
        },
        None => None,
    };
    Ok(JournalQuery {
        operation: search.operation,
        actor,
        contractor_id,
        subject: search.subject,
        before: search.before,
        since: from.map(start).transpose()?,
        until,
        offset: 0,
        limit: 0,
    })
}

/// The entries of `rows`, each actor named by username (one lookup for all).
async fn entries(
    state: &AppState,
    rows: Vec<journal::JournalRecord>,
) -> ApiResult<Vec<JournalEntry>> {
    let actors: Vec<&str> = rows.iter().map(|r| r.actor.as_str()).collect();
    let names = users::actor_names(state, &actors).await?;
    rows.into_iter()
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
        .collect()
}
