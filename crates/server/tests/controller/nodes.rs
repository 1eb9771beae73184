//! Several server nodes on one database: withdrawals in force everywhere within a second, and
//! one request accepted once.

use mpc_storage::backend_tests;
use mpc_storage::testing::TestDb;

use crate::support::*;

async fn withdrawals_are_in_force_here_at_once_and_on_every_node_within_a_second(db: TestDb) {
    let app = TestApp::with_config(db, deployed()).await;
    let other = app.node(&deployed()).await;
    let (lk, lost) = fleet(&app, "株式会社亡失", "SA-W2L", "W2L-LOST").await;
    let (fk, failed) = fleet(&app, "株式会社故障", "SEIL/X4", "X4-FAILED").await;
    let (ck, cancelled) = fleet(&app, "株式会社解約", "SEIL CA10", "CA10-ENDED").await;
    let saved = put_preset(&app, &lost, pppoe_gateway("pppoe-secret-1")).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    // Both nodes serve all three, so each holds them in its cache.
    for serial in ["W2L-LOST", "X4-FAILED", "CA10-ENDED"] {
        let here = fetch(&app, serial, None).await;
        assert_eq!(here.status, StatusCode::OK, "{serial}: {}", here.text);
        let there = fetch_from(&app, &other, serial).await;
        assert_eq!(there.status, StatusCode::OK, "{serial}: {}", there.text);
    }
    assert!(
        fetch_from(&app, &other, "W2L-LOST")
            .await
            .text
            .contains("pppoe-secret-1")
    );

    // R12.3: a loss is in force from the report, before anyone accepts it.
    let report = app.post(&format!("/api/v1/contractors/{lk}/requests"), &app.operator,
        json!({"request": {"kind": "report_loss", "contract_id": lost}, "submitted_on": "2026-02-01"})).await;
    assert_eq!(report.status, StatusCode::CREATED, "{}", report.text);
    assert_eq!(report.body["status"], "pending");
    let refused = fetch(&app, "W2L-LOST", None).await;
    refused.assert_problem(403, "R12.3");
    assert!(!refused.text.contains("pppoe-secret-1"));
    heartbeat(&app, "W2L-LOST", "4.10")
        .await
        .assert_problem(403, "R12.3");
    // R11.1: a replacement takes over; the failed unit stops when the change is answered.
    let r = import(&app, &format!("X4-SPARE,SEIL/X4,{}\n", secret("X4-SPARE"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.post(&format!("/api/v1/contractors/{fk}/requests"), &app.operator,
        json!({"request": {"kind": "report_failure", "contract_id": failed}, "submitted_on": "2026-02-01",
               "accept": {"on": "2026-02-01", "replacement_serial": "X4-SPARE"}})).await;
    fetch(&app, "X4-FAILED", None)
        .await
        .assert_problem(403, "R11.1");
    assert_eq!(fetch(&app, "X4-SPARE", None).await.status, StatusCode::OK);
    // D6: a contract ended by notice (2026-02-01 + 14 days, R13.1) serves no more.
    let ended = app
        .post(
            &format!("/api/v1/contractors/{ck}/requests"),
            &app.operator,
            json!({"request": {"kind": "cancel_contract", "contract_id": cancelled},
               "submitted_on": "2026-02-01", "accept": {"on": "2026-02-01"}}),
        )
        .await;
    assert_eq!(ended.status, StatusCode::CREATED, "{}", ended.text);
    fetch(&app, "CA10-ENDED", None)
        .await
        .assert_problem(403, "D6");

    // The other node, which served all three a moment ago, refuses them within a second.
    a_second_later().await;
    fetch_from(&app, &other, "W2L-LOST")
        .await
        .assert_problem(403, "R12.3");
    fetch_from(&app, &other, "X4-FAILED")
        .await
        .assert_problem(403, "R11.1");
    fetch_from(&app, &other, "CA10-ENDED")
        .await
        .assert_problem(403, "D6");

    // Accepted without a replacement: still lost, and the contract does not claim its
    // device may fetch; a restarted node agrees.
    let id = report.body["id"].as_str().unwrap();
    let accepted = app
        .post(
            &format!("/api/v1/requests/{id}/accept"),
            &app.operator,
            json!({"on": "2026-02-02"}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    let view = app
        .get(&format!("/api/v1/contracts/{lost}"), &app.operator)
        .await;
    assert_eq!(
        view.body["provisioning"]["provisionable"], false,
        "{}",
        view.text
    );
    let restarted = app.node(&deployed()).await;
    fetch_from(&app, &restarted, "W2L-LOST")
        .await
        .assert_problem(403, "R12.3");
    fetch(&app, "W2L-LOST", None)
        .await
        .assert_problem(403, "R12.3");
}

async fn a_request_is_accepted_once_by_any_node_and_only_in_its_documented_form(db: TestDb) {
    let app = TestApp::with_config(db, deployed()).await;
    fleet(&app, "株式会社再送", "SEIL/X4", "X4-REPLAY").await;
    let (serial, key) = ("X4-REPLAY", secret("X4-REPLAY"));
    let (poll, status) = ("/device/v1/config", "/device/v1/status");
    let beat = json!({"firmware": "4.10", "uptime_seconds": 60, "applied_revision": 1}).to_string();

    // Upper-case hex is not the protocol's signature (README: lowercase hex).
    let mut upper = signed_with_nonce(Method::GET, poll, serial, &key, "", now(), "nonce-upper");
    let sig = upper.headers()["x-mpc-signature"]
        .to_str()
        .unwrap()
        .to_ascii_uppercase();
    upper
        .headers_mut()
        .insert("x-mpc-signature", sig.parse().unwrap());
    app.request(upper)
        .await
        .assert_problem(401, "unauthenticated");

    // A nonce used again with a new signature (another path) is a replay.
    let at = now();
    let first = app
        .request(signed_with_nonce(
            Method::GET,
            poll,
            serial,
            &key,
            "",
            at,
            "nonce-reused",
        ))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    app.request(signed_with_nonce(
        Method::POST,
        status,
        serial,
        &key,
        &beat,
        at,
        "nonce-reused",
    ))
    .await
    .assert_problem(401, "replayed");

    if app.db.store.backend() != mpc_storage::Backend::Postgres {
        return; // one node per SQLite database
    }
    // Several nodes on one PostgreSQL database: what one accepted, every other refuses.
    let other = app.node(&deployed()).await;
    let accepted = app
        .request(signed_with_nonce(
            Method::GET,
            poll,
            serial,
            &key,
            "",
            at,
            "nonce-node-1",
        ))
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    app.request_to(
        &other,
        signed_with_nonce(Method::GET, poll, serial, &key, "", at, "nonce-node-1"),
    )
    .await
    .assert_problem(401, "replayed");
    let beat_once = app
        .request(signed_with_nonce(
            Method::POST,
            status,
            serial,
            &key,
            &beat,
            at,
            "nonce-beat-1",
        ))
        .await;
    assert_eq!(
        beat_once.status,
        StatusCode::NO_CONTENT,
        "{}",
        beat_once.text
    );
    app.request_to(
        &other,
        signed_with_nonce(
            Method::POST,
            status,
            serial,
            &key,
            &beat,
            at,
            "nonce-beat-1",
        ),
    )
    .await
    .assert_problem(401, "replayed");

    // The same request sent to both nodes at once, eight times each: exactly one 200.
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..16 {
        let req = signed_with_nonce(Method::GET, poll, serial, &key, "", at, "nonce-raced");
        let router = if i % 2 == 0 {
            app.router.clone()
        } else {
            other.router.clone()
        };
        sends.spawn(async move {
            common::reply(tower::ServiceExt::oneshot(router, req).await.unwrap()).await
        });
    }
    let replies = sends.join_all().await;
    let ok = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        replies
            .iter()
            .map(|r| (r.status, r.code().to_owned()))
            .collect::<Vec<_>>()
    );
    assert!(
        replies
            .iter()
            .all(|r| r.status == StatusCode::OK || r.code() == "replayed")
    );
}

backend_tests!(
    withdrawals_are_in_force_here_at_once_and_on_every_node_within_a_second,
    a_request_is_accepted_once_by_any_node_and_only_in_its_documented_form,
);
