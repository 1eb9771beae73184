//! The console's sign-in, session and form protections, and the contractor's pages, on SQLite
//! and PostgreSQL. (The pages in a real browser: `crates/cli/tests/console.rs`.)

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{Reply, TestApp};
use mpc_server::web::i18n::{EN, JA, Lang};
use mpc_storage::testing::TestDb;
use mpc_storage::{JournalEntry, accounts, backend_tests};
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

/// A browser: the session cookie it holds, and the form token of its session.
struct Visitor<'a> {
    app: &'a TestApp,
    cookie: Option<String>,
    lang: &'static str,
    /// The client address a proxy in front of the server reports (`X-Forwarded-For`).
    address: &'static str,
}

impl<'a> Visitor<'a> {
    fn new(app: &'a TestApp) -> Self {
        Visitor {
            app,
            cookie: None,
            lang: "ja",
            address: "192.0.2.1",
        }
    }

    fn from_address(app: &'a TestApp, address: &'static str) -> Self {
        Visitor {
            address,
            ..Visitor::new(app)
        }
    }

    async fn send(&self, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("x-forwarded-for", self.address)
            .header("cookie", {
                let mut c = format!("mpc_lang={}", self.lang);
                if let Some(s) = &self.cookie {
                    c.push_str("; ");
                    c.push_str(s);
                }
                c
            });
        let body = match form {
            Some(pairs) => {
                req = req.header("content-type", "application/x-www-form-urlencoded");
                Body::from(
                    pairs
                        .iter()
                        .map(|(k, v)| format!("{k}={}", urlencode(v)))
                        .collect::<Vec<_>>()
                        .join("&"),
                )
            }
            None => Body::empty(),
        };
        self.app.request(req.body(body).unwrap()).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        self.send(Method::POST, path, Some(form)).await
    }

    async fn sign_in(&mut self, username: &str, password: &str) -> Reply {
        let reply = self
            .post(
                "/console/login",
                &[("username", username), ("password", password)],
            )
            .await;
        if let Some(set) = reply.headers.get("set-cookie") {
            let set = set.to_str().unwrap();
            self.cookie = Some(set.split(';').next().unwrap().to_owned());
        }
        reply
    }

    /// The form token printed in a page of this session.
    async fn csrf(&self) -> String {
        let page = self.get("/console/password").await;
        page.text
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a form token")
            .to_owned()
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A contractor user with a console password; returns (contractor id, user id).
async fn contractor_user(app: &TestApp, name: &str, username: &str) -> (String, String) {
    let (cid, uid, _) = app.contractor_with_user(name, username).await;
    accounts::reset_password(
        &app.db.store,
        &uid,
        PASSWORD,
        accounts::PasswordLife::Kept,
        JournalEntry::new("test", "user.password"),
    )
    .await
    .unwrap();
    (cid, uid)
}

/// The users table as text, to show that failed sign-ins leave accounts as they were.
async fn users_of(app: &TestApp) -> Vec<String> {
    app.db
        .store
        .dump()
        .await
        .into_iter()
        .filter(|row| row.starts_with("users:"))
        .collect()
}

async fn signing_in_sets_a_guarded_cookie_and_wrong_passwords_slow_the_address_down(db: TestDb) {
    let app = TestApp::new(db).await;
    contractor_user(&app, "株式会社テスト", "tanaka").await;
    let mut v = Visitor::new(&app);

    // Pages need a session: the visitor is sent to sign in, keeping where it was going.
    let r = v.get("/console/contracts").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers["location"],
        "/console/login?next=/console/contracts"
    );

    let r = v.sign_in("tanaka", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let cookie = r.headers["set-cookie"].to_str().unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/console", "Max-Age=43200"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    assert_eq!(v.get("/console/contracts").await.status, StatusCode::OK);

    // Behind a TLS proxy the cookie is Secure.
    let r = app
        .request(
            Request::post("/console/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-forwarded-proto", "https")
                .body(Body::from(format!(
                    "username=tanaka&password={}",
                    urlencode(PASSWORD)
                )))
                .unwrap(),
        )
        .await;
    assert!(r.headers["set-cookie"].to_str().unwrap().contains("Secure"));

    // Issue 15: failures slow down further tries from the same address; they never lock the
    // account, and an unknown username reads and counts exactly like a known one.
    let before_users = users_of(&app).await;
    let mut known = Visitor::from_address(&app, "203.0.113.7");
    let mut unknown = Visitor::from_address(&app, "203.0.113.8");
    for (visitor, name) in [(&mut known, "tanaka"), (&mut unknown, "nobody")] {
        for _ in 0..5 {
            let r = visitor.sign_in(name, "wrong password!").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}");
            assert!(r.text.contains(JA.bad_credentials), "{}", r.text);
        }
        // Now that address waits, even with the right password, known name or not.
        let r = visitor.sign_in(name, PASSWORD).await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{name}: {}",
            r.text
        );
        assert!(r.text.contains(JA.too_many_sign_ins), "{}", r.text);
        assert_eq!(r.headers["retry-after"], "5");
        assert!(r.headers.get("set-cookie").is_none());
    }
    // The account itself is not locked: its owner signs in from another address.
    let mut owner = Visitor::from_address(&app, "198.51.100.1");
    let r = owner.sign_in("tanaka", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(
        users_of(&app).await,
        before_users,
        "no account state was changed"
    );

    // Trying many names from one address is slowed down too.
    let spray = Visitor::from_address(&app, "203.0.113.9");
    for i in 0..20 {
        let name = format!("user{i}");
        let r = spray
            .post("/console/login", &[("username", &name), ("password", "x")])
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = spray
        .post(
            "/console/login",
            &[("username", "tanaka"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);

    // Signing out ends the session.
    let csrf = v.csrf().await;
    let r = v.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        v.get("/console/contracts").await.status,
        StatusCode::SEE_OTHER
    );
}

async fn forms_without_the_session_token_or_from_another_site_change_nothing(db: TestDb) {
    let app = TestApp::new(db).await;
    let (cid, _) = contractor_user(&app, "株式会社テスト", "tanaka").await;
    let (_, adapter) = app.eligible_setup(&cid, "SEIL/X4", "2026-04-01").await;
    let mut v = Visitor::new(&app);
    v.sign_in("tanaka", PASSWORD).await;
    let before = app.db.store.dump().await;

    // No token.
    let r = v
        .post(
            "/console/requests/new",
            &[("kind", "report_loss"), ("contract_id", &adapter)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    // Another session's token.
    let r = v
        .post(
            "/console/requests/new",
            &[
                ("kind", "report_loss"),
                ("contract_id", &adapter),
                ("csrf", "0123456789abcdef0123456789abcdef"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The right token, but posted from another site.
    let csrf = v.csrf().await;
    let r = app
        .request(
            Request::post("/console/requests/new")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", v.cookie.clone().unwrap())
                .header("sec-fetch-site", "cross-site")
                .body(Body::from(format!(
                    "kind=report_loss&contract_id={adapter}&csrf={csrf}"
                )))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.db.store.dump().await, before);

    // With everything right the request is made.
    let r = v
        .post(
            "/console/requests/new",
            &[
                ("kind", "notify_serial"),
                ("contract_id", &adapter),
                ("serial", "X4-24A0-00001"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let list = app
        .get(
            &format!("/api/v1/contractors/{cid}/requests?status=pending"),
            &app.operator,
        )
        .await;
    assert_eq!(
        list.body["requests"][0]["kind"], "notify_serial",
        "{}",
        list.text
    );
}

async fn a_refused_request_is_shown_next_to_its_field_with_the_rule(db: TestDb) {
    let app = TestApp::new(db).await;
    let (cid, _) = contractor_user(&app, "株式会社テスト", "tanaka").await;
    let (_, adapter) = app.eligible_setup(&cid, "SA-W2L", "2026-04-01").await;
    let mut v = Visitor::new(&app);
    v.sign_in("tanaka", PASSWORD).await;
    let csrf = v.csrf().await;
    let before = app.db.store.dump().await;
    // A new packet share group's pack must be at least 50 GB (R9.6): 40 GB is refused on the
    // form's page with the rule, and nothing is written.
    let r = v
        .post(
            "/console/requests/new",
            &[
                ("csrf", &csrf),
                ("kind", "add_option"),
                ("contract_id", &adapter),
                ("option_kind", "mobile_access"),
                ("usage_type", "packet_share"),
                ("network_type", "dynamic_ip"),
                ("new_group_pack_gb", "40"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("<code>R9.6</code>"), "{}", r.text);
    assert_eq!(app.db.store.dump().await, before);
}

async fn a_form_field_that_does_not_read_is_named_and_nothing_is_sent(db: TestDb) {
    let app = TestApp::new(db).await;
    let (cid, _) = contractor_user(&app, "株式会社テスト", "tanaka").await;
    let (_, adapter) = app.eligible_setup(&cid, "SEIL/X4", "2026-04-01").await;
    let mut v = Visitor::new(&app);
    v.sign_in("tanaka", PASSWORD).await;
    let csrf = v.csrf().await;
    let before = app.db.store.dump().await;
    let t = &mpc_server::web::i18n::JA;
    // A pack that is not a number, a request without its contract, and a date that is
    // not one: each is named on the form, and nothing reaches the rules.
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[
                ("kind", "change_pack"),
                ("group_id", "g"),
                ("pack_gb", "fifty"),
            ],
            t.field_whole_number,
        ),
        (
            &[("kind", "report_loss"), ("contract_id", " ")],
            t.op_required,
        ),
        (
            &[
                ("kind", "stop_option"),
                ("option_id", "o"),
                ("requested_on", "2026-13-01"),
            ],
            t.op_invalid_date,
        ),
    ];
    for (fields, message) in cases {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let r = v.post("/console/requests/new", &form).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fields:?}: {}",
            r.text
        );
        assert!(r.text.contains(message), "{fields:?}: {}", r.text);
    }
    assert_eq!(app.db.store.dump().await, before);
    // A form that reads is sent (R7.1).
    let r = v
        .post(
            "/console/requests/new",
            &[
                ("csrf", &csrf),
                ("kind", "notify_serial"),
                ("contract_id", &adapter),
                ("serial", "X4-24A0-00001"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
}

async fn cancelling_shows_the_quote_and_needs_the_confirmation(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let (cid, _) = contractor_user(&app, "株式会社テスト", "tanaka").await;
    let (_, adapter) = app.eligible_setup(&cid, "SEIL/X4", "2026-04-01").await;
    app.post(
        &format!("/api/v1/contracts/{adapter}/billing-start"),
        &app.operator,
        json!({"on": "2026-04-01"}),
    )
    .await;
    let mut v = Visitor::new(&app);
    v.sign_in("tanaka", PASSWORD).await;

    // The page shows the API's quote for a notice arriving today (the yen arithmetic is
    // checked in tests/contracts/ and tests/billing.rs), as "12,345円".
    let quote = app
        .get(
            &format!("/api/v1/contracts/{adapter}/termination-quote"),
            &app.operator,
        )
        .await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.text);
    let charge = quote.body["early_termination_charge"]
        .as_i64()
        .expect("priced");
    assert!(charge > 0);
    let page = v.get(&format!("/console/contracts/{adapter}/cancel")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let digits = charge.to_string();
    let grouped: String = digits
        .chars()
        .enumerate()
        .flat_map(|(i, c)| {
            let sep = (i > 0 && (digits.len() - i) % 3 == 0).then_some(',');
            sep.into_iter().chain(std::iter::once(c))
        })
        .collect();
    assert!(
        page.text.contains(&format!("<strong>{grouped}円</strong>")),
        "{grouped}: {}",
        page.text
    );

    // Without the confirmation nothing is sent.
    let csrf = v.csrf().await;
    let before = app.db.store.dump().await;
    let r = v
        .post(
            &format!("/console/contracts/{adapter}/cancel"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains(JA.confirm_required));
    assert_eq!(app.db.store.dump().await, before);

    let r = v
        .post(
            &format!("/console/contracts/{adapter}/cancel"),
            &[("csrf", &csrf), ("understood", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let list = app
        .get(
            &format!("/api/v1/contractors/{cid}/requests?status=pending"),
            &app.operator,
        )
        .await;
    assert_eq!(
        list.body["requests"][0]["kind"], "cancel_contract",
        "{}",
        list.text
    );
}

async fn contractors_see_only_their_own_pages_in_their_language(db: TestDb) {
    let app = TestApp::new(db).await;
    let (a, _) = contractor_user(&app, "株式会社エー", "alpha").await;
    let (b, _) = contractor_user(&app, "株式会社ビー", "bravo").await;
    let (_, adapter_b) = app.eligible_setup(&b, "SEIL CA10", "2026-04-01").await;
    let (_, adapter_a) = app.eligible_setup(&a, "SEIL/X4", "2026-04-01").await;
    let mut v = Visitor::new(&app);
    v.lang = "en";
    v.sign_in("alpha", PASSWORD).await;
    // Its own preset editor names the contract by its number.
    let number = app
        .get(&format!("/api/v1/contracts/{adapter_a}"), &app.operator)
        .await
        .body["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let editor = v
        .get(&format!("/console/contracts/{adapter_a}/preset"))
        .await;
    assert!(
        editor.text.contains(&format!(
            r#"<a href="/console/contracts/{adapter_a}">{number} · "#
        )),
        "{}",
        editor.text
    );
    for path in [
        "/console/dashboard",
        "/console/contracts",
        "/console/requests",
        "/console/devices",
        "/console/mobile",
        "/console/invoices",
        "/console/consents",
    ] {
        let r = v.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        assert!(r.text.contains("<html lang=\"en\">"), "{path}");
    }
    for path in [
        format!("/console/contracts/{adapter_b}"),
        format!("/console/contracts/{adapter_b}/cancel"),
        format!("/console/contracts/{adapter_b}/preset"),
    ] {
        let r = v.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text);
        assert!(r.text.contains("not yours to see"), "{path}: {}", r.text);
    }
}

async fn the_dashboard_names_devices_that_cannot_fetch_their_configuration(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _) = contractor_user(&app, "株式会社保留", "horyu").await;
    let (_, a) = app.eligible_setup(&k, "SEIL/X4", "2026-04-01").await;
    let mut browser = Visitor::new(&app);
    browser.sign_in("horyu", PASSWORD).await;
    // No serial notified: the adapter's device waits for it (R7.1).
    let page = browser.get("/console/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    let t = &mpc_server::web::i18n::JA;
    assert!(page.text.contains(t.withheld_devices), "{}", page.text);
    assert!(
        page.text.contains(&format!("/console/contracts/{a}"))
            && page.text.contains("<code>R7.1</code>"),
        "{}",
        page.text
    );
    app.accepted(
        &k,
        json!({"kind": "notify_serial", "contract_id": a, "serial": "X4-WAIT-0001"}),
        "2026-04-02",
    )
    .await;
    let page = browser.get("/console/dashboard").await;
    assert!(!page.text.contains(t.withheld_devices), "{}", page.text);
}

async fn request_forms_choose_the_kind_first_offer_what_fits_and_check_as_filled(db: TestDb) {
    let app = TestApp::new(db).await;
    let (cid, _) = contractor_user(&app, "Form Works", "tanaka").await;
    let (m, x4) = app.eligible_setup(&cid, "SEIL/X4", "2026-04-01").await;
    let adapter = |device: &str| {
        json!({"kind": "apply_contract", "contract_kind": "service_adapter",
               "item": "internet_gateway", "device_type": device, "management_id": m})
    };
    let w2l = common::created(
        &app.accepted(&cid, adapter("SA-W2L"), "2026-04-01").await,
        "contract_created",
    )[0]
    .clone();
    // An adapter that ended on 2026-04-19 (notice 2026-04-05 + 14 days, D3).
    let ended = common::created(
        &app.accepted(&cid, adapter("SEIL CA10"), "2026-04-01").await,
        "contract_created",
    )[0]
    .clone();
    app.accepted(
        &cid,
        json!({"kind": "cancel_contract", "contract_id": ended}),
        "2026-04-05",
    )
    .await;
    // Another SA-W2L whose mobile access option opens a packet share group of 50 GB (R9.6).
    let sharing = common::created(
        &app.accepted(&cid, adapter("SA-W2L"), "2026-04-01").await,
        "contract_created",
    )[0]
    .clone();
    app.accepted(
        &cid,
        json!({"kind": "add_option", "contract_id": sharing, "option_kind": "mobile_access",
               "usage_type": "packet_share", "network_type": "dynamic_ip",
               "group": {"new_group_pack_gb": 50}}),
        "2026-04-02",
    )
    .await;
    let sharing_number = app
        .get(&format!("/api/v1/contracts/{sharing}"), &app.operator)
        .await
        .body["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let short = |id: &str| id[id.len() - 8..].to_owned();
    for lang in ["ja", "en"] {
        let t = if lang == "en" { &EN } else { &JA };
        let mut v = Visitor::new(&app);
        v.lang = lang;
        v.sign_in("tanaka", PASSWORD).await;
        // The kind is chosen first; the form shows that kind's inputs only, and offers only
        // the contracts in service.
        let form = v.get("/console/requests/new?kind=report_failure").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.text);
        assert!(form.text.contains(r#"id="f-kind""#), "{}", form.text);
        assert!(form.text.contains(t.rf_kind), "{}", form.text);
        assert!(form.text.contains(r#"name="description""#));
        assert!(!form.text.contains(r#"name="option_kind""#));
        assert!(form.text.contains(&short(&x4)) && form.text.contains(&short(&w2l)));
        assert!(!form.text.contains(&short(&ended)), "{}", form.text);
        assert!(
            form.text
                .contains(r#"hx-post="/console/requests/new/check""#)
        );
        // A packet share group is offered by the contract whose option shares it, not by a
        // fragment of its id.
        let pack = v.get("/console/requests/new?kind=change_pack").await;
        let group = mpc_server::web::group_name(
            if lang == "en" { Lang::En } else { Lang::Ja },
            std::slice::from_ref(&sharing_number),
        );
        assert!(pack.text.contains(&group), "{group}: {}", pack.text);

        // Checking as it is filled: mobile access on the SEIL/X4 breaks R6.5, and nothing is
        // written.
        let csrf = v.csrf().await;
        let before = app.db.store.dump().await;
        let mobile = |contract: &str| {
            vec![
                ("csrf", csrf.clone()),
                ("kind", "add_option".to_owned()),
                ("contract_id", contract.to_owned()),
                ("option_kind", "mobile_access".to_owned()),
                ("usage_type", "standard".to_owned()),
                ("network_type", "dynamic_ip".to_owned()),
            ]
        };
        let post = |fields: Vec<(&'static str, String)>| {
            let v = &v;
            async move {
                let borrowed: Vec<(&str, &str)> =
                    fields.iter().map(|(k, x)| (*k, x.as_str())).collect();
                v.post("/console/requests/new/check", &borrowed).await
            }
        };
        let refused = post(mobile(&x4)).await;
        assert_eq!(refused.status, StatusCode::OK, "{}", refused.text);
        assert!(
            refused.text.contains(r#"hx-swap-oob="true""#),
            "{}",
            refused.text
        );
        assert!(
            refused.text.contains("<code>R6.5</code>"),
            "{}",
            refused.text
        );
        let fine = post(mobile(&w2l)).await;
        assert!(fine.text.contains(t.rf_ready), "{}", fine.text);
        // An input left empty is named beside itself.
        let mut blank = mobile(&w2l);
        blank.retain(|(k, _)| *k != "contract_id");
        let blank = post(blank).await;
        assert!(
            blank
                .text
                .contains(r#"<p class="field-error" id="e-contract_id">"#)
                && blank.text.contains(t.op_required),
            "{}",
            blank.text
        );
        assert_eq!(app.db.store.dump().await, before, "checks write nothing");
    }
}

backend_tests!(
    request_forms_choose_the_kind_first_offer_what_fits_and_check_as_filled,
    signing_in_sets_a_guarded_cookie_and_wrong_passwords_slow_the_address_down,
    forms_without_the_session_token_or_from_another_site_change_nothing,
    a_refused_request_is_shown_next_to_its_field_with_the_rule,
    a_form_field_that_does_not_read_is_named_and_nothing_is_sent,
    cancelling_shows_the_quote_and_needs_the_confirmation,
    contractors_see_only_their_own_pages_in_their_language,
    the_dashboard_names_devices_that_cannot_fetch_their_configuration,
);
