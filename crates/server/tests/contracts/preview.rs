//! The acceptance preview: what accepting a pending request on a date would do, computed by
//! the decision acceptance runs, agrees with what acceptance then records, and writes nothing.

use crate::support::*;

/// Submits `request` for `contractor` as the operator on `on`, pending; returns its id.
async fn pending(app: &TestApp, contractor: &str, request: Value, on: &str) -> String {
    let reply = app
        .post(
            &format!("/api/v1/contractors/{contractor}/requests"),
            &app.operator,
            json!({"request": request, "submitted_on": on}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body["id"].as_str().unwrap().to_owned()
}

/// The preview of `request` on `on`: it must write nothing.
async fn preview(app: &TestApp, request: &str, on: &str) -> Value {
    let before = app.db.store.dump().await;
    let reply = app
        .get(
            &format!("/api/v1/requests/{request}/preview?on={on}"),
            &app.operator,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        app.db.store.dump().await,
        before,
        "a preview writes nothing"
    );
    assert_eq!(reply.body["on"], on);
    reply.body
}

async fn accept(app: &TestApp, request: &str, on: &str) -> Value {
    let reply = app
        .post(
            &format!("/api/v1/requests/{request}/accept"),
            &app.operator,
            json!({"on": on}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.body
}

/// A decision with the ids it made (contracts, options, groups, charges) numbered in order of
/// appearance, since a preview's fresh ids are not the ones acceptance then makes.
fn without_new_ids(decision: &Value) -> Value {
    let mut text = decision.to_string();
    let new: Vec<String> = decision["effects"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| {
            [
                "contract_created",
                "option_created",
                "group_created",
                "charge",
            ]
            .contains(&e["effect"].as_str().unwrap_or(""))
        })
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect();
    for (i, id) in new.iter().enumerate() {
        text = text.replace(id, &format!("new-{i}"));
    }
    serde_json::from_str(&text).unwrap()
}

/// Previews on `on`, accepts on `on`, and asserts the preview's decision is the recorded one;
/// returns it.
async fn agrees(app: &TestApp, request: &str, on: &str) -> Value {
    let shown = preview(app, request, on).await;
    let done = accept(app, request, on).await;
    assert_eq!(
        without_new_ids(&shown["decision"]),
        without_new_ids(&done["decision"]),
        "the preview shows what acceptance records"
    );
    let read = app
        .get(&format!("/api/v1/requests/{request}"), &app.operator)
        .await;
    assert_eq!(read.body["decision"], done["decision"]);
    done["decision"].clone()
}

/// (kind, from, to, yen) of each charge line.
fn charges(decision: &Value) -> Vec<(String, String, String, i64)> {
    decision["charges"]
        .as_array()
        .expect("charges")
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap().to_owned(),
                l["period_from"].as_str().unwrap().to_owned(),
                l["period_to"].as_str().unwrap().to_owned(),
                l["amount"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn line(kind: &str, from: &str, to: &str, yen: i64) -> (String, String, String, i64) {
    (kind.into(), from.into(), to.into(), yen)
}

async fn the_preview_of_an_acceptance_is_what_acceptance_records(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    // An internet_gateway SEIL/X4 (¥3,000/month) with send-back (¥1,500/month), billed from
    // 2026-09-15: its minimum period ends 2027-09-14 (D2), send-back's 2026-10-14 (R9.8).
    let (k, _, a) = app.billed_customer("株式会社下見").await;

    // An item change to remote_access (SEIL/X4: ¥4,000/month) accepted 2026-12-10 (R8.1).
    let change = pending(
        &app,
        &k,
        json!({"kind": "change_item", "contract_id": a, "item": "remote_access"}),
        "2026-12-01",
    )
    .await;
    let done = agrees(&app, &change, "2026-12-10").await;
    assert_eq!(
        charges(&done),
        vec![
            // Dec 1–9 on internet_gateway: floor(3000 × 9 / 31) = floor(870.9) = ¥870.
            line("monthly_fee", "2026-12-01", "2026-12-09", 870),
            // Dec 10–31 on remote_access: floor(4000 × 22 / 31) = floor(2838.7) = ¥2,838.
            line("monthly_fee", "2026-12-10", "2026-12-31", 2_838),
            // The item-change fee, 別紙1 3(1).
            line("one_time_fee", "2026-12-10", "2026-12-10", 8_000),
        ]
    );

    // A cancellation whose notice arrived 2026-12-05 asking for 2026-12-19: the later of
    // 2026-12-05 + 14 days = 2026-12-19 (D3) and the day asked (R13.1).
    let cancel = pending(
        &app,
        &k,
        json!({"kind": "cancel_contract", "contract_id": a, "requested_on": "2026-12-19"}),
        "2026-12-05",
    )
    .await;
    // A later arrival moves the end: 2026-12-10 + 14 days = 2026-12-24.
    let later = preview(&app, &cancel, "2026-12-10").await;
    assert!(
        later["decision"]["effects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["effect"] == "contract_ends" && e["ending"]["on"] == "2026-12-24"),
        "{later}"
    );
    let done = agrees(&app, &cancel, "2026-12-05").await;
    let ends: Vec<(&str, &str)> = done["effects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["effect"] == "contract_ends" || e["effect"] == "option_ends")
        .map(|e| {
            (
                e["effect"].as_str().unwrap(),
                e["ending"]["on"].as_str().unwrap(),
            )
        })
        .collect();
    // The contract and its send-back end the same day (R13.3).
    assert_eq!(
        ends,
        vec![
            ("contract_ends", "2026-12-19"),
            ("option_ends", "2026-12-19")
        ]
    );
    assert_eq!(
        charges(&done),
        vec![
            // December to the end date, remote_access since 2026-12-10 (¥4,000):
            // floor(4000 × 10 / 31) = floor(1290.3) = ¥1,290.
            line("monthly_fee", "2026-12-10", "2026-12-19", 1_290),
            // The rest of the minimum period, 2026-12-20 – 2027-09-14 (R15.1, D7):
            // floor(4000 × 12 / 31) = floor(1548.4) = ¥1,548; Jan–Aug 2027 8 × ¥4,000;
            // floor(4000 × 14 / 30) = floor(1866.7) = ¥1,866.
            line("early_termination", "2026-12-20", "2026-12-31", 1_548),
            line("early_termination", "2027-01-01", "2027-01-31", 4_000),
            line("early_termination", "2027-02-01", "2027-02-28", 4_000),
            line("early_termination", "2027-03-01", "2027-03-31", 4_000),
            line("early_termination", "2027-04-01", "2027-04-30", 4_000),
            line("early_termination", "2027-05-01", "2027-05-31", 4_000),
            line("early_termination", "2027-06-01", "2027-06-30", 4_000),
            line("early_termination", "2027-07-01", "2027-07-31", 4_000),
            line("early_termination", "2027-08-01", "2027-08-31", 4_000),
            line("early_termination", "2027-09-01", "2027-09-14", 1_866),
            // Send-back to the end date, its minimum period long over:
            // floor(1500 × 19 / 31) = floor(919.4) = ¥919.
            line("monthly_fee", "2026-12-01", "2026-12-19", 919),
        ]
    );
    // Without its send-back adapter the contractor misses R6.1 (b) from 2026-12-20 (R6.8).
    let impact = &done["eligibility_impact"][0];
    assert_eq!(impact["contractor_id"], k.as_str());
    assert_eq!(impact["from"], "2026-12-20");
}

async fn a_preview_names_the_rule_a_date_breaks_and_previews_new_things(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let k = new_contractor(&app, "株式会社下見二").await;
    let (_, w2l) = app.eligible_setup(&k, "SA-W2L", "2026-09-10").await;
    // A mobile access option (SA-W2L, R6.5): its initial fee is owed from acceptance (R14.2).
    let add = pending(
        &app,
        &k,
        json!({"kind": "add_option", "contract_id": w2l, "option_kind": "mobile_access",
               "usage_type": "standard", "network_type": "dynamic_ip"}),
        "2026-11-02",
    )
    .await;
    let done = agrees(&app, &add, "2026-11-02").await;
    let sim = created(&json!({ "decision": done }), "option_created")[0].clone();
    // A plan change accepted before it was asked for is refused, and the preview says so with
    // the code acceptance would answer, writing nothing.
    let plan = pending(
        &app,
        &k,
        json!({"kind": "change_usage_type", "option_id": sim, "usage_type": "plan_10gb"}),
        "2026-12-01",
    )
    .await;
    let before = app.db.store.dump().await;
    app.get(
        &format!("/api/v1/requests/{plan}/preview?on=2026-11-30"),
        &app.operator,
    )
    .await
    .assert_problem(422, "date_order");
    assert_eq!(app.db.store.dump().await, before);
    // On 2026-12-10 it would take effect on 2027-01-01 (R9.4).
    let done = agrees(&app, &plan, "2026-12-10").await;
    assert_eq!(done["effects"][0]["effect"], "usage_type_changed");
    assert_eq!(done["effects"][0]["from"], "2027-01-01");
    // A closed request has nothing to preview; contractors do not preview.
    app.get(&format!("/api/v1/requests/{plan}/preview"), &app.operator)
        .await
        .assert_problem(422, "request_closed");
    let (k2, _, token) = app.contractor_with_user("株式会社下見三", "mitsu").await;
    let theirs = pending(
        &app,
        &k2,
        json!({"kind": "apply_contract", "contract_kind": "management"}),
        "2026-12-01",
    )
    .await;
    app.get(&format!("/api/v1/requests/{theirs}/preview"), &token)
        .await
        .assert_problem(403, "forbidden");
    app.get(
        &format!("/api/v1/requests/{theirs}/preview?on=2026-02-30"),
        &app.operator,
    )
    .await
    .assert_problem(422, "invalid_field");
}

/// An operator's request accepted as it is submitted records its charges as acceptance of a
/// pending request does.
async fn a_request_accepted_on_submission_records_its_charges(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    // An internet_gateway SEIL/X4 (¥3,000/month) billed from 2026-09-15.
    let (k, _, a) = app.billed_customer("株式会社即時承諾").await;
    let reply = app
        .post(
            &format!("/api/v1/contractors/{k}/requests"),
            &app.operator,
            json!({
                "request": {"kind": "change_item", "contract_id": a, "item": "remote_access"},
                "submitted_on": "2026-12-01",
                "accept": {"on": "2026-12-10"},
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["status"], "accepted");
    assert_eq!(
        charges(&reply.body["decision"]),
        vec![
            // Dec 1–9 on internet_gateway: floor(3000 × 9 / 31) = floor(870.9) = ¥870.
            line("monthly_fee", "2026-12-01", "2026-12-09", 870),
            // Dec 10–31 on remote_access (¥4,000): floor(4000 × 22 / 31) = ¥2,838.
            line("monthly_fee", "2026-12-10", "2026-12-31", 2_838),
            // The item-change fee, 別紙1 3(1).
            line("one_time_fee", "2026-12-10", "2026-12-10", 8_000),
        ]
    );
}

backend_tests!(
    the_preview_of_an_acceptance_is_what_acceptance_records,
    a_preview_names_the_rule_a_date_breaks_and_previews_new_things,
    a_request_accepted_on_submission_records_its_charges,
);
