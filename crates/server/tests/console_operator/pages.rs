//! Every operator page answers in either language, contractors are kept out, and no form
//! post changes anything without the session's token.

use crate::support::*;

async fn every_operator_page_answers_in_japanese_with_its_content(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let (k, _, a) = app.billed_customer("株式会社ページ").await;
    let request = pending_request(&app, &k).await;
    let op = sign_in(&app, "admin", false).await;
    let csrf = op.csrf().await;
    let imported = op
        .post("/console/inventory", &[("csrf", &csrf), ("csv", INVENTORY)])
        .await;
    assert_eq!(see_other(&imported), "/console/inventory?imported=2");
    let ran = op
        .post(
            "/console/billing/runs",
            &[("csrf", &csrf), ("month", "2026-09")],
        )
        .await;
    assert_eq!(see_other(&ran), "/console/billing/2026-09?ran=yes");

    // The adapter as the notice form offers it: by its number.
    let an = app
        .get(&format!("/api/v1/contracts/{a}"), &app.operator)
        .await
        .body["number"]
        .as_str()
        .unwrap()
        .to_owned();
    // The price key as the price page names it (別紙1).
    let management_monthly = mpc_domain::price::PriceKey::ManagementMonthly.label_ja();
    let pages: Vec<(String, Vec<&str>)> = vec![
        (
            "/console/queue".into(),
            vec![
                JA.op_pending_requests,
                JA.op_awaiting_return,
                "株式会社ページ",
                JA.kind_apply_contract,
            ],
        ),
        (
            format!("/console/queue/requests/{request}"),
            vec![JA.op_accept, JA.op_reject, JA.op_confirm_box],
        ),
        (
            format!("/console/queue/notice?contractor_id={k}"),
            vec![JA.op_notice_title, JA.op_arrived_on, an.as_str()],
        ),
        (
            "/console/contractors?name=%E3%83%9A%E3%83%BC%E3%82%B8".into(),
            vec!["株式会社ページ", JA.op_new_contractor],
        ),
        (
            format!("/console/contractors/{k}"),
            vec![JA.op_eligibility, JA.op_users, a.as_str(), JA.op_new_user],
        ),
        (
            "/console/prices".into(),
            vec![
                "management.monthly",
                management_monthly.as_str(),
                "10,000円",
            ],
        ),
        (
            "/console/billing".into(),
            vec![JA.op_start_run, "2026年9月", JA.op_issuer],
        ),
        (
            "/console/billing/2026-09".into(),
            vec!["47,006円", JA.op_finalize, JA.op_lines_csv],
        ),
        (
            "/console/sla".into(),
            vec![JA.op_sla_claims, JA.op_record_outage],
        ),
        (
            "/console/inventory".into(),
            vec![JA.op_import_devices, JA.op_inventory_now],
        ),
        (
            "/console/fleet".into(),
            vec!["X4-0001", "W2L-0001", JA.op_assigned_only],
        ),
        (
            "/console/fleet/X4-0001".into(),
            vec!["<svg", JA.op_availability_7d],
        ),
        (
            "/console/journal?operation=billing.run".into(),
            vec!["billing.run", JA.op_operation],
        ),
    ];
    for (path, expected) in &pages {
        let html = op.page(path).await;
        assert!(html.contains(r#"<html lang="ja">"#), "{path}");
        for e in expected {
            assert!(html.contains(e), "{path} lacks {e:?}");
        }
        no_english_phrases(path, &html);
    }
    // Tables sort from their headers and say which way.
    let sorted = op.page("/console/fleet?sort=-serial").await;
    assert!(sorted.find("X4-0001").unwrap() < sorted.find("W2L-0001").unwrap());
    assert!(sorted.contains(r#"aria-sort="descending""#));
    // The fleet table alone for htmx, filtered.
    let fragment = op
        .send(
            op.request(Method::GET, "/console/fleet?model=SA-W2L")
                .header("hx-request", "true")
                .header("hx-target", "fleet-table")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(fragment.status, StatusCode::OK);
    assert!(!fragment.text.contains("<html") && fragment.text.contains(r#"id="fleet-table""#));
    assert!(fragment.text.contains("W2L-0001") && !fragment.text.contains("X4-0001"));
    // Downloads come from the API's CSV handlers.
    let prices = op.get("/console/prices.csv").await;
    assert_eq!(prices.headers["content-type"], "text/csv; charset=utf-8");
    assert!(prices.text.contains("management.monthly"));
    let lines = op.get("/console/billing/2026-09/lines.csv").await;
    assert_eq!(lines.status, StatusCode::OK);
    // UTF-8 with a byte order mark, so that Excel reads it as UTF-8.
    assert!(
        lines.text.starts_with("\u{feff}invoice_number,"),
        "{}",
        lines.text
    );
    assert_eq!(
        op.get("/console/billing/September").await.status,
        StatusCode::NOT_FOUND
    );
}

async fn english_pages_carry_no_japanese(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": "Example Ltd"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let request = pending_request(&app, &k).await;
    let op = sign_in(&app, "admin", true).await;
    let csrf = op.csrf().await;
    op.post("/console/inventory", &[("csrf", &csrf), ("csv", INVENTORY)])
        .await;
    for path in [
        "/console/queue".to_owned(),
        format!("/console/queue/requests/{request}"),
        format!("/console/queue/notice?contractor_id={k}"),
        "/console/contractors".to_owned(),
        format!("/console/contractors/{k}"),
        "/console/prices".to_owned(),
        "/console/billing".to_owned(),
        "/console/sla".to_owned(),
        "/console/inventory".to_owned(),
        "/console/fleet".to_owned(),
        "/console/fleet/X4-0001".to_owned(),
        "/console/journal".to_owned(),
    ] {
        let html = op.page(&path).await;
        assert!(html.contains(r#"<html lang="en">"#), "{path}");
        no_japanese(&path, &html);
    }
    // A refused form speaks English too.
    let refused = op
        .post(
            &format!("/console/queue/requests/{request}/reject"),
            &[("csrf", &csrf), ("reason", "no")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains(EN.op_confirm_required));
    no_japanese("reject", &refused.text);
}

async fn contractors_are_kept_out_of_operator_pages(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _, _) = app.contractor_with_user("株式会社外部", "outsider").await;
    let request = pending_request(&app, &k).await;
    let user = sign_in(&app, "outsider", false).await;
    let before = app.db.store.dump().await;
    for path in [
        "/console/queue".to_owned(),
        "/console/queue/counts".to_owned(),
        format!("/console/queue/requests/{request}"),
        "/console/queue/notice".to_owned(),
        "/console/contractors".to_owned(),
        format!("/console/contractors/{k}"),
        "/console/prices".to_owned(),
        "/console/prices.csv".to_owned(),
        "/console/billing".to_owned(),
        "/console/billing/2026-09".to_owned(),
        "/console/billing/2026-09/lines.csv".to_owned(),
        "/console/inventory".to_owned(),
        "/console/fleet".to_owned(),
        "/console/fleet/X4-0001".to_owned(),
        "/console/journal".to_owned(),
    ] {
        let reply = user.get(&path).await;
        assert!(
            matches!(reply.status.as_u16(), 403 | 404),
            "{path}: {} {}",
            reply.status,
            reply.text
        );
        assert!(
            reply.text.contains(JA.error_title),
            "{path}: an error page, not a crash"
        );
    }
    // Forms too, even with the session's own token.
    let csrf = token_in(&user.page("/console/sla").await);
    for (path, fields) in [
        (
            format!("/console/queue/requests/{request}/accept"),
            vec![("on", "2026-09-01"), ("confirm", "yes")],
        ),
        (
            "/console/contractors".to_owned(),
            vec![("name", "乗っ取り")],
        ),
        (
            "/console/prices".to_owned(),
            vec![
                ("effective_from", "2026-01-01"),
                ("key", "management.monthly"),
                ("amount", "1"),
            ],
        ),
        (
            "/console/billing/runs".to_owned(),
            vec![("month", "2026-09")],
        ),
    ] {
        let mut fields = fields;
        fields.push(("csrf", &csrf));
        let reply = user.post(&path, &fields).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            reply.text
        );
    }
    // `/console/sla` is theirs: their claims and a claim form.
    let sla = user.page("/console/sla").await;
    assert!(sla.contains(JA.op_my_claims) && !sla.contains(JA.op_record_outage));
    assert_eq!(
        app.db.store.dump().await,
        before,
        "refused pages and forms wrote nothing"
    );
}

async fn posts_without_the_session_token_are_refused_and_change_nothing(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let k = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": "株式会社トークン"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let request = pending_request(&app, &k).await;
    let op = sign_in(&app, "admin", false).await;
    let before = app.db.store.dump().await;
    for token in [None, Some("0123456789abcdef0123456789abcdef")] {
        for (path, fields) in [
            (
                format!("/console/queue/requests/{request}/accept"),
                vec![("on", "2026-09-01"), ("confirm", "yes")],
            ),
            (
                format!("/console/queue/requests/{request}/reject"),
                vec![("reason", "x"), ("confirm", "yes")],
            ),
            (
                "/console/contractors".to_owned(),
                vec![("name", "株式会社偽")],
            ),
            (
                format!("/console/contractors/{k}/users"),
                vec![("username", "forged")],
            ),
            (
                "/console/prices".to_owned(),
                vec![
                    ("effective_from", "2026-01-01"),
                    ("key", "management.monthly"),
                    ("amount", "1"),
                ],
            ),
            (
                "/console/prices/import".to_owned(),
                vec![(
                    "csv",
                    "key,contractor_id,effective_from,amount\nmanagement.monthly,,2026-01-01,1\n",
                )],
            ),
            (
                "/console/billing/runs".to_owned(),
                vec![("month", "2026-09")],
            ),
            ("/console/inventory".to_owned(), vec![("csv", INVENTORY)]),
            (
                "/console/sla/outages".to_owned(),
                vec![
                    ("learned_at", "2026-10-01T09:00"),
                    ("restored_at", "2026-10-02T10:00"),
                    ("contract_ids", "x"),
                ],
            ),
        ] {
            let mut fields = fields;
            if let Some(t) = token {
                fields.push(("csrf", t));
            }
            let reply = op.post(&path, &fields).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{path} {token:?}: {}",
                reply.text
            );
            assert!(reply.text.contains(JA.csrf_failed), "{path}");
        }
    }
    // Another site's form is refused before the token is even read.
    let csrf = op.csrf().await;
    let cross = op
        .send(
            op.request(Method::POST, "/console/contractors")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("origin", "https://evil.example")
                .header("host", "console.example")
                .body(Body::from(format!("csrf={csrf}&name=x")))
                .unwrap(),
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.db.store.dump().await,
        before,
        "refused forms wrote nothing"
    );
}

async fn the_dashboard_counts_what_waits(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": "株式会社集計"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    pending_request(&app, &k).await;
    pending_request(&app, &k).await;
    let op = sign_in(&app, "admin", false).await;
    // The console's dashboard route calls this for operators; mount it alone here.
    let state = mpc_server::AppState::new(
        app.db.store.clone(),
        mpc_storage::controller::SecretKey::random(),
    );
    let dashboard = Browser {
        router: Router::new()
            .route(
                "/console/dashboard",
                get(mpc_server::web::operator::dashboard),
            )
            .with_state(state),
        cookie: op.cookie.clone(),
        english: false,
    };
    let html = dashboard.page("/console/dashboard").await;
    assert!(
        html.contains(JA.op_card_pending) && html.contains(r#"<div class="value">2</div>"#),
        "{html}"
    );
    assert!(html.contains("/console/queue#requests") && html.contains("/console/fleet?state=down"));
    // Each connection state is counted, never-seen devices apart from DOWN ones.
    for (card, link) in [
        (
            JA.op_card_never_connected,
            "/console/fleet?state=never_connected",
        ),
        (JA.op_card_up, "/console/fleet?state=up"),
        (JA.op_card_in_stock, "/console/fleet?state=in_stock"),
    ] {
        assert!(html.contains(card) && html.contains(link), "{card}: {html}");
    }
    app.contractor_with_user("株式会社別", "betsu").await;
    let other = sign_in(&app, "betsu", false).await;
    let refused = Browser {
        cookie: other.cookie.clone(),
        ..dashboard
    }
    .get("/console/dashboard")
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn the_fleet_filters_combine_and_page_with_counts_in_both_languages(db: TestDb) {
    let app = TestApp::new(db).await;
    // 60 devices in stock: 35 SEIL/X4 and 25 SA-W2L.
    {
        let mut conn = app.db.store.conn().await.unwrap();
        for i in 1..=60 {
            let (serial, model) = if i <= 35 {
                (format!("FX-{i:03}"), "SEIL/X4")
            } else {
                (format!("FW-{i:03}"), "SA-W2L")
            };
            sqlx::query("INSERT INTO device_inventory (serial, model, factory_secret, imported_at) VALUES ($1, $2, 'x', 0)")
                .bind(serial)
                .bind(model)
                .execute(&mut *conn)
                .await
                .unwrap();
        }
    }
    // The cards and the inventory count them in their queries: 60 in stock, none serving.
    let op = sign_in(&app, "admin", false).await;
    let cards = op.page("/console/queue/counts").await;
    assert!(
        cards.contains(r#"<a href="/console/fleet?state=in_stock"><div class="value">60</div>"#),
        "{cards}"
    );
    assert!(cards.contains(r#"<a href="/console/fleet?state=up"><div class="value">0</div>"#));
    let inventory = op.page("/console/inventory").await;
    for (model, total) in [("SEIL/X4", 35), ("SA-W2L", 25), ("SEIL CA10", 0)] {
        let row = format!(
            r#"<tr><td>{model}</td><td class="num">{total}</td><td class="num">0</td></tr>"#
        );
        assert!(inventory.contains(&row), "{row}: {inventory}");
    }
    for (english, first, second, combined) in [
        (false, "60件中 1–50件", "60件中 51–60件", "35件中 1–35件"),
        (true, "1–50 of 60", "51–60 of 60", "1–35 of 35"),
    ] {
        let op = sign_in(&app, "admin", english).await;
        let t = if english { &EN } else { &JA };
        let page1 = op.page("/console/fleet?state=in_stock").await;
        assert!(page1.contains(first), "{page1}");
        // The next page keeps the filter.
        assert!(
            page1.contains(r#"href="/console/fleet?state=in_stock&#38;page=2" rel="next""#),
            "{page1}"
        );
        assert!(page1.contains(t.next_page) && !page1.contains(r#"rel="prev""#));
        let page2 = op.page("/console/fleet?state=in_stock&page=2").await;
        assert!(page2.contains(second), "{page2}");
        assert!(page2.contains(r#"href="/console/fleet?state=in_stock&#38;page=1" rel="prev""#));
        assert!(page2.contains(t.previous_page) && !page2.contains(r#"rel="next""#));
        // State and model together: the SEIL/X4 in stock, one page.
        let both = op
            .page("/console/fleet?state=in_stock&model=SEIL%2FX4")
            .await;
        assert!(both.contains(combined), "{both}");
        assert!(both.contains("FX-035") && !both.contains("FW-036"));
        // No device is UP.
        let up = op.page("/console/fleet?state=up").await;
        assert!(up.contains(t.op_no_match), "{up}");
    }
}

backend_tests!(
    the_fleet_filters_combine_and_page_with_counts_in_both_languages,
    every_operator_page_answers_in_japanese_with_its_content,
    english_pages_carry_no_japanese,
    contractors_are_kept_out_of_operator_pages,
    posts_without_the_session_token_are_refused_and_change_nothing,
    the_dashboard_counts_what_waits,
);
