//! Event feeds: throttle changes appended with a `seq` consumers follow, their cursors, and
//! the rejections of a batch.

use mpc_domain::calendar::Month;
use mpc_domain::mobile::{RejectReason, ThrottleEventKind};
use sqlx::AnyConnection;

use super::ingest::pipelined;
use crate::sql::Sql;
use crate::{Result, Store, WriteTx, now_micros};

/// A change of a SIM's throttle, for `throttle_events`.
pub(crate) struct NewEvent {
    pub(crate) iccid: String,
    pub(crate) option_id: String,
    pub(crate) kind: ThrottleEventKind,
    pub(crate) month: Option<Month>,
    pub(crate) from: Option<i64>,
    pub(crate) until: Option<i64>,
    pub(crate) reason: Option<String>,
}

/// Appends `events` to `throttle_events` in their order, which their `seq` follows.
pub(crate) async fn append_events(tx: &mut WriteTx, events: &[NewEvent]) -> Result<()> {
    let (backend, created) = (tx.backend(), now_micros());
    pipelined(
        tx,
        events,
        |chunk| {
            let mut q = Sql::positional(
                backend,
                "INSERT INTO throttle_events (iccid, option_id, kind, month, from_at, until_at, \
                 reason, created_at) VALUES ",
            );
            for (i, e) in chunk.iter().enumerate() {
                q.row(i == 0, |r| {
                    r.bind(e.iccid.clone())
                        .bind(e.option_id.clone())
                        .bind(e.kind.as_str().to_owned())
                        .bind(e.month.map(|m| m.to_string()))
                        .bind(e.from)
                        .bind(e.until)
                        .bind(e.reason.clone())
                        .bind(created);
                });
            }
            q
        },
        |_, _| {},
    )
    .await
}

/// A change of a SIM's throttle decisions.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRecord {
    pub seq: i64,
    pub iccid: String,
    pub option_id: String,
    #[sqlx(try_from = "String")]
    pub kind: ThrottleEventKind,
    pub month: Option<String>,
    pub from_at: Option<i64>,
    pub until_at: Option<i64>,
    pub reason: Option<String>,
    pub created_at: i64,
}

/// Events after the cursor `after`, oldest first, at most `limit`.
pub async fn events_since(
    conn: &mut AnyConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<EventRecord>> {
    Ok(sqlx::query_as(
        "SELECT seq, iccid, option_id, kind, month, from_at, until_at, reason, created_at \
         FROM throttle_events WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// A stored rejection, for operators.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RejectionRecord {
    pub batch_id: String,
    pub line: i64,
    pub record_id: Option<String>,
    pub iccid: Option<String>,
    #[sqlx(try_from = "String")]
    pub reason: RejectReason,
    pub detail: String,
    pub received_at: i64,
}

/// The rejections of a batch, by line.
pub async fn rejections(conn: &mut AnyConnection, batch_id: &str) -> Result<Vec<RejectionRecord>> {
    Ok(sqlx::query_as(
        "SELECT batch_id, line, record_id, iccid, reason, detail, received_at FROM usage_rejections \
         WHERE batch_id = $1 ORDER BY line",
    )
    .bind(batch_id.to_owned())
    .fetch_all(conn)
    .await?)
}

/// Where the webhook feed of throttle events stands: the last event delivered.
pub async fn feed_cursor(conn: &mut AnyConnection, feed: &str) -> Result<i64> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT seq FROM feed_cursors WHERE name = $1")
        .bind(feed.to_owned())
        .fetch_optional(conn)
        .await?;
    Ok(seq.unwrap_or(0))
}

/// Records that a feed delivered everything up to `seq` (never moving it back).
pub async fn advance_feed(store: &Store, feed: &str, seq: i64) -> Result<()> {
    let mut tx = store.write().await?;
    tx.lock(&format!("feed:{feed}")).await?;
    sqlx::query(
        "INSERT INTO feed_cursors (name, seq) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET seq = CASE WHEN excluded.seq > feed_cursors.seq THEN excluded.seq ELSE feed_cursors.seq END",
    )
    .bind(feed.to_owned())
    .bind(seq)
    .execute(tx.conn())
    .await?;
    tx.commit_part().await?;
    Ok(())
}
