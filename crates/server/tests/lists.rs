//! Listings through the HTTP API on SQLite and PostgreSQL: filters counted in the query,
//! numbered pages, paging parameters out of range, and removing an agreed price.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::TestApp;
use mpc_storage::backend_tests;
use mpc_storage::testing::TestDb;
use serde_json::json;
use tower::ServiceExt;

/// Writes a finalized invoice of `account` due on `due` (or a draft when `finalized` is
/// false), total ¥11,000, as a billing run and its finalization would.
async fn invoice(app: &TestApp, account: &str, serial: i64, due: &str, finalized: bool) -> String {
    let id = format!("inv-{serial}");
    let mut conn = app.db.store.conn().await.unwrap();
    sqlx::query(
        "INSERT INTO invoices (id, month, account_id, number, serial, issue_date, due_date, \
         recipient_name, issuer_name, issuer_registration, subtotal, tax, total, status) \
         VALUES ($1, $2, $3, $4, $5, '2026-11-01', $6, '請求先', '発行者', 'T1234567890123', \
         10000, 1000, 11000, $7)",
    )
    .bind(id.clone())
    .bind(format!("2026-{:02}", 1 + serial % 12))
    .bind(account.to_owned())
    .bind(format!("N-{serial}"))
    .bind(finalized.then_some(serial))
    .bind(due.to_owned())
    .bind(if finalized { "finalized" } else { "draft" })
    .execute(&mut *conn)
    .await
    .unwrap();
    id
}

async fn pay(app: &TestApp, id: &str, amount: i64) {
    let r = app
        .post(
            &format!("/api/v1/invoices/{id}/payments"),
            &app.operator,
            json!({"paid_on": "2026-11-20", "amount": amount}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

async fn b5_invoices_are_filtered_by_state_in_the_query_and_paged(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _, token) = app.contractor_with_user("株式会社請求先", "seikyu").await;
    let today = mpc_domain::calendar::tokyo_date(jiff::Timestamp::now());
    let past = today.yesterday().unwrap().to_string();
    let future = today.tomorrow().unwrap().to_string();
    // 2 drafts; 3 issued (nothing paid, not due); 2 partly paid (¥5,000 of ¥11,000, not due);
    // 1 paid (¥11,000 of ¥11,000); 2 overdue (¥0 and ¥5,000 paid, due yesterday); 1 paid
    // after its due date (¥11,000, due yesterday: paid, not overdue).
    let mut serial = 0;
    let mut next = || {
        serial += 1;
        serial
    };
    for _ in 0..2 {
        invoice(&app, &k, next(), &future, false).await;
    }
    for _ in 0..3 {
        invoice(&app, &k, next(), &future, true).await;
    }
    for _ in 0..2 {
        let id = invoice(&app, &k, next(), &future, true).await;
        pay(&app, &id, 5_000).await;
    }
    let id = invoice(&app, &k, next(), &future, true).await;
    pay(&app, &id, 11_000).await;
    invoice(&app, &k, next(), &past, true).await;
    let id = invoice(&app, &k, next(), &past, true).await;
    pay(&app, &id, 5_000).await;
    let id = invoice(&app, &k, next(), &past, true).await;
    pay(&app, &id, 11_000).await;

    for (state, operator, contractor) in [
        ("draft", 2, 0),
        ("issued", 3, 3),
        ("partly_paid", 2, 2),
        ("paid", 2, 2),
        ("overdue", 2, 2),
        ("defaulted", 0, 0),
    ] {
        for (token, expected) in [(&app.operator, operator), (&token, contractor)] {
            let r = app
                .get(&format!("/api/v1/invoices?state={state}"), token)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            assert_eq!(r.body["total"], expected, "{state}: {}", r.text);
            let shown = r.body["invoices"].as_array().unwrap();
            assert_eq!(shown.len() as i64, expected, "{state}");
            assert!(shown.iter().all(|i| i["status"] == state), "{}", r.text);
        }
    }
    // 11 invoices, 4 a page: pages of 4, 4 and 3, each saying the total.
    let mut seen = Vec::new();
    let mut page = Some(1);
    while let Some(p) = page {
        let r = app
            .get(&format!("/api/v1/invoices?limit=4&page={p}"), &app.operator)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["total"], 11);
        assert_eq!(r.body["page"], p);
        for i in r.body["invoices"].as_array().unwrap() {
            seen.push(i["id"].as_str().unwrap().to_owned());
        }
        page = r.body["next_page"].as_u64();
    }
    assert_eq!(seen.len(), 11);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 11, "no invoice on two pages");
    // Filters combine: the overdue of one month.
    let r = app
        .get(
            "/api/v1/invoices?state=overdue&month=2026-10",
            &app.operator,
        )
        .await;
    // Serials 9 and 10 are overdue: months 2026-10 and 2026-11.
    assert_eq!(r.body["total"], 1, "{}", r.text);
    // An unknown state is refused, listing the states.
    let r = app
        .get("/api/v1/invoices?state=unpaid", &app.operator)
        .await;
    r.assert_problem(400, "invalid_query");
    for s in [
        "draft",
        "issued",
        "partly_paid",
        "paid",
        "overdue",
        "defaulted",
    ] {
        assert!(r.body["detail"].as_str().unwrap().contains(s), "{}", r.text);
    }
    assert_eq!(r.body["errors"][0]["field"], "state");
}

async fn paging_parameters_out_of_range_are_refused_naming_the_parameter(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _, _) = app.contractor_with_user("株式会社一覧", "ichiran").await;
    let listings = [
        "/api/v1/contractors".to_owned(),
        "/api/v1/users".to_owned(),
        format!("/api/v1/contractors/{k}/users"),
        "/api/v1/journal".to_owned(),
        "/api/v1/requests".to_owned(),
        format!("/api/v1/contractors/{k}/requests"),
        "/api/v1/mobile/throttle-events".to_owned(),
        "/api/v1/invoices".to_owned(),
    ];
    for path in &listings {
        for (query, field, range) in [
            ("limit=0", "limit", "1 to 1000"),
            ("limit=1001", "limit", "1 to 1000"),
            ("limit=-1", "limit", "1 to 1000"),
            ("limit=many", "limit", "1 to 1000"),
            ("limit=99999999999", "limit", "1 to 1000"),
        ] {
            let r = app.get(&format!("{path}?{query}"), &app.operator).await;
            r.assert_problem(400, "invalid_paging");
            assert_eq!(r.body["errors"][0]["field"], field, "{path}?{query}");
            assert!(
                r.body["detail"].as_str().unwrap().contains(range),
                "{path}?{query}: {}",
                r.text
            );
        }
        let r = app.get(&format!("{path}?limit=1000"), &app.operator).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    }
    for query in ["page=0", "page=-2", "page=first"] {
        for path in ["/api/v1/invoices", "/api/v1/search?q=x&kind=contractor"] {
            let sep = if path.contains('?') { '&' } else { '?' };
            let r = app.get(&format!("{path}{sep}{query}"), &app.operator).await;
            r.assert_problem(400, "invalid_paging");
            assert_eq!(r.body["errors"][0]["field"], "page", "{path} {query}");
        }
    }
    for query in ["per_page=0", "per_page=101"] {
        let r = app
            .get(
                &format!("/api/v1/search?q=x&kind=contractor&{query}"),
                &app.operator,
            )
            .await;
        r.assert_problem(400, "invalid_paging");
        assert_eq!(r.body["errors"][0]["field"], "per_page");
        assert!(r.body["detail"].as_str().unwrap().contains("1 to 100"));
    }
}

async fn r14_1_an_agreed_price_is_removed_through_the_api_and_journaled(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _, token) = app.contractor_with_user("株式会社割引", "waribiki").await;
    let key = "adapter.monthly.internet_gateway.SEIL/X4";
    let set = app
        .call(
            Method::PUT,
            "/api/v1/prices",
            Some(&app.operator),
            Some(json!({"prices": [
                {"key": key, "effective_from": "2026-01-01", "amount": 3000},
                {"key": key, "contractor_id": k, "effective_from": "2026-01-01", "amount": 2500},
            ]})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let path = format!(
        "/api/v1/contractors/{k}/agreed-prices/adapter.monthly.internet_gateway.SEIL%2FX4/2026-01-01"
    );
    // Contractors may not remove it.
    app.call(Method::DELETE, &path, Some(&token), None)
        .await
        .assert_problem(403, "forbidden");
    let r = app
        .call(Method::DELETE, &path, Some(&app.operator), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let prices = app
        .get(&format!("/api/v1/prices?contractor_id={k}"), &app.operator)
        .await;
    assert_eq!(prices.body["prices"], json!([]), "{}", prices.text);
    // The list price stands.
    let list = app
        .get("/api/v1/prices?contractor_id=list", &app.operator)
        .await;
    assert_eq!(list.body["prices"][0]["amount"], 3000);
    let journal = app
        .get("/api/v1/journal?operation=prices.remove", &app.operator)
        .await;
    assert_eq!(journal.body["entries"][0]["contractor_id"], k.as_str());
    assert_eq!(journal.body["entries"][0]["request"]["key"], key);
    // Gone: a second removal finds nothing.
    app.call(Method::DELETE, &path, Some(&app.operator), None)
        .await
        .assert_problem(404, "not_found");
    // Another day, or another contractor, has no agreement either.
    app.call(
        Method::DELETE,
        &format!("/api/v1/contractors/{k}/agreed-prices/management.monthly/2026-01-01"),
        Some(&app.operator),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    app.call(
        Method::DELETE,
        &format!("/api/v1/contractors/{k}/agreed-prices/no.such.key/2026-01-01"),
        Some(&app.operator),
        None,
    )
    .await
    .assert_problem(422, "R14.1");
}

async fn requests_are_filtered_by_kind_and_status_and_the_queue_is_paged(db: TestDb) {
    use mpc_server::app::requests::{Browse, queue_page};
    use mpc_storage::contracts::requests::RequestOrder;
    let app = TestApp::new(db).await;
    let (k, _, token) = app.contractor_with_user("株式会社依頼", "irai").await;
    // Three accepted (a management contract, an adapter under it, its send-back option), then
    // three pending item changes.
    let (_, adapter) = app.eligible_setup(&k, "SA-W2L", "2026-09-10").await;
    for item in ["remote_access", "pppoe_termination", "remote_access"] {
        let r = app
            .post(
                &format!("/api/v1/contractors/{k}/requests"),
                &app.operator,
                json!({"request": {"kind": "change_item", "contract_id": adapter, "item": item}, "submitted_on": "2026-09-10"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let count = |r: &common::Reply| r.body["requests"].as_array().map_or(0, Vec::len);
    for (query, expected) in [
        ("kind=change_item", 3),
        ("kind=apply_contract", 2),
        ("kind=apply_contract&status=accepted", 2),
        ("kind=change_item&status=accepted", 0),
        ("status=pending", 3),
        ("kind=report_loss", 0),
    ] {
        for path in [
            format!("/api/v1/requests?{query}"),
            format!("/api/v1/contractors/{k}/requests?{query}"),
        ] {
            let r = app.get(&path, &app.operator).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
            assert_eq!(count(&r), expected, "{path}: {}", r.text);
        }
    }
    // The contractor reads its own, filtered the same way.
    let r = app
        .get(
            &format!("/api/v1/contractors/{k}/requests?kind=change_item&limit=2"),
            &token,
        )
        .await;
    assert_eq!(count(&r), 2, "{}", r.text);
    assert!(r.body["next_cursor"].is_string());
    // Unknown filters are refused, listing what they take.
    let r = app
        .get("/api/v1/requests?kind=upgrade", &app.operator)
        .await;
    r.assert_problem(400, "invalid_query");
    assert_eq!(r.body["errors"][0]["field"], "kind");
    for kind in mpc_domain::request::KINDS {
        assert!(
            r.body["detail"].as_str().unwrap().contains(kind),
            "{}",
            r.text
        );
    }
    let r = app.get("/api/v1/requests?status=open", &app.operator).await;
    r.assert_problem(400, "invalid_query");
    assert_eq!(r.body["errors"][0]["field"], "status");
    assert!(r.text.contains("withdrawn"), "{}", r.text);

    // The operators' queue in numbered pages: pending first, then the newest; 2 a page.
    let state = mpc_server::AppState::new(app.db.store.clone(), app.key.clone());
    let cli = mpc_server::extract::Caller::command_line();
    let page = |page, kind: Option<&str>| Browse {
        page,
        per_page: 2,
        kind: kind.map(str::to_owned),
        ..Browse::default()
    };
    let p1 = queue_page(&state, &cli, &page(1, None)).await.unwrap();
    let p3 = queue_page(&state, &cli, &page(3, None)).await.unwrap();
    assert_eq!(
        (p1.total, p1.first, p1.previous, p1.next, p1.requests.len()),
        (6, 1, None, Some(2), 2)
    );
    assert_eq!(
        (p3.first, p3.previous, p3.next, p3.requests.len()),
        (5, Some(2), None, 2)
    );
    assert!(p1.requests.iter().all(|r| r.kind == "change_item"));
    // The oldest two: the applications, the adapter's (newer) first.
    assert!(p3.requests.iter().all(|r| r.kind == "apply_contract"));
    // Ordered in the query: by kind in the order given, kinds not given last; by number
    // backwards.
    let ordered = |order, desc| Browse {
        page: 1,
        per_page: 6,
        order,
        desc,
        ..Browse::default()
    };
    let ranked = RequestOrder::Kind(vec!["change_item".into(), "apply_contract".into()]);
    let by_kind = queue_page(&state, &cli, &ordered(ranked, false))
        .await
        .unwrap();
    let kinds: Vec<&str> = by_kind.requests.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "change_item",
            "change_item",
            "change_item",
            "apply_contract",
            "apply_contract",
            "add_option"
        ]
    );
    let by_number = queue_page(&state, &cli, &ordered(RequestOrder::Number, true))
        .await
        .unwrap();
    let numbers: Vec<&str> = by_number
        .requests
        .iter()
        .map(|r| r.number.as_str())
        .collect();
    let mut descending = numbers.clone();
    descending.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!((numbers.len(), &numbers), (6, &descending));
    let only = queue_page(&state, &cli, &page(1, Some("apply_contract")))
        .await
        .unwrap();
    assert_eq!(only.total, 2);
    let contractor = mpc_server::extract::Caller::user(
        mpc_domain::access::Actor::Contractor {
            user_id: "u".into(),
            contractor_id: k.clone(),
        },
        None,
    );
    let e = queue_page(&state, &contractor, &page(1, None))
        .await
        .unwrap_err();
    assert_eq!(e.status, StatusCode::FORBIDDEN);
}

fn payment(
    app: &TestApp,
    invoice: &str,
    key: Option<&str>,
    body: serde_json::Value,
) -> Request<Body> {
    let mut req = Request::post(format!("/api/v1/invoices/{invoice}/payments"))
        .header("authorization", format!("Bearer {}", app.operator))
        .header("content-type", "application/json");
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.body(Body::from(body.to_string())).unwrap()
}

async fn payments_of(app: &TestApp, invoice: &str) -> i64 {
    let mut conn = app.db.store.conn().await.unwrap();
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM payments WHERE invoice_id = $1")
        .bind(invoice.to_owned())
        .fetch_one(&mut *conn)
        .await
        .unwrap()
}

async fn b5_a_payment_sent_eight_times_at_once_with_one_key_is_recorded_once(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _, _) = app.contractor_with_user("株式会社入金", "nyukin").await;
    let id = invoice(&app, &k, 1, "2099-12-31", true).await;
    let body = json!({"paid_on": "2026-11-20", "amount": 5_000, "note": "振込"});
    // Eight at once, half through a second server node on the same database.
    let other = app.node(&mpc_server::ServerConfig::default()).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let req = payment(&app, &id, Some("pay-2026-11-20-a"), body.clone());
        let router = if i % 2 == 0 {
            app.router.clone()
        } else {
            other.router.clone()
        };
        tasks.spawn(async move { common::reply(router.oneshot(req).await.unwrap()).await });
    }
    let replies = tasks.join_all().await;
    for r in &replies {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        // ¥5,000 of ¥11,000 paid: partly paid, every answer the same.
        assert_eq!(r.body["paid"], 5_000, "{}", r.text);
        assert_eq!(r.body["status"], "partly_paid");
        assert_eq!(r.body["payments"], replies[0].body["payments"]);
    }
    assert_eq!(payments_of(&app, &id).await, 1);
    let journal = app
        .get("/api/v1/journal?operation=invoice.payment", &app.operator)
        .await;
    assert_eq!(journal.body["entries"].as_array().unwrap().len(), 1);

    // A retry later answers the same and records nothing.
    let before = app.db.store.dump().await;
    let again = app
        .request(payment(&app, &id, Some("pay-2026-11-20-a"), body.clone()))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.body["payments"], replies[0].body["payments"]);
    assert_eq!(app.db.store.dump().await, before, "a replay writes nothing");
    // The same key with another body is refused, and writes nothing.
    let other_body = json!({"paid_on": "2026-11-20", "amount": 6_000, "note": "振込"});
    app.request(payment(
        &app,
        &id,
        Some("pay-2026-11-20-a"),
        other_body.clone(),
    ))
    .await
    .assert_problem(409, "idempotency_key_reused");
    assert_eq!(app.db.store.dump().await, before);
    // Another key is another payment: ¥5,000 + ¥6,000 = ¥11,000, paid.
    let second = app
        .request(payment(&app, &id, Some("pay-2026-11-20-b"), other_body))
        .await;
    assert_eq!(second.body["status"], "paid", "{}", second.text);
    // Without a key every request is a payment of its own, as before.
    let second_invoice = invoice(&app, &k, 2, "2099-12-31", true).await;
    for _ in 0..2 {
        let r = app
            .request(payment(&app, &second_invoice, None, body.clone()))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    assert_eq!(payments_of(&app, &second_invoice).await, 2);
    // A key is scoped to its invoice: the first key on the second invoice is new there.
    let r = app
        .request(payment(
            &app,
            &second_invoice,
            Some("pay-2026-11-20-a"),
            body.clone(),
        ))
        .await;
    assert_eq!(r.body["paid"], 15_000, "{}", r.text);
    // Malformed keys are refused.
    for bad in ["", &"k".repeat(256), "鍵"] {
        let req = Request::post(format!("/api/v1/invoices/{id}/payments"))
            .header("authorization", format!("Bearer {}", app.operator))
            .header("content-type", "application/json")
            .header(
                "idempotency-key",
                axum::http::HeaderValue::from_bytes(bad.as_bytes()).unwrap(),
            )
            .body(Body::from(body.to_string()))
            .unwrap();
        app.request(req)
            .await
            .assert_problem(400, "invalid_idempotency_key");
    }
}

/// Puts a device in the inventory; `serving` assigns it to `contract` of `contractor` from
/// 2026-09-10; `heard` gives its last recorded state and how many seconds ago it was heard.
async fn device(
    app: &TestApp,
    serial: &str,
    model: &str,
    serving: Option<(&str, &str)>,
    heard: Option<(&str, i64)>,
) {
    let mut conn = app.db.store.conn().await.unwrap();
    sqlx::query("INSERT INTO device_inventory (serial, model, factory_secret, imported_at) VALUES ($1, $2, 'x', 0)")
        .bind(serial.to_owned())
        .bind(model.to_owned())
        .execute(&mut *conn)
        .await
        .unwrap();
    if let Some((contractor, contract)) = serving {
        sqlx::query("INSERT INTO devices (serial, device_type, contractor_id) VALUES ($1, $2, $3)")
            .bind(serial.to_owned())
            .bind(model.to_owned())
            .bind(contractor.to_owned())
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO device_assignments (serial, contract_id, from_on) VALUES ($1, $2, '2026-09-10')")
            .bind(serial.to_owned())
            .bind(contract.to_owned())
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    if let Some((state, ago)) = heard {
        let at = jiff::Timestamp::now().as_microsecond() - ago * 1_000_000;
        sqlx::query(
            "INSERT INTO device_status (serial, state, state_since, last_heartbeat, firmware, uptime_seconds) \
             VALUES ($1, $2, $3, $3, '4.10', 60)",
        )
        .bind(serial.to_owned())
        .bind(state.to_owned())
        .bind(at)
        .execute(&mut *conn)
        .await
        .unwrap();
    }
}

/// Eleven devices of three models in the four connection states: in stock 2 SEIL/X4 + 1
/// SA-W2L; never connected 1 SEIL/X4 + 2 SEIL CA10; UP 2 SA-W2L + 1 SEIL/X4 (heard a minute
/// ago); DOWN 1 SEIL CA10 (UP, silent for a day) + 1 SEIL/X4 (recorded DOWN).
pub(crate) async fn seeded_fleet(app: &TestApp) -> String {
    let (k, _, _) = app.contractor_with_user("株式会社機器", "kiki").await;
    let (_, adapter) = app.eligible_setup(&k, "SEIL/X4", "2026-09-10").await;
    let on = Some((k.as_str(), adapter.as_str()));
    for (serial, model, serving, heard) in [
        ("S-01", "SEIL/X4", None, None),
        ("S-02", "SEIL/X4", None, None),
        ("S-03", "SA-W2L", None, None),
        ("S-04", "SEIL/X4", on, None),
        ("S-05", "SEIL CA10", on, None),
        ("S-06", "SEIL CA10", on, None),
        ("S-07", "SA-W2L", on, Some(("up", 60))),
        ("S-08", "SA-W2L", on, Some(("up", 60))),
        ("S-09", "SEIL/X4", on, Some(("up", 60))),
        ("S-10", "SEIL CA10", on, Some(("up", 86_400))),
        ("S-11", "SEIL/X4", on, Some(("down", 60))),
    ] {
        device(app, serial, model, serving, heard).await;
    }
    k
}

async fn the_fleet_is_filtered_by_state_and_model_in_the_query_and_paged(db: TestDb) {
    let app = TestApp::new(db).await;
    seeded_fleet(&app).await;
    let serials = |r: &common::Reply| -> Vec<String> {
        r.body["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["serial"].as_str().unwrap().to_owned())
            .collect()
    };
    for (query, expected) in [
        ("", 11),
        ("state=in_stock", 3),
        ("state=never_connected", 3),
        ("state=up", 3),
        ("state=down", 2),
        ("model=SEIL%2FX4", 5),
        ("model=SA-W2L", 3),
        ("model=SEIL%20CA10", 3),
        ("state=up&model=SA-W2L", 2),
        ("state=down&model=SEIL%2FX4", 1),
        ("state=in_stock&model=SEIL%2FX4", 2),
        ("state=never_connected&model=SEIL%20CA10", 2),
        ("state=up&model=SEIL%20CA10", 0),
    ] {
        let r = app
            .get(
                &format!("/api/v1/devices/monitoring?{query}"),
                &app.operator,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
        assert_eq!(r.body["total"], expected, "{query}: {}", r.text);
        assert_eq!(serials(&r).len(), expected, "{query}");
        if let Some(state) = query
            .strip_prefix("state=")
            .map(|q| q.split('&').next().unwrap())
        {
            assert!(
                r.body["devices"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|d| d["state"] == state),
                "{query}: {}",
                r.text
            );
        }
    }
    let r = app
        .get("/api/v1/devices/monitoring?state=down", &app.operator)
        .await;
    assert_eq!(serials(&r), ["S-10", "S-11"]);
    // Pages of 4: 4, 4 and 3, by serial, each with the total.
    let mut all = Vec::new();
    for (page, next) in [(1, json!(2)), (2, json!(3)), (3, json!(null))] {
        let r = app
            .get(
                &format!("/api/v1/devices/monitoring?limit=4&page={page}"),
                &app.operator,
            )
            .await;
        assert_eq!(
            (r.body["total"].clone(), r.body["next_page"].clone()),
            (json!(11), next)
        );
        all.extend(serials(&r));
    }
    let expected: Vec<String> = (1..=11).map(|i| format!("S-{i:02}")).collect();
    assert_eq!(all, expected);
    for bad in ["limit=0", "limit=1001", "page=0", "limit=x"] {
        app.get(&format!("/api/v1/devices/monitoring?{bad}"), &app.operator)
            .await
            .assert_problem(400, "invalid_paging");
    }
}

backend_tests!(
    the_fleet_is_filtered_by_state_and_model_in_the_query_and_paged,
    b5_a_payment_sent_eight_times_at_once_with_one_key_is_recorded_once,
    requests_are_filtered_by_kind_and_status_and_the_queue_is_paged,
    b5_invoices_are_filtered_by_state_in_the_query_and_paged,
    paging_parameters_out_of_range_are_refused_naming_the_parameter,
    r14_1_an_agreed_price_is_removed_through_the_api_and_journaled,
);
