//! `/console/contracts/{id}/cancel`: a cancellation after its quote.

use axum::extract::{Path, Query, State};
use axum_extra::extract::Form;
use mpc_api_types::contracts::{QuoteView, SubmitRequest};
use mpc_domain::book::Effect;
use mpc_domain::calendar::parse_business_date;
use mpc_domain::request::Request;
use serde::Deserialize;

use crate::AppState;
use crate::app::{Input, contracts, requests};
use crate::web::format;
use crate::web::i18n::Lang;
use crate::web::session::Section;
use crate::web::{Chrome, Namer, Session, Shown, WebResult, render, see_other, short};

use super::{ContractRow, contract_row, operator_suffix};

#[derive(Deserialize)]
pub(super) struct QuoteQuery {
    requested_on: Option<String>,
}

/// One month of the early-termination charge (R15.1, D7).
pub struct ChargeRow {
    pub what: String,
    pub period: String,
    pub amount: String,
}

/// A quote as shown before confirming a cancellation.
pub struct QuoteShown {
    pub notice_arrived_on: String,
    pub end_on: String,
    pub charge: String,
    pub missing: Vec<String>,
    pub exempt: bool,
    pub lines: Vec<ChargeRow>,
    pub cascades: Vec<String>,
    pub impact: Vec<String>,
}

fn quote_shown(lang: Lang, namer: &Namer, q: &QuoteView) -> QuoteShown {
    let mut cascades = Vec::new();
    for e in &q.effects {
        let Some(what) = crate::web::i18n::effect(lang, e) else {
            continue;
        };
        let (subject, due) = match e {
            Effect::ContractEnds { contract_id, .. } => (namer.contract(contract_id), None),
            Effect::OptionEnds { option_id, .. } | Effect::MemberLeft { option_id, .. } => {
                (namer.option(option_id), None)
            }
            Effect::GroupEnds { group_id, .. } => (short(group_id), None),
            Effect::DeviceReleased {
                serial, return_due, ..
            } => (serial.clone(), *return_due),
            _ => continue,
        };
        let due = due
            .map(|d| {
                let d = d.to_string();
                format!(" — {} {}", lang.t().return_due, format::date_text(lang, &d))
            })
            .unwrap_or_default();
        cascades.push(format!("{what} ({subject}){due}"));
    }
    QuoteShown {
        notice_arrived_on: format::date_text(lang, &q.notice_arrived_on),
        end_on: format::date_text(lang, &q.end_on),
        charge: q.early_termination_charge.map_or_else(
            || lang.t().price_missing.to_owned(),
            |y| format::yen(lang, y),
        ),
        missing: q.missing_prices.clone(),
        exempt: q.exempt_from_early_termination,
        lines: q
            .early_termination_lines
            .iter()
            .map(|l| ChargeRow {
                what: lang.pick(&l.description, &l.description_en).to_owned(),
                period: if l.period_from == l.period_to {
                    format::date_text(lang, &l.period_from)
                } else {
                    format!(
                        "{} – {}",
                        format::date_text(lang, &l.period_from),
                        format::date_text(lang, &l.period_to)
                    )
                },
                amount: format::yen(lang, l.amount),
            })
            .collect(),
        cascades,
        impact: q
            .eligibility_impact
            .iter()
            .flat_map(|i| {
                i.unmet
                    .iter()
                    .map(|u| lang.pick(&u.message_ja, &u.message).to_owned())
            })
            .collect(),
    }
}

#[derive(askama::Template)]
#[template(path = "web/contractor/cancel.html")]
struct CancelPage {
    c: Chrome,
    id: String,
    row: ContractRow,
    requested_on: String,
    quote: Option<QuoteShown>,
    problem: Option<Shown>,
}

/// `/console/contracts/{id}/cancel`: the quote (end date, what ends with it, early-termination
/// charge in yen) for a notice arriving today, then the confirmation.
pub(super) async fn cancel_form(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<QuoteQuery>,
) -> WebResult {
    let requested_on = q.requested_on.filter(|d| !d.is_empty());
    cancel_page(&state, &session, &id, requested_on, None).await
}

async fn cancel_page(
    state: &AppState,
    session: &Session,
    id: &str,
    requested_on: Option<String>,
    problem: Option<Shown>,
) -> WebResult {
    let lang = session.lang;
    let caller = session.caller();
    let c = contracts::get(state, &caller, id, None).await?;
    let asked = contracts::QuoteQuery {
        requested_on: requested_on.clone(),
        ..contracts::QuoteQuery::default()
    };
    let quote = contracts::quote(state, &caller, id, &asked).await;
    let (quote, problem) = match quote {
        Ok(q) => {
            let (mut contracts, mut options) = (Vec::new(), Vec::new());
            for e in &q.effects {
                match e {
                    Effect::ContractEnds { contract_id, .. } => contracts.push(contract_id.clone()),
                    Effect::OptionEnds { option_id, .. } | Effect::MemberLeft { option_id, .. } => {
                        options.push(option_id.clone());
                    }
                    _ => {}
                }
            }
            let namer = Namer::load(state, session, &contracts, &options).await?;
            (Some(quote_shown(lang, &namer, &q)), problem)
        }
        Err(e) => (None, problem.or(Some(Shown::of(lang, &e)))),
    };
    let failed = problem.is_some();
    let mut page = render(CancelPage {
        c: session.chrome(session.t().cancel_contract, Section::Contracts),
        id: id.to_owned(),
        row: contract_row(lang, &c),
        requested_on: requested_on.unwrap_or_default(),
        quote,
        problem,
    });
    if failed {
        *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}

#[derive(Deserialize)]
pub(super) struct CancelForm {
    csrf: String,
    requested_on: Option<String>,
    #[serde(default)]
    understood: Option<String>,
}

/// Submits the notice of cancellation (R13.1) once the contractor has read the quote and ticked
/// the confirmation.
pub(super) async fn cancel(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<CancelForm>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    let requested_on = form.requested_on.filter(|d| !d.is_empty());
    if form.understood.is_none() {
        let mut shown = Shown::message(422, "confirmation_required", session.t().confirm_required);
        shown
            .fields
            .push(("understood".into(), session.t().confirm_required.into()));
        return cancel_page(&state, &session, &id, requested_on, Some(shown)).await;
    }
    let caller = session.caller();
    let contract = contracts::get(&state, &caller, &id, None).await?;
    let Ok(requested) = requested_on.as_deref().map(parse_business_date).transpose() else {
        let t = session.t();
        let mut shown = Shown::message(422, "invalid_field", t.op_check_fields);
        shown
            .fields
            .push(("requested_on".into(), t.op_invalid_date.into()));
        return cancel_page(&state, &session, &id, requested_on, Some(shown)).await;
    };
    let notice = SubmitRequest {
        request: Request::CancelContract {
            contract_id: id.clone(),
            requested_on: requested,
        },
        submitted_on: None,
        accept: None,
    };
    match requests::submit(
        &state,
        &caller,
        &contract.contractor_id,
        Input::Value(notice),
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/console/requests?submitted=1{}",
            operator_suffix(&session, &contract.contractor_id)
        ))),
        Err(e) => {
            let shown = Shown::of(session.lang, &e);
            cancel_page(&state, &session, &id, requested_on, Some(shown)).await
        }
    }
}
