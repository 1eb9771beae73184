//! Persistence for mpc: one sqlx query path over SQLite (embedded default) and PostgreSQL.
//!
//! Queries go through sqlx's `Any` driver, so each is written once; only the DDL differs per
//! backend (`migrations/sqlite`, `migrations/postgres`). Every accepted change is one
//! [`WriteTx`], and a `WriteTx` can only be committed together with its [`JournalEntry`], so the
//! journal row and the change land or vanish together.
//!
//! Column conventions (the `Any` driver knows only integers, floats, text and bytes): instants
//! are BIGINT microseconds since the Unix epoch, civil dates TEXT `YYYY-MM-DD`, flags INTEGER
//! 0/1, ids TEXT.

pub mod accounts;
pub mod billing;
pub mod contracts;
pub mod controller;
pub mod fetches;
pub mod journal;
pub mod mobile;
pub mod numbers;
mod repair;
pub mod search;
pub mod smfv2;
mod sql;
#[cfg(feature = "testing")]
pub mod testing;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use journal::JournalEntry;
pub use sqlx::AnyConnection;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// How long a SQLite writer waits for another process's lock before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 30_000;

/// WAL pages after which a commit copies the WAL back into the database. Consecutive usage
/// batches rewrite many of the same pages (the latest hours of the record index, the month
/// totals), so checkpointing every 64 MiB instead of SQLite's 4 MiB copies each of them once per
/// several batches.
pub const SQLITE_WAL_AUTOCHECKPOINT_PAGES: u32 = 16_384;

/// How a pool of `max` connections is set up on `backend`: SQLite connections in WAL mode,
/// waiting for another process's write lock rather than failing.
fn pool_options(backend: Backend, max: u32) -> AnyPoolOptions {
    let options = AnyPoolOptions::new().max_connections(max);
    match backend {
        Backend::Sqlite => options.after_connect(|conn, _meta| {
            Box::pin(async move {
                use sqlx::Executor;
                conn.execute(sqlx::AssertSqlSafe(format!(
                    "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; \
                     PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; \
                     PRAGMA wal_autocheckpoint = {SQLITE_WAL_AUTOCHECKPOINT_PAGES};"
                )))
                .await?;
                Ok(())
            })
        }),
        Backend::Postgres => options.acquire_timeout(Duration::from_secs(10)),
    }
}

/// The file a `sqlite:` URL names, or `None` for an in-memory database.
fn sqlite_file(url: &str) -> Option<&std::path::Path> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    let memory = path.is_empty() || path == ":memory:" || url.contains("mode=memory");
    (!memory).then(|| std::path::Path::new(path))
}

/// Creates an empty file readable and writable by its owner only (0600), unless it exists.
///
/// SQLite creates a missing database file with the process's umask (usually 0644: readable by
/// every local user) and gives the `-wal` and `-shm` files the database file's mode, so the
/// database file is made here, private, before SQLite opens it. An existing file keeps its mode.
pub fn create_private_file(path: &std::path::Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StorageError::Corrupt(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    /// A uniqueness constraint refused the change (for example a username already taken).
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// A text the database cannot hold: PostgreSQL refuses the NUL character in any text
    /// (SQLSTATE 22021), where SQLite would store it. Inputs are checked for it where they
    /// enter; this catches any that is not, as a client's error rather than a server failure.
    #[error("a text holds a character the database cannot store (NUL)")]
    InvalidText,
}

impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StorageError::NotFound,
            sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                StorageError::Conflict(db.message().to_owned())
            }
            sqlx::Error::Database(ref db) if db.code().as_deref() == Some("22021") => {
                StorageError::InvalidText
            }
            e => StorageError::Database(e),
        }
    }
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// The database behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Picks the backend from the URL scheme.
    ///
    /// # Errors
    /// [`StorageError::UnsupportedUrl`] for any scheme other than `sqlite:` or `postgres(ql):`.
    pub fn from_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StorageError::UnsupportedUrl(url.to_owned()))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A connection pool plus what it takes to write safely on the chosen backend.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer at a time; queueing writers here instead of in SQLite's busy
    /// handler keeps them fair and never returns "database is locked" inside one process.
    /// Other processes on the same file still wait on `BEGIN IMMEDIATE` + busy timeout.
    sqlite_writer: Option<Arc<Mutex<()>>>,
    mobile_cache: Option<mobile::MobileCache>,
    /// Permits for long jobs (billing runs, imports, usage batches): each holds up to two
    /// connections for seconds or minutes, so at most [`Store::job`]'s count run at once and
    /// the rest of the pool stays free for device call-home and API requests.
    jobs: Arc<tokio::sync::Semaphore>,
    /// Told of every committed change, shared by the clones of this store.
    hooks: Arc<std::sync::RwLock<Vec<CommitHook>>>,
}

/// Long jobs running at once, each holding at most two connections: half of SQLite's pool of
/// 8, a quarter of PostgreSQL's 16.
const CONCURRENT_JOBS: usize = 2;

/// What a committed change touched, as its journal rows name it: one contractor's data, or
/// possibly anyone's (inventory imports, sweeps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touched {
    Contractor(String),
    Anyone,
}

/// Called after each commit through this process's [`Store`], before the change's caller
/// goes on (see [`Store::on_commit`]).
pub type CommitHook = Arc<dyn Fn(&Touched) + Send + Sync>;

impl Store {
    /// Opens the database at `url` and applies any pending migrations.
    ///
    /// A SQLite file is created when missing (readable by its owner only) and put in WAL mode.
    pub async fn open(url: &str) -> Result<Self> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens the database without migrating it.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        if backend == Backend::Sqlite
            && let Some(path) = sqlite_file(url)
        {
            create_private_file(path)?;
        }
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = match backend {
            Backend::Sqlite => pool_options(backend, 8).connect_with(options).await?,
            Backend::Postgres => pool_options(backend, 16).connect_with(options).await?,
        };
        Ok(Store {
            pool,
            backend,
            sqlite_writer: (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(()))),
            mobile_cache: (backend == Backend::Sqlite).then(mobile::MobileCache::default),
            jobs: Arc::new(tokio::sync::Semaphore::new(CONCURRENT_JOBS)),
            hooks: Arc::default(),
        })
    }

    /// The same database through a pool of its own, sized for the long jobs [`Store::job`] admits,
    /// sharing this store's writer lock, caches and job permits. Its connections open lazily,
    /// on the thread that first uses them: a server runs its jobs on a runtime of their own at
    /// a lower CPU priority, and SQLite's connection threads inherit it from there.
    pub fn for_jobs(&self) -> Store {
        let options = (*self.pool.connect_options()).clone();
        Store {
            pool: pool_options(self.backend, 2 * CONCURRENT_JOBS as u32 + 1)
                .connect_lazy_with(options),
            ..self.clone()
        }
    }

    /// Calls `hook` after every commit of a journaled change made through this store (and its
    /// clones), before the commit returns to its caller.
    ///
    /// This is how a node's caches learn of its own changes at once, so a change is in force
    /// on the node that made it before that change's response is sent. Changes made by other
    /// processes are only seen in the journal.
    pub fn on_commit(&self, hook: CommitHook) {
        self.hooks
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(hook);
    }

    /// Applies pending migrations of this backend's tree, then the repairs of what earlier
    /// releases recorded wrong.
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        repair::unrecorded_losses(self).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// What ingestion keeps in memory between batches, on SQLite: SIMs, groups, month totals.
    pub(crate) fn mobile_cache(&self) -> Option<&mobile::MobileCache> {
        self.mobile_cache.as_ref()
    }

    /// Waits for a long job's turn (a billing run, an import, a usage batch); the job runs
    /// while the permit is held. Jobs queue here instead of on the connection pool, which
    /// device call-home and API requests need at their usual latency.
    pub async fn job(&self) -> tokio::sync::OwnedSemaphorePermit {
        self.jobs
            .clone()
            .acquire_owned()
            .await
            .expect("the job semaphore is never closed")
    }

    /// A pooled connection for reads.
    pub async fn conn(&self) -> Result<sqlx::pool::PoolConnection<Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Starts the one transaction of a change.
    ///
    /// On SQLite the transaction opens with `BEGIN IMMEDIATE`, so it holds the write lock from
    /// the start and never fails halfway on a lock upgrade.
    pub async fn write(&self) -> Result<WriteTx> {
        let guard = match &self.sqlite_writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx {
            tx,
            _guard: guard,
            backend: self.backend,
            journaled: Vec::new(),
            hooks: self.hooks.clone(),
        })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The transaction of one change. Dropping it without [`WriteTx::commit`] rolls it back.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _guard: Option<OwnedMutexGuard<()>>,
    backend: Backend,
    /// The contractor of each journal row written (None: anyone's).
    pub(crate) journaled: Vec<Option<String>>,
    hooks: Arc<std::sync::RwLock<Vec<CommitHook>>>,
}

impl WriteTx {
    /// Serialises changes to one key (a contractor's book, a sweep) across server nodes until
    /// the transaction ends. SQLite writers are already serialised, so only PostgreSQL locks.
    pub async fn lock(&mut self, key: &str) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(key.to_owned())
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Commits one part of an operation that spans several transactions (a billing run writes
    /// its lines chunk by chunk); the operation's last transaction writes its journal row.
    pub async fn commit_part(self) -> Result<()> {
        let (journaled, hooks) = (self.journaled, self.hooks);
        self.tx.commit().await?;
        tell(&hooks, journaled);
        Ok(())
    }

    /// Writes the journal row of this change and commits both.
    ///
    /// Returns the journal sequence number of the change.
    pub async fn commit(mut self, entry: JournalEntry) -> Result<i64> {
        let seq = journal::append(&mut self, &entry).await?;
        let (journaled, hooks) = (self.journaled, self.hooks);
        self.tx.commit().await?;
        tell(&hooks, journaled);
        Ok(seq)
    }
}

/// Tells the commit hooks what the journal rows of a committed change named.
fn tell(hooks: &std::sync::RwLock<Vec<CommitHook>>, mut journaled: Vec<Option<String>>) {
    if journaled.is_empty() {
        return;
    }
    journaled.sort();
    journaled.dedup();
    let hooks = hooks.read().unwrap_or_else(|e| e.into_inner());
    for contractor in journaled {
        let touched = match contractor {
            Some(c) => Touched::Contractor(c),
            None => Touched::Anyone,
        };
        for hook in hooks.iter() {
            hook(&touched);
        }
    }
}

/// A new unique id: UUID v7, so ids sort by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Now, as stored: microseconds since the Unix epoch.
pub fn now_micros() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

/// Converts a stored instant back to a timestamp.
pub fn timestamp(micros: i64) -> Result<jiff::Timestamp> {
    jiff::Timestamp::from_microsecond(micros)
        .map_err(|e| StorageError::Corrupt(format!("instant {micros}: {e}")))
}
