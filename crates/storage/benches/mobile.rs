//! Usage ingestion benchmark: hourly JSON-lines batches of SIM usage records into SQLite,
//! against a baseline of inserting the same rows raw into a table of the same shape.
//!
//! `cargo bench -p mpc-storage --bench mobile` (10,000,000 records by default;
//! `MPC_BENCH_RECORDS=1000000` for a quicker run, `MPC_BENCH_SIMS` for other fleet sizes).
//! 20,000 SA-W2L mobile access options, each with
//! a SIM: a fifth each on standard, backup, plan_10gb, plan_30gb and packet_share (one 50 GB
//! group per contractor). A batch is one hour of every SIM's 15-minute records, sent as JSON
//! lines and parsed, with 1% of the previous hour sent again and a tenth of those corrected. plan_10gb
//! SIMs and the groups cross their limits during the run, so throttles are decided too.
//! Two clients send batches at once, as two mobile cores calling the API would: one parses its
//! batch while the other's is written. The batches are written out as JSON text eight at a
//! time, untimed; the timed part is the two clients parsing and [`mobile::ingest`]ing those
//! eight, taking them in turn.
//! Not a test: it asserts nothing about time.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mpc_storage::mobile::{self, Incoming};
use mpc_storage::{JournalEntry, Store};
use sqlx::{AssertSqlSafe, Connection, Executor, SqliteConnection};

/// SIMs (a multiple of 100): `MPC_BENCH_SIMS`, 20,000 unless set.
fn sims() -> usize {
    static SIMS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *SIMS.get_or_init(|| {
        std::env::var("MPC_BENCH_SIMS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000)
    })
}
const OPTIONS_PER_CONTRACTOR: usize = 100;
/// 2026-10-01 00:00 Tokyo, in seconds since the epoch.
const OCTOBER_START: i64 = 1_790_780_400;
const USAGE_TYPES: [&str; 5] = [
    "standard",
    "backup",
    "plan_10gb",
    "plan_30gb",
    "packet_share",
];

async fn insert(store: &Store, head: &str, rows: &[String]) {
    let mut tx = store.pool().begin().await.unwrap();
    for chunk in rows.chunks(500) {
        tx.execute(AssertSqlSafe(format!("{head} {}", chunk.join(","))))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

/// Contractors of 100 SA-W2L adapters, each with a mobile access option and its SIM.
async fn generate(store: &Store) {
    let contractors = sims() / OPTIONS_PER_CONTRACTOR;
    let mut rows: [Vec<String>; 9] = Default::default();
    let [
        contractor_rows,
        contract_rows,
        item_rows,
        option_rows,
        usage_rows,
        network_rows,
        group_rows,
        member_rows,
        sim_rows,
    ] = &mut rows;
    for c in 0..contractors {
        let k = format!("k{c:05}");
        contractor_rows.push(format!("('{k}', 'contractor {c}', 0)"));
        contract_rows.push(format!(
            "('m{c:05}', '{k}', 'management', NULL, NULL, '2025-01-05', '2025-01-10', '2025-01-10')"
        ));
        group_rows.push(format!("('g{c:05}', '{k}', '2025-11-01', '2025-11-05')"));
        for a in 0..OPTIONS_PER_CONTRACTOR {
            let n = c * OPTIONS_PER_CONTRACTOR + a;
            let usage_type = USAGE_TYPES[n % USAGE_TYPES.len()];
            contract_rows.push(format!(
                "('a{n:06}', '{k}', 'service_adapter', 'SA-W2L', 'm{c:05}', '2025-11-01', '2025-11-05', '2025-11-20')"
            ));
            item_rows.push(format!("('a{n:06}', '2025-11-05', 'internet_gateway')"));
            option_rows.push(format!(
                "('w{n:06}', 'a{n:06}', '{k}', 'mobile_access', '2025-11-05', '2025-11-05')"
            ));
            usage_rows.push(format!("('w{n:06}', '2025-11-05', '{usage_type}')"));
            network_rows.push(format!("('w{n:06}', '2025-11-05', 'dynamic_ip')"));
            if usage_type == "packet_share" {
                member_rows.push(format!("('g{c:05}', 'w{n:06}', '2025-11-05')"));
            }
            sim_rows.push(format!("('{}', '2025-11-05', 'w{n:06}')", iccid(n)));
        }
    }
    for (head, rows) in [
        "INSERT INTO contractors (id, name, created_at) VALUES",
        "INSERT INTO contracts (id, contractor_id, kind, device_type, management_id, applied_on, accepted_on, billing_start) VALUES",
        "INSERT INTO contract_items (contract_id, effective_from, item) VALUES",
        "INSERT INTO options (id, contract_id, contractor_id, kind, applied_on, accepted_on) VALUES",
        "INSERT INTO option_usage_types (option_id, effective_from, usage_type) VALUES",
        "INSERT INTO option_network_types (option_id, effective_from, network_type) VALUES",
        "INSERT INTO packet_share_groups (id, contractor_id, applied_on, accepted_on) VALUES",
        "INSERT INTO group_members (group_id, option_id, from_on) VALUES",
        "INSERT INTO sims (iccid, from_on, option_id) VALUES",
    ]
    .into_iter()
    .zip(&rows)
    {
        insert(store, head, rows).await;
    }
    let packs: Vec<String> = (0..contractors)
        .map(|c| format!("('g{c:05}', '2025-11-05', 50)"))
        .collect();
    insert(
        store,
        "INSERT INTO group_packs (group_id, effective_from, pack_gb) VALUES",
        &packs,
    )
    .await;
}

fn iccid(n: usize) -> String {
    format!("89810{n:014}")
}

const RECORDS_PER_HOUR: usize = 4;
/// Clients sending batches at once: one parses while the other's batch is written.
const SENDERS: usize = 2;
/// Batches written out as text before each timed round; the senders take them in turn.
const QUEUED: usize = 8;

/// Use per 15 minutes: plan_10gb SIMs ~25 MB cross 10 GB after about 100 hours; the 20
/// packet_share SIMs of a group ~8 MB each, 50 GB pooled after about 78 hours.
fn bytes(n: usize, quarter: usize) -> (i64, i64) {
    let base: i64 = match USAGE_TYPES[n % USAGE_TYPES.len()] {
        "plan_10gb" => 25_000_000,
        "plan_30gb" => 40_000_000,
        "packet_share" => 8_000_000,
        _ => 20_000_000,
    };
    let jitter = ((n * 7919 + quarter * 104_729) % 1_000_000) as i64;
    (base / 10 + jitter, base - base / 10)
}

fn record(n: usize, quarter: usize, correction: bool) -> (Incoming, String) {
    let start = (OCTOBER_START + 900 * quarter as i64) * 1_000_000;
    let (up, down) = bytes(n, quarter);
    (
        Incoming {
            line: 0,
            record_id: format!("r{quarter:05}-{n:06}"),
            iccid: iccid(n),
            start,
            end: start + 900_000_000,
            bytes_up: up,
            bytes_down: down + i64::from(correction),
        },
        format!("w{n:06}"),
    )
}

/// The records of one batch: every SIM's hour, then 1% of the hour before again (one in ten of
/// those with a corrected byte count).
fn batch(hour: usize) -> Vec<(Incoming, String)> {
    let quarters = hour * RECORDS_PER_HOUR..(hour + 1) * RECORDS_PER_HOUR;
    let mut out: Vec<_> = quarters
        .flat_map(|q| (0..sims()).map(move |n| record(n, q, false)))
        .collect();
    if hour > 0 {
        let last = hour * RECORDS_PER_HOUR - 1;
        out.extend(
            (0..sims())
                .step_by(100 / RECORDS_PER_HOUR)
                .map(|n| record(n, last - n % RECORDS_PER_HOUR, n % 250 == 0)),
        );
    }
    out
}

fn ndjson(records: &[(Incoming, String)]) -> String {
    let mut text = String::with_capacity(records.len() * 160);
    for (r, _) in records {
        let at = |micros: i64| jiff::Timestamp::from_microsecond(micros).unwrap();
        writeln!(
            text,
            r#"{{"record_id":"{}","iccid":"{}","start":"{}","end":"{}","bytes_up":{},"bytes_down":{}}}"#,
            r.record_id,
            r.iccid,
            at(r.start),
            at(r.end),
            r.bytes_up,
            r.bytes_down
        )
        .unwrap();
    }
    text
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Inserts the same rows into a table shaped like `usage_records` (same keys and index, as
/// migration 0010 leaves them) in a database of its own with the store's settings, through
/// sqlx's SQLite driver, one transaction per batch and 1,000 rows per statement, as ingestion
/// writes them.
async fn baseline(path: &std::path::Path, hours: usize) -> (Duration, usize) {
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    conn.execute(AssertSqlSafe(format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = {}; \
         CREATE TABLE usage_records (record_id TEXT PRIMARY KEY, iccid TEXT NOT NULL, \
         option_id TEXT NOT NULL, start_at BIGINT NOT NULL, end_at BIGINT NOT NULL, \
         bytes_up BIGINT NOT NULL, bytes_down BIGINT NOT NULL, received_at BIGINT NOT NULL, \
         corrections INTEGER NOT NULL DEFAULT 0); \
         CREATE INDEX usage_records_hour ON usage_records (start_at / 3600000000, option_id);",
        mpc_storage::SQLITE_WAL_AUTOCHECKPOINT_PAGES
    )))
    .await
    .unwrap();
    let (mut took, mut rows) = (Duration::ZERO, 0);
    for hour in 0..hours {
        let records = batch(hour);
        let started = Instant::now();
        let mut tx = conn.begin().await.unwrap();
        for chunk in records.chunks(1000) {
            let mut sql = String::from(
                "INSERT INTO usage_records (record_id, iccid, option_id, start_at, end_at, bytes_up, \
                 bytes_down, received_at, corrections) VALUES ",
            );
            for i in 0..chunk.len() {
                sql.push_str(if i > 0 {
                    ", (?, ?, ?, ?, ?, ?, ?, ?, 0)"
                } else {
                    "(?, ?, ?, ?, ?, ?, ?, ?, 0)"
                });
            }
            sql.push_str(" ON CONFLICT (record_id) DO NOTHING");
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (r, option_id) in chunk {
                q = q
                    .bind(&r.record_id)
                    .bind(&r.iccid)
                    .bind(option_id)
                    .bind(r.start)
                    .bind(r.end)
                    .bind(r.bytes_up)
                    .bind(r.bytes_down)
                    .bind(0i64);
            }
            q.execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
        took += started.elapsed();
        rows += records.len();
    }
    (took, rows)
}

fn main() {
    let records: usize = std::env::var("MPC_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let hours = records.div_ceil(RECORDS_PER_HOUR * sims() * 101 / 100);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    runtime.block_on(async {
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let store = Store::open(&url).await.unwrap();
        generate(&store).await;
        let (mut took, mut summary) = (Duration::ZERO, (0, 0, 0, 0, 0));
        let hour_list: Vec<usize> = (0..hours).collect();
        for round in hour_list.chunks(QUEUED) {
            let texts: VecDeque<String> = round.iter().map(|h| ndjson(&batch(*h))).collect();
            let queue = Arc::new(Mutex::new(texts));
            let started = Instant::now();
            let senders: Vec<_> = (0..SENDERS)
                .map(|_| {
                    let (store, queue) = (store.clone(), queue.clone());
                    tokio::spawn(async move {
                        let mut sent = Vec::new();
                        loop {
                            let Some(text) = queue.lock().unwrap().pop_front() else {
                                return sent;
                            };
                            let (ok, bad) = mobile::parse_ndjson(&text);
                            let journal = JournalEntry::new("bench", "usage.ingest");
                            let s = mobile::ingest(&store, ok, bad, journal).await.unwrap();
                            sent.push((text.lines().count(), s));
                        }
                    })
                })
                .collect();
            for sender in senders {
                for (lines, s) in sender.await.unwrap() {
                    summary.0 += lines;
                    summary.1 += s.accepted;
                    summary.2 += s.duplicates;
                    summary.3 += s.corrected;
                    summary.4 += s.rejected.len();
                }
            }
            took += started.elapsed();
            if round[0] % 24 == 0 {
                eprintln!(
                    "  hour {}: {} records, {:.0} records/s",
                    round[0] + 1,
                    summary.0,
                    summary.0 as f64 / took.as_secs_f64()
                );
            }
        }
        let (sims, decisions) = {
            let mut conn = store.conn().await.unwrap();
            let throttled: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM auto_throttles")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            (sims(), throttled)
        };
        store.close().await;
        let rss = peak_rss_mib();
        let (base, base_rows) = baseline(&dir.path().join("baseline.db"), hours).await;
        let rate = summary.0 as f64 / took.as_secs_f64();
        let base_rate = base_rows as f64 / base.as_secs_f64();
        println!(
            "ingested {} records ({} new, {} identical re-sends, {} corrected, {} rejected) for {sims} SIMs \
             in {hours} batches: {:.1} s, {:.0} records/s; {decisions} option months throttled; peak RSS {rss:.0} MiB",
            summary.0,
            summary.1,
            summary.2,
            summary.3,
            summary.4,
            took.as_secs_f64(),
            rate
        );
        println!(
            "baseline raw inserts of the same {base_rows} rows: {:.1} s, {:.0} rows/s; ratio {:.2}",
            base.as_secs_f64(),
            base_rate,
            rate / base_rate
        );
    });
}
