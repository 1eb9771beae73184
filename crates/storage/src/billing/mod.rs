//! Billing on the database: the price book, the issuer, monthly runs that stream contractors
//! range by range, invoices, payments, defaults (R6.4), outages and SLA claims.

use jiff::civil::Date;
use mpc_domain::Refusal;
use mpc_domain::billing::{Line, LineKind, MonthInput, bill_month};
use mpc_domain::book::ChargeEvent;
use mpc_domain::calendar::Month;
use mpc_domain::eligibility::InvoiceRedirect;
use mpc_domain::invoice;
use mpc_domain::money::Yen;
use mpc_domain::price::{MissingPrice, Price, PriceBook, PriceKey};
use mpc_domain::sla::ApprovedCredit;
use sqlx::AnyConnection;

use crate::contracts::{Scope, date, from_wire, load_books, opt_date, wire};

mod lease;
use crate::sql::Sql;
use crate::{JournalEntry, StorageError, Store, WriteTx, new_id, now_micros};
pub use lease::RunInProgress;
use lease::RunLease;

/// Why billing did not do something.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("{0}")]
    Refused(Refusal),
    #[error("{} price(s) missing, first: {}", .0.len(), .0[0])]
    MissingPrices(Vec<MissingPrice>),
    /// Another run holds the month (B4: one run of a month at a time).
    #[error("billing run {} of {} is in progress (started by {})", .0.run_id, .0.month, .0.started_by)]
    RunInProgress(RunInProgress),
    /// This run stalled past its lease and another run took the month over; it wrote nothing
    /// that counts.
    #[error("the billing run of {0} was taken over by another run")]
    RunSuperseded(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<Refusal> for BillingError {
    fn from(r: Refusal) -> Self {
        BillingError::Refused(r)
    }
}

impl From<sqlx::Error> for BillingError {
    fn from(e: sqlx::Error) -> Self {
        BillingError::Storage(e.into())
    }
}

pub type Result<T, E = BillingError> = std::result::Result<T, E>;

// ---------------------------------------------------------------------------------------
// Price book (R14.1)

#[derive(sqlx::FromRow)]
struct PriceRow {
    key: String,
    contractor_id: String,
    effective_from: String,
    amount: i64,
}

fn price_from_row(r: PriceRow) -> Result<Price> {
    Ok(Price {
        key: r
            .key
            .parse()
            .map_err(|e: mpc_domain::price::UnknownPriceKey| {
                StorageError::Corrupt(e.to_string())
            })?,
        contractor_id: (!r.contractor_id.is_empty()).then_some(r.contractor_id),
        effective_from: date(&r.effective_from)?,
        amount: Yen(r.amount),
    })
}

/// Prices in key order: the list (`contractor` `Some("")`), one contractor's agreements, or
/// all (`None`).
pub async fn list_prices(conn: &mut AnyConnection, contractor: Option<&str>) -> Result<Vec<Price>> {
    let mut q = Sql::new("SELECT key, contractor_id, effective_from, amount FROM prices");
    if let Some(c) = contractor {
        q.push(" WHERE contractor_id = ").bind(c.to_owned());
    }
    q.push(" ORDER BY contractor_id, key, effective_from");
    let rows: Vec<PriceRow> = q
        .query_as()?
        .fetch_all(conn)
        .await
        .map_err(StorageError::from)?;
    rows.into_iter().map(price_from_row).collect()
}

pub async fn price_book(conn: &mut AnyConnection) -> Result<PriceBook> {
    Ok(PriceBook::new(list_prices(conn, None).await?))
}

/// Sets prices (insert or replace the amount of the same key, contractor and day).
pub async fn upsert_prices(tx: &mut WriteTx, prices: &[Price]) -> Result<()> {
    for p in prices {
        mpc_domain::price::check_amount(&p.key.to_string(), p.amount.0)?;
        sqlx::query(
            "INSERT INTO prices (key, contractor_id, effective_from, amount, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (key, contractor_id, effective_from) DO UPDATE SET amount = excluded.amount, updated_at = excluded.updated_at",
        )
        .bind(p.key.to_string())
        .bind(p.contractor_id.clone().unwrap_or_default())
        .bind(p.effective_from.to_string())
        .bind(p.amount.0)
        .bind(now_micros())
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

pub async fn delete_price(
    tx: &mut WriteTx,
    key: PriceKey,
    contractor: Option<&str>,
    from: Date,
) -> Result<()> {
    let done = sqlx::query(
        "DELETE FROM prices WHERE key = $1 AND contractor_id = $2 AND effective_from = $3",
    )
    .bind(key.to_string())
    .bind(contractor.unwrap_or_default().to_owned())
    .bind(from.to_string())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound.into());
    }
    Ok(())
}

/// The price book as CSV: `key,contractor_id,effective_from,amount` (list prices have an empty
/// contractor).
pub fn prices_to_csv(prices: &[Price]) -> String {
    let mut out = String::from("key,contractor_id,effective_from,amount\n");
    for p in prices {
        out.push_str(&format!(
            "{},{},{},{}\n",
            csv_field(&p.key.to_string()),
            p.contractor_id.as_deref().unwrap_or(""),
            p.effective_from,
            p.amount.0
        ));
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Reads price CSV as written by [`prices_to_csv`]; every bad row is reported with its line
/// number, and nothing is taken unless all rows are good.
pub fn prices_from_csv(text: &str) -> std::result::Result<Vec<Price>, Vec<String>> {
    let mut prices = Vec::new();
    let mut errors = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = raw.trim();
        if line.is_empty() || (n == 0 && line.starts_with("key,")) {
            continue;
        }
        let fields = split_csv(line);
        if fields.len() != 4 {
            errors.push(format!("line {line_no}: expected 4 fields (key,contractor_id,effective_from,amount), found {}", fields.len()));
            continue;
        }
        let key = match fields[0].parse::<PriceKey>() {
            Ok(k) => k,
            Err(e) => {
                errors.push(format!("line {line_no}: {e}"));
                continue;
            }
        };
        let from = match mpc_domain::calendar::parse_date(&fields[2]) {
            Ok(d) => d,
            Err(e) => {
                errors.push(format!("line {line_no}: {e}"));
                continue;
            }
        };
        let amount = match fields[3].parse::<i64>() {
            Ok(a) => match mpc_domain::price::check_amount("amount", a) {
                Ok(a) => a,
                Err(r) => {
                    errors.push(format!("line {line_no}: {}", r.message_en));
                    continue;
                }
            },
            Err(_) => {
                errors.push(format!(
                    "line {line_no}: amount {:?} is not a whole number of yen (R14.1)",
                    fields[3]
                ));
                continue;
            }
        };
        prices.push(Price {
            key,
            contractor_id: (!fields[1].is_empty()).then(|| fields[1].clone()),
            effective_from: from,
            amount,
        });
    }
    if errors.is_empty() {
        Ok(prices)
    } else {
        Err(errors)
    }
}

fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields.into_iter().map(|f| f.trim().to_owned()).collect()
}

// ---------------------------------------------------------------------------------------
// Issuer (B3)

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Issuer {
    pub name: String,
    pub registration_number: String,
    pub address: String,
    pub contact: String,
}

pub async fn issuer(conn: &mut AnyConnection) -> Result<Option<Issuer>> {
    Ok(sqlx::query_as(
        "SELECT name, registration_number, address, contact FROM issuer WHERE id = 1",
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn set_issuer(tx: &mut WriteTx, i: &Issuer) -> Result<()> {
    invoice::check_registration_number(&i.registration_number)?;
    sqlx::query(
        "INSERT INTO issuer (id, name, registration_number, address, contact) VALUES (1, $1, $2, $3, $4) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, registration_number = excluded.registration_number, \
         address = excluded.address, contact = excluded.contact",
    )
    .bind(i.name.clone())
    .bind(i.registration_number.clone())
    .bind(i.address.clone())
    .bind(i.contact.clone())
    .execute(tx.conn())
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Monthly runs (B1, B2, B4)

/// What a run produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunSummary {
    pub month: String,
    pub contractors: usize,
    pub contracts: usize,
    pub invoices: usize,
    pub lines: usize,
    pub subtotal: Yen,
    pub tax: Yen,
    pub total: Yen,
}

/// How many contracts a run loads at once: bounds its memory whatever the data size.
/// `MPC_BILLING_CHUNK_CONTRACTS` overrides it (tests use tiny ranges to stop a run midway).
fn contracts_per_chunk() -> i64 {
    std::env::var("MPC_BILLING_CHUNK_CONTRACTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(20_000)
}
const LINES_PER_INSERT: usize = 200;

/// The invoice of an account for a month; also its number: `YYYYMM-<account id>`. The same
/// data always gives the same invoice id, so a re-run replaces an invoice instead of adding one.
fn invoice_id(month: Month, account: &str) -> String {
    format!("{}-{account}", month.to_string().replace('-', ""))
}

async fn month_status(
    conn: &mut AnyConnection,
    month: Month,
) -> Result<Option<(String, Option<String>, Option<i64>)>> {
    Ok(sqlx::query_as(
        "SELECT status, current_run, finalized_at FROM billing_months WHERE month = $1",
    )
    .bind(month.to_string())
    .fetch_optional(conn)
    .await?)
}

/// Where `month` stands (B4).
async fn month_state(conn: &mut AnyConnection, month: Month) -> Result<invoice::MonthState> {
    Ok(match month_status(conn, month).await? {
        None => invoice::MonthState::Unbilled,
        Some((status, _, _)) if status == "finalized" => invoice::MonthState::Finalized,
        Some(_) => invoice::MonthState::Open,
    })
}

/// `B4` when `month` is finalized.
async fn refuse_if_finalized(tx: &mut WriteTx, month: Month) -> Result<()> {
    invoice::check_billable(month, month_state(tx.conn(), month).await?)?;
    Ok(())
}

/// `MPC_BILLING_PAUSE_MS`: a pause after each range written, so that tests can stop a run
/// midway and show that it changed nothing.
fn pause_after_range() -> Option<std::time::Duration> {
    std::env::var("MPC_BILLING_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(std::time::Duration::from_millis)
}

/// Contractor id ranges holding about [`contracts_per_chunk`] contracts each.
async fn chunks(conn: &mut AnyConnection) -> Result<(Vec<(String, String)>, usize, usize)> {
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT c.id, CAST(COUNT(k.id) AS BIGINT) FROM contractors c LEFT JOIN contracts k ON k.contractor_id = c.id \
         GROUP BY c.id ORDER BY c.id",
    )
    .fetch_all(conn)
    .await?;
    let contractors = counts.len();
    let contracts = counts.iter().map(|(_, n)| *n as usize).sum();
    let per_chunk = contracts_per_chunk();
    let mut ranges = Vec::new();
    let mut start: Option<String> = None;
    let mut size = 0;
    for (i, (id, n)) in counts.iter().enumerate() {
        start.get_or_insert_with(|| id.clone());
        size += n;
        if size >= per_chunk || i + 1 == counts.len() {
            ranges.push((start.take().unwrap_or_default(), id.clone()));
            size = 0;
        }
    }
    Ok((ranges, contractors, contracts))
}

/// Bills `month` for every contractor. Lines are written under a new run id, chunk by chunk;
/// the last transaction builds the invoices and makes the run current, so a run stopped
/// midway changes nothing visible and running again gives the same invoices (B4).
///
/// One run of a month at a time: the run holds the month's lease (see [`lease`]) from its
/// first transaction to its last, and at most [`Store::job`]'s share of the connections while
/// it runs. `progress(done, total)` counts contracts.
///
/// # Errors
/// [`BillingError::RunInProgress`] while another run holds the month; `B4` for a finalized
/// month; `B3` without issuer settings; every missing price (R14.1), in which case nothing
/// changes.
pub async fn run_month(
    store: &Store,
    month: Month,
    progress: &(dyn Fn(usize, usize) + Sync),
    journal: JournalEntry,
) -> Result<RunSummary> {
    let mut conn = store.conn().await?;
    invoice::check_billable(month, month_state(&mut conn, month).await?)?;
    let issuer = invoice::require_issuer(issuer(&mut conn).await?)?;
    drop(conn);
    let lease = RunLease::acquire(store, month, &new_id(), &journal.actor).await?;
    let _job = store.job().await;
    match bill_lines(store, month, &lease, progress, &journal).await {
        Ok(summary) => {
            let mut tx = store.write().await?;
            tx.lock(&format!("billing:{month}")).await?;
            lease.check_held(&mut tx).await?;
            let summary = finish_run(&mut tx, month, lease.run_id(), &issuer, summary).await?;
            lease.end_in(&mut tx).await?;
            let m = month.to_string();
            tx.commit(journal.subject(&m).outcome(serde_json::json!({
                "invoices": summary.invoices, "lines": summary.lines, "total": summary.total
            })))
            .await?;
            Ok(summary)
        }
        Err(e) => {
            lease.abandon().await?;
            Err(e)
        }
    }
}

/// Everything of a run before its last transaction: corrections of finalized months before
/// this one (they join this month's invoices, B4), then every contractor range's lines.
async fn bill_lines(
    store: &Store,
    month: Month,
    lease: &RunLease,
    progress: &(dyn Fn(usize, usize) + Sync),
    journal: &JournalEntry,
) -> Result<RunSummary> {
    let mut conn = store.conn().await?;
    let finalized: Vec<String> = sqlx::query_scalar(
        "SELECT month FROM billing_months WHERE status = 'finalized' AND month < $1 ORDER BY month",
    )
    .bind(month.to_string())
    .fetch_all(&mut *conn)
    .await?;
    drop(conn);
    for earlier in finalized {
        let earlier: Month =
            earlier
                .parse()
                .map_err(|e: mpc_domain::calendar::CalendarError| {
                    StorageError::Corrupt(e.to_string())
                })?;
        let entry = JournalEntry::new(journal.actor.clone(), "billing.correct")
            .request_id(journal.request_id.clone());
        correct(store, earlier, entry).await?;
    }
    let mut conn = store.conn().await?;
    let prices = std::sync::Arc::new(price_book(&mut conn).await?);
    let (ranges, contractors, contracts) = chunks(&mut conn).await?;
    drop(conn);
    let mut missing = Vec::new();
    let mut done = 0;
    progress(0, contracts);
    // Loading and billing the next range overlaps writing the lines of this one.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Result<BilledRange>>(1);
    let loader = {
        let store = store.clone();
        tokio::spawn(async move {
            for (from, to) in ranges {
                let billed = bill_range(&store, &prices, month, &from, &to).await;
                if sender.send(billed).await.is_err() {
                    break;
                }
            }
        })
    };
    // The loader ends with the receiver: dropping this future (a cancelled request) stops it.
    let _stop_loader = AbortOnDrop(loader.abort_handle());
    while let Some(billed) = receiver.recv().await {
        let billed = billed?;
        missing.extend(billed.missing);
        if missing.is_empty() {
            let mut tx = store.write().await?;
            lease.check_held(&mut tx).await?;
            for (contractor_id, contractor_lines) in &billed.lines {
                insert_lines(
                    &mut tx,
                    month,
                    lease.run_id(),
                    contractor_id,
                    contractor_lines,
                    0,
                )
                .await?;
            }
            tx.commit_part().await?;
        }
        done += billed.contracts;
        progress(done, contracts);
        if let Some(pause) = pause_after_range() {
            tokio::time::sleep(pause).await;
        }
    }
    loader
        .await
        .map_err(|e| StorageError::Corrupt(format!("billing loader stopped: {e}")))?;
    if !missing.is_empty() {
        missing.sort_by_key(|m| (m.key, m.on, m.contractor_id.clone()));
        missing.dedup();
        return Err(BillingError::MissingPrices(missing));
    }
    Ok(RunSummary {
        month: month.to_string(),
        contractors,
        contracts,
        invoices: 0,
        lines: 0,
        subtotal: Yen::ZERO,
        tax: Yen::ZERO,
        total: Yen::ZERO,
    })
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One contractor range billed: its lines per contractor, or the prices it lacks.
struct BilledRange {
    lines: Vec<(String, Vec<Line>)>,
    missing: Vec<MissingPrice>,
    contracts: usize,
}

/// Loads and bills the contractors `from..=to`. The billing itself runs on a blocking thread:
/// a range of thousands of contracts is long work that would otherwise hold up the runtime's
/// workers, and with them device call-home and API requests.
async fn bill_range(
    store: &Store,
    prices: &std::sync::Arc<PriceBook>,
    month: Month,
    from: &str,
    to: &str,
) -> Result<BilledRange> {
    let mut conn = store.conn().await?;
    let scope = Scope::Range(from, to);
    let books = load_books(&mut conn, scope, false).await?;
    let charges = charges_in(&mut conn, scope, month).await?;
    let redirects = redirects_in(&mut conn, scope).await?;
    let credits = credits_in(&mut conn, scope, month).await?;
    drop(conn);
    let prices = prices.clone();
    let billed = tokio::task::spawn_blocking(move || {
        let mut billed = BilledRange {
            lines: Vec::with_capacity(books.len()),
            missing: Vec::new(),
            contracts: 0,
        };
        for (contractor_id, book) in &books {
            let input = MonthInput {
                contractor_id,
                month,
                book,
                charges: charges.get(contractor_id).map_or(&[], Vec::as_slice),
                prices: &prices,
                redirects: redirects.get(contractor_id).map_or(&[], Vec::as_slice),
                credits: credits.get(contractor_id).map_or(&[], Vec::as_slice),
            };
            match bill_month(&input) {
                Ok(l) => billed.lines.push((contractor_id.clone(), l)),
                Err(m) => billed.missing.extend(m),
            }
            billed.contracts += book.contracts.len();
        }
        billed
    })
    .await
    .map_err(|e| StorageError::Corrupt(format!("billing a range stopped: {e}")))?;
    Ok(billed)
}

/// Where the sequence numbers of adjustment lines start, above any contractor's own lines.
const ADJUSTMENT_SEQ: i64 = 1_000_000_000;

async fn insert_lines(
    tx: &mut WriteTx,
    month: Month,
    run: &str,
    contractor_id: &str,
    lines: &[Line],
    first_seq: i64,
) -> Result<()> {
    const COLUMNS: &str = "INSERT INTO invoice_lines (run_id, month, account_id, contractor_id, seq, contract_id, \
         subject_id, kind, rule, price_key, description, period_from, period_to, days, days_in_month, unit_amount, amount, refers_to) VALUES ";
    for (batch_no, batch) in lines.chunks(LINES_PER_INSERT).enumerate() {
        let mut q = Sql::positional(tx.backend(), COLUMNS);
        for (i, l) in batch.iter().enumerate() {
            let seq = first_seq + (batch_no * LINES_PER_INSERT + i) as i64;
            if i > 0 {
                q.push(", ");
            }
            q.push("(")
                .bind(run.to_owned())
                .push(", ")
                .bind(month.to_string())
                .push(", ")
                .bind(l.account.clone())
                .push(", ")
                .bind(contractor_id.to_owned())
                .push(", ")
                .bind(seq)
                .push(", ")
                .bind(l.contract_id.clone())
                .push(", ")
                .bind(l.subject_id.clone())
                .push(", ")
                .bind(wire(&l.kind))
                .push(", ")
                .bind(l.rule.clone())
                .push(", ")
                .bind(l.price_key.map(|k| k.to_string()))
                .push(", ")
                .bind(l.description.clone())
                .push(", ")
                .bind(l.period_from.to_string())
                .push(", ")
                .bind(l.period_to.to_string())
                .push(", ")
                .bind(l.days.map(i64::from))
                .push(", ")
                .bind(l.days_in_month.map(i64::from))
                .push(", ")
                .bind(l.unit_amount.0)
                .push(", ")
                .bind(l.amount.0)
                .push(", ")
                .bind(l.refers_to.clone())
                .push(")");
        }
        q.execute(tx.conn()).await?;
    }
    Ok(())
}

/// The last transaction of a run: the lines of every other run of the month go, pending
/// adjustments join their invoices, the invoices are built from the run's lines, and the run
/// becomes the month's current one. The caller holds the month's lease and commits.
async fn finish_run(
    tx: &mut WriteTx,
    month: Month,
    run: &str,
    issuer: &Issuer,
    mut summary: RunSummary,
) -> Result<RunSummary> {
    refuse_if_finalized(tx, month).await?;
    let m = month.to_string();
    sqlx::query("DELETE FROM invoice_lines WHERE month = $1 AND run_id <> $2")
        .bind(m.clone())
        .bind(run.to_owned())
        .execute(tx.conn())
        .await?;
    // Adjustments of finalized invoices (B4) and moved unpaid amounts (R6.4) waiting for an
    // open invoice go on this month's.
    let adjustments: Vec<AdjustmentRow> = sqlx::query_as(
        "SELECT id, account_id, contractor_id, contract_id, kind, rule, description, amount, refers_to, created_on, \
         period_from, period_to FROM pending_adjustments WHERE applied_month IS NULL OR applied_month = $1 ORDER BY id",
    )
    .bind(m.clone())
    .fetch_all(tx.conn())
    .await?;
    for (i, a) in adjustments.iter().enumerate() {
        let on = date(&a.created_on)?;
        let line = Line {
            account: a.account_id.clone(),
            contractor_id: a.contractor_id.clone(),
            contract_id: a.contract_id.clone(),
            subject_id: a.id.clone(),
            kind: from_wire(&a.kind)?,
            rule: a.rule.clone(),
            price_key: None,
            description: a.description.clone(),
            period_from: a
                .period_from
                .as_deref()
                .map(date)
                .transpose()?
                .unwrap_or(on),
            period_to: a.period_to.as_deref().map(date).transpose()?.unwrap_or(on),
            days: None,
            days_in_month: None,
            unit_amount: Yen(a.amount),
            amount: Yen(a.amount),
            refers_to: Some(a.refers_to.clone()),
        };
        // Adjustment lines take sequence numbers after any contractor's own lines.
        insert_lines(
            tx,
            month,
            run,
            &a.contractor_id,
            std::slice::from_ref(&line),
            ADJUSTMENT_SEQ + i as i64,
        )
        .await?;
        sqlx::query("UPDATE pending_adjustments SET applied_month = $1 WHERE id = $2")
            .bind(m.clone())
            .bind(a.id.clone())
            .execute(tx.conn())
            .await?;
    }
    let totals: Vec<(String, i64, i64, String)> = sqlx::query_as(
        "SELECT l.account_id, CAST(SUM(l.amount) AS BIGINT), CAST(COUNT(*) AS BIGINT), c.name FROM invoice_lines l \
         JOIN contractors c ON c.id = l.account_id WHERE l.month = $1 AND l.run_id = $2 \
         GROUP BY l.account_id, c.name ORDER BY l.account_id",
    )
    .bind(m.clone())
    .bind(run.to_owned())
    .fetch_all(tx.conn())
    .await?;
    sqlx::query("DELETE FROM invoices WHERE month = $1")
        .bind(m.clone())
        .execute(tx.conn())
        .await?;
    let issue_date = month
        .next()
        .map_err(|e| StorageError::Corrupt(e.to_string()))?
        .first_day();
    let due_date = issue_date.last_of_month();
    summary.invoices = totals.len();
    for (account, subtotal, count, name) in totals {
        let t = invoice::totals_for(Yen(subtotal));
        summary.lines += count as usize;
        summary.subtotal += t.subtotal;
        summary.tax += t.tax;
        summary.total += t.total;
        sqlx::query(
            "INSERT INTO invoices (id, month, account_id, number, issue_date, due_date, recipient_name, issuer_name, \
             issuer_registration, subtotal, tax, total, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'draft')",
        )
        .bind(invoice_id(month, &account))
        .bind(m.clone())
        .bind(account.clone())
        .bind(invoice_id(month, &account))
        .bind(issue_date.to_string())
        .bind(due_date.to_string())
        .bind(name)
        .bind(issuer.name.clone())
        .bind(issuer.registration_number.clone())
        .bind(t.subtotal.0)
        .bind(t.tax.0)
        .bind(t.total.0)
        .execute(tx.conn())
        .await?;
    }
    sqlx::query(
        "INSERT INTO billing_months (month, status, current_run, last_run_at) VALUES ($1, 'open', $2, $3) \
         ON CONFLICT (month) DO UPDATE SET current_run = excluded.current_run, last_run_at = excluded.last_run_at",
    )
    .bind(m.clone())
    .bind(run.to_owned())
    .bind(now_micros())
    .execute(tx.conn())
    .await?;
    Ok(summary)
}

#[derive(sqlx::FromRow)]
struct AdjustmentRow {
    id: String,
    account_id: String,
    contractor_id: String,
    contract_id: String,
    kind: String,
    rule: String,
    description: String,
    amount: i64,
    refers_to: String,
    created_on: String,
    period_from: Option<String>,
    period_to: Option<String>,
}

async fn charges_in(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    month: Month,
) -> Result<std::collections::HashMap<String, Vec<ChargeEvent>>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        contractor_id: String,
        id: String,
        contract_id: String,
        kind: String,
        occurred_on: String,
        device_type: Option<String>,
        note: Option<String>,
    }
    let mut q = Sql::new(
        "SELECT contractor_id, id, contract_id, kind, occurred_on, device_type, note FROM charge_events WHERE ",
    );
    scope.push(&mut q, "contractor_id");
    q.push(" AND occurred_on BETWEEN ")
        .bind(month.first_day().to_string())
        .push(" AND ")
        .bind(month.last_day().to_string())
        .push(" ORDER BY contractor_id, occurred_on, id");
    let rows: Vec<Row> = q
        .query_as()?
        .fetch_all(conn)
        .await
        .map_err(StorageError::from)?;
    let mut out: std::collections::HashMap<String, Vec<ChargeEvent>> =
        std::collections::HashMap::new();
    for r in rows {
        out.entry(r.contractor_id).or_default().push(ChargeEvent {
            kind: from_wire(&r.kind)?,
            occurred_on: date(&r.occurred_on)?,
            device_type: r.device_type.as_deref().map(from_wire).transpose()?,
            id: r.id,
            contract_id: r.contract_id,
            note: r.note,
        });
    }
    Ok(out)
}

async fn redirects_in(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
) -> Result<std::collections::HashMap<String, Vec<InvoiceRedirect>>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        holder: String,
        id: String,
        management_contract_id: String,
        target_contractor_id: String,
        requested_on: String,
        consented_on: Option<String>,
        approved_on: Option<String>,
        ended_on: Option<String>,
    }
    let mut q = Sql::new(
        "SELECT c.contractor_id AS holder, r.id, r.management_contract_id, r.target_contractor_id, r.requested_on, \
         r.consented_on, r.approved_on, r.ended_on FROM invoice_redirects r JOIN contracts c ON c.id = r.management_contract_id WHERE ",
    );
    scope.push(&mut q, "c.contractor_id");
    q.push(" AND r.approved_on IS NOT NULL");
    let rows: Vec<Row> = q
        .query_as()?
        .fetch_all(conn)
        .await
        .map_err(StorageError::from)?;
    let mut out: std::collections::HashMap<String, Vec<InvoiceRedirect>> =
        std::collections::HashMap::new();
    for r in rows {
        out.entry(r.holder).or_default().push(InvoiceRedirect {
            requested_on: date(&r.requested_on)?,
            consented_on: opt_date(r.consented_on)?,
            approved_on: opt_date(r.approved_on)?,
            ended_on: opt_date(r.ended_on)?,
            id: r.id,
            management_contract_id: r.management_contract_id,
            target_contractor_id: r.target_contractor_id,
        });
    }
    Ok(out)
}

async fn credits_in(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    month: Month,
) -> Result<std::collections::HashMap<String, Vec<ApprovedCredit>>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        contractor_id: String,
        id: String,
        contract_id: String,
        learned_at: i64,
        restored_at: i64,
    }
    let mut q = Sql::new(
        "SELECT s.contractor_id, s.id, s.contract_id, o.learned_at, o.restored_at FROM sla_claims s \
         JOIN outages o ON o.id = s.outage_id WHERE s.status = 'approved' AND ",
    );
    scope.push(&mut q, "s.contractor_id");
    q.push(" AND s.decided_on BETWEEN ")
        .bind(month.first_day().to_string())
        .push(" AND ")
        .bind(month.last_day().to_string());
    let rows: Vec<Row> = q
        .query_as()?
        .fetch_all(conn)
        .await
        .map_err(StorageError::from)?;
    let mut out: std::collections::HashMap<String, Vec<ApprovedCredit>> =
        std::collections::HashMap::new();
    for r in rows {
        let learned = crate::timestamp(r.learned_at)?;
        let restored = crate::timestamp(r.restored_at)?;
        let outage = mpc_domain::sla::Outage {
            id: String::new(),
            learned_at: learned,
            restored_at: restored,
            operator_caused: true,
            affected: mpc_domain::sla::Affected::Contracts(Vec::new()),
        };
        out.entry(r.contractor_id)
            .or_default()
            .push(ApprovedCredit {
                claim_id: r.id,
                contract_id: r.contract_id,
                full_days: outage.full_days(),
                priced_on: mpc_domain::calendar::tokyo_date(learned),
                outage_from: mpc_domain::calendar::tokyo_date(learned),
                outage_to: mpc_domain::calendar::tokyo_date(restored),
            });
    }
    Ok(out)
}

/// Lines of `month` that belong to no invoice: written by runs that never completed. Zero
/// after any completed run or a finalize (B4).
pub async fn abandoned_lines(conn: &mut AnyConnection, month: Month) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM invoice_lines WHERE month = $1 AND run_id NOT IN \
         (SELECT current_run FROM billing_months WHERE month = $1 AND current_run IS NOT NULL)",
    )
    .bind(month.to_string())
    .fetch_one(conn)
    .await?)
}

/// Makes a month's invoices final and immutable (B4).
pub async fn finalize(store: &Store, month: Month, journal: JournalEntry) -> Result<usize> {
    let mut tx = store.write().await?;
    tx.lock(&format!("billing:{month}")).await?;
    if let Some(running) = lease::holder(&mut tx, month).await? {
        return Err(BillingError::RunInProgress(running));
    }
    invoice::check_finalizable(month, month_state(tx.conn(), month).await?)?;
    // Runs that did not complete leave nothing behind in a finalized month.
    lease::clear_abandoned(&mut tx, month).await?;
    let n = sqlx::query("UPDATE invoices SET status = 'finalized' WHERE month = $1")
        .bind(month.to_string())
        .execute(tx.conn())
        .await?
        .rows_affected();
    sqlx::query(
        "UPDATE billing_months SET status = 'finalized', finalized_at = $1 WHERE month = $2",
    )
    .bind(now_micros())
    .bind(month.to_string())
    .execute(tx.conn())
    .await?;
    tx.commit(
        journal
            .subject(&month.to_string())
            .outcome(serde_json::json!({ "invoices": n })),
    )
    .await?;
    Ok(n as usize)
}

// ---------------------------------------------------------------------------------------
// Invoices, payments (B5), defaults (R6.4)

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvoiceRow {
    pub id: String,
    pub month: String,
    pub account_id: String,
    pub number: String,
    pub issue_date: String,
    pub due_date: String,
    pub recipient_name: String,
    pub issuer_name: String,
    pub issuer_registration: String,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
    pub status: String,
    pub defaulted_on: Option<String>,
}

const INVOICE_COLUMNS: &str = "SELECT id, month, account_id, number, issue_date, due_date, recipient_name, issuer_name, \
     issuer_registration, subtotal, tax, total, status, defaulted_on FROM invoices";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LineRow {
    pub contractor_id: String,
    pub seq: i64,
    pub contract_id: String,
    pub subject_id: String,
    pub kind: String,
    pub rule: String,
    pub price_key: Option<String>,
    pub description: String,
    pub period_from: String,
    pub period_to: String,
    pub days: Option<i64>,
    pub days_in_month: Option<i64>,
    pub unit_amount: i64,
    pub amount: i64,
    pub refers_to: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaymentRow {
    pub id: String,
    pub paid_on: String,
    pub amount: i64,
    pub note: String,
}

pub async fn list_invoices(
    conn: &mut AnyConnection,
    month: Option<&str>,
    account: Option<&str>,
) -> Result<Vec<InvoiceRow>> {
    let mut q = Sql::new(INVOICE_COLUMNS);
    q.push(" WHERE 1 = 1");
    if let Some(m) = month {
        q.push(" AND month = ").bind(m.to_owned());
    }
    if let Some(a) = account {
        q.push(" AND account_id = ").bind(a.to_owned());
    }
    q.push(" ORDER BY month, account_id");
    Ok(q.query_as()?
        .fetch_all(conn)
        .await
        .map_err(StorageError::from)?)
}

pub async fn get_invoice(conn: &mut AnyConnection, id: &str) -> Result<InvoiceRow> {
    let mut q = Sql::new(INVOICE_COLUMNS);
    q.push(" WHERE id = ").bind(id.to_owned());
    Ok(q.query_as()?
        .fetch_one(conn)
        .await
        .map_err(StorageError::from)?)
}

/// The lines of an invoice, in invoice order.
pub async fn invoice_lines(conn: &mut AnyConnection, invoice: &InvoiceRow) -> Result<Vec<LineRow>> {
    Ok(sqlx::query_as(
        "SELECT l.contractor_id, l.seq, l.contract_id, l.subject_id, l.kind, l.rule, l.price_key, l.description, \
         l.period_from, l.period_to, l.days, l.days_in_month, l.unit_amount, l.amount, l.refers_to FROM invoice_lines l \
         JOIN billing_months b ON b.month = l.month AND b.current_run = l.run_id WHERE l.month = $1 AND l.account_id = $2 \
         ORDER BY l.contractor_id, l.seq",
    )
    .bind(invoice.month.clone())
    .bind(invoice.account_id.clone())
    .fetch_all(conn)
    .await?)
}

pub async fn payments(conn: &mut AnyConnection, invoice_id: &str) -> Result<Vec<PaymentRow>> {
    Ok(sqlx::query_as(
        "SELECT id, paid_on, amount, note FROM payments WHERE invoice_id = $1 ORDER BY paid_on, id",
    )
    .bind(invoice_id.to_owned())
    .fetch_all(conn)
    .await?)
}

/// Every line of a month's invoices as CSV, for accounting (invoice by invoice, in line order).
pub async fn lines_csv(conn: &mut AnyConnection, month: Month) -> Result<String> {
    let mut out = String::from(
        "invoice_number,account_id,contractor_id,contract_id,subject_id,kind,rule,price_key,description,\
         period_from,period_to,days,days_in_month,unit_amount,amount,refers_to\n",
    );
    for inv in list_invoices(conn, Some(&month.to_string()), None).await? {
        for l in invoice_lines(conn, &inv).await? {
            let fields = [
                inv.number.clone(),
                inv.account_id.clone(),
                l.contractor_id,
                l.contract_id,
                l.subject_id,
                l.kind,
                l.rule,
                l.price_key.unwrap_or_default(),
                l.description,
                l.period_from,
                l.period_to,
                l.days.map(|d| d.to_string()).unwrap_or_default(),
                l.days_in_month.map(|d| d.to_string()).unwrap_or_default(),
                l.unit_amount.to_string(),
                l.amount.to_string(),
                l.refers_to.unwrap_or_default(),
            ];
            out.push_str(
                &fields
                    .iter()
                    .map(|f| csv_field(f))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push('\n');
        }
    }
    Ok(out)
}

/// Where an invoice stands on `today` (B5).
pub fn invoice_status(invoice: &InvoiceRow, paid: i64, today: Date) -> invoice::InvoiceState {
    let due = date(&invoice.due_date).unwrap_or(today);
    invoice::InvoiceState::of(
        invoice.status == "finalized",
        invoice.defaulted_on.is_some(),
        Yen(paid),
        Yen(invoice.total),
        due,
        today,
    )
}

/// Records a payment against a finalized invoice (B5).
pub async fn record_payment(
    tx: &mut WriteTx,
    invoice_id: &str,
    paid_on: Date,
    amount: Yen,
    note: &str,
) -> Result<String> {
    let invoice = get_invoice(tx.conn(), invoice_id).await?;
    let amount = invoice::check_payment(invoice.status == "finalized", amount.0)?;
    let id = new_id();
    sqlx::query("INSERT INTO payments (id, invoice_id, paid_on, amount, note, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id.clone())
        .bind(invoice_id.to_owned())
        .bind(paid_on.to_string())
        .bind(amount.0)
        .bind(note.to_owned())
        .bind(now_micros())
        .execute(tx.conn())
        .await?;
    Ok(id)
}

/// Marks a redirected invoice as not paid by its recipient: the management fees it carried are
/// owed by the management contractor and go on its next invoice (R6.4).
pub async fn mark_defaulted(
    tx: &mut WriteTx,
    invoice_id: &str,
    on: Date,
) -> Result<Vec<(String, Yen)>> {
    let invoice = get_invoice(tx.conn(), invoice_id).await?;
    invoice::check_default(
        invoice.status == "finalized",
        invoice.defaulted_on.is_some(),
        true,
    )?;
    let moved: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT l.contractor_id, l.contract_id, CAST(SUM(l.amount) AS BIGINT) FROM invoice_lines l \
         JOIN billing_months b ON b.month = l.month AND b.current_run = l.run_id \
         WHERE l.month = $1 AND l.account_id = $2 AND l.contractor_id <> l.account_id AND l.seq < 1000000000 \
         GROUP BY l.contractor_id, l.contract_id ORDER BY l.contractor_id, l.contract_id",
    )
    .bind(invoice.month.clone())
    .bind(invoice.account_id.clone())
    .fetch_all(tx.conn())
    .await?;
    invoice::check_default(true, false, !moved.is_empty())?;
    let unpaid_month: Month = invoice
        .month
        .parse()
        .map_err(|e: mpc_domain::calendar::CalendarError| StorageError::Corrupt(e.to_string()))?;
    for (holder, contract, amount) in &moved {
        sqlx::query(
            "INSERT INTO pending_adjustments (id, account_id, contractor_id, contract_id, kind, rule, description, amount, refers_to, created_on, \
             period_from, period_to) VALUES ($1, $2, $3, $4, 'moved_unpaid', 'R6.4', $5, $6, $7, $8, $9, $10)",
        )
        .bind(new_id())
        .bind(holder.clone())
        .bind(holder.clone())
        .bind(contract.clone())
        .bind(format!("請求書送付先の未払い分（請求書 {}）", invoice.number))
        .bind(*amount)
        .bind(invoice_id.to_owned())
        .bind(on.to_string())
        .bind(unpaid_month.first_day().to_string())
        .bind(unpaid_month.last_day().to_string())
        .execute(tx.conn())
        .await?;
    }
    sqlx::query("UPDATE invoices SET defaulted_on = $1 WHERE id = $2")
        .bind(on.to_string())
        .bind(invoice_id.to_owned())
        .execute(tx.conn())
        .await?;
    Ok(moved.into_iter().map(|(h, _, a)| (h, Yen(a))).collect())
}

/// Line kinds as stored, for readers.
pub fn line_kind(s: &str) -> Result<LineKind> {
    Ok(from_wire(s)?)
}

// ---------------------------------------------------------------------------------------
// Outages and SLA claims (R16)

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutageRow {
    pub id: String,
    pub learned_at: i64,
    pub restored_at: i64,
    pub operator_caused: i64,
    pub scope: String,
    pub affected: String,
    pub description: String,
}

impl OutageRow {
    pub fn outage(&self) -> Result<mpc_domain::sla::Outage> {
        let ids: Vec<String> = serde_json::from_str(&self.affected)
            .map_err(|e| StorageError::Corrupt(e.to_string()))?;
        Ok(mpc_domain::sla::Outage {
            id: self.id.clone(),
            learned_at: crate::timestamp(self.learned_at)?,
            restored_at: crate::timestamp(self.restored_at)?,
            operator_caused: self.operator_caused != 0,
            affected: match self.scope.as_str() {
                "all_under_management" => mpc_domain::sla::Affected::AllUnderManagement(
                    ids.into_iter().next().unwrap_or_default(),
                ),
                _ => mpc_domain::sla::Affected::Contracts(ids),
            },
        })
    }
}

const OUTAGE_COLUMNS: &str = "SELECT id, learned_at, restored_at, operator_caused, scope, affected, description FROM outages";

/// Records an outage (R16.1).
pub async fn record_outage(
    tx: &mut WriteTx,
    o: &mpc_domain::sla::Outage,
    description: &str,
) -> Result<()> {
    let named = match &o.affected {
        mpc_domain::sla::Affected::Contracts(ids) => ids.clone(),
        mpc_domain::sla::Affected::AllUnderManagement(m) => vec![m.clone()],
    };
    let mut contracts = Vec::with_capacity(named.len());
    for id in &named {
        contracts.extend(crate::contracts::load_contract(tx.conn(), id).await?);
    }
    mpc_domain::sla::check_outage(o, |id| contracts.iter().find(|c| c.id == id))?;
    let (scope, ids) = match &o.affected {
        mpc_domain::sla::Affected::Contracts(ids) => ("contracts", ids.clone()),
        mpc_domain::sla::Affected::AllUnderManagement(m) => {
            ("all_under_management", vec![m.clone()])
        }
    };
    sqlx::query(
        "INSERT INTO outages (id, learned_at, restored_at, operator_caused, scope, affected, description, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(o.id.clone())
    .bind(o.learned_at.as_microsecond())
    .bind(o.restored_at.as_microsecond())
    .bind(i64::from(o.operator_caused))
    .bind(scope.to_owned())
    .bind(serde_json::to_string(&ids).unwrap_or_default())
    .bind(description.to_owned())
    .bind(now_micros())
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn list_outages(conn: &mut AnyConnection) -> Result<Vec<OutageRow>> {
    let mut q = Sql::new(OUTAGE_COLUMNS);
    q.push(" ORDER BY learned_at DESC, id");
    Ok(q.query_as()?
        .fetch_all(conn)
        .await
        .map_err(StorageError::from)?)
}

pub async fn get_outage(conn: &mut AnyConnection, id: &str) -> Result<OutageRow> {
    let mut q = Sql::new(OUTAGE_COLUMNS);
    q.push(" WHERE id = ").bind(id.to_owned());
    Ok(q.query_as()?
        .fetch_one(conn)
        .await
        .map_err(StorageError::from)?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimRow {
    pub id: String,
    pub outage_id: String,
    pub contract_id: String,
    pub contractor_id: String,
    pub claimed_on: String,
    pub status: String,
    pub decided_on: Option<String>,
}

const CLAIM_COLUMNS: &str = "SELECT id, outage_id, contract_id, contractor_id, claimed_on, status, decided_on FROM sla_claims";

/// A contractor claims the credit of an outage for a contract (R16.2, R16.3).
pub async fn claim(
    tx: &mut WriteTx,
    outage_id: &str,
    contract_id: &str,
    claimed_on: Date,
) -> Result<ClaimRow> {
    let outage = get_outage(tx.conn(), outage_id).await?.outage()?;
    let contract = crate::contracts::load_contract(tx.conn(), contract_id)
        .await?
        .ok_or(StorageError::NotFound)?;
    let book = crate::contracts::load_book(tx.conn(), &contract.contractor_id).await?;
    mpc_domain::sla::check_claim(&outage, &book, &contract, claimed_on)?;
    let row = ClaimRow {
        id: new_id(),
        outage_id: outage_id.to_owned(),
        contract_id: contract_id.to_owned(),
        contractor_id: contract.contractor_id.clone(),
        claimed_on: claimed_on.to_string(),
        status: "pending".into(),
        decided_on: None,
    };
    sqlx::query(
        "INSERT INTO sla_claims (id, outage_id, contract_id, contractor_id, claimed_on, status) VALUES ($1, $2, $3, $4, $5, 'pending')",
    )
    .bind(row.id.clone())
    .bind(row.outage_id.clone())
    .bind(row.contract_id.clone())
    .bind(row.contractor_id.clone())
    .bind(row.claimed_on.clone())
    .execute(tx.conn())
    .await
    .map_err(|e| match StorageError::from(e) {
        StorageError::Conflict(_) => BillingError::Refused(mpc_domain::sla::already_claimed()),
        e => e.into(),
    })?;
    Ok(row)
}

pub async fn get_claim(conn: &mut AnyConnection, id: &str) -> Result<ClaimRow> {
    let mut q = Sql::new(CLAIM_COLUMNS);
    q.push(" WHERE id = ").bind(id.to_owned());
    Ok(q.query_as()?
        .fetch_one(conn)
        .await
        .map_err(StorageError::from)?)
}

pub async fn claims_of(
    conn: &mut AnyConnection,
    contractor: Option<&str>,
) -> Result<Vec<ClaimRow>> {
    let mut q = Sql::new(CLAIM_COLUMNS);
    if let Some(c) = contractor {
        q.push(" WHERE contractor_id = ").bind(c.to_owned());
    }
    q.push(" ORDER BY claimed_on, id");
    Ok(q.query_as()?
        .fetch_all(conn)
        .await
        .map_err(StorageError::from)?)
}

/// Approves or refuses a pending claim; an approved credit appears on the invoice of the
/// month of approval (R16.2).
pub async fn decide_claim(tx: &mut WriteTx, id: &str, approve: bool, on: Date) -> Result<ClaimRow> {
    let mut c = get_claim(tx.conn(), id).await?;
    mpc_domain::sla::check_decision(c.status != "pending", date(&c.claimed_on)?, on)?;
    c.status = if approve { "approved" } else { "refused" }.into();
    c.decided_on = Some(on.to_string());
    sqlx::query("UPDATE sla_claims SET status = $1, decided_on = $2 WHERE id = $3")
        .bind(c.status.clone())
        .bind(c.decided_on.clone())
        .bind(id.to_owned())
        .execute(tx.conn())
        .await?;
    Ok(c)
}

// ---------------------------------------------------------------------------------------
// Corrections of finalized months (B4)

/// Recomputes a finalized month for the contractors whose books (or prices) changed after it
/// was finalized, and records each difference from what was invoiced — net of corrections
/// already made — as an adjustment for the account's next open invoice, citing the invoice it
/// corrects (B4). Running it again finds nothing new. Returns the adjustments made.
pub async fn correct(
    store: &Store,
    month: Month,
    journal: JournalEntry,
) -> Result<Vec<(String, Yen)>> {
    let mut conn = store.conn().await?;
    let Some((status, Some(run), finalized_at)) = month_status(&mut conn, month).await? else {
        return Ok(Vec::new());
    };
    if status != "finalized" {
        return Ok(Vec::new());
    }
    let finalized_at = finalized_at.unwrap_or(i64::MAX);
    let m = month.to_string();
    let prices_changed: Option<i64> = sqlx::query_scalar("SELECT MAX(updated_at) FROM prices")
        .fetch_one(&mut *conn)
        .await?;
    let contractors: Vec<String> = if prices_changed.is_some_and(|at| at > finalized_at) {
        sqlx::query_scalar("SELECT DISTINCT contractor_id FROM invoice_lines WHERE month = $1 AND run_id = $2 AND seq < 1000000000 ORDER BY contractor_id")
            .bind(m.clone())
            .bind(run.clone())
            .fetch_all(&mut *conn)
            .await?
    } else {
        sqlx::query_scalar(
            "SELECT contractor_id FROM book_changes WHERE changed_at > $1 ORDER BY contractor_id",
        )
        .bind(finalized_at)
        .fetch_all(&mut *conn)
        .await?
    };
    let prices = std::sync::Arc::new(price_book(&mut conn).await?);
    type Key = (String, String, String, String, String);
    let mut made = Vec::new();
    let mut differences: Vec<(String, String, Key, i64)> = Vec::new();
    for contractor_id in &contractors {
        let billed = bill_range(store, &prices, month, contractor_id, contractor_id).await?;
        if !billed.missing.is_empty() {
            return Err(BillingError::MissingPrices(billed.missing));
        }
        let mut diff: std::collections::BTreeMap<Key, (i64, String)> =
            std::collections::BTreeMap::new();
        for (_, lines) in &billed.lines {
            for l in lines {
                let key = (
                    l.account.clone(),
                    l.contract_id.clone(),
                    l.subject_id.clone(),
                    wire(&l.kind),
                    l.rule.clone(),
                );
                let e = diff.entry(key).or_insert((0, l.description.clone()));
                e.0 += l.amount.0;
            }
        }
        let issued: Vec<(String, String, String, String, String, i64, String)> = sqlx::query_as(
            "SELECT account_id, contract_id, subject_id, kind, rule, amount, description FROM invoice_lines \
             WHERE month = $1 AND run_id = $2 AND contractor_id = $3 AND seq < 1000000000",
        )
        .bind(m.clone())
        .bind(run.clone())
        .bind(contractor_id.clone())
        .fetch_all(&mut *conn)
        .await?;
        for (account, contract, subject, kind, rule, amount, description) in issued {
            let e = diff
                .entry((account, contract, subject, kind, rule))
                .or_insert((0, description));
            e.0 -= amount;
        }
        // Zero differences too: a correction already made may have to be taken back.
        for (key, (amount, description)) in diff {
            differences.push((contractor_id.clone(), description, key, amount));
        }
    }
    drop(conn);
    if differences.is_empty() {
        return Ok(made);
    }
    // Net of corrections already made, read under the month's lock: two runs correcting the
    // same month at once record each difference once.
    let mut tx = store.write().await?;
    tx.lock(&format!("billing:{month}")).await?;
    let today = mpc_domain::calendar::tokyo_date(jiff::Timestamp::now());
    let mut corrected: std::collections::HashMap<String, Vec<(Key, i64)>> =
        std::collections::HashMap::new();
    for (contractor_id, description, key, amount) in differences {
        if !corrected.contains_key(&contractor_id) {
            let rows: Vec<(String, String, String, String, String, i64)> = sqlx::query_as(
                "SELECT account_id, contract_id, corrects_subject, corrects_kind, rule, amount FROM pending_adjustments \
                 WHERE contractor_id = $1 AND kind = 'adjustment' AND refers_to LIKE $2",
            )
            .bind(contractor_id.clone())
            .bind(format!("{}-%", m.replace('-', "")))
            .fetch_all(tx.conn())
            .await?;
            corrected.insert(
                contractor_id.clone(),
                rows.into_iter()
                    .map(|(a, c, s, k, r, amount)| ((a, c, s, k, r), amount))
                    .collect(),
            );
        }
        let already: i64 = corrected[&contractor_id]
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, amount)| amount)
            .sum();
        let amount = amount - already;
        if amount == 0 {
            continue;
        }
        let (account, contract, subject, kind, rule) = key;
        let refers_to = invoice_id(month, &account);
        sqlx::query(
            "INSERT INTO pending_adjustments (id, account_id, contractor_id, contract_id, kind, rule, description, amount, \
             refers_to, corrects_subject, corrects_kind, created_on, period_from, period_to) \
             VALUES ($1, $2, $3, $4, 'adjustment', $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(new_id())
        .bind(account.clone())
        .bind(contractor_id)
        .bind(contract)
        .bind(rule)
        .bind(format!("訂正（{month}分 請求書 {refers_to}）{description}"))
        .bind(amount)
        .bind(refers_to)
        .bind(subject)
        .bind(kind)
        .bind(today.to_string())
        .bind(month.first_day().to_string())
        .bind(month.last_day().to_string())
        .execute(tx.conn())
        .await?;
        made.push((account, Yen(amount)));
    }
    if made.is_empty() {
        return Ok(made);
    }
    tx.commit(
        journal
            .subject(&m)
            .outcome(serde_json::json!({ "adjustments": made.len() })),
    )
    .await?;
    Ok(made)
}
