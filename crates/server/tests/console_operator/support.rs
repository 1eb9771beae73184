//! What the operator console tests share: a signed-in browser, the session's token, and
//! contractors, requests and inventory set up through the API.

#![allow(dead_code, unused_imports)]

pub(crate) use crate::common::{Reply, TestApp, created};
pub(crate) use axum::Router;
pub(crate) use axum::body::Body;
pub(crate) use axum::http::{Method, Request, StatusCode};
pub(crate) use axum::routing::get;
pub(crate) use mpc_server::web::i18n::{EN, JA};
pub(crate) use mpc_storage::testing::TestDb;
pub(crate) use mpc_storage::{JournalEntry, accounts, backend_tests};
pub(crate) use serde_json::json;

pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// A signed-in browser: the session cookie, and the language it asks for.
pub(crate) struct Browser {
    pub(crate) router: Router,
    pub(crate) cookie: String,
    pub(crate) english: bool,
}

impl Browser {
    pub(crate) fn request(&self, method: Method, path: &str) -> axum::http::request::Builder {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("cookie", &self.cookie);
        if self.english {
            req = req.header("accept-language", "en");
        }
        req
    }

    pub(crate) async fn send(&self, req: Request<Body>) -> Reply {
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

    pub(crate) async fn get(&self, path: &str) -> Reply {
        self.send(self.request(Method::GET, path).body(Body::empty()).unwrap())
            .await
    }

    /// A page that must answer 200; returns its HTML.
    pub(crate) async fn page(&self, path: &str) -> String {
        let reply = self.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
        reply.text
    }

    pub(crate) async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
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
    pub(crate) async fn csrf(&self) -> String {
        let html = self.page("/console/queue/notice").await;
        token_in(&html)
    }
}

pub(crate) fn token_in(html: &str) -> String {
    let start = html.find(r#"name="csrf" value=""#).expect("a form token") + 19;
    html[start..start + 32].to_owned()
}

/// The 303 target of a form post.
#[track_caller]
pub(crate) fn see_other(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    reply.headers["location"].to_str().unwrap().to_owned()
}

/// Gives `username` a console password and signs in through the form.
pub(crate) async fn sign_in(app: &TestApp, username: &str, english: bool) -> Browser {
    let user = accounts::find_user_by_username(&app.db.store, username)
        .await
        .unwrap();
    accounts::reset_password(
        &app.db.store,
        &user.id,
        PASSWORD,
        accounts::PasswordLife::Kept,
        JournalEntry::new("test", "user.password"),
    )
    .await
    .unwrap();
    sign_in_with(app, username, PASSWORD, english).await
}

pub(crate) async fn sign_in_with(
    app: &TestApp,
    username: &str,
    password: &str,
    english: bool,
) -> Browser {
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
pub(crate) fn no_english_phrases(path: &str, html: &str) {
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
pub(crate) fn no_japanese(path: &str, html: &str) {
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

/// A pending application of a management for `contractor`, submitted through the API.
pub(crate) async fn pending_request(app: &TestApp, contractor: &str) -> String {
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

pub(crate) const INVENTORY: &str =
    "X4-0001,SEIL/X4,factory-secret-x4-0001\nW2L-0001,SA-W2L,factory-secret-w2l-0001\n";
