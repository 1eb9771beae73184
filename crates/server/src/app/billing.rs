//! Monthly billing (B1–B5): runs and finalization, the issuer every invoice names, invoices
//! with their payments, and the redirected invoices left unpaid.

use mpc_api_types::billing::{
    DefaultResult, InvoicePage, InvoiceSummary, InvoiceView, IssuerOnInvoice, IssuerView,
    LinePartView, LineView, MovedAmount, PaymentView, RateTotalView, RecordPayment,
};
use mpc_api_types::contracts::OnDate;
use mpc_domain::access::Actor;
use mpc_domain::calendar::Month;
use mpc_domain::money::Yen;
use mpc_storage::billing::{self, BillingError, InvoiceRecord, Issuer, IssuerPayment, RunSummary};

use super::{Input, journal};
use crate::AppState;
use crate::app::support::{Dates, today};
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

/// A billing month `YYYY-MM` of the field `field`, within the business dates.
///
/// # Errors
/// 422 naming the field otherwise.
pub fn parse_month(field: &'static str, s: &str) -> ApiResult<Month> {
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

/// Bills `month` for every contractor (operators). The run happens on the jobs' runtime and
/// holds the month's lease: a second run of the month, from anywhere, is told which run holds
/// it (409 `billing_run_in_progress`); running again later gives the same invoices (B4).
pub async fn run(state: &AppState, caller: &Caller, month: Month) -> ApiResult<RunSummary> {
    run_with_progress(state, caller, month, |_, _| {}).await
}

/// Like [`run`], telling `progress` how many of how many contracts are billed as it goes (the
/// command line's progress bar).
pub async fn run_with_progress(
    state: &AppState,
    caller: &Caller,
    month: Month,
    progress: impl Fn(usize, usize) + Send + Sync + 'static,
) -> ApiResult<RunSummary> {
    caller.require_operator()?;
    let journal = caller
        .journal("billing.run")
        .request(serde_json::json!({ "month": month.to_string() }));
    Ok(state
        .jobs
        .run(
            move |store| async move { billing::run_month(&store, month, &progress, journal).await },
        )
        .await?)
}

/// Makes `month`'s invoices final and immutable (operators, B4). Returns how many.
pub async fn finalize(state: &AppState, caller: &Caller, month: Month) -> ApiResult<usize> {
    caller.require_operator()?;
    Ok(billing::finalize(&state.store, month, caller.journal("billing.finalize")).await?)
}

/// The issuer of invoices (B3), as set: its name, registration number, address, contact,
/// and the phone and bank account (振込先) printed on invoices. Operators set it; contractor
/// users may read it too, as it heads every invoice they receive.
///
/// # Errors
/// 404 before an operator sets it.
pub async fn issuer(state: &AppState, caller: &Caller) -> ApiResult<IssuerView> {
    // Every role reads it; a new role must decide here whether it may.
    match &caller.actor {
        Actor::Operator { .. } | Actor::Contractor { .. } => {}
    }
    let mut conn = state.store.conn().await?;
    let issuer = billing::issuer(&mut conn)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let payment = billing::issuer_payment(&mut conn).await?;
    Ok(issuer_view(issuer, payment))
}

fn issuer_view(i: Issuer, p: IssuerPayment) -> IssuerView {
    IssuerView {
        name: i.name,
        registration_number: i.registration_number,
        address: i.address,
        contact: i.contact,
        phone: p.phone,
        bank_account: p.bank_account,
    }
}

/// Sets the issuer (operators), journaled as `issuer.set`: a name, the qualified-invoice
/// registration number, `T` and 13 digits (B3), the address, contact, phone and bank account
/// (振込先) printed on invoices. Invoices keep the issuer of their last run.
///
/// # Errors
/// 403 for anyone but operators; 422 for a name empty or over 200 characters, a phone or
/// address over 200 or a bank account over 300 characters, or a registration number that is
/// not `T` and 13 digits (B3).
pub async fn set_issuer(
    state: &AppState,
    caller: &Caller,
    new: Input<IssuerView>,
) -> ApiResult<IssuerView> {
    caller.require_operator()?;
    let (body, raw) = new.parse()?;
    let optional = |field, value: &str, max| -> ApiResult<String> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(String::new());
        }
        Ok(mpc_domain::account::text(field, value, max)?)
    };
    let issuer = Issuer {
        name: mpc_domain::account::text("name", &body.name, 200)?,
        registration_number: body.registration_number.trim().to_owned(),
        address: optional("address", &body.address, 200)?,
        contact: optional("contact", &body.contact, 200)?,
    };
    let payment = IssuerPayment {
        phone: optional("phone", &body.phone, 200)?,
        bank_account: optional("bank_account", &body.bank_account, 300)?,
    };
    let mut tx = state.store.write().await?;
    billing::set_issuer(&mut tx, &issuer).await?;
    billing::set_issuer_payment(&mut tx, &payment).await?;
    tx.commit(caller.journal("issuer.set").request(raw)).await?;
    Ok(issuer_view(issuer, payment))
}

/// Every line of `month`'s invoices as CSV (operators), for accounting.
///
/// # Errors
/// 403 for anyone but operators.
pub async fn lines_csv(state: &AppState, caller: &Caller, month: Month) -> ApiResult<String> {
    caller.require_operator()?;
    Ok(billing::lines_csv(&mut *state.store.conn().await?, month).await?)
}

async fn summary(
    conn: &mut mpc_storage::AnyConnection,
    inv: &InvoiceRecord,
) -> ApiResult<(InvoiceSummary, Vec<PaymentView>)> {
    let payments = billing::payments(conn, &inv.id).await?;
    let paid: i64 = payments.iter().map(|p| p.amount).sum();
    Ok((
        brief(inv, paid, today()),
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

/// An invoice as a listing shows it, `paid` on it so far, its state as of `today` (B5).
fn brief(inv: &InvoiceRecord, paid: i64, today: jiff::civil::Date) -> InvoiceSummary {
    InvoiceSummary {
        id: inv.id.clone(),
        number: inv.number(),
        month: inv.month.clone(),
        account_id: inv.account_id.clone(),
        recipient_name: inv.recipient_name.clone(),
        issue_date: inv.issue_date.clone(),
        due_date: inv.due_date.clone(),
        subtotal: Yen(inv.subtotal),
        tax: Yen(inv.tax),
        total: Yen(inv.total),
        status: billing::invoice_status(inv, paid, today)
            .as_str()
            .to_owned(),
        paid: Yen(paid),
    }
}

async fn list_for(
    state: &AppState,
    month: Option<&str>,
    account: Option<&str>,
    finalized_only: bool,
) -> ApiResult<Vec<InvoiceSummary>> {
    let mut conn = state.store.conn().await?;
    let mut invoices = Vec::new();
    for inv in billing::find_invoices(&mut conn, month, account, finalized_only).await? {
        invoices.push(summary(&mut conn, &inv).await?.0);
    }
    Ok(invoices)
}

/// Invoices of `month` (`YYYY-MM`) and of one billing account, each when given; a contractor
/// sees the finalized ones addressed to it (a draft is not an invoice yet, B4).
///
/// # Errors
/// 404 when a contractor user asks for another account's invoices.
pub async fn invoices(
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
    let contractor = caller.actor.contractor_scope().is_some();
    list_for(state, month, account, contractor).await
}

/// What a numbered page of invoices shows; each filter given narrows it. The API reads it
/// from the query string.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InvoiceSearch {
    /// `YYYY-MM`.
    pub month: Option<String>,
    /// Operators: one billing account.
    pub account_id: Option<String>,
    /// Only invoices standing in this state today (B5): `draft`, `issued`, `partly_paid`,
    /// `paid`, `overdue` or `defaulted`.
    pub state: Option<String>,
    /// The page, from 1.
    pub page: Option<u32>,
    /// Invoices per page (1–1000, default 100).
    pub limit: Option<u32>,
}

/// Which month a list of invoices starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// The API's order: a client pages through months as they were billed.
    OldestFirst,
    /// The console's: the month people look for is usually the latest.
    NewestFirst,
}

/// A numbered page of invoices, by month and account, and how many all pages hold: one count
/// query and one page query, the state judged in the query (B5). A contractor sees the
/// finalized invoices addressed to it.
///
/// # Errors
/// 400 `invalid_query` listing the states for an unknown state; 400 `invalid_paging` for a
/// page or limit out of range; 422 for a malformed month; 404 when a contractor user asks for
/// another account's invoices.
pub async fn invoice_page(
    state: &AppState,
    caller: &Caller,
    search: &InvoiceSearch,
    order: Order,
) -> ApiResult<InvoicePage> {
    use mpc_domain::invoice::InvoiceState;
    let account = match (
        caller.actor.contractor_scope(),
        search.account_id.as_deref(),
    ) {
        (None, a) => a,
        (Some(own), Some(a)) if a != own => return Err(ApiError::not_found()),
        (Some(own), _) => Some(own),
    };
    let wanted = search
        .state
        .as_deref()
        .map(|s| {
            s.parse::<InvoiceState>().map_err(|e| {
                let states: Vec<&str> = InvoiceState::ALL.iter().map(|s| s.as_str()).collect();
                let mut err = ApiError::bad_request("invalid_query", e.to_string()).ja(format!(
                    "state は {} のいずれかで指定してください",
                    states.join("、")
                ));
                err.errors.push(mpc_api_types::FieldProblem::new(
                    "state",
                    format!("one of {}", states.join(", ")),
                    format!("{} のいずれか", states.join("、")),
                ));
                err
            })
        })
        .transpose()?;
    if let Some(m) = search.month.as_deref() {
        parse_month("month", m)?;
    }
    let (page, offset, limit) = crate::app::support::numbered(
        search.page,
        "limit",
        search.limit,
        crate::app::support::DEFAULT_LIMIT,
        crate::app::support::MAX_LIMIT,
    )?;
    let today = today();
    let filter = billing::InvoiceFilter {
        month: search.month.clone(),
        account: account.map(str::to_owned),
        finalized_only: caller.actor.contractor_scope().is_some(),
        state: wanted.map(InvoiceState::condition),
        today: today.to_string(),
        newest_first: order == Order::NewestFirst,
    };
    let mut conn = state.store.conn().await?;
    let total = billing::count_invoices(&mut conn, &filter).await?;
    let rows = billing::page_invoices(&mut conn, &filter, offset, limit).await?;
    let shown = rows.len() as i64;
    Ok(InvoicePage {
        invoices: rows
            .into_iter()
            .map(|r| brief(&r.invoice, r.paid, today))
            .collect(),
        total,
        page,
        next_page: (offset + shown < total).then_some(page + 1),
    })
}

/// How many finalized invoices stand in each state today (B5), every state listed, drafts
/// never counted (they are not invoices yet, B4): every account's for operators, its own for
/// a contractor.
///
/// # Errors
/// The database's.
pub async fn state_counts(
    state: &AppState,
    caller: &Caller,
) -> ApiResult<Vec<(mpc_domain::invoice::InvoiceState, usize)>> {
    use mpc_domain::invoice::InvoiceState;
    let account = caller.actor.contractor_scope();
    let invoices = billing::finalized_with_paid(&mut *state.store.conn().await?, account).await?;
    let today = today();
    let states: Vec<InvoiceState> = invoices
        .iter()
        .map(|(inv, paid)| billing::invoice_status(inv, *paid, today))
        .collect();
    Ok(InvoiceState::ALL
        .into_iter()
        .filter(|s| *s != InvoiceState::Draft)
        .map(|s| (s, states.iter().filter(|x| **x == s).count()))
        .collect())
}

/// The invoice `id` as `caller` may see it: operators see every invoice, a contractor the
/// finalized ones addressed to it; anything else is absent (404).
async fn visible_invoice(state: &AppState, caller: &Caller, id: &str) -> ApiResult<InvoiceRecord> {
    let inv = billing::get_invoice(&mut *state.store.conn().await?, id).await?;
    caller.require_contractor(&inv.account_id)?;
    if caller.actor.contractor_scope().is_some() && !inv.is_finalized() {
        return Err(ApiError::not_found());
    }
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
            address: inv.issuer_address.clone(),
            phone: inv.issuer_phone.clone(),
            bank_account: inv.issuer_bank_account.clone(),
        },
        totals_by_rate: vec![RateTotalView {
            rate_percent: mpc_domain::invoice::STANDARD_RATE_PERCENT,
            taxable: Yen(inv.subtotal),
            tax: Yen(inv.tax),
        }],
        lines: lines
            .into_iter()
            .map(|l| {
                let breakdown = l
                    .breakdown()?
                    .into_iter()
                    .map(|p| LinePartView {
                        period_from: p.period_from.to_string(),
                        period_to: p.period_to.to_string(),
                        days: i64::from(p.days),
                        days_in_month: i64::from(p.days_in_month),
                        unit_amount: p.unit_amount,
                        amount: p.amount,
                    })
                    .collect();
                let description_en = l.text()?.en();
                Ok(LineView {
                    kind: billing::line_kind(&l.kind)?,
                    description_en,
                    breakdown,
                    contractor_id: l.contractor_id,
                    contract_id: l.contract_id,
                    contract_number: l
                        .contract_number
                        .and_then(|n| u64::try_from(n).ok())
                        .and_then(mpc_domain::contract_number::ContractNumber::new),
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
///
/// # Errors
/// 404 for an invoice that does not exist or is addressed to another contractor.
pub async fn invoice(state: &AppState, caller: &Caller, id: &str) -> ApiResult<InvoiceView> {
    let inv = visible_invoice(state, caller, id).await?;
    invoice_view(state, &inv).await
}

/// The id of the invoice numbered `number_or_id` (`I-000123`), or that id itself.
///
/// # Errors
/// 404 for a number no invoice the caller may see has.
pub async fn invoice_id_of(
    state: &AppState,
    caller: &Caller,
    number_or_id: &str,
) -> ApiResult<String> {
    let Some(serial) = mpc_domain::invoice::parse_number(number_or_id) else {
        return Ok(number_or_id.to_owned());
    };
    let inv = billing::invoice_by_serial(&mut *state.store.conn().await?, serial)
        .await?
        .ok_or_else(ApiError::not_found)?;
    caller.require_contractor(&inv.account_id)?;
    Ok(inv.id)
}

/// The invoice `id` as an A4 PDF (B3), with its file name: what [`invoice`] shows, printed
/// with the Japanese font embedded. An operator's draft is marked 下書き and has no number or
/// issue date; contractors see finalized invoices only.
///
/// # Errors
/// 404 as [`invoice`]; 503 `invoice_font_missing` naming the font file and the Debian package
/// when the font is not installed.
pub async fn invoice_pdf(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<(String, Vec<u8>)> {
    let view = invoice(state, caller, id).await?;
    let printed = crate::invoice_print::PrintedInvoice::of(&view);
    let name = printed.file_name(id);
    let pdf = tokio::task::spawn_blocking(move || crate::invoice_print::pdf(&printed))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "invoice PDF task failed");
            ApiError::internal()
        })?
        .map_err(|e| match e {
            crate::invoice_print::PdfError::FontMissing { .. } => {
                tracing::error!(error = %e, "invoice PDF");
                ApiError::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "invoice_font_missing",
                    e.to_string(),
                )
                .ja("請求書PDFに埋め込む日本語フォントがサーバーにないため、PDFを作成できません。運用者にお問い合わせください")
            }
            crate::invoice_print::PdfError::Write(_) => {
                tracing::error!(error = %e, "invoice PDF");
                ApiError::internal()
            }
        })?;
    Ok((name, pdf))
}

/// The longest `Idempotency-Key` accepted, in characters.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// Records a payment (operators, B5), journaled as `invoice.payment`; the day defaults to
/// today in Japan.
///
/// With an `idempotency_key`, the payment is recorded once per caller, invoice and key: the
/// same key with the same body again — a client's retry, even at the same moment on another
/// server node — records nothing more and answers as the first did.
///
/// # Errors
/// 404 as [`invoice`]; 403 for anyone but operators; 422 `B5` for a payment the rule refuses;
/// 400 `invalid_idempotency_key` for a key that is empty, longer than
/// [`MAX_IDEMPOTENCY_KEY_CHARS`] or not printable ASCII; 409 `idempotency_key_reused` for a
/// key used before with another body.
pub async fn pay(
    state: &AppState,
    caller: &Caller,
    id: &str,
    payment: Input<RecordPayment>,
    idempotency_key: Option<&str>,
) -> ApiResult<InvoiceView> {
    let inv = visible_invoice(state, caller, id).await?;
    caller.require_operator()?;
    let (body, raw) = payment.parse()?;
    let key = idempotency_key
        .map(|k| {
            if k.is_empty()
                || k.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS
                || !k.chars().all(|c| c.is_ascii_graphic())
            {
                return Err(ApiError::bad_request(
                    "invalid_idempotency_key",
                    format!(
                        "Idempotency-Key: 1 to {MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters"
                    ),
                )
                .ja(format!(
                    "Idempotency-Key は 1〜{MAX_IDEMPOTENCY_KEY_CHARS} 文字の半角英数記号で指定してください"
                )));
            }
            use sha2::{Digest, Sha256};
            // serde_json writes an object's keys in order, so equal bodies digest alike.
            let digest = Sha256::digest(raw.to_string().as_bytes());
            Ok(billing::PaymentKey {
                caller: caller.name(),
                key: k.to_owned(),
                body_sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
            })
        })
        .transpose()?;
    let on = Dates::default().or_today("paid_on", body.paid_on.as_deref())?;
    let mut tx = state.store.write().await?;
    let recorded =
        billing::record_payment(&mut tx, id, on, Yen(body.amount), &body.note, key.as_ref())
            .await?;
    match recorded {
        billing::Recorded::New(_) => {
            tx.commit(
                caller
                    .journal("invoice.payment")
                    .contractor(Some(&inv.account_id))
                    .subject(id)
                    .request(raw),
            )
            .await?;
        }
        // Nothing was written: the transaction rolls back as it drops.
        billing::Recorded::Replayed(_) => drop(tx),
        billing::Recorded::KeyReused => {
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "idempotency_key_reused",
                "this Idempotency-Key recorded a payment with another body",
            )
            .ja("この Idempotency-Key は別の内容の入金で使われています"));
        }
    }
    invoice_view(state, &inv).await
}

/// Marks a redirected invoice unpaid (operators, R6.4), journaled as `invoice.default`: the
/// management fees it carried move to the management contractor's next invoice.
///
/// # Errors
/// 404 as [`invoice`]; 403 for anyone but operators; 422 `R6.4` for an invoice that cannot
/// default.
pub async fn default(
    state: &AppState,
    caller: &Caller,
    id: &str,
    on: Input<OnDate>,
) -> ApiResult<DefaultResult> {
    let inv = visible_invoice(state, caller, id).await?;
    caller.require_operator()?;
    let (body, raw) = on.parse_or_empty()?;
    let on = Dates::default().or_today("on", body.on.as_deref())?;
    let mut tx = state.store.write().await?;
    let moved = billing::mark_defaulted(&mut tx, id, on).await?;
    tx.commit(
        caller
            .journal("invoice.default")
            .contractor(Some(&inv.account_id))
            .subject(id)
            .request(raw),
    )
    .await?;
    Ok(DefaultResult {
        moved: moved
            .into_iter()
            .map(|(contractor_id, amount)| MovedAmount {
                contractor_id,
                amount,
            })
            .collect(),
    })
}

/// A month's billing run as the journal recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// `YYYY-MM`.
    pub month: String,
    pub at: jiff::Timestamp,
    /// Who ran it (`user:<id>`, `cli` …).
    pub actor: String,
    /// The username of the user `actor` names.
    pub actor_name: Option<String>,
    pub invoices: i64,
    pub lines: i64,
    pub total: Yen,
    /// Whether the month was finalized since (B4).
    pub finalized: bool,
}

/// What a run's journal entry records of its outcome.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct Ran {
    invoices: i64,
    lines: i64,
    total: i64,
}

/// The newest journal entries of `operation`, about `month` when given.
async fn recorded(
    state: &AppState,
    caller: &Caller,
    operation: &str,
    month: Option<&str>,
    limit: u32,
) -> ApiResult<Vec<mpc_api_types::journal::JournalEntry>> {
    let search = journal::Search {
        operation: Some(operation.to_owned()),
        subject: month.map(str::to_owned),
        limit: Some(limit),
        ..journal::Search::default()
    };
    Ok(journal::list(state, caller, search).await?.entries)
}

/// Whether `month` (`YYYY-MM`) was finalized (operators, B4).
///
/// # Errors
/// 403 for anyone but operators.
pub async fn finalized(state: &AppState, caller: &Caller, month: &str) -> ApiResult<bool> {
    caller.require_operator()?;
    Ok(!recorded(state, caller, "billing.finalize", Some(month), 1)
        .await?
        .is_empty())
}

/// Billing runs, newest first, as the journal recorded them: the last thousand, or the latest
/// of `month` (`YYYY-MM`) when given (operators).
///
/// # Errors
/// 403 for anyone but operators.
pub async fn runs(state: &AppState, caller: &Caller, month: Option<&str>) -> ApiResult<Vec<Run>> {
    caller.require_operator()?;
    let limit = if month.is_some() { 1 } else { 1000 };
    let finalized: Vec<String> = recorded(state, caller, "billing.finalize", month, limit)
        .await?
        .into_iter()
        .filter_map(|e| e.subject)
        .collect();
    recorded(state, caller, "billing.run", month, limit)
        .await?
        .into_iter()
        .map(|e| {
            let ran: Ran = serde_json::from_value(e.outcome).unwrap_or_default();
            let month = e.subject.unwrap_or_default();
            Ok(Run {
                at: e
                    .at
                    .parse()
                    .map_err(|_| mpc_storage::StorageError::Corrupt(format!("instant {}", e.at)))?,
                actor: e.actor,
                actor_name: e.actor_name,
                invoices: ran.invoices,
                lines: ran.lines,
                total: Yen(ran.total),
                finalized: finalized.contains(&month),
                month,
            })
        })
        .collect()
}
