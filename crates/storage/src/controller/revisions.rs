//! Preset revisions: the parameters a contract's device runs, sealed, one row per change.

use jiff::civil::Date;
use mpc_domain::Refusal;
use mpc_domain::account::FieldError;
use mpc_domain::book::Contract;
use mpc_domain::catalog::Item;
use mpc_domain::preset::{self, MobileSettings, PresetParams};
use sqlx::AnyConnection;

use super::key::SecretKey;
use super::mobile_lines::mobile_in_force;
use crate::sql::Sql;
use crate::{JournalEntry, Result, StorageError, Store, WriteTx, now_micros};

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
struct RevisionRecord {
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

impl RevisionRecord {
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
    let rows: Vec<RevisionRecord> = q.query_as()?.fetch_all(conn).await?;
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
    let row: Option<RevisionRecord> = q.query_as()?.fetch_optional(conn).await?;
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
    let row: Option<RevisionRecord> = q.query_as()?.fetch_optional(conn).await?;
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
    let device = preset::check::preset_device(contract).map_err(PresetError::Refused)?;
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
pub(crate) async fn write_revision(
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
    preset::check::check_edit(contract, params, date).map_err(PresetError::Refused)?;
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
    preset::check::check_rollback(contract, of, old.item, date).map_err(PresetError::Refused)?;
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
