//! Monthly billing (B1–B4): runs and finalization.

use mpc_domain::calendar::Month;
use mpc_storage::billing::{self, RunSummary};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Caller;

/// Bills `month` for every contractor (operators). The run happens on the jobs' runtime and
/// holds the month's lease: a second run of the month, from anywhere, is told which run holds
/// it (409 `billing_run_in_progress`); running again later gives the same invoices (B4).
pub async fn run(state: &AppState, caller: &Caller, month: Month) -> ApiResult<RunSummary> {
    caller.require_operator()?;
    let journal = caller
        .journal("billing.run")
        .request(serde_json::json!({ "month": month.to_string() }));
    Ok(
        state
            .jobs
            .run(move |store| async move {
                billing::run_month(&store, month, &|_, _| {}, journal).await
            })
            .await?,
    )
}

/// Makes `month`'s invoices final and immutable (operators, B4). Returns how many.
pub async fn finalize(state: &AppState, caller: &Caller, month: Month) -> ApiResult<usize> {
    caller.require_operator()?;
    Ok(billing::finalize(&state.store, month, caller.journal("billing.finalize")).await?)
}
