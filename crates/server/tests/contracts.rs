//! The contract rules through the HTTP API, on SQLite and PostgreSQL. Every date's arithmetic
//! is in a comment.

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, created};
use mpc_storage::backend_tests;
use mpc_storage::testing::TestDb;
use serde_json::{Value, json};

async fn contract(app: &TestApp, id: &str, as_of: &str) -> Value {
    let reply = app
        .get(
            &format!("/api/v1/contracts/{id}?as_of={as_of}"),
            &app.operator,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.body
}

async fn new_contractor(app: &TestApp, name: &str) -> String {
    app.post("/api/v1/contractors", &app.operator, json!({"name": name}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Submits as the operator with acceptance and expects a refusal citing `rule`.
async fn refused(app: &TestApp, contractor: &str, request: Value, on: &str, rule: &str) {
    let before = app.db.store.dump().await;
    let reply = app
        .post(
            &format!("/api/v1/contractors/{contractor}/requests"),
            &app.operator,
            json!({"request": request, "submitted_on": on, "accept": {"on": on}}),
        )
        .await;
    reply.assert_problem(422, rule);
    assert!(
        reply.body["detail_ja"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{}",
        reply.text
    );
    assert_eq!(
        app.db.store.dump().await,
        before,
        "a refusal writes nothing"
    );
}

async fn billing_start(app: &TestApp, contract: &str, on: &str) {
    let reply = app
        .post(
            &format!("/api/v1/contracts/{contract}/billing-start"),
            &app.operator,
            json!({"on": on}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

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

async fn refusals_name_their_rule_in_both_languages_and_write_nothing(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = new_contractor(&app, "株式会社拒否").await;
    let (m, x4) = app.eligible_setup(&k, "SEIL/X4", "2026-04-01").await;
    // Mobile access on a SEIL/X4 (R6.5).
    refused(
        &app,
        &k,
        json!({
            "kind": "add_option",
            "contract_id": x4,
            "option_kind": "mobile_access",
            "usage_type": "standard",
            "network_type": "dynamic_ip",
        }),
        "2026-04-02",
        "R6.5",
    )
    .await;
    // A service adapter without an item (R2.1).
    refused(
        &app,
        &k,
        json!({
            "kind": "apply_contract",
            "contract_kind": "service_adapter",
            "device_type": "SA-W2L",
            "management_id": m,
        }),
        "2026-04-02",
        "R2.1",
    )
    .await;
    // A packet share pack under 50 GB (R9.6).
    let w2l = created(
        &app.accepted(
            &k,
            json!({
                "kind": "apply_contract",
                "contract_kind": "service_adapter",
                "item": "internet_gateway",
                "device_type": "SA-W2L",
                "management_id": m,
            }),
            "2026-04-01",
        )
        .await,
        "contract_created",
    )[0]
    .clone();
    refused(
        &app,
        &k,
        json!({
            "kind": "add_option",
            "contract_id": w2l,
            "option_kind": "mobile_access",
            "usage_type": "packet_share",
            "network_type": "fixed_ip",
            "group": {"new_group_pack_gb": 40},
        }),
        "2026-04-02",
        "R9.6",
    )
    .await;
    // A plan change requested on a month's last day (R9.4): 2026-04-30.
    let sim = created(
        &app.accepted(
            &k,
            json!({
                "kind": "add_option",
                "contract_id": w2l,
                "option_kind": "mobile_access",
                "usage_type": "standard",
                "network_type": "dynamic_ip",
            }),
            "2026-04-02",
        )
        .await,
        "option_created",
    )[0]
    .clone();
    refused(
        &app,
        &k,
        json!({"kind": "change_usage_type", "option_id": sim, "usage_type": "plan_10gb"}),
        "2026-04-30",
        "R9.4",
    )
    .await;
    // Another contractor's contract is simply not there.
    let other = new_contractor(&app, "株式会社他社").await;
    let reply = app
        .post(
            &format!("/api/v1/contractors/{other}/requests"),
            &app.operator,
            json!({"request": {"kind": "change_item", "contract_id": x4, "item": "remote_access"}}),
        )
        .await;
    reply.assert_problem(404, "not_found");
}

async fn r9_4_a_plan_change_takes_effect_on_the_first_of_next_month_as_of_views_show_it(
    db: TestDb,
) {
    let app = TestApp::new(db).await;
    let k = new_contractor(&app, "株式会社プラン").await;
    let (_, a) = app.eligible_setup(&k, "SA-W2L", "2026-04-01").await;
    let sim = created(
        &app.accepted(
            &k,
            json!({
                "kind": "add_option",
                "contract_id": a,
                "option_kind": "mobile_access",
                "usage_type": "standard",
                "network_type": "dynamic_ip",
            }),
            "2026-04-02",
        )
        .await,
        "option_created",
    )[0]
    .clone();
    // Requested and accepted 2026-04-15 → plan_30gb from 2026-05-01.
    app.accepted(
        &k,
        json!({"kind": "change_usage_type", "option_id": sim, "usage_type": "plan_30gb"}),
        "2026-04-15",
    )
    .await;
    let usage = |view: &Value| {
        view["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == "mobile_access")
            .unwrap()["usage_type"]
            .clone()
    };
    assert_eq!(usage(&contract(&app, &a, "2026-04-30").await), "standard");
    assert_eq!(usage(&contract(&app, &a, "2026-05-01").await), "plan_30gb");
}

async fn custody_serial_return_deadline_loss_and_found(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = new_contractor(&app, "株式会社機器").await;
    let (m, a) = app.eligible_setup(&k, "SEIL CA10", "2026-04-01").await;
    // No serial notified: not provisionable, and the contract says why (R7.1).
    let c = contract(&app, &a, "2026-04-02").await;
    assert_eq!(c["provisioning"]["provisionable"], false);
    assert_eq!(c["provisioning"]["code"], "R7.1");
    app.accepted(
        &k,
        json!({"kind": "notify_serial", "contract_id": a, "serial": "CA10-0001"}),
        "2026-04-02",
    )
    .await;
    assert_eq!(
        contract(&app, &a, "2026-04-02").await["provisioning"]["provisionable"],
        true
    );

    // Cancel: arrival 2026-05-01 + 14 = 2026-05-15; the device is due back by
    // 05-15 + 30 = 06-14 (D4).
    app.accepted(
        &k,
        json!({"kind": "cancel_contract", "contract_id": a}),
        "2026-05-01",
    )
    .await;
    let d = app
        .get("/api/v1/devices/CA10-0001?as_of=2026-06-14", &app.operator)
        .await;
    assert_eq!(d.body["return_due"], "2026-06-14");
    assert_eq!(d.body["state"], "awaiting_return");
    assert_eq!(d.body["overdue"], false);
    // A sweep on the deadline day changes nothing; the day after, the device is lost.
    let none = app
        .post(
            "/api/v1/devices/overdue-returns/sweep",
            &app.operator,
            json!({"on": "2026-06-14"}),
        )
        .await;
    assert_eq!(none.body["effects"], json!([]));
    let swept = app
        .post(
            "/api/v1/devices/overdue-returns/sweep",
            &app.operator,
            json!({"on": "2026-06-15"}),
        )
        .await;
    assert_eq!(swept.body["effects"][0]["effect"], "device_lost");
    let d = app
        .get("/api/v1/devices/CA10-0001?as_of=2026-06-15", &app.operator)
        .await;
    assert_eq!(d.body["state"], "lost");
    let charges = app
        .get(&format!("/api/v1/contracts/{a}/charges"), &app.operator)
        .await;
    assert_eq!(charges.body["charges"][0]["kind"], "loss");
    assert_eq!(charges.body["charges"][0]["rule"], "R12.2");
    assert_eq!(charges.body["charges"][0]["occurred_on"], "2026-06-15");

    // It comes back later: found, and never put in service again (R12.3).
    let back = app
        .post(
            "/api/v1/devices/CA10-0001/return",
            &app.operator,
            json!({"on": "2026-07-01"}),
        )
        .await;
    assert_eq!(back.body["effects"][0]["effect"], "device_found");
    let a2 = created(
        &app.accepted(
            &k,
            json!({
                "kind": "apply_contract",
                "contract_kind": "service_adapter",
                "item": "pppoe_termination",
                "device_type": "SEIL CA10",
                "management_id": m,
            }),
            "2026-07-02",
        )
        .await,
        "contract_created",
    )[0]
    .clone();
    refused(
        &app,
        &k,
        json!({"kind": "notify_serial", "contract_id": a2, "serial": "CA10-0001"}),
        "2026-07-03",
        "R12.3",
    )
    .await;
}

async fn contractors_request_and_operators_accept_with_dates(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _, token) = app.contractor_with_user("株式会社申込", "yamada").await;
    let path = format!("/api/v1/contractors/{k}/requests");
    // A contractor cannot accept its own request or backdate it.
    app.post(
        &path,
        &token,
        json!({"request": {"kind": "apply_contract", "contract_kind": "management"}, "accept": {}}),
    )
    .await
    .assert_problem(403, "forbidden");
    let submitted = app
        .post(
            &path,
            &token,
            json!({"request": {"kind": "apply_contract", "contract_kind": "management"}}),
        )
        .await;
    assert_eq!(submitted.status, StatusCode::CREATED, "{}", submitted.text);
    assert_eq!(submitted.body["status"], "pending");
    assert!(
        submitted.body["defaulted_dates"]["submitted_on"].is_string(),
        "the API says it assumed today"
    );
    let id = submitted.body["id"].as_str().unwrap();
    app.post(&format!("/api/v1/requests/{id}/accept"), &token, json!({}))
        .await
        .assert_problem(403, "forbidden");
    let queue = app
        .get("/api/v1/requests?status=pending", &app.operator)
        .await;
    assert_eq!(queue.body["requests"].as_array().unwrap().len(), 1);
    let accepted = app
        .call(
            Method::POST,
            &format!("/api/v1/requests/{id}/accept"),
            Some(&app.operator),
            None,
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    assert_eq!(accepted.body["status"], "accepted");
    assert!(accepted.body["defaulted_dates"]["accept.on"].is_string());
    let contracts = app
        .get(&format!("/api/v1/contractors/{k}/contracts"), &token)
        .await;
    assert_eq!(contracts.body["contracts"][0]["kind"], "management");
    app.post(
        &format!("/api/v1/requests/{id}/accept"),
        &app.operator,
        json!({}),
    )
    .await
    .assert_problem(422, "request_closed");
}

async fn r6_eligibility_designation_and_redirect(db: TestDb) {
    let app = TestApp::new(db).await;
    let host = new_contractor(&app, "株式会社ホスト").await;
    let rider = new_contractor(&app, "株式会社ライダー").await;
    let (host_m, _) = app.eligible_setup(&host, "SEIL/X4", "2026-04-01").await;
    let e = app
        .get(
            &format!("/api/v1/contractors/{host}/eligibility?as_of=2026-04-02"),
            &app.operator,
        )
        .await;
    assert_eq!(e.body["eligible"], false, "no designated service yet");
    app.post(
        &format!("/api/v1/contractors/{host}/designated-services"),
        &app.operator,
        json!({"reference": "IIJ-SVC-1", "registered_on": "2026-04-01"}),
    )
    .await;
    let e = app
        .get(
            &format!("/api/v1/contractors/{host}/eligibility?as_of=2026-04-02"),
            &app.operator,
        )
        .await;
    assert_eq!(e.body["eligible"], true, "{}", e.text);

    // The rider's adapter under the host's management needs the host's consent first (R6.2).
    let sa = json!({
        "kind": "apply_contract",
        "contract_kind": "service_adapter",
        "item": "internet_gateway",
        "device_type": "SA-W2L",
        "management_id": host_m,
    });
    refused(&app, &rider, sa.clone(), "2026-04-03", "R6.2").await;
    let d = app
        .post(
            &format!("/api/v1/contractors/{rider}/designations"),
            &app.operator,
            json!({"management_contract_id": host_m, "requested_on": "2026-04-03"}),
        )
        .await;
    let d_id = d.body["id"].as_str().unwrap();
    let consented = app
        .post(
            &format!("/api/v1/designations/{d_id}/consent"),
            &app.operator,
            json!({"on": "2026-04-04"}),
        )
        .await;
    assert_eq!(consented.body["consented_on"], "2026-04-04");
    let a = created(
        &app.accepted(&rider, sa, "2026-04-05").await,
        "contract_created",
    )[0]
    .clone();
    app.accepted(
        &rider,
        json!({
            "kind": "add_option",
            "contract_id": a,
            "option_kind": "ultra_sendback",
            "install_address": "大阪市",
        }),
        "2026-04-05",
    )
    .await;
    app.post(
        &format!("/api/v1/contractors/{rider}/designated-services"),
        &app.operator,
        json!({"reference": "IIJ-SVC-2", "registered_on": "2026-04-01"}),
    )
    .await;
    let e = app
        .get(
            &format!("/api/v1/contractors/{rider}/eligibility?as_of=2026-04-05"),
            &app.operator,
        )
        .await;
    assert_eq!(e.body["eligible"], true, "{}", e.text);

    // Quoting the host management's cancellation reports the rider left without one (R6.8).
    let q = app
        .get(
            &format!("/api/v1/contracts/{host_m}/termination-quote?notice_arrived_on=2026-05-01"),
            &app.operator,
        )
        .await;
    assert_eq!(q.body["end_on"], "2026-05-15");
    let hit: Vec<_> = q.body["eligibility_impact"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["contractor_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(hit.contains(&rider), "{}", q.text);

    // Invoice redirect to the rider: consent, then approval (R6.3).
    let r = app
        .post(
            &format!("/api/v1/contracts/{host_m}/invoice-redirects"),
            &app.operator,
            json!({"target_contractor_id": rider, "requested_on": "2026-04-06"}),
        )
        .await;
    let r_id = r.body["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/invoice-redirects/{r_id}/approve"),
        &app.operator,
        json!({"on": "2026-04-07"}),
    )
    .await
    .assert_problem(422, "R6.3");
    app.post(
        &format!("/api/v1/invoice-redirects/{r_id}/consent"),
        &app.operator,
        json!({"on": "2026-04-07"}),
    )
    .await;
    let approved = app
        .post(
            &format!("/api/v1/invoice-redirects/{r_id}/approve"),
            &app.operator,
            json!({"on": "2026-04-08"}),
        )
        .await;
    assert_eq!(approved.body["approved_on"], "2026-04-08");
}

async fn r11_failure_report_replacement_on_site_and_return_of_the_failed_unit(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = new_contractor(&app, "株式会社故障").await;
    let (_, a) = app.eligible_setup(&k, "SEIL/X4", "2026-04-01").await;
    app.accepted(
        &k,
        json!({"kind": "notify_serial", "contract_id": a, "serial": "X4-OLD"}),
        "2026-04-02",
    )
    .await;
    // The failure is reported on 2026-06-01; the operator ships a replacement two days later.
    let report = app.post(&format!("/api/v1/contractors/{k}/requests"), &app.operator,
        json!({
            "request": {"kind": "report_failure", "contract_id": a, "description": "LED が赤点滅"},
            "submitted_on": "2026-06-01",
        })).await;
    assert_eq!(report.status, StatusCode::CREATED, "{}", report.text);
    let id = report.body["id"].as_str().unwrap();
    let accepted = app
        .post(
            &format!("/api/v1/requests/{id}/accept"),
            &app.operator,
            json!({
                "on": "2026-06-01",
                "replacement_serial": "X4-NEW",
                "replaced_on": "2026-06-03",
                "contractor_caused": true,
            }),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    // The contract has ultra_sendback: staff bring the replacement on site (R11.1, R9.2).
    assert_eq!(accepted.body["decision"]["delivery"], "on_site");
    assert_eq!(contract(&app, &a, "2026-06-02").await["serial"], "X4-OLD");
    assert_eq!(contract(&app, &a, "2026-06-03").await["serial"], "X4-NEW");
    let charges = app
        .get(&format!("/api/v1/contracts/{a}/charges"), &app.operator)
        .await;
    assert_eq!(
        charges.body["charges"][0]["kind"],
        "contractor_caused_failure"
    );
    assert_eq!(charges.body["charges"][0]["rule"], "R11.2");
    // The failed unit is tracked until it comes back.
    let waiting = app
        .get(
            "/api/v1/devices/awaiting-return?as_of=2026-06-10",
            &app.operator,
        )
        .await;
    assert_eq!(
        waiting.body["devices"][0]["serial"], "X4-OLD",
        "{}",
        waiting.text
    );
    app.post(
        "/api/v1/devices/X4-OLD/return",
        &app.operator,
        json!({"on": "2026-06-12"}),
    )
    .await;
    let waiting = app
        .get(
            "/api/v1/devices/awaiting-return?as_of=2026-06-12",
            &app.operator,
        )
        .await;
    assert_eq!(waiting.body["devices"], json!([]));
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
    refusals_name_their_rule_in_both_languages_and_write_nothing,
    r9_4_a_plan_change_takes_effect_on_the_first_of_next_month_as_of_views_show_it,
    custody_serial_return_deadline_loss_and_found,
    contractors_request_and_operators_accept_with_dates,
    r6_eligibility_designation_and_redirect,
    r11_failure_report_replacement_on_site_and_return_of_the_failed_unit,
    r15_2_general_terms_cancellation_owes_no_early_termination
);
