//! Billing runs from the command line: killed midway, and fired at once with the API (B4).

use crate::support::*;

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
    // Finalized invoices carry their numbers (B3): the clean database is finalized too.
    let clean_fin = mpc(&clean, &["billing", "finalize", "--month", "2026-10"]);
    assert!(clean_fin.status.success(), "{}", stderr(&clean_fin));
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
