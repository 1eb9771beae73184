//! Controller benchmark: devices polling their configuration from `mpc serve`, against nginx
//! serving the same bytes as a static file in the same run.
//!
//! ```sh
//! cargo bench -p mpc-cli --bench controller     # needs wrk and nginx: apt-get install wrk nginx-light
//! ```
//!
//! It makes a fleet of `MPC_BENCH_DEVICES` (100,000) notified devices with `mpc simulate
//! --setup` on a fresh SQLite database in a temporary directory, starts `mpc serve` on it and
//! nginx with a generated configuration (both on free ports of 127.0.0.1), and fetches every
//! device's configuration once, as devices coming online would (this also learns each one's
//! ETag). Then, with wrk (`MPC_BENCH_THREADS` threads, `MPC_BENCH_CONNECTIONS` connections,
//! `MPC_BENCH_SECONDS` seconds per run), for full downloads and for conditional polls (304):
//! nginx and then mpc, mpc's requests spread over the whole fleet. Every mpc request is signed
//! afresh beforehand (the server refuses a replay), with timestamps within the last half
//! minute; nginx receives the same requests, with its own ETag on the polls. The server runs
//! its production code path: the bench only sends signed requests.
//!
//! Prints requests per second, latency percentiles, the ratio to nginx, the answers the
//! server counted per status (from its `/metrics`) and its peak RSS. Not a test: it asserts
//! nothing about time.
//!
//! With `MPC_BENCH_POSTGRES` (a PostgreSQL URL whose user may create databases, e.g.
//! `postgres://postgres@127.0.0.1:5432/test`) it then does the same on a fresh PostgreSQL
//! database with two `mpc serve` nodes, which share replay protection through the database:
//! polls to one node alone, then to both at once (one wrk each, the same settings), each
//! against nginx measured in the same run. `MPC_BENCH_ONLY_POSTGRES=1` skips the SQLite part.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mpc_server::device::auth;

const MPC: &str = env!("CARGO_BIN_EXE_mpc");
const LUA: &str = include_str!("controller.lua");
const PATH: &str = "/device/v1/config";

struct Settings {
    devices: usize,
    seconds: u64,
    threads: usize,
    connections: usize,
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> ExitCode {
    let settings = Settings {
        devices: setting("MPC_BENCH_DEVICES", 100_000),
        seconds: setting("MPC_BENCH_SECONDS", 10) as u64,
        threads: setting("MPC_BENCH_THREADS", 2),
        connections: setting("MPC_BENCH_CONNECTIONS", 64),
    };
    match run(&settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("controller bench: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T, E = String> = std::result::Result<T, E>;

/// A program from PATH or the sbin directories (nginx lives in /usr/sbin, often not on a
/// user's PATH).
fn find_tool(name: &str) -> Result<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!("{name} not found: install it with `apt-get install wrk nginx-light` (Debian)")
        })
}

/// A child process stopped (SIGTERM, then waited for) when dropped, also on errors.
struct Process {
    name: &'static str,
    child: Child,
}

impl Process {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("{} did not stop on SIGTERM; killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn run(s: &Settings) -> Result<()> {
    if std::env::var_os("MPC_BENCH_ONLY_POSTGRES").is_none() {
        run_sqlite(s)?;
    }
    if let Ok(url) = std::env::var("MPC_BENCH_POSTGRES") {
        run_postgres(s, &url)?;
    }
    Ok(())
}

fn run_sqlite(s: &Settings) -> Result<()> {
    let wrk = find_tool("wrk")?;
    let nginx = find_tool("nginx")?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let db_url = format!("sqlite://{}", dir.path().join("mpc.db").display());
    let fleet_file = dir.path().join("fleet.csv");
    println!(
        "controller bench: {} devices, wrk -t{} -c{} -d{}s, {} cores",
        s.devices,
        s.threads,
        s.connections,
        s.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let started = Instant::now();
    let setup = Command::new(MPC)
        .args(["--database-url", &db_url, "simulate", "--setup"])
        .arg(s.devices.to_string())
        .args(["--duration", "0", "--inventory-file"])
        .arg(&fleet_file)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {MPC}: {e}"))?;
    if !setup.success() {
        return Err(format!("mpc simulate --setup failed: {setup}"));
    }
    let setup_time = started.elapsed();
    println!(
        "setup: {} devices registered and notified (R7.1) in {:.1} s",
        s.devices,
        setup_time.as_secs_f64()
    );
    let fleet = read_fleet(&fleet_file)?;

    let (server, mpc_addr) = start_mpc(&db_url, dir.path(), "server.log", &[])?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let (etags, recipe) = rt.block_on(fetch_all(mpc_addr, &fleet, "warm"))?;
    let first_fetch = started.elapsed();
    println!(
        "first fetch of every device (cold cache): {:.1} s, {:.0}/s; configuration {} bytes",
        first_fetch.as_secs_f64(),
        fleet.len() as f64 / first_fetch.as_secs_f64(),
        recipe.len()
    );
    let rss_loaded = rss(server.pid())?;

    let (_nginx, nginx_addr) = start_nginx(&nginx, dir.path(), &recipe)?;
    let nginx_etag = etag_of(nginx_addr)?;

    let mut runs = Runs {
        s,
        wrk: &wrk,
        dir: dir.path(),
        fleet: &fleet,
        etags: &etags,
        mpc: mpc_addr,
        nginx: nginx_addr,
        nginx_etag,
        lua: dir.path().join("controller.lua"),
        generated: 0,
        rate_hint: 0.0,
        nonce_prefix: "b",
    };
    std::fs::write(&runs.lua, LUA).map_err(|e| e.to_string())?;

    // Warm-up: a short poll run on each, which also sizes the request files.
    let warm_seconds = 3;
    let warm = runs.pair(Kind::Poll, warm_seconds, 250_000 * warm_seconds as usize)?;
    runs.rate_hint = warm.1.rate;
    println!(
        "warm-up ({warm_seconds} s of polls): nginx {:.0}/s, mpc {:.0}/s",
        warm.0.rate, warm.1.rate
    );

    let download = runs.measure(Kind::Download)?;
    let poll = runs.measure(Kind::Poll)?;
    let rss_end = rss(server.pid())?;

    println!();
    println!("| run | nginx req/s | mpc req/s | mpc / nginx | mpc p50 | mpc p99 | mpc answers |");
    println!("|---|---|---|---|---|---|---|");
    for (name, (n, m, answers)) in [("full download (200)", &download), ("poll (304)", &poll)] {
        println!(
            "| {name} | {:.0} | {:.0} | {:.2}× | {} | {} | {} |",
            n.rate,
            m.rate,
            m.rate / n.rate,
            m.p50,
            m.p99,
            answers
        );
    }
    println!();
    println!(
        "setup {:.0} s; first fetch of {} devices {:.1} s; mpc RSS after loading the fleet {:.0} MiB, \
         at the end {:.0} MiB, peak (VmHWM) {:.0} MiB",
        setup_time.as_secs_f64(),
        fleet.len(),
        first_fetch.as_secs_f64(),
        rss_loaded.current,
        rss_end.current,
        rss_end.peak
    );
    let targets = [
        ("polls ≥ 25,000/s", poll.1.rate >= 25_000.0),
        ("polls ≥ 0.5× nginx", poll.1.rate >= 0.5 * poll.0.rate),
        ("downloads ≥ 10,000/s", download.1.rate >= 10_000.0),
        ("peak RSS ≤ 200 MB", rss_end.peak * 1024.0 * 1024.0 <= 200e6),
    ];
    for (target, met) in targets {
        println!("target {target}: {}", if met { "met" } else { "NOT met" });
    }
    drop(server);
    Ok(())
}

struct Device {
    serial: String,
    secret: String,
}

fn read_fleet(path: &Path) -> Result<Vec<Device>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(',');
            let serial = fields.next()?.to_owned();
            let _model = fields.next()?;
            let secret = fields.next()?.to_owned();
            Some(Device { serial, secret })
        })
        .collect())
}

/// Starts `mpc serve` on a free port; its log goes to `log` in `dir`.
fn start_mpc(
    db_url: &str,
    dir: &Path,
    log: &str,
    env: &[(&str, &str)],
) -> Result<(Process, SocketAddr)> {
    let log = std::fs::File::create(dir.join(log)).map_err(|e| e.to_string())?;
    let mut child = Command::new(MPC)
        .envs(env.iter().copied())
        .args(["--database-url", db_url, "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start mpc serve: {e}"))?;
    let stdout = child.stdout.take().expect("piped");
    let server = Process {
        name: "mpc serve",
        child,
    };
    let mut lines = BufReader::new(stdout).lines();
    let first = lines
        .next()
        .and_then(|l| l.ok())
        .ok_or("mpc serve printed nothing; see its log")?;
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("cannot read the address from {first:?}"))?;
    // Keep reading, so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Ok((server, addr))
}

/// Starts nginx serving `recipe` at the device path, from a configuration in `dir` that names
/// only paths in `dir`.
fn start_nginx(nginx: &Path, dir: &Path, recipe: &[u8]) -> Result<(Process, SocketAddr)> {
    let io = |e: std::io::Error| e.to_string();
    let root = dir.join("nginx");
    let www = root.join("www");
    std::fs::create_dir_all(www.join("device/v1")).map_err(io)?;
    std::fs::create_dir_all(root.join("tmp")).map_err(io)?;
    std::fs::write(www.join("device/v1/config"), recipe).map_err(io)?;
    // nginx's workers run as an unprivileged user when started as root: let them read the file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for (path, mode) in [
            (dir, 0o711),
            (root.as_path(), 0o755),
            (www.as_path(), 0o755),
            (www.join("device").as_path(), 0o755),
            (www.join("device/v1").as_path(), 0o755),
            (www.join("device/v1/config").as_path(), 0o644),
        ] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io)?;
        }
    }
    let port = free_port()?;
    let tmp = root.join("tmp");
    let conf = format!(
        "worker_processes auto;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=16;
    server {{
        listen 127.0.0.1:{port};
        root {www};
        location / {{
            default_type \"text/plain; charset=utf-8\";
            add_header Cache-Control no-cache;
        }}
    }}
}}
",
        root = root.display(),
        tmp = tmp.display(),
        www = www.display(),
    );
    let conf_path = root.join("nginx.conf");
    std::fs::write(&conf_path, conf).map_err(io)?;
    let child = Command::new(nginx)
        .arg("-p")
        .arg(&root)
        .arg("-c")
        .arg(&conf_path)
        .arg("-e")
        .arg(root.join("error.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start nginx: {e}"))?;
    let process = Process {
        name: "nginx",
        child,
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(root.join("error.log")).unwrap_or_default();
            return Err(format!("nginx did not start: {log}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((process, addr))
}

/// A plain HTTP/1.0 GET: status line, headers and body as text.
fn http_get(addr: SocketAddr, path: &str) -> Result<String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut reply = String::new();
    stream
        .read_to_string(&mut reply)
        .map_err(|e| e.to_string())?;
    Ok(reply)
}

fn etag_of(addr: SocketAddr) -> Result<String> {
    let reply = http_get(addr, PATH)?;
    reply
        .lines()
        .find_map(|l| {
            l.strip_prefix("ETag: ")
                .or_else(|| l.strip_prefix("etag: "))
        })
        .map(|t| t.trim().to_owned())
        .ok_or_else(|| format!("nginx gave no ETag: {reply}"))
}

/// Requests the server answered on the device path, by status, from its Prometheus metrics.
fn answers(addr: SocketAddr) -> Result<BTreeMap<String, u64>> {
    let text = http_get(addr, "/metrics")?;
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("http_requests_total{") else {
            continue;
        };
        if !rest.contains(&format!("route=\"{PATH}\"")) {
            continue;
        }
        let status = rest
            .split("status=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or("?");
        let count: u64 = line
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse::<f64>().ok())
            .map_or(0, |n| n as u64);
        *out.entry(status.to_owned()).or_default() += count;
    }
    Ok(out)
}

struct Rss {
    current: f64,
    peak: f64,
}

/// VmRSS and VmHWM of a process, in MiB.
fn rss(pid: u32) -> Result<Rss> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    Ok(Rss {
        current: field("VmRSS:"),
        peak: field("VmHWM:"),
    })
}

/// Signs a GET of the configuration as `device`.
fn signed(device: &Device, timestamp: &str, nonce: &str) -> String {
    let canonical = auth::canonical("GET", PATH, timestamp, nonce, &device.serial, b"");
    auth::sign(device.secret.as_bytes(), &canonical)
}

/// Fetches every device's configuration once; returns their ETags and the first body.
async fn fetch_all(
    addr: SocketAddr,
    fleet: &[Device],
    nonce_prefix: &'static str,
) -> Result<(Vec<String>, Vec<u8>)> {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let fleet: Arc<Vec<(String, String)>> = Arc::new(
        fleet
            .iter()
            .map(|d| (d.serial.clone(), d.secret.clone()))
            .collect(),
    );
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (client, next, fleet) = (client.clone(), next.clone(), fleet.clone());
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((serial, secret)) = fleet.get(i) else {
                    return Ok::<_, String>(got);
                };
                let device = Device {
                    serial: serial.clone(),
                    secret: secret.clone(),
                };
                let ts = jiff::Timestamp::now().as_second().to_string();
                let nonce = format!("{nonce_prefix}{i:012}");
                let reply = client
                    .get(format!("http://{addr}{PATH}"))
                    .header(auth::SERIAL_HEADER, serial)
                    .header(auth::TIMESTAMP_HEADER, &ts)
                    .header(auth::NONCE_HEADER, &nonce)
                    .header(auth::SIGNATURE_HEADER, signed(&device, &ts, &nonce))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if reply.status() != 200 {
                    return Err(format!(
                        "{serial}: HTTP {}: {}",
                        reply.status(),
                        reply.text().await.unwrap_or_default()
                    ));
                }
                let etag = reply
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .ok_or("no ETag")?
                    .to_owned();
                let body = reply.bytes().await.map_err(|e| e.to_string())?;
                got.push((i, etag, body));
            }
        }));
    }
    let mut etags = vec![String::new(); fleet.len()];
    let mut first = Vec::new();
    for t in tasks {
        for (i, etag, body) in t.await.map_err(|e| e.to_string())?? {
            if i == 0 {
                first = body.to_vec();
            }
            etags[i] = etag;
        }
    }
    Ok((etags, first))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Download,
    Poll,
}

/// What wrk reported for one run.
struct Wrk {
    rate: f64,
    p50: String,
    p99: String,
    wrapped: u64,
    errors: u64,
}

struct Runs<'a> {
    s: &'a Settings,
    wrk: &'a Path,
    dir: &'a Path,
    fleet: &'a [Device],
    etags: &'a [String],
    mpc: SocketAddr,
    nginx: SocketAddr,
    nginx_etag: String,
    lua: PathBuf,
    /// Requests signed so far: every nonce is new.
    generated: usize,
    /// Requests per second mpc answered in the warm-up.
    rate_hint: f64,
    /// Starts every nonce, so runs against other nodes of one database never share one.
    nonce_prefix: &'static str,
}

impl Runs<'_> {
    /// Writes `count` signed requests, one file per wrk thread, device after device in a
    /// scattered order that visits the whole fleet before any device repeats; timestamps
    /// spread over the last 30 seconds, so they stay valid minutes after.
    fn write_requests(&mut self, count: usize) -> Result<PathBuf> {
        let path = self.dir.join(format!("requests-{}", self.nonce_prefix));
        let mut files = (0..self.s.threads)
            .map(|t| {
                std::fs::File::create(path.with_extension(t.to_string()))
                    .map(std::io::BufWriter::new)
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>>>()?;
        let now = jiff::Timestamp::now().as_second();
        let n = self.fleet.len();
        // 7919 is prime and does not divide a fleet of 100,000, so i * 7919 mod n is a
        // permutation; fall back to stride 1 when it divides n.
        let stride = if n.is_multiple_of(7919) { 1 } else { 7919 };
        for k in 0..count {
            let i = (k * stride) % n;
            let device = &self.fleet[i];
            let ts = (now - (k % 30) as i64).to_string();
            let nonce = format!("{}{:015x}", self.nonce_prefix, self.generated + k);
            let sig = signed(device, &ts, &nonce);
            let file = k % files.len();
            writeln!(
                files[file],
                "{} {ts} {nonce} {sig} {}",
                device.serial, self.etags[i]
            )
            .map_err(|e| e.to_string())?;
        }
        for mut f in files {
            f.flush().map_err(|e| e.to_string())?;
        }
        self.generated += count;
        Ok(path)
    }

    fn wrk(&self, addr: SocketAddr, seconds: u64, requests: &Path, mode: &str) -> Result<Wrk> {
        let out = Command::new(self.wrk)
            .arg(format!("-t{}", self.s.threads))
            .arg(format!("-c{}", self.s.connections))
            .arg(format!("-d{seconds}s"))
            .arg("--latency")
            .arg("-s")
            .arg(&self.lua)
            .arg(format!("http://{addr}"))
            .arg("--")
            .arg(requests)
            .arg(mode)
            .output()
            .map_err(|e| format!("cannot run wrk: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            return Err(format!(
                "wrk failed: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let find = |prefix: &str| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_owned()))
        };
        let rate = find("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("no rate in wrk's output: {text}"))?;
        let number = |v: Option<String>| {
            v.and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        let socket_errors = find("Socket errors:").map_or(0, |v| {
            v.split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum()
        });
        Ok(Wrk {
            rate,
            p50: find("50%").unwrap_or_default(),
            p99: find("99%").unwrap_or_default(),
            wrapped: number(find("wrapped:")),
            errors: number(find("Non-2xx or 3xx responses:")) + socket_errors,
        })
    }

    /// nginx and then mpc, with the same requests; the count mpc answered by status.
    fn pair(&mut self, kind: Kind, seconds: u64, count: usize) -> Result<(Wrk, Wrk, String)> {
        let requests = self.write_requests(count)?;
        let nginx_mode = match kind {
            Kind::Download => "none".to_owned(),
            Kind::Poll => self.nginx_etag.clone(),
        };
        let nginx = self.wrk(self.nginx, seconds, &requests, &nginx_mode)?;
        let before = answers(self.mpc)?;
        let mpc_mode = match kind {
            Kind::Download => "none",
            Kind::Poll => "own",
        };
        let mpc = self.wrk(self.mpc, seconds, &requests, mpc_mode)?;
        let after = answers(self.mpc)?;
        let counted: Vec<String> = after
            .iter()
            .map(|(status, n)| (status, n - before.get(status).copied().unwrap_or(0)))
            .filter(|(_, n)| *n > 0)
            .map(|(status, n)| format!("{status}: {n}"))
            .collect();
        if nginx.errors > 0 {
            eprintln!("warning: nginx answered {} errors", nginx.errors);
        }
        if mpc.wrapped > 0 || mpc.errors > 0 {
            eprintln!(
                "warning: mpc run sent {} requests twice (too few signed) and got {} errors",
                mpc.wrapped, mpc.errors
            );
        }
        Ok((nginx, mpc, counted.join(", ")))
    }

    /// One measured pair, with enough signed requests for mpc's rate in the warm-up (with room
    /// for a faster run, and for one wrk thread sending more than its share).
    fn measure(&mut self, kind: Kind) -> Result<(Wrk, Wrk, String)> {
        let count = (self.rate_hint * self.s.seconds as f64 * 2.0) as usize + 100_000;
        let (nginx, mpc, counted) = self.pair(kind, self.s.seconds, count)?;
        let name = match kind {
            Kind::Download => "full download",
            Kind::Poll => "poll (304)",
        };
        println!(
            "{name}: nginx {:.0}/s (p50 {}, p99 {}), mpc {:.0}/s (p50 {}, p99 {}): {:.2}× nginx; mpc answered {counted}",
            nginx.rate,
            nginx.p50,
            nginx.p99,
            mpc.rate,
            mpc.p50,
            mpc.p99,
            mpc.rate / nginx.rate
        );
        Ok((nginx, mpc, counted))
    }
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

/// Drops the benchmark's database when done, also on errors.
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

/// Two server nodes on one PostgreSQL database: polls to one alone, then to both at once.
fn run_postgres(s: &Settings, admin: &str) -> Result<()> {
    let wrk = find_tool("wrk")?;
    let nginx = find_tool("nginx")?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let name = format!("mpc_bench_{}", std::process::id());
    psql(admin, &format!("CREATE DATABASE {name}"))?;
    let _database = Database {
        admin: admin.to_owned(),
        name: name.clone(),
    };
    let db_url = with_database(admin, &name);
    // Every node of one PostgreSQL database shares the key that seals secrets.
    let key: String = (0..64)
        .map(|i| char::from(b"0123456789abcdef"[(std::process::id() as usize * 7 + i * 13) % 16]))
        .collect();
    let fleet_file = dir.path().join("fleet.csv");
    println!();
    println!(
        "two nodes on PostgreSQL: {} devices, wrk -t{} -c{} -d{}s per node",
        s.devices, s.threads, s.connections, s.seconds
    );
    let started = Instant::now();
    let setup = Command::new(MPC)
        .env("MPC_SECRET_KEY", &key)
        .args(["--database-url", &db_url, "simulate", "--setup"])
        .arg(s.devices.to_string())
        .args(["--duration", "0", "--inventory-file"])
        .arg(&fleet_file)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {MPC}: {e}"))?;
    if !setup.success() {
        return Err(format!("mpc simulate --setup failed: {setup}"));
    }
    println!("setup: {:.1} s", started.elapsed().as_secs_f64());
    let fleet = read_fleet(&fleet_file)?;
    let key = [("MPC_SECRET_KEY", key.as_str())];
    let (_node1, addr1) = start_mpc(&db_url, dir.path(), "node1.log", &key)?;
    let (_node2, addr2) = start_mpc(&db_url, dir.path(), "node2.log", &key)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let (etags, recipe) = rt.block_on(fetch_all(addr1, &fleet, "warm1"))?;
    rt.block_on(fetch_all(addr2, &fleet, "warm2"))?;
    let (_nginx, nginx_addr) = start_nginx(&nginx, dir.path(), &recipe)?;
    let nginx_etag = etag_of(nginx_addr)?;
    let lua = dir.path().join("controller.lua");
    std::fs::write(&lua, LUA).map_err(|e| e.to_string())?;
    let runs = |mpc, nonce_prefix| Runs {
        s,
        wrk: &wrk,
        dir: dir.path(),
        fleet: &fleet,
        etags: &etags,
        mpc,
        nginx: nginx_addr,
        nginx_etag: nginx_etag.clone(),
        lua: lua.clone(),
        generated: 0,
        rate_hint: 0.0,
        nonce_prefix,
    };
    let (mut one, mut two) = (runs(addr1, "p"), runs(addr2, "q"));
    // Warm-up and the baselines of this run: nginx, and node 1 polled alone.
    let warm = one.pair(Kind::Poll, 3, 250_000 * 3)?;
    one.rate_hint = warm.1.rate;
    two.rate_hint = warm.1.rate;
    let (nginx_rate, alone, alone_answers) = one.measure(Kind::Poll)?;
    // Both nodes at once.
    let count = (one.rate_hint * s.seconds as f64 * 2.0) as usize + 100_000;
    let (file1, file2) = (one.write_requests(count)?, two.write_requests(count)?);
    let before = (answers(addr1)?, answers(addr2)?);
    let (r1, r2) = std::thread::scope(|scope| {
        let a = scope.spawn(|| one.wrk(addr1, s.seconds, &file1, "own"));
        let b = scope.spawn(|| two.wrk(addr2, s.seconds, &file2, "own"));
        (a.join(), b.join())
    });
    let (r1, r2) = (
        r1.map_err(|_| "wrk thread panicked")??,
        r2.map_err(|_| "wrk thread panicked")??,
    );
    let counted = |addr, before: &BTreeMap<String, u64>| -> Result<String> {
        Ok(answers(addr)?
            .iter()
            .map(|(status, n)| (status, n - before.get(status).copied().unwrap_or(0)))
            .filter(|(_, n)| *n > 0)
            .map(|(status, n)| format!("{status}: {n}"))
            .collect::<Vec<_>>()
            .join(", "))
    };
    let (answers1, answers2) = (counted(addr1, &before.0)?, counted(addr2, &before.1)?);
    for (r, name) in [(&r1, "node 1"), (&r2, "node 2")] {
        if r.wrapped > 0 || r.errors > 0 {
            eprintln!(
                "warning: {name} run sent {} requests twice and got {} errors",
                r.wrapped, r.errors
            );
        }
    }
    println!();
    println!(
        "| run (PostgreSQL) | nginx req/s | mpc req/s | mpc / nginx | mpc / one node alone | p50 | p99 | answers |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| one node alone | {:.0} | {:.0} | {:.2}× | 1.00× | {} | {} | {alone_answers} |",
        nginx_rate.rate,
        alone.rate,
        alone.rate / nginx_rate.rate,
        alone.p50,
        alone.p99
    );
    for (name, r, a) in [
        ("node 1 of 2", &r1, &answers1),
        ("node 2 of 2", &r2, &answers2),
    ] {
        println!(
            "| {name} | {:.0} | {:.0} | {:.2}× | {:.2}× | {} | {} | {a} |",
            nginx_rate.rate,
            r.rate,
            r.rate / nginx_rate.rate,
            r.rate / alone.rate,
            r.p50,
            r.p99
        );
    }
    for (name, r) in [("node 1", &r1), ("node 2", &r2)] {
        println!(
            "target {name} ≥ 25,000 signed polls/s with two nodes: {}",
            if r.rate >= 25_000.0 { "met" } else { "NOT met" }
        );
    }
    Ok(())
}
