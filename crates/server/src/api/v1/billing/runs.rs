//! `/issuer` and `/billing`: the issuer every invoice names (B3), monthly runs and their
//! finalization (B1, B2, B4), and the lines of a month for accounting.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use mpc_api_types::Problem;
use mpc_api_types::billing::{InvoiceList, IssuerView, RunRequest, RunSummaryView};

use super::month;
use crate::AppState;
use crate::api::csv_download;
use crate::app::billing;
use crate::error::ApiResult;
use crate::extract::{Caller, JsonBody};

/// The issuer of invoices (B3).
#[utoipa::path(get, path = "/issuer", tag = "billing", security(("bearer" = [])),
    responses((status = 200, body = IssuerView), (status = 404, body = Problem)))]
pub(in crate::api::v1) async fn get_issuer(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<IssuerView>> {
    Ok(Json(billing::issuer(&state, &caller).await?))
}
/// Sets the issuer (operators): name and qualified-invoice registration number `T` + 13 digits,
/// address, contact, phone and bank account (振込先) printed on invoices (B3).
#[utoipa::path(put, path = "/issuer", tag = "billing", request_body = IssuerView, security(("bearer" = [])),
    responses((status = 200, body = IssuerView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(in crate::api::v1) async fn set_issuer(
    State(state): State<AppState>,
    caller: Caller,
    payload: JsonBody,
) -> ApiResult<Json<IssuerView>> {
    Ok(Json(
        billing::set_issuer(&state, &caller, payload.into()).await?,
    ))
}
/// Bills a month for every contractor (operators). Running again before the month is
/// finalized gives the same invoices (B4).
#[utoipa::path(post, path = "/billing/runs", tag = "billing", request_body = RunRequest, security(("bearer" = [])),
    responses((status = 200, body = RunSummaryView), (status = 403, body = Problem), (status = 409, body = Problem, description = "another run of the month is in progress (`billing_run_in_progress`)"), (status = 422, body = Problem)))]
pub(in crate::api::v1) async fn run(
    State(state): State<AppState>,
    caller: Caller,
    payload: JsonBody,
) -> ApiResult<Json<RunSummaryView>> {
    caller.require_operator()?;
    let (body, _) = payload.parse::<RunRequest>()?;
    let s = billing::run(&state, &caller, month("month", &body.month)?).await?;
    Ok(Json(RunSummaryView {
        month: s.month,
        contractors: s.contractors,
        contracts: s.contracts,
        invoices: s.invoices,
        lines: s.lines,
        subtotal: s.subtotal,
        tax: s.tax,
        total: s.total,
    }))
}

/// Finalizes a month (operators): its invoices become immutable (B4).
#[utoipa::path(post, path = "/billing/months/{month}/finalize", tag = "billing", params(("month" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = InvoiceList), (status = 403, body = Problem), (status = 409, body = Problem, description = "a run of the month is in progress (`billing_run_in_progress`)"), (status = 422, body = Problem)))]
pub(in crate::api::v1) async fn finalize(
    State(state): State<AppState>,
    caller: Caller,
    Path(m): Path<String>,
) -> ApiResult<Json<InvoiceList>> {
    billing::finalize(&state, &caller, month("month", &m)?).await?;
    let invoices = billing::invoices(&state, &caller, Some(&m), None).await?;
    Ok(Json(InvoiceList { invoices }))
}
/// Every line of a month's invoices as CSV (operators), for accounting.
///
/// The invoice number, the recipient's and the contractor's names and what each price key
/// prices (`item`, as 別紙1 names it) stand beside the ids; UTF-8 with a byte order mark, so
/// that Excel opens it as written.
#[utoipa::path(get, path = "/billing/months/{month}/lines.csv", tag = "billing", params(("month" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = Problem)))]
pub(in crate::api::v1) async fn lines_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(m): Path<String>,
) -> ApiResult<Response> {
    caller.require_operator()?;
    let month = month("month", &m)?;
    let csv = billing::lines_csv(&state, &caller, month).await?;
    Ok(csv_download(csv, &format!("lines-{month}.csv")))
}
