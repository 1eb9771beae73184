//! Month totals: what a batch adds to each option's month, and what was stored before it.

use std::collections::{BTreeSet, HashMap};

use jiff::civil::Date;
use mpc_domain::book::Timeline;
use mpc_domain::calendar::Month;
use mpc_domain::mobile::{self};

use super::book::MobileBook;
use super::resolve::Resolved;
use super::{ROWS_PER_STATEMENT, Strategy, pipelined};
use crate::contracts::date;
use crate::sql::Sql;
use crate::{Result, StorageError, WriteTx, timestamp};

/// What a batch changed in one option month.
#[derive(Debug, Default)]
pub(crate) struct Touch {
    /// The change of the month's total.
    pub(crate) bytes: i64,
    /// The earliest end of a record the batch added to the month or took out of it, in
    /// microseconds.
    pub(crate) earliest_end: Option<i64>,
    /// The longest interval of a record it added, in microseconds.
    pub(crate) longest: i64,
}

impl Touch {
    pub(crate) fn add(&mut self, start: i64, end: i64, bytes: i64) {
        self.change(end, bytes);
        self.longest = self.longest.max(end - start);
    }

    pub(crate) fn change(&mut self, end: i64, bytes: i64) {
        self.bytes += bytes;
        self.earliest_end = Some(self.earliest_end.map_or(end, |e| e.min(end)));
    }

    /// Whether a throttle decided from the crossing at `from` stands after this batch.
    pub(crate) fn keeps(&self, from: i64) -> Result<bool> {
        match self.earliest_end {
            Some(end) => Ok(mobile::throttle_stands(timestamp(from)?, timestamp(end)?)),
            None => Ok(true),
        }
    }
}

/// What a batch changed, by option and month.
pub(crate) type Touched<'a> = foldhash::HashMap<(&'a str, Month), Touch>;

/// The change a batch made to an option month.
pub(crate) fn touch<'t>(
    touched: &'t Touched<'_>,
    option: &'t str,
    month: Month,
) -> Option<&'t Touch> {
    touched.get(&(option, month))
}

/// Adds what the batch changed to the month totals of `usage_totals`, in key order.
pub(crate) async fn add_totals(tx: &mut WriteTx, touched: &Touched<'_>) -> Result<()> {
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
pub(crate) async fn rows_in<T>(
    tx: &mut WriteTx,
    select: &str,
    column: &str,
    keys: &[String],
) -> Result<Vec<T>>
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
    strategy: &impl Strategy,
    columns: &str,
    table: &str,
    options: &[String],
    months: &[String],
) -> Result<Vec<T>> {
    let select = strategy.json_rows(columns);
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

pub(crate) fn timelines<T: Clone>(
    rows: Vec<(String, String, T)>,
) -> Result<HashMap<String, Timeline<T>>> {
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
    pub(crate) fn total(&self, option: &str, month: Month) -> Option<(i64, i64)> {
        self.totals.get(&month)?.get(option).copied()
    }

    pub(crate) fn throttle(&self, option: &str, month: Month) -> Option<Option<i64>> {
        self.throttled.get(&month)?.get(option).copied()
    }

    /// Takes in what a batch wrote: the changes of totals it added, the throttles it rewrote
    /// (forgotten, to be read again); keeps only the latest two months it touched.
    pub(crate) fn absorb(&mut self, touched: &Touched<'_>, rewritten: &[(String, Month)]) {
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
pub(crate) struct Involved<'b> {
    months: BTreeSet<Month>,
    throttles: foldhash::HashSet<&'b str>,
    totals: foldhash::HashSet<&'b str>,
}

impl<'b> Involved<'b> {
    pub(crate) fn of(book: &'b MobileBook, resolved: &[Resolved<'b>]) -> Involved<'b> {
        let mut involved = Involved::default();
        involved.add(book, resolved.iter().map(|x| (x.option_id, x.month)));
        involved
    }

    pub(crate) fn add(
        &mut self,
        book: &'b MobileBook,
        keys: impl IntoIterator<Item = (&'b str, Month)>,
    ) {
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
pub(crate) async fn before(
    tx: &mut WriteTx,
    strategy: &impl Strategy,
    involved: &Involved<'_>,
    known: &mut Months,
) -> Result<()> {
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
        strategy,
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
        strategy,
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
