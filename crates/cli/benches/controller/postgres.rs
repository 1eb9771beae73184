//! The run on PostgreSQL: one and two nodes against nginx, on a fresh database.

use crate::*;

/// Runs `psql` on `url` with one statement.
pub(crate) fn psql(url: &str, statement: &str) -> Result<()> {
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
pub(crate) fn with_database(url: &str, name: &str) -> String {
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
pub(crate) struct Database {
    pub(crate) admin: String,
    pub(crate) name: String,
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
pub(crate) fn run_postgres(s: &Settings, admin: &str) -> Result<()> {
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
