//! Devices in custody: serials, returns, loss and found (R10–R12), failures replaced on site
//! (R11).

use crate::support::*;

async fn custody_serial_return_deadline_loss_and_found(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = new_contractor(&app, "株式会社機器").await;
    let (m, a) = app.eligible_setup(&k, "SEIL CA10", "2026-04-01").await;
    // No serial notified: not provisionable, and the contract says why (R7.1).
    let c = contract(&app, &a, "2026-04-02").await;
    assert_eq!(c["provisioning"]["provisionable"], false);
    assert_eq!(c["provisioning"]["code"], "R7.1");
    app.accepted(
        &k,
        json!({"kind": "notify_serial", "contract_id": a, "serial": "CA10-0001"}),
        "2026-04-02",
    )
    .await;
    assert_eq!(
        contract(&app, &a, "2026-04-02").await["provisioning"]["provisionable"],
        true
    );

    // Cancel: arrival 2026-05-01 + 14 = 2026-05-15; the device is due back by
    // 05-15 + 30 = 06-14 (D4).
    app.accepted(
        &k,
        json!({"kind": "cancel_contract", "contract_id": a}),
        "2026-05-01",
    )
    .await;
    let d = app
        .get("/api/v1/devices/CA10-0001?as_of=2026-06-14", &app.operator)
        .await;
    assert_eq!(d.body["return_due"], "2026-06-14");
    assert_eq!(d.body["state"], "awaiting_return");
    assert_eq!(d.body["overdue"], false);
    // A sweep on the deadline day changes nothing; the day after, the device is lost.
    let none = app
        .post(
            "/api/v1/devices/overdue-returns/sweep",
            &app.operator,
            json!({"on": "2026-06-14"}),
        )
        .await;
    assert_eq!(none.body["effects"], json!([]));
    let swept = app
        .post(
            "/api/v1/devices/overdue-returns/sweep",
            &app.operator,
            json!({"on": "2026-06-15"}),
        )
        .await;
    assert_eq!(swept.body["effects"][0]["effect"], "device_lost");
    let d = app
        .get("/api/v1/devices/CA10-0001?as_of=2026-06-15", &app.operator)
        .await;
    assert_eq!(d.body["state"], "lost");
    let charges = app
        .get(&format!("/api/v1/contracts/{a}/charges"), &app.operator)
        .await;
    assert_eq!(charges.body["charges"][0]["kind"], "loss");
    assert_eq!(charges.body["charges"][0]["rule"], "R12.2");
    assert_eq!(charges.body["charges"][0]["occurred_on"], "2026-06-15");

    // It comes back later: found, and never put in service again (R12.3).
    let back = app
        .post(
            "/api/v1/devices/CA10-0001/return",
            &app.operator,
            json!({"on": "2026-07-01"}),
        )
        .await;
    assert_eq!(back.body["effects"][0]["effect"], "device_found");
    let a2 = created(
        &app.accepted(
            &k,
            json!({
                "kind": "apply_contract",
                "contract_kind": "service_adapter",
                "item": "pppoe_termination",
                "device_type": "SEIL CA10",
                "management_id": m,
            }),
            "2026-07-02",
        )
        .await,
        "contract_created",
    )[0]
    .clone();
    refused(
        &app,
        &k,
        json!({"kind": "notify_serial", "contract_id": a2, "serial": "CA10-0001"}),
        "2026-07-03",
        "R12.3",
    )
    .await;
}

async fn r11_failure_report_replacement_on_site_and_return_of_the_failed_unit(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = new_contractor(&app, "株式会社故障").await;
    let (_, a) = app.eligible_setup(&k, "SEIL/X4", "2026-04-01").await;
    app.accepted(
        &k,
        json!({"kind": "notify_serial", "contract_id": a, "serial": "X4-OLD"}),
        "2026-04-02",
    )
    .await;
    // The failure is reported on 2026-06-01; the operator ships a replacement two days later.
    let report = app.post(&format!("/api/v1/contractors/{k}/requests"), &app.operator,
        json!({
            "request": {"kind": "report_failure", "contract_id": a, "description": "LED が赤点滅"},
            "submitted_on": "2026-06-01",
        })).await;
    assert_eq!(report.status, StatusCode::CREATED, "{}", report.text);
    let id = report.body["id"].as_str().unwrap();
    let accepted = app
        .post(
            &format!("/api/v1/requests/{id}/accept"),
            &app.operator,
            json!({
                "on": "2026-06-01",
                "replacement_serial": "X4-NEW",
                "replaced_on": "2026-06-03",
                "contractor_caused": true,
            }),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    // The contract has ultra_sendback: staff bring the replacement on site (R11.1, R9.2).
    assert_eq!(accepted.body["decision"]["delivery"], "on_site");
    assert_eq!(contract(&app, &a, "2026-06-02").await["serial"], "X4-OLD");
    assert_eq!(contract(&app, &a, "2026-06-03").await["serial"], "X4-NEW");
    let charges = app
        .get(&format!("/api/v1/contracts/{a}/charges"), &app.operator)
        .await;
    assert_eq!(
        charges.body["charges"][0]["kind"],
        "contractor_caused_failure"
    );
    assert_eq!(charges.body["charges"][0]["rule"], "R11.2");
    // The failed unit is tracked until it comes back.
    let waiting = app
        .get(
            "/api/v1/devices/awaiting-return?as_of=2026-06-10",
            &app.operator,
        )
        .await;
    assert_eq!(
        waiting.body["devices"][0]["serial"], "X4-OLD",
        "{}",
        waiting.text
    );
    app.post(
        "/api/v1/devices/X4-OLD/return",
        &app.operator,
        json!({"on": "2026-06-12"}),
    )
    .await;
    let waiting = app
        .get(
            "/api/v1/devices/awaiting-return?as_of=2026-06-12",
            &app.operator,
        )
        .await;
    assert_eq!(waiting.body["devices"], json!([]));
}

backend_tests!(
    custody_serial_return_deadline_loss_and_found,
    r11_failure_report_replacement_on_site_and_return_of_the_failed_unit,
);
