//! Users and their API tokens: operators manage every account, a contractor's users their
//! colleagues, and each user its own tokens.

use mpc_api_types::accounts::{
    CreateContractorUser, CreateToken, CreateUser, CreatedToken, Role, Token, TokenList, User,
    UserList,
};
use mpc_domain::access;
use mpc_domain::account::{self, FieldError};
use mpc_storage::accounts::{self, NewUser};
use serde_json::{Value, json};

use super::Input;
use crate::AppState;
use crate::app::support::{PageParams, instant};
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

const DISPLAY_NAME_MAX: usize = 100;
const LABEL_MAX: usize = 100;

fn view(u: accounts::User) -> ApiResult<User> {
    Ok(User {
        role: match u.role()? {
            access::Role::Operator => Role::Operator,
            access::Role::Contractor => Role::Contractor,
        },
        created_at: instant(u.created_at)?,
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        contractor_id: u.contractor_id,
    })
}

fn token_view(t: accounts::ApiToken) -> ApiResult<Token> {
    Ok(Token {
        created_at: instant(t.created_at)?,
        revoked_at: t.revoked_at.map(instant).transpose()?,
        id: t.id,
        user_id: t.user_id,
        label: t.label,
    })
}

/// A user the caller may see: operators see all, contractor users their colleagues.
async fn visible_user(
    state: &AppState,
    caller: &Caller,
    user_id: &str,
) -> ApiResult<accounts::User> {
    let user = accounts::get_user(&state.store, user_id).await?;
    let visible = match &user.contractor_id {
        Some(c) => caller.actor.sees_contractor(c),
        None => caller.actor.is_operator(),
    };
    if visible {
        Ok(user)
    } else {
        Err(ApiError::not_found())
    }
}

/// Only the user itself and operators may manage a user's tokens.
fn require_self_or_operator(caller: &Caller, user_id: &str) -> ApiResult<()> {
    if caller.actor.is_operator() || caller.actor.user_id() == user_id {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only the user itself or an operator may manage its tokens",
        ))
    }
}

/// Validates and stores a new user, journaled as `user.create`.
async fn insert_user(
    state: &AppState,
    caller: &Caller,
    username: &str,
    display_name: Option<&str>,
    role: access::Role,
    contractor_id: Option<&str>,
    raw: Value,
) -> ApiResult<User> {
    let username = account::username(username)?;
    let display_name = account::text(
        "display_name",
        display_name.unwrap_or(&username),
        DISPLAY_NAME_MAX,
    )?;
    let mut tx = state.store.write().await?;
    let user = accounts::create_user(
        &mut tx,
        &NewUser {
            username: &username,
            display_name: &display_name,
            role,
            contractor_id,
        },
    )
    .await?;
    tx.commit(
        caller
            .journal("user.create")
            .contractor(contractor_id)
            .subject(&user.id)
            .request(raw)
            .outcome(json!({ "id": user.id })),
    )
    .await?;
    view(user)
}

/// Every user, or one contractor's, one page after `page.after` (operators only).
///
/// # Errors
/// 403 for anyone but operators.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    contractor_id: Option<&str>,
    page: &PageParams,
) -> ApiResult<UserList> {
    caller.require_operator()?;
    let rows = accounts::list_users(&state.store, contractor_id, &page.probe()).await?;
    let (rows, next_cursor) = page.finish(rows, |u| &u.id);
    Ok(UserList {
        users: rows.into_iter().map(view).collect::<ApiResult<_>>()?,
        next_cursor,
    })
}

/// Creates a user of any role (operators only); a contractor user names its contractor, an
/// operator none.
///
/// # Errors
/// 403 for anyone but operators; 422 for a bad username or display name or contractor; 409
/// for a username taken.
pub async fn create(state: &AppState, caller: &Caller, new: Input<CreateUser>) -> ApiResult<User> {
    caller.require_operator()?;
    let (req, raw) = new.parse()?;
    let role = match (req.role, req.contractor_id.as_deref()) {
        (Role::Operator, None) => access::Role::Operator,
        (Role::Contractor, Some(c)) => {
            if accounts::get_contractor(&state.store, c).await.is_err() {
                return Err(field_error(
                    "contractor_id",
                    "no such contractor",
                    "契約者が存在しません",
                ));
            }
            access::Role::Contractor
        }
        (Role::Operator, Some(_)) => {
            return Err(field_error(
                "contractor_id",
                "an operator belongs to no contractor",
                "オペレーターに契約者は指定できません",
            ));
        }
        (Role::Contractor, None) => {
            return Err(field_error(
                "contractor_id",
                "a contractor user needs its contractor",
                "契約者ユーザーには契約者の指定が必要です",
            ));
        }
    };
    insert_user(
        state,
        caller,
        &req.username,
        req.display_name.as_deref(),
        role,
        req.contractor_id.as_deref(),
        raw,
    )
    .await
}

fn field_error(field: &'static str, en: &str, ja: &str) -> ApiError {
    FieldError {
        field,
        message_en: format!("{field}: {en}"),
        message_ja: ja.to_owned(),
    }
    .into()
}

/// The users of a contractor, one page after `page.after`.
///
/// # Errors
/// 404 for a contractor that does not exist or is outside the caller's reach.
pub async fn list_of_contractor(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
    page: &PageParams,
) -> ApiResult<UserList> {
    caller.require_contractor(contractor_id)?;
    accounts::get_contractor(&state.store, contractor_id).await?;
    let rows = accounts::list_users(&state.store, Some(contractor_id), &page.probe()).await?;
    let (rows, next_cursor) = page.finish(rows, |u| &u.id);
    Ok(UserList {
        users: rows.into_iter().map(view).collect::<ApiResult<_>>()?,
        next_cursor,
    })
}

/// Creates a user of a contractor (its own users or operators).
///
/// # Errors
/// 404 as [`list_of_contractor`]; 422 for a bad username or display name; 409 for a username
/// taken.
pub async fn create_for_contractor(
    state: &AppState,
    caller: &Caller,
    contractor_id: &str,
    new: Input<CreateContractorUser>,
) -> ApiResult<User> {
    caller.require_contractor(contractor_id)?;
    accounts::get_contractor(&state.store, contractor_id).await?;
    let (req, raw) = new.parse()?;
    insert_user(
        state,
        caller,
        &req.username,
        req.display_name.as_deref(),
        access::Role::Contractor,
        Some(contractor_id),
        raw,
    )
    .await
}

/// One user: operators see all, contractor users their colleagues.
///
/// # Errors
/// 404 for a user that does not exist or is outside the caller's reach.
pub async fn get(state: &AppState, caller: &Caller, user_id: &str) -> ApiResult<User> {
    view(visible_user(state, caller, user_id).await?)
}

/// The caller's own account.
///
/// # Errors
/// The database's.
pub async fn me(state: &AppState, caller: &Caller) -> ApiResult<User> {
    view(accounts::get_user(&state.store, caller.actor.user_id()).await?)
}

/// A user's API tokens, never their secrets (the user itself and operators).
///
/// # Errors
/// 404 as [`get`]; 403 for a colleague.
pub async fn tokens(state: &AppState, caller: &Caller, user_id: &str) -> ApiResult<TokenList> {
    visible_user(state, caller, user_id).await?;
    require_self_or_operator(caller, user_id)?;
    let tokens = accounts::list_tokens(&state.store, user_id).await?;
    Ok(TokenList {
        tokens: tokens
            .into_iter()
            .map(token_view)
            .collect::<ApiResult<_>>()?,
    })
}

/// Makes a new API token, journaled as `token.create`; its secret is in this answer only.
///
/// # Errors
/// As [`tokens`]; 422 for a label empty or longer than 100 characters.
pub async fn create_token(
    state: &AppState,
    caller: &Caller,
    user_id: &str,
    new: Input<CreateToken>,
) -> ApiResult<CreatedToken> {
    let user = visible_user(state, caller, user_id).await?;
    require_self_or_operator(caller, user_id)?;
    let (req, raw) = new.parse()?;
    let label = account::text("label", &req.label, LABEL_MAX)?;
    let mut tx = state.store.write().await?;
    let (token, secret) = accounts::issue_token(&mut tx, user_id, &label).await?;
    tx.commit(
        caller
            .journal("token.create")
            .contractor(user.contractor_id.as_deref())
            .subject(&token.id)
            .request(raw)
            .outcome(json!({ "id": token.id, "user_id": user_id })),
    )
    .await?;
    Ok(CreatedToken {
        token: token_view(token)?,
        secret,
    })
}

/// Revokes an API token at once, journaled as `token.revoke`.
///
/// # Errors
/// 404 for a token that is not the user's; otherwise as [`tokens`].
pub async fn revoke_token(
    state: &AppState,
    caller: &Caller,
    user_id: &str,
    token_id: &str,
) -> ApiResult<()> {
    let user = visible_user(state, caller, user_id).await?;
    let token = accounts::get_token(&state.store, token_id).await?;
    if token.user_id != user_id {
        return Err(ApiError::not_found());
    }
    require_self_or_operator(caller, user_id)?;
    let mut tx = state.store.write().await?;
    accounts::revoke_token(&mut tx, token_id).await?;
    tx.commit(
        caller
            .journal("token.revoke")
            .contractor(user.contractor_id.as_deref())
            .subject(token_id),
    )
    .await?;
    Ok(())
}

/// The user of a username (operators only).
///
/// # Errors
/// 403 for anyone but operators; 404 for no such user.
pub async fn by_username(state: &AppState, caller: &Caller, username: &str) -> ApiResult<User> {
    caller.require_operator()?;
    view(accounts::find_user_by_username(&state.store, username).await?)
}

/// One API token, never its secret (the user itself and operators).
///
/// # Errors
/// 404 for a token that does not exist or whose user is outside the caller's reach; 403 for a
/// colleague's.
pub async fn token(state: &AppState, caller: &Caller, token_id: &str) -> ApiResult<Token> {
    let token = accounts::get_token(&state.store, token_id).await?;
    visible_user(state, caller, &token.user_id).await?;
    require_self_or_operator(caller, &token.user_id)?;
    token_view(token)
}

/// Gives a user a new console password, journaled as `user.password` (operators only); the
/// password is in this answer only.
///
/// # Errors
/// 403 for anyone but operators; 404 for a user that does not exist.
pub async fn new_password(state: &AppState, caller: &Caller, user_id: &str) -> ApiResult<String> {
    caller.require_operator()?;
    let password = accounts::generate_password()?;
    set_password(state, caller, user_id, &password).await?;
    Ok(password)
}

/// Sets a user's console password, journaled as `user.password` (operators only).
///
/// # Errors
/// 403 for anyone but operators; 404 for a user that does not exist; 422 for a password the
/// rules of [`account::password`] refuse.
pub async fn set_password(
    state: &AppState,
    caller: &Caller,
    user_id: &str,
    password: &str,
) -> ApiResult<()> {
    caller.require_operator()?;
    let user = accounts::get_user(&state.store, user_id).await?;
    account::password(password)?;
    accounts::reset_password(
        &state.store,
        &user.id,
        password,
        caller
            .journal("user.password")
            .contractor(user.contractor_id.as_deref()),
    )
    .await?;
    Ok(())
}

/// The user id an actor as the journal records it names (`user:<id>`); `None` for `cli`,
/// `system` and the like.
pub fn actor_user(actor: &str) -> Option<&str> {
    actor.strip_prefix("user:")
}

/// Usernames for actors as the journal records them (`user:<id>` → `sato`), looked up in one
/// query for a whole page; actors that are no user (`cli`, `system`, …) or a user since
/// deleted are left out. The caller reads these only beside records it may already see.
///
/// # Errors
/// The database's.
pub async fn actor_names(
    state: &AppState,
    actors: &[&str],
) -> ApiResult<std::collections::HashMap<String, String>> {
    let mut ids: Vec<String> = actors
        .iter()
        .filter_map(|a| actor_user(a))
        .map(str::to_owned)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(accounts::usernames(&state.store, &ids)
        .await?
        .into_iter()
        .map(|(id, username)| (format!("user:{id}"), username))
        .collect())
}

/// An actor a person typed: a username stands for `user:<its id>`; `user:<id>`, `cli`,
/// `system` and `demo` are kept as written, as is a name no user has (it matches nothing).
///
/// # Errors
/// The database's.
pub async fn actor_named(state: &AppState, named: &str) -> ApiResult<String> {
    let named = named.trim();
    if named.contains(':') || matches!(named, "cli" | "system" | "demo") {
        return Ok(named.to_owned());
    }
    match accounts::find_user_by_username(&state.store, named).await {
        Ok(user) => Ok(format!("user:{}", user.id)),
        Err(mpc_storage::StorageError::NotFound) => Ok(named.to_owned()),
        Err(e) => Err(e.into()),
    }
}
