//! Device monitoring (UP/DOWN, devices.md D.4) and its alert webhooks: contractors see the
//! devices serving their contracts, operators every device of the inventory.

use jiff::Timestamp;
use mpc_api_types::controller::NewWebhook;
use mpc_domain::catalog::DeviceType;
use mpc_domain::monitoring::{ConnectionState, Heard, MonitorState, classify};
use mpc_storage::contracts::{self, Owned};
use mpc_storage::controller::{self, MonitorFilter, Webhook};
use mpc_storage::{StorageError, timestamp};

use super::Input;
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

/// Which devices to list; every field given narrows the list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub state: Option<ConnectionState>,
    pub contractor_id: Option<String>,
    pub model: Option<DeviceType>,
    pub firmware: Option<String>,
    /// Only devices serving a contractor.
    pub assigned_only: bool,
    /// Only the device of this serial (a device's own page).
    pub serial: Option<String>,
}

/// A device of the inventory with its monitoring state.
#[derive(Debug, Clone)]
pub struct Monitored {
    pub serial: String,
    /// The model as the inventory names it (`SEIL/X4` …).
    pub model: String,
    /// The contractor whose contract the device serves, if any.
    pub contractor_id: Option<String>,
    /// In stock, never connected, UP or DOWN ([`classify`]).
    pub state: ConnectionState,
    pub state_since: Option<Timestamp>,
    pub last_heartbeat: Option<Timestamp>,
    pub firmware: Option<String>,
    pub uptime_seconds: Option<i64>,
    pub applied_revision: Option<i64>,
}

/// One change of a device's state.
#[derive(Debug, Clone, Copy)]
pub struct StateChange {
    pub state: MonitorState,
    pub at: Timestamp,
}

fn monitor_state(s: &str) -> ApiResult<MonitorState> {
    Ok(s.parse()
        .map_err(|e| StorageError::Corrupt(format!("{e}")))?)
}

/// The storage filter of `filter` as `caller` may run it, and today's date (`YYYY-MM-DD`):
/// a contractor's own devices only; the connection state judged in the query as of `now`.
fn storage_filter(
    state: &AppState,
    caller: &Caller,
    filter: Filter,
    now: Timestamp,
) -> ApiResult<(MonitorFilter, String)> {
    let contractor_id = match (caller.actor.contractor_scope(), filter.contractor_id) {
        (None, asked) => asked,
        (Some(own), Some(asked)) if own != asked => return Err(ApiError::not_found()),
        (Some(own), _) => Some(own.to_owned()),
    };
    let today = mpc_domain::calendar::tokyo_date(now).to_string();
    let heard_since = now
        .checked_sub(down_after(state))
        .map_or(i64::MIN, Timestamp::as_microsecond);
    Ok((
        MonitorFilter {
            state: None,
            contractor_id,
            model: filter.model,
            firmware: filter.firmware,
            connection: filter.state.map(ConnectionState::condition),
            assigned_only: filter.assigned_only,
            serial: filter.serial,
            heard_since,
        },
        today,
    ))
}

fn down_after(state: &AppState) -> jiff::SignedDuration {
    jiff::SignedDuration::try_from(state.down_after).unwrap_or(mpc_domain::monitoring::DOWN_AFTER)
}

/// A stored row as the fleet shows it, classified as of `now` ([`classify`]).
fn monitored_row(
    state: &AppState,
    r: controller::MonitoredDevice,
    now: Timestamp,
) -> ApiResult<Monitored> {
    let at = |m: Option<i64>| m.map(timestamp).transpose();
    let last_heartbeat = at(r.last_heartbeat)?;
    let heard = last_heartbeat
        .map(|last| {
            Ok::<_, ApiError>(Heard {
                state: monitor_state(&r.state)?,
                last_heartbeat: last,
            })
        })
        .transpose()?;
    Ok(Monitored {
        state: classify(r.serving != 0, heard, now, down_after(state)),
        state_since: at(r.state_since)?,
        last_heartbeat,
        serial: r.serial,
        model: r.model,
        contractor_id: r.contractor_id,
        firmware: r.firmware,
        uptime_seconds: r.uptime_seconds,
        applied_revision: r.applied_revision,
    })
}

/// Inventory devices with their connection state as of now ([`classify`] with the server's
/// DOWN delay), by serial, filtered in the query. Contractors see the devices serving their
/// contracts; operators see all.
///
/// # Errors
/// 404 when a contractor user asks for another contractor's devices; the database's.
pub async fn list(state: &AppState, caller: &Caller, filter: Filter) -> ApiResult<Vec<Monitored>> {
    let now = Timestamp::now();
    let (filter, today) = storage_filter(state, caller, filter, now)?;
    let rows = controller::monitored(&mut *state.store.conn().await?, &filter, &today).await?;
    rows.into_iter()
        .map(|r| monitored_row(state, r, now))
        .collect()
}

/// How many inventory devices `filter` finds, counted in the query, never loaded.
///
/// # Errors
/// As [`list`].
pub async fn count(state: &AppState, caller: &Caller, filter: Filter) -> ApiResult<i64> {
    let (filter, today) = storage_filter(state, caller, filter, Timestamp::now())?;
    Ok(controller::count_monitored(&mut *state.store.conn().await?, &filter, &today).await?)
}

/// How many devices stand in each connection state now, in the order of
/// [`ConnectionState::ALL`], each counted in the query.
///
/// # Errors
/// As [`list`].
pub async fn state_counts(
    state: &AppState,
    caller: &Caller,
) -> ApiResult<Vec<(ConnectionState, i64)>> {
    let mut counts = Vec::with_capacity(ConnectionState::ALL.len());
    for s in ConnectionState::ALL {
        let filter = Filter {
            state: Some(s),
            ..Filter::default()
        };
        counts.push((s, count(state, caller, filter).await?));
    }
    Ok(counts)
}

/// A numbered page of the fleet and how many devices all pages hold.
#[derive(Debug)]
pub struct NumberedFleet {
    pub devices: Vec<Monitored>,
    pub total: i64,
    /// This page, from 1.
    pub page: u32,
    /// The position of the first device among all, from 1.
    pub first: i64,
    pub previous: Option<u32>,
    pub next: Option<u32>,
}

/// Page `page` (from 1) of the fleet `filter` finds, `per_page` devices a page (1–1000), in
/// `order`: one count query and one page query, the connection state judged in the query —
/// never every device loaded.
///
/// # Errors
/// 400 `invalid_paging` for a page or limit out of range; otherwise as [`list`].
pub async fn page(
    state: &AppState,
    caller: &Caller,
    filter: Filter,
    order: (controller::MonitorOrder, bool),
    page: Option<u32>,
    per_page: Option<u32>,
) -> ApiResult<NumberedFleet> {
    let (page, offset, limit) = crate::app::support::numbered(
        page,
        "limit",
        per_page,
        crate::app::support::DEFAULT_LIMIT,
        crate::app::support::MAX_LIMIT,
    )?;
    let now = Timestamp::now();
    let (filter, today) = storage_filter(state, caller, filter, now)?;
    let mut conn = state.store.conn().await?;
    let total = controller::count_monitored(&mut conn, &filter, &today).await?;
    let rows =
        controller::monitored_page(&mut conn, &filter, &today, order.0, order.1, offset, limit)
            .await?;
    let shown = rows.len() as i64;
    Ok(NumberedFleet {
        devices: rows
            .into_iter()
            .map(|r| monitored_row(state, r, now))
            .collect::<ApiResult<_>>()?,
        total,
        page,
        first: offset + 1,
        previous: (page > 1).then(|| page - 1),
        next: (offset + shown < total).then_some(page + 1),
    })
}

/// A device's history: its UP/DOWN changes and what the SMFv2 listener told it, each oldest
/// first.
#[derive(Debug, Clone)]
pub struct History {
    pub changes: Vec<StateChange>,
    pub smfv2_events: Vec<Smfv2Event>,
    /// The latest heartbeat figures, newest first: `(at, figures as JSON)`.
    pub figures: Vec<(Timestamp, serde_json::Value)>,
}

/// Heartbeat figures shown with a device's history: a day of five-minute heartbeats.
const FIGURES_SHOWN: i64 = 288;

/// One thing the SMFv2 listener told a unit: accepted, or refused with the rule.
#[derive(Debug, Clone)]
pub struct Smfv2Event {
    pub at: Timestamp,
    /// `ls.accepted`, `rs.accepted`, `rs.refused`, `push.confirmed`, `push.pull-config`, …
    pub event: String,
    pub rule: Option<String>,
    pub detail: String,
}

/// The whole percentages and per-second traffic of one heartbeat's figures (JSON as the
/// heartbeat listener stores it): CPU use is the mean of the CPUs', memory use is used ÷
/// (used + available) over every memory, traffic the sum over the interfaces' per-second
/// rates; all rounded down.
#[derive(Debug, PartialEq, Eq)]
pub struct FigureSummary {
    pub cpu: Option<u8>,
    pub memory: Option<u8>,
    pub traffic_in: Option<u64>,
    pub traffic_out: Option<u64>,
}

impl FigureSummary {
    pub fn of(figures: &serde_json::Value) -> Self {
        let list = |key: &str| figures[key].as_array().cloned().unwrap_or_default();
        let num = |v: &serde_json::Value, key: &str| v[key].as_u64().unwrap_or(0);
        let cpus = list("cpus");
        let cpu = (!cpus.is_empty()).then(|| {
            let sum: u64 = cpus.iter().map(|c| num(c, "utilisation").min(100)).sum();
            u8::try_from(sum / cpus.len() as u64).unwrap_or(100)
        });
        let memory = list("memory");
        let (used, total) = memory.iter().fold((0u64, 0u64), |(u, t), m| {
            let used = num(m, "used");
            (
                u.saturating_add(used),
                t.saturating_add(used).saturating_add(num(m, "available")),
            )
        });
        let memory = (total > 0)
            .then(|| u8::try_from(u128::from(used) * 100 / u128::from(total)).unwrap_or(100));
        let rates = list("traffic_rates");
        let sum = |key: &str| {
            (!rates.is_empty()).then(|| {
                rates
                    .iter()
                    .map(|r| num(r, key))
                    .fold(0u64, u64::saturating_add)
            })
        };
        FigureSummary {
            cpu,
            memory,
            traffic_in: sum("in_octets"),
            traffic_out: sum("out_octets"),
        }
    }
}

/// A device's history: a contractor's own devices, and for operators any device of the
/// inventory.
///
/// # Errors
/// 404 for a device the caller may not see or that does not exist.
pub async fn history(state: &AppState, caller: &Caller, serial: &str) -> ApiResult<History> {
    let mut conn = state.store.conn().await?;
    let owner = contracts::owner_of(&mut conn, Owned::Device, serial).await?;
    let visible = match &owner {
        Some(owner) => caller.actor.sees_contractor(owner),
        None => caller.actor.is_operator() && controller::in_inventory(&mut conn, serial).await?,
    };
    if !visible {
        return Err(ApiError::not_found());
    }
    let smfv2_events = mpc_storage::smfv2::events(&mut conn, serial)
        .await?
        .into_iter()
        .map(|e| {
            Ok(Smfv2Event {
                at: timestamp(e.at)?,
                event: e.event,
                rule: e.rule,
                detail: e.detail,
            })
        })
        .collect::<ApiResult<_>>()?;
    let changes = controller::history(&mut conn, serial)
        .await?
        .into_iter()
        .map(|(s, at)| {
            Ok(StateChange {
                state: monitor_state(&s)?,
                at: timestamp(at)?,
            })
        })
        .collect::<ApiResult<_>>()?;
    drop(conn);
    let figures = controller::figures(&state.store, serial, FIGURES_SHOWN)
        .await?
        .into_iter()
        .map(|(at, json)| {
            let figures = serde_json::from_str(&json)
                .map_err(|e| StorageError::Corrupt(format!("figures of {serial}: {e}")))?;
            Ok((timestamp(at)?, figures))
        })
        .collect::<ApiResult<_>>()?;
    Ok(History {
        changes,
        smfv2_events,
        figures,
    })
}

/// The alert webhooks (operators).
///
/// # Errors
/// 403 for anyone but operators.
pub async fn webhooks(state: &AppState, caller: &Caller) -> ApiResult<Vec<Webhook>> {
    caller.require_operator()?;
    Ok(controller::webhooks(&mut *state.store.conn().await?).await?)
}

/// Registers a URL to receive a JSON POST on every device UP/DOWN change (operators),
/// journaled as `webhook.create`.
///
/// # Errors
/// 403 for anyone but operators; 422 for anything but an http or https URL with a host; 409
/// for a URL registered already.
pub async fn add_webhook(
    state: &AppState,
    caller: &Caller,
    new: Input<NewWebhook>,
) -> ApiResult<Webhook> {
    caller.require_operator()?;
    let (body, raw) = new.parse()?;
    let url = body.url.trim();
    let valid = reqwest::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !valid {
        return Err(mpc_domain::account::FieldError {
            field: "url",
            message_en: format!("url must be an http:// or https:// URL: {url:?}"),
            message_ja: "url は http:// または https:// の URL で指定してください".into(),
        }
        .into());
    }
    Ok(controller::add_webhook(
        &state.store,
        url,
        caller.journal("webhook.create").request(raw),
    )
    .await?)
}

/// One alert webhook (operators; others are told it does not exist).
///
/// # Errors
/// 404 for anyone but operators and for a webhook that does not exist.
pub async fn webhook(state: &AppState, caller: &Caller, webhook_id: &str) -> ApiResult<Webhook> {
    if !caller.actor.is_operator() {
        return Err(ApiError::not_found());
    }
    Ok(controller::webhook(&mut *state.store.conn().await?, webhook_id).await?)
}

/// Removes an alert webhook (operators), journaled as `webhook.delete`.
///
/// # Errors
/// As [`webhook`].
pub async fn remove_webhook(state: &AppState, caller: &Caller, webhook_id: &str) -> ApiResult<()> {
    if !caller.actor.is_operator() {
        return Err(ApiError::not_found());
    }
    Ok(
        controller::remove_webhook(&state.store, webhook_id, caller.journal("webhook.delete"))
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::FigureSummary;

    #[test]
    fn a_heartbeat_summary_is_whole_percentages_and_summed_rates() {
        let figures = serde_json::json!({
            "cpus": [{"utilisation": 33}, {"utilisation": 70}, {"utilisation": 250}],
            "memory": [{"used": 300, "available": 600}, {"used": 1, "available": 99}],
            "traffic_rates": [{"in_octets": 1000, "out_octets": 5}, {"in_octets": 24}],
        });
        assert_eq!(
            FigureSummary::of(&figures),
            FigureSummary {
                // (33 + 70 + min(250, 100)) / 3 = 203 / 3 = 67 (rounded down)
                cpu: Some(67),
                // (300 + 1) × 100 / (300 + 600 + 1 + 99) = 30100 / 1000 = 30
                memory: Some(30),
                // 1000 + 24; 5 + 0 (an interface without the figure counts 0)
                traffic_in: Some(1024),
                traffic_out: Some(5),
            }
        );
        let none = FigureSummary::of(&serde_json::json!({}));
        assert_eq!((none.cpu, none.memory, none.traffic_in), (None, None, None));
    }
}
