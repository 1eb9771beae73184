//! The controller through HTTP, on SQLite and PostgreSQL: presets and revisions, the
//! inventory, devices calling home (signatures, provisionability, ETags, billing start) and
//! monitoring with alert webhooks, and the mobile line of an SA-W2L.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{Reply, TestApp, created};
use mpc_server::ServerConfig;
use mpc_server::device::DeviceConfig;
use mpc_server::device::auth::{canonical, sign};
use mpc_storage::backend_tests;
use serde_json::{Value, json};

/// Well before today (the clock is real: provisionability is decided on today's Tokyo date).
const ON: &str = "2026-01-05";

fn config() -> ServerConfig {
    ServerConfig {
        device: DeviceConfig {
            cache_refresh: Duration::ZERO,
            ..DeviceConfig::default()
        },
        ..ServerConfig::default()
    }
}

fn secret(serial: &str) -> String {
    format!("factory-secret-of-{serial}")
}

/// A device's signed request, sent at `at` (seconds since the epoch).
fn signed_at(
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

fn signed_with_nonce(
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

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

async fn fetch(app: &TestApp, serial: &str, etag: Option<&str>) -> Reply {
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

async fn heartbeat(app: &TestApp, serial: &str, firmware: &str) -> Reply {
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

async fn import(app: &TestApp, csv: &str) -> Reply {
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
async fn fleet(app: &TestApp, name: &str, device_type: &str, serial: &str) -> (String, String) {
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

async fn put_preset(app: &TestApp, contract: &str, params: Value) -> Reply {
    app.call(
        Method::PUT,
        &format!("/api/v1/contracts/{contract}/preset"),
        Some(&app.operator),
        Some(params),
    )
    .await
}

fn pppoe_gateway(password: &str) -> Value {
    json!({"preset": "internet_gateway", "wan": {"type": "pppoe", "id": "user@isp.example", "password": password},
           "lan": {"address": "10.20.0.1", "prefix_len": 24, "dhcp_pool": {"start": "10.20.0.100", "end": "10.20.0.150"}},
           "dns_forwarder": true, "ntp_server": "ntp.nict.jp", "napt": true})
}

async fn put_line(app: &TestApp, option: &str, token: &str, line: Value) -> Reply {
    app.call(
        Method::PUT,
        &format!("/api/v1/options/{option}/mobile-line"),
        Some(token),
        Some(line),
    )
    .await
}

/// The first option of `kind` on contract `contract`, as the contract view lists them.
async fn option_of(app: &TestApp, contract: &str, kind: &str) -> String {
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
fn deployed() -> ServerConfig {
    ServerConfig::default()
}

async fn fetch_from(app: &TestApp, node: &common::Node, serial: &str) -> Reply {
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
async fn a_second_later() {
    tokio::time::sleep(Duration::from_secs(1)).await;
}

backend_tests! {
    async fn withdrawals_are_in_force_here_at_once_and_on_every_node_within_a_second(db: TestDb) {
        let app = TestApp::with_config(db, deployed()).await;
        let other = app.node(&deployed()).await;
        let (lk, lost) = fleet(&app, "株式会社亡失", "SA-W2L", "W2L-LOST").await;
        let (fk, failed) = fleet(&app, "株式会社故障", "SEIL/X4", "X4-FAILED").await;
        let (ck, cancelled) = fleet(&app, "株式会社解約", "SEIL CA10", "CA10-ENDED").await;
        let saved = put_preset(&app, &lost, pppoe_gateway("pppoe-secret-1")).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
        // Both nodes serve all three, so each holds them in its cache.
        for serial in ["W2L-LOST", "X4-FAILED", "CA10-ENDED"] {
            let here = fetch(&app, serial, None).await;
            assert_eq!(here.status, StatusCode::OK, "{serial}: {}", here.text);
            let there = fetch_from(&app, &other, serial).await;
            assert_eq!(there.status, StatusCode::OK, "{serial}: {}", there.text);
        }
        assert!(fetch_from(&app, &other, "W2L-LOST").await.text.contains("pppoe-secret-1"));

        // R12.3: a loss is in force from the report, before anyone accepts it.
        let report = app.post(&format!("/api/v1/contractors/{lk}/requests"), &app.operator,
            json!({"request": {"kind": "report_loss", "contract_id": lost}, "submitted_on": "2026-02-01"})).await;
        assert_eq!(report.status, StatusCode::CREATED, "{}", report.text);
        assert_eq!(report.body["status"], "pending");
        let refused = fetch(&app, "W2L-LOST", None).await;
        refused.assert_problem(403, "R12.3");
        assert!(!refused.text.contains("pppoe-secret-1"));
        heartbeat(&app, "W2L-LOST", "4.10").await.assert_problem(403, "R12.3");
        // R11.1: a replacement takes over; the failed unit stops when the change is answered.
        let r = import(&app, &format!("X4-SPARE,SEIL/X4,{}\n", secret("X4-SPARE"))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        app.post(&format!("/api/v1/contractors/{fk}/requests"), &app.operator,
            json!({"request": {"kind": "report_failure", "contract_id": failed}, "submitted_on": "2026-02-01",
                   "accept": {"on": "2026-02-01", "replacement_serial": "X4-SPARE"}})).await;
        fetch(&app, "X4-FAILED", None).await.assert_problem(403, "R11.1");
        assert_eq!(fetch(&app, "X4-SPARE", None).await.status, StatusCode::OK);
        // D6: a contract ended by notice (2026-02-01 + 14 days, R13.1) serves no more.
        let ended = app.post(&format!("/api/v1/contractors/{ck}/requests"), &app.operator,
            json!({"request": {"kind": "cancel_contract", "contract_id": cancelled},
                   "submitted_on": "2026-02-01", "accept": {"on": "2026-02-01"}})).await;
        assert_eq!(ended.status, StatusCode::CREATED, "{}", ended.text);
        fetch(&app, "CA10-ENDED", None).await.assert_problem(403, "D6");

        // The other node, which served all three a moment ago, refuses them within a second.
        a_second_later().await;
        fetch_from(&app, &other, "W2L-LOST").await.assert_problem(403, "R12.3");
        fetch_from(&app, &other, "X4-FAILED").await.assert_problem(403, "R11.1");
        fetch_from(&app, &other, "CA10-ENDED").await.assert_problem(403, "D6");

        // Accepted without a replacement: still lost, and the contract does not claim its
        // device may fetch; a restarted node agrees.
        let id = report.body["id"].as_str().unwrap();
        let accepted = app.post(&format!("/api/v1/requests/{id}/accept"), &app.operator, json!({"on": "2026-02-02"})).await;
        assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
        let view = app.get(&format!("/api/v1/contracts/{lost}"), &app.operator).await;
        assert_eq!(view.body["provisioning"]["provisionable"], false, "{}", view.text);
        let restarted = app.node(&deployed()).await;
        fetch_from(&app, &restarted, "W2L-LOST").await.assert_problem(403, "R12.3");
        fetch(&app, "W2L-LOST", None).await.assert_problem(403, "R12.3");
    }

    async fn a_request_is_accepted_once_by_any_node_and_only_in_its_documented_form(db: TestDb) {
        let app = TestApp::with_config(db, deployed()).await;
        fleet(&app, "株式会社再送", "SEIL/X4", "X4-REPLAY").await;
        let (serial, key) = ("X4-REPLAY", secret("X4-REPLAY"));
        let (poll, status) = ("/device/v1/config", "/device/v1/status");
        let beat = json!({"firmware": "4.10", "uptime_seconds": 60, "applied_revision": 1}).to_string();

        // Upper-case hex is not the protocol's signature (README: lowercase hex).
        let mut upper = signed_with_nonce(Method::GET, poll, serial, &key, "", now(), "nonce-upper");
        let sig = upper.headers()["x-mpc-signature"].to_str().unwrap().to_ascii_uppercase();
        upper.headers_mut().insert("x-mpc-signature", sig.parse().unwrap());
        app.request(upper).await.assert_problem(401, "unauthenticated");

        // A nonce used again with a new signature (another path) is a replay.
        let at = now();
        let first = app.request(signed_with_nonce(Method::GET, poll, serial, &key, "", at, "nonce-reused")).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        app.request(signed_with_nonce(Method::POST, status, serial, &key, &beat, at, "nonce-reused")).await
            .assert_problem(401, "replayed");

        if app.db.store.backend() != mpc_storage::Backend::Postgres {
            return; // one node per SQLite database
        }
        // Several nodes on one PostgreSQL database: what one accepted, every other refuses.
        let other = app.node(&deployed()).await;
        let accepted = app.request(signed_with_nonce(Method::GET, poll, serial, &key, "", at, "nonce-node-1")).await;
        assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
        app.request_to(&other, signed_with_nonce(Method::GET, poll, serial, &key, "", at, "nonce-node-1")).await
            .assert_problem(401, "replayed");
        let beat_once = app.request(signed_with_nonce(Method::POST, status, serial, &key, &beat, at, "nonce-beat-1")).await;
        assert_eq!(beat_once.status, StatusCode::NO_CONTENT, "{}", beat_once.text);
        app.request_to(&other, signed_with_nonce(Method::POST, status, serial, &key, &beat, at, "nonce-beat-1")).await
            .assert_problem(401, "replayed");

        // The same request sent to both nodes at once, eight times each: exactly one 200.
        let mut sends = tokio::task::JoinSet::new();
        for i in 0..16 {
            let req = signed_with_nonce(Method::GET, poll, serial, &key, "", at, "nonce-raced");
            let router = if i % 2 == 0 { app.router.clone() } else { other.router.clone() };
            sends.spawn(async move { common::reply(tower::ServiceExt::oneshot(router, req).await.unwrap()).await });
        }
        let replies = sends.join_all().await;
        let ok = replies.iter().filter(|r| r.status == StatusCode::OK).count();
        assert_eq!(ok, 1, "{:?}", replies.iter().map(|r| (r.status, r.code().to_owned())).collect::<Vec<_>>());
        assert!(replies.iter().all(|r| r.status == StatusCode::OK || r.code() == "replayed"));
    }

    async fn unknown_serials_cost_no_database_query(db: TestDb) {
        // The journal is not looked at again during the test: every query would be per request.
        let quiet = ServerConfig {
            device: DeviceConfig { cache_refresh: Duration::from_secs(3600), ..DeviceConfig::default() },
            ..ServerConfig::default()
        };
        let app = TestApp::with_config(db, quiet).await;
        fleet(&app, "株式会社未知", "SEIL/X4", "X4-KNOWN").await;
        assert_eq!(fetch(&app, "X4-KNOWN", None).await.status, StatusCode::OK);
        // With the database gone, unknown serials and bad signatures still get the same 401:
        // neither asks it anything.
        app.db.store.close().await;
        let path = "/device/v1/config";
        for i in 0..20 {
            let serial = format!("X4-UNKNOWN-{i}");
            app.request(signed_at(Method::GET, path, &serial, &secret(&serial), "", now())).await
                .assert_problem(401, "unauthenticated");
        }
        app.request(signed_at(Method::GET, path, "X4-KNOWN", "not-the-factory-secret", "", now())).await
            .assert_problem(401, "unauthenticated");
    }

    async fn device_authentication_refuses_without_telling_whether_a_serial_exists(db: TestDb) {
        let app = TestApp::with_config(db, config()).await;
        fleet(&app, "株式会社認証", "SEIL/X4", "X4-AUTH").await;
        fleet(&app, "株式会社他社", "SEIL/X4", "X4-OTHER").await;
        let path = "/device/v1/config";

        let good = fetch(&app, "X4-AUTH", None).await;
        assert_eq!(good.status, StatusCode::OK, "{}", good.text);

        // Unknown serial and wrong secret: the same 401, word for word.
        let unknown = app.request(signed_at(Method::GET, path, "X4-NOPE", &secret("X4-NOPE"), "", now())).await;
        let bad_sig = app.request(signed_at(Method::GET, path, "X4-AUTH", "not-the-factory-secret", "", now())).await;
        unknown.assert_problem(401, "unauthenticated");
        bad_sig.assert_problem(401, "unauthenticated");
        assert_eq!(unknown.body["detail"], bad_sig.body["detail"]);
        // Another contractor's serial signed with this device's secret: refused, nothing served.
        let crossed = app.request(signed_at(Method::GET, path, "X4-OTHER", &secret("X4-AUTH"), "", now())).await;
        crossed.assert_problem(401, "unauthenticated");
        assert!(!crossed.text.contains("interface"));
        // A signature over another path or body does not verify.
        let mut moved = signed_at(Method::GET, "/device/v1/status", "X4-AUTH", &secret("X4-AUTH"), "", now());
        *moved.uri_mut() = path.parse().unwrap();
        app.request(moved).await.assert_problem(401, "unauthenticated");
        // No headers at all.
        app.request(Request::get(path).body(Body::empty()).unwrap()).await.assert_problem(401, "unauthenticated");

        // Outside ±5 minutes.
        for skew in [-301, 301] {
            let stale = app.request(signed_at(Method::GET, path, "X4-AUTH", &secret("X4-AUTH"), "", now() + skew)).await;
            stale.assert_problem(401, "stale_timestamp");
        }
        let edge = app.request(signed_at(Method::GET, path, "X4-AUTH", &secret("X4-AUTH"), "", now() - 290)).await;
        assert_eq!(edge.status, StatusCode::OK, "{}", edge.text);

        // The same signed request twice: the second is a replay.
        let at = now() - 5;
        let first = app.request(signed_with_nonce(Method::GET, path, "X4-AUTH", &secret("X4-AUTH"), "", at, "nonce-once")).await;
        assert_eq!(first.status, StatusCode::OK);
        app.request(signed_with_nonce(Method::GET, path, "X4-AUTH", &secret("X4-AUTH"), "", at, "nonce-once")).await
            .assert_problem(401, "replayed");
        // A fresh nonce in the same second is a new request.
        let again = app.request(signed_with_nonce(Method::GET, path, "X4-AUTH", &secret("X4-AUTH"), "", at, "nonce-twice")).await;
        assert_eq!(again.status, StatusCode::OK);
    }

    async fn r7_1_r12_3_r11_1_provisionability_and_etags(db: TestDb) {
        let app = TestApp::with_config(db, config()).await;
        let (k, a) = fleet(&app, "株式会社配信", "SA-W2L", "W2L-1").await;

        // R7.1: in the inventory but never notified.
        let r = import(&app, &format!("W2L-SPARE,SA-W2L,{}\n", secret("W2L-SPARE"))).await;
        assert_eq!(r.status, StatusCode::CREATED);
        fetch(&app, "W2L-SPARE", None).await.assert_problem(403, "R7.1");

        // The item's defaults until parameters are saved; then the saved revision.
        let first = fetch(&app, "W2L-1", None).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        assert_eq!(first.headers["content-type"], "text/plain; charset=utf-8");
        assert!(first.text.contains("interface.ge1.ipv4.address: 192.168.0.1/24"), "{}", first.text);
        assert!(first.headers.get("x-mpc-revision").is_none());
        let etag = first.headers["etag"].to_str().unwrap().to_owned();
        assert!(etag.starts_with('"') && etag.ends_with('"'));
        let same = fetch(&app, "W2L-1", Some(&etag)).await;
        assert_eq!(same.status, StatusCode::NOT_MODIFIED);
        assert_eq!(same.text, "");
        assert_eq!(same.headers["etag"], etag.as_str());

        let saved = put_preset(&app, &a, pppoe_gateway("line-pass-1")).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
        let changed = fetch(&app, "W2L-1", Some(&etag)).await;
        assert_eq!(changed.status, StatusCode::OK);
        assert_eq!(changed.headers["x-mpc-revision"], "1");
        assert!(changed.text.contains("line-pass-1"), "the device gets the secret in clear");
        assert_ne!(changed.headers["etag"], etag.as_str());

        // R12.3 and R11.1: the unit is lost; its replacement gets the same configuration.
        let report = app.post(&format!("/api/v1/contractors/{k}/requests"), &app.operator,
            json!({"request": {"kind": "report_loss", "contract_id": a}, "submitted_on": "2026-02-01"})).await;
        assert_eq!(report.status, StatusCode::CREATED, "{}", report.text);
        let id = report.body["id"].as_str().unwrap();
        let r = import(&app, &format!("W2L-2,SA-W2L,{}\n", secret("W2L-2"))).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let accepted = app.post(&format!("/api/v1/requests/{id}/accept"), &app.operator,
            json!({"on": "2026-02-01", "replacement_serial": "W2L-2", "replaced_on": "2026-02-03"})).await;
        assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
        fetch(&app, "W2L-1", None).await.assert_problem(403, "R12.3");
        let replacement = fetch(&app, "W2L-2", None).await;
        assert_eq!(replacement.status, StatusCode::OK, "{}", replacement.text);
        assert_eq!(replacement.text, changed.text);
        assert_eq!(replacement.headers["etag"], changed.headers["etag"]);
        heartbeat(&app, "W2L-1", "4.10").await.assert_problem(403, "R12.3");

        // R3.1: a unit of another model than the contract's.
        let k2 = app.post("/api/v1/contractors", &app.operator, json!({"name": "株式会社機種"})).await.body["id"]
            .as_str().unwrap().to_owned();
        let (_, b) = app.eligible_setup(&k2, "SEIL/X4", ON).await;
        let r = import(&app, &format!("CA10-X,SEIL CA10,{}\n", secret("CA10-X"))).await;
        assert_eq!(r.status, StatusCode::CREATED);
        // R3.1: refused when notified (naming both models), not left to fail at every fetch.
        let before = app.db.store.dump().await;
        let wrong = app.post(&format!("/api/v1/contractors/{k2}/requests"), &app.operator,
            json!({"request": {"kind": "notify_serial", "contract_id": b, "serial": "CA10-X"}, "submitted_on": ON})).await;
        wrong.assert_problem(422, "R3.1");
        assert!(wrong.text.contains("SEIL CA10") && wrong.text.contains("SEIL/X4"), "{}", wrong.text);
        assert_eq!(app.db.store.dump().await, before, "nothing recorded");
        let view = app.get(&format!("/api/v1/contracts/{b}"), &app.operator).await;
        assert_eq!(view.body["provisioning"]["code"], "R7.1", "{}", view.text);
        fetch(&app, "CA10-X", None).await.assert_problem(403, "R7.1");
        // Nor can it come in as a replacement for a unit of another model.
        let r = import(&app, &format!("X4-B,SEIL/X4,{}\n", secret("X4-B"))).await;
        assert_eq!(r.status, StatusCode::CREATED);
        app.accepted(&k2, json!({"kind": "notify_serial", "contract_id": b, "serial": "X4-B"}), ON).await;
        let swap = app.post(&format!("/api/v1/contractors/{k2}/requests"), &app.operator,
            json!({"request": {"kind": "report_failure", "contract_id": b}, "submitted_on": ON,
                   "accept": {"on": ON, "replacement_serial": "CA10-X"}})).await;
        swap.assert_problem(422, "R3.1");
    }

    async fn r7_1_a_serial_no_device_fetched_with_can_be_corrected_once(db: TestDb) {
        let app = TestApp::with_config(db, config()).await;
        let (k, a) = fleet(&app, "株式会社訂正", "SA-W2L", "W2L-TYPO").await;
        for serial in ["W2L-RIGHT", "W2L-OTHER"] {
            let r = import(&app, &format!("{serial},SA-W2L,{}\n", secret(serial))).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        }
        // No device fetched with W2L-TYPO: notifying W2L-RIGHT corrects the notification.
        app.accepted(&k, json!({"kind": "notify_serial", "contract_id": a, "serial": "W2L-RIGHT"}), ON).await;
        fetch(&app, "W2L-TYPO", None).await.assert_problem(403, "R7.1");
        let right = fetch(&app, "W2L-RIGHT", None).await;
        assert_eq!(right.status, StatusCode::OK, "{}", right.text);
        let view = app.get(&format!("/api/v1/contracts/{a}"), &app.operator).await;
        assert_eq!(view.body["serial"], "W2L-RIGHT", "{}", view.text);

        // A device has fetched with W2L-RIGHT: only a failure or loss report replaces it now.
        let before = app.db.store.dump().await;
        let again = app.post(&format!("/api/v1/contractors/{k}/requests"), &app.operator,
            json!({"request": {"kind": "notify_serial", "contract_id": a, "serial": "W2L-OTHER"},
                   "submitted_on": ON, "accept": {"on": ON}})).await;
        again.assert_problem(422, "serial_already_notified");
        assert_eq!(app.db.store.dump().await, before, "nothing recorded");
        assert_eq!(fetch(&app, "W2L-RIGHT", None).await.status, StatusCode::OK);
        fetch(&app, "W2L-OTHER", None).await.assert_problem(403, "R7.1");
    }

    async fn revisions_diff_rollback_and_masking(db: TestDb) {
        let app = TestApp::with_config(db, config()).await;
        let (k, a) = fleet(&app, "株式会社改版", "SEIL CA10", "CA10-1").await;
        let user = app.post(&format!("/api/v1/contractors/{k}/users"), &app.operator, json!({"username": "kaiban"})).await;
        let uid = user.body["id"].as_str().unwrap();
        let k_token = app.post(&format!("/api/v1/users/{uid}/tokens"), &app.operator, json!({"label": "t"})).await.body["secret"]
            .as_str().unwrap().to_owned();

        // R17.1: every bad field is named.
        let mut bad = pppoe_gateway("");
        bad["lan"]["dhcp_pool"] = json!({"start": "10.20.0.1", "end": "10.99.0.1"});
        let refused = put_preset(&app, &a, bad).await;
        refused.assert_problem(422, "R17.1");
        let fields: Vec<&str> = refused.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&"wan.password"), "{fields:?}");
        assert!(fields.iter().any(|f| f.starts_with("lan.dhcp_pool")), "{fields:?}");
        // R2.2: another item's preset.
        let other = app.call(Method::PUT, &format!("/api/v1/contracts/{a}/preset"), Some(&app.operator),
            Some(json!({"preset": "pppoe_termination", "wan": {"id": "a", "password": "b"},
                        "lan": {"network": "203.0.113.8", "prefix_len": 29, "dhcp_pool": null},
                        "dns_forwarder": false, "ntp_server": null}))).await;
        other.assert_problem(422, "R2.2");
        let none = app.get(&format!("/api/v1/contracts/{a}/revisions"), &app.operator).await;
        assert_eq!(none.body["revisions"], json!([]), "refusals store nothing");

        // Three revisions: edit, edit, rollback to 1.
        assert_eq!(put_preset(&app, &a, pppoe_gateway("first-pass")).await.status, StatusCode::OK);
        let mut second = pppoe_gateway("second-pass");
        second["ntp_server"] = json!("192.0.2.123");
        let by_contractor = app.call(Method::PUT, &format!("/api/v1/contracts/{a}/preset"), Some(&k_token), Some(second)).await;
        assert_eq!(by_contractor.status, StatusCode::OK, "{}", by_contractor.text);
        assert_eq!(by_contractor.body["revision"], 2);
        assert_eq!(by_contractor.body["params"]["wan"]["password"], "********");

        let diff = app.get(&format!("/api/v1/contracts/{a}/revisions/1/diff/2?reveal=true"), &k_token).await;
        assert_eq!(diff.status, StatusCode::OK, "{}", diff.text);
        let changes = diff.body["changes"].as_array().unwrap();
        assert!(changes.iter().any(|c| c["change"] == "changed" && c["new"] == "192.0.2.123"), "{}", diff.text);
        assert!(changes.iter().any(|c| c["new"] == "second-pass"), "{}", diff.text);
        // Masked, the passwords do not show, and do not differ.
        let masked = app.get(&format!("/api/v1/contracts/{a}/revisions/1/diff/2"), &k_token).await;
        assert!(!masked.text.contains("-pass"), "{}", masked.text);

        let rolled = app.post(&format!("/api/v1/contracts/{a}/revisions/1/rollback"), &app.operator, json!({})).await;
        assert_eq!(rolled.status, StatusCode::OK, "{}", rolled.text);
        assert_eq!(rolled.body["revision"], 3);
        let list = app.get(&format!("/api/v1/contracts/{a}/revisions"), &k_token).await;
        let causes: Vec<(i64, &str)> = list.body["revisions"].as_array().unwrap().iter()
            .map(|r| (r["revision"].as_i64().unwrap(), r["cause"].as_str().unwrap())).collect();
        assert_eq!(causes, [(1, "edit"), (2, "edit"), (3, "rollback")]);
        assert_eq!(list.body["revisions"][2]["based_on"], 1);
        let r1 = app.get(&format!("/api/v1/contracts/{a}/revisions/1?reveal=true"), &k_token).await;
        let r3 = app.get(&format!("/api/v1/contracts/{a}/revisions/3?reveal=true"), &k_token).await;
        assert_eq!(r1.body["recipe"], r3.body["recipe"]);
        assert!(r3.body["recipe"].as_str().unwrap().contains("interface.ge5.ipv4.address: 10.20.0.1/24"), "SEIL CA10's LAN is ge5");
        let shown = app.get(&format!("/api/v1/contracts/{a}/revisions/3"), &k_token).await;
        assert!(!shown.text.contains("first-pass"), "{}", shown.text);
        assert!(shown.body["recipe"].as_str().unwrap().contains("********"));
        let empty = app.get(&format!("/api/v1/contracts/{a}/revisions/1/diff/3"), &k_token).await;
        assert_eq!(empty.body["changes"], json!([]));
        app.get(&format!("/api/v1/contracts/{a}/revisions/9"), &k_token).await.assert_problem(404, "not_found");

        let device = fetch(&app, "CA10-1", None).await;
        assert_eq!(device.headers["x-mpc-revision"], "3");
        assert!(device.text.contains("first-pass"));

        // Journalled, secrets redacted; nothing sealed is readable in the database.
        let journal = app.get("/api/v1/journal?limit=1000", &app.operator).await;
        let ops: Vec<&str> = journal.body["entries"].as_array().unwrap().iter().map(|e| e["operation"].as_str().unwrap()).collect();
        assert!(ops.contains(&"preset.update") && ops.contains(&"preset.rollback"), "{ops:?}");
        assert!(!journal.text.contains("-pass"), "no secret in the journal");
        let dump = app.db.store.dump().await.join("\n");
        assert!(!dump.contains("-pass") && !dump.contains("factory-secret"), "secrets are sealed at rest");
    }

    async fn r6_5_r9_3_the_mobile_line_of_an_sa_w2l_is_rendered_on_ta1(db: TestDb) {
        let app = TestApp::with_config(db, config()).await;
        let (k, a) = fleet(&app, "株式会社モバイル", "SA-W2L", "W2L-MOB").await;
        let added = app.accepted(&k, json!({"kind": "add_option", "contract_id": a, "option_kind": "mobile_access",
            "usage_type": "standard", "network_type": "fixed_ip"}), ON).await;
        let option = created(&added, "option_created")[0].clone();
        let user = app.post(&format!("/api/v1/contractors/{k}/users"), &app.operator, json!({"username": "mobairu"})).await;
        let uid = user.body["id"].as_str().unwrap();
        let k_token = app.post(&format!("/api/v1/users/{uid}/tokens"), &app.operator, json!({"label": "t"})).await.body["secret"]
            .as_str().unwrap().to_owned();
        let path = format!("/api/v1/options/{option}/mobile-line");

        let unset = app.get(&path, &k_token).await;
        assert_eq!(unset.status, StatusCode::OK, "{}", unset.text);
        assert_eq!(unset.body["line"], Value::Null);
        assert_eq!(put_preset(&app, &a, pppoe_gateway("line-pass")).await.status, StatusCode::OK);

        // R17.1: the APN is named; nothing is stored.
        let bad = put_line(&app, &option, &k_token, json!({"apn": "1bad_apn", "id": "mobile@iij", "password": "mobile-pass-1"})).await;
        bad.assert_problem(422, "R17.1");
        let fields: Vec<&str> = bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["mobile.apn"]);
        assert_eq!(app.get(&path, &k_token).await.body["line"], Value::Null);
        // The network type is the option's, not the body's.
        put_line(&app, &option, &k_token, json!({"apn": "iijmobile.biz", "id": "mobile@iij", "password": "p",
            "network_type": "dynamic_ip"})).await.assert_problem(422, "unknown_field");

        // The contractor sets the line: a new revision carries ppp0 on ta1.
        let set = put_line(&app, &option, &k_token, json!({"apn": "iijmobile.biz", "id": "mobile@iij", "password": "mobile-pass-1"})).await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.text);
        assert_eq!(set.body["revision"], 2);
        assert_eq!(set.body["line"], json!({"apn": "iijmobile.biz", "id": "mobile@iij", "password": "********",
            "network_type": "fixed_ip"}));
        let ppp0 = |recipe: &str| -> Vec<String> {
            recipe.lines().filter(|l| l.contains("ppp0")).map(str::to_owned).collect()
        };
        let revealed = app.get(&format!("/api/v1/contracts/{a}/revisions/2?reveal=true"), &k_token).await;
        assert_eq!(revealed.body["cause"], "mobile_line", "{}", revealed.text);
        assert_eq!(ppp0(revealed.body["recipe"].as_str().unwrap()), [
            "interface.ppp0.apn: iijmobile.biz",
            "interface.ppp0.auth-method: auto",
            "interface.ppp0.dialup-device: ta1",
            "interface.ppp0.id: mobile@iij",
            "interface.ppp0.ipcp.dns: enable",
            "interface.ppp0.password: mobile-pass-1",
            "nat.ipv4.napt.1.interface: ppp0",
            "route.ipv4.1.gateway: ppp0",
        ]);
        let masked = app.get(&format!("/api/v1/contracts/{a}/revisions/2"), &k_token).await;
        assert!(masked.body["recipe"].as_str().unwrap().contains("interface.ppp0.password: ********\n"), "{}", masked.text);
        assert!(!masked.text.contains("mobile-pass"), "{}", masked.text);
        let device = fetch(&app, "W2L-MOB", None).await;
        assert_eq!(device.headers["x-mpc-revision"], "2");
        assert!(device.text.contains("interface.ppp0.password: mobile-pass-1\n"), "the device gets it in clear");

        // GET masks the password unless revealed.
        let shown = app.get(&path, &k_token).await;
        assert_eq!(shown.body["line"]["password"], "********");
        assert_eq!(shown.body["line"]["apn"], "iijmobile.biz");
        assert!(shown.body.get("revision").is_none());
        let clear = app.get(&format!("{path}?reveal=true"), &k_token).await;
        assert_eq!(clear.body["line"]["password"], "mobile-pass-1");
        assert_eq!(clear.body["revealed"], true);

        // Later revisions keep rendering the line: a preset edit and a rollback.
        let edit = put_preset(&app, &a, pppoe_gateway("line-pass-2")).await;
        assert_eq!(edit.body["revision"], 3);
        let rolled = app.post(&format!("/api/v1/contracts/{a}/revisions/1/rollback"), &app.operator, json!({})).await;
        assert_eq!(rolled.body["revision"], 4, "{}", rolled.text);
        for n in [3, 4] {
            let r = app.get(&format!("/api/v1/contracts/{a}/revisions/{n}?reveal=true"), &k_token).await;
            assert!(r.body["recipe"].as_str().unwrap().contains("interface.ppp0.dialup-device: ta1"), "{n}: {}", r.text);
        }
        let r1 = app.get(&format!("/api/v1/contracts/{a}/revisions/1?reveal=true"), &k_token).await;
        assert!(!r1.body["recipe"].as_str().unwrap().contains("ppp0"), "revision 1 predates the line");

        // Journalled with the password redacted; sealed at rest.
        let journal = app.get("/api/v1/journal?limit=1000", &app.operator).await;
        let entry = journal.body["entries"].as_array().unwrap().iter()
            .find(|e| e["operation"] == "mobile_line.update").expect("journalled");
        assert_eq!(entry["subject"], option.as_str(), "{entry}");
        assert!(!journal.text.contains("mobile-pass"), "no secret in the journal");
        let dump = app.db.store.dump().await.join("\n");
        assert!(!dump.contains("mobile-pass"), "the password is sealed at rest");

        // R6.5: the adapter's ultra send-back option, and a SEIL/X4's option.
        let sendback = option_of(&app, &a, "ultra_sendback").await;
        let line = json!({"apn": "iijmobile.biz", "id": "mobile@iij", "password": "mobile-pass-2"});
        put_line(&app, &sendback, &k_token, line.clone()).await.assert_problem(422, "R6.5");
        app.get(&format!("/api/v1/options/{sendback}/mobile-line"), &k_token).await.assert_problem(422, "R6.5");
        let (_, x4) = fleet(&app, "株式会社固定", "SEIL/X4", "X4-MOB").await;
        let x4_option = option_of(&app, &x4, "ultra_sendback").await;
        put_line(&app, &x4_option, &app.operator, line.clone()).await.assert_problem(422, "R6.5");
        // Another contractor's user: the option does not exist.
        let (_, _, other) = app.contractor_with_user("株式会社他人", "tanin").await;
        put_line(&app, &option, &other, line.clone()).await.assert_problem(404, "not_found");
        app.get(&path, &other).await.assert_problem(404, "not_found");
        assert_eq!(app.get(&format!("{path}?reveal=true"), &k_token).await.body["line"]["password"], "mobile-pass-1");
    }

    async fn r8_1_item_change_re_renders_keeping_shared_parameters(db: TestDb) {
        let app = TestApp::with_config(db, config()).await;
        let k = app.post("/api/v1/contractors", &app.operator, json!({"name": "株式会社品目"})).await.body["id"].as_str().unwrap().to_owned();
        let m = app.accepted(&k, json!({"kind": "apply_contract", "contract_kind": "management"}), ON).await;
        let m = created(&m, "contract_created")[0].clone();
        let a = app.accepted(&k, json!({"kind": "apply_contract", "contract_kind": "service_adapter", "item": "remote_access",
            "device_type": "SEIL/X4", "management_id": m}), ON).await;
        let a = created(&a, "contract_created")[0].clone();
        app.accepted(&k, json!({"kind": "add_option", "contract_id": a, "option_kind": "ultra_sendback",
            "install_address": "東京都千代田区大手町1-1-1"}), ON).await;
        let r = import(&app, &format!("X4-IC,SEIL/X4,{}\n", secret("X4-IC"))).await;
        assert_eq!(r.status, StatusCode::CREATED);
        app.accepted(&k, json!({"kind": "notify_serial", "contract_id": a, "serial": "X4-IC"}), ON).await;

        // remote_access's defaults lack the pre-shared key: nothing to serve yet.
        fetch(&app, "X4-IC", None).await.assert_problem(409, "R17.1");
        let mut ra = pppoe_gateway("ra-pass");
        ra["preset"] = json!("remote_access");
        ra["l2tp"] = json!({"pre_shared_key": "psk-secret", "users": [{"name": "alice", "password": "alice-pass"}],
            "pool": {"start": "192.168.128.1", "end": "192.168.128.20"}, "tunnel_address": "192.168.127.1", "max_sessions": 10});
        let saved = put_preset(&app, &a, ra).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
        let before = fetch(&app, "X4-IC", None).await;
        assert!(before.text.contains("interface.pppac0"), "{}", before.text);

        app.accepted(&k, json!({"kind": "change_item", "contract_id": a, "item": "internet_gateway"}), "2026-03-01").await;
        let after = fetch(&app, "X4-IC", None).await;
        assert_eq!(after.status, StatusCode::OK, "{}", after.text);
        assert_eq!(after.headers["x-mpc-revision"], "2");
        assert!(!after.text.contains("pppac0"), "{}", after.text);
        for kept in ["10.20.0.1/24", "ra-pass", "ntp.nict.jp"] {
            assert!(after.text.contains(kept), "{kept} kept: {}", after.text);
        }
        let list = app.get(&format!("/api/v1/contracts/{a}/revisions"), &app.operator).await;
        assert_eq!(list.body["revisions"][1]["cause"], "item_change");
        assert_eq!(list.body["revisions"][1]["item"], "internet_gateway");
        assert_eq!(list.body["revisions"][1]["created_by"], "system");
        let preset = app.get(&format!("/api/v1/contracts/{a}/preset"), &app.operator).await;
        assert_eq!(preset.body["params"]["preset"], "internet_gateway");
        assert_eq!(preset.body["revision"], 2);
    }

    async fn r17_1_a_preset_that_cannot_render_says_which_parameters_it_waits_for(db: TestDb) {
        let app = TestApp::with_config(db, config()).await;
        let (k, a) = fleet(&app, "株式会社未完", "SEIL/X4", "X4-WAIT").await;
        let saved = put_preset(&app, &a, pppoe_gateway("gw-pass")).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
        assert_eq!(fetch(&app, "X4-WAIT", None).await.status, StatusCode::OK);
        let view = app.get(&format!("/api/v1/contracts/{a}"), &app.operator).await;
        assert_eq!(view.body["provisioning"]["provisionable"], true, "{}", view.text);

        // R8.1: internet_gateway → remote_access carries the WAN and LAN, but remote access
        // needs a pre-shared key and users that nobody has set.
        app.accepted(&k, json!({"kind": "change_item", "contract_id": a, "item": "remote_access"}), "2026-03-01").await;
        let waiting = fetch(&app, "X4-WAIT", None).await;
        waiting.assert_problem(409, "R17.1");
        assert!(waiting.text.contains("l2tp.pre_shared_key"), "{}", waiting.text);
        // The contract, as the API, the console and the CLI show it, says the same.
        let view = app.get(&format!("/api/v1/contracts/{a}"), &app.operator).await;
        let p = &view.body["provisioning"];
        assert_eq!(p["provisionable"], false, "{}", view.text);
        assert_eq!(p["code"], "R17.1");
        assert!(p["reason"].as_str().unwrap().contains("l2tp.pre_shared_key"), "{}", view.text);
        assert!(p["reason_ja"].as_str().unwrap().contains("l2tp.pre_shared_key"), "{}", view.text);
        let list = app.get(&format!("/api/v1/contractors/{k}/contracts"), &app.operator).await;
        let listed = list.body["contracts"].as_array().unwrap().iter().find(|c| c["id"] == a.as_str()).unwrap();
        assert_eq!(listed["provisioning"]["code"], "R17.1", "{}", list.text);
        // Masked parameters tell the unset key from a set password.
        let preset = app.get(&format!("/api/v1/contracts/{a}/preset"), &app.operator).await;
        assert_eq!(preset.body["params"]["preset"], "remote_access", "{}", preset.text);
        assert_eq!(preset.body["params"]["l2tp"]["pre_shared_key"], "", "{}", preset.text);
        assert_eq!(preset.body["params"]["wan"]["password"], "********", "{}", preset.text);

        // Once the parameters are set, the device gets its configuration again.
        let mut ra = pppoe_gateway("gw-pass");
        ra["preset"] = json!("remote_access");
        ra["l2tp"] = json!({"pre_shared_key": "psk-secret", "users": [{"name": "alice", "password": "alice-pass"}],
            "pool": {"start": "192.168.128.1", "end": "192.168.128.20"}, "tunnel_address": "192.168.127.1", "max_sessions": 10});
        let saved = put_preset(&app, &a, ra).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
        assert_eq!(fetch(&app, "X4-WAIT", None).await.status, StatusCode::OK);
        let view = app.get(&format!("/api/v1/contracts/{a}"), &app.operator).await;
        assert_eq!(view.body["provisioning"]["provisionable"], true, "{}", view.text);
    }

    async fn r5_2_first_fetch_starts_billing_where_configured(db: TestDb) {
        let mut cfg = config();
        cfg.device.billing_start_on_first_fetch = true;
        let app = TestApp::with_config(db, cfg).await;
        let (_, a) = fleet(&app, "株式会社課金", "SEIL/X4", "X4-BILL").await;
        let contract = app.get(&format!("/api/v1/contracts/{a}"), &app.operator).await;
        assert!(contract.body["billing_start"].is_null(), "{}", contract.text);
        assert_eq!(fetch(&app, "X4-BILL", None).await.status, StatusCode::OK);
        let today = mpc_domain::calendar::tokyo_date(jiff::Timestamp::now()).to_string();
        let contract = app.get(&format!("/api/v1/contracts/{a}"), &app.operator).await;
        assert_eq!(contract.body["billing_start"], today.as_str(), "{}", contract.text);
        // Later fetches change nothing (but the replay log that every node shares).
        let state = async || {
            let mut rows = app.db.store.dump().await;
            rows.retain(|r| !r.starts_with("device_requests_seen:"));
            rows
        };
        let before = state().await;
        assert_eq!(fetch(&app, "X4-BILL", None).await.status, StatusCode::OK);
        assert_eq!(state().await, before);
    }

    async fn first_fetch_leaves_billing_alone_by_default(db: TestDb) {
        let app = TestApp::with_config(db, config()).await;
        let (_, a) = fleet(&app, "株式会社既定", "SEIL/X4", "X4-NOBILL").await;
        assert_eq!(fetch(&app, "X4-NOBILL", None).await.status, StatusCode::OK);
        let contract = app.get(&format!("/api/v1/contracts/{a}"), &app.operator).await;
        assert!(contract.body["billing_start"].is_null(), "{}", contract.text);
    }

    async fn inventory_import_is_all_or_nothing(db: TestDb) {
        let app = TestApp::new(db).await;
        let bad = import(&app, "serial,model,factory_secret\nX4-A,SEIL/X4,0123456789abcdef\nX4-B,SEIL/X9,0123456789abcdef\nX4-C,SEIL/X4,short\n").await;
        bad.assert_problem(422, "invalid_inventory");
        let lines: Vec<&str> = bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(lines, ["line 3", "line 4"]);
        let listed = app.get("/api/v1/devices/monitoring", &app.operator).await;
        assert_eq!(listed.body["devices"], json!([]), "nothing imported");
        let ok = import(&app, "X4-A,SEIL/X4,0123456789abcdef\n").await;
        assert_eq!(ok.body["imported"], 1);
        let again = import(&app, "X4-Z,SEIL/X4,0123456789abcdef\nX4-A,SEIL/X4,0123456789abcdef\n").await;
        again.assert_problem(422, "invalid_inventory");
        assert_eq!(again.body["errors"][0]["field"], "line 2");
        let (_, _, token) = app.contractor_with_user("株式会社在庫", "zaiko").await;
        let refused = app.request(Request::post("/api/v1/devices/inventory").header("authorization", format!("Bearer {token}"))
            .header("content-type", "text/csv").body(Body::from("X4-Q,SEIL/X4,0123456789abcdef\n")).unwrap()).await;
        refused.assert_problem(403, "forbidden");
        let json_body = app.post("/api/v1/devices/inventory", &app.operator, json!({})).await;
        json_body.assert_problem(415, "unsupported_media_type");
    }

    async fn devices_go_down_when_silent_and_up_again_with_alerts_retried(db: TestDb) {
        let mut cfg = config();
        cfg.device.down_after = Duration::from_millis(800);
        cfg.device.monitor_every = Duration::from_millis(100);
        cfg.device.webhook_backoff = Duration::from_millis(50);
        let app = TestApp::with_config(db, cfg.clone()).await;
        let (k, _) = fleet(&app, "株式会社監視", "SA-W2L", "W2L-MON").await;
        fleet(&app, "株式会社別", "SEIL/X4", "X4-MON").await;

        // A receiver that fails its first delivery.
        let received: Arc<Mutex<Vec<Value>>> = Arc::default();
        let calls = Arc::new(Mutex::new(0u32));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/alerts", listener.local_addr().unwrap());
        let (r, c) = (received.clone(), calls.clone());
        let receiver = axum::Router::new().route("/alerts", axum::routing::post(move |body: axum::Json<Value>| {
            let (r, c) = (r.clone(), c.clone());
            async move {
                let n = { let mut c = c.lock().unwrap(); *c += 1; *c };
                if n == 1 { return StatusCode::INTERNAL_SERVER_ERROR; }
                r.lock().unwrap().push(body.0);
                StatusCode::NO_CONTENT
            }
        }));
        tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });
        let hook = app.post("/api/v1/webhooks", &app.operator, json!({"url": url})).await;
        assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text);
        app.post("/api/v1/webhooks", &app.operator, json!({"url": "ftp://example.com"})).await.assert_problem(422, "invalid_field");

        let monitor = mpc_server::device::monitor::spawn_monitoring(app.db.store.clone(), cfg.device.clone());
        assert_eq!(heartbeat(&app, "W2L-MON", "4.10").await.status, StatusCode::NO_CONTENT);
        assert_eq!(heartbeat(&app, "X4-MON", "3.50").await.status, StatusCode::NO_CONTENT);
        let up = app.get("/api/v1/devices/monitoring?state=up", &app.operator).await;
        assert_eq!(up.body["devices"].as_array().unwrap().len(), 2, "{}", up.text);
        let w2l = app.get("/api/v1/devices/monitoring?model=SA-W2L&firmware=4.10", &app.operator).await;
        assert_eq!(w2l.body["devices"][0]["serial"], "W2L-MON", "{}", w2l.text);
        assert_eq!(w2l.body["devices"].as_array().unwrap().len(), 1);
        let theirs = app.get(&format!("/api/v1/devices/monitoring?contractor_id={k}"), &app.operator).await;
        assert_eq!(theirs.body["devices"].as_array().unwrap().len(), 1);

        // Silent for longer than down_after: DOWN. Keep X4-MON alive meanwhile.
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            heartbeat(&app, "X4-MON", "3.50").await;
        }
        let down = app.get("/api/v1/devices/monitoring?state=down", &app.operator).await;
        let serials: Vec<&str> = down.body["devices"].as_array().unwrap().iter().map(|d| d["serial"].as_str().unwrap()).collect();
        assert_eq!(serials, ["W2L-MON"], "{}", down.text);
        assert_eq!(heartbeat(&app, "W2L-MON", "4.11").await.status, StatusCode::NO_CONTENT);
        monitor.abort();

        let history = app.get("/api/v1/devices/W2L-MON/history", &app.operator).await;
        let states: Vec<&str> = history.body["changes"].as_array().unwrap().iter().map(|c| c["state"].as_str().unwrap()).collect();
        assert_eq!(states, ["up", "down", "up"], "{}", history.text);

        // Every change reached the webhook, the first after a retry.
        for _ in 0..40 {
            if received.lock().unwrap().len() >= 4 { break; }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let got = received.lock().unwrap().clone();
        let w2l: Vec<&str> = got.iter().filter(|a| a["serial"] == "W2L-MON").map(|a| a["event"].as_str().unwrap()).collect();
        assert_eq!(w2l, ["device.up", "device.down", "device.up"], "{got:?}");
        assert!(*calls.lock().unwrap() >= 5, "one failed attempt was retried");
    }
}
