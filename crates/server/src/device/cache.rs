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

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use jiff::Timestamp;
use jiff::civil::Date;
use mpc_domain::Refusal;
use mpc_domain::book::Book;
use mpc_domain::calendar::{tokyo_date, tokyo_start_of_day};
use mpc_domain::catalog::DeviceType;
use mpc_domain::custody;
use mpc_storage::contracts::{self, Owned};
use mpc_storage::controller::{self, SecretKey};
use mpc_storage::{StorageError, Store};
use sha2::{Digest, Sha256};

/// A device's model and factory secret.
pub struct Credentials {
    pub model: DeviceType,
    pub secret: Vec<u8>,
}

/// The configuration a device receives.
pub struct Config {
    pub contractor_id: String,
    pub contract_id: String,
    /// None while the contract runs its item's defaults.
    pub revision: Option<i64>,
    /// A strong ETag: the quoted hex of the recipe's SHA-256, truncated to 128 bits.
    pub etag: String,
    pub recipe: Bytes,
    /// The contract has no billing start yet (R5.2).
    pub billing_start_pending: AtomicBool,
}

/// Whether a device may have its configuration.
pub enum Verdict {
    /// It may (R7.1, D6, R11.1, R12.3 all hold).
    Ready(Arc<Config>),
    /// A rule withholds it: 403 with the rule.
    Refused(Refusal),
    /// Its contract's preset does not render (R17.1): nothing to serve yet.
    Incomplete(Refusal),
}

struct Inner {
    /// Verdicts hold until this instant (the next Tokyo midnight).
    valid_until: Timestamp,
    today: Date,
    credentials: HashMap<String, Arc<Credentials>>,
    verdicts: HashMap<String, Arc<Verdict>>,
    by_contractor: HashMap<String, Vec<String>>,
    /// Serials whose verdict is not `Ready`.
    weak: HashSet<String>,
}

struct Tail {
    checked: Option<Instant>,
    last_seq: i64,
}

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
                credentials: HashMap::new(),
                verdicts: HashMap::new(),
                by_contractor: HashMap::new(),
                weak: HashSet::new(),
            }),
            build: tokio::sync::Mutex::new(()),
            tail: tokio::sync::Mutex::new(Tail {
                checked: None,
                last_seq: 0,
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

    /// Drops the verdicts of one contractor (and every refusal).
    pub fn invalidate_contractor(&self, contractor_id: &str) {
        let mut inner = self.write();
        let Inner {
            verdicts,
            by_contractor,
            weak,
            ..
        } = &mut *inner;
        for serial in by_contractor.remove(contractor_id).unwrap_or_default() {
            verdicts.remove(&serial);
        }
        for serial in weak.drain() {
            verdicts.remove(&serial);
        }
    }

    /// Drops everything, credentials included.
    pub fn invalidate_all(&self) {
        let mut inner = self.write();
        inner.credentials.clear();
        inner.verdicts.clear();
        inner.by_contractor.clear();
        inner.weak.clear();
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
        let rows = controller::journal_since(&mut *store.conn().await?, tail.last_seq).await?;
        if tail.checked.is_none() {
            // The first look only learns where the journal ends: the cache starts empty.
            tail.last_seq = rows.last().map_or(tail.last_seq, |r| r.0);
        } else {
            for (seq, contractor) in rows {
                tail.last_seq = seq;
                match contractor {
                    Some(c) => self.invalidate_contractor(&c),
                    None => self.invalidate_all(),
                }
            }
        }
        tail.checked = Some(Instant::now());
        Ok(())
    }

    /// A device's credentials, from the inventory; none for an unknown serial.
    pub async fn credentials(
        &self,
        store: &Store,
        key: &SecretKey,
        serial: &str,
    ) -> Result<Option<Arc<Credentials>>, StorageError> {
        if let Some(c) = self.read().credentials.get(serial) {
            return Ok(Some(c.clone()));
        }
        let found = controller::device_credentials(&mut *store.conn().await?, key, serial).await?;
        Ok(found.map(|(model, secret)| {
            let c = Arc::new(Credentials { model, secret });
            self.write()
                .credentials
                .insert(serial.to_owned(), c.clone());
            c
        }))
    }

    /// A device's verdict, deciding its holder's devices on a miss.
    pub async fn verdict(
        &self,
        store: &Store,
        key: &SecretKey,
        serial: &str,
    ) -> Result<Arc<Verdict>, StorageError> {
        if let Some(v) = self.read().verdicts.get(serial) {
            return Ok(v.clone());
        }
        let _build = self.build.lock().await;
        if let Some(v) = self.read().verdicts.get(serial) {
            return Ok(v.clone());
        }
        let today = self.read().today;
        let holder = contracts::owner_of(&mut *store.conn().await?, Owned::Device, serial).await?;
        let Some(holder) = holder else {
            let v = Arc::new(Verdict::Refused(not_notified(serial, today)));
            let mut inner = self.write();
            inner.weak.insert(serial.to_owned());
            inner.verdicts.insert(serial.to_owned(), v.clone());
            return Ok(v);
        };
        let decided = self.decide_book(store, key, &holder, today).await?;
        let mut inner = self.write();
        let mut serials = Vec::with_capacity(decided.len());
        for (s, v) in decided {
            if !matches!(*v, Verdict::Ready(_)) {
                inner.weak.insert(s.clone());
            }
            inner.verdicts.insert(s.clone(), v);
            serials.push(s);
        }
        inner.by_contractor.insert(holder, serials);
        Ok(match inner.verdicts.get(serial) {
            Some(v) => v.clone(),
            None => {
                let v = Arc::new(Verdict::Refused(not_notified(serial, today)));
                inner.weak.insert(serial.to_owned());
                inner.verdicts.insert(serial.to_owned(), v.clone());
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
    ) -> Result<Vec<(String, Arc<Verdict>)>, StorageError> {
        let book = contracts::load_book(&mut *store.conn().await?, holder).await?;
        let mut configs: HashMap<String, Arc<Verdict>> = HashMap::new();
        let mut out = Vec::with_capacity(book.devices.len());
        for device in &book.devices {
            let contract_id = match custody::provisionable(&book, &device.serial, today) {
                Ok(id) => id,
                Err(r) => {
                    out.push((device.serial.clone(), Arc::new(Verdict::Refused(r))));
                    continue;
                }
            };
            let Some(contract) = book.contract(&contract_id) else {
                continue;
            };
            let model = self.read().credentials.get(&device.serial).map(|c| c.model);
            if let (Some(model), Some(expected)) = (model, contract.device_type)
                && model != expected
            {
                out.push((
                    device.serial.clone(),
                    Arc::new(Verdict::Refused(Refusal::new(
                        "R3.1",
                        format!("this unit is a {model}, the contract's device type is {expected}"),
                        format!("この機器 ({model}) は契約の機器種別 {expected} と異なります"),
                    ))),
                ));
                continue;
            }
            if let Some(v) = configs.get(&contract_id) {
                out.push((device.serial.clone(), v.clone()));
                continue;
            }
            let latest = controller::follow_item(store, key, contract, today).await?;
            let verdict = match (&latest, contract.item(today)) {
                (Some(r), Some(item)) if r.item == item => {
                    Verdict::Ready(config(contract, Some(r.revision), r.recipe.clone()))
                }
                _ => {
                    let params = controller::params_in_force(contract, latest.as_ref(), today);
                    let mobile = controller::mobile_of_book(
                        &mut *store.conn().await?,
                        key,
                        &book,
                        contract,
                        today,
                    )
                    .await?;
                    match params.map(|p| controller::render(contract, &p, mobile.as_ref())) {
                        Some(Ok(recipe)) => Verdict::Ready(config(contract, None, recipe)),
                        Some(Err(e)) => Verdict::Incomplete(incomplete(e)),
                        None => Verdict::Incomplete(Refusal::new(
                            "R2.2",
                            "the contract has no item in force",
                            "契約に有効な品目がありません",
                        )),
                    }
                }
            };
            let verdict = Arc::new(verdict);
            configs.insert(contract_id, verdict.clone());
            out.push((device.serial.clone(), verdict));
        }
        Ok(out)
    }
}

/// R7.1 for a serial that serves no contract of its holder's book (or has no holder).
fn not_notified(serial: &str, today: Date) -> Refusal {
    match custody::provisionable(&Book::default(), serial, today) {
        Err(r) => r,
        Ok(_) => unreachable!("an empty book holds no device"),
    }
}

fn config(
    contract: &mpc_domain::book::Contract,
    revision: Option<i64>,
    recipe: String,
) -> Arc<Config> {
    Arc::new(Config {
        contractor_id: contract.contractor_id.clone(),
        contract_id: contract.id.clone(),
        revision,
        etag: etag(recipe.as_bytes()),
        recipe: Bytes::from(recipe),
        billing_start_pending: AtomicBool::new(contract.billing_start.is_none()),
    })
}

fn incomplete(e: controller::PresetError) -> Refusal {
    match e {
        controller::PresetError::Refused(r) => r,
        controller::PresetError::Invalid(errors) => Refusal::new(
            "R17.1",
            format!(
                "the preset is incomplete: {}",
                errors
                    .iter()
                    .map(|e| e.field)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "プリセットのパラメータが未設定または誤りです",
        ),
        controller::PresetError::Storage(e) => Refusal::new(
            "R17.1",
            format!("the preset could not be read: {e}"),
            "プリセットを読み込めませんでした",
        ),
    }
}

impl Config {
    /// Claims the one billing start this configuration may set (R5.2).
    pub fn take_billing_start(&self) -> bool {
        self.billing_start_pending.swap(false, Ordering::AcqRel)
    }

    /// Gives the claim back after a failed attempt.
    pub fn restore_billing_start(&self) {
        self.billing_start_pending.store(true, Ordering::Release);
    }
}
