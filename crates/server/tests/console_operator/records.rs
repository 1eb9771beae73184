//! A contractor's record edited from the operator's page and from the contractor's own; its
//! users disabled, enabled, unlocked and given a new password there.

use crate::support::*;

/// The password a page shows once, after `label`.
fn shown_password(html: &str, label: &str) -> String {
    let start = html.find(label).expect("the password, once") + label.len();
    html[start..]
        .trim_start_matches(" <code>")
        .split('<')
        .next()
        .unwrap()
        .to_owned()
}

async fn the_operator_edits_the_record_and_manages_the_users(db: TestDb) {
    let app = TestApp::new(db).await;
    let (c, user, token) = app.contractor_with_user("Records Inc.", "records").await;
    let op = sign_in(&app, "admin", false).await;
    let csrf = op.csrf().await;
    let here = format!("/console/contractors/{c}");
    let not_set = format!(r#"<span class="hint">{}</span>"#, JA.rec_not_set);
    let page = op.page(&here).await;
    assert_eq!(page.matches(&not_set).count(), 5, "every field unset");

    let form = |email: &'static str| {
        vec![
            ("name", "Records Inc."),
            ("postal_code", "1000001"),
            ("address", "1-1 Chiyoda, Tokyo"),
            ("contact_name", "Hanako Keiri"),
            ("phone", ""),
            ("billing_email", email),
        ]
    };
    let mut bad = form("billing@");
    bad.push(("csrf", &csrf));
    let refused = op.post(&format!("{here}/record"), &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text.contains(r#"id="rec-email-error""#),
        "{}",
        refused.text
    );
    // The form comes back as typed.
    assert!(refused.text.contains(r#"value="1-1 Chiyoda, Tokyo""#));
    let mut good = form("billing@records.example.jp");
    good.push(("csrf", &csrf));
    assert_eq!(
        see_other(&op.post(&format!("{here}/record"), &good).await),
        here
    );
    let saved = app
        .get(&format!("/api/v1/contractors/{c}"), &app.operator)
        .await;
    assert_eq!(saved.body["postal_code"], "100-0001");
    assert_eq!(saved.body["billing_email"], "billing@records.example.jp");
    assert!(saved.body.get("phone").is_none());
    let page = op.page(&here).await;
    assert_eq!(page.matches(&not_set).count(), 1, "only the phone");

    // Disable: the badge says so and the user's token stops; enable brings it back.
    let action = |what: &str| format!("{here}/users/{user}/{what}");
    let to = see_other(&op.post(&action("disable"), &[("csrf", &csrf)]).await);
    assert!(to.starts_with(&here));
    let page = op.page(&here).await;
    assert!(
        page.contains(&format!(">{}</span>", JA.rec_disabled)),
        "{page}"
    );
    assert!(page.contains(&action("enable")));
    assert_eq!(
        app.get("/api/v1/me", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    see_other(&op.post(&action("enable"), &[("csrf", &csrf)]).await);
    assert_eq!(app.get("/api/v1/me", &token).await.status, StatusCode::OK);
    assert!(op.page(&here).await.contains(&action("disable")));

    // A new password, shown once and never cached; it works.
    let reset = op.post(&action("password"), &[("csrf", &csrf)]).await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    assert_eq!(reset.headers["cache-control"], "no-store");
    let password = shown_password(&reset.text, JA.op_password_once);
    assert_eq!(password.len(), 20, "{password}");
    assert!(!op.page(&here).await.contains(&password));

    // Locked by failed sign-ins: the page says so and offers to unlock, which works.
    for _ in 0..5 {
        let _ = sign_in_attempt(&app, "records", "not the password at all").await;
    }
    let page = op.page(&here).await;
    assert!(page.contains(JA.rec_locked), "{page}");
    see_other(&op.post(&action("unlock"), &[("csrf", &csrf)]).await);
    assert!(!op.page(&here).await.contains(&action("unlock")));
    sign_in_with(&app, "records", &password, false).await;

    // Another contractor's page does not reach this user; nor does a form without the token.
    let (other, _, _) = app.contractor_with_user("Other Inc.", "other").await;
    let stray = op
        .post(
            &format!("/console/contractors/{other}/users/{user}/disable"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(stray.status, StatusCode::NOT_FOUND);
    let forged = op.post(&action("disable"), &[("csrf", "0")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/v1/me", &token).await.status, StatusCode::OK);
}

async fn sign_in_attempt(app: &TestApp, username: &str, password: &str) -> Reply {
    app.request(
        Request::builder()
            .method(Method::POST)
            .uri("/console/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "username={username}&password={}",
                mpc_server::web::urlencode(password)
            )))
            .unwrap(),
    )
    .await
}

async fn the_contractor_keeps_its_own_record_but_not_its_name(db: TestDb) {
    let app = TestApp::new(db).await;
    let (c, _, _) = app.contractor_with_user("Own Record Inc.", "ownrec").await;
    for english in [false, true] {
        let me = sign_in(&app, "ownrec", english).await;
        let t = if english { &EN } else { &JA };
        let page = me.page("/console/record").await;
        assert!(page.contains(t.rec_nav) && page.contains(t.rec_name_by_operator));
        assert!(!page.contains(r#"name="name""#), "no name field");
        if english {
            no_japanese("/console/record", &page);
        } else {
            no_english_phrases("/console/record", &page);
        }
    }
    let me = sign_in(&app, "ownrec", false).await;
    let csrf = token_in(&me.page("/console/record").await);
    let bad = me
        .post(
            "/console/record",
            &[
                ("csrf", &csrf),
                ("postal_code", "12-345"),
                ("phone", "03-1111-2222"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.text.contains(r#"id="rec-postal-error""#),
        "{}",
        bad.text
    );
    assert!(bad.text.contains(r#"value="03-1111-2222""#));
    let record = app
        .get(&format!("/api/v1/contractors/{c}"), &app.operator)
        .await;
    assert!(record.body.get("phone").is_none(), "nothing written");
    let ok = me
        .post(
            "/console/record",
            &[
                ("csrf", &csrf),
                ("postal_code", "530-0001"),
                ("billing_email", "ap@own.example.jp"),
                // A name sent anyway is not the contractor's to change: it is ignored.
                ("name", "Renamed Inc."),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert!(ok.text.contains(JA.rec_saved));
    let record = app
        .get(&format!("/api/v1/contractors/{c}"), &app.operator)
        .await;
    assert_eq!(record.body["postal_code"], "530-0001");
    assert_eq!(record.body["billing_email"], "ap@own.example.jp");
    assert_eq!(record.body["name"], "Own Record Inc.");
    // The operator's record forms are the operator's.
    let forbidden = me
        .post(
            &format!("/console/contractors/{c}/record"),
            &[("csrf", &csrf), ("name", "Renamed Inc.")],
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
}

backend_tests!(
    the_operator_edits_the_record_and_manages_the_users,
    the_contractor_keeps_its_own_record_but_not_its_name,
);
