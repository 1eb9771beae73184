//! A console password set by someone else is temporary: its user reaches nothing but the
//! password page until they have chosen their own, and then everything again.

use crate::support::*;

/// The temporary password a page shows once.
fn shown_password(html: &str) -> String {
    let start =
        html.find(JA.op_password_once).expect("the password, once") + JA.op_password_once.len();
    html[start..]
        .trim_start_matches(" <code>")
        .split('<')
        .next()
        .unwrap()
        .to_owned()
}

/// Whether the API says `user_id`'s password must be changed.
async fn change_required(app: &TestApp, user_id: &str) -> bool {
    let user = app
        .get(&format!("/api/v1/users/{user_id}"), &app.operator)
        .await;
    assert_eq!(user.status, StatusCode::OK, "{}", user.text);
    user.body["password_change_required"].as_bool().unwrap()
}

/// Every page `pages` lists sends `browser` to the password page, keeping where it was going;
/// a form post is refused with 403 `password_change_required` and changes nothing.
async fn only_the_password_page_opens(app: &TestApp, browser: &Browser, pages: &[String]) {
    for path in pages {
        let reply = browser.get(path).await;
        assert_eq!(
            see_other(&reply),
            format!(
                "/console/password?next={}",
                mpc_server::web::urlencode(path)
            ),
            "{path}"
        );
    }
    let form = browser.page("/console/password").await;
    let csrf = token_in(&form);
    let before = app.db.store.dump().await;
    let refused = browser
        .post(
            "/console/contractors",
            &[("csrf", &csrf), ("name", "株式会社未変更")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert!(
        refused.text.contains("password_change_required"),
        "{}",
        refused.text
    );
    assert_eq!(
        app.db.store.dump().await,
        before,
        "a refused post writes nothing"
    );
}

async fn a_reset_password_opens_only_the_password_page_until_the_user_sets_their_own(db: TestDb) {
    let app = TestApp::new(db).await;
    let (c, user, token) = app.contractor_with_user("株式会社一時", "ichiji").await;
    let op = sign_in(&app, "admin", false).await;
    let csrf = op.csrf().await;
    let reset = op
        .post(
            &format!("/console/contractors/{c}/users/{user}/password"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    let temporary = shown_password(&reset.text);
    assert!(change_required(&app, &user).await);

    // Signed in with it, the user is sent to the password page from every page.
    let me = &sign_in_with(&app, "ichiji", &temporary, false).await;
    let pages: Vec<String> = [
        "/console",
        "/console/dashboard",
        "/console/contracts",
        "/console/requests",
        "/console/requests/new",
        "/console/devices",
        "/console/mobile",
        "/console/invoices",
        "/console/sla",
        "/console/consents",
        "/console/record",
        "/console/search?q=C-000001",
        "/console/queue",
        "/console/no-such-page",
    ]
    .map(str::to_owned)
    .into();
    only_the_password_page_opens(&app, me, &pages).await;
    // The page says why, offers nothing else, and its token is the session's.
    let form = me.page("/console/password?next=/console/contracts").await;
    assert!(form.contains(JA.password_change_required), "{form}");
    assert!(form.contains(JA.temporary_password), "{form}");
    assert!(!form.contains(r#"class="side""#), "no navigation: {form}");
    assert!(
        !form.contains(r#"action="/console/search""#),
        "no search: {form}"
    );
    assert!(
        form.contains(r#"name="next" value="/console/contracts""#),
        "{form}"
    );
    // The user's API token is another credential: it keeps working, and tells.
    let api = app.get("/api/v1/me", &token).await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.text);
    assert_eq!(api.body["password_change_required"], true);

    // The temporary password again is refused next to its field; so is a wrong current one.
    let csrf = token_in(&form);
    let change = |current: &str, new: &str| {
        let fields = [
            ("csrf", csrf.as_str()),
            ("current", current),
            ("new", new),
            ("confirm", new),
            ("next", "/console/contracts"),
        ]
        .map(|(k, v)| (k, v.to_owned()));
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            me.post("/console/password", &fields).await
        }
    };
    let same = change(&temporary, &temporary).await;
    assert_eq!(
        same.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        same.text
    );
    assert!(same.text.contains(r#"id="new-error""#), "{}", same.text);
    assert!(
        same.text.contains("現在のパスワードと別のもの"),
        "{}",
        same.text
    );
    let wrong = change("not the temporary one", "my own long password").await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong.text.contains(r#"id="current-error""#),
        "{}",
        wrong.text
    );
    assert!(change_required(&app, &user).await, "nothing changed yet");
    assert_eq!(
        see_other(&me.get("/console/dashboard").await),
        "/console/password?next=/console/dashboard"
    );

    // Their own: on to the page they were going to, and every page opens again.
    let done = change(&temporary, "my own long password").await;
    assert_eq!(see_other(&done), "/console/contracts");
    assert!(!change_required(&app, &user).await);
    for path in [
        "/console/dashboard",
        "/console/contracts",
        "/console/record",
    ] {
        let page = me.page(path).await;
        assert!(page.contains(r#"class="side""#), "{path}: {page}");
    }
    assert!(
        !me.page("/console/password")
            .await
            .contains(JA.password_change_required)
    );
    let journal = app
        .get(
            "/api/v1/journal?operation=console.password_change",
            &app.operator,
        )
        .await;
    assert_eq!(
        journal.body["entries"][0]["subject"],
        user.as_str(),
        "{}",
        journal.text
    );
    // The temporary password opens nothing now; their own does, straight to the dashboard.
    let again = sign_in_with(&app, "ichiji", "my own long password", false).await;
    assert!(
        again
            .page("/console/dashboard")
            .await
            .contains(r#"class="side""#)
    );
}

/// The first start prints the operator's password once, as a temporary one: every operator
/// page waits for the operator's own, in English as in Japanese.
async fn the_first_operator_sets_their_own_password_before_any_operator_page(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _, _) = app
        .contractor_with_user("First Start Inc.", "firststart")
        .await;
    let admin = accounts::find_user_by_username(&app.db.store, "admin")
        .await
        .unwrap();
    let printed = "printed-on-first-start";
    accounts::reset_password(
        &app.db.store,
        &admin.id,
        printed,
        accounts::PasswordLife::Temporary,
        JournalEntry::new("system", "user.bootstrap_password"),
    )
    .await
    .unwrap();
    let op = sign_in_with(&app, "admin", printed, true).await;
    let pages: Vec<String> = vec![
        "/console/dashboard".into(),
        "/console/queue".into(),
        "/console/queue/notice".into(),
        "/console/contractors".into(),
        format!("/console/contractors/{k}"),
        format!("/console/contractors/{k}/prices"),
        "/console/billing".into(),
        "/console/prices".into(),
        "/console/sla".into(),
        "/console/inventory".into(),
        "/console/fleet".into(),
        "/console/journal".into(),
    ];
    only_the_password_page_opens(&app, &op, &pages).await;
    let form = op.page("/console/password").await;
    assert!(form.contains(EN.password_change_required), "{form}");
    assert!(form.contains(EN.set_own_password), "{form}");
    no_japanese("/console/password", &form);
    // The operator's API token keeps working meanwhile (the first start printed it too).
    assert_eq!(
        app.get("/api/v1/me", &app.operator).await.body["password_change_required"],
        true
    );
    let csrf = token_in(&form);
    let own = "the operator's own password";
    let done = op
        .post(
            "/console/password",
            &[
                ("csrf", &csrf),
                ("current", printed),
                ("new", own),
                ("confirm", own),
            ],
        )
        .await;
    assert_eq!(see_other(&done), "/console");
    for path in &pages {
        let reply = op.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
    }
    assert_eq!(
        app.get("/api/v1/me", &app.operator).await.body["password_change_required"],
        false
    );
}

backend_tests!(
    a_reset_password_opens_only_the_password_page_until_the_user_sets_their_own,
    the_first_operator_sets_their_own_password_before_any_operator_page,
);
