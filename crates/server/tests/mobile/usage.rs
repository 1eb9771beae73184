//! Usage as ingested and counted: Tokyo months (D1), refused records, packet share groups
//! (R9.6).

use crate::support::*;

async fn d1_a_record_at_23_59_counts_for_the_month_ending_one_at_00_00_for_the_next(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _, _) = app.contractor_with_user("株式会社月末", "tsukimatsu").await;
    let (adapter, _, _) = sim(&app, &k, "plan_10gb", Value::Null, SIM_A).await;
    // 04-30 23:59 JST (Tokyo civil time, no offset): April, 10 GB = at April's cap.
    // 05-01 00:00 JST: May, 1 byte. If both counted in April it would be 10 GB + 1, throttled.
    let csv = format!(
        "record_id,iccid,start,end,bytes_up,bytes_down\n\
         late,{SIM_A},2026-04-30T23:59:00,2026-04-30T23:59:59,0,{}\n\
         early,{SIM_A},2026-05-01T00:00:00,2026-05-01T00:00:59,1,0\n",
        10 * GB
    );
    let r = ingest(&app, "text/csv", csv).await;
    assert_eq!(r["accepted"].as_u64(), Some(2), "{r}");
    let april = app
        .get(
            &format!("/api/v1/contracts/{adapter}/mobile-usage?month=2026-04"),
            &app.operator,
        )
        .await;
    assert_eq!(april.body["sims"][0]["used_bytes"].as_u64(), Some(10 * GB));
    assert_eq!(
        april.body["sims"][0]["days"],
        json!([{"date": "2026-04-30", "bytes": 10 * GB}])
    );
    let may = app
        .get(
            &format!("/api/v1/contracts/{adapter}/mobile-usage?month=2026-05"),
            &app.operator,
        )
        .await;
    assert_eq!(may.body["sims"][0]["used_bytes"].as_u64(), Some(1));
    assert!(throttled(&app, "2026-04-30T14:59:59Z").await.is_empty());
    assert!(throttled(&app, "2026-04-30T15:01:00Z").await.is_empty());
}

async fn rejected_records_are_reported_with_their_lines_and_kept(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _, _) = app.contractor_with_user("株式会社拒否", "kyohi").await;
    sim(&app, &k, "standard", Value::Null, SIM_A).await;
    let body = [
        line(
            "ok",
            SIM_A,
            "2026-04-02T00:00:00+09:00",
            "2026-04-02T00:15:00+09:00",
            10,
            20,
        ),
        line(
            "nosim",
            "8981100000000009999",
            "2026-04-02T00:00:00+09:00",
            "2026-04-02T00:15:00+09:00",
            1,
            1,
        ),
        // The SIM serves from 2026-04-01: a record of 03-31 is outside any option period.
        line(
            "early",
            SIM_A,
            "2026-03-31T23:00:00+09:00",
            "2026-03-31T23:15:00+09:00",
            1,
            1,
        ),
        "{not json".to_owned(),
        line(
            "backwards",
            SIM_A,
            "2026-04-02T01:00:00+09:00",
            "2026-04-02T00:00:00+09:00",
            1,
            1,
        ),
    ];
    let r = ingest(&app, "application/x-ndjson", body.join("\n")).await;
    assert_eq!(r["accepted"].as_u64(), Some(1));
    let rejected: Vec<(u64, &str)> = r["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["line"].as_u64().unwrap(), x["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rejected,
        [
            (2, "unknown_sim"),
            (3, "outside_option_period"),
            (4, "invalid"),
            (5, "invalid")
        ]
    );
    let mut conn = app.db.store.conn().await.unwrap();
    let kept = mpc_storage::mobile::rejections(&mut conn, r["batch_id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        kept.iter().map(|k| k.line).collect::<Vec<_>>(),
        [2, 3, 4, 5]
    );
    let listed = app
        .get(
            &format!(
                "/api/v1/mobile/rejections?batch_id={}",
                r["batch_id"].as_str().unwrap()
            ),
            &app.operator,
        )
        .await;
    assert_eq!(
        listed.body.as_array().map(Vec::len),
        Some(4),
        "{}",
        listed.text
    );
    assert_eq!(listed.body[0]["reason"], "unknown_sim");

    // Usage of another media type is refused; non-operators may not ingest.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/mobile/usage")
        .header("authorization", format!("Bearer {}", app.operator))
        .header("content-type", "text/plain")
        .body(Body::from("x"))
        .unwrap();
    app.request(req)
        .await
        .assert_problem(415, "unsupported_media_type");
}

async fn r9_6_pack_increase_takes_effect_on_the_1st_and_a_leaving_member_counts_its_days(
    db: TestDb,
) {
    let app = TestApp::new(db).await;
    let (k, _, token) = app.contractor_with_user("株式会社シェア", "share").await;
    let (_, a, first) = sim(
        &app,
        &k,
        "packet_share",
        json!({"new_group_pack_gb": 50}),
        SIM_A,
    )
    .await;
    let g = created(&first, "group_created")[0].clone();
    let (_, b, _) = sim(&app, &k, "packet_share", json!({"group_id": g}), SIM_B).await;
    // Pack 50 → 100 GB requested 04-15: takes effect 05-01 (R9.6). b gives notice 04-15:
    // + 30 days = 05-15, its last day as a member (R9.10, R9.7).
    app.accepted(
        &k,
        json!({"kind": "change_pack", "group_id": g, "pack_gb": 100}),
        "2026-04-15",
    )
    .await;
    app.accepted(
        &k,
        json!({"kind": "stop_option", "option_id": b}),
        "2026-04-15",
    )
    .await;

    // April, pack 50 GB: a 30 GB + b 30 GB = 60 GB > 50 GB once b's record ends 04-20 12:15
    // JST (03:15 UTC): both SIMs throttled until 05-01 00:00 JST.
    // May, pack 100 GB: a 60 GB + b 30 GB (05-15) = 90 GB ≤ 100 GB.
    let body = [
        line(
            "a4",
            SIM_A,
            "2026-04-10T12:00:00+09:00",
            "2026-04-10T12:15:00+09:00",
            0,
            30 * GB,
        ),
        line(
            "b4",
            SIM_B,
            "2026-04-20T12:00:00+09:00",
            "2026-04-20T12:15:00+09:00",
            0,
            30 * GB,
        ),
        line(
            "a5",
            SIM_A,
            "2026-05-10T12:00:00+09:00",
            "2026-05-10T12:15:00+09:00",
            0,
            60 * GB,
        ),
        line(
            "b5",
            SIM_B,
            "2026-05-15T22:00:00+09:00",
            "2026-05-15T22:15:00+09:00",
            0,
            30 * GB,
        ),
        // b is no member (its option ended) on 05-16: refused, never pooled.
        line(
            "b5late",
            SIM_B,
            "2026-05-16T08:00:00+09:00",
            "2026-05-16T08:15:00+09:00",
            0,
            30 * GB,
        ),
    ];
    let r = ingest(&app, "application/x-ndjson", body.join("\n")).await;
    assert_eq!(r["accepted"].as_u64(), Some(4), "{r}");
    assert_eq!(r["rejected"][0]["reason"], "outside_option_period");
    let april = app
        .get(
            &format!("/api/v1/packet-share-groups/{g}/usage?month=2026-04"),
            &token,
        )
        .await;
    assert_eq!(
        (
            april.body["pack_gb"].as_u64(),
            april.body["used_bytes"].as_u64()
        ),
        (Some(50), Some(60 * GB)),
        "{}",
        april.text
    );
    assert_eq!(
        throttled(&app, "2026-04-20T03:15:00Z").await,
        [SIM_A, SIM_B]
    );
    assert!(throttled(&app, "2026-04-20T03:14:59Z").await.is_empty());
    let may = app
        .get(
            &format!("/api/v1/packet-share-groups/{g}/usage?month=2026-05"),
            &token,
        )
        .await;
    assert_eq!(
        (
            may.body["pack_gb"].as_u64(),
            may.body["used_bytes"].as_u64()
        ),
        (Some(100), Some(90 * GB))
    );
    assert!(throttled(&app, "2026-05-20T00:00:00Z").await.is_empty());

    // 11 GB more for a on 05-16 (ends 10:15 JST = 01:15 UTC): 101 GB > 100 GB. a is
    // throttled; b, no member since 05-16, is not.
    ingest(
        &app,
        "application/x-ndjson",
        line(
            "a5b",
            SIM_A,
            "2026-05-16T10:00:00+09:00",
            "2026-05-16T10:15:00+09:00",
            GB,
            10 * GB,
        ),
    )
    .await;
    assert_eq!(throttled(&app, "2026-05-16T01:15:00Z").await, [SIM_A]);
    let members = app
        .get(
            &format!("/api/v1/packet-share-groups/{g}/usage?month=2026-05"),
            &token,
        )
        .await;
    let of = |id: &str| {
        members.body["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["option_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(of(&a)["used_bytes"].as_u64(), Some(71 * GB));
    assert_eq!(of(&b)["used_bytes"].as_u64(), Some(30 * GB));
    assert!(of(&b).get("throttle").is_none());
}

backend_tests!(
    d1_a_record_at_23_59_counts_for_the_month_ending_one_at_00_00_for_the_next,
    rejected_records_are_reported_with_their_lines_and_kept,
    r9_6_pack_increase_takes_effect_on_the_1st_and_a_leaving_member_counts_its_days,
);
