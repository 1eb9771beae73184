//! `mpc simulate --protocol smfv2`: devices that call home as the ARMS client does, written
//! from the protocol brief — TLS 1.0, HTTP/1.0 with Basic, the LS (`rs-solicitation`), the RS
//! (`config-solicitation`), the push method query, the HTTPS tunnel and its push confirmation,
//! then signed UDP heartbeats to the `heartbeat-info` address and echoes down the tunnel; a
//! `pull-config` pushed down it makes the unit answer 100 and pull again from the RS.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mpc_server::smfv2::chunk::{self, Decoder, Frame};
use mpc_server::smfv2::heartbeat::{self, Cpu, Figures, Heartbeat, Usage};
use mpc_server::smfv2::message::{self, DistributionId};
use mpc_storage::controller::InventoryRecord;
use mpc_storage::smfv2::Identity;
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Where the SMFv2 devices call: the LS, the CA they trust and, overriding the RS's
/// `heartbeat-info`, where heartbeats go.
pub struct Target {
    pub ls: SocketAddr,
    pub ca_file: PathBuf,
    pub heartbeats: Option<SocketAddr>,
}

#[derive(Default)]
pub struct Stats {
    pub ls: AtomicU64,
    pub configs: AtomicU64,
    pub method_queries: AtomicU64,
    pub confirmations: AtomicU64,
    pub heartbeats: AtomicU64,
    pub echoes: AtomicU64,
    pub pull_configs: AtomicU64,
    /// Configurations pulled again after a `pull-config`.
    pub repulls: AtomicU64,
    pub errors: AtomicU64,
}

impl Stats {
    pub fn summary(&self) -> String {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "smfv2: LS {}, configurations {}, push method queries {}, push confirmations {}, \
             heartbeats {}, echoes {}, pull-configs {}, re-pulls {}, errors {}",
            load(&self.ls),
            load(&self.configs),
            load(&self.method_queries),
            load(&self.confirmations),
            load(&self.heartbeats),
            load(&self.echoes),
            load(&self.pull_configs),
            load(&self.repulls),
            load(&self.errors)
        )
    }

    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }
}

/// The Distribution ID of the `i`-th simulated unit of a fleet: vendor 0, SA type 1, an SA code
/// of the fleet's `fleet` number then `i + 1`, so fleets set up on one database never collide.
pub fn distribution_id(fleet: u32, i: usize) -> String {
    let code = u32::try_from(i + 1).unwrap_or(u32::MAX);
    format!(
        "0001-0000-0000-0001-{:04X}-{:04X}-{:04X}-{:04X}",
        fleet >> 16,
        fleet & 0xffff,
        code >> 16,
        code & 0xffff
    )
}

/// What the LS told a unit: where its RS is and its key there.
#[derive(Clone)]
struct Rs {
    addr: SocketAddr,
    path: String,
    key: String,
}

/// What the RS told a unit: where to heartbeat, and where its tunnel goes.
struct Pulled {
    heartbeat: Option<(SocketAddr, String, Duration)>,
    tunnel: SocketAddr,
    tunnel_path: String,
    echo: Duration,
}

/// Why a unit's push wait ended.
enum Ended {
    /// `pull-config`: pull again from the RS at once.
    PullConfig,
    /// The server closed the tunnel: start over at the LS after a pause.
    Closed,
    /// The run is over.
    Deadline,
}

/// Runs one unit until `deadline`: LS, RS, method query, tunnel and confirmation, then
/// heartbeats (at most `interval` apart) and echoes until a `pull-config` (RS again at once)
/// or the tunnel's end (LS again after `interval`).
pub async fn run(
    target: Arc<Target>,
    row: InventoryRecord,
    stats: Arc<Stats>,
    start: Duration,
    interval: Duration,
    deadline: Instant,
) {
    tokio::time::sleep(start).await;
    let Some(identity) = row.smfv2.clone() else {
        stats.errors.fetch_add(1, Ordering::Relaxed);
        eprintln!("{}: no SMFv2 identity in the inventory file", row.serial);
        return;
    };
    let socket = match tokio::net::UdpSocket::bind("127.0.0.1:0").await {
        Ok(s) => s,
        Err(e) => {
            stats.errors.fetch_add(1, Ordering::Relaxed);
            eprintln!("{}: cannot open a UDP socket: {e}", row.serial);
            return;
        }
    };
    let mut rs: Option<Rs> = None;
    let mut repull = false;
    while Instant::now() < deadline {
        let unit = Unit {
            target: &target,
            identity: &identity,
            stats: &stats,
            socket: &socket,
        };
        match unit.session(&mut rs, repull, interval, deadline).await {
            Ok(Ended::PullConfig) => repull = true,
            Ok(Ended::Deadline) => break,
            Ok(Ended::Closed) => {
                (rs, repull) = (None, false);
                tokio::time::sleep(interval).await;
            }
            Err(e) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                eprintln!("{}: SMFv2: {e:#}", row.serial);
                (rs, repull) = (None, false);
                tokio::time::sleep(interval).await;
            }
        }
    }
}

struct Unit<'a> {
    target: &'a Target,
    identity: &'a Identity,
    stats: &'a Stats,
    socket: &'a tokio::net::UdpSocket,
}

impl Unit<'_> {
    /// One round: (LS,) RS, method query, tunnel, then the push wait.
    async fn session(
        &self,
        rs: &mut Option<Rs>,
        repull: bool,
        interval: Duration,
        deadline: Instant,
    ) -> anyhow::Result<Ended> {
        let server = match rs {
            Some(server) => server.clone(),
            None => rs.insert(self.location().await?).clone(),
        };
        let pulled = self.pull(&server).await?;
        if repull {
            self.stats.repulls.fetch_add(1, Ordering::Relaxed);
        }
        let mut tunnel = self.open_tunnel(&server, &pulled).await?;
        self.stats.confirmations.fetch_add(1, Ordering::Relaxed);
        // The address given on the command line wins; the passphrase is the RS's, else the
        // unit's own.
        let heartbeat = match (self.target.heartbeats, &pulled.heartbeat) {
            (Some(addr), Some((_, passphrase, every))) => Some((addr, passphrase.clone(), *every)),
            (Some(addr), None) => {
                Some((addr, self.identity.heartbeat_passphrase.clone(), interval))
            }
            (None, found) => found.clone(),
        };
        tunnel
            .wait(self, heartbeat, interval, pulled.echo, deadline)
            .await
    }

    /// LS: where the RS is and the unit's key there.
    async fn location(&self) -> anyhow::Result<Rs> {
        let id = &self.identity.distribution_id;
        let ls = exchange(
            self.target,
            self.target.ls,
            "/arms.cgi",
            id,
            &self.identity.ls_key,
            &request("rs-solicitation", id, "<trigger>power on boot</trigger>"),
        )
        .await?;
        expect_code(&ls, "100", "rs-solicitation")?;
        self.stats.ls.fetch_add(1, Ordering::Relaxed);
        let url = element(&ls, "url").ok_or_else(|| anyhow!("the LS named no RS"))?;
        let key =
            element(&ls, "rs-preshared-key").ok_or_else(|| anyhow!("the LS gave no RS key"))?;
        let (addr, path) = https_address(url)?;
        Ok(Rs {
            addr,
            path,
            key: key.to_owned(),
        })
    }

    /// RS: the configuration, where to heartbeat, then the push method query.
    async fn pull(&self, rs: &Rs) -> anyhow::Result<Pulled> {
        let id = &self.identity.distribution_id;
        let config = exchange(
            self.target,
            rs.addr,
            &rs.path,
            id,
            &rs.key,
            &request(
                "config-solicitation",
                id,
                "<protocol-version>4.0</protocol-version><trigger>power on boot</trigger>\
                 <firmware-info>mpc simulator</firmware-info>",
            ),
        )
        .await?;
        expect_code(&config, "100", "config-solicitation")?;
        let encoded = element(&config, "md-config").ok_or_else(|| anyhow!("no md-config"))?;
        let decoded = STANDARD
            .decode(encoded)
            .context("md-config is not base64")?;
        if decoded.is_empty() {
            bail!("an empty configuration");
        }
        self.stats.configs.fetch_add(1, Ordering::Relaxed);
        let heartbeat = match element(&config, "heartbeat-info") {
            Some(info) => {
                let host =
                    element(info, "host").ok_or_else(|| anyhow!("heartbeat-info: no host"))?;
                let port =
                    element(info, "port").ok_or_else(|| anyhow!("heartbeat-info: no port"))?;
                let addr = format!("{host}:{port}")
                    .parse()
                    .with_context(|| format!("heartbeat-info {host}:{port} is not numeric"))?;
                let passphrase = element(info, "passphrase")
                    .ok_or_else(|| anyhow!("heartbeat-info: no passphrase"))?;
                let every: u64 = element(info, "interval")
                    .and_then(|i| i.parse().ok())
                    .ok_or_else(|| anyhow!("heartbeat-info: no interval"))?;
                Some((addr, passphrase.to_owned(), Duration::from_secs(every)))
            }
            None => None,
        };
        let query = exchange(
            self.target,
            rs.addr,
            &rs.path,
            id,
            &rs.key,
            &request(
                "push-method-query",
                id,
                "<push-method>https-simple</push-method><push-method>https-tunnel</push-method>",
            ),
        )
        .await?;
        expect_code(&query, "100", "push-method-query")?;
        self.stats.method_queries.fetch_add(1, Ordering::Relaxed);
        if element(&query, "push-method") != Some(message::HTTPS_TUNNEL) {
            bail!("push-method-query offers no https-tunnel: {query}");
        }
        let url = element(&query, "https-tunnel-url").ok_or_else(|| anyhow!("no tunnel URL"))?;
        let (tunnel, tunnel_path) = https_address(url)?;
        let echo: u64 = element(&query, "https-tunnel-echo-interval")
            .and_then(|e| e.parse().ok())
            .unwrap_or(60);
        Ok(Pulled {
            heartbeat,
            tunnel,
            tunnel_path,
            echo: Duration::from_secs(echo.max(1)),
        })
    }

    /// Opens the tunnel and confirms push in it (brief §4.3 steps 1, 2 and 4).
    async fn open_tunnel(&self, rs: &Rs, pulled: &Pulled) -> anyhow::Result<Tunnel> {
        let id = &self.identity.distribution_id;
        let mut stream = connect(self.target, pulled.tunnel).await?;
        stream
            .write_all(tunnel_head(&pulled.tunnel_path, pulled.tunnel, id, &rs.key).as_bytes())
            .await?;
        let mut raw = Vec::new();
        let head_end = loop {
            if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            if raw.len() > 8192 {
                bail!("the tunnel's answer has no end of headers");
            }
            let mut buf = [0u8; 1024];
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                bail!("the tunnel was refused: {}", String::from_utf8_lossy(&raw));
            }
            raw.extend_from_slice(&buf[..n]);
        };
        if !raw.starts_with(b"HTTP/1.1 200") {
            bail!(
                "the tunnel was refused: {}",
                String::from_utf8_lossy(&raw[..head_end])
            );
        }
        let mut tunnel = Tunnel {
            stream,
            decoder: Decoder::new(),
        };
        tunnel.decoder.feed(&raw[head_end + 4..]);
        let start = request(
            "push-confirmation-start",
            id,
            "<push-method>https-tunnel</push-method>",
        );
        tunnel
            .send(&chunk::encode_message(1, start.as_bytes()))
            .await?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut transaction = None;
        loop {
            let (chunk_id, body) = match tunnel.frame(deadline).await? {
                Some(Frame::Message { id, body }) => (id, String::from_utf8(body)?),
                Some(Frame::EchoRequest | Frame::EchoResponse) => continue,
                Some(Frame::End) => bail!("the tunnel ended before push was confirmed"),
                None => bail!("push was not confirmed within 30 s"),
            };
            if body.contains("<arms-response type=\"push-confirmation-start\">") {
                expect_code(&body, "100", "push-confirmation-start")?;
                transaction = Some(
                    element(&body, "transaction-id")
                        .ok_or_else(|| anyhow!("no transaction-id"))?
                        .to_owned(),
                );
            } else if body.contains("<arms-request type=\"push-confirmation-done\">") {
                if transaction.is_none()
                    || element(&body, "transaction-id") != transaction.as_deref()
                {
                    bail!("push-confirmation-done for another transaction: {body}");
                }
                let done = response("push-confirmation-done");
                tunnel
                    .send(&chunk::encode_message(
                        chunk_id.wrapping_add(1),
                        done.as_bytes(),
                    ))
                    .await?;
                return Ok(tunnel);
            } else {
                bail!("unexpected message before push was confirmed: {body}");
            }
        }
    }
}

/// A confirmed tunnel.
struct Tunnel {
    stream: tokio_openssl::SslStream<tokio::net::TcpStream>,
    decoder: Decoder,
}

impl Tunnel {
    async fn send(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await?;
        Ok(())
    }

    /// The next frame, or None when none came by `until`.
    async fn frame(&mut self, until: Instant) -> anyhow::Result<Option<Frame>> {
        loop {
            if let Some(frame) = self.decoder.next_frame()? {
                return Ok(Some(frame));
            }
            let mut buf = [0u8; 4096];
            let Ok(read) = tokio::time::timeout_at(until.into(), self.stream.read(&mut buf)).await
            else {
                return Ok(None);
            };
            let n = read?;
            if n == 0 {
                return Ok(Some(Frame::End));
            }
            self.decoder.feed(&buf[..n]);
        }
    }

    /// Push wait: heartbeats, echoes, and the server's pushes.
    async fn wait(
        &mut self,
        unit: &Unit<'_>,
        heartbeat: Option<(SocketAddr, String, Duration)>,
        interval: Duration,
        echo: Duration,
        deadline: Instant,
    ) -> anyhow::Result<Ended> {
        let id = &unit.identity.distribution_id;
        let now = Instant::now();
        // The first heartbeat right after the confirmation (brief §3).
        let mut next_beat = now;
        let mut next_echo = now + echo;
        let mut echo_pending = false;
        loop {
            let now = Instant::now();
            if now >= deadline {
                let _ = self.send(chunk::END).await;
                return Ok(Ended::Deadline);
            }
            if let Some((addr, passphrase, every)) = &heartbeat
                && now >= next_beat
            {
                let packet = beat(id, passphrase)?;
                unit.socket.send_to(&packet, addr).await?;
                unit.stats.heartbeats.fetch_add(1, Ordering::Relaxed);
                next_beat = now + (*every).min(interval);
            }
            if now >= next_echo {
                if echo_pending {
                    bail!("no echo-response within an echo interval");
                }
                self.send(chunk::ECHO_REQUEST).await?;
                echo_pending = true;
                next_echo = now + echo;
            }
            let mut wake = deadline.min(next_echo);
            if heartbeat.is_some() {
                wake = wake.min(next_beat);
            }
            let Some(frame) = self.frame(wake).await? else {
                continue;
            };
            match frame {
                Frame::EchoResponse => {
                    echo_pending = false;
                    unit.stats.echoes.fetch_add(1, Ordering::Relaxed);
                }
                Frame::EchoRequest => self.send(chunk::ECHO_RESPONSE).await?,
                Frame::End => return Ok(Ended::Closed),
                Frame::Message { id: chunk_id, body } => {
                    let body = String::from_utf8(body)?;
                    if !body.contains("<arms-request type=\"pull-config\">") {
                        bail!("unexpected push: {body}");
                    }
                    if element(&body, "distribution-id") != Some(id.as_str()) {
                        bail!("pull-config for another unit: {body}");
                    }
                    let answer = response("pull-config");
                    self.send(&chunk::encode_message(chunk_id, answer.as_bytes()))
                        .await?;
                    unit.stats.pull_configs.fetch_add(1, Ordering::Relaxed);
                    // The client leaves its push wait and pulls again (brief §4.4).
                    let _ = self.send(chunk::END).await;
                    return Ok(Ended::PullConfig);
                }
            }
        }
    }
}

/// The head of the tunnel request: headers only, the body never ends (brief §4.3 step 1).
fn tunnel_head(path: &str, host: SocketAddr, user: &str, key: &str) -> String {
    let auth = STANDARD.encode(format!("{user}:{key}"));
    format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: text/xml\r\n\
         Transfer-Encoding: chunked\r\nAuthorization: Basic {auth}\r\n\r\n"
    )
}

/// A success answer of the unit to a request of the server (brief §4.2 step 4, §4.4).
fn response(kind: &str) -> String {
    format!(
        "<arms-message><arms-response type=\"{kind}\"><result-code>100</result-code>\
         <description>Success</description><{kind}-response></{kind}-response></arms-response>\
         </arms-message>"
    )
}

/// What the simulated units call themselves in `<description>`.
const DESCRIPTION: &str = "mpc simulator";

/// A request as the client writes it (brief §2.1, §2.2, §4.1): no declaration, no whitespace.
pub(crate) fn request(kind: &str, distribution_id: &str, inner: &str) -> String {
    request_described(kind, distribution_id, DESCRIPTION, inner)
}

fn request_described(kind: &str, distribution_id: &str, description: &str, inner: &str) -> String {
    format!(
        "<arms-message><arms-request type=\"{kind}\"><distribution-id>{distribution_id}\
         </distribution-id><description>{description}</description><{kind}-request>{inner}\
         </{kind}-request></arms-request></arms-message>"
    )
}

pub(crate) fn expect_code(body: &str, code: &str, what: &str) -> anyhow::Result<()> {
    match element(body, "result-code") {
        Some(c) if c == code => Ok(()),
        other => bail!("{what}: result code {other:?}, not {code}"),
    }
}

/// The text of the first `<name …>…</name>` of `xml`.
pub(crate) fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    // `<name>` or `<name attr…>`, not `<name-longer>`.
    let open = [format!("<{name}>"), format!("<{name} ")]
        .iter()
        .filter_map(|tag| xml.find(tag.as_str()))
        .min()?;
    let start = xml[open..].find('>')? + open + 1;
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}

/// `https://IP:PORT/path` as the LS and RS send it (numeric, brief §1.2).
fn https_address(url: &str) -> anyhow::Result<(SocketAddr, String)> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| anyhow!("URL {url:?} is not https"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let addr = host
        .parse()
        .with_context(|| format!("URL {url:?} has no numeric address"))?;
    Ok((addr, format!("/{path}")))
}

/// One request over a fresh TLS 1.0 connection, as the client makes it: the one CA trusted,
/// no host name check, HTTP/1.0 with Basic; answers the body.
pub(crate) async fn exchange(
    target: &Target,
    addr: SocketAddr,
    path: &str,
    user: &str,
    key: &str,
    body: &str,
) -> anyhow::Result<String> {
    exchange_over(&connector(target)?, addr, path, user, key, body).await
}

/// The client's TLS settings: TLS 1.0 only, at security level 0, trusting the target's CA.
pub(crate) fn connector(target: &Target) -> anyhow::Result<SslConnector> {
    let mut connector = SslConnector::builder(SslMethod::tls_client())?;
    connector.set_min_proto_version(Some(SslVersion::TLS1))?;
    connector.set_max_proto_version(Some(SslVersion::TLS1))?;
    connector.set_cipher_list("DEFAULT:@SECLEVEL=0")?;
    connector.set_security_level(0);
    connector.set_ca_file(&target.ca_file)?;
    connector.set_verify(SslVerifyMode::PEER);
    Ok(connector.build())
}

/// [`exchange`] with settings made once: still a fresh connection and a full handshake (the
/// connector resumes no session).
pub(crate) async fn exchange_over(
    connector: &SslConnector,
    addr: SocketAddr,
    path: &str,
    user: &str,
    key: &str,
    body: &str,
) -> anyhow::Result<String> {
    let mut stream = connect_with(connector, addr).await?;
    let auth = STANDARD.encode(format!("{user}:{key}"));
    let request = format!(
        "POST {path} HTTP/1.0\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
         Authorization: Basic {auth}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    // The server closes after its fixed-length answer; a TLS close without notify is fine.
    let _ = stream.read_to_end(&mut response).await;
    let response = String::from_utf8(response).context("the answer is not text")?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow!("no HTTP answer"))?;
    if !head.starts_with("HTTP/1.1 200") {
        bail!("HTTP {}", head.lines().next().unwrap_or(""));
    }
    Ok(body.to_owned())
}

/// A TLS 1.0 connection as the client makes it: the one CA trusted, no host name check.
async fn connect(
    target: &Target,
    addr: SocketAddr,
) -> anyhow::Result<tokio_openssl::SslStream<tokio::net::TcpStream>> {
    connect_with(&connector(target)?, addr).await
}

/// A fresh connection and full handshake with settings made once.
async fn connect_with(
    connector: &SslConnector,
    addr: SocketAddr,
) -> anyhow::Result<tokio_openssl::SslStream<tokio::net::TcpStream>> {
    let ssl = connector
        .configure()?
        .verify_hostname(false)
        .use_server_name_indication(false)
        .into_ssl("ignored")?;
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let mut stream = tokio_openssl::SslStream::new(ssl, tcp)?;
    Pin::new(&mut stream).connect().await?;
    Ok(stream)
}

/// A heartbeat with plausible figures, signed with the passphrase of `heartbeat-info`.
pub(crate) fn beat(distribution_id: &str, passphrase: &str) -> anyhow::Result<Vec<u8>> {
    let distribution_id =
        DistributionId::parse(distribution_id).map_err(|e| anyhow!("distribution ID: {e}"))?;
    let beat = Heartbeat {
        distribution_id,
        figures: Figures {
            cpus: vec![Cpu {
                index: 0,
                utilisation: 12,
            }],
            memory: vec![Usage {
                index: 0,
                used: 96 << 20,
                available: 160 << 20,
            }],
            ..Figures::default()
        },
    };
    Ok(heartbeat::encode(&beat, passphrase.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distribution_ids_are_distinct_and_well_formed() {
        assert_eq!(
            distribution_id(0, 0),
            "0001-0000-0000-0001-0000-0000-0000-0001"
        );
        assert_eq!(
            distribution_id(0xBEEF_0001, 65_535),
            "0001-0000-0000-0001-BEEF-0001-0001-0000"
        );
        assert!(DistributionId::parse(&distribution_id(u32::MAX, 99_999)).is_ok());
    }

    /// The requests are the brief's captures (§2.1, §2.2) byte for byte, given the same
    /// description, trigger and firmware.
    #[test]
    fn requests_match_the_briefs_captures() {
        let id = "0001-0000-0000-0001-0000-0000-0000-0001";
        assert_eq!(
            request_described(
                "rs-solicitation",
                id,
                "mpc smfv2 test",
                "<trigger>power on boot</trigger>"
            ),
            "<arms-message><arms-request type=\"rs-solicitation\"><distribution-id>0001-0000-0000-0001-0000-0000-0000-0001</distribution-id><description>mpc smfv2 test</description><rs-solicitation-request><trigger>power on boot</trigger></rs-solicitation-request></arms-request></arms-message>"
        );
        assert_eq!(
            request_described(
                "config-solicitation",
                id,
                "mpc smfv2 test",
                "<protocol-version>4.0</protocol-version><trigger>power on boot</trigger>\
                 <firmware-info>Version 5.33</firmware-info>"
            ),
            "<arms-message><arms-request type=\"config-solicitation\"><distribution-id>0001-0000-0000-0001-0000-0000-0000-0001</distribution-id><description>mpc smfv2 test</description><config-solicitation-request><protocol-version>4.0</protocol-version><trigger>power on boot</trigger><firmware-info>Version 5.33</firmware-info></config-solicitation-request></arms-request></arms-message>"
        );
    }

    /// The push requests: the method query of §4.1, the tunnel's head (§4.3 step 1) and its
    /// confirmation start (§4.3 step 4, method https-tunnel and no endpoint), the answers of
    /// §4.2 step 4 and §4.4.
    #[test]
    fn push_requests_match_the_brief() {
        let id = "0001-0000-0000-0001-0000-0000-0000-0001";
        assert_eq!(
            request_described(
                "push-method-query",
                id,
                "mpc smfv2 test",
                "<push-method>https-simple</push-method><push-method>https-tunnel</push-method>"
            ),
            "<arms-message><arms-request type=\"push-method-query\"><distribution-id>0001-0000-0000-0001-0000-0000-0000-0001</distribution-id><description>mpc smfv2 test</description><push-method-query-request><push-method>https-simple</push-method><push-method>https-tunnel</push-method></push-method-query-request></arms-request></arms-message>"
        );
        assert_eq!(
            request_described(
                "push-confirmation-start",
                id,
                "mpc smfv2 test",
                "<push-method>https-tunnel</push-method>"
            ),
            "<arms-message><arms-request type=\"push-confirmation-start\"><distribution-id>0001-0000-0000-0001-0000-0000-0000-0001</distribution-id><description>mpc smfv2 test</description><push-confirmation-start-request><push-method>https-tunnel</push-method></push-confirmation-start-request></arms-request></arms-message>"
        );
        let head = tunnel_head("/tunnel.cgi", "127.0.0.1:8444".parse().unwrap(), id, "key");
        assert!(head.starts_with("POST /tunnel.cgi HTTP/1.1\r\nHost: 127.0.0.1:8444\r\n"));
        for header in [
            "Connection: close",
            "Content-Type: text/xml",
            "Transfer-Encoding: chunked",
        ] {
            assert!(head.contains(&format!("\r\n{header}\r\n")), "{header}");
        }
        assert!(head.ends_with("\r\n\r\n") && !head.contains("Content-Length"));
        assert_eq!(
            response("push-confirmation-done"),
            "<arms-message><arms-response type=\"push-confirmation-done\"><result-code>100</result-code><description>Success</description><push-confirmation-done-response></push-confirmation-done-response></arms-response></arms-message>"
        );
        assert_eq!(chunk::ECHO_REQUEST, b"4;echo-request;trail\r\necho\r\n");
    }

    #[test]
    fn elements_are_found_by_their_exact_name() {
        let xml = "<a><push-method-query-response><push-method>https-tunnel</push-method>\
                   <module id=\"1\">x</module></push-method-query-response></a>";
        assert_eq!(element(xml, "push-method"), Some("https-tunnel"));
        assert_eq!(element(xml, "module"), Some("x"));
        assert_eq!(element(xml, "push"), None);
    }

    #[test]
    fn rs_urls_are_read_as_the_ls_sends_them() {
        let (addr, path) = https_address("https://127.0.0.1:8444/rs.cgi").unwrap();
        assert_eq!(addr, "127.0.0.1:8444".parse().unwrap());
        assert_eq!(path, "/rs.cgi");
        assert!(https_address("http://127.0.0.1:8444/rs.cgi").is_err());
        assert!(https_address("https://rs.example/rs.cgi").is_err());
    }
}
