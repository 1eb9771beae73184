//! Device status: heartbeats, silent devices marked DOWN, and the UP/DOWN history.

use mpc_domain::catalog::DeviceType;
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{Result, Store, new_id};

/// What a device reports with its heartbeat.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    pub firmware: String,
    pub uptime_seconds: i64,
    pub applied_revision: Option<i64>,
}

/// A device's monitoring state changed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StateChange {
    pub serial: String,
    /// `up` or `down`.
    pub state: &'static str,
    /// The instant of the change, µs since the epoch.
    pub at: i64,
    /// The last heartbeat, µs since the epoch.
    pub last_heartbeat: i64,
}

async fn record_change(conn: &mut AnyConnection, change: &StateChange) -> Result<()> {
    sqlx::query("INSERT INTO device_state_changes (id, serial, state, at) VALUES ($1, $2, $3, $4)")
        .bind(new_id())
        .bind(change.serial.clone())
        .bind(change.state)
        .bind(change.at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a heartbeat at `now`; a device not UP (or never seen) becomes UP, and the change is
/// returned. Telemetry is not a change of record, so it is not journalled.
pub async fn heartbeat(
    store: &Store,
    serial: &str,
    beat: &Heartbeat,
    now: i64,
) -> Result<Option<StateChange>> {
    let mut tx = store.write().await?;
    let was = state_of(&mut tx, serial).await?;
    sqlx::query(
        "INSERT INTO device_status (serial, state, state_since, last_heartbeat, firmware, uptime_seconds, \
         applied_revision) VALUES ($1, 'up', $2, $2, $3, $4, $5) ON CONFLICT (serial) DO UPDATE SET \
         state = 'up', last_heartbeat = excluded.last_heartbeat, firmware = excluded.firmware, \
         uptime_seconds = excluded.uptime_seconds, applied_revision = excluded.applied_revision",
    )
    .bind(serial.to_owned())
    .bind(now)
    .bind(beat.firmware.clone())
    .bind(beat.uptime_seconds)
    .bind(beat.applied_revision)
    .execute(tx.conn())
    .await?;
    let change = came_up(tx.conn(), serial, was, now).await?;
    tx.commit_part().await?;
    Ok(change)
}

/// Records that `serial` was heard from at `now` by a signal that carries no firmware, uptime or
/// revision but the figures given as JSON (an SMFv2 heartbeat): like [`heartbeat`], keeping
/// what `/device/v1` last reported, with the figures kept as [`super::record_figures`] says, in
/// the same transaction.
pub async fn heard(
    store: &Store,
    serial: &str,
    now: i64,
    figures: &str,
) -> Result<Option<StateChange>> {
    let mut tx = store.write().await?;
    let was = state_of(&mut tx, serial).await?;
    super::record_figures(tx.conn(), serial, now, figures).await?;
    sqlx::query(
        "INSERT INTO device_status (serial, state, state_since, last_heartbeat, firmware, uptime_seconds) \
         VALUES ($1, 'up', $2, $2, '', 0) ON CONFLICT (serial) DO UPDATE SET state = 'up', \
         last_heartbeat = excluded.last_heartbeat",
    )
    .bind(serial.to_owned())
    .bind(now)
    .execute(tx.conn())
    .await?;
    let change = came_up(tx.conn(), serial, was, now).await?;
    tx.commit_part().await?;
    Ok(change)
}

/// `serial`'s state, held until the transaction ends: heartbeats of one device arriving
/// together (on several nodes, or a burst of SMFv2 datagrams) see each other's writes, so a
/// device comes UP once.
async fn state_of(tx: &mut crate::WriteTx, serial: &str) -> Result<Option<String>> {
    tx.lock(&format!("device_status:{serial}")).await?;
    Ok(
        sqlx::query_scalar("SELECT state FROM device_status WHERE serial = $1")
            .bind(serial.to_owned())
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// The change of a device that was `was` and has just been heard from at `now`: none if it
/// was UP already, else UP from now, recorded.
async fn came_up(
    conn: &mut AnyConnection,
    serial: &str,
    was: Option<String>,
    now: i64,
) -> Result<Option<StateChange>> {
    if was.as_deref() == Some("up") {
        return Ok(None);
    }
    let change = StateChange {
        serial: serial.to_owned(),
        state: "up",
        at: now,
        last_heartbeat: now,
    };
    sqlx::query("UPDATE device_status SET state_since = $1 WHERE serial = $2")
        .bind(now)
        .bind(serial.to_owned())
        .execute(&mut *conn)
        .await?;
    record_change(conn, &change).await?;
    Ok(Some(change))
}

/// Marks DOWN every UP device whose last heartbeat is older than `down_after_micros` at `now`,
/// recording each change (devices.md D.4: 15 minutes without a heartbeat).
pub async fn mark_silent_down(
    store: &Store,
    now: i64,
    down_after_micros: i64,
) -> Result<Vec<StateChange>> {
    let mut tx = store.write().await?;
    tx.lock("monitoring").await?;
    let cutoff = now - down_after_micros;
    let silent: Vec<(String, i64)> = sqlx::query_as(
        "SELECT serial, last_heartbeat FROM device_status WHERE state = 'up' AND last_heartbeat < $1 ORDER BY serial",
    )
    .bind(cutoff)
    .fetch_all(tx.conn())
    .await?;
    let mut changes = Vec::new();
    for (serial, last) in silent {
        // Still silent once its row is ours: a heartbeat that committed meanwhile keeps it UP.
        let marked = sqlx::query(
            "UPDATE device_status SET state = 'down', state_since = $1 \
             WHERE serial = $2 AND state = 'up' AND last_heartbeat < $3",
        )
        .bind(now)
        .bind(serial.clone())
        .bind(cutoff)
        .execute(tx.conn())
        .await?;
        if marked.rows_affected() == 0 {
            continue;
        }
        let change = StateChange {
            serial,
            state: "down",
            at: now,
            last_heartbeat: last,
        };
        record_change(tx.conn(), &change).await?;
        changes.push(change);
    }
    tx.commit_part().await?;
    Ok(changes)
}

/// Which devices a monitoring list shows.
#[derive(Debug, Clone, Default)]
pub struct MonitorFilter {
    /// `up` or `down`; a device never heard from is `down`.
    pub state: Option<String>,
    pub contractor_id: Option<String>,
    pub model: Option<DeviceType>,
    pub firmware: Option<String>,
    /// Only devices in one connection state, as the domain describes it; `heard_since` is the
    /// oldest heartbeat (µs) that still counts as recent.
    pub connection: Option<mpc_domain::monitoring::ConnectionCondition>,
    pub heard_since: i64,
    /// Only devices serving a contractor.
    pub assigned_only: bool,
    /// Only the device of this serial.
    pub serial: Option<String>,
}

/// A device of the inventory with its monitoring state.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MonitoredDevice {
    pub serial: String,
    pub model: String,
    pub contractor_id: Option<String>,
    /// 1 when the device is assigned to a contract on the day asked (an assignment that has
    /// not ended before it, begun or still to begin), else 0.
    pub serving: i64,
    /// `up` or `down` as the monitor recorded it; `down` for a device never heard from, which
    /// has no `last_heartbeat`.
    pub state: String,
    pub state_since: Option<i64>,
    pub last_heartbeat: Option<i64>,
    pub firmware: Option<String>,
    pub uptime_seconds: Option<i64>,
    pub applied_revision: Option<i64>,
}

/// How a fleet page is ordered: by serial unless asked otherwise, serial breaking ties.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MonitorOrder {
    #[default]
    Serial,
    StateSince,
    Heartbeat,
    Contractor,
    Firmware,
}

const SERVING: &str = "EXISTS (SELECT 1 FROM device_assignments a WHERE a.serial = i.serial \
     AND (a.until_on IS NULL OR a.until_on >= ";

fn monitor_filter(q: &mut Sql, filter: &MonitorFilter, today: &str) {
    q.push(
        " FROM device_inventory i LEFT JOIN device_status s ON s.serial = i.serial \
             LEFT JOIN devices d ON d.serial = i.serial \
             LEFT JOIN contractors c ON c.id = d.contractor_id WHERE 1 = 1",
    );
    if let Some(state) = &filter.state {
        q.push(" AND COALESCE(s.state, 'down') = ")
            .bind(state.clone());
    }
    if let Some(c) = &filter.contractor_id {
        q.push(" AND d.contractor_id = ").bind(c.clone());
    }
    if let Some(m) = filter.model {
        q.push(" AND i.model = ").bind(m.as_str().to_owned());
    }
    if let Some(f) = &filter.firmware {
        q.push(" AND s.firmware = ").bind(f.clone());
    }
    if filter.assigned_only {
        q.push(" AND d.contractor_id IS NOT NULL");
    }
    if let Some(serial) = &filter.serial {
        q.push(" AND i.serial = ").bind(serial.clone());
    }
    if let Some(cond) = &filter.connection {
        q.push(if cond.serving { " AND " } else { " AND NOT " })
            .push(SERVING)
            .bind(today.to_owned())
            .push("))");
        if let Some(heard) = cond.heard {
            q.push(if heard {
                " AND s.last_heartbeat IS NOT NULL"
            } else {
                " AND s.last_heartbeat IS NULL"
            });
        }
        if let Some(fresh) = cond.fresh_up {
            q.push(if fresh {
                " AND s.state = 'up' AND s.last_heartbeat >= "
            } else {
                " AND NOT (s.state = 'up' AND s.last_heartbeat >= "
            })
            .bind(filter.heard_since)
            .push(if fresh { "" } else { ")" });
        }
    }
}

fn monitored_select(today: &str) -> Sql {
    let mut q = Sql::new("SELECT i.serial, i.model, d.contractor_id, CAST(CASE WHEN ");
    q.push(SERVING).bind(today.to_owned()).push(
        ")) THEN 1 ELSE 0 END AS BIGINT) AS serving, COALESCE(s.state, 'down') AS state, \
             s.state_since, s.last_heartbeat, s.firmware, s.uptime_seconds, s.applied_revision",
    );
    q
}

/// Inventory devices with their state, by serial; `serving` as of `today` (`YYYY-MM-DD`).
pub async fn monitored(
    conn: &mut AnyConnection,
    filter: &MonitorFilter,
    today: &str,
) -> Result<Vec<MonitoredDevice>> {
    let mut q = monitored_select(today);
    monitor_filter(&mut q, filter, today);
    q.push(" ORDER BY i.serial");
    Ok(q.query_as()?.fetch_all(conn).await?)
}

/// How many inventory devices `filter` finds on `today`.
pub async fn count_monitored(
    conn: &mut AnyConnection,
    filter: &MonitorFilter,
    today: &str,
) -> Result<i64> {
    let mut q = Sql::new("SELECT COUNT(*)");
    monitor_filter(&mut q, filter, today);
    let (n,): (i64,) = q.query_as()?.fetch_one(conn).await?;
    Ok(n)
}

/// `limit` inventory devices `filter` finds from the `offset`th, in `order` (`desc`ending
/// when asked), the serial breaking ties.
pub async fn monitored_page(
    conn: &mut AnyConnection,
    filter: &MonitorFilter,
    today: &str,
    order: MonitorOrder,
    desc: bool,
    offset: i64,
    limit: i64,
) -> Result<Vec<MonitoredDevice>> {
    let mut q = monitored_select(today);
    monitor_filter(&mut q, filter, today);
    let column = match order {
        MonitorOrder::Serial => "i.serial",
        MonitorOrder::StateSince => "s.state_since",
        MonitorOrder::Heartbeat => "s.last_heartbeat",
        MonitorOrder::Contractor => "c.name",
        MonitorOrder::Firmware => "s.firmware",
    };
    let direction = if desc { " DESC" } else { "" };
    // Nothing known sorts first either way on both backends.
    q.push(" ORDER BY CASE WHEN ")
        .push(column)
        .push(" IS NULL THEN 0 ELSE 1 END")
        .push(direction)
        .push(", ")
        .push(column)
        .push(direction)
        .push(", i.serial")
        .push(direction)
        .push(" LIMIT ")
        .bind(limit)
        .push(" OFFSET ")
        .bind(offset);
    Ok(q.query_as()?.fetch_all(conn).await?)
}

/// Whether `serial` is in the inventory.
pub async fn in_inventory(conn: &mut AnyConnection, serial: &str) -> Result<bool> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT serial FROM device_inventory WHERE serial = $1")
            .bind(serial.to_owned())
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

/// A device's state changes, oldest first: (state, instant in µs).
pub async fn history(conn: &mut AnyConnection, serial: &str) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT state, at FROM device_state_changes WHERE serial = $1 ORDER BY at, id",
    )
    .bind(serial.to_owned())
    .fetch_all(conn)
    .await?)
}

// ---------------------------------------------------------------------------------------------
// Alert webhooks
