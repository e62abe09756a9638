//! Users of the caller's tenant. Owners and admins add admins and viewers.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::views::UserView;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::services::accounts;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"email": "analyst@acme.example", "password": "a long passphrase", "role": "viewer"}))]
pub struct CreateUserRequest {
    pub email: String,
    /// At least 8 characters; the new user logs in with it.
    pub password: String,
    /// `admin` or `viewer`.
    pub role: String,
}

/// List the tenant's users.
#[utoipa::path(get, path = "/users", tag = "users",
    security(("bearer" = [])),
    responses((status = 200, description = "OK", body = [UserView]), (status = 401, description = "Missing, malformed or expired access token", body = ErrorBody)))]
pub async fn list_users(State(state): State<AppState>, Auth(who): Auth) -> ApiResult<Json<Vec<UserView>>> {
    let users = accounts::list_users(&state, &who).await?;
    Ok(Json(users.iter().map(UserView::from).collect()))
}

/// Add a user to the tenant (owner or admin only).
#[utoipa::path(post, path = "/users", tag = "users",
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 403, description = "The caller may not grant this role", body = ErrorBody),
        (status = 409, description = "The email is already registered", body = ErrorBody),
        (status = 422, description = "A field breaks a rule", body = ErrorBody),
    ))]
pub async fn create_user(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let user = accounts::create_user(&state, &who, &body.email, &body.password, &body.role).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// Remove a user (not the owner, not yourself).
#[utoipa::path(delete, path = "/users/{id}", tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "The caller's role does not allow this", body = ErrorBody),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
        (status = 409, description = "The owner, or the caller", body = ErrorBody),
    ))]
pub async fn delete_user(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    accounts::delete_user(&state, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
