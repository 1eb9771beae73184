//! The request queue: accepting and rejecting, and devices waiting for preset parameters.

use crate::support::*;

async fn accepting_and_rejecting_from_the_queue(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": "株式会社キュー"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = pending_request(&app, &k).await;
    let second = pending_request(&app, &k).await;
    let op = sign_in(&app, "admin", false).await;
    let queue = op.page("/console/queue").await;
    assert!(queue.contains(&format!("/console/queue/requests/{first}")));
    let csrf = token_in(&queue);

    // Without the confirmation box nothing happens, and the form says why.
    let unconfirmed = op
        .post(
            &format!("/console/queue/requests/{first}/accept"),
            &[("csrf", &csrf), ("on", "2026-09-03")],
        )
        .await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unconfirmed.text.contains(JA.op_confirm_required)
            && unconfirmed.text.contains(r#"aria-invalid="true""#)
    );
    let still = app
        .get(&format!("/api/v1/requests/{first}"), &app.operator)
        .await;
    assert_eq!(still.body["status"], "pending");

    // A date before the submission is the rule's refusal, with its id.
    let early = op
        .post(
            &format!("/console/queue/requests/{first}/accept"),
            &[("csrf", &csrf), ("on", "2026-08-01"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(
        early.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        early.text
    );
    assert!(
        early
            .text
            .contains("2026-08-01 は 2026-09-01 より前の日付です"),
        "{}",
        early.text
    );

    let accepted = op
        .post(
            &format!("/console/queue/requests/{first}/accept"),
            &[("csrf", &csrf), ("on", "2026-09-03"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(see_other(&accepted), "/console/queue?done=accepted");
    let view = app
        .get(&format!("/api/v1/requests/{first}"), &app.operator)
        .await;
    assert_eq!(
        (
            view.body["status"].as_str(),
            view.body["decided_on"].as_str()
        ),
        (Some("accepted"), Some("2026-09-03"))
    );
    assert_eq!(created(&view.body, "contract_created").len(), 1);
    assert!(
        op.page("/console/queue?done=accepted")
            .await
            .contains(JA.op_done_accepted)
    );

    // Rejecting needs a reason.
    let blank = op
        .post(
            &format!("/console/queue/requests/{second}/reject"),
            &[("csrf", &csrf), ("reason", " "), ("confirm", "yes")],
        )
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        blank.text.contains(r#"id="reject-reason-error""#),
        "{}",
        blank.text
    );
    let rejected = op
        .post(
            &format!("/console/queue/requests/{second}/reject"),
            &[
                ("csrf", &csrf),
                ("reason", "書類の不備"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(see_other(&rejected), "/console/queue?done=rejected");
    let view = app
        .get(&format!("/api/v1/requests/{second}"), &app.operator)
        .await;
    assert_eq!(view.body["status"], "rejected");

    // A paper notice of cancellation, recorded and accepted as of its arrival.
    let management = created(
        &app.get(&format!("/api/v1/requests/{first}"), &app.operator)
            .await
            .body,
        "contract_created",
    )[0]
    .clone();
    let notice = op
        .post(
            "/console/queue/notice",
            &[
                ("csrf", &csrf),
                ("contractor_id", &k),
                ("kind", "cancel_contract"),
                ("target", &management),
                ("submitted_on", "2026-10-01"),
                ("arrived_on", "2026-10-02"),
                ("accept", "yes"),
                ("confirm", "yes"),
            ],
        )
        .await;
    let to = see_other(&notice);
    let id = to.trim_start_matches("/console/queue/requests/");
    let view = app
        .get(&format!("/api/v1/requests/{id}"), &app.operator)
        .await;
    assert_eq!(
        (
            view.body["status"].as_str(),
            view.body["decided_on"].as_str()
        ),
        (Some("accepted"), Some("2026-10-02")),
        "{}",
        view.text
    );
    let contract = app
        .get(&format!("/api/v1/contracts/{management}"), &app.operator)
        .await;
    // R13.1: the notice arrived 2026-10-02; the contract ends 14 days later at the earliest.
    assert_eq!(
        contract.body["ending"]["on"], "2026-10-16",
        "{}",
        contract.text
    );
    let unknown = op
        .post(
            "/console/queue/notice",
            &[
                ("csrf", &csrf),
                ("contractor_id", &k),
                ("kind", "cancel_contract"),
                ("target", "no-such-contract"),
                ("submitted_on", "2026-10-01"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.text.contains(JA.op_no_such_target));
}

async fn the_queue_names_devices_waiting_for_preset_parameters(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": "株式会社待機"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, a) = app.eligible_setup(&k, "SEIL/X4", "2026-01-05").await;
    let csv = "X4-WAIT-0001,SEIL/X4,factory-secret-x4-wait-0001\n";
    let imported = app
        .request(
            Request::post("/api/v1/devices/inventory")
                .header("authorization", format!("Bearer {}", app.operator))
                .header("content-type", "text/csv")
                .body(Body::from(csv))
                .unwrap(),
        )
        .await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.text);
    let notify = json!({"kind": "notify_serial", "contract_id": a, "serial": "X4-WAIT-0001"});
    app.accepted(&k, notify, "2026-01-05").await;
    let op = sign_in(&app, "admin", false).await;
    // An internet gateway runs on its defaults: nothing waits.
    let queue = op.page("/console/queue").await;
    assert!(queue.contains(JA.op_awaiting_parameters), "{queue}");
    assert!(!queue.contains("X4-WAIT-0001"), "{queue}");

    // R8.1: remote access carries the WAN and LAN but needs a pre-shared key and users
    // nobody has set, so the device waits for them (R17.1).
    let change = json!({"kind": "change_item", "contract_id": a, "item": "remote_access"});
    app.accepted(&k, change, "2026-03-01").await;
    let queue = op.page("/console/queue").await;
    let row = &queue[queue.find(r#"id="parameters""#).unwrap()..];
    let row = &row[..row.find("</section>").unwrap()];
    assert!(
        row.contains("株式会社待機") && row.contains("X4-WAIT-0001"),
        "{row}"
    );
    assert!(
        row.contains(&format!("/console/contracts/{a}/preset")),
        "{row}"
    );
    assert!(
        row.contains(mpc_domain::catalog::Item::RemoteAccess.label_ja()),
        "{row}"
    );
    assert!(row.contains("<code>R17.1</code>"), "{row}");
    assert!(row.contains("<code>l2tp.pre_shared_key</code>"), "{row}");
    // The contract view names the same parameters.
    let view = app
        .get(&format!("/api/v1/contracts/{a}"), &app.operator)
        .await;
    assert_eq!(view.body["provisioning"]["code"], "R17.1", "{}", view.text);

    // Once the parameters are set, the device no longer waits.
    let params = json!({"preset": "remote_access",
        "wan": {"type": "dhcp"},
        "lan": {"address": "10.20.0.1", "prefix_len": 24,
                "dhcp_pool": {"start": "10.20.0.100", "end": "10.20.0.150"}},
        "dns_forwarder": true, "ntp_server": "ntp.nict.jp", "napt": true,
        "l2tp": {"pre_shared_key": "psk-secret",
                 "users": [{"name": "alice", "password": "alice-pass"}],
                 "pool": {"start": "192.168.128.1", "end": "192.168.128.20"},
                 "tunnel_address": "192.168.127.1", "max_sessions": 10}});
    let path = format!("/api/v1/contracts/{a}/preset");
    let saved = app
        .call(Method::PUT, &path, Some(&app.operator), Some(params))
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    let queue = op.page("/console/queue").await;
    assert!(!queue.contains("X4-WAIT-0001"), "{queue}");
}

backend_tests!(
    accepting_and_rejecting_from_the_queue,
    the_queue_names_devices_waiting_for_preset_parameters,
);
