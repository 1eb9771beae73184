//! `mpc request|contract|device`: the contract engine from the command line, on the database.
//!
//! Dates are `YYYY-MM-DD` (Japan); an omitted date is today in Japan, as in the API.

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use jiff::civil::Date;
use mpc_api_types::contracts::{RejectRequest, SubmitRequest};
use mpc_domain::calendar::{parse_business_date, tokyo_date};
use mpc_domain::contract::set_billing_start;
use mpc_domain::custody::{record_found, record_return};
use mpc_domain::ending::Termination;
use mpc_domain::request::{Acceptance, Request};
use mpc_server::app::{self, Input};
use mpc_server::error::ApiError;
use mpc_server::extract::Caller;
use mpc_server::{AppState, views};
use mpc_storage::contracts::quote;
use mpc_storage::contracts::requests::{self, EngineError};
use mpc_storage::contracts::{Owned, load_book, owner_of};
use mpc_storage::{JournalEntry, Store};
use serde::Serialize;

/// Today in Japan (D1).
pub fn today() -> Date {
    tokyo_date(jiff::Timestamp::now())
}

fn date(s: Option<&str>) -> anyhow::Result<Date> {
    s.map_or(Ok(today()), |s| Ok(parse_business_date(s)?))
}

/// A refusal as one line: the rule id, then the English and Japanese messages.
pub fn refusal(r: mpc_domain::Refusal) -> anyhow::Error {
    anyhow!("{}: {} ({})", r.rule, r.message_en, r.message_ja)
}

/// A problem the application answered as one line: its code (the rule id for a refusal), then
/// the English and, when there is one, the Japanese message.
pub fn api_error(e: ApiError) -> anyhow::Error {
    match e.detail_ja {
        Some(ja) => anyhow!("{}: {} ({ja})", e.code, e.detail),
        None => anyhow!("{}: {}", e.code, e.detail),
    }
}

pub fn engine_error(e: EngineError) -> anyhow::Error {
    match e {
        EngineError::Refused(r) => refusal(r),
        EngineError::Storage(e) => anyhow!(e),
    }
}

fn print_json(v: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

#[derive(Args)]
pub struct AcceptArgs {
    /// Acceptance date, `YYYY-MM-DD` (e.g. 2026-12-05), today in Japan when omitted; for a
    /// cancellation or stop, the day the notice arrived.
    #[arg(long)]
    on: Option<String>,
    /// Failure or loss: serial of the replacement device.
    #[arg(long)]
    replacement_serial: Option<String>,
    /// Failure or loss: the day the replacement takes over, `YYYY-MM-DD` (e.g. 2026-12-05).
    #[arg(long)]
    replaced_on: Option<String>,
    /// Failure: the contractor caused it (R11.2).
    #[arg(long)]
    contractor_caused: bool,
    /// Cancellation: `notice` (default), `general_terms_art28_para2` or `general_terms_art28_para3`.
    #[arg(long)]
    termination: Option<String>,
}

impl AcceptArgs {
    fn acceptance(&self) -> anyhow::Result<Acceptance> {
        let acceptance = Acceptance {
            on: self.on.as_deref().map(parse_business_date).transpose()?,
            replacement_serial: self.replacement_serial.clone(),
            replaced_on: self
                .replaced_on
                .as_deref()
                .map(parse_business_date)
                .transpose()?,
            contractor_caused: self.contractor_caused,
            termination: self.termination.as_deref().map(termination).transpose()?,
        };
        acceptance
            .check_entry()
            .map_err(|e| anyhow::anyhow!("{}", e.message_en))?;
        Ok(acceptance)
    }
}

fn termination(s: &str) -> anyhow::Result<Termination> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
        anyhow!(
            "--termination: expected notice, general_terms_art28_para2 or general_terms_art28_para3"
        )
    })
}

/// A quote as people read it: the end date, the charge in yen line by line, and what else the
/// cancellation ends or leaves ineligible.
fn quote_summary(q: &mpc_api_types::contracts::QuoteView) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "contract {}", q.contract_id);
    let _ = writeln!(out, "  notice arrives   {}", q.notice_arrived_on);
    let _ = writeln!(out, "  last day         {} (R13.1)", q.end_on);
    if q.exempt_from_early_termination {
        let _ = writeln!(
            out,
            "  early termination: none, cancelled under Art. 28 (R15.2)"
        );
    } else if !q.missing_prices.is_empty() {
        let _ = writeln!(
            out,
            "  early termination: not priced, the price book lacks {} (R14.1)",
            q.missing_prices.join(", ")
        );
    } else if q.early_termination_lines.is_empty() {
        let _ = writeln!(out, "  early termination: none (minimum periods are over)");
    } else {
        let _ = writeln!(out, "  early-termination charge, tax excluded (R15.1):");
        for line in &q.early_termination_lines {
            let days = match (line.days, line.days_in_month) {
                (Some(d), Some(n)) => format!("{d}/{n} days"),
                _ => "whole month".to_owned(),
            };
            let _ = writeln!(
                out,
                "    {:>12}  {}..{}  {days:<11}  {}",
                line.amount.to_string(),
                line.period_from,
                line.period_to,
                line.description,
            );
        }
        if let Some(total) = q.early_termination_charge {
            let _ = writeln!(out, "    {:>12}  total", total.to_string());
        }
    }
    for impact in &q.eligibility_impact {
        let _ = writeln!(
            out,
            "  contractor {} would lack what R6.1 requires from {} (R6.8)",
            impact.contractor_id, impact.from
        );
    }
    out
}

#[derive(Subcommand)]
pub enum RequestCommand {
    /// Submit a contractor's request (JSON as in the API, e.g. '{"kind": "cancel_contract", …}');
    /// prints its id. With --accept, accept it at once.
    Submit {
        /// The contractor's id (`contractor list`).
        #[arg(long)]
        contractor: String,
        /// The request as JSON.
        #[arg(long)]
        json: String,
        /// The day the request arrived, `YYYY-MM-DD` (e.g. 2026-12-05); today in Japan when
        /// omitted.
        #[arg(long)]
        submitted_on: Option<String>,
        /// Accept the request at once, with the acceptance options below.
        #[arg(long)]
        accept: bool,
        #[command(flatten)]
        acceptance: AcceptArgs,
    },
    /// Accept a pending request.
    Accept {
        /// The request's id (`request list --status pending`).
        id: String,
        #[command(flatten)]
        acceptance: AcceptArgs,
    },
    /// Reject a pending request.
    Reject {
        /// The request's id (`request list --status pending`).
        id: String,
        /// Why, as the contractor will read it.
        #[arg(long)]
        reason: String,
    },
    /// List requests (id, contractor, kind, status).
    List {
        /// Only requests in this state: `pending`, `accepted`, `rejected` or `withdrawn`.
        #[arg(long)]
        status: Option<String>,
        /// Only this contractor's requests (its id).
        #[arg(long)]
        contractor: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ContractCommand {
    /// A contractor's contracts as of a day (JSON).
    List {
        /// The contractor's id (`contractor list`).
        #[arg(long)]
        contractor: String,
        /// The day to show, `YYYY-MM-DD` (e.g. 2026-12-05); today in Japan when omitted.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// One contract with options, device and provisioning as of a day (JSON).
    Show {
        /// The contract's id.
        id: String,
        /// The day to show, `YYYY-MM-DD` (e.g. 2026-12-05); today in Japan when omitted.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// What cancelling would do: end date, early-termination charge in yen with its lines,
    /// what ends with it, who is left ineligible.
    Quote {
        /// The contract's id.
        id: String,
        /// The day the cancellation notice arrives, `YYYY-MM-DD` (e.g. 2026-12-05); today in
        /// Japan when omitted (R13.1).
        #[arg(long)]
        notice_arrived_on: Option<String>,
        /// The end date the contractor asks for, `YYYY-MM-DD` (e.g. 2027-01-31); the earliest
        /// allowed when omitted (R13.1).
        #[arg(long)]
        requested_on: Option<String>,
        /// `notice` (default), `general_terms_art28_para2` or `general_terms_art28_para3`.
        #[arg(long)]
        termination: Option<String>,
        /// Print the quote as JSON, as the API answers it, instead of a summary in yen.
        #[arg(long)]
        json: bool,
    },
    /// Record the billing start date (R5.2).
    BillingStart {
        /// The contract's id.
        id: String,
        /// The billing start date, `YYYY-MM-DD` (e.g. 2026-12-05); today in Japan when omitted.
        #[arg(long)]
        on: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum DeviceCommand {
    /// A device as of a day (JSON).
    Show {
        /// The device's serial number.
        serial: String,
        /// The day to show, `YYYY-MM-DD` (e.g. 2026-12-05); today in Japan when omitted.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Record a device's return (a lost one comes back as found, R12.3).
    Return {
        /// The device's serial number.
        serial: String,
        /// The day it came back, `YYYY-MM-DD` (e.g. 2026-12-05); today in Japan when omitted.
        #[arg(long)]
        on: Option<String>,
    },
    /// Record that a lost device was found (R12.3).
    Found {
        /// The device's serial number.
        serial: String,
        /// The day it was found, `YYYY-MM-DD` (e.g. 2026-12-05); today in Japan when omitted.
        #[arg(long)]
        on: Option<String>,
    },
    /// Treat devices not returned by their deadline as lost (R10.3, R12.2).
    SweepOverdue {
        /// The day to sweep as of, `YYYY-MM-DD` (e.g. 2026-12-05); today in Japan when omitted.
        #[arg(long)]
        on: Option<String>,
    },
}

pub async fn request(state: &AppState, cmd: RequestCommand) -> anyhow::Result<()> {
    let caller = Caller::command_line();
    match cmd {
        RequestCommand::Submit {
            contractor,
            json,
            submitted_on,
            accept,
            acceptance,
        } => {
            // The flags are checked before the contractor is looked up, as they always were.
            let request: Request = serde_json::from_str(&json).context("--json")?;
            request
                .check_entry()
                .map_err(|e| anyhow::anyhow!("--json: {}", e.message_en))?;
            let submitted_on = date(submitted_on.as_deref())?;
            let accept = accept.then(|| acceptance.acceptance()).transpose()?;
            let body = SubmitRequest {
                request,
                submitted_on: Some(submitted_on.to_string()),
                accept,
            };
            let view = app::requests::submit(state, &caller, &contractor, Input::Value(body))
                .await
                .map_err(api_error)?;
            println!("{}\t{}", view.id, view.status);
        }
        RequestCommand::Accept { id, acceptance } => {
            let mut acceptance = acceptance.acceptance()?;
            acceptance.on.get_or_insert_with(today);
            let view = app::requests::accept(state, &caller, &id, Input::Value(acceptance))
                .await
                .map_err(api_error)?;
            println!("{}\t{}", view.id, view.status);
        }
        RequestCommand::Reject { id, reason } => {
            let view =
                app::requests::reject(state, &caller, &id, Input::Value(RejectRequest { reason }))
                    .await
                    .map_err(api_error)?;
            println!("{}\t{}", view.id, view.status);
        }
        RequestCommand::List { status, contractor } => {
            let mut query = app::requests::Query {
                status,
                ..Default::default()
            };
            loop {
                let page = app::requests::queue(state, &caller, contractor.as_deref(), &query)
                    .await
                    .map_err(api_error)?;
                for r in page.requests {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        r.id, r.contractor_id, r.kind, r.submitted_on, r.status
                    );
                }
                match page.next_cursor {
                    Some(after) => query.after = Some(after),
                    None => break,
                }
            }
        }
    }
    Ok(())
}

async fn holder(store: &Store, what: Owned, id: &str) -> anyhow::Result<String> {
    owner_of(&mut *store.conn().await?, what, id)
        .await?
        .ok_or_else(|| anyhow!("no such {what:?} {id}"))
}

/// A contract as the API shows it; with the secret key, also whether its preset renders
/// (R17.1).
async fn view(
    store: &Store,
    key: Option<&mpc_storage::controller::SecretKey>,
    book: &mpc_domain::book::Book,
    c: &mpc_domain::book::Contract,
    as_of: jiff::civil::Date,
) -> anyhow::Result<mpc_api_types::contracts::ContractView> {
    Ok(match key {
        Some(key) => mpc_server::app::contracts::view(store, key, book, c, as_of).await?,
        None => views::contract(book, c, as_of),
    })
}

pub async fn contract(
    store: &Store,
    key: Option<&mpc_storage::controller::SecretKey>,
    cmd: ContractCommand,
) -> anyhow::Result<()> {
    match cmd {
        ContractCommand::List { contractor, as_of } => {
            let as_of = date(as_of.as_deref())?;
            let book = load_book(&mut *store.conn().await?, &contractor).await?;
            let mut list = Vec::with_capacity(book.contracts.len());
            for c in &book.contracts {
                list.push(view(store, key, &book, c, as_of).await?);
            }
            print_json(&list)
        }
        ContractCommand::Show { id, as_of } => {
            let owner = holder(store, Owned::Contract, &id).await?;
            let as_of = date(as_of.as_deref())?;
            let book = load_book(&mut *store.conn().await?, &owner).await?;
            let c = book
                .contract(&id)
                .ok_or_else(|| anyhow!("no such contract {id}"))?;
            print_json(&view(store, key, &book, c, as_of).await?)
        }
        ContractCommand::Quote {
            id,
            notice_arrived_on,
            requested_on,
            termination: how,
            json,
        } => {
            let owner = holder(store, Owned::Contract, &id).await?;
            let arrived = date(notice_arrived_on.as_deref())?;
            let requested = requested_on
                .as_deref()
                .map(parse_business_date)
                .transpose()?;
            let how = how
                .as_deref()
                .map(termination)
                .transpose()?
                .unwrap_or(Termination::Notice);
            let quote = quote::quote_cancellation(store, &owner, &id, how, arrived, requested)
                .await
                .map_err(engine_error)?;
            let view = views::quote(id, arrived, requested, quote, Default::default());
            if json {
                print_json(&view)
            } else {
                print!("{}", quote_summary(&view));
                Ok(())
            }
        }
        ContractCommand::BillingStart { id, on } => {
            let owner = holder(store, Owned::Contract, &id).await?;
            let on = date(on.as_deref())?;
            requests::record(
                store,
                &owner,
                JournalEntry::new("cli", "contract.billing_start").subject(&id),
                |book| set_billing_start(book, &id, on),
            )
            .await
            .map_err(engine_error)?;
            println!("billing of {id} starts {on}");
            Ok(())
        }
    }
}

pub async fn device(store: &Store, cmd: DeviceCommand) -> anyhow::Result<()> {
    match cmd {
        DeviceCommand::Show { serial, as_of } => {
            let as_of = date(as_of.as_deref())?;
            let owner = holder(store, Owned::Device, &serial).await?;
            let book = load_book(&mut *store.conn().await?, &owner).await?;
            let d = book
                .device(&serial)
                .ok_or_else(|| anyhow!("no such device {serial}"))?;
            print_json(&views::device(d, as_of))
        }
        DeviceCommand::Return { serial, on } => {
            record_device(store, &serial, on, "device.return", record_return).await
        }
        DeviceCommand::Found { serial, on } => {
            record_device(store, &serial, on, "device.found", record_found).await
        }
        DeviceCommand::SweepOverdue { on } => {
            let on = date(on.as_deref())?;
            let effects = requests::sweep_overdue_returns(
                store,
                on,
                JournalEntry::new("cli", "device.sweep_overdue"),
            )
            .await
            .map_err(engine_error)?;
            print_json(&effects)
        }
    }
}

async fn record_device(
    store: &Store,
    serial: &str,
    on: Option<String>,
    operation: &str,
    decide: fn(
        &mpc_domain::book::Device,
        Date,
    ) -> Result<Vec<mpc_domain::book::Effect>, mpc_domain::Refusal>,
) -> anyhow::Result<()> {
    let owner = holder(store, Owned::Device, serial).await?;
    let on = date(on.as_deref())?;
    let effects = requests::record(
        store,
        &owner,
        JournalEntry::new("cli", operation).subject(serial),
        |book| decide(book.known_device(serial)?, on),
    )
    .await
    .map_err(engine_error)?;
    print_json(&effects)
}
