//! Money on the operator's pages: payments (入金) and their balance on the invoice page,
//! invoice states on lists and dashboards (B5), price agreements per contractor (R14.1), the
//! price book grouped by product, and CSV downloads for Excel.

use crate::support::*;

/// A finalized September invoice of a contractor billed from 2026-09-15: returns its
/// contractor and its id.
async fn finalized_september(app: &TestApp) -> (String, String) {
    let (k, _, _) = app.billed_customer("株式会社入金先").await;
    app.price_everything().await;
    let ran = app
        .post(
            "/api/v1/billing/runs",
            &app.operator,
            json!({"month": "2026-09"}),
        )
        .await;
    assert_eq!(ran.status, StatusCode::OK, "{}", ran.text);
    let done = app
        .post(
            "/api/v1/billing/months/2026-09/finalize",
            &app.operator,
            json!({}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let list = app
        .get(
            &format!("/api/v1/invoices?month=2026-09&account_id={k}"),
            &app.operator,
        )
        .await;
    let id = list.body["invoices"][0]["id"].as_str().unwrap().to_owned();
    (k, id)
}

async fn payments_are_recorded_on_the_invoice_page_and_change_its_state(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, id) = finalized_september(&app).await;
    let op = sign_in(&app, "admin", false).await;
    let page_path = format!("/console/invoices/{id}");
    let page = op.page(&page_path).await;
    let csrf = token_in(&page);
    // Total ¥47,006 (42,733 + tax floor(4,273.3) = 4,273; see the billing run test), due
    // 2026-10-31, nothing paid: the balance is the total, and past the due date it is overdue.
    assert!(page.contains(JA.money_state_overdue), "{page}");
    assert!(page.contains("47,006円") && page.contains(JA.money_record_payment));
    assert!(
        page.contains(r#"name="amount" value="47006""#),
        "the form offers the balance"
    );

    // A refusal is shown with its rule, and nothing is recorded (B5: at least ¥1).
    let before = app.db.store.dump().await;
    let refused = op
        .post(
            &format!("{page_path}/payments"),
            &[("csrf", &csrf), ("paid_on", "2026-10-20"), ("amount", "0")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains("<code>B5</code>"), "{}", refused.text);
    let not_a_number = op
        .post(
            &format!("{page_path}/payments"),
            &[("csrf", &csrf), ("amount", "四万円")],
        )
        .await;
    assert_eq!(not_a_number.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(not_a_number.text.contains(JA.money_payment_limit));
    assert_eq!(
        app.db.store.dump().await,
        before,
        "a refusal writes nothing"
    );

    // ¥40,000 on 2026-10-20: 47,006 − 40,000 = ¥7,006 left, still overdue today.
    let paid = op
        .post(
            &format!("{page_path}/payments"),
            &[
                ("csrf", &csrf),
                ("paid_on", "2026-10-20"),
                ("amount", "40,000"),
                ("note", "振込 カ）ニュウキンサキ"),
            ],
        )
        .await;
    assert_eq!(
        see_other(&paid),
        format!("{page_path}?done=payment#payments")
    );
    let page = op.page(&format!("{page_path}?done=payment")).await;
    for expected in [
        JA.money_payment_recorded,
        "2026年10月20日",
        "40,000円",
        "7,006円",
        "振込 カ）ニュウキンサキ",
        JA.money_state_overdue,
    ] {
        assert!(page.contains(expected), "{expected}: {page}");
    }
    let journal = app
        .get(
            &format!("/api/v1/journal?operation=invoice.payment&subject={id}"),
            &app.operator,
        )
        .await;
    assert_eq!(journal.body["entries"][0]["request"]["amount"], 40_000);

    // The remaining ¥7,006: 40,000 + 7,006 = 47,006, paid.
    let rest = op
        .post(
            &format!("{page_path}/payments"),
            &[
                ("csrf", &csrf),
                ("paid_on", "2026-11-02"),
                ("amount", "7006"),
            ],
        )
        .await;
    see_other(&rest);
    let invoice = app
        .get(&format!("/api/v1/invoices/{id}"), &app.operator)
        .await;
    assert_eq!(
        (
            invoice.body["status"].as_str(),
            invoice.body["paid"].as_i64()
        ),
        (Some("paid"), Some(47_006))
    );
    let page = op.page(&page_path).await;
    assert!(
        page.contains(JA.money_state_paid) && page.contains(r#"id="invoice-balance"><strong>0円"#)
    );

    // The state shows on the lists and the dashboards, for the operator and the contractor.
    let list = op.page("/console/invoices?state=paid").await;
    assert!(list.contains(JA.money_state_paid) && list.contains(&id));
    assert!(
        !op.page("/console/invoices?state=overdue")
            .await
            .contains(&id)
    );
    let month = op.page("/console/billing/2026-09").await;
    assert!(month.contains(JA.money_state_paid) && month.contains("2026年10月31日"));
    let dashboard = op.page("/console/dashboard").await;
    assert!(
        dashboard.contains(r#"href="/console/invoices?state=paid"><div class="value">1</div>"#),
        "{dashboard}"
    );

    // A contractor sees the state and the payments, and no form.
    let user = app
        .post(
            &format!("/api/v1/contractors/{k}/users"),
            &app.operator,
            json!({"username": "nyukin"}),
        )
        .await;
    assert_eq!(user.status, StatusCode::CREATED, "{}", user.text);
    let customer = sign_in(&app, "nyukin", false).await;
    let seen = customer.page(&page_path).await;
    assert!(seen.contains(JA.money_state_paid) && seen.contains("40,000円"));
    assert!(!seen.contains(&format!(r#"action="{page_path}/payments""#)));
    let dashboard = customer.page("/console/dashboard").await;
    assert!(
        dashboard.contains(r#"href="/console/invoices?state=paid"><div class="value">1</div>"#)
    );
    let forbidden = customer
        .post(
            &format!("{page_path}/payments"),
            &[("csrf", &token_in(&seen)), ("amount", "1")],
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
}

async fn two_operators_recording_a_payment_at_once_record_two(db: TestDb) {
    let app = TestApp::new(db).await;
    let (_, id) = finalized_september(&app).await;
    let first = sign_in(&app, "admin", false).await;
    let second = sign_in_with(&app, "admin", PASSWORD, true).await;
    let path = format!("/console/invoices/{id}/payments");
    let (one, two) = (first.csrf().await, second.csrf().await);
    // Each post is one payment, as each call of the API is: both are recorded, neither is lost.
    let payment = |csrf: &str| {
        [
            ("csrf", csrf.to_owned()),
            ("paid_on", "2026-10-30".to_owned()),
            ("amount", "20000".to_owned()),
        ]
    };
    let (f1, f2) = (payment(&one), payment(&two));
    let r1: Vec<(&str, &str)> = f1.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r2: Vec<(&str, &str)> = f2.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (a, b) = tokio::join!(first.post(&path, &r1), second.post(&path, &r2));
    see_other(&a);
    see_other(&b);
    let invoice = app
        .get(&format!("/api/v1/invoices/{id}"), &app.operator)
        .await;
    // 20,000 + 20,000 = ¥40,000 of ¥47,006: two payments, ¥7,006 still owed.
    assert_eq!(
        invoice.body["payments"].as_array().map(Vec::len),
        Some(2),
        "{}",
        invoice.text
    );
    assert_eq!(invoice.body["paid"], 40_000);
    assert_eq!(invoice.body["status"], "overdue");
}

async fn a_default_the_rule_refuses_is_shown_with_it(db: TestDb) {
    let app = TestApp::new(db).await;
    let (_, id) = finalized_september(&app).await;
    let op = sign_in(&app, "admin", true).await;
    let path = format!("/console/invoices/{id}");
    let page = op.page(&path).await;
    let csrf = token_in(&page);
    assert!(page.contains(EN.money_record_default) && page.contains("R6.4"));
    let unconfirmed = op
        .post(
            &format!("{path}/default"),
            &[("csrf", &csrf), ("on", "2026-12-01")],
        )
        .await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unconfirmed.text.contains(EN.op_confirm_required));
    // The invoice carries no redirected management fees: R6.4 refuses, nothing changes.
    let before = app.db.store.dump().await;
    let refused = op
        .post(
            &format!("{path}/default"),
            &[("csrf", &csrf), ("on", "2026-12-01"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text.contains("<code>R6.4</code>")
            && refused
                .text
                .contains("carries no redirected management fees"),
        "{}",
        refused.text
    );
    assert_eq!(app.db.store.dump().await, before);
}

async fn agreed_prices_are_set_changed_and_removed_from_the_contractor_page(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let k = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": "株式会社合意"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let op = sign_in(&app, "admin", false).await;
    assert!(
        op.page(&format!("/console/contractors/{k}"))
            .await
            .contains(&format!("/console/contractors/{k}/prices"))
    );
    let path = format!("/console/contractors/{k}/prices");
    let page = op.page(&path).await;
    let csrf = token_in(&page);
    // The choice is grouped by product with 別紙1's names.
    assert!(
        page.contains(r#"<optgroup label="マネージメント">"#),
        "{page}"
    );
    assert!(page.contains("マネージメント 月額費用"));

    // Over the limit: the rule and the limit are named, nothing is saved.
    let before = app.db.store.dump().await;
    let over = op
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("key", "management.monthly"),
                ("effective_from", "2026-10-01"),
                ("amount", "100000001"),
            ],
        )
        .await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        over.text.contains("R14.1") && over.text.contains(JA.money_amount_limit),
        "{}",
        over.text
    );
    assert_eq!(app.db.store.dump().await, before);
    let no_key = op
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("effective_from", "2026-10-01"),
                ("amount", "1"),
            ],
        )
        .await;
    assert_eq!(no_key.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Set, then changed on the same day: one agreement of ¥8,000.
    for amount in ["9000", "8000"] {
        let saved = op
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    ("key", "management.monthly"),
                    ("effective_from", "2026-10-01"),
                    ("amount", amount),
                ],
            )
            .await;
        assert_eq!(see_other(&saved), format!("{path}?done=saved"));
    }
    let agreed = app
        .get(&format!("/api/v1/prices?contractor_id={k}"), &app.operator)
        .await;
    assert_eq!(
        agreed.body["prices"],
        json!([{"key": "management.monthly", "contractor_id": k, "effective_from": "2026-10-01", "amount": 8000}])
    );
    let page = op.page(&path).await;
    // The agreed ¥8,000 beside the list price ¥10,000 it replaces.
    assert!(
        page.contains("8,000円") && page.contains("10,000円"),
        "{page}"
    );

    let removed = op
        .post(
            &format!("{path}/remove"),
            &[
                ("csrf", &csrf),
                ("key", "management.monthly"),
                ("effective_from", "2026-10-01"),
            ],
        )
        .await;
    assert_eq!(see_other(&removed), format!("{path}?done=removed"));
    let agreed = app
        .get(&format!("/api/v1/prices?contractor_id={k}"), &app.operator)
        .await;
    assert_eq!(agreed.body["prices"], json!([]));
    let journal = app
        .get("/api/v1/journal?operation=prices.remove", &app.operator)
        .await;
    assert_eq!(
        journal.body["entries"][0]["request"]["key"],
        "management.monthly"
    );
    // Removing it again: nothing to remove.
    let again = op
        .post(
            &format!("{path}/remove"),
            &[
                ("csrf", &csrf),
                ("key", "management.monthly"),
                ("effective_from", "2026-10-01"),
            ],
        )
        .await;
    assert!(again.status.is_client_error());
}

async fn the_price_book_is_grouped_by_product_in_each_language(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let ja = sign_in(&app, "admin", false)
        .await
        .page("/console/prices")
        .await;
    for heading in [
        "マネージメント",
        "サービスアダプタ（インターネットゲートウェイルータ）",
        "モバイルアクセスオプション",
        JA.money_group_one_time,
    ] {
        assert!(
            ja.contains(&format!(
                r#"<th scope="colgroup" colspan="5">{heading}</th>"#
            )),
            "{heading}"
        );
    }
    let en = sign_in(&app, "admin", true)
        .await
        .page("/console/prices")
        .await;
    assert!(
        en.contains(r#"<th scope="colgroup" colspan="5">Management</th>"#),
        "{en}"
    );
    assert!(en.contains(EN.money_group_one_time));
    assert!(
        en.contains("Service adapter (Internet gateway router)"),
        "{en}"
    );
    // The key stays, small, for operators.
    assert!(en.contains(r#"<code class="key">management.monthly</code>"#));
}

async fn csv_downloads_open_in_excel_and_name_what_their_ids_mean(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _) = finalized_september(&app).await;
    let agreed = app
        .call(
            Method::PUT,
            "/api/v1/prices",
            Some(&app.operator),
            Some(json!({"prices": [{"key": "management.monthly", "contractor_id": k, "effective_from": "2026-12-01", "amount": 9000}]})),
        )
        .await;
    assert_eq!(agreed.status, StatusCode::OK, "{}", agreed.text);
    let op = sign_in(&app, "admin", false).await;
    for path in [
        "/console/billing/2026-09/lines.csv".to_owned(),
        "/console/prices.csv".to_owned(),
    ] {
        let csv = op.get(&path).await;
        assert!(csv.text.starts_with('\u{feff}'), "{path}: a BOM for Excel");
    }
    let api = app
        .get("/api/v1/billing/months/2026-09/lines.csv", &app.operator)
        .await;
    assert!(
        api.text
            .starts_with("\u{feff}invoice_number,invoice_id,account_id,account_name,")
    );
    // The management line names its recipient, its contractor and its item as 別紙1 does.
    let line = api
        .text
        .lines()
        .find(|l| l.contains(",management.monthly,"))
        .expect("a management line");
    assert!(
        line.starts_with("I-")
            && line.contains("株式会社入金先")
            && line.contains("マネージメント 月額費用"),
        "{line}"
    );
    let prices = op.get("/console/prices.csv").await;
    assert!(prices.text.contains(&format!(
        "management.monthly,{k},2026-12-01,9000,マネージメント 月額費用,株式会社入金先"
    )));
    // What was downloaded imports again as it is, its BOM and names included.
    let imported = app
        .request(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/prices/import")
                .header("authorization", format!("Bearer {}", app.operator))
                .header("content-type", "text/csv")
                .body(Body::from(prices.text.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
}

/// The invoice list pages in the database, the latest month first, with counts and a previous
/// page: 26 contractors billed for September and October are 52 invoices on two pages of 50.
async fn the_invoice_list_pages_the_latest_month_first(db: TestDb) {
    let app = TestApp::new(db).await;
    for i in 0..26 {
        app.billed_customer(&format!("株式会社頁{i:02}")).await;
    }
    app.price_everything().await;
    for month in ["2026-09", "2026-10"] {
        let ran = app
            .post(
                "/api/v1/billing/runs",
                &app.operator,
                json!({ "month": month }),
            )
            .await;
        assert_eq!(ran.status, StatusCode::OK, "{}", ran.text);
    }
    let op = sign_in(&app, "admin", false).await;
    let first = op.page("/console/invoices").await;
    let months = |page: &str, month: &str| page.matches(&format!("<td>{month}</td>")).count();
    // Page 1: October's 26, then 50 − 26 = 24 of September's.
    assert_eq!(
        (months(&first, "2026-10"), months(&first, "2026-09")),
        (26, 24)
    );
    assert!(
        first.find("<td>2026-10</td>") < first.find("<td>2026-09</td>"),
        "the latest month comes first"
    );
    assert!(first.contains("52件中 1–50件"), "{first}");
    // Drafts, all of them here, have no issue date yet (B4).
    assert_eq!(first.matches(JA.invoice_not_issued).count(), 50);
    assert!(first.contains(r#"rel="next""#) && !first.contains(r#"rel="prev""#));
    // Page 2: the last 52 − 50 = 2 of September's, and a way back.
    let second = op.page("/console/invoices?page=2").await;
    assert_eq!(
        (months(&second, "2026-10"), months(&second, "2026-09")),
        (0, 2)
    );
    assert!(second.contains("52件中 51–52件"), "{second}");
    assert!(second.contains(r#"rel="prev""#) && !second.contains(r#"rel="next""#));
    // The month and state filters narrow the count itself: drafts of October only.
    let october = op.page("/console/invoices?month=2026-10&state=draft").await;
    assert!(october.contains("26件中 1–26件"), "{october}");
    let none = op.page("/console/invoices?state=paid").await;
    assert_eq!(
        months(&none, "2026-09") + months(&none, "2026-10"),
        0,
        "{none}"
    );
}

backend_tests!(
    the_invoice_list_pages_the_latest_month_first,
    payments_are_recorded_on_the_invoice_page_and_change_its_state,
    two_operators_recording_a_payment_at_once_record_two,
    a_default_the_rule_refuses_is_shown_with_it,
    agreed_prices_are_set_changed_and_removed_from_the_contractor_page,
    the_price_book_is_grouped_by_product_in_each_language,
    csv_downloads_open_in_excel_and_name_what_their_ids_mean,
);
