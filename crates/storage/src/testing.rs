//! Fresh, migrated databases for tests, on SQLite and on PostgreSQL.
//!
//! Every storage and API test runs once per backend through [`backend_tests!`]. PostgreSQL
//! tests use `MPC_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) to
//! create a database of their own, and fail — never skip — when the server cannot be reached.

use std::str::FromStr;

use sqlx::AnyConnection;
use sqlx::Connection;

use crate::{Backend, Store};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A migrated database that disappears with the value.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("mpc.db").display());
                let store = Store::open(&url).await.expect("open SQLite test database");
                TestDb {
                    store,
                    url,
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!("mpc_test_{}", uuid::Uuid::now_v7().simple());
                let mut conn = admin_connection(&admin).await;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create PostgreSQL test database");
                let _ = conn.close().await;
                let url = replace_database(&admin, &name);
                let store = Store::open(&url)
                    .await
                    .expect("open PostgreSQL test database");
                TestDb {
                    store,
                    url,
                    _dir: None,
                    postgres: Some((admin, name)),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop cannot await, and the test's runtime may be shutting down: use a runtime of our
        // own on a thread of our own. FORCE ends the pool's connections.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let mut conn = admin_connection(&admin).await;
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await;
                let _ = conn.close().await;
            });
        })
        .join();
    }
}

fn postgres_admin_url() -> String {
    std::env::var("MPC_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

async fn admin_connection(url: &str) -> AnyConnection {
    sqlx::any::install_default_drivers();
    let options = sqlx::any::AnyConnectOptions::from_str(url).expect("PostgreSQL URL");
    AnyConnection::connect_with(&options)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL tests cannot run: {e} (url {url}; set MPC_TEST_POSTGRES_URL or start \
             the server)"
            )
        })
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Runs each named `async fn name(db: TestDb)` on both backends: a module `name` with two
/// tests, `sqlite` and `postgres`, that call it with a fresh database of that backend.
///
/// Written as `backend_tests!(first_test, second_test);` after the functions, so that rustfmt
/// formats their bodies.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::testing::TestDb::new($crate::Backend::Sqlite).await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::testing::TestDb::new($crate::Backend::Postgres).await).await
            }
        }
    )+};
}

/// Every key of 別紙1 priced from 2020-01-01, the same in every test that bills.
/// Monthly: management ¥10,000; adapters ¥3,000 + ¥1,000 per item index + ¥100 per device
/// index (internet_gateway SEIL/X4 ¥3,000 … pppoe_termination SEIL CA10 ¥5,200); send-back
/// ¥1,500; mobile ¥1,000 dynamic / ¥1,800 fixed; group ¥2,000 + ¥150/GB. Initial: management
/// ¥20,000, adapters ¥10,000, send-back ¥5,000, mobile ¥3,000. One-time: item change ¥8,000,
/// dynamic → fixed ¥2,000, contractor-caused failure ¥30,000, loss ¥60,000.
pub fn sample_prices() -> Vec<mpc_domain::price::Price> {
    use mpc_domain::catalog::{DeviceType, Item, NetworkType};
    use mpc_domain::price::{Price, PriceKey};
    PriceKey::all()
        .into_iter()
        .map(|key| {
            let amount = match key {
                PriceKey::ManagementInitial => 20_000,
                PriceKey::ManagementMonthly => 10_000,
                PriceKey::AdapterInitial(..) => 10_000,
                PriceKey::AdapterMonthly(item, device) => {
                    let i = Item::ALL.iter().position(|x| *x == item).unwrap_or(0) as i64;
                    let d = DeviceType::ALL
                        .iter()
                        .position(|x| *x == device)
                        .unwrap_or(0) as i64;
                    3_000 + 1_000 * i + 100 * d
                }
                PriceKey::SendbackInitial => 5_000,
                PriceKey::SendbackMonthly => 1_500,
                PriceKey::MobileInitial(_) => 3_000,
                PriceKey::MobileMonthly(NetworkType::DynamicIp, _) => 1_000,
                PriceKey::MobileMonthly(NetworkType::FixedIp, _) => 1_800,
                PriceKey::GroupInitial => 0,
                PriceKey::GroupMonthlyBase => 2_000,
                PriceKey::GroupMonthlyPerGb => 150,
                PriceKey::ItemChangeFee => 8_000,
                PriceKey::NetworkTypeToFixedFee => 2_000,
                PriceKey::ContractorCausedFailureFee => 30_000,
                PriceKey::LossFee(_) => 60_000,
            };
            Price {
                key,
                contractor_id: None,
                effective_from: jiff::civil::date(2020, 1, 1),
                amount: mpc_domain::money::Yen(amount),
            }
        })
        .collect()
}

impl Store {
    /// Every row of every table as text, in a stable order: compare two dumps to prove that a
    /// refused request changed nothing.
    pub async fn dump(&self) -> Vec<String> {
        use sqlx::Row;
        let tables: Vec<String> = match self.backend() {
            Backend::Sqlite => sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 AND name NOT LIKE '\\_sqlx%' ESCAPE '\\' ORDER BY name",
            ),
            Backend::Postgres => sqlx::query_scalar(
                "SELECT table_name::TEXT FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%' ESCAPE '\\' \
                 ORDER BY table_name",
            ),
        }
        .fetch_all(self.pool())
        .await
        .expect("list tables");
        let mut out = Vec::new();
        for table in tables {
            let columns: Vec<String> = match self.backend() {
                Backend::Sqlite => sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
                ))),
                Backend::Postgres => sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT column_name::TEXT FROM information_schema.columns \
                     WHERE table_schema = 'public' AND table_name = '{table}' ORDER BY ordinal_position"
                ))),
            }
            .fetch_all(self.pool())
            .await
            .expect("list columns");
            let row_text = columns
                .iter()
                .map(|c| format!("COALESCE(CAST({c} AS TEXT), '<null>')"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {row_text} FROM {table} ORDER BY 1"
            )))
            .fetch_all(self.pool())
            .await
            .expect("dump table");
            for row in rows {
                let text: String = row.get(0);
                out.push(format!("{table}: {text}"));
            }
        }
        out
    }
}
