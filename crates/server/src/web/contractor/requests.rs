//! `/console/requests`: requests and their decisions; a pending one can be withdrawn.

use axum::extract::{Path, Query, State};
use axum_extra::extract::Form;
use mpc_api_types::contracts::{DecisionView, RequestView};
use mpc_domain::request::RequestStatus;
use serde::Deserialize;

use crate::AppState;
use crate::app::requests;
use crate::web::format;
use crate::web::i18n::Lang;
use crate::web::session::Section;
use crate::web::{Chrome, Namer, Session, WebResult, render, see_other};

use super::request_form::form_kinds;
use super::{Csrf, PAGE, choose_contractor, contractor_of, operator_suffix};

/// A request as listed.
pub struct RequestRow {
    pub id: String,
    pub number: String,
    pub kind: String,
    pub subject: String,
    pub submitted_on: String,
    pub status: String,
    pub status_class: &'static str,
    pub pending: bool,
    pub note: String,
}

/// A namer for the subjects of `requests`, looked up in one go.
pub(super) async fn namer_for(
    state: &AppState,
    session: &Session,
    requests: &[RequestView],
) -> WebResult<Namer> {
    let ids: Vec<String> = requests
        .iter()
        .filter_map(|r| r.request.subject().map(str::to_owned))
        .collect();
    Namer::load(state, session, &ids, &ids).await
}

pub(super) fn request_row(lang: Lang, namer: &Namer, r: &RequestView) -> RequestRow {
    let subject = r
        .request
        .subject()
        .map(|s| namer.any(s))
        .unwrap_or_default();
    let t = lang.t();
    RequestRow {
        id: r.id.clone(),
        number: r.number.clone(),
        kind: crate::web::i18n::request_kind(lang, &r.kind).to_owned(),
        subject,
        submitted_on: format::date_text(lang, &r.submitted_on),
        status: match r.status {
            RequestStatus::Pending => t.request_pending,
            RequestStatus::Accepted => t.request_accepted,
            RequestStatus::Rejected => t.request_rejected,
            RequestStatus::Withdrawn => t.request_withdrawn,
        }
        .to_owned(),
        status_class: match r.status {
            RequestStatus::Pending => "pending",
            RequestStatus::Accepted => "active",
            RequestStatus::Rejected | RequestStatus::Withdrawn => "ended",
        },
        pending: r.status == RequestStatus::Pending,
        note: r
            .decision
            .as_ref()
            .and_then(DecisionView::reason)
            .unwrap_or_default()
            .to_owned(),
    }
}

#[derive(Deserialize)]
pub(super) struct RequestsQuery {
    contractor: Option<String>,
    status: Option<String>,
    kind: Option<String>,
    page: Option<u32>,
    submitted: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "web/contractor/requests.html")]
struct RequestsPage {
    c: Chrome,
    contractor: String,
    status: String,
    kind: String,
    rows: Vec<RequestRow>,
    /// `41–60 of 312`; empty when nothing matches.
    range: String,
    previous: Option<u32>,
    next: Option<u32>,
    submitted: bool,
    kinds: Vec<(&'static str, &'static str)>,
}

/// `/console/requests?status=&kind=&page=`: the contractor's requests, pending ones first and
/// then the newest, with the forms to make new ones.
pub(super) async fn request_list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<RequestsQuery>,
) -> WebResult {
    if let Some(to) = choose_contractor(&session, &q.contractor) {
        return Ok(to);
    }
    let contractor = contractor_of(&session, q.contractor.as_deref())?;
    let status = q.status.filter(|s| !s.is_empty());
    let kind = q.kind.filter(|s| !s.is_empty());
    let browse = requests::Browse {
        status: status.clone(),
        kind: kind.clone(),
        page: q.page.unwrap_or(1).max(1),
        per_page: PAGE as u32,
        ..requests::Browse::default()
    };
    let list = requests::browse(&state, &session.caller(), &contractor, &browse).await?;
    let namer = namer_for(&state, &session, &list.requests).await?;
    let lang = session.lang;
    let range = if list.total > 0 {
        crate::web::i18n::range_of(
            lang,
            list.first,
            list.first + list.requests.len() as i64 - 1,
            list.total,
        )
    } else {
        String::new()
    };
    Ok(render(RequestsPage {
        c: session.chrome(session.t().nav_requests, Section::Requests),
        contractor: if session.is_operator() {
            contractor
        } else {
            String::new()
        },
        status: status.unwrap_or_default(),
        kind: kind.unwrap_or_default(),
        rows: list
            .requests
            .iter()
            .map(|r| request_row(lang, &namer, r))
            .collect(),
        range,
        previous: list.previous,
        next: list.next,
        submitted: q.submitted.is_some(),
        kinds: form_kinds()
            .map(|k| (k, crate::web::i18n::request_kind(lang, k)))
            .collect(),
    }))
}

pub(super) async fn withdraw(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<Csrf>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    let r = requests::withdraw(&state, &session.caller(), &id).await?;
    Ok(see_other(&format!(
        "/console/requests?status=withdrawn{}",
        operator_suffix(&session, &r.contractor_id)
    )))
}
