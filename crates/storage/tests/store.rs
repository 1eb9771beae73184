//! Storage behaviour, on SQLite and PostgreSQL alike.

use mpc_domain::access::Role;
use mpc_storage::accounts::{self, NewUser, Page};
use mpc_storage::journal::{self, JournalQuery};
use mpc_storage::testing::TestDb;
use mpc_storage::{Backend, JournalEntry, StorageError, Store, backend_tests};
use serde_json::json;

fn page() -> Page {
    Page {
        after: None,
        limit: 100,
    }
}

async fn journal_rows(store: &Store) -> Vec<journal::JournalRecord> {
    journal::list(
        store,
        &JournalQuery {
            limit: 1000,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

async fn commit_writes_the_change_and_its_journal_row(db: TestDb) {
    let mut tx = db.store.write().await.unwrap();
    let c = accounts::create_contractor(&mut tx, "株式会社テスト")
        .await
        .unwrap();
    let seq = tx
        .commit(
            JournalEntry::new("cli", "contractor.create")
                .contractor(Some(&c.id))
                .subject(&c.id)
                .request(json!({"name": "株式会社テスト", "password": "hunter2"}))
                .outcome(json!({"id": c.id})),
        )
        .await
        .unwrap();
    let stored = accounts::get_contractor(&db.store, &c.id).await.unwrap();
    assert_eq!(stored.name, "株式会社テスト");
    let rows = journal_rows(&db.store).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].seq, seq);
    assert_eq!(rows[0].operation, "contractor.create");
    assert_eq!(rows[0].subject.as_deref(), Some(c.id.as_str()));
    let request: serde_json::Value = serde_json::from_str(&rows[0].request).unwrap();
    assert_eq!(
        request,
        json!({"name": "株式会社テスト", "password": "[redacted]"})
    );
}

async fn a_dropped_transaction_leaves_nothing(db: TestDb) {
    let before = db.store.dump().await;
    {
        let mut tx = db.store.write().await.unwrap();
        accounts::create_contractor(&mut tx, "never").await.unwrap();
    }
    assert_eq!(db.store.dump().await, before);
    // The store is still writable afterwards.
    let tx = db.store.write().await.unwrap();
    tx.commit(JournalEntry::new("cli", "noop")).await.unwrap();
    assert_eq!(journal_rows(&db.store).await.len(), 1);
}

async fn migrating_again_is_harmless(db: TestDb) {
    db.store.migrate().await.unwrap();
    let again = Store::open(&db.url).await.unwrap();
    again.ping().await.unwrap();
    again.close().await;
}

async fn tokens_authenticate_until_revoked_and_are_stored_hashed(db: TestDb) {
    let mut tx = db.store.write().await.unwrap();
    let c = accounts::create_contractor(&mut tx, "A").await.unwrap();
    let user = accounts::create_user(
        &mut tx,
        &NewUser {
            username: "alice",
            display_name: "Alice",
            role: Role::Contractor,
            contractor_id: Some(&c.id),
        },
    )
    .await
    .unwrap();
    let (token, secret) = accounts::issue_token(&mut tx, &user.id, "laptop")
        .await
        .unwrap();
    tx.commit(JournalEntry::new("cli", "token.create"))
        .await
        .unwrap();

    assert!(
        secret.starts_with("mpc_") && secret.len() == 4 + 64,
        "256 bits as hex: {secret}"
    );
    let found = accounts::authenticate(&db.store, &secret)
        .await
        .unwrap()
        .expect("valid token");
    assert_eq!(found.id, user.id);
    assert!(
        accounts::authenticate(&db.store, "mpc_0000")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !db.store
            .dump()
            .await
            .iter()
            .any(|row| row.contains(&secret[4..])),
        "the secret itself is never stored"
    );

    let mut tx = db.store.write().await.unwrap();
    accounts::revoke_token(&mut tx, &token.id).await.unwrap();
    tx.commit(JournalEntry::new("cli", "token.revoke"))
        .await
        .unwrap();
    assert!(
        accounts::authenticate(&db.store, &secret)
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_taken_username_is_a_conflict(db: TestDb) {
    let new = NewUser {
        username: "op",
        display_name: "Op",
        role: Role::Operator,
        contractor_id: None,
    };
    let mut tx = db.store.write().await.unwrap();
    accounts::create_user(&mut tx, &new).await.unwrap();
    tx.commit(JournalEntry::new("cli", "user.create"))
        .await
        .unwrap();
    let mut tx = db.store.write().await.unwrap();
    let err = accounts::create_user(&mut tx, &new).await.unwrap_err();
    assert!(
        matches!(err, StorageError::Conflict(ref m) if m.contains("\"op\"")),
        "{err:?}"
    );
}

async fn a_contractor_user_needs_a_contractor(db: TestDb) {
    let mut tx = db.store.write().await.unwrap();
    let new = NewUser {
        username: "x",
        display_name: "X",
        role: Role::Contractor,
        contractor_id: None,
    };
    assert!(accounts::create_user(&mut tx, &new).await.is_err());
}

async fn thirty_two_concurrent_writes_all_land(db: TestDb) {
    let mut tasks = Vec::new();
    for i in 0..32 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = store.write().await?;
            let c = accounts::create_contractor(&mut tx, &format!("c{i}")).await?;
            tx.commit(JournalEntry::new("cli", "contractor.create").subject(&c.id))
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let all = accounts::list_contractors(&db.store, None, None, &page())
        .await
        .unwrap();
    assert_eq!(all.len(), 32);
    assert_eq!(journal_rows(&db.store).await.len(), 32);
}

async fn listings_page_and_filter(db: TestDb) {
    let mut tx = db.store.write().await.unwrap();
    for name in ["Alpha 100%", "Beta", "Gamma_1", "Alphabet"] {
        accounts::create_contractor(&mut tx, name).await.unwrap();
    }
    tx.commit(JournalEntry::new("cli", "seed")).await.unwrap();
    let first = accounts::list_contractors(
        &db.store,
        None,
        None,
        &Page {
            after: None,
            limit: 3,
        },
    )
    .await
    .unwrap();
    assert_eq!(first.len(), 3);
    let rest = accounts::list_contractors(
        &db.store,
        None,
        None,
        &Page {
            after: Some(first[2].id.clone()),
            limit: 3,
        },
    )
    .await
    .unwrap();
    assert_eq!(rest.len(), 1);
    let names = |v: Vec<accounts::Contractor>| v.into_iter().map(|c| c.name).collect::<Vec<_>>();
    assert_eq!(
        names(
            accounts::list_contractors(&db.store, None, Some("Alpha"), &page())
                .await
                .unwrap()
        ),
        ["Alpha 100%", "Alphabet"]
    );
    // LIKE wildcards in the search text are literal.
    assert_eq!(
        names(
            accounts::list_contractors(&db.store, None, Some("%"), &page())
                .await
                .unwrap()
        ),
        ["Alpha 100%"]
    );
    assert_eq!(
        names(
            accounts::list_contractors(&db.store, None, Some("a_1"), &page())
                .await
                .unwrap()
        ),
        ["Gamma_1"]
    );
}

async fn journal_reads_newest_first_with_filters(db: TestDb) {
    for op in ["a.one", "b.two", "a.one"] {
        let tx = db.store.write().await.unwrap();
        tx.commit(JournalEntry::new("cli", op).contractor(Some("c1")))
            .await
            .unwrap();
    }
    let rows = journal::list(
        &db.store,
        &JournalQuery {
            operation: Some("a.one".into()),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].seq > rows[1].seq);
    let older = journal::list(
        &db.store,
        &JournalQuery {
            before: Some(rows[0].seq),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(older.len(), 2);
    let none = journal::list(
        &db.store,
        &JournalQuery {
            contractor_id: Some("c2".into()),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(none.is_empty());
}

/// Migration 0021 numbers the contracts it finds in creation order (their ids are UUIDv7) and
/// leaves the counter after the last: the next contract takes the number after them.
async fn migration_0021_numbers_existing_contracts_in_creation_order(db: TestDb) {
    let store = &db.store;
    let mut tx = store.write().await.unwrap();
    let k = accounts::create_contractor(&mut tx, "株式会社移行")
        .await
        .unwrap();
    tx.commit(JournalEntry::new("test", "contractor.create"))
        .await
        .unwrap();
    // The database as migration 0020 left it: 0028 (the contract counter in record_numbers)
    // and 0021 undone.
    for statement in [
        "DELETE FROM record_numbers WHERE kind = 'contract'",
        "DROP INDEX contracts_number",
        "ALTER TABLE contracts DROP COLUMN number",
        "ALTER TABLE contracts DROP COLUMN label",
        "DELETE FROM _sqlx_migrations WHERE version IN (21, 28)",
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(store.pool())
            .await
            .unwrap();
    }
    // Three contracts made one after another, written in another order and accepted on days
    // out of order: creation order is the ids' order.
    let ids: Vec<String> = (0..3)
        .map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(2));
            mpc_storage::new_id()
        })
        .collect();
    for (i, accepted) in [(2, "2026-01-05"), (0, "2026-03-01"), (1, "2026-02-01")] {
        sqlx::query(
            "INSERT INTO contracts (id, contractor_id, kind, applied_on, accepted_on) \
             VALUES ($1, $2, 'management', $3, $3)",
        )
        .bind(ids[i].clone())
        .bind(k.id.clone())
        .bind(accepted)
        .execute(store.pool())
        .await
        .unwrap();
    }
    store.migrate().await.unwrap();
    let rows: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT id, number, label FROM contracts ORDER BY number")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let want: Vec<(String, i64, String)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), i as i64 + 1, String::new()))
        .collect();
    assert_eq!(rows, want);
    let mut tx = store.write().await.unwrap();
    let next = mpc_storage::contracts::numbers::next_number(&mut tx)
        .await
        .unwrap();
    assert_eq!(next.to_string(), "C-000004");
}

/// Migration 0030 reads from the journal which passwords someone else set and their users
/// never replaced: those are temporary; a user's own, the demo's and none are not.
async fn migration_0030_makes_handed_out_passwords_temporary(db: TestDb) {
    let store = &db.store;
    let mut tx = store.write().await.unwrap();
    let mut ids = Vec::new();
    for name in [
        "reset",
        "changed",
        "first",
        "demo",
        "nopassword",
        "changedtwice",
    ] {
        let user = accounts::create_user(
            &mut tx,
            &NewUser {
                username: name,
                display_name: name,
                role: Role::Operator,
                contractor_id: None,
            },
        )
        .await
        .unwrap();
        ids.push(user.id);
    }
    tx.commit(JournalEntry::new("test", "user.create"))
        .await
        .unwrap();
    // The database as migration 0029 left it.
    for statement in [
        "ALTER TABLE users DROP COLUMN must_change_password",
        "DELETE FROM _sqlx_migrations WHERE version = 30",
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(store.pool())
            .await
            .unwrap();
    }
    // Who set each password, in journal order.
    let history: [(usize, &[&str]); 5] = [
        (0, &["console.password_change", "user.password"]),
        (1, &["user.password", "console.password_change"]),
        (2, &["user.bootstrap_password"]),
        (3, &["demo.password"]),
        (
            5,
            &[
                "user.bootstrap_password",
                "console.password_change",
                "user.password",
                "console.password_change",
            ],
        ),
    ];
    for (user, operations) in history {
        for operation in operations {
            let tx = store.write().await.unwrap();
            tx.commit(JournalEntry::new("test", *operation).subject(&ids[user]))
                .await
                .unwrap();
        }
    }
    for (i, id) in ids.iter().enumerate() {
        if i != 4 {
            sqlx::query("UPDATE users SET password_hash = 'a hash' WHERE id = $1")
                .bind(id.clone())
                .execute(store.pool())
                .await
                .unwrap();
        }
    }
    store.migrate().await.unwrap();
    let mut temporary = Vec::new();
    for id in &ids {
        temporary.push(
            accounts::get_user(store, id)
                .await
                .unwrap()
                .must_change_password(),
        );
    }
    assert_eq!(temporary, [true, false, true, false, false, false]);
}

backend_tests!(
    migration_0021_numbers_existing_contracts_in_creation_order,
    migration_0030_makes_handed_out_passwords_temporary,
    commit_writes_the_change_and_its_journal_row,
    a_dropped_transaction_leaves_nothing,
    migrating_again_is_harmless,
    tokens_authenticate_until_revoked_and_are_stored_hashed,
    a_taken_username_is_a_conflict,
    a_contractor_user_needs_a_contractor,
    thirty_two_concurrent_writes_all_land,
    listings_page_and_filter,
    journal_reads_newest_first_with_filters
);

/// Two processes writing one SQLite file (the server and a CLI command, say) wait for each
/// other instead of failing with "database is locked".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_writers_in_two_pools_never_see_database_is_locked() {
    let db = TestDb::new(Backend::Sqlite).await;
    let other = Store::open(&db.url).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..32 {
        let store = if i % 2 == 0 {
            db.store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            let mut tx = store.write().await?;
            accounts::create_contractor(&mut tx, &format!("c{i}")).await?;
            tokio::task::yield_now().await;
            tx.commit(JournalEntry::new("cli", "contractor.create"))
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().expect("no lock error");
    }
    assert_eq!(journal_rows(&db.store).await.len(), 32);
}

/// Files at rest are private: a new SQLite database, its WAL and shared-memory files are
/// created 0600 like the key file beside them, whatever the process's umask allows.
#[cfg(unix)]
#[tokio::test]
async fn a_new_sqlite_database_and_its_wal_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let store = Store::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let mut tx = store.write().await.unwrap();
    accounts::create_contractor(&mut tx, "c").await.unwrap();
    tx.commit(JournalEntry::new("cli", "contractor.create"))
        .await
        .unwrap();
    mpc_storage::controller::SecretKey::resolve(&format!("sqlite://{}", db.display())).unwrap();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        files.push((entry.file_name().into_string().unwrap(), mode));
    }
    files.sort();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["mpc.db", "mpc.db-shm", "mpc.db-wal", "mpc.db.key"]);
    for (name, mode) in &files {
        assert_eq!(*mode, 0o600, "{name} is {mode:o}");
    }
    store.close().await;
}
