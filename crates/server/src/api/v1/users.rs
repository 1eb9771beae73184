//! `/users`, `/contractors/{id}/users` and `/users/{id}/tokens`: accounts and their API tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use mpc_api_types::Problem;
use mpc_api_types::accounts::{
    CreateContractorUser, CreateToken, CreateUser, CreatedToken, PasswordReset, TokenList, User,
    UserList,
};
use serde::Deserialize;
use utoipa::IntoParams;

use super::PageParams;
use crate::AppState;
use crate::app::users;
use crate::error::ApiResult;
use crate::extract::{Caller, JsonBody, Params};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct ListParams {
    /// Only the users of this contractor.
    pub(super) contractor_id: Option<String>,
    pub(super) after: Option<String>,
    pub(super) limit: Option<u32>,
}

/// Lists every user (operators only).
#[utoipa::path(get, path = "/users", tag = "users", params(ListParams),
    security(("bearer" = [])),
    responses((status = 200, body = UserList), (status = 403, body = Problem)))]
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListParams>,
) -> ApiResult<Json<UserList>> {
    let page = PageParams {
        after: q.after,
        limit: q.limit,
    };
    Ok(Json(
        users::list(&state, &caller, q.contractor_id.as_deref(), &page).await?,
    ))
}

/// Creates a user of any role (operators only).
#[utoipa::path(post, path = "/users", tag = "users", request_body = CreateUser,
    security(("bearer" = [])),
    responses((status = 201, body = User), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<User>)> {
    let user = users::create(&state, &caller, payload.into()).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Lists the users of a contractor.
#[utoipa::path(get, path = "/contractors/{contractor_id}/users", tag = "users",
    params(("contractor_id" = String, Path), PageParams), security(("bearer" = [])),
    responses((status = 200, body = UserList), (status = 404, body = Problem)))]
pub(super) async fn list_of_contractor(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
    Params(page): Params<PageParams>,
) -> ApiResult<Json<UserList>> {
    Ok(Json(
        users::list_of_contractor(&state, &caller, &contractor_id, &page).await?,
    ))
}

/// Creates a user of a contractor (its own users or operators).
#[utoipa::path(post, path = "/contractors/{contractor_id}/users", tag = "users",
    params(("contractor_id" = String, Path)), request_body = CreateContractorUser,
    security(("bearer" = [])),
    responses((status = 201, body = User), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn create_for_contractor(
    State(state): State<AppState>,
    caller: Caller,
    Path(contractor_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<User>)> {
    let user =
        users::create_for_contractor(&state, &caller, &contractor_id, payload.into()).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Reads one user.
#[utoipa::path(get, path = "/users/{user_id}", tag = "users",
    params(("user_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = User), (status = 404, body = Problem)))]
pub(super) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(users::get(&state, &caller, &user_id).await?))
}

/// The user behind the token of this request.
///
/// `password_change_required` says whether its console password is a temporary one still to
/// be replaced; the token works regardless.
#[utoipa::path(get, path = "/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = Problem)))]
pub(super) async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<User>> {
    Ok(Json(users::me(&state, &caller).await?))
}

/// Lists a user's API tokens (never their secrets).
#[utoipa::path(get, path = "/users/{user_id}/tokens", tag = "users",
    params(("user_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = TokenList), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
pub(super) async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> ApiResult<Json<TokenList>> {
    Ok(Json(users::tokens(&state, &caller, &user_id).await?))
}

/// Makes a new API token; its secret is in this response only.
#[utoipa::path(post, path = "/users/{user_id}/tokens", tag = "users",
    params(("user_id" = String, Path)), request_body = CreateToken, security(("bearer" = [])),
    responses((status = 201, body = CreatedToken), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
pub(super) async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
    payload: JsonBody,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let created = users::create_token(&state, &caller, &user_id, payload.into()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes an API token at once.
#[utoipa::path(delete, path = "/users/{user_id}/tokens/{token_id}", tag = "users",
    params(("user_id" = String, Path), ("token_id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path((user_id, token_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    users::revoke_token(&state, &caller, &user_id, &token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disables a user (operators only): it cannot sign in, its console sessions end and its API
/// tokens answer 401 `account_disabled` until it is enabled again. Refused (409) for the caller
/// itself (`own_account`) and for the last active operator (`last_operator`).
#[utoipa::path(post, path = "/users/{user_id}/disable", tag = "users",
    params(("user_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = User), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem)))]
pub(super) async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(users::disable(&state, &caller, &user_id).await?))
}

/// Enables a disabled user again (operators only); its API tokens not revoked work again.
#[utoipa::path(post, path = "/users/{user_id}/enable", tag = "users",
    params(("user_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = User), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
pub(super) async fn enable(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(users::enable(&state, &caller, &user_id).await?))
}

/// Forgets the failed console sign-ins counted against a user's username (operators only),
/// so that it may sign in at once.
#[utoipa::path(post, path = "/users/{user_id}/unlock", tag = "users",
    params(("user_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = User), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
pub(super) async fn unlock(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(users::unlock(&state, &caller, &user_id).await?))
}

/// Makes a new, temporary console password for a user (operators only).
///
/// The password is in this response only, and the user's console sessions end. At the next
/// console sign-in the user must set their own before any other page opens
/// (`password_change_required` in the user's view until then); its API tokens keep working.
#[utoipa::path(post, path = "/users/{user_id}/password-reset", tag = "users",
    params(("user_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = PasswordReset), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
pub(super) async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> ApiResult<([(header::HeaderName, &'static str); 1], Json<PasswordReset>)> {
    let reset = users::reset_password(&state, &caller, &user_id).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(reset)))
}
