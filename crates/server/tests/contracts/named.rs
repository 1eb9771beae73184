//! Request bodies naming a contract by its number (`C-000123`): resolved to the contract's id
//! before the rules decide, stored with the id, and shown with the number beside it.

use crate::support::*;

/// A contractor with a management contract (`C-000001`) and another contractor with one
/// (`C-000002`): (app, contractor, its token, its contract id, the other's token).
async fn two_holders(db: TestDb) -> (TestApp, String, String, String, String) {
    let app = TestApp::new(db).await;
    let (k, _, token) = app.contractor_with_user("株式会社番号", "bango").await;
    let (other, _, other_token) = app.contractor_with_user("株式会社他社", "tasha").await;
    let mine = app
        .accepted(
            &k,
            json!({"kind": "apply_contract", "contract_kind": "management", "label": "本社"}),
            "2026-10-01",
        )
        .await;
    let mine = created(&mine, "contract_created")[0].clone();
    app.accepted(
        &other,
        json!({"kind": "apply_contract", "contract_kind": "management"}),
        "2026-10-01",
    )
    .await;
    (app, k, token, mine, other_token)
}

async fn submit(
    app: &TestApp,
    contractor: &str,
    token: &str,
    request: Value,
) -> crate::common::Reply {
    app.post(
        &format!("/api/v1/contractors/{contractor}/requests"),
        token,
        json!({ "request": request }),
    )
    .await
}

async fn a_cancellation_names_its_contract_by_number_and_is_stored_with_the_id(db: TestDb) {
    let (app, k, token, mine, _) = two_holders(db).await;
    let r = submit(
        &app,
        &k,
        &token,
        json!({"kind": "cancel_contract", "contract_id": "c-1", "requested_on": "2026-12-31"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["request"]["contract_id"], mine.as_str());
    assert_eq!(r.body["contract_number"], "C-000001");
    assert_eq!(r.body["contract_label"], "本社");
    // Stored with the id: read back, and listed, it is the same.
    let id = r.body["id"].as_str().unwrap();
    let again = app.get(&format!("/api/v1/requests/{id}"), &token).await;
    assert_eq!(again.body["request"]["contract_id"], mine.as_str());
    assert_eq!(again.body["contract_number"], "C-000001");
    let list = app
        .get(&format!("/api/v1/contractors/{k}/requests"), &token)
        .await;
    let numbers: Vec<&Value> = list.body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["contract_number"])
        .collect();
    // The application has no contract of its own to name; the cancellation names C-000001.
    assert_eq!(numbers, [&Value::Null, &json!("C-000001")]);
}

async fn a_quote_by_number_shows_the_number(db: TestDb) {
    let (app, _, token, mine, _) = two_holders(db).await;
    let q = app
        .get(
            "/api/v1/contracts/C-000001/termination-quote?notice_arrived_on=2026-10-05",
            &token,
        )
        .await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text);
    assert_eq!(q.body["contract_id"], mine.as_str());
    assert_eq!(q.body["contract_number"], "C-000001");
    assert_eq!(q.body["contract_label"], "本社");
}

async fn another_holders_number_answers_as_a_number_no_contract_has(db: TestDb) {
    let (app, k, token, _, _) = two_holders(db).await;
    let before = app.db.store.dump().await;
    let theirs = submit(
        &app,
        &k,
        &token,
        json!({"kind": "report_loss", "contract_id": "C-000002"}),
    )
    .await;
    let nobodys = submit(
        &app,
        &k,
        &token,
        json!({"kind": "report_loss", "contract_id": "C-000099"}),
    )
    .await;
    theirs.assert_problem(404, "not_found");
    nobodys.assert_problem(404, "not_found");
    // The same answer but for the number it repeats (and the request's own id).
    let mut theirs: Value =
        serde_json::from_str(&theirs.text.replace("C-000002", "C-000099")).unwrap();
    let mut nobodys = nobodys.body.clone();
    for body in [&mut theirs, &mut nobodys] {
        body.as_object_mut().unwrap().remove("request_id");
    }
    assert_eq!(theirs, nobodys, "another's number leaks nothing");
    assert_eq!(app.db.store.dump().await, before, "nothing written");
}

async fn a_malformed_contract_is_a_bad_request_with_the_format(db: TestDb) {
    let (app, k, token, _, _) = two_holders(db).await;
    for bad in ["C-0", "C-12x", "contract-1"] {
        let r = submit(
            &app,
            &k,
            &token,
            json!({"kind": "report_failure", "contract_id": bad}),
        )
        .await;
        r.assert_problem(400, "invalid_contract");
        assert!(
            r.body["detail"].as_str().unwrap().contains("C-000123"),
            "{}",
            r.text
        );
    }
}

backend_tests!(
    a_cancellation_names_its_contract_by_number_and_is_stored_with_the_id,
    a_quote_by_number_shows_the_number,
    another_holders_number_answers_as_a_number_no_contract_has,
    a_malformed_contract_is_a_bad_request_with_the_format
);
