//! The journal: one row for every accepted change, written in the change's own transaction.

use serde_json::Value;

use crate::sql::Sql;
use crate::{Result, Store, WriteTx, now_micros};

/// Keys (or `_`-suffixes of keys) whose values never reach the journal.
const SECRET_KEYS: &[&str] = &[
    "password",
    "secret",
    "token",
    "psk",
    "pre_shared_key",
    "private_key",
];

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEYS
        .iter()
        .any(|s| key == *s || key.strip_suffix(s).is_some_and(|head| head.ends_with('_')))
}

/// What a change records about itself.
#[derive(Debug, Clone)]
pub struct JournalEntry {
    /// Who made the change: `user:<id>`, `cli` or `system`.
    pub actor: String,
    pub request_id: Option<String>,
    /// Dotted name of the operation, e.g. `contractor.create`.
    pub operation: String,
    /// The contractor whose data the change touched, so contractors can read their own history.
    pub contractor_id: Option<String>,
    /// The id of the resource changed.
    pub subject: Option<String>,
    /// The request as received; secrets are redacted when written.
    pub request: Value,
    pub outcome: Value,
}

impl JournalEntry {
    pub fn new(actor: impl Into<String>, operation: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            request_id: None,
            operation: operation.into(),
            contractor_id: None,
            subject: None,
            request: Value::Null,
            outcome: Value::Null,
        }
    }

    pub fn request_id(mut self, id: Option<String>) -> Self {
        self.request_id = id;
        self
    }

    pub fn contractor(mut self, id: Option<&str>) -> Self {
        self.contractor_id = id.map(str::to_owned);
        self
    }

    pub fn subject(mut self, id: &str) -> Self {
        self.subject = Some(id.to_owned());
        self
    }

    pub fn request(mut self, body: Value) -> Self {
        self.request = body;
        self
    }

    pub fn outcome(mut self, outcome: Value) -> Self {
        self.outcome = outcome;
        self
    }
}

/// Replaces the value of every secret-looking key, at any depth, with `"[redacted]"`.
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_secret_key(key) {
                    *v = Value::String("[redacted]".into());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

pub(crate) async fn append(tx: &mut WriteTx, entry: &JournalEntry) -> Result<i64> {
    let mut request = entry.request.clone();
    redact(&mut request);
    let mut outcome = entry.outcome.clone();
    redact(&mut outcome);
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO journal (at, actor, request_id, operation, contractor_id, subject, request, outcome) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq",
    )
    .bind(now_micros())
    .bind(&entry.actor)
    .bind(&entry.request_id)
    .bind(&entry.operation)
    .bind(&entry.contractor_id)
    .bind(&entry.subject)
    .bind(request.to_string())
    .bind(outcome.to_string())
    .fetch_one(tx.conn())
    .await?;
    if concerns_devices(&entry.operation) {
        tx.journaled.push(entry.contractor_id.clone());
    }
    Ok(seq)
}

/// Operations that never change whether or what a device may fetch: money, people, sessions
/// and usage records. Devices' caches skip them; without this every billing run, sign-in or
/// usage batch (journaled for no one contractor) would drop every cached verdict and send
/// each device's next poll to the database. Anything not listed — including operations added
/// later — still counts.
const NOT_ABOUT_DEVICES: [&str; 13] = [
    "billing.",
    "prices.",
    "issuer.",
    "invoice.",
    "invoice_redirect.",
    "outage.",
    "sla_claim.",
    "console.",
    "user.",
    "token.",
    "webhook.",
    "mobile.usage_",
    "demo.usage",
];

/// Whether a change journaled as `operation` can change what a device may fetch.
pub fn concerns_devices(operation: &str) -> bool {
    !NOT_ABOUT_DEVICES.iter().any(|p| operation.starts_with(p))
}

/// A journal row as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JournalRecord {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub request_id: Option<String>,
    pub operation: String,
    pub contractor_id: Option<String>,
    pub subject: Option<String>,
    pub request: String,
    pub outcome: String,
}

/// Which journal rows to read, newest first.
#[derive(Debug, Clone, Default)]
pub struct JournalQuery {
    pub operation: Option<String>,
    pub actor: Option<String>,
    pub contractor_id: Option<String>,
    pub subject: Option<String>,
    /// Only rows older than this sequence number (the cursor of the previous page).
    pub before: Option<i64>,
    /// Only rows written at or after this instant (microseconds).
    pub since: Option<i64>,
    /// Only rows written before this instant (microseconds).
    pub until: Option<i64>,
    /// Rows to skip before the first one read (a numbered page's start).
    pub offset: i64,
    pub limit: i64,
}

/// The `WHERE` of a query, shared by [`list`] and [`count`] so a page and its count agree.
fn push_filters(sql: &mut Sql, q: &JournalQuery) {
    sql.push(" FROM journal WHERE 1 = 1");
    for (column, value) in [
        ("operation", &q.operation),
        ("actor", &q.actor),
        ("contractor_id", &q.contractor_id),
        ("subject", &q.subject),
    ] {
        if let Some(value) = value {
            sql.push(" AND ")
                .push(column)
                .push(" = ")
                .bind(value.clone());
        }
    }
    if let Some(before) = q.before {
        sql.push(" AND seq < ").bind(before);
    }
    if let Some(since) = q.since {
        sql.push(" AND at >= ").bind(since);
    }
    if let Some(until) = q.until {
        sql.push(" AND at < ").bind(until);
    }
}

pub async fn list(store: &Store, q: &JournalQuery) -> Result<Vec<JournalRecord>> {
    let mut sql = Sql::new(
        "SELECT seq, at, actor, request_id, operation, contractor_id, subject, request, outcome",
    );
    push_filters(&mut sql, q);
    sql.push(" ORDER BY seq DESC LIMIT ").bind(q.limit);
    if q.offset > 0 {
        sql.push(" OFFSET ").bind(q.offset);
    }
    Ok(sql
        .query_as::<JournalRecord>()?
        .fetch_all(store.pool())
        .await?)
}

/// How many rows `q` finds on all its pages (its `offset` and `limit` aside).
pub async fn count(store: &Store, q: &JournalQuery) -> Result<i64> {
    let mut sql = Sql::new("SELECT COUNT(*)");
    push_filters(&mut sql, q);
    let (n,): (i64,) = sql.query_as()?.fetch_one(store.pool()).await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redact_hides_secrets_at_any_depth() {
        let mut v = json!({"name": "a", "password": "p", "wan": {"pppoe_password": "x", "id": "y"},
                           "users": [{"name": "u", "Password": "z"}], "token_label": "ci"});
        redact(&mut v);
        assert_eq!(
            v,
            json!({"name": "a", "password": "[redacted]", "wan": {"pppoe_password": "[redacted]", "id": "y"},
                   "users": [{"name": "u", "Password": "[redacted]"}], "token_label": "ci"})
        );
    }
}

#[cfg(test)]
mod device_relevance_tests {
    use super::concerns_devices;

    #[test]
    fn money_people_and_usage_do_not_concern_devices_anything_else_does() {
        for op in [
            "billing.run",
            "billing.correct",
            "prices.import",
            "console.sign_in",
            "invoice.payment",
            "mobile.usage_ingest",
            "sla_claim.approve",
        ] {
            assert!(!concerns_devices(op), "{op}");
        }
        for op in [
            "request.accept",
            "preset.update",
            "device.inventory_import",
            "device.sweep_overdue",
            "mobile_line.update",
            "something.new",
        ] {
            assert!(concerns_devices(op), "{op}");
        }
    }
}
