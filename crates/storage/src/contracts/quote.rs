//! What-if cancellations: the quote of what would end, break and be owed (R13, R15, R6.8).

use jiff::civil::Date;
use mpc_domain::book::{Book, Effect};
use mpc_domain::contract::minimum_period_end;
use mpc_domain::eligibility::{self, Impact};
use mpc_domain::ending::{
    RemainingDays, Termination, option_minimum_period_end, remaining_minimum_days,
};
use serde::Serialize;
use sqlx::AnyConnection;

use crate::contracts::parties::designations;
use crate::{StorageError, Store};

use super::requests::{EngineError, Result};
use super::standing::{StandingData, load_standing};

/// Early-termination days of one contract or option (R15.1).
#[derive(Debug, Clone, Serialize)]
pub struct EarlyTermination {
    pub subject: String,
    /// `contract` or the option kind.
    pub what: String,
    pub minimum_period_end: Option<Date>,
    pub remaining: Vec<RemainingDays>,
}

/// A what-if cancellation: everything that would end, what it would break, and what it owes.
#[derive(Debug, Clone, Serialize)]
pub struct Quote {
    pub end_on: Date,
    pub effects: Vec<Effect>,
    pub early_termination: Vec<EarlyTermination>,
    pub exempt_from_early_termination: bool,
    pub eligibility_impact: Vec<Impact>,
    /// The early-termination charge as billing will compute it (R15.1), tax excluded; `Err`
    /// names the prices the book lacks.
    pub charge:
        std::result::Result<Vec<mpc_domain::billing::Line>, Vec<mpc_domain::price::MissingPrice>>,
}

/// Quotes the cancellation of a contract without changing anything (R13, R15, R6.8).
pub async fn quote_cancellation(
    store: &Store,
    contractor_id: &str,
    contract_id: &str,
    termination: Termination,
    notice_arrived_on: Date,
    requested_on: Option<Date>,
) -> Result<Quote> {
    let mut conn = store.pool().acquire().await?;
    let own = load_standing(&mut conn, contractor_id).await?;
    let effects = mpc_domain::ending::cancel_contract(
        &own.book,
        contract_id,
        termination,
        notice_arrived_on,
        requested_on,
    )?;
    let after = own.book.with(&effects);
    let ending = after.contract(contract_id).and_then(|c| c.ending.clone());
    let end_on = ending.as_ref().map_or(notice_arrived_on, |e| e.on);
    let exempt = ending
        .as_ref()
        .is_some_and(|e| e.exempt_from_early_termination);
    let mut early_termination = Vec::new();
    if !exempt {
        for e in &effects {
            match e {
                Effect::ContractEnds {
                    contract_id,
                    ending,
                } => {
                    if let Some(c) = after.contract(contract_id) {
                        let min = minimum_period_end(c);
                        early_termination.push(EarlyTermination {
                            subject: contract_id.clone(),
                            what: "contract".into(),
                            minimum_period_end: min,
                            remaining: remaining_minimum_days(c.billing_start, min, ending.on),
                        });
                    }
                }
                Effect::OptionEnds { option_id, ending } => {
                    if let Some(o) = after.option(option_id) {
                        let start = after
                            .contract(&o.contract_id)
                            .and_then(|c| o.billing_start(c));
                        let min = option_minimum_period_end(start);
                        early_termination.push(EarlyTermination {
                            subject: option_id.clone(),
                            what: o.kind.to_string(),
                            minimum_period_end: min,
                            remaining: remaining_minimum_days(start, min, ending.on),
                        });
                    }
                }
                _ => {}
            }
        }
        early_termination.retain(|e| !e.remaining.is_empty());
    }
    let eligibility_impact = termination_impact(&mut conn, &own, &after, &effects).await?;
    // The charge is what the months of the ends will bill for what this cancellation ends.
    let prices = prices(&mut conn).await?;
    let charge = mpc_domain::billing::termination_charge(contractor_id, &after, &effects, &prices);
    Ok(Quote {
        end_on,
        effects,
        early_termination,
        exempt_from_early_termination: exempt,
        eligibility_impact,
        charge,
    })
}

/// The price book, for pricing what a decision does (R14.1).
pub(super) async fn prices(conn: &mut AnyConnection) -> Result<mpc_domain::price::PriceBook> {
    crate::billing::price_book(conn).await.map_err(|e| match e {
        crate::billing::BillingError::Storage(e) => EngineError::Storage(e),
        other => EngineError::Storage(StorageError::Corrupt(other.to_string())),
    })
}

/// What ending things in `effects` does to eligibility (R6.8): for the contractor itself and
/// for the riders of any management that ends, on the day after each end.
pub async fn termination_impact(
    conn: &mut AnyConnection,
    own: &StandingData,
    after: &Book,
    effects: &[Effect],
) -> Result<Vec<Impact>> {
    let Some(last_end) = effects
        .iter()
        .filter_map(|e| match e {
            Effect::ContractEnds { ending, .. }
            | Effect::OptionEnds { ending, .. }
            | Effect::GroupEnds { ending, .. } => Some(ending.on),
            _ => None,
        })
        .max()
    else {
        return Ok(Vec::new());
    };
    let from = last_end.tomorrow().unwrap_or(last_end);
    let own_after = StandingData {
        book: after.clone(),
        ..own.clone()
    };
    let mut impacts: Vec<Impact> =
        eligibility::impact(own.standing(from), own_after.standing(from), from)
            .into_iter()
            .collect();
    for e in effects {
        let Effect::ContractEnds {
            contract_id,
            ending,
        } = e
        else {
            continue;
        };
        let Some(m) = after
            .contract(contract_id)
            .filter(|c| c.kind == mpc_domain::catalog::ContractKind::Management)
        else {
            continue;
        };
        for d in designations(conn, "management_contract_id", &m.id).await? {
            let rider = load_standing(conn, &d.rider_contractor_id).await?;
            let mut rider_after = rider.clone();
            for managed in rider_after.managements.iter_mut().filter(|x| x.id == m.id) {
                managed.ending = Some(ending.clone());
            }
            impacts.extend(eligibility::impact(
                rider.standing(from),
                rider_after.standing(from),
                from,
            ));
        }
    }
    Ok(impacts)
}
