//! The price book (R14): list prices and per-contractor price agreements, as operators keep it
//! and contractors read their part of it.

use mpc_api_types::FieldProblem;
use mpc_api_types::billing::{PriceView, SetPrices};
use mpc_domain::price::{Price, PriceKey};
use mpc_storage::billing::{self, BillingError};

use super::Input;
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

/// Which part of the price book to read (operators; a contractor always reads the list and
/// its own agreements).
#[derive(Debug, Clone, Copy, Default)]
pub enum Part<'a> {
    /// Every list price and agreement.
    #[default]
    All,
    /// List prices only.
    List,
    /// One contractor's agreements.
    Agreements(&'a str),
}

impl<'a> Part<'a> {
    /// The API's `contractor_id` filter: `list` for list prices only.
    pub fn of(contractor_id: Option<&'a str>) -> Self {
        match contractor_id {
            None => Part::All,
            Some("list") => Part::List,
            Some(c) => Part::Agreements(c),
        }
    }
}

/// A price as the API shows it.
pub fn view(p: Price) -> PriceView {
    PriceView {
        key: p.key.to_string(),
        contractor_id: p.contractor_id,
        effective_from: p.effective_from.to_string(),
        amount: p.amount.0,
    }
}

/// The price book: list prices and agreements (R14.1). Contractors read the list and their
/// own agreements, whatever part they ask for.
///
/// # Errors
/// The database's.
pub async fn list(state: &AppState, caller: &Caller, part: Part<'_>) -> ApiResult<Vec<Price>> {
    let mut conn = state.store.conn().await?;
    Ok(match (caller.actor.contractor_scope(), part) {
        (None, Part::List) => billing::list_prices(&mut conn, Some("")).await?,
        (None, Part::All) => billing::list_prices(&mut conn, None).await?,
        (None, Part::Agreements(c)) => billing::list_prices(&mut conn, Some(c)).await?,
        (Some(own), _) => {
            let mut p = billing::list_prices(&mut conn, Some("")).await?;
            p.extend(billing::list_prices(&mut conn, Some(own)).await?);
            p
        }
    })
}

fn parse_prices(views: &[PriceView]) -> ApiResult<Vec<Price>> {
    let mut out = Vec::with_capacity(views.len());
    let mut problems = Vec::new();
    for (i, v) in views.iter().enumerate() {
        let key = v.key.parse::<PriceKey>();
        let from = mpc_domain::calendar::parse_business_date(&v.effective_from);
        let amount = mpc_domain::price::check_amount(&format!("prices[{i}].amount"), v.amount);
        match (key, from, amount) {
            (Ok(key), Ok(from), Ok(amount)) => out.push(Price {
                key,
                contractor_id: v.contractor_id.clone(),
                effective_from: from,
                amount,
            }),
            (Err(e), _, _) => problems.push(FieldProblem::new(
                format!("prices[{i}].key"),
                e.to_string(),
                e.message_ja(),
            )),
            (_, Err(e), _) => problems.push(FieldProblem::new(
                format!("prices[{i}].effective_from"),
                e.to_string(),
                e.message_ja(),
            )),
            (_, _, Err(r)) => problems.push(FieldProblem::new(
                format!("prices[{i}].amount"),
                r.message_en,
                r.message_ja,
            )),
        }
    }
    if problems.is_empty() {
        return Ok(out);
    }
    let mut err = ApiError::unprocessable(
        "R14.1",
        format!("{} price(s) are not valid", problems.len()),
    )
    .ja(format!("誤りのある料金が{}件あります", problems.len()));
    err.errors = problems;
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
            )
            .ja(format!("契約者別の料金の契約者 {c} はありません")));
        }
    }
    Ok(())
}

/// Sets prices (operators), journaled as `prices.set`: each replaces the amount of the same
/// key, contractor and day. Returns the prices set.
///
/// # Errors
/// 403 for anyone but operators; 422 `R14.1` naming each price that is not valid, or for an
/// agreement with a contractor that does not exist.
pub async fn set(
    state: &AppState,
    caller: &Caller,
    new: Input<SetPrices>,
) -> ApiResult<Vec<Price>> {
    caller.require_operator()?;
    let (body, raw) = new.parse()?;
    let prices = parse_prices(&body.prices)?;
    check_contractors(state, &prices).await?;
    let mut tx = state.store.write().await?;
    billing::upsert_prices(&mut tx, &prices).await?;
    tx.commit(caller.journal("prices.set").request(raw)).await?;
    Ok(prices)
}

/// Removes one agreed price (operators), journaled as `prices.remove`: the agreement of
/// `contractor_id` for `key` from `effective_from` (`YYYY-MM-DD`). From then on the price in
/// force is the contractor's earlier agreement for the key, or the list price (R14.1).
///
/// # Errors
/// 404 for another contractor's agreement asked by a contractor user; 403 for anyone but
/// operators; 422 `R14.1` for a key that names nothing priced or a day that is not a date;
/// 404 when no such agreement exists.
pub async fn remove(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
    key: &str,
    effective_from: &str,
) -> ApiResult<()> {
    // Another contractor's agreements are not there for a contractor (404), its own are not
    // its to remove (403).
    caller.require_contractor(contractor_id)?;
    caller.require_operator()?;
    let parsed = key.parse::<PriceKey>().map_err(|e| {
        let mut err = ApiError::unprocessable("R14.1", e.to_string()).ja(e.message_ja());
        err.errors
            .push(FieldProblem::new("key", e.to_string(), e.message_ja()));
        err
    })?;
    let from = mpc_domain::calendar::parse_business_date(effective_from).map_err(|e| {
        let (en, ja) = (
            format!("effective_from: {e}"),
            format!("effective_from: {}", e.message_ja()),
        );
        let mut err = ApiError::unprocessable("R14.1", en.clone()).ja(ja.clone());
        err.errors.push(FieldProblem::new("effective_from", en, ja));
        err
    })?;
    let mut tx = state.store.write().await?;
    billing::delete_price(&mut tx, parsed, Some(contractor_id), from).await?;
    tx.commit(
        caller
            .journal("prices.remove")
            .contractor(Some(contractor_id))
            .subject(contractor_id)
            .request(serde_json::json!({
                "key": key,
                "contractor_id": contractor_id,
                "effective_from": from.to_string(),
            })),
    )
    .await?;
    Ok(())
}

/// The price book as CSV (operators): `key,contractor_id,effective_from,amount`, then the
/// names of the key (as 別紙1 names it) and of the contractor, `label,contractor_name`.
///
/// # Errors
/// 403 for anyone but operators.
pub async fn csv(state: &AppState, caller: &Caller) -> ApiResult<String> {
    caller.require_operator()?;
    let prices = billing::list_prices(&mut *state.store.conn().await?, None).await?;
    let mut names = std::collections::HashMap::new();
    for id in prices.iter().filter_map(|p| p.contractor_id.as_deref()) {
        if !names.contains_key(id) {
            let name = mpc_storage::accounts::get_contractor(&state.store, id)
                .await
                .map(|c| c.name)
                .unwrap_or_default();
            names.insert(id.to_owned(), name);
        }
    }
    Ok(billing::prices_to_csv(&prices, |id| {
        names.get(id).cloned().unwrap_or_default()
    }))
}

/// Imports prices from CSV (operators), all or nothing, journaled as `prices.import`; each bad
/// row is named by line. Returns the prices imported.
///
/// # Errors
/// 403 for anyone but operators; 400 for a file that is not UTF-8; 422 `R14.1` for bad rows.
pub async fn import(state: &AppState, caller: &Caller, csv: &[u8]) -> ApiResult<Vec<Price>> {
    caller.require_operator()?;
    let text = std::str::from_utf8(csv).map_err(|_| {
        ApiError::bad_request("invalid_body", "the CSV must be UTF-8")
            .ja("CSV は UTF-8 で送ってください")
    })?;
    let prices = billing::prices_from_csv(text).map_err(|errors| {
        let mut err = ApiError::unprocessable(
            "R14.1",
            format!(
                "{} row(s) are not valid; nothing was imported",
                errors.len()
            ),
        )
        .ja(format!(
            "誤りのある行が{}行あるため、何も取り込んでいません",
            errors.len()
        ));
        // Each row under `csv`, its line in the message, as the command line prints them.
        err.errors = errors
            .into_iter()
            .map(|e| {
                FieldProblem::new(
                    "csv",
                    format!("line {}: {}", e.line, e.fault.message_en()),
                    format!("{}行目: {}", e.line, e.fault.message_ja()),
                )
            })
            .collect();
        err
    })?;
    check_contractors(state, &prices).await?;
    let journal = caller
        .journal("prices.import")
        .outcome(serde_json::json!({ "rows": prices.len() }));
    Ok(state
        .jobs
        .run(move |store| async move {
            let _job = store.job().await;
            let mut tx = store.write().await?;
            billing::upsert_prices(&mut tx, &prices).await?;
            tx.commit(journal).await?;
            Ok::<_, BillingError>(prices)
        })
        .await?)
}
