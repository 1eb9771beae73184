//! Billing on the database: the price book, the issuer, monthly runs that stream contractors
//! range by range, invoices, payments, defaults (R6.4), outages and SLA claims.

use jiff::civil::Date;
use mpc_domain::Refusal;
use mpc_domain::billing::{Line, LineKind, LineText, MonthInput, StoredLine, bill_month};
use mpc_domain::book::ChargeEvent;
use mpc_domain::calendar::Month;
use mpc_domain::eligibility::InvoiceRedirect;
use mpc_domain::invoice;
use mpc_domain::money::Yen;
use mpc_domain::price::{MissingPrice, Price, PriceBook, PriceKey};
use mpc_domain::sla::{ApprovedCredit, ClaimStatus};
use sqlx::AnyConnection;

use crate::contracts::{Scope, date, from_wire, load_books, opt_date, wire};

mod corrections;
mod invoices;
mod issuer;
mod lease;
mod prices;
mod runs;
mod sla;

pub use corrections::*;
pub use invoices::*;
pub use issuer::*;
pub use prices::*;
pub use runs::*;
pub use sla::*;

use crate::sql::Sql;
use crate::{JournalEntry, StorageError, Store, WriteTx, new_id, now_micros};
pub use lease::RunInProgress;

/// A line's text as stored (JSON, migration 0026).
fn json(text: &LineText) -> String {
    // A `LineText` is plain data: its serialization cannot fail.
    serde_json::to_string(text).unwrap_or_default()
}
use lease::RunLease;

/// Why billing did not do something.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("{0}")]
    Refused(Refusal),
    #[error("{} price(s) missing, first: {}", .0.len(), .0[0])]
    MissingPrices(Vec<MissingPrice>),
    /// Another run holds the month (B4: one run of a month at a time).
    #[error("billing run {} of {} is in progress (started by {})", .0.run_id, .0.month, .0.started_by)]
    RunInProgress(RunInProgress),
    /// This run stalled past its lease and another run took the month over; it wrote nothing
    /// that counts.
    #[error("the billing run of {0} was taken over by another run")]
    RunSuperseded(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<Refusal> for BillingError {
    fn from(r: Refusal) -> Self {
        BillingError::Refused(r)
    }
}

impl From<sqlx::Error> for BillingError {
    fn from(e: sqlx::Error) -> Self {
        BillingError::Storage(e.into())
    }
}

pub type Result<T, E = BillingError> = std::result::Result<T, E>;
