//! Contractors as records and users an operator disables, enables, unlocks and gives a new
//! password, through the API (and the console's sign-in, which a disabled user must not pass).

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{Reply, TestApp};
use mpc_server::AppState;
use mpc_server::app;
use mpc_server::extract::Caller;
use mpc_storage::testing::TestDb;
use mpc_storage::{accounts, backend_tests};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

/// Signs in through the console's form as a browser would.
async fn console_sign_in(app: &TestApp, username: &str, password: &str) -> Reply {
    let form = format!(
        "username={username}&password={}&next=%2Fconsole",
        mpc_server::web::urlencode(password)
    );
    app.request(
        Request::builder()
            .method(Method::POST)
            .uri("/console/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap(),
    )
    .await
}

/// The session cookie of a successful sign-in.
#[track_caller]
fn session_cookie(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    reply.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn console_page(app: &TestApp, cookie: &str, path: &str) -> Reply {
    app.request(
        Request::builder()
            .uri(path)
            .header("cookie", cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn patch(app: &TestApp, path: &str, token: &str, body: Value) -> Reply {
    app.call(Method::PATCH, path, Some(token), Some(body)).await
}

async fn journal_count(app: &TestApp, operation: &str) -> usize {
    app.get(
        &format!("/api/v1/journal?operation={operation}"),
        &app.operator,
    )
    .await
    .body["entries"]
        .as_array()
        .map_or(0, Vec::len)
}

async fn set_password(app: &TestApp, user_id: &str) {
    accounts::reset_password(
        &app.db.store,
        user_id,
        PASSWORD,
        accounts::PasswordLife::Kept,
        mpc_storage::JournalEntry::new("test", "user.password"),
    )
    .await
    .unwrap();
}

/// A new operator with a token: (user id, token).
async fn operator(app: &TestApp, username: &str) -> (String, String) {
    let u = app
        .post(
            "/api/v1/users",
            &app.operator,
            json!({ "username": username, "role": "operator" }),
        )
        .await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.text);
    let id = u.body["id"].as_str().unwrap().to_owned();
    let t = app
        .post(
            &format!("/api/v1/users/{id}/tokens"),
            &app.operator,
            json!({ "label": "test" }),
        )
        .await;
    (id, t.body["secret"].as_str().unwrap().to_owned())
}

async fn a_contractors_record_is_kept_checked_and_cleared(db: TestDb) {
    let app = TestApp::new(db).await;
    let (c, _, token) = app.contractor_with_user("株式会社記録", "kiroku").await;
    let (other, _, _) = app.contractor_with_user("株式会社他社", "tasha").await;
    let path = format!("/api/v1/contractors/{c}");
    // A new contractor has no record: nothing is shown for it.
    let fresh = app.get(&path, &app.operator).await;
    assert!(fresh.body.get("billing_email").is_none(), "{}", fresh.text);

    let set = patch(
        &app,
        &path,
        &app.operator,
        json!({
            "postal_code": "１００ー０００１", "address": "東京都千代田区千代田1-1",
            "contact_name": "経理 花子", "phone": "03-1234-5678",
            "billing_email": "keiri@example.co.jp"
        }),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.body["postal_code"], "100-0001");
    assert_eq!(set.body["billing_email"], "keiri@example.co.jp");
    assert_eq!(set.body["name"], "株式会社記録");
    assert_eq!(app.get(&path, &app.operator).await.body, set.body);

    // A bad field refuses the whole change, naming the field; nothing is written.
    let before = app.db.store.dump().await;
    for (field, value) in [
        ("billing_email", json!("keiri@example")),
        (
            "billing_email",
            json!(format!("{}@example.jp", "a".repeat(65))),
        ),
        ("postal_code", json!("100-001")),
        ("phone", json!("03-1234-5678 内線2")),
        ("address", json!("あ".repeat(201))),
        ("contact_name", json!("経理\u{7}")),
    ] {
        let mut body = json!({ "contact_name": "別人", "phone": "0120-000-000" });
        body[field] = value;
        let bad = patch(&app, &path, &app.operator, body).await;
        bad.assert_problem(422, "invalid_field");
        assert_eq!(bad.body["errors"][0]["field"], field, "{}", bad.text);
    }
    assert_eq!(app.db.store.dump().await, before);

    // Its own user keeps the record current but does not rename it; another's is not found.
    let own = patch(
        &app,
        &path,
        &token,
        json!({ "phone": "", "contact_name": "総務 太郎" }),
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert!(own.body.get("phone").is_none(), "cleared: {}", own.text);
    assert_eq!(own.body["contact_name"], "総務 太郎");
    assert_eq!(own.body["billing_email"], "keiri@example.co.jp");
    let rename = patch(&app, &path, &token, json!({ "name": "株式会社改名" })).await;
    rename.assert_problem(403, "forbidden");
    // The name as it is is not a rename.
    let same = patch(&app, &path, &token, json!({ "name": "株式会社記録" })).await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.text);
    let theirs = patch(
        &app,
        &format!("/api/v1/contractors/{other}"),
        &token,
        json!({ "phone": "03-0000-0000" }),
    )
    .await;
    theirs.assert_problem(404, "not_found");
    let renamed = patch(
        &app,
        &path,
        &app.operator,
        json!({ "name": "株式会社改名" }),
    )
    .await;
    assert_eq!(renamed.body["name"], "株式会社改名");
    assert_eq!(renamed.body["contact_name"], "総務 太郎");

    // Set, own change, rename: three journal rows; refusals and no-ops none.
    assert_eq!(journal_count(&app, "contractor.update").await, 3);
}

async fn a_disabled_user_signs_in_nowhere_until_enabled(db: TestDb) {
    let app = TestApp::new(db).await;
    let (_, user, token) = app.contractor_with_user("株式会社無効", "mukou").await;
    set_password(&app, &user).await;
    let cookie = session_cookie(&console_sign_in(&app, "mukou", PASSWORD).await);
    assert_eq!(
        console_page(&app, &cookie, "/console/dashboard")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(app.get("/api/v1/me", &token).await.status, StatusCode::OK);

    let off = app
        .post(
            &format!("/api/v1/users/{user}/disable"),
            &app.operator,
            json!({}),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text);
    assert_eq!(off.body["state"], "disabled");
    assert!(off.body["disabled_at"].is_string());
    // Every way in is shut: the API token, the open session, a new sign-in.
    app.get("/api/v1/me", &token)
        .await
        .assert_problem(401, "account_disabled");
    let session = console_page(&app, &cookie, "/console/dashboard").await;
    assert_eq!(session.status, StatusCode::SEE_OTHER);
    assert!(
        session.headers["location"]
            .to_str()
            .unwrap()
            .starts_with("/console/login")
    );
    let refused = console_sign_in(&app, "mukou", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert!(refused.headers.get("set-cookie").is_none());
    assert!(
        refused
            .text
            .contains(mpc_server::web::i18n::JA.rec_account_disabled)
    );
    // A wrong password is told as wrong, as for anyone: the state is told only to the owner.
    let wrong = console_sign_in(&app, "mukou", "not the password at all").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    // Disabling again changes nothing.
    let again = app
        .post(
            &format!("/api/v1/users/{user}/disable"),
            &app.operator,
            json!({}),
        )
        .await;
    assert_eq!(again.body["disabled_at"], off.body["disabled_at"]);
    assert_eq!(journal_count(&app, "user.disable").await, 1);

    let on = app
        .post(
            &format!("/api/v1/users/{user}/enable"),
            &app.operator,
            json!({}),
        )
        .await;
    assert_eq!(on.body["state"], "active", "{}", on.text);
    assert!(on.body.get("disabled_at").is_none());
    assert_eq!(app.get("/api/v1/me", &token).await.status, StatusCode::OK);
    let back = session_cookie(&console_sign_in(&app, "mukou", PASSWORD).await);
    assert_eq!(
        console_page(&app, &back, "/console/dashboard").await.status,
        StatusCode::OK
    );
    // The session that was open when it was disabled stays ended.
    assert_eq!(
        console_page(&app, &cookie, "/console/dashboard")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(journal_count(&app, "user.enable").await, 1);
    // Only operators do this; a contractor user is refused even for itself.
    app.post(&format!("/api/v1/users/{user}/disable"), &token, json!({}))
        .await
        .assert_problem(403, "forbidden");
}

async fn unlocking_forgets_failed_sign_ins_at_once(db: TestDb) {
    let app = TestApp::new(db).await;
    let (_, user, token) = app.contractor_with_user("株式会社施錠", "sejou").await;
    set_password(&app, &user).await;
    // FREE_FAILURES_PER_ACCOUNT = 5: the fifth failure makes the name wait 5 s.
    for _ in 0..5 {
        let wrong = console_sign_in(&app, "sejou", "not the password at all").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let locked = app
        .get(&format!("/api/v1/users/{user}"), &app.operator)
        .await;
    assert_eq!(locked.body["state"], "locked", "{}", locked.text);
    assert!(locked.body["locked_until"].is_string());
    let held = console_sign_in(&app, "sejou", PASSWORD).await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS);
    // A lock holds sign-ins back, not API tokens.
    assert_eq!(app.get("/api/v1/me", &token).await.status, StatusCode::OK);

    let unlocked = app
        .post(
            &format!("/api/v1/users/{user}/unlock"),
            &app.operator,
            json!({}),
        )
        .await;
    assert_eq!(unlocked.body["state"], "active", "{}", unlocked.text);
    assert!(unlocked.body.get("locked_until").is_none());
    session_cookie(&console_sign_in(&app, "sejou", PASSWORD).await);
    // Nothing left to forget: no second journal row.
    app.post(
        &format!("/api/v1/users/{user}/unlock"),
        &app.operator,
        json!({}),
    )
    .await;
    assert_eq!(journal_count(&app, "user.unlock").await, 1);
}

async fn a_reset_password_is_shown_once_and_ends_sessions(db: TestDb) {
    let app = TestApp::new(db).await;
    let (_, user, token) = app.contractor_with_user("株式会社再発行", "saihakko").await;
    set_password(&app, &user).await;
    let cookie = session_cookie(&console_sign_in(&app, "saihakko", PASSWORD).await);
    let reset = app
        .post(
            &format!("/api/v1/users/{user}/password-reset"),
            &app.operator,
            json!({}),
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    assert_eq!(reset.headers["cache-control"], "no-store");
    let password = reset.body["password"].as_str().unwrap();
    assert_eq!(password.len(), 20);
    assert_eq!(
        console_page(&app, &cookie, "/console/dashboard")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        console_sign_in(&app, "saihakko", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    session_cookie(&console_sign_in(&app, "saihakko", password).await);
    app.post(
        &format!("/api/v1/users/{user}/password-reset"),
        &token,
        json!({}),
    )
    .await
    .assert_problem(403, "forbidden");
}

async fn nobody_disables_itself_or_the_last_operator(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.get("/api/v1/me", &app.operator).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let own = app
        .post(
            &format!("/api/v1/users/{admin}/disable"),
            &app.operator,
            json!({}),
        )
        .await;
    own.assert_problem(409, "own_account");
    // The command line is nobody's account, but the last operator stays all the same.
    let state = AppState::new(app.db.store.clone(), app.key.clone());
    let last = app::users::disable(&state, &Caller::command_line(), &admin)
        .await
        .unwrap_err();
    assert_eq!((last.status.as_u16(), &*last.code), (409, "last_operator"));

    let (second, second_token) = operator(&app, "second").await;
    let done = app
        .post(
            &format!("/api/v1/users/{admin}/disable"),
            &second_token,
            json!({}),
        )
        .await;
    assert_eq!(done.body["state"], "disabled", "{}", done.text);
    app.get("/api/v1/me", &app.operator)
        .await
        .assert_problem(401, "account_disabled");
    app.post(
        &format!("/api/v1/users/{second}/disable"),
        &second_token,
        json!({}),
    )
    .await
    .assert_problem(409, "own_account");
    let last = app::users::disable(&state, &Caller::command_line(), &second)
        .await
        .unwrap_err();
    assert_eq!(&*last.code, "last_operator");
    app.post(
        &format!("/api/v1/users/{admin}/enable"),
        &second_token,
        json!({}),
    )
    .await;
    assert_eq!(
        accounts::count_active_operators(&app.db.store)
            .await
            .unwrap(),
        2
    );
}

/// Two operators left, each disabled at the same moment (released together from a barrier,
/// on two server nodes with their own connection pools): exactly one is disabled, the other
/// refused as the last, whatever the order.
async fn disabling_the_last_two_operators_at_once_leaves_one(db: TestDb) {
    let app = TestApp::new(db).await;
    let admin = app.get("/api/v1/me", &app.operator).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (second, _) = operator(&app, "second").await;
    let other = mpc_storage::Store::open(&app.db.url).await.unwrap();
    let nodes = [
        AppState::new(app.db.store.clone(), app.key.clone()),
        AppState::new(other, app.key.clone()),
    ];
    for round in 0..5 {
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = [&admin, &second]
            .into_iter()
            .zip(nodes.iter().cloned())
            .map(|(user, state)| {
                let (user, barrier) = (user.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    app::users::disable(&state, &Caller::command_line(), &user)
                        .await
                        .map(|u| u.id)
                        .map_err(|e| e.code.to_string())
                })
            })
            .collect();
        let mut disabled = Vec::new();
        let mut refused = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                Ok(id) => disabled.push(id),
                Err(code) => refused.push(code),
            }
        }
        assert_eq!(disabled.len(), 1, "round {round}: {disabled:?} {refused:?}");
        assert_eq!(refused, ["last_operator"], "round {round}");
        assert_eq!(
            accounts::count_active_operators(&app.db.store)
                .await
                .unwrap(),
            1
        );
        app::users::enable(&nodes[0], &Caller::command_line(), &disabled[0])
            .await
            .unwrap();
    }
    assert_eq!(journal_count(&app, "user.disable").await, 5);
}

/// Whether `password` opens the console for `username` now.
async fn opens(app: &TestApp, username: &str, password: &str) -> bool {
    let reply = console_sign_in(app, username, password).await;
    match reply.status {
        StatusCode::SEE_OTHER => true,
        StatusCode::UNAUTHORIZED => false,
        other => panic!("{username}: {other} {}", reply.text),
    }
}

async fn password_change_required(app: &TestApp, user_id: &str) -> bool {
    let user = app
        .get(&format!("/api/v1/users/{user_id}"), &app.operator)
        .await;
    user.body["password_change_required"].as_bool().unwrap()
}

/// Every password someone else sets is temporary, through the API and the command line's
/// use case alike; the views say so, and the user's own change clears it.
async fn a_password_set_by_someone_else_must_be_changed_at_the_next_sign_in(db: TestDb) {
    let app = TestApp::new(db).await;
    let (_, user, token) = app.contractor_with_user("株式会社一時", "ichiji").await;
    assert!(
        !password_change_required(&app, &user).await,
        "no password yet"
    );
    let reset = app
        .post(
            &format!("/api/v1/users/{user}/password-reset"),
            &app.operator,
            json!({}),
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    assert!(password_change_required(&app, &user).await);
    // Its own view tells the user too, through a token that keeps working.
    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.body["password_change_required"], true);
    let listed = app.get("/api/v1/users?limit=100", &app.operator).await.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == user.as_str())
        .cloned()
        .unwrap();
    assert_eq!(listed["password_change_required"], true);
    let journal = app
        .get("/api/v1/journal?operation=user.password", &app.operator)
        .await;
    assert_eq!(
        journal.body["entries"][0]["outcome"]["password_change_required"], true,
        "{}",
        journal.text
    );

    // The user's own change clears it.
    let temporary = reset.body["password"].as_str().unwrap();
    let cookie = session_cookie(&console_sign_in(&app, "ichiji", temporary).await);
    let secret = cookie.trim_start_matches("mpc_session=").to_owned();
    let state = AppState::new(app.db.store.clone(), app.key.clone());
    let stored = accounts::get_user(&app.db.store, &user).await.unwrap();
    let caller = Caller::user(stored.actor().unwrap(), None);
    let own = || String::from("ichiji's own password");
    let same = app::session::change_password(
        &state,
        &caller,
        (&stored, &secret),
        temporary.to_owned(),
        temporary.to_owned(),
        temporary,
    )
    .await
    .unwrap();
    assert!(
        matches!(&same, Err(app::session::PasswordRefusal::Refused(e)) if e.field == "new"),
        "{same:?}"
    );
    app::session::change_password(
        &state,
        &caller,
        (&stored, &secret),
        temporary.to_owned(),
        own(),
        &own(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(!password_change_required(&app, &user).await);

    // The command line sets one chosen by whoever runs it: temporary again.
    app::users::set_password(
        &state,
        &Caller::command_line(),
        &user,
        "chosen by the operator",
    )
    .await
    .unwrap();
    assert!(password_change_required(&app, &user).await);
    assert!(!opens(&app, "ichiji", &own()).await);
}

/// An operator resets a password while its user is changing it (the two released together,
/// on two server nodes): the reset wins whatever the order. Its password is the one that
/// opens the account, still temporary, and the user's new one opens nothing; had the user's
/// change landed after it, the password the operator handed out would not work.
async fn a_reset_while_the_user_changes_the_password_wins(db: TestDb) {
    let app = TestApp::new(db).await;
    let (_, user, _) = app.contractor_with_user("株式会社競合", "kyougou").await;
    let other = mpc_storage::Store::open(&app.db.url).await.unwrap();
    let nodes = [
        AppState::new(app.db.store.clone(), app.key.clone()),
        AppState::new(other, app.key.clone()),
    ];
    let operator = Caller::user(
        accounts::find_user_by_username(&app.db.store, "admin")
            .await
            .unwrap()
            .actor()
            .unwrap(),
        None,
    );
    let mut temporary = app::users::reset_password(&nodes[0], &operator, &user)
        .await
        .unwrap()
        .password;
    for round in 0..3 {
        let cookie = session_cookie(&console_sign_in(&app, "kyougou", &temporary).await);
        let secret = cookie.trim_start_matches("mpc_session=").to_owned();
        let stored = accounts::get_user(&app.db.store, &user).await.unwrap();
        let own = format!("kyougou's own password {round}");
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let change = tokio::spawn({
            let (state, barrier, own, current) = (
                nodes[0].clone(),
                barrier.clone(),
                own.clone(),
                temporary.clone(),
            );
            async move {
                let caller = Caller::user(stored.actor().unwrap(), None);
                barrier.wait().await;
                app::session::change_password(
                    &state,
                    &caller,
                    (&stored, &secret),
                    current,
                    own.clone(),
                    &own,
                )
                .await
                .unwrap()
            }
        });
        let reset = tokio::spawn({
            let (state, barrier, user) = (nodes[1].clone(), barrier.clone(), user.clone());
            let operator = Caller::user(operator.actor.clone(), None);
            async move {
                barrier.wait().await;
                app::users::reset_password(&state, &operator, &user)
                    .await
                    .unwrap()
                    .password
            }
        });
        let changed = change.await.unwrap();
        temporary = reset.await.unwrap();
        assert!(
            opens(&app, "kyougou", &temporary).await,
            "round {round}: {changed:?}"
        );
        assert!(
            !opens(&app, "kyougou", &own).await,
            "round {round}: {changed:?}"
        );
        assert!(password_change_required(&app, &user).await, "round {round}");
        // A change refused for the reset wrote nothing; one that landed first is journaled.
        let changes = journal_count(&app, "console.password_change").await;
        match changed {
            Ok(()) => assert!(changes > 0),
            Err(refusal) => {
                assert_eq!(
                    refusal,
                    app::session::PasswordRefusal::WrongCurrent,
                    "round {round}"
                )
            }
        }
    }
}

/// Two operators resetting one password at once: the later reset's password is the one, the
/// earlier's opens nothing, and both are journaled.
async fn two_resets_at_once_leave_the_later_password(db: TestDb) {
    let app = TestApp::new(db).await;
    let (_, user, _) = app.contractor_with_user("株式会社二重", "nijuu").await;
    let path = format!("/api/v1/users/{user}/password-reset");
    let (a, b) = tokio::join!(
        app.post(&path, &app.operator, json!({})),
        app.post(&path, &app.operator, json!({}))
    );
    let passwords = [&a, &b].map(|r| {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body["password"].as_str().unwrap().to_owned()
    });
    let mut open = 0;
    for p in &passwords {
        open += usize::from(opens(&app, "nijuu", p).await);
    }
    assert_eq!(open, 1, "exactly one of {passwords:?}");
    assert!(password_change_required(&app, &user).await);
    assert_eq!(journal_count(&app, "user.password").await, 2);
}

backend_tests!(
    a_contractors_record_is_kept_checked_and_cleared,
    a_disabled_user_signs_in_nowhere_until_enabled,
    unlocking_forgets_failed_sign_ins_at_once,
    a_reset_password_is_shown_once_and_ends_sessions,
    nobody_disables_itself_or_the_last_operator,
    disabling_the_last_two_operators_at_once_leaves_one,
    a_password_set_by_someone_else_must_be_changed_at_the_next_sign_in,
    a_reset_while_the_user_changes_the_password_wins,
    two_resets_at_once_leave_the_later_password,
);
