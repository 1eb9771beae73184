//! Persisting effects: the full current state of every entity an effect touched, and the charges.

use std::collections::BTreeSet;

use mpc_domain::book::{
    Book, ChargeEvent, Contract, ContractOption, Device, Effect, Ending, PacketShareGroup,
};
use sqlx::AnyConnection;

use super::{date, from_wire, text, wire};
use crate::sql::Sql;
use crate::{Result, WriteTx};

/// Writes what `effects` changed in `book` (the book after the effects).
pub async fn persist(
    tx: &mut WriteTx,
    contractor_id: &str,
    book: &Book,
    effects: &[Effect],
) -> Result<()> {
    let mut contracts = BTreeSet::new();
    let mut options = BTreeSet::new();
    let mut groups = BTreeSet::new();
    let mut devices = BTreeSet::new();
    for e in effects {
        match e {
            Effect::ContractCreated(c) => {
                contracts.insert(c.id.clone());
            }
            Effect::BillingStartSet { contract_id, .. }
            | Effect::ItemChanged { contract_id, .. }
            | Effect::ContractEnds { contract_id, .. } => {
                contracts.insert(contract_id.clone());
            }
            Effect::OptionCreated(o) => {
                options.insert(o.id.clone());
            }
            Effect::UsageTypeChanged { option_id, .. }
            | Effect::NetworkTypeChanged { option_id, .. }
            | Effect::OptionEnds { option_id, .. } => {
                options.insert(option_id.clone());
            }
            Effect::GroupCreated(g) => {
                groups.insert(g.id.clone());
            }
            Effect::PackChanged { group_id, .. }
            | Effect::MemberJoined { group_id, .. }
            | Effect::MemberLeft { group_id, .. }
            | Effect::GroupEnds { group_id, .. } => {
                groups.insert(group_id.clone());
            }
            Effect::DeviceAssigned { serial, .. }
            | Effect::DeviceReleased { serial, .. }
            | Effect::DeviceReturned { serial, .. }
            | Effect::DeviceLost { serial, .. }
            | Effect::DeviceFound { serial, .. }
            | Effect::NotificationWithdrawn { serial, .. } => {
                devices.insert(serial.clone());
            }
            Effect::Charge(charge) => insert_charge(tx, contractor_id, charge).await?,
        }
    }
    for id in contracts {
        if let Some(c) = book.contract(&id) {
            save_contract(tx, c).await?;
        }
    }
    // Options before groups: memberships reference options.
    for id in options {
        if let Some(o) = book.option(&id) {
            save_option(tx, contractor_id, o).await?;
        }
    }
    for id in groups {
        if let Some(g) = book.group(&id) {
            save_group(tx, g).await?;
        }
    }
    for serial in devices {
        if let Some(d) = book.device(&serial) {
            save_device(tx, contractor_id, d).await?;
        }
    }
    sqlx::query(
        "INSERT INTO book_changes (contractor_id, changed_at) VALUES ($1, $2) \
         ON CONFLICT (contractor_id) DO UPDATE SET changed_at = excluded.changed_at",
    )
    .bind(contractor_id.to_owned())
    .bind(crate::now_micros())
    .execute(tx.conn())
    .await?;
    Ok(())
}

fn end_columns(
    e: Option<&Ending>,
) -> (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
) {
    match e {
        Some(e) => (
            Some(e.on.to_string()),
            Some(wire(&e.reason)),
            text(e.notice_arrived_on),
            text(e.requested_on),
            i64::from(e.exempt_from_early_termination),
        ),
        None => (None, None, None, None, 0),
    }
}

/// Writes a contract's row. A new contract carries the number [`super::numbers::number_created`]
/// gave it (one is taken here for a caller that did not); its number and label never change
/// here (the label changes through [`super::numbers::set_label`] alone).
async fn save_contract(tx: &mut WriteTx, c: &Contract) -> Result<()> {
    let (end_on, reason, arrived, requested, exempt) = end_columns(c.ending.as_ref());
    let number = match c.number {
        Some(n) => n,
        None => super::numbers::next_number(tx).await?,
    };
    let number = i64::try_from(number.get())
        .map_err(|_| crate::StorageError::Corrupt(format!("contract number {number}")))?;
    sqlx::query(
        "INSERT INTO contracts (id, contractor_id, kind, device_type, management_id, applied_on, \
         accepted_on, billing_start, end_on, end_reason, notice_arrived_on, requested_end_on, end_exempt, \
         number, label) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (id) DO UPDATE SET billing_start = excluded.billing_start, end_on = excluded.end_on, \
         end_reason = excluded.end_reason, notice_arrived_on = excluded.notice_arrived_on, \
         requested_end_on = excluded.requested_end_on, end_exempt = excluded.end_exempt",
    )
    .bind(c.id.clone())
    .bind(c.contractor_id.clone())
    .bind(wire(&c.kind))
    .bind(c.device_type.map(|d| wire(&d)))
    .bind(c.management_id.clone())
    .bind(c.applied_on.to_string())
    .bind(c.accepted_on.to_string())
    .bind(text(c.billing_start))
    .bind(end_on)
    .bind(reason)
    .bind(arrived)
    .bind(requested)
    .bind(exempt)
    .bind(number)
    .bind(c.label.clone())
    .execute(tx.conn())
    .await?;
    sqlx::query("DELETE FROM contract_items WHERE contract_id = $1")
        .bind(c.id.clone())
        .execute(tx.conn())
        .await?;
    for (from, item) in c.items.entries() {
        sqlx::query(
            "INSERT INTO contract_items (contract_id, effective_from, item) VALUES ($1, $2, $3)",
        )
        .bind(c.id.clone())
        .bind(from.to_string())
        .bind(wire(item))
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

async fn save_option(tx: &mut WriteTx, contractor_id: &str, o: &ContractOption) -> Result<()> {
    let (end_on, reason, arrived, requested, exempt) = end_columns(o.ending.as_ref());
    sqlx::query(
        "INSERT INTO options (id, contract_id, contractor_id, kind, applied_on, accepted_on, install_address, \
         end_on, end_reason, notice_arrived_on, requested_end_on, end_exempt) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (id) DO UPDATE SET end_on = excluded.end_on, end_reason = excluded.end_reason, \
         notice_arrived_on = excluded.notice_arrived_on, requested_end_on = excluded.requested_end_on, \
         end_exempt = excluded.end_exempt",
    )
    .bind(o.id.clone())
    .bind(o.contract_id.clone())
    .bind(contractor_id.to_owned())
    .bind(wire(&o.kind))
    .bind(o.applied_on.to_string())
    .bind(o.accepted_on.to_string())
    .bind(o.install_address.clone())
    .bind(end_on)
    .bind(reason)
    .bind(arrived)
    .bind(requested)
    .bind(exempt)
    .execute(tx.conn())
    .await?;
    for (table, column, entries) in [
        (
            "option_usage_types",
            "usage_type",
            o.usage_types
                .entries()
                .iter()
                .map(|(d, v)| (*d, wire(v)))
                .collect::<Vec<_>>(),
        ),
        (
            "option_network_types",
            "network_type",
            o.network_types
                .entries()
                .iter()
                .map(|(d, v)| (*d, wire(v)))
                .collect(),
        ),
    ] {
        let mut q = Sql::new("DELETE FROM ");
        q.push(table).push(" WHERE option_id = ").bind(o.id.clone());
        q.execute(tx.conn()).await?;
        for (from, value) in entries {
            let mut q = Sql::new("INSERT INTO ");
            q.push(table)
                .push(" (option_id, effective_from, ")
                .push(column)
                .push(") VALUES (");
            q.bind(o.id.clone())
                .push(", ")
                .bind(from.to_string())
                .push(", ")
                .bind(value)
                .push(")");
            q.execute(tx.conn()).await?;
        }
    }
    Ok(())
}

async fn save_group(tx: &mut WriteTx, g: &PacketShareGroup) -> Result<()> {
    let (end_on, reason, arrived, requested, exempt) = end_columns(g.ending.as_ref());
    sqlx::query(
        "INSERT INTO packet_share_groups (id, contractor_id, applied_on, accepted_on, end_on, end_reason, \
         notice_arrived_on, requested_end_on, end_exempt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO UPDATE SET end_on = excluded.end_on, end_reason = excluded.end_reason, \
         notice_arrived_on = excluded.notice_arrived_on, requested_end_on = excluded.requested_end_on, \
         end_exempt = excluded.end_exempt",
    )
    .bind(g.id.clone())
    .bind(g.contractor_id.clone())
    .bind(g.applied_on.to_string())
    .bind(g.accepted_on.to_string())
    .bind(end_on)
    .bind(reason)
    .bind(arrived)
    .bind(requested)
    .bind(exempt)
    .execute(tx.conn())
    .await?;
    for table in ["group_packs", "group_members"] {
        let mut q = Sql::new("DELETE FROM ");
        q.push(table).push(" WHERE group_id = ").bind(g.id.clone());
        q.execute(tx.conn()).await?;
    }
    for (from, gb) in g.packs.entries() {
        sqlx::query(
            "INSERT INTO group_packs (group_id, effective_from, pack_gb) VALUES ($1, $2, $3)",
        )
        .bind(g.id.clone())
        .bind(from.to_string())
        .bind(i64::from(*gb))
        .execute(tx.conn())
        .await?;
    }
    for m in &g.members {
        sqlx::query("INSERT INTO group_members (group_id, option_id, from_on, until_on) VALUES ($1, $2, $3, $4)")
            .bind(g.id.clone())
            .bind(m.option_id.clone())
            .bind(m.from.to_string())
            .bind(text(m.until))
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

async fn save_device(tx: &mut WriteTx, contractor_id: &str, d: &Device) -> Result<()> {
    sqlx::query(
        "INSERT INTO devices (serial, device_type, contractor_id, return_due, returned_on, lost_on, found_on) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (serial) DO UPDATE SET \
         contractor_id = excluded.contractor_id, return_due = excluded.return_due, \
         returned_on = excluded.returned_on, lost_on = excluded.lost_on, found_on = excluded.found_on",
    )
    .bind(d.serial.clone())
    .bind(wire(&d.device_type))
    .bind(contractor_id.to_owned())
    .bind(text(d.return_due))
    .bind(text(d.returned_on))
    .bind(text(d.lost_on))
    .bind(text(d.found_on))
    .execute(tx.conn())
    .await?;
    sqlx::query("DELETE FROM device_assignments WHERE serial = $1")
        .bind(d.serial.clone())
        .execute(tx.conn())
        .await?;
    for a in &d.assignments {
        sqlx::query("INSERT INTO device_assignments (serial, contract_id, from_on, until_on) VALUES ($1, $2, $3, $4)")
            .bind(d.serial.clone())
            .bind(a.contract_id.clone())
            .bind(a.from.to_string())
            .bind(text(a.until))
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

async fn insert_charge(tx: &mut WriteTx, contractor_id: &str, c: &ChargeEvent) -> Result<()> {
    sqlx::query(
        "INSERT INTO charge_events (id, contract_id, contractor_id, kind, occurred_on, device_type, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(c.id.clone())
    .bind(c.contract_id.clone())
    .bind(contractor_id.to_owned())
    .bind(wire(&c.kind))
    .bind(c.occurred_on.to_string())
    .bind(c.device_type.map(|d| wire(&d)))
    .bind(c.note.clone())
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ChargeRecord {
    id: String,
    contract_id: String,
    kind: String,
    occurred_on: String,
    device_type: Option<String>,
    note: Option<String>,
}

/// The charge events of one contract, oldest first.
pub async fn charges_of(conn: &mut AnyConnection, contract_id: &str) -> Result<Vec<ChargeEvent>> {
    let mut q = Sql::new(
        "SELECT id, contract_id, kind, occurred_on, device_type, note FROM charge_events WHERE contract_id = ",
    );
    q.bind(contract_id.to_owned())
        .push(" ORDER BY occurred_on, id");
    let rows: Vec<ChargeRecord> = q.query_as()?.fetch_all(conn).await?;
    rows.into_iter()
        .map(|r| {
            Ok(ChargeEvent {
                kind: from_wire(&r.kind)?,
                occurred_on: date(&r.occurred_on)?,
                device_type: r.device_type.as_deref().map(from_wire).transpose()?,
                id: r.id,
                contract_id: r.contract_id,
                note: r.note,
            })
        })
        .collect()
}
