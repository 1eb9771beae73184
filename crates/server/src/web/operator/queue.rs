//! `/console/queue`: what waits for an operator — pending requests to accept or reject, paper
//! notices to record for a contractor, devices awaiting return and overdue returns.

use axum::extract::{Path, Query, State};
use axum_extra::extract::Form;
use mpc_api_types::contracts::{DeviceView, RequestView};
use mpc_domain::request::Request;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Pager, Sort, body, confirmed, contractor_names, date_field, field_problem, href, month_label,
    only_operators, page_of, pager, refusal, render_form, short, unconfirmed,
};
use crate::api::v1::support::today;
use crate::api::v1::{self, contractors, devices, journal, monitoring, requests};
use crate::error::ApiError;
use crate::extract::Params;
use crate::web::i18n::{Lang, request_kind};
use crate::web::session::Section;
use crate::web::{Chrome, Session, Shown, WebResult, render, see_other};
use crate::{AppState, app};

/// How much waits, for the dashboard and the top of the queue.
pub struct Counts {
    pub pending: usize,
    pub awaiting: usize,
    pub overdue: usize,
    /// Devices serving a contract that are DOWN.
    pub down: usize,
    pub claims: usize,
    /// The month of the latest billing run, as `YYYY-MM` and as people read it.
    pub latest_month: Option<(String, String)>,
}

impl Counts {
    pub async fn gather(state: &AppState, session: &Session) -> WebResult<Counts> {
        let pending = pending(state, session).await?.len();
        let devices = awaiting(state, session).await?;
        Counts::with(state, session, pending, &devices).await
    }

    async fn with(
        state: &AppState,
        session: &Session,
        pending: usize,
        devices: &[DeviceView],
    ) -> WebResult<Counts> {
        let down = monitoring::list(
            State(state.clone()),
            session.caller(),
            Params(monitoring::MonitorParams {
                state: Some("down".into()),
                contractor_id: None,
                model: None,
                firmware: None,
            }),
        )
        .await?
        .0
        .devices
        .iter()
        .filter(|d| d.contractor_id.is_some())
        .count();
        let claims = super::sla::all_claims(state, session)
            .await?
            .iter()
            .filter(|c| c.status == "pending")
            .count();
        let latest = journal::list(
            State(state.clone()),
            session.caller(),
            Params(journal::ListParams {
                operation: Some("billing.run".into()),
                actor: None,
                contractor_id: None,
                subject: None,
                before: None,
                limit: Some(1),
            }),
        )
        .await?
        .0
        .entries
        .into_iter()
        .next()
        .and_then(|e| e.subject);
        Ok(Counts {
            pending,
            awaiting: devices.len(),
            overdue: devices.iter().filter(|d| d.overdue).count(),
            down,
            claims,
            latest_month: latest.map(|m| {
                let label = month_label(session.lang, &m);
                (m, label)
            }),
        })
    }
}

/// Every pending request, oldest first (the API's order), through all its pages.
async fn pending(state: &AppState, session: &Session) -> WebResult<Vec<RequestView>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = requests::list(
            State(state.clone()),
            session.caller(),
            Params(requests::ListParams {
                status: Some("pending".into()),
                contractor_id: None,
                after: after.take(),
                limit: Some(v1::MAX_LIMIT),
            }),
        )
        .await?
        .0;
        out.extend(page.requests);
        match page.next_cursor {
            Some(c) => after = Some(c),
            None => return Ok(out),
        }
    }
}

/// Devices released from their contracts and not back yet, as of today.
async fn awaiting(state: &AppState, session: &Session) -> WebResult<Vec<DeviceView>> {
    Ok(devices::awaiting_return(
        State(state.clone()),
        session.caller(),
        Params(v1::contracts::AsOf { as_of: None }),
    )
    .await?
    .0
    .devices)
}

fn status_label(lang: Lang, status: &str) -> &'static str {
    let t = lang.t();
    match status {
        "pending" => t.request_pending,
        "accepted" => t.request_accepted,
        "rejected" => t.request_rejected,
        _ => t.request_withdrawn,
    }
}

/// One thing a request names, with a link when it is a contract.
pub struct Fact {
    pub label: &'static str,
    pub value: String,
    pub href: Option<String>,
    /// Whether the value is an id (the queue shows its first characters only).
    id: bool,
}

fn fact(label: &'static str, value: impl Into<String>) -> Fact {
    Fact {
        label,
        value: value.into(),
        href: None,
        id: false,
    }
}

fn id_fact(label: &'static str, id: &str) -> Fact {
    Fact {
        id: true,
        ..fact(label, id)
    }
}

fn contract_fact(label: &'static str, id: &str) -> Fact {
    Fact {
        href: Some(format!("/console/contracts/{id}")),
        ..id_fact(label, id)
    }
}

/// What a request asks, field by field, in the page's language.
fn facts(lang: Lang, r: &Request) -> Vec<Fact> {
    let t = lang.t();
    let requested = |d: &Option<jiff::civil::Date>| {
        d.map(|d| fact(t.op_requested_on, lang.date(&d.to_string())))
    };
    let mut out = Vec::new();
    match r {
        Request::ApplyContract {
            contract_kind,
            item,
            device_type,
            management_id,
        } => {
            out.push(fact(
                t.op_contract_kind,
                lang.pick(contract_kind.label_ja(), contract_kind.label_en()),
            ));
            if let Some(i) = item {
                out.push(fact(t.op_item, lang.pick(i.label_ja(), i.label_en())));
            }
            if let Some(d) = device_type {
                out.push(fact(
                    t.op_device_type,
                    lang.pick(d.label_ja(), d.label_en()),
                ));
            }
            if let Some(m) = management_id {
                out.push(contract_fact(t.op_management, m));
            }
        }
        Request::ChangeItem { contract_id, item } => {
            out.push(contract_fact(t.op_contract, contract_id));
            out.push(fact(t.op_item, lang.pick(item.label_ja(), item.label_en())));
        }
        Request::AddOption {
            contract_id,
            option_kind,
            install_address,
            usage_type,
            network_type,
            group,
        } => {
            out.push(contract_fact(t.op_contract, contract_id));
            out.push(fact(
                t.op_option_kind,
                lang.pick(option_kind.label_ja(), option_kind.label_en()),
            ));
            if let Some(a) = install_address {
                out.push(fact(t.op_install_address, a.clone()));
            }
            if let Some(u) = usage_type {
                out.push(fact(t.op_usage_type, lang.pick(u.label_ja(), u.label_en())));
            }
            if let Some(n) = network_type {
                out.push(fact(
                    t.op_network_type,
                    lang.pick(n.label_ja(), n.label_en()),
                ));
            }
            if let Some(g) = group.as_ref().and_then(|g| g.group_id.as_deref()) {
                out.push(id_fact(t.op_group, g));
            }
            if let Some(gb) = group.as_ref().and_then(|g| g.new_group_pack_gb) {
                out.push(fact(t.op_pack, format!("{gb} GB")));
            }
        }
        Request::ChangeUsageType {
            option_id,
            usage_type,
            ..
        } => {
            out.push(id_fact(t.op_option, option_id));
            out.push(fact(
                t.op_usage_type,
                lang.pick(usage_type.label_ja(), usage_type.label_en()),
            ));
        }
        Request::ChangeNetworkType {
            option_id,
            network_type,
        } => {
            out.push(id_fact(t.op_option, option_id));
            out.push(fact(
                t.op_network_type,
                lang.pick(network_type.label_ja(), network_type.label_en()),
            ));
        }
        Request::ChangePack { group_id, pack_gb } => {
            out.push(id_fact(t.op_group, group_id));
            out.push(fact(t.op_pack, format!("{pack_gb} GB")));
        }
        Request::CancelContract {
            contract_id,
            requested_on,
        } => {
            out.push(contract_fact(t.op_contract, contract_id));
            out.extend(requested(requested_on));
        }
        Request::StopOption {
            option_id,
            requested_on,
        } => {
            out.push(id_fact(t.op_option, option_id));
            out.extend(requested(requested_on));
        }
        Request::StopGroup {
            group_id,
            requested_on,
        } => {
            out.push(id_fact(t.op_group, group_id));
            out.extend(requested(requested_on));
        }
        Request::NotifySerial {
            contract_id,
            serial,
        } => {
            out.push(contract_fact(t.op_contract, contract_id));
            out.push(fact(t.op_serial, serial.clone()));
        }
        Request::ReportFailure {
            contract_id,
            description,
        } => {
            out.push(contract_fact(t.op_contract, contract_id));
            if let Some(d) = description {
                out.push(fact(t.op_description, d.clone()));
            }
        }
        Request::ReportLoss { contract_id } => out.push(contract_fact(t.op_contract, contract_id)),
    }
    out
}

/// A pending request as a row of the queue.
pub struct RequestRow {
    pub id: String,
    pub short_id: String,
    pub submitted_on: String,
    submitted_iso: String,
    pub contractor_id: String,
    pub contractor: String,
    pub kind: String,
    pub notice: bool,
    pub summary: String,
}

/// A device waiting for preset parameters as a row of the queue (R17.1).
pub struct ParametersRow {
    pub contractor_id: String,
    pub contractor: String,
    pub contract_id: String,
    pub contract_short: String,
    pub serial: String,
    /// The preset (today's item) the device would run.
    pub preset: &'static str,
    pub missing: Vec<&'static str>,
}

/// A device awaiting return as a row of the queue.
pub struct DeviceRow {
    pub serial: String,
    pub model: &'static str,
    /// The last contract it served, and the first characters of its id.
    pub contract_id: Option<(String, String)>,
    pub return_due: String,
    due_iso: String,
    pub overdue: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct QueueQuery {
    sort: Option<String>,
    after: Option<String>,
    dsort: Option<String>,
    dafter: Option<String>,
    done: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "web/operator/queue.html")]
struct QueuePage {
    c: Chrome,
    counts: Counts,
    done: Option<&'static str>,
    requests: Vec<RequestRow>,
    sort: Sort,
    pager: Pager,
    devices: Vec<DeviceRow>,
    dsort: Sort,
    dpager: Pager,
    today: String,
    found_serial: String,
    device_problem: Option<Shown>,
    parameters: Vec<ParametersRow>,
}

#[derive(askama::Template)]
#[template(path = "web/operator/queue_counts.html")]
struct CountsFragment {
    c: Chrome,
    counts: Counts,
}

pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<QueueQuery>,
) -> WebResult {
    only_operators(&session)?;
    queue_page(&state, &session, &q, None, String::new()).await
}

/// `/console/queue/counts`: the counts alone, which the queue page refreshes with htmx.
pub async fn counts_fragment(State(state): State<AppState>, session: Session) -> WebResult {
    only_operators(&session)?;
    let counts = Counts::gather(&state, &session).await?;
    Ok(render(CountsFragment {
        c: session.chrome(session.t().nav_queue, Section::Queue),
        counts,
    }))
}

async fn queue_page(
    state: &AppState,
    session: &Session,
    q: &QueueQuery,
    device_problem: Option<Shown>,
    found_serial: String,
) -> WebResult {
    let lang = session.lang;
    let t = session.t();
    let pending = pending(state, session).await?;
    let devices = awaiting(state, session).await?;
    let counts = Counts::with(state, session, pending.len(), &devices).await?;
    let waiting = app::presets::awaiting_parameters(state, &session.caller()).await?;

    let params = [
        ("sort", &q.sort),
        ("after", &q.after),
        ("dsort", &q.dsort),
        ("dafter", &q.dafter),
    ];
    // This page's address without the parameters in `drop`.
    let base_for = |drop: &[&str]| {
        let kept: Vec<(&str, &str)> = params
            .iter()
            .filter(|(k, _)| !drop.contains(k))
            .filter_map(|(k, v)| v.as_deref().map(|v| (*k, v)))
            .collect();
        href("/console/queue", &kept)
    };

    let names = contractor_names(
        state,
        session,
        pending
            .iter()
            .map(|r| r.contractor_id.clone())
            .chain(waiting.iter().map(|w| w.contractor_id.clone()))
            .collect(),
    )
    .await?;
    let parameters = waiting
        .into_iter()
        .map(|w| ParametersRow {
            contractor: names
                .get(&w.contractor_id)
                .cloned()
                .unwrap_or_else(|| w.contractor_id.clone()),
            contractor_id: w.contractor_id,
            contract_short: short(&w.contract_id),
            contract_id: w.contract_id,
            serial: w.serial,
            preset: lang.pick(w.item.label_ja(), w.item.label_en()),
            missing: w.missing,
        })
        .collect();
    let mut rows: Vec<RequestRow> = pending
        .into_iter()
        .map(|r| {
            let facts = facts(lang, &r.request);
            RequestRow {
                short_id: short(&r.id),
                submitted_on: lang.date(&r.submitted_on),
                submitted_iso: r.submitted_on.clone(),
                contractor: names
                    .get(&r.contractor_id)
                    .cloned()
                    .unwrap_or_else(|| r.contractor_id.clone()),
                contractor_id: r.contractor_id,
                kind: request_kind(lang, &r.kind).to_owned(),
                notice: r.request.is_notice(),
                summary: facts
                    .iter()
                    .map(|f| {
                        let value = if f.id {
                            short(&f.value)
                        } else {
                            f.value.clone()
                        };
                        format!("{}{}{value}", f.label, lang.t().op_colon)
                    })
                    .collect::<Vec<_>>()
                    .join(" / "),
                id: r.id,
            }
        })
        .collect();
    let sort = Sort::new(
        "sort",
        q.sort.as_deref(),
        &["submitted", "contractor", "kind"],
        base_for(&["sort", "after"]),
    );
    sort.apply(&mut rows, |r, key| match key {
        "contractor" => (0, r.contractor.clone()),
        "kind" => (0, r.kind.clone()),
        _ => (0, r.submitted_iso.clone()),
    });
    let (requests, next) = page_of(rows, q.after.as_deref());
    let requests_pager = pager(&base_for(&["after"]), "after", q.after.as_deref(), next);

    let mut drows: Vec<DeviceRow> = devices
        .into_iter()
        .map(|d| DeviceRow {
            model: lang.pick(d.device_type.label_ja(), d.device_type.label_en()),
            contract_id: d
                .assignments
                .last()
                .map(|a| (a.contract_id.clone(), short(&a.contract_id))),
            return_due: d
                .return_due
                .as_deref()
                .map(|due| lang.date(due))
                .unwrap_or_default(),
            due_iso: d.return_due.clone().unwrap_or_default(),
            overdue: d.overdue,
            serial: d.serial,
        })
        .collect();
    let dsort = Sort::new(
        "dsort",
        q.dsort.as_deref(),
        &["due", "serial"],
        base_for(&["dsort", "dafter"]),
    );
    dsort.apply(&mut drows, |d, key| match key {
        "serial" => (0, d.serial.clone()),
        _ => (0, d.due_iso.clone()),
    });
    let (devices, dnext) = page_of(drows, q.dafter.as_deref());
    let dpager = pager(&base_for(&["dafter"]), "dafter", q.dafter.as_deref(), dnext);

    let done = match q.done.as_deref() {
        Some("accepted") => Some(t.op_done_accepted),
        Some("rejected") => Some(t.op_done_rejected),
        Some("returned") => Some(t.op_done_returned),
        Some("found") => Some(t.op_done_found),
        Some("swept") => Some(t.op_done_swept),
        _ => None,
    };
    let failed = device_problem.is_some();
    Ok(render_form(
        QueuePage {
            c: session.chrome(t.nav_queue, Section::Queue),
            counts,
            done,
            requests,
            sort,
            pager: requests_pager,
            devices,
            dsort,
            dpager,
            today: today().to_string(),
            found_serial,
            device_problem,
            parameters,
        },
        failed,
    ))
}

// ---------------------------------------------------------------------------------------
// Deciding one request

struct RequestFacts {
    id: String,
    contractor_id: String,
    contractor: String,
    kind: String,
    status: &'static str,
    status_class: String,
    submitted_on: String,
    submitted_iso: String,
    submitted_by: String,
    decided_on: Option<String>,
    decided_by: Option<String>,
    facts: Vec<Fact>,
    decision: Option<String>,
    pending: bool,
    notice: bool,
    replacement: bool,
    failure: bool,
    cancel: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AcceptForm {
    csrf: String,
    on: String,
    replacement_serial: String,
    replaced_on: String,
    contractor_caused: String,
    termination: String,
    confirm: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RejectForm {
    csrf: String,
    reason: String,
    confirm: String,
}

#[derive(askama::Template)]
#[template(path = "web/operator/request.html")]
struct RequestPage {
    c: Chrome,
    r: RequestFacts,
    accept: AcceptForm,
    reject: RejectForm,
    accept_problem: Option<Shown>,
    reject_problem: Option<Shown>,
}

async fn request_facts(state: &AppState, session: &Session, id: &str) -> WebResult<RequestFacts> {
    let lang = session.lang;
    let r = requests::get(State(state.clone()), session.caller(), Path(id.to_owned()))
        .await?
        .0;
    let names = contractor_names(state, session, vec![r.contractor_id.clone()]).await?;
    let kind = r.request.kind();
    Ok(RequestFacts {
        contractor: names
            .get(&r.contractor_id)
            .cloned()
            .unwrap_or_else(|| r.contractor_id.clone()),
        kind: request_kind(lang, &r.kind).to_owned(),
        status: status_label(lang, &r.status),
        status_class: r.status.clone(),
        submitted_on: lang.date(&r.submitted_on),
        submitted_iso: r.submitted_on.clone(),
        submitted_by: r.submitted_by.clone(),
        decided_on: r.decided_on.as_deref().map(|d| lang.date(d)),
        decided_by: r.decided_by.clone(),
        facts: facts(lang, &r.request),
        decision: r
            .decision
            .as_ref()
            .map(|d| serde_json::to_string_pretty(d).unwrap_or_default()),
        pending: r.status == "pending",
        notice: r.request.is_notice(),
        replacement: matches!(kind, "report_failure" | "report_loss"),
        failure: kind == "report_failure",
        cancel: kind == "cancel_contract",
        contractor_id: r.contractor_id,
        id: r.id,
    })
}

async fn request_view(
    state: &AppState,
    session: &Session,
    id: &str,
    accept: AcceptForm,
    reject: RejectForm,
    accept_problem: Option<Shown>,
    reject_problem: Option<Shown>,
) -> WebResult {
    let r = request_facts(state, session, id).await?;
    let mut accept = accept;
    if accept.on.is_empty() && accept_problem.is_none() {
        // A notice takes effect from the day it arrived, by default the day it was submitted;
        // anything else is accepted today.
        accept.on = if r.notice {
            r.submitted_iso.clone()
        } else {
            today().to_string()
        };
    }
    let failed = accept_problem.is_some() || reject_problem.is_some();
    let title = format!("{} {}", r.kind, short(&r.id));
    Ok(render_form(
        RequestPage {
            c: session.chrome(&title, Section::Queue),
            r,
            accept,
            reject,
            accept_problem,
            reject_problem,
        },
        failed,
    ))
}

pub async fn request_page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> WebResult {
    only_operators(&session)?;
    request_view(
        &state,
        &session,
        &id,
        AcceptForm::default(),
        RejectForm::default(),
        None,
        None,
    )
    .await
}

/// The acceptance the API takes, from the form.
fn acceptance(lang: Lang, form: &AcceptForm) -> Result<Value, Shown> {
    if !confirmed(&form.confirm) {
        return Err(unconfirmed(lang));
    }
    let mut acceptance = json!({});
    if let Some(on) = date_field(lang, "on", &form.on)? {
        acceptance["on"] = json!(on.to_string());
    }
    if let Some(on) = date_field(lang, "replaced_on", &form.replaced_on)? {
        acceptance["replaced_on"] = json!(on.to_string());
    }
    let serial = form.replacement_serial.trim();
    if !serial.is_empty() {
        acceptance["replacement_serial"] = json!(serial);
    }
    if form.contractor_caused == "yes" {
        acceptance["contractor_caused"] = json!(true);
    }
    match form.termination.as_str() {
        "" => {}
        t @ ("notice" | "general_terms_art28_para2" | "general_terms_art28_para3") => {
            acceptance["termination"] = json!(t);
        }
        _ => {
            return Err(field_problem(
                lang,
                "termination",
                lang.t().op_choose_from_list,
            ));
        }
    }
    Ok(acceptance)
}

pub async fn accept(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<AcceptForm>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    only_operators(&session)?;
    let lang = session.lang;
    let problem = match acceptance(lang, &form) {
        Ok(acceptance) => match requests::accept(
            State(state.clone()),
            session.caller(),
            Path(id.clone()),
            body(acceptance),
        )
        .await
        {
            Ok(_) => return Ok(see_other("/console/queue?done=accepted")),
            Err(e) => refusal(lang, e)?,
        },
        Err(shown) => shown,
    };
    request_view(
        &state,
        &session,
        &id,
        form,
        RejectForm::default(),
        Some(problem),
        None,
    )
    .await
}

pub async fn reject(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<RejectForm>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    only_operators(&session)?;
    let lang = session.lang;
    let problem = if confirmed(&form.confirm) {
        match requests::reject(
            State(state.clone()),
            session.caller(),
            Path(id.clone()),
            body(json!({ "reason": form.reason })),
        )
        .await
        {
            Ok(_) => return Ok(see_other("/console/queue?done=rejected")),
            Err(e) => refusal(lang, e)?,
        }
    } else {
        unconfirmed(lang)
    };
    request_view(
        &state,
        &session,
        &id,
        AcceptForm::default(),
        form,
        None,
        Some(problem),
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Paper notices

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeForm {
    csrf: String,
    contractor_id: String,
    kind: String,
    target: String,
    requested_on: String,
    submitted_on: String,
    arrived_on: String,
    accept: String,
    confirm: String,
}

/// Something a notice may name: a contract, option or group of the contractor.
struct Target {
    id: String,
    label: String,
}

#[derive(askama::Template)]
#[template(path = "web/operator/notice.html")]
struct NoticePage {
    c: Chrome,
    form: NoticeForm,
    contractor: Option<String>,
    targets: Vec<Target>,
    problem: Option<Shown>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    contractor_id: String,
}

pub async fn notice_form(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<NoticeQuery>,
) -> WebResult {
    only_operators(&session)?;
    let today = today().to_string();
    let form = NoticeForm {
        contractor_id: q.contractor_id,
        kind: "cancel_contract".into(),
        submitted_on: today.clone(),
        arrived_on: today,
        accept: "yes".into(),
        ..NoticeForm::default()
    };
    notice_page(&state, &session, form, None).await
}

async fn notice_page(
    state: &AppState,
    session: &Session,
    form: NoticeForm,
    problem: Option<Shown>,
) -> WebResult {
    let lang = session.lang;
    let id = form.contractor_id.trim().to_owned();
    let mut contractor = None;
    let mut targets = Vec::new();
    if !id.is_empty()
        && let Ok(c) =
            contractors::get(State(state.clone()), session.caller(), Path(id.clone())).await
    {
        contractor = Some(c.0.name);
        let list = v1::contracts::list(
            State(state.clone()),
            session.caller(),
            Path(id.clone()),
            Params(v1::contracts::AsOf { as_of: None }),
        )
        .await?
        .0;
        for k in &list.contracts {
            let what = match (k.item, k.device_type) {
                (Some(i), Some(d)) => format!(
                    "{} ({} / {})",
                    lang.pick(k.kind.label_ja(), k.kind.label_en()),
                    lang.pick(i.label_ja(), i.label_en()),
                    lang.pick(d.label_ja(), d.label_en())
                ),
                _ => lang.pick(k.kind.label_ja(), k.kind.label_en()).to_owned(),
            };
            targets.push(Target {
                id: k.id.clone(),
                label: format!(
                    "{} {what} · {}",
                    lang.t().op_contract,
                    lang.status(k.status)
                ),
            });
            for o in &k.options {
                targets.push(Target {
                    id: o.id.clone(),
                    label: format!(
                        "{} {} · {}",
                        lang.t().op_option,
                        lang.pick(o.kind.label_ja(), o.kind.label_en()),
                        lang.status(o.status)
                    ),
                });
            }
        }
        let groups = devices::groups(
            State(state.clone()),
            session.caller(),
            Path(id.clone()),
            Params(v1::contracts::AsOf { as_of: None }),
        )
        .await?
        .0;
        for g in groups.groups {
            targets.push(Target {
                id: g.id.clone(),
                label: format!("{} · {}", lang.t().op_group, lang.status(g.status)),
            });
        }
    }
    let failed = problem.is_some();
    Ok(render_form(
        NoticePage {
            c: session.chrome(session.t().op_notice_title, Section::Queue),
            form,
            contractor,
            targets,
            problem,
        },
        failed,
    ))
}

/// The submission the API takes, from the notice form.
fn notice_request(lang: Lang, form: &NoticeForm) -> Result<Value, Shown> {
    let t = lang.t();
    if form.contractor_id.trim().is_empty() {
        return Err(field_problem(lang, "contractor_id", t.op_required));
    }
    let target = form.target.trim();
    if target.is_empty() {
        return Err(field_problem(lang, "target", t.op_required));
    }
    let field = match form.kind.as_str() {
        "cancel_contract" => "contract_id",
        "stop_option" => "option_id",
        "stop_group" => "group_id",
        _ => return Err(field_problem(lang, "kind", t.op_choose_from_list)),
    };
    if !confirmed(&form.confirm) {
        return Err(unconfirmed(lang));
    }
    let mut request = json!({ "kind": form.kind, field: target });
    if let Some(d) = date_field(lang, "requested_on", &form.requested_on)? {
        request["requested_on"] = json!(d.to_string());
    }
    let mut submission = json!({ "request": request });
    if let Some(d) = date_field(lang, "submitted_on", &form.submitted_on)? {
        submission["submitted_on"] = json!(d.to_string());
    }
    let arrived = date_field(lang, "arrived_on", &form.arrived_on)?;
    if form.accept == "yes" {
        submission["accept"] = match arrived {
            Some(d) => json!({ "on": d.to_string() }),
            None => json!({}),
        };
    }
    Ok(submission)
}

pub async fn record_notice(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<NoticeForm>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    only_operators(&session)?;
    let lang = session.lang;
    let t = lang.t();
    let problem = match notice_request(lang, &form) {
        Ok(submission) => match requests::submit(
            State(state.clone()),
            session.caller(),
            Path(form.contractor_id.trim().to_owned()),
            body(submission),
        )
        .await
        {
            Ok((_, view)) => {
                return Ok(see_other(&format!("/console/queue/requests/{}", view.0.id)));
            }
            Err(e) if e.code == "not_found" => {
                // Either the contractor or what the notice names is unknown: say which.
                let contractor_known = contractors::get(
                    State(state.clone()),
                    session.caller(),
                    Path(form.contractor_id.trim().to_owned()),
                )
                .await
                .is_ok();
                if contractor_known {
                    field_problem(lang, "target", t.op_no_such_target)
                } else {
                    field_problem(lang, "contractor_id", t.op_no_such_contractor)
                }
            }
            Err(e) => refusal(lang, e)?,
        },
        Err(shown) => shown,
    };
    notice_page(&state, &session, form, Some(problem)).await
}

// ---------------------------------------------------------------------------------------
// Devices

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeviceForm {
    csrf: String,
    serial: String,
    on: String,
    confirm: String,
}

/// Records something about a device through `call`, then back to the queue; a refusal shows
/// above the devices.
async fn on_device<F, Fut>(
    state: &AppState,
    session: &Session,
    form: &DeviceForm,
    done: &str,
    call: F,
) -> WebResult
where
    F: FnOnce(Value) -> Fut,
    Fut: std::future::Future<Output = Result<(), ApiError>>,
{
    let lang = session.lang;
    let problem = if !confirmed(&form.confirm) {
        unconfirmed(lang)
    } else {
        match date_field(lang, "on", &form.on) {
            Err(shown) => shown,
            Ok(on) => {
                let payload = on.map_or(json!({}), |d| json!({ "on": d.to_string() }));
                match call(payload).await {
                    Ok(()) => {
                        return Ok(see_other(&format!("/console/queue?done={done}#returns")));
                    }
                    Err(e) => refusal(lang, e)?,
                }
            }
        }
    };
    queue_page(
        state,
        session,
        &QueueQuery::default(),
        Some(problem),
        form.serial.clone(),
    )
    .await
}

pub async fn device_returned(
    State(state): State<AppState>,
    session: Session,
    Path(serial): Path<String>,
    Form(form): Form<DeviceForm>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    only_operators(&session)?;
    let caller = session.caller();
    on_device(&state, &session, &form, "returned", |payload| async {
        devices::returned(State(state.clone()), caller, Path(serial), body(payload))
            .await
            .map(|_| ())
    })
    .await
}

pub async fn device_found(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<DeviceForm>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    only_operators(&session)?;
    let serial = form.serial.trim().to_owned();
    if serial.is_empty() {
        let problem = field_problem(session.lang, "serial", session.t().op_required);
        return queue_page(
            &state,
            &session,
            &QueueQuery::default(),
            Some(problem),
            serial,
        )
        .await;
    }
    let caller = session.caller();
    on_device(&state, &session, &form, "found", |payload| async {
        devices::found(State(state.clone()), caller, Path(serial), body(payload))
            .await
            .map(|_| ())
    })
    .await
}

pub async fn sweep(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<DeviceForm>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    only_operators(&session)?;
    let caller = session.caller();
    on_device(&state, &session, &form, "swept", |payload| async {
        devices::sweep(State(state.clone()), caller, body(payload))
            .await
            .map(|_| ())
    })
    .await
}
