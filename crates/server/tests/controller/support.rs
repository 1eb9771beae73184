//! What every controller test shares: signed device requests, a contractor's fleet, presets
//! and mobile lines set through the API.

#![allow(dead_code)]

pub(crate) use std::sync::{Arc, Mutex};
pub(crate) use std::time::Duration;

pub(crate) use crate::common::{self, Reply, TestApp, created};
pub(crate) use axum::body::Body;
pub(crate) use axum::http::{Method, Request, StatusCode};
pub(crate) use mpc_server::ServerConfig;
pub(crate) use mpc_server::device::DeviceConfig;
pub(crate) use mpc_server::device::auth::{canonical, sign};
pub(crate) use serde_json::{Value, json};

/// Well before today (the clock is real: provisionability is decided on today's Tokyo date).
pub(crate) const ON: &str = "2026-01-05";

pub(crate) fn config() -> ServerConfig {
    ServerConfig {
        device: DeviceConfig {
            cache_refresh: Duration::ZERO,
            ..DeviceConfig::default()
        },
        ..ServerConfig::default()
    }
}

pub(crate) fn secret(serial: &str) -> String {
    format!("factory-secret-of-{serial}")
}

/// A device's signed request, sent at `at` (seconds since the epoch).
pub(crate) fn signed_at(
    method: Method,
    path: &str,
    serial: &str,
    key: &str,
    body: &str,
    at: i64,
) -> Request<Body> {
    signed_with_nonce(
        method,
        path,
        serial,
        key,
        body,
        at,
        &uuid::Uuid::now_v7().simple().to_string(),
    )
}

pub(crate) fn signed_with_nonce(
    method: Method,
    path: &str,
    serial: &str,
    key: &str,
    body: &str,
    at: i64,
    nonce: &str,
) -> Request<Body> {
    let ts = at.to_string();
    let sig = sign(
        key.as_bytes(),
        &canonical(method.as_str(), path, &ts, nonce, serial, body.as_bytes()),
    );
    Request::builder()
        .method(method)
        .uri(path)
        .header("x-mpc-serial", serial)
        .header("x-mpc-timestamp", ts)
        .header("x-mpc-nonce", nonce)
        .header("x-mpc-signature", sig)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

pub(crate) fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

pub(crate) async fn fetch(app: &TestApp, serial: &str, etag: Option<&str>) -> Reply {
    let mut req = signed_at(
        Method::GET,
        "/device/v1/config",
        serial,
        &secret(serial),
        "",
        now(),
    );
    if let Some(e) = etag {
        req.headers_mut()
            .insert("if-none-match", e.parse().unwrap());
    }
    app.request(req).await
}

pub(crate) async fn heartbeat(app: &TestApp, serial: &str, firmware: &str) -> Reply {
    let body =
        json!({"firmware": firmware, "uptime_seconds": 60, "applied_revision": 1}).to_string();
    app.request(signed_at(
        Method::POST,
        "/device/v1/status",
        serial,
        &secret(serial),
        &body,
        now(),
    ))
    .await
}

pub(crate) async fn import(app: &TestApp, csv: &str) -> Reply {
    app.request(
        Request::post("/api/v1/devices/inventory")
            .header("authorization", format!("Bearer {}", app.operator))
            .header("content-type", "text/csv")
            .body(Body::from(csv.to_owned()))
            .unwrap(),
    )
    .await
}

/// A contractor with an eligible adapter of `device_type` whose device `serial` is in the
/// inventory and notified. Returns (contractor, adapter).
pub(crate) async fn fleet(
    app: &TestApp,
    name: &str,
    device_type: &str,
    serial: &str,
) -> (String, String) {
    let k = app
        .post("/api/v1/contractors", &app.operator, json!({"name": name}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, a) = app.eligible_setup(&k, device_type, ON).await;
    let r = import(app, &format!("{serial},{device_type},{}\n", secret(serial))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.accepted(
        &k,
        json!({"kind": "notify_serial", "contract_id": a, "serial": serial}),
        ON,
    )
    .await;
    (k, a)
}

pub(crate) async fn put_preset(app: &TestApp, contract: &str, params: Value) -> Reply {
    app.call(
        Method::PUT,
        &format!("/api/v1/contracts/{contract}/preset"),
        Some(&app.operator),
        Some(params),
    )
    .await
}

pub(crate) fn pppoe_gateway(password: &str) -> Value {
    json!({"preset": "internet_gateway", "wan": {"type": "pppoe", "id": "user@isp.example", "password": password},
           "lan": {"address": "10.20.0.1", "prefix_len": 24, "dhcp_pool": {"start": "10.20.0.100", "end": "10.20.0.150"}},
           "dns_forwarder": true, "ntp_server": "ntp.nict.jp", "napt": true})
}

pub(crate) async fn put_line(app: &TestApp, option: &str, token: &str, line: Value) -> Reply {
    app.call(
        Method::PUT,
        &format!("/api/v1/options/{option}/mobile-line"),
        Some(token),
        Some(line),
    )
    .await
}

/// The first option of `kind` on contract `contract`, as the contract view lists them.
pub(crate) async fn option_of(app: &TestApp, contract: &str, kind: &str) -> String {
    let view = app
        .get(&format!("/api/v1/contracts/{contract}"), &app.operator)
        .await;
    view.body["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} option: {}", view.text))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The device settings a deployment runs with (the config cache looks at the journal every
/// 250 ms), unlike [`config`], which looks on every request.
pub(crate) fn deployed() -> ServerConfig {
    ServerConfig::default()
}

pub(crate) async fn fetch_from(app: &TestApp, node: &common::Node, serial: &str) -> Reply {
    app.request_to(
        node,
        signed_at(
            Method::GET,
            "/device/v1/config",
            serial,
            &secret(serial),
            "",
            now(),
        ),
    )
    .await
}

/// Every change that withdraws a configuration must be in force on every other node within
/// one second (issue 15): wait that long, then look.
pub(crate) async fn a_second_later() {
    tokio::time::sleep(Duration::from_secs(1)).await;
}
