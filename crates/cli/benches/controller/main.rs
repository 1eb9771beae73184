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

mod load;
mod postgres;
mod processes;
mod sqlite;

use load::*;
use postgres::*;
use processes::*;
use sqlite::*;

const MPC: &str = env!("CARGO_BIN_EXE_mpc");
const LUA: &str = include_str!("../controller.lua");
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

fn run(s: &Settings) -> Result<()> {
    if std::env::var_os("MPC_BENCH_ONLY_POSTGRES").is_none() {
        run_sqlite(s)?;
    }
    if let Ok(url) = std::env::var("MPC_BENCH_POSTGRES") {
        run_postgres(s, &url)?;
    }
    Ok(())
}
