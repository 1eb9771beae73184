//! Cancellations and stops: end dates (R13), group stops (R9.7), cancellations under the
//! general terms (R15.2).

use crate::support::*;

async fn r13_1_cancellation_ends_on_the_later_of_arrival_plus_14_and_the_requested_day(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = new_contractor(&app, "株式会社解約").await;
    let (_, a) = app.eligible_setup(&k, "SEIL/X4", "2026-04-01").await;
    billing_start(&app, &a, "2026-04-10").await;

    // Requested 2026-05-10 is before arrival 2026-05-01 + 14 days = 2026-05-15: ends 05-15.
    let q = app
        .get(
            &format!(
                "/api/v1/contracts/{a}/termination-quote\
                 ?notice_arrived_on=2026-05-01&requested_on=2026-05-10"
            ),
            &app.operator,
        )
        .await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text);
    assert_eq!(q.body["end_on"], "2026-05-15");
    // Billing start 2026-04-10 → minimum period ends 2027-04-09 (1 year, D2). Remaining
    // after 05-15: May 16–31 = 16 of 31 days, then June … March whole, April 1–9 = 9 of 30.
    let et = &q.body["early_termination"][0];
    assert_eq!(et["what"], "contract");
    assert_eq!(et["minimum_period_end"], "2027-04-09");
    assert_eq!(
        et["remaining"][0],
        json!({"month": "2026-05", "days": 16, "days_in_month": 31})
    );
    assert_eq!(
        et["remaining"].as_array().unwrap().last().unwrap(),
        &json!({"month": "2027-04", "days": 9, "days_in_month": 30})
    );
    // The send-back option ends with it (R13.3).
    let effects = q.body["effects"].as_array().unwrap();
    assert!(
        effects
            .iter()
            .any(|e| e["effect"] == "option_ends" && e["ending"]["reason"] == "contract_ended")
    );
    // Eligibility: the contractor loses its only send-back adapter (R6.8).
    assert_eq!(q.body["eligibility_impact"][0]["contractor_id"], k.as_str());
    // The quote changed nothing.
    assert!(
        contract(&app, &a, "2026-05-20")
            .await
            .get("ending")
            .is_none()
    );

    // Requested 2026-06-30 is later than 05-15: the contract ends 06-30.
    let cancel = app
        .accepted(
            &k,
            json!({"kind": "cancel_contract", "contract_id": a, "requested_on": "2026-06-30"}),
            "2026-05-01",
        )
        .await;
    assert_eq!(cancel["status"], "accepted");
    let c = contract(&app, &a, "2026-06-30").await;
    assert_eq!(c["status"], "active", "D6: the end day is served");
    assert_eq!(c["ending"]["on"], "2026-06-30");
    assert_eq!(c["ending"]["rule"], "R13.1");
    assert_eq!(contract(&app, &a, "2026-07-01").await["status"], "ended");
}

async fn r13_2_stopping_send_back_ends_the_contract_the_same_day(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = new_contractor(&app, "株式会社センドバック").await;
    let (_, a) = app.eligible_setup(&k, "SA-W2L", "2026-04-01").await;
    let sendback = contract(&app, &a, "2026-04-01").await["options"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Option stop: arrival 2026-05-01 + 30 days = 2026-05-31 (R9.10, D3).
    app.accepted(
        &k,
        json!({"kind": "stop_option", "option_id": sendback}),
        "2026-05-01",
    )
    .await;
    let c = contract(&app, &a, "2026-05-31").await;
    assert_eq!(c["ending"]["on"], "2026-05-31");
    assert_eq!(c["ending"]["reason"], "sendback_stopped");
    assert_eq!(c["ending"]["rule"], "R13.2");
    assert_eq!(c["options"][0]["ending"]["on"], "2026-05-31");
}

async fn r9_7_group_stop_ends_every_member_and_the_last_members_stop_ends_the_group(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = new_contractor(&app, "株式会社パケット").await;
    let on = "2026-04-01";
    let (m, a1) = app.eligible_setup(&k, "SA-W2L", on).await;
    let a2 = created(
        &app.accepted(
            &k,
            json!({
                "kind": "apply_contract",
                "contract_kind": "service_adapter",
                "item": "remote_access",
                "device_type": "SA-W2L",
                "management_id": m,
            }),
            on,
        )
        .await,
        "contract_created",
    )[0]
    .clone();
    let sim = |contract: &str, group: Value| {
        json!({
            "kind": "add_option",
            "contract_id": contract,
            "option_kind": "mobile_access",
            "usage_type": "packet_share",
            "network_type": "dynamic_ip",
            "group": group,
        })
    };
    let first = app
        .accepted(&k, sim(&a1, json!({"new_group_pack_gb": 100})), on)
        .await;
    let g = created(&first, "group_created")[0].clone();
    app.accepted(&k, sim(&a2, json!({"group_id": g})), on).await;

    // Stop the group: arrival 2026-06-10 + 30 = 2026-07-10 (R9.10); both SIMs stop that day.
    app.accepted(
        &k,
        json!({"kind": "stop_group", "group_id": g}),
        "2026-06-10",
    )
    .await;
    let group = app
        .get(
            &format!("/api/v1/packet-share-groups/{g}?as_of=2026-07-10"),
            &app.operator,
        )
        .await;
    assert_eq!(group.body["ending"]["on"], "2026-07-10");
    for c in [&a1, &a2] {
        let view = contract(&app, c, "2026-07-10").await;
        let sim = view["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == "mobile_access")
            .unwrap()
            .clone();
        assert_eq!(sim["ending"]["on"], "2026-07-10");
        assert_eq!(sim["ending"]["reason"], "group_stopped");
        assert!(view.get("ending").is_none(), "the contracts go on");
    }

    // A second group: members stop one by one; the last one's stop ends the group.
    let a3 = created(
        &app.accepted(
            &k,
            json!({
                "kind": "apply_contract",
                "contract_kind": "service_adapter",
                "item": "internet_gateway",
                "device_type": "SA-W2L",
                "management_id": m,
            }),
            on,
        )
        .await,
        "contract_created",
    )[0]
    .clone();
    let a4 = created(
        &app.accepted(
            &k,
            json!({
                "kind": "apply_contract",
                "contract_kind": "service_adapter",
                "item": "internet_gateway",
                "device_type": "SA-W2L",
                "management_id": m,
            }),
            on,
        )
        .await,
        "contract_created",
    )[0]
    .clone();
    let first = app
        .accepted(&k, sim(&a3, json!({"new_group_pack_gb": 50})), on)
        .await;
    let g2 = created(&first, "group_created")[0].clone();
    let s3 = created(&first, "option_created")[0].clone();
    let s4 = created(
        &app.accepted(&k, sim(&a4, json!({"group_id": g2})), on)
            .await,
        "option_created",
    )[0]
    .clone();
    // s3: arrival 05-01 + 30 = 05-31. s4: arrival 05-05 + 30 = 06-04, requested 06-20 wins.
    app.accepted(
        &k,
        json!({"kind": "stop_option", "option_id": s3}),
        "2026-05-01",
    )
    .await;
    let mid = app
        .get(
            &format!("/api/v1/packet-share-groups/{g2}?as_of=2026-06-01"),
            &app.operator,
        )
        .await;
    assert!(mid.body.get("ending").is_none());
    app.accepted(
        &k,
        json!({"kind": "stop_option", "option_id": s4, "requested_on": "2026-06-20"}),
        "2026-05-05",
    )
    .await;
    let last = app
        .get(
            &format!("/api/v1/packet-share-groups/{g2}?as_of=2026-06-20"),
            &app.operator,
        )
        .await;
    assert_eq!(last.body["ending"]["on"], "2026-06-20");
    assert_eq!(last.body["ending"]["reason"], "last_member_left");
    assert_eq!(last.body["status"], "active");
    let after = app
        .get(
            &format!("/api/v1/packet-share-groups/{g2}?as_of=2026-06-21"),
            &app.operator,
        )
        .await;
    assert_eq!(after.body["status"], "ended");
}

async fn r15_2_general_terms_cancellation_owes_no_early_termination(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = new_contractor(&app, "株式会社約款").await;
    let (_, a) = app.eligible_setup(&k, "SA-W2L", "2026-04-01").await;
    billing_start(&app, &a, "2026-04-01").await;
    let q = app
        .get(
            &format!(
                "/api/v1/contracts/{a}/termination-quote\
                 ?notice_arrived_on=2026-06-10&requested_on=2026-06-10\
                 &termination=general_terms_art28_para2"
            ),
            &app.operator,
        )
        .await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text);
    assert_eq!(
        q.body["end_on"], "2026-06-10",
        "the operator's date, not arrival + 14"
    );
    assert_eq!(q.body["exempt_from_early_termination"], true);
    assert_eq!(q.body["early_termination"], json!([]));
    // The same end by notice would owe 2026-06-25 … 2027-03-31: arrival 06-10 + 14 = 06-24.
    let q = app
        .get(
            &format!("/api/v1/contracts/{a}/termination-quote?notice_arrived_on=2026-06-10"),
            &app.operator,
        )
        .await;
    assert_eq!(q.body["end_on"], "2026-06-24");
    assert_eq!(
        q.body["early_termination"][0]["remaining"][0],
        json!({"month": "2026-06", "days": 6, "days_in_month": 30})
    );
    // Accepting the cancellation reports the eligibility it costs (R6.8).
    let done = app
        .accepted(
            &k,
            json!({"kind": "cancel_contract", "contract_id": a}),
            "2026-06-10",
        )
        .await;
    assert_eq!(
        done["decision"]["eligibility_impact"][0]["contractor_id"],
        k.as_str()
    );
    assert_eq!(
        done["decision"]["eligibility_impact"][0]["from"],
        "2026-06-25"
    );
}

backend_tests!(
    r13_1_cancellation_ends_on_the_later_of_arrival_plus_14_and_the_requested_day,
    r13_2_stopping_send_back_ends_the_contract_the_same_day,
    r9_7_group_stop_ends_every_member_and_the_last_members_stop_ends_the_group,
    r15_2_general_terms_cancellation_owes_no_early_termination,
);
