//! Invoices, payments (B5), defaults (R6.4).

use super::*;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvoiceRecord {
    pub id: String,
    pub month: String,
    pub account_id: String,
    /// Given when the month is finalized (B3); `None` for a draft.
    pub serial: Option<i64>,
    pub issue_date: String,
    pub due_date: String,
    pub recipient_name: String,
    pub issuer_name: String,
    pub issuer_registration: String,
    pub issuer_address: String,
    pub issuer_phone: String,
    pub issuer_bank_account: String,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
    #[sqlx(try_from = "String")]
    pub status: invoice::InvoiceStatus,
    pub defaulted_on: Option<String>,
}

impl InvoiceRecord {
    /// The invoice's number, `I-000123` (B3); `None` for a draft.
    pub fn number(&self) -> Option<String> {
        self.serial.map(invoice::number)
    }

    pub fn is_finalized(&self) -> bool {
        self.status == invoice::InvoiceStatus::Finalized
    }
}

pub(super) const INVOICE_COLUMNS: &str = "SELECT id, month, account_id, serial, issue_date, due_date, recipient_name, issuer_name, \
     issuer_registration, issuer_address, issuer_phone, issuer_bank_account, subtotal, tax, total, status, defaulted_on \
     FROM invoices";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LineRecord {
    pub contractor_id: String,
    pub seq: i64,
    pub contract_id: String,
    /// The number of the line's contract (none for a line of no contract).
    pub contract_number: Option<i64>,
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
    /// JSON of the months a line sums (R15.1), see [`LineRecord::breakdown`].
    pub breakdown: Option<String>,
    /// JSON of what the line says, see [`LineRecord::text`].
    pub text: Option<String>,
}

impl LineRecord {
    /// What the line says, as data (B1): as stored, or recovered from the line's columns and
    /// words for a line stored before texts were kept.
    pub fn text(&self) -> Result<LineText> {
        if let Some(json) = &self.text {
            return serde_json::from_str(json).map_err(|e| {
                BillingError::Storage(StorageError::Corrupt(format!("line text: {e}")))
            });
        }
        let kind: LineKind = from_wire(&self.kind)?;
        let day = |d: Option<i64>| d.and_then(|d| i8::try_from(d).ok());
        Ok(LineText::recover(&StoredLine {
            kind,
            price_key: self.price_key.as_deref().and_then(|k| k.parse().ok()),
            description: &self.description,
            period_from: date(&self.period_from)?,
            period_to: date(&self.period_to)?,
            days: day(self.days),
            days_in_month: day(self.days_in_month),
            unit_amount: Yen(self.unit_amount),
        }))
    }

    /// The months the line sums, each with its days and amount (R15.1); empty for a line of
    /// one period.
    pub fn breakdown(&self) -> Result<Vec<mpc_domain::billing::LinePart>> {
        match &self.breakdown {
            None => Ok(Vec::new()),
            Some(json) => serde_json::from_str(json).map_err(|e| {
                BillingError::Storage(StorageError::Corrupt(format!("line breakdown: {e}")))
            }),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaymentRecord {
    pub id: String,
    pub paid_on: String,
    pub amount: i64,
    pub note: String,
}

/// Invoices of `month` and of `account`, each when given, drafts included.
pub async fn list_invoices(
    conn: &mut AnyConnection,
    month: Option<&str>,
    account: Option<&str>,
) -> Result<Vec<InvoiceRecord>> {
    find_invoices(conn, month, account, false).await
}

/// Invoices of `month` and of `account`, each when given; only finalized ones when
/// `finalized_only` (what a contractor may see: a draft is not an invoice yet, B4).
pub async fn find_invoices(
    conn: &mut AnyConnection,
    month: Option<&str>,
    account: Option<&str>,
    finalized_only: bool,
) -> Result<Vec<InvoiceRecord>> {
    let mut q = Sql::new(INVOICE_COLUMNS);
    q.push(" WHERE 1 = 1");
    if finalized_only {
        q.push(" AND status = 'finalized'");
    }
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

/// Which invoices a numbered listing reads; each field given narrows it.
#[derive(Debug, Clone, Default)]
pub struct InvoiceFilter {
    pub month: Option<String>,
    pub account: Option<String>,
    /// Only finalized invoices (what a contractor may see: a draft is not an invoice yet, B4).
    pub finalized_only: bool,
    /// Only invoices standing in a state on `today` (B5), as the domain describes it.
    pub state: Option<invoice::StateCondition>,
    /// `YYYY-MM-DD`: the day the state is judged on.
    pub today: String,
    /// The latest month first, as people read a list of invoices, rather than the oldest.
    pub newest_first: bool,
}

/// An invoice with what has been paid on it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvoiceWithPaid {
    #[sqlx(flatten)]
    pub invoice: InvoiceRecord,
    pub paid: i64,
}

const INVOICES_WITH_PAID: &str = " FROM invoices i WHERE 1 = 1";

/// What has been paid on invoice `i`: summed for the invoices a query reads, through the
/// payments' invoice index, never over every payment.
const PAID: &str = "CAST(COALESCE((SELECT SUM(amount) FROM payments WHERE invoice_id = i.id), 0) \
     AS BIGINT)";

fn invoice_filter(q: &mut Sql, f: &InvoiceFilter) {
    if f.finalized_only {
        q.push(" AND i.status = 'finalized'");
    }
    if let Some(m) = &f.month {
        q.push(" AND i.month = ").bind(m.clone());
    }
    if let Some(a) = &f.account {
        q.push(" AND i.account_id = ").bind(a.clone());
    }
    if let Some(c) = &f.state {
        q.push(if c.finalized {
            " AND i.status = 'finalized'"
        } else {
            // The only other status (its CHECK), said so the state index serves it.
            " AND i.status = 'draft'"
        });
        let paid = PAID;
        let mut fact = |want: Option<bool>, yes: String, no: String| {
            if let Some(w) = want {
                q.push(" AND ").push(if w { &yes } else { &no });
            }
        };
        fact(
            c.defaulted,
            "i.defaulted_on IS NOT NULL".into(),
            "i.defaulted_on IS NULL".into(),
        );
        fact(
            c.paid_in_full,
            format!("{paid} >= i.total"),
            format!("{paid} < i.total"),
        );
        fact(
            c.anything_paid,
            format!("{paid} > 0"),
            format!("{paid} <= 0"),
        );
        if let Some(w) = c.past_due {
            q.push(if w {
                " AND i.due_date < "
            } else {
                " AND i.due_date >= "
            })
            .bind(f.today.clone());
        }
    }
}

/// How many invoices `filter` finds.
pub async fn count_invoices(conn: &mut AnyConnection, filter: &InvoiceFilter) -> Result<i64> {
    let mut q = Sql::new("SELECT COUNT(*)");
    q.push(INVOICES_WITH_PAID);
    invoice_filter(&mut q, filter);
    let (n,): (i64,) = q
        .query_as()?
        .fetch_one(conn)
        .await
        .map_err(StorageError::from)?;
    Ok(n)
}

/// `limit` invoices `filter` finds from the `offset`th, by month (oldest or newest first),
/// account and id, each with what has been paid on it: one query.
pub async fn page_invoices(
    conn: &mut AnyConnection,
    filter: &InvoiceFilter,
    offset: i64,
    limit: i64,
) -> Result<Vec<InvoiceWithPaid>> {
    let mut q = Sql::new(
        "SELECT i.id, i.month, i.account_id, i.serial, i.issue_date, i.due_date, i.recipient_name, \
         i.issuer_name, i.issuer_registration, i.issuer_address, i.issuer_phone, \
         i.issuer_bank_account, i.subtotal, i.tax, i.total, i.status, i.defaulted_on, \
         ",
    );
    q.push(PAID).push(" AS paid");
    q.push(INVOICES_WITH_PAID);
    invoice_filter(&mut q, filter);
    q.push(if filter.newest_first {
        " ORDER BY i.month DESC, i.account_id, i.id LIMIT "
    } else {
        " ORDER BY i.month, i.account_id, i.id LIMIT "
    })
    .bind(limit)
    .push(" OFFSET ")
    .bind(offset);
    Ok(q.query_as()?
        .fetch_all(conn)
        .await
        .map_err(StorageError::from)?)
}

pub async fn get_invoice(conn: &mut AnyConnection, id: &str) -> Result<InvoiceRecord> {
    let mut q = Sql::new(INVOICE_COLUMNS);
    q.push(" WHERE id = ").bind(id.to_owned());
    Ok(q.query_as()?
        .fetch_one(conn)
        .await
        .map_err(StorageError::from)?)
}

/// The invoice numbered with `serial` (B3), if any.
pub async fn invoice_by_serial(
    conn: &mut AnyConnection,
    serial: i64,
) -> Result<Option<InvoiceRecord>> {
    let mut q = Sql::new(INVOICE_COLUMNS);
    q.push(" WHERE serial = ").bind(serial);
    Ok(q.query_as()?
        .fetch_optional(conn)
        .await
        .map_err(StorageError::from)?)
}

/// The lines of an invoice, in invoice order.
pub async fn invoice_lines(
    conn: &mut AnyConnection,
    invoice: &InvoiceRecord,
) -> Result<Vec<LineRecord>> {
    Ok(sqlx::query_as(
        "SELECT l.contractor_id, l.seq, l.contract_id, c.number AS contract_number, l.subject_id, l.kind, l.rule, \
         l.price_key, l.description, l.period_from, l.period_to, l.days, l.days_in_month, l.unit_amount, l.amount, \
         l.refers_to, l.breakdown, l.text FROM invoice_lines l \
         JOIN billing_months b ON b.month = l.month AND b.current_run = l.run_id \
         LEFT JOIN contracts c ON c.id = l.contract_id WHERE l.month = $1 AND l.account_id = $2 \
         ORDER BY l.contractor_id, l.seq",
    )
    .bind(invoice.month.clone())
    .bind(invoice.account_id.clone())
    .fetch_all(conn)
    .await?)
}

pub async fn payments(conn: &mut AnyConnection, invoice_id: &str) -> Result<Vec<PaymentRecord>> {
    Ok(sqlx::query_as(
        "SELECT id, paid_on, amount, note FROM payments WHERE invoice_id = $1 ORDER BY paid_on, id",
    )
    .bind(invoice_id.to_owned())
    .fetch_all(conn)
    .await?)
}

/// What has been paid on each finalized invoice of `account` (every account's when `None`),
/// with the invoice: one query for the invoices, one for the sums (B5).
pub async fn finalized_with_paid(
    conn: &mut AnyConnection,
    account: Option<&str>,
) -> Result<Vec<(InvoiceRecord, i64)>> {
    let invoices = find_invoices(conn, None, account, true).await?;
    let mut q = Sql::new(
        "SELECT p.invoice_id, CAST(SUM(p.amount) AS BIGINT) FROM payments p \
         JOIN invoices i ON i.id = p.invoice_id WHERE i.status = 'finalized'",
    );
    if let Some(a) = account {
        q.push(" AND i.account_id = ").bind(a.to_owned());
    }
    q.push(" GROUP BY p.invoice_id");
    let sums: Vec<(String, i64)> = q
        .query_as()?
        .fetch_all(&mut *conn)
        .await
        .map_err(StorageError::from)?;
    let sums: std::collections::HashMap<String, i64> = sums.into_iter().collect();
    Ok(invoices
        .into_iter()
        .map(|i| {
            let paid = sums.get(&i.id).copied().unwrap_or(0);
            (i, paid)
        })
        .collect())
}

/// Every line of a month's invoices as CSV, for accounting (invoice by invoice, in line order).
/// A draft's number is empty. Names stand beside the ids they name: the recipient's
/// (`account_name`, as the invoice prints it), the contractor's whose contract the line bills
/// (`contractor_name`) and what the price key prices, as 別紙1 names it (`item`).
pub async fn lines_csv(conn: &mut AnyConnection, month: Month) -> Result<String> {
    let mut out = String::from(
        "invoice_number,invoice_id,account_id,account_name,contractor_id,contractor_name,contract_id,subject_id,kind,rule,\
         price_key,item,description,period_from,period_to,days,days_in_month,unit_amount,amount,refers_to\n",
    );
    let names: std::collections::HashMap<String, String> =
        sqlx::query_as::<_, (String, String)>("SELECT id, name FROM contractors")
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?
            .into_iter()
            .collect();
    let name = |id: &str| names.get(id).cloned().unwrap_or_default();
    for inv in list_invoices(conn, Some(&month.to_string()), None).await? {
        let account_name = if inv.recipient_name.is_empty() {
            name(&inv.account_id)
        } else {
            inv.recipient_name.clone()
        };
        for l in invoice_lines(conn, &inv).await? {
            let item = l
                .price_key
                .as_deref()
                .and_then(|k| k.parse::<PriceKey>().ok())
                .map(PriceKey::label_ja)
                .unwrap_or_default();
            let fields = [
                inv.number().unwrap_or_default(),
                inv.id.clone(),
                inv.account_id.clone(),
                account_name.clone(),
                l.contractor_id.clone(),
                name(&l.contractor_id),
                l.contract_id,
                l.subject_id,
                l.kind,
                l.rule,
                l.price_key.unwrap_or_default(),
                item,
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
pub fn invoice_status(invoice: &InvoiceRecord, paid: i64, today: Date) -> invoice::InvoiceState {
    let due = date(&invoice.due_date).unwrap_or(today);
    invoice::InvoiceState::of(
        invoice.status == invoice::InvoiceStatus::Finalized,
        invoice.defaulted_on.is_some(),
        Yen(paid),
        Yen(invoice.total),
        due,
        today,
    )
}

/// The `Idempotency-Key` a payment was recorded with: the caller's and the invoice's scope,
/// the key, and a digest of the request's body.
#[derive(Debug, Clone)]
pub struct PaymentKey {
    pub caller: String,
    pub key: String,
    pub body_sha256: String,
}

/// What [`record_payment`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// A new payment, by id.
    New(String),
    /// The key was used before with the same body: the payment it recorded, nothing written.
    Replayed(String),
    /// The key was used before with another body: nothing written.
    KeyReused,
}

/// Records a payment against a finalized invoice (B5), once per [`PaymentKey`] when one is
/// given: a second request with the key, even at the same moment on another server node,
/// waits for the first and finds what it recorded.
pub async fn record_payment(
    tx: &mut WriteTx,
    invoice_id: &str,
    paid_on: Date,
    amount: Yen,
    note: &str,
    key: Option<&PaymentKey>,
) -> Result<Recorded> {
    // One writer per invoice across server nodes, as for its default below.
    tx.lock(&format!("invoice:{invoice_id}")).await?;
    if let Some(k) = key {
        let seen: Option<(String, String)> = sqlx::query_as(
            "SELECT body_sha256, payment_id FROM payment_keys \
             WHERE caller = $1 AND invoice_id = $2 AND key = $3",
        )
        .bind(k.caller.clone())
        .bind(invoice_id.to_owned())
        .bind(k.key.clone())
        .fetch_optional(tx.conn())
        .await?;
        if let Some((digest, payment)) = seen {
            return Ok(if digest == k.body_sha256 {
                Recorded::Replayed(payment)
            } else {
                Recorded::KeyReused
            });
        }
    }
    let invoice = get_invoice(tx.conn(), invoice_id).await?;
    let amount = invoice::check_payment(
        invoice.status == invoice::InvoiceStatus::Finalized,
        amount.0,
    )?;
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
    if let Some(k) = key {
        sqlx::query(
            "INSERT INTO payment_keys (caller, invoice_id, key, body_sha256, payment_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(k.caller.clone())
        .bind(invoice_id.to_owned())
        .bind(k.key.clone())
        .bind(k.body_sha256.clone())
        .bind(id.clone())
        .bind(now_micros())
        .execute(tx.conn())
        .await?;
    }
    Ok(Recorded::New(id))
}

/// Marks a redirected invoice as not paid by its recipient: the management fees it carried are
/// owed by the management contractor and go on its next invoice (R6.4).
pub async fn mark_defaulted(
    tx: &mut WriteTx,
    invoice_id: &str,
    on: Date,
) -> Result<Vec<(String, Yen)>> {
    // Two operators marking the same invoice at once: the second waits here, then finds it
    // marked (R6.4), so its amounts move once.
    tx.lock(&format!("invoice:{invoice_id}")).await?;
    let invoice = get_invoice(tx.conn(), invoice_id).await?;
    invoice::check_default(
        invoice.status == invoice::InvoiceStatus::Finalized,
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
    let text = LineText::MovedUnpaid {
        invoice: invoice.number().unwrap_or_else(|| invoice.id.clone()),
    };
    for (holder, contract, amount) in &moved {
        sqlx::query(
            "INSERT INTO pending_adjustments (id, account_id, contractor_id, contract_id, kind, rule, description, amount, refers_to, created_on, \
             period_from, period_to, text) VALUES ($1, $2, $3, $4, 'moved_unpaid', 'R6.4', $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(new_id())
        .bind(holder.clone())
        .bind(holder.clone())
        .bind(contract.clone())
        .bind(text.ja())
        .bind(*amount)
        .bind(invoice_id.to_owned())
        .bind(on.to_string())
        .bind(unpaid_month.first_day().to_string())
        .bind(unpaid_month.last_day().to_string())
        .bind(json(&text))
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

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;
    use crate::testing::TestDb;
    use crate::{Backend, backend_tests};
    use mpc_domain::invoice::InvoiceState;

    /// How the backend would count the invoices standing in `state`, as a listing counts
    /// them.
    async fn plan(db: &TestDb, state: InvoiceState) -> String {
        let filter = InvoiceFilter {
            state: Some(state.condition()),
            today: "2026-12-01".into(),
            ..InvoiceFilter::default()
        };
        let mut conn = db.store.conn().await.unwrap();
        let postgres = db.store.backend() == Backend::Postgres;
        let mut q = Sql::new(if postgres {
            "EXPLAIN SELECT COUNT(*)"
        } else {
            "EXPLAIN QUERY PLAN SELECT COUNT(*)"
        });
        q.push(INVOICES_WITH_PAID);
        invoice_filter(&mut q, &filter);
        let lines: Vec<String> = if postgres {
            // An empty table is read whole whatever its indexes: ask which one would serve.
            sqlx::query("SET enable_seqscan = off")
                .execute(&mut *conn)
                .await
                .unwrap();
            let rows: Vec<(String,)> = q.query_as().unwrap().fetch_all(&mut *conn).await.unwrap();
            sqlx::query("RESET enable_seqscan")
                .execute(&mut *conn)
                .await
                .unwrap();
            rows.into_iter().map(|(l,)| l).collect()
        } else {
            let rows: Vec<(i64, i64, i64, String)> =
                q.query_as().unwrap().fetch_all(&mut *conn).await.unwrap();
            rows.into_iter().map(|(.., l)| l).collect()
        };
        lines.join("\n")
    }

    /// Migration 0032: the listing by state (B5) reads the invoices of that state through
    /// `invoices_state`, not every invoice.
    async fn listing_by_state_reads_the_state_index(db: TestDb) {
        for state in [
            InvoiceState::Issued,
            InvoiceState::Overdue,
            InvoiceState::Paid,
            InvoiceState::Defaulted,
        ] {
            let plan = plan(&db, state).await;
            assert!(plan.contains("invoices_state"), "{state:?}:\n{plan}");
        }
    }

    backend_tests!(listing_by_state_reads_the_state_index);
}
