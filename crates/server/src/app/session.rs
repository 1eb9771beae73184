//! Console sessions: signing in (with throttling of failed tries), signing out, and a user
//! changing its own password.
//!
//! Failed sign-ins slow down further tries from the same client address
//! ([`mpc_domain::account::sign_in_wait`]); no account is ever locked, and an unknown username
//! is answered and counted exactly like a known one.

use mpc_domain::account::{
    FREE_FAILURES_PER_ACCOUNT, FREE_FAILURES_PER_ADDRESS, FieldError, sign_in_wait,
};
use mpc_storage::accounts::{self, User};
use mpc_storage::{JournalEntry, now_micros};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

/// A session lasts 12 hours from sign-in.
pub const SESSION_TTL_MICROS: i64 = 12 * 3600 * 1_000_000;

/// A hash that matches nothing, verified when the username is unknown so that the answer takes
/// as long as for a known one.
const NO_SUCH_USER: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$W6GD6Nk6UUcfNuBpmE8ZRRY1oJO8YJzxvgFgh6rbcE8";

/// How a sign-in went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// A session was opened; its secret goes into the cookie.
    Opened { secret: String },
    /// Too many failed tries from this address (or for this name from it): try again after
    /// this many seconds. Nothing was checked.
    Throttled { seconds: i64 },
    /// The name or the password is wrong (which one is never told); the failure counts.
    Refused,
    /// Name and password are right but an operator disabled the account.
    Disabled,
}

/// The throttle keys of a try: the address alone, and the address with the username typed
/// (hashed, so any text makes a key of bounded length).
fn throttle_keys(address: &str, username: &str) -> (String, String) {
    (
        format!("addr:{address}"),
        format!("addr:{address}{}", username_key(username)),
    )
}

/// How every throttle key of one username typed ends, whatever the address.
pub(crate) fn username_key(username: &str) -> String {
    let name = Sha256::digest(username.as_bytes());
    format!("|user:{}", hex::encode(&name[..16]))
}

/// Signs `username` in from `address` with `password`, journaled as `console.sign_in` or
/// `console.sign_in_failed`.
///
/// # Errors
/// The database's.
pub async fn sign_in(
    state: &AppState,
    address: &str,
    username: &str,
    password: String,
) -> ApiResult<SignIn> {
    let now = now_micros();
    let username = username.trim();
    let (address_key, account_key) = throttle_keys(address, username);
    let mut longest = None;
    for key in [&address_key, &account_key] {
        let failures = accounts::sign_in_failures(&state.store, key).await?;
        longest = longest.max(sign_in_wait(failures, now));
    }
    if let Some(wait) = longest {
        return Ok(SignIn::Throttled {
            seconds: (wait + 999_999) / 1_000_000,
        });
    }
    // The same work for every name: an unknown one is checked against a hash that matches
    // nothing, so the answer's timing does not tell whether the name exists.
    // A name no account can have (mpc_domain::account::username) is looked up by no one: it
    // is an unknown name, whatever it holds (PostgreSQL refuses a NUL in a query's text).
    let record = match mpc_domain::account::username(username) {
        Ok(_) => accounts::sign_in_record(&state.store, username).await?,
        Err(_) => None,
    };
    let known = record
        .as_ref()
        .and_then(|r| r.password_hash.clone().map(|h| (r.id.clone(), h)));
    let disabled = record.as_ref().is_some_and(|r| r.disabled_at.is_some());
    let stored = known
        .as_ref()
        .map_or_else(|| NO_SUCH_USER.to_owned(), |(_, h)| h.clone());
    let matches =
        tokio::task::spawn_blocking(move || accounts::verify_password(&stored, &password))
            .await
            .map_err(|_| ApiError::internal())?;
    let mut tx = state.store.write().await?;
    let Some((user_id, _)) = known.filter(|_| matches) else {
        accounts::record_failed_sign_in(&mut tx, &address_key, FREE_FAILURES_PER_ADDRESS, now)
            .await?;
        accounts::record_failed_sign_in(&mut tx, &account_key, FREE_FAILURES_PER_ACCOUNT, now)
            .await?;
        let mut entry = JournalEntry::new("console", "console.sign_in_failed");
        if let Some(r) = &record {
            entry = entry.subject(&r.id);
        }
        tx.commit(entry).await?;
        return Ok(SignIn::Refused);
    };
    if disabled {
        // Told only to whoever knows the password: the name alone tells nothing.
        tx.commit(JournalEntry::new("console", "console.sign_in_disabled").subject(&user_id))
            .await?;
        return Ok(SignIn::Disabled);
    }
    accounts::clear_sign_in_failures(&mut tx, &account_key).await?;
    let secret = accounts::open_session(&mut tx, &user_id, now, SESSION_TTL_MICROS).await?;
    tx.commit(JournalEntry::new(format!("user:{user_id}"), "console.sign_in").subject(&user_id))
        .await?;
    Ok(SignIn::Opened { secret })
}

/// Closes the session `secret` of `user`, journaled as `console.sign_out`.
///
/// # Errors
/// The database's.
pub async fn sign_out(
    state: &AppState,
    caller: &Caller,
    user: &User,
    secret: &str,
) -> ApiResult<()> {
    let mut tx = state.store.write().await?;
    accounts::close_session(&mut tx, secret).await?;
    tx.commit(caller.journal("console.sign_out").subject(&user.id))
        .await?;
    Ok(())
}

/// Why a new password was not set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordRefusal {
    /// The current password given is not the user's (or no longer: an operator reset it in
    /// the meantime, and the reset wins).
    WrongCurrent,
    /// The new one breaks a rule of [`mpc_domain::account::own_password`]: too short or long,
    /// or the current one again.
    Refused(FieldError),
    /// The new one and its confirmation differ.
    Mismatch,
}

/// A user's own new password, given its current one; the user's other sessions end, `secret`
/// stays open, and a temporary password's flag clears. Journaled as
/// `console.password_change`.
///
/// The new password is checked first (nothing to hash for a refusal), the current one last.
/// An operator's reset landing between the check of the current password and the write wins
/// ([`accounts::replace_own_password`]): this change is then refused as [`WrongCurrent`].
///
/// [`WrongCurrent`]: PasswordRefusal::WrongCurrent
///
/// # Errors
/// 404 for a user without a password; the database's.
pub async fn change_password(
    state: &AppState,
    caller: &Caller,
    (user, secret): (&User, &str),
    current: String,
    new: String,
    confirm: &str,
) -> ApiResult<Result<(), PasswordRefusal>> {
    if let Err(e) = mpc_domain::account::own_password(&current, &new) {
        return Ok(Err(PasswordRefusal::Refused(e)));
    }
    if new != confirm {
        return Ok(Err(PasswordRefusal::Mismatch));
    }
    let record = accounts::sign_in_record(&state.store, &user.username)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let stored = record.password_hash.clone().unwrap_or_default();
    let verified = stored.clone();
    let ok = tokio::task::spawn_blocking(move || accounts::verify_password(&stored, &current))
        .await
        .map_err(|_| ApiError::internal())?;
    if !ok {
        return Ok(Err(PasswordRefusal::WrongCurrent));
    }
    let hash = tokio::task::spawn_blocking(move || accounts::hash_password(&new))
        .await
        .map_err(|_| ApiError::internal())??;
    let mut tx = state.store.write().await?;
    if !accounts::replace_own_password(&mut tx, &user.id, &verified, &hash, secret).await? {
        return Ok(Err(PasswordRefusal::WrongCurrent));
    }
    tx.commit(caller.journal("console.password_change").subject(&user.id))
        .await?;
    Ok(Ok(()))
}
