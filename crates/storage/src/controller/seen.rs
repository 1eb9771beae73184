//! Device requests seen by any node, on a connection of their own.

use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{Result, Store};

/// A connection of its own for [`record_requests_seen`], outside the pool.
///
/// On PostgreSQL its commits do not wait for the WAL to reach the disk
/// (`synchronous_commit = off`): a crash of the database may lose the last fraction of a
/// second of recorded requests, never make the table inconsistent, and the inserts of
/// several nodes stop queueing on fsync. Only this connection is set so; the pool's keep the
/// default.
pub async fn requests_seen_connection(store: &Store) -> Result<AnyConnection> {
    let mut conn = store.pool().acquire().await?.detach();
    if store.backend() == crate::Backend::Postgres {
        sqlx::query("SET synchronous_commit = off")
            .execute(&mut conn)
            .await?;
    }
    Ok(conn)
}

/// Records signed device requests as accepted, by fingerprint, in one statement; answers for
/// each whether it was new (a request another node or an earlier batch recorded is not).
///
/// `requests` are `(fingerprint, signed_at)` pairs with distinct fingerprints.
pub async fn record_requests_seen(
    conn: &mut AnyConnection,
    backend: crate::Backend,
    requests: &[(i64, i64)],
) -> Result<Vec<bool>> {
    let mut new = Vec::with_capacity(requests.len());
    for chunk in requests.chunks(4096) {
        let mut q = Sql::positional(
            backend,
            "INSERT INTO device_requests_seen (fingerprint, signed_at) VALUES ",
        );
        for (i, (fingerprint, signed_at)) in chunk.iter().enumerate() {
            q.row(i == 0, |r| {
                r.bind(*fingerprint).bind(*signed_at);
            });
        }
        q.push(" ON CONFLICT (fingerprint) DO NOTHING RETURNING fingerprint");
        let inserted: Vec<(i64,)> = q.query_as()?.fetch_all(&mut *conn).await?;
        let inserted: std::collections::HashSet<i64> = inserted.into_iter().map(|r| r.0).collect();
        new.extend(chunk.iter().map(|(f, _)| inserted.contains(f)));
    }
    Ok(new)
}

/// Deletes the requests signed before `before` (Unix seconds): their timestamps are outside
/// the window, so a replay of them is refused without looking here.
pub async fn forget_requests_seen(store: &Store, before: i64) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM device_requests_seen WHERE signed_at < $1")
            .bind(before)
            .execute(store.pool())
            .await?
            .rows_affected(),
    )
}

// ---------------------------------------------------------------------------------------------
// Preset revisions
