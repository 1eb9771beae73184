//! Finding things by what people type: a contract, device, SIM, contractor or invoice by part
//! of its id, serial, ICCID, name or number.
//!
//! Each kind has one function that writes its `FROM … WHERE …` (what matches, within a
//! [`Scope`]), used both to list a window of hits and to count them, so a list and its count
//! never disagree. Text matches are case-insensitive (`LOWER(column) LIKE lowered needle`, on
//! both backends) and the needle's `%`, `_` and `\` match themselves.

use sqlx::AnyConnection;

use crate::Result;
use crate::sql::{Sql, escape_like};

/// Whose things a search may find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Everyone's (operators).
    Everything,
    /// One contractor's own (a contractor user): never another's.
    Contractor(&'a str),
}

/// What was typed, ready to match: trimmed, lowered (ASCII, as SQLite's `LOWER` does) and
/// escaped for `LIKE … ESCAPE '\'`.
#[derive(Debug, Clone)]
pub struct Needle {
    /// Trimmed, as typed.
    pub text: String,
    escaped: String,
}

impl Needle {
    pub fn new(text: &str) -> Needle {
        let text = text.trim().to_owned();
        let escaped = escape_like(&text.to_ascii_lowercase());
        Needle { text, escaped }
    }

    fn contains(&self) -> String {
        format!("%{}%", self.escaped)
    }

    fn prefix(&self) -> String {
        format!("{}%", self.escaped)
    }

    fn suffix(&self) -> String {
        format!("%{}", self.escaped)
    }

    /// The number a needle names, `I-000123` or plain digits: an invoice serial (B3).
    fn serial(&self) -> Option<i64> {
        mpc_domain::invoice::parse_number(&self.text).or_else(|| {
            (!self.text.is_empty() && self.text.bytes().all(|b| b.is_ascii_digit()))
                .then(|| self.text.parse().ok())
                .flatten()
        })
    }
}

/// Which hits of a search to read: `limit` of them after skipping `offset`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub offset: i64,
    pub limit: i64,
}

/// `LOWER(column) LIKE pattern ESCAPE '\'`.
fn like(sql: &mut Sql, column: &str, pattern: String) {
    sql.push("LOWER(")
        .push(column)
        .push(") LIKE ")
        .bind(pattern)
        .push(" ESCAPE '\\'");
}

async fn count(conn: &mut AnyConnection, from: impl FnOnce(&mut Sql)) -> Result<i64> {
    let mut sql = Sql::new("SELECT COUNT(*) FROM (SELECT 1 AS one");
    from(&mut sql);
    sql.push(") AS found");
    let (n,): (i64,) = sql.query_as()?.fetch_one(conn).await?;
    Ok(n)
}

async fn window<T>(
    conn: &mut AnyConnection,
    columns: &str,
    from: impl FnOnce(&mut Sql),
    order: &str,
    w: Window,
) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let mut sql = Sql::new(columns);
    from(&mut sql);
    sql.push(" ORDER BY ")
        .push(order)
        .push(" LIMIT ")
        .bind(w.limit.max(0))
        .push(" OFFSET ")
        .bind(w.offset.max(0));
    Ok(sql.query_as()?.fetch_all(conn).await?)
}

/// A contract found.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContractHit {
    pub id: String,
    pub contractor_id: String,
    pub contractor_name: String,
    pub kind: String,
    pub device_type: Option<String>,
    pub number: Option<i64>,
    pub label: String,
}

/// Contracts numbered as the needle (`C-000123`, `c-123` or `123`), whose site label contains
/// it, or whose id starts or ends with it.
///
/// This is the one place contracts match.
fn contracts_from(sql: &mut Sql, scope: Scope<'_>, needle: &Needle) {
    sql.push(" FROM contracts k JOIN contractors c ON c.id = k.contractor_id WHERE (");
    like(sql, "k.id", needle.prefix());
    sql.push(" OR ");
    like(sql, "k.id", needle.suffix());
    sql.push(" OR ");
    like(sql, "k.label", needle.contains());
    if let Some(n) = needle
        .text
        .parse::<mpc_domain::contract_number::ContractNumber>()
        .ok()
        .and_then(|n| i64::try_from(n.get()).ok())
    {
        sql.push(" OR k.number = ").bind(n);
    }
    sql.push(")");
    if let Scope::Contractor(own) = scope {
        sql.push(" AND k.contractor_id = ").bind(own.to_owned());
    }
}

/// Contracts matching `needle` within `scope`, newest first (ids are UUID v7).
pub async fn contracts(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    needle: &Needle,
    w: Window,
) -> Result<Vec<ContractHit>> {
    window(
        conn,
        "SELECT k.id, k.contractor_id, c.name AS contractor_name, k.kind, k.device_type, \
         k.number, k.label",
        |sql| contracts_from(sql, scope, needle),
        "k.id DESC",
        w,
    )
    .await
}

pub async fn count_contracts(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    needle: &Needle,
) -> Result<i64> {
    count(conn, |sql| contracts_from(sql, scope, needle)).await
}

/// A device found: in a contractor's custody, or (operators only) in the inventory and never
/// shipped.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceHit {
    pub serial: String,
    pub model: String,
    pub contractor_id: Option<String>,
    pub contractor_name: Option<String>,
}

/// Devices whose serial contains the needle.
fn devices_from(sql: &mut Sql, scope: Scope<'_>, needle: &Needle) {
    sql.push(
        " FROM (SELECT d.serial, d.device_type AS model, d.contractor_id, c.name AS contractor_name \
         FROM devices d LEFT JOIN contractors c ON c.id = d.contractor_id WHERE ",
    );
    like(sql, "d.serial", needle.contains());
    match scope {
        Scope::Contractor(own) => {
            sql.push(" AND d.contractor_id = ").bind(own.to_owned());
        }
        Scope::Everything => {
            sql.push(
                " UNION ALL SELECT i.serial, i.model, NULL, NULL FROM device_inventory i \
                 WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.serial = i.serial) AND ",
            );
            like(sql, "i.serial", needle.contains());
        }
    }
    sql.push(") AS devices_found");
}

/// Devices matching `needle` within `scope`, by serial.
pub async fn devices(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    needle: &Needle,
    w: Window,
) -> Result<Vec<DeviceHit>> {
    window(
        conn,
        "SELECT serial, model, contractor_id, contractor_name",
        |sql| devices_from(sql, scope, needle),
        "serial",
        w,
    )
    .await
}

pub async fn count_devices(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    needle: &Needle,
) -> Result<i64> {
    count(conn, |sql| devices_from(sql, scope, needle)).await
}

/// A SIM's binding to a mobile access option found (R9.3): one hit per binding.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SimHit {
    pub iccid: String,
    pub from_on: String,
    pub until_on: Option<String>,
    pub option_id: String,
    pub contract_id: String,
    pub contractor_id: String,
    pub contractor_name: String,
}

/// SIM bindings whose ICCID contains the needle.
fn sims_from(sql: &mut Sql, scope: Scope<'_>, needle: &Needle) {
    sql.push(
        " FROM sims s JOIN options o ON o.id = s.option_id \
         JOIN contractors c ON c.id = o.contractor_id WHERE ",
    );
    like(sql, "s.iccid", needle.contains());
    if let Scope::Contractor(own) = scope {
        sql.push(" AND o.contractor_id = ").bind(own.to_owned());
    }
}

/// SIM bindings matching `needle` within `scope`, by ICCID, the latest binding first.
pub async fn sims(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    needle: &Needle,
    w: Window,
) -> Result<Vec<SimHit>> {
    window(
        conn,
        "SELECT s.iccid, s.from_on, s.until_on, s.option_id, o.contract_id, o.contractor_id, \
         c.name AS contractor_name",
        |sql| sims_from(sql, scope, needle),
        "s.iccid, s.from_on DESC",
        w,
    )
    .await
}

pub async fn count_sims(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    needle: &Needle,
) -> Result<i64> {
    count(conn, |sql| sims_from(sql, scope, needle)).await
}

/// A contractor found.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContractorHit {
    pub id: String,
    pub name: String,
}

/// Contractors whose name contains the needle or whose id starts or ends with it.
fn contractors_from(sql: &mut Sql, scope: Scope<'_>, needle: &Needle) {
    sql.push(" FROM contractors c WHERE (");
    like(sql, "c.name", needle.contains());
    sql.push(" OR ");
    like(sql, "c.id", needle.prefix());
    sql.push(" OR ");
    like(sql, "c.id", needle.suffix());
    sql.push(")");
    if let Scope::Contractor(own) = scope {
        sql.push(" AND c.id = ").bind(own.to_owned());
    }
}

/// Contractors matching `needle` within `scope`, by name.
pub async fn contractors(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    needle: &Needle,
    w: Window,
) -> Result<Vec<ContractorHit>> {
    window(
        conn,
        "SELECT c.id, c.name",
        |sql| contractors_from(sql, scope, needle),
        "c.name, c.id",
        w,
    )
    .await
}

pub async fn count_contractors(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    needle: &Needle,
) -> Result<i64> {
    count(conn, |sql| contractors_from(sql, scope, needle)).await
}

/// An invoice found.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvoiceHit {
    pub id: String,
    pub serial: Option<i64>,
    pub month: String,
    pub account_id: String,
    pub recipient_name: String,
    pub total: i64,
    pub status: String,
}

/// Invoices numbered as the needle (`I-000123` or `123`, B3), addressed to a recipient whose
/// name contains it, or whose id starts with it; a contractor finds only the finalized ones
/// addressed to it (a draft is not an invoice yet, B4).
fn invoices_from(sql: &mut Sql, scope: Scope<'_>, needle: &Needle) {
    sql.push(" FROM invoices i WHERE (");
    like(sql, "i.recipient_name", needle.contains());
    sql.push(" OR ");
    like(sql, "i.id", needle.prefix());
    if let Some(serial) = needle.serial() {
        sql.push(" OR i.serial = ").bind(serial);
    }
    sql.push(")");
    if let Scope::Contractor(own) = scope {
        sql.push(" AND i.account_id = ")
            .bind(own.to_owned())
            .push(" AND i.status = 'finalized'");
    }
}

/// Invoices matching `needle` within `scope`, the latest month first.
pub async fn invoices(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    needle: &Needle,
    w: Window,
) -> Result<Vec<InvoiceHit>> {
    window(
        conn,
        "SELECT i.id, i.serial, i.month, i.account_id, i.recipient_name, i.total, i.status",
        |sql| invoices_from(sql, scope, needle),
        "i.month DESC, i.serial DESC, i.id",
        w,
    )
    .await
}

pub async fn count_invoices(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    needle: &Needle,
) -> Result<i64> {
    count(conn, |sql| invoices_from(sql, scope, needle)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_needle_is_trimmed_lowered_and_escaped() {
        let n = Needle::new("  AB%c_d\\ ");
        assert_eq!(n.text, "AB%c_d\\");
        assert_eq!(n.contains(), "%ab\\%c\\_d\\\\%");
        assert_eq!(n.prefix(), "ab\\%c\\_d\\\\%");
    }

    #[test]
    fn a_needle_names_an_invoice_serial_by_number_or_digits() {
        assert_eq!(Needle::new("I-000123").serial(), Some(123));
        assert_eq!(Needle::new("i-7").serial(), Some(7));
        assert_eq!(Needle::new("42").serial(), Some(42));
        assert_eq!(Needle::new("4x2").serial(), None);
        assert_eq!(Needle::new("99999999999999999999999").serial(), None);
    }
}
