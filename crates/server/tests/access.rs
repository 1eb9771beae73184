//! Who sees what: contractor users reach only their own contractor's data; operators reach all.

mod common;

use axum::http::{Method, StatusCode};
use common::TestApp;
use mpc_storage::backend_tests;
use mpc_storage::testing::TestDb;
use serde_json::json;

/// Walks every route of the OpenAPI document that takes an id in its path, filling the ids
/// with another contractor's resources: each must answer 404, as if they did not exist, and
/// change nothing. A new route with a new kind of id fails here until the walk knows a
/// resource for it.
async fn another_contractors_ids_answer_404_on_every_route(db: TestDb) {
    let app = TestApp::new(db).await;
    let (_a, _a_user, a_token) = app.contractor_with_user("株式会社A", "alice").await;
    let (b, b_user, _b_token) = app.contractor_with_user("株式会社B", "bob").await;
    let b_tokens = app
        .get(&format!("/api/v1/users/{b_user}/tokens"), &app.operator)
        .await;
    let b_token_id = b_tokens.body["tokens"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // B's contracts, SIM, group, device and a pending request; a designation by B of C's
    // management, and a redirect of B's management invoices to C.
    let on = "2026-04-01";
    let (b_management, b_adapter) = app.eligible_setup(&b, "SA-W2L", on).await;
    let sim = app.accepted(&b, json!({"kind": "add_option", "contract_id": b_adapter, "option_kind": "mobile_access",
        "usage_type": "packet_share", "network_type": "dynamic_ip", "group": {"new_group_pack_gb": 50}}), on).await;
    let b_group = common::created(&sim, "group_created")[0].clone();
    let b_option = common::created(&sim, "option_created")[0].clone();
    let b_iccid = "8981100000000000042".to_owned();
    let bound = app
        .call(
            Method::PUT,
            &format!("/api/v1/mobile/sims/{b_iccid}"),
            Some(&app.operator),
            Some(json!({"option_id": common::created(&sim, "option_created")[0], "from": on})),
        )
        .await;
    assert_eq!(bound.status, StatusCode::OK, "{}", bound.text);
    app.accepted(
        &b,
        json!({"kind": "notify_serial", "contract_id": b_adapter, "serial": "W2L-B-1"}),
        on,
    )
    .await;
    let pending = app.post(&format!("/api/v1/contractors/{b}/requests"), &app.operator,
        json!({"request": {"kind": "change_item", "contract_id": b_adapter, "item": "remote_access"}, "submitted_on": "2026-04-02"})).await;
    let b_request = pending.body["id"].as_str().unwrap().to_owned();
    let c = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": "株式会社C"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (c_management, _) = app.eligible_setup(&c, "SEIL/X4", on).await;
    let d = app
        .post(
            &format!("/api/v1/contractors/{b}/designations"),
            &app.operator,
            json!({"management_contract_id": c_management, "requested_on": on}),
        )
        .await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    let b_designation = d.body["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("/api/v1/contracts/{b_management}/invoice-redirects"),
            &app.operator,
            json!({"target_contractor_id": c, "requested_on": on}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let b_redirect = r.body["id"].as_str().unwrap().to_owned();
    // B's invoice for 2026-04, an outage that hit only B's adapter, and B's claim for it.
    app.price_everything().await;
    app.post(
        &format!("/api/v1/contracts/{b_adapter}/billing-start"),
        &app.operator,
        json!({"on": on}),
    )
    .await;
    let run = app
        .post(
            "/api/v1/billing/runs",
            &app.operator,
            json!({"month": "2026-04"}),
        )
        .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text);
    let b_invoice = app
        .get(
            &format!("/api/v1/invoices?month=2026-04&account_id={b}"),
            &app.operator,
        )
        .await
        .body["invoices"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let outage = app.post("/api/v1/outages", &app.operator, json!({"learned_at": "2026-04-10T00:00:00Z",
        "restored_at": "2026-04-12T01:00:00Z", "operator_caused": true, "contract_ids": [b_adapter]})).await;
    let b_outage = outage.body["id"].as_str().unwrap().to_owned();
    let claim = app
        .post(
            &format!("/api/v1/contracts/{b_adapter}/sla-claims"),
            &app.operator,
            json!({"outage_id": b_outage, "claimed_on": "2026-04-20"}),
        )
        .await;
    assert_eq!(claim.status, StatusCode::CREATED, "{}", claim.text);
    let b_claim = claim.body["id"].as_str().unwrap().to_owned();
    // Two revisions of B's preset, and an alert webhook (operators' only).
    for napt in [false, true] {
        let p = app.call(Method::PUT, &format!("/api/v1/contracts/{b_adapter}/preset"), Some(&app.operator),
            Some(json!({"preset": "internet_gateway", "wan": {"type": "dhcp"}, "lan": {"address": "192.168.0.1",
                "prefix_len": 24, "dhcp_pool": null}, "dns_forwarder": true, "ntp_server": null, "napt": napt}))).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    }
    let w = app
        .post(
            "/api/v1/webhooks",
            &app.operator,
            json!({"url": "http://127.0.0.1:9/alerts"}),
        )
        .await;
    assert_eq!(w.status, StatusCode::CREATED, "{}", w.text);
    let webhook = w.body["id"].as_str().unwrap().to_owned();
    let fixture = |param: &str| -> String {
        match param {
            "contractor_id" => b.clone(),
            "user_id" => b_user.clone(),
            "token_id" => b_token_id.clone(),
            "contract_id" => b_adapter.clone(),
            "group_id" => b_group.clone(),
            "option_id" => b_option.clone(),
            "serial" => "W2L-B-1".to_owned(),
            "request_id" => b_request.clone(),
            "designation_id" => b_designation.clone(),
            "redirect_id" => b_redirect.clone(),
            "revision" | "from" => "1".to_owned(),
            "to" => "2".to_owned(),
            "webhook_id" => webhook.clone(),
            "invoice_id" => b_invoice.clone(),
            "outage_id" => b_outage.clone(),
            "claim_id" => b_claim.clone(),
            "iccid" => b_iccid.clone(),
            // Not a contractor's: routes taking only a month are operator-only (403).
            "month" => "2026-04".to_owned(),
            "key" => "management.monthly".to_owned(),
            "effective_from" => "2026-01-01".to_owned(),
            other => {
                panic!("the walk knows no resource of another contractor for {{{other}}}: add one")
            }
        }
    };

    let doc = serde_json::to_value(mpc_server::openapi()).unwrap();
    let before = app.db.store.dump().await;
    let mut walked = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        if !template.contains('{') {
            continue;
        }
        let mut path = template.clone();
        while let Some(start) = path.find('{') {
            let end = path[start..].find('}').unwrap() + start;
            let value = fixture(&path[start + 1..end]);
            path.replace_range(start..=end, &value);
        }
        for method in item.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let body =
                matches!(method, Method::POST | Method::PUT | Method::PATCH).then(|| json!({}));
            // Routes that need a query to mean anything get a well-formed one, so that what
            // answers is the contractor check, not the query's.
            let query = if template.ends_with("/offered-contracts") {
                "?kind=cancel_contract"
            } else {
                ""
            };
            let reply = app
                .call(
                    method.clone(),
                    &format!("{path}{query}"),
                    Some(&a_token),
                    body,
                )
                .await;
            if template.matches('{').count() == 1 && template.contains("{month}") {
                reply.assert_problem(403, "forbidden");
                walked += 1;
                continue;
            }
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{method} {template}: {}",
                reply.text
            );
            assert_eq!(reply.code(), "not_found", "{method} {template}");
            if method == Method::GET {
                let as_operator = app.get(&format!("{path}{query}"), &app.operator).await;
                assert_eq!(
                    as_operator.status,
                    StatusCode::OK,
                    "operator: GET {template}: {}",
                    as_operator.text
                );
            }
            walked += 1;
        }
    }
    assert!(walked >= 8, "walked only {walked} operations");
    assert_eq!(
        app.db.store.dump().await,
        before,
        "the walk changed nothing"
    );

    app.get(&format!("/api/v1/journal?contractor_id={b}"), &a_token)
        .await
        .assert_problem(404, "not_found");
}

async fn a_contractor_user_lists_only_its_own_data(db: TestDb) {
    let app = TestApp::new(db).await;
    let (a, a_user, a_token) = app.contractor_with_user("株式会社A", "alice").await;
    app.contractor_with_user("株式会社B", "bob").await;

    let mine = app.get("/api/v1/contractors", &a_token).await;
    let ids: Vec<_> = mine.body["contractors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids, [json!(a)]);
    let all = app.get("/api/v1/contractors", &app.operator).await;
    assert_eq!(all.body["contractors"].as_array().unwrap().len(), 2);

    let me = app.get("/api/v1/me", &a_token).await;
    assert_eq!(me.body["id"], a_user.as_str());
    assert_eq!(me.body["role"], "contractor");

    // The journal shows a contractor only the changes to its own data.
    let journal = app.get("/api/v1/journal", &a_token).await;
    let entries = journal.body["entries"].as_array().unwrap();
    assert!(!entries.is_empty());
    assert!(
        entries.iter().all(|e| e["contractor_id"] == a.as_str()),
        "{}",
        journal.text
    );

    // Operator-only actions are forbidden, not hidden, on the contractor's own data.
    app.post("/api/v1/contractors", &a_token, json!({"name": "C"}))
        .await
        .assert_problem(403, "forbidden");
    app.call(
        Method::PATCH,
        &format!("/api/v1/contractors/{a}"),
        Some(&a_token),
        Some(json!({"name": "A2"})),
    )
    .await
    .assert_problem(403, "forbidden");
    app.get("/api/v1/users", &a_token)
        .await
        .assert_problem(403, "forbidden");
}

async fn accounts_tokens_and_journal_story(db: TestDb) {
    let app = TestApp::new(db).await;
    let op = app.operator.clone();
    let c = app
        .post(
            "/api/v1/contractors",
            &op,
            json!({"name": "  株式会社サンプル "}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED);
    assert_eq!(c.body["name"], "株式会社サンプル");
    let cid = c.body["id"].as_str().unwrap();

    let dup = app
        .post(
            "/api/v1/users",
            &op,
            json!({"username": "admin", "role": "operator"}),
        )
        .await;
    dup.assert_problem(409, "conflict");
    app.post(
        "/api/v1/users",
        &op,
        json!({"username": "op2", "role": "operator", "contractor_id": cid}),
    )
    .await
    .assert_problem(422, "invalid_field");
    app.post(
        "/api/v1/users",
        &op,
        json!({"username": "x1", "role": "contractor", "contractor_id": "nope"}),
    )
    .await
    .assert_problem(422, "invalid_field");

    let u = app.post("/api/v1/users", &op, json!({"username": "sato", "role": "contractor", "contractor_id": cid, "display_name": "佐藤"})).await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.text);
    let uid = u.body["id"].as_str().unwrap();
    let t = app
        .post(
            &format!("/api/v1/users/{uid}/tokens"),
            &op,
            json!({"label": "laptop"}),
        )
        .await;
    let secret = t.body["secret"].as_str().unwrap().to_owned();
    let token_id = t.body["token"]["id"].as_str().unwrap().to_owned();

    // The new token works; a colleague may be created by the contractor itself.
    let colleague = app
        .post(
            &format!("/api/v1/contractors/{cid}/users"),
            &secret,
            json!({"username": "suzuki"}),
        )
        .await;
    assert_eq!(colleague.status, StatusCode::CREATED, "{}", colleague.text);
    // …but only the user itself or an operator manages a user's tokens.
    let suzuki = colleague.body["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/users/{suzuki}/tokens"),
        &secret,
        json!({"label": "x"}),
    )
    .await
    .assert_problem(403, "forbidden");

    let journal = app.get("/api/v1/journal?limit=1000", &op).await;
    let ops: Vec<_> = journal.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["operation"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ops,
        [
            "user.create",
            "token.create",
            "user.create",
            "contractor.create",
            "user.bootstrap"
        ]
    );
    assert!(
        !journal.text.contains(&secret[4..]),
        "no secret in the journal"
    );
    let first = &journal.body["entries"][3];
    assert_eq!(first["request"], json!({"name": "  株式会社サンプル "}));
    assert!(first["actor"].as_str().unwrap().starts_with("user:"));
    assert!(first["request_id"].is_string());

    let page = app.get("/api/v1/journal?limit=2", &op).await;
    assert_eq!(page.body["entries"].as_array().unwrap().len(), 2);
    let cursor = page.body["next_cursor"].as_i64().unwrap();
    let rest = app
        .get(&format!("/api/v1/journal?limit=10&before={cursor}"), &op)
        .await;
    assert_eq!(rest.body["entries"].as_array().unwrap().len(), 3);
    assert!(rest.body.get("next_cursor").is_none());

    let revoke = app
        .call(
            Method::DELETE,
            &format!("/api/v1/users/{uid}/tokens/{token_id}"),
            Some(&secret),
            None,
        )
        .await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT, "{}", revoke.text);
    app.get("/api/v1/me", &secret)
        .await
        .assert_problem(401, "invalid_token");
    let tokens = app.get(&format!("/api/v1/users/{uid}/tokens"), &op).await;
    assert!(tokens.body["tokens"][0]["revoked_at"].is_string());
}

async fn contractor_listing_pages(db: TestDb) {
    let app = TestApp::new(db).await;
    for i in 0..5 {
        app.post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": format!("c{i}")}),
        )
        .await;
    }
    let first = app.get("/api/v1/contractors?limit=2", &app.operator).await;
    assert_eq!(first.body["contractors"].as_array().unwrap().len(), 2);
    let mut seen = 2;
    let mut cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    loop {
        let page = app
            .get(
                &format!("/api/v1/contractors?limit=2&after={cursor}"),
                &app.operator,
            )
            .await;
        seen += page.body["contractors"].as_array().unwrap().len();
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, 5);
    let found = app.get("/api/v1/contractors?name=c3", &app.operator).await;
    assert_eq!(found.body["contractors"][0]["name"], "c3");
}

backend_tests!(
    another_contractors_ids_answer_404_on_every_route,
    a_contractor_user_lists_only_its_own_data,
    accounts_tokens_and_journal_story,
    contractor_listing_pages,
);
