//! Finding contracts by number and site label, on SQLite and PostgreSQL.

use mpc_storage::search::{self, Needle, Scope, Window};
use mpc_storage::testing::TestDb;
use mpc_storage::{JournalEntry, accounts, backend_tests};

const ALL: Window = Window {
    offset: 0,
    limit: 50,
};

async fn contracts_are_found_by_number_and_label_within_scope(db: TestDb) {
    let store = &db.store;
    let mut tx = store.write().await.unwrap();
    let a = accounts::create_contractor(&mut tx, "株式会社甲")
        .await
        .unwrap();
    let b = accounts::create_contractor(&mut tx, "株式会社乙")
        .await
        .unwrap();
    tx.commit(JournalEntry::new("test", "contractor.create"))
        .await
        .unwrap();
    for (id, owner, number, label) in [
        ("k-1", &a.id, 123_i64, "本社"),
        ("k-2", &a.id, 124, "100% 拠点"),
        ("k-3", &b.id, 125, "本社ビル"),
        ("k-4", &b.id, 1123, "Osaka"),
    ] {
        sqlx::query(
            "INSERT INTO contracts (id, contractor_id, kind, applied_on, accepted_on, number, \
             label) VALUES ($1, $2, 'service_adapter', '2026-01-01', '2026-01-01', $3, $4)",
        )
        .bind(id)
        .bind(owner.clone())
        .bind(number)
        .bind(label)
        .execute(store.pool())
        .await
        .unwrap();
    }
    let mut conn = store.conn().await.unwrap();
    let mut found = async |scope: Scope<'_>, typed: &str| {
        let needle = Needle::new(typed);
        let mut ids: Vec<String> = search::contracts(&mut conn, scope, &needle, ALL)
            .await
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect();
        ids.sort();
        let total = search::count_contracts(&mut conn, scope, &needle)
            .await
            .unwrap();
        assert_eq!(total, ids.len() as i64, "{typed}");
        ids
    };
    // A number in any form the domain reads names exactly that contract (not C-001123).
    for typed in ["C-000123", "c-123", "123"] {
        assert_eq!(found(Scope::Everything, typed).await, ["k-1"], "{typed}");
    }
    // A label matches by substring.
    assert_eq!(found(Scope::Everything, "本社").await, ["k-1", "k-3"]);
    assert_eq!(found(Scope::Everything, "osa").await, ["k-4"]);
    // `%` in a label is the character, not a wildcard.
    assert_eq!(found(Scope::Everything, "100%").await, ["k-2"]);
    assert!(found(Scope::Everything, "1%0").await.is_empty());
    // A contractor never finds another's contract by number or label.
    assert_eq!(found(Scope::Contractor(&a.id), "本社").await, ["k-1"]);
    assert!(found(Scope::Contractor(&a.id), "C-000125").await.is_empty());
    assert!(found(Scope::Contractor(&a.id), "Osaka").await.is_empty());
    let hit = search::contracts(
        &mut conn,
        Scope::Contractor(&b.id),
        &Needle::new("C-000125"),
        ALL,
    )
    .await
    .unwrap();
    assert_eq!(hit.len(), 1);
    assert_eq!(
        (hit[0].number, hit[0].label.as_str()),
        (Some(125), "本社ビル")
    );
}

backend_tests!(contracts_are_found_by_number_and_label_within_scope);
