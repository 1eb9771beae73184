//! `/device/v1`: service adapters calling home by serial (no bearer token; see [`auth`] for
//! the signature).
//!
//! - `GET /device/v1/config`: the recipe text of the contract's current revision
//!   (`text/plain`), with a strong `ETag` and `X-MPC-Revision`; `If-None-Match` answers 304.
//! - `POST /device/v1/status`: the heartbeat (`firmware`, `uptime_seconds`, `applied_revision`
//!   as JSON); 204.
//!
//! An unknown serial and a bad signature get the same 401, after the same work (one HMAC, no
//! query: the inventory's serials are held in memory), so neither the answer nor its timing
//! tells whether a serial exists. A device that may not have its configuration gets
//! 403 with the rule withholding it (R7.1, D6, R11.1, R12.3, or R3.1 for a unit of another
//! model than its contract's). A replacement unit serves the same contract, so it receives the
//! same configuration (R11.1).

pub mod auth;
pub mod cache;
pub mod monitor;
pub mod seen;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mpc_api_types::controller::DeviceStatus;
use mpc_domain::calendar::tokyo_date;
use mpc_domain::contract::set_billing_start;
use mpc_storage::contracts::requests::{self, EngineError};
use mpc_storage::controller::{self, Heartbeat};
use mpc_storage::{JournalEntry, fetches, now_micros};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use cache::{Config, Verdict};

/// Settings of device call-home and monitoring.
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    /// A device's first successful configuration fetch sets its contract's billing start date
    /// (R5.2), where the deployment makes the service available that way.
    pub billing_start_on_first_fetch: bool,
    /// How often the config cache looks for changes made elsewhere (other nodes, the CLI).
    /// A change is in force on every node within this interval plus one journal read, so it
    /// stays well under a second.
    pub cache_refresh: Duration,
    /// A device with no heartbeat for this long is DOWN (devices.md D.4: 15 minutes).
    pub down_after: Duration,
    /// How often the monitor looks for silent devices.
    pub monitor_every: Duration,
    /// Attempts to deliver one alert to one webhook.
    pub webhook_attempts: u32,
    /// The wait before the first retry; each further retry waits twice as long.
    pub webhook_backoff: Duration,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        Self {
            billing_start_on_first_fetch: false,
            cache_refresh: Duration::from_millis(250),
            down_after: Duration::from_secs(15 * 60),
            monitor_every: Duration::from_secs(30),
            webhook_attempts: 5,
            webhook_backoff: Duration::from_secs(1),
        }
    }
}

/// What the device routes share: the application's state and the device settings, behind one
/// `Arc`, so a request clones one pointer rather than every handle of [`AppState`].
struct Shared {
    app: AppState,
    settings: DeviceConfig,
}

type DeviceState = State<Arc<Shared>>;

/// The `/device/v1` routes, with their state already given.
pub fn router<S>(state: AppState, settings: DeviceConfig) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/device/v1/config", get(config_poll))
        .route("/device/v1/status", post(status))
        .with_state(Arc::new(Shared {
            app: state,
            settings,
        }))
}

const SERIAL: HeaderName = HeaderName::from_static(auth::SERIAL_HEADER);
const TIMESTAMP: HeaderName = HeaderName::from_static(auth::TIMESTAMP_HEADER);
const NONCE: HeaderName = HeaderName::from_static(auth::NONCE_HEADER);
const SIGNATURE: HeaderName = HeaderName::from_static(auth::SIGNATURE_HEADER);
const REVISION: HeaderName = HeaderName::from_static(auth::REVISION_HEADER);

fn unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "sign the request with the device's serial and factory secret",
    )
}

/// A key for unknown serials, so their 401 costs the same HMAC as a bad signature's.
const NO_SECRET: &[u8] = b"no such device: verify anyway to take the same time";

/// A device request that passed [`authenticate`].
struct Authenticated<'a> {
    serial: &'a str,
    /// The device's verdict, when the cache had it already.
    verdict: Option<Verdict>,
}

/// Checks a device request's signature, timestamp and freshness.
///
/// A device known to the cache costs one lookup under a read lock: its credentials and its
/// verdict come together.
async fn authenticate<'a>(
    state: &AppState,
    config: &DeviceConfig,
    method: &Method,
    path: &str,
    headers: &'a HeaderMap,
    body: &[u8],
) -> ApiResult<Authenticated<'a>> {
    let header = |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(serial), Some(timestamp), Some(nonce), Some(signature)) = (
        header(&SERIAL),
        header(&TIMESTAMP),
        header(&NONCE),
        header(&SIGNATURE),
    ) else {
        return Err(unauthenticated());
    };
    if !auth::valid_nonce(nonce) || !auth::valid_signature(signature) {
        return Err(unauthenticated());
    }
    let sent: i64 = timestamp.parse().map_err(|_| unauthenticated())?;
    let now = jiff::Timestamp::now().as_second();
    if (now - sent).abs() > auth::MAX_SKEW_SECS {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "stale_timestamp",
            format!(
                "the timestamp is more than {} seconds from the server's clock ({now})",
                auth::MAX_SKEW_SECS
            ),
        ));
    }
    state
        .devices
        .refresh(&state.store, config.cache_refresh)
        .await?;
    let (credentials, verdict) = match state.devices.known(serial) {
        Some((credentials, verdict)) => (Some(credentials), verdict),
        None => (
            state
                .devices
                .credentials(&state.store, &state.secret_key, serial)
                .await?,
            None,
        ),
    };
    let secret = credentials.as_ref().map_or(NO_SECRET, |c| &c.secret[..]);
    let request = auth::Request {
        method: method.as_str(),
        path,
        timestamp,
        nonce,
        serial,
        body,
    };
    if !request.verify(secret, signature) || credentials.is_none() {
        return Err(unauthenticated());
    }
    let replayed = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "replayed",
            "this request's serial, timestamp and nonce were received before; sign every \
             request afresh with a fresh nonce",
        )
    };
    let id = auth::request_id(serial, timestamp, nonce);
    match state.replay.first_use(now, sent, &id) {
        auth::Use::First => {}
        auth::Use::Replayed => return Err(replayed()),
        auth::Use::Full => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the server is at its limit of signed requests in the window; retry later",
            ));
        }
    }
    // New to this node; with several nodes, also to every other one?
    if let Some(seen) = &state.seen
        && !seen.first_use(&id, sent).await?
    {
        return Err(replayed());
    }
    Ok(Authenticated { serial, verdict })
}

/// The configuration of an authenticated device, or why not.
async fn ready(state: &AppState, device: Authenticated<'_>) -> ApiResult<Arc<Config>> {
    let verdict = match device.verdict {
        Some(v) => v,
        None => {
            state
                .devices
                .verdict(&state.store, &state.secret_key, device.serial)
                .await?
        }
    };
    match verdict {
        Verdict::Ready(config) => Ok(config),
        Verdict::Refused(r) => Err(refusal(&r, StatusCode::FORBIDDEN)),
        Verdict::Incomplete(r) => Err(refusal(&r, StatusCode::CONFLICT)),
    }
}

fn refusal(r: &mpc_domain::Refusal, status: StatusCode) -> ApiError {
    let mut e = ApiError::from(r.clone());
    e.status = status;
    e
}

/// The device's configuration: its contract's current recipe (R2.2, R11.1).
///
/// The request is taken whole, so its headers are read in place rather than copied.
async fn config_poll(State(shared): DeviceState, request: Request) -> ApiResult<Response> {
    let (state, settings) = (&shared.app, &shared.settings);
    let headers = request.headers();
    let device = authenticate(
        state,
        settings,
        request.method(),
        request.uri().path(),
        headers,
        b"",
    )
    .await?;
    let serial = device.serial;
    let config = ready(state, device).await?;
    if config.take_first_fetch() {
        record_fetch(state, serial, &config).await?;
    }
    if settings.billing_start_on_first_fetch && config.take_billing_start() {
        start_billing(state, serial, &config).await;
    }
    let etag = config.etag();
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|t| {
                let t = t.trim();
                t.as_bytes() == etag.as_bytes() || t == "*"
            })
        });
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            config.recipe(),
        )
            .into_response()
    };
    let h = response.headers_mut();
    h.insert(header::ETAG, etag);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(rev) = config.revision {
        h.insert(REVISION, HeaderValue::from(rev));
    }
    Ok(response)
}

/// Records that the device fetched its contract's configuration, before it has it: from then
/// on its notified serial can no longer be corrected (R7.1).
async fn record_fetch(state: &AppState, serial: &str, config: &Config) -> ApiResult<()> {
    fetches::record(&state.store, serial, config.contract_id())
        .await
        .inspect_err(|_| config.restore_first_fetch())?;
    Ok(())
}

/// Sets the contract's billing start to the Tokyo date of the first fetch (R5.2).
pub(crate) async fn start_billing(state: &AppState, serial: &str, config: &Config) {
    let today = tokyo_date(jiff::Timestamp::now());
    let journal = JournalEntry::new(format!("device:{serial}"), "contract.billing_start")
        .subject(config.contract_id())
        .request(
            serde_json::json!({ "on": today, "cause": "first_config_fetch", "serial": serial }),
        );
    match requests::record(&state.store, &config.contractor_id, journal, |book| {
        set_billing_start(book, config.contract_id(), today)
    })
    .await
    {
        Ok(_) | Err(EngineError::Refused(_)) => {}
        Err(EngineError::Storage(e)) => {
            config.restore_billing_start();
            tracing::error!(error = %e, serial, "billing start on first fetch failed");
        }
    }
}

/// The heartbeat: firmware, uptime and the revision applied. A DOWN device becomes UP.
async fn status(
    State(shared): DeviceState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let (state, settings) = (&shared.app, &shared.settings);
    let device = authenticate(state, settings, &method, uri.path(), &headers, &body).await?;
    let serial = device.serial;
    ready(state, device).await?;
    let report: DeviceStatus = serde_json::from_slice(&body)
        .map_err(|e| ApiError::unprocessable("invalid_body", e.to_string()))?;
    if report.firmware.is_empty() || report.firmware.len() > 64 {
        return Err(ApiError::unprocessable(
            "invalid_body",
            "firmware must be 1 to 64 characters",
        ));
    }
    let beat = Heartbeat {
        firmware: report.firmware,
        uptime_seconds: i64::try_from(report.uptime_seconds).unwrap_or(i64::MAX),
        applied_revision: report.applied_revision,
    };
    if let Some(change) = controller::heartbeat(&state.store, serial, &beat, now_micros()).await? {
        monitor::alert(&state.store, settings, vec![change]);
    }
    Ok(StatusCode::NO_CONTENT)
}
