//! Signup, login and the caller's own account.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::views::{SessionView, TenantView, UserView};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth, ClientAddr};
use crate::services::accounts;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"tenantName": "Acme Retail", "email": "ops@acme.example", "password": "correct horse battery"}))]
pub struct SignupRequest {
    pub tenant_name: String,
    pub email: String,
    /// At least 8 characters.
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"email": "ops@acme.example", "password": "correct horse battery"}))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"user": {"id": "0192f0c1-0000-7000-8000-000000000002", "email": "ops@acme.example", "role": "owner", "createdAt": "2026-11-21T09:00:00Z"}, "tenant": {"id": "0192f0c1-0000-7000-8000-000000000001", "name": "Acme Retail"}}))]
pub struct MeView {
    pub user: UserView,
    pub tenant: TenantView,
}

/// Create a tenant and its owner, and log the owner in.
#[utoipa::path(post, path = "/auth/signup", tag = "auth",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "Tenant created; the owner is logged in", body = SessionView),
        (status = 409, description = "The email is already registered", body = ErrorBody),
        (status = 422, description = "A field breaks a rule", body = ErrorBody),
        (status = 429, description = "Too many signups from this address", body = ErrorBody),
    ))]
pub async fn signup(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<SignupRequest>,
) -> ApiResult<(StatusCode, Json<SessionView>)> {
    let session = accounts::sign_up(&state, client, &body.tenant_name, &body.email, &body.password).await?;
    Ok((StatusCode::CREATED, Json(session.into())))
}

/// Exchange email and password for an access token.
#[utoipa::path(post, path = "/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = SessionView),
        (status = 401, description = "Unknown email or wrong password (the same answer for both)", body = ErrorBody),
        (status = 429, description = "Too many attempts for this account", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Json<SessionView>> {
    let session = accounts::log_in(&state, &body.email, &body.password).await?;
    Ok(Json(session.into()))
}

/// The caller's user and tenant.
#[utoipa::path(get, path = "/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = MeView),
        (status = 401, description = "Missing, malformed or expired access token", body = ErrorBody),
    ))]
pub async fn me(State(state): State<AppState>, Auth(who): Auth) -> ApiResult<Json<MeView>> {
    let (user, tenant) = accounts::me(&state, &who).await?;
    Ok(Json(MeView {
        user: UserView::from(&user),
        tenant: TenantView::from(&tenant),
    }))
}
