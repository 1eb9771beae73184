//! People by username and records by number: the journal, the queue, request pages and the
//! SLA tables show `yamada` and `REQ-000001`, not `user:<id>` and id fragments.

use crate::support::*;

async fn the_journal_and_requests_name_people_and_the_queue_numbers_requests(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, uid, token) = app.contractor_with_user("Namae Trading", "yamada").await;
    // yamada submits one application, the operator another; a nightly sweep writes a
    // system entry.
    let own = app
        .post(
            &format!("/api/v1/contractors/{k}/requests"),
            &token,
            json!({"request": {"kind": "apply_contract", "contract_kind": "management"}}),
        )
        .await;
    assert_eq!(own.body["number"], "REQ-000001", "{}", own.text);
    assert_eq!(own.body["submitted_by"], format!("user:{uid}"));
    assert_eq!(own.body["submitted_by_name"], "yamada");
    let second = pending_request(&app, &k).await;
    let tx = app.db.store.write().await.unwrap();
    tx.commit(JournalEntry::new("system", "device.sweep_overdue"))
        .await
        .unwrap();

    let admin = accounts::find_user_by_username(&app.db.store, "admin")
        .await
        .unwrap();
    let journal = app.get("/api/v1/journal", &app.operator).await;
    let entries = journal.body["entries"].as_array().unwrap();
    let by = |actor: &str| {
        entries
            .iter()
            .filter(|e| e["actor"] == actor)
            .map(|e| e["actor_name"].clone())
            .collect::<Vec<_>>()
    };
    assert!(by(&format!("user:{uid}")).iter().all(|n| n == "yamada"));
    assert!(
        by(&format!("user:{}", admin.id))
            .iter()
            .all(|n| n == "admin")
    );
    let system = by("system");
    assert!(!system.is_empty() && system.iter().all(serde_json::Value::is_null));
    // The API's search by actor takes a username.
    let mine = app.get("/api/v1/journal?actor=yamada", &app.operator).await;
    let mine = mine.body["entries"].as_array().unwrap();
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|e| e["actor_name"] == "yamada"), "{mine:?}");

    for english in [false, true] {
        let t = if english { &EN } else { &JA };
        let op = sign_in(&app, "admin", english).await;
        let page = op.page("/console/journal").await;
        assert!(!page.contains("user:"), "{page}");
        assert!(
            page.contains(">yamada</a>") && page.contains(">admin</a>"),
            "{page}"
        );
        assert!(page.contains(t.actor_system), "{page}");
        assert!(page.contains("/console/journal?actor=yamada"), "{page}");
        // Searching by username finds yamada's entries and no one else's.
        let searched = op.page("/console/journal?actor=yamada").await;
        assert!(searched.contains(">yamada</a>"), "{searched}");
        assert!(!searched.contains(">admin</a>"), "{searched}");

        let queue = op.page("/console/queue").await;
        assert!(queue.contains(">REQ-000001</a>"), "{queue}");
        assert!(queue.contains(">REQ-000002</a>"), "{queue}");
        assert!(queue.contains(t.record_number), "{queue}");
        // A request's page: its number, and who submitted it by username.
        let request = op.page("/console/queue/requests/REQ-000001").await;
        assert!(request.contains("<strong>REQ-000001</strong>"), "{request}");
        assert!(request.contains("<dd>yamada</dd>"), "{request}");
        assert!(!request.contains("user:"), "{request}");
        let request = op.page(&format!("/console/queue/requests/{second}")).await;
        assert!(request.contains("<dd>admin</dd>"), "{request}");
        if english {
            no_japanese("/console/journal", &page);
            no_japanese("/console/queue", &queue);
        } else {
            no_english_phrases("/console/journal", &page);
        }
    }
    // The contractor's own request list numbers its requests.
    let own = sign_in(&app, "yamada", false).await;
    let list = own.page("/console/requests").await;
    assert!(list.contains("REQ-000001"), "{list}");
}

async fn outages_and_claims_are_shown_by_number(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let (k, _, a) = app.billed_customer("株式会社障害").await;
    app.accepted(
        &k,
        json!({"kind": "notify_serial", "contract_id": a, "serial": "X4-NAME-0001"}),
        "2026-09-15",
    )
    .await;
    let o = app
        .post(
            "/api/v1/outages",
            &app.operator,
            json!({
                "learned_at": "2026-10-05T00:00:00Z",
                "restored_at": "2026-10-07T03:00:00Z",
                "operator_caused": true,
                "contract_ids": [a],
            }),
        )
        .await;
    assert_eq!(o.body["number"], "OUT-000001", "{}", o.text);
    let c = app
        .post(
            &format!("/api/v1/contracts/{a}/sla-claims"),
            &app.operator,
            json!({"outage_id": "OUT-000001", "claimed_on": "2026-11-02"}),
        )
        .await;
    assert_eq!(c.body["number"], "CLM-000001", "{}", c.text);
    for english in [false, true] {
        let op = sign_in(&app, "admin", english).await;
        let page = op.page("/console/sla").await;
        assert!(page.contains("<td>CLM-000001</td>"), "{page}");
        assert!(page.contains("<td>OUT-000001</td>"), "{page}");
        assert!(
            page.contains("OUT-000001 "),
            "the claim names its outage: {page}"
        );
    }
}

/// The last 8 characters of an id, as pages used to show it, between tags.
fn fragment_shown(html: &str, id: &str) -> bool {
    let frag = &id[id.len() - 8..];
    html.contains(&format!(">{frag}<")) || html.contains(&format!("{frag})"))
}

async fn contracts_are_named_by_number_and_picked_from_a_list(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let (k, m, a) = app.billed_customer("株式会社番号").await;
    let number = |id: String| {
        let app = &app;
        async move {
            let c = app
                .get(&format!("/api/v1/contracts/{id}"), &app.operator)
                .await;
            c.body["number"].as_str().unwrap().to_owned()
        }
    };
    let (mn, an) = (number(m.clone()).await, number(a.clone()).await);
    assert!(an.starts_with("C-0000"), "{an}");
    // A pending report names the adapter in the queue.
    let r = app
        .post(
            &format!("/api/v1/contractors/{k}/requests"),
            &app.operator,
            json!({"request": {"kind": "cancel_contract", "contract_id": a}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let outages = || async {
        app.get("/api/v1/outages", &app.operator).await.body["outages"]
            .as_array()
            .map_or(0, Vec::len)
    };

    for english in [false, true] {
        let t = if english { &EN } else { &JA };
        let op = sign_in(&app, "admin", english).await;
        let csrf = op.csrf().await;

        // The queue: the report's contract by number, no id fragment.
        let queue = op.page("/console/queue").await;
        assert!(queue.contains(&an), "{queue}");
        assert!(!fragment_shown(&queue, &a), "{queue}");

        // The outage form offers the contracts in service, by number and contractor.
        let sla = op.page("/console/sla").await;
        assert!(
            sla.contains(&format!(
                r#"<option value="{an}">{an} (株式会社番号)</option>"#
            )),
            "{sla}"
        );
        assert!(
            sla.contains(&format!(
                r#"<option value="{mn}">{mn} (株式会社番号)</option>"#
            )),
            "{sla}"
        );
        // A typed value naming no contract comes back inline, nothing stored.
        let before = outages().await;
        let form = |contracts: &'static str| {
            let csrf = csrf.clone();
            move |picked: &str| {
                vec![
                    ("csrf".to_owned(), csrf.clone()),
                    ("learned_at".to_owned(), "2026-10-05T09:00".to_owned()),
                    ("restored_at".to_owned(), "2026-10-07T12:00".to_owned()),
                    ("operator_caused".to_owned(), "yes".to_owned()),
                    ("scope".to_owned(), "contracts".to_owned()),
                    (contracts.to_owned(), picked.to_owned()),
                ]
            }
        };
        let fields = form("contract_ids");
        let post = |fields: Vec<(String, String)>| {
            let op = &op;
            async move {
                let f: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                op.post("/console/sla/outages", &f).await
            }
        };
        let refused = post(fields("C-999999")).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text
        );
        assert!(
            refused.text.contains(&format!(
                r#"<p class="field-error" id="outage-contracts-error">{}{}C-999999</p>"#,
                t.op_no_such_contract, t.op_colon
            )),
            "{}",
            refused.text
        );
        assert!(
            refused.text.contains(r#"value="C-999999""#),
            "{}",
            refused.text
        );
        assert_eq!(outages().await, before);
        // The picked number is recorded against the contract it names.
        let done = post(fields(&an)).await;
        assert_eq!(see_other(&done), "/console/sla?done=recorded#outages");
        assert_eq!(outages().await, before + 1);
        let sla = op.page("/console/sla").await;
        assert!(
            sla.contains(&format!(r#"<a href="/console/contracts/{a}">{an}</a>"#)),
            "{sla}"
        );
        assert!(!fragment_shown(&sla, &a), "{sla}");

        // The contract page: its number in the heading and the facts, the id in full.
        let page = op.page(&format!("/console/contracts/{a}")).await;
        assert!(page.contains(&format!("<h2>{an} ")), "{page}");
        assert!(page.contains(&format!("<dd>{an}</dd>")), "{page}");
        assert!(
            page.contains(&format!("<small><code>{a}</code></small>")),
            "{page}"
        );
        assert!(!fragment_shown(&page, &a), "{page}");
        // A refused label: the page again, the value kept, the error at the field.
        let long = "長".repeat(61);
        let refused = op
            .post(
                &format!("/console/contracts/{a}/label"),
                &[("csrf", &csrf), ("label", &long)],
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text
        );
        assert!(
            refused.text.contains(&format!(r#"value="{long}""#)),
            "{}",
            refused.text
        );
        assert!(
            refused
                .text
                .contains(r#"<p class="field-error" id="label-error">"#),
            "{}",
            refused.text
        );
        let control = op
            .post(
                &format!("/console/contracts/{a}/label"),
                &[("csrf", &csrf), ("label", "本社\u{7}")],
            )
            .await;
        assert_eq!(
            control.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            control.text
        );
        assert!(
            control.text.contains(r#"id="label-error""#),
            "{}",
            control.text
        );
        // The contract page carries its holder's own words (an install address): the queue
        // and the SLA page are checked for language.
        for html in [&queue, &sla] {
            if english {
                no_japanese("/console", &html.replace("株式会社番号", ""));
            } else {
                no_english_phrases("/console", html);
            }
        }
    }
}

backend_tests!(
    the_journal_and_requests_name_people_and_the_queue_numbers_requests,
    outages_and_claims_are_shown_by_number,
    contracts_are_named_by_number_and_picked_from_a_list,
);
