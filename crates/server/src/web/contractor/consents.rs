//! `/console/consents`: consents asked of the contractor, given or withdrawn here.

use axum::extract::{Path, Query, State};
use axum_extra::extract::Form;
use mpc_api_types::contracts::OnDate;
use mpc_domain::catalog::ContractKind;

use crate::AppState;
use crate::app::{Input, parties};
use crate::error::ApiError;
use crate::web::format;
use crate::web::session::Section;
use crate::web::{Chrome, Namer, Session, Shown, WebResult, render, see_other};

use super::{Csrf, PageQuery, choose_contractor, contractor_of, contracts_of};

/// A consent a contractor gives or waits for.
pub struct ConsentRow {
    pub what: &'static str,
    pub subject: String,
    pub requested_on: String,
    pub state: String,
    /// The form's action when this contractor may consent now.
    pub consent_action: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "web/contractor/consents.html")]
struct ConsentsPage {
    c: Chrome,
    rows: Vec<ConsentRow>,
    problem: Option<Shown>,
}

/// `/console/consents`: designations of a management (R6.2) and invoice redirects (R6.3), with
/// the consent this contractor can give.
pub(super) async fn consents(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<PageQuery>,
) -> WebResult {
    if let Some(to) = choose_contractor(&session, &q.contractor) {
        return Ok(to);
    }
    let contractor = contractor_of(&session, q.contractor.as_deref())?;
    consents_page(&state, &session, &contractor, None).await
}

async fn consents_page(
    state: &AppState,
    session: &Session,
    contractor: &str,
    problem: Option<Shown>,
) -> WebResult {
    let lang = session.lang;
    let t = session.t();
    let contracts = contracts_of(state, session, contractor, None).await?;
    let mine = |id: &str| contracts.iter().any(|c| c.id == id);
    let state_of = |consented: &Option<String>, ended: &Option<String>| match (consented, ended) {
        (_, Some(e)) => format!("{} {}", t.status_ended, format::date_text(lang, e)),
        (Some(c), None) => format!("{} {}", t.consented, format::date_text(lang, c)),
        (None, None) => t.awaiting_consent.to_owned(),
    };
    let mut rows = Vec::new();
    let caller = session.caller();
    for d in parties::designations(state, &caller, contractor)
        .await?
        .designations
    {
        let pending = d.consented_on.is_none() && d.withdrawn_on.is_none();
        rows.push(ConsentRow {
            what: t.designation,
            subject: d.management_contract_id.clone(),
            requested_on: format::date_text(lang, &d.requested_on),
            state: state_of(&d.consented_on, &d.withdrawn_on),
            consent_action: (pending && mine(&d.management_contract_id))
                .then(|| format!("/console/consents/designations/{}", d.id)),
        });
    }
    for c in contracts
        .iter()
        .filter(|c| c.kind == ContractKind::Management)
    {
        for r in parties::redirects(state, &caller, &c.id)
            .await?
            .invoice_redirects
        {
            let pending = r.consented_on.is_none() && r.ended_on.is_none();
            rows.push(ConsentRow {
                what: t.invoice_redirect,
                subject: r.management_contract_id.clone(),
                requested_on: format::date_text(lang, &r.requested_on),
                state: state_of(&r.consented_on, &r.ended_on),
                consent_action: (pending && r.target_contractor_id == contractor)
                    .then(|| format!("/console/consents/redirects/{}", r.id)),
            });
        }
    }
    let ids: Vec<String> = rows.iter().map(|r| r.subject.clone()).collect();
    let namer = Namer::load(state, session, &ids, &[]).await?;
    for r in &mut rows {
        r.subject = namer.contract(&r.subject);
    }
    Ok(render(ConsentsPage {
        c: session.chrome(t.nav_consents, Section::Consents),
        rows,
        problem,
    }))
}

pub(super) async fn consent(
    State(state): State<AppState>,
    session: Session,
    Path((what, id)): Path<(String, String)>,
    Form(form): Form<Csrf>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    // Consent is given today (the API's default for a body without a day).
    let today = Input::Value(OnDate::default());
    let caller = session.caller();
    let done = match what.as_str() {
        "designations" => parties::consent_designation(&state, &caller, &id, today)
            .await
            .map(drop),
        "redirects" => parties::consent_redirect(&state, &caller, &id, today)
            .await
            .map(drop),
        _ => Err(ApiError::not_found()),
    };
    match done {
        Ok(()) => Ok(see_other("/console/consents")),
        Err(e) => {
            let contractor = contractor_of(&session, None)?;
            let shown = Shown::of(session.lang, &e);
            consents_page(&state, &session, &contractor, Some(shown)).await
        }
    }
}
