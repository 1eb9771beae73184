//! `/invoices`: qualified invoices (B3) with their payments (B5), printable in Japanese, and
//! redirected invoices left unpaid (R6.4).

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Html;
use mpc_api_types::Problem;
use mpc_api_types::billing::{DefaultResult, InvoiceList, InvoiceView, RecordPayment};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::app::billing;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, Params};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InvoiceParams {
    /// `YYYY-MM`.
    pub month: Option<String>,
    /// Operators: one billing account.
    pub account_id: Option<String>,
}

/// Invoices; a contractor sees those addressed to it.
#[utoipa::path(get, path = "/invoices", tag = "billing", params(InvoiceParams), security(("bearer" = [])),
    responses((status = 200, body = InvoiceList), (status = 404, body = Problem)))]
pub(in crate::api::v1) async fn invoices(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<InvoiceParams>,
) -> ApiResult<Json<InvoiceList>> {
    let invoices =
        billing::invoices(&state, &caller, q.month.as_deref(), q.account_id.as_deref()).await?;
    Ok(Json(InvoiceList { invoices }))
}
/// One invoice with its lines, totals per tax rate and payments (B3, B5).
#[utoipa::path(get, path = "/invoices/{invoice_id}", tag = "billing", params(("invoice_id" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = InvoiceView), (status = 404, body = Problem)))]
pub(in crate::api::v1) async fn invoice(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<InvoiceView>> {
    Ok(Json(billing::invoice(&state, &caller, &id).await?))
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

/// The invoice as a printable qualified invoice (適格請求書) in Japanese.
#[utoipa::path(get, path = "/invoices/{invoice_id}/print", tag = "billing", params(("invoice_id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, content_type = "text/html", body = String), (status = 404, body = Problem)))]
pub(in crate::api::v1) async fn print(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Html<String>> {
    let view = billing::invoice(&state, &caller, &id).await?;
    printed(&view)
}

/// The printable qualified invoice of `view`, in Japanese (B3).
///
/// # Errors
/// 500 when the template fails.
pub(crate) fn printed(view: &InvoiceView) -> ApiResult<Html<String>> {
    let inv = &view.summary;
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
        issuer_name: view.issuer.name.clone(),
        issuer_registration: view.issuer.registration_number.clone(),
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
        total: inv.total.to_string(),
    };
    let html = page.render().map_err(|e| {
        tracing::error!(error = %e, "invoice template failed");
        ApiError::internal()
    })?;
    Ok(Html(html))
}

/// Records a payment (operators, B5).
#[utoipa::path(post, path = "/invoices/{invoice_id}/payments", tag = "billing", params(("invoice_id" = String, Path)),
    request_body = RecordPayment, security(("bearer" = [])),
    responses((status = 200, body = InvoiceView), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub(in crate::api::v1) async fn pay(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<InvoiceView>> {
    Ok(Json(
        billing::pay(&state, &caller, &id, payload.into()).await?,
    ))
}
/// Marks a redirected invoice unpaid: the management fees it carried move to the management
/// contractor's next invoice (operators, R6.4).
#[utoipa::path(post, path = "/invoices/{invoice_id}/default", tag = "billing", params(("invoice_id" = String, Path)),
    request_body = mpc_api_types::contracts::OnDate, security(("bearer" = [])),
    responses((status = 200, body = DefaultResult), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub(in crate::api::v1) async fn default(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<DefaultResult>> {
    Ok(Json(
        billing::default(&state, &caller, &id, payload.into()).await?,
    ))
}
