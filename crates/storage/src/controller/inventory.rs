//! The device inventory: imported serials, models and sealed factory secrets.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

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
    pub fault: LineFault,
}

/// What is wrong with a line of an inventory file, told in English or Japanese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineFault {
    /// Neither 3 nor 7 comma-separated fields.
    FieldCount { found: usize },
    /// A serial that is empty, longer than 64 characters or holds a space.
    SerialShape { serial: String },
    /// A model that is no device type of R3.1.
    UnknownModel { model: String },
    /// A factory secret outside 16–256 printable ASCII characters.
    SecretShape,
    /// A fault of the four SMFv2 columns.
    Smfv2(crate::smfv2::ColumnFault),
    /// The serial of an earlier line, as written there.
    SerialTwice { serial: String, first_line: usize },
    /// The serial of an earlier line in another letter case: one device (R7.1).
    SerialCaseTwin { serial: String, first_line: usize },
    /// The Distribution ID of an earlier line.
    DistributionIdTwice {
        distribution_id: String,
        first_line: usize,
    },
    /// A serial the inventory holds already, as `known` (which may differ in letter case).
    SerialKnown { serial: String, known: String },
    /// A Distribution ID another unit of the inventory holds.
    DistributionIdHeld {
        distribution_id: String,
        holder: String,
    },
}

impl LineFault {
    pub fn message_en(&self) -> String {
        match self {
            LineFault::FieldCount { found } => format!(
                "expected 3 fields serial,model,factory_secret (or 7 with \
                 distribution_id,ls_key,rs_key,heartbeat_passphrase), found {found}"
            ),
            LineFault::SerialShape { serial } => {
                format!("serial {serial:?} must be 1 to 64 characters without spaces")
            }
            LineFault::UnknownModel { model } => {
                format!("model {model:?} is not SEIL/X4, SA-W2L or SEIL CA10")
            }
            LineFault::SecretShape => {
                "the factory secret must be 16 to 256 printable ASCII characters".into()
            }
            LineFault::Smfv2(fault) => fault.message_en(),
            LineFault::SerialTwice { serial, first_line } => {
                format!("serial {serial} appears twice (first on line {first_line})")
            }
            LineFault::SerialCaseTwin { serial, first_line } => format!(
                "serial {serial} is the serial of line {first_line} in another letter case (R7.1)"
            ),
            LineFault::DistributionIdTwice {
                distribution_id,
                first_line,
            } => format!(
                "distribution ID {distribution_id} appears twice (first on line {first_line})"
            ),
            LineFault::SerialKnown { serial, known } if serial == known => {
                format!("serial {serial} is already in the inventory")
            }
            LineFault::SerialKnown { serial, known } => format!(
                "serial {serial} is already in the inventory as {known} (R7.1: letter case does not matter)"
            ),
            LineFault::DistributionIdHeld {
                distribution_id,
                holder,
            } => format!("distribution ID {distribution_id} is the unit {holder}'s already"),
        }
    }

    pub fn message_ja(&self) -> String {
        match self {
            LineFault::FieldCount { found } => format!(
                "項目数が正しくありません。serial,model,factory_secret の3項目\
                 （SMFv2 の識別情報を含める場合は distribution_id,ls_key,rs_key,heartbeat_passphrase \
                 を加えた7項目）が必要です（{found}項目あります）"
            ),
            LineFault::SerialShape { serial } => {
                format!("シリアルナンバー「{serial}」は、空白を含まない1〜64文字で指定してください")
            }
            LineFault::UnknownModel { model } => format!(
                "機器種別「{model}」はありません。SEIL/X4、SA-W2L、SEIL CA10 のいずれかを指定してください"
            ),
            LineFault::SecretShape => {
                "ファクトリーシークレットは、半角英数記号16〜256文字で指定してください".into()
            }
            LineFault::Smfv2(fault) => fault.message_ja(),
            LineFault::SerialTwice { serial, first_line } => {
                format!("シリアルナンバー {serial} が重複しています（{first_line}行目と同じです）")
            }
            LineFault::SerialCaseTwin { serial, first_line } => format!(
                "シリアルナンバー {serial} は、{first_line}行目と大文字・小文字が違うだけの同じシリアルナンバーです（R7.1）"
            ),
            LineFault::DistributionIdTwice {
                distribution_id,
                first_line,
            } => format!(
                "ディストリビューションID {distribution_id} が重複しています（{first_line}行目と同じです）"
            ),
            LineFault::SerialKnown { serial, known } if serial == known => {
                format!("シリアルナンバー {serial} はすでに在庫にあります")
            }
            LineFault::SerialKnown { serial, known } => format!(
                "シリアルナンバー {serial} は {known} としてすでに在庫にあります（R7.1: 大文字・小文字は区別しません）"
            ),
            LineFault::DistributionIdHeld {
                distribution_id,
                holder,
            } => format!(
                "ディストリビューションID {distribution_id} はすでに機器 {holder} のものです"
            ),
        }
    }
}

impl std::fmt::Display for LineFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message_en())
    }
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
    // Maps, not a scan of `rows`: a fleet's file has 100,000 lines. Serials are keyed without
    // regard to letter case (R7.1), with the line that gave each first.
    let mut serials: HashMap<String, (usize, &str)> = HashMap::new();
    let mut distribution_ids: HashMap<String, usize> = HashMap::new();
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
        let mut bad = |fault: LineFault| errors.push(LineError { line, fault });
        let fields: Vec<&str> = raw.split(',').map(str::trim).collect();
        let (serial, model, secret, smfv2) = match fields[..] {
            [serial, model, secret] => (serial, model, secret, &[][..]),
            [serial, model, secret, ref rest @ ..] if rest.len() == 4 => {
                (serial, model, secret, rest)
            }
            _ => {
                bad(LineFault::FieldCount {
                    found: fields.len(),
                });
                continue;
            }
        };
        if serial.is_empty() || serial.len() > 64 || serial.contains(char::is_whitespace) {
            bad(LineFault::SerialShape {
                serial: serial.to_owned(),
            });
            continue;
        }
        let Ok(model) = model.parse::<DeviceType>() else {
            bad(LineFault::UnknownModel {
                model: model.to_owned(),
            });
            continue;
        };
        if !(16..=256).contains(&secret.len()) || !secret.bytes().all(|b| b.is_ascii_graphic()) {
            bad(LineFault::SecretShape);
            continue;
        }
        let identity = if smfv2.is_empty() {
            None
        } else {
            match crate::smfv2::Identity::from_columns(smfv2) {
                Ok(identity) => identity,
                Err(fault) => {
                    bad(LineFault::Smfv2(fault));
                    continue;
                }
            }
        };
        match serials.entry(serial.to_lowercase()) {
            Entry::Occupied(first) => {
                let (first_line, as_written) = *first.get();
                let serial = serial.to_owned();
                bad(if as_written == serial {
                    LineFault::SerialTwice { serial, first_line }
                } else {
                    LineFault::SerialCaseTwin { serial, first_line }
                });
                continue;
            }
            Entry::Vacant(slot) => {
                slot.insert((line, serial));
            }
        }
        if let Some(id) = &identity {
            match distribution_ids.entry(id.distribution_id.clone()) {
                Entry::Occupied(first) => {
                    bad(LineFault::DistributionIdTwice {
                        distribution_id: id.distribution_id.clone(),
                        first_line: *first.get(),
                    });
                    continue;
                }
                Entry::Vacant(slot) => {
                    slot.insert(line);
                }
            }
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
        // The inventory keys serials without regard to letter case (R7.1).
        let exists: Option<String> = sqlx::query_scalar(
            "SELECT serial FROM device_inventory WHERE LOWER(serial) = LOWER($1)",
        )
        .bind(r.serial.clone())
        .fetch_optional(tx.conn())
        .await?;
        if let Some(known_as) = exists {
            known.push(LineError {
                line: r.line,
                fault: LineFault::SerialKnown {
                    serial: r.serial.clone(),
                    known: known_as,
                },
            });
        }
        if let Some(id) = &r.smfv2
            && let Some(holder) = crate::smfv2::holder(tx.conn(), &id.distribution_id).await?
        {
            known.push(LineError {
                line: r.line,
                fault: LineFault::DistributionIdHeld {
                    distribution_id: id.distribution_id.clone(),
                    holder,
                },
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
        let bad = "X4-1,SEIL/X4,0123456789abcdef\nX4-2,SEIL/X9,0123456789abcdef\nX4-3,SEIL/X4,short\nX4-1,SEIL/X4,0123456789abcdef\nonly,two\nx4-1,SEIL/X4,0123456789abcdef\nX4 7,SEIL/X4,0123456789abcdef\n";
        let faults: Vec<(usize, LineFault)> = parse_inventory(bad)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.line, e.fault))
            .collect();
        let serial = |s: &str| s.to_owned();
        assert_eq!(
            faults,
            [
                (
                    2,
                    LineFault::UnknownModel {
                        model: "SEIL/X9".into()
                    }
                ),
                (3, LineFault::SecretShape),
                (
                    4,
                    LineFault::SerialTwice {
                        serial: serial("X4-1"),
                        first_line: 1
                    }
                ),
                (5, LineFault::FieldCount { found: 2 }),
                (
                    6,
                    LineFault::SerialCaseTwin {
                        serial: serial("x4-1"),
                        first_line: 1
                    }
                ),
                (
                    7,
                    LineFault::SerialShape {
                        serial: serial("X4 7")
                    }
                ),
            ]
        );
    }

    /// Whether `text` holds kana or kanji: a Japanese message must, an English one must not.
    fn has_japanese(text: &str) -> bool {
        text.chars().any(|c| {
            ('\u{3040}'..='\u{9fff}').contains(&c) || ('\u{ff00}'..='\u{ffef}').contains(&c)
        })
    }

    #[test]
    fn every_line_fault_reads_in_english_and_in_japanese() {
        use crate::smfv2::{ColumnFault, Secret};
        let faults = [
            LineFault::FieldCount { found: 2 },
            LineFault::SerialShape { serial: "".into() },
            LineFault::UnknownModel {
                model: "SEIL/X9".into(),
            },
            LineFault::SecretShape,
            LineFault::Smfv2(ColumnFault::Count { found: 3 }),
            LineFault::Smfv2(ColumnFault::KeysWithoutId),
            LineFault::Smfv2(ColumnFault::DistributionId {
                given: "0001".into(),
            }),
            LineFault::Smfv2(ColumnFault::Secret(Secret::HeartbeatPassphrase)),
            LineFault::SerialTwice {
                serial: "X4-1".into(),
                first_line: 1,
            },
            LineFault::SerialCaseTwin {
                serial: "x4-1".into(),
                first_line: 1,
            },
            LineFault::DistributionIdTwice {
                distribution_id: "0001-0000-0000-0001-0000-0000-0000-0001".into(),
                first_line: 1,
            },
            LineFault::SerialKnown {
                serial: "X4-1".into(),
                known: "X4-1".into(),
            },
            LineFault::SerialKnown {
                serial: "x4-1".into(),
                known: "X4-1".into(),
            },
            LineFault::DistributionIdHeld {
                distribution_id: "0001-0000-0000-0001-0000-0000-0000-0001".into(),
                holder: "X4-1".into(),
            },
        ];
        for fault in faults {
            let (en, ja) = (fault.message_en(), fault.message_ja());
            assert!(!has_japanese(&en), "{en}");
            assert!(has_japanese(&ja), "{ja}");
            assert_eq!(fault.to_string(), en);
        }
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
             X4-5,SEIL/X4,0123456789abcdef,{id},,\nX4-6,SEIL/X4,0123456789abcdef,{},,,\n",
            id.to_lowercase(),
            "000a-0000-0000-0001-0000-0000-0000-0001",
        );
        let faults: Vec<(usize, LineFault)> = parse_inventory(&bad)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.line, e.fault))
            .collect();
        use crate::smfv2::ColumnFault;
        assert_eq!(
            faults,
            [
                (
                    2,
                    LineFault::DistributionIdTwice {
                        distribution_id: id.into(),
                        first_line: 1
                    }
                ),
                (
                    3,
                    LineFault::DistributionIdTwice {
                        distribution_id: id.into(),
                        first_line: 1
                    }
                ),
                (4, LineFault::Smfv2(ColumnFault::KeysWithoutId)),
                (5, LineFault::FieldCount { found: 6 }),
                (
                    6,
                    LineFault::Smfv2(ColumnFault::DistributionId {
                        given: "000a-0000-0000-0001-0000-0000-0000-0001".into()
                    })
                ),
            ]
        );
    }
}
