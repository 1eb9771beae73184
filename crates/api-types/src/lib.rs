//! The wire format of the mpc API: request, response and error bodies.
//!
//! Shared by the server (which documents them in the OpenAPI document) and the CLI. Request
//! bodies reject unknown fields, so a misspelt field is an error instead of a silent no-op.
//! Instants are RFC 3339 strings in UTC; civil dates `YYYY-MM-DD` (Japan time, rule D1).

pub mod accounts;
pub mod billing;
pub mod contracts;
pub mod controller;
pub mod journal;
pub mod mobile;
pub mod parties;
pub mod problem;
pub mod search;

pub use problem::{FieldProblem, Problem};
