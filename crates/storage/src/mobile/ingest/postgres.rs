//! Ingestion on PostgreSQL: several nodes write, so each batch reads the part of the book and
//! the months it reaches, and looks its records up before it inserts the new ones.

use std::collections::BTreeSet;
use std::sync::Arc;

use mpc_domain::calendar::Month;

use super::book::{MobileBook, load_mobile_book};
use super::resolve::Resolved;
use super::totals::{Months, Touched};
use super::{ROWS_PER_STATEMENT, Strategy, insert_sql, pipelined};
use crate::mobile::Incoming;
use crate::sql::Sql;
use crate::{Result, WriteTx};

/// The PostgreSQL strategy of a batch: it holds nothing between batches.
pub(super) struct Postgres;

impl Strategy for Postgres {
    fn held_book(&self) -> Option<(i64, Arc<MobileBook>)> {
        None
    }

    /// The part of the book the SIMs in `records` reach.
    async fn book(&mut self, tx: &mut WriteTx, records: &[Incoming]) -> Result<Arc<MobileBook>> {
        let iccids: BTreeSet<&str> = records.iter().map(|r| r.iccid.as_str()).collect();
        let iccids = iccids.into_iter().map(str::to_owned).collect();
        Ok(Arc::new(load_mobile_book(tx, Some(iccids)).await?))
    }

    fn is_current(&self, _: i64) -> bool {
        false
    }

    /// Nothing yet: every chunk is looked up first.
    async fn insert_first<'r, 'a>(
        &mut self,
        _: &mut WriteTx,
        resolved: &'r [Resolved<'a>],
        _: i64,
        _: &mut usize,
        _: &mut Touched<'a>,
    ) -> Result<Vec<&'r [Resolved<'a>]>> {
        Ok(resolved.chunks(ROWS_PER_STATEMENT).collect())
    }

    /// Every stored row: the batch wrote none yet.
    fn stored_before(&self, _: &mut Sql) {}

    /// Plain inserts: the lookups saw none of them, under the write lock.
    async fn insert_found(
        &mut self,
        tx: &mut WriteTx,
        new: &[&Resolved<'_>],
        received: i64,
    ) -> Result<()> {
        let backend = tx.backend();
        let build = |chunk: &[&Resolved]| insert_sql(backend, chunk.iter().copied(), received, "");
        pipelined(tx, new, build, |_, _| {}).await
    }

    fn json_rows(&self, columns: &str) -> String {
        format!("SELECT COALESCE(json_agg(json_build_array({columns})), '[]')::text")
    }

    /// None known: other nodes may have written since this one's last batch.
    fn months(&mut self) -> Months {
        Months::default()
    }

    /// Nothing kept.
    async fn keep_months(
        &mut self,
        _: &mut WriteTx,
        _: Months,
        _: &Touched<'_>,
        _: &[(String, Month)],
    ) -> Result<()> {
        Ok(())
    }
}
