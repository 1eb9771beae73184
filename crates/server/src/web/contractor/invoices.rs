//! `/console/invoices` and `/console/invoices/{id}`: invoices, one with its lines, printable.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::Form;
use mpc_api_types::billing::RecordPayment;
use mpc_api_types::contracts::OnDate;
use mpc_domain::invoice::InvoiceState;
use mpc_domain::money::Yen;
use serde::Deserialize;

use crate::app::Input;
use crate::app::support::today;
use crate::error::ApiError;
use crate::invoice_print::contract_label;
use crate::web::format::{self, Badge};
use crate::web::session::Section;
use crate::web::{Chrome, Session, Shown, WebError, WebResult, render, see_other};
use crate::{AppState, app};

use super::{PAGE, Paged};

/// An invoice as listed.
pub struct InvoiceRow {
    pub id: String,
    pub number: String,
    pub month: String,
    pub recipient: String,
    pub issue_date: String,
    pub due_date: String,
    pub total: String,
    pub state: Badge,
}

/// A state to filter the list by, with its words.
pub struct StateChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(askama::Template)]
#[template(path = "web/contractor/invoices.html")]
struct InvoicesPage {
    c: Chrome,
    month: String,
    states: Vec<StateChoice>,
    table: Paged<InvoiceRow>,
}

#[derive(Deserialize)]
pub(super) struct InvoicesQuery {
    month: Option<String>,
    /// `issued`, `partly_paid`, `paid`, `overdue`, `defaulted` or `draft` (B5); any other
    /// value lists every state.
    state: Option<String>,
    page: Option<usize>,
}

/// `/console/invoices?month=&state=&page=`: the caller's invoices, the latest month first (all
/// contractors' for operators, drafts included; a contractor's finalized ones).
pub(super) async fn invoice_list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<InvoicesQuery>,
) -> WebResult {
    let lang = session.lang;
    let month = q.month.filter(|m| !m.is_empty());
    let wanted: Option<InvoiceState> = q.state.as_deref().and_then(|s| s.parse().ok());
    let number = q.page.unwrap_or(1).clamp(1, u32::MAX as usize);
    let search = app::billing::InvoiceSearch {
        month: month.clone(),
        state: wanted.map(|w| w.as_str().to_owned()),
        page: Some(number as u32),
        limit: Some(PAGE as u32),
        ..app::billing::InvoiceSearch::default()
    };
    let found = app::billing::invoice_page(
        &state,
        &session.caller(),
        &search,
        app::billing::Order::NewestFirst,
    )
    .await?;
    let t = session.t();
    let rows: Vec<InvoiceRow> = found
        .invoices
        .into_iter()
        .map(|i| InvoiceRow {
            state: format::invoice_state_text(lang, &i.status),
            id: i.id,
            month: i.month,
            recipient: i.recipient_name,
            // A draft is not issued yet (B4): its planned date would read as an issue date.
            issue_date: if i.number.is_some() {
                format::date_text(lang, &i.issue_date)
            } else {
                t.invoice_not_issued.to_owned()
            },
            number: i.number.unwrap_or_else(|| t.invoice_no_number.to_owned()),
            due_date: format::date_text(lang, &i.due_date),
            total: format::yen(lang, i.total),
        })
        .collect();
    // Contractors never see drafts (B4), so they are not offered as a filter.
    let states = InvoiceState::ALL
        .into_iter()
        .filter(|s| session.is_operator() || *s != InvoiceState::Draft)
        .map(|s| StateChoice {
            value: s.as_str(),
            label: format::invoice_state(lang, s).label,
            selected: wanted == Some(s),
        })
        .collect();
    Ok(render(InvoicesPage {
        c: session.chrome(t.nav_invoices, Section::Invoices),
        month: month.unwrap_or_default(),
        states,
        table: Paged {
            first: (number - 1) * PAGE + 1,
            previous: (number > 1).then(|| number - 1),
            next: found.next_page.map(|n| n as usize),
            total: usize::try_from(found.total).unwrap_or_default(),
            rows,
        },
    }))
}

/// One line of an invoice, in yen, with the rule that bills it.
pub struct LineRow {
    pub what: String,
    pub contract: String,
    pub period: String,
    pub rule: String,
    pub amount: String,
    /// The months of a line that sums several (R15.1).
    pub breakdown: Vec<PartRow>,
}

/// One month of an early-termination charge (R15.1, D7).
pub struct PartRow {
    pub period: String,
    pub days: String,
    pub amount: String,
}

/// The tax at one rate (B3).
pub struct RateRow {
    pub rate_percent: i64,
    pub taxable: String,
    pub tax: String,
}

/// A payment recorded against the invoice (B5).
pub struct PaymentRow {
    pub paid_on: String,
    pub amount: String,
    pub note: String,
}

/// The operator's payment form (入金), as typed.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct PaymentForm {
    csrf: String,
    paid_on: String,
    amount: String,
    note: String,
}

/// The operator's default form (R6.4), as typed.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct DefaultForm {
    csrf: String,
    on: String,
    confirm: String,
}

/// What the operator's forms show: their values, and the refusal of the one that was sent.
#[derive(Default)]
struct Forms {
    payment: PaymentForm,
    payment_problem: Option<Shown>,
    default: DefaultForm,
    default_problem: Option<Shown>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct InvoiceQuery {
    done: String,
}

#[derive(askama::Template)]
#[template(path = "web/contractor/invoice.html")]
struct InvoicePage {
    c: Chrome,
    id: String,
    row: InvoiceRow,
    issuer: String,
    registration: String,
    subtotal: String,
    rates: Vec<RateRow>,
    lines: Vec<LineRow>,
    paid: String,
    balance: String,
    payments: Vec<PaymentRow>,
    notice: Option<&'static str>,
    /// Operators record payments and defaults on a finalized invoice.
    payable: bool,
    /// … and mark one defaulted once (R6.4).
    defaultable: bool,
    forms: Forms,
}

/// `/console/invoices/{id}`: a qualified invoice's lines and tax per rate (B1–B4), where it
/// stands (B5) with its payments, and for operators the forms that record a payment (入金)
/// and a default (R6.4).
pub(super) async fn invoice_page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<InvoiceQuery>,
) -> WebResult {
    let t = session.t();
    let notice = match q.done.as_str() {
        "payment" => Some(t.money_payment_recorded),
        "default" => Some(t.money_defaulted_done),
        _ => None,
    };
    show_invoice(&state, &session, &id, notice, Forms::default()).await
}

async fn show_invoice(
    state: &AppState,
    session: &Session,
    id: &str,
    notice: Option<&'static str>,
    mut forms: Forms,
) -> WebResult {
    let lang = session.lang;
    let t = session.t();
    let v = app::billing::invoice(state, &session.caller(), id).await?;
    let s = &v.summary;
    let number = s
        .number
        .clone()
        .unwrap_or_else(|| t.invoice_draft.to_owned());
    let state_now: InvoiceState = s.status.parse().unwrap_or(InvoiceState::Defaulted);
    // B5: what is still owed; a paid or credit invoice owes nothing.
    let balance = Yen(s.total.0.saturating_sub(s.paid.0).max(0));
    let payable = session.is_operator() && state_now != InvoiceState::Draft;
    let defaultable = payable && state_now != InvoiceState::Defaulted;
    if forms.payment.paid_on.is_empty() && forms.payment_problem.is_none() {
        forms.payment.paid_on = today().to_string();
        if balance.0 > 0 {
            forms.payment.amount = balance.0.to_string();
        }
    }
    if forms.default.on.is_empty() && forms.default_problem.is_none() {
        forms.default.on = today().to_string();
    }
    let failed = forms.payment_problem.is_some() || forms.default_problem.is_some();
    let mut page = render(InvoicePage {
        c: session.chrome(&format!("{} {number}", t.invoice), Section::Invoices),
        id: id.to_owned(),
        row: InvoiceRow {
            id: s.id.clone(),
            number,
            month: s.month.clone(),
            recipient: s.recipient_name.clone(),
            issue_date: if s.number.is_some() {
                format::date_text(lang, &s.issue_date)
            } else {
                t.invoice_not_issued.to_owned()
            },
            due_date: format::date_text(lang, &s.due_date),
            total: format::yen(lang, s.total),
            state: format::invoice_state(lang, state_now),
        },
        issuer: v.issuer.name.clone(),
        registration: v.issuer.registration_number.clone(),
        subtotal: format::yen(lang, s.subtotal),
        rates: v
            .totals_by_rate
            .iter()
            .map(|r| RateRow {
                rate_percent: r.rate_percent,
                taxable: format::yen(lang, r.taxable),
                tax: format::yen(lang, r.tax),
            })
            .collect(),
        lines: v
            .lines
            .iter()
            .map(|l| LineRow {
                what: lang.pick(&l.description, &l.description_en).to_owned(),
                contract: contract_label(l),
                period: period(lang, &l.period_from, &l.period_to),
                rule: l.rule.clone(),
                amount: format::yen(lang, l.amount),
                breakdown: l
                    .breakdown
                    .iter()
                    .map(|p| PartRow {
                        period: period(lang, &p.period_from, &p.period_to),
                        days: if p.days == p.days_in_month {
                            String::new()
                        } else {
                            format!("{}/{}", p.days, p.days_in_month)
                        },
                        amount: format::yen(lang, p.amount),
                    })
                    .collect(),
            })
            .collect(),
        paid: format::yen(lang, s.paid),
        balance: format::yen(lang, balance),
        payments: v
            .payments
            .iter()
            .map(|p| PaymentRow {
                paid_on: format::date_text(lang, &p.paid_on),
                amount: format::yen(lang, p.amount),
                note: p.note.clone(),
            })
            .collect(),
        notice,
        payable,
        defaultable,
        forms,
    });
    if failed {
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}

/// Refuses anyone but operators (403), as the API does for payments and defaults.
fn operators_only(session: &Session) -> WebResult<()> {
    if session.is_operator() {
        Ok(())
    } else {
        Err(WebError(ApiError::operator_only()))
    }
}

/// One field's problem, found before calling the use case.
fn field_problem(session: &Session, field: &str, message: &str) -> Shown {
    let mut shown = Shown::message(422, "invalid_field", session.t().op_check_fields);
    shown.fields.push((field.to_owned(), message.to_owned()));
    shown
}

/// An API refusal to show beside its form; a failure of the server is the error page.
fn refused(session: &Session, e: ApiError) -> WebResult<Shown> {
    if e.status.is_server_error() {
        Err(e.into())
    } else {
        Ok(Shown::of(session.lang, &e))
    }
}

/// Records a payment (入金, B5) through [`app::billing::pay`], the API's use case: each post
/// is one payment, so two operators posting at once record two, as two API calls would.
pub(super) async fn record_payment(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<PaymentForm>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    operators_only(&session)?;
    let t = session.t();
    let amount = form.amount.trim().replace([',', '，'], "");
    let problem = if amount.is_empty() {
        field_problem(&session, "amount", t.op_required)
    } else if let Ok(amount) = amount.parse::<i64>() {
        let paid_on = form.paid_on.trim();
        let payment = RecordPayment {
            paid_on: (!paid_on.is_empty()).then(|| paid_on.to_owned()),
            amount,
            note: form.note.trim().to_owned(),
        };
        match app::billing::pay(&state, &session.caller(), &id, Input::Value(payment), None).await {
            Ok(_) => {
                return Ok(see_other(&format!(
                    "/console/invoices/{id}?done=payment#payments"
                )));
            }
            Err(e) => refused(&session, e)?,
        }
    } else {
        field_problem(&session, "amount", t.money_payment_limit)
    };
    let forms = Forms {
        payment: form,
        payment_problem: Some(problem),
        ..Forms::default()
    };
    show_invoice(&state, &session, &id, None, forms).await
}

/// Marks the invoice defaulted (R6.4) through [`app::billing::default`], once the operator
/// ticked the confirmation: its redirected management fees move to the management
/// contractor's next invoice, which cannot be taken back.
pub(super) async fn record_default(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<DefaultForm>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    operators_only(&session)?;
    let problem = if form.confirm != "yes" {
        field_problem(&session, "confirm", session.t().op_confirm_required)
    } else {
        let on = form.on.trim();
        let on = OnDate {
            on: (!on.is_empty()).then(|| on.to_owned()),
        };
        match app::billing::default(&state, &session.caller(), &id, Input::Value(on)).await {
            Ok(_) => {
                return Ok(see_other(&format!(
                    "/console/invoices/{id}?done=default#payments"
                )));
            }
            Err(e) => refused(&session, e)?,
        }
    };
    let forms = Forms {
        default: form,
        default_problem: Some(problem),
        ..Forms::default()
    };
    show_invoice(&state, &session, &id, None, forms).await
}

fn period(lang: crate::web::Lang, from: &str, to: &str) -> String {
    if from == to {
        format::date_text(lang, from)
    } else {
        format!(
            "{} – {}",
            format::date_text(lang, from),
            format::date_text(lang, to)
        )
    }
}

/// The printable qualified invoice (Japanese, as the law asks).
pub(super) async fn invoice_print(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> WebResult<Response> {
    use axum::response::IntoResponse;
    let view = app::billing::invoice(&state, &session.caller(), &id).await?;
    Ok(crate::invoice_print::printed(&view)?.into_response())
}

/// The invoice as a PDF download ([`app::billing::invoice_pdf`]).
pub(super) async fn invoice_pdf(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let (name, bytes) = app::billing::invoice_pdf(&state, &session.caller(), &id).await?;
    Ok(crate::api::pdf_download(bytes, &name))
}
