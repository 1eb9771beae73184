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
    // The database as it stood before numbering: 0022 undone.
    for undo in [
        "DROP INDEX requests_number",
        "DROP INDEX outages_number",
        "DROP INDEX sla_claims_number",
        "ALTER TABLE requests DROP COLUMN number",
        "ALTER TABLE outages DROP COLUMN number",
        "ALTER TABLE sla_claims DROP COLUMN number",
        "DROP TABLE record_numbers",
        "DELETE FROM _sqlx_migrations WHERE version = 22",
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
            ("outage".into(), 2),
            ("request".into(), 3)
        ]
    );
}

backend_tests!(records_made_before_numbering_are_numbered_in_the_order_they_were_made);
