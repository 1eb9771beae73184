//! What the CLI tests share: running `mpc`, a server it starts, a demo database to bill, and
//! plain HTTP.

#![allow(dead_code)]

pub(crate) use std::io::{BufRead, BufReader, Read, Write};
pub(crate) use std::net::TcpStream;
pub(crate) use std::path::Path;
pub(crate) use std::process::{Command, Output, Stdio};
pub(crate) use std::time::Duration;

pub(crate) fn mpc(db: &Path, args: &[&str]) -> Output {
    mpc_at(&sqlite_url(db), args)
}

pub(crate) fn sqlite_url(db: &Path) -> String {
    format!("sqlite://{}", db.display())
}

/// `mpc` on the database at `url` (SQLite or PostgreSQL).
pub(crate) fn mpc_at(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mpc"))
        .args(args)
        .env("MPC_DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run mpc")
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_owned()
}

pub(crate) fn http_get(addr: &str, path: &str, token: Option<&str>) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    out
}

pub(crate) struct Server {
    pub(crate) child: std::process::Child,
    pub(crate) addr: String,
    pub(crate) lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

/// Starts `mpc serve` on a free port and waits until it answers.
pub(crate) fn start(db: &Path) -> Server {
    start_at(&sqlite_url(db), &[])
}

/// Starts `mpc serve` on the database at `url` with extra environment variables.
pub(crate) fn start_at(url: &str, env: &[(&str, &str)]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mpc"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("MPC_DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first
        .split("serving on http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    for _ in 0..100 {
        if TcpStream::connect(&addr).is_ok()
            && http_get(&addr, "/healthz", None).starts_with("HTTP/1.1 200")
        {
            return Server { child, addr, lines };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("mpc serve did not answer on {addr}");
}

impl Server {
    /// Sends SIGTERM and returns whether the process exited cleanly, with the rest of its output.
    pub(crate) fn stop(mut self) -> (bool, String) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let rest: Vec<String> = self.lines.map(Result::unwrap).collect();
        (self.child.wait().unwrap().success(), rest.join("\n"))
    }
}

/// `mpc demo seed` builds a living data set through the rules; the contract commands read it.
/// The demo contractor whose name contains `name`, and its contracts as of 2026-11-24.
pub(crate) fn demo_contracts(db: &Path, name: &str) -> (String, serde_json::Value) {
    let contractors = stdout(&mpc(db, &["contractor", "list"]));
    let id = contractors
        .lines()
        .find(|l| l.contains(name))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_owned();
    let list = mpc(
        db,
        &[
            "contract",
            "list",
            "--contractor",
            &id,
            "--as-of",
            "2026-11-24",
        ],
    );
    (id, serde_json::from_slice(&list.stdout).unwrap())
}

/// Every key of 別紙1 priced at ¥1,000 + ¥100 × its position, as a CSV for `mpc price import`.
pub(crate) fn price_file(dir: &Path) -> std::path::PathBuf {
    let keys = Command::new(env!("CARGO_BIN_EXE_mpc"))
        .args(["price", "keys"])
        .output()
        .unwrap();
    let mut csv = String::from("key,contractor_id,effective_from,amount\n");
    for (i, line) in String::from_utf8_lossy(&keys.stdout).lines().enumerate() {
        let key = line.split('\t').next().unwrap();
        csv.push_str(&format!("{key},,2020-01-01,{}\n", 1000 + 100 * i));
    }
    let path = dir.join("prices.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

pub(crate) fn copy_db(from: &Path, to: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let src = std::path::PathBuf::from(format!("{}{suffix}", from.display()));
        if src.exists() {
            std::fs::copy(&src, format!("{}{suffix}", to.display())).unwrap();
        }
    }
}

/// A demo database with every price and the issuer set, ready to bill 2026-10.
pub(crate) fn billable(url: &str, dir: &Path) {
    let seed = mpc_at(url, &["demo", "seed", "--today", "2026-11-24"]);
    assert!(seed.status.success(), "{}", stderr(&seed));
    let prices = price_file(dir);
    let import = mpc_at(url, &["price", "import", prices.to_str().unwrap()]);
    assert!(import.status.success(), "{}", stderr(&import));
    let issuer = mpc_at(
        url,
        &[
            "billing",
            "issuer",
            "--name",
            "株式会社テスト",
            "--registration-number",
            "T1234567890123",
        ],
    );
    assert!(issuer.status.success(), "{}", stderr(&issuer));
}

/// An operator's API token on the database at `url`.
pub(crate) fn operator_token(url: &str) -> String {
    let u = mpc_at(
        url,
        &[
            "user",
            "create",
            "--username",
            "billing-op",
            "--role",
            "operator",
        ],
    );
    assert!(u.status.success(), "{}", stderr(&u));
    let t = mpc_at(url, &["token", "create", "--username", "billing-op"]);
    assert!(t.status.success(), "{}", stderr(&t));
    stdout(&t)
}

/// POSTs JSON; returns the status code and the body.
pub(crate) fn http_post(addr: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {out:?}"));
    (status, out)
}

/// What one attempt to run 2026-10 answered: `Ok` when it billed, the error text otherwise.
pub(crate) type Attempt = Result<(), String>;
