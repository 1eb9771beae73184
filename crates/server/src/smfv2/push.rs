//! Push: which devices hold a confirmed tunnel to this node, and telling them to pull again
//! (`pull-config`, brief §4.4) when what they may fetch changes.
//!
//! **Registry.** Each node keeps its own open tunnels, serial → the tunnel task's queue, with
//! the configuration (ETag) the device holds. A tunnel enters once its push confirmation is
//! done and leaves when it ends; the same device tunnelling again replaces (and closes) its
//! older tunnel.
//!
//! **What triggers a `pull-config`.** Not the code that saves a revision: the device cache's
//! own feed. Every change to what devices may fetch — a preset revision, a rollback, a
//! notification, a replacement, a loss — commits a journal row, and the cache drops the
//! verdicts it touches, either at once (this process's commits) or when it next reads the
//! journal (other processes and nodes; every node reads it every `cache_refresh`, 250 ms by
//! default). A watcher on each node follows that: when the cache's generation moves, it asks
//! the verdict of each device with a tunnel here, and
//! - a configuration whose ETag differs from the one the device holds sends it `pull-config`
//!   (once per new ETag);
//! - a device no longer provisionable (lost R12.3, replaced R11.1, ended D6, …) is sent
//!   `pull-config` too, and its tunnel closes once it answers: the device leaves push-wait
//!   (which also stops its heartbeats) and pulls, and the RS refuses the pull with the rule.
//!   Closing the tunnel alone would not do: the reference client retries a tunnel every 30 s
//!   without end and keeps heartbeating meanwhile.
//!
//! So a revision saved on one node reaches a device tunnelled to another through the shared
//! database's journal, within a journal read of the save — no queue or node-to-node channel
//! to run. Nothing is lost when a node restarts either: the ETag last served each device is
//! kept in the database, and a device tunnelling again is compared with it (an unknown one
//! is told to pull).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mpc_storage::StorageError;
use tokio::sync::mpsc;

use super::listener::Service;
use crate::device::cache::Verdict;

/// What the watcher tells a tunnel task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Send `pull-config`: the configuration of this revision (None: the item's defaults)
    /// awaits the device.
    PullConfig { revision: Option<i64> },
    /// A rule withdrew the device's configuration: send `pull-config`, so that it leaves
    /// push-wait and pulls (and is refused with `rule`), then end the tunnel.
    Withdraw { rule: String, why: String },
    /// End the tunnel: the device tunnelled again.
    Close { rule: Option<String>, why: String },
}

/// The queue of one tunnel task; a few commands at most are ever pending.
pub type Sender = mpsc::Sender<Command>;

/// Commands a tunnel task may have pending.
pub const QUEUE: usize = 4;

struct Tunnel {
    /// Tells this tunnel from an older or newer one of the same device.
    conn: u64,
    tx: Sender,
    /// The ETag of the configuration the device holds.
    holds: String,
    /// The ETag a `pull-config` was last sent for.
    announced: Option<String>,
}

#[derive(Default)]
struct Inner {
    tunnels: HashMap<String, Tunnel>,
    /// The ETag of the configuration this node last served each device.
    delivered: HashMap<String, String>,
}

/// The confirmed tunnels of this node.
#[derive(Default)]
pub struct Registry {
    inner: Mutex<Inner>,
    next: AtomicU64,
}

/// What to do with a device's tunnel, given its verdict.
enum Action {
    Nothing,
    Send(Sender, Command),
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A number for a new tunnel.
    pub fn connection(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Notes the configuration served to `serial` by `config-solicitation`; true when this
    /// node did not know it served that one last (so it is worth keeping in the database).
    pub fn delivered(&self, serial: &str, etag: &str) -> bool {
        let mut inner = self.lock();
        if let Some(t) = inner.tunnels.get_mut(serial) {
            t.holds = etag.to_owned();
        }
        inner.delivered.insert(serial.to_owned(), etag.to_owned()) != Some(etag.to_owned())
    }

    /// Enters a confirmed tunnel; an older tunnel of the device is told to close. The device
    /// holds what this node last served it, else what the database says was served last
    /// (`served`: before a restart, or by another node); unknown, it is told to pull.
    pub fn open(&self, serial: &str, conn: u64, tx: Sender, served: Option<&str>) {
        let mut inner = self.lock();
        let holds = inner
            .delivered
            .get(serial)
            .cloned()
            .or_else(|| served.map(str::to_owned))
            .unwrap_or_default();
        let old = inner.tunnels.insert(
            serial.to_owned(),
            Tunnel {
                conn,
                tx,
                holds,
                announced: None,
            },
        );
        drop(inner);
        if let Some(old) = old {
            let _ = old.tx.try_send(Command::Close {
                rule: None,
                why: "replaced by a new tunnel of the device".into(),
            });
        }
    }

    /// Removes a tunnel that ended, unless a newer one of the device replaced it.
    pub fn closed(&self, serial: &str, conn: u64) {
        let mut inner = self.lock();
        if inner.tunnels.get(serial).is_some_and(|t| t.conn == conn) {
            inner.tunnels.remove(serial);
        }
    }

    /// How many tunnels are open.
    pub fn len(&self) -> usize {
        self.lock().tunnels.len()
    }

    /// Whether no tunnel is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn serials(&self) -> Vec<String> {
        self.lock().tunnels.keys().cloned().collect()
    }

    fn decide(&self, serial: &str, verdict: &Verdict) -> Action {
        let mut inner = self.lock();
        match verdict {
            Verdict::Ready(config) => {
                let etag = config.etag();
                let etag = etag.as_bytes();
                let Some(t) = inner.tunnels.get_mut(serial) else {
                    return Action::Nothing;
                };
                // Compared without a copy: the watcher asks every tunnel after each change.
                if t.holds.as_bytes() == etag
                    || t.announced.as_ref().is_some_and(|a| a.as_bytes() == etag)
                {
                    return Action::Nothing;
                }
                t.announced = Some(String::from_utf8_lossy(etag).into_owned());
                Action::Send(
                    t.tx.clone(),
                    Command::PullConfig {
                        revision: config.revision,
                    },
                )
            }
            Verdict::Refused(r) => match inner.tunnels.remove(serial) {
                Some(t) => Action::Send(
                    t.tx,
                    Command::Withdraw {
                        rule: r.rule.to_owned(),
                        why: r.message_en.clone(),
                    },
                ),
                None => Action::Nothing,
            },
            // Nothing to fetch until the preset renders (R17.1): the device keeps what it has.
            Verdict::Incomplete(_) => Action::Nothing,
        }
    }
}

impl Service {
    /// Compares a tunnelled device's verdict with what it holds, and tells its tunnel.
    pub(super) async fn check(&self, serial: &str) -> Result<(), StorageError> {
        let verdict = self.verdict(serial).await?;
        if let Action::Send(tx, command) = self.registry.decide(serial, &verdict) {
            // A full queue means the tunnel is stuck; its idle timeout ends it.
            let _ = tx.try_send(command);
        }
        Ok(())
    }

    /// Follows the device cache's changes while tunnels are open (see the module doc), until
    /// `shutdown` completes.
    pub(super) async fn watch(
        &self,
        every: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let state = &self.state;
        let mut seen = state.devices.generation();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(every) => {}
            }
            if self.registry.is_empty() {
                seen = state.devices.generation();
                continue;
            }
            if let Err(e) = state.devices.refresh(&state.store, every).await {
                tracing::warn!(error = %e, "SMFv2 push: the journal could not be read");
                continue;
            }
            let generation = state.devices.generation();
            if generation == seen {
                continue;
            }
            seen = generation;
            for serial in self.registry.serials() {
                if let Err(e) = self.check(&serial).await {
                    tracing::warn!(serial, error = %e, "SMFv2 push: verdict not known");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use mpc_domain::book::Book;

    use super::*;

    fn not_notified() -> Verdict {
        let today = jiff::civil::date(2026, 2, 1);
        let refusal = mpc_domain::custody::provisionable(&Book::default(), "X4-1", today)
            .expect_err("an empty book holds no device");
        Verdict::Refused(Arc::new(refusal))
    }

    #[test]
    fn a_newer_tunnel_replaces_an_older_one_which_is_told_to_close() {
        let registry = Registry::default();
        let (old_tx, mut old_rx) = mpsc::channel(QUEUE);
        let (new_tx, mut new_rx) = mpsc::channel(QUEUE);
        let (old, new) = (registry.connection(), registry.connection());
        registry.open("X4-1", old, old_tx, Some("\"a\""));
        registry.open("X4-1", new, new_tx, Some("\"a\""));
        assert!(matches!(
            old_rx.try_recv(),
            Ok(Command::Close { rule: None, .. })
        ));
        // The older tunnel ending does not remove the newer one.
        registry.closed("X4-1", old);
        assert_eq!(registry.len(), 1);
        assert!(new_rx.try_recv().is_err());
        registry.closed("X4-1", new);
        assert!(registry.is_empty());
    }

    #[test]
    fn a_refused_device_is_told_to_pull_with_the_rule_once() {
        let registry = Registry::default();
        let (tx, mut rx) = mpsc::channel(QUEUE);
        registry.open("X4-1", registry.connection(), tx, Some("\"a\""));
        let Action::Send(tx, command) = registry.decide("X4-1", &not_notified()) else {
            panic!("nothing to do");
        };
        tx.try_send(command).unwrap();
        match rx.try_recv() {
            Ok(Command::Withdraw { rule, .. }) => assert_eq!(rule, "R7.1"),
            other => panic!("{other:?}"),
        }
        // Gone from the registry: asked again, nothing to do.
        assert!(registry.is_empty());
        assert!(matches!(
            registry.decide("X4-1", &not_notified()),
            Action::Nothing
        ));
    }
}
