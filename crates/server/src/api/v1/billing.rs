//! `/prices`, `/issuer`, `/billing`, `/invoices`, `/outages`, `/sla-claims`: the price book
//! (R14), monthly runs and qualified invoices (B1–B5), SLA credits (R16).

use askama::Template;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use mpc_api_types::Problem;
use mpc_api_types::billing::{
    ClaimList, ClaimView, DecideClaim, DefaultResult, InvoiceList, InvoiceSummary, InvoiceView,
    IssuerOnInvoice, IssuerView, LineView, MovedAmount, OutageList, OutageView, PaymentView,
    PriceList, PriceView, RateTotalView, RecordOutage, RecordPayment, RunRequest, RunSummaryView,
    SetPrices, SubmitClaim,
};
use mpc_domain::calendar::Month;
use mpc_domain::money::Yen;
use mpc_domain::price::{Price, PriceKey};
use mpc_domain::sla::{Affected, Outage};
use mpc_storage::billing::{self, BillingError, InvoiceRecord, Issuer, OutageRecord};
use mpc_storage::contracts::Owned;
use serde::Deserialize;
use utoipa::IntoParams;

use super::support::{Dates, holder, today};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, Params};

impl From<BillingError> for ApiError {
    fn from(e: BillingError) -> Self {
        match e {
            BillingError::Refused(r) => r.into(),
            BillingError::MissingPrices(missing) => {
                let mut err = ApiError::unprocessable(
                    "R14.1",
                    format!(
                        "{} price(s) missing from the price book; nothing was billed",
                        missing.len()
                    ),
                )
                .ja("料金表に料金が設定されていないため請求処理を行いませんでした");
                err.errors = missing
                    .iter()
                    .take(100)
                    .map(|m| mpc_api_types::FieldProblem {
                        field: m.key.to_string(),
                        message: m.to_string(),
                        message_ja: None,
                    })
                    .collect();
                err
            }
            BillingError::RunInProgress(running) => {
                let started = mpc_storage::timestamp(running.started_at)
                    .map_or_else(|_| running.started_at.to_string(), |t| t.to_string());
                ApiError::new(
                    StatusCode::CONFLICT,
                    "billing_run_in_progress",
                    format!(
                        "billing run {} of {} started at {started} by {} is in progress; one run of a month at a time (B4)",
                        running.run_id, running.month, running.started_by
                    ),
                )
                .ja(format!(
                    "{} の請求処理（{}、{started} 開始）が実行中です。同じ月の請求処理は一度に一つです（B4）",
                    running.month, running.run_id
                ))
            }
            BillingError::RunSuperseded(month) => ApiError::new(
                StatusCode::CONFLICT,
                "billing_run_in_progress",
                format!(
                    "the billing run of {month} stalled and another run took the month over; nothing of this run was kept"
                ),
            ),
            BillingError::Storage(e) => e.into(),
        }
    }
}

pub(crate) fn month(field: &'static str, s: &str) -> ApiResult<Month> {
    mpc_domain::calendar::parse_business_month(s).map_err(|e| {
        mpc_domain::account::FieldError {
            field,
            message_en: format!("{field}: {e}"),
            message_ja: format!(
                "{field} は 2000-01 から 2099-12 までの月を YYYY-MM 形式で指定してください"
            ),
        }
        .into()
    })
}

fn price_view(p: Price) -> PriceView {
    PriceView {
        key: p.key.to_string(),
        contractor_id: p.contractor_id,
        effective_from: p.effective_from.to_string(),
        amount: p.amount.0,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PriceParams {
    /// Operators: only this contractor's agreements (`list` for list prices only).
    pub contractor_id: Option<String>,
}

/// The price book: list prices and agreements (R14.1). Contractors see the list and their own
/// agreements.
#[utoipa::path(get, path = "/prices", tag = "billing", params(PriceParams), security(("bearer" = [])),
    responses((status = 200, body = PriceList), (status = 401, body = Problem)))]
pub async fn prices(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<PriceParams>,
) -> ApiResult<Json<PriceList>> {
    let mut conn = state.store.conn().await?;
    let prices = match (caller.actor.contractor_scope(), q.contractor_id.as_deref()) {
        (None, Some("list")) => billing::list_prices(&mut conn, Some("")).await?,
        (None, filter) => billing::list_prices(&mut conn, filter).await?,
        (Some(own), _) => {
            let mut p = billing::list_prices(&mut conn, Some("")).await?;
            p.extend(billing::list_prices(&mut conn, Some(own)).await?);
            p
        }
    };
    Ok(Json(PriceList {
        prices: prices.into_iter().map(price_view).collect(),
    }))
}

fn parse_prices(views: &[PriceView]) -> ApiResult<Vec<Price>> {
    let mut out = Vec::with_capacity(views.len());
    let mut problems = Vec::new();
    for (i, v) in views.iter().enumerate() {
        let key = v.key.parse::<PriceKey>();
        let from = Dates::parse("effective_from", Some(&v.effective_from));
        let amount = mpc_domain::price::check_amount(&format!("prices[{i}].amount"), v.amount);
        match (key, from, amount) {
            (Ok(key), Ok(Some(from)), Ok(amount)) => out.push(Price {
                key,
                contractor_id: v.contractor_id.clone(),
                effective_from: from,
                amount,
            }),
            (Err(e), _, _) => problems.push((format!("prices[{i}].key"), e.to_string())),
            (_, Err(_) | Ok(None), _) => problems.push((
                format!("prices[{i}].effective_from"),
                "expected YYYY-MM-DD".into(),
            )),
            (_, _, Err(r)) => problems.push((format!("prices[{i}].amount"), r.message_en)),
        }
    }
    if problems.is_empty() {
        return Ok(out);
    }
    let mut err = ApiError::unprocessable(
        "R14.1",
        format!("{} price(s) are not valid", problems.len()),
    );
    err.errors = problems
        .into_iter()
        .map(|(field, message)| mpc_api_types::FieldProblem {
            field,
            message,
            message_ja: None,
        })
        .collect();
    Err(err)
}

async fn check_contractors(state: &AppState, prices: &[Price]) -> ApiResult<()> {
    for c in prices.iter().filter_map(|p| p.contractor_id.as_deref()) {
        if mpc_storage::accounts::get_contractor(&state.store, c)
            .await
            .is_err()
        {
            return Err(ApiError::unprocessable(
                "invalid_field",
                format!("no contractor {c} for a price agreement"),
            ));
        }
    }
    Ok(())
}

/// Sets prices (operators): each replaces the amount of the same key, contractor and day.
#[utoipa::path(put, path = "/prices", tag = "billing", request_body = SetPrices, security(("bearer" = [])),
    responses((status = 200, body = PriceList), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn set_prices(
    State(state): State<AppState>,
    caller: Caller,
    payload: JsonBody,
) -> ApiResult<Json<PriceList>> {
    caller.require_operator()?;
    let (body, raw) = payload.parse::<SetPrices>()?;
    let prices = parse_prices(&body.prices)?;
    check_contractors(&state, &prices).await?;
    let mut tx = state.store.write().await?;
    billing::upsert_prices(&mut tx, &prices).await?;
    tx.commit(caller.journal("prices.set").request(raw)).await?;
    Ok(Json(PriceList {
        prices: prices.into_iter().map(price_view).collect(),
    }))
}

/// The price book as CSV (operators): `key,contractor_id,effective_from,amount`.
#[utoipa::path(get, path = "/prices.csv", tag = "billing", security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = Problem)))]
pub async fn prices_csv(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.require_operator()?;
    let prices = billing::list_prices(&mut *state.store.conn().await?, None).await?;
    Ok(csv_response(billing::prices_to_csv(&prices), "prices.csv"))
}

fn csv_response(body: String, filename: &str) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// Imports prices from CSV (operators), all or nothing; each bad row is named by line.
#[utoipa::path(post, path = "/prices/import", tag = "billing", request_body(content = String, content_type = "text/csv"),
    security(("bearer" = [])),
    responses((status = 200, body = PriceList), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn import_prices(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<PriceList>> {
    caller.require_operator()?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("invalid_body", "the CSV must be UTF-8"))?;
    let prices = billing::prices_from_csv(text).map_err(|errors| {
        let mut err = ApiError::unprocessable(
            "R14.1",
            format!(
                "{} row(s) are not valid; nothing was imported",
                errors.len()
            ),
        );
        err.errors = errors
            .into_iter()
            .map(|message| mpc_api_types::FieldProblem {
                field: "csv".into(),
                message,
                message_ja: None,
            })
            .collect();
        err
    })?;
    check_contractors(&state, &prices).await?;
    let journal = caller
        .journal("prices.import")
        .outcome(serde_json::json!({ "rows": prices.len() }));
    let prices = state
        .jobs
        .run(move |store| async move {
            let _job = store.job().await;
            let mut tx = store.write().await?;
            billing::upsert_prices(&mut tx, &prices).await?;
            tx.commit(journal).await?;
            Ok::<_, BillingError>(prices)
        })
        .await?;
    Ok(Json(PriceList {
        prices: prices.into_iter().map(price_view).collect(),
    }))
}

/// The issuer of invoices (B3).
#[utoipa::path(get, path = "/issuer", tag = "billing", security(("bearer" = [])),
    responses((status = 200, body = IssuerView), (status = 404, body = Problem)))]
pub async fn get_issuer(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<IssuerView>> {
    let i = billing::issuer(&mut *state.store.conn().await?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(IssuerView {
        name: i.name,
        registration_number: i.registration_number,
        address: i.address,
        contact: i.contact,
    }))
}

/// Sets the issuer (operators): name and qualified-invoice registration number `T` + 13 digits.
#[utoipa::path(put, path = "/issuer", tag = "billing", request_body = IssuerView, security(("bearer" = [])),
    responses((status = 200, body = IssuerView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn set_issuer(
    State(state): State<AppState>,
    caller: Caller,
    payload: JsonBody,
) -> ApiResult<Json<IssuerView>> {
    caller.require_operator()?;
    let (body, raw) = payload.parse::<IssuerView>()?;
    let issuer = Issuer {
        name: mpc_domain::account::text("name", &body.name, 200)?,
        registration_number: body.registration_number.trim().to_owned(),
        address: body.address.trim().to_owned(),
        contact: body.contact.trim().to_owned(),
    };
    let mut tx = state.store.write().await?;
    billing::set_issuer(&mut tx, &issuer).await?;
    tx.commit(caller.journal("issuer.set").request(raw)).await?;
    Ok(Json(IssuerView {
        name: issuer.name,
        registration_number: issuer.registration_number,
        address: issuer.address,
        contact: issuer.contact,
    }))
}

/// Bills a month for every contractor (operators). Running again before the month is
/// finalized gives the same invoices (B4).
#[utoipa::path(post, path = "/billing/runs", tag = "billing", request_body = RunRequest, security(("bearer" = [])),
    responses((status = 200, body = RunSummaryView), (status = 403, body = Problem), (status = 409, body = Problem, description = "another run of the month is in progress (`billing_run_in_progress`)"), (status = 422, body = Problem)))]
pub async fn run(
    State(state): State<AppState>,
    caller: Caller,
    payload: JsonBody,
) -> ApiResult<Json<RunSummaryView>> {
    caller.require_operator()?;
    let (body, _) = payload.parse::<RunRequest>()?;
    let s = crate::app::billing::run(&state, &caller, month("month", &body.month)?).await?;
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
pub async fn finalize(
    State(state): State<AppState>,
    caller: Caller,
    Path(m): Path<String>,
) -> ApiResult<Json<InvoiceList>> {
    crate::app::billing::finalize(&state, &caller, month("month", &m)?).await?;
    list_for(&state, Some(&m), None).await
}

/// Every line of a month's invoices as CSV (operators), for accounting.
#[utoipa::path(get, path = "/billing/months/{month}/lines.csv", tag = "billing", params(("month" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = Problem)))]
pub async fn lines_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(m): Path<String>,
) -> ApiResult<Response> {
    caller.require_operator()?;
    let month = month("month", &m)?;
    let out = billing::lines_csv(&mut *state.store.conn().await?, month).await?;
    Ok(csv_response(out, &format!("lines-{month}.csv")))
}

async fn summary(
    conn: &mut mpc_storage::AnyConnection,
    inv: &InvoiceRecord,
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

async fn list_for(
    state: &AppState,
    month: Option<&str>,
    account: Option<&str>,
) -> ApiResult<Json<InvoiceList>> {
    let mut conn = state.store.conn().await?;
    let mut invoices = Vec::new();
    for inv in billing::list_invoices(&mut conn, month, account).await? {
        invoices.push(summary(&mut conn, &inv).await?.0);
    }
    Ok(Json(InvoiceList { invoices }))
}

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
pub async fn invoices(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<InvoiceParams>,
) -> ApiResult<Json<InvoiceList>> {
    let account = match (caller.actor.contractor_scope(), q.account_id) {
        (None, a) => a,
        (Some(own), Some(a)) if a != own => return Err(ApiError::not_found()),
        (Some(own), _) => Some(own.to_owned()),
    };
    list_for(&state, q.month.as_deref(), account.as_deref()).await
}

async fn visible_invoice(state: &AppState, caller: &Caller, id: &str) -> ApiResult<InvoiceRecord> {
    let inv = billing::get_invoice(&mut *state.store.conn().await?, id).await?;
    caller.require_contractor(&inv.account_id)?;
    Ok(inv)
}

async fn invoice_view(state: &AppState, inv: &InvoiceRecord) -> ApiResult<InvoiceView> {
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

/// One invoice with its lines, totals per tax rate and payments (B3, B5).
#[utoipa::path(get, path = "/invoices/{invoice_id}", tag = "billing", params(("invoice_id" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = InvoiceView), (status = 404, body = Problem)))]
pub async fn invoice(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<InvoiceView>> {
    let inv = visible_invoice(&state, &caller, &id).await?;
    Ok(Json(invoice_view(&state, &inv).await?))
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
pub async fn print(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Html<String>> {
    let inv = visible_invoice(&state, &caller, &id).await?;
    let view = invoice_view(&state, &inv).await?;
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
    Ok(Html(html))
}

/// Records a payment (operators, B5).
#[utoipa::path(post, path = "/invoices/{invoice_id}/payments", tag = "billing", params(("invoice_id" = String, Path)),
    request_body = RecordPayment, security(("bearer" = [])),
    responses((status = 200, body = InvoiceView), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub async fn pay(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<InvoiceView>> {
    let inv = visible_invoice(&state, &caller, &id).await?;
    caller.require_operator()?;
    let (body, raw) = payload.parse::<RecordPayment>()?;
    let on = Dates::default().or_today("paid_on", body.paid_on.as_deref())?;
    let mut tx = state.store.write().await?;
    billing::record_payment(&mut tx, &id, on, Yen(body.amount), &body.note).await?;
    tx.commit(
        caller
            .journal("invoice.payment")
            .contractor(Some(&inv.account_id))
            .subject(&id)
            .request(raw),
    )
    .await?;
    Ok(Json(invoice_view(&state, &inv).await?))
}

/// Marks a redirected invoice unpaid: the management fees it carried move to the management
/// contractor's next invoice (operators, R6.4).
#[utoipa::path(post, path = "/invoices/{invoice_id}/default", tag = "billing", params(("invoice_id" = String, Path)),
    request_body = mpc_api_types::contracts::OnDate, security(("bearer" = [])),
    responses((status = 200, body = DefaultResult), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub async fn default(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<DefaultResult>> {
    let inv = visible_invoice(&state, &caller, &id).await?;
    caller.require_operator()?;
    let (body, raw) = payload.parse_or_empty::<mpc_api_types::contracts::OnDate>()?;
    let on = Dates::default().or_today("on", body.on.as_deref())?;
    let mut tx = state.store.write().await?;
    let moved = billing::mark_defaulted(&mut tx, &id, on).await?;
    tx.commit(
        caller
            .journal("invoice.default")
            .contractor(Some(&inv.account_id))
            .subject(&id)
            .request(raw),
    )
    .await?;
    Ok(Json(DefaultResult {
        moved: moved
            .into_iter()
            .map(|(contractor_id, amount)| MovedAmount {
                contractor_id,
                amount,
            })
            .collect(),
    }))
}

fn outage_view(row: &OutageRecord, o: &Outage) -> OutageView {
    let (contract_ids, management_id) = match &o.affected {
        Affected::Contracts(ids) => (ids.clone(), None),
        Affected::AllUnderManagement(m) => (Vec::new(), Some(m.clone())),
    };
    OutageView {
        id: row.id.clone(),
        learned_at: o.learned_at.to_string(),
        restored_at: o.restored_at.to_string(),
        operator_caused: o.operator_caused,
        full_days: o.full_days(),
        qualifies: o.qualifies(),
        claimable_from: o.claimable_on().to_string(),
        claim_deadline: o.claim_deadline().to_string(),
        contract_ids,
        management_id,
        description: row.description.clone(),
    }
}

/// Whether a contractor's contracts are among those an outage affected.
async fn outage_concerns(state: &AppState, caller: &Caller, o: &Outage) -> ApiResult<bool> {
    let Some(own) = caller.actor.contractor_scope() else {
        return Ok(true);
    };
    let book = mpc_storage::contracts::load_book(&mut *state.store.conn().await?, own).await?;
    Ok(book.contracts.iter().any(|c| o.affects(c)))
}

/// Records an outage (operators, R16.1).
#[utoipa::path(post, path = "/outages", tag = "billing", request_body = RecordOutage, security(("bearer" = [])),
    responses((status = 201, body = OutageView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn record_outage(
    State(state): State<AppState>,
    caller: Caller,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<OutageView>)> {
    caller.require_operator()?;
    let (body, raw) = payload.parse::<RecordOutage>()?;
    let instant = |field: &'static str, s: &str| -> ApiResult<jiff::Timestamp> {
        let at: jiff::Timestamp = s.parse().map_err(|_| {
            ApiError::unprocessable(
                "invalid_field",
                format!("{field}: expected an RFC 3339 instant"),
            )
        })?;
        mpc_domain::calendar::business_instant(at)
            .map_err(|e| ApiError::unprocessable("invalid_field", format!("{field}: {e}")))
    };
    let affected = match (body.management_id.clone(), body.contract_ids.is_empty()) {
        (Some(m), true) => Affected::AllUnderManagement(m),
        (None, false) => Affected::Contracts(body.contract_ids.clone()),
        _ => {
            return Err(ApiError::unprocessable(
                "invalid_field",
                "name either contract_ids or management_id",
            ));
        }
    };
    let outage = Outage {
        id: mpc_storage::new_id(),
        learned_at: instant("learned_at", &body.learned_at)?,
        restored_at: instant("restored_at", &body.restored_at)?,
        operator_caused: body.operator_caused,
        affected,
    };
    let mut tx = state.store.write().await?;
    billing::record_outage(&mut tx, &outage, &body.description).await?;
    tx.commit(
        caller
            .journal("outage.record")
            .subject(&outage.id)
            .request(raw),
    )
    .await?;
    let row = billing::get_outage(&mut *state.store.conn().await?, &outage.id).await?;
    Ok((StatusCode::CREATED, Json(outage_view(&row, &outage))))
}

/// Outages, newest first; a contractor sees those that affected its contracts.
#[utoipa::path(get, path = "/outages", tag = "billing", security(("bearer" = [])),
    responses((status = 200, body = OutageList), (status = 401, body = Problem)))]
pub async fn outages(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<OutageList>> {
    let rows = billing::list_outages(&mut *state.store.conn().await?).await?;
    let mut out = Vec::new();
    for row in rows {
        let o = row.outage()?;
        if outage_concerns(&state, &caller, &o).await? {
            out.push(outage_view(&row, &o));
        }
    }
    Ok(Json(OutageList { outages: out }))
}

/// One outage with its claim deadline (R16.3).
#[utoipa::path(get, path = "/outages/{outage_id}", tag = "billing", params(("outage_id" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = OutageView), (status = 404, body = Problem)))]
pub async fn outage(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<OutageView>> {
    let row = billing::get_outage(&mut *state.store.conn().await?, &id).await?;
    let o = row.outage()?;
    if !outage_concerns(&state, &caller, &o).await? {
        return Err(ApiError::not_found());
    }
    Ok(Json(outage_view(&row, &o)))
}

fn claim_view(c: billing::ClaimRecord) -> ClaimView {
    ClaimView {
        id: c.id,
        outage_id: c.outage_id,
        contract_id: c.contract_id,
        contractor_id: c.contractor_id,
        claimed_on: c.claimed_on,
        status: c.status.to_string(),
        decided_on: c.decided_on,
    }
}

/// Claims the SLA credit of an outage for a service adapter (R16.2), by the deadline (R16.3).
#[utoipa::path(post, path = "/contracts/{contract_id}/sla-claims", tag = "billing", params(("contract_id" = String, Path)),
    request_body = SubmitClaim, security(("bearer" = [])),
    responses((status = 201, body = ClaimView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<ClaimView>)> {
    let owner = holder(&state, &caller, Owned::Contract, &contract_id).await?;
    let (body, raw) = payload.parse::<SubmitClaim>()?;
    if !caller.actor.is_operator() && body.claimed_on.is_some() {
        return Err(ApiError::forbidden(
            "only operators record the date of a claim made on paper",
        ));
    }
    let on = Dates::default().or_today("claimed_on", body.claimed_on.as_deref())?;
    let mut tx = state.store.write().await?;
    let c = billing::claim(&mut tx, &body.outage_id, &contract_id, on).await?;
    tx.commit(
        caller
            .journal("sla_claim.submit")
            .contractor(Some(&owner))
            .subject(&c.id)
            .request(raw),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(claim_view(c))))
}

/// A contractor's SLA claims.
#[utoipa::path(get, path = "/contractors/{contractor_id}/sla-claims", tag = "billing", params(("contractor_id" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = ClaimList), (status = 404, body = Problem)))]
pub async fn claims(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
) -> ApiResult<Json<ClaimList>> {
    caller.require_contractor(&contractor_id)?;
    mpc_storage::accounts::get_contractor(&state.store, &contractor_id).await?;
    let rows = billing::claims_of(&mut *state.store.conn().await?, Some(&contractor_id)).await?;
    Ok(Json(ClaimList {
        claims: rows.into_iter().map(claim_view).collect(),
    }))
}

async fn decide(
    state: &AppState,
    caller: &Caller,
    id: &str,
    approve: bool,
    payload: &JsonBody,
) -> ApiResult<Json<ClaimView>> {
    let c = billing::get_claim(&mut *state.store.conn().await?, id).await?;
    caller.require_contractor(&c.contractor_id)?;
    caller.require_operator()?;
    let (body, raw) = payload.parse_or_empty::<DecideClaim>()?;
    let on = Dates::default().or_today("on", body.on.as_deref())?;
    if let Some(reason) = &body.reason {
        mpc_domain::account::text("reason", reason, 500)?;
    }
    let mut tx = state.store.write().await?;
    let c = billing::decide_claim(&mut tx, id, approve, on).await?;
    let op = if approve {
        "sla_claim.approve"
    } else {
        "sla_claim.refuse"
    };
    tx.commit(
        caller
            .journal(op)
            .contractor(Some(&c.contractor_id))
            .subject(id)
            .request(raw),
    )
    .await?;
    Ok(Json(claim_view(c)))
}

/// Approves a claim (operators): the credit is on the invoice of the month of approval.
#[utoipa::path(post, path = "/sla-claims/{claim_id}/approve", tag = "billing", params(("claim_id" = String, Path)),
    request_body = DecideClaim, security(("bearer" = [])),
    responses((status = 200, body = ClaimView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<ClaimView>> {
    decide(&state, &caller, &id, true, &payload).await
}

/// Refuses a claim (operators), with the reason for the journal.
#[utoipa::path(post, path = "/sla-claims/{claim_id}/refuse", tag = "billing", params(("claim_id" = String, Path)),
    request_body = DecideClaim, security(("bearer" = [])),
    responses((status = 200, body = ClaimView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn refuse(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    payload: JsonBody,
) -> ApiResult<Json<ClaimView>> {
    decide(&state, &caller, &id, false, &payload).await
}
