//! Devices calling home: authentication, provisionability and ETags (R7.1, R11.1, R12.3),
//! serial correction, billing start on the first fetch (R5.2) and the inventory.

use mpc_storage::backend_tests;
use mpc_storage::controller::LineFault;
use mpc_storage::testing::TestDb;

use crate::support::*;

async fn unknown_serials_cost_no_database_query(db: TestDb) {
    // The journal is not looked at again during the test: every query would be per request.
    let quiet = ServerConfig {
        device: DeviceConfig {
            cache_refresh: Duration::from_secs(3600),
            ..DeviceConfig::default()
        },
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
        app.request(signed_at(
            Method::GET,
            path,
            &serial,
            &secret(&serial),
            "",
            now(),
        ))
        .await
        .assert_problem(401, "unauthenticated");
    }
    app.request(signed_at(
        Method::GET,
        path,
        "X4-KNOWN",
        "not-the-factory-secret",
        "",
        now(),
    ))
    .await
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
    let unknown = app
        .request(signed_at(
            Method::GET,
            path,
            "X4-NOPE",
            &secret("X4-NOPE"),
            "",
            now(),
        ))
        .await;
    let bad_sig = app
        .request(signed_at(
            Method::GET,
            path,
            "X4-AUTH",
            "not-the-factory-secret",
            "",
            now(),
        ))
        .await;
    unknown.assert_problem(401, "unauthenticated");
    bad_sig.assert_problem(401, "unauthenticated");
    assert_eq!(unknown.body["detail"], bad_sig.body["detail"]);
    // Another contractor's serial signed with this device's secret: refused, nothing served.
    let crossed = app
        .request(signed_at(
            Method::GET,
            path,
            "X4-OTHER",
            &secret("X4-AUTH"),
            "",
            now(),
        ))
        .await;
    crossed.assert_problem(401, "unauthenticated");
    assert!(!crossed.text.contains("interface"));
    // A signature over another path or body does not verify.
    let mut moved = signed_at(
        Method::GET,
        "/device/v1/status",
        "X4-AUTH",
        &secret("X4-AUTH"),
        "",
        now(),
    );
    *moved.uri_mut() = path.parse().unwrap();
    app.request(moved)
        .await
        .assert_problem(401, "unauthenticated");
    // No headers at all.
    app.request(Request::get(path).body(Body::empty()).unwrap())
        .await
        .assert_problem(401, "unauthenticated");

    // Outside ±5 minutes.
    for skew in [-301, 301] {
        let stale = app
            .request(signed_at(
                Method::GET,
                path,
                "X4-AUTH",
                &secret("X4-AUTH"),
                "",
                now() + skew,
            ))
            .await;
        stale.assert_problem(401, "stale_timestamp");
    }
    let edge = app
        .request(signed_at(
            Method::GET,
            path,
            "X4-AUTH",
            &secret("X4-AUTH"),
            "",
            now() - 290,
        ))
        .await;
    assert_eq!(edge.status, StatusCode::OK, "{}", edge.text);

    // The same signed request twice: the second is a replay.
    let at = now() - 5;
    let first = app
        .request(signed_with_nonce(
            Method::GET,
            path,
            "X4-AUTH",
            &secret("X4-AUTH"),
            "",
            at,
            "nonce-once",
        ))
        .await;
    assert_eq!(first.status, StatusCode::OK);
    app.request(signed_with_nonce(
        Method::GET,
        path,
        "X4-AUTH",
        &secret("X4-AUTH"),
        "",
        at,
        "nonce-once",
    ))
    .await
    .assert_problem(401, "replayed");
    // A fresh nonce in the same second is a new request.
    let again = app
        .request(signed_with_nonce(
            Method::GET,
            path,
            "X4-AUTH",
            &secret("X4-AUTH"),
            "",
            at,
            "nonce-twice",
        ))
        .await;
    assert_eq!(again.status, StatusCode::OK);
}

async fn r7_1_r12_3_r11_1_provisionability_and_etags(db: TestDb) {
    let app = TestApp::with_config(db, config()).await;
    let (k, a) = fleet(&app, "株式会社配信", "SA-W2L", "W2L-1").await;

    // R7.1: in the inventory but never notified.
    let r = import(&app, &format!("W2L-SPARE,SA-W2L,{}\n", secret("W2L-SPARE"))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    fetch(&app, "W2L-SPARE", None)
        .await
        .assert_problem(403, "R7.1");

    // The item's defaults until parameters are saved; then the saved revision.
    let first = fetch(&app, "W2L-1", None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.headers["content-type"], "text/plain; charset=utf-8");
    assert!(
        first
            .text
            .contains("interface.ge1.ipv4.address: 192.168.0.1/24"),
        "{}",
        first.text
    );
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
    assert!(
        changed.text.contains("line-pass-1"),
        "the device gets the secret in clear"
    );
    assert_ne!(changed.headers["etag"], etag.as_str());

    // R12.3 and R11.1: the unit is lost; its replacement gets the same configuration.
    let report = app
        .post(
            &format!("/api/v1/contractors/{k}/requests"),
            &app.operator,
            json!({
                "request": {"kind": "report_loss", "contract_id": a},
                "submitted_on": "2026-02-01",
            }),
        )
        .await;
    assert_eq!(report.status, StatusCode::CREATED, "{}", report.text);
    let id = report.body["id"].as_str().unwrap();
    let r = import(&app, &format!("W2L-2,SA-W2L,{}\n", secret("W2L-2"))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let accepted = app
        .post(
            &format!("/api/v1/requests/{id}/accept"),
            &app.operator,
            json!({"on": "2026-02-01", "replacement_serial": "W2L-2", "replaced_on": "2026-02-03"}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    fetch(&app, "W2L-1", None)
        .await
        .assert_problem(403, "R12.3");
    let replacement = fetch(&app, "W2L-2", None).await;
    assert_eq!(replacement.status, StatusCode::OK, "{}", replacement.text);
    assert_eq!(replacement.text, changed.text);
    assert_eq!(replacement.headers["etag"], changed.headers["etag"]);
    heartbeat(&app, "W2L-1", "4.10")
        .await
        .assert_problem(403, "R12.3");

    // R3.1: a unit of another model than the contract's.
    let k2 = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": "株式会社機種"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, b) = app.eligible_setup(&k2, "SEIL/X4", ON).await;
    let r = import(&app, &format!("CA10-X,SEIL CA10,{}\n", secret("CA10-X"))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    // R3.1: refused when notified (naming both models), not left to fail at every fetch.
    let before = app.db.store.dump().await;
    let wrong = app
        .post(
            &format!("/api/v1/contractors/{k2}/requests"),
            &app.operator,
            json!({
                "request": {"kind": "notify_serial", "contract_id": b, "serial": "CA10-X"},
                "submitted_on": ON,
            }),
        )
        .await;
    wrong.assert_problem(422, "R3.1");
    assert!(
        wrong.text.contains("SEIL CA10") && wrong.text.contains("SEIL/X4"),
        "{}",
        wrong.text
    );
    assert_eq!(app.db.store.dump().await, before, "nothing recorded");
    let view = app
        .get(&format!("/api/v1/contracts/{b}"), &app.operator)
        .await;
    assert_eq!(view.body["provisioning"]["code"], "R7.1", "{}", view.text);
    fetch(&app, "CA10-X", None)
        .await
        .assert_problem(403, "R7.1");
    // Nor can it come in as a replacement for a unit of another model.
    let r = import(&app, &format!("X4-B,SEIL/X4,{}\n", secret("X4-B"))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.accepted(
        &k2,
        json!({"kind": "notify_serial", "contract_id": b, "serial": "X4-B"}),
        ON,
    )
    .await;
    let swap = app
        .post(
            &format!("/api/v1/contractors/{k2}/requests"),
            &app.operator,
            json!({"request": {"kind": "report_failure", "contract_id": b}, "submitted_on": ON,
               "accept": {"on": ON, "replacement_serial": "CA10-X"}}),
        )
        .await;
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
    app.accepted(
        &k,
        json!({"kind": "notify_serial", "contract_id": a, "serial": "W2L-RIGHT"}),
        ON,
    )
    .await;
    fetch(&app, "W2L-TYPO", None)
        .await
        .assert_problem(403, "R7.1");
    let right = fetch(&app, "W2L-RIGHT", None).await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.text);
    let view = app
        .get(&format!("/api/v1/contracts/{a}"), &app.operator)
        .await;
    assert_eq!(view.body["serial"], "W2L-RIGHT", "{}", view.text);

    // A device has fetched with W2L-RIGHT: only a failure or loss report replaces it now.
    let before = app.db.store.dump().await;
    let again = app
        .post(
            &format!("/api/v1/contractors/{k}/requests"),
            &app.operator,
            json!({"request": {"kind": "notify_serial", "contract_id": a, "serial": "W2L-OTHER"},
               "submitted_on": ON, "accept": {"on": ON}}),
        )
        .await;
    again.assert_problem(422, "serial_already_notified");
    assert_eq!(app.db.store.dump().await, before, "nothing recorded");
    assert_eq!(fetch(&app, "W2L-RIGHT", None).await.status, StatusCode::OK);
    fetch(&app, "W2L-OTHER", None)
        .await
        .assert_problem(403, "R7.1");
}

async fn r5_2_first_fetch_starts_billing_where_configured(db: TestDb) {
    let mut cfg = config();
    cfg.device.billing_start_on_first_fetch = true;
    let app = TestApp::with_config(db, cfg).await;
    let (_, a) = fleet(&app, "株式会社課金", "SEIL/X4", "X4-BILL").await;
    let contract = app
        .get(&format!("/api/v1/contracts/{a}"), &app.operator)
        .await;
    assert!(
        contract.body["billing_start"].is_null(),
        "{}",
        contract.text
    );
    assert_eq!(fetch(&app, "X4-BILL", None).await.status, StatusCode::OK);
    let today = mpc_domain::calendar::tokyo_date(jiff::Timestamp::now()).to_string();
    let contract = app
        .get(&format!("/api/v1/contracts/{a}"), &app.operator)
        .await;
    assert_eq!(
        contract.body["billing_start"],
        today.as_str(),
        "{}",
        contract.text
    );
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
    let contract = app
        .get(&format!("/api/v1/contracts/{a}"), &app.operator)
        .await;
    assert!(
        contract.body["billing_start"].is_null(),
        "{}",
        contract.text
    );
}

async fn inventory_import_is_all_or_nothing(db: TestDb) {
    let app = TestApp::new(db).await;
    let csv = "serial,model,factory_secret\nX4-A,SEIL/X4,0123456789abcdef\n\
               X4-B,SEIL/X9,0123456789abcdef\nX4-C,SEIL/X4,short\n";
    let bad = import(&app, csv).await;
    bad.assert_problem(422, "invalid_inventory");
    // Each bad line with its reason in English and in Japanese.
    let lines: Vec<(&str, &str, &str)> = bad.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap(),
                e["message"].as_str().unwrap(),
                e["message_ja"].as_str().unwrap(),
            )
        })
        .collect();
    let model = LineFault::UnknownModel {
        model: "SEIL/X9".into(),
    };
    assert_eq!(
        lines,
        [
            ("line 3", &*model.message_en(), &*model.message_ja()),
            (
                "line 4",
                &*LineFault::SecretShape.message_en(),
                &*LineFault::SecretShape.message_ja()
            )
        ]
    );
    let listed = app.get("/api/v1/devices/monitoring", &app.operator).await;
    assert_eq!(listed.body["devices"], json!([]), "nothing imported");
    let ok = import(&app, "X4-A,SEIL/X4,0123456789abcdef\n").await;
    assert_eq!(ok.body["imported"], 1);
    let again = import(
        &app,
        "X4-Z,SEIL/X4,0123456789abcdef\nX4-A,SEIL/X4,0123456789abcdef\n",
    )
    .await;
    again.assert_problem(422, "invalid_inventory");
    assert_eq!(again.body["errors"][0]["field"], "line 2");
    let known = LineFault::SerialKnown {
        serial: "X4-A".into(),
        known: "X4-A".into(),
    };
    assert_eq!(again.body["errors"][0]["message_ja"], known.message_ja());
    let (_, _, token) = app.contractor_with_user("株式会社在庫", "zaiko").await;
    let refused = app
        .request(
            Request::post("/api/v1/devices/inventory")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "text/csv")
                .body(Body::from("X4-Q,SEIL/X4,0123456789abcdef\n"))
                .unwrap(),
        )
        .await;
    refused.assert_problem(403, "forbidden");
    let json_body = app
        .post("/api/v1/devices/inventory", &app.operator, json!({}))
        .await;
    json_body.assert_problem(415, "unsupported_media_type");
}

backend_tests!(
    unknown_serials_cost_no_database_query,
    device_authentication_refuses_without_telling_whether_a_serial_exists,
    r7_1_r12_3_r11_1_provisionability_and_etags,
    r7_1_a_serial_no_device_fetched_with_can_be_corrected_once,
    r5_2_first_fetch_starts_billing_where_configured,
    first_fetch_leaves_billing_alone_by_default,
    inventory_import_is_all_or_nothing
);
