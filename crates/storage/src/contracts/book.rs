//! Loading books, contracts and devices: the rows of a contractor's entities, read into the domain's types.

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
use mpc_domain::book::{
    Assignment, Book, Contract, ContractOption, Device, Ending, Membership, PacketShareGroup,
    Timeline,
};
use mpc_domain::catalog::Item;
use mpc_domain::contract_number::ContractNumber;
use serde::de::DeserializeOwned;
use sqlx::AnyConnection;

use super::{date, from_wire, opt_date};
use crate::sql::Sql;
use crate::{Result, StorageError};

#[derive(sqlx::FromRow)]
struct ContractRecord {
    id: String,
    contractor_id: String,
    kind: String,
    device_type: Option<String>,
    management_id: Option<String>,
    applied_on: String,
    accepted_on: String,
    billing_start: Option<String>,
    end_on: Option<String>,
    end_reason: Option<String>,
    notice_arrived_on: Option<String>,
    requested_end_on: Option<String>,
    end_exempt: i64,
    number: Option<i64>,
    label: String,
}

fn ending(
    on: Option<String>,
    reason: Option<String>,
    arrived: Option<String>,
    requested: Option<String>,
    exempt: i64,
) -> Result<Option<Ending>> {
    let (Some(on), Some(reason)) = (on, reason) else {
        return Ok(None);
    };
    Ok(Some(Ending {
        on: date(&on)?,
        reason: from_wire(&reason)?,
        notice_arrived_on: opt_date(arrived)?,
        requested_on: opt_date(requested)?,
        exempt_from_early_termination: exempt != 0,
    }))
}

#[derive(sqlx::FromRow)]
struct DatedRecord {
    owner: String,
    effective_from: String,
    value: String,
}

#[derive(sqlx::FromRow)]
struct OptionRecord {
    id: String,
    contract_id: String,
    kind: String,
    applied_on: String,
    accepted_on: String,
    install_address: Option<String>,
    end_on: Option<String>,
    end_reason: Option<String>,
    notice_arrived_on: Option<String>,
    requested_end_on: Option<String>,
    end_exempt: i64,
}

#[derive(sqlx::FromRow)]
struct GroupRecord {
    id: String,
    contractor_id: String,
    applied_on: String,
    accepted_on: String,
    end_on: Option<String>,
    end_reason: Option<String>,
    notice_arrived_on: Option<String>,
    requested_end_on: Option<String>,
    end_exempt: i64,
}

#[derive(sqlx::FromRow)]
struct PackRecord {
    group_id: String,
    effective_from: String,
    pack_gb: i64,
}

#[derive(sqlx::FromRow)]
struct MemberRecord {
    group_id: String,
    option_id: String,
    from_on: String,
    until_on: Option<String>,
}

#[derive(sqlx::FromRow)]
struct DeviceRecord {
    serial: String,
    device_type: String,
    return_due: Option<String>,
    returned_on: Option<String>,
    lost_on: Option<String>,
    found_on: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AssignmentRecord {
    contract_id: String,
    from_on: String,
    until_on: Option<String>,
}

/// Loads everything the contract rules need about one contractor.
/// Whose books to load: one contractor, or every contractor whose id falls in a range (billing
/// streams contractors range by range).
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    One(&'a str),
    Range(&'a str, &'a str),
}

impl Scope<'_> {
    /// Appends `column = $n` or `column BETWEEN $n AND $m`.
    pub(crate) fn push(&self, q: &mut Sql, column: &'static str) {
        match self {
            Scope::One(id) => {
                q.push(column).push(" = ").bind((*id).to_owned());
            }
            Scope::Range(from, to) => {
                q.push(column).push(" BETWEEN ").bind((*from).to_owned());
                q.push(" AND ").bind((*to).to_owned());
            }
        }
    }
}

async fn scoped<T>(
    conn: &mut AnyConnection,
    sql: &'static str,
    column: &'static str,
    scope: Scope<'_>,
    tail: &'static str,
) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let mut q = Sql::new(sql);
    q.push(" WHERE ");
    scope.push(&mut q, column);
    q.push(tail);
    Ok(q.query_as()?.fetch_all(conn).await?)
}

type Dated<T> = HashMap<String, Vec<(Date, T)>>;

fn group_dated<T: DeserializeOwned>(rows: Vec<DatedRecord>) -> Result<Dated<T>> {
    let mut out: Dated<T> = HashMap::new();
    for r in rows {
        out.entry(r.owner)
            .or_default()
            .push((date(&r.effective_from)?, from_wire(&r.value)?));
    }
    Ok(out)
}

fn take_timeline<T: Clone>(map: &mut Dated<T>, owner: &str) -> Timeline<T> {
    Timeline::from_entries(map.remove(owner).unwrap_or_default())
}

/// Loads everything the contract rules need about one contractor.
pub async fn load_book(conn: &mut AnyConnection, contractor_id: &str) -> Result<Book> {
    let mut books = load_books(conn, Scope::One(contractor_id), true).await?;
    Ok(books.pop().map(|(_, b)| b).unwrap_or_default())
}

/// Loads the books of every contractor in `scope` with a fixed number of queries, sorted by
/// contractor id; `with_devices` also loads device custody (billing does not need it).
pub async fn load_books(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    with_devices: bool,
) -> Result<Vec<(String, Book)>> {
    let mut books: BTreeMap<String, Book> = BTreeMap::new();
    let contract_rows: Vec<ContractRecord> = scoped(
        conn,
        "SELECT id, contractor_id, kind, device_type, management_id, applied_on, accepted_on, \
         billing_start, end_on, end_reason, notice_arrived_on, requested_end_on, end_exempt, number, label FROM contracts",
        "contractor_id",
        scope,
        " ORDER BY contractor_id, id",
    )
    .await?;
    let mut items = group_dated(
        scoped(
            conn,
            "SELECT ci.contract_id AS owner, ci.effective_from, ci.item AS value FROM contract_items ci \
             JOIN contracts c ON c.id = ci.contract_id",
            "c.contractor_id",
            scope,
            "",
        )
        .await?,
    )?;
    for r in contract_rows {
        let timeline = take_timeline(&mut items, &r.id);
        let c = contract_from_row(r, timeline)?;
        books
            .entry(c.contractor_id.clone())
            .or_default()
            .contracts
            .push(c);
    }

    #[derive(sqlx::FromRow)]
    struct OptionWithHolder {
        contractor_id: String,
        #[sqlx(flatten)]
        row: OptionRecord,
    }
    let option_rows: Vec<OptionWithHolder> = scoped(
        conn,
        "SELECT contractor_id, id, contract_id, kind, applied_on, accepted_on, install_address, end_on, \
         end_reason, notice_arrived_on, requested_end_on, end_exempt FROM options",
        "contractor_id",
        scope,
        " ORDER BY contractor_id, id",
    )
    .await?;
    let mut usage = group_dated(
        scoped(
            conn,
            "SELECT u.option_id AS owner, u.effective_from, u.usage_type AS value \
             FROM option_usage_types u JOIN options o ON o.id = u.option_id",
            "o.contractor_id",
            scope,
            "",
        )
        .await?,
    )?;
    let mut network = group_dated(
        scoped(
            conn,
            "SELECT n.option_id AS owner, n.effective_from, n.network_type AS value \
             FROM option_network_types n JOIN options o ON o.id = n.option_id",
            "o.contractor_id",
            scope,
            "",
        )
        .await?,
    )?;
    for OptionWithHolder {
        contractor_id,
        row: r,
    } in option_rows
    {
        let o = ContractOption {
            usage_types: take_timeline(&mut usage, &r.id),
            network_types: take_timeline(&mut network, &r.id),
            kind: from_wire(&r.kind)?,
            applied_on: date(&r.applied_on)?,
            accepted_on: date(&r.accepted_on)?,
            ending: ending(
                r.end_on,
                r.end_reason,
                r.notice_arrived_on,
                r.requested_end_on,
                r.end_exempt,
            )?,
            id: r.id,
            contract_id: r.contract_id,
            install_address: r.install_address,
        };
        books.entry(contractor_id).or_default().options.push(o);
    }

    for g in load_groups(conn, scope).await? {
        books
            .entry(g.contractor_id.clone())
            .or_default()
            .groups
            .push(g);
    }
    if with_devices {
        for (holder, d) in load_scoped_devices(conn, scope).await? {
            books.entry(holder).or_default().devices.push(d);
        }
    }
    if let Scope::One(id) = scope {
        books.entry(id.to_owned()).or_default();
    }
    Ok(books.into_iter().collect())
}

fn contract_from_row(r: ContractRecord, items: Timeline<Item>) -> Result<Contract> {
    Ok(Contract {
        items,
        kind: from_wire(&r.kind)?,
        device_type: r.device_type.as_deref().map(from_wire).transpose()?,
        applied_on: date(&r.applied_on)?,
        accepted_on: date(&r.accepted_on)?,
        billing_start: opt_date(r.billing_start)?,
        ending: ending(
            r.end_on,
            r.end_reason,
            r.notice_arrived_on,
            r.requested_end_on,
            r.end_exempt,
        )?,
        number: Some(contract_number(r.number)?),
        label: r.label,
        id: r.id,
        contractor_id: r.contractor_id,
        management_id: r.management_id,
    })
}

/// A stored contract number (every contract row has one, migration 0021).
pub(crate) fn contract_number(n: Option<i64>) -> Result<ContractNumber> {
    n.and_then(|n| u64::try_from(n).ok())
        .and_then(ContractNumber::new)
        .ok_or_else(|| StorageError::Corrupt(format!("contract number {n:?}")))
}

async fn load_groups(conn: &mut AnyConnection, scope: Scope<'_>) -> Result<Vec<PacketShareGroup>> {
    let rows: Vec<GroupRecord> = scoped(
        conn,
        "SELECT id, contractor_id, applied_on, accepted_on, end_on, end_reason, notice_arrived_on, \
         requested_end_on, end_exempt FROM packet_share_groups",
        "contractor_id",
        scope,
        " ORDER BY contractor_id, id",
    )
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let packs: Vec<PackRecord> = scoped(
        conn,
        "SELECT p.group_id, p.effective_from, p.pack_gb FROM group_packs p JOIN packet_share_groups g ON g.id = p.group_id",
        "g.contractor_id",
        scope,
        "",
    )
    .await?;
    let members: Vec<MemberRecord> = scoped(
        conn,
        "SELECT m.group_id, m.option_id, m.from_on, m.until_on FROM group_members m \
         JOIN packet_share_groups g ON g.id = m.group_id",
        "g.contractor_id",
        scope,
        " ORDER BY m.from_on, m.option_id",
    )
    .await?;
    let mut pack_map: HashMap<String, Vec<(Date, u32)>> = HashMap::new();
    for p in packs {
        let gb = u32::try_from(p.pack_gb)
            .map_err(|_| StorageError::Corrupt(format!("pack of {}", p.group_id)))?;
        pack_map
            .entry(p.group_id)
            .or_default()
            .push((date(&p.effective_from)?, gb));
    }
    let mut member_map: HashMap<String, Vec<Membership>> = HashMap::new();
    for m in members {
        member_map.entry(m.group_id).or_default().push(Membership {
            option_id: m.option_id,
            from: date(&m.from_on)?,
            until: opt_date(m.until_on)?,
        });
    }
    rows.into_iter()
        .map(|r| {
            Ok(PacketShareGroup {
                packs: Timeline::from_entries(pack_map.remove(&r.id).unwrap_or_default()),
                members: member_map.remove(&r.id).unwrap_or_default(),
                applied_on: date(&r.applied_on)?,
                accepted_on: date(&r.accepted_on)?,
                ending: ending(
                    r.end_on,
                    r.end_reason,
                    r.notice_arrived_on,
                    r.requested_end_on,
                    r.end_exempt,
                )?,
                id: r.id,
                contractor_id: r.contractor_id,
            })
        })
        .collect()
}

/// The devices that served contracts of the contractors in `scope`, with their holder.
async fn load_scoped_devices(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
) -> Result<Vec<(String, Device)>> {
    #[derive(sqlx::FromRow)]
    struct Held {
        holder: String,
        #[sqlx(flatten)]
        row: DeviceRecord,
    }
    let rows: Vec<Held> = scoped(
        conn,
        "SELECT DISTINCT c.contractor_id AS holder, d.serial, d.device_type, d.return_due, d.returned_on, \
         d.lost_on, d.found_on FROM devices d JOIN device_assignments a ON a.serial = d.serial \
         JOIN contracts c ON c.id = a.contract_id",
        "c.contractor_id",
        scope,
        " ORDER BY d.serial",
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for Held { holder, row } in rows {
        out.push((holder, device_from_row(conn, row).await?));
    }
    Ok(out)
}

async fn device_from_row(conn: &mut AnyConnection, r: DeviceRecord) -> Result<Device> {
    let assignments: Vec<AssignmentRecord> = sqlx::query_as(
        "SELECT contract_id, from_on, until_on FROM device_assignments WHERE serial = $1 ORDER BY from_on",
    )
    .bind(r.serial.clone())
    .fetch_all(&mut *conn)
    .await?;
    Ok(Device {
        assignments: assignments
            .into_iter()
            .map(|a| {
                Ok(Assignment {
                    contract_id: a.contract_id,
                    from: date(&a.from_on)?,
                    until: opt_date(a.until_on)?,
                })
            })
            .collect::<Result<Vec<_>>>()?,
        device_type: from_wire(&r.device_type)?,
        return_due: opt_date(r.return_due)?,
        returned_on: opt_date(r.returned_on)?,
        lost_on: opt_date(r.lost_on)?,
        found_on: opt_date(r.found_on)?,
        serial: r.serial,
    })
}

/// Devices to come back that have not: released from their contract (ended, R10.3, or
/// replaced, R11.1), neither returned nor lost.
const AWAITING_RETURN: &str = " FROM devices d WHERE d.returned_on IS NULL AND d.lost_on IS NULL \
     AND EXISTS (SELECT 1 FROM device_assignments a WHERE a.serial = d.serial) \
     AND NOT EXISTS (SELECT 1 FROM device_assignments a WHERE a.serial = d.serial AND a.until_on IS NULL)";

/// Devices awaiting return with their holders, those with a deadline first, earliest first
/// (on both backends: SQLite would put the undated ones first, PostgreSQL last).
pub async fn awaiting_return(conn: &mut AnyConnection) -> Result<Vec<(String, Device)>> {
    awaiting_return_page(conn, ReturnOrder::Due, false, 0, i64::MAX).await
}

/// The order of a page of devices awaiting return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReturnOrder {
    /// By return deadline, the earliest first and undated ones last; then by serial.
    #[default]
    Due,
    Serial,
}

/// How many devices await return, and how many of them are overdue on `as_of`: past their
/// deadline (R10.3), as [`Device`]s in a view count it.
pub async fn count_awaiting_return(conn: &mut AnyConnection, as_of: Date) -> Result<(i64, i64)> {
    let mut q = Sql::new("SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN d.return_due < ");
    q.bind(as_of.to_string())
        .push(" THEN 1 ELSE 0 END), 0) AS BIGINT)")
        .push(AWAITING_RETURN);
    let (all, overdue): (i64, i64) = q.query_as()?.fetch_one(&mut *conn).await?;
    Ok((all, overdue))
}

/// `limit` devices awaiting return from the `offset`th in `order` (all of it reversed when
/// `desc`), with their holders; only those devices are loaded.
pub async fn awaiting_return_page(
    conn: &mut AnyConnection,
    order: ReturnOrder,
    desc: bool,
    offset: i64,
    limit: i64,
) -> Result<Vec<(String, Device)>> {
    let dir = if desc { " DESC" } else { "" };
    let mut q = Sql::new("SELECT d.serial, d.contractor_id");
    q.push(AWAITING_RETURN).push(" ORDER BY ");
    if order == ReturnOrder::Due {
        q.push("CASE WHEN d.return_due IS NULL THEN 1 ELSE 0 END")
            .push(dir)
            .push(", d.return_due")
            .push(dir)
            .push(", ");
    }
    q.push("d.serial")
        .push(dir)
        .push(" LIMIT ")
        .bind(limit)
        .push(" OFFSET ")
        .bind(offset);
    let holders: Vec<(String, Option<String>)> = q.query_as()?.fetch_all(&mut *conn).await?;
    let mut out = Vec::with_capacity(holders.len());
    for (serial, holder) in holders {
        if let Some(device) = load_device(conn, &serial).await? {
            out.push((holder.unwrap_or_default(), device));
        }
    }
    Ok(out)
}

/// Devices lost and not found since (R12.2, R12.3), with their holder, earliest loss first:
/// those a find may be recorded for.
pub async fn lost_devices(conn: &mut AnyConnection) -> Result<Vec<(String, Device)>> {
    let holders: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT serial, contractor_id FROM devices WHERE lost_on IS NOT NULL AND found_on IS NULL \
         ORDER BY lost_on, serial",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(holders.len());
    for (serial, holder) in holders {
        if let Some(device) = load_device(conn, &serial).await? {
            out.push((holder.unwrap_or_default(), device));
        }
    }
    Ok(out)
}

/// One device by serial, whoever holds it.
pub async fn load_device(conn: &mut AnyConnection, serial: &str) -> Result<Option<Device>> {
    let row: Option<DeviceRecord> = sqlx::query_as(
        "SELECT serial, device_type, return_due, returned_on, lost_on, found_on FROM devices WHERE serial = $1",
    )
    .bind(serial.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(r) => Ok(Some(device_from_row(conn, r).await?)),
        None => Ok(None),
    }
}

/// One contract by id, whoever holds it.
pub async fn load_contract(conn: &mut AnyConnection, id: &str) -> Result<Option<Contract>> {
    let mut q = Sql::new(
        "SELECT id, contractor_id, kind, device_type, management_id, applied_on, accepted_on, \
         billing_start, end_on, end_reason, notice_arrived_on, requested_end_on, end_exempt, \
         number, label FROM contracts WHERE id = ",
    );
    q.bind(id.to_owned());
    let Some(row): Option<ContractRecord> = q.query_as()?.fetch_optional(&mut *conn).await? else {
        return Ok(None);
    };
    let items: Vec<DatedRecord> = sqlx::query_as(
        "SELECT contract_id AS owner, effective_from, item AS value FROM contract_items WHERE contract_id = $1",
    )
    .bind(id.to_owned())
    .fetch_all(&mut *conn)
    .await?;
    let timeline = take_timeline(&mut group_dated(items)?, id);
    contract_from_row(row, timeline).map(Some)
}

/// The contractor holding a contract, an option, a group or a device's current contract.
pub async fn owner_of(conn: &mut AnyConnection, table: Owned, id: &str) -> Result<Option<String>> {
    let sql = match table {
        Owned::Contract => "SELECT contractor_id FROM contracts WHERE id = $1",
        Owned::Option => "SELECT contractor_id FROM options WHERE id = $1",
        Owned::Group => "SELECT contractor_id FROM packet_share_groups WHERE id = $1",
        Owned::Device => "SELECT contractor_id FROM devices WHERE serial = $1",
    };
    Ok(sqlx::query_scalar::<_, Option<String>>(sql)
        .bind(id.to_owned())
        .fetch_optional(conn)
        .await?
        .flatten())
}

/// Kinds of things a contractor holds.
#[derive(Debug, Clone, Copy)]
pub enum Owned {
    Contract,
    Option,
    Group,
    Device,
}
