//! One billing run of a month at a time, across every process and node (B4).
//!
//! A run writes its lines chunk by chunk in transactions of their own, and its last
//! transaction replaces the month's invoices. Two runs of a month at once would each delete the
//! other's lines, so a run first takes the month's lease in the database: a row naming the run,
//! renewed by a task of the run's process while it lives. A second run of the month, from any
//! node, is told which run holds it. A run whose process died stops renewing; once its lease
//! expires the next run (or a finalize) takes over and deletes the lines it left behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mpc_domain::calendar::Month;

use super::{BillingError, Result};
use crate::{Store, WriteTx, now_micros};

/// How long a lease lasts without renewal; `MPC_BILLING_LEASE_SECS` overrides it (tests that
/// kill a run use a short one). The holder renews it every third of that.
fn time_to_live() -> Duration {
    let secs = std::env::var("MPC_BILLING_LEASE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|s| *s > 0)
        .unwrap_or(30);
    Duration::from_secs(secs)
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// Who holds a month, as the 409 names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInProgress {
    pub month: String,
    pub run_id: String,
    pub started_by: String,
    /// Microseconds since the Unix epoch.
    pub started_at: i64,
}

#[derive(sqlx::FromRow)]
struct LeaseRecord {
    run_id: String,
    started_by: String,
    started_at: i64,
    expires_at: i64,
}

/// The live lease of `month`, if a run holds one. Call inside a transaction that holds the
/// month's lock (`billing:{month}`).
pub(super) async fn holder(tx: &mut WriteTx, month: Month) -> Result<Option<RunInProgress>> {
    let row: Option<LeaseRecord> = sqlx::query_as(
        "SELECT run_id, started_by, started_at, expires_at FROM billing_leases WHERE month = $1",
    )
    .bind(month.to_string())
    .fetch_optional(tx.conn())
    .await?;
    Ok(row
        .filter(|r| r.expires_at > now_micros())
        .map(|r| RunInProgress {
            month: month.to_string(),
            run_id: r.run_id,
            started_by: r.started_by,
            started_at: r.started_at,
        }))
}

/// Deletes what runs that never completed left of `month`: their lines (any run id other than
/// the month's current run) and an expired lease. Only while no run holds the month.
pub(super) async fn clear_abandoned(tx: &mut WriteTx, month: Month) -> Result<u64> {
    let m = month.to_string();
    let deleted = sqlx::query(
        "DELETE FROM invoice_lines WHERE month = $1 AND run_id NOT IN \
         (SELECT current_run FROM billing_months WHERE month = $1 AND current_run IS NOT NULL)",
    )
    .bind(m.clone())
    .execute(tx.conn())
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM billing_leases WHERE month = $1")
        .bind(m)
        .execute(tx.conn())
        .await?;
    if deleted > 0 {
        tracing::warn!(%month, lines = deleted, "deleted the lines of billing runs that did not complete");
    }
    Ok(deleted)
}

/// A month held by a run. Renewed in the background until released or dropped; dropping it
/// unreleased (a cancelled request) gives the month back as soon as it can.
pub struct RunLease {
    store: Store,
    month: Month,
    run: String,
    lost: Arc<AtomicBool>,
    renewer: tokio::task::JoinHandle<()>,
    released: bool,
}

impl RunLease {
    /// Takes `month` for a new run `run`, or names the run that holds it.
    ///
    /// # Errors
    /// [`BillingError::RunInProgress`] while another run's lease is live; `B4` when the month
    /// is finalized.
    pub(super) async fn acquire(
        store: &Store,
        month: Month,
        run: &str,
        started_by: &str,
    ) -> Result<RunLease> {
        let ttl = time_to_live();
        let mut tx = store.write().await?;
        tx.lock(&format!("billing:{month}")).await?;
        super::refuse_if_finalized(&mut tx, month).await?;
        if let Some(running) = holder(&mut tx, month).await? {
            return Err(BillingError::RunInProgress(running));
        }
        clear_abandoned(&mut tx, month).await?;
        let now = now_micros();
        sqlx::query(
            "INSERT INTO billing_leases (month, run_id, started_by, started_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(month.to_string())
        .bind(run.to_owned())
        .bind(started_by.to_owned())
        .bind(now)
        .bind(now.saturating_add(micros(ttl)))
        .execute(tx.conn())
        .await?;
        tx.commit_part().await?;
        let lost = Arc::new(AtomicBool::new(false));
        let renewer = tokio::spawn(renew_while_alive(
            store.clone(),
            month,
            run.to_owned(),
            ttl,
            lost.clone(),
        ));
        Ok(RunLease {
            store: store.clone(),
            month,
            run: run.to_owned(),
            lost,
            renewer,
            released: false,
        })
    }

    pub fn run_id(&self) -> &str {
        &self.run
    }

    /// Checks, inside a transaction of the run, that the run still holds its month: a run
    /// whose lease was taken over (it stalled past the lease) must not write.
    ///
    /// # Errors
    /// [`BillingError::RunSuperseded`] otherwise.
    pub(super) async fn check_held(&self, tx: &mut WriteTx) -> Result<()> {
        let holder: Option<String> =
            sqlx::query_scalar("SELECT run_id FROM billing_leases WHERE month = $1")
                .bind(self.month.to_string())
                .fetch_optional(tx.conn())
                .await?;
        if self.lost.load(Ordering::Relaxed) || holder.as_deref() != Some(self.run.as_str()) {
            return Err(BillingError::RunSuperseded(self.month.to_string()));
        }
        Ok(())
    }

    /// Ends the lease inside the run's last transaction.
    pub(super) async fn end_in(mut self, tx: &mut WriteTx) -> Result<()> {
        self.renewer.abort();
        sqlx::query("DELETE FROM billing_leases WHERE month = $1 AND run_id = $2")
            .bind(self.month.to_string())
            .bind(self.run.clone())
            .execute(tx.conn())
            .await?;
        self.released = true;
        Ok(())
    }

    /// Gives the month back after a run that failed, with the lines it wrote.
    pub(super) async fn abandon(mut self) -> Result<()> {
        self.renewer.abort();
        self.released = true;
        give_back(&self.store, self.month, &self.run).await
    }
}

impl Drop for RunLease {
    fn drop(&mut self) {
        self.renewer.abort();
        if self.released {
            return;
        }
        let (store, month, run) = (self.store.clone(), self.month, self.run.clone());
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = give_back(&store, month, &run).await {
                    tracing::warn!(%month, run, error = %e, "could not give back a billing lease; it expires by itself");
                }
            });
        }
    }
}

async fn give_back(store: &Store, month: Month, run: &str) -> Result<()> {
    let mut tx = store.write().await?;
    tx.lock(&format!("billing:{month}")).await?;
    sqlx::query("DELETE FROM invoice_lines WHERE month = $1 AND run_id = $2")
        .bind(month.to_string())
        .bind(run.to_owned())
        .execute(tx.conn())
        .await?;
    sqlx::query("DELETE FROM billing_leases WHERE month = $1 AND run_id = $2")
        .bind(month.to_string())
        .bind(run.to_owned())
        .execute(tx.conn())
        .await?;
    tx.commit_part().await?;
    Ok(())
}

/// Renews the lease every third of its time to live; marks it lost when another run took it.
/// A failed renewal is tried again at the next tick: the lease outlives two misses.
async fn renew_while_alive(
    store: Store,
    month: Month,
    run: String,
    ttl: Duration,
    lost: Arc<AtomicBool>,
) {
    let mut tick = tokio::time::interval(ttl / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let renewed = async {
            let mut tx = store.write().await?;
            let n = sqlx::query(
                "UPDATE billing_leases SET expires_at = $1 WHERE month = $2 AND run_id = $3",
            )
            .bind(now_micros().saturating_add(micros(ttl)))
            .bind(month.to_string())
            .bind(run.clone())
            .execute(tx.conn())
            .await?
            .rows_affected();
            tx.commit_part().await?;
            Ok::<bool, BillingError>(n == 1)
        }
        .await;
        match renewed {
            Ok(true) => {}
            Ok(false) => {
                lost.store(true, Ordering::Relaxed);
                return;
            }
            Err(e) => tracing::warn!(%month, run, error = %e, "billing lease renewal failed"),
        }
    }
}
