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

/// The query parameters that page a listing, with the largest value each takes: a value out
/// of range, or not a whole number, is refused by [`paging_error`] naming the parameter and
/// its range, never clamped.
pub const PAGING_PARAMETERS: [(&str, u32); 4] = [
    ("limit", MAX_LIMIT),
    ("per_page", u32::MAX),
    ("page", u32::MAX),
    ("offset", u32::MAX),
];

/// The 400 `invalid_paging` problem for the paging parameter `field`, which takes whole numbers
/// from `min` to `max`; the one place such a refusal is worded.
pub fn paging_error(field: &str, min: u32, max: u32) -> ApiError {
    let (en, ja) = if max == u32::MAX {
        (
            format!("{field}: a whole number from {min}"),
            format!("{field} は {min} 以上の整数で指定してください"),
        )
    } else {
        (
            format!("{field}: a whole number from {min} to {max}"),
            format!("{field} は {min}〜{max} の整数で指定してください"),
        )
    };
    let mut err = ApiError::bad_request("invalid_paging", en.clone()).ja(ja.clone());
    err.errors
        .push(mpc_api_types::FieldProblem::new(field.to_owned(), en, ja));
    err
}

/// The problem for a paging parameter that is not a whole number (a query string the
/// parameters could not read): `None` when `field` pages nothing.
pub fn unreadable_paging(field: &str) -> Option<ApiError> {
    PAGING_PARAMETERS
        .iter()
        .find(|(name, _)| *name == field)
        .map(|(name, max)| {
            let min = if *name == "offset" { 0 } else { 1 };
            paging_error(name, min, *max)
        })
}

/// The value of the paging parameter `field` (`default` when omitted), which must lie in
/// `1..=max`.
///
/// # Errors
/// 400 `invalid_paging` naming `field` and the range ([`paging_error`]).
pub fn bounded(
    field: &'static str,
    requested: Option<u32>,
    default: u32,
    max: u32,
) -> ApiResult<u32> {
    let value = requested.unwrap_or(default);
    if (1..=max).contains(&value) {
        Ok(value)
    } else {
        Err(paging_error(field, 1, max))
    }
}

/// The `limit` of a cursor-paged listing: 1–[`MAX_LIMIT`], [`DEFAULT_LIMIT`] when omitted.
///
/// # Errors
/// 400 `invalid_paging` for 0 or more than [`MAX_LIMIT`].
pub fn limit(requested: Option<u32>) -> ApiResult<i64> {
    bounded("limit", requested, DEFAULT_LIMIT, MAX_LIMIT).map(i64::from)
}

/// A numbered page: the 1-based `page` and how many items a page holds (`per_page`, 1–`max`),
/// as the offset and limit of its page query.
///
/// # Errors
/// 400 `invalid_paging` naming `page` (0) or `per_page_field` (out of range).
pub fn numbered(
    page: Option<u32>,
    per_page_field: &'static str,
    per_page: Option<u32>,
    default: u32,
    max: u32,
) -> ApiResult<(u32, i64, i64)> {
    let per_page = bounded(per_page_field, per_page, default, max)?;
    let page = bounded("page", page, 1, u32::MAX)?;
    Ok((
        page,
        i64::from(page - 1) * i64::from(per_page),
        i64::from(per_page),
    ))
}

impl PageParams {
    /// One more row than the page holds, to learn whether another page follows.
    ///
    /// # Errors
    /// As [`limit`].
    pub fn probe(&self) -> ApiResult<mpc_storage::accounts::Page> {
        Ok(mpc_storage::accounts::Page {
            after: self.after.clone(),
            limit: limit(self.limit)? + 1,
        })
    }

    /// Trims the probe row and returns the cursor of the next page, if any.
    pub fn finish<T>(&self, mut rows: Vec<T>, id: impl Fn(&T) -> &str) -> (Vec<T>, Option<String>) {
        let limit = limit(self.limit).unwrap_or(i64::from(DEFAULT_LIMIT)) as usize;
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
