//! SMFv2 push over the HTTPS tunnel, on SQLite and PostgreSQL, through a real TLS 1.0 client
//! (brief §4): the device confirms push in its tunnel, heartbeats to the RS's
//! `heartbeat-info` and turns UP; a new preset revision reaches it through `pull-config`
//! within seconds, also when it was saved on another node or before a restart; a lost device
//! is told to pull, its pull is refused (R12.3), and its heartbeats do not keep it UP.

#[path = "common/mod.rs"]
mod common;
// Shared with the controller tests, which use more of it.
#[allow(dead_code)]
#[path = "smfv2/client.rs"]
mod client;
#[allow(unused_imports)]
#[path = "controller/support.rs"]
mod support;

use std::net::SocketAddr;

use mpc_server::AppState;
use mpc_server::smfv2::chunk::{self, Frame};
use mpc_server::smfv2::heartbeat::{self, Figures, Heartbeat};
use mpc_server::smfv2::listener::Smfv2Config;
use mpc_server::smfv2::message::DistributionId;
use mpc_server::smfv2::udp::HeartbeatListener;
use mpc_storage::backend_tests;
use mpc_storage::testing::TestDb;

use crate::client::*;
use crate::support::*;

const DISTID: &str = "0001-0000-0000-0001-0000-0000-0001-0001";
const OTHER: &str = "0001-0000-0000-0001-0000-0000-0001-0002";

/// Within this, a change reaches a connected device ("within seconds").
const PUSH_WITHIN: Duration = Duration::from_secs(5);

/// A node's SMFv2 listener with a heartbeat listener beside it; answers both.
async fn node(state: AppState, cfg: &ServerConfig) -> (Smfv2, SocketAddr) {
    node_echoing(state, cfg, 2).await
}

/// [`node`], with tunnels echoing every `echo` seconds.
async fn node_echoing(state: AppState, cfg: &ServerConfig, echo: u32) -> (Smfv2, SocketAddr) {
    let heartbeats = HeartbeatListener::bind(
        "127.0.0.1:0".parse().unwrap(),
        state.clone(),
        cfg.device.clone(),
    )
    .await
    .unwrap();
    let hb = heartbeats.local_addr().unwrap();
    tokio::spawn(heartbeats.serve(std::future::pending()));
    let mut settings = Smfv2Config::new("127.0.0.1:0".parse().unwrap(), "unused");
    settings.heartbeats = Some(hb);
    settings.heartbeat_interval = 7;
    settings.echo_interval = echo;
    (listen_on(state, cfg, settings).await, hb)
}

/// LS then RS; answers the delivered configuration and the RS's answer.
async fn pull(smf: &Smfv2, distribution_id: &str, ls_key: &str, rs_key: &str) -> (String, String) {
    let ls = rs_solicitation(smf, distribution_id, ls_key).await;
    assert_eq!(result_code(&ls), "100", "{ls}");
    let rs = config_solicitation(smf, distribution_id, rs_key).await;
    (delivered(&rs), rs)
}

/// Pulls, asks the push method, opens the tunnel and confirms push.
async fn connect_device(
    smf: &Smfv2,
    distribution_id: &str,
    ls_key: &str,
    rs_key: &str,
) -> (String, Tunnel) {
    let (config, _) = pull(smf, distribution_id, ls_key, rs_key).await;
    let query = push_method_query(smf, distribution_id, rs_key).await;
    assert_eq!(result_code(&query), "100", "{query}");
    let mut tunnel = open_tunnel(smf, distribution_id, rs_key).await.unwrap();
    tunnel.confirm(distribution_id).await;
    (config, tunnel)
}

async fn until_event(app: &TestApp, serial: &str, event: &str) -> mpc_storage::smfv2::Event {
    for _ in 0..100 {
        if let Some(e) = events(app, serial)
            .await
            .into_iter()
            .find(|e| e.event == event)
        {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {event} for {serial}: {:?}", events(app, serial).await);
}

async fn up_serials(app: &TestApp) -> Vec<String> {
    let up = app
        .get("/api/v1/devices/monitoring?state=up", &app.operator)
        .await;
    up.body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["serial"].as_str().unwrap().to_owned())
        .collect()
}

async fn push_confirmed_in_the_tunnel_then_heartbeats_and_a_new_revision_is_pulled(db: TestDb) {
    let cfg = config();
    let app = TestApp::with_config(db, cfg.clone()).await;
    let (smf, hb) = node(AppState::new(app.db.store.clone(), app.key.clone()), &cfg).await;
    let (_, a) = fleet(&app, "株式会社押込", "SA-W2L", "W2L-PUSH").await;
    let id = identity(&app, "W2L-PUSH", DISTID).await;
    let saved = put_preset(&app, &a, pppoe_gateway("line-pass-first")).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);

    // The RS names the heartbeat listener, the unit's passphrase and the interval.
    let (config, rs) = pull(&smf, DISTID, &id.ls_key, &id.rs_key).await;
    assert!(config.contains("line-pass-first"), "{config}");
    let info = element(&rs, "heartbeat-info").unwrap();
    assert_eq!(element(info, "host"), Some("127.0.0.1"), "{rs}");
    assert_eq!(
        element(info, "port"),
        Some(hb.port().to_string().as_str()),
        "{rs}"
    );
    assert_eq!(
        element(info, "passphrase"),
        Some(id.heartbeat_passphrase.as_str()),
        "{rs}"
    );
    assert_eq!(element(info, "interval"), Some("7"), "{rs}");

    // Tunnel and confirmation (brief §4.3 steps 1, 2, 4); the echo is answered (step 3).
    let query = push_method_query(&smf, DISTID, &id.rs_key).await;
    assert_eq!(result_code(&query), "100", "{query}");
    let mut tunnel = open_tunnel(&smf, DISTID, &id.rs_key).await.unwrap();
    tunnel.confirm(DISTID).await;
    until_event(&app, "W2L-PUSH", "push.confirmed").await;
    tunnel.send(chunk::ECHO_REQUEST).await;
    assert_eq!(tunnel.frame(PUSH_WITHIN).await, Some(Frame::EchoResponse));

    // The heartbeat, signed with the passphrase of heartbeat-info, turns the unit UP.
    assert!(up_serials(&app).await.is_empty());
    let beat = Heartbeat {
        distribution_id: DistributionId::parse(DISTID).unwrap(),
        figures: Figures::default(),
    };
    let packet = heartbeat::encode(&beat, element(info, "passphrase").unwrap().as_bytes());
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(&packet, hb).await.unwrap();
    for _ in 0..100 {
        if !up_serials(&app).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(up_serials(&app).await, ["W2L-PUSH"]);

    // A new revision, saved through the API: pull-config within seconds, then the device
    // pulls the new configuration from the RS.
    let saved = put_preset(&app, &a, pppoe_gateway("line-pass-second")).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert!(
        tunnel.pull_config(DISTID, PUSH_WITHIN).await,
        "no pull-config"
    );
    let again = delivered(&config_solicitation(&smf, DISTID, &id.rs_key).await);
    assert!(again.contains("line-pass-second"), "{again}");
    assert_eq!(again, fetch(&app, "W2L-PUSH", None).await.text);
    let answered = until_event(&app, "W2L-PUSH", "push.pull-config.answered").await;
    assert_eq!(answered.detail, "pull-config answered 100");
    let sent = until_event(&app, "W2L-PUSH", "push.pull-config").await;
    assert_eq!(
        sent.detail,
        "pull-config sent: revision 2 awaits the device"
    );

    // The same parameters saved again render the same configuration: nothing to pull.
    let same = put_preset(&app, &a, pppoe_gateway("line-pass-second")).await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.text);
    assert_eq!(tunnel.frame(Duration::from_millis(1500)).await, None);
}

async fn r12_3_a_lost_device_is_told_to_pull_is_refused_and_not_kept_up(db: TestDb) {
    let cfg = config();
    let app = TestApp::with_config(db, cfg.clone()).await;
    let (smf, hb) = node(AppState::new(app.db.store.clone(), app.key.clone()), &cfg).await;
    let (k, a) = fleet(&app, "株式会社紛失押込", "SA-W2L", "W2L-GONE").await;
    let id = identity(&app, "W2L-GONE", DISTID).await;
    let saved = put_preset(&app, &a, pppoe_gateway("line-pass-gone")).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    let (_, mut tunnel) = connect_device(&smf, DISTID, &id.ls_key, &id.rs_key).await;
    until_event(&app, "W2L-GONE", "push.confirmed").await;

    let report = app.post(&format!("/api/v1/contractors/{k}/requests"), &app.operator,
        json!({"request": {"kind": "report_loss", "contract_id": a}, "submitted_on": "2026-02-01"})).await;
    assert_eq!(report.status, StatusCode::CREATED, "{}", report.text);

    // Told to pull (a device only told to go would retry its tunnel and heartbeat forever),
    // with the rule in the unit's history; the tunnel ends at its answer.
    assert!(
        tunnel.pull_config(DISTID, PUSH_WITHIN).await,
        "no pull-config"
    );
    assert_eq!(tunnel.frame(PUSH_WITHIN).await, Some(Frame::End));
    let withdrawn = until_event(&app, "W2L-GONE", "push.withdrawn").await;
    assert_eq!(withdrawn.rule.as_deref(), Some("R12.3"), "{withdrawn:?}");
    // Its pull and its method query are refused with "retry later".
    let rs = config_solicitation(&smf, DISTID, &id.rs_key).await;
    assert_eq!(result_code(&rs), "421", "{rs}");
    assert!(!rs.contains("line-pass-gone"));
    let query = push_method_query(&smf, DISTID, &id.rs_key).await;
    assert_eq!(result_code(&query), "421", "{query}");

    // A new tunnel opens (an HTTP error would be retried every 30 s without end), but is not
    // confirmed into push-wait: the device is told to pull at once, and the tunnel ends.
    let mut again = open_tunnel(&smf, DISTID, &id.rs_key).await.unwrap();
    let refusal = until_event(&app, "W2L-GONE", "push.refused").await;
    assert_eq!(refusal.rule.as_deref(), Some("R12.3"), "{refusal:?}");
    again.confirm(DISTID).await;
    assert!(
        again.pull_config(DISTID, PUSH_WITHIN).await,
        "no pull-config"
    );
    assert_eq!(again.frame(PUSH_WITHIN).await, Some(Frame::End));
    let confirmed = events(&app, "W2L-GONE")
        .await
        .iter()
        .filter(|e| e.event == "push.confirmed")
        .count();
    assert_eq!(
        confirmed, 1,
        "only the tunnel before the loss was confirmed"
    );

    // Its heartbeats are dropped: it does not turn UP, and the refusal is recorded.
    let beat = Heartbeat {
        distribution_id: DistributionId::parse(DISTID).unwrap(),
        figures: Figures::default(),
    };
    let packet = heartbeat::encode(&beat, id.heartbeat_passphrase.as_bytes());
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(&packet, hb).await.unwrap();
    let ignored = until_event(&app, "W2L-GONE", "heartbeat.refused").await;
    assert_eq!(ignored.rule.as_deref(), Some("R12.3"), "{ignored:?}");
    assert!(up_serials(&app).await.is_empty());

    // The operator's device page names the push events.
    let page = console_page(&app, "W2L-GONE").await;
    let ja = &mpc_server::web::i18n::JA;
    for label in [
        ja.op_smfv2_push_confirmed,
        ja.op_smfv2_push_withdrawn,
        ja.op_smfv2_push_refused,
        ja.op_smfv2_heartbeat_refused,
    ] {
        assert!(page.contains(label), "{label}: {page}");
    }
}

async fn tunnels_need_the_rs_key_and_a_newer_tunnel_replaces_an_older_one(db: TestDb) {
    let cfg = config();
    let app = TestApp::with_config(db, cfg.clone()).await;
    let (smf, _) = node(AppState::new(app.db.store.clone(), app.key.clone()), &cfg).await;
    let (_, a) = fleet(&app, "株式会社二重", "SEIL/X4", "X4-TWICE").await;
    let id = identity(&app, "X4-TWICE", DISTID).await;
    let saved = put_preset(&app, &a, pppoe_gateway("line-pass-x4")).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    // Spare stock, never notified (R7.1): no tunnel either.
    let r = import(&app, &format!("X4-IDLE,SEIL/X4,{}\n", secret("X4-IDLE"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let idle = identity(&app, "X4-IDLE", OTHER).await;

    for (user, key) in [
        (DISTID, id.ls_key.as_str()),
        (DISTID, "not-the-key"),
        (OTHER, id.rs_key.as_str()),
    ] {
        let refused = open_tunnel(&smf, user, key).await.err().unwrap();
        assert!(refused.starts_with("HTTP/1.1 403"), "{user}: {refused}");
    }
    // Refused by a rule, it is let in to be told to pull (see the lost device's test).
    let mut refused = open_tunnel(&smf, OTHER, &idle.rs_key).await.unwrap();
    refused.confirm(OTHER).await;
    assert!(
        refused.pull_config(OTHER, PUSH_WITHIN).await,
        "no pull-config"
    );
    let refusal = until_event(&app, "X4-IDLE", "push.refused").await;
    assert_eq!(refusal.rule.as_deref(), Some("R7.1"), "{refusal:?}");

    // The device tunnels again: the older tunnel is closed, the newer one is pushed to.
    let (_, mut first) = connect_device(&smf, DISTID, &id.ls_key, &id.rs_key).await;
    let (_, mut second) = connect_device(&smf, DISTID, &id.ls_key, &id.rs_key).await;
    assert_eq!(first.frame(PUSH_WITHIN).await, Some(Frame::End));
    let saved = put_preset(&app, &a, pppoe_gateway("line-pass-x4-new")).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert!(
        second.pull_config(DISTID, PUSH_WITHIN).await,
        "no pull-config"
    );
}

async fn a_tunnel_that_echoes_stays_open_and_a_silent_one_is_closed(db: TestDb) {
    let cfg = config();
    let app = TestApp::with_config(db, cfg.clone()).await;
    // Echoes every second: silent for three seconds, a tunnel is dead.
    let (smf, _) = node_echoing(
        AppState::new(app.db.store.clone(), app.key.clone()),
        &cfg,
        1,
    )
    .await;
    let (_, a) = fleet(&app, "株式会社沈黙", "SEIL/X4", "X4-QUIET").await;
    let id = identity(&app, "X4-QUIET", DISTID).await;
    let saved = put_preset(&app, &a, pppoe_gateway("line-pass-quiet")).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    let query = push_method_query(&smf, DISTID, &id.rs_key).await;
    assert_eq!(
        element(&query, "https-tunnel-echo-interval"),
        Some("1"),
        "{query}"
    );
    let (_, mut tunnel) = connect_device(&smf, DISTID, &id.ls_key, &id.rs_key).await;
    // Five seconds of echoes, one a second: still open.
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        tunnel.send(chunk::ECHO_REQUEST).await;
        assert_eq!(tunnel.frame(PUSH_WITHIN).await, Some(Frame::EchoResponse));
    }
    // Then silence: closed within three intervals (and a little).
    assert_eq!(tunnel.frame(Duration::from_secs(5)).await, Some(Frame::End));
}

async fn a_revision_saved_on_one_node_reaches_a_device_tunnelled_to_another(db: TestDb) {
    let app = TestApp::with_config(db, deployed()).await;
    let other = app.node(&deployed()).await;
    // The device's tunnel is on the other node, which shares only the database.
    let (smf, _) = node(
        AppState::new(other.store.clone(), app.key.clone()),
        &deployed(),
    )
    .await;
    let (_, a) = fleet(&app, "株式会社遠隔", "SA-W2L", "W2L-FAR").await;
    let id = identity(&app, "W2L-FAR", DISTID).await;
    let saved = put_preset(&app, &a, pppoe_gateway("line-pass-far")).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    let (config, mut tunnel) = connect_device(&smf, DISTID, &id.ls_key, &id.rs_key).await;
    assert!(config.contains("line-pass-far"), "{config}");
    until_event(&app, "W2L-FAR", "push.confirmed").await;

    // Saved through this node's API: the other node reads it from the journal.
    let saved = put_preset(&app, &a, pppoe_gateway("line-pass-far-2")).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert!(
        tunnel.pull_config(DISTID, PUSH_WITHIN).await,
        "no pull-config across nodes"
    );
    let again = delivered(&config_solicitation(&smf, DISTID, &id.rs_key).await);
    assert!(again.contains("line-pass-far-2"), "{again}");
}

async fn a_revision_saved_while_the_node_restarted_is_pulled_when_the_device_returns(db: TestDb) {
    let cfg = config();
    let app = TestApp::with_config(db, cfg.clone()).await;
    let (smf, _) = node(AppState::new(app.db.store.clone(), app.key.clone()), &cfg).await;
    let (_, a) = fleet(&app, "株式会社再起動", "SA-W2L", "W2L-BACK").await;
    let id = identity(&app, "W2L-BACK", DISTID).await;
    let saved = put_preset(&app, &a, pppoe_gateway("line-pass-before")).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    let (config, tunnel) = connect_device(&smf, DISTID, &id.ls_key, &id.rs_key).await;
    assert!(config.contains("line-pass-before"), "{config}");
    until_event(&app, "W2L-BACK", "push.confirmed").await;

    // The node stops (its memory goes with it); a revision is saved meanwhile; a new
    // listener on the same database serves the device's next tunnel.
    drop(tunnel);
    drop(smf);
    let saved = put_preset(&app, &a, pppoe_gateway("line-pass-after")).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    let (restarted, _) = node(AppState::new(app.db.store.clone(), app.key.clone()), &cfg).await;
    let mut back = open_tunnel(&restarted, DISTID, &id.rs_key).await.unwrap();
    back.confirm(DISTID).await;
    assert!(
        back.pull_config(DISTID, PUSH_WITHIN).await,
        "no pull-config after the restart"
    );
    let again = delivered(&config_solicitation(&restarted, DISTID, &id.rs_key).await);
    assert!(again.contains("line-pass-after"), "{again}");

    // What it holds is known now: tunnelling again on yet another listener, nothing to pull.
    let (third, _) = node(AppState::new(app.db.store.clone(), app.key.clone()), &cfg).await;
    let mut settled = open_tunnel(&third, DISTID, &id.rs_key).await.unwrap();
    settled.confirm(DISTID).await;
    assert_eq!(settled.frame(Duration::from_millis(1500)).await, None);
}

backend_tests!(
    push_confirmed_in_the_tunnel_then_heartbeats_and_a_new_revision_is_pulled,
    r12_3_a_lost_device_is_told_to_pull_is_refused_and_not_kept_up,
    a_revision_saved_while_the_node_restarted_is_pulled_when_the_device_returns,
    tunnels_need_the_rs_key_and_a_newer_tunnel_replaces_an_older_one,
    a_tunnel_that_echoes_stays_open_and_a_silent_one_is_closed,
    a_revision_saved_on_one_node_reaches_a_device_tunnelled_to_another
);
