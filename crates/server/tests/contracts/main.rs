//! The contract rules through the HTTP API, on SQLite and PostgreSQL. Every date's arithmetic
//! is in a comment.

#[path = "../common/mod.rs"]
mod common;
mod custody;
mod ending;
mod named;
mod numbers;
mod offered;
mod preview;
mod requests;
mod support;
