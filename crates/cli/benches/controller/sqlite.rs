//! The run on SQLite: one node against nginx.

use crate::*;

pub(crate) fn run_sqlite(s: &Settings) -> Result<()> {
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
