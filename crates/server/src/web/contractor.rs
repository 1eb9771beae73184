//! The contractor's pages: dashboard, contracts as of a day with their journal timeline,
//! cancellation after its quote, requests, devices with their availability, mobile data use and
//! invoices. Operators reach the same contract, request and invoice pages for any contractor.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum_extra::extract::Form;
use mpc_api_types::contracts::{ContractView, OptionView, QuoteView, RequestView};
use mpc_domain::book::Status;
use mpc_domain::catalog::{
    ContractKind, DeviceType, Item, MobileUsageType, NetworkType, OptionKind,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::format;
use super::i18n::Lang;
use super::session::Section;
use super::{Chrome, Session, Shown, WebError, WebResult, charts, render, see_other, short};
use crate::AppState;
use crate::api::v1::{billing, contracts, devices, journal, mobile, monitoring, requests, support};
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/dashboard", get(dashboard))
        .route("/console/contracts", get(contract_list))
        .route("/console/contracts/{id}", get(contract_page))
        .route(
            "/console/contracts/{id}/cancel",
            get(cancel_form).post(cancel),
        )
        .route("/console/requests", get(request_list))
        .route("/console/requests/new", get(request_form).post(submit))
        .route("/console/requests/{id}/withdraw", post(withdraw))
        .route("/console/devices", get(device_list))
        .route("/console/mobile", get(mobile_use))
        .route("/console/invoices", get(invoice_list))
        .route("/console/invoices/{id}", get(invoice_page))
        .route("/console/invoices/{id}/print", get(invoice_print))
        .route("/console/consents", get(consents))
        .route("/console/consents/{what}/{id}", post(consent))
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
    pub short: String,
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
        short: short(&c.id),
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
    Ok(contracts::list(
        State(state.clone()),
        session.caller(),
        Path(contractor.to_owned()),
        Params(contracts::AsOf { as_of }),
    )
    .await?
    .0
    .contracts)
}

/// A coming date on the dashboard.
pub struct Coming {
    pub on: String,
    pub date: String,
    pub what: String,
    pub subject: String,
    pub href: String,
}

#[derive(askama::Template)]
#[template(path = "web/contractor/dashboard.html")]
struct Dashboard {
    c: Chrome,
    active: usize,
    up: usize,
    down: usize,
    pending: usize,
    unpaid: usize,
    coming: Vec<Coming>,
    /// Service adapters whose device cannot fetch its configuration today, and why (R7.1,
    /// R17.1 …).
    withheld: Vec<Withheld>,
    requests: Vec<RequestRow>,
}

struct Withheld {
    subject: String,
    href: String,
    code: String,
    reason: String,
}

/// `/console/dashboard`: what a contractor needs at a glance; operators see their own.
async fn dashboard(State(state): State<AppState>, session: Session) -> WebResult {
    if session.is_operator() {
        return super::operator::dashboard(State(state), session).await;
    }
    let t = session.t();
    let lang = session.lang;
    let contractor = contractor_of(&session, None)?;
    let today = today();
    let contracts = contracts_of(&state, &session, &contractor, None).await?;
    let monitored = monitoring::list(
        State(state.clone()),
        session.caller(),
        Params(monitoring::MonitorParams {
            state: None,
            contractor_id: None,
            model: None,
            firmware: None,
        }),
    )
    .await?
    .0
    .devices;
    let pending = pending_requests(&state, &session, Some(&contractor)).await?;
    let invoices = billing::invoices(
        State(state.clone()),
        session.caller(),
        Params(billing::InvoiceParams {
            month: None,
            account_id: None,
        }),
    )
    .await?
    .0
    .invoices;
    let mut coming = Vec::new();
    let mut add = |on: &String, what: &str, subject: String, href: String| {
        if **on >= *today {
            coming.push(Coming {
                on: on.clone(),
                date: format::date_text(lang, on),
                what: what.to_owned(),
                subject,
                href,
            });
        }
    };
    for c in &contracts {
        let href = format!("/console/contracts/{}", c.id);
        let subject = format!("{} ({})", describe(lang, c), short(&c.id));
        if let Some(d) = &c.minimum_period_end {
            add(
                d,
                t.coming_minimum_period_end,
                subject.clone(),
                href.clone(),
            );
        }
        if let Some(e) = &c.ending {
            add(&e.on, t.coming_contract_end, subject.clone(), href.clone());
        }
        for change in c.items.iter().skip(1) {
            add(
                &change.from,
                t.coming_item_change,
                subject.clone(),
                href.clone(),
            );
        }
        for o in &c.options {
            let subject = format!(
                "{} — {subject}",
                lang.pick(o.kind.label_ja(), o.kind.label_en())
            );
            if let Some(d) = &o.minimum_period_end {
                add(
                    d,
                    t.coming_option_minimum_end,
                    subject.clone(),
                    href.clone(),
                );
            }
            for change in o.usage_types.iter().skip(1) {
                add(
                    &change.from,
                    t.coming_usage_type_change,
                    subject.clone(),
                    href.clone(),
                );
            }
            if let Some(e) = &o.ending {
                add(&e.on, t.coming_option_end, subject.clone(), href.clone());
            }
        }
    }
    let devices = devices::list_of_contractor(
        State(state.clone()),
        session.caller(),
        Path(contractor.clone()),
        Params(contracts::AsOf { as_of: None }),
    )
    .await?
    .0
    .devices;
    for d in &devices {
        if let Some(due) = &d.return_due {
            add(
                due,
                t.coming_return_due,
                d.serial.clone(),
                "/console/devices".into(),
            );
        }
    }
    let outages = billing::outages(State(state.clone()), session.caller())
        .await?
        .0
        .outages;
    for o in outages.iter().filter(|o| o.qualifies) {
        add(
            &o.claim_deadline,
            t.coming_claim_deadline,
            o.description.clone(),
            "/console/sla".into(),
        );
    }
    coming.sort_by(|a, b| a.on.cmp(&b.on));
    Ok(render(Dashboard {
        c: session.chrome(t.nav_dashboard, Section::Dashboard),
        active: contracts
            .iter()
            .filter(|c| c.status == Status::Active)
            .count(),
        up: monitored.iter().filter(|d| d.state == "up").count(),
        down: monitored.iter().filter(|d| d.state == "down").count(),
        pending: pending.len(),
        // Drafts are not owed yet (B5): issued and overdue invoices are.
        unpaid: invoices
            .iter()
            .filter(|i| matches!(i.status.as_str(), "issued" | "overdue"))
            .count(),
        withheld: contracts
            .iter()
            .filter(|c| c.status != Status::Ended)
            .filter_map(|c| {
                let p = c.provisioning.as_ref().filter(|p| !p.provisionable)?;
                Some(Withheld {
                    subject: format!("{} ({})", describe(lang, c), short(&c.id)),
                    href: format!("/console/contracts/{}", c.id),
                    code: p.code.clone().unwrap_or_default(),
                    reason: match lang {
                        Lang::Ja => p.reason_ja.clone(),
                        Lang::En => p.reason.clone(),
                    }
                    .unwrap_or_default(),
                })
            })
            .collect(),
        coming,
        requests: pending
            .iter()
            .take(5)
            .map(|r| request_row(lang, r))
            .collect(),
    }))
}

async fn pending_requests(
    state: &AppState,
    session: &Session,
    contractor: Option<&str>,
) -> WebResult<Vec<RequestView>> {
    let params = requests::ListParams {
        status: Some("pending".into()),
        contractor_id: contractor.map(str::to_owned),
        after: None,
        limit: Some(200),
    };
    Ok(match contractor {
        Some(c) => {
            requests::list_of_contractor(
                State(state.clone()),
                session.caller(),
                Path(c.to_owned()),
                Params(requests::ListParams {
                    contractor_id: None,
                    ..params
                }),
            )
            .await?
        }
        None => requests::list(State(state.clone()), session.caller(), Params(params)).await?,
    }
    .0
    .requests)
}

#[derive(Deserialize)]
struct ListQuery {
    contractor: Option<String>,
    as_of: Option<String>,
    sort: Option<String>,
    page: Option<usize>,
}

const PAGE: usize = 50;

/// A page of a sorted table: rows, and the page numbers before and after when there are any.
pub struct Paged<T> {
    pub rows: Vec<T>,
    pub previous: Option<usize>,
    pub next: Option<usize>,
}

pub fn paged<T>(mut rows: Vec<T>, page: Option<usize>) -> Paged<T> {
    let page = page.unwrap_or(1).max(1);
    let total = rows.len();
    let start = ((page - 1) * PAGE).min(total);
    let end = (start + PAGE).min(total);
    let rows = rows.drain(start..end).collect();
    Paged {
        rows,
        previous: (page > 1).then(|| page - 1),
        next: (end < total).then_some(page + 1),
    }
}

#[derive(askama::Template)]
#[template(path = "web/contractor/contracts.html")]
struct ContractsPage {
    c: Chrome,
    contractor: String,
    as_of: String,
    sort: String,
    table: Paged<ContractRow>,
}

/// `/console/contracts?as_of=&sort=&page=`.
async fn contract_list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<ListQuery>,
) -> WebResult {
    if let Some(to) = choose_contractor(&session, &q.contractor) {
        return Ok(to);
    }
    let contractor = contractor_of(&session, q.contractor.as_deref())?;
    let as_of = q.as_of.filter(|d| !d.is_empty()).unwrap_or_else(today);
    let mut contracts = contracts_of(&state, &session, &contractor, Some(as_of.clone())).await?;
    let sort = q.sort.unwrap_or_else(|| "applied".into());
    match sort.as_str() {
        "status" => contracts.sort_by_key(|c| status_class(c.status)),
        "item" => contracts.sort_by_key(|c| (c.kind, c.item)),
        "minimum" => contracts.sort_by(|a, b| a.minimum_period_end.cmp(&b.minimum_period_end)),
        _ => contracts.sort_by(|a, b| a.applied_on.cmp(&b.applied_on)),
    }
    let lang = session.lang;
    let rows = contracts.iter().map(|c| contract_row(lang, c)).collect();
    Ok(render(ContractsPage {
        c: session.chrome(session.t().nav_contracts, Section::Contracts),
        contractor: if session.is_operator() {
            contractor
        } else {
            String::new()
        },
        as_of,
        sort,
        table: paged(rows, q.page),
    }))
}

pub struct OptionRow {
    pub what: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub detail: String,
    pub billing_start: String,
    pub minimum_period_end: String,
    pub ends: String,
}

fn option_row(lang: Lang, o: &OptionView) -> OptionRow {
    let mut detail = Vec::new();
    if let Some(a) = &o.install_address {
        detail.push(a.clone());
    }
    if let Some(u) = o.usage_type {
        detail.push(lang.pick(u.label_ja(), u.label_en()).to_owned());
    }
    if let Some(n) = o.network_type {
        detail.push(lang.pick(n.label_ja(), n.label_en()).to_owned());
    }
    OptionRow {
        what: lang.pick(o.kind.label_ja(), o.kind.label_en()).to_owned(),
        status: lang.status(o.status),
        status_class: status_class(o.status),
        detail: detail.join(" / "),
        billing_start: format::date_or_dash(lang, o.billing_start.as_deref()),
        minimum_period_end: format::date_or_dash(lang, o.minimum_period_end.as_deref()),
        ends: format::date_or_dash(lang, o.ending.as_ref().map(|e| e.on.as_str())),
    }
}

/// One event of a contract's life, from the journal.
pub struct Event {
    pub at: String,
    pub what: String,
    pub who: String,
}

#[derive(askama::Template)]
#[template(path = "web/contractor/contract.html")]
struct ContractPage {
    c: Chrome,
    id: String,
    as_of: String,
    row: ContractRow,
    applied_on: String,
    accepted_on: String,
    items: Vec<(String, String)>,
    serial: String,
    provisioning: Option<String>,
    ending_reason: Option<String>,
    options: Vec<OptionRow>,
    is_adapter: bool,
    has_mobile: bool,
    active: bool,
    events: Vec<Event>,
    /// `?contractor=…` for operators' links to the contractor's other pages.
    contractor_query: String,
}

#[derive(Deserialize)]
struct AsOfQuery {
    as_of: Option<String>,
}

/// `/console/contracts/{id}?as_of=`: a contract with its options and its journal timeline.
async fn contract_page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> WebResult {
    let lang = session.lang;
    let as_of = q.as_of.filter(|d| !d.is_empty()).unwrap_or_else(today);
    let c = contracts::get(
        State(state.clone()),
        session.caller(),
        Path(id.clone()),
        Params(contracts::AsOf {
            as_of: Some(as_of.clone()),
        }),
    )
    .await?
    .0;
    let entries = journal::list(
        State(state.clone()),
        session.caller(),
        Params(journal::ListParams {
            operation: None,
            actor: None,
            contractor_id: Some(c.contractor_id.clone()),
            subject: None,
            before: None,
            limit: Some(500),
        }),
    )
    .await?
    .0
    .entries;
    let events = entries
        .into_iter()
        .filter(|e| {
            e.subject.as_deref() == Some(id.as_str())
                || e.request.to_string().contains(&id)
                || e.outcome.to_string().contains(&id)
        })
        .map(|e| Event {
            at: format::clock_text(&e.at),
            what: super::i18n::operation(
                lang,
                &e.operation,
                e.request
                    .get("request")
                    .and_then(|r| r.get("kind"))
                    .and_then(Value::as_str),
            ),
            who: e.actor,
        })
        .collect();
    Ok(render(ContractPage {
        c: session.chrome(
            &format!("{} {}", session.t().contract, short(&c.id)),
            Section::Contracts,
        ),
        id: c.id.clone(),
        as_of,
        row: contract_row(lang, &c),
        applied_on: format::date_text(lang, &c.applied_on),
        accepted_on: format::date_text(lang, &c.accepted_on),
        items: c
            .items
            .iter()
            .map(|i| {
                (
                    format::date_text(lang, &i.from),
                    lang.pick(i.value.label_ja(), i.value.label_en()).to_owned(),
                )
            })
            .collect(),
        serial: c.serial.clone().unwrap_or_else(|| "—".into()),
        provisioning: c.provisioning.as_ref().and_then(|p| {
            (!p.provisionable).then(|| {
                match lang {
                    Lang::Ja => p.reason_ja.clone(),
                    Lang::En => p.reason.clone(),
                }
                .unwrap_or_default()
            })
        }),
        ending_reason: c
            .ending
            .as_ref()
            .map(|e| lang.end_reason(e.reason).to_owned()),
        options: c.options.iter().map(|o| option_row(lang, o)).collect(),
        is_adapter: c.kind == ContractKind::ServiceAdapter,
        has_mobile: c.options.iter().any(|o| o.kind == OptionKind::MobileAccess),
        active: c.status != Status::Ended && c.ending.is_none(),
        events,
        contractor_query: if session.is_operator() {
            format!("?contractor={}", c.contractor_id)
        } else {
            String::new()
        },
    }))
}

#[derive(Deserialize)]
struct QuoteQuery {
    requested_on: Option<String>,
}

/// A quote as shown before confirming a cancellation.
pub struct QuoteShown {
    pub notice_arrived_on: String,
    pub end_on: String,
    pub charge: String,
    pub missing: Vec<String>,
    pub exempt: bool,
    pub lines: Vec<(String, String, String)>,
    pub cascades: Vec<String>,
    pub impact: Vec<String>,
}

fn quote_shown(lang: Lang, q: &QuoteView) -> QuoteShown {
    let mut cascades = Vec::new();
    for e in q.effects.as_array().into_iter().flatten() {
        let kind = e.get("effect").and_then(Value::as_str).unwrap_or_default();
        let subject = ["option_id", "group_id", "contract_id", "serial"]
            .iter()
            .find_map(|k| e.get(*k).and_then(Value::as_str))
            .map(|s| if s.len() > 20 { short(s) } else { s.to_owned() })
            .unwrap_or_default();
        let due = e
            .get("return_due")
            .and_then(Value::as_str)
            .map(|d| format!(" — {} {}", lang.t().return_due, format::date_text(lang, d)))
            .unwrap_or_default();
        if let Some(what) = super::i18n::effect(lang, kind) {
            cascades.push(format!("{what} ({subject}){due}"));
        }
    }
    QuoteShown {
        notice_arrived_on: format::date_text(lang, &q.notice_arrived_on),
        end_on: format::date_text(lang, &q.end_on),
        charge: q.early_termination_charge.map_or_else(
            || lang.t().price_missing.to_owned(),
            |y| format::yen(lang, y),
        ),
        missing: q.missing_prices.clone(),
        exempt: q.exempt_from_early_termination,
        lines: q
            .early_termination_lines
            .iter()
            .map(|l| {
                (
                    l.description.clone(),
                    if l.period_from == l.period_to {
                        format::date_text(lang, &l.period_from)
                    } else {
                        format!(
                            "{} – {}",
                            format::date_text(lang, &l.period_from),
                            format::date_text(lang, &l.period_to)
                        )
                    },
                    format::yen(lang, l.amount),
                )
            })
            .collect(),
        cascades,
        impact: q
            .eligibility_impact
            .iter()
            .flat_map(|i| {
                i.unmet
                    .iter()
                    .map(|u| lang.pick(&u.message_ja, &u.message).to_owned())
            })
            .collect(),
    }
}

#[derive(askama::Template)]
#[template(path = "web/contractor/cancel.html")]
struct CancelPage {
    c: Chrome,
    id: String,
    row: ContractRow,
    requested_on: String,
    quote: Option<QuoteShown>,
    problem: Option<Shown>,
}

/// `/console/contracts/{id}/cancel`: the quote (end date, what ends with it, early-termination
/// charge in yen) for a notice arriving today, then the confirmation.
async fn cancel_form(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<QuoteQuery>,
) -> WebResult {
    let requested_on = q.requested_on.filter(|d| !d.is_empty());
    cancel_page(&state, &session, &id, requested_on, None).await
}

async fn cancel_page(
    state: &AppState,
    session: &Session,
    id: &str,
    requested_on: Option<String>,
    problem: Option<Shown>,
) -> WebResult {
    let lang = session.lang;
    let c = contracts::get(
        State(state.clone()),
        session.caller(),
        Path(id.to_owned()),
        Params(contracts::AsOf { as_of: None }),
    )
    .await?
    .0;
    let quote = contracts::quote(
        State(state.clone()),
        session.caller(),
        Path(id.to_owned()),
        Params(contracts::QuoteParams {
            notice_arrived_on: None,
            requested_on: requested_on.clone(),
            termination: None,
        }),
    )
    .await;
    let (quote, problem) = match quote {
        Ok(q) => (Some(quote_shown(lang, &q.0)), problem),
        Err(e) => (None, problem.or(Some(Shown::of(lang, &e)))),
    };
    let failed = problem.is_some();
    let mut page = render(CancelPage {
        c: session.chrome(session.t().cancel_contract, Section::Contracts),
        id: id.to_owned(),
        row: contract_row(lang, &c),
        requested_on: requested_on.unwrap_or_default(),
        quote,
        problem,
    });
    if failed {
        *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}

#[derive(Deserialize)]
struct CancelForm {
    csrf: String,
    requested_on: Option<String>,
    #[serde(default)]
    understood: Option<String>,
}

/// Submits the notice of cancellation (R13.1) once the contractor has read the quote and ticked
/// the confirmation.
async fn cancel(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<CancelForm>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    let requested_on = form.requested_on.filter(|d| !d.is_empty());
    if form.understood.is_none() {
        let mut shown = Shown::message(422, "confirmation_required", session.t().confirm_required);
        shown
            .fields
            .push(("understood".into(), session.t().confirm_required.into()));
        return cancel_page(&state, &session, &id, requested_on, Some(shown)).await;
    }
    let contract = contracts::get(
        State(state.clone()),
        session.caller(),
        Path(id.clone()),
        Params(contracts::AsOf { as_of: None }),
    )
    .await?
    .0;
    let body = json!({
        "request": {"kind": "cancel_contract", "contract_id": id, "requested_on": requested_on},
    });
    match requests::submit(
        State(state.clone()),
        session.caller(),
        Path(contract.contractor_id.clone()),
        JsonBody::from_json(&body),
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/console/requests?submitted=1{}",
            operator_suffix(&session, &contract.contractor_id)
        ))),
        Err(e) => {
            let shown = Shown::of(session.lang, &e);
            cancel_page(&state, &session, &id, requested_on, Some(shown)).await
        }
    }
}

fn operator_suffix(session: &Session, contractor: &str) -> String {
    if session.is_operator() {
        format!("&contractor={contractor}")
    } else {
        String::new()
    }
}

/// A request as listed.
pub struct RequestRow {
    pub id: String,
    pub kind: String,
    pub subject: String,
    pub submitted_on: String,
    pub status: String,
    pub status_class: &'static str,
    pub pending: bool,
    pub note: String,
}

fn request_row(lang: Lang, r: &RequestView) -> RequestRow {
    let body = serde_json::to_value(&r.request).unwrap_or(Value::Null);
    let subject = ["contract_id", "option_id", "group_id"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_str))
        .map(short)
        .unwrap_or_default();
    let t = lang.t();
    RequestRow {
        id: r.id.clone(),
        kind: super::i18n::request_kind(lang, &r.kind).to_owned(),
        subject,
        submitted_on: format::date_text(lang, &r.submitted_on),
        status: match r.status.as_str() {
            "pending" => t.request_pending,
            "accepted" => t.request_accepted,
            "rejected" => t.request_rejected,
            "withdrawn" => t.request_withdrawn,
            other => other,
        }
        .to_owned(),
        status_class: match r.status.as_str() {
            "pending" => "pending",
            "accepted" => "active",
            _ => "ended",
        },
        pending: r.status == "pending",
        note: r
            .decision
            .as_ref()
            .and_then(|d| d.get("reason"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    }
}

#[derive(Deserialize)]
struct RequestsQuery {
    contractor: Option<String>,
    status: Option<String>,
    after: Option<String>,
    submitted: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "web/contractor/requests.html")]
struct RequestsPage {
    c: Chrome,
    contractor: String,
    status: String,
    rows: Vec<RequestRow>,
    next: Option<String>,
    submitted: bool,
    kinds: Vec<(&'static str, &'static str)>,
}

/// `/console/requests`: the contractor's requests, newest state first, with the forms to make
/// new ones.
async fn request_list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<RequestsQuery>,
) -> WebResult {
    if let Some(to) = choose_contractor(&session, &q.contractor) {
        return Ok(to);
    }
    let contractor = contractor_of(&session, q.contractor.as_deref())?;
    let status = q.status.filter(|s| !s.is_empty());
    let list = requests::list_of_contractor(
        State(state.clone()),
        session.caller(),
        Path(contractor.clone()),
        Params(requests::ListParams {
            status: status.clone(),
            contractor_id: None,
            after: q.after,
            limit: Some(PAGE as u32),
        }),
    )
    .await?
    .0;
    let lang = session.lang;
    Ok(render(RequestsPage {
        c: session.chrome(session.t().nav_requests, Section::Requests),
        contractor: if session.is_operator() {
            contractor
        } else {
            String::new()
        },
        status: status.unwrap_or_default(),
        rows: list.requests.iter().map(|r| request_row(lang, r)).collect(),
        next: list.next_cursor,
        submitted: q.submitted.is_some(),
        kinds: FORM_KINDS
            .iter()
            .map(|k| (*k, super::i18n::request_kind(lang, k)))
            .collect(),
    }))
}

#[derive(Deserialize)]
struct Csrf {
    csrf: String,
}

async fn withdraw(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<Csrf>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    let r = requests::withdraw(State(state), session.caller(), Path(id))
        .await?
        .0;
    Ok(see_other(&format!(
        "/console/requests?status=withdrawn{}",
        operator_suffix(&session, &r.contractor_id)
    )))
}

/// The request kinds made with the generic form (cancellation has its own page, after the
/// quote).
const FORM_KINDS: &[&str] = &[
    "apply_contract",
    "change_item",
    "add_option",
    "change_usage_type",
    "change_network_type",
    "change_pack",
    "stop_option",
    "stop_group",
    "notify_serial",
    "report_failure",
    "report_loss",
];

/// An input of a request form.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    pub value: String,
    pub error: Option<String>,
}

pub enum FieldKind {
    Text,
    Date,
    Number,
    Select(Vec<(String, String)>),
}

impl Field {
    pub fn is_select(&self) -> bool {
        matches!(self.kind, FieldKind::Select(_))
    }

    pub fn choices(&self) -> &[(String, String)] {
        match &self.kind {
            FieldKind::Select(c) => c,
            _ => &[],
        }
    }

    pub fn input_type(&self) -> &'static str {
        match self.kind {
            FieldKind::Date => "date",
            FieldKind::Number => "number",
            _ => "text",
        }
    }
}

fn labelled<T: Copy>(
    lang: Lang,
    all: &[T],
    wire: fn(T) -> &'static str,
    ja: fn(T) -> &'static str,
    en: fn(T) -> &'static str,
) -> Vec<(String, String)> {
    all.iter()
        .map(|v| (wire(*v).to_owned(), lang.pick(ja(*v), en(*v)).to_owned()))
        .collect()
}

/// The fields of a request kind, with the contractor's contracts, options and groups to choose
/// from.
fn fields_of(lang: Lang, kind: &str, contracts: &[ContractView]) -> Vec<Field> {
    let t = lang.t();
    let field = |name, label, kind, required| Field {
        name,
        label,
        kind,
        required,
        value: String::new(),
        error: None,
    };
    let open: Vec<&ContractView> = contracts
        .iter()
        .filter(|c| c.status != Status::Ended)
        .collect();
    let adapters = FieldKind::Select(
        open.iter()
            .filter(|c| c.kind == ContractKind::ServiceAdapter)
            .map(|c| {
                (
                    c.id.clone(),
                    format!("{} ({})", describe(lang, c), short(&c.id)),
                )
            })
            .collect(),
    );
    let managements = FieldKind::Select(
        std::iter::once((String::new(), "—".to_owned()))
            .chain(
                open.iter()
                    .filter(|c| c.kind == ContractKind::Management)
                    .map(|c| {
                        (
                            c.id.clone(),
                            format!("{} ({})", describe(lang, c), short(&c.id)),
                        )
                    }),
            )
            .collect(),
    );
    let options = |only: Option<OptionKind>| {
        FieldKind::Select(
            open.iter()
                .flat_map(|c| c.options.iter().map(move |o| (c, o)))
                .filter(|(_, o)| o.status != Status::Ended && only.is_none_or(|k| o.kind == k))
                .map(|(c, o)| {
                    (
                        o.id.clone(),
                        format!(
                            "{} — {} ({})",
                            lang.pick(o.kind.label_ja(), o.kind.label_en()),
                            describe(lang, c),
                            short(&o.id)
                        ),
                    )
                })
                .collect(),
        )
    };
    let groups = |optional: bool| {
        let mut ids: Vec<String> = open
            .iter()
            .flat_map(|c| c.options.iter())
            .filter_map(|o| o.group_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        FieldKind::Select(
            optional
                .then(|| (String::new(), "—".to_owned()))
                .into_iter()
                .chain(ids.into_iter().map(|g| (g.clone(), short(&g))))
                .collect(),
        )
    };
    let items = FieldKind::Select(labelled(
        lang,
        &Item::ALL,
        Item::as_str,
        Item::label_ja,
        Item::label_en,
    ));
    let usage = |optional: bool| {
        FieldKind::Select(
            optional
                .then(|| (String::new(), "—".to_owned()))
                .into_iter()
                .chain(labelled(
                    lang,
                    &MobileUsageType::ALL,
                    MobileUsageType::as_str,
                    MobileUsageType::label_ja,
                    MobileUsageType::label_en,
                ))
                .collect(),
        )
    };
    let network = |optional: bool| {
        FieldKind::Select(
            optional
                .then(|| (String::new(), "—".to_owned()))
                .into_iter()
                .chain(labelled(
                    lang,
                    &NetworkType::ALL,
                    NetworkType::as_str,
                    NetworkType::label_ja,
                    NetworkType::label_en,
                ))
                .collect(),
        )
    };
    match kind {
        "apply_contract" => vec![
            field(
                "contract_kind",
                t.field_contract_kind,
                FieldKind::Select(labelled(
                    lang,
                    &ContractKind::ALL,
                    ContractKind::as_str,
                    ContractKind::label_ja,
                    ContractKind::label_en,
                )),
                true,
            ),
            field(
                "item",
                t.field_item,
                FieldKind::Select(
                    std::iter::once((String::new(), "—".to_owned()))
                        .chain(labelled(
                            lang,
                            &Item::ALL,
                            Item::as_str,
                            Item::label_ja,
                            Item::label_en,
                        ))
                        .collect(),
                ),
                false,
            ),
            field(
                "device_type",
                t.field_device_type,
                FieldKind::Select(
                    std::iter::once((String::new(), "—".to_owned()))
                        .chain(
                            DeviceType::ALL
                                .iter()
                                .map(|d| (d.as_str().to_owned(), d.as_str().to_owned())),
                        )
                        .collect(),
                ),
                false,
            ),
            field("management_id", t.field_management, managements, false),
        ],
        "change_item" => vec![
            field("contract_id", t.field_contract, adapters, true),
            field("item", t.field_item, items, true),
        ],
        "add_option" => vec![
            field("contract_id", t.field_contract, adapters, true),
            field(
                "option_kind",
                t.field_option_kind,
                FieldKind::Select(labelled(
                    lang,
                    &OptionKind::ALL,
                    OptionKind::as_str,
                    OptionKind::label_ja,
                    OptionKind::label_en,
                )),
                true,
            ),
            field(
                "install_address",
                t.field_install_address,
                FieldKind::Text,
                false,
            ),
            field("usage_type", t.field_usage_type, usage(true), false),
            field("network_type", t.field_network_type, network(true), false),
            field("group_id", t.field_join_group, groups(true), false),
            field(
                "new_group_pack_gb",
                t.field_new_group_pack,
                FieldKind::Number,
                false,
            ),
        ],
        "change_usage_type" => vec![
            field(
                "option_id",
                t.field_option,
                options(Some(OptionKind::MobileAccess)),
                true,
            ),
            field("usage_type", t.field_usage_type, usage(false), true),
            field("group_id", t.field_join_group, groups(true), false),
            field(
                "new_group_pack_gb",
                t.field_new_group_pack,
                FieldKind::Number,
                false,
            ),
        ],
        "change_network_type" => vec![
            field(
                "option_id",
                t.field_option,
                options(Some(OptionKind::MobileAccess)),
                true,
            ),
            field("network_type", t.field_network_type, network(false), true),
        ],
        "change_pack" => vec![
            field("group_id", t.field_group, groups(false), true),
            field("pack_gb", t.field_pack_gb, FieldKind::Number, true),
        ],
        "stop_option" => vec![
            field("option_id", t.field_option, options(None), true),
            field("requested_on", t.field_requested_on, FieldKind::Date, false),
        ],
        "stop_group" => vec![
            field("group_id", t.field_group, groups(false), true),
            field("requested_on", t.field_requested_on, FieldKind::Date, false),
        ],
        "notify_serial" => vec![
            field("contract_id", t.field_contract, adapters, true),
            field("serial", t.field_serial, FieldKind::Text, true),
        ],
        "report_failure" => vec![
            field("contract_id", t.field_contract, adapters, true),
            field("description", t.field_description, FieldKind::Text, false),
        ],
        "report_loss" => vec![field("contract_id", t.field_contract, adapters, true)],
        _ => Vec::new(),
    }
}

/// The API's JSON for a request form: empty fields are left out, numbers are numbers, and the
/// group fields make the `group` object.
fn request_json(kind: &str, form: &std::collections::HashMap<String, String>) -> Value {
    let mut body = Map::new();
    body.insert("kind".into(), Value::String(kind.to_owned()));
    let mut group = Map::new();
    for (k, v) in form {
        let v = v.trim();
        if v.is_empty() || k == "csrf" || k == "kind" || k == "contractor" {
            continue;
        }
        let value = match k.as_str() {
            "pack_gb" | "new_group_pack_gb" => v
                .parse::<u64>()
                .map_or_else(|_| Value::String(v.to_owned()), Value::from),
            _ => Value::String(v.to_owned()),
        };
        match k.as_str() {
            "group_id" if kind != "change_pack" && kind != "stop_group" => {
                group.insert(k.clone(), value);
            }
            "new_group_pack_gb" => {
                group.insert(k.clone(), value);
            }
            _ => {
                body.insert(k.clone(), value);
            }
        }
    }
    if !group.is_empty() {
        body.insert("group".into(), Value::Object(group));
    }
    Value::Object(body)
}

#[derive(Deserialize)]
struct NewRequestQuery {
    kind: Option<String>,
    contractor: Option<String>,
    contract_id: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "web/contractor/request_form.html")]
struct RequestForm {
    c: Chrome,
    kind: String,
    contractor: String,
    fields: Vec<Field>,
    problem: Option<Shown>,
}

async fn request_form(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<NewRequestQuery>,
) -> WebResult {
    // An operator coming from a contract's page works for that contract's contractor.
    let asked = match (&q.contractor, &q.contract_id) {
        (None, Some(id)) if session.is_operator() => Some(
            contracts::get(
                State(state.clone()),
                session.caller(),
                Path(id.clone()),
                Params(contracts::AsOf { as_of: None }),
            )
            .await?
            .0
            .contractor_id,
        ),
        _ => q.contractor.clone(),
    };
    let contractor = contractor_of(&session, asked.as_deref())?;
    let kind = q.kind.unwrap_or_else(|| "change_item".into());
    let mut prefill = std::collections::HashMap::new();
    if let Some(c) = q.contract_id {
        prefill.insert("contract_id".to_owned(), c);
    }
    request_form_page(&state, &session, &contractor, &kind, &prefill, None).await
}

async fn request_form_page(
    state: &AppState,
    session: &Session,
    contractor: &str,
    kind: &str,
    values: &std::collections::HashMap<String, String>,
    problem: Option<Shown>,
) -> WebResult {
    if !FORM_KINDS.contains(&kind) {
        return Err(WebError(ApiError::not_found()));
    }
    let lang = session.lang;
    let contracts = contracts_of(state, session, contractor, None).await?;
    let mut fields = fields_of(lang, kind, &contracts);
    for f in &mut fields {
        if let Some(v) = values.get(f.name) {
            f.value = v.clone();
        }
        f.error = problem
            .as_ref()
            .and_then(|p| {
                p.field(f.name)
                    .or_else(|| p.field(&format!("request.{}", f.name)))
            })
            .map(str::to_owned);
    }
    let failed = problem.is_some();
    let kind_label = super::i18n::request_kind(lang, kind).to_owned();
    let mut page = render(RequestForm {
        c: session.chrome(&kind_label, Section::Requests),
        kind: kind.to_owned(),
        contractor: if session.is_operator() {
            contractor.to_owned()
        } else {
            String::new()
        },
        fields,
        problem,
    });
    if failed {
        *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}

/// Submits a request made with the generic form; a refusal shows next to the form with its
/// rule.
async fn submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> WebResult {
    session.check_csrf(form.get("csrf").map_or("", String::as_str))?;
    let contractor = contractor_of(&session, form.get("contractor").map(String::as_str))?;
    let kind = form.get("kind").cloned().unwrap_or_default();
    if !FORM_KINDS.contains(&kind.as_str()) {
        return Err(WebError(ApiError::not_found()));
    }
    let body = json!({ "request": request_json(&kind, &form) });
    match requests::submit(
        State(state.clone()),
        session.caller(),
        Path(contractor.clone()),
        JsonBody::from_json(&body),
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/console/requests?submitted=1{}",
            operator_suffix(&session, &contractor)
        ))),
        Err(e) => {
            let shown = Shown::of(session.lang, &e);
            request_form_page(&state, &session, &contractor, &kind, &form, Some(shown)).await
        }
    }
}

/// A device as the contractor sees it, with its week of availability.
pub struct DeviceRow {
    pub serial: String,
    pub model: String,
    pub state: &'static str,
    pub state_class: &'static str,
    pub firmware: String,
    pub last_heartbeat: String,
    pub chart: String,
}

#[derive(askama::Template)]
#[template(path = "web/contractor/devices.html")]
struct DevicesPage {
    c: Chrome,
    table: Paged<DeviceRow>,
    custody: Vec<(String, String, &'static str, String, bool)>,
}

#[derive(Deserialize)]
struct PageQuery {
    contractor: Option<String>,
    page: Option<usize>,
}

/// `/console/devices`: UP/DOWN with a week of availability per device, and custody (return
/// deadlines, R10.3).
async fn device_list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<PageQuery>,
) -> WebResult {
    let lang = session.lang;
    let t = session.t();
    if let Some(to) = choose_contractor(&session, &q.contractor) {
        return Ok(to);
    }
    let contractor = contractor_of(&session, q.contractor.as_deref())?;
    let monitored = monitoring::list(
        State(state.clone()),
        session.caller(),
        Params(monitoring::MonitorParams {
            state: None,
            contractor_id: Some(contractor.clone()),
            model: None,
            firmware: None,
        }),
    )
    .await?
    .0
    .devices;
    let table = paged(monitored, q.page);
    let now = jiff::Timestamp::now().as_second();
    let week_ago = now - 7 * 86_400;
    let mut rows = Vec::new();
    for d in table.rows {
        let history = monitoring::history(
            State(state.clone()),
            session.caller(),
            Path(d.serial.clone()),
        )
        .await?
        .0
        .changes;
        rows.push(DeviceRow {
            chart: charts::availability(&stretches(&history, now), week_ago, now, t.up, t.down),
            state: match d.state.as_str() {
                "up" => t.up,
                "down" => t.down,
                _ => t.never_seen,
            },
            state_class: match d.state.as_str() {
                "up" => "up",
                "down" => "down",
                _ => "pending",
            },
            serial: d.serial,
            model: d.model,
            firmware: d.firmware.unwrap_or_else(|| "—".into()),
            last_heartbeat: d
                .last_heartbeat
                .map_or_else(|| "—".into(), |h| format::clock_text(&h)),
        });
    }
    let custody = devices::list_of_contractor(
        State(state.clone()),
        session.caller(),
        Path(contractor),
        Params(contracts::AsOf { as_of: None }),
    )
    .await?
    .0
    .devices
    .into_iter()
    .map(|d| {
        (
            d.serial,
            d.device_type.as_str().to_owned(),
            lang.device_state(d.state),
            d.return_due
                .map_or_else(|| "—".into(), |r| format::date_text(lang, &r)),
            d.overdue,
        )
    })
    .collect();
    Ok(render(DevicesPage {
        c: session.chrome(t.nav_devices, Section::Devices),
        table: Paged {
            rows,
            previous: table.previous,
            next: table.next,
        },
        custody,
    }))
}

/// An instant as Tokyo wall-clock time (the preset editor's history uses it too).
pub use super::format::clock_text as local_time;

/// State changes (oldest first) as stretches up to `now`, in seconds.
pub fn stretches(
    changes: &[mpc_api_types::controller::StateChangeView],
    now: i64,
) -> Vec<charts::Stretch> {
    let at = |s: &str| {
        s.parse::<jiff::Timestamp>()
            .map(|t| t.as_second())
            .unwrap_or(now)
    };
    changes
        .iter()
        .enumerate()
        .map(|(i, c)| charts::Stretch {
            from: at(&c.at),
            to: changes.get(i + 1).map_or(now, |n| at(&n.at)),
            up: c.state == "up",
        })
        .collect()
}

#[derive(Deserialize)]
struct MonthQuery {
    contractor: Option<String>,
    month: Option<String>,
}

/// One SIM's month as shown.
pub struct SimShown {
    pub contract: String,
    pub iccids: String,
    pub plan: String,
    pub used: String,
    pub limit: String,
    pub throttled: bool,
    pub chart: String,
}

#[derive(askama::Template)]
#[template(path = "web/contractor/mobile.html")]
struct MobilePage {
    c: Chrome,
    month: String,
    sims: Vec<SimShown>,
    groups: Vec<SimShown>,
}

/// `/console/mobile?month=`: each SIM's use in the month against its cap (R9.3), day by day.
async fn mobile_use(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<MonthQuery>,
) -> WebResult {
    let lang = session.lang;
    let t = session.t();
    if let Some(to) = choose_contractor(&session, &q.contractor) {
        return Ok(to);
    }
    let contractor = contractor_of(&session, q.contractor.as_deref())?;
    let month = q
        .month
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| today()[..7].to_owned());
    let contracts = contracts_of(&state, &session, &contractor, None).await?;
    let mut sims = Vec::new();
    for c in contracts
        .iter()
        .filter(|c| c.options.iter().any(|o| o.kind == OptionKind::MobileAccess))
    {
        let usage = mobile::contract_usage(
            State(state.clone()),
            session.caller(),
            Path(c.id.clone()),
            Params(mobile::MonthParams {
                month: Some(month.clone()),
            }),
        )
        .await?
        .0;
        for s in usage.sims {
            let plan = s
                .usage_type
                .as_deref()
                .and_then(|u| u.parse::<MobileUsageType>().ok())
                .map_or_else(
                    || "—".to_owned(),
                    |u| lang.pick(u.label_ja(), u.label_en()).to_owned(),
                );
            let days: Vec<u64> = s.days.iter().map(|d| d.bytes).collect();
            sims.push(SimShown {
                contract: format!("{} ({})", describe(lang, c), short(&c.id)),
                iccids: s.iccids.join(", "),
                plan,
                used: charts::gigabytes(s.used_bytes),
                limit: s
                    .cap_bytes
                    .map_or_else(|| "—".to_owned(), charts::gigabytes),
                throttled: s.throttle.is_some(),
                chart: charts::usage(&days, s.cap_bytes, t.mobile_use_chart, t.mobile_cap),
            });
        }
    }
    // Packet share groups: pooled use of the members against the pack in force (R9.6).
    let mut group_ids: Vec<String> = contracts
        .iter()
        .flat_map(|c| c.options.iter())
        .filter_map(|o| o.group_id.clone())
        .collect();
    group_ids.sort();
    group_ids.dedup();
    let mut groups = Vec::new();
    for g in group_ids {
        let usage = mobile::group_usage(
            State(state.clone()),
            session.caller(),
            Path(g.clone()),
            Params(mobile::MonthParams {
                month: Some(month.clone()),
            }),
        )
        .await?
        .0;
        let days: Vec<u64> = usage.days.iter().map(|d| d.bytes).collect();
        groups.push(SimShown {
            contract: format!("{} {}", t.field_group, short(&g)),
            iccids: usage
                .members
                .iter()
                .map(|m| short(&m.option_id))
                .collect::<Vec<_>>()
                .join(", "),
            plan: usage
                .pack_gb
                .map_or_else(|| "—".to_owned(), |gb| format!("{gb} GB")),
            used: charts::gigabytes(usage.used_bytes),
            limit: usage
                .pack_bytes
                .map_or_else(|| "—".to_owned(), charts::gigabytes),
            throttled: usage.members.iter().any(|m| m.throttle.is_some()),
            chart: charts::usage(&days, usage.pack_bytes, t.mobile_use_chart, t.mobile_pack),
        });
    }
    Ok(render(MobilePage {
        c: session.chrome(t.nav_mobile, Section::Mobile),
        month,
        sims,
        groups,
    }))
}

/// An invoice as listed.
pub struct InvoiceRow {
    pub id: String,
    pub number: String,
    pub month: String,
    pub recipient: String,
    pub issue_date: String,
    pub due_date: String,
    pub total: String,
    pub status: String,
}

#[derive(askama::Template)]
#[template(path = "web/contractor/invoices.html")]
struct InvoicesPage {
    c: Chrome,
    month: String,
    table: Paged<InvoiceRow>,
}

#[derive(Deserialize)]
struct InvoicesQuery {
    month: Option<String>,
    page: Option<usize>,
}

/// `/console/invoices?month=`: the caller's invoices (all contractors' for operators).
async fn invoice_list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<InvoicesQuery>,
) -> WebResult {
    let lang = session.lang;
    let month = q.month.filter(|m| !m.is_empty());
    let list = billing::invoices(
        State(state.clone()),
        session.caller(),
        Params(billing::InvoiceParams {
            month: month.clone(),
            account_id: None,
        }),
    )
    .await?
    .0
    .invoices;
    let t = session.t();
    let rows = list
        .into_iter()
        .rev()
        .map(|i| InvoiceRow {
            status: match i.status.as_str() {
                "paid" => t.invoice_paid,
                "defaulted" => t.invoice_defaulted,
                "draft" => t.invoice_draft,
                _ => t.invoice_open,
            }
            .to_owned(),
            id: i.id,
            number: i.number,
            month: i.month,
            recipient: i.recipient_name,
            issue_date: format::date_text(lang, &i.issue_date),
            due_date: format::date_text(lang, &i.due_date),
            total: format::yen(lang, i.total),
        })
        .collect();
    Ok(render(InvoicesPage {
        c: session.chrome(t.nav_invoices, Section::Invoices),
        month: month.unwrap_or_default(),
        table: paged(rows, q.page),
    }))
}

#[derive(askama::Template)]
#[template(path = "web/contractor/invoice.html")]
struct InvoicePage {
    c: Chrome,
    id: String,
    row: InvoiceRow,
    issuer: String,
    registration: String,
    subtotal: String,
    rates: Vec<(i64, String, String)>,
    lines: Vec<(String, String, String, String, String)>,
}

/// `/console/invoices/{id}`: a qualified invoice's lines and tax per rate (B1–B4).
async fn invoice_page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> WebResult {
    let lang = session.lang;
    let t = session.t();
    let v = billing::invoice(State(state), session.caller(), Path(id.clone()))
        .await?
        .0;
    let s = &v.summary;
    Ok(render(InvoicePage {
        c: session.chrome(&format!("{} {}", t.invoice, s.number), Section::Invoices),
        id,
        row: InvoiceRow {
            id: s.id.clone(),
            number: s.number.clone(),
            month: s.month.clone(),
            recipient: s.recipient_name.clone(),
            issue_date: format::date_text(lang, &s.issue_date),
            due_date: format::date_text(lang, &s.due_date),
            total: format::yen(lang, s.total),
            status: s.status.clone(),
        },
        issuer: v.issuer.name.clone(),
        registration: v.issuer.registration_number.clone(),
        subtotal: format::yen(lang, s.subtotal),
        rates: v
            .totals_by_rate
            .iter()
            .map(|r| {
                (
                    r.rate_percent,
                    format::yen(lang, r.taxable),
                    format::yen(lang, r.tax),
                )
            })
            .collect(),
        lines: v
            .lines
            .iter()
            .map(|l| {
                (
                    l.description.clone(),
                    short(&l.contract_id),
                    if l.period_from == l.period_to {
                        format::date_text(lang, &l.period_from)
                    } else {
                        format!(
                            "{} – {}",
                            format::date_text(lang, &l.period_from),
                            format::date_text(lang, &l.period_to)
                        )
                    },
                    l.rule.clone(),
                    format::yen(lang, l.amount),
                )
            })
            .collect(),
    }))
}

/// The printable qualified invoice (Japanese, as the law asks).
async fn invoice_print(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> WebResult<Response> {
    use axum::response::IntoResponse;
    Ok(billing::print(State(state), session.caller(), Path(id))
        .await?
        .into_response())
}

/// A consent a contractor gives or waits for.
pub struct ConsentRow {
    pub what: &'static str,
    pub subject: String,
    pub requested_on: String,
    pub state: String,
    /// The form's action when this contractor may consent now.
    pub consent_action: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "web/contractor/consents.html")]
struct ConsentsPage {
    c: Chrome,
    rows: Vec<ConsentRow>,
    problem: Option<Shown>,
}

/// `/console/consents`: designations of a management (R6.2) and invoice redirects (R6.3), with
/// the consent this contractor can give.
async fn consents(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<PageQuery>,
) -> WebResult {
    if let Some(to) = choose_contractor(&session, &q.contractor) {
        return Ok(to);
    }
    let contractor = contractor_of(&session, q.contractor.as_deref())?;
    consents_page(&state, &session, &contractor, None).await
}

async fn consents_page(
    state: &AppState,
    session: &Session,
    contractor: &str,
    problem: Option<Shown>,
) -> WebResult {
    let lang = session.lang;
    let t = session.t();
    let contracts = contracts_of(state, session, contractor, None).await?;
    let mine = |id: &str| contracts.iter().any(|c| c.id == id);
    let state_of = |consented: &Option<String>, ended: &Option<String>| match (consented, ended) {
        (_, Some(e)) => format!("{} {}", t.status_ended, format::date_text(lang, e)),
        (Some(c), None) => format!("{} {}", t.consented, format::date_text(lang, c)),
        (None, None) => t.awaiting_consent.to_owned(),
    };
    let mut rows = Vec::new();
    for d in crate::api::v1::parties::designations(
        State(state.clone()),
        session.caller(),
        Path(contractor.to_owned()),
    )
    .await?
    .0
    .designations
    {
        let pending = d.consented_on.is_none() && d.withdrawn_on.is_none();
        rows.push(ConsentRow {
            what: t.designation,
            subject: short(&d.management_contract_id),
            requested_on: format::date_text(lang, &d.requested_on),
            state: state_of(&d.consented_on, &d.withdrawn_on),
            consent_action: (pending && mine(&d.management_contract_id))
                .then(|| format!("/console/consents/designations/{}", d.id)),
        });
    }
    for c in contracts
        .iter()
        .filter(|c| c.kind == ContractKind::Management)
    {
        for r in crate::api::v1::parties::redirects(
            State(state.clone()),
            session.caller(),
            Path(c.id.clone()),
        )
        .await?
        .0
        .invoice_redirects
        {
            let pending = r.consented_on.is_none() && r.ended_on.is_none();
            rows.push(ConsentRow {
                what: t.invoice_redirect,
                subject: short(&r.management_contract_id),
                requested_on: format::date_text(lang, &r.requested_on),
                state: state_of(&r.consented_on, &r.ended_on),
                consent_action: (pending && r.target_contractor_id == contractor)
                    .then(|| format!("/console/consents/redirects/{}", r.id)),
            });
        }
    }
    Ok(render(ConsentsPage {
        c: session.chrome(t.nav_consents, Section::Consents),
        rows,
        problem,
    }))
}

async fn consent(
    State(state): State<AppState>,
    session: Session,
    Path((what, id)): Path<(String, String)>,
    Form(form): Form<Csrf>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    let body = JsonBody::from_json(&json!({}));
    let done = match what.as_str() {
        "designations" => crate::api::v1::parties::consent_designation(
            State(state.clone()),
            session.caller(),
            Path(id),
            body,
        )
        .await
        .map(drop),
        "redirects" => crate::api::v1::parties::consent_redirect(
            State(state.clone()),
            session.caller(),
            Path(id),
            body,
        )
        .await
        .map(drop),
        _ => Err(ApiError::not_found()),
    };
    match done {
        Ok(()) => Ok(see_other("/console/consents")),
        Err(e) => {
            let contractor = contractor_of(&session, None)?;
            let shown = Shown::of(session.lang, &e);
            consents_page(&state, &session, &contractor, Some(shown)).await
        }
    }
}
