//! Mobile data: SIM registration, usage ingestion and throttle decisions (R9.3, R9.6, R9.9).
//!
//! Ingestion is one transaction per batch: records are resolved to the option their SIM served
//! on the record's Tokyo day, classified against what is stored (new, duplicate, correction),
//! written with multi-row inserts, and added to each option's month total (`usage_totals`).
//! The totals settle most option and group months the batch touched; a month over its limit is
//! decided from its records ending at or after the earliest end the batch touched, counting on
//! from the rest of its total ([`mpc_domain::mobile::Counted`]), and only months the totals
//! cannot speak for are replayed whole. A decision that changed is appended to
//! `throttle_events`, whose `seq` consumers follow as a cursor.
//!
//! On SQLite, records are indexed by the hour they start in and then their option (migration
//! 0010), so the records of a batch land on the index pages of the latest hours, and the process
//! keeps SIMs, options and groups ([`MobileBook`]) and the totals and throttles of the latest
//! months ([`Months`]) in memory between batches, checked against `mobile_generation`, which
//! every writer of them changes. Records are written one statement per chunk, the next built
//! while SQLite's worker thread writes the one before ([`pipelined`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use jiff::civil::Date;
use mpc_domain::Refusal;
use mpc_domain::book::{Membership, Timeline};
use mpc_domain::calendar::{Month, tokyo_date};
use mpc_domain::catalog::MobileUsageType;
use mpc_domain::mobile::{
    self, Basis, Manual, ManualAction, State, Throttle, Usage, exceeds, month_bounds,
};
use sqlx::AnyConnection;

use crate::contracts::{date, from_wire, load_book, opt_date, wire};
use crate::sql::Sql;
use crate::{JournalEntry, Result, StorageError, Store, WriteTx, new_id, now_micros, timestamp};

/// Rows per multi-row statement: 9 parameters each stays below SQLite's 32,766.
const ROWS_PER_STATEMENT: usize = 1000;

/// A usage record as received, before its SIM is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// Its line in the body, from 1.
    pub line: usize,
    pub record_id: String,
    pub iccid: String,
    /// Microseconds since the epoch.
    pub start: i64,
    pub end: i64,
    pub bytes_up: i64,
    pub bytes_down: i64,
}

/// A record refused, with why; kept in `usage_rejections`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    pub line: usize,
    pub record_id: Option<String>,
    pub iccid: Option<String>,
    /// `invalid`, `unknown_sim` or `outside_option_period`.
    pub reason: &'static str,
    pub detail: String,
}

impl Rejection {
    fn invalid(line: usize, detail: String) -> Rejection {
        Rejection {
            line,
            record_id: None,
            iccid: None,
            reason: "invalid",
            detail: clipped(&detail, MAX_DETAIL_CHARS),
        }
    }
}

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestSummary {
    pub batch_id: String,
    pub accepted: usize,
    pub duplicates: usize,
    pub corrected: usize,
    pub rejected: Vec<Rejection>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRecord {
    record_id: String,
    iccid: String,
    start: String,
    end: String,
    bytes_up: u64,
    bytes_down: u64,
}

/// Reads an instant: RFC 3339 with an offset, or a civil date-time taken as Tokyo time (D1).
fn instant(s: &str) -> Option<i64> {
    let ts = match s.parse::<Timestamp>() {
        Ok(ts) => ts,
        Err(_) => mobile::tokyo_instant(s.parse().ok()?).ok()?,
    };
    Some(ts.as_microsecond())
}

/// The longest reason kept with a rejected record (serde's messages quote the input).
const MAX_DETAIL_CHARS: usize = 500;

/// At most `max` characters of `s`: what a rejection keeps of a field too long to keep whole.
fn clipped(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn record(line: usize, r: JsonRecord) -> Result<Incoming, Rejection> {
    use mpc_domain::mobile::{MAX_ICCID_CHARS, MAX_RECORD_ID_CHARS};
    let bad = |detail: String| Rejection {
        line,
        record_id: Some(clipped(&r.record_id, MAX_RECORD_ID_CHARS)),
        iccid: Some(clipped(&r.iccid, MAX_ICCID_CHARS)),
        reason: "invalid",
        detail: clipped(&detail, MAX_DETAIL_CHARS),
    };
    if r.record_id.trim().is_empty() || r.iccid.trim().is_empty() {
        return Err(bad("record_id and iccid must not be empty".into()));
    }
    if r.record_id.chars().count() > MAX_RECORD_ID_CHARS {
        return Err(bad(format!(
            "record_id must be at most {MAX_RECORD_ID_CHARS} characters"
        )));
    }
    if r.iccid.chars().count() > MAX_ICCID_CHARS {
        return Err(bad(format!(
            "iccid must be at most {MAX_ICCID_CHARS} characters"
        )));
    }
    let (Some(start), Some(end)) = (instant(&r.start), instant(&r.end)) else {
        return Err(bad(format!(
            "start {:?} and end {:?} must be RFC 3339 instants or Tokyo date-times",
            clipped(&r.start, 64),
            clipped(&r.end, 64)
        )));
    };
    for (field, at) in [("start", start), ("end", end)] {
        let checked = Timestamp::from_microsecond(at)
            .map_err(|_| mpc_domain::calendar::CalendarError::OutOfRange)
            .and_then(mpc_domain::calendar::business_instant);
        if let Err(e) = checked {
            return Err(bad(format!("{field}: {e}")));
        }
    }
    if end < start {
        return Err(bad("the interval ends before it starts".into()));
    }
    let (Ok(bytes_up), Ok(bytes_down)) = (i64::try_from(r.bytes_up), i64::try_from(r.bytes_down))
    else {
        return Err(bad("byte counts above 2^63 - 1".into()));
    };
    Ok(Incoming {
        line,
        record_id: r.record_id,
        iccid: r.iccid,
        start,
        end,
        bytes_up,
        bytes_down,
    })
}

/// Reads JSON lines, one record object per line; blank lines are skipped.
pub fn parse_ndjson(text: &str) -> (Vec<Incoming>, Vec<Rejection>) {
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<JsonRecord>(raw) {
            Ok(r) => match record(line, r) {
                Ok(r) => ok.push(r),
                Err(e) => bad.push(e),
            },
            Err(e) => bad.push(Rejection::invalid(line, format!("not a usage record: {e}"))),
        }
    }
    (ok, bad)
}

const CSV_COLUMNS: [&str; 6] = [
    "record_id",
    "iccid",
    "start",
    "end",
    "bytes_up",
    "bytes_down",
];

/// Reads CSV with a header naming the columns `record_id,iccid,start,end,bytes_up,bytes_down`
/// in any order; line numbers count the header as line 1.
///
/// # Errors
/// A message when the header lacks a column.
pub fn parse_csv(text: &str) -> Result<(Vec<Incoming>, Vec<Rejection>), String> {
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines
        .next()
        .map(|(_, h)| h.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let mut at = [0usize; 6];
    for (slot, name) in at.iter_mut().zip(CSV_COLUMNS) {
        *slot = header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| format!("the CSV header must name {}", CSV_COLUMNS.join(",")))?;
    }
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    for (i, raw) in lines {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = raw.split(',').map(str::trim).collect();
        if fields.len() != header.len() {
            bad.push(Rejection::invalid(
                line,
                format!("expected {} fields, found {}", header.len(), fields.len()),
            ));
            continue;
        }
        let bytes = |k: usize| fields[at[k]].parse::<u64>();
        let (Ok(bytes_up), Ok(bytes_down)) = (bytes(4), bytes(5)) else {
            bad.push(Rejection::invalid(
                line,
                "bytes_up and bytes_down must be whole numbers ≥ 0".into(),
            ));
            continue;
        };
        let r = JsonRecord {
            record_id: fields[at[0]].to_owned(),
            iccid: fields[at[1]].to_owned(),
            start: fields[at[2]].to_owned(),
            end: fields[at[3]].to_owned(),
            bytes_up,
            bytes_down,
        };
        match record(line, r) {
            Ok(r) => ok.push(r),
            Err(e) => bad.push(e),
        }
    }
    Ok((ok, bad))
}

/// A SIM's service of an option, both days inclusive.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SimRow {
    pub iccid: String,
    pub option_id: String,
    pub from_on: String,
    pub until_on: Option<String>,
}

impl SimRow {
    fn covers(&self, day: Date) -> Result<bool> {
        Ok(
            date(&self.from_on)? <= day
                && opt_date(self.until_on.clone())?.is_none_or(|u| day <= u),
        )
    }

    /// Whether the service overlaps `month`.
    pub fn overlaps(&self, month: Month) -> Result<bool> {
        Ok(date(&self.from_on)? <= month.last_day()
            && opt_date(self.until_on.clone())?.is_none_or(|u| u >= month.first_day()))
    }
}

const SIM_COLUMNS: &str = "SELECT iccid, option_id, from_on, until_on FROM sims";

async fn sims_where(conn: &mut AnyConnection, column: &str, value: &str) -> Result<Vec<SimRow>> {
    let mut q = Sql::new(SIM_COLUMNS);
    q.push(" WHERE ")
        .push(column)
        .push(" = ")
        .bind(value.to_owned())
        .push(" ORDER BY iccid, from_on");
    Ok(q.query_as()?.fetch_all(conn).await?)
}

/// The services of a SIM, oldest first.
pub async fn sim(conn: &mut AnyConnection, iccid: &str) -> Result<Vec<SimRow>> {
    sims_where(conn, "iccid", iccid).await
}

/// The SIMs that served an option.
pub async fn sims_of(conn: &mut AnyConnection, option_id: &str) -> Result<Vec<SimRow>> {
    sims_where(conn, "option_id", option_id).await
}

/// The contractor whose option a SIM serves or served last.
pub async fn sim_owner(conn: &mut AnyConnection, iccid: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT o.contractor_id FROM sims s JOIN options o ON o.id = s.option_id \
         WHERE s.iccid = $1 ORDER BY s.from_on DESC LIMIT 1",
    )
    .bind(iccid.to_owned())
    .fetch_optional(conn)
    .await?)
}

/// Binds `iccid` to `option_id` from `from` (R6.5, R9.3). The SIM's open service ends the day
/// before, and so does the service of another SIM the option had: an option has one SIM a day.
///
/// # Errors
/// [`StorageError::NotFound`] for an unknown option; a refusal from the domain; a refusal with
/// R9.3 when `from` is not after the services it would close.
pub async fn bind_sim(
    store: &Store,
    iccid: &str,
    option_id: &str,
    from: Date,
    journal: JournalEntry,
) -> Result<Result<SimRow, Refusal>> {
    let mut tx = store.write().await?;
    let contractor =
        crate::contracts::owner_of(tx.conn(), crate::contracts::Owned::Option, option_id)
            .await?
            .ok_or(StorageError::NotFound)?;
    tx.lock(&contractor).await?;
    let book = load_book(tx.conn(), &contractor).await?;
    let option = book.option(option_id).ok_or(StorageError::NotFound)?;
    let contract = book
        .contract(&option.contract_id)
        .ok_or(StorageError::NotFound)?;
    if let Err(r) = mobile::check_sim_binding(contract, option, from) {
        return Ok(Err(r));
    }
    let mut open = sim(tx.conn(), iccid).await?;
    open.extend(sims_of(tx.conn(), option_id).await?);
    let before = from
        .yesterday()
        .map_err(|e| StorageError::Corrupt(e.to_string()))?;
    for s in open
        .iter()
        .filter(|s| s.from_on != from.to_string() || s.iccid != iccid)
    {
        if date(&s.from_on)? >= from {
            return Ok(Err(Refusal::new(
                "R9.3",
                format!(
                    "{} serves from {} already; bind from a later day",
                    s.iccid, s.from_on
                ),
                format!(
                    "{} は {} から登録済みです。より後の日付で登録してください",
                    s.iccid, s.from_on
                ),
            )));
        }
        if opt_date(s.until_on.clone())?.is_none_or(|u| u >= from) {
            sqlx::query("UPDATE sims SET until_on = $1 WHERE iccid = $2 AND from_on = $3")
                .bind(before.to_string())
                .bind(s.iccid.clone())
                .bind(s.from_on.clone())
                .execute(tx.conn())
                .await?;
        }
    }
    sqlx::query(
        "INSERT INTO sims (iccid, from_on, until_on, option_id) VALUES ($1, $2, NULL, $3) \
         ON CONFLICT (iccid, from_on) DO UPDATE SET option_id = excluded.option_id, until_on = NULL",
    )
    .bind(iccid.to_owned())
    .bind(from.to_string())
    .bind(option_id.to_owned())
    .execute(tx.conn())
    .await?;
    let row = SimRow {
        iccid: iccid.to_owned(),
        option_id: option_id.to_owned(),
        from_on: from.to_string(),
        until_on: None,
    };
    tx.commit(
        journal
            .contractor(Some(&contractor))
            .subject(iccid)
            .outcome(serde_json::json!({ "option_id": option_id, "from": from })),
    )
    .await?;
    Ok(Ok(row))
}

#[derive(sqlx::FromRow)]
struct StoredRecord {
    record_id: String,
    iccid: String,
    option_id: String,
    start_at: i64,
    end_at: i64,
    bytes_up: i64,
    bytes_down: i64,
}

/// A record resolved to the option its SIM served.
struct Resolved<'a> {
    r: &'a Incoming,
    option_id: &'a str,
    /// The Tokyo month of its start (D1).
    month: Month,
}

/// A batch's records resolved against a [`MobileBook`].
struct Resolution<'a> {
    resolved: Vec<Resolved<'a>>,
    rejected: Vec<Rejection>,
    duplicates: usize,
    corrected: usize,
}

/// Resolves `records` to the options their SIMs served on their Tokyo days, and keeps the last
/// of several lines with one record id.
fn resolve<'a>(book: &'a MobileBook, records: &'a [Incoming]) -> Result<Resolution<'a>> {
    let mut out = Resolution {
        resolved: Vec::with_capacity(records.len()),
        rejected: Vec::new(),
        duplicates: 0,
        corrected: 0,
    };
    let mut latest = foldhash::HashMap::<&str, usize>::with_capacity_and_hasher(
        records.len(),
        Default::default(),
    );
    for r in records {
        let day = tokyo_date(timestamp(r.start)?);
        let reject = |reason, detail: String| Rejection {
            line: r.line,
            record_id: Some(r.record_id.clone()),
            iccid: Some(r.iccid.clone()),
            reason,
            detail,
        };
        let Some(services) = book.services.get(r.iccid.as_str()) else {
            out.rejected.push(reject(
                "unknown_sim",
                format!("no SIM {} is registered", r.iccid),
            ));
            continue;
        };
        let serving = services.iter().rev().find(|s| s.sim_covers(day));
        let Some(option_id) = serving
            .filter(|s| s.option_in_service(day))
            .map(|s| s.option_id.as_str())
        else {
            out.rejected.push(reject(
                "outside_option_period",
                format!(
                    "SIM {} serves no mobile access option in service on {day}",
                    r.iccid
                ),
            ));
            continue;
        };
        if let Some(&earlier) = latest.get(r.record_id.as_str()) {
            let e = out.resolved[earlier].r;
            if (&e.iccid, e.start, e.end, e.bytes_up, e.bytes_down)
                == (&r.iccid, r.start, r.end, r.bytes_up, r.bytes_down)
            {
                out.duplicates += 1;
            } else {
                out.corrected += 1;
                out.resolved[earlier] = Resolved {
                    r,
                    option_id,
                    month: Month::containing(day),
                };
            }
            continue;
        }
        latest.insert(&r.record_id, out.resolved.len());
        out.resolved.push(Resolved {
            r,
            option_id,
            month: Month::containing(day),
        });
    }
    Ok(out)
}

fn month_of(micros: i64) -> Result<Month> {
    Ok(Month::containing(tokyo_date(timestamp(micros)?)))
}

/// A SIM's service of an option, with the option's own period, parsed once per batch.
struct Service {
    option_id: String,
    from: Date,
    until: Option<Date>,
    /// `None` when the option is not a mobile access option.
    option_period: Option<(Date, Option<Date>)>,
}

impl Service {
    fn sim_covers(&self, day: Date) -> bool {
        self.from <= day && self.until.is_none_or(|u| day <= u)
    }

    fn option_in_service(&self, day: Date) -> bool {
        self.option_period
            .is_some_and(|(from, until)| from <= day && until.is_none_or(|u| day <= u))
    }
}

#[derive(sqlx::FromRow)]
struct ServiceRow {
    iccid: String,
    option_id: String,
    from_on: String,
    until_on: Option<String>,
    kind: String,
    accepted_on: String,
    end_on: Option<String>,
}

/// What ingestion needs to know of SIMs, options and packet share groups.
#[derive(Default)]
pub(crate) struct MobileBook {
    /// The services of each SIM, oldest first.
    services: HashMap<String, Vec<Service>>,
    usage_types: HashMap<String, Timeline<MobileUsageType>>,
    /// The memberships of each group.
    members: HashMap<String, Vec<Membership>>,
    /// The groups each option was ever a member of.
    groups_of: HashMap<String, Vec<String>>,
    packs: HashMap<String, Timeline<u32>>,
}

/// Loads the part of the [`MobileBook`] that the SIMs in `iccids` reach, or all of it.
async fn load_mobile_book(tx: &mut WriteTx, iccids: Option<Vec<String>>) -> Result<MobileBook> {
    const SERVICES: &str = "SELECT s.iccid, s.option_id, s.from_on, s.until_on, o.kind, \
                            o.accepted_on, o.end_on FROM sims s JOIN options o ON o.id = s.option_id";
    let mut rows: Vec<ServiceRow> = match &iccids {
        Some(iccids) => rows_in(tx, SERVICES, "s.iccid", iccids).await?,
        None => rows_in(tx, SERVICES, "", &[]).await?,
    };
    rows.sort_by(|a, b| (&a.iccid, &a.from_on).cmp(&(&b.iccid, &b.from_on)));
    let mut book = MobileBook::default();
    let mut options = BTreeSet::new();
    for r in rows {
        let option_period = match r.kind.as_str() {
            "mobile_access" => Some((date(&r.accepted_on)?, opt_date(r.end_on)?)),
            _ => None,
        };
        options.insert(r.option_id.clone());
        book.services.entry(r.iccid).or_default().push(Service {
            option_id: r.option_id,
            from: date(&r.from_on)?,
            until: opt_date(r.until_on)?,
            option_period,
        });
    }
    let options: Vec<String> = options.into_iter().collect();
    let scope = |column: &'static str| if iccids.is_some() { column } else { "" };
    let usage_rows = rows_in::<(String, String, String)>(
        tx,
        "SELECT option_id, effective_from, usage_type FROM option_usage_types",
        scope("option_id"),
        &options,
    )
    .await?;
    book.usage_types = timelines(
        usage_rows
            .into_iter()
            .map(|(o, from, t)| Ok((o, from, from_wire::<MobileUsageType>(&t)?)))
            .collect::<Result<_>>()?,
    )?;
    let groups: Vec<String> = rows_in::<(String,)>(
        tx,
        "SELECT DISTINCT group_id FROM group_members",
        scope("option_id"),
        &options,
    )
    .await?
    .into_iter()
    .map(|(g,)| g)
    .collect();
    for (group_id, option_id, from_on, until_on) in
        rows_in::<(String, String, String, Option<String>)>(
            tx,
            "SELECT group_id, option_id, from_on, until_on FROM group_members",
            scope("group_id"),
            &groups,
        )
        .await?
    {
        let groups_of = book.groups_of.entry(option_id.clone()).or_default();
        if !groups_of.contains(&group_id) {
            groups_of.push(group_id.clone());
        }
        book.members.entry(group_id).or_default().push(Membership {
            option_id,
            from: date(&from_on)?,
            until: opt_date(until_on)?,
        });
    }
    book.packs = timelines(
        rows_in::<(String, String, i64)>(
            tx,
            "SELECT group_id, effective_from, pack_gb FROM group_packs",
            scope("group_id"),
            &groups,
        )
        .await?
        .into_iter()
        .map(|(g, from, gb)| {
            let gb = u32::try_from(gb).map_err(|_| StorageError::Corrupt(format!("pack {gb}")))?;
            Ok((g, from, gb))
        })
        .collect::<Result<_>>()?,
    )?;
    Ok(book)
}

/// What a SQLite store keeps of mobile data between batches.
///
/// PostgreSQL serves several nodes, so there each batch reads what it reaches.
#[derive(Default)]
pub(crate) struct MobileState {
    /// The whole book, with the `mobile_generation` it was loaded at (bumped by triggers on
    /// every table it is made of, whoever writes them).
    book: Option<(i64, Arc<MobileBook>)>,
    /// Month totals and throttles, with the `usage_version` they are of (set anew by every
    /// batch, the only writer of both tables).
    months: Option<(i64, Months)>,
}

pub(crate) type MobileCache = Arc<Mutex<MobileState>>;

fn state(cache: &MobileCache) -> std::sync::MutexGuard<'_, MobileState> {
    cache.lock().unwrap_or_else(|e| e.into_inner())
}

/// `mobile_generation` and `usage_version` on SQLite, whose store keeps mobile data in memory.
async fn versions(tx: &mut WriteTx) -> Result<Option<(i64, i64)>> {
    if tx.mobile_cache.is_none() {
        return Ok(None);
    }
    Ok(Some(
        sqlx::query_as("SELECT generation, usage_version FROM mobile_generation")
            .fetch_one(tx.conn())
            .await?,
    ))
}

/// The [`MobileBook`] for a batch naming the SIMs in `records`: on SQLite the whole book, from
/// memory while `generation` is the one it was loaded at.
async fn mobile_book(
    tx: &mut WriteTx,
    records: &[Incoming],
    generation: Option<i64>,
) -> Result<Arc<MobileBook>> {
    let (Some(cache), Some(generation)) = (tx.mobile_cache.clone(), generation) else {
        let iccids: BTreeSet<&str> = records.iter().map(|r| r.iccid.as_str()).collect();
        let iccids = iccids.into_iter().map(str::to_owned).collect();
        return Ok(Arc::new(load_mobile_book(tx, Some(iccids)).await?));
    };
    if let Some((cached, book)) = &state(&cache).book
        && *cached == generation
    {
        return Ok(book.clone());
    }
    let book = Arc::new(load_mobile_book(tx, None).await?);
    state(&cache).book = Some((generation, book.clone()));
    Ok(book)
}

/// What a batch changed in one option month.
#[derive(Debug, Default)]
struct Touch {
    /// The change of the month's total.
    bytes: i64,
    /// The earliest end of a record the batch added to the month or took out of it, in
    /// microseconds.
    earliest_end: Option<i64>,
    /// The longest interval of a record it added, in microseconds.
    longest: i64,
}

impl Touch {
    fn add(&mut self, start: i64, end: i64, bytes: i64) {
        self.change(end, bytes);
        self.longest = self.longest.max(end - start);
    }

    fn change(&mut self, end: i64, bytes: i64) {
        self.bytes += bytes;
        self.earliest_end = Some(self.earliest_end.map_or(end, |e| e.min(end)));
    }

    /// Whether a throttle decided from the crossing at `from` stands after this batch.
    fn keeps(&self, from: i64) -> Result<bool> {
        match self.earliest_end {
            Some(end) => Ok(mobile::throttle_stands(timestamp(from)?, timestamp(end)?)),
            None => Ok(true),
        }
    }
}

/// What a batch changed, by option and month.
type Touched<'a> = foldhash::HashMap<(&'a str, Month), Touch>;

/// The change a batch made to an option month.
fn touch<'t>(touched: &'t Touched<'_>, option: &'t str, month: Month) -> Option<&'t Touch> {
    touched.get(&(option, month))
}

/// Adds what the batch changed to the month totals of `usage_totals`, in key order.
async fn add_totals(tx: &mut WriteTx, touched: &Touched<'_>) -> Result<()> {
    let mut changed: Vec<_> = touched
        .iter()
        .filter(|(_, t)| t.bytes != 0 || t.longest > 0)
        .collect();
    changed.sort_unstable_by_key(|(key, _)| **key);
    let backend = tx.backend();
    let build = |chunk: &[(&(&str, Month), &Touch)]| {
        let mut q = Sql::positional(
            backend,
            "INSERT INTO usage_totals (option_id, month, bytes, longest) VALUES ",
        );
        for (i, ((option_id, month), t)) in chunk.iter().enumerate() {
            q.row(i == 0, |r| {
                r.bind((*option_id).to_owned())
                    .bind(month.to_string())
                    .bind(t.bytes)
                    .bind(t.longest);
            });
        }
        // A correction may shorten the longest record; keeping the longer only reads more.
        q.push(
            " ON CONFLICT (option_id, month) DO UPDATE SET bytes = usage_totals.bytes + excluded.bytes, \
             longest = CASE WHEN excluded.longest > usage_totals.longest \
             THEN excluded.longest ELSE usage_totals.longest END",
        );
        q
    };
    pipelined(tx, &changed, build, |_, _| {}).await
}

/// The rows `select` gives whose `column` is one of `keys`, chunk by chunk; every row when
/// `column` is empty.
async fn rows_in<T>(tx: &mut WriteTx, select: &str, column: &str, keys: &[String]) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    if column.is_empty() {
        return Ok(Sql::new(select)
            .query_as::<T>()?
            .fetch_all(tx.conn())
            .await?);
    }
    let mut out = Vec::new();
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let mut q = Sql::positional(tx.backend(), select);
        q.push(" WHERE ")
            .push(column)
            .push(" IN ")
            .bind_list(chunk.iter().cloned());
        out.extend(q.query_as::<T>()?.fetch_all(tx.conn()).await?);
    }
    Ok(out)
}

/// The `columns` of `table`'s rows for `options` in `months`.
///
/// Each chunk of options comes back as one JSON array: sqlx hands every SQLite row over from
/// its worker thread on its own, and a batch reads the totals of tens of thousands of options.
async fn option_months<T: serde::de::DeserializeOwned>(
    tx: &mut WriteTx,
    columns: &str,
    table: &str,
    options: &[String],
    months: &[String],
) -> Result<Vec<T>> {
    let select = match tx.backend() {
        crate::Backend::Sqlite => format!("SELECT json_group_array(json_array({columns}))"),
        crate::Backend::Postgres => {
            format!("SELECT COALESCE(json_agg(json_build_array({columns})), '[]')::text")
        }
    };
    let mut out = Vec::new();
    for chunk in options.chunks(ROWS_PER_STATEMENT) {
        let mut q = Sql::positional(tx.backend(), &select);
        q.push(" FROM ")
            .push(table)
            .push(" WHERE option_id IN ")
            .bind_list(chunk.iter().cloned())
            .push(" AND month IN ")
            .bind_list(months.iter().cloned());
        let (json,): (String,) = q.query_as()?.fetch_one(tx.conn()).await?;
        out.extend(
            serde_json::from_str::<Vec<T>>(&json)
                .map_err(|e| StorageError::Corrupt(format!("{table}: {e}")))?,
        );
    }
    Ok(out)
}

fn timelines<T: Clone>(rows: Vec<(String, String, T)>) -> Result<HashMap<String, Timeline<T>>> {
    let mut entries: HashMap<String, Vec<(Date, T)>> = HashMap::new();
    for (owner, from, value) in rows {
        entries
            .entry(owner)
            .or_default()
            .push((date(&from)?, value));
    }
    Ok(entries
        .into_iter()
        .map(|(k, v)| (k, Timeline::from_entries(v)))
        .collect())
}

/// Month totals and automatic throttles of option months as stored; a month absent is not
/// known, one known to have none is there as zero or `None`.
#[derive(Default)]
pub(crate) struct Months {
    /// Bytes and longest record interval.
    totals: HashMap<Month, foldhash::HashMap<String, (i64, i64)>>,
    /// The start of the automatic throttle.
    throttled: HashMap<Month, foldhash::HashMap<String, Option<i64>>>,
}

impl Months {
    fn total(&self, option: &str, month: Month) -> Option<(i64, i64)> {
        self.totals.get(&month)?.get(option).copied()
    }

    fn throttle(&self, option: &str, month: Month) -> Option<Option<i64>> {
        self.throttled.get(&month)?.get(option).copied()
    }

    /// Takes in what a batch wrote: the changes of totals it added, the throttles it rewrote
    /// (forgotten, to be read again); keeps only the latest two months it touched.
    fn absorb(&mut self, touched: &Touched<'_>, rewritten: &[(String, Month)]) {
        for (&(option, month), t) in touched {
            if let Some((bytes, longest)) =
                self.totals.get_mut(&month).and_then(|m| m.get_mut(option))
            {
                *bytes += t.bytes;
                *longest = (*longest).max(t.longest);
            }
        }
        for (option, month) in rewritten {
            if let Some(m) = self.throttled.get_mut(month) {
                m.remove(option);
            }
        }
        if let Some(newest) = touched.keys().map(|(_, m)| *m).max() {
            let recent = |m: &Month| m.next().is_ok_and(|n| n >= newest);
            self.totals.retain(|m, _| recent(m));
            self.throttled.retain(|m, _| recent(m));
        }
    }
}

/// The option months whose totals and throttles a batch's decisions read: the options it
/// reaches and everyone sharing a pack with them, in the months it reaches; totals only of
/// options with a cap or a pack (the others are only tracked).
#[derive(Default)]
struct Involved<'b> {
    months: BTreeSet<Month>,
    throttles: foldhash::HashSet<&'b str>,
    totals: foldhash::HashSet<&'b str>,
}

impl<'b> Involved<'b> {
    fn of(book: &'b MobileBook, resolved: &[Resolved<'b>]) -> Involved<'b> {
        let mut involved = Involved::default();
        involved.add(book, resolved.iter().map(|x| (x.option_id, x.month)));
        involved
    }

    fn add(&mut self, book: &'b MobileBook, keys: impl IntoIterator<Item = (&'b str, Month)>) {
        let keys: foldhash::HashSet<(&str, Month)> = keys.into_iter().collect();
        let mut groups = foldhash::HashSet::default();
        for (o, month) in keys {
            self.months.insert(month);
            self.throttles.insert(o);
            let cap = book
                .usage_types
                .get(o)
                .and_then(|t| mobile::lowest_limit(t, month, |u| u.monthly_cap_bytes()));
            if cap.is_some() {
                self.totals.insert(o);
            }
            groups.extend(book.groups_of.get(o).into_iter().flatten());
        }
        for g in groups {
            for m in &book.members[g] {
                self.throttles.insert(&m.option_id);
                self.totals.insert(&m.option_id);
            }
        }
    }
}

/// Makes `known` know the totals and throttles `involved` names, as they are before the batch
/// adds to them.
async fn before(tx: &mut WriteTx, involved: &Involved<'_>, known: &mut Months) -> Result<()> {
    let months = &involved.months;
    let unknown = |options: &foldhash::HashSet<&str>, known: &dyn Fn(&str, Month) -> bool| {
        options
            .iter()
            .filter(|o| months.iter().any(|m| !known(o, *m)))
            .map(|o| (*o).to_owned())
            .collect::<Vec<String>>()
    };
    let limited = unknown(&involved.totals, &|o, m| known.total(o, m).is_some());
    let involved = unknown(&involved.throttles, &|o, m| known.throttle(o, m).is_some());
    let month_names: Vec<String> = months.iter().map(Month::to_string).collect();
    let month = |m: String| {
        m.parse::<Month>()
            .map_err(|e| StorageError::Corrupt(format!("month {m}: {e}")))
    };
    for (o, m, bytes, longest) in option_months::<(String, String, i64, i64)>(
        tx,
        "option_id, month, bytes, longest",
        "usage_totals",
        &limited,
        &month_names,
    )
    .await?
    {
        known
            .totals
            .entry(month(m)?)
            .or_default()
            .insert(o, (bytes, longest));
    }
    for (o, m, from) in option_months::<(String, String, i64)>(
        tx,
        "option_id, month, from_at",
        "auto_throttles",
        &involved,
        &month_names,
    )
    .await?
    {
        known
            .throttled
            .entry(month(m)?)
            .or_default()
            .insert(o, Some(from));
    }
    for m in months {
        let totals = known.totals.entry(*m).or_default();
        for o in &limited {
            totals.entry(o.clone()).or_insert((0, 0));
        }
        let throttled = known.throttled.entry(*m).or_default();
        for o in &involved {
            throttled.entry(o.clone()).or_insert(None);
        }
    }
    Ok(())
}

/// The option months a batch decides beyond its totals.
struct Plan<'b> {
    /// Months over their limit, to decide from their later records: an option's own (cap), or
    /// its group's (pack) with the members.
    over: Vec<(String, Month, Option<&'b str>, Vec<&'b str>)>,
    /// Months to recompute from all their records.
    again: BTreeSet<(String, Month)>,
}

/// An option month's total after the batch.
fn total_after(before: &Months, touched: &Touched<'_>, option: &str, month: Month) -> u64 {
    let stored = before.total(option, month).map_or(0, |(bytes, _)| bytes);
    let added = touch(touched, option, month).map_or(0, |t| t.bytes);
    u64::try_from(stored.saturating_add(added)).unwrap_or(0)
}

/// Plans the throttle decisions of the option months a batch touched (R9.6, R9.9) from the
/// month totals: a month whose total does not exceed its lowest cap or pack, or whose throttle
/// only got records ending after its crossing, stays as it was; the others are [`decide`]d.
async fn plan<'b>(
    book: &'b MobileBook,
    touched: &Touched<'b>,
    before: &Months,
) -> Result<Plan<'b>> {
    let total = |option: &str, month: Month| total_after(before, touched, option, month);
    let throttle = |option: &str, month: Month| before.throttle(option, month).flatten();
    let mut over: Vec<(String, Month, Option<&'b str>, Vec<&'b str>)> = Vec::new();
    let mut group_seen: BTreeSet<(&'b str, Month)> = BTreeSet::new();
    let mut again: BTreeSet<(String, Month)> = BTreeSet::new();
    // In key order, so that events come out in the same order whatever the map's.
    let mut changes: Vec<_> = touched.iter().collect();
    changes.sort_unstable_by_key(|(key, _)| **key);
    for (i, (&(option, month), change)) in changes.into_iter().enumerate() {
        // Lets the totals statements it runs beside go on (see `ingest`).
        if i % 512 == 511 {
            tokio::task::yield_now().await;
        }
        let groups: Vec<&str> = book
            .groups_of
            .get(option)
            .into_iter()
            .flatten()
            .filter(|g| {
                book.members[*g]
                    .iter()
                    .any(|m| m.option_id == option && m.in_month(month))
            })
            .map(String::as_str)
            .collect();
        if groups.is_empty() {
            let cap = book
                .usage_types
                .get(option)
                .and_then(|t| mobile::lowest_limit(t, month, |u| u.monthly_cap_bytes()));
            let stands = match (cap, throttle(option, month)) {
                (None, None) => true,
                (Some(cap), None) => !exceeds(total(option, month), cap),
                (Some(_), Some(from)) => change.keeps(from)?,
                (None, Some(_)) => {
                    again.insert((option.to_owned(), month));
                    true
                }
            };
            if !stands {
                over.push((option.to_owned(), month, None, vec![option]));
            }
        }
        for g in groups {
            if !group_seen.insert((g, month)) {
                continue;
            }
            let members: Vec<&str> = book.members[g]
                .iter()
                .filter(|m| m.in_month(month))
                .map(|m| m.option_id.as_str())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let stands = match members.iter().filter_map(|m| throttle(m, month)).min() {
                Some(from) => {
                    let mut keeps = true;
                    for m in &members {
                        if let Some(t) = touch(touched, m, month) {
                            keeps &= t.keeps(from)?;
                        }
                    }
                    keeps
                }
                None => {
                    // Every byte of every member that month bounds the pooled use.
                    let pooled = members
                        .iter()
                        .fold(0u64, |sum, m| sum.saturating_add(total(m, month)));
                    book.packs
                        .get(g)
                        .and_then(|p| {
                            mobile::lowest_limit(p, month, |gb| Some(mobile::pack_bytes(*gb)))
                        })
                        .is_none_or(|pack| !exceeds(pooled, pack))
                }
            };
            if !stands {
                over.push((option.to_owned(), month, Some(g), members));
            }
        }
    }

    Ok(Plan { over, again })
}

/// A month over its limit, to decide from its members' records ending at or after `until`
/// (which start at or after `from`).
struct Reread<'b> {
    option: String,
    month: Month,
    group: Option<&'b str>,
    members: Vec<&'b str>,
    until: i64,
    from: i64,
}

/// The records the `rereads` need, by option and month: per month, those of all their members
/// starting at or after the earliest `from`, read together instead of month by month.
async fn later_records(
    tx: &mut WriteTx,
    rereads: &[Reread<'_>],
) -> Result<HashMap<(String, Month), Vec<Usage>>> {
    let mut months: BTreeMap<Month, (BTreeSet<&str>, i64)> = BTreeMap::new();
    for r in rereads {
        let (options, from) = months.entry(r.month).or_insert((BTreeSet::new(), r.from));
        options.extend(r.members.iter().copied());
        *from = (*from).min(r.from);
    }
    let mut out: HashMap<(String, Month), Vec<Usage>> = HashMap::new();
    for (month, (options, from)) in months {
        let options: Vec<String> = options.into_iter().map(str::to_owned).collect();
        for chunk in options.chunks(ROWS_PER_STATEMENT) {
            for r in usage_of_starting(tx.conn(), chunk, month, from).await? {
                out.entry((r.option_id.clone(), month)).or_default().push(r);
            }
        }
    }
    Ok(out)
}

/// Carries out a [`Plan`]: a month over its limit is decided from the records ending at or
/// after the earliest end the batch touched, counting on from the rest of the total
/// ([`mobile::Counted`]); the few months that cannot be (a member joined or left mid-month, a
/// throttle without a cap) are recomputed from all their records by [`recompute`]. Returns the
/// option months whose throttle it rewrote.
async fn decide(
    tx: &mut WriteTx,
    book: &MobileBook,
    touched: &Touched<'_>,
    before: &Months,
    plan: Plan<'_>,
) -> Result<Vec<(String, Month)>> {
    let Plan { over, mut again } = plan;
    let stored = |option: &str, month: Month| before.total(option, month).unwrap_or((0, 0));
    let total = |option: &str, month: Month| total_after(before, touched, option, month);
    let mut rereads = Vec::new();
    for (option, month, group, members) in over {
        // The batch changed no record of these months ending before `until`.
        let Some(until) = members
            .iter()
            .filter_map(|m| touch(touched, m, month).and_then(|t| t.earliest_end))
            .min()
        else {
            again.insert((option, month));
            continue;
        };
        let longest = members
            .iter()
            .map(|m| {
                stored(m, month)
                    .1
                    .max(touch(touched, m, month).map_or(0, |t| t.longest))
            })
            .max()
            .unwrap_or(0);
        rereads.push(Reread {
            option,
            month,
            group,
            members,
            until,
            from: until - longest,
        });
    }
    let records = later_records(tx, &rereads).await?;
    let mut decided = Vec::new();
    for Reread {
        option,
        month,
        group,
        members,
        until,
        from,
    } in rereads
    {
        let member_ids: Vec<String> = members.iter().map(|m| (*m).to_owned()).collect();
        let later: Vec<Usage> = member_ids
            .iter()
            .filter_map(|m| records.get(&(m.clone(), month)))
            .flatten()
            .filter(|r| r.start.as_microsecond() >= from && r.end.as_microsecond() >= until)
            .cloned()
            .collect();
        let counted = mobile::Counted {
            bytes: members
                .iter()
                .fold(0u64, |sum, m| sum.saturating_add(total(m, month)))
                .saturating_sub(
                    later
                        .iter()
                        .fold(0u64, |sum, r| sum.saturating_add(r.bytes)),
                ),
            until: timestamp(until)?,
        };
        let corrupt = |e: mpc_domain::calendar::CalendarError| StorageError::Corrupt(e.to_string());
        let decisions = match group {
            None => mobile::sim_throttle_after(
                &option,
                &book.usage_types[&option],
                month,
                counted,
                &later,
            )
            .map_err(corrupt)?
            .map(|t| vec![(option.clone(), t)]),
            Some(g) => match book.packs.get(g) {
                Some(packs) => mobile::group_throttles_after(
                    g,
                    &book.members[g],
                    packs,
                    month,
                    counted,
                    &later,
                )
                .map_err(corrupt)?,
                None => None,
            }
            .map(|throttles| {
                member_ids
                    .iter()
                    .map(|m| {
                        (
                            m.clone(),
                            throttles.iter().find(|t| t.option_id == *m).cloned(),
                        )
                    })
                    .collect()
            }),
        };
        match decisions {
            Some(decisions) => decided.extend(decisions.into_iter().map(|(o, t)| (o, month, t))),
            None => {
                again.insert((option, month));
            }
        }
    }
    let mut rewritten = store_decisions(tx, decided).await?;
    rewritten.extend(recompute(tx, &again).await?);
    Ok(rewritten)
}

/// Keeps the stored row of a record id already held.
const INSERT_NEW: &str = " ON CONFLICT (record_id) DO NOTHING";
/// Replaces a stored record by its correction and counts the correction.
const REPLACE_CORRECTED: &str = " ON CONFLICT (record_id) DO UPDATE SET iccid = excluded.iccid, \
     option_id = excluded.option_id, start_at = excluded.start_at, end_at = excluded.end_at, \
     bytes_up = excluded.bytes_up, bytes_down = excluded.bytes_down, \
     received_at = excluded.received_at, corrections = usage_records.corrections + 1";

/// Writes `items` one statement per chunk: each statement is built, and the chunk before it
/// handed to `done` with the rows it wrote, while the database runs the one before.
async fn pipelined<'c, T>(
    tx: &mut WriteTx,
    items: &'c [T],
    build: impl Fn(&[T]) -> Sql,
    mut done: impl FnMut(&'c [T], u64),
) -> Result<()> {
    let chunks: Vec<&[T]> = items.chunks(ROWS_PER_STATEMENT).collect();
    let mut next = chunks.first().map(|c| build(c));
    let mut finished = None;
    for (i, chunk) in chunks.iter().enumerate() {
        let Some(sql) = next.take() else { break };
        let (written, ()) = tokio::join!(biased; sql.execute(tx.conn()), async {
            next = chunks.get(i + 1).map(|c| build(c));
            if let Some((chunk, rows)) = finished.take() {
                done(chunk, rows);
            }
        });
        finished = Some((*chunk, written?));
    }
    if let Some((chunk, rows)) = finished {
        done(chunk, rows);
    }
    Ok(())
}

/// The statement writing `records`, ending in `conflict`.
fn insert_sql<'r, 'a: 'r>(
    backend: crate::Backend,
    records: impl IntoIterator<Item = &'r Resolved<'a>>,
    received: i64,
    conflict: &str,
) -> Sql {
    let mut q = Sql::positional(
        backend,
        "INSERT INTO usage_records (record_id, iccid, option_id, start_at, end_at, bytes_up, \
         bytes_down, received_at) VALUES ",
    );
    for (i, x) in records.into_iter().enumerate() {
        q.row(i == 0, |r| {
            r.bind(x.r.record_id.clone())
                .bind(x.r.iccid.clone())
                .bind(x.option_id.to_owned())
                .bind(x.r.start)
                .bind(x.r.end)
                .bind(x.r.bytes_up)
                .bind(x.r.bytes_down)
                .bind(received);
        });
    }
    q.push(conflict);
    q
}

/// Adds `records` to the month changes of their options.
fn add_all<'a>(added: &mut Touched<'a>, records: &[Resolved<'a>]) {
    for x in records {
        added.entry((x.option_id, x.month)).or_default().add(
            x.r.start,
            x.r.end,
            x.r.bytes_up + x.r.bytes_down,
        );
    }
}

/// Ingests a batch of records (R9.9): stores new ones, replaces corrected ones, skips identical
/// re-sends, keeps `rejected` and the records it refuses in `usage_rejections`, and recomputes
/// the throttle decisions of every option and group month the batch touched.
pub async fn ingest(
    store: &Store,
    records: Vec<Incoming>,
    rejected: Vec<Rejection>,
    journal: JournalEntry,
) -> Result<IngestSummary> {
    let _job = store.job().await;
    let mut summary = IngestSummary {
        batch_id: new_id(),
        rejected,
        ..IngestSummary::default()
    };
    // Resolve, and find whose months the decisions read, with the book this process holds
    // before waiting for the write lock; under it, again only if the book changed meanwhile.
    let cached = store.mobile_cache().and_then(|c| state(c).book.clone());
    let early = match &cached {
        Some((_, book)) => {
            let resolution = resolve(book, &records)?;
            let involved = Involved::of(book, &resolution.resolved);
            Some((resolution, involved))
        }
        None => None,
    };
    let mut tx = store.write().await?;
    tx.lock("mobile-usage").await?;
    let versions = versions(&mut tx).await?;
    let generation = versions.map(|(generation, _)| generation);
    let book = mobile_book(&mut tx, &records, generation).await?;
    let (resolution, mut involved) = match (early, &cached) {
        (Some(early), Some((cached, _))) if generation == Some(*cached) => early,
        _ => {
            let resolution = resolve(&book, &records)?;
            let involved = Involved::of(&book, &resolution.resolved);
            (resolution, involved)
        }
    };
    let resolved = resolution.resolved;
    summary.rejected.extend(resolution.rejected);
    summary.duplicates += resolution.duplicates;
    summary.corrected += resolution.corrected;

    // Classify against what is stored. SQLite inserts each chunk first, skipping the record ids
    // it holds, and looks up only the chunks where it skipped some: those rows are older than
    // the batch's first new rowid. PostgreSQL looks every chunk up, then inserts the new records.
    let received = now_micros();
    let first_new_rowid: Option<i64> = match tx.backend() {
        crate::Backend::Sqlite => Some(
            sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(rowid), 0) + 1 FROM usage_records")
                .fetch_one(tx.conn())
                .await?,
        ),
        crate::Backend::Postgres => None,
    };
    // What corrections take out, record by record; what the batch adds, by option and month.
    let mut taken_out: Vec<(String, Month, i64, i64)> = Vec::new();
    let mut added = Touched::default();
    let (mut new, mut replaced): (Vec<&Resolved>, Vec<&Resolved>) = (Vec::new(), Vec::new());
    // Chunks holding record ids stored before the batch: looked up and classified one by one.
    let mut held: Vec<&[Resolved]> = Vec::new();
    match first_new_rowid {
        Some(_) => {
            let backend = tx.backend();
            let build = |chunk: &[Resolved]| insert_sql(backend, chunk, received, INSERT_NEW);
            pipelined(&mut tx, &resolved, build, |chunk, inserted| {
                if inserted < chunk.len() as u64 {
                    held.push(chunk);
                } else {
                    summary.accepted += chunk.len();
                    add_all(&mut added, chunk);
                }
            })
            .await?;
        }
        None => held = resolved.chunks(ROWS_PER_STATEMENT).collect(),
    }
    for chunk in held {
        let mut q = Sql::positional(
            tx.backend(),
            "SELECT record_id, iccid, option_id, start_at, end_at, bytes_up, bytes_down \
             FROM usage_records WHERE record_id IN ",
        );
        q.bind_list(chunk.iter().map(|x| x.r.record_id.clone()));
        if let Some(rowid) = first_new_rowid {
            q.push(" AND rowid < ").bind(rowid);
        }
        let stored: HashMap<String, StoredRecord> = q
            .query_as::<StoredRecord>()?
            .fetch_all(tx.conn())
            .await?
            .into_iter()
            .map(|s| (s.record_id.clone(), s))
            .collect();
        for x in chunk {
            match stored.get(&x.r.record_id) {
                Some(s)
                    if s.option_id == x.option_id
                        && (&s.iccid, s.start_at, s.end_at, s.bytes_up, s.bytes_down)
                            == (&x.r.iccid, x.r.start, x.r.end, x.r.bytes_up, x.r.bytes_down) =>
                {
                    summary.duplicates += 1;
                    continue;
                }
                Some(s) => {
                    summary.corrected += 1;
                    taken_out.push((
                        s.option_id.clone(),
                        month_of(s.start_at)?,
                        s.end_at,
                        s.bytes_up + s.bytes_down,
                    ));
                    replaced.push(x);
                }
                None => {
                    summary.accepted += 1;
                    if first_new_rowid.is_none() {
                        new.push(x);
                    }
                }
            }
            add_all(&mut added, std::slice::from_ref(x));
        }
    }
    let mut touched = added;
    for (option_id, month, end, bytes) in &taken_out {
        touched
            .entry((option_id.as_str(), *month))
            .or_default()
            .change(*end, -bytes);
    }
    // On PostgreSQL new records are plain inserts (the lookup above saw none of them, under the
    // write lock); replaced ones keep their row and count the correction.
    for (writes, conflict) in [(new, ""), (replaced, REPLACE_CORRECTED)] {
        let backend = tx.backend();
        let build =
            |chunk: &[&Resolved]| insert_sql(backend, chunk.iter().copied(), received, conflict);
        pipelined(&mut tx, &writes, build, |_, _| {}).await?;
    }
    summary.rejected.sort_by_key(|r| r.line);
    for chunk in summary.rejected.chunks(ROWS_PER_STATEMENT) {
        let mut q = Sql::positional(
            tx.backend(),
            "INSERT INTO usage_rejections (batch_id, line, record_id, iccid, reason, detail, received_at) VALUES ",
        );
        for (i, r) in chunk.iter().enumerate() {
            q.row(i == 0, |row| {
                row.bind(summary.batch_id.clone())
                    .bind(r.line as i64)
                    .bind(r.record_id.clone())
                    .bind(r.iccid.clone())
                    .bind(r.reason.to_owned())
                    .bind(r.detail.clone())
                    .bind(received);
            });
        }
        q.execute(tx.conn()).await?;
    }
    // The months as the last batch left them, if no other process wrote since.
    let mut months = match (versions, store.mobile_cache()) {
        (Some((_, usage)), Some(cache)) => state(cache)
            .months
            .take()
            .filter(|(version, _)| *version == usage)
            .map(|(_, months)| months),
        _ => None,
    }
    .unwrap_or_default();
    involved.add(&book, taken_out.iter().map(|(o, m, ..)| (o.as_str(), *m)));
    before(&mut tx, &involved, &mut months).await?;
    // Planned while SQLite's worker thread adds to the totals: the plan yields now and then, so
    // that the next totals statement goes out as soon as the one before is written.
    let (totals, plan) =
        tokio::join!(biased; add_totals(&mut tx, &touched), plan(&book, &touched, &months));
    totals?;
    let rewritten = decide(&mut tx, &book, &touched, &months, plan?).await?;
    // The months go back before the commit, under a version no other transaction writes: if
    // the commit fails, the stored version is not theirs.
    if let (Some(_), Some(cache)) = (versions, store.mobile_cache()) {
        let random =
            getrandom::u64().map_err(|e| StorageError::Corrupt(format!("no randomness: {e}")))?;
        let version = i64::try_from(random >> 1).unwrap_or_default();
        sqlx::query("UPDATE mobile_generation SET usage_version = $1")
            .bind(version)
            .execute(tx.conn())
            .await?;
        months.absorb(&touched, &rewritten);
        state(cache).months = Some((version, months));
    }
    tx.commit(journal.outcome(serde_json::json!({
        "batch_id": summary.batch_id,
        "accepted": summary.accepted,
        "duplicates": summary.duplicates,
        "corrected": summary.corrected,
        "rejected": summary.rejected.len(),
    })))
    .await?;
    Ok(summary)
}

/// Microseconds in an hour: SQLite indexes usage records by `start_at / HOUR_MICROS`
/// (migration 0010).
const HOUR_MICROS: i64 = 3_600_000_000;

/// The records of `options` in `month`, as the domain reads them.
pub async fn usage_of(
    conn: &mut AnyConnection,
    options: &[String],
    month: Month,
) -> Result<Vec<Usage>> {
    usage_of_starting(conn, options, month, i64::MIN).await
}

/// The records of `options` in `month` that start at or after `from` (microseconds).
///
/// On SQLite records are indexed by their hour and then option, so the month is read hour by
/// hour (a Tokyo month starts on a whole UTC hour) up to the latest hour stored; PostgreSQL
/// indexes them by option.
async fn usage_of_starting(
    conn: &mut AnyConnection,
    options: &[String],
    month: Month,
    from: i64,
) -> Result<Vec<Usage>> {
    if options.is_empty() {
        return Ok(Vec::new());
    }
    let (start, until) = month_bounds(month).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    let (from, until) = (start.as_microsecond().max(from), until.as_microsecond());
    if from >= until {
        return Ok(Vec::new());
    }
    const COLUMNS: &str = "SELECT u.option_id, u.start_at, u.end_at, u.bytes_up, u.bytes_down";
    let mut q = if conn.backend_name() == "SQLite" {
        // Up to the latest hour any record starts in (a lookup in the hour index), not through
        // the hours of the month still to come.
        let mut q = Sql::new("WITH RECURSIVE hours(h) AS (SELECT ");
        q.bind(from / HOUR_MICROS)
            .push(" UNION ALL SELECT h + 1 FROM hours WHERE h < MIN(")
            .bind((until - 1) / HOUR_MICROS)
            .push(", (SELECT MAX(start_at / 3600000000) FROM usage_records))) ")
            .push(COLUMNS)
            .push(" FROM hours CROSS JOIN usage_records u WHERE u.start_at / 3600000000 = hours.h AND ");
        q
    } else {
        let mut q = Sql::new(COLUMNS);
        q.push(" FROM usage_records u WHERE ");
        q
    };
    q.push("u.option_id IN ")
        .bind_list(options.iter().cloned())
        .push(" AND u.start_at >= ")
        .bind(from)
        .push(" AND u.start_at < ")
        .bind(until);
    q.query_as::<(String, i64, i64, i64, i64)>()?
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|(option_id, start, end, up, down)| {
            Ok(Usage {
                option_id,
                start: timestamp(start)?,
                end: timestamp(end)?,
                bytes: u64::try_from(up.saturating_add(down))
                    .map_err(|_| StorageError::Corrupt("negative bytes".into()))?,
            })
        })
        .collect()
}

/// Recomputes the decisions of the option months in `affected`, and of the groups their
/// options belonged to in those months; appends an event for each decision that changed.
/// Returns the option months whose throttle it rewrote.
async fn recompute(
    tx: &mut WriteTx,
    affected: &BTreeSet<(String, Month)>,
) -> Result<Vec<(String, Month)>> {
    let mut rewritten = Vec::new();
    let mut by_contractor: BTreeMap<String, Vec<(String, Month)>> = BTreeMap::new();
    for (option_id, month) in affected {
        let owner =
            crate::contracts::owner_of(tx.conn(), crate::contracts::Owned::Option, option_id)
                .await?
                .ok_or_else(|| {
                    StorageError::Corrupt(format!("usage of unknown option {option_id}"))
                })?;
        by_contractor
            .entry(owner)
            .or_default()
            .push((option_id.clone(), *month));
    }
    for (contractor, months) in by_contractor {
        let book = load_book(tx.conn(), &contractor).await?;
        let mut decided: BTreeMap<(String, Month), Option<Throttle>> = BTreeMap::new();
        let mut groups: BTreeSet<(String, Month)> = BTreeSet::new();
        for (option_id, month) in months {
            let option = book
                .option(&option_id)
                .ok_or_else(|| StorageError::Corrupt(format!("option {option_id}")))?;
            for g in &book.groups {
                if g.members
                    .iter()
                    .any(|m| m.option_id == option_id && m.in_month(month))
                {
                    groups.insert((g.id.clone(), month));
                }
            }
            let throttle = match mobile::lowest_limit(&option.usage_types, month, |u| {
                u.monthly_cap_bytes()
            }) {
                Some(cap) => {
                    let used: Option<i64> = sqlx::query_scalar(
                        "SELECT bytes FROM usage_totals WHERE option_id = $1 AND month = $2",
                    )
                    .bind(option_id.clone())
                    .bind(month.to_string())
                    .fetch_optional(tx.conn())
                    .await?;
                    if exceeds(u64::try_from(used.unwrap_or(0)).unwrap_or(0), cap) {
                        let records =
                            usage_of(tx.conn(), std::slice::from_ref(&option_id), month).await?;
                        mobile::sim_throttle(option, month, &records)
                            .map_err(|e| StorageError::Corrupt(e.to_string()))?
                    } else {
                        None
                    }
                }
                None => None,
            };
            decided.entry((option_id, month)).or_insert(throttle);
        }
        for (group_id, month) in groups {
            let group = book
                .group(&group_id)
                .ok_or_else(|| StorageError::Corrupt(group_id.clone()))?;
            let members: Vec<String> = group
                .members
                .iter()
                .map(|m| m.option_id.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let records = usage_of(tx.conn(), &members, month).await?;
            let throttles = mobile::group_throttles(group, month, &records)
                .map_err(|e| StorageError::Corrupt(e.to_string()))?;
            for m in members {
                let t = throttles.iter().find(|t| t.option_id == m).cloned();
                decided.insert((m, month), t);
            }
        }
        let decided = decided.into_iter().map(|((o, m), t)| (o, m, t)).collect();
        rewritten.extend(store_decisions(tx, decided).await?);
    }
    Ok(rewritten)
}

#[derive(sqlx::FromRow)]
struct AutoRow {
    option_id: String,
    month: String,
    from_at: i64,
    until_at: i64,
    limit_bytes: i64,
    used_bytes: i64,
    basis: String,
    group_id: Option<String>,
    usage_type: Option<String>,
}

impl AutoRow {
    fn throttle(self) -> Result<Throttle> {
        let basis = match (self.basis.as_str(), self.group_id, self.usage_type) {
            ("pack", Some(group_id), _) => Basis::Pack { group_id },
            ("cap", _, Some(t)) => Basis::Cap {
                usage_type: from_wire::<MobileUsageType>(&t)?,
            },
            (other, ..) => return Err(StorageError::Corrupt(format!("throttle basis {other}"))),
        };
        Ok(Throttle {
            option_id: self.option_id,
            month: self
                .month
                .parse()
                .map_err(|e: mpc_domain::calendar::CalendarError| {
                    StorageError::Corrupt(e.to_string())
                })?,
            from: timestamp(self.from_at)?,
            until: timestamp(self.until_at)?,
            limit: u64::try_from(self.limit_bytes).unwrap_or(0),
            used: u64::try_from(self.used_bytes).unwrap_or(0),
            basis,
        })
    }
}

const AUTO_COLUMNS: &str = "SELECT option_id, month, from_at, until_at, limit_bytes, used_bytes, basis, group_id, usage_type FROM auto_throttles";

/// Stores the automatic throttles of option months, or their absence (R9.9), appending an
/// event for each SIM of a month whose throttle changed, in the order given (the last decision
/// of a month counts); the option months that changed.
async fn store_decisions(
    tx: &mut WriteTx,
    decisions: Vec<(String, Month, Option<Throttle>)>,
) -> Result<Vec<(String, Month)>> {
    let mut last: HashMap<(String, Month), usize> = HashMap::new();
    for (i, (option_id, month, _)) in decisions.iter().enumerate() {
        last.insert((option_id.clone(), *month), i);
    }
    let options: BTreeSet<String> = last.keys().map(|(o, _)| o.clone()).collect();
    let options: Vec<String> = options.into_iter().collect();
    let mut stored: HashMap<(String, Month), Throttle> = HashMap::new();
    for row in rows_in::<AutoRow>(tx, AUTO_COLUMNS, "option_id", &options).await? {
        let t = row.throttle()?;
        stored.insert((t.option_id.clone(), t.month), t);
    }
    // Only the instants matter to a mobile core; a higher use after the throttle is no change.
    let instants = |t: Option<&Throttle>| t.map(|t| (t.from, t.until));
    let changed: Vec<(String, Month, Option<Throttle>)> = decisions
        .into_iter()
        .enumerate()
        .filter(|(i, (o, m, t))| {
            let key = (o.clone(), *m);
            last[&key] == *i && instants(stored.get(&key)) != instants(t.as_ref())
        })
        .map(|(_, d)| d)
        .collect();
    let backend = tx.backend();
    pipelined(
        tx,
        &changed,
        |chunk| {
            let mut q = Sql::positional(
                backend,
                "DELETE FROM auto_throttles WHERE (option_id, month) IN (VALUES ",
            );
            for (i, (option_id, month, _)) in chunk.iter().enumerate() {
                q.row(i == 0, |r| {
                    r.bind(option_id.clone()).bind(month.to_string());
                });
            }
            q.push(")");
            q
        },
        |_, _| {},
    )
    .await?;
    let throttles: Vec<&Throttle> = changed.iter().filter_map(|(.., t)| t.as_ref()).collect();
    pipelined(
        tx,
        &throttles,
        |chunk| {
            let mut q = Sql::positional(
                backend,
                "INSERT INTO auto_throttles (option_id, month, from_at, until_at, limit_bytes, \
                 used_bytes, basis, group_id, usage_type) VALUES ",
            );
            for (i, t) in chunk.iter().enumerate() {
                let (basis, group_id, usage_type) = match &t.basis {
                    Basis::Cap { usage_type } => {
                        ("cap", None, Some(usage_type.as_str().to_owned()))
                    }
                    Basis::Pack { group_id } => ("pack", Some(group_id.clone()), None),
                };
                q.row(i == 0, |r| {
                    r.bind(t.option_id.clone())
                        .bind(t.month.to_string())
                        .bind(t.from.as_microsecond())
                        .bind(t.until.as_microsecond())
                        .bind(i64::try_from(t.limit).unwrap_or(i64::MAX))
                        .bind(i64::try_from(t.used).unwrap_or(i64::MAX))
                        .bind(basis.to_owned())
                        .bind(group_id)
                        .bind(usage_type);
                });
            }
            q
        },
        |_, _| {},
    )
    .await?;
    let changed_options: BTreeSet<String> = changed.iter().map(|(o, ..)| o.clone()).collect();
    let changed_options: Vec<String> = changed_options.into_iter().collect();
    let mut sims: HashMap<String, Vec<SimRow>> = HashMap::new();
    for s in rows_in::<SimRow>(tx, SIM_COLUMNS, "option_id", &changed_options).await? {
        sims.entry(s.option_id.clone()).or_default().push(s);
    }
    let mut events = Vec::new();
    for (option_id, month, throttle) in &changed {
        let (kind, from, until, reason) = match throttle {
            Some(t) => (
                "throttle",
                Some(t.from.as_microsecond()),
                Some(t.until.as_microsecond()),
                Some(wire(&t.basis)),
            ),
            None => (
                "withdrawn",
                None,
                None,
                Some("corrected use no longer exceeds the limit".to_owned()),
            ),
        };
        let mut serving: Vec<&SimRow> = sims.get(option_id).into_iter().flatten().collect();
        serving.sort_by(|a, b| (&a.iccid, &a.from_on).cmp(&(&b.iccid, &b.from_on)));
        for s in serving {
            if s.overlaps(*month)? {
                events.push(NewEvent {
                    iccid: s.iccid.clone(),
                    option_id: option_id.clone(),
                    kind: kind.to_owned(),
                    month: Some(*month),
                    from,
                    until,
                    reason: reason.clone(),
                });
            }
        }
    }
    append_events(tx, &events).await?;
    Ok(changed.into_iter().map(|(o, m, _)| (o, m)).collect())
}

/// A change of a SIM's throttle, for `throttle_events`.
struct NewEvent {
    iccid: String,
    option_id: String,
    kind: String,
    month: Option<Month>,
    from: Option<i64>,
    until: Option<i64>,
    reason: Option<String>,
}

/// Appends `events` to `throttle_events` in their order, which their `seq` follows.
async fn append_events(tx: &mut WriteTx, events: &[NewEvent]) -> Result<()> {
    let (backend, created) = (tx.backend(), now_micros());
    pipelined(
        tx,
        events,
        |chunk| {
            let mut q = Sql::positional(
                backend,
                "INSERT INTO throttle_events (iccid, option_id, kind, month, from_at, until_at, \
                 reason, created_at) VALUES ",
            );
            for (i, e) in chunk.iter().enumerate() {
                q.row(i == 0, |r| {
                    r.bind(e.iccid.clone())
                        .bind(e.option_id.clone())
                        .bind(e.kind.clone())
                        .bind(e.month.map(|m| m.to_string()))
                        .bind(e.from)
                        .bind(e.until)
                        .bind(e.reason.clone())
                        .bind(created);
                });
            }
            q
        },
        |_, _| {},
    )
    .await
}

/// A change of a SIM's throttle decisions.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub seq: i64,
    pub iccid: String,
    pub option_id: String,
    /// `throttle`, `withdrawn`, `manual_throttle` or `manual_release`.
    pub kind: String,
    pub month: Option<String>,
    pub from_at: Option<i64>,
    pub until_at: Option<i64>,
    pub reason: Option<String>,
    pub created_at: i64,
}

/// Events after the cursor `after`, oldest first, at most `limit`.
pub async fn events_since(
    conn: &mut AnyConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<EventRow>> {
    Ok(sqlx::query_as(
        "SELECT seq, iccid, option_id, kind, month, from_at, until_at, reason, created_at \
         FROM throttle_events WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Throttles or releases a SIM by hand (R9.9), overriding the automatic decisions.
///
/// # Errors
/// [`StorageError::NotFound`] for an unknown SIM; a refusal with R9.9 without a reason.
pub async fn manual(
    store: &Store,
    iccid: &str,
    action: ManualAction,
    reason: &str,
    at: Timestamp,
    journal: JournalEntry,
) -> Result<Result<Manual, Refusal>> {
    let manual = match Manual::new(action, at, reason) {
        Ok(m) => m,
        Err(r) => return Ok(Err(r)),
    };
    let mut tx = store.write().await?;
    let services = sim(tx.conn(), iccid).await?;
    let last = services.last().ok_or(StorageError::NotFound)?;
    let contractor = sim_owner(tx.conn(), iccid).await?;
    sqlx::query(
        "INSERT INTO manual_throttles (iccid, action, at, reason, actor) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (iccid) DO UPDATE SET action = excluded.action, at = excluded.at, \
         reason = excluded.reason, actor = excluded.actor",
    )
    .bind(iccid.to_owned())
    .bind(wire(&action))
    .bind(at.as_microsecond())
    .bind(manual.reason.clone())
    .bind(journal.actor.clone())
    .execute(tx.conn())
    .await?;
    let event = NewEvent {
        iccid: iccid.to_owned(),
        option_id: last.option_id.clone(),
        kind: format!("manual_{}", wire(&action)),
        month: None,
        from: Some(at.as_microsecond()),
        until: None,
        reason: Some(manual.reason.clone()),
    };
    append_events(&mut tx, &[event]).await?;
    tx.commit(
        journal
            .contractor(contractor.as_deref())
            .subject(iccid)
            .outcome(serde_json::json!({ "action": action, "at": at.to_string() })),
    )
    .await?;
    Ok(Ok(manual))
}

/// A SIM's decision at an instant.
#[derive(Debug, Clone)]
pub struct Decision {
    pub iccid: String,
    pub option_id: String,
    pub state: State,
    /// The automatic throttle in force, if any (a manual release may override it).
    pub automatic: Option<Throttle>,
    pub manual: Option<Manual>,
}

/// The decisions in force at `now` of every SIM with an automatic throttle or a manual action
/// (R9.9), by ICCID.
pub async fn decisions(conn: &mut AnyConnection, now: Timestamp) -> Result<Vec<Decision>> {
    let micros = now.as_microsecond();
    let autos: Vec<AutoRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{AUTO_COLUMNS} WHERE from_at <= $1 AND until_at > $1"
    )))
    .bind(micros)
    .fetch_all(&mut *conn)
    .await?;
    let manuals: Vec<(String, String, i64, String)> =
        sqlx::query_as("SELECT iccid, action, at, reason FROM manual_throttles WHERE at <= $1")
            .bind(micros)
            .fetch_all(&mut *conn)
            .await?;
    let mut out: BTreeMap<String, Decision> = BTreeMap::new();
    let today = tokyo_date(now);
    for a in autos {
        let t = a.throttle()?;
        for s in sims_of(conn, &t.option_id).await? {
            if s.covers(today)? {
                out.insert(
                    s.iccid.clone(),
                    Decision {
                        iccid: s.iccid,
                        option_id: t.option_id.clone(),
                        state: mobile::state_at(now, std::slice::from_ref(&t), None)
                            .map_err(|e| StorageError::Corrupt(e.to_string()))?,
                        automatic: Some(t.clone()),
                        manual: None,
                    },
                );
            }
        }
    }
    for (iccid, action, at, reason) in manuals {
        let manual = Manual {
            action: from_wire(&action)?,
            at: timestamp(at)?,
            reason,
        };
        let automatic = out.get(&iccid).and_then(|d| d.automatic.clone());
        let state = mobile::state_at(now, automatic.as_slice(), Some(&manual))
            .map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let option_id = match out.get(&iccid) {
            Some(d) => d.option_id.clone(),
            None => sim(conn, &iccid)
                .await?
                .last()
                .map(|s| s.option_id.clone())
                .unwrap_or_default(),
        };
        out.insert(
            iccid.clone(),
            Decision {
                iccid,
                option_id,
                state,
                automatic,
                manual: Some(manual),
            },
        );
    }
    Ok(out.into_values().collect())
}

/// The automatic throttle of an option for a month, if any.
pub async fn throttle_of(
    conn: &mut AnyConnection,
    option_id: &str,
    month: Month,
) -> Result<Option<Throttle>> {
    let row: Option<AutoRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{AUTO_COLUMNS} WHERE option_id = $1 AND month = $2"
    )))
    .bind(option_id.to_owned())
    .bind(month.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(AutoRow::throttle).transpose()
}

/// A stored rejection, for operators.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RejectionRow {
    pub batch_id: String,
    pub line: i64,
    pub record_id: Option<String>,
    pub iccid: Option<String>,
    pub reason: String,
    pub detail: String,
    pub received_at: i64,
}

/// The rejections of a batch, by line.
pub async fn rejections(conn: &mut AnyConnection, batch_id: &str) -> Result<Vec<RejectionRow>> {
    Ok(sqlx::query_as(
        "SELECT batch_id, line, record_id, iccid, reason, detail, received_at FROM usage_rejections \
         WHERE batch_id = $1 ORDER BY line",
    )
    .bind(batch_id.to_owned())
    .fetch_all(conn)
    .await?)
}

/// Where the webhook feed of throttle events stands: the last event delivered.
pub async fn feed_cursor(conn: &mut AnyConnection, feed: &str) -> Result<i64> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT seq FROM feed_cursors WHERE name = $1")
        .bind(feed.to_owned())
        .fetch_optional(conn)
        .await?;
    Ok(seq.unwrap_or(0))
}

/// Records that a feed delivered everything up to `seq` (never moving it back).
pub async fn advance_feed(store: &Store, feed: &str, seq: i64) -> Result<()> {
    let mut tx = store.write().await?;
    tx.lock(&format!("feed:{feed}")).await?;
    sqlx::query(
        "INSERT INTO feed_cursors (name, seq) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET seq = CASE WHEN excluded.seq > feed_cursors.seq THEN excluded.seq ELSE feed_cursors.seq END",
    )
    .bind(feed.to_owned())
    .bind(seq)
    .execute(tx.conn())
    .await?;
    tx.commit_part().await?;
    Ok(())
}
