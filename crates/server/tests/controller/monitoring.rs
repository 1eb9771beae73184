//! Monitoring: devices going down when silent and up again, with alert webhooks retried.

use mpc_storage::backend_tests;
use mpc_storage::testing::TestDb;

use crate::support::*;

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
    let receiver = axum::Router::new().route(
        "/alerts",
        axum::routing::post(move |body: axum::Json<Value>| {
            let (r, c) = (r.clone(), c.clone());
            async move {
                let n = {
                    let mut c = c.lock().unwrap();
                    *c += 1;
                    *c
                };
                if n == 1 {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                r.lock().unwrap().push(body.0);
                StatusCode::NO_CONTENT
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });
    let hook = app
        .post("/api/v1/webhooks", &app.operator, json!({"url": url}))
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text);
    app.post(
        "/api/v1/webhooks",
        &app.operator,
        json!({"url": "ftp://example.com"}),
    )
    .await
    .assert_problem(422, "invalid_field");

    let monitor =
        mpc_server::device::monitor::spawn_monitoring(app.db.store.clone(), cfg.device.clone());
    assert_eq!(
        heartbeat(&app, "W2L-MON", "4.10").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        heartbeat(&app, "X4-MON", "3.50").await.status,
        StatusCode::NO_CONTENT
    );
    let up = app
        .get("/api/v1/devices/monitoring?state=up", &app.operator)
        .await;
    assert_eq!(
        up.body["devices"].as_array().unwrap().len(),
        2,
        "{}",
        up.text
    );
    let w2l = app
        .get(
            "/api/v1/devices/monitoring?model=SA-W2L&firmware=4.10",
            &app.operator,
        )
        .await;
    assert_eq!(w2l.body["devices"][0]["serial"], "W2L-MON", "{}", w2l.text);
    assert_eq!(w2l.body["devices"].as_array().unwrap().len(), 1);
    let theirs = app
        .get(
            &format!("/api/v1/devices/monitoring?contractor_id={k}"),
            &app.operator,
        )
        .await;
    assert_eq!(theirs.body["devices"].as_array().unwrap().len(), 1);

    // Silent for longer than down_after: DOWN. Keep X4-MON alive meanwhile.
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        heartbeat(&app, "X4-MON", "3.50").await;
    }
    let down = app
        .get("/api/v1/devices/monitoring?state=down", &app.operator)
        .await;
    let serials: Vec<&str> = down.body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["serial"].as_str().unwrap())
        .collect();
    assert_eq!(serials, ["W2L-MON"], "{}", down.text);
    assert_eq!(
        heartbeat(&app, "W2L-MON", "4.11").await.status,
        StatusCode::NO_CONTENT
    );
    monitor.abort();

    let history = app
        .get("/api/v1/devices/W2L-MON/history", &app.operator)
        .await;
    let states: Vec<&str> = history.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["up", "down", "up"], "{}", history.text);

    // Every change reached the webhook, the first after a retry.
    for _ in 0..40 {
        if received.lock().unwrap().len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = received.lock().unwrap().clone();
    let w2l: Vec<&str> = got
        .iter()
        .filter(|a| a["serial"] == "W2L-MON")
        .map(|a| a["event"].as_str().unwrap())
        .collect();
    assert_eq!(w2l, ["device.up", "device.down", "device.up"], "{got:?}");
    assert!(
        *calls.lock().unwrap() >= 5,
        "one failed attempt was retried"
    );
}

/// The serials `/api/v1/devices/monitoring?{query}` lists.
async fn listed(app: &TestApp, query: &str) -> Vec<String> {
    let r = app
        .get(
            &format!("/api/v1/devices/monitoring?{query}"),
            &app.operator,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["serial"].as_str().unwrap().to_owned())
        .collect()
}

/// In stock, never connected, UP and DOWN are told apart (devices.md D.4): a device never heard
/// from is never DOWN, and one silent for longer than the DOWN delay is DOWN even before the
/// monitor's sweep has marked it.
async fn connection_states_tell_stock_and_never_connected_from_down(db: TestDb) {
    let mut cfg = config();
    cfg.device.down_after = Duration::from_millis(1000);
    let app = TestApp::with_config(db, cfg).await;
    let (k, _) = fleet(&app, "株式会社稼働", "SA-W2L", "W2L-LIVE").await;
    fleet(&app, "株式会社停止", "SA-W2L", "W2L-SILENT").await;
    fleet(&app, "株式会社新規", "SEIL/X4", "X4-NEW").await;
    let r = import(&app, &format!("X4-STOCK,SEIL/X4,{}\n", secret("X4-STOCK"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    heartbeat(&app, "W2L-LIVE", "4.10").await;
    heartbeat(&app, "W2L-SILENT", "4.10").await;
    // Both within the delay: UP.
    assert_eq!(listed(&app, "state=up").await, ["W2L-LIVE", "W2L-SILENT"]);
    assert!(
        listed(&app, "state=down").await.is_empty(),
        "never-seen is not DOWN"
    );

    // 1.5 s later W2L-SILENT has been silent past the 1 s delay (no sweep runs here); W2L-LIVE
    // calls again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    heartbeat(&app, "W2L-LIVE", "4.10").await;
    assert_eq!(listed(&app, "state=up").await, ["W2L-LIVE"]);
    assert_eq!(listed(&app, "state=down").await, ["W2L-SILENT"]);
    assert_eq!(listed(&app, "state=never_connected").await, ["X4-NEW"]);
    assert_eq!(listed(&app, "state=in_stock").await, ["X4-STOCK"]);

    let all = app
        .get("/api/v1/devices/monitoring", &app.operator)
        .await
        .body;
    let states: Vec<(&str, &str)> = all["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["serial"].as_str().unwrap(), d["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            ("W2L-LIVE", "up"),
            ("W2L-SILENT", "down"),
            ("X4-NEW", "never_connected"),
            ("X4-STOCK", "in_stock"),
        ]
    );
    // Filters combine: this contractor's UP devices.
    assert_eq!(
        listed(&app, &format!("state=up&contractor_id={k}")).await,
        ["W2L-LIVE"]
    );
    app.get("/api/v1/devices/monitoring?state=stale", &app.operator)
        .await
        .assert_problem(400, "invalid_query");
}

backend_tests!(
    devices_go_down_when_silent_and_up_again_with_alerts_retried,
    connection_states_tell_stock_and_never_connected_from_down,
);
