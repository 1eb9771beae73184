//! Monthly runs (B1, B2, B4).

use super::*;

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
pub(super) fn contracts_per_chunk() -> i64 {
    std::env::var("MPC_BILLING_CHUNK_CONTRACTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(20_000)
}
pub(super) const LINES_PER_INSERT: usize = 200;

/// The invoice of an account for a month; also its number: `YYYYMM-<account id>`. The same
/// data always gives the same invoice id, so a re-run replaces an invoice instead of adding one.
pub(super) fn invoice_id(month: Month, account: &str) -> String {
    format!("{}-{account}", month.to_string().replace('-', ""))
}

/// The row of a billed month: where it stands (`open` or `finalized` in `billing_months`), its
/// current run and when it was finalized; `None` while it is unbilled.
pub(super) async fn month_status(
    conn: &mut AnyConnection,
    month: Month,
) -> Result<Option<(invoice::MonthState, Option<String>, Option<i64>)>> {
    let row: Option<(String, Option<String>, Option<i64>)> = sqlx::query_as(
        "SELECT status, current_run, finalized_at FROM billing_months WHERE month = $1",
    )
    .bind(month.to_string())
    .fetch_optional(conn)
    .await?;
    let row = row.map(|(status, run, finalized_at)| {
        let state = match status.as_str() {
            "open" => invoice::MonthState::Open,
            "finalized" => invoice::MonthState::Finalized,
            other => {
                return Err(StorageError::Corrupt(format!(
                    "billing month {month} has status {other:?}"
                )));
            }
        };
        Ok((state, run, finalized_at))
    });
    Ok(row.transpose()?)
}

/// Where `month` stands (B4).
pub(super) async fn month_state(
    conn: &mut AnyConnection,
    month: Month,
) -> Result<invoice::MonthState> {
    Ok(month_status(conn, month)
        .await?
        .map_or(invoice::MonthState::Unbilled, |(state, _, _)| state))
}

/// `B4` when `month` is finalized.
pub(super) async fn refuse_if_finalized(tx: &mut WriteTx, month: Month) -> Result<()> {
    invoice::check_billable(month, month_state(tx.conn(), month).await?)?;
    Ok(())
}

/// `MPC_BILLING_PAUSE_MS`: a pause after each range written, so that tests can stop a run
/// midway and show that it changed nothing.
pub(super) fn pause_after_range() -> Option<std::time::Duration> {
    std::env::var("MPC_BILLING_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(std::time::Duration::from_millis)
}

/// Contractor id ranges holding about [`contracts_per_chunk`] contracts each.
pub(super) async fn chunks(
    conn: &mut AnyConnection,
) -> Result<(Vec<(String, String)>, usize, usize)> {
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
/// One run of a month at a time: the run holds the month's lease (`billing_leases`) from its
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
    let payment = issuer_payment(&mut conn).await?;
    drop(conn);
    let lease = RunLease::acquire(store, month, &new_id(), &journal.actor).await?;
    let _job = store.job().await;
    match bill_lines(store, month, &lease, progress, &journal).await {
        Ok(summary) => {
            let mut tx = store.write().await?;
            tx.lock(&format!("billing:{month}")).await?;
            lease.check_held(&mut tx).await?;
            let summary =
                finish_run(&mut tx, month, lease.run_id(), (&issuer, &payment), summary).await?;
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
pub(super) async fn bill_lines(
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

pub(super) struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One contractor range billed: its lines per contractor, or the prices it lacks.
pub(super) struct BilledRange {
    pub(super) lines: Vec<(String, Vec<Line>)>,
    pub(super) missing: Vec<MissingPrice>,
    contracts: usize,
}

/// Loads and bills the contractors `from..=to`. The billing itself runs on a blocking thread:
/// a range of thousands of contracts is long work that would otherwise hold up the runtime's
/// workers, and with them device call-home and API requests.
pub(super) async fn bill_range(
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
pub(super) const ADJUSTMENT_SEQ: i64 = 1_000_000_000;

pub(super) async fn insert_lines(
    tx: &mut WriteTx,
    month: Month,
    run: &str,
    contractor_id: &str,
    lines: &[Line],
    first_seq: i64,
) -> Result<()> {
    const COLUMNS: &str = "INSERT INTO invoice_lines (run_id, month, account_id, contractor_id, seq, contract_id, \
         subject_id, kind, rule, price_key, description, period_from, period_to, days, days_in_month, unit_amount, amount, refers_to, \
         breakdown, text) VALUES ";
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
                .push(", ")
                .bind(breakdown_json(&l.breakdown)?)
                .push(", ")
                .bind(json(&l.text))
                .push(")");
        }
        q.execute(tx.conn()).await?;
    }
    Ok(())
}

/// The months of a line that sums several, as stored (`NULL` for any other line).
fn breakdown_json(parts: &[mpc_domain::billing::LinePart]) -> Result<Option<String>> {
    if parts.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(parts)
        .map(Some)
        .map_err(|e| StorageError::Corrupt(format!("line breakdown: {e}")).into())
}

/// The last transaction of a run: the lines of every other run of the month go, pending
/// adjustments join their invoices, the invoices are built from the run's lines, and the run
/// becomes the month's current one. The caller holds the month's lease and commits.
pub(super) async fn finish_run(
    tx: &mut WriteTx,
    month: Month,
    run: &str,
    (issuer, payment): (&Issuer, &IssuerPayment),
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
    let adjustments: Vec<AdjustmentRecord> = sqlx::query_as(
        "SELECT id, account_id, contractor_id, contract_id, kind, rule, description, amount, refers_to, created_on, \
         period_from, period_to, text FROM pending_adjustments WHERE applied_month IS NULL OR applied_month = $1 ORDER BY id",
    )
    .bind(m.clone())
    .fetch_all(tx.conn())
    .await?;
    for (i, a) in adjustments.iter().enumerate() {
        let on = date(&a.created_on)?;
        let kind: LineKind = from_wire(&a.kind)?;
        let text = match &a.text {
            Some(json) => serde_json::from_str(json).map_err(|e| {
                BillingError::Storage(StorageError::Corrupt(format!("adjustment text: {e}")))
            })?,
            None => LineText::Words {
                kind,
                ja: a.description.clone(),
            },
        };
        let line = Line {
            account: a.account_id.clone(),
            contractor_id: a.contractor_id.clone(),
            contract_id: a.contract_id.clone(),
            subject_id: a.id.clone(),
            kind,
            rule: a.rule.clone(),
            price_key: None,
            description: a.description.clone(),
            text,
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
            breakdown: Vec::new(),
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
             issuer_registration, subtotal, tax, total, status, issuer_address, issuer_phone, issuer_bank_account) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'draft', $13, $14, $15)",
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
        .bind(issuer.address.clone())
        // The phone printed: the one set, or the issuer's contact line.
        .bind(if payment.phone.is_empty() {
            issuer.contact.clone()
        } else {
            payment.phone.clone()
        })
        .bind(payment.bank_account.clone())
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
pub(super) struct AdjustmentRecord {
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
    text: Option<String>,
}

pub(super) async fn charges_in(
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

pub(super) async fn redirects_in(
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

pub(super) async fn credits_in(
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

/// Gives the invoices of `month` the next serials, in account order (B3): one counter row,
/// taken in the finalizing transaction, so numbers are sequential and never reused even when
/// two months are finalized at once on two servers (the second waits on the row). Returns
/// how many were numbered.
async fn number_invoices(tx: &mut WriteTx, month: Month) -> Result<u64> {
    let m = month.to_string();
    let count: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM invoices WHERE month = $1 AND serial IS NULL",
    )
    .bind(m.clone())
    .fetch_one(tx.conn())
    .await?;
    if count == 0 {
        return Ok(0);
    }
    let last: i64 = sqlx::query_scalar(
        "UPDATE invoice_serials SET last = last + $1 WHERE id = 1 RETURNING last",
    )
    .bind(count)
    .fetch_one(tx.conn())
    .await?;
    let before = last - count;
    sqlx::query(
        "UPDATE invoices SET serial = numbered.n + $1 \
         FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY account_id, id) AS n FROM invoices \
               WHERE month = $2 AND serial IS NULL) AS numbered \
         WHERE invoices.id = numbered.id",
    )
    .bind(before)
    .bind(m)
    .execute(tx.conn())
    .await?;
    Ok(count as u64)
}

/// Makes a month's invoices final and immutable (B4), numbering them (B3).
pub async fn finalize(store: &Store, month: Month, journal: JournalEntry) -> Result<usize> {
    let mut tx = store.write().await?;
    tx.lock(&format!("billing:{month}")).await?;
    if let Some(running) = lease::holder(&mut tx, month).await? {
        return Err(BillingError::RunInProgress(running));
    }
    invoice::check_finalizable(month, month_state(tx.conn(), month).await?)?;
    // Runs that did not complete leave nothing behind in a finalized month.
    lease::clear_abandoned(&mut tx, month).await?;
    let n = number_invoices(&mut tx, month).await?;
    sqlx::query("UPDATE invoices SET status = 'finalized' WHERE month = $1")
        .bind(month.to_string())
        .execute(tx.conn())
        .await?;
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
