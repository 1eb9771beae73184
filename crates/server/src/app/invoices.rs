//! Invoices as their recipients and operators read them (B1–B5): summaries, one with its
//! lines and payments, and the printable qualified invoice.

use askama::Template;
use mpc_api_types::billing::{
    InvoiceSummary, InvoiceView, IssuerOnInvoice, LineView, PaymentView, RateTotalView,
};
use mpc_domain::money::Yen;
use mpc_storage::billing::{self, BillingError, InvoiceRow};

use crate::AppState;
use crate::api::v1::support::today;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

/// Invoices of `month` (`YYYY-MM`); a contractor sees those addressed to it, operators every
/// one or one billing account's.
///
/// # Errors
/// 404 for a contractor naming another account.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    month: Option<&str>,
    account_id: Option<&str>,
) -> ApiResult<Vec<InvoiceSummary>> {
    let account = match (caller.actor.contractor_scope(), account_id) {
        (None, a) => a,
        (Some(own), Some(a)) if a != own => return Err(ApiError::not_found()),
        (Some(own), _) => Some(own),
    };
    summaries(state, month, account).await
}

/// One invoice with its lines, totals per tax rate and payments (B3, B5).
///
/// # Errors
/// 404 for an invoice outside the caller's reach.
pub async fn get(state: &AppState, caller: &Caller, id: &str) -> ApiResult<InvoiceView> {
    let inv = visible(state, caller, id).await?;
    view(state, &inv).await
}

/// The invoice as a printable qualified invoice (適格請求書) in Japanese, as HTML.
///
/// # Errors
/// 404 for an invoice outside the caller's reach.
pub async fn print(state: &AppState, caller: &Caller, id: &str) -> ApiResult<String> {
    let inv = visible(state, caller, id).await?;
    let view = view(state, &inv).await?;
    let month_label = match inv.month.split_once('-') {
        Some((y, m)) => format!("{y}年{}月", m.trim_start_matches('0')),
        None => inv.month.clone(),
    };
    let page = PrintedInvoice {
        number: inv.number.clone(),
        recipient: inv.recipient_name.clone(),
        month_label,
        issue_date: japanese_date(&inv.issue_date),
        due_date: japanese_date(&inv.due_date),
        issuer_name: inv.issuer_name.clone(),
        issuer_registration: inv.issuer_registration.clone(),
        lines: view
            .lines
            .iter()
            .map(|l| PrintLine {
                description: l.description.clone(),
                contract: l.contract_id.chars().take(8).collect(),
                period: if l.period_from == l.period_to {
                    japanese_date(&l.period_from)
                } else {
                    format!(
                        "{} 〜 {}",
                        japanese_date(&l.period_from),
                        japanese_date(&l.period_to)
                    )
                },
                unit: l.unit_amount.to_string(),
                amount: l.amount.to_string(),
            })
            .collect(),
        rates: view
            .totals_by_rate
            .iter()
            .map(|r| PrintRate {
                rate: r.rate_percent,
                taxable: r.taxable.to_string(),
                tax: r.tax.to_string(),
            })
            .collect(),
        total: Yen(inv.total).to_string(),
    };
    let html = page.render().map_err(|e| {
        tracing::error!(error = %e, "invoice template failed");
        ApiError::internal()
    })?;
    Ok(html)
}

/// The summaries of `month`'s invoices of `account` (every account's when `None`), without
/// asking who may see them.
pub(crate) async fn summaries(
    state: &AppState,
    month: Option<&str>,
    account: Option<&str>,
) -> ApiResult<Vec<InvoiceSummary>> {
    let mut conn = state.store.conn().await?;
    let mut invoices = Vec::new();
    for inv in billing::list_invoices(&mut conn, month, account).await? {
        invoices.push(summary(&mut conn, &inv).await?.0);
    }
    Ok(invoices)
}

/// An invoice the caller may see: its recipient's, or any for operators.
pub(crate) async fn visible(state: &AppState, caller: &Caller, id: &str) -> ApiResult<InvoiceRow> {
    let inv = billing::get_invoice(&mut *state.store.conn().await?, id).await?;
    caller.require_contractor(&inv.account_id)?;
    Ok(inv)
}

/// The invoice as the API shows it.
pub(crate) async fn view(state: &AppState, inv: &InvoiceRow) -> ApiResult<InvoiceView> {
    let mut conn = state.store.conn().await?;
    let (summary, payments) = summary(&mut conn, inv).await?;
    let lines = billing::invoice_lines(&mut conn, inv).await?;
    Ok(InvoiceView {
        summary,
        issuer: IssuerOnInvoice {
            name: inv.issuer_name.clone(),
            registration_number: inv.issuer_registration.clone(),
        },
        totals_by_rate: vec![RateTotalView {
            rate_percent: mpc_domain::invoice::STANDARD_RATE_PERCENT,
            taxable: Yen(inv.subtotal),
            tax: Yen(inv.tax),
        }],
        lines: lines
            .into_iter()
            .map(|l| {
                Ok(LineView {
                    kind: billing::line_kind(&l.kind)?,
                    contractor_id: l.contractor_id,
                    contract_id: l.contract_id,
                    subject_id: l.subject_id,
                    rule: l.rule,
                    price_key: l.price_key,
                    description: l.description,
                    period_from: l.period_from,
                    period_to: l.period_to,
                    days: l.days,
                    days_in_month: l.days_in_month,
                    unit_amount: Yen(l.unit_amount),
                    amount: Yen(l.amount),
                    refers_to: l.refers_to,
                })
            })
            .collect::<Result<_, BillingError>>()?,
        payments,
    })
}

async fn summary(
    conn: &mut mpc_storage::AnyConnection,
    inv: &InvoiceRow,
) -> ApiResult<(InvoiceSummary, Vec<PaymentView>)> {
    let payments = billing::payments(conn, &inv.id).await?;
    let paid: i64 = payments.iter().map(|p| p.amount).sum();
    Ok((
        InvoiceSummary {
            id: inv.id.clone(),
            number: inv.number.clone(),
            month: inv.month.clone(),
            account_id: inv.account_id.clone(),
            recipient_name: inv.recipient_name.clone(),
            issue_date: inv.issue_date.clone(),
            due_date: inv.due_date.clone(),
            subtotal: Yen(inv.subtotal),
            tax: Yen(inv.tax),
            total: Yen(inv.total),
            status: billing::invoice_status(inv, paid, today())
                .as_str()
                .to_owned(),
            paid: Yen(paid),
        },
        payments
            .into_iter()
            .map(|p| PaymentView {
                id: p.id,
                paid_on: p.paid_on,
                amount: Yen(p.amount),
                note: p.note,
            })
            .collect(),
    ))
}

struct PrintLine {
    description: String,
    contract: String,
    period: String,
    unit: String,
    amount: String,
}

struct PrintRate {
    rate: i64,
    taxable: String,
    tax: String,
}

#[derive(Template)]
#[template(path = "invoice.html")]
struct PrintedInvoice {
    number: String,
    recipient: String,
    month_label: String,
    issue_date: String,
    due_date: String,
    issuer_name: String,
    issuer_registration: String,
    lines: Vec<PrintLine>,
    rates: Vec<PrintRate>,
    total: String,
}

fn japanese_date(s: &str) -> String {
    match mpc_domain::calendar::parse_date(s) {
        Ok(d) => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
        Err(_) => s.to_owned(),
    }
}
