//! Requests as contractors make them and operators decide them: refusals naming their rule,
//! plan changes (R9.4), acceptance dates, eligibility (R6).

use crate::support::*;

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
    // The host's management is named by its number beside its id.
    let host_number = app
        .get(&format!("/api/v1/contracts/{host_m}"), &app.operator)
        .await
        .body["number"]
        .clone();
    assert!(host_number.is_string(), "{host_number}");
    assert_eq!(d.body["management_contract_number"], host_number);
    let consented = app
        .post(
            &format!("/api/v1/designations/{d_id}/consent"),
            &app.operator,
            json!({"on": "2026-04-04"}),
        )
        .await;
    assert_eq!(consented.body["consented_on"], "2026-04-04");
    assert_eq!(consented.body["management_contract_number"], host_number);
    let listed = app
        .get(
            &format!("/api/v1/contractors/{rider}/designations"),
            &app.operator,
        )
        .await;
    assert_eq!(
        listed.body["designations"][0]["management_contract_number"], host_number,
        "{}",
        listed.text
    );
    let a = created(
        &app.accepted(&rider, sa, "2026-04-05").await,
        "contract_created",
    )[0]
    .clone();
    // The rider's adapter names the host's management by number too, though the host's
    // contracts are not the rider's: in one contract and in the rider's list.
    let adapter = app
        .get(&format!("/api/v1/contracts/{a}"), &app.operator)
        .await;
    assert_eq!(
        adapter.body["management_number"], host_number,
        "{}",
        adapter.text
    );
    let list = app
        .get(
            &format!("/api/v1/contractors/{rider}/contracts"),
            &app.operator,
        )
        .await;
    let listed = list.body["contracts"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", list.text))
        .iter()
        .find(|c| c["id"] == a.as_str())
        .cloned()
        .unwrap();
    assert_eq!(listed["management_number"], host_number);
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
    assert_eq!(r.body["management_contract_number"], host_number);
    assert_eq!(approved.body["management_contract_number"], host_number);
    let listed = app
        .get(
            &format!("/api/v1/contracts/{host_m}/invoice-redirects"),
            &app.operator,
        )
        .await;
    assert_eq!(
        listed.body["invoice_redirects"][0]["management_contract_number"], host_number,
        "{}",
        listed.text
    );
}

backend_tests!(
    refusals_name_their_rule_in_both_languages_and_write_nothing,
    r9_4_a_plan_change_takes_effect_on_the_first_of_next_month_as_of_views_show_it,
    contractors_request_and_operators_accept_with_dates,
    r6_eligibility_designation_and_redirect,
);
