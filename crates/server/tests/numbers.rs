//! The numbers people quote for requests (`REQ-…`), outages (`OUT-…`) and SLA claims
//! (`CLM-…`): consecutive, never shared even when records are made at once, and accepted by
//! every route that takes the id, on SQLite and PostgreSQL.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestApp;
use mpc_storage::backend_tests;
use mpc_storage::testing::TestDb;
use serde_json::{Value, json};
use tower::ServiceExt;

/// A POST with the operator's token, for a router of this app or of another node.
fn post(app: &TestApp, path: &str, body: Value) -> Request<Body> {
    Request::post(path)
        .header("authorization", format!("Bearer {}", app.operator))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// A pending application for a management contract.
fn application() -> Value {
    json!({"request": {"kind": "apply_contract", "contract_kind": "management"}, "submitted_on": "2026-10-01"})
}

/// The serials of `numbers` (`REQ-000003` → 3), sorted.
fn serials(numbers: &[String], prefix: &str) -> Vec<i64> {
    let mut serials: Vec<i64> = numbers
        .iter()
        .map(|n| {
            let digits = n.strip_prefix(prefix).unwrap_or_else(|| panic!("{n}"));
            assert_eq!(digits.len(), 6, "{n}");
            digits.parse().unwrap()
        })
        .collect();
    serials.sort_unstable();
    serials
}

async fn requests_made_at_once_get_consecutive_numbers_and_routes_take_them(db: TestDb) {
    let app = TestApp::new(db).await;
    let mut contractors = Vec::new();
    for name in ["株式会社一", "株式会社二", "株式会社三"] {
        let (k, _, _) = app
            .contractor_with_user(name, &format!("user{}", contractors.len()))
            .await;
        contractors.push(k);
    }
    // Nine applications fired together: three contractors, three each.
    let mut tasks = tokio::task::JoinSet::new();
    for k in contractors.iter().cycle().take(9) {
        let req = post(
            &app,
            &format!("/api/v1/contractors/{k}/requests"),
            application(),
        );
        let router = app.router.clone();
        tasks.spawn(async move { common::reply(router.oneshot(req).await.unwrap()).await });
    }
    let replies = tasks.join_all().await;
    let mut numbers = Vec::new();
    for r in &replies {
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        numbers.push(r.body["number"].as_str().unwrap().to_owned());
    }
    assert_eq!(serials(&numbers, "REQ-"), (1..=9).collect::<Vec<_>>());

    // Every route taking the id takes the number, in any letter case.
    let first = replies
        .iter()
        .find(|r| r.body["number"] == "REQ-000001")
        .unwrap();
    let id = first.body["id"].as_str().unwrap();
    let by_number = app.get("/api/v1/requests/REQ-000001", &app.operator).await;
    assert_eq!(by_number.status, StatusCode::OK, "{}", by_number.text);
    assert_eq!(by_number.body["id"], id);
    assert_eq!(
        app.get("/api/v1/requests/req-1", &app.operator).await.body["id"],
        id
    );
    let accepted = app
        .post(
            "/api/v1/requests/REQ-000001/accept",
            &app.operator,
            json!({"on": "2026-10-01"}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    assert_eq!(accepted.body["status"], "accepted");
    assert_eq!(accepted.body["number"], "REQ-000001");
    let second = replies
        .iter()
        .find(|r| r.body["number"] == "REQ-000002")
        .unwrap();
    let rejected = app
        .post(
            "/api/v1/requests/REQ-000002/reject",
            &app.operator,
            json!({"reason": "重複"}),
        )
        .await;
    assert_eq!(rejected.body["id"], second.body["id"], "{}", rejected.text);
    assert_eq!(rejected.body["status"], "rejected");
    let withdrawn = app
        .post(
            "/api/v1/requests/REQ-000003/withdraw",
            &app.operator,
            json!({}),
        )
        .await;
    assert_eq!(withdrawn.body["status"], "withdrawn", "{}", withdrawn.text);

    // A number no request has, or another kind's number, is not found; nothing is written.
    let before = app.db.store.dump().await;
    for missing in ["REQ-000010", "OUT-000001", "REQ-000000"] {
        app.get(&format!("/api/v1/requests/{missing}"), &app.operator)
            .await
            .assert_problem(404, "not_found");
        app.post(
            &format!("/api/v1/requests/{missing}/accept"),
            &app.operator,
            json!({}),
        )
        .await
        .assert_problem(404, "not_found");
    }
    assert_eq!(app.db.store.dump().await, before);
    // A contractor does not learn of another contractor's request by its number.
    let (_, _, stranger) = app.contractor_with_user("株式会社他社", "tasha").await;
    app.get("/api/v1/requests/REQ-000004", &stranger)
        .await
        .assert_problem(404, "not_found");

    // A request that is not carried out takes no number: the next one follows on.
    let k = &contractors[0];
    let refused = app
        .post(
            &format!("/api/v1/contractors/{k}/requests"),
            &app.operator,
            json!({"request": {"kind": "cancel_contract", "contract_id": "nope"}, "submitted_on": "2026-10-01"}),
        )
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.text);
    let next = app
        .post(
            &format!("/api/v1/contractors/{k}/requests"),
            &app.operator,
            application(),
        )
        .await;
    assert_eq!(next.body["number"], "REQ-000010", "{}", next.text);

    if app.db.store.backend() != mpc_storage::Backend::Postgres {
        return; // one node per SQLite database
    }
    // Two server nodes on one PostgreSQL database, submitting at once.
    let other = app.node(&mpc_server::ServerConfig::default()).await;
    let mut tasks = tokio::task::JoinSet::new();
    for (i, k) in contractors.iter().cycle().take(8).enumerate() {
        let req = post(
            &app,
            &format!("/api/v1/contractors/{k}/requests"),
            application(),
        );
        let router = if i % 2 == 0 {
            app.router.clone()
        } else {
            other.router.clone()
        };
        tasks.spawn(async move { common::reply(router.oneshot(req).await.unwrap()).await });
    }
    let numbers: Vec<String> = tasks
        .join_all()
        .await
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            r.body["number"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(serials(&numbers, "REQ-"), (11..=18).collect::<Vec<_>>());
}

async fn outages_and_claims_are_numbered_and_routes_take_the_numbers(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let (k, _, a) = app.billed_customer("株式会社請求先").await;
    app.accepted(
        &k,
        json!({"kind": "notify_serial", "contract_id": a, "serial": "X4-NUM-0001"}),
        "2026-09-15",
    )
    .await;
    // Four outages recorded at once, two naming the adapter by its number.
    let a_number = app
        .get(&format!("/api/v1/contracts/{a}"), &app.operator)
        .await
        .body["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut tasks = tokio::task::JoinSet::new();
    for day in 5..9 {
        let named = if day % 2 == 0 { &a_number } else { &a };
        let req = post(
            &app,
            "/api/v1/outages",
            json!({
                "learned_at": format!("2026-10-0{day}T00:00:00Z"),
                "restored_at": format!("2026-10-{:02}T03:00:00Z", day + 2),
                "operator_caused": true,
                "contract_ids": [named],
            }),
        );
        let router = app.router.clone();
        tasks.spawn(async move { common::reply(router.oneshot(req).await.unwrap()).await });
    }
    let outages = tasks.join_all().await;
    let numbers: Vec<String> = outages
        .iter()
        .map(|o| {
            assert_eq!(o.status, StatusCode::CREATED, "{}", o.text);
            assert_eq!(o.body["contract_ids"], json!([a]), "stored with the id");
            o.body["number"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(serials(&numbers, "OUT-"), vec![1, 2, 3, 4]);
    let listed = app.get("/api/v1/outages", &app.operator).await;
    assert_eq!(listed.body["outages"].as_array().unwrap().len(), 4);
    let one = app.get("/api/v1/outages/OUT-000002", &app.operator).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.body["number"], "OUT-000002");
    app.get("/api/v1/outages/OUT-000005", &app.operator)
        .await
        .assert_problem(404, "not_found");

    // A claim names its outage by number, and is decided by its own number.
    let mut claims = Vec::new();
    for outage in ["OUT-000001", "out-2"] {
        let c = app
            .post(
                &format!("/api/v1/contracts/{a}/sla-claims"),
                &app.operator,
                json!({"outage_id": outage, "claimed_on": "2026-11-02"}),
            )
            .await;
        assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
        claims.push(c.body);
    }
    assert_eq!(claims[0]["number"], "CLM-000001");
    assert_eq!(claims[1]["number"], "CLM-000002");
    // Beside the contract's id, its number, in each claim and in the list.
    assert_eq!(claims[0]["contract_number"], a_number.as_str());
    let listed = app
        .get(
            &format!("/api/v1/contractors/{k}/sla-claims"),
            &app.operator,
        )
        .await;
    for c in listed.body["claims"].as_array().unwrap() {
        assert_eq!(c["contract_number"], a_number.as_str(), "{c}");
    }
    let o1 = outages
        .iter()
        .find(|o| o.body["number"] == "OUT-000001")
        .unwrap();
    assert_eq!(claims[0]["outage_id"], o1.body["id"]);
    let approved = app
        .post(
            "/api/v1/sla-claims/CLM-000002/approve",
            &app.operator,
            json!({"on": "2026-11-10"}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.body["id"], claims[1]["id"]);
    assert_eq!(approved.body["status"], "approved");
    let refused = app
        .post(
            "/api/v1/sla-claims/clm-1/refuse",
            &app.operator,
            json!({"on": "2026-11-10"}),
        )
        .await;
    assert_eq!(refused.body["status"], "refused", "{}", refused.text);
    app.post(
        "/api/v1/sla-claims/CLM-000003/approve",
        &app.operator,
        json!({}),
    )
    .await
    .assert_problem(404, "not_found");
    app.post(
        &format!("/api/v1/contracts/{a}/sla-claims"),
        &app.operator,
        json!({"outage_id": "OUT-000009", "claimed_on": "2026-11-02"}),
    )
    .await
    .assert_problem(404, "not_found");
}

/// An outage names its contracts by number beside their ids, and shows a contractor only its
/// own among them: the other contractor's contracts are not its to see.
async fn an_outage_shows_each_contractor_its_own_contracts_by_number(db: TestDb) {
    let app = TestApp::new(db).await;
    let (east, _, east_token) = app.contractor_with_user("株式会社東", "east").await;
    let (west, _, west_token) = app.contractor_with_user("株式会社西", "west").await;
    let (_, a_east) = app.eligible_setup(&east, "SEIL/X4", "2026-09-10").await;
    let (_, a_west) = app.eligible_setup(&west, "SEIL/X4", "2026-09-10").await;
    let number = |body: &Value| body["number"].as_str().unwrap().to_owned();
    let n_east = number(
        &app.get(&format!("/api/v1/contracts/{a_east}"), &app.operator)
            .await
            .body,
    );
    let n_west = number(
        &app.get(&format!("/api/v1/contracts/{a_west}"), &app.operator)
            .await
            .body,
    );
    let recorded = app
        .post(
            "/api/v1/outages",
            &app.operator,
            json!({
                "learned_at": "2026-10-05T00:00:00Z",
                "restored_at": "2026-10-07T03:00:00Z",
                "operator_caused": true,
                "contract_ids": [a_east, n_west],
            }),
        )
        .await;
    assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.text);
    assert_eq!(recorded.body["contract_ids"], json!([a_east, a_west]));
    assert_eq!(recorded.body["contract_numbers"], json!([n_east, n_west]));
    for (token, id, n) in [
        (&east_token, &a_east, &n_east),
        (&west_token, &a_west, &n_west),
    ] {
        let listed = app.get("/api/v1/outages", token).await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
        let outage = &listed.body["outages"][0];
        assert_eq!(outage["contract_ids"], json!([id]), "{}", listed.text);
        assert_eq!(outage["contract_numbers"], json!([n]));
        let one = app.get("/api/v1/outages/OUT-000001", token).await;
        assert_eq!(one.body["contract_ids"], json!([id]), "{}", one.text);
    }
}

backend_tests!(
    an_outage_shows_each_contractor_its_own_contracts_by_number,
    requests_made_at_once_get_consecutive_numbers_and_routes_take_them,
    outages_and_claims_are_numbered_and_routes_take_the_numbers,
);
