//! The rules of the Multi-Product Controller Service Preset regulation, as pure functions.
//!
//! Nothing here reads a clock, a file or a database: "today", ids and prices come in as
//! arguments, so every rule can be tested on its own. Each rule lives in one function whose doc
//! comment cites its id from `shared/spec/regulation.md` (R13.1, D2, …); the refusal it returns
//! carries the same id.

pub mod access;
pub mod account;
pub mod billing;
pub mod book;
pub mod calendar;
pub mod catalog;
pub mod contract;
pub mod contract_number;
pub mod custody;
pub mod eligibility;
pub mod ending;
pub mod invoice;
pub mod mobile;
pub mod money;
pub mod monitoring;
pub mod number;
pub mod option;
pub mod preset;
pub mod price;
pub mod provisioning;
pub mod refusal;
pub mod request;
pub mod sla;
pub mod state;

pub use refusal::Refusal;
