//! `mpc request|contract|device`: the contract engine from the command line, on the database.
//!
//! Dates are `YYYY-MM-DD` (Japan); an omitted date is today in Japan, as in the API.

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use jiff::civil::Date;
use mpc_api_types::contracts::{ContractPatch, OnDate, RejectRequest, SubmitRequest};
use mpc_domain::calendar::{parse_business_date, tokyo_date};
use mpc_domain::ending::Termination;
use mpc_domain::request::{Acceptance, Request};
use mpc_server::AppState;
use mpc_server::app::{self, Input};
use mpc_server::error::ApiError;
use mpc_server::extract::Caller;
use mpc_storage::contracts::requests::EngineError;
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

/// A problem the application answered as one line: its code (the rule id for a refusal), the
/// English message with what it says of each field (bad rows of a CSV …), then the Japanese
/// message when there is one.
pub fn api_error(e: ApiError) -> anyhow::Error {
    let mut line = format!("{}: {}", e.code, e.detail);
    let fields: Vec<&str> = e
        .errors
        .iter()
        .map(|f| f.message.as_str())
        .filter(|m| *m != e.detail)
        .collect();
    if !fields.is_empty() {
        let more = if fields.len() > 5 { "; …" } else { "" };
        line = format!("{line}: {}{more}", fields[..fields.len().min(5)].join("; "));
    }
    match e.detail_ja {
        Some(ja) => anyhow!("{line} ({ja})"),
        None => anyhow!("{line}"),
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
    /// Acceptance date, `YYYY-MM-DD` (e.g. 2026-12-05); for a cancellation or stop, the day
    /// the notice arrived. When omitted, as in the API: a notice arrived the day it was
    /// submitted, anything else is accepted today in Japan.
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
    let _ = writeln!(
        out,
        "contract {}",
        q.contract_number.as_deref().unwrap_or(&q.contract_id)
    );
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
    /// prints its number (`REQ-000123`), id and status. With --accept, accept it at once.
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
        /// The request's number (`REQ-000123`) or id (`request list --status pending`).
        id: String,
        #[command(flatten)]
        acceptance: AcceptArgs,
    },
    /// What accepting a pending request would do, without accepting it (JSON): its effects,
    /// charges in yen and who is left ineligible, as acceptance would record them.
    Preview {
        /// The request's id (`request list --status pending`).
        id: String,
        #[command(flatten)]
        acceptance: AcceptArgs,
    },
    /// Reject a pending request.
    Reject {
        /// The request's number (`REQ-000123`) or id (`request list --status pending`).
        id: String,
        /// Why, as the contractor will read it.
        #[arg(long)]
        reason: String,
    },
    /// List requests (number, id, contractor, kind, submission day, status).
    List {
        /// Only requests in this state: `pending`, `accepted`, `rejected` or `withdrawn`.
        #[arg(long)]
        status: Option<String>,
        /// Only requests of this kind, e.g. `apply_contract`, `cancel_contract`, `report_loss`.
        #[arg(long)]
        kind: Option<String>,
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
        /// The contract's number (`C-000123`, or `123`) or its id.
        id: String,
        /// The day to show, `YYYY-MM-DD` (e.g. 2026-12-05); today in Japan when omitted.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// What cancelling would do: end date, early-termination charge in yen with its lines,
    /// what ends with it, who is left ineligible.
    Quote {
        /// The contract's number (`C-000123`, or `123`) or its id.
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
    /// Set a contract's site label (e.g. `mpc contract label C-000123 本社`); an empty label
    /// removes it. At most 60 characters.
    Label {
        /// The contract's number (`C-000123`, or `123`) or its id.
        id: String,
        /// The site name shown beside the contract number.
        label: String,
    },
    /// Record the billing start date (R5.2).
    BillingStart {
        /// The contract's number (`C-000123`, or `123`) or its id.
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
            println!("{}\t{}\t{}", view.number, view.id, view.status);
        }
        RequestCommand::Accept { id, acceptance } => {
            // An omitted day is the app's default, as in the API: a cancellation's or a
            // stop's notice arrived the day it was submitted, anything else is accepted today.
            let acceptance = acceptance.acceptance()?;
            let view = app::requests::accept(state, &caller, &id, Input::Value(acceptance))
                .await
                .map_err(api_error)?;
            println!("{}\t{}\t{}", view.number, view.id, view.status);
        }
        RequestCommand::Preview { id, acceptance } => {
            // Checked as acceptance checks them, then passed as the API's query.
            acceptance.acceptance()?;
            let query = app::requests::PreviewQuery {
                on: acceptance.on,
                termination: acceptance
                    .termination
                    .as_deref()
                    .map(termination)
                    .transpose()?,
                replacement_serial: acceptance.replacement_serial,
                replaced_on: acceptance.replaced_on,
                contractor_caused: Some(acceptance.contractor_caused),
            };
            let preview = app::requests::preview(state, &caller, &id, &query)
                .await
                .map_err(api_error)?;
            print_json(&preview)?;
        }
        RequestCommand::Reject { id, reason } => {
            let view =
                app::requests::reject(state, &caller, &id, Input::Value(RejectRequest { reason }))
                    .await
                    .map_err(api_error)?;
            println!("{}\t{}\t{}", view.number, view.id, view.status);
        }
        RequestCommand::List {
            status,
            kind,
            contractor,
        } => {
            let mut query = app::requests::Query {
                status,
                kind,
                ..Default::default()
            };
            loop {
                let page = app::requests::queue(state, &caller, contractor.as_deref(), &query)
                    .await
                    .map_err(api_error)?;
                for r in page.requests {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        r.number, r.id, r.contractor_id, r.kind, r.submitted_on, r.status
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

pub async fn contract(state: &AppState, cmd: ContractCommand) -> anyhow::Result<()> {
    let caller = Caller::command_line();
    match cmd {
        ContractCommand::List { contractor, as_of } => {
            let as_of = date(as_of.as_deref())?.to_string();
            let list = app::contracts::list(state, &caller, &contractor, Some(&as_of))
                .await
                .map_err(api_error)?;
            print_json(&list)
        }
        ContractCommand::Show { id, as_of } => {
            let as_of = date(as_of.as_deref())?.to_string();
            let view = app::contracts::get(state, &caller, &id, Some(&as_of))
                .await
                .map_err(api_error)?;
            print_json(&view)
        }
        ContractCommand::Quote {
            id,
            notice_arrived_on,
            requested_on,
            termination: how,
            json,
        } => {
            let arrived = date(notice_arrived_on.as_deref())?;
            let requested = requested_on
                .as_deref()
                .map(parse_business_date)
                .transpose()?;
            let query = app::contracts::QuoteQuery {
                notice_arrived_on: Some(arrived.to_string()),
                requested_on: requested.map(|d| d.to_string()),
                termination: how.as_deref().map(termination).transpose()?,
            };
            let view = app::contracts::quote(state, &caller, &id, &query)
                .await
                .map_err(api_error)?;
            if json {
                print_json(&view)
            } else {
                print!("{}", quote_summary(&view));
                Ok(())
            }
        }
        ContractCommand::Label { id, label } => {
            let view = app::contracts::set_label(
                state,
                &caller,
                &id,
                Input::Value(ContractPatch { label }),
            )
            .await
            .map_err(api_error)?;
            let number = view.number.map(|n| n.to_string()).unwrap_or(view.id);
            println!("{number}\t{}", view.label);
            Ok(())
        }
        ContractCommand::BillingStart { id, on } => {
            let on = date(on.as_deref())?;
            app::contracts::billing_start(state, &caller, &id, on_date(on))
                .await
                .map_err(api_error)?;
            println!("billing of {id} starts {on}");
            Ok(())
        }
    }
}

/// A day the operator records, as the API takes it.
fn on_date(on: Date) -> Input<OnDate> {
    Input::Value(OnDate {
        on: Some(on.to_string()),
    })
}

pub async fn device(state: &AppState, cmd: DeviceCommand) -> anyhow::Result<()> {
    let caller = Caller::command_line();
    let recorded = match cmd {
        DeviceCommand::Show { serial, as_of } => {
            let as_of = date(as_of.as_deref())?.to_string();
            let view = app::devices::get(state, &caller, &serial, Some(&as_of))
                .await
                .map_err(api_error)?;
            return print_json(&view);
        }
        DeviceCommand::Return { serial, on } => {
            let on = date(on.as_deref())?;
            app::fleet::returned(state, &caller, &serial, on_date(on)).await
        }
        DeviceCommand::Found { serial, on } => {
            let on = date(on.as_deref())?;
            app::fleet::found(state, &caller, &serial, on_date(on)).await
        }
        DeviceCommand::SweepOverdue { on } => {
            let on = date(on.as_deref())?;
            app::fleet::sweep(state, &caller, on_date(on)).await
        }
    };
    print_json(&recorded.map_err(api_error)?.effects)
}

#[derive(Args)]
pub struct SearchArgs {
    /// What to look for: part of a contract id, serial, ICCID, contractor name, or an invoice
    /// number (`I-000123`).
    query: String,
    /// Only this kind, a page at a time: contract, device, sim, contractor or invoice.
    #[arg(long)]
    kind: Option<String>,
    /// With --kind: the page, from 1.
    #[arg(long)]
    page: Option<u32>,
    /// Print the results as JSON, as the API answers them.
    #[arg(long)]
    json: bool,
}

/// `mpc search`: what [`app::search::find`] finds, one line a hit, grouped by kind with each
/// kind's total.
pub async fn search(state: &AppState, args: SearchArgs) -> anyhow::Result<()> {
    use mpc_api_types::search::SearchKind;
    let kind = match args.kind.as_deref() {
        None => None,
        Some(k) => Some(SearchKind::parse(k).ok_or_else(|| {
            anyhow!("--kind: expected contract, device, sim, contractor or invoice")
        })?),
    };
    let q = app::search::SearchQuery {
        q: args.query,
        kind,
        page: args.page,
        per_page: None,
    };
    let r = app::search::find(state, &Caller::command_line(), &q)
        .await
        .map_err(api_error)?;
    if args.json {
        return print_json(&r);
    }
    if let Some(found) = &r.exact {
        println!("exact\t{}\t{}", found.kind.as_str(), found.id);
    }
    let group = |name: &str, shown: usize, total: i64| {
        if total > 0 {
            println!("{name}: {shown} of {total}");
        }
    };
    group("contracts", r.contracts.hits.len(), r.contracts.total);
    for h in &r.contracts.hits {
        let device = h.device_type.as_deref().unwrap_or("-");
        println!(
            "  {}\t{}\t{}\t{}\t{device}\t{}",
            h.number.as_deref().unwrap_or("-"),
            if h.label.is_empty() { "-" } else { &h.label },
            h.id,
            h.kind,
            h.contractor_name
        );
    }
    group("devices", r.devices.hits.len(), r.devices.total);
    for h in &r.devices.hits {
        let holder = h.contractor_name.as_deref().unwrap_or("(inventory)");
        println!("  {}\t{}\t{holder}", h.serial, h.model);
    }
    group("sims", r.sims.hits.len(), r.sims.total);
    for h in &r.sims.hits {
        let until = h.until.as_deref().unwrap_or("");
        println!(
            "  {}\t{}..{until}\t{}\t{}",
            h.iccid,
            h.from,
            h.contract_number.as_deref().unwrap_or(&h.contract_id),
            h.contractor_name
        );
    }
    group("contractors", r.contractors.hits.len(), r.contractors.total);
    for h in &r.contractors.hits {
        println!("  {}\t{}", h.id, h.name);
    }
    group("invoices", r.invoices.hits.len(), r.invoices.total);
    for h in &r.invoices.hits {
        let number = h.number.as_deref().unwrap_or("draft");
        println!(
            "  {number}\t{}\t{}\t{}\t¥{}",
            h.id, h.month, h.recipient_name, h.total
        );
    }
    let nothing = [
        r.contracts.total,
        r.devices.total,
        r.sims.total,
        r.contractors.total,
        r.invoices.total,
    ]
    .iter()
    .all(|t| *t == 0);
    if nothing {
        println!("nothing matches {:?}", r.query);
    }
    Ok(())
}
