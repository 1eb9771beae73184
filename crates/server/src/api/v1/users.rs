//! `/users`, `/contractors/{id}/users` and `/users/{id}/tokens`: accounts and their API tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mpc_api_types::Problem;
use mpc_api_types::accounts::{
    CreateContractorUser, CreateToken, CreateUser, CreatedToken, Role, Token, TokenList, User,
    UserList,
};
use mpc_domain::access;
use mpc_domain::account::{self, FieldError};
use mpc_storage::accounts::{self, NewUser};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::{PageParams, instant};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, Params};

const DISPLAY_NAME_MAX: usize = 100;
const LABEL_MAX: usize = 100;

fn body(u: accounts::User) -> ApiResult<User> {
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

fn token_body(t: accounts::ApiToken) -> ApiResult<Token> {
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
) -> ApiResult<(StatusCode, Json<User>)> {
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
    Ok((StatusCode::CREATED, Json(body(user)?)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only the users of this contractor.
    pub contractor_id: Option<String>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

/// Lists every user (operators only).
#[utoipa::path(get, path = "/users", tag = "users", params(ListParams),
    security(("bearer" = [])),
    responses((status = 200, body = UserList), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListParams>,
) -> ApiResult<Json<UserList>> {
    caller.require_operator()?;
    let page = PageParams {
        after: q.after,
        limit: q.limit,
    };
    let rows =
        accounts::list_users(&state.store, q.contractor_id.as_deref(), &page.probe()).await?;
    let (rows, next_cursor) = page.finish(rows, |u| &u.id);
    Ok(Json(UserList {
        users: rows.into_iter().map(body).collect::<ApiResult<_>>()?,
        next_cursor,
    }))
}

/// Creates a user of any role (operators only).
#[utoipa::path(post, path = "/users", tag = "users", request_body = CreateUser,
    security(("bearer" = [])),
    responses((status = 201, body = User), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<User>)> {
    caller.require_operator()?;
    let (req, raw) = payload.parse::<CreateUser>()?;
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
        &state,
        &caller,
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

/// Lists the users of a contractor.
#[utoipa::path(get, path = "/contractors/{contractor_id}/users", tag = "users",
    params(("contractor_id" = String, Path), PageParams), security(("bearer" = [])),
    responses((status = 200, body = UserList), (status = 404, body = Problem)))]
pub async fn list_of_contractor(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
    Params(page): Params<PageParams>,
) -> ApiResult<Json<UserList>> {
    caller.require_contractor(&contractor_id)?;
    accounts::get_contractor(&state.store, &contractor_id).await?;
    let rows = accounts::list_users(&state.store, Some(&contractor_id), &page.probe()).await?;
    let (rows, next_cursor) = page.finish(rows, |u| &u.id);
    Ok(Json(UserList {
        users: rows.into_iter().map(body).collect::<ApiResult<_>>()?,
        next_cursor,
    }))
}

/// Creates a user of a contractor (its own users or operators).
#[utoipa::path(post, path = "/contractors/{contractor_id}/users", tag = "users",
    params(("contractor_id" = String, Path)), request_body = CreateContractorUser,
    security(("bearer" = [])),
    responses((status = 201, body = User), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_for_contractor(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<User>)> {
    caller.require_contractor(&contractor_id)?;
    accounts::get_contractor(&state.store, &contractor_id).await?;
    let (req, raw) = payload.parse::<CreateContractorUser>()?;
    insert_user(
        &state,
        &caller,
        &req.username,
        req.display_name.as_deref(),
        access::Role::Contractor,
        Some(&contractor_id),
        raw,
    )
    .await
}

/// Reads one user.
#[utoipa::path(get, path = "/users/{user_id}", tag = "users",
    params(("user_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = User), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(body(visible_user(&state, &caller, &user_id).await?)?))
}

/// The user behind the token of this request.
#[utoipa::path(get, path = "/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = Problem)))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<User>> {
    Ok(Json(body(
        accounts::get_user(&state.store, caller.actor.user_id()).await?,
    )?))
}

/// Lists a user's API tokens (never their secrets).
#[utoipa::path(get, path = "/users/{user_id}/tokens", tag = "users",
    params(("user_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = TokenList), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> ApiResult<Json<TokenList>> {
    visible_user(&state, &caller, &user_id).await?;
    require_self_or_operator(&caller, &user_id)?;
    let tokens = accounts::list_tokens(&state.store, &user_id).await?;
    Ok(Json(TokenList {
        tokens: tokens
            .into_iter()
            .map(token_body)
            .collect::<ApiResult<_>>()?,
    }))
}

/// Makes a new API token; its secret is in this response only.
#[utoipa::path(post, path = "/users/{user_id}/tokens", tag = "users",
    params(("user_id" = String, Path)), request_body = CreateToken, security(("bearer" = [])),
    responses((status = 201, body = CreatedToken), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let user = visible_user(&state, &caller, &user_id).await?;
    require_self_or_operator(&caller, &user_id)?;
    let (req, raw) = payload.parse::<CreateToken>()?;
    let label = account::text("label", &req.label, LABEL_MAX)?;
    let mut tx = state.store.write().await?;
    let (token, secret) = accounts::issue_token(&mut tx, &user_id, &label).await?;
    tx.commit(
        caller
            .journal("token.create")
            .contractor(user.contractor_id.as_deref())
            .subject(&token.id)
            .request(raw)
            .outcome(json!({ "id": token.id, "user_id": user_id })),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: token_body(token)?,
            secret,
        }),
    ))
}

/// Revokes an API token at once.
#[utoipa::path(delete, path = "/users/{user_id}/tokens/{token_id}", tag = "users",
    params(("user_id" = String, Path), ("token_id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path((user_id, token_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let user = visible_user(&state, &caller, &user_id).await?;
    let token = accounts::get_token(&state.store, &token_id).await?;
    if token.user_id != user_id {
        return Err(ApiError::not_found());
    }
    require_self_or_operator(&caller, &user_id)?;
    let mut tx = state.store.write().await?;
    accounts::revoke_token(&mut tx, &token_id).await?;
    tx.commit(
        caller
            .journal("token.revoke")
            .contractor(user.contractor_id.as_deref())
            .subject(&token_id),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
