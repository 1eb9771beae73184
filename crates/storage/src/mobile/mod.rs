//! Mobile data: SIM registration, usage ingestion and throttle decisions (R9.3, R9.6, R9.9).
//!
//! Ingestion is one transaction per batch: records are resolved to the option their SIM served
//! on the record's Tokyo day, classified against what is stored (new, duplicate, correction),
//! written with multi-row inserts, and added to each option's month total (`usage_totals`).
//! The totals settle most option and group months the batch touched; a month over its limit is
//! decided from its records ending at or after the earliest end the batch touched, counting on
//! from the rest of its total ([`mpc_domain::mobile::Counted`]), and only months the totals
//! cannot speak for are replayed whole. A decision that changed is appended to
//! `throttle_events`, whose `seq` consumers follow as a cursor.
//!
//! On SQLite, records are indexed by the hour they start in and then their option (migration
//! 0010), so the records of a batch land on the index pages of the latest hours, and the process
//! keeps SIMs, options and groups (`MobileBook`) and the totals and throttles of the latest
//! months (`Months`) in memory between batches, checked against `mobile_generation`, which
//! every writer of them changes. Records are written one statement per chunk, the next built
//! while SQLite's worker thread writes the one before (`pipelined`). What differs between
//! SQLite and PostgreSQL during a batch is named once, in the ingestion's `Strategy`.

mod feeds;
mod ingest;
mod parse;
mod sims;
mod throttles;
mod usage;

pub use feeds::*;
pub use ingest::*;
pub use parse::*;
pub use sims::*;
pub use throttles::*;
pub use usage::*;
