//! Contractors, user accounts and API tokens.

use mpc_domain::access::{Actor, Role};
use mpc_domain::account::Failures;
use sha2::{Digest, Sha256};

use crate::sql::{Sql, escape_like};
use crate::{Result, StorageError, Store, WriteTx, new_id, now_micros};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Contractor {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub postal_code: Option<String>,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub billing_email: Option<String>,
}

/// A contractor's record besides its name: `None` is "not set".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContractorRecord {
    pub postal_code: Option<String>,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub billing_email: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub contractor_id: Option<String>,
    pub created_at: i64,
    /// When an operator disabled the account; `None` while it is active.
    pub disabled_at: Option<i64>,
    /// Who disabled it, as the journal names actors (`user:<id>`, `cli`).
    pub disabled_by: Option<String>,
    /// 1 while its console password is temporary ([`PasswordLife::Temporary`]).
    pub must_change_password: i64,
}

impl User {
    /// Whether its console password was set by someone else and must be replaced at the next
    /// console sign-in before anything else.
    pub fn must_change_password(&self) -> bool {
        self.must_change_password != 0
    }

    pub fn role(&self) -> Result<Role> {
        Role::parse(&self.role).ok_or_else(|| StorageError::Corrupt(format!("role {}", self.role)))
    }

    /// The actor this user acts as.
    pub fn actor(&self) -> Result<Actor> {
        Ok(match (self.role()?, &self.contractor_id) {
            (Role::Operator, _) => Actor::Operator {
                user_id: self.id.clone(),
            },
            (Role::Contractor, Some(c)) => Actor::Contractor {
                user_id: self.id.clone(),
                contractor_id: c.clone(),
            },
            (Role::Contractor, None) => {
                return Err(StorageError::Corrupt(format!(
                    "user {} has no contractor",
                    self.id
                )));
            }
        })
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// Which page of a listing to read: ids after `after`, at most `limit` of them.
#[derive(Debug, Clone)]
pub struct Page {
    pub after: Option<String>,
    pub limit: i64,
}

const CONTRACTOR_COLUMNS: &str = "SELECT id, name, created_at, postal_code, address, \
     contact_name, phone, billing_email FROM contractors";
const USER_COLUMNS: &str = "SELECT id, username, display_name, role, contractor_id, created_at, \
     disabled_at, disabled_by, must_change_password FROM users";

pub async fn create_contractor(tx: &mut WriteTx, name: &str) -> Result<Contractor> {
    let c = Contractor {
        id: new_id(),
        name: name.to_owned(),
        created_at: now_micros(),
        postal_code: None,
        address: None,
        contact_name: None,
        phone: None,
        billing_email: None,
    };
    sqlx::query("INSERT INTO contractors (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(&c.id)
        .bind(&c.name)
        .bind(c.created_at)
        .execute(tx.conn())
        .await?;
    Ok(c)
}

pub async fn rename_contractor(tx: &mut WriteTx, id: &str, name: &str) -> Result<()> {
    let done = sqlx::query("UPDATE contractors SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(id)
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound);
    }
    Ok(())
}

/// Replaces a contractor's record (everything but its name).
pub async fn set_contractor_record(
    tx: &mut WriteTx,
    id: &str,
    record: &ContractorRecord,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE contractors SET postal_code = $1, address = $2, contact_name = $3, phone = $4, \
         billing_email = $5 WHERE id = $6",
    )
    .bind(&record.postal_code)
    .bind(&record.address)
    .bind(&record.contact_name)
    .bind(&record.phone)
    .bind(&record.billing_email)
    .bind(id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound);
    }
    Ok(())
}

impl Contractor {
    /// Its record besides the name.
    pub fn record(&self) -> ContractorRecord {
        ContractorRecord {
            postal_code: self.postal_code.clone(),
            address: self.address.clone(),
            contact_name: self.contact_name.clone(),
            phone: self.phone.clone(),
            billing_email: self.billing_email.clone(),
        }
    }
}

pub async fn get_contractor(store: &Store, id: &str) -> Result<Contractor> {
    let mut sql = Sql::new(CONTRACTOR_COLUMNS);
    sql.push(" WHERE id = ").bind(id.to_owned());
    Ok(sql.query_as()?.fetch_one(store.pool()).await?)
}

/// Contractors by id order; `only` narrows to one contractor (a contractor user's view), `name`
/// to names containing the text.
pub async fn list_contractors(
    store: &Store,
    only: Option<&str>,
    name: Option<&str>,
    page: &Page,
) -> Result<Vec<Contractor>> {
    let mut sql = Sql::new(CONTRACTOR_COLUMNS);
    sql.push(" WHERE 1 = 1");
    if let Some(id) = only {
        sql.push(" AND id = ").bind(id.to_owned());
    }
    if let Some(name) = name {
        sql.push(" AND name LIKE ")
            .bind(format!("%{}%", escape_like(name)))
            .push(" ESCAPE '\\'");
    }
    push_page(&mut sql, page);
    Ok(sql.query_as()?.fetch_all(store.pool()).await?)
}

/// What a new user account is made of.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub contractor_id: Option<&'a str>,
}

pub async fn create_user(tx: &mut WriteTx, new: &NewUser<'_>) -> Result<User> {
    let user = User {
        id: new_id(),
        username: new.username.to_owned(),
        display_name: new.display_name.to_owned(),
        role: new.role.as_str().to_owned(),
        contractor_id: new.contractor_id.map(str::to_owned),
        created_at: now_micros(),
        disabled_at: None,
        disabled_by: None,
        must_change_password: 0,
    };
    sqlx::query(
        "INSERT INTO users (id, username, display_name, role, contractor_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&user.id)
    .bind(&user.username)
    .bind(&user.display_name)
    .bind(&user.role)
    .bind(&user.contractor_id)
    .bind(user.created_at)
    .execute(tx.conn())
    .await
    .map_err(|e| match StorageError::from(e) {
        StorageError::Conflict(_) => {
            StorageError::Conflict(format!("username {:?} is taken", new.username))
        }
        e => e,
    })?;
    Ok(user)
}

pub async fn get_user(store: &Store, id: &str) -> Result<User> {
    let mut sql = Sql::new(USER_COLUMNS);
    sql.push(" WHERE id = ").bind(id.to_owned());
    Ok(sql.query_as()?.fetch_one(store.pool()).await?)
}

pub async fn find_user_by_username(store: &Store, username: &str) -> Result<User> {
    let mut sql = Sql::new(USER_COLUMNS);
    sql.push(" WHERE username = ").bind(username.to_owned());
    Ok(sql.query_as()?.fetch_one(store.pool()).await?)
}

/// The usernames of the users with `ids`, as (id, username), in one query per few hundred
/// ids; ids no user has are left out.
pub async fn usernames(store: &Store, ids: &[String]) -> Result<Vec<(String, String)>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let mut sql = Sql::new("SELECT id, username FROM users WHERE id IN ");
        sql.bind_list(chunk.iter().cloned());
        out.extend(
            sql.query_as::<(String, String)>()?
                .fetch_all(store.pool())
                .await?,
        );
    }
    Ok(out)
}

/// Users by id order; `contractor` narrows to one contractor's users.
pub async fn list_users(store: &Store, contractor: Option<&str>, page: &Page) -> Result<Vec<User>> {
    let mut sql = Sql::new(USER_COLUMNS);
    sql.push(" WHERE 1 = 1");
    if let Some(c) = contractor {
        sql.push(" AND contractor_id = ").bind(c.to_owned());
    }
    push_page(&mut sql, page);
    Ok(sql.query_as()?.fetch_all(store.pool()).await?)
}

pub async fn count_users(store: &Store) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(store.pool())
        .await?)
}

/// Makes a new API token for `user_id` and returns its record and the secret.
///
/// The secret is 256 random bits, shown to the caller once; only its SHA-256 is stored, which
/// is enough for a value that cannot be guessed (a slow password hash would add nothing).
pub async fn issue_token(
    tx: &mut WriteTx,
    user_id: &str,
    label: &str,
) -> Result<(ApiToken, String)> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| StorageError::Corrupt(format!("no randomness: {e}")))?;
    let secret = format!("mpc_{}", hex::encode(bytes));
    let token = ApiToken {
        id: new_id(),
        user_id: user_id.to_owned(),
        label: label.to_owned(),
        created_at: now_micros(),
        revoked_at: None,
    };
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, token_hash, label, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&token.id)
    .bind(&token.user_id)
    .bind(token_hash(&secret))
    .bind(&token.label)
    .bind(token.created_at)
    .execute(tx.conn())
    .await?;
    Ok((token, secret))
}

fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The user holding this token, when the token exists and is not revoked; the caller refuses
/// a disabled user ([`User::disabled_at`]).
pub async fn authenticate(store: &Store, secret: &str) -> Result<Option<User>> {
    let mut sql = Sql::new(
        "SELECT u.id, u.username, u.display_name, u.role, u.contractor_id, u.created_at, \
         u.disabled_at, u.disabled_by, u.must_change_password \
         FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.revoked_at IS NULL AND t.token_hash = ",
    );
    sql.bind(token_hash(secret));
    Ok(sql.query_as()?.fetch_optional(store.pool()).await?)
}

const TOKEN_COLUMNS: &str = "SELECT id, user_id, label, created_at, revoked_at FROM api_tokens";

pub async fn list_tokens(store: &Store, user_id: &str) -> Result<Vec<ApiToken>> {
    let mut sql = Sql::new(TOKEN_COLUMNS);
    sql.push(" WHERE user_id = ")
        .bind(user_id.to_owned())
        .push(" ORDER BY id");
    Ok(sql.query_as()?.fetch_all(store.pool()).await?)
}

pub async fn get_token(store: &Store, id: &str) -> Result<ApiToken> {
    let mut sql = Sql::new(TOKEN_COLUMNS);
    sql.push(" WHERE id = ").bind(id.to_owned());
    Ok(sql.query_as()?.fetch_one(store.pool()).await?)
}

/// Revokes a token; revoking one already revoked keeps the first revocation time.
pub async fn revoke_token(tx: &mut WriteTx, id: &str) -> Result<()> {
    let done =
        sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
            .bind(now_micros())
            .bind(id)
            .execute(tx.conn())
            .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound);
    }
    Ok(())
}

fn push_page(sql: &mut Sql, page: &Page) {
    if let Some(after) = &page.after {
        sql.push(" AND id > ").bind(after.clone());
    }
    sql.push(" ORDER BY id LIMIT ").bind(page.limit);
}

/// On a database without operators, creates the operator account `admin` with one API token
/// and returns both; returns `None` when an operator exists (contractor users made first, as
/// by `mpc demo seed` before the first start, do not count).
///
/// Two servers starting at once on one PostgreSQL database cannot both succeed: the second
/// meets the taken username and returns `None`.
pub async fn bootstrap_operator(store: &Store) -> Result<Option<(User, String)>> {
    let operators: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'operator'")
        .fetch_one(store.pool())
        .await?;
    if operators > 0 {
        return Ok(None);
    }
    let mut tx = store.write().await?;
    let created = async {
        let user = create_user(
            &mut tx,
            &NewUser {
                username: BOOTSTRAP_USERNAME,
                display_name: "Administrator",
                role: Role::Operator,
                contractor_id: None,
            },
        )
        .await?;
        let (token, secret) = issue_token(&mut tx, &user.id, "first start").await?;
        Ok::<_, StorageError>((user, token, secret))
    }
    .await;
    match created {
        Ok((user, token, secret)) => {
            tx.commit(
                crate::JournalEntry::new("system", "user.bootstrap")
                    .subject(&user.id)
                    .outcome(serde_json::json!({ "user_id": user.id, "token_id": token.id })),
            )
            .await?;
            Ok(Some((user, secret)))
        }
        Err(StorageError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The username of the operator account made on first start.
pub const BOOTSTRAP_USERNAME: &str = "admin";

/// Hashes a console password with argon2id (the crate's defaults: 19 MiB, 2 passes) and a
/// random salt, as a PHC string. Slow on purpose; call it off the async threads.
pub fn hash_password(password: &str) -> Result<String> {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| StorageError::Corrupt(format!("password hashing failed: {e}")))
}

/// Whether `password` matches a stored PHC string (constant-time comparison inside argon2).
pub fn verify_password(stored: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordVerifier, phc::PasswordHash};
    PasswordHash::new(stored).is_ok_and(|hash| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// Whose choice a console password is, which decides whether it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordLife {
    /// Chosen or generated by someone else (an operator's reset, the first start): its user
    /// must replace it at the next console sign-in before anything else.
    Temporary,
    /// The user's own (or the demo's, handed out to try the console with): it stays.
    Kept,
}

impl PasswordLife {
    fn flag(self) -> i64 {
        match self {
            PasswordLife::Temporary => 1,
            PasswordLife::Kept => 0,
        }
    }
}

/// Sets a user's console password (already hashed by [`hash_password`]) and ends the user's
/// console sessions but `keep` (the session that changed it, if any). Whoever sets it last
/// wins: two operators resetting one password at once leave the later one's.
pub async fn set_password(
    tx: &mut WriteTx,
    user_id: &str,
    password_hash: &str,
    life: PasswordLife,
    keep: Option<&str>,
) -> Result<()> {
    let done =
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(life.flag())
            .bind(user_id)
            .execute(tx.conn())
            .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound);
    }
    end_sessions_but(tx, user_id, keep).await
}

async fn end_sessions_but(tx: &mut WriteTx, user_id: &str, keep: Option<&str>) -> Result<()> {
    sqlx::query("DELETE FROM console_sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(user_id)
        .bind(keep.map(token_hash).unwrap_or_default())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Replaces the console password the user just proved to know (`verified_hash`, as read
/// before checking it) with its own, clearing [`PasswordLife::Temporary`], and ends its other
/// sessions; returns `false` and changes nothing when the password changed in between.
///
/// An operator's reset that lands while the user is changing the old password wins: the
/// reset ended the user's sessions, and the password it handed out must stay the one that
/// opens the account.
pub async fn replace_own_password(
    tx: &mut WriteTx,
    user_id: &str,
    verified_hash: &str,
    new_hash: &str,
    keep: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET password_hash = $1, must_change_password = 0 \
         WHERE id = $2 AND password_hash = $3",
    )
    .bind(new_hash)
    .bind(user_id)
    .bind(verified_hash)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    end_sessions_but(tx, user_id, Some(keep)).await?;
    Ok(true)
}

/// What signing in needs to know of an account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignIn {
    pub id: String,
    pub password_hash: Option<String>,
    pub disabled_at: Option<i64>,
}

pub async fn sign_in_record(store: &Store, username: &str) -> Result<Option<SignIn>> {
    Ok(
        sqlx::query_as("SELECT id, password_hash, disabled_at FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(store.pool())
            .await?,
    )
}

#[derive(sqlx::FromRow)]
struct FailureRecord {
    failures: i64,
    last_failed_at: i64,
    blocked_until: Option<i64>,
}

impl From<FailureRecord> for Failures {
    fn from(r: FailureRecord) -> Self {
        Failures {
            count: r.failures,
            last_at: r.last_failed_at,
            blocked_until: r.blocked_until,
        }
    }
}

/// The failed sign-ins counted against a throttle key, if any.
pub async fn sign_in_failures(store: &Store, key: &str) -> Result<Option<Failures>> {
    let row: Option<FailureRecord> = sqlx::query_as(
        "SELECT failures, last_failed_at, blocked_until FROM sign_in_failures \
         WHERE throttle_key = $1",
    )
    .bind(key)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(Failures::from))
}

/// Counts one more failed sign-in against `key` per
/// [`mpc_domain::account::after_failed_sign_in`], forgetting keys idle for a day. Returns the
/// key's failures as they now stand.
pub async fn record_failed_sign_in(
    tx: &mut WriteTx,
    key: &str,
    free: i64,
    now: i64,
) -> Result<Failures> {
    tx.lock(&format!("sign_in:{key}")).await?;
    sqlx::query("DELETE FROM sign_in_failures WHERE last_failed_at < $1")
        .bind(now - mpc_domain::account::FAILURE_MEMORY_MICROS)
        .execute(tx.conn())
        .await?;
    let past: Option<FailureRecord> = sqlx::query_as(
        "SELECT failures, last_failed_at, blocked_until FROM sign_in_failures \
         WHERE throttle_key = $1",
    )
    .bind(key)
    .fetch_optional(tx.conn())
    .await?;
    let exists = past.is_some();
    let now_failures =
        mpc_domain::account::after_failed_sign_in(past.map(Failures::from), now, free);
    let statement = if exists {
        "UPDATE sign_in_failures SET failures = $2, last_failed_at = $3, blocked_until = $4 \
         WHERE throttle_key = $1"
    } else {
        "INSERT INTO sign_in_failures (throttle_key, failures, last_failed_at, blocked_until) \
         VALUES ($1, $2, $3, $4)"
    };
    sqlx::query(statement)
        .bind(key)
        .bind(now_failures.count)
        .bind(now_failures.last_at)
        .bind(now_failures.blocked_until)
        .execute(tx.conn())
        .await?;
    Ok(now_failures)
}

/// Forgets the failures counted against `key` (after a successful sign-in).
pub async fn clear_sign_in_failures(tx: &mut WriteTx, key: &str) -> Result<()> {
    sqlx::query("DELETE FROM sign_in_failures WHERE throttle_key = $1")
        .bind(key)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The failures counted against every key that ends with `suffix` (one username typed from
/// any address).
pub async fn sign_in_failures_ending(store: &Store, suffix: &str) -> Result<Vec<Failures>> {
    let rows: Vec<FailureRecord> = sqlx::query_as(
        "SELECT failures, last_failed_at, blocked_until FROM sign_in_failures \
         WHERE throttle_key LIKE $1 ESCAPE '\\'",
    )
    .bind(format!("%{}", escape_like(suffix)))
    .fetch_all(store.pool())
    .await?;
    Ok(rows.into_iter().map(Failures::from).collect())
}

/// Forgets the failures counted against every key that ends with `suffix`; returns how many
/// keys there were.
pub async fn clear_sign_in_failures_ending(tx: &mut WriteTx, suffix: &str) -> Result<u64> {
    let done = sqlx::query("DELETE FROM sign_in_failures WHERE throttle_key LIKE $1 ESCAPE '\\'")
        .bind(format!("%{}", escape_like(suffix)))
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected())
}

/// What asking to disable a user came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disabling {
    /// The user is disabled now; its console sessions are ended.
    Done,
    /// It already was: nothing changed.
    Already,
    /// It is the last active operator: nothing changed.
    LastOperator,
}

/// Disables a user at `now` on behalf of `by` and ends its console sessions; its API tokens
/// stay stored but authenticate no one while it is disabled.
///
/// Every disabling runs under one lock, and the count of the other active operators is read
/// after taking it, so two operators disabling each other at once leave one of them active.
pub async fn disable_user(
    tx: &mut WriteTx,
    user_id: &str,
    by: &str,
    now: i64,
) -> Result<Disabling> {
    tx.lock("users:disable").await?;
    let row: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT role, disabled_at FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(tx.conn())
            .await?;
    let Some((role, disabled_at)) = row else {
        return Err(StorageError::NotFound);
    };
    if disabled_at.is_some() {
        return Ok(Disabling::Already);
    }
    if role == Role::Operator.as_str() {
        let others: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE role = 'operator' AND disabled_at IS NULL \
             AND id <> $1",
        )
        .bind(user_id)
        .fetch_one(tx.conn())
        .await?;
        if others == 0 {
            return Ok(Disabling::LastOperator);
        }
    }
    sqlx::query("UPDATE users SET disabled_at = $1, disabled_by = $2 WHERE id = $3")
        .bind(now)
        .bind(by)
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    sqlx::query("DELETE FROM console_sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    Ok(Disabling::Done)
}

/// Enables a disabled user again; returns whether it was disabled. Its API tokens that were
/// not revoked work again.
pub async fn enable_user(tx: &mut WriteTx, user_id: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET disabled_at = NULL, disabled_by = NULL \
         WHERE id = $1 AND disabled_at IS NOT NULL",
    )
    .bind(user_id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Counts the active operators.
pub async fn count_active_operators(store: &Store) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE role = 'operator' AND disabled_at IS NULL",
    )
    .fetch_one(store.pool())
    .await?)
}

/// Opens a console session for a user who signed in. Returns the cookie value (256 random bits; only its SHA-256 is stored).
pub async fn open_session(
    tx: &mut WriteTx,
    user_id: &str,
    now: i64,
    ttl_micros: i64,
) -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| StorageError::Corrupt(format!("no randomness: {e}")))?;
    let secret = hex::encode(bytes);
    sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "INSERT INTO console_sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash(&secret))
    .bind(user_id)
    .bind(now)
    .bind(now + ttl_micros)
    .execute(tx.conn())
    .await?;
    Ok(secret)
}

/// The user of a console session that has not expired at `now`, unless the user is disabled
/// (disabling ends its sessions too; this holds should one be opened in between).
pub async fn session_user(store: &Store, secret: &str, now: i64) -> Result<Option<User>> {
    let mut sql = Sql::new(
        "SELECT u.id, u.username, u.display_name, u.role, u.contractor_id, u.created_at, \
         u.disabled_at, u.disabled_by, u.must_change_password \
         FROM console_sessions s JOIN users u ON u.id = s.user_id \
         WHERE u.disabled_at IS NULL AND s.token_hash = ",
    );
    sql.bind(token_hash(secret))
        .push(" AND s.expires_at > ")
        .bind(now);
    Ok(sql.query_as()?.fetch_optional(store.pool()).await?)
}

/// Ends a console session (signing out); ending one already gone is not an error.
pub async fn close_session(tx: &mut WriteTx, secret: &str) -> Result<()> {
    sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1")
        .bind(token_hash(secret))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// A random console password of 20 letters and digits (about 119 bits), for first starts,
/// demo data and resets; the user changes it in the console.
pub fn generate_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes)
        .map_err(|e| StorageError::Corrupt(format!("no randomness: {e}")))?;
    // 256 is not a multiple of 56, so reject the bytes that would bias the choice.
    let mut out = String::new();
    let mut pool = bytes.to_vec();
    while out.len() < 20 {
        if pool.is_empty() {
            let mut more = [0u8; 20];
            getrandom::fill(&mut more)
                .map_err(|e| StorageError::Corrupt(format!("no randomness: {e}")))?;
            pool.extend_from_slice(&more);
        }
        let b = pool.pop().unwrap_or_default() as usize;
        if b < 256 - 256 % ALPHABET.len() {
            out.push(ALPHABET[b % ALPHABET.len()] as char);
        }
    }
    Ok(out)
}

/// Sets a user's console password from the plain text, in one journaled transaction; ends the
/// user's console sessions.
pub async fn reset_password(
    store: &Store,
    user_id: &str,
    password: &str,
    life: PasswordLife,
    entry: crate::JournalEntry,
) -> Result<()> {
    let owned = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || hash_password(&owned))
        .await
        .map_err(|e| StorageError::Corrupt(format!("hashing task failed: {e}")))??;
    let mut tx = store.write().await?;
    set_password(&mut tx, user_id, &hash, life, None).await?;
    tx.commit(entry.subject(user_id)).await?;
    Ok(())
}
