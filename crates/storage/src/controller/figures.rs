//! The figures SMFv2 heartbeats carry (CPU, memory, disk, traffic, radio): the latest of each
//! device and a bounded history.

use sqlx::AnyConnection;

use crate::{Result, Store};

/// How long a device's figures are kept: a week of five-minute heartbeats is 2,016 rows.
pub const FIGURES_KEPT_MICROS: i64 = 7 * 24 * 3600 * 1_000_000;

/// Keeps `figures` (JSON) as `serial`'s at `at` (µs), and forgets its figures older than
/// [`FIGURES_KEPT_MICROS`] before `at`. A second heartbeat in the same microsecond is a replay
/// and changes nothing. Part of [`super::heard`]'s transaction.
pub(super) async fn record_figures(
    conn: &mut AnyConnection,
    serial: &str,
    at: i64,
    figures: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO device_figures (serial, at, figures) VALUES ($1, $2, $3) \
         ON CONFLICT (serial, at) DO NOTHING",
    )
    .bind(serial.to_owned())
    .bind(at)
    .bind(figures.to_owned())
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM device_figures WHERE serial = $1 AND at < $2")
        .bind(serial.to_owned())
        .bind(at - FIGURES_KEPT_MICROS)
        .execute(conn)
        .await?;
    Ok(())
}

/// `serial`'s figures, newest first, at most `limit`: `(at µs, JSON)`.
///
/// # Errors
/// The database's.
pub async fn figures(store: &Store, serial: &str, limit: i64) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT at, figures FROM device_figures WHERE serial = $1 ORDER BY at DESC LIMIT $2",
    )
    .bind(serial.to_owned())
    .bind(limit)
    .fetch_all(store.pool())
    .await?)
}
