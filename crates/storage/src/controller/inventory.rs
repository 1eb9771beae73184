//! The device inventory: imported serials, models and sealed factory secrets.

use mpc_domain::catalog::DeviceType;
use sqlx::AnyConnection;

use super::key::SecretKey;
use crate::{JournalEntry, Result, StorageError, Store, now_micros};

/// One device of the inventory, as imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryRecord {
    /// Its line in the file, from 1.
    pub line: usize,
    pub serial: String,
    pub model: DeviceType,
    pub factory_secret: String,
    /// Its SMFv2 identity, when the line gives one (the four optional columns).
    pub smfv2: Option<crate::smfv2::Identity>,
}

/// A bad line of an inventory file; `line` counts from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

/// The header line of an inventory CSV without SMFv2 identities.
pub const INVENTORY_HEADER: &str = "serial,model,factory_secret";

/// The header line of an inventory CSV with the optional SMFv2 columns.
pub const INVENTORY_HEADER_SMFV2: &str =
    "serial,model,factory_secret,distribution_id,ls_key,rs_key,heartbeat_passphrase";

/// Reads an inventory CSV: `serial,model,factory_secret` per line, optionally followed by the
/// four SMFv2 columns `distribution_id,ls_key,rs_key,heartbeat_passphrase`; an optional header
/// line of exactly those names, blank lines ignored.
///
/// A serial is 1–64 characters (as R7.1 takes them) without spaces or commas; the model is a
/// device type's name (`SEIL/X4`, `SA-W2L`, `SEIL CA10`); the factory secret 16–256
/// printable ASCII characters, since it keys the HMAC a device signs with. The SMFv2 columns
/// are all empty (no identity) or give a Distribution ID, each key left empty being generated
/// ([`crate::smfv2::Identity::from_columns`]); a Distribution ID names one unit.
///
/// # Errors
/// Every bad line, so the operator fixes the file in one pass.
pub fn parse_inventory(text: &str) -> Result<Vec<InventoryRecord>, Vec<LineError>> {
    let mut rows: Vec<InventoryRecord> = Vec::new();
    let mut errors = Vec::new();
    // A set, not a scan of `rows`: a fleet's file has 100,000 lines.
    let mut serials = std::collections::HashSet::new();
    let mut distribution_ids = std::collections::HashSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim();
        if raw.is_empty()
            || (line == 1
                && (raw.eq_ignore_ascii_case(INVENTORY_HEADER)
                    || raw.eq_ignore_ascii_case(INVENTORY_HEADER_SMFV2)))
        {
            continue;
        }
        let mut bad = |message: String| errors.push(LineError { line, message });
        let fields: Vec<&str> = raw.split(',').map(str::trim).collect();
        let (serial, model, secret, smfv2) = match fields[..] {
            [serial, model, secret] => (serial, model, secret, &[][..]),
            [serial, model, secret, ref rest @ ..] if rest.len() == 4 => {
                (serial, model, secret, rest)
            }
            _ => {
                bad(format!(
                    "expected 3 fields serial,model,factory_secret (or 7 with \
                     distribution_id,ls_key,rs_key,heartbeat_passphrase), found {}",
                    fields.len()
                ));
                continue;
            }
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
        let identity = if smfv2.is_empty() {
            None
        } else {
            match crate::smfv2::Identity::from_columns(smfv2) {
                Ok(identity) => identity,
                Err(message) => {
                    bad(message);
                    continue;
                }
            }
        };
        if !serials.insert(serial) {
            bad(format!("serial {serial} appears twice"));
            continue;
        }
        if let Some(id) = &identity
            && !distribution_ids.insert(id.distribution_id.clone())
        {
            bad(format!(
                "distribution ID {} appears twice",
                id.distribution_id
            ));
            continue;
        }
        rows.push(InventoryRecord {
            line,
            serial: serial.to_owned(),
            model,
            factory_secret: secret.to_owned(),
            smfv2: identity,
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
    rows: &[InventoryRecord],
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
        if let Some(id) = &r.smfv2 {
            let holder: Option<String> = sqlx::query_scalar(
                "SELECT serial FROM smfv2_identities WHERE distribution_id = $1",
            )
            .bind(id.distribution_id.clone())
            .fetch_optional(tx.conn())
            .await?;
            if let Some(holder) = holder {
                known.push(LineError {
                    line: r.line,
                    message: format!(
                        "distribution ID {} is the unit {holder}'s already",
                        id.distribution_id
                    ),
                });
            }
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
        if let Some(identity) = &r.smfv2 {
            crate::smfv2::insert(tx.conn(), key, &r.serial, identity).await?;
        }
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

/// Units of the inventory of `model` the operator has at hand on `today`, by serial, at most
/// `limit`: those that never served a contract, and those back from one (returned, no
/// assignment open or to come) and neither lost nor found, which may never serve again
/// (R12.3). What may replace a failed or lost device (R11.1, R12.1); `serial` narrows the
/// answer to that unit (whatever its letter case, as the inventory tells serials apart), to
/// tell whether it is one of them.
pub async fn spare_devices(
    conn: &mut AnyConnection,
    model: DeviceType,
    serial: Option<&str>,
    today: jiff::civil::Date,
    limit: i64,
) -> Result<Vec<String>> {
    let today = today.to_string();
    let mut q = crate::sql::Sql::new(
        "SELECT i.serial FROM device_inventory i LEFT JOIN devices d ON d.serial = i.serial \
         WHERE i.model = ",
    );
    q.bind(model.as_str().to_owned());
    q.push(
        " AND (d.serial IS NULL OR (d.lost_on IS NULL AND d.found_on IS NULL AND d.returned_on <= ",
    )
    .bind(today.clone())
    .push(
        " AND NOT EXISTS (SELECT 1 FROM device_assignments a WHERE a.serial = d.serial \
             AND (a.until_on IS NULL OR a.until_on >= ",
    )
    .bind(today)
    .push("))))");
    if let Some(s) = serial {
        q.push(" AND LOWER(i.serial) = LOWER(")
            .bind(s.to_owned())
            .push(")");
    }
    q.push(" ORDER BY i.serial LIMIT ").bind(limit);
    let rows: Vec<(String,)> = q.query_as()?.fetch_all(conn).await?;
    Ok(rows.into_iter().map(|(s,)| s).collect())
}

// ---------------------------------------------------------------------------------------------
// Device requests seen by any node

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn inventory_csv_takes_optional_smfv2_identities() {
        let id = "0001-0000-0000-0001-0000-0000-0000-0001";
        let ok = format!(
            "{INVENTORY_HEADER_SMFV2}\nX4-1,SEIL/X4,0123456789abcdef,{id},ls-key-0001,,\n\
             X4-2,SEIL/X4,0123456789abcdef,,,,\nX4-3,SEIL/X4,0123456789abcdef\n"
        );
        let rows = parse_inventory(&ok).unwrap();
        let identity = rows[0].smfv2.as_ref().unwrap();
        assert_eq!(identity.distribution_id, id);
        assert_eq!(identity.ls_key, "ls-key-0001");
        assert_eq!(identity.rs_key.len(), 32, "generated");
        assert!(rows[1].smfv2.is_none() && rows[2].smfv2.is_none());
        let bad = format!(
            "X4-1,SEIL/X4,0123456789abcdef,{id},,,\nX4-2,SEIL/X4,0123456789abcdef,{id},,,\n\
             X4-3,SEIL/X4,0123456789abcdef,{},,,\nX4-4,SEIL/X4,0123456789abcdef,,ls-key-0001,,\n\
             X4-5,SEIL/X4,0123456789abcdef,{id},,\n",
            id.to_lowercase()
        );
        let lines: Vec<usize> = parse_inventory(&bad)
            .unwrap_err()
            .into_iter()
            .map(|e| e.line)
            .collect();
        assert_eq!(lines, [2, 3, 4, 5]);
    }
}
