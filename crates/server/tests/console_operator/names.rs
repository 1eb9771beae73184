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

backend_tests!(
    the_journal_and_requests_name_people_and_the_queue_numbers_requests,
    outages_and_claims_are_shown_by_number,
);
