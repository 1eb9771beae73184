//! `/device/v1`: service adapters calling home by serial (no bearer token; see [`auth`] for
//! the signature).
//!
//! - `GET /device/v1/config`: the recipe text of the contract's current revision
//!   (`text/plain`), with a strong `ETag` and `X-MPC-Revision`; `If-None-Match` answers 304.
//! - `POST /device/v1/status`: the heartbeat (`firmware`, `uptime_seconds`, `applied_revision`
//!   as JSON); 204.
//!
//! An unknown serial and a bad signature get the same 401, after the same work, so the answer
//! does not tell whether a serial exists. A device that may not have its configuration gets
//! 403 with the rule withholding it (R7.1, D6, R11.1, R12.3, or R3.1 for a unit of another
//! model than its contract's). A replacement unit serves the same contract, so it receives the
//! same configuration (R11.1).

pub mod auth;
pub mod cache;
pub mod monitor;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use mpc_api_types::controller::DeviceStatus;
use mpc_domain::calendar::tokyo_date;
use mpc_domain::contract::set_billing_start;
use mpc_storage::controller::{self, Heartbeat};
use mpc_storage::engine::{self, EngineError};
use mpc_storage::{JournalEntry, now_micros};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use cache::{Config, Credentials, Verdict};

/// Settings of device call-home and monitoring.
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    /// A device's first successful configuration fetch sets its contract's billing start date
    /// (R5.2), where the deployment makes the service available that way.
    pub billing_start_on_first_fetch: bool,
    /// How often the config cache looks for changes made elsewhere (other nodes, the CLI).
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
            cache_refresh: Duration::from_secs(1),
            down_after: Duration::from_secs(15 * 60),
            monitor_every: Duration::from_secs(30),
            webhook_attempts: 5,
            webhook_backoff: Duration::from_secs(1),
        }
    }
}

pub fn router(config: DeviceConfig) -> Router<AppState> {
    Router::new()
        .route("/device/v1/config", get(config_poll))
        .route("/device/v1/status", post(status))
        .layer(Extension(config))
}

fn unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "sign the request with the device's serial and factory secret",
    )
}

/// A key for unknown serials, so their 401 costs the same HMAC as a bad signature's.
const NO_SECRET: &[u8] = b"no such device: verify anyway to take the same time";

/// Checks a device request's signature, timestamp and freshness; returns the serial.
async fn authenticate(
    state: &AppState,
    config: &DeviceConfig,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<(String, Option<Arc<Credentials>>)> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(serial), Some(timestamp), Some(nonce), Some(signature)) = (
        header(auth::SERIAL_HEADER),
        header(auth::TIMESTAMP_HEADER),
        header(auth::NONCE_HEADER),
        header(auth::SIGNATURE_HEADER),
    ) else {
        return Err(unauthenticated());
    };
    if !auth::valid_nonce(nonce) {
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
    let credentials = state
        .devices
        .credentials(&state.store, &state.secret_key, serial)
        .await?;
    let canonical = auth::canonical(method.as_str(), uri.path(), timestamp, nonce, serial, body);
    let secret = credentials.as_ref().map_or(NO_SECRET, |c| &c.secret[..]);
    if !auth::verify(secret, &canonical, signature) || credentials.is_none() {
        return Err(unauthenticated());
    }
    if !state
        .replay
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .first_use(signature)
    {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "replayed",
            "this signed request was received before; sign every request afresh",
        ));
    }
    Ok((serial.to_owned(), credentials))
}

/// The configuration of an authenticated device, or why not.
async fn ready(state: &AppState, serial: &str) -> ApiResult<Arc<Config>> {
    let verdict = state
        .devices
        .verdict(&state.store, &state.secret_key, serial)
        .await?;
    match &*verdict {
        Verdict::Ready(config) => Ok(config.clone()),
        Verdict::Refused(r) => Err(refusal(r, StatusCode::FORBIDDEN)),
        Verdict::Incomplete(r) => Err(refusal(r, StatusCode::CONFLICT)),
    }
}

fn refusal(r: &mpc_domain::Refusal, status: StatusCode) -> ApiError {
    let mut e = ApiError::from(r.clone());
    e.status = status;
    e
}

/// The device's configuration: its contract's current recipe (R2.2, R11.1).
async fn config_poll(
    State(state): State<AppState>,
    Extension(settings): Extension<DeviceConfig>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (serial, _) = authenticate(&state, &settings, &method, &uri, &headers, b"").await?;
    let config = ready(&state, &serial).await?;
    if settings.billing_start_on_first_fetch && config.take_billing_start() {
        start_billing(&state, &serial, &config).await;
    }
    let etag = HeaderValue::from_str(&config.etag).map_err(|_| ApiError::internal())?;
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == config.etag || t.trim() == "*")
        });
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            config.recipe.clone(),
        )
            .into_response()
    };
    let h = response.headers_mut();
    h.insert(header::ETAG, etag);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(rev) = config.revision {
        h.insert(auth::REVISION_HEADER, HeaderValue::from(rev));
    }
    Ok(response)
}

/// Sets the contract's billing start to the Tokyo date of the first fetch (R5.2).
async fn start_billing(state: &AppState, serial: &str, config: &Config) {
    let today = tokyo_date(jiff::Timestamp::now());
    let journal = JournalEntry::new(format!("device:{serial}"), "contract.billing_start")
        .subject(&config.contract_id)
        .request(
            serde_json::json!({ "on": today, "cause": "first_config_fetch", "serial": serial }),
        );
    match engine::record(&state.store, &config.contractor_id, journal, |book| {
        set_billing_start(book, &config.contract_id, today)
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
    State(state): State<AppState>,
    Extension(settings): Extension<DeviceConfig>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let (serial, _) = authenticate(&state, &settings, &method, &uri, &headers, &body).await?;
    ready(&state, &serial).await?;
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
    if let Some(change) = controller::heartbeat(&state.store, &serial, &beat, now_micros()).await? {
        monitor::alert(&state.store, &settings, vec![change]);
    }
    Ok(StatusCode::NO_CONTENT)
}
