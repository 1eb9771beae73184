//! Throttle decisions against the cap (R9.9): the exact byte, late and corrected records,
//! batches of another process, throttles by hand and their webhooks.

use crate::support::*;

async fn r9_9_exactly_at_the_cap_is_not_throttled_one_byte_over_is(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _, token) = app.contractor_with_user("株式会社モバイル", "mobile").await;
    let (adapter, _, _) = sim(&app, &k, "plan_10gb", Value::Null, SIM_A).await;
    // 6 GB (up 1 + down 5) + 4 GB = 10,000,000,000 bytes: exactly the plan_10gb cap.
    let batch = [
        line(
            "r1",
            SIM_A,
            "2026-04-03T10:00:00+09:00",
            "2026-04-03T10:15:00+09:00",
            GB,
            5 * GB,
        ),
        line(
            "r2",
            SIM_A,
            "2026-04-20T10:00:00+09:00",
            "2026-04-20T10:15:00+09:00",
            0,
            4 * GB,
        ),
    ];
    let r = ingest(&app, "application/x-ndjson", batch.join("\n")).await;
    assert_eq!(
        (
            r["accepted"].as_u64(),
            r["rejected"].as_array().unwrap().len()
        ),
        (Some(2), 0)
    );
    let usage = app
        .get(
            &format!("/api/v1/contracts/{adapter}/mobile-usage?month=2026-04"),
            &token,
        )
        .await;
    let s = &usage.body["sims"][0];
    assert_eq!(
        (s["used_bytes"].as_u64(), s["cap_bytes"].as_u64()),
        (Some(10 * GB), Some(10 * GB))
    );
    assert!(s.get("throttle").is_none(), "{}", usage.text);
    assert_eq!(s["days"][0], json!({"date": "2026-04-03", "bytes": 6 * GB}));
    assert!(throttled(&app, "2026-04-25T00:00:00Z").await.is_empty());

    // One byte more on 04-25, interval ending 12:00 JST (03:00 UTC): 10 GB + 1 > 10 GB.
    // Throttled from 03:00 UTC until 2026-05-01 00:00 JST = 04-30 15:00 UTC.
    let one = line(
        "r3",
        SIM_A,
        "2026-04-25T11:45:00+09:00",
        "2026-04-25T12:00:00+09:00",
        1,
        0,
    );
    ingest(&app, "application/x-ndjson", one.clone()).await;
    assert!(throttled(&app, "2026-04-25T02:59:59Z").await.is_empty());
    assert_eq!(throttled(&app, "2026-04-25T03:00:00Z").await, [SIM_A]);
    assert_eq!(throttled(&app, "2026-04-30T14:59:59Z").await, [SIM_A]);
    assert!(
        throttled(&app, "2026-04-30T15:00:00Z").await.is_empty(),
        "released on the 1st"
    );
    let events = app
        .get("/api/v1/mobile/throttle-events", &app.operator)
        .await;
    let e = &events.body["events"][0];
    assert_eq!(
        (e["kind"].as_str(), e["iccid"].as_str()),
        (Some("throttle"), Some(SIM_A))
    );
    assert_eq!(
        (e["from"].as_str(), e["until"].as_str()),
        (Some("2026-04-25T03:00:00Z"), Some("2026-04-30T15:00:00Z"))
    );
    let cursor = events.body["cursor"].as_i64().unwrap();

    // The same record again: a duplicate, nothing changes.
    let r = ingest(&app, "application/x-ndjson", one).await;
    assert_eq!(
        (r["accepted"].as_u64(), r["duplicates"].as_u64()),
        (Some(0), Some(1))
    );
    // Corrected to 0 bytes: counted once, with its new value; back at 10 GB, the throttle is
    // withdrawn.
    let fixed = line(
        "r3",
        SIM_A,
        "2026-04-25T11:45:00+09:00",
        "2026-04-25T12:00:00+09:00",
        0,
        0,
    );
    let r = ingest(&app, "application/x-ndjson", fixed).await;
    assert_eq!(
        (r["accepted"].as_u64(), r["corrected"].as_u64()),
        (Some(0), Some(1))
    );
    let usage = app
        .get(
            &format!("/api/v1/contracts/{adapter}/mobile-usage?month=2026-04"),
            &token,
        )
        .await;
    assert_eq!(usage.body["sims"][0]["used_bytes"].as_u64(), Some(10 * GB));
    assert!(throttled(&app, "2026-04-26T00:00:00Z").await.is_empty());
    let later = app
        .get(
            &format!("/api/v1/mobile/throttle-events?after={cursor}"),
            &app.operator,
        )
        .await;
    assert_eq!(later.body["events"].as_array().unwrap().len(), 1);
    assert_eq!(later.body["events"][0]["kind"], "withdrawn");
}

async fn r9_9_batches_another_process_took_count_in_the_next_decision(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _, _) = app.contractor_with_user("株式会社二拠点", "nikyoten").await;
    sim(&app, &k, "plan_10gb", Value::Null, SIM_A).await;
    let other = second_process(&app).await;
    let at = |id: &str, day: u32, up: u64| {
        line(
            id,
            SIM_A,
            &format!("2026-04-{day:02}T10:00:00+09:00"),
            &format!("2026-04-{day:02}T10:15:00+09:00"),
            up,
            0,
        )
    };
    let here = |body: String| ingest(&app, "application/x-ndjson", body);
    let there = |body: String| ingest_via(&other, &app.operator, "application/x-ndjson", body);
    // 6 GB here, then 4 GB through the other process: 10 GB, at the cap.
    here(at("r1", 3, 6 * GB)).await;
    there(at("r2", 10, 4 * GB)).await;
    assert!(throttled(&app, "2026-04-30T00:00:00Z").await.is_empty());
    // One byte here: 10 GB + 1 > 10 GB when it ends, 04-20 10:15 JST (01:15 UTC). A total
    // kept from before the other process wrote would read 6 GB + 1 and throttle nothing.
    here(at("r3", 20, 1)).await;
    assert_eq!(throttled(&app, "2026-04-20T01:15:00Z").await, [SIM_A]);
    // The other process corrects r2 to 0 GB: 6 GB + 1 byte, withdrawn there.
    there(at("r2", 10, 0)).await;
    assert!(throttled(&app, "2026-04-21T00:00:00Z").await.is_empty());
    // 5 GB here ending 04-25 10:15 JST: 6 + 1 byte + 5 = 11 GB > 10 GB from then on. A
    // throttle kept from before the withdrawal would look like it stands and decide nothing.
    here(at("r4", 25, 5 * GB)).await;
    assert!(throttled(&app, "2026-04-25T01:14:59Z").await.is_empty());
    assert_eq!(throttled(&app, "2026-04-25T01:15:00Z").await, [SIM_A]);
}

async fn r9_9_late_and_corrected_records_move_the_throttle_only_when_they_end_before_it(
    db: TestDb,
) {
    let app = TestApp::new(db).await;
    let (k, _, _) = app.contractor_with_user("株式会社遅延", "chien").await;
    sim(&app, &k, "plan_10gb", Value::Null, SIM_A).await;
    let at = |id: &str, day: u32, gb: u64| {
        line(
            id,
            SIM_A,
            &format!("2026-04-{day:02}T10:00:00+09:00"),
            &format!("2026-04-{day:02}T10:15:00+09:00"),
            0,
            gb,
        )
    };
    // 6 GB (04-03) + 5 GB (04-10) = 11 GB > 10 GB when the second ends: 04-10 10:15 JST.
    ingest(
        &app,
        "application/x-ndjson",
        [at("r1", 3, 6 * GB), at("r2", 10, 5 * GB)].join("\n"),
    )
    .await;
    let first = (
        "throttle".to_owned(),
        Some("2026-04-10T01:15:00Z".to_owned()),
    );
    assert_eq!(events(&app).await, std::slice::from_ref(&first));
    // 3 GB ending 04-12, after the crossing: use before it is unchanged, no new decision.
    ingest(&app, "application/x-ndjson", at("r3", 12, 3 * GB)).await;
    assert_eq!(events(&app).await, std::slice::from_ref(&first));
    // A late 5 GB ending 04-05 10:15 JST: in order of end 6 + 5 = 11 GB > 10 GB there.
    ingest(&app, "application/x-ndjson", at("r4", 5, 5 * GB)).await;
    let moved = (
        "throttle".to_owned(),
        Some("2026-04-05T01:15:00Z".to_owned()),
    );
    assert_eq!(events(&app).await, [first.clone(), moved.clone()]);
    assert_eq!(throttled(&app, "2026-04-05T01:15:00Z").await, [SIM_A]);
    assert!(throttled(&app, "2026-04-05T01:14:59Z").await.is_empty());
    // r2 corrected to 0 GB: it ends after the crossing, which stays (6 + 5 at 04-05).
    ingest(&app, "application/x-ndjson", at("r2", 10, 0)).await;
    assert_eq!(events(&app).await, [first.clone(), moved.clone()]);
    // r4 corrected to 1 GB: it ends at the crossing, so the month is replayed: 6 + 1 + 0 + 3
    // = 10 GB, at the cap and not over it: withdrawn.
    ingest(&app, "application/x-ndjson", at("r4", 5, GB)).await;
    assert_eq!(
        events(&app).await,
        [first, moved, ("withdrawn".to_owned(), None)]
    );
    assert!(throttled(&app, "2026-04-20T00:00:00Z").await.is_empty());
    // One byte more on 04-20 (ends 10:15 JST): 10 GB + 1 > 10 GB, from the total alone.
    ingest(
        &app,
        "application/x-ndjson",
        line(
            "r5",
            SIM_A,
            "2026-04-20T10:00:00+09:00",
            "2026-04-20T10:15:00+09:00",
            1,
            0,
        ),
    )
    .await;
    assert_eq!(throttled(&app, "2026-04-20T01:15:00Z").await, [SIM_A]);

    // A SIM bound after batches were taken is known to the next one (on SQLite ingestion
    // keeps SIMs in memory until a trigger counts a change).
    sim(&app, &k, "standard", Value::Null, SIM_B).await;
    let r = ingest(
        &app,
        "application/x-ndjson",
        line(
            "b1",
            SIM_B,
            "2026-04-21T10:00:00+09:00",
            "2026-04-21T10:15:00+09:00",
            1,
            0,
        ),
    )
    .await;
    assert_eq!(
        (
            r["accepted"].as_u64(),
            r["rejected"].as_array().unwrap().len()
        ),
        (Some(1), 0),
        "{r}"
    );
}

async fn r9_9_long_late_records_crossing_the_cap_first_decide_from_their_end_on(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _, _) = app.contractor_with_user("株式会社長時間", "chojikan").await;
    sim(&app, &k, "plan_10gb", Value::Null, SIM_A).await;
    let rec = |id: &str, start: &str, end: &str, gb: u64| {
        line(
            id,
            SIM_A,
            &format!("2026-04-{start}+09:00"),
            &format!("2026-04-{end}+09:00"),
            0,
            gb,
        )
    };
    // r1 6 GB ending 04-03 10:15, r2 3 GB ending 04-10 10:15: 9 GB, under the cap.
    ingest(
        &app,
        "application/x-ndjson",
        [
            rec("r1", "03T10:00:00", "03T10:15:00", 6 * GB),
            rec("r2", "10T10:00:00", "10T10:15:00", 3 * GB),
        ]
        .join("\n"),
    )
    .await;
    assert!(events(&app).await.is_empty());
    // A late 48-hour record, 04-04 00:00 to 04-06 00:00, 2 GB. In order of end: 6, 8, then
    // 8 + 3 = 11 GB > 10 GB when r2 ends: throttled from 04-10 10:15 JST (01:15 UTC).
    ingest(
        &app,
        "application/x-ndjson",
        rec("r3", "04T00:00:00", "06T00:00:00", 2 * GB),
    )
    .await;
    let first = (
        "throttle".to_owned(),
        Some("2026-04-10T01:15:00Z".to_owned()),
    );
    assert_eq!(events(&app).await, std::slice::from_ref(&first));
    // A week-long record, 04-01 to 04-08, 1 GB: 6, 8, 9, then 12 GB > 10 GB still at r2's end.
    ingest(
        &app,
        "application/x-ndjson",
        rec("r4", "01T00:00:00", "08T00:00:00", GB),
    )
    .await;
    assert_eq!(events(&app).await, std::slice::from_ref(&first));
    // 04-02 to 04-09, 2 GB: 6, 8, 9, then 11 GB > 10 GB when it ends, 04-09 00:00 JST
    // (04-08 15:00 UTC): the throttle moves earlier.
    ingest(
        &app,
        "application/x-ndjson",
        rec("r5", "02T00:00:00", "09T00:00:00", 2 * GB),
    )
    .await;
    let moved = (
        "throttle".to_owned(),
        Some("2026-04-08T15:00:00Z".to_owned()),
    );
    assert_eq!(events(&app).await, [first, moved]);
    assert_eq!(throttled(&app, "2026-04-08T15:00:00Z").await, [SIM_A]);
    assert!(throttled(&app, "2026-04-08T14:59:59Z").await.is_empty());
}

async fn r9_9_manual_throttle_and_release_need_a_reason_and_override(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _, token) = app.contractor_with_user("株式会社手動", "shudou").await;
    let (adapter, _, _) = sim(&app, &k, "standard", Value::Null, SIM_A).await;
    let path = format!("/api/v1/mobile/sims/{SIM_A}/throttle");
    app.post(&path, &app.operator, json!({"reason": " "}))
        .await
        .assert_problem(422, "R9.9");
    app.post(&path, &token, json!({"reason": "x"}))
        .await
        .assert_problem(404, "not_found");
    let t = app
        .post(&path, &app.operator, json!({"reason": "abuse report"}))
        .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text);
    assert_eq!(t.body["throttled"], true);
    let now = jiff::Timestamp::now();
    assert_eq!(
        throttled(
            &app,
            &(now + jiff::SignedDuration::from_secs(1)).to_string()
        )
        .await,
        [SIM_A]
    );
    let r = app
        .post(
            &format!("/api/v1/mobile/sims/{SIM_A}/release"),
            &app.operator,
            json!({"reason": "resolved"}),
        )
        .await;
    assert_eq!(r.body["throttled"], false, "{}", r.text);
    let journal = app.get("/api/v1/journal", &app.operator).await;
    assert!(journal.text.contains("mobile.throttle") && journal.text.contains("mobile.release"));

    // SIMs serve only mobile access options (R6.5); another contractor cannot read the usage.
    let ultra = app
        .get(&format!("/api/v1/contracts/{adapter}"), &app.operator)
        .await;
    let sendback = ultra.body["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "ultra_sendback")
        .unwrap()["id"]
        .clone();
    app.call(
        Method::PUT,
        "/api/v1/mobile/sims/8981100000000000003",
        Some(&app.operator),
        Some(json!({"option_id": sendback, "from": "2026-04-01"})),
    )
    .await
    .assert_problem(422, "R6.5");
    let (_, _, other) = app.contractor_with_user("株式会社他社", "tasha").await;
    app.get(
        &format!("/api/v1/contracts/{adapter}/mobile-usage?month=2026-04"),
        &other,
    )
    .await
    .assert_problem(404, "not_found");
}

async fn r9_9_throttle_changes_reach_the_webhooks_once_through_the_relay(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": "株式会社中継"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sim(&app, &k, "standard", Value::Null, SIM_A).await;
    let received: std::sync::Arc<std::sync::Mutex<Vec<Value>>> = Default::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let sink = received.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body.0);
                StatusCode::NO_CONTENT
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });
    let hook = app
        .post("/api/v1/webhooks", &app.operator, json!({"url": url}))
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text);
    let t = app
        .post(
            &format!("/api/v1/mobile/sims/{SIM_A}/throttle"),
            &app.operator,
            json!({"reason": "abuse report"}),
        )
        .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text);

    let config = mpc_server::device::DeviceConfig::default();
    // Two passes: the second finds nothing new, so each change is posted once.
    for _ in 0..2 {
        mpc_server::device::monitor::relay_throttles(&app.db.store, &config)
            .await
            .unwrap();
    }
    for _ in 0..50 {
        if !received.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["event"], "throttle.manual_throttle");
    assert_eq!(got[0]["iccid"], SIM_A);
    assert_eq!(got[0]["reason"], "abuse report");
    assert!(got[0]["seq"].as_i64().is_some_and(|s| s > 0));
}

backend_tests!(
    r9_9_exactly_at_the_cap_is_not_throttled_one_byte_over_is,
    r9_9_batches_another_process_took_count_in_the_next_decision,
    r9_9_late_and_corrected_records_move_the_throttle_only_when_they_end_before_it,
    r9_9_long_late_records_crossing_the_cap_first_decide_from_their_end_on,
    r9_9_manual_throttle_and_release_need_a_reason_and_override,
    r9_9_throttle_changes_reach_the_webhooks_once_through_the_relay,
);
