//! The contract engine on a real database: what the domain decides is what storage keeps.

use jiff::civil::{Date, date};
use mpc_domain::book::{Book, Effect};
use mpc_domain::catalog::{
    ContractKind, DeviceType, Item, MobileUsageType, NetworkType, OptionKind,
};
use mpc_domain::request::{Acceptance, GroupRequest, Request};
use mpc_storage::contracts::load_book;
use mpc_storage::contracts::requests::{self, EngineError};
use mpc_storage::testing::TestDb;
use mpc_storage::{JournalEntry, Store, accounts, backend_tests};

async fn contractor(store: &Store) -> String {
    let mut tx = store.write().await.unwrap();
    let c = accounts::create_contractor(&mut tx, "株式会社テスト")
        .await
        .unwrap();
    tx.commit(JournalEntry::new("test", "contractor.create"))
        .await
        .unwrap();
    c.id
}

/// Submits and accepts at once on `on`; returns the effects.
async fn accepted(store: &Store, contractor: &str, request: Request, on: Date) -> Vec<Effect> {
    let acceptance = Acceptance {
        on: Some(on),
        ..Default::default()
    };
    let (_, decision) = requests::submit(
        store,
        contractor,
        &request,
        on,
        "test",
        Some(&acceptance),
        JournalEntry::new("test", request.kind()),
    )
    .await
    .unwrap_or_else(|e| panic!("{request:?}: {e}"));
    decision.unwrap().effects
}

fn created_contract(effects: &[Effect]) -> String {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::ContractCreated(c) => Some(c.id.clone()),
            _ => None,
        })
        .unwrap()
}

fn created_option(effects: &[Effect]) -> String {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::OptionCreated(o) => Some(o.id.clone()),
            _ => None,
        })
        .unwrap()
}

fn sorted(mut b: Book) -> Book {
    b.contracts.sort_by(|a, b| a.id.cmp(&b.id));
    b.options.sort_by(|a, b| a.id.cmp(&b.id));
    b.groups.sort_by(|a, b| a.id.cmp(&b.id));
    b.devices.sort_by(|a, b| a.serial.cmp(&b.serial));
    for g in &mut b.groups {
        g.members
            .sort_by(|a, b| (a.from, &a.option_id).cmp(&(b.from, &b.option_id)));
    }
    b
}

async fn a_whole_story_persists_exactly_what_the_rules_decided(db: TestDb) {
    let store = &db.store;
    let k = contractor(store).await;
    let mut book = Book::default();
    let mut run = |effects: Vec<Effect>| {
        for e in &effects {
            book.apply(e);
        }
        effects
    };

    let m = created_contract(&run(accepted(
        store,
        &k,
        Request::ApplyContract {
            contract_kind: ContractKind::Management,
            item: None,
            device_type: None,
            management_id: None,
            label: None,
        },
        date(2026, 4, 1),
    )
    .await));
    let sa = |device_type| Request::ApplyContract {
        contract_kind: ContractKind::ServiceAdapter,
        item: Some(Item::InternetGateway),
        device_type: Some(device_type),
        management_id: Some(m.clone()),
        label: None,
    };
    let a1 = created_contract(&run(accepted(
        store,
        &k,
        sa(DeviceType::SaW2l),
        date(2026, 4, 2),
    )
    .await));
    let a2 = created_contract(&run(accepted(
        store,
        &k,
        sa(DeviceType::SaW2l),
        date(2026, 4, 2),
    )
    .await));
    run(accepted(
        store,
        &k,
        Request::AddOption {
            contract_id: a1.clone(),
            option_kind: OptionKind::UltraSendback,
            install_address: Some("東京都千代田区大手町1-1".into()),
            usage_type: None,
            network_type: None,
            group: None,
        },
        date(2026, 4, 3),
    )
    .await);
    let mobile = |contract: &str, group| Request::AddOption {
        contract_id: contract.to_owned(),
        option_kind: OptionKind::MobileAccess,
        install_address: None,
        usage_type: Some(MobileUsageType::PacketShare),
        network_type: Some(NetworkType::DynamicIp),
        group: Some(group),
    };
    let e = run(accepted(
        store,
        &k,
        mobile(
            &a1,
            GroupRequest {
                group_id: None,
                new_group_pack_gb: Some(80),
            },
        ),
        date(2026, 4, 3),
    )
    .await);
    let m1 = created_option(&e);
    let group = e
        .iter()
        .find_map(|e| match e {
            Effect::GroupCreated(g) => Some(g.id.clone()),
            _ => None,
        })
        .unwrap();
    let m2 = created_option(&run(accepted(
        store,
        &k,
        mobile(
            &a2,
            GroupRequest {
                group_id: Some(group.clone()),
                new_group_pack_gb: None,
            },
        ),
        date(2026, 4, 4),
    )
    .await));
    run(accepted(
        store,
        &k,
        Request::NotifySerial {
            contract_id: a1.clone(),
            serial: "W2L-0001".into(),
        },
        date(2026, 4, 5),
    )
    .await);
    run(accepted(
        store,
        &k,
        Request::ChangeItem {
            contract_id: a1.clone(),
            item: Item::RemoteAccess,
        },
        date(2026, 5, 10),
    )
    .await);
    run(accepted(
        store,
        &k,
        Request::ChangeNetworkType {
            option_id: m2.clone(),
            network_type: NetworkType::FixedIp,
        },
        date(2026, 5, 11),
    )
    .await);
    run(accepted(
        store,
        &k,
        Request::ChangePack {
            group_id: group.clone(),
            pack_gb: 120,
        },
        date(2026, 5, 12),
    )
    .await);
    run(accepted(
        store,
        &k,
        Request::ChangeUsageType {
            option_id: m2.clone(),
            usage_type: MobileUsageType::Plan30gb,
            group: None,
        },
        date(2026, 5, 13),
    )
    .await);
    // Cancelling a1: notice 2026-06-01 → ends 2026-06-15 with its options; m1 was the group's
    // last member from June (m2 moved to plan_30gb on 06-01), so the group ends too.
    run(accepted(
        store,
        &k,
        Request::CancelContract {
            contract_id: a1.clone(),
            requested_on: None,
        },
        date(2026, 6, 1),
    )
    .await);

    let mut conn = store.pool().acquire().await.unwrap();
    let stored = sorted(load_book(&mut conn, &k).await.unwrap());
    assert_eq!(
        stored,
        sorted(book.clone()),
        "storage keeps exactly the decided state"
    );

    let g = stored.group(&group).unwrap();
    assert_eq!(g.pack_gb(date(2026, 5, 31)), Some(80));
    assert_eq!(g.pack_gb(date(2026, 6, 1)), Some(120));
    assert_eq!(g.end_on(), Some(date(2026, 6, 15)));
    assert_eq!(
        stored.option(&m1).unwrap().end_on(),
        Some(date(2026, 6, 15))
    );
    let d = stored.device("W2L-0001").unwrap();
    assert_eq!(d.return_due, Some(date(2026, 7, 15)));
    let charges = mpc_storage::contracts::charges_of(&mut conn, &a1)
        .await
        .unwrap();
    assert_eq!(charges.len(), 1, "the item change fee");
    assert_eq!(
        mpc_storage::contracts::charges_of(&mut conn, &a2)
            .await
            .unwrap()
            .len(),
        1,
        "dynamic → fixed fee"
    );
}

async fn a_refused_submission_writes_nothing(db: TestDb) {
    let store = &db.store;
    let k = contractor(store).await;
    let before = store.dump().await;
    let request = Request::ApplyContract {
        contract_kind: ContractKind::ServiceAdapter,
        item: Some(Item::InternetGateway),
        device_type: Some(DeviceType::SeilX4),
        management_id: None,
        label: None,
    };
    let err = requests::submit(
        store,
        &k,
        &request,
        date(2026, 4, 1),
        "test",
        None,
        JournalEntry::new("test", "apply"),
    )
    .await
    .unwrap_err();
    // Neither its own management nor a consented designation: R6.1 (a) is unmet.
    assert!(
        matches!(err, EngineError::Refused(ref r) if r.rule == "R6.1"),
        "{err:?}"
    );
    assert_eq!(store.dump().await, before);
}

async fn a_pending_request_is_decided_on_acceptance(db: TestDb) {
    let store = &db.store;
    let k = contractor(store).await;
    let request = Request::ApplyContract {
        contract_kind: ContractKind::Management,
        item: None,
        device_type: None,
        management_id: None,
        label: None,
    };
    let (row, decision) = requests::submit(
        store,
        &k,
        &request,
        date(2026, 4, 1),
        "user:x",
        None,
        JournalEntry::new("test", "apply"),
    )
    .await
    .unwrap();
    assert!(decision.is_none());
    assert_eq!(row.status.as_str(), "pending");
    let mut conn = store.pool().acquire().await.unwrap();
    assert!(load_book(&mut conn, &k).await.unwrap().contracts.is_empty());
    let (row, decision) = requests::accept(
        store,
        &row.id,
        &Acceptance {
            on: Some(date(2026, 4, 3)),
            ..Default::default()
        },
        "user:op",
        JournalEntry::new("test", "accept"),
    )
    .await
    .unwrap();
    assert_eq!(row.status.as_str(), "accepted");
    let c = created_contract(&decision.effects);
    let book = load_book(&mut conn, &k).await.unwrap();
    assert_eq!(book.contract(&c).unwrap().accepted_on, date(2026, 4, 3));
    let again = requests::accept(
        store,
        &row.id,
        &Acceptance::default(),
        "user:op",
        JournalEntry::new("test", "accept"),
    )
    .await
    .unwrap_err();
    assert!(matches!(again, EngineError::Refused(ref r) if r.rule == "request_closed"));
}

async fn concurrent_changes_to_one_book_are_serialised(db: TestDb) {
    let store = &db.store;
    let k = contractor(store).await;
    let m = created_contract(
        &accepted(
            store,
            &k,
            Request::ApplyContract {
                contract_kind: ContractKind::Management,
                item: None,
                device_type: None,
                management_id: None,
                label: None,
            },
            date(2026, 4, 1),
        )
        .await,
    );
    let a = created_contract(
        &accepted(
            store,
            &k,
            Request::ApplyContract {
                contract_kind: ContractKind::ServiceAdapter,
                item: Some(Item::InternetGateway),
                device_type: Some(DeviceType::SeilX4),
                management_id: Some(m),
                label: None,
            },
            date(2026, 4, 1),
        )
        .await,
    );
    // Eight operators add the same option at once: one wins, the others meet duplicate_option.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let (k, a) = (k.clone(), a.clone());
        tasks.push(tokio::spawn(async move {
            let request = Request::AddOption {
                contract_id: a,
                option_kind: OptionKind::UltraSendback,
                install_address: Some("東京都".into()),
                usage_type: None,
                network_type: None,
                group: None,
            };
            let acceptance = Acceptance {
                on: Some(date(2026, 4, 2)),
                ..Default::default()
            };
            requests::submit(
                &store,
                &k,
                &request,
                date(2026, 4, 2),
                "test",
                Some(&acceptance),
                JournalEntry::new("test", "add"),
            )
            .await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(EngineError::Refused(r)) => assert_eq!(r.rule, "duplicate_option"),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(won, 1);
    let mut conn = store.pool().acquire().await.unwrap();
    assert_eq!(load_book(&mut conn, &k).await.unwrap().options.len(), 1);
}

async fn a_batch_decides_each_request_on_the_book_the_ones_before_left(db: TestDb) {
    let store = &db.store;
    let k = contractor(store).await;
    let on = date(2026, 4, 1);
    let accept = Acceptance {
        on: Some(on),
        ..Default::default()
    };
    let journal = |r: &Request| JournalEntry::new("test", r.kind());
    let before = store.dump().await;
    {
        // Dropped without commit: nothing lands.
        let mut batch = requests::Batch::open(store, &k).await.unwrap();
        let r = Request::ApplyContract {
            contract_kind: ContractKind::Management,
            item: None,
            device_type: None,
            management_id: None,
            label: None,
        };
        batch
            .submit(&r, on, "test", Some(&accept), journal(&r))
            .await
            .unwrap();
    }
    assert_eq!(store.dump().await, before);

    let mut batch = requests::Batch::open(store, &k).await.unwrap();
    let r = Request::ApplyContract {
        contract_kind: ContractKind::Management,
        item: None,
        device_type: None,
        management_id: None,
        label: None,
    };
    let m = created_contract(
        &batch
            .submit(&r, on, "test", Some(&accept), journal(&r))
            .await
            .unwrap()
            .1
            .unwrap()
            .effects,
    );
    // The adapter needs the management made one request earlier, in the same transaction.
    let r = Request::ApplyContract {
        contract_kind: ContractKind::ServiceAdapter,
        item: Some(Item::InternetGateway),
        device_type: Some(DeviceType::SeilX4),
        management_id: Some(m),
        label: None,
    };
    let a = created_contract(
        &batch
            .submit(&r, on, "test", Some(&accept), journal(&r))
            .await
            .unwrap()
            .1
            .unwrap()
            .effects,
    );
    // A refusal writes nothing and the batch goes on (R7.1: no such contract).
    let r = Request::NotifySerial {
        contract_id: "no-such-contract".into(),
        serial: "X4-B1".into(),
    };
    assert!(matches!(
        batch
            .submit(&r, on, "test", Some(&accept), journal(&r))
            .await,
        Err(EngineError::Refused(_))
    ));
    let r = Request::NotifySerial {
        contract_id: a.clone(),
        serial: "X4-B1".into(),
    };
    batch
        .submit(&r, on, "test", Some(&accept), journal(&r))
        .await
        .unwrap();
    // Without acceptance a request is only checked and left pending.
    let r = Request::ApplyContract {
        contract_kind: ContractKind::Management,
        item: None,
        device_type: None,
        management_id: None,
        label: None,
    };
    let (pending, decision) = batch
        .submit(&r, on, "test", None, journal(&r))
        .await
        .unwrap();
    assert!(decision.is_none());
    assert_eq!(pending.status.as_str(), "pending");
    batch.commit().await.unwrap();

    let mut conn = store.pool().acquire().await.unwrap();
    let book = load_book(&mut conn, &k).await.unwrap();
    assert_eq!(book.contracts.len(), 2);
    assert_eq!(
        mpc_domain::custody::provisionable(&book, "X4-B1", on).unwrap(),
        a
    );
    let filter = requests::RequestFilter {
        contractor: Some(k.clone()),
        ..requests::RequestFilter::default()
    };
    let rows = requests::list_requests(store, &filter, None, 100)
        .await
        .unwrap();
    let statuses: Vec<&str> = rows.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["accepted", "accepted", "accepted", "pending"]);
    let journal: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM journal WHERE operation IN ('apply_contract', 'notify_serial')",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(journal, 4, "one journal row per request written");
}

backend_tests!(
    a_whole_story_persists_exactly_what_the_rules_decided,
    a_refused_submission_writes_nothing,
    a_pending_request_is_decided_on_acceptance,
    concurrent_changes_to_one_book_are_serialised,
    a_batch_decides_each_request_on_the_book_the_ones_before_left
);
