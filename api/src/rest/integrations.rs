//! Integrations of the caller's tenant: analysis servers and edge boxes
//! pushing to a secret URL (decision 014).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use footfall_domain::integration::Integration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::services::integrations::{self, Issued};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"kind": "analysis_server", "siteId": "0192f0c1-2d3e-7a4b-8c5d-6e7f8091a2b3", "name": "Traffic server, gate 2"}))]
pub struct CreateIntegrationRequest {
    /// `analysis_server` or `edge_box`.
    pub kind: String,
    /// The site its zones and boxes belong to.
    pub site_id: String,
    pub name: Option<String>,
}

/// An integration. `token` and `ingestPath` are only in the answers that
/// issue a token (create, rotate): the token is stored hashed and cannot
/// be shown again.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0192f0c1-0000-7000-8000-0000000000aa", "kind": "analysis_server", "siteId": "0192f0c1-2d3e-7a4b-8c5d-6e7f8091a2b3",
    "name": "Traffic server, gate 2", "tokenHint": "Q2x9bE", "active": true, "createdAt": "2026-11-21T09:00:00Z", "rotatedAt": null, "revokedAt": null,
    "token": "Q2x9bE…", "ingestPath": "/ingest/analysis/Q2x9bE…"}))]
pub struct IntegrationView {
    pub id: String,
    pub kind: &'static str,
    pub site_id: String,
    pub name: Option<String>,
    /// The token's first characters, to tell tokens apart.
    pub token_hint: String,
    /// False once revoked.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The secret token, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Where the sender posts (prefix the server's public address), shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingest_path: Option<String>,
}

impl From<&Integration> for IntegrationView {
    fn from(i: &Integration) -> Self {
        IntegrationView {
            id: i.id.to_string(),
            kind: i.kind.as_str(),
            site_id: i.site.to_string(),
            name: i.name.clone(),
            token_hint: i.token_hint.clone(),
            active: !i.is_revoked(),
            created_at: i.created_at,
            rotated_at: i.rotated_at,
            revoked_at: i.revoked_at,
            token: None,
            ingest_path: None,
        }
    }
}

impl From<&Issued> for IntegrationView {
    fn from(issued: &Issued) -> Self {
        IntegrationView {
            token: Some(issued.token.as_str().to_string()),
            ingest_path: Some(issued.ingest_path()),
            ..IntegrationView::from(&issued.integration)
        }
    }
}

/// Create an integration; the answer carries its token and ingest path,
/// shown this once.
#[utoipa::path(post, path = "/integrations", tag = "integrations",
    security(("bearer" = [])),
    request_body = CreateIntegrationRequest,
    responses(
        (status = 201, description = "Created, with `token` and `ingestPath`", body = IntegrationView),
        (status = 403, description = "Viewers cannot create integrations", body = ErrorBody),
        (status = 404, description = "No such site", body = ErrorBody),
        (status = 422, description = "Unknown kind, bad name", body = ErrorBody),
    ))]
pub async fn create_integration(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiJson(body): ApiJson<CreateIntegrationRequest>,
) -> ApiResult<(StatusCode, Json<IntegrationView>)> {
    let issued = integrations::create(&state, &who, &body.kind, &body.site_id, body.name.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(IntegrationView::from(&issued))))
}

/// List the tenant's integrations, newest first (without tokens).
#[utoipa::path(get, path = "/integrations", tag = "integrations",
    security(("bearer" = [])),
    responses((status = 200, description = "OK", body = [IntegrationView])))]
pub async fn list_integrations(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> ApiResult<Json<Vec<IntegrationView>>> {
    let list = integrations::list(&state, &who).await?;
    Ok(Json(list.iter().map(IntegrationView::from).collect()))
}

/// One integration (without its token).
#[utoipa::path(get, path = "/integrations/{id}", tag = "integrations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Integration id")),
    responses(
        (status = 200, description = "OK", body = IntegrationView),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
    ))]
pub async fn get_integration(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<IntegrationView>> {
    Ok(Json(IntegrationView::from(
        &integrations::get(&state, &who, &id).await?,
    )))
}

/// Issue a new token; the old one is refused from now on.
#[utoipa::path(post, path = "/integrations/{id}/rotate-token", tag = "integrations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Integration id")),
    responses(
        (status = 200, description = "The new `token` and `ingestPath`", body = IntegrationView),
        (status = 403, description = "Viewers cannot rotate tokens", body = ErrorBody),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
        (status = 409, description = "The integration is revoked", body = ErrorBody),
    ))]
pub async fn rotate_token(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<IntegrationView>> {
    Ok(Json(IntegrationView::from(
        &integrations::rotate(&state, &who, &id).await?,
    )))
}

/// Revoke the integration: its token is refused from now on. Its zones,
/// devices and data stay.
#[utoipa::path(delete, path = "/integrations/{id}", tag = "integrations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Integration id")),
    responses(
        (status = 200, description = "Revoked", body = IntegrationView),
        (status = 403, description = "Viewers cannot revoke", body = ErrorBody),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
        (status = 409, description = "Already revoked", body = ErrorBody),
    ))]
pub async fn revoke_integration(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<IntegrationView>> {
    Ok(Json(IntegrationView::from(
        &integrations::revoke(&state, &who, &id).await?,
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"baseUrl": "http://192.168.0.214:8000", "username": "admin", "password": "123456", "publicUrl": "http://footfall.example:8080"}))]
pub struct RegisterRequest {
    /// The analysis server's API, `http://host:port`.
    pub base_url: String,
    pub username: String,
    pub password: String,
    /// The address the analysis server reaches this platform at; default
    /// `FOOTFALL_PUBLIC_URL`.
    pub public_url: Option<String>,
    /// The integration's current token, to keep it; without it a new token
    /// is issued (in force only if every registration succeeds).
    pub token: Option<String>,
    /// Business types to register: 11 event alarms, 21 vehicle snapshots,
    /// 22 traffic parameters, 41 people flow, 52 task status (default all).
    pub business_types: Option<Vec<i64>>,
    /// Seconds between periodic pushes, 1 to 120 (default 10).
    pub upload_period: Option<i64>,
    /// Whether the server sends images (default: for event alarms only, the
    /// one type whose images the platform keeps).
    pub upload_images: Option<bool>,
    pub company_name: Option<String>,
    pub company_id: Option<String>,
    pub app_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredView {
    pub business_type: i64,
    /// The interface's id on the analysis server, when it said.
    pub remote_id: Option<i64>,
    /// `added`, `updated` or `unchanged`.
    pub action: &'static str,
    /// The URL the analysis server now posts this type to.
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationView {
    /// With `token` and `ingestPath` when this registration issued a new token.
    pub integration: IntegrationView,
    pub registered: Vec<RegisteredView>,
}

/// Register this integration on the tenant's analysis server: log in to its
/// API and make sure one receiving interface per business type points at
/// this integration (added, or edited when an older one of ours exists).
#[utoipa::path(post, path = "/integrations/{id}/register", tag = "integrations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Integration id (an analysis_server)")),
    request_body = RegisterRequest,
    responses(
        (status = 200, description = "Registered", body = RegistrationView),
        (status = 403, description = "Viewers cannot register", body = ErrorBody),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
        (status = 422, description = "Bad base URL, public URL, token or business type", body = ErrorBody),
        (status = 502, description = "The analysis server refused or failed (`remote_error`, with what it said)", body = ErrorBody),
        (status = 504, description = "The analysis server did not answer in time (`remote_timeout`)", body = ErrorBody),
    ))]
pub async fn register(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> ApiResult<Json<RegistrationView>> {
    let req = integrations::RemoteRegistration {
        base_url: &body.base_url,
        username: &body.username,
        password: &body.password,
        public_url: body.public_url.as_deref(),
        token: body.token.as_deref(),
        business_types: body.business_types.clone(),
        upload_period: body.upload_period,
        upload_images: body.upload_images,
        company_name: body.company_name.as_deref(),
        company_id: body.company_id.as_deref(),
        app_id: body.app_id.as_deref(),
    };
    let done = integrations::register(&state, &who, &id, req).await?;
    let integration = match &done.issued {
        Some(issued) => IntegrationView::from(issued),
        None => IntegrationView::from(&done.integration),
    };
    Ok(Json(RegistrationView {
        integration,
        registered: done
            .registered
            .iter()
            .map(|r| RegisteredView {
                business_type: r.business_type.code(),
                remote_id: r.remote_id,
                action: r.action,
                url: r.url.clone(),
            })
            .collect(),
    }))
}
