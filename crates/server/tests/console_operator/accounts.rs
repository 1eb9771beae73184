//! Contractors and their users made from the operator's pages, and the device inventory.

use crate::support::*;

async fn contractors_and_their_users_are_made_from_the_pages(db: TestDb) {
    let app = TestApp::new(db).await;
    let op = sign_in(&app, "admin", false).await;
    let csrf = op.csrf().await;
    let blank = op
        .post("/console/contractors", &[("csrf", &csrf), ("name", "  ")])
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        blank.text.contains(r#"id="new-name-error""#),
        "{}",
        blank.text
    );
    let made = op
        .post(
            "/console/contractors",
            &[("csrf", &csrf), ("name", "株式会社新規")],
        )
        .await;
    let to = see_other(&made);
    let id = to.trim_start_matches("/console/contractors/").to_owned();
    assert_eq!(
        app.get(&format!("/api/v1/contractors/{id}"), &app.operator)
            .await
            .body["name"],
        "株式会社新規"
    );

    let bad = op
        .post(
            &format!("{to}/users"),
            &[("csrf", &csrf), ("username", "Not Valid")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains(r#"id="user-name-error""#));
    let user = op
        .post(
            &format!("{to}/users"),
            &[
                ("csrf", &csrf),
                ("username", "suzuki"),
                ("display_name", "鈴木"),
            ],
        )
        .await;
    assert_eq!(user.status, StatusCode::OK, "{}", user.text);
    assert_eq!(user.headers["cache-control"], "no-store");
    let start = user
        .text
        .find(JA.op_password_once)
        .expect("the password, once")
        + JA.op_password_once.len();
    let password = user.text[start..]
        .trim_start_matches(" <code>")
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(password.len(), 20, "{password}");
    // The password works, as a temporary one (the user sets their own first), and is not
    // shown again.
    let suzuki = sign_in_with(&app, "suzuki", &password, false).await;
    assert_eq!(
        see_other(&suzuki.get("/console/sla").await),
        "/console/password?next=/console/sla"
    );
    assert!(!op.page(&to).await.contains(&password));
    let journal = app
        .get(
            &format!("/api/v1/journal?operation=user.password&contractor_id={id}"),
            &app.operator,
        )
        .await;
    assert_eq!(
        journal.body["entries"].as_array().map(Vec::len),
        Some(1),
        "{}",
        journal.text
    );
    // Searching by name finds it.
    assert!(
        op.page("/console/contractors?name=%E6%96%B0%E8%A6%8F")
            .await
            .contains(&to)
    );
}

async fn inventory_imports_name_refused_lines_and_devices_and_returns_show(db: TestDb) {
    let app = TestApp::new(db).await;
    let op = sign_in(&app, "admin", false).await;
    let csrf = op.csrf().await;
    let refused = op.post("/console/inventory", &[
        ("csrf", &csrf),
        ("csv", "X4-0009,SEIL/X4,factory-secret-x4-0009\nBAD-1,Router9000,factory-secret-bad-1\n"),
    ]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text.contains(JA.op_refused_lines)
            && refused.text.contains("<td class=\"num\">2</td>"),
        "{}",
        refused.text
    );
    let fleet = app.get("/api/v1/devices/monitoring", &app.operator).await;
    assert_eq!(
        fleet.body["devices"].as_array().map(Vec::len),
        Some(0),
        "all or nothing"
    );
    let imported = op
        .post("/console/inventory", &[("csrf", &csrf), ("csv", INVENTORY)])
        .await;
    assert_eq!(see_other(&imported), "/console/inventory?imported=2");
    let page = op.page("/console/inventory?imported=2").await;
    assert!(page.contains(JA.op_inventory_imported));
    // A device sent back after its contract ended waits in the queue; recording the
    // return takes it out.
    let k = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": "株式会社返却"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, adapter) = app.eligible_setup(&k, "SEIL/X4", "2026-04-01").await;
    app.accepted(
        &k,
        json!({"kind": "notify_serial", "contract_id": adapter, "serial": "X4-0001"}),
        "2026-04-02",
    )
    .await;
    app.accepted(
        &k,
        json!({"kind": "cancel_contract", "contract_id": adapter}),
        "2026-05-01",
    )
    .await;
    let queue = op.page("/console/queue").await;
    assert!(
        queue.contains("/console/queue/devices/X4-0001/return"),
        "{queue}"
    );
    let returned = op
        .post(
            "/console/queue/devices/X4-0001/return",
            &[("csrf", &csrf), ("on", "2026-05-20"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(see_other(&returned), "/console/queue?done=returned#returns");
    let device = app.get("/api/v1/devices/X4-0001", &app.operator).await;
    assert_eq!(device.body["returned_on"], "2026-05-20", "{}", device.text);
    assert!(
        !op.page("/console/queue")
            .await
            .contains("/console/queue/devices/X4-0001/return")
    );
}

backend_tests!(
    contractors_and_their_users_are_made_from_the_pages,
    inventory_imports_name_refused_lines_and_devices_and_returns_show,
);
