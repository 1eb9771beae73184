//! `mpc simulate`: devices that sign their requests, poll their configuration with
//! `If-None-Match` and send heartbeats — for the demo and for load tests — or, with
//! `--protocol smfv2`, call home as ARMS clients do. `--setup N` first makes a fleet of N
//! notified devices in the database and writes their inventory file.
//!
//! The set-up seeds storage directly (contractors, contracts, inventory, acceptances dated as
//! the load test needs), as a fixture rather than through [`mpc_server::app`]: it is test
//! plumbing, not a use case. The devices then call the server as real ones do.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::civil::Date;
use mpc_domain::request::{Acceptance, Request};
use mpc_server::device::auth;
use mpc_storage::contracts::requests;
use mpc_storage::controller::{self, InventoryRecord, SecretKey};
use mpc_storage::{JournalEntry, Store, accounts};

use crate::contracts::engine_error;
use crate::simulate_smfv2;

/// How the simulated devices call home.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    /// mpc's signed HTTP protocol (`/device/v1`).
    DeviceV1,
    /// SMFv2, as the ARMS client: LS, RS, push method query, UDP heartbeats.
    Smfv2,
}

#[derive(Args)]
pub struct SimulateArgs {
    /// How many devices to simulate (the first N of the inventory file).
    #[arg(long, default_value_t = 10)]
    devices: usize,
    /// Seconds between one device's polls.
    #[arg(long, default_value_t = 5.0)]
    interval: f64,
    /// Seconds to run.
    #[arg(long, default_value_t = 30.0)]
    duration: f64,
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The devices' inventory: CSV lines `serial,model,factory_secret`.
    #[arg(long)]
    inventory_file: std::path::PathBuf,
    /// First create a fleet of this many notified SEIL/X4 devices in the database (the global
    /// `--database-url`, with the server's secret key) and write its inventory file.
    #[arg(long)]
    setup: Option<usize>,
    /// With `--setup`: adapters per contractor (each contractor has one management).
    #[arg(long, default_value_t = 100)]
    per_contractor: usize,
    /// How the devices call home; with `--setup`, `smfv2` also gives each unit an SMFv2
    /// identity, written to the inventory file.
    #[arg(long, value_enum, default_value = "device-v1")]
    protocol: Protocol,
    /// SMFv2: the Location Server's numeric `IP:PORT` (`mpc serve --smfv2-listen`).
    #[arg(long)]
    smfv2_ls: Option<std::net::SocketAddr>,
    /// SMFv2: the CA the devices trust, `ca.pem` of `mpc smfv2 ca init`.
    #[arg(long)]
    smfv2_ca: Option<std::path::PathBuf>,
    /// SMFv2: where heartbeats go, `IP:PORT`, instead of the RS's `heartbeat-info` (which
    /// names `mpc serve --smfv2-heartbeat-listen`); none are sent when the RS names none and
    /// this is omitted.
    #[arg(long)]
    smfv2_heartbeats: Option<std::net::SocketAddr>,
    /// SMFv2: this many seconds into the run, save a new preset revision for every simulated
    /// unit's contract (through the app, on the global `--database-url`), and fail unless each
    /// unit was pushed `pull-config` and pulled its configuration again.
    #[arg(long)]
    smfv2_save_revision_after: Option<f64>,
}

pub async fn run(database_url: &str, args: SimulateArgs) -> anyhow::Result<()> {
    if let Some(n) = args.setup {
        let store = crate::open(database_url).await?;
        let started = Instant::now();
        let rows = setup(
            &store,
            database_url,
            n,
            args.per_contractor,
            crate::contracts::today(),
            args.protocol,
        )
        .await?;
        // The SMFv2 columns, under their header, only for a fleet that has them.
        let mut csv = match args.protocol {
            Protocol::Smfv2 => format!("{}\n", controller::INVENTORY_HEADER_SMFV2),
            Protocol::DeviceV1 => String::new(),
        };
        for r in &rows {
            csv.push_str(&format!("{},{},{}", r.serial, r.model, r.factory_secret));
            if let Some(id) = &r.smfv2 {
                csv.push_str(&format!(
                    ",{},{},{},{}",
                    id.distribution_id, id.ls_key, id.rs_key, id.heartbeat_passphrase
                ));
            }
            csv.push('\n');
        }
        std::fs::write(&args.inventory_file, csv)
            .with_context(|| format!("cannot write {}", args.inventory_file.display()))?;
        println!(
            "created {n} devices in {:.1} s; inventory in {}",
            started.elapsed().as_secs_f64(),
            args.inventory_file.display()
        );
        store.close().await;
    }
    if args.duration <= 0.0 {
        return Ok(());
    }
    let text = std::fs::read_to_string(&args.inventory_file)
        .with_context(|| format!("cannot read {}", args.inventory_file.display()))?;
    let rows = controller::parse_inventory(&text).map_err(|errors| {
        anyhow::anyhow!(
            "{}: {}",
            args.inventory_file.display(),
            errors
                .iter()
                .map(|e| format!("line {}: {}", e.line, e.fault))
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    if rows.len() < args.devices {
        bail!(
            "the inventory holds {} devices, fewer than --devices {}",
            rows.len(),
            args.devices
        );
    }
    if args.protocol == Protocol::Smfv2 {
        return smfv2(database_url, &args, rows).await;
    }
    let stats = Arc::new(Stats::default());
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs_f64(args.duration);
    let interval = Duration::from_secs_f64(args.interval);
    let mut tasks = Vec::new();
    for (i, row) in rows.into_iter().take(args.devices).enumerate() {
        let device = Device {
            client: client.clone(),
            base: args.url.trim_end_matches('/').to_owned(),
            row,
            stats: stats.clone(),
        };
        // Spread the first polls over one interval, as devices booting at random times would.
        let start = interval.mul_f64(i as f64 / args.devices.max(1) as f64);
        tasks.push(tokio::spawn(device.run(start, interval, deadline)));
    }
    for t in tasks {
        t.await?;
    }
    let s = &*stats;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    println!(
        "polls {} (200: {}, 304: {}), heartbeats {}, errors {}",
        load(&s.polls),
        load(&s.ok),
        load(&s.not_modified),
        load(&s.heartbeats),
        load(&s.errors)
    );
    if load(&s.errors) > 0 {
        bail!("{} requests failed", load(&s.errors));
    }
    Ok(())
}

/// Runs the first `--devices` units of `rows` over SMFv2; fails on any failed exchange or when
/// no unit got its configuration (or, with `--smfv2-save-revision-after`, a unit did not
/// pull the new revision).
async fn smfv2(
    database_url: &str,
    args: &SimulateArgs,
    rows: Vec<InventoryRecord>,
) -> anyhow::Result<()> {
    let (Some(ls), Some(ca_file)) = (args.smfv2_ls, args.smfv2_ca.clone()) else {
        bail!("--protocol smfv2 needs --smfv2-ls and --smfv2-ca");
    };
    let target = Arc::new(simulate_smfv2::Target {
        ls,
        ca_file,
        heartbeats: args.smfv2_heartbeats,
    });
    let stats = Arc::new(simulate_smfv2::Stats::default());
    let deadline = Instant::now() + Duration::from_secs_f64(args.duration);
    let interval = Duration::from_secs_f64(args.interval);
    let serials: Vec<String> = rows
        .iter()
        .take(args.devices)
        .map(|r| r.serial.clone())
        .collect();
    let saver = match args.smfv2_save_revision_after {
        Some(after) => {
            let state = crate::app_state(database_url).await?;
            let wait = Duration::from_secs_f64(after.max(0.0));
            let serials = serials.clone();
            Some(tokio::spawn(async move {
                tokio::time::sleep(wait).await;
                save_revisions(&state, &serials).await
            }))
        }
        None => None,
    };
    let mut tasks = Vec::new();
    for (i, row) in rows.into_iter().take(args.devices).enumerate() {
        let start = interval.mul_f64(i as f64 / args.devices.max(1) as f64);
        tasks.push(tokio::spawn(simulate_smfv2::run(
            target.clone(),
            row,
            stats.clone(),
            start,
            interval,
            deadline,
        )));
    }
    for t in tasks {
        t.await?;
    }
    println!("{}", stats.summary());
    if stats.errors() > 0 {
        bail!("{} SMFv2 exchanges failed", stats.errors());
    }
    if stats.configs.load(Ordering::Relaxed) == 0 {
        bail!("no unit got its configuration over SMFv2");
    }
    if let Some(saver) = saver {
        let saved = saver.await??;
        let repulls = stats.repulls.load(Ordering::Relaxed);
        println!("smfv2: saved {saved} revisions; units pulled again {repulls} times");
        if repulls < saved as u64 {
            bail!("{saved} revisions saved, but units pulled again only {repulls} times");
        }
    }
    Ok(())
}

/// Saves a new preset revision (a PPPoE internet gateway) for the contract of each of
/// `serials`, as an operator would through the API; answers how many were saved.
async fn save_revisions(state: &mpc_server::AppState, serials: &[String]) -> anyhow::Result<usize> {
    use mpc_server::app::{Input, presets};
    use mpc_server::device::cache::Verdict;
    let caller = mpc_server::extract::Caller::command_line();
    let stamp = jiff::Timestamp::now().as_millisecond();
    let mut saved = 0;
    for serial in serials {
        let verdict = state
            .devices
            .verdict(&state.store, &state.secret_key, serial)
            .await?;
        let Verdict::Ready(config) = verdict else {
            bail!("{serial} has no configuration to change");
        };
        let params: mpc_domain::preset::PresetParams = serde_json::from_value(serde_json::json!({
            "preset": "internet_gateway",
            "wan": {"type": "pppoe", "id": "sim@isp.example", "password": format!("sim-{stamp}")},
            "lan": {"address": "10.20.0.1", "prefix_len": 24,
                    "dhcp_pool": {"start": "10.20.0.100", "end": "10.20.0.150"}},
            "dns_forwarder": true, "ntp_server": "ntp.nict.jp", "napt": true
        }))?;
        presets::put(state, &caller, config.contract_id(), Input::Value(params))
            .await
            .map_err(|e| anyhow::anyhow!("{serial}: preset not saved: {e:?}"))?;
        saved += 1;
    }
    Ok(saved)
}

#[derive(Default)]
struct Stats {
    polls: AtomicU64,
    ok: AtomicU64,
    not_modified: AtomicU64,
    heartbeats: AtomicU64,
    errors: AtomicU64,
}

struct Device {
    client: reqwest::Client,
    base: String,
    row: InventoryRecord,
    stats: Arc<Stats>,
}

impl Device {
    async fn run(self, start: Duration, interval: Duration, deadline: Instant) {
        tokio::time::sleep(start).await;
        let (mut etag, mut revision) = (None::<String>, None::<i64>);
        while Instant::now() < deadline {
            match self.poll(etag.as_deref()).await {
                Ok(Some((tag, rev))) => {
                    etag = Some(tag);
                    revision = rev;
                }
                Ok(None) => {}
                Err(e) => {
                    self.stats.errors.fetch_add(1, Ordering::Relaxed);
                    eprintln!("{}: config: {e:#}", self.row.serial);
                }
            }
            if let Err(e) = self.heartbeat(revision).await {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
                eprintln!("{}: status: {e:#}", self.row.serial);
            }
            tokio::time::sleep(interval).await;
        }
    }

    fn signed(&self, method: reqwest::Method, path: &str, body: &[u8]) -> reqwest::RequestBuilder {
        let ts = jiff::Timestamp::now().as_second().to_string();
        let nonce = uuid_like();
        let c = auth::canonical(method.as_str(), path, &ts, &nonce, &self.row.serial, body);
        let sig = auth::sign(self.row.factory_secret.as_bytes(), &c);
        self.client
            .request(method, format!("{}{path}", self.base))
            .header(auth::SERIAL_HEADER, &self.row.serial)
            .header(auth::TIMESTAMP_HEADER, ts)
            .header(auth::NONCE_HEADER, nonce)
            .header(auth::SIGNATURE_HEADER, sig)
    }

    /// Polls the configuration; a new one gives its ETag and revision.
    async fn poll(&self, etag: Option<&str>) -> anyhow::Result<Option<(String, Option<i64>)>> {
        let mut req = self.signed(reqwest::Method::GET, "/device/v1/config", b"");
        if let Some(tag) = etag {
            req = req.header("if-none-match", tag);
        }
        let reply = req.send().await?;
        self.stats.polls.fetch_add(1, Ordering::Relaxed);
        match reply.status().as_u16() {
            304 => {
                self.stats.not_modified.fetch_add(1, Ordering::Relaxed);
                Ok(None)
            }
            200 => {
                self.stats.ok.fetch_add(1, Ordering::Relaxed);
                let header = |name: &str| {
                    reply
                        .headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                let tag = header("etag").context("no ETag")?;
                let revision = header(auth::REVISION_HEADER).and_then(|r| r.parse().ok());
                reply.bytes().await?;
                Ok(Some((tag, revision)))
            }
            status => bail!("HTTP {status}: {}", reply.text().await.unwrap_or_default()),
        }
    }

    async fn heartbeat(&self, revision: Option<i64>) -> anyhow::Result<()> {
        let body = serde_json::json!({
            "firmware": "sim-1.0",
            "uptime_seconds": 60,
            "applied_revision": revision,
        })
        .to_string();
        let reply = self
            .signed(reqwest::Method::POST, "/device/v1/status", body.as_bytes())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        if reply.status().as_u16() != 204 {
            bail!(
                "HTTP {}: {}",
                reply.status(),
                reply.text().await.unwrap_or_default()
            );
        }
        self.stats.heartbeats.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// 64 hex digits, 148 of their bits random: a nonce, or a simulated factory secret.
fn uuid_like() -> String {
    format!("{}{}", mpc_storage::new_id(), mpc_storage::new_id()).replace('-', "")
}

/// Makes `n` SEIL/X4 internet gateways accepted on `today`, in contractors of at most
/// `per_contractor` adapters under one management each, imports `n` devices with random factory
/// secrets and notifies each to one adapter (R7.1), all through the contract engine's rules.
///
/// A contractor's requests are one [`requests::Batch`] (its book loaded once, one transaction),
/// so a fleet of 100,000 takes minutes: submitting them one by one reloads a growing book for
/// every request.
async fn setup(
    store: &Store,
    url: &str,
    n: usize,
    per_contractor: usize,
    today: Date,
    protocol: Protocol,
) -> anyhow::Result<Vec<InventoryRecord>> {
    let (key, source) = SecretKey::resolve(url)?;
    if let controller::KeySource::Generated(path) = source {
        println!(
            "generated the key that encrypts secrets at rest: {}",
            path.display()
        );
    }
    // The random tail of a UUIDv7: its head is the clock, the same for a minute.
    let id = uuid_like();
    let prefix = &id[id.len() - 8..];
    let fleet = u32::from_str_radix(prefix, 16).unwrap_or_default();
    let rows: Vec<InventoryRecord> = (0..n)
        .map(|i| InventoryRecord {
            line: i + 1,
            serial: format!("SIM-{prefix}-{i:06}"),
            model: mpc_domain::catalog::DeviceType::SeilX4,
            factory_secret: uuid_like(),
            smfv2: (protocol == Protocol::Smfv2).then(|| {
                mpc_storage::smfv2::Identity::generate(&simulate_smfv2::distribution_id(fleet, i))
            }),
        })
        .collect();
    let bar = ProgressBar::new(n as u64);
    bar.set_style(
        ProgressStyle::with_template("setup [{bar:40}] {pos}/{len} devices ({eta})")?
            .progress_chars("=> "),
    );
    let started = jiff::Timestamp::now();
    for (c, chunk) in rows.chunks(per_contractor.max(1)).enumerate() {
        let mut tx = store.write().await?;
        let name = format!("シミュレーション {started} #{}", c + 1);
        let contractor = accounts::create_contractor(&mut tx, &name).await?.id;
        tx.commit(
            JournalEntry::new("cli", "contractor.create")
                .contractor(Some(&contractor))
                .subject(&contractor),
        )
        .await?;
        controller::import_inventory(
            store,
            &key,
            chunk,
            JournalEntry::new("cli", "device.inventory_import"),
        )
        .await?
        .map_err(|e| anyhow::anyhow!("inventory: {}", e[0].fault))?;
        let mut batch = requests::Batch::open(store, &contractor).await?;
        let management = accept(
            &mut batch,
            serde_json::json!({"kind": "apply_contract", "contract_kind": "management"}),
            today,
        )
        .await?;
        for row in chunk {
            let adapter = accept(
                &mut batch,
                serde_json::json!({"kind": "apply_contract", "contract_kind": "service_adapter",
                "item": "internet_gateway", "device_type": "SEIL/X4", "management_id": management}),
                today,
            )
            .await?;
            accept(
                &mut batch,
                serde_json::json!({"kind": "notify_serial", "contract_id": adapter, "serial": row.serial}),
                today,
            )
            .await?;
        }
        batch.commit().await?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(rows)
}

/// Submits and accepts `request` on `today`; returns the id of the contract it created, if any.
async fn accept(
    batch: &mut requests::Batch,
    request: serde_json::Value,
    today: Date,
) -> anyhow::Result<String> {
    let parsed: Request = serde_json::from_value(request.clone())?;
    let (_, decision) = batch
        .submit(
            &parsed,
            today,
            "cli",
            Some(&Acceptance {
                on: Some(today),
                ..Default::default()
            }),
            JournalEntry::new("cli", "request.submit").request(request),
        )
        .await
        .map_err(engine_error)?;
    Ok(decision
        .and_then(|d| {
            d.effects.into_iter().find_map(|e| match e {
                mpc_domain::book::Effect::ContractCreated(c) => Some(c.id),
                _ => None,
            })
        })
        .unwrap_or_default())
}
