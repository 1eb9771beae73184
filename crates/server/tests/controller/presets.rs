//! Presets and revisions: diff, rollback and masking, the mobile line of an SA-W2L (R6.5,
//! R9.3), item changes (R8.1) and presets that cannot render (R17.1).

use mpc_storage::backend_tests;
use mpc_storage::testing::TestDb;

use crate::support::*;

async fn revisions_diff_rollback_and_masking(db: TestDb) {
    let app = TestApp::with_config(db, config()).await;
    let (k, a) = fleet(&app, "株式会社改版", "SEIL CA10", "CA10-1").await;
    let user = app
        .post(
            &format!("/api/v1/contractors/{k}/users"),
            &app.operator,
            json!({"username": "kaiban"}),
        )
        .await;
    let uid = user.body["id"].as_str().unwrap();
    let k_token = app
        .post(
            &format!("/api/v1/users/{uid}/tokens"),
            &app.operator,
            json!({"label": "t"}),
        )
        .await
        .body["secret"]
        .as_str()
        .unwrap()
        .to_owned();

    // R17.1: every bad field is named.
    let mut bad = pppoe_gateway("");
    bad["lan"]["dhcp_pool"] = json!({"start": "10.20.0.1", "end": "10.99.0.1"});
    let refused = put_preset(&app, &a, bad).await;
    refused.assert_problem(422, "R17.1");
    let fields: Vec<&str> = refused.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"wan.password"), "{fields:?}");
    assert!(
        fields.iter().any(|f| f.starts_with("lan.dhcp_pool")),
        "{fields:?}"
    );
    // R2.2: another item's preset.
    let other = app
        .call(
            Method::PUT,
            &format!("/api/v1/contracts/{a}/preset"),
            Some(&app.operator),
            Some(
                json!({"preset": "pppoe_termination", "wan": {"id": "a", "password": "b"},
                    "lan": {"network": "203.0.113.8", "prefix_len": 29, "dhcp_pool": null},
                    "dns_forwarder": false, "ntp_server": null}),
            ),
        )
        .await;
    other.assert_problem(422, "R2.2");
    let none = app
        .get(&format!("/api/v1/contracts/{a}/revisions"), &app.operator)
        .await;
    assert_eq!(none.body["revisions"], json!([]), "refusals store nothing");

    // Three revisions: edit, edit, rollback to 1.
    assert_eq!(
        put_preset(&app, &a, pppoe_gateway("first-pass"))
            .await
            .status,
        StatusCode::OK
    );
    let mut second = pppoe_gateway("second-pass");
    second["ntp_server"] = json!("192.0.2.123");
    let by_contractor = app
        .call(
            Method::PUT,
            &format!("/api/v1/contracts/{a}/preset"),
            Some(&k_token),
            Some(second),
        )
        .await;
    assert_eq!(
        by_contractor.status,
        StatusCode::OK,
        "{}",
        by_contractor.text
    );
    assert_eq!(by_contractor.body["revision"], 2);
    // The contract is named by its number beside its id.
    let number = app
        .get(&format!("/api/v1/contracts/{a}"), &app.operator)
        .await
        .body["number"]
        .clone();
    assert!(number.as_str().unwrap().starts_with("C-"), "{number}");
    assert_eq!(by_contractor.body["contract_number"], number);
    assert_eq!(by_contractor.body["params"]["wan"]["password"], "********");

    let diff = app
        .get(
            &format!("/api/v1/contracts/{a}/revisions/1/diff/2?reveal=true"),
            &k_token,
        )
        .await;
    assert_eq!(diff.status, StatusCode::OK, "{}", diff.text);
    let changes = diff.body["changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["change"] == "changed" && c["new"] == "192.0.2.123"),
        "{}",
        diff.text
    );
    assert!(
        changes.iter().any(|c| c["new"] == "second-pass"),
        "{}",
        diff.text
    );
    // Masked, the passwords do not show, and do not differ.
    let masked = app
        .get(
            &format!("/api/v1/contracts/{a}/revisions/1/diff/2"),
            &k_token,
        )
        .await;
    assert!(!masked.text.contains("-pass"), "{}", masked.text);

    let rolled = app
        .post(
            &format!("/api/v1/contracts/{a}/revisions/1/rollback"),
            &app.operator,
            json!({}),
        )
        .await;
    assert_eq!(rolled.status, StatusCode::OK, "{}", rolled.text);
    assert_eq!(rolled.body["revision"], 3);
    let list = app
        .get(&format!("/api/v1/contracts/{a}/revisions"), &k_token)
        .await;
    let causes: Vec<(i64, &str)> = list.body["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["revision"].as_i64().unwrap(),
                r["cause"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(causes, [(1, "edit"), (2, "edit"), (3, "rollback")]);
    assert_eq!(list.body["contract_number"], number);
    assert_eq!(list.body["revisions"][2]["based_on"], 1);
    let r1 = app
        .get(
            &format!("/api/v1/contracts/{a}/revisions/1?reveal=true"),
            &k_token,
        )
        .await;
    let r3 = app
        .get(
            &format!("/api/v1/contracts/{a}/revisions/3?reveal=true"),
            &k_token,
        )
        .await;
    assert_eq!(r1.body["recipe"], r3.body["recipe"]);
    assert!(
        r3.body["recipe"]
            .as_str()
            .unwrap()
            .contains("interface.ge5.ipv4.address: 10.20.0.1/24"),
        "SEIL CA10's LAN is ge5"
    );
    let shown = app
        .get(&format!("/api/v1/contracts/{a}/revisions/3"), &k_token)
        .await;
    assert!(!shown.text.contains("first-pass"), "{}", shown.text);
    assert!(shown.body["recipe"].as_str().unwrap().contains("********"));
    let empty = app
        .get(
            &format!("/api/v1/contracts/{a}/revisions/1/diff/3"),
            &k_token,
        )
        .await;
    assert_eq!(empty.body["changes"], json!([]));
    app.get(&format!("/api/v1/contracts/{a}/revisions/9"), &k_token)
        .await
        .assert_problem(404, "not_found");

    let device = fetch(&app, "CA10-1", None).await;
    assert_eq!(device.headers["x-mpc-revision"], "3");
    assert!(device.text.contains("first-pass"));

    // Journalled, secrets redacted; nothing sealed is readable in the database.
    let journal = app.get("/api/v1/journal?limit=1000", &app.operator).await;
    let ops: Vec<&str> = journal.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    assert!(
        ops.contains(&"preset.update") && ops.contains(&"preset.rollback"),
        "{ops:?}"
    );
    assert!(!journal.text.contains("-pass"), "no secret in the journal");
    let dump = app.db.store.dump().await.join("\n");
    assert!(
        !dump.contains("-pass") && !dump.contains("factory-secret"),
        "secrets are sealed at rest"
    );
}

async fn r6_5_r9_3_the_mobile_line_of_an_sa_w2l_is_rendered_on_ta1(db: TestDb) {
    let app = TestApp::with_config(db, config()).await;
    let (k, a) = fleet(&app, "株式会社モバイル", "SA-W2L", "W2L-MOB").await;
    let added = app
        .accepted(
            &k,
            json!({"kind": "add_option", "contract_id": a, "option_kind": "mobile_access",
        "usage_type": "standard", "network_type": "fixed_ip"}),
            ON,
        )
        .await;
    let option = created(&added, "option_created")[0].clone();
    let user = app
        .post(
            &format!("/api/v1/contractors/{k}/users"),
            &app.operator,
            json!({"username": "mobairu"}),
        )
        .await;
    let uid = user.body["id"].as_str().unwrap();
    let k_token = app
        .post(
            &format!("/api/v1/users/{uid}/tokens"),
            &app.operator,
            json!({"label": "t"}),
        )
        .await
        .body["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/options/{option}/mobile-line");

    let unset = app.get(&path, &k_token).await;
    assert_eq!(unset.status, StatusCode::OK, "{}", unset.text);
    assert_eq!(unset.body["line"], Value::Null);
    // The option's contract is named by its number beside its id.
    let number = app
        .get(&format!("/api/v1/contracts/{a}"), &app.operator)
        .await
        .body["number"]
        .clone();
    assert!(number.as_str().unwrap().starts_with("C-"), "{number}");
    assert_eq!(unset.body["contract_number"], number);
    assert_eq!(
        put_preset(&app, &a, pppoe_gateway("line-pass"))
            .await
            .status,
        StatusCode::OK
    );

    // R17.1: the APN is named; nothing is stored.
    let bad = put_line(
        &app,
        &option,
        &k_token,
        json!({"apn": "1bad_apn", "id": "mobile@iij", "password": "mobile-pass-1"}),
    )
    .await;
    bad.assert_problem(422, "R17.1");
    let fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["mobile.apn"]);
    assert_eq!(app.get(&path, &k_token).await.body["line"], Value::Null);
    // The network type is the option's, not the body's.
    put_line(
        &app,
        &option,
        &k_token,
        json!({"apn": "iijmobile.biz", "id": "mobile@iij", "password": "p",
        "network_type": "dynamic_ip"}),
    )
    .await
    .assert_problem(422, "unknown_field");

    // The contractor sets the line: a new revision carries ppp0 on ta1.
    let set = put_line(
        &app,
        &option,
        &k_token,
        json!({"apn": "iijmobile.biz", "id": "mobile@iij", "password": "mobile-pass-1"}),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.body["revision"], 2);
    assert_eq!(set.body["contract_number"], number);
    assert_eq!(
        set.body["line"],
        json!({"apn": "iijmobile.biz", "id": "mobile@iij", "password": "********",
        "network_type": "fixed_ip"})
    );
    let ppp0 = |recipe: &str| -> Vec<String> {
        recipe
            .lines()
            .filter(|l| l.contains("ppp0"))
            .map(str::to_owned)
            .collect()
    };
    let revealed = app
        .get(
            &format!("/api/v1/contracts/{a}/revisions/2?reveal=true"),
            &k_token,
        )
        .await;
    assert_eq!(revealed.body["cause"], "mobile_line", "{}", revealed.text);
    assert_eq!(
        ppp0(revealed.body["recipe"].as_str().unwrap()),
        [
            "interface.ppp0.apn: iijmobile.biz",
            "interface.ppp0.auth-method: auto",
            "interface.ppp0.dialup-device: ta1",
            "interface.ppp0.id: mobile@iij",
            "interface.ppp0.ipcp.dns: enable",
            "interface.ppp0.password: mobile-pass-1",
            "nat.ipv4.napt.1.interface: ppp0",
            "route.ipv4.1.gateway: ppp0",
        ]
    );
    let masked = app
        .get(&format!("/api/v1/contracts/{a}/revisions/2"), &k_token)
        .await;
    assert!(
        masked.body["recipe"]
            .as_str()
            .unwrap()
            .contains("interface.ppp0.password: ********\n"),
        "{}",
        masked.text
    );
    assert!(!masked.text.contains("mobile-pass"), "{}", masked.text);
    let device = fetch(&app, "W2L-MOB", None).await;
    assert_eq!(device.headers["x-mpc-revision"], "2");
    assert!(
        device
            .text
            .contains("interface.ppp0.password: mobile-pass-1\n"),
        "the device gets it in clear"
    );

    // GET masks the password unless revealed.
    let shown = app.get(&path, &k_token).await;
    assert_eq!(shown.body["line"]["password"], "********");
    assert_eq!(shown.body["line"]["apn"], "iijmobile.biz");
    assert!(shown.body.get("revision").is_none());
    let clear = app.get(&format!("{path}?reveal=true"), &k_token).await;
    assert_eq!(clear.body["line"]["password"], "mobile-pass-1");
    assert_eq!(clear.body["revealed"], true);

    // Later revisions keep rendering the line: a preset edit and a rollback.
    let edit = put_preset(&app, &a, pppoe_gateway("line-pass-2")).await;
    assert_eq!(edit.body["revision"], 3);
    let rolled = app
        .post(
            &format!("/api/v1/contracts/{a}/revisions/1/rollback"),
            &app.operator,
            json!({}),
        )
        .await;
    assert_eq!(rolled.body["revision"], 4, "{}", rolled.text);
    for n in [3, 4] {
        let r = app
            .get(
                &format!("/api/v1/contracts/{a}/revisions/{n}?reveal=true"),
                &k_token,
            )
            .await;
        assert!(
            r.body["recipe"]
                .as_str()
                .unwrap()
                .contains("interface.ppp0.dialup-device: ta1"),
            "{n}: {}",
            r.text
        );
    }
    let r1 = app
        .get(
            &format!("/api/v1/contracts/{a}/revisions/1?reveal=true"),
            &k_token,
        )
        .await;
    assert!(
        !r1.body["recipe"].as_str().unwrap().contains("ppp0"),
        "revision 1 predates the line"
    );

    // Journalled with the password redacted; sealed at rest.
    let journal = app.get("/api/v1/journal?limit=1000", &app.operator).await;
    let entry = journal.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["operation"] == "mobile_line.update")
        .expect("journalled");
    assert_eq!(entry["subject"], option.as_str(), "{entry}");
    assert!(
        !journal.text.contains("mobile-pass"),
        "no secret in the journal"
    );
    let dump = app.db.store.dump().await.join("\n");
    assert!(
        !dump.contains("mobile-pass"),
        "the password is sealed at rest"
    );

    // R6.5: the adapter's ultra send-back option, and a SEIL/X4's option.
    let sendback = option_of(&app, &a, "ultra_sendback").await;
    let line = json!({"apn": "iijmobile.biz", "id": "mobile@iij", "password": "mobile-pass-2"});
    put_line(&app, &sendback, &k_token, line.clone())
        .await
        .assert_problem(422, "R6.5");
    app.get(&format!("/api/v1/options/{sendback}/mobile-line"), &k_token)
        .await
        .assert_problem(422, "R6.5");
    let (_, x4) = fleet(&app, "株式会社固定", "SEIL/X4", "X4-MOB").await;
    let x4_option = option_of(&app, &x4, "ultra_sendback").await;
    put_line(&app, &x4_option, &app.operator, line.clone())
        .await
        .assert_problem(422, "R6.5");
    // Another contractor's user: the option does not exist.
    let (_, _, other) = app.contractor_with_user("株式会社他人", "tanin").await;
    put_line(&app, &option, &other, line.clone())
        .await
        .assert_problem(404, "not_found");
    app.get(&path, &other)
        .await
        .assert_problem(404, "not_found");
    assert_eq!(
        app.get(&format!("{path}?reveal=true"), &k_token).await.body["line"]["password"],
        "mobile-pass-1"
    );
}

async fn r8_1_item_change_re_renders_keeping_shared_parameters(db: TestDb) {
    let app = TestApp::with_config(db, config()).await;
    let k = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": "株式会社品目"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let m = app
        .accepted(
            &k,
            json!({"kind": "apply_contract", "contract_kind": "management"}),
            ON,
        )
        .await;
    let m = created(&m, "contract_created")[0].clone();
    let a = app.accepted(&k, json!({"kind": "apply_contract", "contract_kind": "service_adapter", "item": "remote_access",
        "device_type": "SEIL/X4", "management_id": m}), ON).await;
    let a = created(&a, "contract_created")[0].clone();
    app.accepted(
        &k,
        json!({"kind": "add_option", "contract_id": a, "option_kind": "ultra_sendback",
        "install_address": "東京都千代田区大手町1-1-1"}),
        ON,
    )
    .await;
    let r = import(&app, &format!("X4-IC,SEIL/X4,{}\n", secret("X4-IC"))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.accepted(
        &k,
        json!({"kind": "notify_serial", "contract_id": a, "serial": "X4-IC"}),
        ON,
    )
    .await;

    // remote_access's defaults lack the pre-shared key: nothing to serve yet.
    fetch(&app, "X4-IC", None)
        .await
        .assert_problem(409, "R17.1");
    let mut ra = pppoe_gateway("ra-pass");
    ra["preset"] = json!("remote_access");
    ra["l2tp"] = json!({"pre_shared_key": "psk-secret", "users": [{"name": "alice", "password": "alice-pass"}],
        "pool": {"start": "192.168.128.1", "end": "192.168.128.20"}, "tunnel_address": "192.168.127.1", "max_sessions": 10});
    let saved = put_preset(&app, &a, ra).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    let before = fetch(&app, "X4-IC", None).await;
    assert!(before.text.contains("interface.pppac0"), "{}", before.text);

    app.accepted(
        &k,
        json!({"kind": "change_item", "contract_id": a, "item": "internet_gateway"}),
        "2026-03-01",
    )
    .await;
    let after = fetch(&app, "X4-IC", None).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.text);
    assert_eq!(after.headers["x-mpc-revision"], "2");
    assert!(!after.text.contains("pppac0"), "{}", after.text);
    for kept in ["10.20.0.1/24", "ra-pass", "ntp.nict.jp"] {
        assert!(after.text.contains(kept), "{kept} kept: {}", after.text);
    }
    let list = app
        .get(&format!("/api/v1/contracts/{a}/revisions"), &app.operator)
        .await;
    assert_eq!(list.body["revisions"][1]["cause"], "item_change");
    assert_eq!(list.body["revisions"][1]["item"], "internet_gateway");
    assert_eq!(list.body["revisions"][1]["created_by"], "system");
    let preset = app
        .get(&format!("/api/v1/contracts/{a}/preset"), &app.operator)
        .await;
    assert_eq!(preset.body["params"]["preset"], "internet_gateway");
    assert!(
        preset.body["contract_number"]
            .as_str()
            .is_some_and(|n| n.starts_with("C-")),
        "{}",
        preset.text
    );
    assert_eq!(preset.body["revision"], 2);
}

async fn r17_1_a_preset_that_cannot_render_says_which_parameters_it_waits_for(db: TestDb) {
    let app = TestApp::with_config(db, config()).await;
    let (k, a) = fleet(&app, "株式会社未完", "SEIL/X4", "X4-WAIT").await;
    let saved = put_preset(&app, &a, pppoe_gateway("gw-pass")).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert_eq!(fetch(&app, "X4-WAIT", None).await.status, StatusCode::OK);
    let view = app
        .get(&format!("/api/v1/contracts/{a}"), &app.operator)
        .await;
    assert_eq!(
        view.body["provisioning"]["provisionable"], true,
        "{}",
        view.text
    );

    // R8.1: internet_gateway → remote_access carries the WAN and LAN, but remote access
    // needs a pre-shared key and users that nobody has set.
    app.accepted(
        &k,
        json!({"kind": "change_item", "contract_id": a, "item": "remote_access"}),
        "2026-03-01",
    )
    .await;
    let waiting = fetch(&app, "X4-WAIT", None).await;
    waiting.assert_problem(409, "R17.1");
    assert!(
        waiting.text.contains("l2tp.pre_shared_key"),
        "{}",
        waiting.text
    );
    // The contract, as the API, the console and the CLI show it, says the same.
    let view = app
        .get(&format!("/api/v1/contracts/{a}"), &app.operator)
        .await;
    let p = &view.body["provisioning"];
    assert_eq!(p["provisionable"], false, "{}", view.text);
    assert_eq!(p["code"], "R17.1");
    assert!(
        p["reason"]
            .as_str()
            .unwrap()
            .contains("l2tp.pre_shared_key"),
        "{}",
        view.text
    );
    assert!(
        p["reason_ja"]
            .as_str()
            .unwrap()
            .contains("l2tp.pre_shared_key"),
        "{}",
        view.text
    );
    let list = app
        .get(&format!("/api/v1/contractors/{k}/contracts"), &app.operator)
        .await;
    let listed = list.body["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == a.as_str())
        .unwrap();
    assert_eq!(listed["provisioning"]["code"], "R17.1", "{}", list.text);
    // Masked parameters tell the unset key from a set password.
    let preset = app
        .get(&format!("/api/v1/contracts/{a}/preset"), &app.operator)
        .await;
    assert_eq!(
        preset.body["params"]["preset"], "remote_access",
        "{}",
        preset.text
    );
    assert_eq!(
        preset.body["params"]["l2tp"]["pre_shared_key"], "",
        "{}",
        preset.text
    );
    assert_eq!(
        preset.body["params"]["wan"]["password"], "********",
        "{}",
        preset.text
    );

    // Once the parameters are set, the device gets its configuration again.
    let mut ra = pppoe_gateway("gw-pass");
    ra["preset"] = json!("remote_access");
    ra["l2tp"] = json!({"pre_shared_key": "psk-secret", "users": [{"name": "alice", "password": "alice-pass"}],
        "pool": {"start": "192.168.128.1", "end": "192.168.128.20"}, "tunnel_address": "192.168.127.1", "max_sessions": 10});
    let saved = put_preset(&app, &a, ra).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert_eq!(fetch(&app, "X4-WAIT", None).await.status, StatusCode::OK);
    let view = app
        .get(&format!("/api/v1/contracts/{a}"), &app.operator)
        .await;
    assert_eq!(
        view.body["provisioning"]["provisionable"], true,
        "{}",
        view.text
    );
}

backend_tests!(
    revisions_diff_rollback_and_masking,
    r6_5_r9_3_the_mobile_line_of_an_sa_w2l_is_rendered_on_ta1,
    r8_1_item_change_re_renders_keeping_shared_parameters,
    r17_1_a_preset_that_cannot_render_says_which_parameters_it_waits_for,
);
