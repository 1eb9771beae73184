//! `/console/queue` itself: the pending requests, the devices waiting for preset parameters
//! and the devices awaiting return, with the counts atop.

use axum::extract::{Query, State};
use serde::Deserialize;

use mpc_domain::request::RequestStatus;
use mpc_storage::contracts::ReturnOrder;
use mpc_storage::contracts::requests::RequestOrder;

use super::super::{
    Numbered, Sort, contractor_names, href, only_operators, page_number, render_form, short,
};
use super::Counts;
use super::request::{Names, facts, name_facts, named_ids};
use crate::app::support::today;
use crate::app::{fleet, requests};
use crate::web::i18n::{Lang, request_kind};
use crate::web::session::Section;
use crate::web::{Chrome, Namer, Session, Shown, WebResult};
use crate::{AppState, app};

/// A pending request as a row of the queue.
pub struct RequestRow {
    pub id: String,
    pub number: String,
    pub submitted_on: String,
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
    /// `C-000123 本社`.
    pub contract: String,
    pub serial: String,
    /// The preset (today's item) the device would run.
    pub preset: &'static str,
    pub missing: Vec<&'static str>,
}

/// A device awaiting return as a row of the queue.
pub struct DeviceRow {
    pub serial: String,
    pub model: &'static str,
    /// The last contract it served: its id and name.
    pub contract_id: Option<(String, String)>,
    pub return_due: String,
    pub overdue: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct QueueQuery {
    sort: Option<String>,
    /// The page of the requests, from 1.
    page: Option<String>,
    dsort: Option<String>,
    /// The page of the devices awaiting return, from 1.
    dpage: Option<String>,
    done: Option<String>,
}

/// Rows each table of the queue shows a page: the page holds three tables, and the pending
/// requests, each with its summary, should leave the others in sight.
const QUEUE_PAGE: u32 = 20;

#[derive(askama::Template)]
#[template(path = "web/operator/queue/page.html")]
struct QueuePage {
    c: Chrome,
    counts: Counts,
    done: Option<&'static str>,
    requests: Vec<RequestRow>,
    sort: Sort,
    pager: Numbered,
    devices: Vec<DeviceRow>,
    dsort: Sort,
    dpager: Numbered,
    today: String,
    found_serial: String,
    /// The lost devices the found form offers (R12.3).
    lost: Vec<super::devices::LostChoice>,
    device_problem: Option<Shown>,
    parameters: Vec<ParametersRow>,
}

pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<QueueQuery>,
) -> WebResult {
    only_operators(&session)?;
    queue_page(&state, &session, &q, None, String::new()).await
}

/// The order of the requests a sort key asks for; kinds sort by their names in `lang`, as the
/// table shows them.
fn request_order(lang: Lang, key: &str) -> RequestOrder {
    match key {
        "number" => RequestOrder::Number,
        "contractor" => RequestOrder::Contractor,
        "kind" => {
            let mut kinds = mpc_domain::request::KINDS.to_vec();
            kinds.sort_by_key(|k| request_kind(lang, k));
            RequestOrder::Kind(kinds.into_iter().map(str::to_owned).collect())
        }
        _ => RequestOrder::Submitted,
    }
}

pub(super) async fn queue_page(
    state: &AppState,
    session: &Session,
    q: &QueueQuery,
    device_problem: Option<Shown>,
    found_serial: String,
) -> WebResult {
    let lang = session.lang;
    let t = session.t();
    let caller = session.caller();

    let params = [
        ("sort", &q.sort),
        ("page", &q.page),
        ("dsort", &q.dsort),
        ("dpage", &q.dpage),
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
    // The address of page `n` of a table, with its section in view.
    let at_page = |param: &'static str, section: &'static str| {
        let base = base_for(&[param]);
        let sep = if base.contains('?') { '&' } else { '?' };
        move |n: u32| format!("{base}{sep}{param}={n}#{section}")
    };

    // A new order starts at the first page of its table.
    let sort = Sort::new(
        "sort",
        q.sort.as_deref(),
        &["submitted", "number", "contractor", "kind"],
        base_for(&["sort", "page"]),
    );
    let browse = requests::Browse {
        status: Some(RequestStatus::Pending.as_str().to_owned()),
        page: page_number(q.page.as_deref()),
        per_page: QUEUE_PAGE,
        order: request_order(lang, &sort.key),
        desc: sort.desc,
        ..requests::Browse::default()
    };
    let pending = requests::queue_page(state, &caller, &browse).await?;
    let dsort = Sort::new(
        "dsort",
        q.dsort.as_deref(),
        &["due", "serial"],
        base_for(&["dsort", "dpage"]),
    );
    let dorder = match dsort.key.as_str() {
        "serial" => ReturnOrder::Serial,
        _ => ReturnOrder::Due,
    };
    let awaiting = fleet::awaiting_return_page(
        state,
        &caller,
        (dorder, dsort.desc),
        page_number(q.dpage.as_deref()),
        QUEUE_PAGE,
    )
    .await?;
    let counts = Counts::with(
        state,
        session,
        pending.total,
        (awaiting.total, awaiting.overdue),
    )
    .await?;
    let waiting = app::presets::awaiting_parameters(state, &caller).await?;

    // Names and facts for the rows shown, and only those.
    let names = contractor_names(
        state,
        session,
        pending
            .requests
            .iter()
            .map(|r| r.contractor_id.clone())
            .chain(waiting.iter().map(|w| w.contractor_id.clone()))
            .collect(),
    )
    .await?;
    let facts_of: Vec<_> = pending
        .requests
        .iter()
        .map(|r| facts(lang, &r.request))
        .collect();
    let (mut contracts, options) = named_ids(facts_of.iter().flatten());
    contracts.extend(waiting.iter().map(|w| w.contract_id.clone()));
    contracts.extend(
        awaiting
            .devices
            .iter()
            .filter_map(|d| d.assignments.last().map(|a| a.contract_id.clone())),
    );
    let namer = Namer::load(state, session, &contracts, &options).await?;
    let parameters = waiting
        .into_iter()
        .map(|w| ParametersRow {
            contractor: names
                .get(&w.contractor_id)
                .cloned()
                .unwrap_or_else(|| w.contractor_id.clone()),
            contractor_id: w.contractor_id,
            contract: namer.contract(&w.contract_id),
            contract_id: w.contract_id,
            serial: w.serial,
            preset: lang.pick(w.item.label_ja(), w.item.label_en()),
            missing: w.missing,
        })
        .collect();

    let pager = Numbered::new(
        lang,
        (pending.first, pending.requests.len(), pending.total),
        (pending.previous, pending.next),
        at_page("page", "requests"),
    );
    let requests: Vec<RequestRow> = pending
        .requests
        .into_iter()
        .zip(facts_of)
        .map(|(r, mut facts)| {
            name_facts(&mut facts, &namer);
            RequestRow {
                number: r.number.clone(),
                submitted_on: lang.date(&r.submitted_on),
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
                        let value = if f.names == Names::Group {
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

    let dpager = Numbered::new(
        lang,
        (awaiting.first, awaiting.devices.len(), awaiting.total),
        (awaiting.previous, awaiting.next),
        at_page("dpage", "returns"),
    );
    let devices = awaiting
        .devices
        .into_iter()
        .map(|d| DeviceRow {
            model: lang.pick(d.device_type.label_ja(), d.device_type.label_en()),
            contract_id: d
                .assignments
                .last()
                .map(|a| (a.contract_id.clone(), namer.contract(&a.contract_id))),
            return_due: d
                .return_due
                .as_deref()
                .map(|due| lang.date(due))
                .unwrap_or_default(),
            overdue: d.overdue,
            serial: d.serial,
        })
        .collect();

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
            pager,
            devices,
            dsort,
            dpager,
            today: today().to_string(),
            found_serial,
            lost: super::devices::lost_choices(state, session).await?,
            device_problem,
            parameters,
        },
        failed,
    ))
}
