//! `/console/record`: the contractor's own record — postal code, address, contact person,
//! phone, billing e-mail — kept current by its users. The name is shown but changed only by
//! the operator (see [`crate::app::contractors`]).

use axum::extract::{Query, State};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::{PageQuery, choose_contractor, contractor_of};
use crate::AppState;
use crate::app::{Input, contractors};
use crate::web::operator::contractors::{RecordForm, RecordRow, record_rows};
use crate::web::session::Section;
use crate::web::{Chrome, Session, Shown, WebResult, render};

#[derive(askama::Template)]
#[template(path = "web/contractor/record.html")]
struct RecordPage {
    c: Chrome,
    name: String,
    record: Vec<RecordRow>,
    form: RecordForm,
    problem: Option<Shown>,
    saved: bool,
}

pub(super) async fn record(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<PageQuery>,
) -> WebResult {
    if let Some(to) = choose_contractor(&session, &q.contractor) {
        return Ok(to);
    }
    let contractor = contractor_of(&session, q.contractor.as_deref())?;
    record_page(&state, &session, &contractor, None, None, false).await
}

#[derive(Deserialize)]
pub(super) struct Posted {
    csrf: String,
    #[serde(flatten)]
    form: RecordForm,
}

/// Saves the record as typed (never the name); a refusal shows the form again as typed.
pub(super) async fn save(
    State(state): State<AppState>,
    session: Session,
    Form(posted): Form<Posted>,
) -> WebResult {
    session.check_csrf(&posted.csrf)?;
    let contractor = contractor_of(&session, None)?;
    let change = Input::Value(posted.form.change(false));
    match contractors::update(&state, &session.caller(), &contractor, change).await {
        Ok(_) => record_page(&state, &session, &contractor, None, None, true).await,
        Err(e) => {
            let problem = Shown::of(session.lang, &e);
            if e.status.is_server_error() {
                return Err(e.into());
            }
            record_page(
                &state,
                &session,
                &contractor,
                Some(posted.form),
                Some(problem),
                false,
            )
            .await
        }
    }
}

async fn record_page(
    state: &AppState,
    session: &Session,
    contractor: &str,
    typed: Option<RecordForm>,
    problem: Option<Shown>,
    saved: bool,
) -> WebResult {
    let t = session.t();
    let c = contractors::get(state, &session.caller(), contractor).await?;
    let failed = problem.is_some();
    let mut page = render(RecordPage {
        c: session.chrome(t.rec_nav, Section::Record),
        record: record_rows(t, &c),
        form: typed.unwrap_or_else(|| RecordForm::of(&c)),
        name: c.name,
        problem,
        saved,
    });
    if failed {
        *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}
