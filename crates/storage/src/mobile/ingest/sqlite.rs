//! Ingestion on SQLite: one process writes, so it keeps the book and the months between
//! batches, and inserts each chunk of records before it looks any up.

use std::sync::{Arc, Mutex};

use super::book::{MobileBook, load_mobile_book};
use super::resolve::Resolved;
use super::totals::{Months, Touched};
use super::{INSERT_NEW, Strategy, add_all, insert_sql, pipelined};
use crate::mobile::Incoming;
use crate::sql::Sql;
use crate::{Result, StorageError, WriteTx};
use mpc_domain::calendar::Month;

/// What a SQLite store keeps of mobile data between batches.
///
/// PostgreSQL serves several nodes, so there each batch reads what it reaches.
#[derive(Default)]
pub(crate) struct MobileState {
    /// The whole book, with the `mobile_generation` it was loaded at (bumped by triggers on
    /// every table it is made of, whoever writes them).
    pub(crate) book: Option<(i64, Arc<MobileBook>)>,
    /// Month totals and throttles, with the `usage_version` they are of (set anew by every
    /// batch, the only writer of both tables).
    pub(crate) months: Option<(i64, Months)>,
}

pub(crate) type MobileCache = Arc<Mutex<MobileState>>;

fn state(cache: &MobileCache) -> std::sync::MutexGuard<'_, MobileState> {
    cache.lock().unwrap_or_else(|e| e.into_inner())
}

/// The SQLite strategy of a batch: the store's [`MobileCache`], and what the batch read of
/// `mobile_generation` and `usage_records` under the write lock.
pub(super) struct Sqlite {
    cache: MobileCache,
    /// `mobile_generation.generation`, once read.
    generation: Option<i64>,
    /// `mobile_generation.usage_version`, once read.
    usage_version: Option<i64>,
    /// The rowid of the batch's first new record: every row below it was stored before.
    first_new_rowid: i64,
}

impl Sqlite {
    pub(super) fn new(cache: &MobileCache) -> Sqlite {
        Sqlite {
            cache: cache.clone(),
            generation: None,
            usage_version: None,
            first_new_rowid: 0,
        }
    }
}

impl Strategy for Sqlite {
    fn held_book(&self) -> Option<(i64, Arc<MobileBook>)> {
        state(&self.cache).book.clone()
    }

    /// The whole book, from memory while `mobile_generation` is the one it was loaded at.
    async fn book(&mut self, tx: &mut WriteTx, _records: &[Incoming]) -> Result<Arc<MobileBook>> {
        let (generation, usage_version): (i64, i64) =
            sqlx::query_as("SELECT generation, usage_version FROM mobile_generation")
                .fetch_one(tx.conn())
                .await?;
        (self.generation, self.usage_version) = (Some(generation), Some(usage_version));
        if let Some((held, book)) = &state(&self.cache).book
            && *held == generation
        {
            return Ok(book.clone());
        }
        let book = Arc::new(load_mobile_book(tx, None).await?);
        state(&self.cache).book = Some((generation, book.clone()));
        Ok(book)
    }

    fn is_current(&self, generation: i64) -> bool {
        self.generation == Some(generation)
    }

    /// Inserts each chunk, skipping the record ids it holds; the chunks where it skipped some
    /// are looked up, among the rows older than the batch's first new rowid.
    async fn insert_first<'r, 'a>(
        &mut self,
        tx: &mut WriteTx,
        resolved: &'r [Resolved<'a>],
        received: i64,
        accepted: &mut usize,
        added: &mut Touched<'a>,
    ) -> Result<Vec<&'r [Resolved<'a>]>> {
        self.first_new_rowid =
            sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(rowid), 0) + 1 FROM usage_records")
                .fetch_one(tx.conn())
                .await?;
        let mut held = Vec::new();
        let backend = tx.backend();
        let build = |chunk: &[Resolved]| insert_sql(backend, chunk, received, INSERT_NEW);
        pipelined(tx, resolved, build, |chunk, rows| {
            if rows < chunk.len() as u64 {
                held.push(chunk);
            } else {
                *accepted += chunk.len();
                add_all(added, chunk);
            }
        })
        .await?;
        Ok(held)
    }

    fn stored_before(&self, lookup: &mut Sql) {
        lookup.push(" AND rowid < ").bind(self.first_new_rowid);
    }

    /// Nothing: [`Sqlite::insert_first`] wrote them.
    async fn insert_found(&mut self, _: &mut WriteTx, _: &[&Resolved<'_>], _: i64) -> Result<()> {
        Ok(())
    }

    fn json_rows(&self, columns: &str) -> String {
        format!("SELECT json_group_array(json_array({columns}))")
    }

    /// The months as the last batch left them, if no other process wrote since.
    fn months(&mut self) -> Months {
        let usage_version = self.usage_version;
        state(&self.cache)
            .months
            .take()
            .filter(|(version, _)| Some(*version) == usage_version)
            .map(|(_, months)| months)
            .unwrap_or_default()
    }

    /// The months go back before the commit, under a version no other transaction writes: if
    /// the commit fails, the stored version is not theirs.
    async fn keep_months(
        &mut self,
        tx: &mut WriteTx,
        mut months: Months,
        touched: &Touched<'_>,
        rewritten: &[(String, Month)],
    ) -> Result<()> {
        let random =
            getrandom::u64().map_err(|e| StorageError::Corrupt(format!("no randomness: {e}")))?;
        let version = i64::try_from(random >> 1).unwrap_or_default();
        sqlx::query("UPDATE mobile_generation SET usage_version = $1")
            .bind(version)
            .execute(tx.conn())
            .await?;
        months.absorb(touched, rewritten);
        state(&self.cache).months = Some((version, months));
        Ok(())
    }
}
