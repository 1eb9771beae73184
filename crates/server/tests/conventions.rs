//! API conventions: problem+json errors, auth, body handling, request ids, docs and operations
//! endpoints — on SQLite and PostgreSQL.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::TestApp;
use mpc_server::ServerConfig;
use mpc_storage::backend_tests;
use mpc_storage::testing::TestDb;
use serde_json::json;

fn raw_post(path: &str, token: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", content_type)
        .body(body.into())
        .unwrap()
}

async fn health_readiness_and_metrics_answer(db: TestDb) {
    let app = TestApp::new(db).await;
    let health = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body, json!({"status": "ok"}));
    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    let metrics = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics.text.contains("http_requests_total") && metrics.text.contains("route=\"/readyz\""),
        "{}",
        metrics.text
    );
}

async fn readiness_fails_when_the_database_is_gone(db: TestDb) {
    let app = TestApp::new(db).await;
    app.db.store.close().await;
    app.call(Method::GET, "/readyz", None, None)
        .await
        .assert_problem(503, "database_unavailable");
}

async fn missing_malformed_and_wrong_tokens_are_401(db: TestDb) {
    let app = TestApp::new(db).await;
    let before = app.db.store.dump().await;
    let body = Some(json!({"name": "X"}));
    let missing = app
        .call(Method::POST, "/api/v1/contractors", None, body.clone())
        .await;
    missing.assert_problem(401, "unauthenticated");
    assert_eq!(missing.headers["www-authenticate"], "Bearer realm=\"mpc\"");
    let basic = app
        .request(
            Request::builder()
                .method(Method::GET)
                .uri("/api/v1/contractors")
                .header("authorization", "Basic YWRtaW46YWRtaW4=")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    basic.assert_problem(401, "unauthenticated");
    let wrong = app
        .call(
            Method::POST,
            "/api/v1/contractors",
            Some("mpc_not_a_real_token"),
            body,
        )
        .await;
    wrong.assert_problem(401, "invalid_token");
    assert_eq!(app.db.store.dump().await, before);
}

async fn bad_bodies_are_4xx_problems_and_change_nothing(db: TestDb) {
    let app = TestApp::with_config(
        db,
        ServerConfig {
            max_body_bytes: 1024,
            ..Default::default()
        },
    )
    .await;
    let before = app.db.store.dump().await;
    let token = app.operator.clone();
    let path = "/api/v1/contractors";

    app.request(raw_post(
        path,
        &token,
        "application/json",
        r#"{"name": "A""#,
    ))
    .await
    .assert_problem(400, "malformed_json");
    app.request(raw_post(path, &token, "application/json", ""))
        .await
        .assert_problem(400, "malformed_json");
    let unknown = app
        .request(raw_post(
            path,
            &token,
            "application/json",
            r#"{"name": "A", "nmae": "B"}"#,
        ))
        .await;
    unknown.assert_problem(422, "unknown_field");
    assert_eq!(unknown.body["errors"][0]["field"], "nmae");
    app.request(raw_post(path, &token, "application/json", r#"{"name": 7}"#))
        .await
        .assert_problem(422, "invalid_body");
    app.request(raw_post(path, &token, "text/plain", r#"{"name": "A"}"#))
        .await
        .assert_problem(415, "unsupported_media_type");
    let big = format!(r#"{{"name": "{}"}}"#, "A".repeat(2048));
    app.request(raw_post(path, &token, "application/json", big))
        .await
        .assert_problem(413, "payload_too_large");
    let blank = app
        .request(raw_post(
            path,
            &token,
            "application/json",
            r#"{"name": "   "}"#,
        ))
        .await;
    blank.assert_problem(422, "invalid_field");
    assert_eq!(blank.body["errors"][0]["field"], "name");
    assert!(blank.body["detail_ja"].is_string());

    assert_eq!(
        app.db.store.dump().await,
        before,
        "refused requests wrote nothing"
    );
}

async fn request_ids_reach_headers_and_problem_bodies(db: TestDb) {
    let app = TestApp::new(db).await;
    let reply = app
        .call(Method::GET, "/api/v1/contractors", None, None)
        .await;
    let id = reply.headers["x-request-id"].to_str().unwrap().to_owned();
    assert!(!id.is_empty());
    assert_eq!(reply.body["request_id"], id.as_str());
    let given = app
        .request(
            Request::builder()
                .uri("/api/v1/nowhere")
                .header("x-request-id", "trace-42")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(given.headers["x-request-id"], "trace-42");
    assert_eq!(given.body["request_id"], "trace-42");
}

async fn unknown_routes_and_methods_are_problems(db: TestDb) {
    let app = TestApp::new(db).await;
    app.call(Method::GET, "/api/v1/nowhere", Some(&app.operator), None)
        .await
        .assert_problem(404, "not_found");
    app.call(
        Method::PUT,
        "/api/v1/contractors",
        Some(&app.operator),
        None,
    )
    .await
    .assert_problem(405, "method_not_allowed");
    app.call(
        Method::GET,
        "/api/v1/contractors?limit=lots",
        Some(&app.operator),
        None,
    )
    .await
    .assert_problem(400, "invalid_paging");
    app.call(
        Method::GET,
        "/api/v1/contractors?colour=red",
        Some(&app.operator),
        None,
    )
    .await
    .assert_problem(400, "invalid_query");
}

async fn thirty_two_concurrent_api_writes_all_succeed(db: TestDb) {
    let app = std::sync::Arc::new(TestApp::new(db).await);
    let mut tasks = Vec::new();
    for i in 0..32 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let token = app.operator.clone();
            app.post(
                "/api/v1/contractors",
                &token,
                json!({"name": format!("契約者{i}")}),
            )
            .await
        }));
    }
    for t in tasks {
        let reply = t.await.unwrap();
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }
    let list = app
        .get("/api/v1/contractors?limit=1000", &app.operator)
        .await;
    assert_eq!(list.body["contractors"].as_array().unwrap().len(), 32);
}

backend_tests!(
    health_readiness_and_metrics_answer,
    readiness_fails_when_the_database_is_gone,
    missing_malformed_and_wrong_tokens_are_401,
    bad_bodies_are_4xx_problems_and_change_nothing,
    request_ids_reach_headers_and_problem_bodies,
    unknown_routes_and_methods_are_problems,
    thirty_two_concurrent_api_writes_all_succeed,
);

#[tokio::test]
async fn openapi_document_is_3_1_and_every_v1_operation_needs_a_token() {
    let doc = serde_json::to_value(mpc_server::openapi()).unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/v1/contractors/{contractor_id}"));
    for (path, item) in paths.iter().filter(|(p, _)| p.starts_with("/api/v1/")) {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["security"].as_array().is_some_and(|s| !s.is_empty()),
                "{method} {path} must declare bearer security"
            );
            let problems = op["responses"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(status, _)| status.starts_with('4'))
                .count();
            assert!(problems > 0, "{method} {path} documents no error response");
        }
    }
    // What OpenAPI 3.1 validators insist on: unique operation ids, a description per response.
    let mut ids = std::collections::HashSet::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default().to_owned();
            assert!(
                ids.insert(id.clone()),
                "operation id {id} of {method} {path} is not unique"
            );
            for (status, response) in op["responses"].as_object().unwrap() {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} has no description"
                );
            }
        }
    }
}

#[tokio::test]
async fn served_openapi_and_docs_work_without_network() {
    let app = TestApp::new(TestDb::new(mpc_storage::Backend::Sqlite).await).await;
    let served = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(
        served.body,
        serde_json::to_value(mpc_server::openapi()).unwrap()
    );

    let redirect = app.call(Method::GET, "/api/docs", None, None).await;
    assert!(redirect.status.is_redirection());
    let page = app.call(Method::GET, "/api/docs/", None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("swagger-ui"), "{}", page.text);
    // Every script and stylesheet the page loads is served by mpc itself.
    for needle in ["src=\"http", "href=\"http", "//cdn", "unpkg", "jsdelivr"] {
        assert!(
            !page.text.contains(needle),
            "docs page loads {needle}: {}",
            page.text
        );
    }
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "swagger-initializer.js",
    ] {
        let reply = app
            .call(Method::GET, &format!("/api/docs/{asset}"), None, None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{asset}");
    }
    let init = app
        .call(Method::GET, "/api/docs/swagger-initializer.js", None, None)
        .await;
    assert!(init.text.contains("/api/openapi.json"), "{}", init.text);
    assert!(
        init.text.contains(r#""validatorUrl": "none""#),
        "{}",
        init.text
    );
}
