//! What the use cases share: dates that default to today, ownership checks, paging and
//! instants as the API shows them.

use jiff::civil::Date;
use mpc_api_types::contracts::DefaultedDates;
use mpc_domain::calendar::{CalendarError, parse_business_date, tokyo_date};
use mpc_storage::contracts::{self, Owned};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;
use serde::Deserialize;
use utoipa::IntoParams;

/// Today's date in Japan (D1).
pub fn today() -> Date {
    tokyo_date(jiff::Timestamp::now())
}

/// Reads dates of a request (each within the business dates,
/// [`mpc_domain::calendar::business_date`]), filling omitted ones with today and noting which (the API says
/// when it assumed a date).
#[derive(Debug, Default)]
pub struct Dates {
    pub defaulted: DefaultedDates,
}

impl Dates {
    pub fn parse(field: &'static str, value: Option<&str>) -> ApiResult<Option<Date>> {
        value
            .map(|v| {
                parse_business_date(v).map_err(|e| {
                    let message_ja = match e {
                        CalendarError::OutsideBusinessDates { .. } => format!(
                            "{field} は 2000-01-01 から 2099-12-31 までの日付で指定してください"
                        ),
                        _ => format!("{field} は YYYY-MM-DD 形式の日付で指定してください"),
                    };
                    mpc_domain::account::FieldError {
                        field,
                        message_en: format!("{field}: {e}"),
                        message_ja,
                    }
                    .into()
                })
            })
            .transpose()
    }

    pub fn or_today(&mut self, field: &'static str, value: Option<&str>) -> ApiResult<Date> {
        match Self::parse(field, value)? {
            Some(d) => Ok(d),
            None => {
                let d = today();
                self.defaulted.insert(field.to_owned(), d.to_string());
                Ok(d)
            }
        }
    }
}

/// The contractor holding `id`, when the caller may see it; 404 otherwise.
pub async fn holder(state: &AppState, caller: &Caller, what: Owned, id: &str) -> ApiResult<String> {
    let mut conn = state.store.conn().await?;
    let owner = contracts::owner_of(&mut conn, what, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    caller.require_contractor(&owner)?;
    Ok(owner)
}

/// A contractor's book as the caller may see it, and the day to show (`as_of`, today by
/// default); 404 for a contractor outside the caller's reach.
pub async fn contractor_book(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
    as_of: Option<&str>,
) -> ApiResult<(mpc_domain::book::Book, Date)> {
    caller.require_contractor(contractor_id)?;
    mpc_storage::accounts::get_contractor(&state.store, contractor_id).await?;
    let as_of = Dates::default().or_today("as_of", as_of)?;
    let book = contracts::load_book(&mut *state.store.conn().await?, contractor_id).await?;
    Ok((book, as_of))
}

/// Paging of a listing ordered by id.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
    /// At most this many items (1–1000, default 100).
    pub limit: Option<u32>,
}

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

pub fn limit(requested: Option<u32>) -> i64 {
    i64::from(requested.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT))
}

impl PageParams {
    /// One more row than the page holds, to learn whether another page follows.
    pub fn probe(&self) -> mpc_storage::accounts::Page {
        mpc_storage::accounts::Page {
            after: self.after.clone(),
            limit: limit(self.limit) + 1,
        }
    }

    /// Trims the probe row and returns the cursor of the next page, if any.
    pub fn finish<T>(&self, mut rows: Vec<T>, id: impl Fn(&T) -> &str) -> (Vec<T>, Option<String>) {
        let limit = limit(self.limit) as usize;
        let next = (rows.len() > limit).then(|| {
            rows.truncate(limit);
            rows.last().map(|r| id(r).to_owned())
        });
        (rows, next.flatten())
    }
}

/// An instant as the API shows it: RFC 3339 in UTC.
pub fn instant(micros: i64) -> ApiResult<String> {
    Ok(mpc_storage::timestamp(micros)?.to_string())
}
