//! `/invoices`: qualified invoices (B3) with their payments (B5), printable in Japanese, and
//! redirected invoices left unpaid (R6.4).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, Response};
use mpc_api_types::Problem;
use mpc_api_types::billing::{DefaultResult, InvoicePage, InvoiceView, RecordPayment};

use crate::AppState;
use crate::api::pdf_download;
use crate::app::billing::{self, InvoiceSearch};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, Params};
use crate::invoice_print::printed;

/// A numbered page of invoices by month and account, filtered by month, account and state
/// (B5); a contractor sees those addressed to it.
#[utoipa::path(get, path = "/invoices", tag = "billing", params(InvoiceSearch), security(("bearer" = [])),
    responses((status = 200, body = InvoicePage),
              (status = 400, body = Problem, description = "an unknown state (`invalid_query`, listing the states) or a page or limit out of range (`invalid_paging`)"),
              (status = 404, body = Problem)))]
pub(in crate::api::v1) async fn invoices(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<InvoiceSearch>,
) -> ApiResult<Json<InvoicePage>> {
    Ok(Json(
        billing::invoice_page(&state, &caller, &q, billing::Order::OldestFirst).await?,
    ))
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

/// The invoice as an A4 PDF (適格請求書, B3) with the Japanese font embedded: the header on
/// every page, pages numbered, the totals never split. An operator's draft is marked 下書き.
#[utoipa::path(get, path = "/invoices/{invoice_id}/pdf", tag = "billing", params(("invoice_id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf", body = mpc_api_types::billing::PdfDocument), (status = 404, body = Problem),
              (status = 503, body = Problem, description = "the Japanese font is not installed (`invoice_font_missing`)")))]
pub(in crate::api::v1) async fn pdf(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (name, bytes) = billing::invoice_pdf(&state, &caller, &id).await?;
    Ok(pdf_download(bytes, &name))
}

/// Records a payment (operators, B5). With an `Idempotency-Key` header the payment is
/// recorded once per caller, invoice and key: the same key and body again answers as the first
/// did and records nothing more; the same key with another body is a 409.
#[utoipa::path(post, path = "/invoices/{invoice_id}/payments", tag = "billing",
    params(("invoice_id" = String, Path),
           ("Idempotency-Key" = Option<String>, Header,
            description = "1–255 printable ASCII characters; a retry with the same key and body records nothing more")),
    request_body = RecordPayment, security(("bearer" = [])),
    responses((status = 200, body = InvoiceView),
              (status = 400, body = Problem, description = "a malformed key (`invalid_idempotency_key`)"),
              (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "the key was used with another body (`idempotency_key_reused`)"),
              (status = 422, body = Problem)))]
pub(in crate::api::v1) async fn pay(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    payload: JsonBody,
) -> ApiResult<Json<InvoiceView>> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key: printable ASCII characters only",
            )
        })?),
    };
    Ok(Json(
        billing::pay(&state, &caller, &id, payload.into(), key).await?,
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
