//! `mpc simulate --protocol smfv2`: devices that call home as the ARMS client does, written
//! from the protocol brief — TLS 1.0, HTTP/1.0 with Basic, the LS (`rs-solicitation`), the RS
//! (`config-solicitation`), the push method query, then signed UDP heartbeats — and pull again
//! every interval.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mpc_server::smfv2::heartbeat::{self, Cpu, Figures, Heartbeat, Usage};
use mpc_server::smfv2::message::DistributionId;
use mpc_storage::controller::InventoryRecord;
use mpc_storage::smfv2::Identity;
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Where the SMFv2 devices call: the LS, the CA they trust and where heartbeats go.
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
    pub heartbeats: AtomicU64,
    pub errors: AtomicU64,
}

impl Stats {
    pub fn summary(&self) -> String {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "smfv2: LS {}, configurations {}, push method queries {}, heartbeats {}, errors {}",
            load(&self.ls),
            load(&self.configs),
            load(&self.method_queries),
            load(&self.heartbeats),
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

/// Runs one unit until `deadline`: a pull (LS, RS, method query) and a heartbeat each
/// `interval`, the first after `start`.
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
    while Instant::now() < deadline {
        if let Err(e) = pull(&target, &identity, &stats).await {
            stats.errors.fetch_add(1, Ordering::Relaxed);
            eprintln!("{}: SMFv2 pull: {e:#}", row.serial);
        }
        if let Some(addr) = target.heartbeats {
            match beat(&identity) {
                Ok(packet) if socket.send_to(&packet, addr).await.is_ok() => {
                    stats.heartbeats.fetch_add(1, Ordering::Relaxed);
                }
                _ => {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        tokio::time::sleep(interval).await;
    }
}

/// LS, then RS with what the LS said, then the push method query.
async fn pull(target: &Target, identity: &Identity, stats: &Stats) -> anyhow::Result<()> {
    let id = &identity.distribution_id;
    let ls = exchange(
        target,
        target.ls,
        "/arms.cgi",
        id,
        &identity.ls_key,
        &request("rs-solicitation", id, "<trigger>power on boot</trigger>"),
    )
    .await?;
    expect_code(&ls, "100", "rs-solicitation")?;
    stats.ls.fetch_add(1, Ordering::Relaxed);
    let rs_url = element(&ls, "url").ok_or_else(|| anyhow!("the LS named no RS"))?;
    let rs_key =
        element(&ls, "rs-preshared-key").ok_or_else(|| anyhow!("the LS gave no RS key"))?;
    let (rs, path) = rs_address(rs_url)?;
    let config = exchange(
        target,
        rs,
        &path,
        id,
        rs_key,
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
    stats.configs.fetch_add(1, Ordering::Relaxed);
    let query = exchange(
        target,
        rs,
        &path,
        id,
        rs_key,
        &request(
            "push-method-query",
            id,
            "<push-method>https-tunnel</push-method>",
        ),
    )
    .await?;
    // Push is not offered yet: 301 (Server Busy) tells the device to keep pulling.
    expect_code(&query, "301", "push-method-query")?;
    stats.method_queries.fetch_add(1, Ordering::Relaxed);
    Ok(())
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
    let open = xml.find(&format!("<{name}"))?;
    let start = xml[open..].find('>')? + open + 1;
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}

/// `https://IP:PORT/path` as the LS sends it (numeric, brief §1.2).
fn rs_address(url: &str) -> anyhow::Result<(SocketAddr, String)> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| anyhow!("RS URL {url:?} is not https"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let addr = host
        .parse()
        .with_context(|| format!("RS URL {url:?} has no numeric address"))?;
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
    let ssl = connector
        .configure()?
        .verify_hostname(false)
        .use_server_name_indication(false)
        .into_ssl("ignored")?;
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let mut stream = tokio_openssl::SslStream::new(ssl, tcp)?;
    Pin::new(&mut stream).connect().await?;
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

/// A heartbeat with plausible figures, signed with the unit's passphrase.
pub(crate) fn beat(identity: &Identity) -> anyhow::Result<Vec<u8>> {
    let distribution_id = DistributionId::parse(&identity.distribution_id)
        .map_err(|e| anyhow!("distribution ID: {e}"))?;
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
    Ok(heartbeat::encode(
        &beat,
        identity.heartbeat_passphrase.as_bytes(),
    ))
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

    #[test]
    fn rs_urls_are_read_as_the_ls_sends_them() {
        let (addr, path) = rs_address("https://127.0.0.1:8444/rs.cgi").unwrap();
        assert_eq!(addr, "127.0.0.1:8444".parse().unwrap());
        assert_eq!(path, "/rs.cgi");
        assert!(rs_address("http://127.0.0.1:8444/rs.cgi").is_err());
        assert!(rs_address("https://rs.example/rs.cgi").is_err());
    }
}
