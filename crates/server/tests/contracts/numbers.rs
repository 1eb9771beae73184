//! Contract numbers (`C-000123`) and site labels: given on acceptance in order, never shared
//! even by acceptances at once on two nodes, and taken wherever a contract id is.

use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;

use crate::support::*;

fn number(view: &Value) -> String {
    view["decision"]["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["effect"] == "contract_created")
        .and_then(|e| e["number"].as_str())
        .unwrap_or_else(|| panic!("no numbered contract: {view}"))
        .to_owned()
}

async fn patch(app: &TestApp, contract: &str, token: &str, body: Value) -> crate::common::Reply {
    app.call(
        Method::PATCH,
        &format!("/api/v1/contracts/{contract}"),
        Some(token),
        Some(body),
    )
    .await
}

async fn contracts_are_numbered_in_order_and_named_by_number(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _, token) = app.contractor_with_user("株式会社番号", "bango").await;
    let (other, _, other_token) = app.contractor_with_user("株式会社他社", "tasha").await;
    let m = app
        .accepted(
            &k,
            json!({"kind": "apply_contract", "contract_kind": "management", "label": "  本社 "}),
            "2026-10-01",
        )
        .await;
    assert_eq!(number(&m), "C-000001");
    let m = created(&m, "contract_created")[0].clone();
    let a = app
        .accepted(
            &k,
            json!({"kind": "apply_contract", "contract_kind": "service_adapter", "item": "internet_gateway",
                   "device_type": "SEIL/X4", "management_id": m}),
            "2026-10-01",
        )
        .await;
    assert_eq!(number(&a), "C-000002");
    let a = created(&a, "contract_created")[0].clone();
    let o = app
        .accepted(
            &other,
            json!({"kind": "apply_contract", "contract_kind": "management"}),
            "2026-10-02",
        )
        .await;
    assert_eq!(number(&o), "C-000003", "one sequence for every contractor");

    // The label as given, trimmed; the number in every view.
    let view = contract(&app, "C-000001", "2026-10-05").await;
    assert_eq!(
        (view["id"].as_str(), view["number"].as_str()),
        (Some(m.as_str()), Some("C-000001"))
    );
    assert_eq!(view["label"], "本社");
    for spelled in ["C-000002", "c-2", "2", "000002", &a] {
        let view = contract(&app, spelled, "2026-10-05").await;
        assert_eq!(view["id"], a.as_str(), "{spelled}");
        assert_eq!(view["number"], "C-000002", "{spelled}");
        assert_eq!(view["label"], "", "{spelled}");
    }
    let list = app
        .get(&format!("/api/v1/contractors/{k}/contracts"), &token)
        .await;
    let numbers: Vec<&str> = list.body["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["C-000001", "C-000002"]);

    // Routes under a contract take the number too.
    let quote = app
        .get(
            "/api/v1/contracts/C-000002/termination-quote?notice_arrived_on=2026-10-05",
            &token,
        )
        .await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.text);
    assert_eq!(quote.body["contract_id"], a.as_str());
    let charges = app.get("/api/v1/contracts/c-2/charges", &token).await;
    assert_eq!(charges.status, StatusCode::OK, "{}", charges.text);

    // Unknown, another contractor's, or not a number at all.
    app.get("/api/v1/contracts/C-000099", &token)
        .await
        .assert_problem(404, "not_found");
    app.get("/api/v1/contracts/C-000003", &token)
        .await
        .assert_problem(404, "not_found");
    patch(&app, "C-000002", &other_token, json!({"label": "横取り"}))
        .await
        .assert_problem(404, "not_found");
    for bad in ["C-0", "C-12x", "Cー1", "contract-1"] {
        let r = app
            .get(
                &format!("/api/v1/contracts/{}", mpc_server::web::urlencode(bad)),
                &token,
            )
            .await;
        r.assert_problem(400, "invalid_contract");
        assert!(
            r.body["detail"].as_str().unwrap().contains("C-000123"),
            "{}",
            r.text
        );
    }

    // The holder sets the label by number; it is trimmed and journaled.
    let r = patch(
        &app,
        "C-000002",
        &token,
        json!({"label": " 大阪支店\u{3000}"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.body["number"].as_str(), r.body["label"].as_str()),
        (Some("C-000002"), Some("大阪支店"))
    );
    let journal = app
        .get("/api/v1/journal?operation=contract.label", &app.operator)
        .await;
    assert!(journal.text.contains(&a), "{}", journal.text);

    // Too long (61 characters; 60 pass) or with a control character: refused, nothing written.
    let before = app.db.store.dump().await;
    for label in [
        "本".repeat(61),
        "本社\n2F".to_owned(),
        "本社\u{7}".to_owned(),
    ] {
        patch(&app, "C-000002", &token, json!({"label": label}))
            .await
            .assert_problem(422, "invalid_field");
    }
    patch(&app, "C-000002", &token, json!({"name": "x"}))
        .await
        .assert_problem(422, "unknown_field");
    assert_eq!(app.db.store.dump().await, before);
    let r = patch(&app, "2", &token, json!({"label": "本".repeat(60)})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // An operator may set it too; empty removes it.
    let r = patch(&app, &a, &app.operator, json!({"label": ""})).await;
    assert_eq!(
        (r.status, r.body["label"].as_str()),
        (StatusCode::OK, Some(""))
    );

    // An application's label is checked on submission.
    let r = app
        .post(
            &format!("/api/v1/contractors/{k}/requests"),
            &token,
            json!({"request": {"kind": "apply_contract", "contract_kind": "management",
                               "label": "x".repeat(61)}}),
        )
        .await;
    r.assert_problem(422, "invalid_field");
    assert_eq!(r.body["errors"][0]["field"], "request.label");

    // An ended contract keeps its number, and the next contract does not take it.
    app.accepted(
        &k,
        json!({"kind": "cancel_contract", "contract_id": a, "requested_on": "2026-10-31"}),
        "2026-10-05",
    )
    .await;
    let n = app
        .accepted(
            &k,
            json!({"kind": "apply_contract", "contract_kind": "management"}),
            "2026-11-10",
        )
        .await;
    assert_eq!(number(&n), "C-000004");
    assert_eq!(
        contract(&app, "C-000002", "2026-11-10").await["status"],
        "ended"
    );
}

async fn acceptances_at_once_take_distinct_consecutive_numbers(db: TestDb) {
    let app = TestApp::new(db).await;
    // A second node on the same database where there can be one (PostgreSQL).
    let second = match app.db.store.backend() {
        mpc_storage::Backend::Postgres => Some(app.node(&Default::default()).await),
        mpc_storage::Backend::Sqlite => None,
    };
    const N: usize = 12;
    let mut contractors = Vec::new();
    for i in 0..N / 2 {
        contractors.push(new_contractor(&app, &format!("株式会社同時{i}")).await);
    }
    // Two applications per contractor: some acceptances wait on the same book, others only
    // on the number. Odd ones go to the second node when there is one.
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..N {
        let contractor = contractors[i % contractors.len()].clone();
        let router = match &second {
            Some(node) if i % 2 == 1 => node.router.clone(),
            _ => app.router.clone(),
        };
        let token = app.operator.clone();
        sends.spawn(async move {
            let body = json!({
                "request": {"kind": "apply_contract", "contract_kind": "management",
                            "label": format!("拠点{i}")},
                "submitted_on": "2026-10-01",
                "accept": {"on": "2026-10-01"},
            });
            let req = Request::post(format!("/api/v1/contractors/{contractor}/requests"))
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap();
            let reply = crate::common::reply(router.oneshot(req).await.unwrap()).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
            number(&reply.body)
        });
    }
    let mut numbers = sends.join_all().await;
    numbers.sort();
    let want: Vec<String> = (1..=N).map(|n| format!("C-{n:06}")).collect();
    assert_eq!(numbers, want, "distinct and consecutive");
}

backend_tests!(
    contracts_are_numbered_in_order_and_named_by_number,
    acceptances_at_once_take_distinct_consecutive_numbers
);
