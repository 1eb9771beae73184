//! The controller's records: the device inventory, preset revisions, device status with its
//! UP/DOWN history, and alert webhooks.
//!
//! Secrets never rest in clear: factory secrets, preset parameters, mobile line passwords and
//! the recipes rendered from them (which carry the PPPoE password, pre-shared key, user and
//! mobile passwords) are sealed
//! with XChaCha20-Poly1305 under a [`SecretKey`], each bound to its row by associated data so
//! a ciphertext copied to another row does not open.
//!
//! A contract without a stored revision runs the defaults of its item
//! ([`PresetParams::default_for`]); the first parameter change stores revision 1. Defaults are
//! thus applied lazily on first write, so reading never writes — except when an item change
//! (R8.1) has taken effect since the last revision: [`follow_item`] then stores the converted
//! parameters as a new revision.

use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use jiff::civil::Date;
use mpc_domain::Refusal;
use mpc_domain::account::FieldError;
use mpc_domain::book::{Book, Contract};
use mpc_domain::catalog::{DeviceType, Item};
use mpc_domain::preset::{self, MobileSettings, PresetParams};
use sqlx::AnyConnection;

use crate::contracts::{Scope, load_books};
use crate::sql::Sql;
use crate::{JournalEntry, Result, StorageError, Store, WriteTx, new_id, now_micros};

/// The environment variable holding the key as 64 hex digits.
pub const KEY_ENV: &str = "MPC_SECRET_KEY";
/// The environment variable naming a file that holds the key as 64 hex digits.
pub const KEY_FILE_ENV: &str = "MPC_SECRET_KEY_FILE";

/// The 256-bit key that seals secrets at rest.
#[derive(Clone)]
pub struct SecretKey(XChaCha20Poly1305);

/// Where a [`SecretKey`] came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Env,
    File(PathBuf),
    /// Generated on this start and written to this file.
    Generated(PathBuf),
}

impl SecretKey {
    /// A key from 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(XChaCha20Poly1305::new(&(*bytes).into()))
    }

    /// A fresh random key (tests, and the first start).
    pub fn random() -> Self {
        Self::from_bytes(&random_bytes())
    }

    fn from_hex(text: &str, origin: &str) -> Result<Self> {
        let bytes: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                StorageError::Corrupt(format!("{origin}: the secret key must be 64 hex digits"))
            })?;
        Ok(Self::from_bytes(&bytes))
    }

    /// The key from `MPC_SECRET_KEY`, else the file named by `MPC_SECRET_KEY_FILE`, else the
    /// file `<database>.key` beside a SQLite database, generated (mode 0600) when absent.
    ///
    /// A PostgreSQL deployment has no file of its own to keep the key beside, and several
    /// nodes must share one key, so there it must be given.
    ///
    /// # Errors
    /// A malformed key, an unreadable or unwritable file, or no key for PostgreSQL.
    pub fn resolve(database_url: &str) -> Result<(Self, KeySource)> {
        if let Ok(hex) = std::env::var(KEY_ENV) {
            return Ok((Self::from_hex(&hex, KEY_ENV)?, KeySource::Env));
        }
        let path = match std::env::var(KEY_FILE_ENV) {
            Ok(path) => PathBuf::from(path),
            Err(_) => {
                let db = database_url
                    .strip_prefix("sqlite://")
                    .or_else(|| database_url.strip_prefix("sqlite:"))
                    .map(|p| p.split('?').next().unwrap_or(p))
                    .ok_or_else(|| {
                        StorageError::Corrupt(format!(
                            "set {KEY_ENV} or {KEY_FILE_ENV}: a PostgreSQL deployment needs the \
                             secret key given explicitly"
                        ))
                    })?;
                let key_path = PathBuf::from(format!("{db}.key"));
                if !key_path.exists() {
                    write_new_key(&key_path)?;
                    let key = Self::from_hex(&read(&key_path)?, &key_path.display().to_string())?;
                    return Ok((key, KeySource::Generated(key_path)));
                }
                key_path
            }
        };
        let key = Self::from_hex(&read(&path)?, &path.display().to_string())?;
        Ok((key, KeySource::File(path)))
    }

    /// Seals `plain`, bound to `context`, as hex of nonce ‖ ciphertext.
    pub fn seal(&self, context: &str, plain: &[u8]) -> String {
        let nonce_bytes: [u8; 24] = random_bytes();
        let nonce = XNonce::from(nonce_bytes);
        let sealed = self
            .0
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: context.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut out = nonce_bytes.to_vec();
        out.extend(sealed);
        hex::encode(out)
    }

    /// Opens what [`SecretKey::seal`] sealed under the same `context`.
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] when the text was not sealed by this key for this context.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>> {
        let corrupt = || StorageError::Corrupt(format!("{context}: cannot open the sealed value"));
        let bytes = hex::decode(sealed).map_err(|_| corrupt())?;
        if bytes.len() < 24 {
            return Err(corrupt());
        }
        let (nonce, body) = bytes.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| corrupt())?;
        self.0
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| corrupt())
    }

    fn open_text(&self, context: &str, sealed: &str) -> Result<String> {
        String::from_utf8(self.open(context, sealed)?)
            .map_err(|_| StorageError::Corrupt(format!("{context}: not UTF-8")))
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    bytes
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| StorageError::Corrupt(format!("cannot read {}: {e}", path.display())))
}

fn write_new_key(path: &Path) -> Result<()> {
    use std::io::Write;
    let fail =
        |e: std::io::Error| StorageError::Corrupt(format!("cannot write {}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(fail)?;
    writeln!(file, "{}", hex::encode(random_bytes::<32>())).map_err(fail)
}

// ---------------------------------------------------------------------------------------------
// Inventory

/// One device of the inventory, as imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryRow {
    /// Its line in the file, from 1.
    pub line: usize,
    pub serial: String,
    pub model: DeviceType,
    pub factory_secret: String,
}

/// A bad line of an inventory file; `line` counts from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

/// Reads an inventory CSV: `serial,model,factory_secret` per line, an optional header line
/// of exactly those names, blank lines ignored.
///
/// A serial is 1–64 characters (as R7.1 takes them) without spaces or commas; the model is a
/// device type's name (`SEIL/X4`, `SA-W2L`, `SEIL CA10`); the factory secret 16–256
/// printable ASCII characters, since it keys the HMAC a device signs with.
///
/// # Errors
/// Every bad line, so the operator fixes the file in one pass.
pub fn parse_inventory(text: &str) -> Result<Vec<InventoryRow>, Vec<LineError>> {
    let mut rows: Vec<InventoryRow> = Vec::new();
    let mut errors = Vec::new();
    // A set, not a scan of `rows`: a fleet's file has 100,000 lines.
    let mut serials = std::collections::HashSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim();
        if raw.is_empty() || (line == 1 && raw.eq_ignore_ascii_case("serial,model,factory_secret"))
        {
            continue;
        }
        let mut bad = |message: String| errors.push(LineError { line, message });
        let fields: Vec<&str> = raw.split(',').map(str::trim).collect();
        let [serial, model, secret] = fields[..] else {
            bad(format!(
                "expected 3 fields serial,model,factory_secret, found {}",
                fields.len()
            ));
            continue;
        };
        if serial.is_empty() || serial.len() > 64 || serial.contains(char::is_whitespace) {
            bad(format!(
                "serial {serial:?} must be 1 to 64 characters without spaces"
            ));
            continue;
        }
        let Ok(model) = model.parse::<DeviceType>() else {
            bad(format!(
                "model {model:?} is not SEIL/X4, SA-W2L or SEIL CA10"
            ));
            continue;
        };
        if !(16..=256).contains(&secret.len()) || !secret.bytes().all(|b| b.is_ascii_graphic()) {
            bad("the factory secret must be 16 to 256 printable ASCII characters".into());
            continue;
        }
        if !serials.insert(serial) {
            bad(format!("serial {serial} appears twice"));
            continue;
        }
        rows.push(InventoryRow {
            line,
            serial: serial.to_owned(),
            model,
            factory_secret: secret.to_owned(),
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

fn secret_context(serial: &str) -> String {
    format!("inventory:{serial}")
}

/// Imports inventory rows, all or none.
///
/// # Errors
/// Line errors for serials already in the inventory, or a storage error.
pub async fn import_inventory(
    store: &Store,
    key: &SecretKey,
    rows: &[InventoryRow],
    journal: JournalEntry,
) -> Result<Result<usize, Vec<LineError>>> {
    let _job = store.job().await;
    let mut tx = store.write().await?;
    tx.lock("inventory").await?;
    let mut known = Vec::new();
    for r in rows {
        let exists: Option<String> =
            sqlx::query_scalar("SELECT serial FROM device_inventory WHERE serial = $1")
                .bind(r.serial.clone())
                .fetch_optional(tx.conn())
                .await?;
        if exists.is_some() {
            known.push(LineError {
                line: r.line,
                message: format!("serial {} is already in the inventory", r.serial),
            });
        }
    }
    if !known.is_empty() {
        return Ok(Err(known));
    }
    let now = now_micros();
    for r in rows {
        sqlx::query(
            "INSERT INTO device_inventory (serial, model, factory_secret, imported_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(r.serial.clone())
        .bind(r.model.as_str())
        .bind(key.seal(&secret_context(&r.serial), r.factory_secret.as_bytes()))
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    let serials: Vec<&str> = rows.iter().map(|r| r.serial.as_str()).collect();
    tx.commit(journal.outcome(serde_json::json!({ "imported": serials })))
        .await?;
    Ok(Ok(rows.len()))
}

/// A device's model and factory secret, when it is in the inventory.
pub async fn device_credentials(
    conn: &mut AnyConnection,
    key: &SecretKey,
    serial: &str,
) -> Result<Option<(DeviceType, Vec<u8>)>> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT model, factory_secret FROM device_inventory WHERE serial = $1")
            .bind(serial.to_owned())
            .fetch_optional(conn)
            .await?;
    row.map(|(model, sealed)| {
        let model = model
            .parse()
            .map_err(|_| StorageError::Corrupt(format!("model of {serial}: {model}")))?;
        Ok((model, key.open(&secret_context(serial), &sealed)?))
    })
    .transpose()
}

/// Every serial of the inventory.
pub async fn inventory_serials(conn: &mut AnyConnection) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT serial FROM device_inventory")
        .fetch_all(conn)
        .await?)
}

/// The model the inventory records for `serial`, if it is in the inventory (R3.1).
pub async fn inventory_model(conn: &mut AnyConnection, serial: &str) -> Result<Option<DeviceType>> {
    let model: Option<String> =
        sqlx::query_scalar("SELECT model FROM device_inventory WHERE serial = $1")
            .bind(serial.to_owned())
            .fetch_optional(conn)
            .await?;
    model
        .map(|m| {
            m.parse()
                .map_err(|_| StorageError::Corrupt(format!("model of {serial}: {m}")))
        })
        .transpose()
}

// ---------------------------------------------------------------------------------------------
// Device requests seen by any node

/// A connection of its own for [`record_requests_seen`], outside the pool.
///
/// On PostgreSQL its commits do not wait for the WAL to reach the disk
/// (`synchronous_commit = off`): a crash of the database may lose the last fraction of a
/// second of recorded requests, never make the table inconsistent, and the inserts of
/// several nodes stop queueing on fsync. Only this connection is set so; the pool's keep the
/// default.
pub async fn requests_seen_connection(store: &Store) -> Result<AnyConnection> {
    let mut conn = store.pool().acquire().await?.detach();
    if store.backend() == crate::Backend::Postgres {
        sqlx::query("SET synchronous_commit = off")
            .execute(&mut conn)
            .await?;
    }
    Ok(conn)
}

/// Records signed device requests as accepted, by fingerprint, in one statement; answers for
/// each whether it was new (a request another node or an earlier batch recorded is not).
///
/// `requests` are `(fingerprint, signed_at)` pairs with distinct fingerprints.
pub async fn record_requests_seen(
    conn: &mut AnyConnection,
    backend: crate::Backend,
    requests: &[(i64, i64)],
) -> Result<Vec<bool>> {
    let mut new = Vec::with_capacity(requests.len());
    for chunk in requests.chunks(4096) {
        let mut q = Sql::positional(
            backend,
            "INSERT INTO device_requests_seen (fingerprint, signed_at) VALUES ",
        );
        for (i, (fingerprint, signed_at)) in chunk.iter().enumerate() {
            q.row(i == 0, |r| {
                r.bind(*fingerprint).bind(*signed_at);
            });
        }
        q.push(" ON CONFLICT (fingerprint) DO NOTHING RETURNING fingerprint");
        let inserted: Vec<(i64,)> = q.query_as()?.fetch_all(&mut *conn).await?;
        let inserted: std::collections::HashSet<i64> = inserted.into_iter().map(|r| r.0).collect();
        new.extend(chunk.iter().map(|(f, _)| inserted.contains(f)));
    }
    Ok(new)
}

/// Deletes the requests signed before `before` (Unix seconds): their timestamps are outside
/// the window, so a replay of them is refused without looking here.
pub async fn forget_requests_seen(store: &Store, before: i64) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM device_requests_seen WHERE signed_at < $1")
            .bind(before)
            .execute(store.pool())
            .await?
            .rows_affected(),
    )
}

// ---------------------------------------------------------------------------------------------
// Preset revisions

/// Why a revision was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The parameters were edited.
    Edit,
    /// An earlier revision was restored (`based_on`).
    Rollback,
    /// The contract's item changed (R8.1) and the parameters were converted.
    ItemChange,
    /// The mobile line of the contract's mobile access option was set (R6.5, R9.3).
    MobileLine,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Edit => "edit",
            Cause::Rollback => "rollback",
            Cause::ItemChange => "item_change",
            Cause::MobileLine => "mobile_line",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "edit" => Ok(Cause::Edit),
            "rollback" => Ok(Cause::Rollback),
            "item_change" => Ok(Cause::ItemChange),
            "mobile_line" => Ok(Cause::MobileLine),
            other => Err(StorageError::Corrupt(format!("revision cause {other:?}"))),
        }
    }
}

/// A stored revision of a contract's preset, opened.
#[derive(Debug, Clone)]
pub struct Revision {
    pub contract_id: String,
    pub revision: i64,
    pub item: Item,
    pub cause: Cause,
    pub based_on: Option<i64>,
    pub params: PresetParams,
    /// The mobile line rendered with the parameters, when the contract had one (R6.5).
    pub mobile: Option<MobileSettings>,
    /// The recipe text rendered when the revision was made.
    pub recipe: String,
    pub created_at: i64,
    pub created_by: String,
}

#[derive(sqlx::FromRow)]
struct RevisionRow {
    contract_id: String,
    revision: i64,
    item: String,
    cause: String,
    based_on: Option<i64>,
    params: String,
    mobile: Option<String>,
    recipe: String,
    created_at: i64,
    created_by: String,
}

const REVISION_COLUMNS: &str = "SELECT contract_id, revision, item, cause, based_on, params, mobile, \
     recipe, created_at, created_by FROM preset_revisions";

fn revision_context(contract_id: &str, revision: i64, part: &str) -> String {
    format!("revision:{contract_id}:{revision}:{part}")
}

impl RevisionRow {
    fn open(self, key: &SecretKey) -> Result<Revision> {
        let params = key.open_text(
            &revision_context(&self.contract_id, self.revision, "params"),
            &self.params,
        )?;
        let params = serde_json::from_str(&params)
            .map_err(|e| StorageError::Corrupt(format!("revision params: {e}")))?;
        let mobile = self
            .mobile
            .map(|sealed| {
                let text = key.open_text(
                    &revision_context(&self.contract_id, self.revision, "mobile"),
                    &sealed,
                )?;
                serde_json::from_str(&text)
                    .map_err(|e| StorageError::Corrupt(format!("revision mobile line: {e}")))
            })
            .transpose()?;
        let recipe = key.open_text(
            &revision_context(&self.contract_id, self.revision, "recipe"),
            &self.recipe,
        )?;
        Ok(Revision {
            item: self
                .item
                .parse()
                .map_err(|_| StorageError::Corrupt(format!("revision item {}", self.item)))?,
            cause: Cause::parse(&self.cause)?,
            based_on: self.based_on,
            params,
            mobile,
            recipe,
            created_at: self.created_at,
            created_by: self.created_by,
            contract_id: self.contract_id,
            revision: self.revision,
        })
    }
}

/// Every revision of a contract, oldest first.
pub async fn revisions(
    conn: &mut AnyConnection,
    key: &SecretKey,
    contract_id: &str,
) -> Result<Vec<Revision>> {
    let mut q = Sql::new(REVISION_COLUMNS);
    q.push(" WHERE contract_id = ")
        .bind(contract_id.to_owned())
        .push(" ORDER BY revision");
    let rows: Vec<RevisionRow> = q.query_as()?.fetch_all(conn).await?;
    rows.into_iter().map(|r| r.open(key)).collect()
}

/// One revision of a contract.
pub async fn revision(
    conn: &mut AnyConnection,
    key: &SecretKey,
    contract_id: &str,
    revision: i64,
) -> Result<Option<Revision>> {
    let mut q = Sql::new(REVISION_COLUMNS);
    q.push(" WHERE contract_id = ")
        .bind(contract_id.to_owned())
        .push(" AND revision = ")
        .bind(revision);
    let row: Option<RevisionRow> = q.query_as()?.fetch_optional(conn).await?;
    row.map(|r| r.open(key)).transpose()
}

/// The current (highest) revision of a contract, if any was stored.
pub async fn latest(
    conn: &mut AnyConnection,
    key: &SecretKey,
    contract_id: &str,
) -> Result<Option<Revision>> {
    let mut q = Sql::new(REVISION_COLUMNS);
    q.push(" WHERE contract_id = ")
        .bind(contract_id.to_owned())
        .push(" ORDER BY revision DESC LIMIT 1");
    let row: Option<RevisionRow> = q.query_as()?.fetch_optional(conn).await?;
    row.map(|r| r.open(key)).transpose()
}

/// Why a preset change was not stored.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// A rule refused it (`R2.2` for parameters of another item's preset).
    #[error("{0}")]
    Refused(Refusal),
    /// R17.1: the parameters are invalid for the contract's device type.
    #[error("invalid preset parameters")]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sqlx::Error> for PresetError {
    fn from(e: sqlx::Error) -> Self {
        PresetError::Storage(e.into())
    }
}

/// The host name a contract's recipe carries. It names the contract, not the device, so a
/// replacement unit receives the same configuration (R11.1).
pub fn hostname(contract_id: &str) -> String {
    format!("sa-{contract_id}")
}

/// Renders `params` for `contract` (R2.2) with the mobile line of its mobile access option,
/// if it has one ([`mobile_in_force`]).
///
/// # Errors
/// R17.1 with every bad field; `R2.2` when the contract is not a service adapter; `R6.5` for
/// a mobile line on another model than SA-W2L.
pub fn render(
    contract: &Contract,
    params: &PresetParams,
    mobile: Option<&MobileSettings>,
) -> Result<String, PresetError> {
    let device = contract.device_type.ok_or_else(|| {
        PresetError::Refused(Refusal::new(
            "R2.2",
            "only a service-adapter contract has a preset",
            "プリセットはサービスアダプタの契約にのみあります",
        ))
    })?;
    params.validate(device).map_err(PresetError::Invalid)?;
    preset::render(params, device, mobile, &hostname(&contract.id))
        .map(|r| r.to_text())
        .map_err(PresetError::Refused)
}

/// The parameters in force for `contract` on `date`: those of its current revision, converted
/// when the item changed since (R8.1), or the item's defaults when none was stored.
pub fn params_in_force(
    contract: &Contract,
    latest: Option<&Revision>,
    date: Date,
) -> Option<PresetParams> {
    let item = contract.item(date)?;
    Some(match latest {
        Some(r) if r.item == item => r.params.clone(),
        Some(r) => preset::convert(&r.params, item),
        None => PresetParams::default_for(item),
    })
}

#[allow(clippy::too_many_arguments)]
async fn insert_revision(
    store: &Store,
    key: &SecretKey,
    contract: &Contract,
    params: &PresetParams,
    cause: Cause,
    based_on: Option<i64>,
    date: Date,
    journal: JournalEntry,
) -> Result<Revision, PresetError> {
    let mobile = mobile_in_force(&mut *store.conn().await?, key, contract, date).await?;
    let recipe = render(contract, params, mobile.as_ref())?;
    let mut tx = store.write().await?;
    tx.lock(&format!("preset:{}", contract.id)).await?;
    let revision = write_revision(
        &mut tx,
        key,
        contract,
        (params, mobile.as_ref(), recipe),
        cause,
        based_on,
        &journal.actor,
    )
    .await?;
    tx.commit(
        journal
            .contractor(Some(&contract.contractor_id))
            .subject(&contract.id)
            .outcome(serde_json::json!({
                "revision": revision.revision,
                "cause": cause.as_str(),
                "based_on": based_on,
                "params": params.masked(),
                "mobile": mobile.as_ref().map(MobileSettings::masked),
            })),
    )
    .await?;
    Ok(revision)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StorageError::Corrupt(e.to_string()))
}

/// Writes the next revision of `contract` in `tx`: its parameters, mobile line and the recipe
/// rendered from them. The caller holds the contract's preset lock.
async fn write_revision(
    tx: &mut WriteTx,
    key: &SecretKey,
    contract: &Contract,
    (params, mobile, recipe): (&PresetParams, Option<&MobileSettings>, String),
    cause: Cause,
    based_on: Option<i64>,
    actor: &str,
) -> Result<Revision, PresetError> {
    let current: Option<i64> =
        sqlx::query_scalar("SELECT MAX(revision) FROM preset_revisions WHERE contract_id = $1")
            .bind(contract.id.clone())
            .fetch_one(tx.conn())
            .await?;
    let n = current.unwrap_or(0) + 1;
    let params_json = to_json(params)?;
    let mobile_sealed = mobile
        .map(|m| {
            to_json(m).map(|j| key.seal(&revision_context(&contract.id, n, "mobile"), j.as_bytes()))
        })
        .transpose()?;
    let revision = Revision {
        contract_id: contract.id.clone(),
        revision: n,
        item: params.item(),
        cause,
        based_on,
        params: params.clone(),
        mobile: mobile.cloned(),
        recipe,
        created_at: now_micros(),
        created_by: actor.to_owned(),
    };
    sqlx::query(
        "INSERT INTO preset_revisions (contract_id, revision, item, cause, based_on, params, mobile, \
         recipe, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(contract.id.clone())
    .bind(n)
    .bind(revision.item.as_str())
    .bind(cause.as_str())
    .bind(based_on)
    .bind(key.seal(&revision_context(&contract.id, n, "params"), params_json.as_bytes()))
    .bind(mobile_sealed)
    .bind(key.seal(
        &revision_context(&contract.id, n, "recipe"),
        revision.recipe.as_bytes(),
    ))
    .bind(revision.created_at)
    .bind(revision.created_by.clone())
    .execute(tx.conn())
    .await?;
    Ok(revision)
}

/// Stores edited parameters as the next revision (R17.1).
///
/// # Errors
/// `R2.2` when `params` are another item's preset than the contract's on `date` (an item
/// changes by an R8.1 request); R17.1 field errors; storage errors.
pub async fn save_params(
    store: &Store,
    key: &SecretKey,
    contract: &Contract,
    params: &PresetParams,
    date: Date,
    journal: JournalEntry,
) -> Result<Revision, PresetError> {
    let item = contract.item(date);
    if item != Some(params.item()) {
        return Err(PresetError::Refused(Refusal::new(
            "R2.2",
            format!(
                "the contract's item is {}, so its preset is that item's; change the item by an item-change request (R8.1)",
                item.map_or("none", |i| i.as_str())
            ),
            "プリセットは契約の品目で決まります。品目の変更は品目変更の申込(R8.1)で行います",
        )));
    }
    insert_revision(
        store,
        key,
        contract,
        params,
        Cause::Edit,
        None,
        date,
        journal,
    )
    .await
}

/// Makes a new revision equal to revision `of`.
///
/// # Errors
/// [`StorageError::NotFound`] for an unknown revision; `R2.2` when the old revision is of
/// another item than the contract's on `date`.
pub async fn rollback(
    store: &Store,
    key: &SecretKey,
    contract: &Contract,
    of: i64,
    date: Date,
    journal: JournalEntry,
) -> Result<Revision, PresetError> {
    let old = revision(&mut *store.conn().await?, key, &contract.id, of)
        .await?
        .ok_or(StorageError::NotFound)?;
    if contract.item(date) != Some(old.item) {
        return Err(PresetError::Refused(Refusal::new(
            "R2.2",
            format!(
                "revision {of} is a {} preset, not the contract's current item",
                old.item
            ),
            format!("リビジョン {of} は現在の品目のプリセットではありません"),
        )));
    }
    insert_revision(
        store,
        key,
        contract,
        &old.params,
        Cause::Rollback,
        Some(of),
        date,
        journal,
    )
    .await
}

/// Stores the converted parameters as a new revision when the contract's item on `date`
/// differs from its current revision's (R8.1): parameters both presets share are kept
/// ([`preset::convert`]). Returns the revision in force afterwards.
///
/// A conversion that does not validate (e.g. to `remote_access`, whose pre-shared key the
/// contractor has yet to give) is not stored; the contract then runs on no valid revision
/// until the contractor saves parameters.
///
/// # Errors
/// Storage errors.
pub async fn follow_item(
    store: &Store,
    key: &SecretKey,
    contract: &Contract,
    date: Date,
) -> Result<Option<Revision>> {
    let current = latest(&mut *store.conn().await?, key, &contract.id).await?;
    let (Some(item), Some(rev)) = (contract.item(date), current.as_ref()) else {
        return Ok(current);
    };
    if rev.item == item {
        return Ok(current);
    }
    let params = preset::convert(&rev.params, item);
    let journal = JournalEntry::new("system", "preset.item_change")
        .request(serde_json::json!({ "from": rev.item, "to": item, "revision": rev.revision }));
    match insert_revision(
        store,
        key,
        contract,
        &params,
        Cause::ItemChange,
        Some(rev.revision),
        date,
        journal,
    )
    .await
    {
        Ok(r) => Ok(Some(r)),
        Err(PresetError::Storage(e)) => Err(e),
        Err(PresetError::Refused(_) | PresetError::Invalid(_)) => Ok(current),
    }
}

// ---------------------------------------------------------------------------------------------
// Mobile lines

/// The line of a mobile access option as the contractor set it (R6.5, R9.3), the password
/// opened. The network type is not stored with it: it is the option's own on a given day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobileLine {
    pub option_id: String,
    pub apn: String,
    /// The PPP id.
    pub id: String,
    pub password: String,
    pub updated_at: i64,
    pub updated_by: String,
}

fn mobile_line_context(option_id: &str) -> String {
    format!("mobile_line:{option_id}:password")
}

/// The line of `option_id`, if one was set.
///
/// # Errors
/// Storage errors; [`StorageError::Corrupt`] when the password does not open.
pub async fn mobile_line(
    conn: &mut AnyConnection,
    key: &SecretKey,
    option_id: &str,
) -> Result<Option<MobileLine>> {
    let row: Option<(String, String, String, String, i64, String)> = sqlx::query_as(
        "SELECT option_id, apn, ppp_id, password, updated_at, updated_by FROM mobile_lines \
         WHERE option_id = $1",
    )
    .bind(option_id.to_owned())
    .fetch_optional(conn)
    .await?;
    row.map(|(option_id, apn, id, sealed, updated_at, updated_by)| {
        Ok(MobileLine {
            password: key.open_text(&mobile_line_context(&option_id), &sealed)?,
            option_id,
            apn,
            id,
            updated_at,
            updated_by,
        })
    })
    .transpose()
}

/// The mobile settings `contract` runs on `date` by `book`: the line of its mobile access
/// option in service that day with the option's network type (R6.5, R9.3, R9.5); none when it
/// has no such option or no line was set.
///
/// # Errors
/// Storage errors.
pub async fn mobile_of_book(
    conn: &mut AnyConnection,
    key: &SecretKey,
    book: &Book,
    contract: &Contract,
    date: Date,
) -> Result<Option<MobileSettings>> {
    let Some(option) = book.mobile_access_of(&contract.id, date) else {
        return Ok(None);
    };
    let Some(line) = mobile_line(conn, key, &option.id).await? else {
        return Ok(None);
    };
    Ok(MobileSettings::for_option(contract, option, date, line.apn, line.id, line.password).ok())
}

/// [`mobile_of_book`] with the book of the contract's holder loaded.
///
/// # Errors
/// Storage errors.
pub async fn mobile_in_force(
    conn: &mut AnyConnection,
    key: &SecretKey,
    contract: &Contract,
    date: Date,
) -> Result<Option<MobileSettings>> {
    let book = load_books(conn, Scope::One(&contract.contractor_id), false)
        .await?
        .pop()
        .map(|(_, b)| b)
        .unwrap_or_default();
    mobile_of_book(conn, key, &book, contract, date).await
}

/// Sets the line of mobile access option `option_id` of `contract` (the password sealed) and
/// renders the parameters in force on `date` with it as the next revision (cause
/// `mobile_line`), so the device fetches it. Returns that revision.
///
/// The caller has checked the option with [`MobileSettings::for_option`]. While the
/// parameters in force do not render (R17.1, e.g. a `remote_access` preset still without its
/// pre-shared key) the line is stored without a revision; the next preset save renders it.
///
/// # Errors
/// R17.1 with every bad `mobile.*` field; storage errors.
pub async fn save_mobile_line(
    store: &Store,
    key: &SecretKey,
    contract: &Contract,
    option_id: &str,
    settings: &MobileSettings,
    date: Date,
    journal: JournalEntry,
) -> Result<Option<Revision>, PresetError> {
    settings.validate().map_err(PresetError::Invalid)?;
    let mut tx = store.write().await?;
    tx.lock(&format!("preset:{}", contract.id)).await?;
    sqlx::query(
        "INSERT INTO mobile_lines (option_id, apn, ppp_id, password, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (option_id) DO UPDATE SET apn = excluded.apn, \
         ppp_id = excluded.ppp_id, password = excluded.password, updated_at = excluded.updated_at, \
         updated_by = excluded.updated_by",
    )
    .bind(option_id.to_owned())
    .bind(settings.apn.clone())
    .bind(settings.id.clone())
    .bind(key.seal(
        &mobile_line_context(option_id),
        settings.password.as_bytes(),
    ))
    .bind(now_micros())
    .bind(journal.actor.clone())
    .execute(tx.conn())
    .await?;
    let current = latest(tx.conn(), key, &contract.id).await?;
    let rendered = params_in_force(contract, current.as_ref(), date)
        .map(|p| render(contract, &p, Some(settings)).map(|recipe| (p, recipe)));
    let revision = match rendered {
        Some(Ok((params, recipe))) => Some(
            write_revision(
                &mut tx,
                key,
                contract,
                (&params, Some(settings), recipe),
                Cause::MobileLine,
                None,
                &journal.actor,
            )
            .await?,
        ),
        Some(Err(PresetError::Invalid(_))) | None => None,
        Some(Err(e)) => return Err(e),
    };
    tx.commit(
        journal
            .contractor(Some(&contract.contractor_id))
            .subject(option_id)
            .outcome(serde_json::json!({
                "contract_id": contract.id,
                "revision": revision.as_ref().map(|r| r.revision),
                "mobile": settings.masked(),
            })),
    )
    .await?;
    Ok(revision)
}

// ---------------------------------------------------------------------------------------------
// Device status and monitoring

/// What a device reports with its heartbeat.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    pub firmware: String,
    pub uptime_seconds: i64,
    pub applied_revision: Option<i64>,
}

/// A device's monitoring state changed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StateChange {
    pub serial: String,
    /// `up` or `down`.
    pub state: &'static str,
    /// The instant of the change, µs since the epoch.
    pub at: i64,
    /// The last heartbeat, µs since the epoch.
    pub last_heartbeat: i64,
}

async fn record_change(conn: &mut AnyConnection, change: &StateChange) -> Result<()> {
    sqlx::query("INSERT INTO device_state_changes (id, serial, state, at) VALUES ($1, $2, $3, $4)")
        .bind(new_id())
        .bind(change.serial.clone())
        .bind(change.state)
        .bind(change.at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a heartbeat at `now`; a device not UP (or never seen) becomes UP, and the change is
/// returned. Telemetry is not a change of record, so it is not journalled.
pub async fn heartbeat(
    store: &Store,
    serial: &str,
    beat: &Heartbeat,
    now: i64,
) -> Result<Option<StateChange>> {
    let mut tx = store.write().await?;
    let state: Option<String> =
        sqlx::query_scalar("SELECT state FROM device_status WHERE serial = $1")
            .bind(serial.to_owned())
            .fetch_optional(tx.conn())
            .await?;
    let became_up = state.as_deref() != Some("up");
    sqlx::query(
        "INSERT INTO device_status (serial, state, state_since, last_heartbeat, firmware, uptime_seconds, \
         applied_revision) VALUES ($1, 'up', $2, $2, $3, $4, $5) ON CONFLICT (serial) DO UPDATE SET \
         state = 'up', last_heartbeat = excluded.last_heartbeat, firmware = excluded.firmware, \
         uptime_seconds = excluded.uptime_seconds, applied_revision = excluded.applied_revision",
    )
    .bind(serial.to_owned())
    .bind(now)
    .bind(beat.firmware.clone())
    .bind(beat.uptime_seconds)
    .bind(beat.applied_revision)
    .execute(tx.conn())
    .await?;
    let change = became_up.then(|| StateChange {
        serial: serial.to_owned(),
        state: "up",
        at: now,
        last_heartbeat: now,
    });
    if let Some(c) = &change {
        sqlx::query("UPDATE device_status SET state_since = $1 WHERE serial = $2")
            .bind(now)
            .bind(serial.to_owned())
            .execute(tx.conn())
            .await?;
        record_change(tx.conn(), c).await?;
    }
    tx.commit_part().await?;
    Ok(change)
}

/// Marks DOWN every UP device whose last heartbeat is older than `down_after_micros` at `now`,
/// recording each change (devices.md D.4: 15 minutes without a heartbeat).
pub async fn mark_silent_down(
    store: &Store,
    now: i64,
    down_after_micros: i64,
) -> Result<Vec<StateChange>> {
    let mut tx = store.write().await?;
    tx.lock("monitoring").await?;
    let cutoff = now - down_after_micros;
    let silent: Vec<(String, i64)> = sqlx::query_as(
        "SELECT serial, last_heartbeat FROM device_status WHERE state = 'up' AND last_heartbeat < $1 ORDER BY serial",
    )
    .bind(cutoff)
    .fetch_all(tx.conn())
    .await?;
    let mut changes = Vec::new();
    for (serial, last) in silent {
        sqlx::query("UPDATE device_status SET state = 'down', state_since = $1 WHERE serial = $2")
            .bind(now)
            .bind(serial.clone())
            .execute(tx.conn())
            .await?;
        let change = StateChange {
            serial,
            state: "down",
            at: now,
            last_heartbeat: last,
        };
        record_change(tx.conn(), &change).await?;
        changes.push(change);
    }
    tx.commit_part().await?;
    Ok(changes)
}

/// Which devices a monitoring list shows.
#[derive(Debug, Clone, Default)]
pub struct MonitorFilter {
    /// `up` or `down`; a device never heard from is `down`.
    pub state: Option<String>,
    pub contractor_id: Option<String>,
    pub model: Option<DeviceType>,
    pub firmware: Option<String>,
}

/// A device of the inventory with its monitoring state.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MonitoredDevice {
    pub serial: String,
    pub model: String,
    pub contractor_id: Option<String>,
    pub state: String,
    pub state_since: Option<i64>,
    pub last_heartbeat: Option<i64>,
    pub firmware: Option<String>,
    pub uptime_seconds: Option<i64>,
    pub applied_revision: Option<i64>,
}

/// Inventory devices with their state, by serial.
pub async fn monitored(
    conn: &mut AnyConnection,
    filter: &MonitorFilter,
) -> Result<Vec<MonitoredDevice>> {
    let mut q = Sql::new(
        "SELECT i.serial, i.model, d.contractor_id, COALESCE(s.state, 'down') AS state, s.state_since, \
         s.last_heartbeat, s.firmware, s.uptime_seconds, s.applied_revision FROM device_inventory i \
         LEFT JOIN device_status s ON s.serial = i.serial LEFT JOIN devices d ON d.serial = i.serial \
         WHERE 1 = 1",
    );
    if let Some(state) = &filter.state {
        q.push(" AND COALESCE(s.state, 'down') = ")
            .bind(state.clone());
    }
    if let Some(c) = &filter.contractor_id {
        q.push(" AND d.contractor_id = ").bind(c.clone());
    }
    if let Some(m) = filter.model {
        q.push(" AND i.model = ").bind(m.as_str().to_owned());
    }
    if let Some(f) = &filter.firmware {
        q.push(" AND s.firmware = ").bind(f.clone());
    }
    q.push(" ORDER BY i.serial");
    Ok(q.query_as()?.fetch_all(conn).await?)
}

/// Whether `serial` is in the inventory.
pub async fn in_inventory(conn: &mut AnyConnection, serial: &str) -> Result<bool> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT serial FROM device_inventory WHERE serial = $1")
            .bind(serial.to_owned())
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

/// A device's state changes, oldest first: (state, instant in µs).
pub async fn history(conn: &mut AnyConnection, serial: &str) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT state, at FROM device_state_changes WHERE serial = $1 ORDER BY at, id",
    )
    .bind(serial.to_owned())
    .fetch_all(conn)
    .await?)
}

// ---------------------------------------------------------------------------------------------
// Alert webhooks

/// A URL that receives a JSON POST on every state change.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub created_at: i64,
}

pub async fn webhooks(conn: &mut AnyConnection) -> Result<Vec<Webhook>> {
    Ok(
        sqlx::query_as("SELECT id, url, created_at FROM alert_webhooks ORDER BY id")
            .fetch_all(conn)
            .await?,
    )
}

pub async fn webhook(conn: &mut AnyConnection, id: &str) -> Result<Webhook> {
    Ok(
        sqlx::query_as("SELECT id, url, created_at FROM alert_webhooks WHERE id = $1")
            .bind(id.to_owned())
            .fetch_one(conn)
            .await?,
    )
}

/// Registers a webhook.
///
/// # Errors
/// [`StorageError::Conflict`] when the URL is registered already.
pub async fn add_webhook(store: &Store, url: &str, journal: JournalEntry) -> Result<Webhook> {
    let hook = Webhook {
        id: new_id(),
        url: url.to_owned(),
        created_at: now_micros(),
    };
    let mut tx = store.write().await?;
    sqlx::query("INSERT INTO alert_webhooks (id, url, created_at) VALUES ($1, $2, $3)")
        .bind(hook.id.clone())
        .bind(hook.url.clone())
        .bind(hook.created_at)
        .execute(tx.conn())
        .await?;
    tx.commit(
        journal
            .subject(&hook.id)
            .outcome(serde_json::json!({ "id": hook.id })),
    )
    .await?;
    Ok(hook)
}

/// Removes a webhook.
///
/// # Errors
/// [`StorageError::NotFound`] for an unknown id.
pub async fn remove_webhook(store: &Store, id: &str, journal: JournalEntry) -> Result<()> {
    let mut tx = store.write().await?;
    let gone = sqlx::query("DELETE FROM alert_webhooks WHERE id = $1")
        .bind(id.to_owned())
        .execute(tx.conn())
        .await?
        .rows_affected();
    if gone == 0 {
        return Err(StorageError::NotFound);
    }
    tx.commit(journal.subject(id)).await?;
    Ok(())
}

/// Journal rows after `after`: (seq, contractor). The device cache of every node reads them to
/// learn which contractors' books changed.
pub async fn journal_since(
    conn: &mut AnyConnection,
    after: i64,
) -> Result<Vec<(i64, Option<String>, bool)>> {
    let rows: Vec<(i64, Option<String>, String)> = sqlx::query_as(
        "SELECT seq, contractor_id, operation FROM journal WHERE seq > $1 ORDER BY seq",
    )
    .bind(after)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(seq, contractor, operation)| {
            (
                seq,
                contractor,
                crate::journal::concerns_devices(&operation),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_in_their_context_and_with_their_key() {
        let key = SecretKey::random();
        let sealed = key.seal("inventory:X4-1", b"factory secret 0123");
        assert!(!sealed.contains("factory"));
        assert_eq!(
            key.open("inventory:X4-1", &sealed).unwrap(),
            b"factory secret 0123"
        );
        assert!(key.open("inventory:X4-2", &sealed).is_err());
        assert!(SecretKey::random().open("inventory:X4-1", &sealed).is_err());
        assert_ne!(sealed, key.seal("inventory:X4-1", b"factory secret 0123"));
    }

    #[test]
    fn inventory_csv_names_every_bad_line() {
        let ok = "serial,model,factory_secret\nX4-1,SEIL/X4,0123456789abcdef\n\nW-1, SA-W2L ,fedcba9876543210\n";
        let rows = parse_inventory(ok).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].model, DeviceType::SaW2l);
        let bad = "X4-1,SEIL/X4,0123456789abcdef\nX4-2,SEIL/X9,0123456789abcdef\nX4-3,SEIL/X4,short\nX4-1,SEIL/X4,0123456789abcdef\nonly,two\n";
        let lines: Vec<usize> = parse_inventory(bad)
            .unwrap_err()
            .into_iter()
            .map(|e| e.line)
            .collect();
        assert_eq!(lines, [2, 3, 4, 5]);
    }
}
