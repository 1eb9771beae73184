//! The SMFv2 heartbeat listener: one UDP socket that verifies each datagram (brief §3) and
//! feeds the same UP/DOWN monitoring, history and webhooks as `/device/v1/status`, keeping the
//! figures the heartbeat carries.
//!
//! Heartbeats carry no nonce or time, so a captured one can be sent again: it keeps a device
//! UP, nothing more. Provisioning never reads them.
//!
//! A unit a rule refuses (lost R12.3, replaced R11.1, ended D6, …) is not monitored: its
//! heartbeats are dropped, so it neither turns nor stays UP, and the refusal is recorded in
//! its history once.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mpc_storage::{StorageError, controller, smfv2};
use tokio::net::UdpSocket;
use tokio::sync::Mutex;

use super::heartbeat::{self, MAX_PACKET};
use super::message::DistributionId;
use crate::AppState;
use crate::device::cache::Verdict;
use crate::device::{DeviceConfig, monitor};

/// How long a Distribution ID's passphrase (or its absence) is remembered: an identity
/// imported or replaced is heard within this time, and a flood of unknown IDs costs one
/// query per ID per this time.
const REMEMBER: Duration = Duration::from_secs(60);

/// Heartbeats being handled at once; more wait in the socket's buffer.
const IN_FLIGHT: usize = 64;

/// A Distribution ID's unit: its serial and heartbeat passphrase, or none.
type Known = Option<(String, String)>;

/// The heartbeat listener of one node.
pub struct HeartbeatListener {
    socket: Arc<UdpSocket>,
    service: Arc<Service>,
}

struct Service {
    state: AppState,
    device: DeviceConfig,
    known: Mutex<HashMap<DistributionId, (Instant, Known)>>,
    /// The rule last recorded against each refused unit's heartbeats.
    refused: Mutex<HashMap<String, &'static str>>,
    tally: Arc<Tally>,
}

/// What a listener made of the datagrams it read since it started: what it accepted, not what
/// was sent (datagrams the socket's buffer could not hold are lost before it reads them).
#[derive(Debug, Default)]
pub struct Tally {
    /// Verified heartbeats, recorded.
    pub heard: AtomicU64,
    /// Datagrams dropped: not a heartbeat, of no unit mpc knows, a MAC that does not verify,
    /// or of a unit a rule refuses.
    pub dropped: AtomicU64,
    /// Verified heartbeats the database did not record.
    pub failed: AtomicU64,
}

impl Tally {
    /// `(heard, dropped, failed)` as they stand.
    pub fn counts(&self) -> (u64, u64, u64) {
        (
            self.heard.load(Ordering::Relaxed),
            self.dropped.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}

/// What became of one datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A device's heartbeat: it is UP and its figures are kept.
    Heard { serial: String },
    /// Not a heartbeat, or of no unit mpc knows, or with a MAC that does not verify, or of a
    /// unit a rule refuses: dropped.
    /// Nothing is answered either way (the protocol has no reply).
    Dropped(&'static str),
}

impl HeartbeatListener {
    /// Binds the UDP socket.
    ///
    /// # Errors
    /// The socket's, e.g. a port in use.
    pub async fn bind(
        listen: SocketAddr,
        state: AppState,
        device: DeviceConfig,
    ) -> std::io::Result<Self> {
        let socket = UdpSocket::bind(listen).await?;
        Ok(Self {
            socket: Arc::new(socket),
            service: Arc::new(Service {
                state,
                device,
                known: Mutex::new(HashMap::new()),
                refused: Mutex::new(HashMap::new()),
                tally: Arc::default(),
            }),
        })
    }

    /// The bound address.
    ///
    /// # Errors
    /// The socket's.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// This listener's counts, read while it serves.
    pub fn tally(&self) -> Arc<Tally> {
        self.service.tally.clone()
    }

    /// Receives heartbeats until `shutdown` completes.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()>) {
        tracing::info!(
            listen = ?self.socket.local_addr().ok(),
            "SMFv2 heartbeats: UDP, HMAC-SHA1 checked; a heartbeat keeps a device UP and \
             never changes what it may fetch (heartbeats carry no nonce and can be replayed)"
        );
        let limit = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
        let mut buf = vec![0u8; MAX_PACKET + 1];
        tokio::pin!(shutdown);
        loop {
            let received = tokio::select! {
                () = &mut shutdown => break,
                r = self.socket.recv_from(&mut buf) => r,
            };
            let Ok((len, from)) = received else { continue };
            let Ok(permit) = limit.clone().acquire_owned().await else {
                break;
            };
            let packet = buf[..len].to_vec();
            let service = self.service.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let tally = &service.tally;
                match service.receive(&packet).await {
                    Ok(Outcome::Heard { .. }) => {
                        tally.heard.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(Outcome::Dropped(why)) => {
                        tally.dropped.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(%from, why, "SMFv2 heartbeat dropped");
                    }
                    Err(e) => {
                        tally.failed.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(error = %e, "SMFv2 heartbeat not recorded");
                    }
                }
            });
        }
    }
}

impl Service {
    async fn receive(&self, packet: &[u8]) -> Result<Outcome, StorageError> {
        let Ok(beat) = heartbeat::parse(packet) else {
            return Ok(Outcome::Dropped("not a heartbeat"));
        };
        let Some((serial, passphrase)) = self.unit(beat.distribution_id).await? else {
            // Unknown IDs cost the same MAC as known ones, so timing tells nothing.
            let _ = heartbeat::verify(packet, b"no such unit");
            return Ok(Outcome::Dropped("unknown distribution id"));
        };
        if !heartbeat::verify(packet, passphrase.as_bytes()) {
            return Ok(Outcome::Dropped("mac does not verify"));
        }
        let store = &self.state.store;
        if let Verdict::Refused(r) =
            super::listener::verdict(&self.state, &self.device, &serial).await?
        {
            if self.refused.lock().await.insert(serial.clone(), r.rule) != Some(r.rule) {
                let detail = format!("heartbeat ignored: {}", r.message_en);
                smfv2::record_event(store, &serial, "heartbeat.refused", Some(r.rule), &detail)
                    .await?;
            }
            return Ok(Outcome::Dropped("the unit is refused"));
        }
        let now = mpc_storage::now_micros();
        let figures = serde_json::to_string(&beat.figures).unwrap_or_default();
        if let Some(change) = controller::heard(store, &serial, now, &figures).await? {
            monitor::alert(store, &self.device, vec![change]);
        }
        Ok(Outcome::Heard { serial })
    }

    /// The serial and passphrase of `id`'s unit, remembered for [`REMEMBER`].
    async fn unit(&self, id: DistributionId) -> Result<Known, StorageError> {
        if let Some((since, known)) = self.known.lock().await.get(&id)
            && since.elapsed() < REMEMBER
        {
            return Ok(known.clone());
        }
        let store = &self.state.store;
        let found = smfv2::by_distribution_id(
            &mut *store.conn().await?,
            &self.state.secret_key,
            &id.to_string(),
        )
        .await?
        .map(|(serial, identity)| (serial, identity.heartbeat_passphrase));
        let mut known = self.known.lock().await;
        if known.len() > 200_000 {
            known.retain(|_, (since, _)| since.elapsed() < REMEMBER);
        }
        known.insert(id, (Instant::now(), found.clone()));
        Ok(found)
    }
}
