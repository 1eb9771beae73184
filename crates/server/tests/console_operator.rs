//! The operator's console pages on SQLite and PostgreSQL, signed in through the real sign-in
//! form: every page answers, contractors are kept out, forms change what the API says they
//! change and nothing without the session's token.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::routing::get;
use common::{Reply, TestApp, created};
use mpc_server::web::i18n::{EN, JA};
use mpc_storage::testing::TestDb;
use mpc_storage::{JournalEntry, accounts, backend_tests};
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";

/// A signed-in browser: the session cookie, and the language it asks for.
struct Browser {
    router: Router,
    cookie: String,
    english: bool,
}

impl Browser {
    fn request(&self, method: Method, path: &str) -> axum::http::request::Builder {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("cookie", &self.cookie);
        if self.english {
            req = req.header("accept-language", "en");
        }
        req
    }

    async fn send(&self, req: Request<Body>) -> Reply {
        use tower::ServiceExt;
        let response = self.router.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Reply {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or_default(),
            text,
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(self.request(Method::GET, path).body(Body::empty()).unwrap())
            .await
    }

    /// A page that must answer 200; returns its HTML.
    async fn page(&self, path: &str) -> String {
        let reply = self.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
        reply.text
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", mpc_server::web::urlencode(v).replace('/', "%2F")))
            .collect();
        self.send(
            self.request(Method::POST, path)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(body.join("&")))
                .unwrap(),
        )
        .await
    }

    /// The form token of this session, as every page carries it.
    async fn csrf(&self) -> String {
        let html = self.page("/console/queue/notice").await;
        token_in(&html)
    }
}

fn token_in(html: &str) -> String {
    let start = html.find(r#"name="csrf" value=""#).expect("a form token") + 19;
    html[start..start + 32].to_owned()
}

/// The 303 target of a form post.
#[track_caller]
fn see_other(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    reply.headers["location"].to_str().unwrap().to_owned()
}

/// Gives `username` a console password and signs in through the form.
async fn sign_in(app: &TestApp, username: &str, english: bool) -> Browser {
    let user = accounts::find_user_by_username(&app.db.store, username)
        .await
        .unwrap();
    accounts::reset_password(
        &app.db.store,
        &user.id,
        PASSWORD,
        JournalEntry::new("test", "user.password"),
    )
    .await
    .unwrap();
    sign_in_with(app, username, PASSWORD, english).await
}

async fn sign_in_with(app: &TestApp, username: &str, password: &str, english: bool) -> Browser {
    let form = format!(
        "username={username}&password={}&next=%2Fconsole",
        mpc_server::web::urlencode(password)
    );
    let reply = app
        .request(
            Request::builder()
                .method(Method::POST)
                .uri("/console/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    let cookie = reply.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("mpc_session="), "{cookie}");
    Browser {
        router: app.router.clone(),
        cookie,
        english,
    }
}

/// Asserts a Japanese page shows none of the catalog's English phrases.
#[track_caller]
fn no_english_phrases(path: &str, html: &str) {
    for (en, ja) in EN.all().into_iter().zip(JA.all()) {
        if en != ja && en.contains(' ') && en.len() >= 10 {
            assert!(
                !html.contains(en),
                "{path}: English {en:?} on a Japanese page"
            );
        }
    }
}

/// Asserts an English page shows no Japanese outside the language switch (its data here is
/// ASCII).
#[track_caller]
fn no_japanese(path: &str, html: &str) {
    let text = html.replace(EN.switch_language, "");
    let found: String = text
        .chars()
        .filter(|c| ('\u{3000}'..='\u{9fff}').contains(c) || ('\u{ff00}'..='\u{ffef}').contains(c))
        .collect();
    assert!(
        found.is_empty(),
        "{path}: Japanese {found:?} on an English page"
    );
}

/// A contractor with a management and an internet_gateway SEIL/X4 with send-back, accepted on
/// 2026-09-10 and billed from 2026-09-15, as in the billing tests.
async fn billed_customer(app: &TestApp, name: &str) -> (String, String, String) {
    let k = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({ "name": name }),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (m, a) = app.eligible_setup(&k, "SEIL/X4", "2026-09-10").await;
    for c in [&m, &a] {
        let r = app
            .post(
                &format!("/api/v1/contracts/{c}/billing-start"),
                &app.operator,
                json!({"on": "2026-09-15"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    (k, m, a)
}

/// A pending application of a management for `contractor`, submitted through the API.
async fn pending_request(app: &TestApp, contractor: &str) -> String {
    let r = app
        .post(
            &format!("/api/v1/contractors/{contractor}/requests"),
            &app.operator,
            json!({
                "request": {"kind": "apply_contract", "contract_kind": "management"},
                "submitted_on": "2026-09-01",
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

const INVENTORY: &str =
    "X4-0001,SEIL/X4,factory-secret-x4-0001\nW2L-0001,SA-W2L,factory-secret-w2l-0001\n";

async fn every_operator_page_answers_in_japanese_with_its_content(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let (k, _, a) = billed_customer(&app, "株式会社ページ").await;
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
            vec![JA.op_notice_title, JA.op_arrived_on, a.as_str()],
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
            vec!["management.monthly", "マネージメント 月額費用", "10,000円"],
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
    assert!(lines.text.starts_with("invoice_number,"), "{}", lines.text);
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
    let (k, _, _) = billed_customer(&app, "株式会社請求先").await;
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
    let (k, _, a) = billed_customer(&app, "株式会社障害").await;
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
    // The password works, and is not shown again.
    let suzuki = sign_in_with(&app, "suzuki", &password, false).await;
    assert!(suzuki.page("/console/sla").await.contains(JA.op_my_claims));
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
    assert!(
        html.contains("/console/queue#requests")
            && html.contains("/console/fleet?state=down&amp;assigned=yes")
    );
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
    every_operator_page_answers_in_japanese_with_its_content,
    english_pages_carry_no_japanese,
    contractors_are_kept_out_of_operator_pages,
    accepting_and_rejecting_from_the_queue,
    posts_without_the_session_token_are_refused_and_change_nothing,
    price_edits_and_imports_persist,
    a_billing_run_from_the_page_bills_the_month,
    outages_and_claims_are_decided_on_the_sla_page,
    contractors_and_their_users_are_made_from_the_pages,
    inventory_imports_name_refused_lines_and_devices_and_returns_show,
    the_dashboard_counts_what_waits,
    the_queue_names_devices_waiting_for_preset_parameters
);
