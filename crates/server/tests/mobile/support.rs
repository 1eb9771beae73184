//! What the mobile tests share: ingestion through the API or a second process, SIMs bound
//! to options, and the throttle decisions and events read back.

#![allow(dead_code, unused_imports)]

pub(crate) use crate::common::{TestApp, created};
pub(crate) use axum::Router;
pub(crate) use axum::body::Body;
pub(crate) use axum::http::{Method, Request, StatusCode};
pub(crate) use http_body_util::BodyExt;
pub(crate) use mpc_storage::backend_tests;
pub(crate) use mpc_storage::testing::TestDb;
pub(crate) use serde_json::{Value, json};
pub(crate) use tower::ServiceExt;

pub(crate) const GB: u64 = 1_000_000_000;

pub(crate) async fn ingest(app: &TestApp, content_type: &str, body: String) -> Value {
    ingest_via(&app.router, &app.operator, content_type, body).await
}

pub(crate) async fn ingest_via(
    router: &Router,
    token: &str,
    content_type: &str,
    body: String,
) -> Value {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/mobile/usage")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap();
    let response = router.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    serde_json::from_slice(&bytes).unwrap()
}

/// A second server process on the same database, with a store (and caches) of its own.
pub(crate) async fn second_process(app: &TestApp) -> Router {
    let store = mpc_storage::Store::open(&app.db.url).await.unwrap();
    let state = mpc_server::AppState::new(store, mpc_storage::controller::SecretKey::random());
    mpc_server::app(state, &mpc_server::ServerConfig::default())
}

pub(crate) fn line(id: &str, iccid: &str, start: &str, end: &str, up: u64, down: u64) -> String {
    json!({"record_id": id, "iccid": iccid, "start": start, "end": end, "bytes_up": up, "bytes_down": down})
                .to_string()
}

/// A mobile access option of `usage_type` on a new SA-W2L adapter of `contractor`, with
/// SIM `iccid` from 2026-04-01. Returns (adapter, option, acceptance view).
pub(crate) async fn sim(
    app: &TestApp,
    contractor: &str,
    usage_type: &str,
    group: Value,
    iccid: &str,
) -> (String, String, Value) {
    let (_, adapter) = app.eligible_setup(contractor, "SA-W2L", "2026-04-01").await;
    let mut request = json!({"kind": "add_option", "contract_id": adapter, "option_kind": "mobile_access",
                "usage_type": usage_type, "network_type": "dynamic_ip"});
    if !group.is_null() {
        request["group"] = group;
    }
    let view = app.accepted(contractor, request, "2026-04-01").await;
    let option = created(&view, "option_created")[0].clone();
    let bound = app
        .call(
            Method::PUT,
            &format!("/api/v1/mobile/sims/{iccid}"),
            Some(&app.operator),
            Some(json!({"option_id": option, "from": "2026-04-01"})),
        )
        .await;
    assert_eq!(bound.status, StatusCode::OK, "{}", bound.text);
    (adapter, option, view)
}

pub(crate) async fn throttled(app: &TestApp, at: &str) -> Vec<String> {
    let reply = app
        .get(&format!("/api/v1/mobile/throttles?at={at}"), &app.operator)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.body["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["throttled"] == true)
        .map(|d| d["iccid"].as_str().unwrap().to_owned())
        .collect()
}

/// Every throttle event so far: (kind, from).
pub(crate) async fn events(app: &TestApp) -> Vec<(String, Option<String>)> {
    let e = app
        .get("/api/v1/mobile/throttle-events", &app.operator)
        .await;
    e.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["from"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

pub(crate) const SIM_A: &str = "8981100000000000001";

pub(crate) const SIM_B: &str = "8981100000000000002";
