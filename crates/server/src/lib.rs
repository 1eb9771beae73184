//! The mpc HTTP server: the REST API with its OpenAPI document, operational endpoints, and
//! (as they arrive) device call-home and the web console.
//!
//! Handlers are thin: they authenticate, check what the caller may see, parse, call the domain,
//! and persist through one storage transaction that also writes the journal.

pub mod api;
pub mod app;
pub mod device;
pub mod error;
pub mod extract;
pub mod invoice_print;
pub mod jobs;
pub mod observability;
pub mod smfv2;
pub mod views;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use mpc_storage::Store;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::error::ApiError;
use crate::observability::REQUEST_ID_HEADER;

/// Where the OpenAPI document and its browsable docs are served.
pub const OPENAPI_PATH: &str = "/api/openapi.json";
pub const DOCS_PATH: &str = "/api/docs";

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub metrics: PrometheusHandle,
    /// Seals secrets at rest (factory secrets, preset parameters, recipes).
    pub secret_key: mpc_storage::controller::SecretKey,
    /// What the device config poll reads instead of the database.
    pub devices: std::sync::Arc<device::cache::DeviceCache>,
    /// Device requests seen recently by this process (replay protection).
    pub replay: std::sync::Arc<device::auth::ReplayGuard>,
    /// Where billing runs, imports and usage batches run: away from the request path.
    pub jobs: jobs::Jobs,
    /// On PostgreSQL, the device requests seen by every node sharing the database.
    pub seen: Option<std::sync::Arc<device::seen::SeenLog>>,
    /// Silent this long, a device is DOWN as the monitor counts it (devices.md D.4); set from
    /// [`device::DeviceConfig::down_after`] by [`app`], so lists and the sweep agree.
    pub down_after: std::time::Duration,
}

impl AppState {
    /// The state of one server node. On PostgreSQL it starts the writer of the shared replay
    /// log, so call it inside a Tokio runtime.
    pub fn new(store: Store, secret_key: mpc_storage::controller::SecretKey) -> Self {
        let devices: std::sync::Arc<device::cache::DeviceCache> = Default::default();
        // This node's own changes reach the device cache before their responses are sent
        // (R11.1, R12.3, D6, R3.1 withdraw a configuration at once); other nodes' through the
        // journal.
        let cache = std::sync::Arc::downgrade(&devices);
        store.on_commit(std::sync::Arc::new(move |touched| {
            if let Some(cache) = cache.upgrade() {
                cache.committed(touched);
            }
        }));
        let seen = (store.backend() == mpc_storage::Backend::Postgres)
            .then(|| std::sync::Arc::new(device::seen::SeenLog::start(store.clone())));
        Self {
            jobs: jobs::Jobs::new(&store),
            store,
            metrics: observability::metrics_handle(),
            secret_key,
            devices,
            replay: Default::default(),
            seen,
            down_after: mpc_domain::monitoring::DOWN_AFTER.unsigned_abs(),
        }
    }
}

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Device call-home and monitoring.
    pub device: device::DeviceConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 1024 * 1024,
            device: device::DeviceConfig::default(),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "mpc API",
        description = "Contracts, billing and device control of the Multi-Product Controller \
            Service Preset. Errors are RFC 9457 problem details whose `code` is the id of the \
            rule that refused the request (e.g. `R13.1`, see the regulation restated in \
            `shared/spec/regulation.md`) or a snake_case name for protocol errors."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "contractors", description = "Customer accounts (契約者)"),
        (name = "users", description = "Operator and contractor accounts and their API tokens"),
        (name = "requests", description = "What contractors ask for (applications, changes, notices, reports) and operators' acceptance"),
        (name = "contracts", description = "Contracts, options and packet share groups as of any day; termination quotes"),
        (name = "devices", description = "Device custody: serials, returns, losses (R7, R10–R12)"),
        (name = "eligibility", description = "Eligibility (R6): designated services, designations, invoice redirects"),
        (name = "billing", description = "Price book, monthly billing runs, qualified invoices, payments, SLA credits (R14–R16, B1–B5)"),
        (name = "controller", description = "Presets and their revisions, the device inventory, monitoring and alert webhooks; devices themselves call home at /device/v1 (see README)"),
        (name = "mobile", description = "SIMs, usage ingestion, usage against caps and packs, throttle decisions (R9.3, R9.6, R9.9)"),
        (name = "journal", description = "The record of every accepted change"),
        (name = "search", description = "Anything by part of its id, serial, ICCID, name or number"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(api::health::healthz))
        .routes(routes!(api::health::readyz))
        .routes(routes!(api::health::metrics))
        .nest("/api/v1", api::v1::router())
}

/// The OpenAPI 3.1 document of the API, as served at [`OPENAPI_PATH`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    complete(api().into_openapi())
}

/// Makes the generated document valid OpenAPI 3.1: every response gets a description (the
/// status phrase where a handler gives none), and operation ids — taken from handler names,
/// which repeat across modules — are made unique by the path where they clash.
fn complete(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for item in doc.paths.paths.values() {
        for op in [&item.get, &item.put, &item.post, &item.delete, &item.patch]
            .into_iter()
            .flatten()
        {
            if let Some(id) = &op.operation_id {
                *seen.entry(id.clone()).or_default() += 1;
            }
        }
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let slug: String = path
            .trim_start_matches("/api/v1")
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("_");
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ];
        for op in operations.into_iter().flatten() {
            if let Some(id) = op
                .operation_id
                .as_mut()
                .filter(|id| seen.get(*id).is_some_and(|n| *n > 1))
            {
                *id = format!("{id}_{slug}");
            }
            for (status, response) in op.responses.responses.iter_mut() {
                if let utoipa::openapi::RefOr::T(r) = response
                    && r.description.is_empty()
                {
                    r.description = status
                        .parse::<u16>()
                        .ok()
                        .and_then(|s| StatusCode::from_u16(s).ok())
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("Response")
                        .to_owned();
                }
            }
        }
    }
    doc
}

/// The whole application.
///
/// Device call-home (`/device/v1`) carries most of the traffic, from unattended routers: it keeps
/// request ids, metrics, the body limit and the panic catcher, but has no tracing span of its
/// own (its handlers log what goes wrong) and no header redaction (devices send no bearer token).
pub fn app(mut state: AppState, config: &ServerConfig) -> Router {
    state.down_after = config.device.down_after;
    let (router, openapi) = api().split_for_parts();
    let openapi = complete(openapi);
    let docs = SwaggerUi::new(DOCS_PATH)
        .url(OPENAPI_PATH, openapi)
        .config(Config::new([OPENAPI_PATH]).validator_url("none"));
    let devices = outer_layers(inner_layers(
        device::router(state.clone(), config.device.clone()),
        config,
    ));
    let rest = router
        .merge(docs)
        .merge(web::router())
        .route("/", get(|| async { Redirect::temporary(web::CONSOLE) }))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this resource does not support that method",
            )
        });
    let rest = inner_layers(rest, config)
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
        let request_id = req
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::info_span!("request", method = %req.method(), path = req.uri().path(), request_id)
    })
    .on_response(log_response)
    .on_failure(()));
    outer_layers(rest)
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
        ]))
        .merge(devices)
        .with_state(state)
}

/// Logs each API and console response (the device path is not logged per request): at info,
/// client errors as warnings, server errors as errors, so an operator following the log sees
/// refusals without turning on debug output.
fn log_response(res: &axum::response::Response, latency: std::time::Duration, _: &tracing::Span) {
    let status = res.status().as_u16();
    let ms = latency.as_millis();
    match status {
        500.. => tracing::error!(status, ms, "response"),
        400..=499 => tracing::warn!(status, ms, "response"),
        _ => tracing::info!(status, ms, "response"),
    }
}

/// The layers next to every handler: the body limit, and metrics by route.
fn inner_layers<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    config: &ServerConfig,
) -> Router<S> {
    router
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(axum::middleware::from_fn(observability::track))
}

/// The most header bytes (names and values) one request may carry: browsers send a few KiB,
/// devices far less. The HTTP server itself accepts up to about 400 KiB (issue 15).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Answers 431 to a request whose headers exceed [`MAX_HEADER_BYTES`], and 400 to one whose
/// path or query holds an encoded NUL, before any handler reads them.
async fn limit_headers(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    let size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum::<usize>()
        + req.uri().to_string().len();
    if size > MAX_HEADER_BYTES {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!("the request line and headers exceed {MAX_HEADER_BYTES} bytes"),
        )
        .into_response();
    }
    // A NUL in a path segment or query value reaches queries as text that PostgreSQL refuses.
    if req
        .uri()
        .path_and_query()
        .is_some_and(|pq| pq.as_str().to_ascii_lowercase().contains("%00"))
    {
        return ApiError::bad_request(
            "invalid_uri",
            "the path or query holds an encoded NUL character (%00)",
        )
        .into_response();
    }
    next.run(req).await
}

/// The layers around every request: the header limit, the panic catcher, and the request id.
fn outer_layers<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(axum::middleware::from_fn(limit_headers))
        .layer(CatchPanicLayer::custom(|_panic| {
            tracing::error!("handler panicked");
            ApiError::internal().into_response()
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
        .layer(SetRequestIdLayer::new(
            REQUEST_ID_HEADER,
            observability::MakeRequestIds::default(),
        ))
}

/// Serves `app` on `config.listen` until `shutdown` completes, then finishes the requests in
/// flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Responses are small and go out whole: no need for Nagle's algorithm to hold them back.
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    // The peer's address reaches handlers that need it (sign-in throttling).
    let app = app(state, config).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// How often the server looks for devices whose return deadline passed (R10.3).
const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

/// Runs the periodic duties in the background: treating devices not returned by their deadline
/// as lost (R10.3, R12.2) on the day after the deadline, in Japan time.
pub fn spawn_housekeeping(store: Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(SWEEP_INTERVAL);
        loop {
            ticks.tick().await;
            let today = mpc_domain::calendar::tokyo_date(jiff::Timestamp::now());
            let journal = mpc_storage::JournalEntry::new("system", "device.sweep_overdue");
            match mpc_storage::contracts::requests::sweep_overdue_returns(&store, today, journal)
                .await
            {
                Ok(effects) if !effects.is_empty() => {
                    tracing::info!(effects = effects.len(), %today, "overdue returns treated as lost");
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "overdue-return sweep failed"),
            }
        }
    })
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
