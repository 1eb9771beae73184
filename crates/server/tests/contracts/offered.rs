//! The contracts request forms offer: only those a request of the kind can be about (R6.5,
//! R13.1), through `GET /contractors/{id}/offered-contracts`.

use crate::support::*;

async fn offered(app: &TestApp, k: &str, query: &str) -> Vec<String> {
    let reply = app
        .get(
            &format!("/api/v1/contractors/{k}/offered-contracts?as_of=2026-12-01&{query}"),
            &app.operator,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.text);
    let mut ids: Vec<String> = reply.body["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut ids: Vec<&String>) -> Vec<String> {
    ids.sort();
    ids.into_iter().cloned().collect()
}

async fn adapter(app: &TestApp, k: &str, m: &str, device_type: &str) -> String {
    created(
        &app.accepted(
            k,
            json!({"kind": "apply_contract", "contract_kind": "service_adapter",
                   "item": "internet_gateway", "device_type": device_type, "management_id": m}),
            "2026-09-10",
        )
        .await,
        "contract_created",
    )[0]
    .clone()
}

async fn request_forms_offer_only_the_contracts_a_request_can_be_about(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = new_contractor(&app, "株式会社選択").await;
    let (m, x4) = app.eligible_setup(&k, "SEIL/X4", "2026-09-10").await;
    let w2l = adapter(&app, &k, &m, "SA-W2L").await;
    // One adapter ended on 2026-11-15 (notice 2026-11-01 + 14 days, D3), one ends 2026-12-09
    // (notice 2026-11-25 + 14 days): on 2026-12-01 the first has ended, the second is ending.
    let ended = adapter(&app, &k, &m, "SEIL CA10").await;
    let ending = adapter(&app, &k, &m, "SEIL CA10").await;
    for (c, on) in [(&ended, "2026-11-01"), (&ending, "2026-11-25")] {
        app.accepted(&k, json!({"kind": "cancel_contract", "contract_id": c}), on)
            .await;
    }
    // Mobile access only on the SA-W2L (R6.5).
    assert_eq!(
        offered(&app, &k, "kind=add_option&option_kind=mobile_access").await,
        vec![w2l.clone()]
    );
    // Other changes: every adapter in service that day, the ending one included.
    let in_service = sorted(vec![&x4, &w2l, &ending]);
    for kind in [
        "add_option",
        "change_item",
        "notify_serial",
        "report_failure",
    ] {
        assert_eq!(offered(&app, &k, &format!("kind={kind}")).await, in_service);
    }
    // A cancellation: what has not ended and is not already ending (R13.1).
    assert_eq!(
        offered(&app, &k, "kind=cancel_contract").await,
        sorted(vec![&m, &x4, &w2l])
    );
    // An application runs under a management (R6.2).
    assert_eq!(offered(&app, &k, "kind=apply_contract").await, vec![m]);
    // A kind about options or groups names no contract; another contractor sees nothing.
    app.get(
        &format!("/api/v1/contractors/{k}/offered-contracts?kind=change_pack"),
        &app.operator,
    )
    .await
    .assert_problem(400, "invalid_query");
    let (_, _, token) = app.contractor_with_user("株式会社他人", "tanin").await;
    app.get(
        &format!("/api/v1/contractors/{k}/offered-contracts?kind=change_item"),
        &token,
    )
    .await
    .assert_problem(404, "not_found");
}

backend_tests!(request_forms_offer_only_the_contracts_a_request_can_be_about);
