//! `/console/fleet`: every inventory device with its monitoring state, filtered by state,
//! contractor, model and firmware ([`crate::app::monitoring::list`]), refreshed in place by htmx;
//! `/console/fleet/{serial}`: a device's state history and its availability over 7 days.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use std::collections::HashMap;

use jiff::Timestamp;
use mpc_domain::catalog::DeviceType;
use mpc_domain::monitoring::ConnectionState;
use serde::Deserialize;

use super::{
    Numbered, PAGE, Pager, Sort, contractor_names, href, htmx_target, only_operators, page_of,
    pager,
};
use crate::AppState;
use crate::app::monitoring::{self, FigureSummary, Monitored};
use crate::web::charts;
use crate::web::format;
use crate::web::i18n::Lang;
use crate::web::session::Section;
use crate::web::{Chrome, Session, WebResult, render};
use mpc_storage::controller::MonitorOrder;

/// One thing the SMFv2 listener told the device.
pub struct Smfv2Row {
    pub at: String,
    pub event: &'static str,
    pub rule: String,
    pub detail: String,
}

/// The most recent SMFv2 events the device page shows.
const SMFV2_ROWS: usize = 20;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FleetQuery {
    state: String,
    contractor_id: String,
    model: String,
    firmware: String,
    /// `yes`: only devices serving a contractor.
    assigned: String,
    sort: String,
    page: String,
}

pub struct DeviceRow {
    pub serial: String,
    pub model: &'static str,
    pub contractor_id: Option<String>,
    pub contractor: String,
    /// The state's badge: its words and its style (`up`, `never_connected` …).
    pub state_label: &'static str,
    pub state_class: &'static str,
    pub since: String,
    pub heartbeat: String,
    pub firmware: String,
    pub revision: String,
}

/// The table of the fleet page, also answered alone to htmx.
pub struct FleetTable {
    /// This page's address, which the table polls.
    pub here: String,
    pub rows: Vec<DeviceRow>,
    pub total: i64,
    pub sort: Sort,
    /// Its range and the pages either side, the filters and the order kept.
    pub pager: Numbered,
    /// The contractor filter names no contractor (said beside the field, and in the table
    /// that htmx swaps in alone).
    pub unknown_contractor: bool,
}

#[derive(askama::Template)]
#[template(path = "web/operator/fleet.html")]
struct FleetPage {
    c: Chrome,
    /// The contractors the contractor field offers: id and name.
    contractors: Vec<(String, String)>,
    q: FleetQuery,
    /// The states to filter by: wire name and words.
    states: Vec<(&'static str, &'static str)>,
    models: Vec<(&'static str, &'static str)>,
    firmwares: Vec<String>,
    fleet: FleetTable,
}

#[derive(askama::Template)]
#[template(path = "web/operator/fleet_table.html")]
struct FleetFragment {
    c: Chrome,
    fleet: FleetTable,
}

async fn monitored(
    state: &AppState,
    session: &Session,
    filter: monitoring::Filter,
) -> WebResult<Vec<Monitored>> {
    Ok(monitoring::list(state, &session.caller(), filter).await?)
}

/// A device's row, its contractor named from `names`.
fn device_row(lang: Lang, d: Monitored, names: &HashMap<String, String>) -> DeviceRow {
    DeviceRow {
        model: d
            .model
            .parse::<DeviceType>()
            .map(|m| lang.pick(m.label_ja(), m.label_en()))
            .unwrap_or_default(),
        contractor: d
            .contractor_id
            .as_ref()
            .and_then(|c| names.get(c).cloned())
            .unwrap_or_default(),
        contractor_id: d.contractor_id,
        state_label: lang.connection_state(d.state),
        state_class: d.state.as_str(),
        since: d
            .state_since
            .map(|s| format::time(lang, s))
            .unwrap_or_default(),
        heartbeat: d
            .last_heartbeat
            .map_or_else(|| lang.t().never_seen.to_owned(), |s| format::time(lang, s)),
        firmware: d.firmware.unwrap_or_default(),
        revision: d
            .applied_revision
            .map(|r| r.to_string())
            .unwrap_or_default(),
        serial: d.serial,
    }
}

pub async fn list(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Query(q): Query<FleetQuery>,
) -> WebResult {
    only_operators(&session)?;
    let lang = session.lang;
    let given = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    // Values the API would refuse are dropped, as a filter left empty.
    let filter_contractor = given(&q.contractor_id);
    let filter = monitoring::Filter {
        state: q.state.trim().parse().ok(),
        contractor_id: filter_contractor.clone(),
        model: q.model.trim().parse().ok(),
        firmware: given(&q.firmware),
        assigned_only: q.assigned == "yes",
        serial: None,
    };
    let filters = [
        ("state", q.state.as_str()),
        ("contractor_id", q.contractor_id.as_str()),
        ("model", q.model.as_str()),
        ("firmware", q.firmware.as_str()),
        ("assigned", q.assigned.as_str()),
    ];
    let sort = Sort::new(
        "sort",
        Some(&q.sort),
        &["serial", "since", "heartbeat", "contractor", "firmware"],
        href("/console/fleet", &filters),
    );
    let order = match sort.key.as_str() {
        "since" => MonitorOrder::StateSince,
        "heartbeat" => MonitorOrder::Heartbeat,
        "contractor" => MonitorOrder::Contractor,
        "firmware" => MonitorOrder::Firmware,
        _ => MonitorOrder::Serial,
    };
    // A page number that is not one shows the first page.
    let number = q.page.trim().parse::<u32>().ok().filter(|p| *p > 0);
    let fleet = monitoring::page(
        &state,
        &session.caller(),
        filter,
        (order, sort.desc),
        number,
        Some(PAGE as u32),
    )
    .await?;
    let names = contractor_names(
        &state,
        &session,
        fleet
            .devices
            .iter()
            .filter_map(|d| d.contractor_id.clone())
            .collect(),
    )
    .await?;
    let unknown_contractor = match &filter_contractor {
        Some(k) => crate::app::contractors::get(&state, &session.caller(), k)
            .await
            .is_err(),
        None => false,
    };
    let rows: Vec<DeviceRow> = fleet
        .devices
        .into_iter()
        .map(|d| device_row(lang, d, &names))
        .collect();
    let mut with_sort = filters.to_vec();
    with_sort.push(("sort", q.sort.as_str()));
    let at_page = |n: u32| {
        let n = n.to_string();
        let mut params = with_sort.clone();
        params.push(("page", n.as_str()));
        href("/console/fleet", &params)
    };
    let fleet = FleetTable {
        here: at_page(fleet.page),
        pager: Numbered::new(
            lang,
            (fleet.first, rows.len(), fleet.total),
            (fleet.previous, fleet.next),
            at_page,
        ),
        rows,
        total: fleet.total,
        sort,
        unknown_contractor,
    };
    let c = session.chrome(session.t().nav_fleet, Section::Fleet);
    if htmx_target(&headers, "fleet-table") {
        return Ok(render(FleetFragment { c, fleet }));
    }
    let mut firmwares: Vec<String> = monitored(&state, &session, monitoring::Filter::default())
        .await?
        .into_iter()
        .filter_map(|d| d.firmware)
        .collect();
    firmwares.sort();
    firmwares.dedup();
    let contractors = super::contractor_choices(&state, &session).await?;
    Ok(render(FleetPage {
        contractors,
        c,
        q,
        states: ConnectionState::ALL
            .iter()
            .map(|s| (s.as_str(), lang.connection_state(*s)))
            .collect(),
        models: DeviceType::ALL
            .iter()
            .map(|m| (m.as_str(), lang.pick(m.label_ja(), m.label_en())))
            .collect(),
        firmwares,
        fleet,
    }))
}

// ---------------------------------------------------------------------------------------
// One device

pub struct ChangeRow {
    pub up: bool,
    pub at: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeviceQuery {
    after: String,
}

#[derive(askama::Template)]
#[template(path = "web/operator/device.html")]
struct DevicePage {
    c: Chrome,
    device: Option<DeviceRow>,
    /// The device's custody state, and the contract it serves (id and name).
    custody: Option<(String, Option<(String, String)>)>,
    chart: String,
    changes: Vec<ChangeRow>,
    pager: Pager,
    smfv2: Vec<Smfv2Row>,
    /// The SMFv2 figures chart; none when no figures are stored.
    figures_chart: Option<String>,
    figures: Vec<FigureRow>,
}

/// One SMFv2 heartbeat's figures as the device page's table shows them; a dash for a figure
/// the heartbeat did not carry.
pub struct FigureRow {
    pub at: String,
    pub cpu: String,
    pub memory: String,
    pub traffic_in: String,
    pub traffic_out: String,
}

pub async fn device(
    State(state): State<AppState>,
    session: Session,
    Path(serial): Path<String>,
    Query(q): Query<DeviceQuery>,
) -> WebResult {
    only_operators(&session)?;
    let lang = session.lang;
    let t = session.t();
    let history = monitoring::history(&state, &session.caller(), &serial).await?;
    // The one device, found by the query rather than among the whole fleet.
    let one = monitoring::Filter {
        serial: Some(serial.clone()),
        ..monitoring::Filter::default()
    };
    let device = monitored(&state, &session, one).await?.into_iter().next();
    let names = contractor_names(
        &state,
        &session,
        device
            .iter()
            .filter_map(|d| d.contractor_id.clone())
            .collect(),
    )
    .await?;
    let device = device.map(|d| device_row(lang, d, &names));
    let custody = crate::app::devices::get(&state, &session.caller(), &serial, None)
        .await
        .ok()
        .map(|d| (lang.device_state(d.state).to_owned(), d.contract_id));
    let served: Vec<String> = custody.iter().filter_map(|(_, k)| k.clone()).collect();
    let namer = crate::web::Namer::load(&state, &session, &served, &[]).await?;
    let custody = custody.map(|(state, k)| {
        (
            state,
            k.map(|k| {
                let name = namer.contract(&k);
                (k, name)
            }),
        )
    });

    let changes: Vec<(bool, Timestamp)> = history
        .changes
        .iter()
        .map(|c| (c.state.is_up(), c.at))
        .collect();
    let chart = charts::week(lang, &changes, Timestamp::now());
    let rows: Vec<ChangeRow> = history
        .changes
        .iter()
        .rev()
        .map(|c| ChangeRow {
            up: c.state.is_up(),
            at: format::time(lang, c.at),
        })
        .collect();
    let smfv2 = history
        .smfv2_events
        .iter()
        .rev()
        .take(SMFV2_ROWS)
        .map(|e| Smfv2Row {
            at: format::time(lang, e.at),
            event: match e.event.as_str() {
                "ls.accepted" => t.op_smfv2_ls_accepted,
                "ls.refused" => t.op_smfv2_ls_refused,
                "rs.accepted" => t.op_smfv2_rs_accepted,
                "push.confirmed" => t.op_smfv2_push_confirmed,
                "push.pull-config" => t.op_smfv2_push_pull_config,
                "push.pull-config.answered" => t.op_smfv2_push_answered,
                "push.closed" => t.op_smfv2_push_closed,
                "push.refused" => t.op_smfv2_push_refused,
                "push.failed" => t.op_smfv2_push_failed,
                "push.withdrawn" => t.op_smfv2_push_withdrawn,
                "heartbeat.refused" => t.op_smfv2_heartbeat_refused,
                _ => t.op_smfv2_rs_refused,
            },
            rule: e.rule.clone().unwrap_or_default(),
            detail: e.detail.clone(),
        })
        .collect();
    // Oldest first for the chart; the table lists them newest first, as stored.
    let summaries: Vec<(Timestamp, FigureSummary)> = history
        .figures
        .iter()
        .map(|(at, f)| (*at, FigureSummary::of(f)))
        .collect();
    let figures_chart = match (summaries.last(), summaries.first()) {
        (Some((oldest, _)), Some((newest, _))) => {
            let points: Vec<charts::FigurePoint> = summaries
                .iter()
                .rev()
                .map(|(at, s)| charts::FigurePoint {
                    at: at.as_second(),
                    cpu_percent: s.cpu,
                    memory_percent: s.memory,
                })
                .collect();
            let mut ticks = vec![charts::Tick {
                at: oldest.as_second(),
                label: format::time(lang, *oldest),
            }];
            ticks.extend(charts::day_ticks(lang, *oldest, *newest));
            if newest > oldest {
                ticks.push(charts::Tick {
                    at: newest.as_second(),
                    label: format::time(lang, *newest),
                });
            }
            Some(charts::figures(
                &points,
                oldest.as_second(),
                newest.as_second(),
                &ticks,
                &charts::FigureLabels {
                    caption: t.op_figures,
                    cpu: t.op_figures_cpu,
                    memory: t.op_figures_memory,
                },
            ))
        }
        _ => None,
    };
    let dash = || "—".to_owned();
    let figures: Vec<FigureRow> = summaries
        .iter()
        .map(|(at, s)| FigureRow {
            at: format::time(lang, *at),
            cpu: s.cpu.map_or_else(dash, |p| format!("{p}%")),
            memory: s.memory.map_or_else(dash, |p| format!("{p}%")),
            traffic_in: s.traffic_in.map_or_else(dash, |b| b.to_string()),
            traffic_out: s.traffic_out.map_or_else(dash, |b| b.to_string()),
        })
        .collect();
    let (changes, next) = page_of(rows, Some(&q.after));
    let here = format!("/console/fleet/{serial}");
    Ok(render(DevicePage {
        c: session.chrome(&serial, Section::Fleet),
        pager: pager(&here, "after", Some(&q.after), next),
        device,
        custody,
        chart,
        changes,
        smfv2,
        figures_chart,
        figures,
    }))
}
