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
pub fn parse_inventory(text: &str) -> Result<Vec<InventoryRecord>, Vec<LineError>> {
    let mut rows: Vec<InventoryRecord> = Vec::new();
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
        rows.push(InventoryRecord {
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
}
