//! Forms that name a device or a contract offer what may be chosen, and name a typed value
//! that is not one of them at its field.

use crate::support::*;

/// The values the datalist `id` of `html` offers, in order.
fn offered(html: &str, id: &str) -> Vec<String> {
    let open = format!(r#"<datalist id="{id}">"#);
    let start = html
        .find(&open)
        .unwrap_or_else(|| panic!("no {id}: {html}"))
        + open.len();
    let list = &html[start..];
    let list = &list[..list.find("</datalist>").unwrap()];
    list.split(r#"<option value=""#)
        .skip(1)
        .map(|o| o[..o.find('"').unwrap()].to_owned())
        .collect()
}

async fn contractor(app: &TestApp, name: &str) -> String {
    let k = app
        .post("/api/v1/contractors", &app.operator, json!({"name": name}))
        .await;
    assert_eq!(k.status, StatusCode::CREATED, "{}", k.text);
    k.body["id"].as_str().unwrap().to_owned()
}

async fn import(app: &TestApp, csv: &str) {
    let imported = app
        .request(
            Request::post("/api/v1/devices/inventory")
                .header("authorization", format!("Bearer {}", app.operator))
                .header("content-type", "text/csv")
                .body(Body::from(csv.to_owned()))
                .unwrap(),
        )
        .await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.text);
}

async fn state_of(app: &TestApp, serial: &str) -> String {
    let d = app
        .get(&format!("/api/v1/devices/{serial}"), &app.operator)
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    d.body["state"].as_str().unwrap().to_owned()
}

/// Submits `request` for `contractor` on `on`, leaving it pending; returns its id.
async fn pending(app: &TestApp, contractor: &str, request: serde_json::Value, on: &str) -> String {
    let r = app
        .post(
            &format!("/api/v1/contractors/{contractor}/requests"),
            &app.operator,
            json!({"request": request, "submitted_on": on}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn the_found_form_offers_the_lost_devices_only(db: TestDb) {
    let app = TestApp::new(db).await;
    // One contractor loses its device; another keeps one in service and has one awaiting
    // return after a failure.
    let loser = contractor(&app, "株式会社亡失").await;
    let (_, a) = app.eligible_setup(&loser, "SEIL/X4", "2026-09-01").await;
    let notify = json!({"kind": "notify_serial", "contract_id": a, "serial": "X4-LOST-1"});
    app.accepted(&loser, notify, "2026-09-01").await;
    app.accepted(
        &loser,
        json!({"kind": "report_loss", "contract_id": a}),
        "2026-10-01",
    )
    .await;
    let keeper = contractor(&app, "株式会社保管").await;
    let (_, b) = app.eligible_setup(&keeper, "SEIL/X4", "2026-09-01").await;
    let notify = json!({"kind": "notify_serial", "contract_id": b, "serial": "X4-FAILED-1"});
    app.accepted(&keeper, notify, "2026-09-01").await;
    let failure = pending(
        &app,
        &keeper,
        json!({"kind": "report_failure", "contract_id": b}),
        "2026-10-01",
    )
    .await;
    let replaced = app
        .post(
            &format!("/api/v1/requests/{failure}/accept"),
            &app.operator,
            json!({"on": "2026-10-01", "replacement_serial": "X4-SERVING-1", "replaced_on": "2026-10-02"}),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    assert_eq!(state_of(&app, "X4-LOST-1").await, "lost");
    assert_eq!(state_of(&app, "X4-FAILED-1").await, "awaiting_return");
    assert_eq!(state_of(&app, "X4-SERVING-1").await, "in_service");

    let op = sign_in(&app, "admin", false).await;
    let queue = op.page("/console/queue").await;
    // R12.3: only a lost device may be found.
    assert_eq!(offered(&queue, "found-serials"), ["X4-LOST-1"]);
    assert!(queue.contains(r#"list="found-serials""#), "{queue}");
    let csrf = token_in(&queue);

    // A device that is not lost is named at the field, and stays as it was.
    for serial in ["X4-FAILED-1", "X4-SERVING-1", "NO-SUCH-1"] {
        let refused = op
            .post(
                "/console/queue/devices/found",
                &[
                    ("csrf", &csrf),
                    ("serial", serial),
                    ("on", "2026-12-01"),
                    ("confirm", "yes"),
                ],
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text
        );
        assert!(
            refused.text.contains(r#"id="found-serial-error""#)
                && refused.text.contains(JA.op_found_not_lost),
            "{}",
            refused.text
        );
    }
    assert_eq!(state_of(&app, "X4-FAILED-1").await, "awaiting_return");
    assert_eq!(state_of(&app, "X4-SERVING-1").await, "in_service");

    // The lost one, typed in another case, is found; it is offered no more.
    let found = op
        .post(
            "/console/queue/devices/found",
            &[
                ("csrf", &csrf),
                ("serial", "x4-lost-1"),
                ("on", "2026-12-01"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(see_other(&found), "/console/queue?done=found#returns");
    assert_eq!(state_of(&app, "X4-LOST-1").await, "found");
    let queue = op.page("/console/queue").await;
    assert!(offered(&queue, "found-serials").is_empty(), "{queue}");
}

async fn the_replacement_serial_offers_units_at_hand_of_the_contract_model(db: TestDb) {
    let app = TestApp::new(db).await;
    import(
        &app,
        "X4-OLD-1,SEIL/X4,factory-secret-x4-old-0001\n\
         X4-NEXT-1,SEIL/X4,factory-secret-x4-next-001\n\
         X4-SPARE-1,SEIL/X4,factory-secret-x4-spare-01\n\
         W2L-SPARE-1,SA-W2L,factory-secret-w2l-spare-1\n",
    )
    .await;
    let k = contractor(&app, "株式会社交換").await;
    let (_, a) = app.eligible_setup(&k, "SEIL/X4", "2026-09-01").await;
    let notify = json!({"kind": "notify_serial", "contract_id": a, "serial": "X4-OLD-1"});
    app.accepted(&k, notify, "2026-09-01").await;
    // A first failure: X4-NEXT-1 takes over, X4-OLD-1 comes back.
    let first = pending(
        &app,
        &k,
        json!({"kind": "report_failure", "contract_id": a}),
        "2026-10-01",
    )
    .await;
    let replaced = app
        .post(
            &format!("/api/v1/requests/{first}/accept"),
            &app.operator,
            json!({"on": "2026-10-01", "replacement_serial": "X4-NEXT-1", "replaced_on": "2026-10-02"}),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    let back = app
        .post(
            "/api/v1/devices/X4-OLD-1/return",
            &app.operator,
            json!({"on": "2026-10-10"}),
        )
        .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text);
    assert_eq!(state_of(&app, "X4-OLD-1").await, "returned");

    // A second failure: the units at hand of its model are offered — the one back and the
    // one never used — not the one serving nor another model's.
    let second = pending(
        &app,
        &k,
        json!({"kind": "report_failure", "contract_id": a}),
        "2026-11-01",
    )
    .await;
    let op = sign_in(&app, "admin", false).await;
    let path = format!("/console/queue/requests/{second}");
    let page = op.page(&path).await;
    assert_eq!(offered(&page, "accept-spares"), ["X4-OLD-1", "X4-SPARE-1"]);
    assert!(page.contains(r#"list="accept-spares""#), "{page}");
    let csrf = token_in(&page);

    let accept = |serial: &'static str| {
        let (op, path, csrf) = (&op, &path, &csrf);
        async move {
            op.post(
                &format!("{path}/accept"),
                &[
                    ("csrf", csrf),
                    ("on", "2026-11-01"),
                    ("replacement_serial", serial),
                    ("replaced_on", "2026-11-02"),
                    ("confirm", "yes"),
                ],
            )
            .await
        }
    };
    // R11.1: another model, the unit serving, or a serial the inventory does not know is
    // named at the field; the request stays pending.
    for serial in ["W2L-SPARE-1", "X4-NEXT-1", "X4-NOWHERE-1"] {
        let refused = accept(serial).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text
        );
        assert!(
            refused.text.contains(r#"id="accept-serial-error""#)
                && refused.text.contains(JA.op_replacement_not_spare),
            "{serial}: {}",
            refused.text
        );
    }
    let view = app
        .get(&format!("/api/v1/requests/{second}"), &app.operator)
        .await;
    assert_eq!(view.body["status"], "pending", "{}", view.text);

    // A unit offered, typed in another case, takes over as the inventory writes it.
    let accepted = accept("x4-spare-1").await;
    assert_eq!(see_other(&accepted), format!("{path}?done=accepted"));
    assert_eq!(state_of(&app, "X4-SPARE-1").await, "in_service");
    assert_eq!(state_of(&app, "X4-NEXT-1").await, "awaiting_return");
}

async fn the_notice_form_offers_what_a_notice_may_name(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = contractor(&app, "株式会社届出").await;
    let (m, a) = app.eligible_setup(&k, "SEIL/X4", "2026-09-01").await;
    // The adapter (and its send-back option with it, R13.3) ended on 2026-10-31.
    app.accepted(
        &k,
        json!({"kind": "cancel_contract", "contract_id": a, "requested_on": "2026-10-31"}),
        "2026-10-01",
    )
    .await;
    let other = contractor(&app, "株式会社他社").await;
    let (theirs, _) = app.eligible_setup(&other, "SEIL/X4", "2026-09-01").await;
    let number = |id: String| {
        let app = &app;
        async move {
            let c = app
                .get(&format!("/api/v1/contracts/{id}"), &app.operator)
                .await;
            assert_eq!(c.status, StatusCode::OK, "{}", c.text);
            (c.body["number"].as_str().unwrap().to_owned(), c.body)
        }
    };
    let (mn, _) = number(m.clone()).await;
    let (an, adapter) = number(a.clone()).await;
    assert_eq!(adapter["status"], "ended", "{adapter}");

    let op = sign_in(&app, "admin", false).await;
    let form = op
        .page(&format!("/console/queue/notice?contractor_id={k}"))
        .await;
    // Only the management that has not ended, by its number: not the ended adapter nor its
    // option, nor another contractor's contract.
    assert_eq!(offered(&form, "notice-targets"), [mn.as_str()]);
    let csrf = token_in(&form);

    let notice = |kind: &'static str, target: String| {
        let (op, csrf, k) = (&op, &csrf, &k);
        async move {
            op.post(
                "/console/queue/notice",
                &[
                    ("csrf", csrf),
                    ("contractor_id", k),
                    ("kind", kind),
                    ("target", &target),
                    ("submitted_on", "2026-12-01"),
                    ("confirm", "yes"),
                ],
            )
            .await
        }
    };
    let requests = || async {
        app.get(&format!("/api/v1/contractors/{k}/requests"), &app.operator)
            .await
            .body["requests"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let before = requests().await;
    for (kind, target) in [
        ("cancel_contract", an.clone()),
        ("cancel_contract", a.clone()),
        ("cancel_contract", theirs.clone()),
        ("stop_option", mn.clone()),
    ] {
        let refused = notice(kind, target.clone()).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{kind} {target}: {}",
            refused.text
        );
        assert!(
            refused.text.contains(r#"id="notice-target-error""#)
                && refused.text.contains(JA.op_no_such_target),
            "{kind} {target}: {}",
            refused.text
        );
    }
    assert_eq!(requests().await, before, "nothing recorded");

    // The management, by its number, is recorded.
    let recorded = notice("cancel_contract", mn.clone()).await;
    assert!(
        see_other(&recorded).starts_with("/console/queue/requests/"),
        "{}",
        recorded.text
    );
    assert_eq!(requests().await, before + 1);
}

async fn contractor_filters_name_a_value_that_is_no_contractor(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = contractor(&app, "株式会社絞込").await;
    let op = sign_in(&app, "admin", false).await;
    for (path, field) in [
        ("/console/journal", "j-contractor"),
        ("/console/fleet", "f-contractor"),
    ] {
        // The contractors are offered by id and name.
        let page = op.page(&format!("{path}?contractor_id={k}")).await;
        let list = format!("{field}-list");
        assert_eq!(offered(&page, &list), [k.as_str()]);
        assert!(!page.contains(&format!(r#"id="{field}-error""#)), "{page}");
        // A value that is none of them is named beside the field.
        let page = op
            .page(&format!("{path}?contractor_id=no-such-contractor"))
            .await;
        assert!(
            page.contains(&format!(r#"aria-describedby="{field}-error""#))
                && page.contains(&format!(r#"id="{field}-error""#))
                && page.contains(JA.op_no_such_contractor),
            "{path}: {page}"
        );
    }
    // The fleet's table, which htmx swaps in alone as the filters change, says it too.
    let table = op
        .send(
            op.request(
                Method::GET,
                "/console/fleet?contractor_id=no-such-contractor",
            )
            .header("hx-request", "true")
            .header("hx-target", "fleet-table")
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(table.status, StatusCode::OK, "{}", table.text);
    assert!(
        table
            .text
            .trim_start()
            .starts_with(r#"<div id="fleet-table""#)
            && table.text.contains(JA.op_no_such_contractor),
        "{}",
        table.text
    );
}

backend_tests!(
    the_found_form_offers_the_lost_devices_only,
    the_replacement_serial_offers_units_at_hand_of_the_contract_model,
    the_notice_form_offers_what_a_notice_may_name,
    contractor_filters_name_a_value_that_is_no_contractor,
);
