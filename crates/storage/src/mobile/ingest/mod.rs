//! Ingesting a batch of usage records in one transaction.
//!
//! One path for both backends; the steps in which they differ are the methods of
//! [`Strategy`], implemented once for SQLite (`sqlite.rs`) and once for PostgreSQL
//! (`postgres.rs`).

mod book;
mod plan;
mod postgres;
mod resolve;
mod sqlite;
mod totals;

pub(crate) use sqlite::MobileCache;
pub(crate) use totals::rows_in;

use std::collections::HashMap;
use std::sync::Arc;

use mpc_domain::calendar::Month;

use self::book::MobileBook;
use self::plan::{decide, plan};
use self::postgres::Postgres;
use self::resolve::{Resolved, StoredRecord, month_of, resolve};
use self::sqlite::Sqlite;
use self::totals::{Involved, Months, Touched, add_totals, before};
use crate::mobile::{Incoming, IngestSummary, Rejection};
use crate::sql::Sql;
use crate::{JournalEntry, Result, Store, WriteTx, new_id, now_micros};

/// Rows per multi-row statement: 9 parameters each stays below SQLite's 32,766.
const ROWS_PER_STATEMENT: usize = 1000;

/// Keeps the stored row of a record id already held.
const INSERT_NEW: &str = " ON CONFLICT (record_id) DO NOTHING";
/// Replaces a stored record by its correction and counts the correction.
const REPLACE_CORRECTED: &str = " ON CONFLICT (record_id) DO UPDATE SET iccid = excluded.iccid, \
     option_id = excluded.option_id, start_at = excluded.start_at, end_at = excluded.end_at, \
     bytes_up = excluded.bytes_up, bytes_down = excluded.bytes_down, \
     received_at = excluded.received_at, corrections = usage_records.corrections + 1";

/// Writes `items` one statement per chunk: each statement is built, and the chunk before it
/// handed to `done` with the rows it wrote, while the database runs the one before.
pub(crate) async fn pipelined<'c, T>(
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

/// The steps of a batch in which the backends differ.
///
/// SQLite ([`Sqlite`]) is written by one process, which keeps the book and the months in memory
/// between batches (checked against `mobile_generation`) and inserts each chunk of records
/// before looking up the ids it already held. PostgreSQL ([`Postgres`]) serves several nodes,
/// so each batch reads what it reaches and looks its records up before inserting the new ones.
trait Strategy {
    /// The book this process holds before the write lock, with the generation it is of.
    fn held_book(&self) -> Option<(i64, Arc<MobileBook>)>;

    /// The book for a batch naming the SIMs in `records`, under the write lock.
    async fn book(&mut self, tx: &mut WriteTx, records: &[Incoming]) -> Result<Arc<MobileBook>>;

    /// Whether a book held at `generation` is the one [`Strategy::book`] found stored.
    fn is_current(&self, generation: i64) -> bool;

    /// Writes what the backend writes before it looks anything up, counting the chunks of
    /// `resolved` written whole in `accepted` and `added`; returns the chunks to look up.
    async fn insert_first<'r, 'a>(
        &mut self,
        tx: &mut WriteTx,
        resolved: &'r [Resolved<'a>],
        received: i64,
        accepted: &mut usize,
        added: &mut Touched<'a>,
    ) -> Result<Vec<&'r [Resolved<'a>]>>;

    /// Narrows a lookup of stored records to the rows stored before the batch.
    fn stored_before(&self, lookup: &mut Sql);

    /// Writes the records the lookups found new, unless [`Strategy::insert_first`] wrote them.
    async fn insert_found(
        &mut self,
        tx: &mut WriteTx,
        new: &[&Resolved<'_>],
        received: i64,
    ) -> Result<()>;

    /// A `SELECT` of the rows' `columns` as one JSON array text (completed by `FROM …`).
    fn json_rows(&self, columns: &str) -> String;

    /// The month totals and throttles known before the batch.
    fn months(&mut self) -> Months;

    /// Keeps `months`, as the batch leaves them, for the next batch.
    async fn keep_months(
        &mut self,
        tx: &mut WriteTx,
        months: Months,
        touched: &Touched<'_>,
        rewritten: &[(String, Month)],
    ) -> Result<()>;
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
    match store.mobile_cache() {
        Some(cache) => ingest_with(store, Sqlite::new(cache), records, rejected, journal).await,
        None => ingest_with(store, Postgres, records, rejected, journal).await,
    }
}

async fn ingest_with(
    store: &Store,
    mut strategy: impl Strategy,
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
    let held = strategy.held_book();
    let early = match &held {
        Some((generation, book)) => {
            let resolution = resolve(book, &records)?;
            let involved = Involved::of(book, &resolution.resolved);
            Some((*generation, resolution, involved))
        }
        None => None,
    };
    let mut tx = store.write().await?;
    tx.lock("mobile-usage").await?;
    let book = strategy.book(&mut tx, &records).await?;
    let (resolution, mut involved) = match early {
        Some((generation, resolution, involved)) if strategy.is_current(generation) => {
            (resolution, involved)
        }
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

    // Classify against what is stored: the chunks the strategy did not write whole are looked
    // up and classified record by record.
    let received = now_micros();
    // What corrections take out, record by record; what the batch adds, by option and month.
    let mut taken_out: Vec<(String, Month, i64, i64)> = Vec::new();
    let mut added = Touched::default();
    let (mut new, mut replaced): (Vec<&Resolved>, Vec<&Resolved>) = (Vec::new(), Vec::new());
    let held = strategy
        .insert_first(
            &mut tx,
            &resolved,
            received,
            &mut summary.accepted,
            &mut added,
        )
        .await?;
    for chunk in held {
        let mut q = Sql::positional(
            tx.backend(),
            "SELECT record_id, iccid, option_id, start_at, end_at, bytes_up, bytes_down \
             FROM usage_records WHERE record_id IN ",
        );
        q.bind_list(chunk.iter().map(|x| x.r.record_id.clone()));
        strategy.stored_before(&mut q);
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
                    new.push(x);
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
    strategy.insert_found(&mut tx, &new, received).await?;
    // Replaced records keep their row and count the correction.
    let backend = tx.backend();
    let build = |chunk: &[&Resolved]| {
        insert_sql(backend, chunk.iter().copied(), received, REPLACE_CORRECTED)
    };
    pipelined(&mut tx, &replaced, build, |_, _| {}).await?;
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
                    .bind(r.reason.as_str().to_owned())
                    .bind(r.detail.clone())
                    .bind(received);
            });
        }
        q.execute(tx.conn()).await?;
    }
    let mut months = strategy.months();
    involved.add(&book, taken_out.iter().map(|(o, m, ..)| (o.as_str(), *m)));
    before(&mut tx, &strategy, &involved, &mut months).await?;
    // Planned while SQLite's worker thread adds to the totals: the plan yields now and then, so
    // that the next totals statement goes out as soon as the one before is written.
    let (totals, plan) =
        tokio::join!(biased; add_totals(&mut tx, &touched), plan(&book, &touched, &months));
    totals?;
    let rewritten = decide(&mut tx, &book, &touched, &months, plan?).await?;
    strategy
        .keep_months(&mut tx, months, &touched, &rewritten)
        .await?;
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
