//! What the config poll needs, kept in memory so a poll touches no database.
//!
//! Per serial: the device's model and factory secret, and its verdict — refused with a rule,
//! or the configuration of its contract's current revision with its ETag. Verdicts are built a
//! contractor at a time: a miss loads the holder's book once and decides every device in it
//! ([`custody::provisionable`]), so a change to a book costs one load, not one per device.
//!
//! Staleness is bounded three ways:
//! - changes made through this process's controller routes invalidate at once;
//! - every other change writes a journal row, and at most once per refresh interval a request
//!   reads the rows after the last one seen: a row naming a contractor drops that contractor's
//!   verdicts, a row naming none (inventory imports, sweeps) drops everything. This also
//!   carries changes made by other server nodes sharing a PostgreSQL database;
//! - verdicts hold for the Tokyo day they were decided on (D1) and are dropped at midnight.
//!
//! Refusals are cheap to lose, so every journal row drops all of them: a serial notified to a
//! contractor was refused under no contractor before.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderValue;
use jiff::Timestamp;
use jiff::civil::Date;
use mpc_domain::Refusal;
use mpc_domain::book::Book;
use mpc_domain::calendar::{tokyo_date, tokyo_start_of_day};
use mpc_domain::catalog::DeviceType;
use mpc_domain::custody;
use mpc_domain::provisioning;
use mpc_storage::contracts::{self, Owned};
use mpc_storage::controller::{self, SecretKey};
use mpc_storage::{StorageError, Store, Touched};
use sha2::{Digest, Sha256};

/// A device's model and factory secret (cloning shares the secret).
#[derive(Clone)]
pub struct Credentials {
    pub model: DeviceType,
    pub secret: Arc<[u8]>,
}

/// The configuration a device receives.
///
/// One is held for every contract with a device, so it is kept small: the configurations of
/// one contractor share one exact allocation holding each one's ETag, contract id and recipe,
/// and responses take slices of it. (Allocated one by one among the transient rows of the
/// book loads, they also left the heap fragmented.)
pub struct Config {
    /// Shared by the configurations of one contractor.
    pub contractor_id: Arc<str>,
    /// None while the contract runs its item's defaults.
    pub revision: Option<i64>,
    /// The ETag, the contract id and the recipe, in that order.
    tagged: Bytes,
    etag_len: usize,
    id_len: usize,
    /// The contract has no billing start yet (R5.2).
    pub billing_start_pending: AtomicBool,
    /// No fetch was recorded since this configuration was built (R7.1 correction window).
    first_fetch_unrecorded: AtomicBool,
}

/// Whether a device may have its configuration (cloning shares it).
#[derive(Clone)]
pub enum Verdict {
    /// It may (R7.1, D6, R11.1, R12.3 all hold).
    Ready(Arc<Config>),
    /// A rule withholds it: 403 with the rule.
    Refused(Arc<Refusal>),
    /// Its contract's preset does not render (R17.1): nothing to serve yet.
    Incomplete(Arc<Refusal>),
}

/// What the cache holds about one serial.
#[derive(Default)]
struct Entry {
    credentials: Option<Credentials>,
    verdict: Option<Verdict>,
}

struct Inner {
    /// Verdicts hold until this instant (the next Tokyo midnight).
    valid_until: Timestamp,
    today: Date,
    /// One entry per serial, so a poll hashes its serial once; the key is shared with
    /// `by_contractor` and `weak`.
    devices: HashMap<Arc<str>, Entry>,
    by_contractor: HashMap<String, Vec<Arc<str>>>,
    /// Serials whose verdict is not `Ready`.
    weak: HashSet<Arc<str>>,
    /// Counts invalidations, so a verdict decided from a book read before one is not kept.
    generation: u64,
    /// Every serial of the inventory, once read: an unknown serial is answered without the
    /// database, after the same work as a known one with a bad signature.
    inventory: Option<Arc<HashSet<Box<str>>>>,
}

impl Inner {
    /// The shared key of `serial`, adding an empty entry for a serial not seen before.
    fn key(&mut self, serial: &str) -> Arc<str> {
        if let Some((k, _)) = self.devices.get_key_value(serial) {
            return k.clone();
        }
        let k: Arc<str> = Arc::from(serial);
        self.devices.insert(k.clone(), Entry::default());
        k
    }

    fn set_verdict(&mut self, serial: &str, verdict: Verdict) -> Arc<str> {
        let k = self.key(serial);
        if !matches!(verdict, Verdict::Ready(_)) {
            self.weak.insert(k.clone());
        }
        if let Some(e) = self.devices.get_mut(&k) {
            e.verdict = Some(verdict);
        }
        k
    }

    fn drop_verdict(&mut self, serial: &str) {
        if let Some(e) = self.devices.get_mut(serial) {
            e.verdict = None;
        }
    }
}

struct Tail {
    checked: Option<Instant>,
    last_seq: i64,
    /// Sequence numbers below `last_seq` not seen yet, with when they were first missed: on
    /// PostgreSQL a transaction that took its number earlier may commit later, and its row must
    /// not be skipped. A number never committed (a rollback) is given up after [`GAP_LIFE`].
    gaps: BTreeMap<i64, Instant>,
}

/// How long a journal sequence number may stay uncommitted before the tail stops looking for
/// it. Journal rows are written just before their transaction commits.
const GAP_LIFE: Duration = Duration::from_secs(30);

/// At most this many missing numbers are tracked; a larger jump (another node's bulk work)
/// is read whole on the next look instead.
const MAX_GAPS: usize = 4096;

/// The in-memory cache of the device call-home path.
pub struct DeviceCache {
    inner: RwLock<Inner>,
    /// One book load at a time, so a burst of polls from one contractor's devices loads once.
    build: tokio::sync::Mutex<()>,
    tail: tokio::sync::Mutex<Tail>,
}

impl Default for DeviceCache {
    fn default() -> Self {
        let (today, valid_until) = day_of(Timestamp::now());
        Self {
            inner: RwLock::new(Inner {
                valid_until,
                today,
                devices: HashMap::new(),
                by_contractor: HashMap::new(),
                weak: HashSet::new(),
                generation: 0,
                inventory: None,
            }),
            build: tokio::sync::Mutex::new(()),
            tail: tokio::sync::Mutex::new(Tail {
                checked: None,
                last_seq: 0,
                gaps: BTreeMap::new(),
            }),
        }
    }
}

/// Today in Tokyo and the instant the next day starts.
fn day_of(now: Timestamp) -> (Date, Timestamp) {
    let today = tokyo_date(now);
    let next = today
        .tomorrow()
        .ok()
        .and_then(|d| tokyo_start_of_day(d).ok())
        .unwrap_or(Timestamp::MAX);
    (today, next)
}

/// A strong ETag: the quoted hex of the recipe's SHA-256, truncated to 128 bits.
fn etag(recipe: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(recipe)[..16]))
}

impl DeviceCache {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts the changes applied so far: a watcher that sees it move knows some verdicts were
    /// dropped and will be decided again (SMFv2 push compares its devices then).
    pub fn generation(&self) -> u64 {
        self.read().generation
    }

    /// Drops the verdicts of one contractor (and every refusal).
    pub fn invalidate_contractor(&self, contractor_id: &str) {
        let mut inner = self.write();
        inner.generation += 1;
        for serial in inner
            .by_contractor
            .remove(contractor_id)
            .unwrap_or_default()
        {
            inner.drop_verdict(&serial);
        }
        for serial in std::mem::take(&mut inner.weak) {
            inner.drop_verdict(&serial);
        }
    }

    /// Drops everything, credentials included.
    pub fn invalidate_all(&self) {
        let mut inner = self.write();
        inner.generation += 1;
        inner.inventory = None;
        inner.devices = HashMap::new();
        inner.by_contractor = HashMap::new();
        inner.weak = HashSet::new();
    }

    /// What is known of `serial` without the database: its credentials, and its verdict once
    /// decided. None when its credentials are not cached.
    pub fn known(&self, serial: &str) -> Option<(Credentials, Option<Verdict>)> {
        let inner = self.read();
        let entry = inner.devices.get(serial)?;
        Some((entry.credentials.clone()?, entry.verdict.clone()))
    }

    /// Applies the journal rows written since the last look, at most once per `refresh`.
    pub async fn refresh(&self, store: &Store, refresh: Duration) -> Result<(), StorageError> {
        {
            let now = Timestamp::now();
            if now >= self.read().valid_until {
                let (today, valid_until) = day_of(now);
                self.invalidate_all();
                let mut inner = self.write();
                inner.today = today;
                inner.valid_until = valid_until;
            }
        }
        let Ok(mut tail) = self.tail.try_lock() else {
            return Ok(());
        };
        if tail.checked.is_some_and(|at| at.elapsed() < refresh) {
            return Ok(());
        }
        let now = Instant::now();
        tail.gaps
            .retain(|_, missed| now.duration_since(*missed) < GAP_LIFE);
        let from = tail
            .gaps
            .keys()
            .next()
            .map_or(tail.last_seq, |first| first - 1);
        let rows = controller::journal_since(&mut *store.conn().await?, from).await?;
        if tail.checked.is_none() {
            // The first look only learns where the journal ends: the cache starts empty.
            tail.last_seq = rows.last().map_or(tail.last_seq, |r| r.0);
        } else {
            for (seq, contractor, concerns_devices) in rows {
                if seq <= tail.last_seq && tail.gaps.remove(&seq).is_none() {
                    continue; // applied before
                }
                if seq > tail.last_seq {
                    let missing = seq - tail.last_seq - 1;
                    if usize::try_from(missing).is_ok_and(|m| tail.gaps.len() + m <= MAX_GAPS) {
                        for gap in tail.last_seq + 1..seq {
                            tail.gaps.insert(gap, now);
                        }
                    } else {
                        // Too many to follow one by one: whatever committed late is not
                        // known, so forget every verdict.
                        self.invalidate_all();
                    }
                    tail.last_seq = seq;
                }
                match contractor {
                    _ if !concerns_devices => {}
                    Some(c) => self.invalidate_contractor(&c),
                    None => self.invalidate_all(),
                }
            }
        }
        tail.checked = Some(now);
        Ok(())
    }

    /// Applies what a change committed by this process touched, before its response is sent.
    pub fn committed(&self, touched: &Touched) {
        match touched {
            Touched::Contractor(c) => self.invalidate_contractor(c),
            Touched::Anyone => self.invalidate_all(),
        }
    }

    /// A device's credentials, from the inventory; none for an unknown serial.
    ///
    /// An unknown serial costs no query: the inventory's serials are held in memory (read
    /// again after an import or anything else that drops everything).
    pub async fn credentials(
        &self,
        store: &Store,
        key: &SecretKey,
        serial: &str,
    ) -> Result<Option<Credentials>, StorageError> {
        let inventory = {
            let inner = self.read();
            if let Some(c) = inner
                .devices
                .get(serial)
                .and_then(|e| e.credentials.clone())
            {
                return Ok(Some(c));
            }
            inner.inventory.clone()
        };
        let inventory = match inventory {
            Some(i) => i,
            None => self.inventory(store).await?,
        };
        if !inventory.contains(serial) {
            return Ok(None);
        }
        let found = controller::device_credentials(&mut *store.conn().await?, key, serial).await?;
        Ok(found.map(|(model, secret)| {
            let c = Credentials {
                model,
                secret: secret.into(),
            };
            let mut inner = self.write();
            let k = inner.key(serial);
            if let Some(e) = inner.devices.get_mut(&k) {
                e.credentials = Some(c.clone());
            }
            c
        }))
    }

    /// The inventory's serials, read once per generation.
    async fn inventory(&self, store: &Store) -> Result<Arc<HashSet<Box<str>>>, StorageError> {
        let _build = self.build.lock().await;
        let generation = {
            let inner = self.read();
            if let Some(i) = &inner.inventory {
                return Ok(i.clone());
            }
            inner.generation
        };
        let serials: HashSet<Box<str>> = controller::inventory_serials(&mut *store.conn().await?)
            .await?
            .into_iter()
            .map(String::into_boxed_str)
            .collect();
        let serials = Arc::new(serials);
        let mut inner = self.write();
        if inner.generation == generation {
            inner.inventory = Some(serials.clone());
        }
        Ok(serials)
    }

    /// A device's verdict, deciding its holder's devices on a miss.
    pub async fn verdict(
        &self,
        store: &Store,
        key: &SecretKey,
        serial: &str,
    ) -> Result<Verdict, StorageError> {
        let cached = |cache: &Self| {
            cache
                .read()
                .devices
                .get(serial)
                .and_then(|e| e.verdict.clone())
        };
        if let Some(v) = cached(self) {
            return Ok(v);
        }
        let _build = self.build.lock().await;
        if let Some(v) = cached(self) {
            return Ok(v);
        }
        let (today, generation) = {
            let inner = self.read();
            (inner.today, inner.generation)
        };
        let holder = contracts::owner_of(&mut *store.conn().await?, Owned::Device, serial).await?;
        let Some(holder) = holder else {
            let v = Verdict::Refused(Arc::new(not_notified(serial, today)));
            let mut inner = self.write();
            if inner.generation == generation {
                inner.set_verdict(serial, v.clone());
            }
            return Ok(v);
        };
        let decided = self.decide_book(store, key, &holder, today).await?;
        let mut inner = self.write();
        if inner.generation != generation {
            // A change committed while the book was read: answer this request from what was
            // read, but keep nothing, so the next one reads the change.
            return Ok(decided
                .into_iter()
                .find(|(s, _)| s == serial)
                .map(|(_, v)| v)
                .unwrap_or_else(|| Verdict::Refused(Arc::new(not_notified(serial, today)))));
        }
        let mut serials = Vec::with_capacity(decided.len());
        for (s, v) in decided {
            serials.push(inner.set_verdict(&s, v));
        }
        inner.by_contractor.insert(holder, serials);
        let found = inner.devices.get(serial).and_then(|e| e.verdict.clone());
        Ok(match found {
            Some(v) => v,
            None => {
                let v = Verdict::Refused(Arc::new(not_notified(serial, today)));
                inner.set_verdict(serial, v.clone());
                v
            }
        })
    }

    async fn decide_book(
        &self,
        store: &Store,
        key: &SecretKey,
        holder: &str,
        today: Date,
    ) -> Result<Vec<(String, Verdict)>, StorageError> {
        let book = contracts::load_book(&mut *store.conn().await?, holder).await?;
        /// A verdict, or the index of a recipe rendered for the shared allocation.
        #[derive(Clone)]
        enum Decided {
            Final(Verdict),
            Rendered(usize),
        }
        let mut rendered: Vec<(&mpc_domain::book::Contract, Option<i64>, String)> = Vec::new();
        let mut by_contract: HashMap<String, Decided> = HashMap::new();
        let mut decided = Vec::with_capacity(book.devices.len());
        for device in &book.devices {
            let contract_id = match custody::provisionable(&book, &device.serial, today) {
                Ok(id) => id,
                Err(r) => {
                    let v = Verdict::Refused(Arc::new(r));
                    decided.push((device.serial.clone(), Decided::Final(v)));
                    continue;
                }
            };
            let Some(contract) = book.contract(&contract_id) else {
                continue;
            };
            let model = self
                .read()
                .devices
                .get(device.serial.as_str())
                .and_then(|e| e.credentials.as_ref().map(|c| c.model));
            if let (Some(model), Some(expected)) = (model, contract.device_type)
                && let Err(r) = custody::check_model(&device.serial, model, expected)
            {
                let v = Verdict::Refused(Arc::new(r));
                decided.push((device.serial.clone(), Decided::Final(v)));
                continue;
            }
            if let Some(d) = by_contract.get(&contract_id) {
                decided.push((device.serial.clone(), d.clone()));
                continue;
            }
            let d = match current_recipe(store, key, &book, contract, today).await? {
                Ok((revision, recipe)) => {
                    rendered.push((contract, revision, recipe));
                    Decided::Rendered(rendered.len() - 1)
                }
                Err(r) => Decided::Final(Verdict::Incomplete(Arc::new(r))),
            };
            by_contract.insert(contract_id, d.clone());
            decided.push((device.serial.clone(), d));
        }
        let ready = configs(holder, &rendered);
        Ok(decided
            .into_iter()
            .map(|(serial, d)| match d {
                Decided::Final(v) => (serial, v),
                Decided::Rendered(i) => (serial, Verdict::Ready(ready[i].clone())),
            })
            .collect())
    }
}

/// What a service adapter's device receives today: the recipe of its contract's current
/// revision (None while it runs its item's defaults), or why its preset does not render —
/// `R17.1` naming the parameters it waits for (say, after an item change whose carried
/// parameters do not complete the new preset, R8.1), or `R2.2` with no item in force.
///
/// After an item change it writes the revision carrying the shared parameters, as a fetch
/// would (R8.1).
///
/// # Errors
/// The database's.
pub async fn current_recipe(
    store: &Store,
    key: &SecretKey,
    book: &Book,
    contract: &mpc_domain::book::Contract,
    today: Date,
) -> Result<Result<(Option<i64>, String), Refusal>, StorageError> {
    let latest = controller::follow_item(store, key, contract, today).await?;
    if let (Some(r), Some(item)) = (&latest, contract.item(today))
        && r.item == item
    {
        let r = latest.expect("matched");
        return Ok(Ok((Some(r.revision), r.recipe)));
    }
    if let Err(r) = provisioning::item_in_force(contract, today) {
        return Ok(Err(r));
    }
    let params =
        controller::params_in_force(contract, latest.as_ref(), today).expect("an item is in force");
    let mobile =
        controller::mobile_of_book(&mut *store.conn().await?, key, book, contract, today).await?;
    Ok(
        match controller::render(contract, &params, mobile.as_ref()) {
            Ok(recipe) => Ok((None, recipe)),
            Err(e) => Err(incomplete(e)),
        },
    )
}

/// The configurations of one contractor's rendered recipes, in one allocation.
fn configs(
    holder: &str,
    rendered: &[(&mpc_domain::book::Contract, Option<i64>, String)],
) -> Vec<Arc<Config>> {
    let holder: Arc<str> = holder.into();
    let tags: Vec<String> = rendered
        .iter()
        .map(|(_, _, r)| etag(r.as_bytes()))
        .collect();
    let size = rendered
        .iter()
        .zip(&tags)
        .map(|((c, _, r), t)| t.len() + c.id.len() + r.len())
        .sum();
    let mut buffer = Vec::with_capacity(size);
    let mut spans = Vec::with_capacity(rendered.len());
    for ((contract, _, recipe), tag) in rendered.iter().zip(&tags) {
        let start = buffer.len();
        buffer.extend_from_slice(tag.as_bytes());
        buffer.extend_from_slice(contract.id.as_bytes());
        buffer.extend_from_slice(recipe.as_bytes());
        spans.push(start..buffer.len());
    }
    let buffer = Bytes::from(buffer);
    rendered
        .iter()
        .zip(&tags)
        .zip(spans)
        .map(|(((contract, revision, _), tag), span)| {
            Arc::new(Config {
                contractor_id: holder.clone(),
                revision: *revision,
                tagged: buffer.slice(span),
                etag_len: tag.len(),
                id_len: contract.id.len(),
                billing_start_pending: AtomicBool::new(contract.billing_start.is_none()),
                first_fetch_unrecorded: AtomicBool::new(true),
            })
        })
        .collect()
}

/// R7.1 for a serial that serves no contract of its holder's book (or has no holder).
fn not_notified(serial: &str, today: Date) -> Refusal {
    match custody::provisionable(&Book::default(), serial, today) {
        Err(r) => r,
        Ok(_) => unreachable!("an empty book holds no device"),
    }
}

fn incomplete(e: controller::PresetError) -> Refusal {
    match e {
        controller::PresetError::Refused(r) => r,
        controller::PresetError::Invalid(errors) => provisioning::awaiting_parameters(&errors),
        controller::PresetError::Storage(e) => provisioning::unreadable_preset(&e.to_string()),
    }
}

impl Config {
    /// The strong ETag of the recipe.
    pub fn etag(&self) -> HeaderValue {
        HeaderValue::from_maybe_shared(self.tagged.slice(..self.etag_len))
            .expect("quoted hex is a valid header value")
    }

    /// The contract served.
    pub fn contract_id(&self) -> &str {
        std::str::from_utf8(&self.tagged[self.etag_len..self.etag_len + self.id_len])
            .expect("copied from a str")
    }

    /// The recipe text (a slice: no copy).
    pub fn recipe(&self) -> Bytes {
        self.tagged.slice(self.etag_len + self.id_len..)
    }

    /// Claims the one billing start this configuration may set (R5.2).
    pub fn take_billing_start(&self) -> bool {
        self.billing_start_pending.swap(false, Ordering::AcqRel)
    }

    /// Gives the claim back after a failed attempt.
    pub fn restore_billing_start(&self) {
        self.billing_start_pending.store(true, Ordering::Release);
    }

    /// Claims the recording of this device's fetch: true once per built configuration.
    pub fn take_first_fetch(&self) -> bool {
        self.first_fetch_unrecorded.swap(false, Ordering::AcqRel)
    }

    /// Gives the claim back after a failed attempt.
    pub fn restore_first_fetch(&self) {
        self.first_fetch_unrecorded.store(true, Ordering::Release);
    }
}
