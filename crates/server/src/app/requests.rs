//! Requests: what contractors ask for, and operators' acceptance, rejection and the
//! contractor's withdrawal.

use mpc_api_types::contracts::{
    AcceptedDecision, DefaultedDates, RejectRequest, RequestList, RequestPreview, RequestView,
    SubmitRequest,
};
use mpc_domain::ending::Termination;
use mpc_domain::number::Numbered;
use mpc_domain::request::{Acceptance, RequestStatus};
use mpc_storage::contracts::requests::{self, RequestRecord};
use mpc_storage::{accounts, numbers};

use super::Input;
use crate::AppState;
use crate::app::support::limit;
use crate::app::support::{Dates, today};
use crate::app::{contracts, users};
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;
use crate::views;

/// Which requests to list, and the page.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// `pending`, `accepted`, `rejected` or `withdrawn`.
    pub status: Option<String>,
    /// A request kind (`apply_contract` …, [`mpc_domain::request::KINDS`]).
    pub kind: Option<String>,
    /// The id after which the page starts.
    pub after: Option<String>,
    pub limit: Option<u32>,
}

/// A pending or closed request the caller may see, named by its id or its number
/// (`REQ-000123`).
async fn visible(state: &AppState, caller: &Caller, named: &str) -> ApiResult<RequestRecord> {
    let id = numbers::resolve(&mut *state.store.conn().await?, Numbered::Request, named).await?;
    let row = requests::get_request(&state.store, &id).await?;
    caller.require_contractor(&row.contractor_id)?;
    Ok(row)
}

/// Names who submitted and decided each request (one lookup for them all).
async fn with_names(
    state: &AppState,
    caller: &Caller,
    mut views: Vec<RequestView>,
) -> ApiResult<Vec<RequestView>> {
    let actors: Vec<&str> = views
        .iter()
        .flat_map(|v| [Some(v.submitted_by.as_str()), v.decided_by.as_deref()])
        .flatten()
        .collect();
    let names = users::actor_names(state, &actors).await?;
    let ids: Vec<&str> = views.iter().filter_map(|v| v.request.contract()).collect();
    let contracts = contracts::names(state, caller, &ids, &[]).await?;
    for v in &mut views {
        if let Some(c) = v.request.contract() {
            (v.contract_number, v.contract_label) = contracts.of(c);
        }
        v.submitted_by_name = names.get(&v.submitted_by).cloned();
        v.decided_by_name = v.decided_by.as_ref().and_then(|d| names.get(d)).cloned();
    }
    Ok(views)
}

/// [`with_names`] for one request.
async fn named(state: &AppState, caller: &Caller, view: RequestView) -> ApiResult<RequestView> {
    Ok(with_names(state, caller, vec![view]).await?.remove(0))
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

/// Submits a request for `contractor_id` and checks it against the regulation at once: a
/// request the rules refuse is refused with the rule id. Operators may give `submitted_on` (a
/// paper form) and `accept` to accept it in the same step.
///
/// # Errors
/// 404 for a contractor outside the caller's reach, 403 for a contractor giving what only
/// operators give, 422 with the rule the request breaks.
pub async fn submit(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
    input: Input<SubmitRequest>,
) -> ApiResult<RequestView> {
    caller.require_contractor(contractor_id)?;
    accounts::get_contractor(&state.store, contractor_id).await?;
    let (mut body, raw) = input.parse()?;
    body.request.check_entry()?;
    if let Some(named) = body.request.contract_mut() {
        contracts::resolve_named(state, caller, named).await?;
    }
    if let Some(a) = &body.accept {
        a.check_entry()?;
    }
    if !caller.actor.is_operator() && (body.submitted_on.is_some() || body.accept.is_some()) {
        return Err(ApiError::forbidden(
            "only operators record submission dates or accept requests",
        )
        .ja("申込日の記録と申込みの承諾は、運用者だけが行えます"));
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
        contractor_id,
        &body.request,
        submitted_on,
        &caller.name(),
        accept.as_ref(),
        caller.journal("request.submit").request(raw),
    )
    .await?;
    named(state, caller, views::request(row, dates.defaulted)?).await
}

/// Checks a request for `contractor_id` as [`submit`] would, submitting nothing: `Ok` when
/// submitting it today would be accepted for review, else the refusal with its rule. Request
/// forms call it as they are filled in.
///
/// # Errors
/// As [`submit`]: 404 for a contractor outside the caller's reach, 403 for a contractor
/// giving what only operators give, 422 with the rule the request breaks.
pub async fn check(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
    input: Input<SubmitRequest>,
) -> ApiResult<()> {
    caller.require_contractor(contractor_id)?;
    accounts::get_contractor(&state.store, contractor_id).await?;
    let (mut body, _) = input.parse()?;
    body.request.check_entry()?;
    if let Some(named) = body.request.contract_mut() {
        contracts::resolve_named(state, caller, named).await?;
    }
    if !caller.actor.is_operator() && (body.submitted_on.is_some() || body.accept.is_some()) {
        return Err(ApiError::forbidden(
            "only operators record submission dates or accept requests",
        )
        .ja("申込日の記録と申込みの承諾は、運用者だけが行えます"));
    }
    let submitted_on = Dates::default().or_today("submitted_on", body.submitted_on.as_deref())?;
    requests::check(&state.store, contractor_id, &body.request, submitted_on).await?;
    Ok(())
}

/// A 400 `invalid_query` naming `field` and listing what it takes.
fn not_one_of(field: &'static str, given: &str, allowed: &[&str]) -> ApiError {
    let mut err = ApiError::bad_request(
        "invalid_query",
        format!("{field}: {given:?} is not one of {}", allowed.join(", ")),
    )
    .ja(format!(
        "{field} は {} のいずれかで指定してください",
        allowed.join("、")
    ));
    err.errors.push(mpc_api_types::FieldProblem::new(
        field,
        format!("one of {}", allowed.join(", ")),
        format!("{} のいずれか", allowed.join("、")),
    ));
    err
}

/// Checks the filters of a request listing: a status and a kind the service knows.
///
/// # Errors
/// 400 `invalid_query` naming the filter and listing its values.
fn check_filters(status: Option<&str>, kind: Option<&str>) -> ApiResult<()> {
    if let Some(s) = status
        && s.parse::<RequestStatus>().is_err()
    {
        return Err(not_one_of("status", s, &mpc_domain::request::STATUSES));
    }
    if let Some(k) = kind
        && !mpc_domain::request::KINDS.contains(&k)
    {
        return Err(not_one_of("kind", k, &mpc_domain::request::KINDS));
    }
    Ok(())
}

/// Requests of `contractor` (every contractor's when `None`), oldest first, a page at a time.
async fn page(
    state: &AppState,
    caller: &Caller,
    contractor: Option<&str>,
    q: &Query,
) -> ApiResult<RequestList> {
    check_filters(q.status.as_deref(), q.kind.as_deref())?;
    let limit = limit(q.limit)?;
    let filter = requests::RequestFilter {
        contractor: contractor.map(str::to_owned),
        status: q.status.clone(),
        kind: q.kind.clone(),
    };
    let mut rows =
        requests::list_requests(&state.store, &filter, q.after.as_deref(), limit + 1).await?;
    let next_cursor = (rows.len() as i64 > limit).then(|| {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id.clone())
    });
    let requests = rows
        .into_iter()
        .map(|r| views::request(r, DefaultedDates::new()))
        .collect::<Result<_, _>>()?;
    Ok(RequestList {
        requests: with_names(state, caller, requests).await?,
        next_cursor: next_cursor.flatten(),
    })
}

/// What a numbered page of a contractor's requests shows.
#[derive(Debug, Clone, Default)]
pub struct Browse {
    /// `pending`, `accepted`, `rejected` or `withdrawn`.
    pub status: Option<String>,
    /// A request kind (`apply_contract` …).
    pub kind: Option<String>,
    /// From 1.
    pub page: u32,
    pub per_page: u32,
    /// The order, pending ones first and then the newest unless given.
    pub order: requests::RequestOrder,
    /// Reverses `order`.
    pub desc: bool,
}

/// A numbered page of requests and how many all pages hold.
#[derive(Debug)]
pub struct NumberedRequests {
    pub requests: Vec<RequestView>,
    pub total: i64,
    /// The position of the first request among all, from 1.
    pub first: i64,
    pub previous: Option<u32>,
    pub next: Option<u32>,
}

/// The most requests a numbered page shows.
pub const MAX_PER_PAGE: u32 = 200;

/// A numbered page of a contractor's requests, pending ones first and then the newest, with
/// the total the filters find (one count query and one page query).
///
/// # Errors
/// 404 for a contractor outside the caller's reach; 400 `invalid_query` for an unknown status
/// or kind; 400 `invalid_paging` for page 0 or more than [`MAX_PER_PAGE`] a page.
pub async fn browse(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
    b: &Browse,
) -> ApiResult<NumberedRequests> {
    caller.require_contractor(contractor_id)?;
    accounts::get_contractor(&state.store, contractor_id).await?;
    numbered(state, Some(contractor_id), b).await
}

/// The work queue as numbered pages: every contractor's requests in the order asked (pending
/// ones first and then the newest by default), with the total the filters find (operators
/// only; one count query and one page query).
///
/// # Errors
/// 403 for anyone but operators; otherwise as [`browse`].
pub async fn queue_page(
    state: &AppState,
    caller: &Caller,
    b: &Browse,
) -> ApiResult<NumberedRequests> {
    caller.require_operator()?;
    numbered(state, None, b).await
}

/// How many pending requests wait in the queue (operators only).
///
/// # Errors
/// 403 for anyone but operators.
pub async fn pending_count(state: &AppState, caller: &Caller) -> ApiResult<i64> {
    caller.require_operator()?;
    let filter = requests::RequestFilter {
        status: Some(RequestStatus::Pending.as_str().to_owned()),
        ..requests::RequestFilter::default()
    };
    Ok(requests::count_requests(&state.store, &filter).await?)
}

async fn numbered(
    state: &AppState,
    contractor_id: Option<&str>,
    b: &Browse,
) -> ApiResult<NumberedRequests> {
    check_filters(b.status.as_deref(), b.kind.as_deref())?;
    let (_, offset, per_page) = crate::app::support::numbered(
        Some(b.page),
        "per_page",
        Some(b.per_page),
        MAX_PER_PAGE,
        MAX_PER_PAGE,
    )?;
    let filter = requests::RequestFilter {
        contractor: contractor_id.map(str::to_owned),
        status: b.status.clone(),
        kind: b.kind.clone(),
    };
    let total = requests::count_requests(&state.store, &filter).await?;
    let rows = requests::page_requests(&state.store, &filter, (&b.order, b.desc), offset, per_page)
        .await?;
    let shown = rows.len() as i64;
    Ok(NumberedRequests {
        requests: rows
            .into_iter()
            .map(|r| views::request(r, DefaultedDates::new()))
            .collect::<Result<_, _>>()?,
        total,
        first: offset + 1,
        previous: (b.page > 1).then(|| b.page - 1),
        next: (offset + shown < total).then_some(b.page + 1),
    })
}

/// The work queue: every contractor's requests, or one contractor's (operators only).
///
/// # Errors
/// 403 for anyone but operators; 400 for an unknown status.
pub async fn queue(
    state: &AppState,
    caller: &Caller,
    contractor_id: Option<&str>,
    q: &Query,
) -> ApiResult<RequestList> {
    caller.require_operator()?;
    page(state, caller, contractor_id, q).await
}

/// A contractor's requests, oldest first.
///
/// # Errors
/// 404 for a contractor outside the caller's reach; 400 for an unknown status.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
    q: &Query,
) -> ApiResult<RequestList> {
    caller.require_contractor(contractor_id)?;
    accounts::get_contractor(&state.store, contractor_id).await?;
    page(state, caller, Some(contractor_id), q).await
}

/// One request, named by its id or its number (`REQ-000123`), as are the requests
/// [`accept`], [`reject`] and [`withdraw`] take.
///
/// # Errors
/// 404 for a request outside the caller's reach.
pub async fn get(state: &AppState, caller: &Caller, request_id: &str) -> ApiResult<RequestView> {
    let view = views::request(
        visible(state, caller, request_id).await?,
        DefaultedDates::new(),
    )?;
    named(state, caller, view).await
}

/// Accepts a pending request (operators only) with its dates: the acceptance date, or for a
/// cancellation or stop the day the notice arrived (defaults: a notice arrived the day it was
/// submitted; anything else is accepted today).
///
/// # Errors
/// 404 for a request outside the caller's reach, 403 for anyone but operators, 422 with the
/// rule acceptance breaks or `request_closed`.
pub async fn accept(
    state: &AppState,
    caller: &Caller,
    request_id: &str,
    input: Input<Acceptance>,
) -> ApiResult<RequestView> {
    let row = visible(state, caller, request_id).await?;
    caller.require_operator()?;
    let (acceptance, raw) = input.parse_or_empty()?;
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
        &row.id,
        &acceptance,
        &caller.name(),
        caller.journal("request.accept").request(raw),
    )
    .await?;
    named(state, caller, views::request(row, dates.defaulted)?).await
}

/// The acceptance a preview is asked for; days as the caller wrote them (`YYYY-MM-DD`).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// The acceptance date; for a cancellation or stop, the day the notice arrived (default
    /// as acceptance's: a notice arrived the day it was submitted, anything else today).
    pub on: Option<String>,
    /// Cancellation: by notice (default) or under the general terms.
    pub termination: Option<Termination>,
    /// Failure and loss: the replacement's serial.
    pub replacement_serial: Option<String>,
    /// Failure and loss: the day the replacement takes over.
    pub replaced_on: Option<String>,
    /// Failure: whether the contractor caused it.
    pub contractor_caused: Option<bool>,
}

/// What accepting a pending request with these dates would do (operators only): the
/// decision [`accept`] runs, in a transaction rolled back, so the effects, the eligibility
/// impact and the charges are those acceptance would record, and nothing is written.
///
/// # Errors
/// 404 for a request outside the caller's reach, 403 for anyone but operators, 422 with the
/// rule acceptance on that date would break, or `request_closed`.
pub async fn preview(
    state: &AppState,
    caller: &Caller,
    request_id: &str,
    q: &PreviewQuery,
) -> ApiResult<RequestPreview> {
    let row = visible(state, caller, request_id).await?;
    caller.require_operator()?;
    let serial = q.replacement_serial.as_deref().map(str::trim);
    let acceptance = Acceptance {
        on: Dates::parse("on", q.on.as_deref().filter(|d| !d.is_empty()))?,
        replacement_serial: serial.filter(|s| !s.is_empty()).map(str::to_owned),
        replaced_on: Dates::parse(
            "replaced_on",
            q.replaced_on.as_deref().filter(|d| !d.is_empty()),
        )?,
        contractor_caused: q.contractor_caused.unwrap_or(false),
        termination: q.termination,
    };
    acceptance.check_entry()?;
    let mut dates = Dates::default();
    let acceptance = complete(
        acceptance,
        row.request()?.is_notice(),
        &row.submitted_on,
        &mut dates,
    )?;
    let (_, outcome) = requests::preview(&state.store, &row.id, &acceptance).await?;
    let decision: AcceptedDecision = serde_json::from_value(requests::recorded_decision(&outcome))
        .map_err(|_| ApiError::internal())?;
    Ok(RequestPreview {
        request_id: row.id.clone(),
        on: acceptance.on.map(|d| d.to_string()).unwrap_or_default(),
        decision,
        defaulted_dates: dates.defaulted,
    })
}

/// Rejects a pending request (operators only), with the reason the contractor reads.
///
/// # Errors
/// 404 for a request outside the caller's reach, 403 for anyone but operators, 422 for a
/// reason out of bounds or a closed request.
pub async fn reject(
    state: &AppState,
    caller: &Caller,
    request_id: &str,
    input: Input<RejectRequest>,
) -> ApiResult<RequestView> {
    let row = visible(state, caller, request_id).await?;
    caller.require_operator()?;
    let (body, raw) = input.parse()?;
    let reason = mpc_domain::account::text("reason", &body.reason, 500)?;
    let row = requests::close_pending(
        &state.store,
        &row.id,
        RequestStatus::Rejected,
        today(),
        &caller.name(),
        Some(&reason),
        caller.journal("request.reject").request(raw),
    )
    .await?;
    named(state, caller, views::request(row, DefaultedDates::new())?).await
}

/// Withdraws a pending request (its contractor, or an operator).
///
/// # Errors
/// 404 for a request outside the caller's reach, 422 for a closed request.
pub async fn withdraw(
    state: &AppState,
    caller: &Caller,
    request_id: &str,
) -> ApiResult<RequestView> {
    let row = visible(state, caller, request_id).await?;
    let row = requests::close_pending(
        &state.store,
        &row.id,
        RequestStatus::Withdrawn,
        today(),
        &caller.name(),
        None,
        caller.journal("request.withdraw"),
    )
    .await?;
    named(state, caller, views::request(row, DefaultedDates::new())?).await
}
