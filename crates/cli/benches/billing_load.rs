//! Device polls while billing runs: poll latency with and without eight billing runs being
//! attempted at once, on one SQLite node, in the same run.
//!
//! ```sh
//! cargo bench -p mpc-cli --bench billing_load
//! ```
//!
//! It makes a fleet of `MPC_BENCH_DEVICES` (50,000) notified devices (each in a contract to
//! bill) with `mpc simulate --setup` on a fresh SQLite database, prices every key, starts
//! `mpc serve`, and has the first `MPC_BENCH_POLLERS` (1,000) devices fetch their
//! configuration once. Then, for `MPC_BENCH_SECONDS` (15) seconds each:
//! - baseline: `MPC_BENCH_CONNECTIONS` (16) clients poll (signed conditional GETs, 304);
//! - under load: the same polls while eight clients attempt billing runs back to back, each of
//!   its own month (2026-05 … 2026-12), through the API.
//!
//! Prints p50, p99 and p99.9 of the polls, polls per second, the ratio of each to the
//! baseline, and what the billing attempts answered. Not a test: it asserts nothing about
//! time.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mpc_server::device::auth;

const MPC: &str = env!("CARGO_BIN_EXE_mpc");
const PATH: &str = "/device/v1/config";
const MONTHS: [&str; 8] = [
    "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12",
];

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
            eprintln!("billing_load bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `mpc` with `args` on `db_url`; fails with its standard error.
fn mpc(db_url: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(MPC)
        .args(["--database-url", db_url])
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "mpc {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn run() -> Result<()> {
    let devices = setting("MPC_BENCH_DEVICES", 50_000);
    let pollers = setting("MPC_BENCH_POLLERS", 1_000).min(devices);
    let connections = setting("MPC_BENCH_CONNECTIONS", 16);
    let seconds = setting("MPC_BENCH_SECONDS", 15) as u64;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let db_url = format!("sqlite://{}", dir.path().join("mpc.db").display());
    let fleet_file = dir.path().join("fleet.csv");
    println!(
        "billing_load bench: {devices} devices, {pollers} polling on {connections} connections, \
         {seconds} s per phase, 8 billing clients"
    );
    let setup = Instant::now();
    mpc(
        &db_url,
        &[
            "simulate",
            "--setup",
            &devices.to_string(),
            "--devices",
            "0",
            "--duration",
            "0",
            "--inventory-file",
            fleet_file.to_str().ok_or("path")?,
        ],
    )?;
    let prices = price_file(&db_url, dir.path())?;
    mpc(&db_url, &["price", "import", &prices])?;
    mpc(
        &db_url,
        &[
            "billing",
            "issuer",
            "--name",
            "株式会社ベンチ",
            "--registration-number",
            "T1234567890123",
        ],
    )?;
    mpc(
        &db_url,
        &[
            "user",
            "create",
            "--username",
            "bench",
            "--role",
            "operator",
        ],
    )?;
    let token = mpc(&db_url, &["token", "create", "--username", "bench"])?;
    let (_server, addr) = start(&db_url)?;
    let fleet = Arc::new(read_fleet(&fleet_file, pollers)?);
    println!("setup {:.1} s", setup.elapsed().as_secs_f64());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let client = reqwest::Client::new();
        let etags = Arc::new(warm_up(&client, addr, &fleet).await?);
        let base = poll_for(&client, addr, &fleet, &etags, connections, seconds).await?;
        let stop = Arc::new(AtomicBool::new(false));
        let outcomes = Arc::new(Outcomes::default());
        let mut billing = Vec::new();
        for month in MONTHS {
            let (client, token, stop, outcomes) =
                (client.clone(), token.clone(), stop.clone(), outcomes.clone());
            billing.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let reply = client
                        .post(format!("http://{addr}/api/v1/billing/runs"))
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(format!(r#"{{"month": "{month}"}}"#))
                        .send()
                        .await;
                    outcomes.count(reply.map(|r| r.status().as_u16()).unwrap_or(0));
                }
            }));
        }
        // Let the runs get going before measuring.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let loaded = poll_for(&client, addr, &fleet, &etags, connections, seconds).await?;
        stop.store(true, Ordering::Relaxed);
        for b in billing {
            let _ = b.await;
        }
        println!();
        println!("| phase | polls/s | p50 | p99 | p99.9 | non-304 |");
        println!("|---|---:|---:|---:|---:|---:|");
        for (name, p) in [("baseline", &base), ("8 billing clients", &loaded)] {
            println!(
                "| {name} | {:.0} | {:.2} ms | {:.2} ms | {:.2} ms | {} |",
                p.rate,
                ms(p.p50),
                ms(p.p99),
                ms(p.p999),
                p.failures
            );
        }
        println!();
        println!(
            "under billing load / baseline: p50 {:.2}x, p99 {:.2}x, polls/s {:.2}x",
            ms(loaded.p50) / ms(base.p50),
            ms(loaded.p99) / ms(base.p99),
            loaded.rate / base.rate
        );
        println!(
            "billing attempts: {} billed (200), {} refused while another run held the month (409), {} other",
            outcomes.ok.load(Ordering::Relaxed),
            outcomes.conflict.load(Ordering::Relaxed),
            outcomes.other.load(Ordering::Relaxed)
        );
        Ok(())
    })
}

#[derive(Default)]
struct Outcomes {
    ok: AtomicUsize,
    conflict: AtomicUsize,
    other: AtomicUsize,
}

impl Outcomes {
    fn count(&self, status: u16) {
        match status {
            200 => &self.ok,
            409 => &self.conflict,
            _ => &self.other,
        }
        .fetch_add(1, Ordering::Relaxed);
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Every key of 別紙1 priced at ¥1,000 + ¥100 × its position.
fn price_file(db_url: &str, dir: &Path) -> Result<String> {
    let keys = mpc(db_url, &["price", "keys"])?;
    let mut csv = String::from("key,contractor_id,effective_from,amount\n");
    for (i, line) in keys.lines().enumerate() {
        let key = line.split('\t').next().unwrap_or_default();
        csv.push_str(&format!("{key},,2020-01-01,{}\n", 1000 + 100 * i));
    }
    let path = dir.join("prices.csv");
    std::fs::write(&path, csv).map_err(|e| e.to_string())?;
    Ok(path.display().to_string())
}

fn start(db_url: &str) -> Result<(Server, SocketAddr)> {
    let mut child = Command::new(MPC)
        .args(["--database-url", db_url, "serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut lines = BufReader::new(child.stdout.take().ok_or("stdout")?).lines();
    let server = Server(child);
    let first = lines
        .next()
        .and_then(|l| l.ok())
        .ok_or("mpc serve printed nothing")?;
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("no address in {first:?}"))?;
    std::thread::spawn(move || lines.for_each(drop));
    Ok((server, addr))
}

struct Device {
    serial: String,
    secret: String,
}

fn read_fleet(path: &Path, n: usize) -> Result<Vec<Device>> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(',');
            let serial = fields.next()?.to_owned();
            let _model = fields.next()?;
            let secret = fields.next()?.to_owned();
            Some(Device { serial, secret })
        })
        .take(n)
        .collect())
}

static NONCE: AtomicUsize = AtomicUsize::new(0);

/// A freshly signed GET of the configuration (the server refuses replays).
fn signed_get(client: &reqwest::Client, addr: SocketAddr, d: &Device) -> reqwest::RequestBuilder {
    let ts = jiff::Timestamp::now().as_second().to_string();
    let nonce = format!("bench{:015}", NONCE.fetch_add(1, Ordering::Relaxed));
    let canonical = auth::canonical("GET", PATH, &ts, &nonce, &d.serial, b"");
    client
        .get(format!("http://{addr}{PATH}"))
        .header(auth::SERIAL_HEADER, &d.serial)
        .header(auth::TIMESTAMP_HEADER, &ts)
        .header(auth::NONCE_HEADER, &nonce)
        .header(
            auth::SIGNATURE_HEADER,
            auth::sign(d.secret.as_bytes(), &canonical),
        )
}

/// Each device fetches its configuration once; returns the ETags.
async fn warm_up(
    client: &reqwest::Client,
    addr: SocketAddr,
    fleet: &[Device],
) -> Result<Vec<String>> {
    let mut etags = Vec::with_capacity(fleet.len());
    for d in fleet {
        let reply = signed_get(client, addr, d)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if reply.status() != 200 {
            return Err(format!("{}: HTTP {}", d.serial, reply.status()));
        }
        etags.push(
            reply
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .ok_or("no ETag")?
                .to_owned(),
        );
    }
    Ok(etags)
}

struct Polls {
    rate: f64,
    p50: Duration,
    p99: Duration,
    p999: Duration,
    failures: usize,
}

/// Polls for `seconds` on `connections` concurrent clients; every answer but a 304 counts as a
/// failure.
async fn poll_for(
    client: &reqwest::Client,
    addr: SocketAddr,
    fleet: &Arc<Vec<Device>>,
    etags: &Arc<Vec<String>>,
    connections: usize,
    seconds: u64,
) -> Result<Polls> {
    let until = Instant::now() + Duration::from_secs(seconds);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, fleet, etags, next) =
            (client.clone(), fleet.clone(), etags.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0;
            while Instant::now() < until {
                let i = next.fetch_add(1, Ordering::Relaxed) % fleet.len();
                let started = Instant::now();
                let status = signed_get(&client, addr, &fleet[i])
                    .header("if-none-match", &etags[i])
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0);
                latencies.push(started.elapsed());
                if status != 304 {
                    failures += 1;
                }
            }
            (latencies, failures)
        }));
    }
    let mut all = Vec::new();
    let mut failures = 0;
    for t in tasks {
        let (l, f) = t.await.map_err(|e| e.to_string())?;
        all.extend(l);
        failures += f;
    }
    all.sort();
    let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Ok(Polls {
        rate: all.len() as f64 / seconds as f64,
        p50: at(0.50),
        p99: at(0.99),
        p999: at(0.999),
        failures,
    })
}
