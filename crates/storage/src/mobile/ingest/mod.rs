//! Ingesting a batch of usage records in one transaction.

mod cache;
mod plan;
mod resolve;
mod totals;

pub(crate) use cache::MobileCache;
pub(crate) use totals::rows_in;

use std::collections::HashMap;

use mpc_domain::calendar::Month;

use self::cache::{mobile_book, state, versions};
use self::plan::{decide, plan};
use self::resolve::{Resolved, StoredRecord, month_of, resolve};
use self::totals::{Involved, Touched, add_totals, before};
use crate::mobile::{Incoming, IngestSummary, Rejection};
use crate::sql::Sql;
use crate::{JournalEntry, Result, StorageError, Store, WriteTx, new_id, now_micros};

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
