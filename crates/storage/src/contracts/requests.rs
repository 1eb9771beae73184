//! Carrying out contractors' requests and operators' records: load the book, let the domain
//! decide, persist the effects and the journal row in one transaction.

use jiff::civil::Date;
use mpc_domain::Refusal;
use mpc_domain::billing::Line;
use mpc_domain::book::{Book, Effect};
use mpc_domain::contract::ManagementAccess;
use mpc_domain::custody;
use mpc_domain::eligibility::Impact;
use mpc_domain::number::{Number, Numbered};
use mpc_domain::price::MissingPrice;
use mpc_domain::request::{
    Acceptance, Context, Decision, Request, RequestStatus, check_pending, decide, on_submission,
};
use sqlx::AnyConnection;

use super::quote::termination_impact;
use super::standing::load_standing;
use crate::contracts::{date, load_book, load_contract, load_device, numbers, persist};
use crate::sql::Sql;
use crate::{JournalEntry, StorageError, Store, WriteTx, new_id, now_micros};

/// Why the engine did not carry something out.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Refused(Refusal),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<Refusal> for EngineError {
    fn from(r: Refusal) -> Self {
        EngineError::Refused(r)
    }
}

impl From<sqlx::Error> for EngineError {
    fn from(e: sqlx::Error) -> Self {
        EngineError::Storage(e.into())
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// A stored request.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRecord {
    pub id: String,
    /// Its number, `REQ-` and these digits ([`RequestRecord::number`]).
    pub number: i64,
    pub contractor_id: String,
    pub kind: String,
    pub payload: String,
    pub submitted_on: String,
    pub submitted_by: String,
    #[sqlx(try_from = "String")]
    pub status: RequestStatus,
    pub decided_on: Option<String>,
    pub decided_by: Option<String>,
    pub decision: Option<String>,
    pub created_at: i64,
}

impl RequestRecord {
    /// The number people quote (`REQ-000123`).
    pub fn number(&self) -> Number {
        Number::new(Numbered::Request, self.number)
    }

    pub fn request(&self) -> Result<Request> {
        serde_json::from_str(&self.payload)
            .map_err(|e| StorageError::Corrupt(format!("request {}: {e}", self.id)).into())
    }
}

/// Qualified by `r`, so that pages may join the contractor for its name.
const REQUEST_COLUMNS: &str = "SELECT r.id, r.number, r.contractor_id, r.kind, r.payload, r.submitted_on, \
     r.submitted_by, r.status, r.decided_on, r.decided_by, r.decision, r.created_at FROM requests r";

/// What deciding a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A submission checked as if accepted that day: the decision only.
    Check,
    /// What acceptance would do, written nowhere: the decision, what it costs eligibility
    /// and its charges.
    Preview,
    /// An acceptance: as a preview, then written.
    Accept,
    /// An acceptance inside a bulk batch: written with its eligibility impact, charges left
    /// to billing (pricing each of hundreds of requests would slow bulk loads).
    AcceptInBatch,
}

impl Mode {
    fn writes(self) -> bool {
        matches!(self, Mode::Accept | Mode::AcceptInBatch)
    }
}

/// Decides `request` inside `tx` and, for an acceptance, writes its effects.
async fn decide_and_persist(
    tx: &mut WriteTx,
    contractor_id: &str,
    request: &Request,
    submitted_on: Date,
    acceptance: &Acceptance,
    mode: Mode,
) -> Result<Outcome> {
    tx.lock(&format!("book:{contractor_id}")).await?;
    let mut book = load_book(tx.conn(), contractor_id).await?;
    decide_on_book(
        tx,
        &mut book,
        contractor_id,
        request,
        submitted_on,
        acceptance,
        mode,
    )
    .await
}

/// Decides `request` on `book` (loaded in `tx`) and, for an acceptance, writes its effects
/// and leaves `book` as the effects made it.
async fn decide_on_book(
    tx: &mut WriteTx,
    book: &mut Book,
    contractor_id: &str,
    request: &Request,
    submitted_on: Date,
    acceptance: &Acceptance,
    mode: Mode,
) -> Result<Outcome> {
    let management = match request {
        Request::ApplyContract {
            management_id: Some(id),
            ..
        } => load_contract(tx.conn(), id).await?,
        _ => None,
    };
    let consented_on = match &management {
        Some(m) if m.contractor_id != contractor_id => {
            designation_consent(tx.conn(), contractor_id, &m.id).await?
        }
        _ => None,
    };
    let serial = request
        .serial()
        .or(acceptance.replacement_serial.as_deref())
        .map(str::to_owned);
    let device = match &serial {
        Some(s) => match load_device(tx.conn(), s.trim()).await? {
            Some(d) => Some(d),
            // A unit of the inventory that never served: in stock, of its model (R3.1).
            None => crate::controller::inventory_model(tx.conn(), s.trim())
                .await?
                .map(|model| mpc_domain::book::Device::in_stock(s.trim(), model)),
        },
        None => None,
    };
    // Keep the history of a device that served another contractor before.
    let mut seen = std::borrow::Cow::Borrowed(&*book);
    if let Some(d) = device.as_ref().filter(|d| seen.device(&d.serial).is_none()) {
        seen.to_mut().devices.push(d.clone());
    }
    // Whether the device now serving the contract of a notification fetched with it (R7.1).
    let current_fetched = match request {
        Request::NotifySerial { contract_id, .. } => {
            let current = seen
                .devices
                .iter()
                .find(|d| {
                    d.assignments
                        .iter()
                        .any(|a| a.until.is_none() && &a.contract_id == contract_id)
                })
                .map(|d| d.serial.clone());
            match current {
                Some(s) => crate::fetches::fetched(tx.conn(), &s, contract_id).await?,
                None => false,
            }
        }
        _ => false,
    };
    let mut ids = new_id;
    let mut decision = decide(
        &seen,
        contractor_id,
        request,
        submitted_on,
        acceptance,
        Context {
            management: management.as_ref().map(|contract| ManagementAccess {
                contract,
                consented_on,
            }),
            device: device.as_ref(),
            current_fetched,
            new_id: &mut ids,
        },
    )?;
    let mut impacts = Vec::new();
    let mut charges = None;
    if mode != Mode::Check {
        if mode.writes() {
            numbers::number_created(tx, &mut decision.effects).await?;
        }
        let after = seen.with(&decision.effects);
        let ends = decision.effects.iter().any(|e| {
            matches!(
                e,
                Effect::ContractEnds { .. } | Effect::OptionEnds { .. } | Effect::GroupEnds { .. }
            )
        });
        if ends {
            let own = load_standing(tx.conn(), contractor_id).await?;
            impacts = termination_impact(tx.conn(), &own, &after, &decision.effects).await?;
        }
        if mode != Mode::AcceptInBatch {
            let prices = super::quote::prices(tx.conn()).await?;
            charges = Some(mpc_domain::billing::decision_charges(
                contractor_id,
                &seen,
                &after,
                &decision.effects,
                &prices,
            ));
        }
        if mode.writes() {
            persist(tx, contractor_id, &after, &decision.effects).await?;
            *book = after;
        }
    }
    Ok(Outcome {
        decision,
        impacts,
        charges,
    })
}

/// A decision with the eligibility it would cost (R6.8) and, when priced, what it charges
/// (R14.2; `Err` names the prices the book lacks).
pub struct Outcome {
    pub decision: Decision,
    pub impacts: Vec<Impact>,
    pub charges: Option<Charges>,
}

/// The lines a decision adds to the bills, or the prices missing to compute them.
pub type Charges = std::result::Result<Vec<Line>, Vec<MissingPrice>>;

async fn designation_consent(
    conn: &mut AnyConnection,
    rider: &str,
    management_id: &str,
) -> Result<Option<Date>> {
    let rows: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT consented_on FROM designations WHERE rider_contractor_id = $1 \
         AND management_contract_id = $2 AND withdrawn_on IS NULL ORDER BY consented_on",
    )
    .bind(rider.to_owned())
    .bind(management_id.to_owned())
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .flatten()
        .next()
        .map(|d| date(&d))
        .transpose()?)
}

/// Submits a request on `submitted_on`.
///
/// It is checked against the rules as if accepted that day, so a request the regulation
/// forbids (e.g. a usage-type change on a month's last day, R9.4) is refused at once. With
/// `accept`, an operator accepts it in the same transaction.
pub async fn submit(
    store: &Store,
    contractor_id: &str,
    request: &Request,
    submitted_on: Date,
    submitted_by: &str,
    accept: Option<&Acceptance>,
    journal: JournalEntry,
) -> Result<(RequestRecord, Option<Decision>)> {
    let mut batch = Batch::open(store, contractor_id).await?;
    // One request accepted as it is submitted is an acceptance like any other: priced.
    batch.accepting = Mode::Accept;
    let submitted = batch
        .submit(request, submitted_on, submitted_by, accept, journal)
        .await?;
    batch.commit().await?;
    Ok(submitted)
}

/// Checks `request` as [`submit`] would on `submitted_on`, writing nothing: the refusal a
/// submission would meet, for forms that check as they are filled in.
pub async fn check(
    store: &Store,
    contractor_id: &str,
    request: &Request,
    submitted_on: Date,
) -> Result<()> {
    let mut batch = Batch::open(store, contractor_id).await?;
    let check = Acceptance {
        on: Some(submitted_on),
        ..Acceptance::default()
    };
    decide_on_book(
        &mut batch.tx,
        &mut batch.book,
        contractor_id,
        request,
        submitted_on,
        &check,
        Mode::Check,
    )
    .await?;
    on_submission(&batch.book, request, submitted_on)?;
    // Dropping the batch rolls its transaction back.
    Ok(())
}

/// Requests of one contractor submitted in one transaction, deciding each on the book as the
/// ones before left it, so the book is loaded once rather than once per request.
///
/// Each request is checked by the same rules and writes the same request and journal rows as
/// [`submit`]; nothing lands until [`Batch::commit`], and dropping the batch rolls it all
/// back. It holds the write lock throughout, so keep batches to a few hundred requests (bulk
/// loads such as `mpc simulate --setup`).
pub struct Batch {
    tx: WriteTx,
    contractor_id: String,
    book: Book,
    /// How a request submitted with its acceptance is decided.
    accepting: Mode,
}

impl Batch {
    /// Starts the transaction and loads the contractor's book.
    pub async fn open(store: &Store, contractor_id: &str) -> Result<Self> {
        let mut tx = store.write().await?;
        tx.lock(&format!("book:{contractor_id}")).await?;
        let book = load_book(tx.conn(), contractor_id).await?;
        Ok(Self {
            tx,
            contractor_id: contractor_id.to_owned(),
            book,
            accepting: Mode::AcceptInBatch,
        })
    }

    /// Submits one request, as [`submit`] does. A refusal writes nothing and leaves the batch
    /// usable; after a storage error, drop it.
    pub async fn submit(
        &mut self,
        request: &Request,
        submitted_on: Date,
        submitted_by: &str,
        accept: Option<&Acceptance>,
        journal: JournalEntry,
    ) -> Result<(RequestRecord, Option<Decision>)> {
        let check = Acceptance {
            on: Some(submitted_on),
            ..Acceptance::default()
        };
        let contractor_id = self.contractor_id.as_str();
        let outcome = decide_on_book(
            &mut self.tx,
            &mut self.book,
            contractor_id,
            request,
            submitted_on,
            accept.unwrap_or(&check),
            if accept.is_some() {
                self.accepting
            } else {
                Mode::Check
            },
        )
        .await?;
        let outcome = accept.map(|_| outcome);
        // What the request does before acceptance (a loss report: the device is lost, R12.3);
        // an accepted request's decision already holds it.
        let submitted = if outcome.is_none() {
            let effects = on_submission(&self.book, request, submitted_on)?;
            if !effects.is_empty() {
                let after = self.book.with(&effects);
                persist(&mut self.tx, contractor_id, &after, &effects).await?;
                self.book = after;
            }
            effects
        } else {
            Vec::new()
        };
        let row = RequestRecord {
            id: new_id(),
            number: crate::numbers::next(&mut self.tx, Numbered::Request).await?,
            contractor_id: contractor_id.to_owned(),
            kind: request.kind().to_owned(),
            payload: serde_json::to_string(request)
                .map_err(|e| StorageError::Corrupt(e.to_string()))?,
            submitted_on: submitted_on.to_string(),
            submitted_by: submitted_by.to_owned(),
            status: if outcome.is_some() {
                RequestStatus::Accepted
            } else {
                RequestStatus::Pending
            },
            decided_on: outcome.as_ref().map(|_| {
                accept
                    .and_then(|a| a.on)
                    .unwrap_or(submitted_on)
                    .to_string()
            }),
            decided_by: outcome.as_ref().map(|_| submitted_by.to_owned()),
            decision: outcome.as_ref().map(decision_json),
            created_at: now_micros(),
        };
        sqlx::query(
            "INSERT INTO requests (id, contractor_id, kind, payload, submitted_on, submitted_by, status, \
             decided_on, decided_by, decision, created_at, number, subject_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(row.id.clone())
        .bind(row.contractor_id.clone())
        .bind(row.kind.clone())
        .bind(row.payload.clone())
        .bind(row.submitted_on.clone())
        .bind(row.submitted_by.clone())
        .bind(row.status.as_str())
        .bind(row.decided_on.clone())
        .bind(row.decided_by.clone())
        .bind(row.decision.clone())
        .bind(row.created_at)
        .bind(row.number)
        .bind(request.subject().map(str::to_owned))
        .execute(self.tx.conn())
        .await?;
        crate::journal::append(
            &mut self.tx,
            &journal
                .contractor(Some(contractor_id))
                .subject(&row.id)
                .outcome(serde_json::json!({ "request_id": row.id, "status": row.status, "effects": outcome.as_ref().map_or(&submitted, |o| &o.decision.effects) })),
        )
        .await?;
        Ok((row, outcome.map(|o| o.decision)))
    }

    /// Commits every request submitted.
    pub async fn commit(self) -> Result<()> {
        Ok(self.tx.commit_part().await?)
    }
}

/// A decision as a request records it: its effects, delivery, eligibility impact and, when
/// priced, its charges (or the prices missing to price them).
fn decision_json(o: &Outcome) -> String {
    let mut json = serde_json::json!({
        "effects": o.decision.effects,
        "delivery": o.decision.delivery,
        "eligibility_impact": o.impacts,
    });
    match &o.charges {
        // Each line with its English wording beside the Japanese, as the API's lines carry it.
        Some(Ok(lines)) => {
            json["charges"] = lines
                .iter()
                .map(|l| {
                    let mut line = serde_json::json!(l);
                    line["description_en"] = l.text.en().into();
                    line
                })
                .collect();
        }
        Some(Err(missing)) => {
            json["missing_prices"] = missing.iter().map(ToString::to_string).collect();
        }
        None => {}
    }
    json.to_string()
}

/// The decision as [`decision_json`] records it, parsed back.
pub fn recorded_decision(o: &Outcome) -> serde_json::Value {
    serde_json::from_str(&decision_json(o)).unwrap_or_default()
}

pub async fn get_request(store: &Store, id: &str) -> Result<RequestRecord> {
    let mut q = Sql::new(REQUEST_COLUMNS);
    q.push(" WHERE id = ").bind(id.to_owned());
    Ok(q.query_as()?
        .fetch_one(store.pool())
        .await
        .map_err(StorageError::from)?)
}

/// Requests `filter` finds, by id: `limit` of them after the id `after`.
pub async fn list_requests(
    store: &Store,
    filter: &RequestFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<RequestRecord>> {
    let mut q = Sql::new(REQUEST_COLUMNS);
    push_request_filter(&mut q, filter);
    if let Some(a) = after {
        q.push(" AND r.id > ").bind(a.to_owned());
    }
    q.push(" ORDER BY r.id LIMIT ").bind(limit);
    Ok(q.query_as()?
        .fetch_all(store.pool())
        .await
        .map_err(StorageError::from)?)
}

/// The requests of `contractor` about one contract: those whose subject is the contract or
/// one of `also` (its options), and the accepted application that made it — by id, one query.
pub async fn requests_about(
    store: &Store,
    contractor: &str,
    contract_id: &str,
    also: &[String],
) -> Result<Vec<RequestRecord>> {
    let mut q = Sql::new(REQUEST_COLUMNS);
    q.push(" WHERE contractor_id = ")
        .bind(contractor.to_owned())
        .push(" AND (subject_id IN ")
        .bind_list(std::iter::once(contract_id.to_owned()).chain(also.iter().cloned()))
        .push(" OR (kind = 'apply_contract' AND status = 'accepted' AND decision LIKE ")
        .bind(format!("%\"{}\"%", crate::sql::escape_like(contract_id)))
        .push(" ESCAPE '\\'))")
        .push(" ORDER BY id");
    Ok(q.query_as()?
        .fetch_all(store.pool())
        .await
        .map_err(StorageError::from)?)
}

/// Which requests a numbered page lists: each field narrows it when given.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub contractor: Option<String>,
    pub status: Option<String>,
    /// A request kind's wire name (`apply_contract` …).
    pub kind: Option<String>,
}

fn push_request_filter(q: &mut Sql, f: &RequestFilter) {
    q.push(" WHERE 1 = 1");
    for (column, value) in [
        ("r.contractor_id", &f.contractor),
        ("r.status", &f.status),
        ("r.kind", &f.kind),
    ] {
        if let Some(v) = value {
            q.push(" AND ").push(column).push(" = ").bind(v.clone());
        }
    }
}

/// The order of a numbered page of requests. Ties fall to the day submitted and then the
/// number, which is unique, so pages neither overlap nor skip a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RequestOrder {
    /// Pending ones first, then the newest: a contractor's own list.
    #[default]
    PendingFirst,
    /// By the day submitted, the earliest first: the work queue's own order.
    Submitted,
    /// By number (`REQ-000123`).
    Number,
    /// By the contractor's name.
    Contractor,
    /// By kind, in the order these wire names are given (say, their labels' order in the
    /// reader's language); kinds not given come last.
    Kind(Vec<String>),
}

impl RequestOrder {
    /// Appends the `ORDER BY` clause: every key reversed when `desc`, so a descending order
    /// is the ascending one backwards ([`RequestOrder::PendingFirst`] has its own direction).
    fn push(&self, q: &mut Sql, desc: bool) {
        let dir = if desc { " DESC" } else { "" };
        q.push(" ORDER BY ");
        match self {
            RequestOrder::PendingFirst => {
                q.push(
                    "CASE WHEN r.status = 'pending' THEN 0 ELSE 1 END, r.created_at DESC, r.id DESC",
                );
                return;
            }
            RequestOrder::Number => {
                q.push("r.number").push(dir);
                return;
            }
            RequestOrder::Submitted => {}
            RequestOrder::Contractor => {
                q.push("c.name").push(dir).push(", ");
            }
            RequestOrder::Kind(ranked) => {
                q.push("CASE r.kind");
                for (rank, kind) in ranked.iter().enumerate() {
                    q.push(" WHEN ").bind(kind.clone());
                    q.push(&format!(" THEN {rank}"));
                }
                q.push(&format!(" ELSE {} END", ranked.len()))
                    .push(dir)
                    .push(", ");
            }
        }
        q.push("r.submitted_on").push(dir);
        q.push(", r.number").push(dir);
    }
}

/// Requests `filter` finds in `order` (reversed when `desc`): `limit` of them after skipping
/// `offset`.
pub async fn page_requests(
    store: &Store,
    filter: &RequestFilter,
    (order, desc): (&RequestOrder, bool),
    offset: i64,
    limit: i64,
) -> Result<Vec<RequestRecord>> {
    let mut q = Sql::new(REQUEST_COLUMNS);
    if *order == RequestOrder::Contractor {
        q.push(" LEFT JOIN contractors c ON c.id = r.contractor_id");
    }
    push_request_filter(&mut q, filter);
    order.push(&mut q, desc);
    q.push(" LIMIT ").bind(limit).push(" OFFSET ").bind(offset);
    Ok(q.query_as()?
        .fetch_all(store.pool())
        .await
        .map_err(StorageError::from)?)
}

/// How many requests `filter` finds.
pub async fn count_requests(store: &Store, filter: &RequestFilter) -> Result<i64> {
    let mut q = Sql::new("SELECT COUNT(*) FROM requests r");
    push_request_filter(&mut q, filter);
    let (n,): (i64,) = q
        .query_as()?
        .fetch_one(store.pool())
        .await
        .map_err(StorageError::from)?;
    Ok(n)
}

/// Accepts a pending request with the operator's dates.
pub async fn accept(
    store: &Store,
    request_id: &str,
    acceptance: &Acceptance,
    decided_by: &str,
    journal: JournalEntry,
) -> Result<(RequestRecord, Decision)> {
    let mut tx = store.write().await?;
    let contractor = get_request(store, request_id).await?.contractor_id;
    tx.lock(&format!("book:{contractor}")).await?;
    let mut row = pending(&mut tx, request_id).await?;
    let request = row.request()?;
    let submitted_on = date(&row.submitted_on)?;
    let outcome = decide_and_persist(
        &mut tx,
        &row.contractor_id,
        &request,
        submitted_on,
        acceptance,
        Mode::Accept,
    )
    .await?;
    row.status = RequestStatus::Accepted;
    row.decided_on = Some(acceptance.on.unwrap_or(submitted_on).to_string());
    row.decided_by = Some(decided_by.to_owned());
    row.decision = Some(decision_json(&outcome));
    let decision = outcome.decision;
    close(&mut tx, &row).await?;
    tx.commit(
        journal
            .contractor(Some(&row.contractor_id))
            .subject(request_id)
            .outcome(serde_json::json!({ "status": row.status, "effects": decision.effects })),
    )
    .await?;
    Ok((row, decision))
}

/// What accepting a pending request with the operator's dates would do: the decision
/// [`accept`] runs, on the same book in a transaction of its own that is rolled back, so
/// nothing is written and the outcome is the one acceptance would record that moment.
///
/// # Errors
/// The rule acceptance would break, as [`accept`] refuses it; `request_closed` for a
/// request no longer pending.
pub async fn preview(
    store: &Store,
    request_id: &str,
    acceptance: &Acceptance,
) -> Result<(RequestRecord, Outcome)> {
    let mut tx = store.write().await?;
    let contractor = get_request(store, request_id).await?.contractor_id;
    tx.lock(&format!("book:{contractor}")).await?;
    let row = pending(&mut tx, request_id).await?;
    let request = row.request()?;
    let submitted_on = date(&row.submitted_on)?;
    let outcome = decide_and_persist(
        &mut tx,
        &row.contractor_id,
        &request,
        submitted_on,
        acceptance,
        Mode::Preview,
    )
    .await?;
    // Dropping the transaction rolls it back: a preview writes nothing.
    drop(tx);
    Ok((row, outcome))
}

/// Rejects (operator) or withdraws (contractor) a pending request.
pub async fn close_pending(
    store: &Store,
    request_id: &str,
    status: RequestStatus,
    on: Date,
    by: &str,
    reason: Option<&str>,
    journal: JournalEntry,
) -> Result<RequestRecord> {
    let mut tx = store.write().await?;
    let contractor = get_request(store, request_id).await?.contractor_id;
    tx.lock(&format!("book:{contractor}")).await?;
    let mut row = pending(&mut tx, request_id).await?;
    row.status = status;
    row.decided_on = Some(on.to_string());
    row.decided_by = Some(by.to_owned());
    row.decision = Some(serde_json::json!({ "reason": reason }).to_string());
    close(&mut tx, &row).await?;
    tx.commit(
        journal
            .contractor(Some(&row.contractor_id))
            .subject(request_id)
            .outcome(serde_json::json!({ "status": status })),
    )
    .await?;
    Ok(row)
}

async fn pending(tx: &mut WriteTx, id: &str) -> Result<RequestRecord> {
    let mut q = Sql::new(REQUEST_COLUMNS);
    q.push(" WHERE id = ").bind(id.to_owned());
    let row: RequestRecord = q
        .query_as()?
        .fetch_one(tx.conn())
        .await
        .map_err(StorageError::from)?;
    check_pending(row.status)?;
    Ok(row)
}

async fn close(tx: &mut WriteTx, row: &RequestRecord) -> Result<()> {
    sqlx::query("UPDATE requests SET status = $1, decided_on = $2, decided_by = $3, decision = $4 WHERE id = $5")
        .bind(row.status.as_str())
        .bind(row.decided_on.clone())
        .bind(row.decided_by.clone())
        .bind(row.decision.clone())
        .bind(row.id.clone())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Applies an operator's record (billing start, returns, finds) decided on the contractor's
/// book, and journals it.
pub async fn record(
    store: &Store,
    contractor_id: &str,
    journal: JournalEntry,
    decide: impl FnOnce(&Book) -> Result<Vec<Effect>, Refusal>,
) -> Result<Vec<Effect>> {
    let mut tx = store.write().await?;
    tx.lock(&format!("book:{contractor_id}")).await?;
    let book = load_book(tx.conn(), contractor_id).await?;
    let effects = decide(&book)?;
    persist(&mut tx, contractor_id, &book.with(&effects), &effects).await?;
    tx.commit(
        journal
            .contractor(Some(contractor_id))
            .outcome(serde_json::json!({ "effects": effects })),
    )
    .await?;
    Ok(effects)
}

/// Treats every device not returned by its deadline as lost (R10.3, R12.2), as of `today`.
/// Returns the effects per contractor.
pub async fn sweep_overdue_returns(
    store: &Store,
    today: Date,
    journal: JournalEntry,
) -> Result<Vec<Effect>> {
    let mut tx = store.write().await?;
    tx.lock("sweep:overdue_returns").await?;
    let holders: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT DISTINCT contractor_id FROM devices WHERE return_due < $1 AND returned_on IS NULL AND lost_on IS NULL",
    )
    .bind(today.to_string())
    .fetch_all(tx.conn())
    .await?;
    let mut all = Vec::new();
    if holders.is_empty() {
        return Ok(Vec::new());
    }
    for contractor_id in holders.into_iter().flatten() {
        tx.lock(&format!("book:{contractor_id}")).await?;
        let book = load_book(tx.conn(), &contractor_id).await?;
        let effects = custody::overdue_returns(
            &book.devices,
            |d| d.assignments.last().map(|a| a.contract_id.clone()),
            today,
            |_| new_id(),
        );
        persist(&mut tx, &contractor_id, &book.with(&effects), &effects).await?;
        all.extend(effects);
    }
    tx.commit(journal.outcome(serde_json::json!({ "effects": all })))
        .await?;
    Ok(all)
}
