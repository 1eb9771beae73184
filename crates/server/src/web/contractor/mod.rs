//! The contractor's pages: dashboard, contracts as of a day with their journal timeline,
//! cancellation after its quote, requests, devices with their availability, mobile data use and
//! invoices. Operators reach the same contract, request and invoice pages for any contractor.

use axum::Router;
use axum::response::Response;
use axum::routing::{get, post};
use mpc_api_types::contracts::ContractView;
use mpc_domain::book::Status;
use serde::Deserialize;

use super::format;
use super::i18n::Lang;
use super::{Session, WebError, WebResult, see_other};
use crate::app::support;
use crate::error::ApiError;
use crate::{AppState, app};

mod cancel;
mod consents;
mod contracts;
mod dashboard;
mod devices;
mod invoices;
mod mobile;
mod record;
mod request_form;
mod requests;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/dashboard", get(dashboard::dashboard))
        .route("/console/contracts", get(contracts::contract_list))
        .route("/console/contracts/{id}", get(contracts::contract_page))
        .route("/console/contracts/{id}/label", post(contracts::set_label))
        .route(
            "/console/contracts/{id}/cancel",
            get(cancel::cancel_form).post(cancel::cancel),
        )
        .route("/console/requests", get(requests::request_list))
        .route(
            "/console/requests/new",
            get(request_form::request_form).post(request_form::submit),
        )
        .route("/console/requests/new/check", post(request_form::check))
        .route("/console/requests/{id}/withdraw", post(requests::withdraw))
        .route("/console/devices", get(devices::device_list))
        .route("/console/mobile", get(mobile::mobile_use))
        .route("/console/invoices", get(invoices::invoice_list))
        .route("/console/invoices/{id}", get(invoices::invoice_page))
        .route(
            "/console/invoices/{id}/payments",
            post(invoices::record_payment),
        )
        .route(
            "/console/invoices/{id}/default",
            post(invoices::record_default),
        )
        .route("/console/invoices/{id}/print", get(invoices::invoice_print))
        .route("/console/invoices/{id}/pdf", get(invoices::invoice_pdf))
        .route("/console/consents", get(consents::consents))
        .route("/console/consents/{what}/{id}", post(consents::consent))
        .route("/console/record", get(record::record).post(record::save))
}

/// The contractor whose pages these are: a contractor user's own, or the one an operator
/// names with `?contractor=`.
fn contractor_of(session: &Session, asked: Option<&str>) -> WebResult<String> {
    match (session.contractor_id(), asked) {
        (Some(own), _) => Ok(own.to_owned()),
        (None, Some(asked)) if !asked.is_empty() => Ok(asked.to_owned()),
        (None, _) => Err(WebError(
            ApiError::unprocessable("contractor_required", "choose a contractor first")
                .ja("契約者を選択してください"),
        )),
    }
}

/// Operators open a contractor's pages from the contractor: a list page without one sends them
/// to choose.
fn choose_contractor(session: &Session, asked: &Option<String>) -> Option<Response> {
    (session.is_operator() && asked.as_deref().is_none_or(str::is_empty))
        .then(|| see_other("/console/contractors"))
}

fn today() -> String {
    support::today().to_string()
}

/// One row of a table, already in the page's language.
pub struct ContractRow {
    pub id: String,
    /// The contract number (`C-000123`).
    pub number: String,
    /// The site label, empty when none.
    pub label: String,
    pub what: String,
    pub device: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub billing_start: String,
    pub minimum_period_end: String,
    pub ends: String,
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Pending => "pending",
        Status::Active => "active",
        Status::Ended => "ended",
    }
}

fn describe(lang: Lang, c: &ContractView) -> String {
    let kind = lang.pick(c.kind.label_ja(), c.kind.label_en());
    match c.item {
        Some(item) => format!("{kind} / {}", lang.pick(item.label_ja(), item.label_en())),
        None => kind.to_owned(),
    }
}

fn contract_row(lang: Lang, c: &ContractView) -> ContractRow {
    ContractRow {
        id: c.id.clone(),
        number: c.number.map_or_else(|| c.id.clone(), |n| n.to_string()),
        label: c.label.clone(),
        what: describe(lang, c),
        device: c
            .device_type
            .map_or_else(|| "—".to_owned(), |d| d.as_str().to_owned()),
        status: lang.status(c.status),
        status_class: status_class(c.status),
        billing_start: format::date_or_dash(lang, c.billing_start.as_deref()),
        minimum_period_end: format::date_or_dash(lang, c.minimum_period_end.as_deref()),
        ends: format::date_or_dash(lang, c.ending.as_ref().map(|e| e.on.as_str())),
    }
}

async fn contracts_of(
    state: &AppState,
    session: &Session,
    contractor: &str,
    as_of: Option<String>,
) -> WebResult<Vec<ContractView>> {
    Ok(app::contracts::list(state, &session.caller(), contractor, as_of.as_deref()).await?)
}

pub(super) const PAGE: usize = 50;

/// A page of a sorted table: rows, where they sit among all of them, and the page numbers
/// before and after when there are any.
pub struct Paged<T> {
    pub rows: Vec<T>,
    pub previous: Option<usize>,
    pub next: Option<usize>,
    /// The position of the first row among all rows, from 1.
    pub first: usize,
    /// How many rows there are on all pages.
    pub total: usize,
}

impl<T> Paged<T> {
    /// `41–60 of 312`, in `lang`.
    pub fn range(&self, lang: &Lang) -> String {
        let last = self.first + self.rows.len();
        super::i18n::range_of(*lang, self.first as i64, last as i64 - 1, self.total as i64)
    }
}

/// Page `page` (from 1; past the last page it is empty) of `rows`, [`PAGE`] rows a page.
pub fn paged<T>(mut rows: Vec<T>, page: Option<usize>) -> Paged<T> {
    let page = page.unwrap_or(1).max(1);
    let total = rows.len();
    let start = (page - 1).saturating_mul(PAGE).min(total);
    let end = (start + PAGE).min(total);
    let rows = rows.drain(start..end).collect();
    Paged {
        rows,
        previous: (page > 1).then(|| page - 1),
        next: (end < total).then_some(page + 1),
        first: start + 1,
        total,
    }
}

fn operator_suffix(session: &Session, contractor: &str) -> String {
    if session.is_operator() {
        format!("&contractor={contractor}")
    } else {
        String::new()
    }
}

#[derive(Deserialize)]
struct Csrf {
    csrf: String,
}

#[derive(Deserialize)]
struct PageQuery {
    contractor: Option<String>,
    page: Option<usize>,
}

/// An instant as Tokyo wall-clock time (the preset editor's history uses it too).
pub use super::format::clock_text as local_time;
