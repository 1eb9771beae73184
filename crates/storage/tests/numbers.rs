//! Numbering records made before numbers existed (migration 0022), on SQLite and PostgreSQL.

use mpc_storage::testing::TestDb;
use mpc_storage::{JournalEntry, accounts, backend_tests};

async fn records_made_before_numbering_are_numbered_in_the_order_they_were_made(db: TestDb) {
    let store = &db.store;
    let mut tx = store.write().await.unwrap();
    let k = accounts::create_contractor(&mut tx, "株式会社既存")
        .await
        .unwrap();
    tx.commit(JournalEntry::new("test", "contractor.create"))
        .await
        .unwrap();
    // The database as it stood before numbering: 0028 (the contract counter moved into
    // record_numbers) and 0022 undone.
    for undo in [
        "CREATE TABLE contract_numbers (id BIGINT PRIMARY KEY CHECK (id = 1), last BIGINT NOT NULL)",
        "INSERT INTO contract_numbers (id, last) \
         SELECT 1, last FROM record_numbers WHERE kind = 'contract'",
        "DROP INDEX requests_number",
        "DROP INDEX outages_number",
        "DROP INDEX sla_claims_number",
        "ALTER TABLE requests DROP COLUMN number",
        "ALTER TABLE outages DROP COLUMN number",
        "ALTER TABLE sla_claims DROP COLUMN number",
        "DROP TABLE record_numbers",
        "DELETE FROM _sqlx_migrations WHERE version IN (22, 28)",
    ] {
        sqlx::query(undo).execute(store.pool()).await.unwrap();
    }
    // Requests and outages whose ids do not sort as they were made: the creation instant
    // decides.
    for (id, created_at) in [("r-b", 200_i64), ("r-a", 300), ("r-c", 100)] {
        sqlx::query(
            "INSERT INTO requests (id, contractor_id, kind, payload, submitted_on, submitted_by, \
             status, created_at) VALUES ($1, $2, 'apply_contract', '{}', '2026-01-01', 'cli', \
             'pending', $3)",
        )
        .bind(id)
        .bind(k.id.clone())
        .bind(created_at)
        .execute(store.pool())
        .await
        .unwrap();
    }
    for (id, created_at) in [("o-2", 50_i64), ("o-1", 60)] {
        sqlx::query(
            "INSERT INTO outages (id, learned_at, restored_at, operator_caused, scope, affected, \
             description, created_at) VALUES ($1, 0, 1, 1, 'contracts', '[]', '', $2)",
        )
        .bind(id)
        .bind(created_at)
        .execute(store.pool())
        .await
        .unwrap();
    }

    store.migrate().await.unwrap();
    let numbered = |table: &'static str| async move {
        let rows: Vec<(String, i64)> = sqlx::query_as(match table {
            "requests" => "SELECT id, number FROM requests ORDER BY number",
            _ => "SELECT id, number FROM outages ORDER BY number",
        })
        .fetch_all(store.pool())
        .await
        .unwrap();
        rows
    };
    assert_eq!(
        numbered("requests").await,
        vec![("r-c".into(), 1), ("r-b".into(), 2), ("r-a".into(), 3)]
    );
    assert_eq!(
        numbered("outages").await,
        vec![("o-2".into(), 1), ("o-1".into(), 2)]
    );
    // The counters go on from the last number given.
    let mut last: Vec<(String, i64)> =
        sqlx::query_as("SELECT kind, last FROM record_numbers ORDER BY kind")
            .fetch_all(store.pool())
            .await
            .unwrap();
    last.sort();
    assert_eq!(
        last,
        vec![
            ("claim".into(), 0),
            ("contract".into(), 0),
            ("outage".into(), 2),
            ("request".into(), 3)
        ]
    );
}

/// Migration 0028 moves the contract counter into `record_numbers`: a database at 0027 with
/// numbered contracts goes on counting from its last number, and the old table is gone.
async fn migration_0028_keeps_counting_contracts_from_the_last_number(db: TestDb) {
    let store = &db.store;
    let mut tx = store.write().await.unwrap();
    let k = accounts::create_contractor(&mut tx, "株式会社移行")
        .await
        .unwrap();
    tx.commit(JournalEntry::new("test", "contractor.create"))
        .await
        .unwrap();
    // The database as 0027 left it: the counter in its own table.
    for undo in [
        "CREATE TABLE contract_numbers (id BIGINT PRIMARY KEY CHECK (id = 1), last BIGINT NOT NULL)",
        "INSERT INTO contract_numbers (id, last) VALUES (1, 0)",
        "DELETE FROM record_numbers WHERE kind = 'contract'",
        "DELETE FROM _sqlx_migrations WHERE version = 28",
    ] {
        sqlx::query(undo).execute(store.pool()).await.unwrap();
    }
    // Two contracts numbered then; number 3 was given to an acceptance whose contract is
    // gone, so the counter stands at 3, past the highest number in use.
    for n in [1_i64, 2] {
        sqlx::query(
            "INSERT INTO contracts (id, contractor_id, kind, applied_on, accepted_on, number) \
             VALUES ($1, $2, 'management', '2026-01-05', '2026-01-05', $3)",
        )
        .bind(mpc_storage::new_id())
        .bind(k.id.clone())
        .bind(n)
        .execute(store.pool())
        .await
        .unwrap();
    }
    sqlx::query("UPDATE contract_numbers SET last = 3 WHERE id = 1")
        .execute(store.pool())
        .await
        .unwrap();

    store.migrate().await.unwrap();
    let last: i64 = sqlx::query_scalar("SELECT last FROM record_numbers WHERE kind = 'contract'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(last, 3);
    assert!(
        sqlx::query("SELECT last FROM contract_numbers")
            .fetch_all(store.pool())
            .await
            .is_err(),
        "contract_numbers is dropped"
    );
    let mut tx = store.write().await.unwrap();
    let next = mpc_storage::contracts::numbers::next_number(&mut tx)
        .await
        .unwrap();
    assert_eq!(next.to_string(), "C-000004");
    let after = mpc_storage::contracts::numbers::next_number(&mut tx)
        .await
        .unwrap();
    assert_eq!(after.to_string(), "C-000005");
}

backend_tests!(
    records_made_before_numbering_are_numbered_in_the_order_they_were_made,
    migration_0028_keeps_counting_contracts_from_the_last_number
);
