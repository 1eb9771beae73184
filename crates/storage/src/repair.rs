//! Repairs of what earlier releases recorded wrong, run after the migrations at every start.
//!
//! Each repair decides through the domain like any change, journals what it changed, and finds
//! nothing to do the second time.

use jiff::civil::Date;
use mpc_domain::custody;

use crate::contracts::requests::{self, EngineError};
use crate::{JournalEntry, Result, Store};

/// Takes out of service the devices whose loss report an earlier release left without effect
/// (R12.3).
///
/// Before a loss report took effect when submitted, the reported device kept its configuration
/// until a replacement shipped, and for good when the operator accepted the report without one.
/// Each pending or accepted loss report whose contract still has a device in service on the
/// report day, and no device lost since, now gets what a report gets today: the device is lost
/// from the day of the report.
///
/// # Errors
/// The database's.
pub(crate) async fn unrecorded_losses(store: &Store) -> Result<usize> {
    let reports: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT contractor_id, payload, submitted_on FROM requests \
         WHERE kind = 'report_loss' AND status IN ('pending', 'accepted') ORDER BY created_at",
    )
    .fetch_all(store.pool())
    .await?;
    let mut repaired = 0;
    for (contractor_id, payload, submitted_on) in reports {
        let contract_id = serde_json::from_str::<serde_json::Value>(&payload)
            .ok()
            .and_then(|p| p.get("contract_id")?.as_str().map(str::to_owned));
        let (Some(contract_id), Ok(reported_on)) = (contract_id, submitted_on.parse::<Date>())
        else {
            continue;
        };
        if !in_service_unlost(store, &contract_id, &submitted_on).await? {
            continue;
        }
        let journal = JournalEntry::new("system", "repair.report_loss").subject(&contract_id);
        match requests::record(store, &contractor_id, journal, |book| {
            custody::report_loss(book, &contract_id, reported_on)
        })
        .await
        {
            Ok(effects) => repaired += usize::from(!effects.is_empty()),
            // The contract has no device that day (R12.1): nothing was ever in service.
            Err(EngineError::Refused(_)) => {}
            Err(EngineError::Storage(e)) => return Err(e),
        }
    }
    if repaired > 0 {
        tracing::warn!(
            repaired,
            "devices of earlier loss reports taken out of service (R12.3)"
        );
    }
    Ok(repaired)
}

/// Whether `contract_id` had a device in service on `on` that is not lost, and no device of it
/// was lost on or after `on` (a loss already recorded, e.g. with a replacement).
async fn in_service_unlost(store: &Store, contract_id: &str, on: &str) -> Result<bool> {
    let (unlost, lost_since): (i64, i64) = sqlx::query_as(
        "SELECT \
           (SELECT COUNT(*) FROM device_assignments a JOIN devices d ON d.serial = a.serial \
            WHERE a.contract_id = $1 AND d.lost_on IS NULL AND a.from_on <= $2 \
              AND (a.until_on IS NULL OR a.until_on >= $2)), \
           (SELECT COUNT(*) FROM device_assignments a JOIN devices d ON d.serial = a.serial \
            WHERE a.contract_id = $1 AND d.lost_on >= $2)",
    )
    .bind(contract_id.to_owned())
    .bind(on.to_owned())
    .fetch_one(store.pool())
    .await?;
    Ok(unlost > 0 && lost_since == 0)
}
