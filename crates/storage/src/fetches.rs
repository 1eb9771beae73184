//! The first configuration fetch of each device for each contract.
//!
//! A notified serial that no device has fetched with can be corrected by notifying another
//! one (R7.1); once a device has its contract's configuration, only a failure or loss report
//! replaces it (R11.1, R12). The device path records a fetch once per cached configuration, so
//! the row costs one idempotent insert per device, not one per poll.

use sqlx::AnyConnection;

use crate::{Result, Store, now_micros};

/// Records that `serial` fetched `contract_id`'s configuration, unless it did before.
///
/// # Errors
/// The database's.
pub async fn record(store: &Store, serial: &str, contract_id: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO device_first_fetches (serial, contract_id, fetched_at) VALUES ($1, $2, $3) \
         ON CONFLICT (serial, contract_id) DO NOTHING",
    )
    .bind(serial.to_owned())
    .bind(contract_id.to_owned())
    .bind(now_micros())
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Whether `serial` ever fetched `contract_id`'s configuration.
///
/// # Errors
/// The database's.
pub async fn fetched(conn: &mut AnyConnection, serial: &str, contract_id: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM device_first_fetches WHERE serial = $1 AND contract_id = $2",
    )
    .bind(serial.to_owned())
    .bind(contract_id.to_owned())
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}
