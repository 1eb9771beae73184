//! Request ids, tracing spans and Prometheus metrics.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::{self as http, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower_http::request_id::{MakeRequestId, RequestId};

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// How often buffered histogram samples are folded into their buckets.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

tokio::task_local! {
    static REQUEST_ID: Option<HeaderValue>;
}

/// The id of the request being served on this task, for error bodies.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID
        .try_with(|id| id.as_ref().and_then(|v| v.to_str().ok()).map(str::to_owned))
        .ok()
        .flatten()
}

/// Request ids for requests that bring none: a random prefix per process and a counter.
///
/// Unique like a random UUID, without asking the operating system for randomness on every
/// request.
#[derive(Clone)]
pub struct MakeRequestIds {
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
}

impl Default for MakeRequestIds {
    fn default() -> Self {
        let mut seed = [0u8; 8];
        // Without randomness, time still tells processes apart.
        if getrandom::fill(&mut seed).is_err() {
            seed = jiff::Timestamp::now().as_nanosecond().to_le_bytes()[..8]
                .try_into()
                .expect("8 bytes");
        }
        Self {
            prefix: hex::encode(seed).into(),
            next: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl MakeRequestId for MakeRequestIds {
    fn make_request_id<B>(&mut self, _request: &http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}-{n:08x}", self.prefix);
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// A route's counter and timer for one method and status, registered once.
struct Handles {
    method: Method,
    status: u16,
    requests: Counter,
    duration: Histogram,
}

/// Registered handles by route: a request finds its own under a read lock instead of
/// building and hashing a labelled key in the recorder.
static HANDLES: LazyLock<RwLock<HashMap<String, Vec<Handles>>>> = LazyLock::new(Default::default);

fn count(method: &Method, route: &str, status: u16, seconds: f64) {
    {
        let handles = HANDLES.read().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = handles
            .get(route)
            .and_then(|hs| hs.iter().find(|h| h.status == status && h.method == method))
        {
            h.requests.increment(1);
            h.duration.record(seconds);
            return;
        }
    }
    let labels = [
        ("method", method.to_string()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    let h = Handles {
        method: method.clone(),
        status,
        requests: metrics::counter!("http_requests_total", &labels),
        duration: metrics::histogram!("http_request_duration_seconds", &labels),
    };
    h.requests.increment(1);
    h.duration.record(seconds);
    HANDLES
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(route.to_owned())
        .or_default()
        .push(h);
}

/// Makes the request id (set by the request-id layer outside) known to the handler's task, and
/// counts and times the request by route.
pub async fn track(req: Request, next: Next) -> Response {
    let id = req.headers().get(REQUEST_ID_HEADER).cloned();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let started = Instant::now();
    let response = REQUEST_ID.scope(id, next.run(req)).await;
    count(
        &method,
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The process-wide Prometheus recorder (installed once, shared by every app in the process).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ])
                .expect("static buckets are valid")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (tests, embedding); then ours only renders.
            let _ = metrics::set_global_recorder(recorder);
            // Histograms buffer every sample until drained: drain them even when nothing
            // scrapes /metrics, or memory grows with every request.
            let upkeep = handle.clone();
            let _ = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_EVERY);
                        upkeep.run_upkeep();
                    }
                });
            handle
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_unique_within_and_across_processes() {
        let request = http::Request::new(());
        let mut ids = MakeRequestIds::default();
        let mut clone = ids.clone();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            for make in [&mut ids, &mut clone] {
                let id = make.make_request_id(&request).expect("an id");
                assert!(seen.insert(id.header_value().to_str().unwrap().to_owned()));
            }
        }
        // Another process (another generator) starts from another random prefix.
        assert_ne!(MakeRequestIds::default().prefix, ids.prefix);
    }
}
