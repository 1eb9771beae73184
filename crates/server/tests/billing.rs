//! Billing through the HTTP API on SQLite and PostgreSQL; every yen computed by hand.

mod common;

use axum::http::{Method, StatusCode};
use common::TestApp;
use mpc_storage::backend_tests;
use mpc_storage::testing::TestDb;
use serde_json::{Value, json};

async fn bill(app: &TestApp, month: &str) -> Value {
    let r = app
        .post(
            "/api/v1/billing/runs",
            &app.operator,
            json!({"month": month}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

async fn invoice_of(app: &TestApp, month: &str, account: &str) -> Value {
    let list = app
        .get(
            &format!("/api/v1/invoices?month={month}&account_id={account}"),
            &app.operator,
        )
        .await;
    let id = list.body["invoices"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no invoice: {}", list.text))
        .to_owned();
    let inv = app
        .get(&format!("/api/v1/invoices/{id}"), &app.operator)
        .await;
    assert_eq!(inv.status, StatusCode::OK, "{}", inv.text);
    inv.body
}

async fn a_month_billed_through_the_api_rerun_identically_and_finalized(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let (k, _, _) = app.billed_customer("株式会社請求先").await;
    bill(&app, "2026-09").await;
    let sept = invoice_of(&app, "2026-09", &k).await;
    // Initial fees: management ¥20,000 + adapter ¥10,000 + send-back ¥5,000 = ¥35,000.
    // Monthly, 09-15…30 = 16 of 30 days: management 10,000 × 16/30 = ¥5,333 (5,333.3);
    // adapter 3,000 × 16/30 = ¥1,600; send-back 1,500 × 16/30 = ¥800.
    // Subtotal 35,000 + 5,333 + 1,600 + 800 = ¥42,733; tax floor(4,273.3) = ¥4,273; total ¥47,006.
    assert_eq!(
        (
            sept["subtotal"].as_i64(),
            sept["tax"].as_i64(),
            sept["total"].as_i64()
        ),
        (Some(42_733), Some(4_273), Some(47_006))
    );
    assert_eq!(sept["issuer"]["registration_number"], "T1234567890123");
    assert_eq!(sept["totals_by_rate"][0]["rate_percent"], 10);
    assert_eq!(sept["status"], "draft");
    let rules: Vec<&str> = sept["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules.iter().filter(|r| **r == "R14.2").count(), 3);
    assert_eq!(rules.iter().filter(|r| **r == "D7").count(), 3);

    // Re-running gives byte-identical invoice JSON.
    let id = sept["id"].as_str().unwrap().to_owned();
    let before = app
        .get(&format!("/api/v1/invoices/{id}"), &app.operator)
        .await
        .text;
    bill(&app, "2026-09").await;
    assert_eq!(
        app.get(&format!("/api/v1/invoices/{id}"), &app.operator)
            .await
            .text,
        before
    );

    // Finalize: immutable; a payment of the total makes it paid.
    let fin = app
        .post(
            "/api/v1/billing/months/2026-09/finalize",
            &app.operator,
            json!({}),
        )
        .await;
    assert_eq!(fin.status, StatusCode::OK, "{}", fin.text);
    app.post(
        "/api/v1/billing/runs",
        &app.operator,
        json!({"month": "2026-09"}),
    )
    .await
    .assert_problem(422, "B4");
    let paid = app
        .post(
            &format!("/api/v1/invoices/{id}/payments"),
            &app.operator,
            json!({"paid_on": "2026-10-20", "amount": 47_006}),
        )
        .await;
    assert_eq!(paid.body["status"], "paid", "{}", paid.text);

    // The printed qualified invoice (適格請求書) carries what B3 requires.
    let html = app
        .get(&format!("/api/v1/invoices/{id}/print"), &app.operator)
        .await
        .text;
    for needle in [
        "適格請求書",
        "T1234567890123",
        "株式会社MPCネットワークス",
        "株式会社請求先 御中",
        "10%対象",
        "消費税（10%）",
        "¥4,273",
        "¥47,006",
        "2026年10月1日",
    ] {
        assert!(
            html.contains(needle),
            "{needle} missing from the printed invoice"
        );
    }
    let csv = app
        .get("/api/v1/billing/months/2026-09/lines.csv", &app.operator)
        .await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(csv.text.lines().count(), 1 + 6);

    // The contractor sees its invoice, not others'.
    let (_, _, token) = app.contractor_with_user("株式会社他社", "tasha").await;
    app.get(&format!("/api/v1/invoices/{id}"), &token)
        .await
        .assert_problem(404, "not_found");
}

async fn missing_prices_are_named_and_nothing_is_billed(db: TestDb) {
    let app = TestApp::new(db).await;
    app.call(
        Method::PUT,
        "/api/v1/issuer",
        Some(&app.operator),
        Some(json!({"name": "発行者", "registration_number": "T1234567890123"})),
    )
    .await;
    app.billed_customer("株式会社請求先").await;
    let before = app.db.store.dump().await;
    let r = app
        .post(
            "/api/v1/billing/runs",
            &app.operator,
            json!({"month": "2026-10"}),
        )
        .await;
    r.assert_problem(422, "R14.1");
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"management.monthly")
            && fields.contains(&"adapter.monthly.internet_gateway.SEIL/X4"),
        "{fields:?}"
    );
    assert_eq!(app.db.store.dump().await, before);
    // A bad issuer registration number is refused with B3.
    app.call(
        Method::PUT,
        "/api/v1/issuer",
        Some(&app.operator),
        Some(json!({"name": "x", "registration_number": "1234"})),
    )
    .await
    .assert_problem(422, "B3");
}

async fn r16_sla_credit_on_the_month_of_approval(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let (k, _, a) = app.billed_customer("株式会社請求先").await;
    // Learned 2026-10-05 00:00Z, restored 2026-10-07 03:00Z: 51 h → 2 full days.
    let o = app
        .post(
            "/api/v1/outages",
            &app.operator,
            json!({
                "learned_at": "2026-10-05T00:00:00Z",
                "restored_at": "2026-10-07T03:00:00Z",
                "operator_caused": true,
                "contract_ids": [a],
            }),
        )
        .await;
    assert_eq!(o.status, StatusCode::CREATED, "{}", o.text);
    assert_eq!(o.body["full_days"], 2);
    // 24 h complete 2026-10-06 09:00 JST → claimable from 10-06, deadline 2027-01-06 (D5).
    assert_eq!(o.body["claim_deadline"], "2027-01-06");
    let outage = o.body["id"].as_str().unwrap();
    // R7.2: while the adapter's serial is not notified (R7.1), no credit accrues.
    let before = app.db.store.dump().await;
    app.post(
        &format!("/api/v1/contracts/{a}/sla-claims"),
        &app.operator,
        json!({"outage_id": outage, "claimed_on": "2026-11-02"}),
    )
    .await
    .assert_problem(422, "R7.2");
    assert_eq!(app.db.store.dump().await, before);
    app.accepted(
        &k,
        json!({"kind": "notify_serial", "contract_id": a, "serial": "X4-SLA-0001"}),
        "2026-09-15",
    )
    .await;
    app.post(
        &format!("/api/v1/contracts/{a}/sla-claims"),
        &app.operator,
        json!({"outage_id": outage, "claimed_on": "2027-01-07"}),
    )
    .await
    .assert_problem(422, "R16.3");
    let c = app
        .post(
            &format!("/api/v1/contracts/{a}/sla-claims"),
            &app.operator,
            json!({"outage_id": outage, "claimed_on": "2026-11-02"}),
        )
        .await;
    let claim = c.body["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/sla-claims/{claim}/approve"),
        &app.operator,
        json!({"on": "2026-11-10"}),
    )
    .await;
    bill(&app, "2026-11").await;
    let nov = invoice_of(&app, "2026-11", &k).await;
    let credit: Vec<&Value> = nov["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "sla_credit")
        .collect();
    // floor(3,000 × 2 / 30) = ¥200, negative.
    assert_eq!(credit[0]["amount"], -200);
    assert_eq!(credit[0]["rule"], "R16.2");
    // November: 10,000 + 3,000 + 1,500 − 200 = ¥14,300; tax ¥1,430.
    assert_eq!(
        (nov["subtotal"].as_i64(), nov["tax"].as_i64()),
        (Some(14_300), Some(1_430))
    );
}

async fn the_termination_quote_shows_the_early_termination_charge_in_yen(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let (_, _, a) = app.billed_customer("株式会社請求先").await;
    // Billing 2026-09-15 → minimum period ends 2027-09-14. Notice 2026-12-01 → ends 12-15.
    let q = app
        .get(
            &format!("/api/v1/contracts/{a}/termination-quote?notice_arrived_on=2026-12-01"),
            &app.operator,
        )
        .await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text);
    // Adapter ¥3,000: Dec 16–31 = 16/31 → floor(1,548.4) = ¥1,548;
    // Jan–Aug 2027 = 8 × 3,000 = ¥24,000; Sep 1–14 = 14/30 → ¥1,400.
    // Send-back (minimum 1 month, 2026-09-15…10-14) is past it: nothing.
    // Total ¥1,548 + ¥24,000 + ¥1,400 = ¥26,948.
    assert_eq!(q.body["early_termination_charge"], 26_948, "{}", q.text);
    assert_eq!(q.body["early_termination_lines"][0]["amount"], 1_548);
}

async fn r15_1_the_quote_holds_only_what_ending_this_contract_adds(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let (k, m, a) = app.billed_customer("株式会社請求先").await;
    // A second internet_gateway SEIL/X4 (¥3,000), billed from 2026-09-15 too: minimum
    // period to 2027-09-14.
    let a2 = app
        .accepted(
            &k,
            json!({
                "kind": "apply_contract",
                "contract_kind": "service_adapter",
                "item": "internet_gateway",
                "device_type": "SEIL/X4",
                "management_id": m,
            }),
            "2026-09-10",
        )
        .await;
    let a2 = common::created(&a2, "contract_created")[0].clone();
    app.post(
        &format!("/api/v1/contracts/{a2}/billing-start"),
        &app.operator,
        json!({"on": "2026-09-15"}),
    )
    .await;
    // The first adapter's cancellation is accepted to end 2026-12-19.
    app.accepted(
        &k,
        json!({"kind": "cancel_contract", "contract_id": a, "requested_on": "2026-12-19"}),
        "2026-12-01",
    )
    .await;
    let q = app
        .get(
            &format!(
                "/api/v1/contracts/{a2}/termination-quote\
                 ?notice_arrived_on=2026-12-01&requested_on=2026-12-25"
            ),
            &app.operator,
        )
        .await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text);
    // a2 ends 2026-12-25: Dec 26–31 = 6/31 → floor(3000 × 6 / 31) = floor(580.6) = ¥580;
    // Jan–Aug 2027 = 8 × ¥3,000 = ¥24,000; Sep 1–14 = 14/30 → ¥1,400.
    // ¥580 + ¥24,000 + ¥1,400 = ¥25,980. (The first adapter's own ¥26,561 — Dec 20–31
    // floor(3000 × 12 / 31) = ¥1,161 + ¥24,000 + ¥1,400 — is on December's invoice, not in this
    // quote.)
    assert_eq!(q.body["early_termination_charge"], 25_980, "{}", q.text);
    let lines = q.body["early_termination_lines"].as_array().unwrap();
    assert!(
        lines.iter().all(|l| l["subject_id"] == a2.as_str()),
        "{}",
        q.text
    );
}

async fn r5_2_an_adapter_ending_before_its_billing_start_owes_nothing_more(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let k = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": "株式会社開始前"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (m, a) = app.eligible_setup(&k, "SEIL/X4", "2026-10-01").await;
    app.post(
        &format!("/api/v1/contracts/{m}/billing-start"),
        &app.operator,
        json!({"on": "2026-10-01"}),
    )
    .await;
    // The adapter's service is planned from 2026-10-20; a notice arriving 2026-10-01 ends
    // it 2026-10-15 (D3), before billing ever started.
    let r = app
        .post(
            &format!("/api/v1/contracts/{a}/billing-start"),
            &app.operator,
            json!({"on": "2026-10-20"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let q = app
        .get(
            &format!("/api/v1/contracts/{a}/termination-quote?notice_arrived_on=2026-10-01"),
            &app.operator,
        )
        .await;
    assert_eq!(q.body["end_on"], "2026-10-15", "{}", q.text);
    assert_eq!(q.body["early_termination_charge"], 0, "{}", q.text);
    app.accepted(
        &k,
        json!({"kind": "cancel_contract", "contract_id": a}),
        "2026-10-01",
    )
    .await;
    bill(&app, "2026-10").await;
    let oct = invoice_of(&app, "2026-10", &k).await;
    let adapter_lines: Vec<&Value> = oct["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["contract_id"] == a.as_str() && l["kind"] != "initial_fee")
        .collect();
    assert!(
        adapter_lines.is_empty(),
        "no monthly fee, no early termination: {adapter_lines:?}"
    );
    // A billing start later than the end date is refused (R5.2), and changes nothing.
    let (_, b) = app.eligible_setup(&k, "SA-W2L", "2026-10-01").await;
    app.accepted(
        &k,
        json!({"kind": "cancel_contract", "contract_id": b}),
        "2026-10-01",
    )
    .await;
    let before = app.db.store.dump().await;
    app.post(
        &format!("/api/v1/contracts/{b}/billing-start"),
        &app.operator,
        json!({"on": "2026-10-16"}),
    )
    .await
    .assert_problem(422, "R5.2");
    assert_eq!(app.db.store.dump().await, before);
}

async fn r14_1_impossible_amounts_are_refused_where_they_are_typed(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    app.billed_customer("株式会社請求先").await;
    let before = app.db.store.dump().await;
    let too_much = json!({"prices": [{
        "key": "management.monthly",
        "effective_from": "2026-10-01",
        "amount": 9_223_372_036_854_775_807_i64,
    }]});
    let r = app
        .call(
            Method::PUT,
            "/api/v1/prices",
            Some(&app.operator),
            Some(too_much),
        )
        .await;
    r.assert_problem(422, "R14.1");
    assert_eq!(
        r.body["errors"][0]["field"], "prices[0].amount",
        "{}",
        r.text
    );
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("100000000"),
        "{}",
        r.text
    );
    let csv = "key,contractor_id,effective_from,amount\nmanagement.monthly,,2026-10-01,100000001\n";
    let r = app
        .request(
            axum::http::Request::post("/api/v1/prices/import")
                .header("authorization", format!("Bearer {}", app.operator))
                .header("content-type", "text/csv")
                .body(axum::body::Body::from(csv))
                .unwrap(),
        )
        .await;
    r.assert_problem(422, "R14.1");
    // The row, with what is wrong in English and in Japanese.
    let fault = mpc_storage::billing::PriceRowFault::Amount(
        mpc_domain::price::check_amount("amount", 100_000_001).unwrap_err(),
    );
    assert_eq!(
        (
            &r.body["errors"][0]["message"],
            &r.body["errors"][0]["message_ja"]
        ),
        (
            &json!(format!("line 2: {}", fault.message_en())),
            &json!(format!("2行目: {}", fault.message_ja()))
        ),
        "{}",
        r.text
    );
    assert_eq!(
        app.db.store.dump().await,
        before,
        "nothing of a refused price is stored"
    );
    // The largest price is taken, and a month with it bills without overflow:
    // management ¥100,000,000 + adapter ¥3,000 + send-back ¥1,500 = ¥100,004,500; tax ¥10,000,450.
    let r = app
        .call(
            Method::PUT,
            "/api/v1/prices",
            Some(&app.operator),
            Some(json!({"prices": [
        {"key": "management.monthly", "effective_from": "2026-10-01", "amount": 100_000_000}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    bill(&app, "2026-10").await;
    let list = app
        .get("/api/v1/invoices?month=2026-10", &app.operator)
        .await;
    let inv = &list.body["invoices"][0];
    assert_eq!(
        (inv["subtotal"].as_i64(), inv["tax"].as_i64()),
        (Some(100_004_500), Some(10_000_450)),
        "{}",
        list.text
    );
    // A payment beyond the largest one recorded is refused (B5).
    app.post(
        "/api/v1/billing/months/2026-10/finalize",
        &app.operator,
        json!({}),
    )
    .await;
    let id = inv["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/invoices/{id}/payments"),
        &app.operator,
        json!({"paid_on": "2026-11-10", "amount": 1_000_000_000_001_i64}),
    )
    .await
    .assert_problem(422, "B5");
}

async fn b4_a_second_run_of_a_month_is_told_which_run_holds_it(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    app.billed_customer("株式会社請求先").await;
    let now = jiff::Timestamp::now().as_microsecond();
    // A run of October holds its lease on another node.
    let mut conn = app.db.store.conn().await.unwrap();
    sqlx::query(
        "INSERT INTO billing_leases (month, run_id, started_by, started_at, expires_at) \
         VALUES ('2026-10', 'run-on-node-2', 'user:ops', $1, $2)",
    )
    .bind(now)
    .bind(now + 60_000_000)
    .execute(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    let r = app
        .post(
            "/api/v1/billing/runs",
            &app.operator,
            json!({"month": "2026-10"}),
        )
        .await;
    r.assert_problem(409, "billing_run_in_progress");
    assert!(r.text.contains("run-on-node-2"), "{}", r.text);
    app.post(
        "/api/v1/billing/months/2026-10/finalize",
        &app.operator,
        json!({}),
    )
    .await
    .assert_problem(409, "billing_run_in_progress");
}

async fn long_jobs_queue_for_their_permits_while_requests_keep_answering(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    app.billed_customer("株式会社請求先").await;
    // Both job permits are taken (two long jobs running elsewhere in this process).
    let held = (app.db.store.job().await, app.db.store.job().await);
    let mut runs = tokio::task::JoinSet::new();
    for month in [
        "2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10",
    ] {
        let router = app.router.clone();
        let token = app.operator.clone();
        runs.spawn(async move {
            let req = axum::http::Request::post("/api/v1/billing/runs")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(format!(r#"{{"month": "{month}"}}"#)))
                .unwrap();
            tower::ServiceExt::oneshot(router, req)
                .await
                .unwrap()
                .status()
        });
    }
    // The eight runs wait for a permit, holding no connection of the requests' pool:
    // readiness and reads answer meanwhile, however many times.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        runs.try_join_next().is_none(),
        "no run proceeds without a permit"
    );
    for _ in 0..40 {
        assert_eq!(
            app.call(Method::GET, "/readyz", None, None).await.status,
            StatusCode::OK
        );
        assert_eq!(
            app.get("/api/v1/contractors", &app.operator).await.status,
            StatusCode::OK
        );
    }
    drop(held);
    let statuses = runs.join_all().await;
    assert_eq!(
        statuses,
        vec![StatusCode::OK; 8],
        "every run completes once a permit is free"
    );
}

async fn months_and_dates_outside_the_business_range_are_refused_where_they_enter(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let (_, _, a) = app.billed_customer("株式会社請求先").await;
    let before = app.db.store.dump().await;
    for month in ["9999-12", "0000-01", "1999-12", "2100-01"] {
        let r = app
            .post(
                "/api/v1/billing/runs",
                &app.operator,
                json!({"month": month}),
            )
            .await;
        r.assert_problem(422, "invalid_field");
        assert_eq!(r.body["errors"][0]["field"], "month", "{}", r.text);
        let f = app
            .post(
                &format!("/api/v1/billing/months/{month}/finalize"),
                &app.operator,
                json!({}),
            )
            .await;
        assert!(f.status.is_client_error(), "{month}: {}", f.text);
    }
    let r = app
        .post(
            "/api/v1/outages",
            &app.operator,
            json!({
                "learned_at": "9999-12-30T00:00:00Z",
                "restored_at": "9999-12-31T03:00:00Z",
                "operator_caused": true,
                "contract_ids": [a],
            }),
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.text);
    let r = app
        .post(
            "/api/v1/outages",
            &app.operator,
            json!({
                "learned_at": "2026-10-05T00:00:00Z",
                "restored_at": "2026-10-07T00:00:00Z",
                "operator_caused": true,
                "contract_ids": ["0192f0c4-7d1e-7000-8000-000000000099"],
            }),
        )
        .await;
    r.assert_problem(422, "R16.1");
    // Neither an id nor a contract number: refused before the rules are asked.
    let r = app
        .post(
            "/api/v1/outages",
            &app.operator,
            json!({
                "learned_at": "2026-10-05T00:00:00Z",
                "restored_at": "2026-10-07T00:00:00Z",
                "operator_caused": true,
                "contract_ids": ["no-such-contract"],
            }),
        )
        .await;
    r.assert_problem(400, "invalid_contract");
    assert_eq!(
        app.db.store.dump().await,
        before,
        "nothing refused was written"
    );
}

/// B3: operators set the issuer; contractor users read it (it heads their invoices) and may
/// not change it.
async fn b3_the_issuer_is_set_by_operators_and_read_by_every_role(db: TestDb) {
    let app = TestApp::new(db).await;
    let (_, _, token) = app.contractor_with_user("株式会社読者", "dokusha").await;
    app.get("/api/v1/issuer", &token)
        .await
        .assert_problem(404, "not_found");
    let issuer = json!({"name": "発行者", "registration_number": "T1234567890123"});
    let before = app.db.store.dump().await;
    app.call(
        Method::PUT,
        "/api/v1/issuer",
        Some(&token),
        Some(issuer.clone()),
    )
    .await
    .assert_problem(403, "forbidden");
    assert_eq!(
        app.db.store.dump().await,
        before,
        "nothing refused was written"
    );
    let set = app
        .call(
            Method::PUT,
            "/api/v1/issuer",
            Some(&app.operator),
            Some(issuer),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    for reader in [&token, &app.operator] {
        let read = app.get("/api/v1/issuer", reader).await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.text);
        assert_eq!(read.body["registration_number"], "T1234567890123");
    }
}

backend_tests!(
    a_month_billed_through_the_api_rerun_identically_and_finalized,
    missing_prices_are_named_and_nothing_is_billed,
    r16_sla_credit_on_the_month_of_approval,
    the_termination_quote_shows_the_early_termination_charge_in_yen,
    r15_1_the_quote_holds_only_what_ending_this_contract_adds,
    r5_2_an_adapter_ending_before_its_billing_start_owes_nothing_more,
    r14_1_impossible_amounts_are_refused_where_they_are_typed,
    b4_a_second_run_of_a_month_is_told_which_run_holds_it,
    long_jobs_queue_for_their_permits_while_requests_keep_answering,
    months_and_dates_outside_the_business_range_are_refused_where_they_enter,
    b3_the_issuer_is_set_by_operators_and_read_by_every_role
);
