//! `mpc price|billing`: the price book and monthly billing on the database.

use anyhow::{Context, anyhow};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use mpc_api_types::billing::{IssuerView, PriceView, SetPrices};
use mpc_domain::calendar::{Month, parse_date};
use mpc_domain::price::PriceKey;
use mpc_server::AppState;
use mpc_server::app::{self, Input};
use mpc_server::extract::Caller;

use crate::contracts::api_error;

#[derive(Subcommand)]
pub enum PriceCommand {
    /// Print the price book as CSV (key,contractor_id,effective_from,amount).
    Export,
    /// Import prices from a CSV file (all rows or none).
    Import {
        /// A CSV file with the header `key,contractor_id,effective_from,amount`, as `price export`
        /// prints it.
        file: std::path::PathBuf,
    },
    /// Set one price.
    Set {
        /// E.g. management.monthly, adapter.monthly.internet_gateway.SEIL/X4, fee.loss.SA-W2L.
        key: String,
        /// Yen, tax excluded.
        amount: i64,
        /// The first day the price applies, `YYYY-MM-DD` (e.g. 2027-01-01).
        #[arg(long)]
        from: String,
        /// A contractor's agreement instead of the list price (R14.1).
        #[arg(long)]
        contractor: Option<String>,
    },
    /// Remove a contractor's agreed price (R14.1): from then on its earlier agreement for the
    /// key, or the list price, is in force.
    Remove {
        /// The key of the agreement, as `price set` takes it.
        key: String,
        /// The first day the agreement applied, `YYYY-MM-DD` (e.g. 2027-01-01).
        #[arg(long)]
        from: String,
        /// The contractor whose agreement it is: its id (a UUID).
        #[arg(long)]
        contractor: String,
    },
    /// List every key that can be priced.
    Keys,
}

#[derive(Subcommand)]
pub enum BillingCommand {
    /// Set the invoice issuer: name, qualified-invoice registration number, address, phone and
    /// bank account, as printed on invoices (B3).
    Issuer {
        /// The issuer's name as printed on invoices.
        #[arg(long)]
        name: String,
        /// The qualified-invoice registration number: `T` and 13 digits (B3).
        #[arg(long)]
        registration_number: String,
        /// The issuer's address as printed on invoices.
        #[arg(long, default_value = "")]
        address: String,
        /// The phone printed on invoices, e.g. `03-1234-5678`.
        #[arg(long, default_value = "")]
        phone: String,
        /// Where to pay (振込先) as printed on invoices: bank, branch, account type and
        /// number, holder, e.g. `みずほ銀行 大手町支店 普通 1234567 カ）エムピーシー`.
        #[arg(long, default_value = "")]
        bank_account: String,
    },
    /// Bill a month for every contractor (re-runnable until finalized).
    Run {
        /// The month, `YYYY-MM` (e.g. 2026-11).
        #[arg(long)]
        month: String,
    },
    /// Make a month's invoices final and immutable (B4).
    Finalize {
        /// The month, `YYYY-MM` (e.g. 2026-11).
        #[arg(long)]
        month: String,
    },
    /// List a month's invoices (number, recipient, subtotal, tax, total).
    Invoices {
        /// The month, `YYYY-MM` (e.g. 2026-11).
        #[arg(long)]
        month: String,
    },
    /// Print every line of a month's invoices as CSV.
    Lines {
        /// The month, `YYYY-MM` (e.g. 2026-11).
        #[arg(long)]
        month: String,
    },
    /// Write one invoice as an A4 PDF (the Japanese font from Debian's
    /// fonts-ipaexfont-gothic, or MPC_INVOICE_FONT).
    Pdf {
        /// The invoice's number (e.g. I-000123) or id, as `billing invoices` lists them.
        invoice: String,
        /// Where to write the PDF; defaults to the invoice's file name (invoice-I-000123.pdf).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

fn month(s: &str) -> anyhow::Result<Month> {
    mpc_domain::calendar::parse_business_month(s).map_err(|e| anyhow!("--month: {e}"))
}

/// Every key that can be priced, with what 別紙1 calls it (needs no database).
pub fn print_keys() {
    for k in PriceKey::all() {
        println!("{k}\t{}", k.label_ja());
    }
}

pub async fn price(state: &AppState, cmd: PriceCommand) -> anyhow::Result<()> {
    let caller = Caller::command_line();
    match cmd {
        PriceCommand::Export => {
            print!(
                "{}",
                app::prices::csv(state, &caller).await.map_err(api_error)?
            );
        }
        PriceCommand::Import { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let prices = app::prices::import(state, &caller, &bytes)
                .await
                .map_err(api_error)?;
            println!("imported {} price(s)", prices.len());
        }
        PriceCommand::Set {
            key,
            amount,
            from,
            contractor,
        } => {
            // The flags are checked as they always were, then set as the API sets a price.
            let key: PriceKey = key.parse()?;
            let amount = mpc_domain::price::check_amount("--amount", amount)
                .map_err(crate::contracts::refusal)?;
            let effective_from = parse_date(&from)?;
            let new = SetPrices {
                prices: vec![PriceView {
                    key: key.to_string(),
                    contractor_id: contractor,
                    effective_from: effective_from.to_string(),
                    amount: amount.0,
                }],
            };
            app::prices::set(state, &caller, Input::Value(new))
                .await
                .map_err(api_error)?;
            println!("{key} = {amount} from {effective_from}");
        }
        PriceCommand::Remove {
            key,
            from,
            contractor,
        } => {
            app::prices::remove(state, &caller, &contractor, &key, &from)
                .await
                .map_err(api_error)?;
            println!("removed {key} for {contractor} from {from}");
        }
        PriceCommand::Keys => print_keys(),
    }
    Ok(())
}

pub async fn billing(state: &AppState, cmd: BillingCommand) -> anyhow::Result<()> {
    let caller = Caller::command_line();
    match cmd {
        BillingCommand::Issuer {
            name,
            registration_number,
            address,
            phone,
            bank_account,
        } => {
            let issuer = IssuerView {
                name,
                registration_number,
                address,
                contact: String::new(),
                phone,
                bank_account,
            };
            app::billing::set_issuer(state, &caller, Input::Value(issuer))
                .await
                .map_err(api_error)?;
            println!("issuer set");
        }
        BillingCommand::Run { month: m } => {
            let m = month(&m)?;
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} contracts ({eta})")
                    .map_err(|e| anyhow!(e))?
                    .progress_chars("=> "),
            );
            bar.set_message(format!("billing {m}"));
            let shown = bar.clone();
            let progress = move |done: usize, total: usize| {
                shown.set_length(total as u64);
                shown.set_position(done as u64);
            };
            let summary = app::billing::run_with_progress(state, &caller, m, progress)
                .await
                .map_err(api_error)?;
            bar.finish_and_clear();
            println!(
                "{}: {} invoice(s), {} line(s), {} contract(s); subtotal {}, tax {}, total {}",
                summary.month,
                summary.invoices,
                summary.lines,
                summary.contracts,
                summary.subtotal,
                summary.tax,
                summary.total
            );
        }
        BillingCommand::Finalize { month: m } => {
            let n = app::billing::finalize(state, &caller, month(&m)?)
                .await
                .map_err(api_error)?;
            println!("{m}: {n} invoice(s) finalized");
        }
        BillingCommand::Lines { month: m } => {
            let csv = app::billing::lines_csv(state, &caller, month(&m)?)
                .await
                .map_err(api_error)?;
            print!("{csv}");
        }
        BillingCommand::Invoices { month: m } => {
            let m = month(&m)?;
            let invoices = app::billing::invoices(state, &caller, Some(&m.to_string()), None)
                .await
                .map_err(api_error)?;
            for inv in invoices {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    inv.number.as_deref().unwrap_or("-"),
                    inv.id,
                    inv.recipient_name,
                    inv.subtotal,
                    inv.tax,
                    inv.total,
                    inv.status
                );
            }
        }
        BillingCommand::Pdf { invoice, out } => {
            let id = app::billing::invoice_id_of(state, &caller, &invoice)
                .await
                .map_err(api_error)?;
            let (name, bytes) = app::billing::invoice_pdf(state, &caller, &id)
                .await
                .map_err(api_error)?;
            let out = out.unwrap_or_else(|| std::path::PathBuf::from(name));
            std::fs::write(&out, bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("{}", out.display());
        }
    }
    Ok(())
}
