//! SMFv2 identities and events (issue 18), on SQLite and PostgreSQL alike.

use mpc_domain::catalog::DeviceType;
use mpc_storage::controller::{self, InventoryRecord, LineFault, SecretKey};
use mpc_storage::smfv2::{self, Identity, Refused};
use mpc_storage::testing::TestDb;
use mpc_storage::{JournalEntry, StorageError, Store, backend_tests};

const DISTID: &str = "0001-0000-0000-0001-0000-0000-0000-0001";
const OTHER: &str = "0001-0000-0000-0001-0000-0000-0000-0002";

async fn import(store: &Store, key: &SecretKey, serials: &[&str]) {
    let rows: Vec<InventoryRecord> = serials
        .iter()
        .enumerate()
        .map(|(i, s)| InventoryRecord {
            line: i + 1,
            serial: (*s).to_owned(),
            model: DeviceType::SeilX4,
            factory_secret: "0123456789abcdef".into(),
            smfv2: None,
        })
        .collect();
    controller::import_inventory(
        store,
        key,
        &rows,
        JournalEntry::new("test", "device.inventory_import"),
    )
    .await
    .unwrap()
    .unwrap();
}

fn journal() -> JournalEntry {
    JournalEntry::new("test", "smfv2.identity_create")
}

async fn the_inventory_import_carries_identities_all_or_nothing(db: TestDb) {
    let key = SecretKey::random();
    let text = format!(
        "{}\nX4-1,SEIL/X4,0123456789abcdef,{DISTID},ls-key-0001,rs-key-0001,hb-passphrase\n\
         X4-2,SEIL/X4,0123456789abcdef\n",
        controller::INVENTORY_HEADER_SMFV2
    );
    let rows = controller::parse_inventory(&text).unwrap();
    controller::import_inventory(
        &db.store,
        &key,
        &rows,
        JournalEntry::new("test", "device.inventory_import"),
    )
    .await
    .unwrap()
    .unwrap();
    let mut conn = db.store.conn().await.unwrap();
    let (serial, found) = smfv2::by_distribution_id(&mut conn, &key, DISTID)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(serial, "X4-1");
    assert_eq!(
        (found.ls_key.as_str(), found.rs_key.as_str()),
        ("ls-key-0001", "rs-key-0001")
    );
    assert!(smfv2::summary(&mut conn, "X4-2").await.unwrap().is_none());
    drop(conn);
    // A Distribution ID held by a unit already: the line is named, nothing imported.
    let before = db.store.dump().await;
    let again =
        controller::parse_inventory(&format!("X4-3,SEIL/X4,0123456789abcdef,{DISTID},,,\n"))
            .unwrap();
    let errors = controller::import_inventory(
        &db.store,
        &key,
        &again,
        JournalEntry::new("test", "device.inventory_import"),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(errors[0].line, 1);
    assert_eq!(
        errors[0].fault,
        LineFault::DistributionIdHeld {
            distribution_id: DISTID.into(),
            holder: "X4-1".into()
        }
    );
    assert_eq!(db.store.dump().await, before);
}

async fn an_identity_rests_sealed_and_opens_by_its_distribution_id(db: TestDb) {
    let key = SecretKey::random();
    import(&db.store, &key, &["X4-1"]).await;
    let identity = Identity::generate(DISTID);
    smfv2::create(&db.store, &key, "X4-1", &identity, journal())
        .await
        .unwrap()
        .unwrap();
    let dump = db.store.dump().await.join("\n");
    assert!(dump.contains(DISTID));
    for secret in [
        &identity.ls_key,
        &identity.rs_key,
        &identity.heartbeat_passphrase,
    ] {
        assert!(!dump.contains(secret.as_str()), "a key rests in clear");
    }
    let mut conn = db.store.conn().await.unwrap();
    let (serial, found) = smfv2::by_distribution_id(&mut conn, &key, DISTID)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(serial, "X4-1");
    assert_eq!(found, identity);
    assert!(
        smfv2::by_distribution_id(&mut conn, &key, OTHER)
            .await
            .unwrap()
            .is_none()
    );
    // Another key does not open them.
    assert!(
        smfv2::by_distribution_id(&mut conn, &SecretKey::random(), DISTID)
            .await
            .is_err()
    );
}

async fn a_distribution_id_names_one_unit_and_a_unit_has_one(db: TestDb) {
    let key = SecretKey::random();
    import(&db.store, &key, &["X4-1", "X4-2"]).await;
    smfv2::create(
        &db.store,
        &key,
        "X4-1",
        &Identity::generate(DISTID),
        journal(),
    )
    .await
    .unwrap()
    .unwrap();
    let before = db.store.dump().await;
    let taken = smfv2::create(
        &db.store,
        &key,
        "X4-2",
        &Identity::generate(DISTID),
        journal(),
    )
    .await;
    assert_eq!(
        taken.unwrap(),
        Err(Refused::DistributionIdHeld {
            distribution_id: DISTID.into(),
            holder: "X4-1".into()
        })
    );
    let twice = smfv2::create(
        &db.store,
        &key,
        "X4-1",
        &Identity::generate(OTHER),
        journal(),
    )
    .await;
    assert_eq!(
        twice.unwrap(),
        Err(Refused::HasIdentity {
            serial: "X4-1".into()
        })
    );
    let unknown = smfv2::create(
        &db.store,
        &key,
        "X4-9",
        &Identity::generate(OTHER),
        journal(),
    )
    .await;
    assert!(
        matches!(unknown, Err(StorageError::NotFound)),
        "{unknown:?}"
    );
    assert_eq!(db.store.dump().await, before);
}

async fn keys_are_shown_once(db: TestDb) {
    let key = SecretKey::random();
    import(&db.store, &key, &["X4-1"]).await;
    let identity = Identity::generate(DISTID);
    smfv2::create(&db.store, &key, "X4-1", &identity, journal())
        .await
        .unwrap()
        .unwrap();
    let reveal = || {
        smfv2::reveal(
            &db.store,
            &key,
            "X4-1",
            JournalEntry::new("test", "smfv2.identity_reveal"),
        )
    };
    assert_eq!(reveal().await.unwrap(), Ok(identity));
    assert_eq!(
        reveal().await.unwrap(),
        Err(Refused::ShownBefore {
            serial: "X4-1".into()
        })
    );
    let summary = smfv2::summary(&mut db.store.conn().await.unwrap(), "X4-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(summary.distribution_id, DISTID);
    assert!(summary.revealed_at.is_some());
    let none = smfv2::reveal(
        &db.store,
        &key,
        "X4-2",
        JournalEntry::new("test", "smfv2.identity_reveal"),
    )
    .await;
    assert!(matches!(none, Err(StorageError::NotFound)));
}

async fn events_keep_the_rule_that_refused(db: TestDb) {
    smfv2::record_event(&db.store, "X4-1", "rs.refused", Some("R11.1"), "replaced")
        .await
        .unwrap();
    smfv2::record_event(&db.store, "X4-1", "rs.accepted", None, "revision 2")
        .await
        .unwrap();
    let events = smfv2::events(&mut db.store.conn().await.unwrap(), "X4-1")
        .await
        .unwrap();
    let seen: Vec<(&str, Option<&str>)> = events
        .iter()
        .map(|e| (e.event.as_str(), e.rule.as_deref()))
        .collect();
    assert_eq!(seen, [("rs.refused", Some("R11.1")), ("rs.accepted", None)]);
}

backend_tests!(
    the_inventory_import_carries_identities_all_or_nothing,
    an_identity_rests_sealed_and_opens_by_its_distribution_id,
    a_distribution_id_names_one_unit_and_a_unit_has_one,
    keys_are_shown_once,
    events_keep_the_rule_that_refused
);
