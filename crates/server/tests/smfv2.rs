//! Devices calling home over SMFv2, on SQLite and PostgreSQL, through a real TLS 1.0 client:
//! LS then RS delivers the rendered recipe; the provisioning rules of `/device/v1` hold
//! (R12.3, R11.1); unknown Distribution IDs and wrong keys are refused alike; the first fetch
//! starts billing (R5.2). Push over the tunnel is in `smfv2_push.rs`.

#[path = "common/mod.rs"]
mod common;
// Shared with the controller tests, which use more of it.
#[allow(dead_code)]
#[path = "smfv2/client.rs"]
mod client;
#[allow(unused_imports)]
#[path = "controller/support.rs"]
mod support;

use std::path::Path;

use mpc_server::smfv2::pki;
use mpc_storage::backend_tests;
use mpc_storage::smfv2::{self, ColumnFault, Refused};
use mpc_storage::testing::TestDb;

use crate::client::*;
use crate::support::*;

const DISTID_1: &str = "0001-0000-0000-0001-0000-0000-0000-0001";
const DISTID_2: &str = "0001-0000-0000-0001-0000-0000-0000-0002";
const DISTID_X4: &str = "0001-0000-0000-0002-0000-0000-0000-0001";

fn assert_files_exist(dir: &Path) {
    for f in [pki::CA_FILE, pki::CERT_FILE, pki::KEY_FILE] {
        assert!(dir.join(f).exists(), "{f}");
    }
}

async fn ls_then_rs_delivers_the_rendered_recipe_over_tls_1_0(db: TestDb) {
    let cfg = config();
    let app = TestApp::with_config(db, cfg.clone()).await;
    let smf = listen(&app, &cfg).await;
    assert_files_exist(smf.dir.path());
    let (_, a) = fleet(&app, "株式会社呼出", "SA-W2L", "W2L-SMF").await;
    let id = identity(&app, "W2L-SMF", DISTID_1).await;
    let saved = put_preset(&app, &a, pppoe_gateway("line-pass-smf")).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);

    // LS: the RS location, the RS key, a line block and the CA, under 2048 bytes.
    let ls = rs_solicitation(&smf, DISTID_1, &id.ls_key).await;
    assert_eq!(result_code(&ls), "100", "{ls}");
    assert_eq!(element(&ls, "rs-preshared-key"), Some(id.rs_key.as_str()));
    assert_eq!(element(&ls, "url"), Some(smf.rs_url.as_str()));
    let location = element(&ls, "md-config").unwrap();
    assert!(location.starts_with("line-dhcp {"), "{location}");
    assert!(location.contains("-----BEGIN CERTIFICATE-----"));
    assert!(location.len() < 2048);
    assert!(ls.is_ascii());

    // RS: the recipe of revision 1, base64, the same text /device/v1 serves.
    let rs = config_solicitation(&smf, DISTID_1, &id.rs_key).await;
    assert!(rs.is_ascii());
    assert!(
        rs.contains("<module id=\"1\" version=\"1\">mpc-recipe</module>"),
        "{rs}"
    );
    assert_eq!(
        element(&rs, "rs-pull-server-url"),
        Some(smf.rs_url.as_str())
    );
    let text = delivered(&rs);
    assert!(text.contains("line-pass-smf"), "{text}");
    let polled = fetch(&app, "W2L-SMF", None).await;
    assert_eq!(polled.status, StatusCode::OK, "{}", polled.text);
    assert_eq!(text, polled.text);

    // The LS key does not open the RS, nor the RS key the LS.
    let crossed = config_solicitation(&smf, DISTID_1, &id.ls_key).await;
    assert_eq!(result_code(&crossed), "403", "{crossed}");
    assert_eq!(
        result_code(&rs_solicitation(&smf, DISTID_1, &id.rs_key).await),
        "403"
    );

    // Without a heartbeat listener, no heartbeat-info.
    assert!(!rs.contains("heartbeat-info"), "{rs}");

    // Push: the HTTPS tunnel on this port, never an empty method list (brief §4.1).
    let answer = push_method_query(&smf, DISTID_1, &id.rs_key).await;
    assert_eq!(result_code(&answer), "100", "{answer}");
    assert_eq!(
        element(&answer, "push-method"),
        Some("https-tunnel"),
        "{answer}"
    );
    let tunnel = smf.rs_url.replace("/rs.cgi", "/tunnel.cgi");
    assert_eq!(element(&answer, "https-tunnel-url"), Some(tunnel.as_str()));
    assert_eq!(element(&answer, "https-tunnel-echo-interval"), Some("60"));
    // https-simple alone (mpc would have to connect to the device): later.
    let simple = request(
        "push-method-query",
        DISTID_1,
        "<push-method>https-simple</push-method>",
    );
    let (_, answer) = exchange(&smf, "/rs.cgi", DISTID_1, &id.rs_key, &simple).await;
    assert_eq!(result_code(&answer), "301", "{answer}");

    // The unit's history: what it was told, each once.
    let told: Vec<String> = events(&app, "W2L-SMF")
        .await
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(
        told,
        ["ls.accepted", "rs.accepted", "rs.refused", "ls.refused"],
        "{told:?}"
    );
}

async fn unknown_distribution_ids_and_wrong_keys_are_refused_alike(db: TestDb) {
    let cfg = config();
    let app = TestApp::with_config(db, cfg.clone()).await;
    let smf = listen(&app, &cfg).await;
    fleet(&app, "株式会社鍵", "SEIL/X4", "X4-SMF").await;
    let id = identity(&app, "X4-SMF", DISTID_X4).await;

    let unknown = rs_solicitation(&smf, DISTID_2, &id.ls_key).await;
    let wrong = rs_solicitation(&smf, DISTID_X4, "not-the-ls-key").await;
    assert_eq!(result_code(&unknown), "403", "{unknown}");
    assert_eq!(unknown, wrong, "word for word");
    // A Basic user that is not the message's Distribution ID, and no Basic at all.
    let body = request(
        "rs-solicitation",
        DISTID_X4,
        "<trigger>power on boot</trigger>",
    );
    let (_, other_user) = exchange(&smf, "/arms.cgi", DISTID_2, &id.ls_key, &body).await;
    assert_eq!(other_user, wrong);
    let unknown_rs = config_solicitation(&smf, DISTID_2, &id.rs_key).await;
    let wrong_rs = config_solicitation(&smf, DISTID_X4, "not-the-rs-key").await;
    assert_eq!(result_code(&unknown_rs), "403");
    assert_eq!(unknown_rs, wrong_rs);
    // Nothing delivered, and the right keys still work.
    assert!(!wrong_rs.contains("md-config"));
    assert_eq!(
        result_code(&rs_solicitation(&smf, DISTID_X4, &id.ls_key).await),
        "100"
    );
    // The known unit's history shows the refusals; retries are not recorded again.
    let _ = rs_solicitation(&smf, DISTID_X4, "not-the-ls-key").await;
    let told: Vec<(String, String)> = events(&app, "X4-SMF")
        .await
        .into_iter()
        .map(|e| (e.event, e.detail))
        .collect();
    assert_eq!(
        told[0],
        ("ls.refused".to_owned(), "authentication failed".to_owned()),
        "{told:?}"
    );
    assert_eq!(
        told.iter().filter(|(e, _)| e == "ls.accepted").count(),
        1,
        "{told:?}"
    );
}

async fn r12_3_a_lost_unit_is_refused_and_r11_1_its_replacement_served(db: TestDb) {
    let cfg = config();
    let app = TestApp::with_config(db, cfg.clone()).await;
    let smf = listen(&app, &cfg).await;
    let (k, a) = fleet(&app, "株式会社紛失", "SA-W2L", "W2L-LOST").await;
    let lost = identity(&app, "W2L-LOST", DISTID_1).await;
    let saved = put_preset(&app, &a, pppoe_gateway("line-pass-lost")).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    let before = delivered(&config_solicitation(&smf, DISTID_1, &lost.rs_key).await);

    let report = app.post(&format!("/api/v1/contractors/{k}/requests"), &app.operator,
        json!({"request": {"kind": "report_loss", "contract_id": a}, "submitted_on": "2026-02-01"})).await;
    assert_eq!(report.status, StatusCode::CREATED, "{}", report.text);
    // The replacement comes in with its identity in the inventory file (keys generated
    // where the columns are empty).
    let r = import(
        &app,
        &format!(
            "W2L-NEW,SA-W2L,{},{DISTID_2},ls-key-W2L-NEW,,\n",
            secret("W2L-NEW")
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let replacement =
        smfv2::by_distribution_id(&mut app.db.store.conn().await.unwrap(), &app.key, DISTID_2)
            .await
            .unwrap()
            .unwrap()
            .1;
    assert_eq!(replacement.ls_key, "ls-key-W2L-NEW");
    // Not notified yet: refused with R7.1 at the LS.
    let early = rs_solicitation(&smf, DISTID_2, &replacement.ls_key).await;
    assert_eq!(result_code(&early), "421", "{early}");
    let id = report.body["id"].as_str().unwrap();
    let accepted = app.post(&format!("/api/v1/requests/{id}/accept"), &app.operator,
        json!({"on": "2026-02-01", "replacement_serial": "W2L-NEW", "replaced_on": "2026-02-03"})).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);

    // R12.3: the lost unit is refused at the LS and at the RS, with "retry later" codes.
    let ls = rs_solicitation(&smf, DISTID_1, &lost.ls_key).await;
    assert_eq!(result_code(&ls), "421", "{ls}");
    assert!(!ls.contains("rs-preshared-key"));
    let rs = config_solicitation(&smf, DISTID_1, &lost.rs_key).await;
    assert_eq!(result_code(&rs), "421", "{rs}");
    assert!(!rs.contains("line-pass"));
    let rules: Vec<(String, Option<String>)> = events(&app, "W2L-LOST")
        .await
        .into_iter()
        .map(|e| (e.event, e.rule))
        .collect();
    assert!(
        rules.contains(&("ls.refused".to_owned(), Some("R12.3".to_owned()))),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("rs.refused".to_owned(), Some("R12.3".to_owned()))),
        "{rules:?}"
    );
    // The operator's device page lists them.
    let page = console_page(&app, "W2L-LOST").await;
    assert!(
        page.contains(mpc_server::web::i18n::JA.op_smfv2_events),
        "{page}"
    );
    assert!(page.contains("<code>R12.3</code>"), "{page}");
    let early: Vec<Option<String>> = events(&app, "W2L-NEW")
        .await
        .into_iter()
        .map(|e| e.rule)
        .collect();
    assert_eq!(early[0].as_deref(), Some("R7.1"));

    // R11.1: the replacement, under its own Distribution ID, gets the contract's configuration.
    let ls = rs_solicitation(&smf, DISTID_2, &replacement.ls_key).await;
    assert_eq!(result_code(&ls), "100", "{ls}");
    assert_eq!(
        element(&ls, "rs-preshared-key"),
        Some(replacement.rs_key.as_str())
    );
    let served = delivered(&config_solicitation(&smf, DISTID_2, &replacement.rs_key).await);
    assert_eq!(served, before);
}

async fn r5_2_the_first_smfv2_fetch_starts_billing(db: TestDb) {
    let mut cfg = config();
    cfg.device.billing_start_on_first_fetch = true;
    let app = TestApp::with_config(db, cfg.clone()).await;
    let smf = listen(&app, &cfg).await;
    let (_, a) = fleet(&app, "株式会社課金", "SEIL/X4", "X4-BILL").await;
    let id = identity(&app, "X4-BILL", DISTID_X4).await;
    // The LS alone delivers no configuration: billing waits.
    assert_eq!(
        result_code(&rs_solicitation(&smf, DISTID_X4, &id.ls_key).await),
        "100"
    );
    let contract = app
        .get(&format!("/api/v1/contracts/{a}"), &app.operator)
        .await;
    assert!(
        contract.body["billing_start"].is_null(),
        "{}",
        contract.text
    );

    let text = delivered(&config_solicitation(&smf, DISTID_X4, &id.rs_key).await);
    assert!(!text.is_empty());
    let today = mpc_domain::calendar::tokyo_date(jiff::Timestamp::now()).to_string();
    let contract = app
        .get(&format!("/api/v1/contracts/{a}"), &app.operator)
        .await;
    assert_eq!(
        contract.body["billing_start"],
        today.as_str(),
        "{}",
        contract.text
    );
    // The fetch is recorded as /device/v1 records it: the serial can no longer be corrected (R7.1).
    let fetched =
        mpc_storage::fetches::fetched(&mut app.db.store.conn().await.unwrap(), "X4-BILL", &a)
            .await
            .unwrap();
    assert!(fetched);
}

async fn operators_see_the_keys_once_and_the_events_in_the_history(db: TestDb) {
    let cfg = config();
    let app = TestApp::with_config(db, cfg.clone()).await;
    let smf = listen(&app, &cfg).await;
    fleet(&app, "株式会社履歴", "SEIL/X4", "X4-KEYS").await;
    let r = import(
        &app,
        &format!("X4-SPARE,SEIL/X4,{},{DISTID_2},,,\n", secret("X4-SPARE")),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = identity(&app, "X4-KEYS", DISTID_X4).await;

    // Shown once, to operators only (to a contractor, not even whether there are keys).
    let (_, _, contractor) = app.contractor_with_user("株式会社他者", "keys-user").await;
    app.post(
        "/api/v1/devices/X4-KEYS/smfv2/reveal",
        &contractor,
        json!({}),
    )
    .await
    .assert_problem(404, "not_found");
    let shown = app
        .post(
            "/api/v1/devices/X4-KEYS/smfv2/reveal",
            &app.operator,
            json!({}),
        )
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    assert_eq!(shown.body["distribution_id"], DISTID_X4);
    assert_eq!(shown.body["ls_key"], id.ls_key.as_str());
    assert_eq!(shown.body["rs_key"], id.rs_key.as_str());
    app.post(
        "/api/v1/devices/X4-KEYS/smfv2/reveal",
        &app.operator,
        json!({}),
    )
    .await
    .assert_problem(409, "conflict");
    // Generated keys of an imported identity are shown the same way, and work.
    let spare = app
        .post(
            "/api/v1/devices/X4-SPARE/smfv2/reveal",
            &app.operator,
            json!({}),
        )
        .await;
    assert_eq!(spare.status, StatusCode::OK, "{}", spare.text);
    let spare_ls = spare.body["ls_key"].as_str().unwrap().to_owned();
    let refused = rs_solicitation(&smf, DISTID_2, &spare_ls).await;
    assert_eq!(
        result_code(&refused),
        "421",
        "R7.1: never notified: {refused}"
    );
    app.post(
        "/api/v1/devices/X4-NONE/smfv2/reveal",
        &app.operator,
        json!({}),
    )
    .await
    .assert_problem(404, "not_found");

    // A unit imported without an identity is given one by an operator.
    let r = import(&app, &format!("X4-LATER,SEIL/X4,{}\n", secret("X4-LATER"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let later = "0001-0000-0000-0002-0000-0000-0000-0009";
    let body = json!({"distribution_id": later, "ls_key": "ls-key-later-0001"});
    app.post("/api/v1/devices/X4-LATER/smfv2", &contractor, body.clone())
        .await
        .assert_problem(404, "not_found");
    let malformed = app
        .post(
            "/api/v1/devices/X4-LATER/smfv2",
            &app.operator,
            json!({"distribution_id": "0001-0000"}),
        )
        .await;
    malformed.assert_problem(422, "invalid_smfv2_identity");
    let fault = ColumnFault::DistributionId {
        given: "0001-0000".into(),
    };
    assert_eq!(
        malformed.body["errors"][0],
        json!({"field": "distribution_id", "message": fault.message_en(),
               "message_ja": fault.message_ja()})
    );
    app.post("/api/v1/devices/X4-NONE/smfv2", &app.operator, body.clone())
        .await
        .assert_problem(404, "not_found");
    let made = app
        .post(
            "/api/v1/devices/X4-LATER/smfv2",
            &app.operator,
            body.clone(),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    assert_eq!(made.body["distribution_id"], later);
    assert!(made.body.get("revealed_at").is_none(), "{}", made.text);
    let twice = app
        .post("/api/v1/devices/X4-LATER/smfv2", &app.operator, body)
        .await;
    twice.assert_problem(409, "conflict");
    let has = Refused::HasIdentity {
        serial: "X4-LATER".into(),
    };
    assert_eq!(
        (&twice.body["detail"], &twice.body["detail_ja"]),
        (&json!(has.message_en()), &json!(has.message_ja()))
    );
    app.post(
        "/api/v1/devices/X4-SPARE/smfv2",
        &app.operator,
        json!({"distribution_id": later}),
    )
    .await
    .assert_problem(409, "conflict");
    let dump = app.db.store.dump().await.join("\n");
    assert!(
        !dump.contains("ls-key-later-0001"),
        "a key rests in clear or in the journal"
    );
    let ls = rs_solicitation(&smf, later, "ls-key-later-0001").await;
    assert_eq!(result_code(&ls), "421", "R7.1: never notified: {ls}");

    // The device's history carries what the listener told it, refusals with their rule.
    assert_eq!(
        result_code(&rs_solicitation(&smf, DISTID_X4, &id.ls_key).await),
        "100"
    );
    let history = app
        .get("/api/v1/devices/X4-KEYS/history", &app.operator)
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.text);
    assert_eq!(
        history.body["smfv2_events"][0]["event"], "ls.accepted",
        "{}",
        history.text
    );
    let spare = app
        .get("/api/v1/devices/X4-SPARE/history", &app.operator)
        .await;
    assert_eq!(
        spare.body["smfv2_events"][0]["event"], "ls.refused",
        "{}",
        spare.text
    );
    assert_eq!(
        spare.body["smfv2_events"][0]["rule"], "R7.1",
        "{}",
        spare.text
    );
}

backend_tests!(
    ls_then_rs_delivers_the_rendered_recipe_over_tls_1_0,
    unknown_distribution_ids_and_wrong_keys_are_refused_alike,
    r12_3_a_lost_unit_is_refused_and_r11_1_its_replacement_served,
    r5_2_the_first_smfv2_fetch_starts_billing,
    operators_see_the_keys_once_and_the_events_in_the_history
);
