//! `/console/contracts` and `/console/contracts/{id}`: contracts as of a day, one with its
//! options and journal timeline.

use axum::extract::{Path, Query, State};
use axum_extra::extract::Form;
use mpc_api_types::contracts::{ContractPatch, OptionView};
use mpc_domain::book::Status;
use mpc_domain::catalog::{ContractKind, DeviceType, Item, OptionKind};
use serde::Deserialize;

use crate::app::timeline::Happening;
use crate::web::format;
use crate::web::i18n::Lang;
use crate::web::session::Section;
use crate::web::{Chrome, Session, Shown, WebResult, contract_name, render, see_other};
use crate::{AppState, app};
use axum::response::IntoResponse;

use super::{
    ContractRow, Paged, choose_contractor, contract_row, contractor_of, contracts_of, paged,
    status_class, today,
};

#[derive(Deserialize)]
pub(super) struct ListQuery {
    contractor: Option<String>,
    as_of: Option<String>,
    sort: Option<String>,
    page: Option<usize>,
    /// `pending`, `active` or `ended`.
    status: Option<String>,
    /// An item's wire name.
    item: Option<String>,
    /// A device type's wire name.
    device: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "web/contractor/contracts.html")]
struct ContractsPage {
    c: Chrome,
    contractor: String,
    as_of: String,
    sort: String,
    status: String,
    item: String,
    device: String,
    /// `&status=…&item=…&device=…` of the filters set, for the sort links.
    filters: String,
    statuses: Vec<(&'static str, &'static str)>,
    items: Vec<(&'static str, &'static str)>,
    devices: Vec<&'static str>,
    table: Paged<ContractRow>,
}

/// `/console/contracts?as_of=&status=&item=&device=&sort=&page=`: the contractor's contracts
/// as of a day, narrowed by status, item and device type.
pub(super) async fn contract_list(
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
    let given = |v: Option<String>| v.filter(|v| !v.is_empty()).unwrap_or_default();
    let (status, item, device) = (given(q.status), given(q.item), given(q.device));
    contracts.retain(|c| {
        (status.is_empty() || status_class(c.status) == status)
            && (item.is_empty() || c.item.is_some_and(|i| i.as_str() == item))
            && (device.is_empty() || c.device_type.is_some_and(|d| d.as_str() == device))
    });
    let filters: String = [("status", &status), ("item", &item), ("device", &device)]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("&{k}={}", crate::web::urlencode(v)))
        .collect();
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
        statuses: [Status::Pending, Status::Active, Status::Ended]
            .into_iter()
            .map(|s| (status_class(s), lang.status(s)))
            .collect(),
        items: Item::ALL
            .into_iter()
            .map(|i| (i.as_str(), lang.pick(i.label_ja(), i.label_en())))
            .collect(),
        devices: DeviceType::ALL
            .into_iter()
            .map(DeviceType::as_str)
            .collect(),
        status,
        item,
        device,
        filters,
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

/// An item of a contract with the day it took (or takes) effect (R8.1).
pub struct ItemRow {
    pub from: String,
    pub item: String,
}

/// One event of a contract's life, on the day it takes effect.
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
    items: Vec<ItemRow>,
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
    /// The label as typed, shown again with `label_error` when it was refused.
    label_value: String,
    label_error: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct AsOfQuery {
    as_of: Option<String>,
}

/// One event of the timeline in the page's language (R4.1, R8.1, R9, R11, R12, R13).
fn event_text(lang: Lang, h: &Happening) -> String {
    let t = lang.t();
    let with = |label: &str, detail: &str| format!("{label}: {detail}");
    match h {
        Happening::Applied => t.tl_applied.to_owned(),
        Happening::Accepted => t.tl_accepted.to_owned(),
        Happening::BillingStarted => t.tl_billing_start.to_owned(),
        Happening::ItemChanged(i) => with(t.tl_item_changed, lang.pick(i.label_ja(), i.label_en())),
        Happening::OptionAdded(o) => with(t.tl_option_added, lang.pick(o.label_ja(), o.label_en())),
        Happening::OptionEnded(o) => with(t.tl_option_ended, lang.pick(o.label_ja(), o.label_en())),
        Happening::UsageTypeChanged(u) => with(
            t.tl_usage_type_changed,
            lang.pick(u.label_ja(), u.label_en()),
        ),
        Happening::NetworkTypeChanged(n) => with(
            t.tl_network_type_changed,
            lang.pick(n.label_ja(), n.label_en()),
        ),
        Happening::SerialNotified(serial) => with(t.tl_serial_notified, serial),
        Happening::FailureReplaced => t.tl_failure_replaced.to_owned(),
        Happening::Lost => t.tl_lost.to_owned(),
        Happening::CancellationNotified => t.tl_cancellation_notified.to_owned(),
        Happening::Ended(reason) => with(t.tl_ended, lang.end_reason(*reason)),
    }
}

/// `/console/contracts/{id}?as_of=`: a contract with its options and its journal timeline.
pub(super) async fn contract_page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> WebResult {
    let as_of = q.as_of.filter(|d| !d.is_empty()).unwrap_or_else(today);
    show_contract(&state, &session, &id, as_of, None).await
}

/// The contract page; `refused` is a label as typed and why it was refused, shown next to
/// the field.
async fn show_contract(
    state: &AppState,
    session: &Session,
    id: &str,
    as_of: String,
    refused: Option<(String, String)>,
) -> WebResult {
    let lang = session.lang;
    let c = app::contracts::get(state, &session.caller(), id, Some(&as_of)).await?;
    // The page may be asked for by number: the timeline names the contract by id.
    let id = c.id.clone();
    let events = app::timeline::timeline(state, &session.caller(), &id)
        .await?
        .into_iter()
        .map(|e| Event {
            at: format::date_text(lang, &e.on.to_string()),
            what: event_text(lang, &e.happening),
            who: e.by_name.or(e.by).unwrap_or_else(|| "—".into()),
        })
        .collect();
    Ok(render(ContractPage {
        c: session.chrome(
            &format!(
                "{} {}",
                session.t().contract,
                contract_name(c.number, &c.label, &c.id)
            ),
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
            .map(|i| ItemRow {
                from: format::date_text(lang, &i.from),
                item: lang.pick(i.value.label_ja(), i.value.label_en()).to_owned(),
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
        label_value: refused
            .as_ref()
            .map_or_else(|| c.label.clone(), |(v, _)| v.clone()),
        label_error: refused.map(|(_, e)| e),
    }))
}

#[derive(Deserialize)]
pub(super) struct LabelForm {
    csrf: String,
    label: String,
}

/// `POST /console/contracts/{id}/label`: sets the site label, then shows the contract again.
pub(super) async fn set_label(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<LabelForm>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    let set = app::contracts::set_label(
        &state,
        &session.caller(),
        &id,
        app::Input::Value(ContractPatch {
            label: form.label.clone(),
        }),
    )
    .await;
    match set {
        Ok(c) => Ok(see_other(&format!("/console/contracts/{}", c.id))),
        Err(e) if e.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => {
            let shown = Shown::of(session.lang, &e);
            let message = shown
                .field("label")
                .map_or_else(|| shown.message.clone(), str::to_owned);
            let page =
                show_contract(&state, &session, &id, today(), Some((form.label, message))).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
