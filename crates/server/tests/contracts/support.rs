//! What the contract tests share: contractors, contract views, refusals and billing starts
//! through the API.

#![allow(dead_code, unused_imports)]

pub(crate) use crate::common::{TestApp, created};
pub(crate) use axum::http::{Method, StatusCode};
pub(crate) use mpc_storage::backend_tests;
pub(crate) use mpc_storage::testing::TestDb;
pub(crate) use serde_json::{Value, json};

pub(crate) async fn contract(app: &TestApp, id: &str, as_of: &str) -> Value {
    let reply = app
        .get(
            &format!("/api/v1/contracts/{id}?as_of={as_of}"),
            &app.operator,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.body
}

pub(crate) async fn new_contractor(app: &TestApp, name: &str) -> String {
    app.post("/api/v1/contractors", &app.operator, json!({"name": name}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Submits as the operator with acceptance and expects a refusal citing `rule`.
pub(crate) async fn refused(app: &TestApp, contractor: &str, request: Value, on: &str, rule: &str) {
    let before = app.db.store.dump().await;
    let reply = app
        .post(
            &format!("/api/v1/contractors/{contractor}/requests"),
            &app.operator,
            json!({"request": request, "submitted_on": on, "accept": {"on": on}}),
        )
        .await;
    reply.assert_problem(422, rule);
    assert!(
        reply.body["detail_ja"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{}",
        reply.text
    );
    assert_eq!(
        app.db.store.dump().await,
        before,
        "a refusal writes nothing"
    );
}

pub(crate) async fn billing_start(app: &TestApp, contract: &str, on: &str) {
    let reply = app
        .post(
            &format!("/api/v1/contracts/{contract}/billing-start"),
            &app.operator,
            json!({"on": on}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}
