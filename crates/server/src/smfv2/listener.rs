//! The SMFv2 listener: the Location Server (`rs-solicitation`) and the Resource Server
//! (`config-solicitation`, `push-method-query`, `push-confirmation-start`) on one TLS port.
//!
//! **TLS 1.0.** The reference client speaks TLS 1.0 only, which OpenSSL 3 refuses at its default
//! security level. This listener alone allows TLS 1.0 to 1.2 with the cipher string
//! `DEFAULT:@SECLEVEL=0`, on an [`SslAcceptor`] of its own; nothing else in the process (the
//! HTTP server, outgoing webhooks) is touched, and the start-up log says so.
//!
//! **Answers.** Every answer is HTTP 200 with the outcome in `<result-code>`: the client treats
//! any HTTP error as a failed attempt and retries. "Not now" (no configuration yet, a rule
//! withholds it, a wrong key) is a 4xx result code, which makes the device try again later;
//! 2xx and 5xx codes make it give up and are never sent. An unknown Distribution ID and a wrong
//! key get the same answer after the same work. A request that is not an ARMS message gets
//! HTTP 400 (a failed attempt, retried).
//!
//! **Provisioning.** The configuration served is the `/device/v1` one, from the same cache and
//! under the same rules (R7.1, D6, R11.1, R12.3, R3.1, R17.1), and the first fetch is recorded
//! and starts billing (R5.2) as there. A refusal is logged with its rule and recorded in the
//! unit's SMFv2 events when it differs from the last thing the unit was told.
//!
//! **Push.** `push-method-query` offers the HTTPS tunnel on this same port
//! ([`super::tunnel`]), once the device is provisionable (else the refusal's 421, as for its
//! configuration; never an empty method list, which makes the client pull again at once,
//! brief §4.1). `config-solicitation` names the UDP heartbeat listener, when one runs, with
//! the device's passphrase: the device heartbeats once push is confirmed. A
//! `push-confirmation-start` outside a tunnel (`https-simple`, which needs mpc to connect to
//! the device) is answered 301 (Server Busy).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mpc_storage::smfv2::{self, Identity};
use mpc_storage::{StorageError, Store};
use openssl::ssl::{Ssl, SslAcceptor, SslMethod, SslOptions, SslVersion};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio_openssl::SslStream;

use super::http;
use super::message::{self, ResultCode};
use super::pki::{self, Material};
use super::push::Registry;
use super::tunnel::TUNNEL_PATH;
use crate::AppState;
use crate::device::DeviceConfig;
use crate::device::cache::Verdict;

/// The Location-Config line block handed out with the RS location: the device brings up its
/// first DHCP line to reach the RS. The client needs one line block (brief §2.1).
pub const DEFAULT_LINE_BLOCK: &str = "line-dhcp {\n ifindex 1;\n};\n";

/// Where the RS is reached, as advertised to devices: the path of the RS URL.
pub const RS_PATH: &str = "/rs.cgi";

/// How long a client may take for the handshake, and then for its request (the client's own
/// steps time out after about 30 s).
pub(super) const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// At most this many connections are served at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 1024;

/// At most this many tunnels are open at once (confirmed or not); a device past it is
/// answered 503 and pulls again later.
const MAX_TUNNELS: usize = 256 * 1024;

/// Settings of the SMFv2 listener.
#[derive(Debug, Clone)]
pub struct Smfv2Config {
    /// Where to listen (LS and RS on one port).
    pub listen: SocketAddr,
    /// The directory of `mpc smfv2 ca init`: the server certificate, its key and the CA.
    pub dir: std::path::PathBuf,
    /// The address devices reach the listener at (a numeric IP, brief §1.2); the listening
    /// address when not given.
    pub advertise: Option<SocketAddr>,
    /// The Location-Config line block.
    pub line_block: String,
    /// The module id the recipe is delivered under (brief §2.2: a per-model setting; older
    /// SEILs use 1).
    pub module_id: u32,
    /// The module version string sent with it.
    pub module_version: String,
    /// Seconds between the echo requests of a device's tunnel (brief §4.1; 60 by default).
    pub echo_interval: u32,
    /// The UDP heartbeat listener's bound address, when one runs: sent to devices in
    /// `heartbeat-info` (an unspecified address as the advertised IP).
    pub heartbeats: Option<SocketAddr>,
    /// Seconds between a device's heartbeats; keep it well under the DOWN delay.
    pub heartbeat_interval: u32,
}

impl Smfv2Config {
    /// A listener on `listen` with the certificates of `dir` and the defaults.
    pub fn new(listen: SocketAddr, dir: impl Into<std::path::PathBuf>) -> Self {
        Self {
            listen,
            dir: dir.into(),
            advertise: None,
            line_block: DEFAULT_LINE_BLOCK.to_owned(),
            module_id: 1,
            module_version: "1".to_owned(),
            echo_interval: 60,
            heartbeats: None,
            heartbeat_interval: 60,
        }
    }
}

/// Why the listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    #[error("SMFv2 certificates: {0}")]
    Pki(#[from] pki::PkiError),
    #[error("SMFv2 TLS: {0}")]
    Tls(#[from] openssl::error::ErrorStack),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error(
        "the SMFv2 listener listens on {0}, which devices cannot be sent to: give the address \
         they reach it at (--smfv2-advertise IP:PORT)"
    )]
    NoAdvertise(SocketAddr),
    #[error("the Location-Config would break the client: {0}")]
    LocationConfig(#[from] message::RenderError),
}

/// The acceptor of this listener only: TLS 1.0 to 1.2 at security level 0 (brief §1.1).
///
/// # Errors
/// OpenSSL's, for unreadable files or a key that does not match.
pub fn acceptor(material: &Material) -> Result<SslAcceptor, openssl::error::ErrorStack> {
    let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    // The Mozilla profile switches TLS 1.0 and 1.1 off by option as well as by version.
    builder.clear_options(SslOptions::NO_TLSV1 | SslOptions::NO_TLSV1_1);
    builder.set_min_proto_version(Some(SslVersion::TLS1))?;
    builder.set_max_proto_version(Some(SslVersion::TLS1_2))?;
    builder.set_cipher_list("DEFAULT:@SECLEVEL=0")?;
    builder.set_security_level(0);
    builder.set_certificate_chain_file(&material.cert_chain)?;
    builder.set_private_key_file(&material.key, openssl::ssl::SslFiletype::PEM)?;
    builder.check_private_key()?;
    Ok(builder.build())
}

/// A bound SMFv2 listener, ready to serve.
pub struct Smfv2Listener {
    tcp: TcpListener,
    acceptor: SslAcceptor,
    service: Arc<Service>,
}

impl Smfv2Listener {
    /// Reads the certificates, builds the acceptor and binds the port.
    ///
    /// # Errors
    /// [`ListenerError`] for missing or bad certificates, a port in use, or no address to
    /// advertise.
    pub async fn bind(
        config: &Smfv2Config,
        state: AppState,
        device: DeviceConfig,
    ) -> Result<Self, ListenerError> {
        let material = pki::load(&config.dir)?;
        if !material.ls_names_ok {
            tracing::warn!(
                dir = %config.dir.display(),
                "the SMFv2 certificates do not meet the client's Location Server name rule \
                 (CN=ARMS Root CA / CN=Location Server ...): devices will refuse this LS, \
                 though they may use it as their RS"
            );
        }
        // Checked once here, so no device is ever sent a Location-Config it cannot hold.
        message::location_config(&config.line_block, &material.ca_pem)?;
        let acceptor = acceptor(&material)?;
        let tcp = TcpListener::bind(config.listen)
            .await
            .map_err(|e| ListenerError::Bind(config.listen, e))?;
        let local = tcp
            .local_addr()
            .map_err(|e| ListenerError::Bind(config.listen, e))?;
        let advertise = match config.advertise {
            Some(a) => a,
            None if local.ip().is_unspecified() => return Err(ListenerError::NoAdvertise(local)),
            None => local,
        };
        let heartbeat = config.heartbeats.map(|hb| {
            let ip = if hb.ip().is_unspecified() {
                advertise.ip()
            } else {
                hb.ip()
            };
            (ip.to_string(), hb.port())
        });
        let service = Service {
            state,
            device,
            rs_url: format!("https://{advertise}{RS_PATH}"),
            tunnel_url: format!("https://{advertise}{TUNNEL_PATH}"),
            echo_interval: config.echo_interval.max(1),
            heartbeat,
            heartbeat_interval: config.heartbeat_interval.max(1),
            registry: Registry::default(),
            tunnels: Arc::new(tokio::sync::Semaphore::new(MAX_TUNNELS)),
            ca_pem: material.ca_pem,
            line_block: config.line_block.clone(),
            module_id: config.module_id,
            module_version: config.module_version.clone(),
            told: Mutex::new(HashMap::new()),
        };
        Ok(Self {
            tcp,
            acceptor,
            service: Arc::new(service),
        })
    }

    /// The bound address.
    ///
    /// # Errors
    /// The socket's.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    /// The RS URL devices are sent to.
    pub fn rs_url(&self) -> &str {
        &self.service.rs_url
    }

    /// The URL devices open their push tunnel at.
    pub fn tunnel_url(&self) -> &str {
        &self.service.tunnel_url
    }

    /// The tunnels confirmed on this listener.
    pub fn tunnels(&self) -> usize {
        self.service.registry.len()
    }

    /// Serves until `shutdown` completes; connections in flight finish on their own, and open
    /// tunnels until their devices drop them.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()>) {
        let addr = self.tcp.local_addr().ok();
        tracing::warn!(
            listen = ?addr,
            rs_url = %self.service.rs_url,
            "SMFv2 listener allows TLS 1.0, 1.1 and 1.2 at OpenSSL security level 0 \
             (DEFAULT:@SECLEVEL=0) on this port only, because the ARMS client speaks TLS 1.0"
        );
        let limit = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        let acceptor = Arc::new(self.acceptor);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let watcher = self.service.clone();
        // The cache's own refresh interval, but never a busy loop.
        let every = self
            .service
            .device
            .cache_refresh
            .max(Duration::from_millis(100));
        tokio::spawn(async move {
            watcher
                .watch(every, async {
                    let _ = stopped.await;
                })
                .await;
        });
        let _stop = stop;
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                () = &mut shutdown => break,
                p = limit.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            };
            let (tcp, peer) = tokio::select! {
                () = &mut shutdown => break,
                accepted = self.tcp.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::debug!(error = %e, "SMFv2 accept failed");
                        continue;
                    }
                },
            };
            let (service, acceptor) = (self.service.clone(), acceptor.clone());
            tokio::spawn(async move {
                if let Err(e) = connection(&service, &acceptor, tcp, peer, permit).await {
                    tracing::debug!(%peer, error = %e, "SMFv2 connection ended");
                }
            });
        }
    }
}

async fn connection(
    service: &Service,
    acceptor: &SslAcceptor,
    tcp: TcpStream,
    peer: SocketAddr,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tcp.set_nodelay(true)?;
    let ssl = Ssl::new(acceptor.context())?;
    let mut stream = SslStream::new(ssl, tcp)?;
    tokio::time::timeout(STEP_TIMEOUT, Pin::new(&mut stream).accept()).await??;
    let request = tokio::time::timeout(STEP_TIMEOUT, async {
        let (mut head, rest) = http::read_head(&mut stream).await?;
        if head.method == "POST" && head.path == TUNNEL_PATH {
            return Ok::<_, http::HttpError>(Err((head, rest)));
        }
        http::read_body(&mut stream, &mut head, rest).await?;
        Ok(Ok(head))
    })
    .await?;
    let request = match request {
        Ok(Err((head, rest))) => {
            // A tunnel stays open for as long as the device keeps it: it holds a tunnel
            // permit, not one of the request/answer exchanges'.
            drop(permit);
            let Ok(_tunnel) = service.tunnels.clone().try_acquire_owned() else {
                let busy = http::write_response(
                    &mut stream,
                    503,
                    "Service Unavailable",
                    "text/plain",
                    b"",
                );
                tokio::time::timeout(STEP_TIMEOUT, busy).await??;
                return Ok(());
            };
            return service.tunnel(stream, &head, rest, peer).await;
        }
        Ok(Ok(r)) => Ok(r),
        Err(e) => Err(e),
    };
    let answer = match request {
        Ok(r) => service.answer(&r, peer).await,
        Err(e) => {
            tracing::debug!(%peer, error = %e, "SMFv2 request unreadable");
            Answer::status(400, "Bad Request")
        }
    };
    let write = http::write_response(
        &mut stream,
        answer.status,
        answer.reason,
        answer.content_type,
        answer.body.as_bytes(),
    );
    tokio::time::timeout(STEP_TIMEOUT, write).await??;
    let _ = tokio::time::timeout(STEP_TIMEOUT, stream.shutdown()).await;
    Ok(())
}

/// One HTTP answer.
struct Answer {
    status: u16,
    reason: &'static str,
    content_type: &'static str,
    body: String,
}

impl Answer {
    fn xml(body: String) -> Self {
        Self {
            status: 200,
            reason: "OK",
            content_type: "text/xml",
            body,
        }
    }

    fn status(status: u16, reason: &'static str) -> Self {
        Self {
            status,
            reason,
            content_type: "text/plain",
            body: String::new(),
        }
    }

    fn result(kind: &str, code: ResultCode) -> Self {
        match message::render_result(kind, code) {
            Ok(body) => Self::xml(body),
            Err(_) => Self::status(400, "Bad Request"),
        }
    }
}

/// The LS, the RS and the tunnel endpoint, with what they need.
pub(super) struct Service {
    pub(super) state: AppState,
    pub(super) device: DeviceConfig,
    rs_url: String,
    tunnel_url: String,
    /// Seconds between a tunnel's echoes.
    pub(super) echo_interval: u32,
    /// Where devices send heartbeats (numeric host, port), when a listener runs.
    heartbeat: Option<(String, u16)>,
    heartbeat_interval: u32,
    /// The tunnels confirmed on this node.
    pub(super) registry: Registry,
    /// Permits for open tunnels.
    tunnels: Arc<tokio::sync::Semaphore>,
    ca_pem: String,
    line_block: String,
    module_id: u32,
    module_version: String,
    /// What each unit was last told (event, rule, detail), so its events record changes, not
    /// every retry.
    told: Mutex<HashMap<String, Told>>,
}

/// What a unit was told: event, rule, detail.
type Told = (String, Option<String>, String);

/// Which key a request is checked against.
#[derive(Clone, Copy)]
pub(super) enum Role {
    Ls,
    Rs,
}

/// A key for unknown Distribution IDs, so they cost the same comparison as a wrong key.
const NO_KEY: &str = "no such distribution id: compare anyway to take the same time";

/// What a device wrote (its pull trigger, its firmware) as kept in its events: printable
/// ASCII, at most 64 characters, so a device cannot fill its history.
fn device_text(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(64)
        .collect()
}

/// Compares two keys in constant time (over their digests, so the length leaks nothing).
fn same_key(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

impl Service {
    async fn answer(&self, request: &http::Request, peer: SocketAddr) -> Answer {
        if request.method != "POST" {
            return Answer::status(405, "Method Not Allowed");
        }
        let Ok(body) = std::str::from_utf8(&request.body) else {
            return Answer::status(400, "Bad Request");
        };
        let message = match message::parse_request(body) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "SMFv2 request is not an ARMS message");
                return Answer::status(400, "Bad Request");
            }
        };
        let role = match message.kind.as_str() {
            "rs-solicitation" => Role::Ls,
            "config-solicitation" | "push-method-query" | "push-confirmation-start" => Role::Rs,
            _ => return Answer::status(400, "Bad Request"),
        };
        let outcome = async {
            let Some((serial, identity)) = self
                .authenticate(request, &message.distribution_id, role)
                .await?
            else {
                tracing::info!(
                    %peer,
                    distribution_id = %message.distribution_id,
                    kind = %message.kind,
                    "SMFv2 authentication failed"
                );
                return Ok(Answer::result(
                    &message.kind,
                    ResultCode::AuthenticationFailure,
                ));
            };
            match message.kind.as_str() {
                "rs-solicitation" => self.rs_solicitation(&serial, &identity, &message).await,
                "config-solicitation" => {
                    self.config_solicitation(&serial, &identity, &message).await
                }
                "push-method-query" => self.push_method_query(&serial, &message).await,
                // https-simple is not offered: retry later, then pull again.
                _ => Ok(Answer::result(&message.kind, ResultCode::ServerBusy)),
            }
        };
        match outcome.await {
            Ok(answer) => answer,
            Err(e) => {
                tracing::error!(%peer, error = %e, kind = %message.kind, "SMFv2 request failed");
                // An HTTP error is a failed attempt: the client retries.
                Answer::status(500, "Internal Server Error")
            }
        }
    }

    /// The unit whose Distribution ID and key the request carries, or None (unknown ID, wrong
    /// key, a Basic user that is not the message's Distribution ID: all alike).
    pub(super) async fn authenticate(
        &self,
        request: &http::Request,
        distribution_id: &str,
        role: Role,
    ) -> Result<Option<(String, Identity)>, StorageError> {
        let store = &self.state.store;
        let found = if message::DistributionId::parse(distribution_id).is_ok() {
            smfv2::by_distribution_id(
                &mut *store.conn().await?,
                &self.state.secret_key,
                distribution_id,
            )
            .await?
        } else {
            None
        };
        let (user, password) = request.basic_auth().unwrap_or_default();
        let expected = found.as_ref().map_or(NO_KEY, |(_, identity)| match role {
            Role::Ls => identity.ls_key.as_str(),
            Role::Rs => identity.rs_key.as_str(),
        });
        let key_ok = same_key(&password, expected);
        let Some((serial, identity)) = found else {
            return Ok(None);
        };
        if !key_ok || user != distribution_id {
            let event = match role {
                Role::Ls => "ls.refused",
                Role::Rs => "rs.refused",
            };
            self.tell(store, &serial, event, None, "authentication failed")
                .await?;
            return Ok(None);
        }
        Ok(Some((serial, identity)))
    }

    /// The unit's verdict, exactly as `/device/v1` decides it.
    pub(super) async fn verdict(&self, serial: &str) -> Result<Verdict, StorageError> {
        verdict(&self.state, &self.device, serial).await
    }

    /// Records what a unit was told, when it differs from the last time.
    pub(super) async fn tell(
        &self,
        store: &Store,
        serial: &str,
        event: &str,
        rule: Option<&str>,
        detail: &str,
    ) -> Result<(), StorageError> {
        let told = (event.to_owned(), rule.map(str::to_owned), detail.to_owned());
        {
            let mut last = self.told.lock().unwrap_or_else(|e| e.into_inner());
            if last.get(serial) == Some(&told) {
                return Ok(());
            }
            last.insert(serial.to_owned(), told);
        }
        if let Some(rule) = rule {
            tracing::info!(serial, event, rule, detail, "SMFv2 refusal");
        }
        smfv2::record_event(store, serial, event, rule, detail)
            .await
            .inspect_err(|_| {
                // Not recorded: try again next time.
                self.told
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(serial);
            })
    }

    async fn refused(
        &self,
        serial: &str,
        kind: &str,
        event: &str,
        refusal: &mpc_domain::Refusal,
    ) -> Result<Answer, StorageError> {
        self.tell(
            &self.state.store,
            serial,
            event,
            Some(refusal.rule),
            &refusal.message_en,
        )
        .await?;
        Ok(Answer::result(kind, ResultCode::ConfigurationNotFound))
    }

    /// LS: where the RS is, the RS key, the line and the RS CA. A unit that a rule refuses
    /// (R7.1, D6, R11.1, R12.3, R3.1) is not told; one whose preset is incomplete (R17.1) is,
    /// and waits at the RS.
    async fn rs_solicitation(
        &self,
        serial: &str,
        identity: &Identity,
        message: &message::Request,
    ) -> Result<Answer, StorageError> {
        if let Verdict::Refused(r) = self.verdict(serial).await? {
            return self.refused(serial, &message.kind, "ls.refused", &r).await;
        }
        let answer = message::RsSolicitation {
            rs_key: identity.rs_key.clone(),
            rs_urls: vec![self.rs_url.clone()],
            line_block: self.line_block.clone(),
            rs_ca_pem: self.ca_pem.clone(),
        };
        let Ok(body) = message::render_rs_solicitation(&answer) else {
            // The RS key came from the inventory import, which keeps it printable and short.
            return Err(StorageError::Corrupt(format!(
                "the SMFv2 RS key of {serial} cannot be sent"
            )));
        };
        let trigger = device_text(message.trigger.as_deref().unwrap_or(""));
        self.tell(
            &self.state.store,
            serial,
            "ls.accepted",
            None,
            &format!("sent to {} ({trigger})", self.rs_url),
        )
        .await?;
        Ok(Answer::xml(body))
    }

    /// RS: the recipe of the contract's current revision, base64, as module `module_id`.
    async fn config_solicitation(
        &self,
        serial: &str,
        identity: &Identity,
        message: &message::Request,
    ) -> Result<Answer, StorageError> {
        let config = match self.verdict(serial).await? {
            Verdict::Ready(config) => config,
            Verdict::Refused(r) | Verdict::Incomplete(r) => {
                return self.refused(serial, &message.kind, "rs.refused", &r).await;
            }
        };
        let state = &self.state;
        if config.take_first_fetch() {
            // From now on the notified serial can no longer be corrected (R7.1).
            mpc_storage::fetches::record(&state.store, serial, config.contract_id())
                .await
                .inspect_err(|_| config.restore_first_fetch())?;
        }
        if self.device.billing_start_on_first_fetch && config.take_billing_start() {
            crate::device::start_billing(state, serial, &config).await;
        }
        let answer = message::ConfigSolicitation {
            module_id: self.module_id,
            module_version: self.module_version.clone(),
            config: config.recipe().to_vec(),
            rs_pull_urls: vec![self.rs_url.clone()],
            // The device heartbeats once its push is confirmed (brief §0).
            heartbeat: self
                .heartbeat
                .as_ref()
                .map(|(host, port)| message::Heartbeat {
                    host: host.clone(),
                    port: *port,
                    passphrase: identity.heartbeat_passphrase.clone(),
                    interval: self.heartbeat_interval,
                }),
        };
        let Ok(body) = message::render_config_solicitation(&answer) else {
            return Err(StorageError::Corrupt(format!(
                "the SMFv2 module version or heartbeat passphrase of {serial} cannot be sent"
            )));
        };
        let etag = String::from_utf8_lossy(config.etag().as_bytes()).into_owned();
        if self.registry.delivered(serial, &etag) {
            // Kept for the device's next tunnel, on this node after a restart or on another.
            smfv2::record_served(&state.store, serial, &etag).await?;
        }
        let revision = config.revision.map_or_else(
            || "the item's defaults".to_owned(),
            |r| format!("revision {r}"),
        );
        let firmware = device_text(
            message
                .firmware_info
                .as_deref()
                .unwrap_or("unknown firmware"),
        );
        self.tell(
            &state.store,
            serial,
            "rs.accepted",
            None,
            &format!("configuration of {revision} ({firmware})"),
        )
        .await?;
        Ok(Answer::xml(body))
    }
}

impl Service {
    /// RS: the HTTPS tunnel, for a device that may have its configuration and offers it.
    async fn push_method_query(
        &self,
        serial: &str,
        message: &message::Request,
    ) -> Result<Answer, StorageError> {
        if let Verdict::Refused(r) | Verdict::Incomplete(r) = self.verdict(serial).await? {
            return self.refused(serial, &message.kind, "rs.refused", &r).await;
        }
        if !message
            .push_methods
            .iter()
            .any(|m| m == message::HTTPS_TUNNEL)
        {
            // Only https-simple offered (the device cannot keep a tunnel): pull later.
            return Ok(Answer::result(&message.kind, ResultCode::ServerBusy));
        }
        match message::render_push_method_query(&self.tunnel_url, self.echo_interval) {
            Ok(body) => Ok(Answer::xml(body)),
            Err(_) => Err(StorageError::Corrupt(
                "the SMFv2 tunnel URL cannot be sent".into(),
            )),
        }
    }
}

/// The unit's verdict, exactly as `/device/v1` decides it.
pub(super) async fn verdict(
    state: &AppState,
    device: &DeviceConfig,
    serial: &str,
) -> Result<Verdict, StorageError> {
    state
        .devices
        .refresh(&state.store, device.cache_refresh)
        .await?;
    if let Some((_, Some(verdict))) = state.devices.known(serial) {
        return Ok(verdict);
    }
    // The model must be known before the verdict, for R3.1.
    state
        .devices
        .credentials(&state.store, &state.secret_key, serial)
        .await?;
    state
        .devices
        .verdict(&state.store, &state.secret_key, serial)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_text_is_kept_short_and_printable() {
        assert_eq!(device_text("power on boot"), "power on boot");
        assert_eq!(device_text("a\nb\u{e9}c"), "abc");
        assert_eq!(device_text(&"x".repeat(500)).len(), 64);
    }

    #[test]
    fn keys_compare_whatever_their_length() {
        assert!(same_key("abc", "abc"));
        assert!(!same_key("abc", "abd"));
        assert!(!same_key("abc", "abcd"));
        assert!(!same_key("", NO_KEY));
    }
}
