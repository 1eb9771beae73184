//! SMFv2 at fleet scale: UDP heartbeats verified per second, and config-solicitations per
//! second over fresh TLS connections, each against a baseline measured in the same run.
//!
//! ```sh
//! cargo bench -p mpc-cli --bench smfv2
//! MPC_BENCH_DEVICES=20000 cargo bench -p mpc-cli --bench smfv2     # quicker
//! ```
//!
//! It makes a fleet of `MPC_BENCH_DEVICES` (100,000) SMFv2 units notified to their adapters
//! (R7.1), each with its identity, with `mpc simulate --setup N --protocol smfv2` on a fresh
//! SQLite database (or, with `MPC_BENCH_POSTGRES_URL`, a fresh PostgreSQL database made with
//! `psql` beside the one named and dropped at the end), then in this process:
//! - **heartbeats**: one thread sends every unit's signed heartbeat round-robin from
//!   `MPC_BENCH_SENDERS` (4) UDP sockets for `MPC_BENCH_SECONDS` (10) seconds, first to a bare tokio
//!   socket loop that only counts datagrams (the baseline), then to the listener
//!   `mpc serve --smfv2-heartbeat-listen` runs. Its rate is what the listener itself counted
//!   as verified and recorded, not what was sent;
//! - **config-solicitations**: `MPC_BENCH_CLIENTS` (16) clients each open a fresh TLS 1.0
//!   connection per request, as the ARMS client does, for `MPC_BENCH_SECONDS`, first to the
//!   listener `mpc serve --smfv2-listen` runs (units in inventory order, so each fetch is a
//!   unit's first), then to the baseline: an acceptor with the listener's own TLS settings
//!   that reads the request and writes the answer the listener gave the first unit, byte for
//!   byte. The difference is the app's cost: parsing, the unit's identity looked up and
//!   opened, the key compared, the verdict, the first fetch and the unit's event recorded.
//!
//! Prints the rates, their ratios to the baselines, latencies, what was lost or refused and
//! the peak RSS of this process. Not a test: it asserts nothing about time.

use std::net::SocketAddr;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use mpc_server::AppState;
use mpc_server::device::DeviceConfig;
use mpc_server::smfv2::listener::{self, RS_PATH, Smfv2Config, Smfv2Listener};
use mpc_server::smfv2::udp::HeartbeatListener;
use mpc_server::smfv2::{http, pki};
use mpc_storage::Store;
use mpc_storage::controller::{self, SecretKey};
use mpc_storage::smfv2::Identity;
use openssl::ssl::Ssl;
use tokio::io::AsyncWriteExt as _;

// The simulator's client: requests, TLS 1.0 exchange, signed heartbeats.
#[allow(dead_code, unused_imports)]
#[path = "../src/simulate_smfv2.rs"]
mod simulate_smfv2;

use simulate_smfv2::{Target, beat, connector, element, exchange_over, expect_code, request};

const MPC: &str = env!("CARGO_BIN_EXE_mpc");

type Result<T> = std::result::Result<T, String>;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smfv2 bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `VmRSS` and `VmHWM` of this process, in MiB.
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Thousands separated by commas, as BENCHMARKS.md writes them.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

struct Settings {
    devices: usize,
    seconds: u64,
    senders: usize,
    clients: usize,
}

fn run() -> Result<()> {
    let s = Settings {
        devices: setting("MPC_BENCH_DEVICES", 100_000),
        seconds: setting("MPC_BENCH_SECONDS", 10) as u64,
        senders: setting("MPC_BENCH_SENDERS", 4).max(1),
        clients: setting("MPC_BENCH_CLIENTS", 16).max(1),
    };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (db_url, key, _database) = match std::env::var("MPC_BENCH_POSTGRES_URL") {
        Ok(admin) => {
            let name = format!("mpc_bench_smfv2_{}", std::process::id());
            psql(&admin, &format!("CREATE DATABASE {name}"))?;
            let url = with_database(&admin, &name);
            let database = Database { admin, name };
            // PostgreSQL has no key file beside it: the setup and this process share one.
            let seed = u64::from(std::process::id()) ^ mpc_storage::now_micros().unsigned_abs();
            let key: [u8; 32] = std::array::from_fn(|i| (seed >> ((i % 8) * 8)) as u8 ^ i as u8);
            (url, Some(key), Some(database))
        }
        Err(_) => {
            let url = format!("sqlite://{}", dir.path().join("mpc.db").display());
            (url, None, None)
        }
    };
    let fleet_file = dir.path().join("fleet.csv");
    println!(
        "smfv2 bench: {} units on {}, {} s per phase, {} heartbeat sockets, {} TLS clients, on {} cores",
        s.devices,
        if key.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        s.seconds,
        s.senders,
        s.clients,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let setup = Instant::now();
    let mut setup_command = Command::new(MPC);
    if let Some(key) = &key {
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        setup_command.env(controller::KEY_ENV, hex);
    }
    let out = setup_command
        .args(["--database-url", &db_url, "simulate", "--protocol", "smfv2"])
        .args(["--setup", &s.devices.to_string(), "--devices", "0"])
        .args(["--duration", "0", "--inventory-file"])
        .arg(&fleet_file)
        .env("RUST_LOG", "warn")
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "mpc simulate --setup: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = std::fs::read_to_string(&fleet_file).map_err(|e| e.to_string())?;
    let identities: Vec<Identity> = controller::parse_inventory(&text)
        .map_err(|e| format!("inventory: {}", e[0].fault))?
        .into_iter()
        .filter_map(|row| row.smfv2)
        .collect();
    drop(text);
    if identities.len() != s.devices {
        return Err(format!(
            "the inventory holds {} SMFv2 units, not {}",
            identities.len(),
            s.devices
        ));
    }
    let packets: Vec<Vec<u8>> = identities
        .iter()
        .map(|id| beat(&id.distribution_id, &id.heartbeat_passphrase).map_err(|e| e.to_string()))
        .collect::<Result<_>>()?;
    println!(
        "setup of {} units (contracts, inventory, identities): {:.1} s",
        grouped(s.devices as u64),
        setup.elapsed().as_secs_f64()
    );

    // The server's side as `mpc serve` runs it: a runtime with a worker per core.
    let server = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    // The clients' side, on threads of its own.
    let clients = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let secret_key = match &key {
        Some(key) => SecretKey::from_bytes(key),
        None => SecretKey::resolve(&db_url).map_err(|e| e.to_string())?.0,
    };
    let store = server
        .block_on(Store::open(&db_url))
        .map_err(|e| e.to_string())?;
    // Its pools' tasks run on the server's runtime.
    let state = server.block_on(async { AppState::new(store.clone(), secret_key) });
    let (rss_loaded, _) = memory_mib();

    let heartbeats = heartbeat_phase(&s, &server, &state, Arc::new(packets))?;
    let certs = dir.path().join("smfv2");
    pki::init(&certs, &["127.0.0.1".to_owned()]).map_err(|e| e.to_string())?;
    let tls = tls_phase(&s, &server, &clients, &state, &certs, Arc::new(identities))?;
    let (rss_end, hwm) = memory_mib();
    server.block_on(store.close());

    println!();
    println!("| run | listener | baseline | ratio | lost / refused |");
    println!("|---|---:|---:|---:|---|");
    println!(
        "| UDP heartbeats verified and recorded /s (baseline: datagrams counted) | {} | {} | {:.3}x | {} |",
        grouped(heartbeats.rate as u64),
        grouped(heartbeats.baseline as u64),
        heartbeats.rate / heartbeats.baseline,
        heartbeats.losses
    );
    println!(
        "| config-solicitations /s over fresh TLS (baseline: TLS + fixed answer) | {} | {} | {:.2}x | {} failed, {} baseline failed |",
        grouped(tls.app.rate as u64),
        grouped(tls.baseline.rate as u64),
        tls.app.rate / tls.baseline.rate,
        tls.app.failures,
        tls.baseline.failures
    );
    println!();
    println!(
        "config-solicitation latency: p50 {:.2} ms, p99 {:.2} ms (baseline p50 {:.2} ms, p99 {:.2} ms)",
        ms(tls.app.p50),
        ms(tls.app.p99),
        ms(tls.baseline.p50),
        ms(tls.baseline.p99)
    );
    println!(
        "memory: RSS {rss_loaded:.0} MiB with the fleet's inventory and heartbeats built, {rss_end:.0} MiB \
         at the end; peak (VmHWM) {hwm:.0} MiB"
    );
    Ok(())
}

/// Runs `psql` on `url` with one statement.
fn psql(url: &str, statement: &str) -> Result<()> {
    let out = Command::new("psql")
        .arg(url)
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", statement])
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("psql: {}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// The benchmark's PostgreSQL database, dropped when done, also on errors.
struct Database {
    admin: String,
    name: String,
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = psql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

struct HeartbeatFigures {
    rate: f64,
    baseline: f64,
    losses: String,
}

/// Sends `packets` round-robin from `sockets` sockets to `to` for `seconds`, as fast as one
/// thread can (a second thread would take the listener's core); answers how many were sent.
fn blast(packets: &[Vec<u8>], to: SocketAddr, sockets: usize, seconds: u64) -> Result<u64> {
    let sockets: Vec<std::net::UdpSocket> = (0..sockets)
        .map(|_| std::net::UdpSocket::bind("127.0.0.1:0"))
        .collect::<std::io::Result<_>>()
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut i, mut sent) = (0usize, 0u64);
    loop {
        if i.is_multiple_of(256) && Instant::now() >= deadline {
            return Ok(sent);
        }
        if sockets[i % sockets.len()]
            .send_to(&packets[i % packets.len()], to)
            .is_ok()
        {
            sent += 1;
        }
        i += 1;
    }
}

fn heartbeat_phase(
    s: &Settings,
    server: &tokio::runtime::Runtime,
    state: &AppState,
    packets: Arc<Vec<Vec<u8>>>,
) -> Result<HeartbeatFigures> {
    // Baseline: a bare socket loop on the server's runtime that only counts datagrams.
    let socket = server
        .block_on(tokio::net::UdpSocket::bind("127.0.0.1:0"))
        .map_err(|e| e.to_string())?;
    let to = socket.local_addr().map_err(|e| e.to_string())?;
    let counted = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let counter = {
        let (counted, stop) = (counted.clone(), stop.clone());
        server.spawn(async move {
            let mut buf = vec![0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                let received =
                    tokio::time::timeout(Duration::from_millis(100), socket.recv_from(&mut buf));
                if let Ok(Ok(_)) = received.await {
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let sent_base = blast(&packets, to, s.senders, s.seconds)?;
    let base_count = counted.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    let _ = server.block_on(counter);
    let baseline = base_count as f64 / s.seconds as f64;
    println!(
        "heartbeat baseline: {} sent, {} counted in {} s ({}/s)",
        grouped(sent_base),
        grouped(base_count),
        s.seconds,
        grouped(baseline as u64)
    );

    // The listener `mpc serve --smfv2-heartbeat-listen` runs.
    let listener = server
        .block_on(HeartbeatListener::bind(
            "127.0.0.1:0".parse().map_err(|_| "address")?,
            state.clone(),
            DeviceConfig::default(),
        ))
        .map_err(|e| e.to_string())?;
    let to = listener.local_addr().map_err(|e| e.to_string())?;
    let tally = listener.tally();
    let (shutdown, quit) = tokio::sync::oneshot::channel::<()>();
    let serving = server.spawn(listener.serve(async {
        let _ = quit.await;
    }));
    let started = mpc_storage::now_micros();
    let sent = blast(&packets, to, s.senders, s.seconds)?;
    let (heard, ..) = tally.counts();
    // Let what the socket still holds be read and handled, so every datagram is accounted.
    let mut last = tally.counts();
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = tally.counts();
        if now == last {
            break;
        }
        last = now;
    }
    let _ = shutdown.send(());
    let _ = server.block_on(serving);
    let (heard_all, dropped, failed) = last;
    let read = heard_all + dropped + failed;
    let up = server
        .block_on(async {
            let filter = controller::MonitorFilter {
                state: Some("up".to_owned()),
                ..Default::default()
            };
            // Whether a device is assigned does not matter to this count: any day will do.
            controller::monitored(&mut *state.store.conn().await?, &filter, "2026-01-01").await
        })
        .map_err(|e| e.to_string())?
        .iter()
        .filter(|d| d.last_heartbeat.is_some_and(|at| at >= started))
        .count();
    let rate = heard as f64 / s.seconds as f64;
    println!(
        "heartbeat listener: {} sent, {} verified and recorded in {} s ({}/s), {} in all once \
         the socket was drained; {} refused (MAC or unit), {} not recorded, {} lost before \
         being read; {} units heard according to the database",
        grouped(sent),
        grouped(heard),
        s.seconds,
        grouped(rate as u64),
        grouped(heard_all),
        grouped(dropped),
        grouped(failed),
        grouped(sent.saturating_sub(read)),
        grouped(up as u64)
    );
    Ok(HeartbeatFigures {
        rate,
        baseline,
        losses: format!(
            "{} refused, {} not recorded, {:.1}% of those sent lost in the socket's buffer \
             (baseline {:.1}%)",
            dropped,
            failed,
            100.0 * sent.saturating_sub(read) as f64 / sent as f64,
            100.0 * sent_base.saturating_sub(base_count) as f64 / sent_base as f64
        ),
    })
}

struct TlsRun {
    rate: f64,
    p50: Duration,
    p99: Duration,
    failures: u64,
}

struct TlsFigures {
    app: TlsRun,
    baseline: TlsRun,
}

/// `clients` clients each sending config-solicitations of the units in turn, one fresh TLS
/// connection each, to `addr` for `seconds`.
fn solicit(
    s: &Settings,
    clients: &tokio::runtime::Runtime,
    target: &Arc<Target>,
    addr: SocketAddr,
    identities: &Arc<Vec<Identity>>,
) -> TlsRun {
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let deadline = Instant::now() + Duration::from_secs(s.seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..s.clients)
        .map(|_| {
            let (target, identities, next, failures, first_error) = (
                target.clone(),
                identities.clone(),
                next.clone(),
                failures.clone(),
                first_error.clone(),
            );
            clients.spawn(async move {
                let mut latencies = Vec::new();
                // Made once per client, as a device keeps its settings: each request is still
                // a new connection with a full handshake.
                let connector = match connector(&target) {
                    Ok(c) => c,
                    Err(e) => {
                        failures.fetch_add(1, Ordering::Relaxed);
                        first_error
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert(e.to_string());
                        return latencies;
                    }
                };
                while Instant::now() < deadline {
                    let id = &identities[next.fetch_add(1, Ordering::Relaxed) % identities.len()];
                    let t = Instant::now();
                    match config_solicitation(&connector, addr, id).await {
                        Ok(()) => latencies.push(t.elapsed()),
                        Err(e) => {
                            failures.fetch_add(1, Ordering::Relaxed);
                            first_error
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .get_or_insert(e);
                        }
                    }
                }
                latencies
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = clients.block_on(async {
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap_or_default());
        }
        all
    });
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    if let Some(e) = first_error
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
    {
        eprintln!("first failure: {e}");
    }
    TlsRun {
        rate: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        failures: failures.load(Ordering::Relaxed),
    }
}

/// One config-solicitation over a fresh TLS connection, checked as the client checks it:
/// result code 100 and a configuration that decodes.
async fn config_solicitation(
    connector: &openssl::ssl::SslConnector,
    addr: SocketAddr,
    id: &Identity,
) -> std::result::Result<(), String> {
    let body = request(
        "config-solicitation",
        &id.distribution_id,
        "<protocol-version>4.0</protocol-version><trigger>power on boot</trigger>\
         <firmware-info>mpc bench</firmware-info>",
    );
    let answer = exchange_over(
        connector,
        addr,
        RS_PATH,
        &id.distribution_id,
        &id.rs_key,
        &body,
    )
    .await
    .map_err(|e| format!("{e:#}"))?;
    expect_code(&answer, "100", "config-solicitation").map_err(|e| e.to_string())?;
    let config = element(&answer, "md-config").ok_or("no md-config")?;
    match base64::engine::general_purpose::STANDARD.decode(config) {
        Ok(bytes) if !bytes.is_empty() => Ok(()),
        _ => Err("md-config is not a configuration".to_owned()),
    }
}

fn tls_phase(
    s: &Settings,
    server: &tokio::runtime::Runtime,
    clients: &tokio::runtime::Runtime,
    state: &AppState,
    certs: &std::path::Path,
    identities: Arc<Vec<Identity>>,
) -> Result<TlsFigures> {
    // The LS is not asked: each client goes straight to the RS with the unit's RS key.
    let target = Arc::new(Target {
        ls: "127.0.0.1:1".parse().map_err(|_| "address")?,
        ca_file: certs.join(pki::CA_FILE),
        heartbeats: None,
    });

    // The listener `mpc serve --smfv2-listen` runs.
    let config = Smfv2Config::new("127.0.0.1:0".parse().map_err(|_| "address")?, certs);
    let app = server
        .block_on(Smfv2Listener::bind(
            &config,
            state.clone(),
            DeviceConfig::default(),
        ))
        .map_err(|e| e.to_string())?;
    let addr = app.local_addr().map_err(|e| e.to_string())?;
    let (shutdown, quit) = tokio::sync::oneshot::channel::<()>();
    let serving = server.spawn(app.serve(async {
        let _ = quit.await;
    }));
    // The first unit's answer, kept for the baseline to send.
    let first = &identities[0];
    let fixed = clients
        .block_on(exchange_over(
            &connector(&target).map_err(|e| e.to_string())?,
            addr,
            RS_PATH,
            &first.distribution_id,
            &first.rs_key,
            &request(
                "config-solicitation",
                &first.distribution_id,
                "<protocol-version>4.0</protocol-version><trigger>power on boot</trigger>\
                 <firmware-info>mpc bench</firmware-info>",
            ),
        ))
        .map_err(|e| format!("the first config-solicitation: {e:#}"))?;
    let app_run = solicit(s, clients, &target, addr, &identities);
    let _ = shutdown.send(());
    let _ = server.block_on(serving);
    println!(
        "config-solicitations: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, {} failed",
        app_run.rate,
        ms(app_run.p50),
        ms(app_run.p99),
        app_run.failures
    );

    // Baseline: the listener's TLS settings, the request read, a fixed answer written.
    let material = pki::load(certs).map_err(|e| e.to_string())?;
    let acceptor = Arc::new(listener::acceptor(&material).map_err(|e| e.to_string())?);
    let tcp = server
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .map_err(|e| e.to_string())?;
    let addr = tcp.local_addr().map_err(|e| e.to_string())?;
    let fixed = Arc::new(fixed);
    let accepting = server.spawn(async move {
        loop {
            let Ok((tcp, _)) = tcp.accept().await else {
                continue;
            };
            let (acceptor, fixed) = (acceptor.clone(), fixed.clone());
            tokio::spawn(async move {
                let _ = tcp.set_nodelay(true);
                let Ok(ssl) = Ssl::new(acceptor.context()) else {
                    return;
                };
                let Ok(mut stream) = tokio_openssl::SslStream::new(ssl, tcp) else {
                    return;
                };
                if std::pin::Pin::new(&mut stream).accept().await.is_err()
                    || http::read_request(&mut stream).await.is_err()
                {
                    return;
                }
                let written =
                    http::write_response(&mut stream, 200, "OK", "text/xml", fixed.as_bytes());
                if written.await.is_ok() {
                    let _ = stream.shutdown().await;
                }
            });
        }
    });
    let baseline = solicit(s, clients, &target, addr, &identities);
    accepting.abort();
    println!(
        "TLS baseline: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, {} failed",
        baseline.rate,
        ms(baseline.p50),
        ms(baseline.p99),
        baseline.failures
    );
    Ok(TlsFigures {
        app: app_run,
        baseline,
    })
}
