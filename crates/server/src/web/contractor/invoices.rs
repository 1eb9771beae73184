//! `/console/invoices` and `/console/invoices/{id}`: invoices, one with its lines, printable.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use crate::invoice_print::contract_label;
use crate::web::format;
use crate::web::session::Section;
use crate::web::{Chrome, Session, WebResult, render};
use crate::{AppState, app};

use super::{Paged, paged};

/// An invoice as listed.
pub struct InvoiceRow {
    pub id: String,
    pub number: String,
    pub month: String,
    pub recipient: String,
    pub issue_date: String,
    pub due_date: String,
    pub total: String,
    pub status: String,
}

#[derive(askama::Template)]
#[template(path = "web/contractor/invoices.html")]
struct InvoicesPage {
    c: Chrome,
    month: String,
    table: Paged<InvoiceRow>,
}

#[derive(Deserialize)]
pub(super) struct InvoicesQuery {
    month: Option<String>,
    page: Option<usize>,
}

/// `/console/invoices?month=`: the caller's invoices (all contractors' for operators, drafts
/// included; a contractor's finalized ones).
pub(super) async fn invoice_list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<InvoicesQuery>,
) -> WebResult {
    let lang = session.lang;
    let month = q.month.filter(|m| !m.is_empty());
    let list = app::billing::invoices(&state, &session.caller(), month.as_deref(), None).await?;
    let t = session.t();
    let rows = list
        .into_iter()
        .rev()
        .map(|i| InvoiceRow {
            status: match i.status.as_str() {
                "paid" => t.invoice_paid,
                "defaulted" => t.invoice_defaulted,
                "draft" => t.invoice_draft,
                _ => t.invoice_open,
            }
            .to_owned(),
            id: i.id,
            number: i.number.unwrap_or_else(|| t.invoice_no_number.to_owned()),
            month: i.month,
            recipient: i.recipient_name,
            issue_date: format::date_text(lang, &i.issue_date),
            due_date: format::date_text(lang, &i.due_date),
            total: format::yen(lang, i.total),
        })
        .collect();
    Ok(render(InvoicesPage {
        c: session.chrome(t.nav_invoices, Section::Invoices),
        month: month.unwrap_or_default(),
        table: paged(rows, q.page),
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
}

/// `/console/invoices/{id}`: a qualified invoice's lines and tax per rate (B1–B4).
pub(super) async fn invoice_page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> WebResult {
    let lang = session.lang;
    let t = session.t();
    let v = app::billing::invoice(&state, &session.caller(), &id).await?;
    let s = &v.summary;
    let number = s
        .number
        .clone()
        .unwrap_or_else(|| t.invoice_draft.to_owned());
    Ok(render(InvoicePage {
        c: session.chrome(&format!("{} {number}", t.invoice), Section::Invoices),
        id,
        row: InvoiceRow {
            id: s.id.clone(),
            number,
            month: s.month.clone(),
            recipient: s.recipient_name.clone(),
            issue_date: format::date_text(lang, &s.issue_date),
            due_date: format::date_text(lang, &s.due_date),
            total: format::yen(lang, s.total),
            status: s.status.clone(),
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
                what: l.description.clone(),
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
    }))
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
