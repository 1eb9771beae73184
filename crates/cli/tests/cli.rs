//! The `mpc` binary as a user runs it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn mpc(db: &Path, args: &[&str]) -> Output {
    mpc_at(&sqlite_url(db), args)
}

fn sqlite_url(db: &Path) -> String {
    format!("sqlite://{}", db.display())
}

/// `mpc` on the database at `url` (SQLite or PostgreSQL).
fn mpc_at(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mpc"))
        .args(args)
        .env("MPC_DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run mpc")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_owned()
}

#[test]
fn version_and_help() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let v = mpc(&db, &["--version"]);
    assert!(v.status.success());
    assert_eq!(stdout(&v), format!("mpc {}", env!("CARGO_PKG_VERSION")));
    let help = mpc(&db, &["--help"]);
    for word in ["serve", "migrate", "user", "token", "--database-url"] {
        assert!(stdout(&help).contains(word), "{word}");
    }
    assert!(!db.exists(), "--help touches no database");
}

#[test]
fn migrate_then_manage_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let m = mpc(&db, &["migrate"]);
    assert!(m.status.success(), "{}", stderr(&m));
    assert!(db.exists());

    let c = mpc(&db, &["contractor", "create", "--name", "株式会社テスト"]);
    assert!(c.status.success(), "{}", stderr(&c));
    let contractor = stdout(&c);
    let u = mpc(
        &db,
        &[
            "user",
            "create",
            "--username",
            "tanaka",
            "--role",
            "contractor",
            "--contractor",
            &contractor,
        ],
    );
    assert!(u.status.success(), "{}", stderr(&u));
    let t = mpc(&db, &["token", "create", "--username", "tanaka"]);
    assert!(t.status.success(), "{}", stderr(&t));
    let secret = stdout(&t);
    assert!(secret.starts_with("mpc_") && secret.len() == 68, "{secret}");

    let users = stdout(&mpc(&db, &["user", "list"]));
    assert!(users.contains("tanaka\tcontractor\t"), "{users}");
    let contractors = stdout(&mpc(&db, &["contractor", "list"]));
    assert!(contractors.contains("株式会社テスト"));
}

#[test]
fn simulate_setup_makes_notified_devices_in_contractors_of_the_size_asked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let fleet = dir.path().join("fleet.csv");
    let setup = mpc(
        &db,
        &[
            "simulate",
            "--setup",
            "5",
            "--per-contractor",
            "2",
            "--duration",
            "0",
            "--inventory-file",
            fleet.to_str().unwrap(),
        ],
    );
    assert!(setup.status.success(), "{}", stderr(&setup));
    assert!(
        stdout(&setup).contains("created 5 devices"),
        "{}",
        stdout(&setup)
    );
    let text = std::fs::read_to_string(&fleet).unwrap();
    let serials: Vec<&str> = text.lines().filter_map(|l| l.split(',').next()).collect();
    assert_eq!(serials.len(), 5);
    // 2 + 2 + 1 adapters, each contractor under its own management.
    let contractors = mpc(&db, &["contractor", "list"]);
    assert_eq!(
        stdout(&contractors).lines().count(),
        3,
        "{}",
        stdout(&contractors)
    );
    for serial in serials {
        // Each serial was notified to an adapter (R7.1).
        let shown = mpc(&db, &["device", "show", serial]);
        assert!(shown.status.success(), "{serial}: {}", stderr(&shown));
        let view: serde_json::Value = serde_json::from_str(&stdout(&shown)).unwrap();
        assert!(view["contract_id"].is_string(), "{view}");
    }
}

#[test]
fn errors_are_one_line_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let cases: [&[&str]; 5] = [
        &[
            "user",
            "create",
            "--username",
            "Bad Name",
            "--role",
            "operator",
        ],
        &[
            "user",
            "create",
            "--username",
            "someone",
            "--role",
            "contractor",
            "--contractor",
            "missing",
        ],
        &["token", "create", "--username", "nobody"],
        &["token", "revoke", "no-such-token"],
        &["--database-url", "mysql://x", "migrate"],
    ];
    for args in cases {
        let o = mpc(&db, args);
        assert!(!o.status.success(), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("mpc: error: "), "{args:?}: {err}");
    }
    let taken = mpc(
        &db,
        &["user", "create", "--username", "ops", "--role", "operator"],
    );
    assert!(taken.status.success());
    let again = mpc(
        &db,
        &["user", "create", "--username", "ops", "--role", "operator"],
    );
    assert!(
        stderr(&again).contains("\"ops\" is taken"),
        "{}",
        stderr(&again)
    );
}

fn http_get(addr: &str, path: &str, token: Option<&str>) -> String {
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

struct Server {
    child: std::process::Child,
    addr: String,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

/// Starts `mpc serve` on a free port and waits until it answers.
fn start(db: &Path) -> Server {
    start_at(&sqlite_url(db), &[])
}

/// Starts `mpc serve` on the database at `url` with extra environment variables.
fn start_at(url: &str, env: &[(&str, &str)]) -> Server {
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
    fn stop(mut self) -> (bool, String) {
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

/// The README's first command: serve on a new embedded database, print the first operator's
/// token once, answer, and stop cleanly on SIGTERM.
#[test]
fn serve_bootstraps_answers_and_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let server = start(&db);
    let addr = server.addr.clone();
    let (clean, output) = server.stop();
    assert!(clean, "graceful shutdown exits 0");
    assert!(
        TcpStream::connect(&addr).is_err(),
        "nothing listens after shutdown"
    );
    assert!(output.contains("/api/docs"), "{output}");
    let token = output
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("mpc_"))
        .unwrap_or_else(|| panic!("first start prints the operator's token: {output}"))
        .to_owned();

    // The token works on the next start, which prints no token.
    let server = start(&db);
    let reply = http_get(&server.addr, "/api/v1/me", Some(&token));
    assert!(
        reply.starts_with("HTTP/1.1 200") && reply.contains("\"username\":\"admin\""),
        "{reply}"
    );
    let (clean, output) = server.stop();
    assert!(clean);
    assert!(!output.contains("mpc_"), "{output}");
}

/// `mpc demo seed` builds a living data set through the rules; the contract commands read it.
/// The demo contractor whose name contains `name`, and its contracts as of 2026-11-24.
fn demo_contracts(db: &Path, name: &str) -> (String, serde_json::Value) {
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

#[test]
fn demo_seed_and_contract_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let seeded = mpc(&db, &["demo", "seed", "--today", "2026-11-24"]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    assert!(stdout(&seeded).contains("10 service adapters"));
    let again = mpc(&db, &["demo", "seed"]);
    assert!(!again.status.success());

    let (minato, contracts) = demo_contracts(&db, "みなと");
    let contracts = contracts.as_array().unwrap();
    assert_eq!(contracts.len(), 6, "a management and five adapters");
    // Every adapter of みなと商事 has its serial and may fetch its configuration.
    assert!(
        contracts
            .iter()
            .filter(|c| c["kind"] == "service_adapter")
            .all(|c| c["provisioning"]["provisionable"] == true)
    );
    let x4 = contracts
        .iter()
        .find(|c| c["device_type"] == "SEIL/X4" && c["item"] == "internet_gateway")
        .unwrap();
    assert_eq!(
        x4["serial"], "X4-24A0-00188",
        "the replacement took over (R11.1)"
    );

    // Quote: notice arriving 2026-12-01 → ends 2026-12-15 (R13.1).
    let id = x4["id"].as_str().unwrap();
    let quote = mpc(
        &db,
        &["contract", "quote", id, "--notice-arrived-on", "2026-12-01"],
    );
    let quote: serde_json::Value = serde_json::from_slice(&quote.stdout).unwrap();
    assert_eq!(quote["end_on"], "2026-12-15");

    // A refusal is one line naming the rule (R6.5: mobile access only on SA-W2L).
    let refused = mpc(
        &db,
        &[
            "request",
            "submit",
            "--contractor",
            &minato,
            "--accept",
            "--json",
            &format!(
                r#"{{"kind": "add_option", "contract_id": "{id}", "option_kind": "mobile_access", "usage_type": "standard", "network_type": "dynamic_ip"}}"#
            ),
        ],
    );
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("mpc: error: R6.5: "), "{err}");
}

/// Every key of 別紙1 priced at ¥1,000 + ¥100 × its position, as a CSV for `mpc price import`.
fn price_file(dir: &Path) -> std::path::PathBuf {
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

fn copy_db(from: &Path, to: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let src = std::path::PathBuf::from(format!("{}{suffix}", from.display()));
        if src.exists() {
            std::fs::copy(&src, format!("{}{suffix}", to.display())).unwrap();
        }
    }
}

/// B4: a billing run killed with SIGKILL midway changes nothing visible, and running again
/// gives exactly the invoices of a run that was never interrupted.
#[test]
fn a_billing_run_killed_midway_then_rerun_equals_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let killed = dir.path().join("killed.db");
    assert!(
        mpc(&killed, &["demo", "seed", "--today", "2026-11-24"])
            .status
            .success()
    );
    let prices = price_file(dir.path());
    assert!(
        mpc(&killed, &["price", "import", prices.to_str().unwrap()])
            .status
            .success()
    );
    let issuer = mpc(
        &killed,
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
    let clean = dir.path().join("clean.db");
    copy_db(&killed, &clean);

    kill_a_run_midway(&killed, "2");
    assert_eq!(
        stdout(&mpc(
            &killed,
            &["billing", "invoices", "--month", "2026-10"]
        )),
        "",
        "nothing visible after the kill"
    );
    assert!(
        abandoned_lines(&sqlite_url(&killed), "2026-10") > 0,
        "the killed run wrote lines"
    );
    // Its lease outlives it by up to 2 s: meanwhile another run or a finalize is told so.
    for args in [
        &["billing", "run", "--month", "2026-10"][..],
        &["billing", "finalize", "--month", "2026-10"][..],
    ] {
        let early = mpc(&killed, args);
        assert!(!early.status.success());
        assert!(
            stderr(&early).contains("billing_run_in_progress"),
            "{}",
            stderr(&early)
        );
    }
    std::thread::sleep(Duration::from_millis(2200));

    let rerun = mpc(&killed, &["billing", "run", "--month", "2026-10"]);
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    assert_eq!(abandoned_lines(&sqlite_url(&killed), "2026-10"), 0);
    let uninterrupted = mpc(&clean, &["billing", "run", "--month", "2026-10"]);
    assert!(uninterrupted.status.success(), "{}", stderr(&uninterrupted));
    for what in ["invoices", "lines"] {
        let a = stdout(&mpc(&killed, &["billing", what, "--month", "2026-10"]));
        let b = stdout(&mpc(&clean, &["billing", what, "--month", "2026-10"]));
        assert!(!a.is_empty());
        assert_eq!(a, b, "{what} differ");
    }

    // A re-run killed in turn, then the month finalized once its lease expired: the killed
    // re-run's lines go with the finalize and the finalized invoices are the complete run's.
    kill_a_run_midway(&killed, "1");
    assert!(abandoned_lines(&sqlite_url(&killed), "2026-10") > 0);
    std::thread::sleep(Duration::from_millis(1200));
    let fin = mpc(&killed, &["billing", "finalize", "--month", "2026-10"]);
    assert!(fin.status.success(), "{}", stderr(&fin));
    assert_eq!(
        abandoned_lines(&sqlite_url(&killed), "2026-10"),
        0,
        "no orphan line survives a finalize"
    );
    let a = stdout(&mpc(&killed, &["billing", "lines", "--month", "2026-10"]));
    let b = stdout(&mpc(&clean, &["billing", "lines", "--month", "2026-10"]));
    assert_eq!(a, b);
}

/// Starts a billing run of 2026-10 slowed down (one contractor per range, a pause after each)
/// with a lease of `lease_secs`, and kills it with SIGKILL while it is paused midway.
fn kill_a_run_midway(db: &Path, lease_secs: &str) {
    let mut run = Command::new(env!("CARGO_BIN_EXE_mpc"))
        .args(["billing", "run", "--month", "2026-10"])
        .env("MPC_DATABASE_URL", sqlite_url(db))
        .env("MPC_BILLING_CHUNK_CONTRACTS", "1")
        .env("MPC_BILLING_PAUSE_MS", "1500")
        .env("MPC_BILLING_LEASE_SECS", lease_secs)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    kill_9(&mut run);
}

fn kill_9(child: &mut std::process::Child) {
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run is still going when killed"
    );
    assert!(
        Command::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let _ = child.wait();
}

/// Lines of `month` written by runs that never completed (B4: none may survive).
fn abandoned_lines(url: &str, month: &str) -> i64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = mpc_storage::Store::connect(url).await.unwrap();
        let mut conn = store.conn().await.unwrap();
        let n = mpc_storage::billing::abandoned_lines(&mut conn, month.parse().unwrap())
            .await
            .unwrap();
        drop(conn);
        store.close().await;
        n
    })
}

#[test]
fn mobile_commands_bind_sims_import_usage_and_throttle_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let seeded = mpc(&db, &["demo", "seed", "--today", "2026-11-24"]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let (_, contracts) = demo_contracts(&db, "北海");
    let option = contracts
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["options"].as_array().unwrap())
        .find(|o| o["usage_type"] == "plan_10gb")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sim = "8981100000000000777";
    // The demo's SIM on this option serves it until this one takes over in December.
    let bound = mpc(
        &db,
        &[
            "mobile",
            "bind",
            sim,
            "--option",
            &option,
            "--from",
            "2026-12-01",
        ],
    );
    assert!(bound.status.success(), "{}", stderr(&bound));

    // 1 GB + 5 GB, then 4,000,000,001 bytes ending 12-10 10:15 JST: 10 GB + 1 byte, over the
    // plan_10gb cap (R9.9) from 01:15 UTC until 2027-01-01 00:00 JST (12-31 15:00 UTC).
    let usage = dir.path().join("usage.csv");
    std::fs::write(
        &usage,
        format!(
            "record_id,iccid,start,end,bytes_up,bytes_down\n\
             r1,{sim},2026-12-03T10:00:00+09:00,2026-12-03T10:15:00+09:00,1000000000,5000000000\n\
             r2,{sim},2026-12-10T10:00:00,2026-12-10T10:15:00,0,4000000001\n\
             r3,8981100000000009999,2026-12-10T10:00:00,2026-12-10T10:15:00,0,1\n"
        ),
    )
    .unwrap();
    let imported = mpc(&db, &["mobile", "import", usage.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    assert_eq!(
        stdout(&imported),
        "2 accepted, 0 duplicates, 0 corrected, 1 refused"
    );
    assert_eq!(
        stderr(&imported),
        "line 4: unknown_sim: no SIM 8981100000000009999 is registered"
    );
    let again = mpc(&db, &["mobile", "import", usage.to_str().unwrap()]);
    assert_eq!(
        stdout(&again),
        "0 accepted, 2 duplicates, 0 corrected, 1 refused"
    );
    // A transaction per line: the same outcome, lines still counted in the whole file.
    let one_by_one = mpc(
        &db,
        &[
            "mobile",
            "import",
            usage.to_str().unwrap(),
            "--batch-lines",
            "1",
        ],
    );
    assert_eq!(stdout(&one_by_one), stdout(&again));
    assert_eq!(
        stderr(&one_by_one),
        "line 4: unknown_sim: no SIM 8981100000000009999 is registered"
    );
    let lines = dir.path().join("usage.jsonl");
    std::fs::write(
        &lines,
        format!(
            "{{\"record_id\":\"r4\",\"iccid\":\"{sim}\",\"start\":\"2026-12-20T10:00:00+09:00\",\"end\":\"2026-12-20T10:15:00+09:00\",\"bytes_up\":1,\"bytes_down\":0}}\n\
             not json\n\
             {{\"record_id\":\"r5\",\"iccid\":\"{sim}\",\"start\":\"2026-12-21T10:00:00+09:00\",\"end\":\"2026-12-21T10:15:00+09:00\",\"bytes_up\":1,\"bytes_down\":0}}\n"
        ),
    )
    .unwrap();
    let json_lines = mpc(
        &db,
        &[
            "mobile",
            "import",
            lines.to_str().unwrap(),
            "--batch-lines",
            "2",
        ],
    );
    assert_eq!(
        stdout(&json_lines),
        "2 accepted, 0 duplicates, 0 corrected, 1 refused"
    );
    assert!(
        stderr(&json_lines).starts_with("line 2: invalid: not a usage record"),
        "{}",
        stderr(&json_lines)
    );

    let throttles = |at: &str| stdout(&mpc(&db, &["mobile", "throttles", "--at", at]));
    assert_eq!(throttles("2026-12-10T01:14:59Z"), "");
    assert_eq!(
        throttles("2026-12-10T01:15:00Z"),
        format!("{sim}\t{option}\tautomatic\t2026-12-31T15:00:00Z\tR9.9: over the plan_10gb cap")
    );

    let released = mpc(&db, &["mobile", "release", sim, "--reason", "申告あり"]);
    assert!(released.status.success(), "{}", stderr(&released));
    assert!(stdout(&released).starts_with(&format!("SIM {sim} released until 20")));

    // Bad input: one line naming what is wrong, nothing written.
    for (args, message) in [
        (
            vec![
                "mobile",
                "bind",
                "123",
                "--option",
                &option,
                "--from",
                "2026-11-01",
            ],
            "mpc: error: iccid must be 18 to 22 digits: \"123\"",
        ),
        (
            vec![
                "mobile",
                "bind",
                sim,
                "--option",
                "nope",
                "--from",
                "2026-11-01",
            ],
            "mpc: error: no mobile access option nope",
        ),
        (
            vec!["mobile", "throttle", sim, "--reason", " "],
            "mpc: error: R9.9: a manual throttle or release needs a reason (手動での通信制限・解除には理由が必要です)",
        ),
    ] {
        let o = mpc(&db, &args);
        assert!(!o.status.success());
        assert_eq!(stderr(&o), message);
    }
}

/// A demo database with every price and the issuer set, ready to bill 2026-10.
fn billable(url: &str, dir: &Path) {
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
fn operator_token(url: &str) -> String {
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
fn http_post(addr: &str, path: &str, token: &str, body: &str) -> (u16, String) {
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
type Attempt = Result<(), String>;

/// Fires `n` runs of 2026-10 at once: one through the CLI, the rest through the API of the
/// servers in turn. Each run is slowed down (one contractor per range, a pause after each) so
/// that all of them meet.
fn fire_runs(url: &str, servers: &[&Server], token: &str, n: usize) -> Vec<Attempt> {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let mut handles = Vec::new();
    for i in 0..n {
        let barrier = barrier.clone();
        let (url, token) = (url.to_owned(), token.to_owned());
        let addr = servers[i % servers.len()].addr.clone();
        handles.push(std::thread::spawn(move || {
            barrier.wait();
            if i == 0 {
                let o = Command::new(env!("CARGO_BIN_EXE_mpc"))
                    .args(["billing", "run", "--month", "2026-10"])
                    .env("MPC_DATABASE_URL", &url)
                    .env("MPC_BILLING_CHUNK_CONTRACTS", "1")
                    .env("MPC_BILLING_PAUSE_MS", "400")
                    .env("RUST_LOG", "warn")
                    .output()
                    .unwrap();
                if o.status.success() {
                    Ok(())
                } else {
                    Err(stderr(&o))
                }
            } else {
                match http_post(
                    &addr,
                    "/api/v1/billing/runs",
                    &token,
                    r#"{"month": "2026-10"}"#,
                ) {
                    (200, _) => Ok(()),
                    (_, body) => Err(body),
                }
            }
        }));
    }
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// Exactly one attempt billed; every other one was told which run holds the month.
fn assert_one_run_proceeded(attempts: &[Attempt]) {
    let won = attempts.iter().filter(|a| a.is_ok()).count();
    assert_eq!(won, 1, "{attempts:#?}");
    for refused in attempts.iter().filter_map(|a| a.as_ref().err()) {
        assert!(refused.contains("billing_run_in_progress"), "{refused}");
        let from_api = refused.starts_with("HTTP/");
        assert!(
            !from_api || refused.starts_with("HTTP/1.1 409"),
            "{refused}"
        );
    }
}

/// B4: 2, 4 and 8 runs of one month fired at once through the API and the CLI on one SQLite
/// node: one proceeds, the others answer 409 `billing_run_in_progress`, and the month's
/// invoices are those of one clean run, with no line left over.
#[test]
fn concurrent_runs_of_a_month_on_sqlite_one_proceeds_the_others_answer_409() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let url = sqlite_url(&db);
    billable(&url, dir.path());
    let token = operator_token(&url);
    let clean = dir.path().join("clean.db");
    copy_db(&db, &clean);
    assert!(
        mpc(&clean, &["billing", "run", "--month", "2026-10"])
            .status
            .success()
    );
    let server = start_at(
        &url,
        &[
            ("MPC_BILLING_CHUNK_CONTRACTS", "1"),
            ("MPC_BILLING_PAUSE_MS", "400"),
        ],
    );
    for n in [2, 4, 8] {
        let attempts = fire_runs(&url, &[&server], &token, n);
        assert_one_run_proceeded(&attempts);
        assert_eq!(abandoned_lines(&url, "2026-10"), 0);
        for what in ["invoices", "lines"] {
            let got = stdout(&mpc(&db, &["billing", what, "--month", "2026-10"]));
            let want = stdout(&mpc(&clean, &["billing", what, "--month", "2026-10"]));
            assert!(!want.is_empty());
            assert_eq!(got, want, "{what} after {n} runs at once");
        }
    }
    let (clean_exit, _) = server.stop();
    assert!(clean_exit);
}

/// The same across two server nodes and the CLI on one PostgreSQL database.
#[test]
fn concurrent_runs_of_a_month_across_two_postgresql_nodes_one_proceeds() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(mpc_storage::testing::TestDb::new(
        mpc_storage::Backend::Postgres,
    ));
    let dir = tempfile::tempdir().unwrap();
    let url = db.url.clone();
    billable(&url, dir.path());
    let token = operator_token(&url);
    let key = "42".repeat(32);
    let env = [
        ("MPC_BILLING_CHUNK_CONTRACTS", "1"),
        ("MPC_BILLING_PAUSE_MS", "400"),
        ("MPC_SECRET_KEY", key.as_str()),
    ];
    let (one, two) = (start_at(&url, &env), start_at(&url, &env));
    let mut first: Option<(String, String)> = None;
    for n in [2, 4, 8] {
        let attempts = fire_runs(&url, &[&one, &two], &token, n);
        assert_one_run_proceeded(&attempts);
        assert_eq!(abandoned_lines(&url, "2026-10"), 0);
        let got = (
            stdout(&mpc_at(
                &url,
                &["billing", "invoices", "--month", "2026-10"],
            )),
            stdout(&mpc_at(&url, &["billing", "lines", "--month", "2026-10"])),
        );
        assert!(!got.0.is_empty());
        // Every round gives the invoices of the first: those of one run (B4).
        assert_eq!(
            first.get_or_insert_with(|| got.clone()),
            &got,
            "after {n} runs at once"
        );
    }
    // A finalize while a run is in progress on the other node is refused.
    let slow = std::thread::spawn({
        let (addr, token) = (one.addr.clone(), token.clone());
        move || {
            http_post(
                &addr,
                "/api/v1/billing/runs",
                &token,
                r#"{"month": "2026-10"}"#,
            )
        }
    });
    std::thread::sleep(Duration::from_millis(600));
    let (status, body) = http_post(
        &two.addr,
        "/api/v1/billing/months/2026-10/finalize",
        &token,
        "{}",
    );
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("billing_run_in_progress"), "{body}");
    assert_eq!(slow.join().unwrap().0, 200);
    assert!(one.stop().0 && two.stop().0);
    drop(db);
}

/// Issue 15: dates outside the business dates (2000-01-01 to 2099-12-31) given as flags are
/// refused with a one-line message, like any other bad input, before anything is written.
#[test]
fn dates_outside_the_business_dates_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    assert!(mpc(&db, &["migrate"]).status.success());
    let cases: [&[&str]; 5] = [
        &["demo", "seed", "--today", "9999-12-31"],
        &["mobile", "throttles", "--at", "2100-01-01T00:00:00+09:00"],
        &["device", "show", "X1", "--as-of", "1900-01-01"],
        &[
            "request",
            "submit",
            "--contractor",
            "k",
            "--json",
            r#"{"kind": "cancel_contract", "contract_id": "c", "requested_on": "0000-01-01"}"#,
        ],
        &["request", "accept", "r", "--on", "9999-12-31"],
    ];
    for args in cases {
        let o = mpc(&db, args);
        assert!(!o.status.success(), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains("2000-01-01 to 2099-12-31"), "{args:?}: {err}");
    }
}
