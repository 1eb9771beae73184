//! Loading a contractor's [`Book`](mpc_domain::book::Book) and persisting the effects of decisions on it.
//!
//! Decisions return effects; [`persist`] writes the full current state of every entity an
//! effect touched (upsert of its row, replacement of its dated child rows), so storage never
//! re-implements a rule.

mod book;
pub mod numbers;
pub mod parties;
mod persist;
pub mod quote;
pub mod requests;
pub mod standing;

pub use book::*;
pub use persist::*;

use jiff::civil::Date;
use mpc_domain::calendar::parse_date;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Result, StorageError};

/// The wire name of a serde enum (`snake_case` or renamed).
pub fn wire<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

/// Reads a serde enum back from its wire name.
pub fn from_wire<T: DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|e| StorageError::Corrupt(format!("{s:?}: {e}")))
}

pub fn date(s: &str) -> Result<Date> {
    parse_date(s).map_err(|e| StorageError::Corrupt(e.to_string()))
}

pub fn opt_date(s: Option<String>) -> Result<Option<Date>> {
    s.as_deref().map(date).transpose()
}

fn text(d: Option<Date>) -> Option<String> {
    d.map(|d| d.to_string())
}
