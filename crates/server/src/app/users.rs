//! Users and their API tokens: operators manage every account, a contractor's users their
//! colleagues, and each user its own tokens.
//!
//! Only operators disable, enable and unlock users and reset their passwords. A disabled user
//! signs in nowhere: the console refuses its password, its sessions end, and its API tokens
//! answer 401 `account_disabled` until an operator enables it again (the tokens it had then
//! work again; revoke them to end them for good). Nobody disables itself, and the last active
//! operator stays: otherwise no one could enable anyone again but the command line.
//!
//! A console password set by anyone but its user (an operator's reset or chosen password, the
//! first start's) is temporary: at the next console sign-in the user must choose their own
//! before any other page opens, and the views say so (`password_change_required`). API
//! tokens are separate credentials and keep working meanwhile.

use axum::http::StatusCode;
use mpc_api_types::accounts::{
    CreateContractorUser, CreateToken, CreateUser, CreatedToken, PasswordReset, Role, Token,
    TokenList, User, UserList, UserState,
};
use mpc_domain::access;
use mpc_domain::account::{self, FieldError};
use mpc_storage::accounts::{self, Disabling, NewUser, PasswordLife};
use mpc_storage::now_micros;
use serde_json::{Value, json};

use super::Input;
use crate::AppState;
use crate::app::support::{PageParams, instant};
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

const DISPLAY_NAME_MAX: usize = 100;
const LABEL_MAX: usize = 100;

/// A stored user as the API shows it, with how long failed sign-ins hold it back.
async fn view(state: &AppState, u: accounts::User) -> ApiResult<User> {
    let now = now_micros();
    let failures =
        accounts::sign_in_failures_ending(&state.store, &super::session::username_key(&u.username))
            .await?;
    let locked_until = failures
        .into_iter()
        .filter_map(|f| access_wait(f, now))
        .max();
    let state = match (u.disabled_at, locked_until) {
        (Some(_), _) => UserState::Disabled,
        (None, Some(_)) => UserState::Locked,
        (None, None) => UserState::Active,
    };
    Ok(User {
        state,
        disabled_at: u.disabled_at.map(instant).transpose()?,
        locked_until: locked_until.map(instant).transpose()?,
        role: match u.role()? {
            access::Role::Operator => Role::Operator,
            access::Role::Contractor => Role::Contractor,
        },
        created_at: instant(u.created_at)?,
        password_change_required: u.must_change_password(),
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        contractor_id: u.contractor_id,
    })
}

/// The instant until which `failures` hold sign-ins back, if later than `now`.
fn access_wait(failures: account::Failures, now: i64) -> Option<i64> {
    account::sign_in_wait(Some(failures), now).map(|wait| now + wait)
}

/// Many users' views.
async fn views(state: &AppState, users: Vec<accounts::User>) -> ApiResult<Vec<User>> {
    let mut out = Vec::with_capacity(users.len());
    for u in users {
        out.push(view(state, u).await?);
    }
    Ok(out)
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
    view(state, user).await
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
    let rows = accounts::list_users(&state.store, contractor_id, &page.probe()?).await?;
    let (rows, next_cursor) = page.finish(rows, |u| &u.id);
    Ok(UserList {
        users: views(state, rows).await?,
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
    let rows = accounts::list_users(&state.store, Some(contractor_id), &page.probe()?).await?;
    let (rows, next_cursor) = page.finish(rows, |u| &u.id);
    Ok(UserList {
        users: views(state, rows).await?,
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
    view(state, visible_user(state, caller, user_id).await?).await
}

/// The caller's own account.
///
/// # Errors
/// The database's.
pub async fn me(state: &AppState, caller: &Caller) -> ApiResult<User> {
    view(
        state,
        accounts::get_user(&state.store, caller.actor.user_id()).await?,
    )
    .await
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
    view(
        state,
        accounts::find_user_by_username(&state.store, username).await?,
    )
    .await
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

/// Gives a user a new, temporary console password, journaled as `user.password` (operators
/// only); the password is in this answer only.
///
/// # Errors
/// 403 for anyone but operators; 404 for a user that does not exist.
pub async fn new_password(state: &AppState, caller: &Caller, user_id: &str) -> ApiResult<String> {
    caller.require_operator()?;
    let password = accounts::generate_password()?;
    set_password(state, caller, user_id, &password).await?;
    Ok(password)
}

/// Sets a user's console password, journaled as `user.password` (operators only). Chosen by
/// someone else, it is temporary: the user replaces it at the next console sign-in before
/// anything else; the user's console sessions end, its API tokens keep working. Two resets at
/// once leave the later one's password, each journaled.
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
    account::password(password)?;
    let user = accounts::get_user(&state.store, user_id).await?;
    accounts::reset_password(
        &state.store,
        &user.id,
        password,
        PasswordLife::Temporary,
        caller
            .journal("user.password")
            .contractor(user.contractor_id.as_deref())
            .outcome(json!({ "password_change_required": true })),
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

/// Makes a new, temporary console password for a user and shows it this once (operators
/// only), journaled as `user.password`; the user's console sessions end. Hand it to the user,
/// whom the next console sign-in asks for their own.
///
/// # Errors
/// 404 as [`get`]; 403 for anyone else but operators.
pub async fn reset_password(
    state: &AppState,
    caller: &Caller,
    user_id: &str,
) -> ApiResult<PasswordReset> {
    visible_user(state, caller, user_id).await?;
    let password = new_password(state, caller, user_id).await?;
    Ok(PasswordReset {
        user_id: user_id.to_owned(),
        password,
    })
}

/// Disables a user (operators only), journaled as `user.disable`: it signs in nowhere, its
/// console sessions end and its API tokens stop working. Disabling a disabled user changes
/// nothing and writes no journal row.
///
/// # Errors
/// 404 as [`get`]; 403 for anyone else but operators; 409 `own_account` for
/// the caller itself; 409 `last_operator` for the only active operator.
pub async fn disable(state: &AppState, caller: &Caller, user_id: &str) -> ApiResult<User> {
    let user = visible_user(state, caller, user_id).await?;
    caller.require_operator()?;
    if caller.actor.user_id() == user.id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "own_account",
            "nobody disables its own account: ask another operator",
        )
        .ja("自分自身のアカウントは無効にできません。他のオペレーターに依頼してください"));
    }
    let mut tx = state.store.write().await?;
    match accounts::disable_user(&mut tx, &user.id, &caller.name(), now_micros()).await? {
        Disabling::Done => {
            tx.commit(
                caller
                    .journal("user.disable")
                    .contractor(user.contractor_id.as_deref())
                    .subject(&user.id),
            )
            .await?;
        }
        Disabling::Already => drop(tx),
        Disabling::LastOperator => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "last_operator",
                "the last active operator cannot be disabled: at least one must remain",
            )
            .ja("有効なオペレーターが1人もいなくなるため、最後のオペレーターは無効にできません"));
        }
    }
    get(state, caller, user_id).await
}

/// Enables a disabled user again (operators only), journaled as `user.enable`; its API tokens
/// not revoked work again. Enabling an enabled user changes nothing and writes no journal row.
///
/// # Errors
/// 404 as [`get`]; 403 for anyone else but operators.
pub async fn enable(state: &AppState, caller: &Caller, user_id: &str) -> ApiResult<User> {
    let user = visible_user(state, caller, user_id).await?;
    caller.require_operator()?;
    let mut tx = state.store.write().await?;
    if accounts::enable_user(&mut tx, &user.id).await? {
        tx.commit(
            caller
                .journal("user.enable")
                .contractor(user.contractor_id.as_deref())
                .subject(&user.id),
        )
        .await?;
    }
    get(state, caller, user_id).await
}

/// Forgets the failed console sign-ins counted against a user's username from every address
/// (operators only), journaled as `user.unlock`, so that it may sign in at once. Failures
/// counted against an address alone (many usernames tried from it) stay. Nothing to forget
/// writes no journal row.
///
/// # Errors
/// 404 as [`get`]; 403 for anyone else but operators.
pub async fn unlock(state: &AppState, caller: &Caller, user_id: &str) -> ApiResult<User> {
    let user = visible_user(state, caller, user_id).await?;
    caller.require_operator()?;
    let key = super::session::username_key(&user.username);
    let mut tx = state.store.write().await?;
    let forgotten = accounts::clear_sign_in_failures_ending(&mut tx, &key).await?;
    if forgotten > 0 {
        tx.commit(
            caller
                .journal("user.unlock")
                .contractor(user.contractor_id.as_deref())
                .subject(&user.id)
                .outcome(json!({ "keys": forgotten })),
        )
        .await?;
    }
    get(state, caller, user_id).await
}
