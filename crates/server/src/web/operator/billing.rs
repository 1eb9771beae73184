//! `/console/billing`: monthly runs (B1, B2, B4) — starting a month's run, its result, the
//! month's invoices, finalizing, the lines CSV — and the issuer every invoice names (B3).
//!
//! The API bills a month in the request that asks for it, so the page answers when the run is
//! done (redirecting to the month) and needs no polling.

use axum::extract::{Path, Query, State};
use mpc_api_types::billing::IssuerView;
use mpc_domain::calendar::Month;
use mpc_domain::invoice::InvoiceState;
use mpc_domain::money::Yen;
use mpc_domain::price::PriceKey;
use serde::Deserialize;

use super::form::{OperatorForm, csrf_field};
use super::prices::price_label;
use super::{
    Pager, Sort, confirmed, contractor_names, field_problem, href, month_label, only_operators,
    page_of, pager, refusal, render_form, unconfirmed,
};
use crate::AppState;
use crate::api::csv_download;
use crate::app::support::today;
use crate::app::{Input, billing};
use crate::error::ApiError;
use crate::web::format;
use crate::web::i18n::Lang;
use crate::web::session::Section;
use crate::web::{Chrome, Session, Shown, WebError, WebResult, see_other};

csrf_field!(FinalizeForm, IssuerForm, RunForm);

/// A month's run as the journal recorded it.
pub struct RunRow {
    pub month: String,
    pub label: String,
    pub at: String,
    at_micros: i64,
    pub actor: String,
    pub invoices: i64,
    pub lines: i64,
    pub total: String,
    pub finalized: bool,
}

fn run_row(lang: Lang, r: billing::Run) -> RunRow {
    RunRow {
        label: month_label(lang, &r.month),
        month: r.month,
        at: format::time(lang, r.at),
        at_micros: r.at.as_microsecond(),
        actor: crate::web::actor_label(lang, &r.actor, r.actor_name),
        invoices: r.invoices,
        lines: r.lines,
        total: lang.yen(r.total),
        finalized: r.finalized,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    sort: String,
    after: String,
    issuer: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RunForm {
    csrf: String,
    month: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct IssuerForm {
    csrf: String,
    name: String,
    registration_number: String,
    address: String,
    contact: String,
    phone: String,
    bank_account: String,
}

/// A price the run found missing, named for people.
pub struct Missing {
    pub key: String,
    pub label: String,
    pub message: String,
}

#[derive(askama::Template)]
#[template(path = "web/operator/billing.html")]
struct BillingPage {
    c: Chrome,
    month: String,
    run_problem: Option<Shown>,
    missing: Vec<Missing>,
    runs: Vec<RunRow>,
    sort: Sort,
    pager: Pager,
    issuer: IssuerForm,
    issuer_saved: bool,
    issuer_problem: Option<Shown>,
}

pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<PageQuery>,
) -> WebResult {
    only_operators(&session)?;
    let previous = today()
        .first_of_month()
        .yesterday()
        .map(|d| Month::containing(d).to_string())
        .unwrap_or_default();
    billing_page(&state, &session, &q, previous, None, None).await
}

async fn billing_page(
    state: &AppState,
    session: &Session,
    q: &PageQuery,
    month: String,
    run_problem: Option<Shown>,
    issuer_form: Option<(IssuerForm, Shown)>,
) -> WebResult {
    let lang = session.lang;
    let mut runs: Vec<RunRow> = billing::runs(state, &session.caller(), None)
        .await?
        .into_iter()
        .map(|r| run_row(lang, r))
        .collect();
    // Newest first unless asked otherwise.
    let sort = Sort::new(
        "sort",
        Some(if q.sort.is_empty() { "-at" } else { &q.sort }),
        &["at", "month"],
        "/console/billing".into(),
    );
    sort.apply(&mut runs, |r, key| match key {
        "month" => (0, format!("{}{:020}", r.month, r.at_micros)),
        _ => (r.at_micros, String::new()),
    });
    let (runs, next) = page_of(runs, Some(&q.after));
    let pager = pager(
        &href("/console/billing", &[("sort", &q.sort)]),
        "after",
        Some(&q.after),
        next,
    );
    let missing = run_problem
        .as_ref()
        .filter(|p| p.code == "R14.1")
        .map(|p| {
            p.fields
                .iter()
                .map(|(key, message)| Missing {
                    label: key
                        .parse::<PriceKey>()
                        .map(|k| price_label(lang, k))
                        .unwrap_or_default(),
                    key: key.clone(),
                    message: message.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let (issuer, issuer_problem) = match issuer_form {
        Some((form, problem)) => (form, Some(problem)),
        None => match billing::issuer(state, &session.caller()).await {
            Ok(i) => (
                IssuerForm {
                    name: i.name,
                    registration_number: i.registration_number,
                    address: i.address,
                    contact: i.contact,
                    phone: i.phone,
                    bank_account: i.bank_account,
                    ..IssuerForm::default()
                },
                None,
            ),
            Err(e) if e.code == "not_found" => (IssuerForm::default(), None),
            Err(e) => return Err(e.into()),
        },
    };
    let failed = run_problem.is_some() || issuer_problem.is_some();
    Ok(render_form(
        BillingPage {
            c: session.chrome(session.t().nav_billing, Section::Billing),
            month,
            run_problem,
            missing,
            runs,
            sort,
            pager,
            issuer,
            issuer_saved: q.issuer == "saved",
            issuer_problem,
        },
        failed,
    ))
}

/// Bills a month ([`billing::run`]), then shows the month.
pub async fn run(
    State(state): State<AppState>,
    OperatorForm { session, form }: OperatorForm<RunForm>,
) -> WebResult {
    let lang = session.lang;
    let month = form.month.trim().to_owned();
    let problem = if month.is_empty() {
        field_problem(lang, "month", session.t().op_required)
    } else {
        let ran = match billing::parse_month("month", &month) {
            Ok(m) => billing::run(&state, &session.caller(), m).await,
            Err(e) => Err(e),
        };
        match ran {
            Ok(summary) => {
                return Ok(see_other(&format!(
                    "/console/billing/{}?ran=yes",
                    summary.month
                )));
            }
            Err(e) => refusal(lang, e)?,
        }
    };
    billing_page(
        &state,
        &session,
        &PageQuery::default(),
        month,
        Some(problem),
        None,
    )
    .await
}

pub async fn issuer(
    State(state): State<AppState>,
    OperatorForm { session, form }: OperatorForm<IssuerForm>,
) -> WebResult {
    let new = IssuerView {
        name: form.name.clone(),
        registration_number: form.registration_number.clone(),
        address: form.address.clone(),
        contact: form.contact.clone(),
        phone: form.phone.clone(),
        bank_account: form.bank_account.clone(),
    };
    match billing::set_issuer(&state, &session.caller(), Input::Value(new)).await {
        Ok(_) => Ok(see_other("/console/billing?issuer=saved#issuer")),
        Err(e) => {
            let problem = refusal(session.lang, e)?;
            billing_page(
                &state,
                &session,
                &PageQuery::default(),
                String::new(),
                None,
                Some((form, problem)),
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------
// One month

pub struct InvoiceRow {
    pub id: String,
    pub number: String,
    pub recipient: String,
    pub account_id: String,
    pub subtotal: String,
    pub tax: String,
    pub total: String,
    total_yen: i64,
    pub due_date: String,
    pub status: &'static str,
    pub status_class: &'static str,
}

fn invoice_status(lang: Lang, status: InvoiceState) -> (&'static str, &'static str) {
    let badge = format::invoice_state(lang, status);
    (badge.label, badge.class)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MonthQuery {
    sort: String,
    after: String,
    ran: String,
    finalized: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FinalizeForm {
    csrf: String,
    confirm: String,
}

#[derive(askama::Template)]
#[template(path = "web/operator/billing_month.html")]
struct MonthPage {
    c: Chrome,
    month: String,
    notice: Option<&'static str>,
    run: Option<RunRow>,
    finalized: bool,
    invoice_count: usize,
    subtotal: String,
    tax: String,
    total: String,
    invoices: Vec<InvoiceRow>,
    sort: Sort,
    pager: Pager,
    problem: Option<Shown>,
}

/// A month from the address; anything else is not a page.
fn parse_month(m: &str) -> WebResult<Month> {
    // A month outside the business dates has no page, like any unknown address.
    mpc_domain::calendar::parse_business_month(m).map_err(|_| WebError(ApiError::not_found()))
}

pub async fn month(
    State(state): State<AppState>,
    session: Session,
    Path(m): Path<String>,
    Query(q): Query<MonthQuery>,
) -> WebResult {
    only_operators(&session)?;
    month_page(&state, &session, &m, &q, None).await
}

async fn month_page(
    state: &AppState,
    session: &Session,
    m: &str,
    q: &MonthQuery,
    problem: Option<Shown>,
) -> WebResult {
    let lang = session.lang;
    let t = session.t();
    let month = parse_month(m)?.to_string();
    let finalized = billing::finalized(state, &session.caller(), &month).await?;
    let run = billing::runs(state, &session.caller(), Some(&month))
        .await?
        .into_iter()
        .next()
        .map(|r| run_row(lang, billing::Run { finalized, ..r }));
    let list = billing::invoices(state, &session.caller(), Some(&month), None).await?;
    let names = contractor_names(
        state,
        session,
        list.iter().map(|i| i.account_id.clone()).collect(),
    )
    .await?;
    let (subtotal, tax, total) = list.iter().fold((0, 0, 0), |(s, x, t), i| {
        (s + i.subtotal.0, x + i.tax.0, t + i.total.0)
    });
    let invoice_count = list.len();
    let mut rows: Vec<InvoiceRow> = list
        .into_iter()
        .map(|i| {
            let state = i.status.parse().unwrap_or(InvoiceState::Defaulted);
            let (status, status_class) = invoice_status(lang, state);
            InvoiceRow {
                recipient: if i.recipient_name.is_empty() {
                    names.get(&i.account_id).cloned().unwrap_or_default()
                } else {
                    i.recipient_name
                },
                subtotal: lang.yen(i.subtotal),
                tax: lang.yen(i.tax),
                total: lang.yen(i.total),
                total_yen: i.total.0,
                due_date: format::date_text(lang, &i.due_date),
                status,
                status_class,
                id: i.id,
                number: i.number.unwrap_or_else(|| "—".to_owned()),
                account_id: i.account_id,
            }
        })
        .collect();
    let here = format!("/console/billing/{month}");
    let sort = Sort::new(
        "sort",
        Some(&q.sort),
        &["number", "recipient", "total", "status"],
        here.clone(),
    );
    sort.apply(&mut rows, |r, key| match key {
        "recipient" => (0, r.recipient.clone()),
        "total" => (r.total_yen, String::new()),
        "status" => (0, r.status.to_owned()),
        _ => (0, r.number.clone()),
    });
    let (invoices, next) = page_of(rows, Some(&q.after));
    let pager = pager(
        &href(&here, &[("sort", &q.sort)]),
        "after",
        Some(&q.after),
        next,
    );
    let notice = if q.finalized == "yes" {
        Some(t.op_month_finalized)
    } else if q.ran == "yes" {
        Some(t.op_run_done)
    } else {
        None
    };
    let failed = problem.is_some();
    let title = format!("{} {}", t.nav_billing, month_label(lang, &month));
    Ok(render_form(
        MonthPage {
            c: session.chrome(&title, Section::Billing),
            month,
            notice,
            run,
            finalized,
            invoice_count,
            subtotal: lang.yen(Yen(subtotal)),
            tax: lang.yen(Yen(tax)),
            total: lang.yen(Yen(total)),
            invoices,
            sort,
            pager,
            problem,
        },
        failed,
    ))
}

/// Finalizes a month after the operator ticked the confirmation (B4: it never changes again).
pub async fn finalize(
    State(state): State<AppState>,
    Path(m): Path<String>,
    OperatorForm { session, form }: OperatorForm<FinalizeForm>,
) -> WebResult {
    let lang = session.lang;
    let month = parse_month(&m)?.to_string();
    let problem = if confirmed(&form.confirm) {
        match billing::finalize(&state, &session.caller(), parse_month(&m)?).await {
            Ok(_) => {
                return Ok(see_other(&format!(
                    "/console/billing/{month}?finalized=yes"
                )));
            }
            Err(e) => refusal(lang, e)?,
        }
    } else {
        unconfirmed(lang)
    };
    month_page(
        &state,
        &session,
        &month,
        &MonthQuery::default(),
        Some(problem),
    )
    .await
}

/// `/console/billing/{month}/lines.csv`: every line of the month, as a download.
pub async fn lines_csv(
    State(state): State<AppState>,
    session: Session,
    Path(m): Path<String>,
) -> WebResult {
    only_operators(&session)?;
    let month = parse_month(&m)?;
    let csv = billing::lines_csv(&state, &session.caller(), month).await?;
    Ok(csv_download(csv, &format!("lines-{month}.csv")))
}
