//! SMFv2 identities and events: what a device calling home over SMFv2 proves itself with, and
//! what the SMFv2 listener told it.
//!
//! A unit's identity is its Distribution ID (issued by the vendor, printed on the unit) and
//! three shared secrets: the LS key it is provisioned with, the RS key the LS hands it, and the
//! passphrase that keys its heartbeat HMAC. The secrets rest sealed under the [`SecretKey`]
//! like factory secrets, each bound to its unit and its role, and are shown to operators once.
//!
//! Identities belong to units, not contracts: a replacement unit (R11.1) calls home under its
//! own Distribution ID and is served its contract's configuration as the unit it replaces was.

use sqlx::AnyConnection;

use crate::controller::SecretKey;
use crate::{JournalEntry, Result, StorageError, Store, new_id, now_micros};

/// The longest LS or RS key the SMFv2 client holds.
pub const KEY_LIMIT: usize = 64;

/// The longest heartbeat passphrase mpc accepts (the client holds up to 1024).
pub const PASSPHRASE_LIMIT: usize = 256;

/// A unit's SMFv2 identity, opened.
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    /// Eight groups of four upper-case hex digits.
    pub distribution_id: String,
    /// The Location Server password (HTTP Basic) the unit is provisioned with.
    pub ls_key: String,
    /// The Resource Server password, handed to the unit by the LS.
    pub rs_key: String,
    /// The HMAC-SHA1 key of the unit's heartbeats.
    pub heartbeat_passphrase: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("distribution_id", &self.distribution_id)
            .finish_non_exhaustive()
    }
}

/// Whether `text` is a Distribution ID as the SMFv2 client writes it: eight groups of four
/// upper-case hex digits. Lower case is refused: the client compares the text as is.
pub fn is_distribution_id(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 8
        && groups.iter().all(|g| {
            g.len() == 4
                && g.bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        })
}

fn valid_secret(text: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic())
}

/// 32 random hex digits (128 bits): a generated key or passphrase.
fn random_secret() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    hex::encode(bytes)
}

impl Identity {
    /// A new identity for the unit with `distribution_id`, its secrets random.
    pub fn generate(distribution_id: &str) -> Self {
        Self {
            distribution_id: distribution_id.to_owned(),
            ls_key: random_secret(),
            rs_key: random_secret(),
            heartbeat_passphrase: random_secret(),
        }
    }

    /// Reads the four optional inventory columns `distribution_id,ls_key,rs_key,
    /// heartbeat_passphrase`: all empty is no identity; an empty key is generated.
    ///
    /// # Errors
    /// What is wrong with the columns, as a [`ColumnFault`].
    pub fn from_columns(fields: &[&str]) -> std::result::Result<Option<Self>, ColumnFault> {
        let [id, ls, rs, hb] = fields else {
            return Err(ColumnFault::Count {
                found: fields.len(),
            });
        };
        if fields.iter().all(|f| f.is_empty()) {
            return Ok(None);
        }
        if id.is_empty() {
            return Err(ColumnFault::KeysWithoutId);
        }
        if !is_distribution_id(id) {
            return Err(ColumnFault::DistributionId {
                given: (*id).to_owned(),
            });
        }
        let mut identity = Self::generate(id);
        for (given, slot, secret) in [
            (*ls, &mut identity.ls_key, Secret::LsKey),
            (*rs, &mut identity.rs_key, Secret::RsKey),
            (
                *hb,
                &mut identity.heartbeat_passphrase,
                Secret::HeartbeatPassphrase,
            ),
        ] {
            if given.is_empty() {
                continue;
            }
            if !valid_secret(given, SECRET_MIN, secret.limit()) {
                return Err(ColumnFault::Secret(secret));
            }
            *slot = given.to_owned();
        }
        Ok(Some(identity))
    }
}

/// The shortest LS key, RS key or heartbeat passphrase mpc accepts.
pub const SECRET_MIN: usize = 8;

/// One of a unit's three SMFv2 secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    LsKey,
    RsKey,
    HeartbeatPassphrase,
}

impl Secret {
    /// The longest value the SMFv2 client (and mpc) holds.
    pub fn limit(self) -> usize {
        match self {
            Secret::LsKey | Secret::RsKey => KEY_LIMIT,
            Secret::HeartbeatPassphrase => PASSPHRASE_LIMIT,
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Secret::LsKey => "LS key",
            Secret::RsKey => "RS key",
            Secret::HeartbeatPassphrase => "heartbeat passphrase",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Secret::LsKey => "LSキー",
            Secret::RsKey => "RSキー",
            Secret::HeartbeatPassphrase => "ハートビートのパスフレーズ",
        }
    }
}

/// What is wrong with a unit's SMFv2 identity as given (the inventory's four optional columns,
/// or the identity an operator gives a unit later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnFault {
    /// Not the four columns `distribution_id,ls_key,rs_key,heartbeat_passphrase`.
    Count { found: usize },
    /// Keys given without the Distribution ID they belong to.
    KeysWithoutId,
    /// Not eight groups of four upper-case hex digits.
    DistributionId { given: String },
    /// A secret outside [`SECRET_MIN`] to its limit, or not printable ASCII.
    Secret(Secret),
}

impl ColumnFault {
    pub fn message_en(&self) -> String {
        match self {
            ColumnFault::Count { found } => format!(
                "expected the 4 SMFv2 fields distribution_id,ls_key,rs_key,heartbeat_passphrase, found {found}"
            ),
            ColumnFault::KeysWithoutId => "SMFv2 keys are given without a distribution ID".into(),
            ColumnFault::DistributionId { given } => {
                format!("distribution ID {given:?} must be 8 groups of 4 upper-case hex digits")
            }
            ColumnFault::Secret(s) => format!(
                "the {} must be {SECRET_MIN} to {} printable ASCII characters without spaces",
                s.label_en(),
                s.limit()
            ),
        }
    }

    pub fn message_ja(&self) -> String {
        match self {
            ColumnFault::Count { found } => format!(
                "SMFv2 の列は distribution_id,ls_key,rs_key,heartbeat_passphrase の4列です（{found}列あります）"
            ),
            ColumnFault::KeysWithoutId => {
                "ディストリビューションIDがないまま SMFv2 のキーが指定されています".into()
            }
            ColumnFault::DistributionId { given } => format!(
                "ディストリビューションID「{given}」は、4桁の16進数（英字は大文字）を8つハイフンでつないだ形式で指定してください"
            ),
            ColumnFault::Secret(s) => format!(
                "{}は空白を含まない半角英数記号{SECRET_MIN}〜{}文字で指定してください",
                s.label_ja(),
                s.limit()
            ),
        }
    }
}

impl std::fmt::Display for ColumnFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message_en())
    }
}

fn context(serial: &str, role: &str) -> String {
    format!("smfv2:{role}:{serial}")
}

/// Stores `identity` for `serial` inside a transaction the caller commits (the inventory import).
///
/// # Errors
/// [`StorageError::Conflict`] when the serial has an identity or the Distribution ID is taken.
pub async fn insert(
    conn: &mut AnyConnection,
    key: &SecretKey,
    serial: &str,
    identity: &Identity,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO smfv2_identities (serial, distribution_id, ls_key, rs_key, \
         heartbeat_passphrase, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(serial.to_owned())
    .bind(identity.distribution_id.clone())
    .bind(key.seal(&context(serial, "ls"), identity.ls_key.as_bytes()))
    .bind(key.seal(&context(serial, "rs"), identity.rs_key.as_bytes()))
    .bind(key.seal(
        &context(serial, "hb"),
        identity.heartbeat_passphrase.as_bytes(),
    ))
    .bind(now_micros())
    .execute(conn)
    .await?;
    Ok(())
}

/// Why a unit's SMFv2 identity cannot be given or its keys shown: the 409s of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The unit has an identity already.
    HasIdentity { serial: String },
    /// Another unit holds the Distribution ID (it names one unit).
    DistributionIdHeld {
        distribution_id: String,
        holder: String,
    },
    /// The keys were shown before; they are shown once.
    ShownBefore { serial: String },
}

impl Refused {
    pub fn message_en(&self) -> String {
        match self {
            Refused::HasIdentity { serial } => format!("the unit {serial} has an SMFv2 identity"),
            Refused::DistributionIdHeld {
                distribution_id,
                holder,
            } => format!("distribution ID {distribution_id} is the unit {holder}'s already"),
            Refused::ShownBefore { serial } => {
                format!("the SMFv2 keys of {serial} were shown before; they are shown once")
            }
        }
    }

    pub fn message_ja(&self) -> String {
        match self {
            Refused::HasIdentity { serial } => {
                format!("機器 {serial} には SMFv2 の識別情報がすでにあります")
            }
            Refused::DistributionIdHeld {
                distribution_id,
                holder,
            } => format!(
                "ディストリビューションID {distribution_id} はすでに機器 {holder} のものです"
            ),
            Refused::ShownBefore { serial } => {
                format!("機器 {serial} の SMFv2 のキーは表示済みです（キーは一度だけ表示されます）")
            }
        }
    }
}

/// The unit holding `distribution_id`, if any.
pub async fn holder(conn: &mut AnyConnection, distribution_id: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT serial FROM smfv2_identities WHERE distribution_id = $1")
            .bind(distribution_id.to_owned())
            .fetch_optional(conn)
            .await?,
    )
}

/// Gives an inventory unit its SMFv2 identity; the keys are then shown once by [`reveal`].
///
/// # Errors
/// [`StorageError::NotFound`] for a serial not in the inventory; [`Refused`] when it has an
/// identity already or another unit holds the Distribution ID.
pub async fn create(
    store: &Store,
    key: &SecretKey,
    serial: &str,
    identity: &Identity,
    journal: JournalEntry,
) -> Result<std::result::Result<(), Refused>> {
    let mut tx = store.write().await?;
    tx.lock("inventory").await?;
    let known: Option<String> =
        sqlx::query_scalar("SELECT serial FROM device_inventory WHERE serial = $1")
            .bind(serial.to_owned())
            .fetch_optional(tx.conn())
            .await?;
    if known.is_none() {
        return Err(StorageError::NotFound);
    }
    if summary(tx.conn(), serial).await?.is_some() {
        return Ok(Err(Refused::HasIdentity {
            serial: serial.to_owned(),
        }));
    }
    if let Some(holder) = holder(tx.conn(), &identity.distribution_id).await? {
        return Ok(Err(Refused::DistributionIdHeld {
            distribution_id: identity.distribution_id.clone(),
            holder,
        }));
    }
    insert(tx.conn(), key, serial, identity).await?;
    tx.commit(journal.subject(serial).outcome(
        serde_json::json!({ "serial": serial, "distribution_id": identity.distribution_id }),
    ))
    .await?;
    Ok(Ok(()))
}

type Row = (String, String, String, String, String);

fn open(key: &SecretKey, (serial, distribution_id, ls, rs, hb): Row) -> Result<(String, Identity)> {
    let text = |role: &str, sealed: &str| {
        String::from_utf8(key.open(&context(&serial, role), sealed)?)
            .map_err(|_| StorageError::Corrupt(format!("smfv2 {role} key of {serial}: not UTF-8")))
    };
    let identity = Identity {
        ls_key: text("ls", &ls)?,
        rs_key: text("rs", &rs)?,
        heartbeat_passphrase: text("hb", &hb)?,
        distribution_id,
    };
    Ok((serial, identity))
}

const COLUMNS: &str = "serial, distribution_id, ls_key, rs_key, heartbeat_passphrase";

/// The unit calling home as `distribution_id`, with its identity opened.
///
/// # Errors
/// The database's; [`StorageError::Corrupt`] when a key does not open.
pub async fn by_distribution_id(
    conn: &mut AnyConnection,
    key: &SecretKey,
    distribution_id: &str,
) -> Result<Option<(String, Identity)>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM smfv2_identities WHERE distribution_id = $1"
    )))
    .bind(distribution_id.to_owned())
    .fetch_optional(conn)
    .await?;
    row.map(|r| open(key, r)).transpose()
}

/// What operators see of a unit's identity after the keys were shown: no secret.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Summary {
    pub serial: String,
    pub distribution_id: String,
    pub created_at: i64,
    pub revealed_at: Option<i64>,
}

/// The identity of `serial`, without its secrets.
///
/// # Errors
/// The database's.
pub async fn summary(conn: &mut AnyConnection, serial: &str) -> Result<Option<Summary>> {
    Ok(sqlx::query_as(
        "SELECT serial, distribution_id, created_at, revealed_at FROM smfv2_identities \
         WHERE serial = $1",
    )
    .bind(serial.to_owned())
    .fetch_optional(conn)
    .await?)
}

/// Opens the keys of `serial` for an operator, once: they are marked shown in the same
/// transaction, and later calls are refused, so the secrets leave mpc a single time.
///
/// # Errors
/// [`StorageError::NotFound`] without an identity; [`Refused::ShownBefore`] when shown before.
pub async fn reveal(
    store: &Store,
    key: &SecretKey,
    serial: &str,
    journal: JournalEntry,
) -> Result<std::result::Result<Identity, Refused>> {
    let mut tx = store.write().await?;
    tx.lock("inventory").await?;
    let row: Option<(String, String, String, String, String, Option<i64>)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, revealed_at FROM smfv2_identities WHERE serial = $1"
        )))
        .bind(serial.to_owned())
        .fetch_optional(tx.conn())
        .await?;
    let Some((s, d, ls, rs, hb, revealed_at)) = row else {
        return Err(StorageError::NotFound);
    };
    if revealed_at.is_some() {
        return Ok(Err(Refused::ShownBefore {
            serial: serial.to_owned(),
        }));
    }
    let (_, identity) = open(key, (s, d, ls, rs, hb))?;
    sqlx::query("UPDATE smfv2_identities SET revealed_at = $1 WHERE serial = $2")
        .bind(now_micros())
        .bind(serial.to_owned())
        .execute(tx.conn())
        .await?;
    tx.commit(journal.subject(serial)).await?;
    Ok(Ok(identity))
}

/// One thing the SMFv2 listener told a unit.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Event {
    pub at: i64,
    /// `ls.accepted`, `rs.accepted`, `rs.refused`, …
    pub event: String,
    /// The rule that withheld the configuration, for a refusal.
    pub rule: Option<String>,
    pub detail: String,
}

/// Records an event of `serial`.
///
/// The listener records a unit's events when they change, not on every retry, so this is one
/// insert now and then; it commits on its own (no journal row: nothing the books depend on).
///
/// # Errors
/// The database's.
pub async fn record_event(
    store: &Store,
    serial: &str,
    event: &str,
    rule: Option<&str>,
    detail: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO smfv2_events (id, serial, at, event, rule, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(serial.to_owned())
    .bind(now_micros())
    .bind(event.to_owned())
    .bind(rule.map(str::to_owned))
    .bind(detail.to_owned())
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Notes the ETag of the configuration the RS served `serial`, for its next push tunnel to be
/// compared with (on this node after a restart, or on another node).
///
/// # Errors
/// The database's.
pub async fn record_served(store: &Store, serial: &str, etag: &str) -> Result<()> {
    sqlx::query(
        "UPDATE smfv2_identities SET served_etag = $1 WHERE serial = $2 \
         AND (served_etag IS NULL OR served_etag <> $1)",
    )
    .bind(etag.to_owned())
    .bind(serial.to_owned())
    .execute(store.pool())
    .await?;
    Ok(())
}

/// The ETag of the configuration the RS last served `serial`, if any.
///
/// # Errors
/// The database's.
pub async fn served(store: &Store, serial: &str) -> Result<Option<String>> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT served_etag FROM smfv2_identities WHERE serial = $1")
            .bind(serial.to_owned())
            .fetch_optional(store.pool())
            .await?;
    Ok(row.and_then(|(etag,)| etag))
}

/// The events of `serial`, oldest first.
///
/// # Errors
/// The database's.
pub async fn events(conn: &mut AnyConnection, serial: &str) -> Result<Vec<Event>> {
    Ok(sqlx::query_as(
        "SELECT at, event, rule, detail FROM smfv2_events WHERE serial = $1 ORDER BY at, id",
    )
    .bind(serial.to_owned())
    .fetch_all(conn)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISTID: &str = "0001-0000-0000-0001-0000-0000-0000-0001";

    #[test]
    fn columns_give_an_identity_generating_what_is_left_empty() {
        assert_eq!(Identity::from_columns(&["", "", "", ""]), Ok(None));
        let given = Identity::from_columns(&[DISTID, "ls-key-0001", "", ""])
            .unwrap()
            .unwrap();
        assert_eq!(given.distribution_id, DISTID);
        assert_eq!(given.ls_key, "ls-key-0001");
        assert_eq!(given.rs_key.len(), 32);
        assert_ne!(given.rs_key, given.heartbeat_passphrase);
        for bad in [
            ["0001-0000-0000-0001-0000-0000-0000-000a", "", "", ""],
            ["", "ls-key-0001", "", ""],
            [DISTID, "short", "", ""],
            [DISTID, "", &"k".repeat(65), ""],
            [DISTID, "", "", "with space"],
        ] {
            assert!(Identity::from_columns(&bad).is_err(), "{bad:?}");
        }
        assert!(Identity::from_columns(&[DISTID]).is_err());
    }

    #[test]
    fn the_debug_form_shows_no_secret() {
        let identity = Identity::generate(DISTID);
        let shown = format!("{identity:?}");
        assert!(shown.contains(DISTID));
        assert!(!shown.contains(&identity.ls_key));
    }
}
