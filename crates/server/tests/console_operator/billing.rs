//! Prices, billing runs, outages and SLA claims from the operator's pages.

use crate::support::*;

async fn price_edits_and_imports_persist(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let op = sign_in(&app, "admin", false).await;
    let page = op.page("/console/prices").await;
    let csrf = token_in(&page);
    let today = mpc_domain::calendar::tokyo_date(jiff::Timestamp::now()).to_string();

    // A non-number is named next to its key and nothing is saved.
    let bad = op
        .post(
            "/console/prices",
            &[
                ("csrf", &csrf),
                ("effective_from", &today),
                ("key", "management.monthly"),
                ("amount", "twelve"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains(JA.op_whole_yen) && bad.text.contains(r#"aria-invalid="true""#));

    // Unchanged amounts are not sent; the changed one is saved from the chosen day.
    let saved = op
        .post(
            "/console/prices",
            &[
                ("csrf", &csrf),
                ("effective_from", &today),
                ("key", "management.monthly"),
                ("amount", "12345"),
                ("key", "management.initial"),
                ("amount", "20000"),
            ],
        )
        .await;
    assert_eq!(see_other(&saved), "/console/prices?saved=1");
    let prices = app.get("/api/v1/prices", &app.operator).await;
    assert!(
        prices.body["prices"].as_array().unwrap().iter().any(|p| {
            p["key"] == "management.monthly"
                && p["amount"] == 12345
                && p["effective_from"] == today.as_str()
        }),
        "{}",
        prices.text
    );
    let shown = op.page("/console/prices?saved=1").await;
    assert!(shown.contains("12,345円") && shown.contains(JA.op_prices_saved));
    let journal = app
        .get("/api/v1/journal?operation=prices.set", &app.operator)
        .await;
    assert_eq!(
        journal.body["entries"][0]["request"]["prices"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // CSV: a bad row refuses the file (R14.1) and names the row; a good file is imported.
    let refused = op
        .post(
            "/console/prices/import",
            &[
                ("csrf", &csrf),
                (
                    "csv",
                    "key,contractor_id,effective_from,amount\nnot.a.key,,2026-01-01,5\n",
                ),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text.contains("R14.1") && refused.text.contains("not.a.key"),
        "{}",
        refused.text
    );
    let imported = op
        .post(
            "/console/prices/import",
            &[
                ("csrf", &csrf),
                (
                    "csv",
                    "key,contractor_id,effective_from,amount\nfee.loss.SA-W2L,,2030-01-01,70000\n",
                ),
            ],
        )
        .await;
    assert_eq!(see_other(&imported), "/console/prices?imported=1");
    assert!(
        op.page("/console/prices").await.contains("70,000円"),
        "the scheduled price shows"
    );
}

async fn a_billing_run_from_the_page_bills_the_month(db: TestDb) {
    let app = TestApp::new(db).await;
    let op = sign_in(&app, "admin", false).await;
    let csrf = op.csrf().await;
    let (k, _, _) = app.billed_customer("株式会社請求先").await;
    let issuer = op
        .post(
            "/console/billing/issuer",
            &[
                ("csrf", &csrf),
                ("name", "株式会社MPCネットワークス"),
                ("registration_number", "T1234567890123"),
            ],
        )
        .await;
    assert_eq!(see_other(&issuer), "/console/billing?issuer=saved#issuer");

    // Without prices the run stops, naming what is missing (R14.1), and bills nothing.
    let refused = op
        .post(
            "/console/billing/runs",
            &[("csrf", &csrf), ("month", "2026-09")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text.contains("R14.1") && refused.text.contains("management.monthly"),
        "{}",
        refused.text
    );
    // Each missing price in the page's language (Japanese here), none in English.
    assert!(
        refused.text.contains("に適用される") && !refused.text.contains("in force on"),
        "{}",
        refused.text
    );
    app.price_everything().await;

    let ran = op
        .post(
            "/console/billing/runs",
            &[("csrf", &csrf), ("month", "2026-09")],
        )
        .await;
    assert_eq!(see_other(&ran), "/console/billing/2026-09?ran=yes");
    let list = app
        .get(
            &format!("/api/v1/invoices?month=2026-09&account_id={k}"),
            &app.operator,
        )
        .await;
    let invoice = &list.body["invoices"][0];
    // Initial fees: management ¥20,000 + adapter ¥10,000 + send-back ¥5,000 = ¥35,000.
    // Monthly, 09-15…30 = 16 of 30 days: management 10,000 × 16/30 = ¥5,333 (5,333.3);
    // adapter 3,000 × 16/30 = ¥1,600; send-back 1,500 × 16/30 = ¥800.
    // Subtotal 35,000 + 5,333 + 1,600 + 800 = ¥42,733; tax floor(4,273.3) = ¥4,273; total ¥47,006.
    assert_eq!(
        (
            invoice["subtotal"].as_i64(),
            invoice["tax"].as_i64(),
            invoice["total"].as_i64()
        ),
        (Some(42_733), Some(4_273), Some(47_006)),
        "{}",
        list.text
    );
    let month = op.page("/console/billing/2026-09?ran=yes").await;
    let id = invoice["id"].as_str().unwrap();
    for expected in [
        JA.op_run_done,
        "42,733円",
        "4,273円",
        "47,006円",
        &format!("/console/invoices/{id}"),
        JA.op_open,
    ] {
        assert!(month.contains(expected), "{expected}: {month}");
    }
    assert!(
        op.page("/console/billing")
            .await
            .contains("/console/billing/2026-09")
    );

    // Finalizing asks for the confirmation first (B4: it is for good).
    let unconfirmed = op
        .post("/console/billing/2026-09/finalize", &[("csrf", &csrf)])
        .await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let invoice = app
        .get(&format!("/api/v1/invoices/{id}"), &app.operator)
        .await;
    assert_eq!(invoice.body["status"], "draft");
    let finalized = op
        .post(
            "/console/billing/2026-09/finalize",
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(
        see_other(&finalized),
        "/console/billing/2026-09?finalized=yes"
    );
    let invoice = app
        .get(&format!("/api/v1/invoices/{id}"), &app.operator)
        .await;
    assert_ne!(invoice.body["status"], "draft");
    let month = op.page("/console/billing/2026-09").await;
    assert!(
        month.contains(JA.op_finalized)
            && !month.contains(r#"action="/console/billing/2026-09/finalize""#)
    );
    // A finalized month is not billed again: the rule says so on the form.
    let again = op
        .post(
            "/console/billing/runs",
            &[("csrf", &csrf), ("month", "2026-09")],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.text.contains("<code>B4</code>"), "{}", again.text);
}

async fn outages_and_claims_are_decided_on_the_sla_page(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _, a) = app.billed_customer("株式会社障害").await;
    // The serial is notified before the outage: a credit can accrue (R7.2).
    app.accepted(
        &k,
        json!({"kind": "notify_serial", "contract_id": a, "serial": "X4-SLA-0002"}),
        "2026-09-15",
    )
    .await;
    let op = sign_in(&app, "admin", false).await;
    let csrf = op.csrf().await;
    // 2026-10-01 09:00 to 10-02 10:00 Tokyo: 25 hours, one full day, the operator's fault.
    let recorded = op
        .post(
            "/console/sla/outages",
            &[
                ("csrf", &csrf),
                ("learned_at", "2026-10-01T09:00"),
                ("restored_at", "2026-10-02T10:00"),
                ("operator_caused", "yes"),
                ("scope", "contracts"),
                ("contract_ids", &a),
                ("description", "回線障害"),
            ],
        )
        .await;
    assert_eq!(see_other(&recorded), "/console/sla?done=recorded#outages");
    let outages = app.get("/api/v1/outages", &app.operator).await;
    let outage = &outages.body["outages"][0];
    assert_eq!(
        (
            outage["learned_at"].as_str(),
            outage["full_days"].as_i64(),
            outage["qualifies"].as_bool()
        ),
        (Some("2026-10-01T00:00:00Z"), Some(1), Some(true)),
        "{}",
        outages.text
    );
    let outage_id = outage["id"].as_str().unwrap().to_owned();

    let mut claims = Vec::new();
    for _ in 0..2 {
        let c = app
            .post(
                &format!("/api/v1/contracts/{a}/sla-claims"),
                &app.operator,
                json!({"outage_id": outage_id, "claimed_on": "2026-10-05"}),
            )
            .await;
        if c.status == StatusCode::CREATED {
            claims.push(c.body["id"].as_str().unwrap().to_owned());
        }
    }
    let claim = claims.first().expect("a claim").clone();
    let page = op.page("/console/sla").await;
    assert!(
        page.contains(&format!("/console/sla/claims/{claim}/refuse"))
            && page.contains("株式会社障害")
    );

    let no_reason = op
        .post(
            &format!("/console/sla/claims/{claim}/refuse"),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    let refused = op
        .post(
            &format!("/console/sla/claims/{claim}/refuse"),
            &[
                ("csrf", &csrf),
                ("on", "2026-10-06"),
                ("reason", "復旧は当日中に確認済み"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(see_other(&refused), "/console/sla?done=refused#claims");
    let list = app
        .get(
            &format!("/api/v1/contractors/{k}/sla-claims"),
            &app.operator,
        )
        .await;
    assert_eq!(list.body["claims"][0]["status"], "refused", "{}", list.text);
    let journal = app
        .get(
            &format!("/api/v1/journal?operation=sla_claim.refuse&subject={claim}"),
            &app.operator,
        )
        .await;
    assert_eq!(
        journal.body["entries"][0]["request"]["reason"],
        "復旧は当日中に確認済み"
    );
    assert!(
        op.page("/console/sla")
            .await
            .contains("復旧は当日中に確認済み")
    );
}

backend_tests!(
    price_edits_and_imports_persist,
    a_billing_run_from_the_page_bills_the_month,
    outages_and_claims_are_decided_on_the_sla_page,
);
