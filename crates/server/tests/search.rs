//! Finding anything (`GET /api/v1/search`) on SQLite and PostgreSQL: what each side finds,
//! that a contractor never finds another's things, wildcards that match themselves, exact
//! numbers, and the pages of one kind.

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, created};
use mpc_storage::backend_tests;
use mpc_storage::testing::TestDb;
use serde_json::{Value, json};

const ON: &str = "2026-09-10";

/// A contractor with a user, a management and an SA-W2L adapter with serial `serial`, and a
/// mobile access option whose SIM is `iccid`, both billed from 2026-09-15. Returns
/// (contractor, token, adapter).
async fn customer(
    app: &TestApp,
    name: &str,
    username: &str,
    serial: &str,
    iccid: &str,
) -> (String, String, String) {
    let (k, _, token) = app.contractor_with_user(name, username).await;
    let (management, adapter) = app.eligible_setup(&k, "SA-W2L", ON).await;
    app.accepted(
        &k,
        json!({"kind": "notify_serial", "contract_id": adapter, "serial": serial}),
        ON,
    )
    .await;
    let sim = app.accepted(&k, json!({"kind": "add_option", "contract_id": adapter, "option_kind": "mobile_access",
        "usage_type": "packet_share", "network_type": "dynamic_ip", "group": {"new_group_pack_gb": 50}}), ON).await;
    let bound = app
        .call(
            Method::PUT,
            &format!("/api/v1/mobile/sims/{iccid}"),
            Some(&app.operator),
            Some(json!({"option_id": created(&sim, "option_created")[0], "from": ON})),
        )
        .await;
    assert_eq!(bound.status, StatusCode::OK, "{}", bound.text);
    for c in [&management, &adapter] {
        let r = app
            .post(
                &format!("/api/v1/contracts/{c}/billing-start"),
                &app.operator,
                json!({"on": "2026-09-15"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    (k, token, adapter)
}

async fn search(app: &TestApp, token: &str, query: &str) -> Value {
    let r = app.get(&format!("/api/v1/search?{query}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
    r.body
}

fn ids(v: &Value, group: &str, field: &str) -> Vec<String> {
    v[group]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h[field].as_str().unwrap().to_owned())
        .collect()
}

/// Bills September for everyone and finalizes it: each customer gets one numbered invoice.
async fn finalize_september(app: &TestApp) {
    app.price_everything().await;
    let r = app
        .post(
            "/api/v1/billing/runs",
            &app.operator,
            json!({"month": "2026-09"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let fin = app
        .post(
            "/api/v1/billing/months/2026-09/finalize",
            &app.operator,
            json!({}),
        )
        .await;
    assert_eq!(fin.status, StatusCode::OK, "{}", fin.text);
}

async fn a_contractor_finds_its_own_things_and_never_anothers(db: TestDb) {
    let app = TestApp::new(db).await;
    let (a, a_token, a_adapter) = customer(
        &app,
        "株式会社アルファ",
        "alpha",
        "W2L-SHARED-0001",
        "8981100000000000101",
    )
    .await;
    let (b, b_token, b_adapter) = customer(
        &app,
        "株式会社ベータ",
        "beta",
        "W2L-SHARED-0002",
        "8981100000000000202",
    )
    .await;
    finalize_september(&app).await;

    // The operator finds both customers' devices, SIMs and contractors.
    let all = search(&app, &app.operator, "q=w2l-shared").await;
    assert_eq!(
        ids(&all, "devices", "serial"),
        ["W2L-SHARED-0001", "W2L-SHARED-0002"]
    );
    assert_eq!(all["devices"]["total"], 2);
    let all = search(&app, &app.operator, "q=89811000000000").await;
    assert_eq!(all["sims"]["total"], 2);
    let all = search(&app, &app.operator, "q=株式会社").await;
    assert_eq!(all["contractors"]["total"], 2);
    assert_eq!(all["invoices"]["total"], 2, "{all}");

    // A contractor: the same queries find its own only.
    let own = search(&app, &a_token, "q=w2l-shared").await;
    assert_eq!(ids(&own, "devices", "serial"), ["W2L-SHARED-0001"]);
    assert_eq!(own["devices"]["total"], 1);
    let own = search(&app, &a_token, "q=89811000000000").await;
    assert_eq!(ids(&own, "sims", "iccid"), ["8981100000000000101"]);
    let own = search(&app, &a_token, "q=株式会社").await;
    assert_eq!(ids(&own, "contractors", "id"), [a.as_str()]);
    let a_invoices = ids(&own, "invoices", "account_id");
    assert_eq!(a_invoices, [a.as_str()]);

    // B's own identifiers, typed whole by A, find nothing at all.
    for q in [
        b_adapter.as_str(),
        &b_adapter[b_adapter.len() - 8..],
        "W2L-SHARED-0002",
        "8981100000000000202",
        "ベータ",
        b.as_str(),
    ] {
        let r = search(
            &app,
            &a_token,
            &format!("q={}", mpc_server::web::urlencode(q)),
        )
        .await;
        for group in ["contracts", "devices", "sims", "contractors", "invoices"] {
            assert_eq!(r[group]["total"], 0, "A finds B's {group} by {q}: {r}");
        }
        assert!(r.get("exact").is_none(), "{r}");
    }
    // B's invoice number names B's invoice for B and the operator, nothing for A.
    let b_view = search(&app, &b_token, "q=%E3%83%99%E3%83%BC%E3%82%BF").await;
    let b_number = b_view["invoices"]["hits"][0]["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_invoice = b_view["invoices"]["hits"][0]["id"].as_str().unwrap();
    let r = search(&app, &b_token, &format!("q={b_number}")).await;
    assert_eq!(r["exact"], json!({"kind": "invoice", "id": b_invoice}));
    let r = search(&app, &app.operator, &format!("q={b_number}")).await;
    assert_eq!(r["exact"]["id"], b_invoice);
    let r = search(&app, &a_token, &format!("q={b_number}")).await;
    assert!(r.get("exact").is_none(), "{r}");
    assert_eq!(r["invoices"]["total"], 0, "{r}");
    // A's contract by the last 8 characters of its id (what pages show), and whole: exact.
    let r = search(
        &app,
        &a_token,
        &format!("q={}", &a_adapter[a_adapter.len() - 8..]),
    )
    .await;
    assert_eq!(ids(&r, "contracts", "id"), [a_adapter.as_str()]);
    let r = search(&app, &a_token, &format!("q={}", a_adapter.to_uppercase())).await;
    assert_eq!(r["exact"], json!({"kind": "contract", "id": a_adapter}));
    // A whole serial, in any case, names the device.
    let r = search(&app, &a_token, "q=w2l-shared-0001").await;
    assert_eq!(
        r["exact"],
        json!({"kind": "device", "id": "W2L-SHARED-0001"})
    );
}

async fn percent_and_underscore_match_themselves(db: TestDb) {
    let app = TestApp::new(db).await;
    for name in ["100%商事", "A_B 物産", "AxB 物産", "1000商事"] {
        let r = app
            .post(
                "/api/v1/contractors",
                &app.operator,
                json!({ "name": name }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    // Sorted here: the order of `_` and `x` depends on the database's collation.
    let names = |v: &Value| {
        let mut n = ids(v, "contractors", "name");
        n.sort();
        n
    };
    // `%25` is `%`, `%5C` is `\`.
    assert_eq!(
        names(&search(&app, &app.operator, "q=%25").await),
        ["100%商事"]
    );
    assert_eq!(
        names(&search(&app, &app.operator, "q=0%25").await),
        ["100%商事"]
    );
    assert_eq!(
        names(&search(&app, &app.operator, "q=a_b").await),
        ["A_B 物産"]
    );
    assert_eq!(
        names(&search(&app, &app.operator, "q=_").await),
        ["A_B 物産"]
    );
    assert_eq!(
        search(&app, &app.operator, "q=%5C").await["contractors"]["total"],
        0
    );
    // Without wildcards, a plain part matches as usual, case-insensitive.
    assert_eq!(
        names(&search(&app, &app.operator, "q=b%20%E7%89%A9").await),
        ["A_B 物産", "AxB 物産"]
    );
}

async fn pages_of_one_kind_count_and_end(db: TestDb) {
    let app = TestApp::new(db).await;
    for i in 1..=25 {
        let r = app
            .post(
                "/api/v1/contractors",
                &app.operator,
                json!({ "name": format!("頁テスト{i:02}") }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let q = "q=%E9%A0%81%E3%83%86%E3%82%B9%E3%83%88&kind=contractor";
    // Over every kind: five, with the total.
    let all = search(
        &app,
        &app.operator,
        "q=%E9%A0%81%E3%83%86%E3%82%B9%E3%83%88",
    )
    .await;
    assert_eq!(all["contractors"]["hits"].as_array().unwrap().len(), 5);
    assert_eq!(all["contractors"]["total"], 25);
    // Pages of 10: 1–10, 11–20, 21–25, then none; each with the total of 25.
    for (page, first, count) in [(1, 1, 10), (2, 11, 10), (3, 21, 5), (4, 0, 0)] {
        let r = search(&app, &app.operator, &format!("{q}&per_page=10&page={page}")).await;
        let names = ids(&r, "contractors", "name");
        assert_eq!(names.len(), count, "page {page}: {r}");
        assert_eq!(r["contractors"]["total"], 25);
        if count > 0 {
            assert_eq!(names[0], format!("頁テスト{first:02}"));
        }
        // Only the kind asked for is searched.
        assert_eq!(r["invoices"]["total"], 0);
    }
    // The default page is 20.
    let r = search(&app, &app.operator, q).await;
    assert_eq!(r["contractors"]["hits"].as_array().unwrap().len(), 20);
    // Absurd pages are refused, naming the field.
    for (bad, field, status, code) in [
        (format!("{q}&per_page=0"), "per_page", 400, "invalid_paging"),
        (
            format!("{q}&per_page=101"),
            "per_page",
            400,
            "invalid_paging",
        ),
        (format!("{q}&page=0"), "page", 400, "invalid_paging"),
        ("q=%20%20".to_owned(), "q", 422, "invalid_field"),
        (format!("q={}", "x".repeat(101)), "q", 422, "invalid_field"),
    ] {
        let r = app
            .get(&format!("/api/v1/search?{bad}"), &app.operator)
            .await;
        r.assert_problem(status, code);
        assert_eq!(r.body["errors"][0]["field"], field, "{bad}: {}", r.text);
    }
    // NUL never reaches the search (PostgreSQL cannot hold it in text).
    let r = app.get("/api/v1/search?q=a%00b", &app.operator).await;
    r.assert_problem(400, "invalid_uri");
    let r = app.get("/api/v1/search", &app.operator).await;
    r.assert_problem(400, "invalid_query");
    let r = app
        .get("/api/v1/search?q=x&kind=everything", &app.operator)
        .await;
    r.assert_problem(400, "invalid_query");
}

backend_tests!(
    a_contractor_finds_its_own_things_and_never_anothers,
    percent_and_underscore_match_themselves,
    pages_of_one_kind_count_and_end,
);

/// The application as the console calls it, on this test app's database.
fn state(app: &TestApp) -> mpc_server::AppState {
    mpc_server::AppState::new(app.db.store.clone(), app.key.clone())
}

fn contractor_caller(contractor_id: &str) -> mpc_server::extract::Caller {
    mpc_server::extract::Caller::user(
        mpc_domain::access::Actor::Contractor {
            user_id: "u".into(),
            contractor_id: contractor_id.into(),
        },
        None,
    )
}

async fn journal_pages_count_and_keep_to_their_days(db: TestDb) {
    use mpc_server::app::journal::{Search, page};
    let app = TestApp::new(db).await;
    for i in 1..=7 {
        let r = app
            .post(
                "/api/v1/contractors",
                &app.operator,
                json!({ "name": format!("日誌{i}") }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let state = state(&app);
    let cli = mpc_server::extract::Caller::command_line();
    let today = mpc_domain::calendar::tokyo_date(jiff::Timestamp::now());
    let search = |from: Option<String>, to: Option<String>, limit: u32| Search {
        operation: Some("contractor.create".into()),
        from,
        to,
        limit: Some(limit),
        ..Search::default()
    };
    // 7 entries, 3 a page: 1–3, 4–6, 7, then none; newest first.
    for (number, first, shown, previous, next) in [
        (1, 1, 3, None, Some(2)),
        (2, 4, 3, Some(1), Some(3)),
        (3, 7, 1, Some(2), None),
        (4, 10, 0, Some(3), None),
    ] {
        let p = page(&state, &cli, search(None, None, 3), number)
            .await
            .unwrap();
        assert_eq!(
            (p.total, p.first, p.entries.len(), p.previous, p.next),
            (7, first, shown, previous, next),
            "page {number}"
        );
        assert!(p.entries.windows(2).all(|w| w[0].seq > w[1].seq));
    }
    // Days in Japan: today holds all seven; from tomorrow or up to yesterday, none.
    let day = |d: jiff::civil::Date| Some(d.to_string());
    let (yesterday, tomorrow) = (today.yesterday().unwrap(), today.tomorrow().unwrap());
    for (from, to, total) in [
        (day(today), day(today), 7),
        (day(yesterday), None, 7),
        (day(tomorrow), None, 0),
        (None, day(yesterday), 0),
    ] {
        let p = page(&state, &cli, search(from.clone(), to.clone(), 50), 1)
            .await
            .unwrap();
        assert_eq!(p.total, total, "{from:?}..{to:?}");
        assert_eq!(p.entries.len() as i64, total);
    }
    // Absurd pages and days are refused, naming the field.
    for (s, number, field, status) in [
        (search(None, None, 201), 1, "limit", 400),
        (search(None, None, 0), 1, "limit", 400),
        (search(None, None, 50), 0, "page", 400),
        (search(Some("2026-13-01".into()), None, 50), 1, "from", 422),
        (search(None, Some("yesterday".into()), 50), 1, "to", 422),
    ] {
        let e = page(&state, &cli, s, number).await.unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.errors[0].field.as_str()),
            (status, field)
        );
    }
    // The API reads the same days.
    let r = app
        .get(
            &format!("/api/v1/journal?operation=contractor.create&from={tomorrow}"),
            &app.operator,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["entries"].as_array().unwrap().len(), 0);
    let r = app
        .get(
            &format!("/api/v1/journal?operation=contractor.create&to={today}"),
            &app.operator,
        )
        .await;
    assert_eq!(r.body["entries"].as_array().unwrap().len(), 7);
}

async fn requests_list_pending_first_then_newest(db: TestDb) {
    use mpc_server::app::requests::{Browse, browse};
    let app = TestApp::new(db).await;
    let (k, _, _) = app.contractor_with_user("株式会社依頼", "irai").await;
    let (other, _, _) = app.contractor_with_user("株式会社他社", "tasha").await;
    // Two accepted (a management, then an adapter under it), then three pending changes.
    let (_, adapter) = app.eligible_setup(&k, "SA-W2L", ON).await;
    let mut pending = Vec::new();
    for item in ["remote_access", "pppoe_termination", "remote_access"] {
        let r = app
            .post(
                &format!("/api/v1/contractors/{k}/requests"),
                &app.operator,
                json!({"request": {"kind": "change_item", "contract_id": adapter, "item": item}, "submitted_on": ON}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        pending.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let state = state(&app);
    let cli = mpc_server::extract::Caller::command_line();
    let all = |page, per_page| Browse {
        page,
        per_page,
        ..Browse::default()
    };
    let p = browse(&state, &cli, &k, &all(1, 50)).await.unwrap();
    // eligible_setup accepted three requests (management, adapter, send-back option).
    assert_eq!(p.total, 6);
    let statuses: Vec<String> = p
        .requests
        .iter()
        .map(|r| format!("{:?}", r.status))
        .collect();
    assert_eq!(
        statuses,
        [
            "Pending", "Pending", "Pending", "Accepted", "Accepted", "Accepted"
        ]
    );
    let newest_pending: Vec<&str> = p.requests[..3].iter().map(|r| r.id.as_str()).collect();
    pending.reverse();
    assert_eq!(newest_pending, pending);
    assert_eq!(p.requests[5].kind, "apply_contract");
    // Pages of 4: 1–4, then 5–6.
    let p1 = browse(&state, &cli, &k, &all(1, 4)).await.unwrap();
    let p2 = browse(&state, &cli, &k, &all(2, 4)).await.unwrap();
    assert_eq!(
        (p1.requests.len(), p1.first, p1.previous, p1.next),
        (4, 1, None, Some(2))
    );
    assert_eq!(
        (p2.requests.len(), p2.first, p2.previous, p2.next),
        (2, 5, Some(1), None)
    );
    // Filters: by status, by kind, both.
    let by = |status: Option<&str>, kind: Option<&str>| Browse {
        status: status.map(str::to_owned),
        kind: kind.map(str::to_owned),
        page: 1,
        per_page: 50,
        ..Browse::default()
    };
    for (status, kind, total) in [
        (Some("accepted"), None, 3),
        (Some("pending"), None, 3),
        (None, Some("change_item"), 3),
        (None, Some("apply_contract"), 2),
        (Some("accepted"), Some("change_item"), 0),
    ] {
        let p = browse(&state, &cli, &k, &by(status, kind)).await.unwrap();
        assert_eq!(p.total, total, "{status:?} {kind:?}");
        assert_eq!(p.requests.len() as i64, total);
    }
    // Bounds, unknown status, and another contractor's requests.
    for (b, code, field) in [
        (all(0, 50), "invalid_paging", "page"),
        (all(1, 201), "invalid_paging", "per_page"),
        (by(Some("lost"), None), "invalid_query", "status"),
        (by(None, Some("no_such_kind")), "invalid_query", "kind"),
    ] {
        let e = browse(&state, &cli, &k, &b).await.unwrap_err();
        assert_eq!(
            (
                e.status.as_u16(),
                e.code.as_ref(),
                e.errors[0].field.as_str()
            ),
            (400, code, field)
        );
    }
    let e = browse(&state, &contractor_caller(&other), &k, &all(1, 50))
        .await
        .unwrap_err();
    assert_eq!(e.status.as_u16(), 404);
}

backend_tests!(
    journal_pages_count_and_keep_to_their_days,
    requests_list_pending_first_then_newest,
);
