//! Repairs run at start: what an earlier release recorded wrong is put right once.

use jiff::civil::date;
use mpc_domain::catalog::{ContractKind, DeviceType, Item};
use mpc_domain::custody;
use mpc_domain::request::{Acceptance, Request};
use mpc_storage::contracts::load_book;
use mpc_storage::contracts::requests;
use mpc_storage::testing::TestDb;
use mpc_storage::{JournalEntry, Store, accounts, backend_tests};

async fn contract_with_device(store: &Store, serial: &str) -> (String, String) {
    let mut tx = store.write().await.unwrap();
    let k = accounts::create_contractor(&mut tx, "株式会社テスト")
        .await
        .unwrap()
        .id;
    tx.commit(JournalEntry::new("test", "contractor.create"))
        .await
        .unwrap();
    let accept = |on| Acceptance {
        on: Some(on),
        ..Default::default()
    };
    let apply = async |request: Request| {
        let on = date(2026, 4, 1);
        let journal = JournalEntry::new("test", "apply");
        let (_, decision) =
            requests::submit(store, &k, &request, on, "test", Some(&accept(on)), journal)
                .await
                .unwrap();
        decision.unwrap().effects.iter().find_map(|e| match e {
            mpc_domain::book::Effect::ContractCreated(c) => Some(c.id.clone()),
            _ => None,
        })
    };
    let m = apply(Request::ApplyContract {
        contract_kind: ContractKind::Management,
        item: None,
        device_type: None,
        management_id: None,
        label: None,
    })
    .await;
    let created = apply(Request::ApplyContract {
        contract_kind: ContractKind::ServiceAdapter,
        item: Some(Item::InternetGateway),
        device_type: Some(DeviceType::SeilX4),
        management_id: m,
        label: None,
    })
    .await;
    let a = created.unwrap();
    let notify = Request::NotifySerial {
        contract_id: a.clone(),
        serial: serial.into(),
    };
    let on = date(2026, 4, 2);
    requests::submit(
        store,
        &k,
        &notify,
        on,
        "test",
        Some(&accept(on)),
        JournalEntry::new("test", "notify"),
    )
    .await
    .unwrap();
    (k, a)
}

async fn journal_rows(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM journal")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

async fn r12_3_a_loss_report_an_earlier_release_left_without_effect_is_repaired_once(db: TestDb) {
    let store = &db.store;
    let (k, a) = contract_with_device(store, "X4-LOST").await;
    let report = Request::ReportLoss {
        contract_id: a.clone(),
    };
    requests::submit(
        store,
        &k,
        &report,
        date(2026, 5, 1),
        "test",
        None,
        JournalEntry::new("test", "report_loss"),
    )
    .await
    .unwrap();
    // What an earlier release left: the report on file, the device still in service.
    sqlx::query("UPDATE devices SET lost_on = NULL")
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE device_assignments SET until_on = NULL")
        .execute(store.pool())
        .await
        .unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    let book = load_book(&mut conn, &k).await.unwrap();
    assert_eq!(
        custody::provisionable(&book, "X4-LOST", date(2026, 6, 1)).unwrap(),
        a
    );

    store.migrate().await.unwrap();
    let book = load_book(&mut conn, &k).await.unwrap();
    let err = custody::provisionable(&book, "X4-LOST", date(2026, 6, 1)).unwrap_err();
    assert_eq!(err.rule, "R12.3");
    let device = book.devices.iter().find(|d| d.serial == "X4-LOST").unwrap();
    // Lost from the day of the report, as a report made today would be.
    assert_eq!(device.lost_on, Some(date(2026, 5, 1)));

    // The second start finds nothing to do and journals nothing.
    let rows = journal_rows(store).await;
    store.migrate().await.unwrap();
    assert_eq!(journal_rows(store).await, rows);
    assert_eq!(load_book(&mut conn, &k).await.unwrap(), book);
}

async fn a_refused_loss_report_is_not_repaired(db: TestDb) {
    let store = &db.store;
    let (k, a) = contract_with_device(store, "X4-KEPT").await;
    let report = Request::ReportLoss {
        contract_id: a.clone(),
    };
    requests::submit(
        store,
        &k,
        &report,
        date(2026, 5, 1),
        "test",
        None,
        JournalEntry::new("test", "report_loss"),
    )
    .await
    .unwrap();
    sqlx::query("UPDATE devices SET lost_on = NULL")
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE device_assignments SET until_on = NULL")
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE requests SET status = 'refused' WHERE kind = 'report_loss'")
        .execute(store.pool())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    let book = load_book(&mut conn, &k).await.unwrap();
    assert_eq!(
        custody::provisionable(&book, "X4-KEPT", date(2026, 6, 1)).unwrap(),
        a
    );
}

backend_tests!(
    r12_3_a_loss_report_an_earlier_release_left_without_effect_is_repaired_once,
    a_refused_loss_report_is_not_repaired
);
