//! The lines of mobile access options as contractors set them, passwords sealed.

use jiff::civil::Date;
use mpc_domain::book::{Book, Contract};
use mpc_domain::preset::MobileSettings;
use sqlx::AnyConnection;

use super::key::SecretKey;
use super::revisions::{
    Cause, PresetError, Revision, latest, params_in_force, render, write_revision,
};
use crate::contracts::{Scope, load_books};
use crate::{JournalEntry, Result, Store, now_micros};

/// The line of a mobile access option as the contractor set it (R6.5, R9.3), the password
/// opened. The network type is not stored with it: it is the option's own on a given day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobileLine {
    pub option_id: String,
    pub apn: String,
    /// The PPP id.
    pub id: String,
    pub password: String,
    pub updated_at: i64,
    pub updated_by: String,
}

fn mobile_line_context(option_id: &str) -> String {
    format!("mobile_line:{option_id}:password")
}

/// The line of `option_id`, if one was set.
///
/// # Errors
/// Storage errors; [`StorageError::Corrupt`](crate::StorageError::Corrupt) when the password
/// does not open.
pub async fn mobile_line(
    conn: &mut AnyConnection,
    key: &SecretKey,
    option_id: &str,
) -> Result<Option<MobileLine>> {
    let row: Option<(String, String, String, String, i64, String)> = sqlx::query_as(
        "SELECT option_id, apn, ppp_id, password, updated_at, updated_by FROM mobile_lines \
         WHERE option_id = $1",
    )
    .bind(option_id.to_owned())
    .fetch_optional(conn)
    .await?;
    row.map(|(option_id, apn, id, sealed, updated_at, updated_by)| {
        Ok(MobileLine {
            password: key.open_text(&mobile_line_context(&option_id), &sealed)?,
            option_id,
            apn,
            id,
            updated_at,
            updated_by,
        })
    })
    .transpose()
}

/// The mobile settings `contract` runs on `date` by `book`: the line of its mobile access
/// option in service that day with the option's network type (R6.5, R9.3, R9.5); none when it
/// has no such option or no line was set.
///
/// # Errors
/// Storage errors.
pub async fn mobile_of_book(
    conn: &mut AnyConnection,
    key: &SecretKey,
    book: &Book,
    contract: &Contract,
    date: Date,
) -> Result<Option<MobileSettings>> {
    let Some(option) = book.mobile_access_of(&contract.id, date) else {
        return Ok(None);
    };
    let Some(line) = mobile_line(conn, key, &option.id).await? else {
        return Ok(None);
    };
    Ok(MobileSettings::for_option(contract, option, date, line.apn, line.id, line.password).ok())
}

/// [`mobile_of_book`] with the book of the contract's holder loaded.
///
/// # Errors
/// Storage errors.
pub async fn mobile_in_force(
    conn: &mut AnyConnection,
    key: &SecretKey,
    contract: &Contract,
    date: Date,
) -> Result<Option<MobileSettings>> {
    let book = load_books(conn, Scope::One(&contract.contractor_id), false)
        .await?
        .pop()
        .map(|(_, b)| b)
        .unwrap_or_default();
    mobile_of_book(conn, key, &book, contract, date).await
}

/// Sets the line of mobile access option `option_id` of `contract` (the password sealed) and
/// renders the parameters in force on `date` with it as the next revision (cause
/// `mobile_line`), so the device fetches it. Returns that revision.
///
/// The caller has checked the option with [`MobileSettings::for_option`]. While the
/// parameters in force do not render (R17.1, e.g. a `remote_access` preset still without its
/// pre-shared key) the line is stored without a revision; the next preset save renders it.
///
/// # Errors
/// R17.1 with every bad `mobile.*` field; storage errors.
pub async fn save_mobile_line(
    store: &Store,
    key: &SecretKey,
    contract: &Contract,
    option_id: &str,
    settings: &MobileSettings,
    date: Date,
    journal: JournalEntry,
) -> Result<Option<Revision>, PresetError> {
    settings.validate().map_err(PresetError::Invalid)?;
    let mut tx = store.write().await?;
    tx.lock(&format!("preset:{}", contract.id)).await?;
    sqlx::query(
        "INSERT INTO mobile_lines (option_id, apn, ppp_id, password, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (option_id) DO UPDATE SET apn = excluded.apn, \
         ppp_id = excluded.ppp_id, password = excluded.password, updated_at = excluded.updated_at, \
         updated_by = excluded.updated_by",
    )
    .bind(option_id.to_owned())
    .bind(settings.apn.clone())
    .bind(settings.id.clone())
    .bind(key.seal(
        &mobile_line_context(option_id),
        settings.password.as_bytes(),
    ))
    .bind(now_micros())
    .bind(journal.actor.clone())
    .execute(tx.conn())
    .await?;
    let current = latest(tx.conn(), key, &contract.id).await?;
    let rendered = params_in_force(contract, current.as_ref(), date)
        .map(|p| render(contract, &p, Some(settings)).map(|recipe| (p, recipe)));
    let revision = match rendered {
        Some(Ok((params, recipe))) => Some(
            write_revision(
                &mut tx,
                key,
                contract,
                (&params, Some(settings), recipe),
                Cause::MobileLine,
                None,
                &journal.actor,
            )
            .await?,
        ),
        Some(Err(PresetError::Invalid(_))) | None => None,
        Some(Err(e)) => return Err(e),
    };
    tx.commit(
        journal
            .contractor(Some(&contract.contractor_id))
            .subject(option_id)
            .outcome(serde_json::json!({
                "contract_id": contract.id,
                "revision": revision.as_ref().map(|r| r.revision),
                "mobile": settings.masked(),
            })),
    )
    .await?;
    Ok(revision)
}

// ---------------------------------------------------------------------------------------------
// Device status and monitoring
