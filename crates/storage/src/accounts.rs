//! Contractors, user accounts and API tokens.

use mpc_domain::access::{Actor, Role};
use sha2::{Digest, Sha256};

use crate::sql::Sql;
use crate::{Result, StorageError, Store, WriteTx, new_id, now_micros};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Contractor {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub contractor_id: Option<String>,
    pub created_at: i64,
}

impl User {
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

const CONTRACTOR_COLUMNS: &str = "SELECT id, name, created_at FROM contractors";
const USER_COLUMNS: &str =
    "SELECT id, username, display_name, role, contractor_id, created_at FROM users";

pub async fn create_contractor(tx: &mut WriteTx, name: &str) -> Result<Contractor> {
    let c = Contractor {
        id: new_id(),
        name: name.to_owned(),
        created_at: now_micros(),
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

/// The user holding this token, when the token exists and is not revoked.
pub async fn authenticate(store: &Store, secret: &str) -> Result<Option<User>> {
    let mut sql = Sql::new(
        "SELECT u.id, u.username, u.display_name, u.role, u.contractor_id, u.created_at \
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

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// On a database without users, creates the operator account `admin` with one API token and
/// returns both; returns `None` when any user exists.
///
/// Two servers starting at once on one PostgreSQL database cannot both succeed: the second
/// meets the taken username and returns `None`.
pub async fn bootstrap_operator(store: &Store) -> Result<Option<(User, String)>> {
    if count_users(store).await? > 0 {
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
