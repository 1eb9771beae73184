//! SMFv2 heartbeats over real UDP, on SQLite and PostgreSQL: a verified heartbeat turns its
//! device UP and keeps its figures; a wrong MAC, an unknown Distribution ID or a malformed
//! datagram changes nothing (brief §3).

#[path = "common/mod.rs"]
mod common;
// Shared with the controller tests, which use more of it.
#[allow(unused_imports)]
#[path = "controller/support.rs"]
mod support;

use mpc_server::AppState;
use mpc_server::smfv2::heartbeat::{self, Cpu, Figures, Heartbeat, Usage};
use mpc_server::smfv2::message::DistributionId;
use mpc_server::smfv2::udp::HeartbeatListener;
use mpc_storage::smfv2::{self, Identity};
use mpc_storage::testing::TestDb;
use mpc_storage::{JournalEntry, backend_tests, controller};

use crate::support::*;

const DISTID: &str = "0001-0000-0000-0001-0000-0000-0000-0007";
const UNKNOWN: &str = "0001-0000-0000-0001-0000-0000-0000-0008";

fn beat(distribution_id: &str, utilisation: u8) -> Heartbeat {
    Heartbeat {
        distribution_id: DistributionId::parse(distribution_id).unwrap(),
        figures: Figures {
            cpus: vec![Cpu {
                index: 0,
                utilisation,
            }],
            memory: vec![Usage {
                index: 0,
                used: 65_536,
                available: 32_768,
            }],
            ..Figures::default()
        },
    }
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

/// Marks `serial` DOWN as the monitor does after a silence.
async fn monitor_down(app: &TestApp, serial: &str) {
    let now = mpc_storage::now_micros();
    // Silent for longer than "a second ago": every UP device goes DOWN now.
    let changes = controller::mark_silent_down(&app.db.store, now, -1_000_000)
        .await
        .unwrap();
    assert!(changes.iter().any(|c| c.serial == serial), "{changes:?}");
}

async fn a_verified_heartbeat_turns_its_device_up_and_keeps_its_figures(db: TestDb) {
    let cfg = config();
    let app = TestApp::with_config(db, cfg.clone()).await;
    fleet(&app, "株式会社鼓動", "SA-W2L", "W2L-HB").await;
    let identity = Identity {
        distribution_id: DISTID.to_owned(),
        ls_key: "ls-key".to_owned(),
        rs_key: "rs-key".to_owned(),
        heartbeat_passphrase: "hb-passphrase".to_owned(),
    };
    smfv2::create(
        &app.db.store,
        &app.key,
        "W2L-HB",
        &identity,
        JournalEntry::new("test", "smfv2.identity.create"),
    )
    .await
    .unwrap()
    .unwrap();
    let state = AppState::new(app.db.store.clone(), app.key.clone());
    let listener =
        HeartbeatListener::bind("127.0.0.1:0".parse().unwrap(), state, cfg.device.clone())
            .await
            .unwrap();
    let addr = listener.local_addr().unwrap();
    let tally = listener.tally();
    tokio::spawn(listener.serve(std::future::pending()));
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();

    // Dropped: another passphrase, a unit mpc does not know, a datagram cut short.
    let wrong = heartbeat::encode(&beat(DISTID, 90), b"not-the-passphrase");
    let unknown = heartbeat::encode(&beat(UNKNOWN, 91), b"hb-passphrase");
    let good = heartbeat::encode(&beat(DISTID, 50), b"hb-passphrase");
    for packet in [&wrong, &unknown, &good[..good.len() - 3].to_vec()] {
        socket.send_to(packet, addr).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(up_serials(&app).await.is_empty(), "nothing is UP yet");
    assert_eq!(tally.counts(), (0, 3, 0), "three dropped, none heard");

    // Verified: UP, one change in the history, the figures kept.
    socket.send_to(&good, addr).await.unwrap();
    for _ in 0..100 {
        if !up_serials(&app).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(up_serials(&app).await, ["W2L-HB"]);
    let history = app
        .get("/api/v1/devices/W2L-HB/history", &app.operator)
        .await;
    assert_eq!(
        history.body["changes"].as_array().unwrap().len(),
        1,
        "{}",
        history.text
    );
    assert_eq!(
        history.body["changes"][0]["state"], "up",
        "{}",
        history.text
    );
    // The API shows them with the history, newest first.
    let shown = &history.body["heartbeat_figures"];
    assert_eq!(shown.as_array().unwrap().len(), 1, "{}", history.text);
    assert_eq!(
        shown[0]["figures"]["cpus"][0]["utilisation"], 50,
        "{}",
        history.text
    );
    let kept = controller::figures(&app.db.store, "W2L-HB", 10)
        .await
        .unwrap();
    assert_eq!(kept.len(), 1, "only the verified heartbeat: {kept:?}");
    let figures: Value = serde_json::from_str(&kept[0].1).unwrap();
    assert_eq!(figures["cpus"][0]["utilisation"], 50, "{figures}");
    assert_eq!(figures["memory"][0]["used"], 65_536, "{figures}");

    // Heartbeats arriving together (a burst, or a replay beside the original) make one
    // change: the device is UP once, not once per heartbeat.
    monitor_down(&app, "W2L-HB").await;
    for _ in 0..8 {
        socket.send_to(&good, addr).await.unwrap();
    }
    for _ in 0..100 {
        if !up_serials(&app).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let history = app
        .get("/api/v1/devices/W2L-HB/history", &app.operator)
        .await;
    let states: Vec<&str> = history.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["up", "down", "up"], "{}", history.text);
    // The listener counted what it accepted: the first heartbeat and the burst of eight.
    assert_eq!(tally.counts(), (1 + 8, 3, 0));

    // A heartbeat proves nothing beyond liveness: what the device may fetch is unchanged.
    assert_eq!(fetch(&app, "W2L-HB", None).await.status, StatusCode::OK);
}

backend_tests!(a_verified_heartbeat_turns_its_device_up_and_keeps_its_figures,);
