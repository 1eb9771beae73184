//! Billing benchmark: a month's run over N service-adapter contracts on SQLite, against a
//! baseline of reading the same input rows and bulk-inserting as many output lines.
//!
//! `cargo bench -p mpc-storage --bench billing` (N = 1,000,000 by default;
//! `MPC_BENCH_CONTRACTS=100000` for a quicker run). Prints times, the ratio to the baseline and
//! the peak RSS of the process. Not a test: it asserts nothing about time.

use std::time::Instant;

use mpc_storage::{JournalEntry, Store, billing};
use sqlx::{AssertSqlSafe, Executor};

const ADAPTERS_PER_CONTRACTOR: usize = 100;
const MONTH: &str = "2026-10";

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Inserts rows in multi-row statements of `per` rows.
async fn insert(store: &Store, head: &str, rows: &[String], per: usize) {
    let mut tx = store.pool().begin().await.unwrap();
    for chunk in rows.chunks(per) {
        let sql = format!("{head} {}", chunk.join(","));
        tx.execute(AssertSqlSafe(sql)).await.unwrap();
    }
    tx.commit().await.unwrap();
}

const DEVICES: [&str; 3] = ["SEIL/X4", "SA-W2L", "SEIL CA10"];
const ITEMS: [&str; 3] = ["internet_gateway", "remote_access", "pppoe_termination"];

/// Contractors with a management and 100 adapters each; every adapter has send-back, SA-W2L
/// ones a SIM; 5% change item on the 15th, 5% end mid-month (early termination), 2% change
/// network type mid-month, 3% start billing mid-month.
async fn generate(store: &Store, contracts: usize) -> usize {
    let contractors = contracts.div_ceil(ADAPTERS_PER_CONTRACTOR);
    let mut rows = Vec::new();
    for c in 0..contractors {
        rows.push(format!("('k{c:07}', 'contractor {c}', 0)"));
    }
    insert(
        store,
        "INSERT INTO contractors (id, name, created_at) VALUES",
        &rows,
        500,
    )
    .await;
    let (mut contract_rows, mut item_rows, mut option_rows, mut usage_rows, mut network_rows) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for c in 0..contractors {
        let k = format!("k{c:07}");
        contract_rows.push(format!(
            "('m{c:07}', '{k}', 'management', NULL, NULL, '2025-01-05', '2025-01-10', '2025-01-10', NULL, NULL, NULL, NULL, 0)"
        ));
        for a in 0..ADAPTERS_PER_CONTRACTOR.min(contracts - c * ADAPTERS_PER_CONTRACTOR) {
            let n = c * ADAPTERS_PER_CONTRACTOR + a;
            let id = format!("a{n:08}");
            let device = DEVICES[n % 3];
            let item = ITEMS[(n / 3) % 3];
            let start = if n % 33 == 7 {
                "2026-10-12"
            } else {
                "2025-11-20"
            };
            let end = if n % 20 == 3 {
                "'2026-10-17', 'notice', '2026-10-03', NULL, 0"
            } else {
                "NULL, NULL, NULL, NULL, 0"
            };
            contract_rows.push(format!(
                "('{id}', '{k}', 'service_adapter', '{device}', 'm{c:07}', '2025-11-01', '2025-11-05', '{start}', {end})"
            ));
            item_rows.push(format!("('{id}', '2025-11-05', '{item}')"));
            if n % 20 == 11 {
                item_rows.push(format!(
                    "('{id}', '2026-10-15', '{}')",
                    ITEMS[(n / 3 + 1) % 3]
                ));
            }
            let option_end = if n % 20 == 3 {
                "'2026-10-17', 'contract_ended', NULL, NULL, 0"
            } else {
                "NULL, NULL, NULL, NULL, 0"
            };
            option_rows.push(format!(
                "('s{n:08}', '{id}', '{k}', 'ultra_sendback', '2025-11-05', '2025-11-05', 'address {n}', {option_end})"
            ));
            if device == "SA-W2L" {
                option_rows.push(format!(
                    "('w{n:08}', '{id}', '{k}', 'mobile_access', '2025-11-05', '2025-11-05', NULL, {option_end})"
                ));
                usage_rows.push(format!(
                    "('w{n:08}', '2025-11-05', '{}')",
                    ["standard", "backup", "plan_10gb", "plan_30gb"][n % 4]
                ));
                network_rows.push(format!("('w{n:08}', '2025-11-05', 'dynamic_ip')"));
                if n % 50 == 2 {
                    network_rows.push(format!("('w{n:08}', '2026-10-20', 'fixed_ip')"));
                }
            }
        }
    }
    insert(store, "INSERT INTO contracts (id, contractor_id, kind, device_type, management_id, applied_on, accepted_on, \
        billing_start, end_on, end_reason, notice_arrived_on, requested_end_on, end_exempt) VALUES", &contract_rows, 500).await;
    insert(
        store,
        "INSERT INTO contract_items (contract_id, effective_from, item) VALUES",
        &item_rows,
        1000,
    )
    .await;
    insert(store, "INSERT INTO options (id, contract_id, contractor_id, kind, applied_on, accepted_on, install_address, \
        end_on, end_reason, notice_arrived_on, requested_end_on, end_exempt) VALUES", &option_rows, 500).await;
    insert(
        store,
        "INSERT INTO option_usage_types (option_id, effective_from, usage_type) VALUES",
        &usage_rows,
        1000,
    )
    .await;
    insert(
        store,
        "INSERT INTO option_network_types (option_id, effective_from, network_type) VALUES",
        &network_rows,
        1000,
    )
    .await;
    contract_rows.len()
}

async fn prices(store: &Store) {
    let mut csv = String::new();
    for (i, key) in mpc_domain::price::PriceKey::all().into_iter().enumerate() {
        csv.push_str(&format!("{key},,2020-01-01,{}\n", 1000 + 100 * i));
    }
    let prices = billing::prices_from_csv(&csv).unwrap();
    let mut tx = store.write().await.unwrap();
    billing::upsert_prices(&mut tx, &prices).await.unwrap();
    billing::set_issuer(
        &mut tx,
        &billing::Issuer {
            name: "bench".into(),
            registration_number: "T1234567890123".into(),
            address: String::new(),
            contact: String::new(),
        },
    )
    .await
    .unwrap();
    tx.commit(JournalEntry::new("bench", "prices"))
        .await
        .unwrap();
}

/// Reads every input row the run reads, then inserts `lines` rows shaped like invoice lines.
async fn baseline(store: &Store, lines: usize) -> std::time::Duration {
    let started = Instant::now();
    let mut read = 0usize;
    for sql in [
        "SELECT id, contractor_id, kind, device_type, management_id, applied_on, accepted_on, billing_start, end_on, \
         end_reason, notice_arrived_on, requested_end_on, end_exempt FROM contracts ORDER BY contractor_id, id",
        "SELECT contract_id, effective_from, item FROM contract_items",
        "SELECT id, contract_id, contractor_id, kind, applied_on, accepted_on, install_address, end_on, end_reason, \
         notice_arrived_on, requested_end_on, end_exempt FROM options ORDER BY contractor_id, id",
        "SELECT option_id, effective_from, usage_type FROM option_usage_types",
        "SELECT option_id, effective_from, network_type FROM option_network_types",
    ] {
        read += sqlx::query(sql)
            .fetch_all(store.pool())
            .await
            .unwrap()
            .len();
    }
    store
        .pool()
        .execute("CREATE TABLE baseline_lines AS SELECT * FROM invoice_lines WHERE 1 = 0")
        .await
        .unwrap();
    let rows: Vec<String> = (0..lines)
        .map(|i| {
            format!(
                "('run', '2026-10', 'k{:07}', 'k{:07}', {i}, 'a{i:08}', 'a{i:08}', 'monthly_fee', 'D7', \
                 'adapter.monthly.internet_gateway.SEIL/X4', 'サービスアダプタ 月額費用', '2026-10-01', '2026-10-31', 31, 31, 3000, 3000, NULL)",
                i / 250, i / 250
            )
        })
        .collect();
    insert(store, "INSERT INTO baseline_lines (run_id, month, account_id, contractor_id, seq, contract_id, subject_id, \
        kind, rule, price_key, description, period_from, period_to, days, days_in_month, unit_amount, amount, refers_to) VALUES", &rows, 200).await;
    let took = started.elapsed();
    eprintln!("baseline: read {read} input rows, inserted {lines} lines");
    took
}

/// Generates the data in this process, then measures in a fresh child process so that the
/// generator's memory does not count in the run's peak RSS.
fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Ok(url) = std::env::var("MPC_BENCH_MEASURE_URL") {
        runtime.block_on(measure(&url));
        return;
    }
    let contracts: usize = std::env::var("MPC_BENCH_CONTRACTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    runtime.block_on(async {
        let store = Store::open(&url).await.unwrap();
        let t = Instant::now();
        let total = generate(&store, contracts).await;
        prices(&store).await;
        store.close().await;
        eprintln!(
            "generated {total} contracts ({contracts} service adapters) in {:.1?}",
            t.elapsed()
        );
    });
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .env("MPC_BENCH_MEASURE_URL", &url)
        .status()
        .unwrap();
    assert!(status.success());
}

async fn measure(url: &str) {
    {
        let store = Store::open(url).await.unwrap();
        let t = Instant::now();
        let summary = billing::run_month(
            &store,
            MONTH.parse().unwrap(),
            &|_, _| {},
            JournalEntry::new("bench", "billing.run"),
        )
        .await
        .unwrap();
        let run = t.elapsed();
        let rss_after_run = peak_rss_mib();
        let base = baseline(&store, summary.lines).await;
        let ratio = run.as_secs_f64() / base.as_secs_f64();
        println!(
            "billing run {MONTH}: {} contracts, {} invoices, {} lines in {:.2} s; baseline {:.2} s; ratio {:.2}; peak RSS {:.0} MiB",
            summary.contracts,
            summary.invoices,
            summary.lines,
            run.as_secs_f64(),
            base.as_secs_f64(),
            ratio,
            rss_after_run
        );
    }
}
