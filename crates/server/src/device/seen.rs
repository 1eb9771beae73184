//! Replay protection across server nodes: the requests every node accepted, in PostgreSQL.
//!
//! Each node's [`ReplayGuard`](super::auth::ReplayGuard) catches what it saw itself without
//! leaving the process. A request it sees for the first time may still have been accepted by
//! another node sharing the database, so on PostgreSQL its fingerprint (64 bits of its
//! [`request_id`](super::auth::request_id)) is also inserted into `device_requests_seen`,
//! whose primary key lets exactly one node insert it: the others are answered "replayed".
//!
//! Group commit keeps this off the poll's critical cost: requests wait in a queue, and a
//! writer takes everything queued into one `INSERT … ON CONFLICT DO NOTHING RETURNING`, with a
//! few such statements in flight at once, each on a connection of its own that does not wait
//! for the WAL to reach the disk (a database crash may forget the last fraction of a second
//! of requests; see `controller::requests_seen_connection`). Under load a statement carries hundreds of
//! fingerprints, so the database sees a few hundred statements a second, not one per poll.
//! Rows whose timestamp has left the window are deleted now and then; until then they only
//! take space (a replay of them fails the timestamp check first).
//!
//! SQLite deployments run one node and do not use this.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use mpc_storage::controller;
use mpc_storage::{AnyConnection, Backend, StorageError, Store};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::auth::MAX_SKEW_SECS;

/// Statements in flight at once.
const FLIGHTS: usize = 2;
/// Fingerprints in one statement at most.
const BATCH: usize = 2048;
/// How often rows outside the window are deleted.
const FORGET_EVERY: Duration = Duration::from_secs(30);

struct Pending {
    fingerprint: i64,
    signed_at: i64,
    answer: oneshot::Sender<Result<bool, Arc<StorageError>>>,
}

/// The requests accepted by any node of a shared database.
pub struct SeenLog {
    queue: mpsc::UnboundedSender<Pending>,
}

impl SeenLog {
    /// Starts the writer and the cleaner on the current Tokio runtime.
    pub fn start(store: Store) -> Self {
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(write(store.clone(), rx));
        tokio::spawn(forget(store));
        Self { queue }
    }

    /// Records a request signed at `signed_at` (Unix seconds); true when no node had.
    ///
    /// # Errors
    /// The database's, when the fingerprint could not be recorded: the caller must not accept
    /// the request then, since another node may have.
    pub async fn first_use(&self, id: &[u8; 32], signed_at: i64) -> Result<bool, StorageError> {
        let fingerprint = i64::from_le_bytes(id[..8].try_into().expect("8 bytes"));
        let (answer, answered) = oneshot::channel();
        let closed = || StorageError::Corrupt("the replay log's writer stopped".into());
        self.queue
            .send(Pending {
                fingerprint,
                signed_at,
                answer,
            })
            .map_err(|_| closed())?;
        match answered.await.map_err(|_| closed())? {
            Ok(first) => Ok(first),
            Err(e) => Err(StorageError::Corrupt(format!(
                "recording a device request failed: {e}"
            ))),
        }
    }
}

/// Takes whatever is queued into one statement, with up to [`FLIGHTS`] statements at once,
/// each on a connection of its own.
async fn write(store: Store, mut rx: mpsc::UnboundedReceiver<Pending>) {
    let flights = Arc::new(Semaphore::new(FLIGHTS));
    let idle: Arc<std::sync::Mutex<Vec<AnyConnection>>> = Arc::default();
    loop {
        let Ok(permit) = flights.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = rx.recv().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let (store, idle) = (store.clone(), idle.clone());
        tokio::spawn(async move {
            let conn = idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let conn = match conn {
                Some(c) => Ok(c),
                None => controller::requests_seen_connection(&store).await,
            };
            match conn {
                Ok(mut conn) => {
                    if flush(&mut conn, store.backend(), batch).await {
                        idle.lock().unwrap_or_else(|e| e.into_inner()).push(conn);
                    }
                }
                Err(e) => fail(batch, e),
            }
            drop(permit);
        });
    }
}

/// Answers every request of `batch` with the database's error.
fn fail(batch: Vec<Pending>, e: StorageError) {
    tracing::error!(error = %e, requests = batch.len(), "recording device requests failed");
    let e = Arc::new(e);
    for p in batch {
        let _ = p.answer.send(Err(e.clone()));
    }
}

/// Records `batch` in one statement and answers each request; false when the connection
/// failed and should not be used again.
async fn flush(conn: &mut AnyConnection, backend: Backend, batch: Vec<Pending>) -> bool {
    // The same fingerprint twice in one batch: the first is recorded, the others are replays.
    let mut rows = Vec::with_capacity(batch.len());
    let mut index: HashMap<i64, usize> = HashMap::with_capacity(batch.len());
    for p in &batch {
        index.entry(p.fingerprint).or_insert_with(|| {
            rows.push((p.fingerprint, p.signed_at));
            rows.len() - 1
        });
    }
    match controller::record_requests_seen(conn, backend, &rows).await {
        Ok(new) => {
            let mut taken = vec![false; rows.len()];
            for p in batch {
                let i = index[&p.fingerprint];
                let first = new[i] && !std::mem::replace(&mut taken[i], true);
                let _ = p.answer.send(Ok(first));
            }
            true
        }
        Err(e) => {
            fail(batch, e);
            false
        }
    }
}

/// Deletes the rows whose timestamps have left the window, every [`FORGET_EVERY`].
async fn forget(store: Store) {
    let mut ticks = tokio::time::interval(FORGET_EVERY);
    loop {
        ticks.tick().await;
        let before = jiff::Timestamp::now().as_second() - MAX_SKEW_SECS - 1;
        if let Err(e) = controller::forget_requests_seen(&store, before).await {
            tracing::warn!(error = %e, "forgetting old device requests failed");
        }
    }
}
