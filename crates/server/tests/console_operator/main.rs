//! The operator's console pages on SQLite and PostgreSQL, signed in through the real sign-in
//! form: every page answers, contractors are kept out, forms change what the API says they
//! change and nothing without the session's token.

mod accounts;
mod billing;
#[path = "../common/mod.rs"]
mod common;
mod language;
mod money;
mod names;
mod pages;
mod passwords;
mod pickers;
mod queue;
mod records;
mod support;
