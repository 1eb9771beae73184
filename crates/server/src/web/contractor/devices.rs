//! `/console/devices`: devices with their availability over the past week.

use axum::extract::{Query, State};

use crate::app::monitoring;
use crate::web::format;
use crate::web::session::Section;
use crate::web::{Chrome, Session, WebResult, charts, render};
use crate::{AppState, app};

use super::{PageQuery, Paged, choose_contractor, contractor_of, paged};

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

/// A device in the contractor's custody cycle, with its return deadline (R10.3).
pub struct CustodyRow {
    pub serial: String,
    pub model: String,
    pub state: &'static str,
    pub return_due: String,
    pub overdue: bool,
}

#[derive(askama::Template)]
#[template(path = "web/contractor/devices.html")]
struct DevicesPage {
    c: Chrome,
    table: Paged<DeviceRow>,
    custody: Vec<CustodyRow>,
}

/// `/console/devices`: UP/DOWN with a week of availability per device, and custody (return
/// deadlines, R10.3).
pub(super) async fn device_list(
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
    let filter = monitoring::Filter {
        contractor_id: Some(contractor.clone()),
        ..monitoring::Filter::default()
    };
    let monitored = monitoring::list(&state, &session.caller(), filter).await?;
    let table = paged(monitored, q.page);
    let now = jiff::Timestamp::now();
    let mut rows = Vec::new();
    for d in table.rows {
        let history = monitoring::history(&state, &session.caller(), &d.serial)
            .await?
            .changes;
        let changes: Vec<(bool, jiff::Timestamp)> =
            history.iter().map(|c| (c.state.is_up(), c.at)).collect();
        rows.push(DeviceRow {
            chart: charts::week(lang, &changes, now),
            state: lang.connection_state(d.state),
            state_class: d.state.as_str(),
            serial: d.serial,
            model: d.model,
            firmware: d.firmware.unwrap_or_else(|| "—".into()),
            last_heartbeat: d.last_heartbeat.map_or_else(|| "—".into(), format::clock),
        });
    }
    let custody = app::devices::list(&state, &session.caller(), &contractor, None)
        .await?
        .into_iter()
        .map(|d| CustodyRow {
            serial: d.serial,
            model: d.device_type.as_str().to_owned(),
            state: lang.device_state(d.state),
            return_due: d
                .return_due
                .map_or_else(|| "—".into(), |r| format::date_text(lang, &r)),
            overdue: d.overdue,
        })
        .collect();
    Ok(render(DevicesPage {
        c: session.chrome(t.nav_devices, Section::Devices),
        table: Paged {
            rows,
            previous: table.previous,
            next: table.next,
            first: table.first,
            total: table.total,
        },
        custody,
    }))
}
