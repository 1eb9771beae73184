//! Contracts as their holders and operators see them, and what cancelling one would do.

use mpc_api_types::contracts::{
    ContractPatch, ContractView, OnDate, Provisioning, QuoteView, RecordResult,
};
use mpc_domain::book::{Book, Contract};
use mpc_domain::contract::set_billing_start;
use mpc_domain::contract_number::{self, ContractNumber, FORMAT_EN, FORMAT_JA};
use mpc_domain::ending::Termination;
use mpc_storage::contracts::numbers::ContractName;
use mpc_storage::contracts::quote::quote_cancellation;
use mpc_storage::contracts::{Owned, load_book, numbers, owner_of, requests};

use std::collections::HashMap;

use axum::http::StatusCode;

use super::Input;
use crate::AppState;
use crate::app::support::{Dates, contractor_book};
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;
use crate::views;

/// A contract as the caller named it, found: its id and the contractor holding it.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub id: String,
    pub owner: String,
}

/// Finds the contract `reference` names — its number (`C-000123`, `c-123` or `123`, as
/// [`ContractNumber`] reads it) or its id — when the caller may see it. Every use case taking a
/// contract from a path or a command line resolves it here, so the API, the console and the
/// CLI take the same numbers.
///
/// # Errors
/// 404 for a contract that does not exist or is outside the caller's reach; 400
/// `invalid_contract` for a text that is neither a contract number nor an id.
pub async fn resolve(state: &AppState, caller: &Caller, reference: &str) -> ApiResult<Resolved> {
    let mut conn = state.store.conn().await?;
    let found = if let Ok(number) = reference.parse::<ContractNumber>() {
        let missing = || {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no contract {number}, or not yours to see"),
            )
            .ja(format!(
                "契約番号 {number} の契約はありません（または参照できません）"
            ))
        };
        let (id, owner) = numbers::find(&mut conn, number)
            .await?
            .ok_or_else(missing)?;
        // Another contractor's number answers as a number no contract has.
        caller.require_contractor(&owner).map_err(|_| missing())?;
        return Ok(Resolved { id, owner });
    } else if uuid::Uuid::try_parse(reference).is_ok() {
        owner_of(&mut conn, Owned::Contract, reference)
            .await?
            .map(|owner| (reference.to_owned(), owner))
    } else {
        return Err(invalid_contract());
    };
    let (id, owner) = found.ok_or_else(ApiError::not_found)?;
    caller.require_contractor(&owner)?;
    Ok(Resolved { id, owner })
}

/// 400 `invalid_contract`: a text naming a contract that is neither its number nor its id.
fn invalid_contract() -> ApiError {
    ApiError::bad_request(
        "invalid_contract",
        format!("{FORMAT_EN}, or by its id (a UUID)"),
    )
    .ja(format!("{FORMAT_JA}（契約ID（UUID）でも指定できます）"))
}

/// Puts the id of the contract a request body names in place of its number (`C-000123`),
/// before the rules decide, so what is stored is always the id. An id is left as it is: the
/// rules say whether the contract is the caller's to name.
///
/// # Errors
/// As [`resolve`] for a number: 404 naming the number for one no contract has or another
/// contractor's; 400 `invalid_contract` for a text that is neither a number nor an id.
pub async fn resolve_named(state: &AppState, caller: &Caller, named: &mut String) -> ApiResult<()> {
    if uuid::Uuid::try_parse(named).is_ok() {
        return Ok(());
    }
    *named = resolve(state, caller, named).await?.id;
    Ok(())
}

/// [`resolve_named`] for each of `named`.
///
/// # Errors
/// As [`resolve_named`], for the first that fails.
pub async fn resolve_all(state: &AppState, caller: &Caller, named: &mut [String]) -> ApiResult<()> {
    for n in named {
        resolve_named(state, caller, n).await?;
    }
    Ok(())
}

/// The names of the contracts and options a page or a view shows, looked up in one query each.
#[derive(Debug, Default)]
pub struct Names {
    pub contracts: HashMap<String, ContractName>,
    pub options: HashMap<String, numbers::OptionName>,
}

impl Names {
    /// The number (`C-000123`) and label (none when empty or hidden) of contract `id`, as the
    /// API shows them beside its id.
    pub fn of(&self, id: &str) -> (Option<String>, Option<String>) {
        match self.contracts.get(id) {
            Some(n) => (
                Some(n.number.to_string()),
                (!n.label.is_empty()).then(|| n.label.clone()),
            ),
            None => (None, None),
        }
    }
}

/// The numbers and labels of `contracts`, and the kinds and contract names of `options`; ids
/// that name nothing are left out. Another contractor's contract (a management contract a
/// consent names, say) keeps its number but not its site label, which is its holder's own.
///
/// # Errors
/// 500 when the store fails.
pub async fn names<S: AsRef<str>>(
    state: &AppState,
    caller: &Caller,
    contracts: &[S],
    options: &[S],
) -> ApiResult<Names> {
    let dedup = |ids: &[S]| {
        let mut v: Vec<String> = ids.iter().map(|id| id.as_ref().to_owned()).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    if contracts.is_empty() && options.is_empty() {
        return Ok(Names::default());
    }
    let mut conn = state.store.conn().await?;
    let mut found = numbers::names_of(&mut conn, &dedup(contracts)).await?;
    let mut options = numbers::option_names_of(&mut conn, &dedup(options)).await?;
    let hidden = |n: &mut numbers::ContractName| {
        if !caller.actor.sees_contractor(&n.contractor_id) {
            n.label.clear();
        }
    };
    found.values_mut().for_each(hidden);
    options.values_mut().for_each(|o| hidden(&mut o.contract));
    Ok(Names {
        contracts: found,
        options,
    })
}

/// A contract an operator may pick: `C-000123 本社 (contractor)` and whether it is a
/// management contract.
#[derive(Debug, Clone)]
pub struct Choice {
    pub id: String,
    pub number: String,
    pub text: String,
    pub management: bool,
}

/// The contracts in service today, for an operator's pickers.
///
/// # Errors
/// 403 for a caller who is not an operator.
pub async fn in_service(state: &AppState, caller: &Caller) -> ApiResult<Vec<Choice>> {
    caller.require_operator()?;
    let mut conn = state.store.conn().await?;
    let today = crate::app::support::today();
    let rows = numbers::in_service(&mut conn, today).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let number = ContractNumber::new(u64::try_from(r.number?).ok()?)?.to_string();
            let named = if r.label.is_empty() {
                number.clone()
            } else {
                format!("{number} {}", r.label)
            };
            Some(Choice {
                id: r.id,
                text: format!("{named} ({})", r.contractor_name),
                management: r.kind == "management",
                number,
            })
        })
        .collect())
}

/// Sets the site label of a contract (its holder or an operator), journaled as
/// `contract.label`; an empty label removes it. Returns the contract as of today.
///
/// # Errors
/// As [`resolve`]; 422 `invalid_field` for a label longer than 60 characters or holding a
/// control character.
pub async fn set_label(
    state: &AppState,
    caller: &Caller,
    reference: &str,
    patch: Input<ContractPatch>,
) -> ApiResult<ContractView> {
    let Resolved { id, owner } = resolve(state, caller, reference).await?;
    let (patch, raw) = patch.parse()?;
    let label = contract_number::label("label", &patch.label)?;
    let mut tx = state.store.write().await?;
    tx.lock(&format!("book:{owner}")).await?;
    numbers::set_label(&mut tx, &id, &label).await?;
    tx.commit(
        caller
            .journal("contract.label")
            .contractor(Some(&owner))
            .subject(&id)
            .request(raw),
    )
    .await?;
    get(state, caller, &id, None).await
}

/// Names the managements of `views` that their holder's book does not hold: another
/// contractor's, designated for them (R6.2), by number only.
async fn name_managements(
    state: &AppState,
    caller: &Caller,
    views: &mut [ContractView],
) -> ApiResult<()> {
    let unnamed: Vec<&str> = views
        .iter()
        .filter(|v| v.management_number.is_none())
        .filter_map(|v| v.management_id.as_deref())
        .collect();
    if unnamed.is_empty() {
        return Ok(());
    }
    let names = names(state, caller, &unnamed, &[]).await?;
    for v in views.iter_mut().filter(|v| v.management_number.is_none()) {
        v.management_number = v.management_id.as_deref().and_then(|m| names.of(m).0);
    }
    Ok(())
}

/// A contractor's contracts with their options, as of `as_of` (`YYYY-MM-DD` as the caller
/// wrote it; today in Japan when `None`).
///
/// # Errors
/// 404 for a contractor outside the caller's reach; 422 for a malformed day.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
    as_of: Option<&str>,
) -> ApiResult<Vec<ContractView>> {
    let (book, as_of) = contractor_book(state, caller, contractor_id, as_of).await?;
    let mut contracts = Vec::with_capacity(book.contracts.len());
    for c in &book.contracts {
        contracts.push(view(state, &book, c, as_of).await?);
    }
    name_managements(state, caller, &mut contracts).await?;
    Ok(contracts)
}

/// Which contracts a request form offers: the kind of request, and for an option the kind of
/// option; days as the caller wrote them (`YYYY-MM-DD`).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OfferedQuery {
    /// The request kind (`change_item`, `add_option`, `cancel_contract`, `notify_serial`,
    /// `report_failure`, `report_loss`, or `apply_contract` for the management to run under).
    pub kind: String,
    /// For `add_option`: the option asked for (mobile access is offered on SA-W2L only, R6.5).
    pub option_kind: Option<mpc_domain::catalog::OptionKind>,
    /// The day (today in Japan when omitted).
    pub as_of: Option<String>,
}

/// The contracts of `contractor_id` a request of `q.kind` can be about on the day
/// ([`mpc_domain::eligibility::offered_for`]): what request forms offer to choose from.
///
/// # Errors
/// 404 for a contractor outside the caller's reach; 400 for a kind no contract is chosen for;
/// 422 for a malformed day.
pub async fn offered(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
    q: &OfferedQuery,
) -> ApiResult<Vec<ContractView>> {
    let (book, as_of) = contractor_book(state, caller, contractor_id, q.as_of.as_deref()).await?;
    const KINDS: [&str; 7] = [
        "apply_contract",
        "change_item",
        "add_option",
        "cancel_contract",
        "notify_serial",
        "report_failure",
        "report_loss",
    ];
    if !KINDS.contains(&q.kind.as_str()) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("kind: no contract is chosen for {:?}", q.kind),
        )
        .ja(format!("kind「{}」の申込みでは契約を選びません", q.kind)));
    }
    let mut contracts = Vec::new();
    for c in book
        .contracts
        .iter()
        .filter(|c| mpc_domain::eligibility::offered_for(c, &q.kind, q.option_kind, as_of))
    {
        contracts.push(views::contract(&book, c, as_of));
    }
    name_managements(state, caller, &mut contracts).await?;
    Ok(contracts)
}

/// One contract with its options, device and provisioning state, as of `as_of` (today in
/// Japan when `None`).
///
/// # Errors
/// 404 for a contract outside the caller's reach; 422 for a malformed day.
pub async fn get(
    state: &AppState,
    caller: &Caller,
    contract_id: &str,
    as_of: Option<&str>,
) -> ApiResult<ContractView> {
    let Resolved { id, owner } = resolve(state, caller, contract_id).await?;
    let as_of = Dates::default().or_today("as_of", as_of)?;
    let book = load_book(&mut *state.store.conn().await?, &owner).await?;
    let contract = book.contract(&id).ok_or_else(ApiError::not_found)?;
    let mut one = [view(state, &book, contract, as_of).await?];
    name_managements(state, caller, &mut one).await?;
    let [view] = one;
    Ok(view)
}

/// The cancellation a quote is asked for; days as the caller wrote them (`YYYY-MM-DD`).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuoteQuery {
    /// The day the notice arrives (today in Japan when omitted).
    pub notice_arrived_on: Option<String>,
    /// The end date the contractor asks for, if any.
    pub requested_on: Option<String>,
    /// `notice` (default), or an operator cancellation under the general terms.
    pub termination: Option<Termination>,
}

/// What cancelling `contract_id` would do — end date (R13.1), everything ending with it
/// (R13.2, R13.3, R9.7), devices to return (R10.3), the early-termination days (R15) and the
/// contractors left ineligible (R6.8). Changes nothing.
///
/// # Errors
/// 404 for a contract outside the caller's reach; 422 with the rule the cancellation breaks.
pub async fn quote(
    state: &AppState,
    caller: &Caller,
    contract_id: &str,
    q: &QuoteQuery,
) -> ApiResult<QuoteView> {
    let Resolved { id, owner } = resolve(state, caller, contract_id).await?;
    let contract_id = id.as_str();
    let mut dates = Dates::default();
    let arrived = dates.or_today("notice_arrived_on", q.notice_arrived_on.as_deref())?;
    let requested = Dates::parse("requested_on", q.requested_on.as_deref())?;
    let termination = q.termination.unwrap_or(Termination::Notice);
    let quote = quote_cancellation(
        &state.store,
        &owner,
        contract_id,
        termination,
        arrived,
        requested,
    )
    .await?;
    let mut view = views::quote(
        contract_id.to_owned(),
        arrived,
        requested,
        quote,
        dates.defaulted,
    );
    (view.contract_number, view.contract_label) = names(state, caller, &[contract_id], &[])
        .await?
        .of(contract_id);
    Ok(view)
}

/// Records the billing start date of `contract_id`: the day the service was made available
/// (R5.2; operators), today in Japan by default, journaled as `contract.billing_start`.
///
/// # Errors
/// 404 for a contract outside the caller's reach; 403 for anyone but operators; 422 with the
/// rule for a date the rules refuse.
pub async fn billing_start(
    state: &AppState,
    caller: &Caller,
    contract_id: &str,
    on: Input<OnDate>,
) -> ApiResult<RecordResult> {
    let Resolved { id, owner } = resolve(state, caller, contract_id).await?;
    let contract_id = id.as_str();
    caller.require_operator()?;
    let (body, raw) = on.parse_or_empty()?;
    let mut dates = Dates::default();
    let on = dates.or_today("on", body.on.as_deref())?;
    let effects = requests::record(
        &state.store,
        &owner,
        caller
            .journal("contract.billing_start")
            .subject(contract_id)
            .request(raw),
        |book| set_billing_start(book, contract_id, on),
    )
    .await?;
    Ok(RecordResult {
        effects,
        defaulted_dates: dates.defaulted,
    })
}

/// `contract` as of `as_of`. A contract whose device may fetch today but whose preset does not
/// render is not provisionable: its device waits for the parameters named (R17.1), and the
/// view says which, as a fetch would.
///
/// # Errors
/// Storage errors while rendering today's configuration.
async fn view(
    state: &AppState,
    book: &Book,
    contract: &Contract,
    as_of: jiff::civil::Date,
) -> ApiResult<ContractView> {
    let mut view = views::contract(book, contract, as_of);
    let today = mpc_domain::calendar::tokyo_date(jiff::Timestamp::now());
    let Some(p) = view.provisioning.as_mut() else {
        return Ok(view);
    };
    if !p.provisionable || as_of != today {
        return Ok(view);
    }
    let rendered = crate::device::cache::current_recipe(
        &state.store,
        &state.secret_key,
        book,
        contract,
        today,
    )
    .await?;
    if let Err(r) = rendered {
        *p = Provisioning {
            provisionable: false,
            code: Some(r.rule.to_owned()),
            reason: Some(r.message_en),
            reason_ja: Some(r.message_ja),
        };
    }
    Ok(view)
}
