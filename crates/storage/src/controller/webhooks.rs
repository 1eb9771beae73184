//! Alert webhooks, and the journal rows every node's device cache follows.

use sqlx::AnyConnection;

use crate::{JournalEntry, Result, StorageError, Store, new_id, now_micros};

/// A URL that receives a JSON POST on every state change.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub created_at: i64,
}

pub async fn webhooks(conn: &mut AnyConnection) -> Result<Vec<Webhook>> {
    Ok(
        sqlx::query_as("SELECT id, url, created_at FROM alert_webhooks ORDER BY id")
            .fetch_all(conn)
            .await?,
    )
}

pub async fn webhook(conn: &mut AnyConnection, id: &str) -> Result<Webhook> {
    Ok(
        sqlx::query_as("SELECT id, url, created_at FROM alert_webhooks WHERE id = $1")
            .bind(id.to_owned())
            .fetch_one(conn)
            .await?,
    )
}

/// Registers a webhook.
///
/// # Errors
/// [`StorageError::Conflict`] when the URL is registered already.
pub async fn add_webhook(store: &Store, url: &str, journal: JournalEntry) -> Result<Webhook> {
    let hook = Webhook {
        id: new_id(),
        url: url.to_owned(),
        created_at: now_micros(),
    };
    let mut tx = store.write().await?;
    sqlx::query("INSERT INTO alert_webhooks (id, url, created_at) VALUES ($1, $2, $3)")
        .bind(hook.id.clone())
        .bind(hook.url.clone())
        .bind(hook.created_at)
        .execute(tx.conn())
        .await?;
    tx.commit(
        journal
            .subject(&hook.id)
            .outcome(serde_json::json!({ "id": hook.id })),
    )
    .await?;
    Ok(hook)
}

/// Removes a webhook.
///
/// # Errors
/// [`StorageError::NotFound`] for an unknown id.
pub async fn remove_webhook(store: &Store, id: &str, journal: JournalEntry) -> Result<()> {
    let mut tx = store.write().await?;
    let gone = sqlx::query("DELETE FROM alert_webhooks WHERE id = $1")
        .bind(id.to_owned())
        .execute(tx.conn())
        .await?
        .rows_affected();
    if gone == 0 {
        return Err(StorageError::NotFound);
    }
    tx.commit(journal.subject(id)).await?;
    Ok(())
}

/// Journal rows after `after`: (seq, contractor). The device cache of every node reads them to
/// learn which contractors' books changed.
pub async fn journal_since(
    conn: &mut AnyConnection,
    after: i64,
) -> Result<Vec<(i64, Option<String>, bool)>> {
    let rows: Vec<(i64, Option<String>, String)> = sqlx::query_as(
        "SELECT seq, contractor_id, operation FROM journal WHERE seq > $1 ORDER BY seq",
    )
    .bind(after)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(seq, contractor, operation)| {
            (
                seq,
                contractor,
                crate::journal::concerns_devices(&operation),
            )
        })
        .collect())
}
