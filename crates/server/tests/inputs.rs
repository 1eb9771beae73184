//! Issue 15, "inputs you can trust": every input is checked where it enters, and a refused
//! input answers a 4xx problem naming the field and the limit, with the database unchanged —
//! on SQLite and PostgreSQL.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{Reply, TestApp, created};
use mpc_storage::backend_tests;
use mpc_storage::testing::TestDb;
use serde_json::json;

fn raw(
    method: Method,
    path: &str,
    token: &str,
    content_type: &str,
    body: impl Into<Body>,
) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", content_type)
        .body(body.into())
        .unwrap()
}

#[track_caller]
fn assert_field(reply: &Reply, status: u16, code: &str, field: &str) {
    reply.assert_problem(status, code);
    assert_eq!(reply.body["errors"][0]["field"], field, "{}", reply.text);
}

/// A mobile access option on a new SA-W2L adapter; returns (contractor, adapter, option).
async fn mobile_option(app: &TestApp) -> (String, String, String) {
    let (k, _, _) = app.contractor_with_user("株式会社入力", "inputs").await;
    let (_, adapter) = app.eligible_setup(&k, "SA-W2L", "2026-04-01").await;
    let view = app
        .accepted(
            &k,
            json!({"kind": "add_option", "contract_id": adapter, "option_kind": "mobile_access",
                   "usage_type": "plan_10gb", "network_type": "dynamic_ip"}),
            "2026-04-01",
        )
        .await;
    let option = created(&view, "option_created")[0].clone();
    (k, adapter, option)
}

async fn dates_outside_the_business_dates_are_refused_everywhere_they_enter(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, adapter, option) = mobile_option(&app).await;
    let before = app.db.store.dump().await;
    let requests = format!("/api/v1/contractors/{k}/requests");

    // Cancellation dates in a request body.
    for day in ["0000-01-01", "9999-12-31", "1999-12-31", "2100-01-01"] {
        let r = app
            .post(
                &requests,
                &app.operator,
                json!({"request":
            {"kind": "cancel_contract", "contract_id": adapter, "requested_on": day}}),
            )
            .await;
        assert_field(&r, 422, "invalid_field", "request.requested_on");
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("2000-01-01 to 2099-12-31"),
            "{}",
            r.text
        );
    }
    // A contract accepted (and submitted) in 1900.
    let apply = json!({"kind": "apply_contract", "contract_kind": "management"});
    let r = app
        .post(
            &requests,
            &app.operator,
            json!({"request": apply, "submitted_on": "1900-01-01", "accept": {"on": "1900-01-01"}}),
        )
        .await;
    assert_field(&r, 422, "invalid_field", "accept.on");
    let r = app
        .post(
            &requests,
            &app.operator,
            json!({"request": apply, "submitted_on": "1900-01-01"}),
        )
        .await;
    assert_field(&r, 422, "invalid_field", "submitted_on");
    // A SIM bound from 9999-12-31.
    let r = app
        .call(
            Method::PUT,
            "/api/v1/mobile/sims/8981100000000000009",
            Some(&app.operator),
            Some(json!({"option_id": option, "from": "9999-12-31"})),
        )
        .await;
    assert_field(&r, 422, "invalid_field", "from");
    // Query strings: a usage month and an as-of date.
    for month in ["9999-12", "1999-12", "-0001-01"] {
        app.get(
            &format!("/api/v1/contracts/{adapter}/mobile-usage?month={month}"),
            &app.operator,
        )
        .await
        .assert_problem(400, "invalid_query");
    }
    app.get(
        "/api/v1/mobile/throttles?at=2100-01-01T00:00:00%2B09:00",
        &app.operator,
    )
    .await
    .assert_problem(400, "invalid_query");
    app.get(
        "/api/v1/mobile/throttles?at=1999-12-31T14:59:59Z",
        &app.operator,
    )
    .await
    .assert_problem(400, "invalid_query");
    let r = app
        .get(
            &format!("/api/v1/contracts/{adapter}?as_of=9999-12-31"),
            &app.operator,
        )
        .await;
    assert_field(&r, 422, "invalid_field", "as_of");
    let r = app
        .get(
            &format!("/api/v1/contracts/{adapter}/termination-quote?notice_arrived_on=0000-01-01"),
            &app.operator,
        )
        .await;
    assert_field(&r, 422, "invalid_field", "notice_arrived_on");

    assert_eq!(
        app.db.store.dump().await,
        before,
        "refused dates wrote nothing"
    );

    // Usage records whose instants fall outside the business dates are rejected, line by line.
    let line = json!({"record_id": "far", "iccid": "8981100000000000009",
        "start": "9999-12-31T10:00:00+09:00", "end": "9999-12-31T10:15:00+09:00",
        "bytes_up": 1, "bytes_down": 1})
    .to_string();
    let r = app
        .request(raw(
            Method::POST,
            "/api/v1/mobile/usage",
            &app.operator,
            "application/x-ndjson",
            line,
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["accepted"], 0);
    assert!(
        r.body["rejected"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("start"),
        "{}",
        r.text
    );
}

async fn free_text_is_bounded_where_it_enters(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, adapter, _) = mobile_option(&app).await;
    let before = app.db.store.dump().await;
    let requests = format!("/api/v1/contractors/{k}/requests");

    // 600 KB of failure description: past the limit of any JSON string.
    let huge = "故".repeat(200_000);
    let r = app
        .post(
            &requests,
            &app.operator,
            json!({"request":
        {"kind": "report_failure", "contract_id": adapter, "description": huge}}),
        )
        .await;
    assert_field(&r, 422, "invalid_field", "request.description");
    // One character past the description's own limit.
    let long = "x".repeat(mpc_domain::account::MAX_DESCRIPTION_CHARS + 1);
    let r = app
        .post(
            &requests,
            &app.operator,
            json!({"request":
        {"kind": "report_failure", "contract_id": adapter, "description": long}}),
        )
        .await;
    assert_field(&r, 422, "invalid_field", "request.description");
    assert!(
        r.body["detail"].as_str().unwrap().contains("2000"),
        "{}",
        r.text
    );
    assert_eq!(
        app.db.store.dump().await,
        before,
        "refused texts wrote nothing"
    );

    // A 100 KB record_id is rejected, and what is kept of it is clipped.
    let line = json!({"record_id": "r".repeat(100_000), "iccid": "8981100000000000009",
        "start": "2026-04-03T10:00:00+09:00", "end": "2026-04-03T10:15:00+09:00",
        "bytes_up": 1, "bytes_down": 1})
    .to_string();
    let r = app
        .request(raw(
            Method::POST,
            "/api/v1/mobile/usage",
            &app.operator,
            "application/x-ndjson",
            line,
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["accepted"], 0);
    let rejected = &r.body["rejected"][0];
    assert!(
        rejected["detail"]
            .as_str()
            .unwrap()
            .contains("record_id must be at most 128"),
        "{}",
        r.text
    );
    assert_eq!(
        rejected["record_id"].as_str().unwrap().len(),
        mpc_domain::mobile::MAX_RECORD_ID_CHARS
    );
    let longest = app
        .db
        .store
        .dump()
        .await
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(0);
    assert!(longest < 2_000, "a stored row is {longest} bytes");

    // Headers are bounded for the whole server, the device path included.
    let before = app.db.store.dump().await;
    for path in ["/device/v1/config", "/api/v1/contractors", "/console/login"] {
        let r = app
            .request(
                Request::get(path)
                    .header("x-padding", "p".repeat(256 * 1024))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        r.assert_problem(431, "headers_too_large");
    }
    assert_eq!(app.db.store.dump().await, before);
}

async fn json_with_a_duplicate_key_is_refused_naming_the_key(db: TestDb) {
    let app = TestApp::new(db).await;
    let before = app.db.store.dump().await;
    let r = app
        .request(raw(
            Method::POST,
            "/api/v1/contractors",
            &app.operator,
            "application/json",
            r#"{"name": "A", "name": "B"}"#,
        ))
        .await;
    assert_field(&r, 400, "duplicate_key", "name");
    let r = app
        .request(raw(
            Method::POST,
            "/api/v1/contractors/x/requests",
            &app.operator,
            "application/json",
            r#"{"request": {"kind": "report_loss", "contract_id": "a", "contract_id": "b"}}"#,
        ))
        .await;
    // The contractor is unknown: the body is never read, so nothing leaks.
    r.assert_problem(404, "not_found");
    let (k, _, _) = app.contractor_with_user("株式会社重複", "dup").await;
    let before_k = app.db.store.dump().await;
    let r = app
        .request(raw(
            Method::POST,
            &format!("/api/v1/contractors/{k}/requests"),
            &app.operator,
            "application/json",
            r#"{"request": {"kind": "report_loss", "contract_id": "a", "contract_id": "b"}}"#,
        ))
        .await;
    assert_field(&r, 400, "duplicate_key", "request.contract_id");
    assert_eq!(app.db.store.dump().await, before_k);
    assert_ne!(before, before_k);
}

async fn the_nul_character_is_refused_wherever_it_enters(db: TestDb) {
    // PostgreSQL cannot store NUL in text and answered 500; SQLite stored it. Both refuse it
    // at the edge now, with the field named where there is one.
    let app = TestApp::new(db).await;
    let before = app.db.store.dump().await;
    let r = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": "A\u{0}B"}),
        )
        .await;
    assert_field(&r, 422, "invalid_field", "name");
    app.get("/api/v1/contractors?name=%00", &app.operator)
        .await
        .assert_problem(400, "invalid_uri");
    app.get("/api/v1/contracts/a%00b", &app.operator)
        .await
        .assert_problem(400, "invalid_uri");
    let csv = "record_id,iccid,start,end,bytes_up,bytes_down\nr\u{0},1,2026-04-03T10:00:00+09:00,2026-04-03T10:15:00+09:00,1,1\n";
    app.request(raw(
        Method::POST,
        "/api/v1/mobile/usage",
        &app.operator,
        "text/csv",
        csv,
    ))
    .await
    .assert_problem(400, "unreadable_body");
    let login = app
        .request(
            Request::post("/console/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("username=ad%00min&password=x"))
                .unwrap(),
        )
        .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED, "{}", login.text);
    let users: Vec<String> = app
        .db
        .store
        .dump()
        .await
        .into_iter()
        .filter(|r| !r.starts_with("sign_in_failures:") && !r.starts_with("journal"))
        .collect();
    let before: Vec<String> = before
        .into_iter()
        .filter(|r| !r.starts_with("sign_in_failures:") && !r.starts_with("journal"))
        .collect();
    assert_eq!(users, before);
}

async fn inventory_serials_are_one_device_whatever_their_case_and_an_empty_file_is_refused(
    db: TestDb,
) {
    let app = TestApp::new(db).await;
    let before = app.db.store.dump().await;
    let secret = "0123456789abcdef0123";
    let csv =
        format!("serial,model,factory_secret\nABC123,SA-W2L,{secret}\nabc123,SA-W2L,{secret}\n");
    let r = app
        .request(raw(
            Method::POST,
            "/api/v1/devices/inventory",
            &app.operator,
            "text/csv",
            csv,
        ))
        .await;
    assert_field(&r, 422, "invalid_inventory", "line 3");
    assert_eq!(app.db.store.dump().await, before);
    // Across two files too: the second is refused whole, naming the line and the serial the
    // inventory holds.
    let first = format!("serial,model,factory_secret\nABC123,SA-W2L,{secret}\n");
    let r = app
        .request(raw(
            Method::POST,
            "/api/v1/devices/inventory",
            &app.operator,
            "text/csv",
            first,
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let after_first = app.db.store.dump().await;
    let second =
        format!("serial,model,factory_secret\nXYZ789,SA-W2L,{secret}\nabc123,SA-W2L,{secret}\n");
    let r = app
        .request(raw(
            Method::POST,
            "/api/v1/devices/inventory",
            &app.operator,
            "text/csv",
            second,
        ))
        .await;
    assert_field(&r, 422, "invalid_inventory", "line 3");
    let known = mpc_storage::controller::LineFault::SerialKnown {
        serial: "abc123".into(),
        known: "ABC123".into(),
    };
    assert_eq!(r.body["errors"][0]["message"], known.message_en());
    assert_eq!(r.body["errors"][0]["message_ja"], known.message_ja());
    assert_eq!(app.db.store.dump().await, after_first);
    let before = after_first;
    for empty in ["", "serial,model,factory_secret\n", "\n\n"] {
        let r = app
            .request(raw(
                Method::POST,
                "/api/v1/devices/inventory",
                &app.operator,
                "text/csv",
                empty,
            ))
            .await;
        r.assert_problem(422, "empty_inventory");
    }
    assert_eq!(app.db.store.dump().await, before);
}

async fn list_filters_refuse_unknown_values_and_empty_patches_journal_nothing(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _, _) = app.contractor_with_user("株式会社一覧", "lists").await;
    app.get("/api/v1/requests?status=bogus", &app.operator)
        .await
        .assert_problem(400, "invalid_query");
    app.get(
        &format!("/api/v1/contractors/{k}/requests?status=bogus"),
        &app.operator,
    )
    .await
    .assert_problem(400, "invalid_query");
    let ok = app
        .get("/api/v1/requests?status=pending", &app.operator)
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    app.get("/api/v1/devices/monitoring?state=bogus", &app.operator)
        .await
        .assert_problem(400, "invalid_query");
    app.get("/api/v1/devices/monitoring?model=bogus", &app.operator)
        .await
        .assert_problem(400, "invalid_query");

    let before = app.db.store.dump().await;
    let path = format!("/api/v1/contractors/{k}");
    for body in [
        json!({"name": null}),
        json!({}),
        json!({"name": "株式会社一覧"}),
    ] {
        let r = app
            .call(Method::PATCH, &path, Some(&app.operator), Some(body))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["name"], "株式会社一覧");
    }
    assert_eq!(
        app.db.store.dump().await,
        before,
        "a patch changing nothing journals nothing"
    );
    let r = app
        .call(
            Method::PATCH,
            &path,
            Some(&app.operator),
            Some(json!({"name": "株式会社改名"})),
        )
        .await;
    assert_eq!(r.body["name"], "株式会社改名");
    assert_ne!(app.db.store.dump().await, before);
}

backend_tests!(
    dates_outside_the_business_dates_are_refused_everywhere_they_enter,
    free_text_is_bounded_where_it_enters,
    json_with_a_duplicate_key_is_refused_naming_the_key,
    the_nul_character_is_refused_wherever_it_enters,
    inventory_serials_are_one_device_whatever_their_case_and_an_empty_file_is_refused,
    list_filters_refuse_unknown_values_and_empty_patches_journal_nothing,
);
