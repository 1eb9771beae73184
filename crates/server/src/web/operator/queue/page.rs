//! `/console/queue` itself: the pending requests, the devices waiting for preset parameters
//! and the devices awaiting return, with the counts atop.

use axum::extract::{Query, State};
use serde::Deserialize;

use super::super::{
    Pager, Sort, contractor_names, href, only_operators, page_of, pager, render_form, short,
};
use super::request::{Names, facts, name_facts, named_ids};
use super::{Counts, awaiting, pending};
use crate::app::support::today;
use crate::web::i18n::request_kind;
use crate::web::session::Section;
use crate::web::{Chrome, Namer, Session, Shown, WebResult};
use crate::{AppState, app};

/// A pending request as a row of the queue.
pub struct RequestRow {
    pub id: String,
    pub number: String,
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
#[template(path = "web/operator/queue/page.html")]
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

pub(super) async fn queue_page(
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
    let facts_of: Vec<_> = pending.iter().map(|r| facts(lang, &r.request)).collect();
    let (mut contracts, options) = named_ids(facts_of.iter().flatten());
    contracts.extend(waiting.iter().map(|w| w.contract_id.clone()));
    contracts.extend(
        devices
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
    let mut rows: Vec<RequestRow> = pending
        .into_iter()
        .zip(facts_of)
        .map(|(r, mut facts)| {
            name_facts(&mut facts, &namer);
            RequestRow {
                number: r.number.clone(),
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
    let sort = Sort::new(
        "sort",
        q.sort.as_deref(),
        &["submitted", "number", "contractor", "kind"],
        base_for(&["sort", "after"]),
    );
    sort.apply(&mut rows, |r, key| match key {
        "contractor" => (0, r.contractor.clone()),
        "kind" => (0, r.kind.clone()),
        // Longer numbers are larger ones: REQ-999999 < REQ-1000000.
        "number" => (r.number.len() as i64, r.number.clone()),
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
                .map(|a| (a.contract_id.clone(), namer.contract(&a.contract_id))),
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
            lost: super::devices::lost_choices(state, session).await?,
            device_problem,
            parameters,
        },
        failed,
    ))
}
