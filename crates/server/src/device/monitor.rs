//! Monitoring: devices silent for too long go DOWN, a heartbeat brings them UP, and every
//! change is POSTed as JSON to each alert webhook.
//!
//! Unlike MPC's own notifications (devices.md D.4: no retry), a failed delivery is retried with
//! exponential backoff: a missed DOWN alert is what monitoring exists to prevent.

use std::sync::LazyLock;
use std::time::Duration;

use mpc_storage::controller::{self, StateChange};
use mpc_storage::{Store, now_micros};

use super::DeviceConfig;

static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default()
});

/// The JSON an alert webhook receives.
fn payload(change: &StateChange) -> serde_json::Value {
    let instant = |micros: i64| {
        mpc_storage::timestamp(micros)
            .map(|t| t.to_string())
            .unwrap_or_default()
    };
    serde_json::json!({
        "event": format!("device.{}", change.state),
        "serial": change.serial,
        "state": change.state,
        "at": instant(change.at),
        "last_heartbeat": instant(change.last_heartbeat),
    })
}

/// Sends `changes` to every webhook in the background.
pub fn alert(store: &Store, config: &DeviceConfig, changes: Vec<StateChange>) {
    notify(store, config, changes.iter().map(payload).collect());
}

/// Sends each JSON body to every webhook in the background, with retries.
pub fn notify(store: &Store, config: &DeviceConfig, bodies: Vec<serde_json::Value>) {
    let store = store.clone();
    let (attempts, backoff) = (config.webhook_attempts.max(1), config.webhook_backoff);
    tokio::spawn(async move {
        let hooks = match store.conn().await {
            Ok(mut conn) => controller::webhooks(&mut conn).await,
            Err(e) => Err(e),
        };
        let hooks = match hooks {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the alert webhooks");
                return;
            }
        };
        for body in &bodies {
            for hook in &hooks {
                tokio::spawn(deliver(hook.url.clone(), body.clone(), attempts, backoff));
            }
        }
    });
}

/// POSTs `body` to `url` until a 2xx answer or `attempts` tries, waiting `backoff`, then twice
/// as long, between tries.
async fn deliver(url: String, body: serde_json::Value, attempts: u32, backoff: Duration) {
    let mut wait = backoff;
    for attempt in 1..=attempts {
        let sent = CLIENT
            .post(&url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => return,
            Ok(r) => tracing::warn!(url, attempt, status = %r.status(), "alert webhook refused"),
            Err(e) => tracing::warn!(url, attempt, error = %e, "alert webhook unreachable"),
        }
        if attempt < attempts {
            tokio::time::sleep(wait).await;
            wait = wait.saturating_mul(2);
        }
    }
    tracing::error!(url, attempts, "alert not delivered");
}

/// Marks silent devices DOWN every `monitor_every` and alerts the webhooks.
pub fn spawn_monitoring(store: Store, config: DeviceConfig) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(config.monitor_every);
        let down_after = i64::try_from(config.down_after.as_micros()).unwrap_or(i64::MAX);
        loop {
            ticks.tick().await;
            match controller::mark_silent_down(&store, now_micros(), down_after).await {
                Ok(changes) if !changes.is_empty() => {
                    tracing::info!(devices = changes.len(), "devices went DOWN");
                    alert(&store, &config, changes);
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "monitoring sweep failed"),
            }
        }
    })
}

/// The webhook feed name of throttle decisions.
const THROTTLE_FEED: &str = "throttle_events";

/// Relays every change of a SIM's throttle decisions (R9.9) to the webhooks so a mobile core
/// can act on them. The position is kept in the database, so a restart resumes where it
/// stopped; delivery is at least once and concurrent, so receivers order and deduplicate by
/// `seq`.
pub fn spawn_throttle_relay(store: Store, config: DeviceConfig) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(config.monitor_every.min(Duration::from_secs(1)));
        loop {
            ticks.tick().await;
            if let Err(e) = relay_throttles(&store, &config).await {
                tracing::error!(error = %e, "throttle relay failed");
            }
        }
    })
}

/// One pass of the throttle relay: posts the events not yet relayed and moves the feed on.
pub async fn relay_throttles(store: &Store, config: &DeviceConfig) -> mpc_storage::Result<()> {
    use mpc_storage::mobile;
    let mut conn = store.conn().await?;
    let cursor = mobile::feed_cursor(&mut conn, THROTTLE_FEED).await?;
    let events = mobile::events_since(&mut conn, cursor, 1000).await?;
    drop(conn);
    let Some(last) = events.last().map(|e| e.seq) else {
        return Ok(());
    };
    let instant = |micros: Option<i64>| {
        micros
            .and_then(|m| mpc_storage::timestamp(m).ok())
            .map(|t| t.to_string())
    };
    let bodies = events
        .iter()
        .map(|e| {
            serde_json::json!({
                "event": format!("throttle.{}", e.kind),
                "seq": e.seq,
                "iccid": e.iccid,
                "option_id": e.option_id,
                "month": e.month,
                "from": instant(e.from_at),
                "until": instant(e.until_at),
                "reason": e.reason,
                "at": instant(Some(e.created_at)),
            })
        })
        .collect();
    notify(store, config, bodies);
    mobile::advance_feed(store, THROTTLE_FEED, last).await
}
