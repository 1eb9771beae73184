//! `/prices`, `/issuer`, `/billing`, `/invoices`, `/outages`, `/sla-claims`: the price book
//! (R14), monthly runs and qualified invoices (B1–B5), SLA credits (R16).

pub(super) mod invoices;
pub(super) mod prices;
pub(super) mod runs;
pub(super) mod sla;

use axum::http::StatusCode;
use mpc_storage::billing::BillingError;

use crate::error::ApiError;

pub(crate) use crate::app::billing::parse_month as month;

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
                    .map(|m| {
                        mpc_api_types::FieldProblem::new(m.key.to_string(), m.to_string(), m.message_ja())
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
            )
            .ja(format!(
                "{month} の請求処理が止まっている間に別の請求処理がこの月を引き継いだため、この処理の結果は残していません"
            )),
            BillingError::Storage(e) => e.into(),
        }
    }
}
