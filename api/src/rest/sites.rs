//! Sites of the caller's tenant.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::views::SiteView;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::services::sites;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"name": "Oxford Street", "timezone": "Europe/London"}))]
pub struct CreateSiteRequest {
    pub name: String,
    /// IANA timezone name, e.g. `America/New_York`, `Asia/Kolkata`.
    pub timezone: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"name": "Oxford Street flagship"}))]
pub struct UpdateSiteRequest {
    pub name: Option<String>,
    pub timezone: Option<String>,
}

/// Create a site.
#[utoipa::path(post, path = "/sites", tag = "sites",
    security(("bearer" = [])),
    request_body = CreateSiteRequest,
    responses(
        (status = 201, description = "Created", body = SiteView),
        (status = 403, description = "Viewers cannot create sites", body = ErrorBody),
        (status = 422, description = "Empty name or unknown timezone", body = ErrorBody),
    ))]
pub async fn create_site(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiJson(body): ApiJson<CreateSiteRequest>,
) -> ApiResult<(StatusCode, Json<SiteView>)> {
    let site = sites::create(&state, &who, &body.name, &body.timezone).await?;
    Ok((StatusCode::CREATED, Json(SiteView::from(&site))))
}

/// List the tenant's sites, by name.
#[utoipa::path(get, path = "/sites", tag = "sites",
    security(("bearer" = [])),
    responses((status = 200, description = "OK", body = [SiteView]), (status = 401, description = "Missing, malformed or expired access token", body = ErrorBody)))]
pub async fn list_sites(State(state): State<AppState>, Auth(who): Auth) -> ApiResult<Json<Vec<SiteView>>> {
    let sites = sites::list(&state, &who).await?;
    Ok(Json(sites.iter().map(SiteView::from).collect()))
}

/// Read one site.
#[utoipa::path(get, path = "/sites/{id}", tag = "sites",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id")),
    responses((status = 200, description = "OK", body = SiteView), (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody)))]
pub async fn get_site(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<SiteView>> {
    let site = sites::get(&state, &who, &id).await?;
    Ok(Json(SiteView::from(&site)))
}

/// Rename a site or change its timezone.
#[utoipa::path(patch, path = "/sites/{id}", tag = "sites",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id")),
    request_body = UpdateSiteRequest,
    responses(
        (status = 200, description = "OK", body = SiteView),
        (status = 403, description = "The caller's role does not allow this", body = ErrorBody),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
        (status = 422, description = "A field breaks a rule", body = ErrorBody),
    ))]
pub async fn update_site(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateSiteRequest>,
) -> ApiResult<Json<SiteView>> {
    let site = sites::update(&state, &who, &id, body.name.as_deref(), body.timezone.as_deref()).await?;
    Ok(Json(SiteView::from(&site)))
}

/// Delete a site that has no devices.
#[utoipa::path(delete, path = "/sites/{id}", tag = "sites",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The caller's role does not allow this", body = ErrorBody),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
        (status = 409, description = "The site still has devices", body = ErrorBody),
    ))]
pub async fn delete_site(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    sites::delete(&state, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"uploadInterval": 1, "dataMode": "ADD"}))]
pub struct DefaultConfigRequest {
    /// Minutes between uploads, 0 (real time) to 1440.
    pub upload_interval: Option<i64>,
    /// `ADD` or `TOTAL`.
    pub data_mode: Option<String>,
    /// Seconds between IPC keepalives, 10 to 3600.
    pub keep_interval: Option<i64>,
}

/// Set the configuration devices bound to this site from now on start with.
#[utoipa::path(put, path = "/sites/{id}/default-config", tag = "sites",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id")),
    request_body = DefaultConfigRequest,
    responses(
        (status = 200, description = "OK", body = SiteView),
        (status = 403, description = "The caller's role does not allow this", body = ErrorBody),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
        (status = 422, description = "A field breaks a rule", body = ErrorBody),
    ))]
pub async fn set_default_config(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DefaultConfigRequest>,
) -> ApiResult<Json<SiteView>> {
    let site = sites::set_defaults(
        &state,
        &who,
        &id,
        body.upload_interval,
        body.data_mode.as_deref(),
        body.keep_interval,
    )
    .await?;
    Ok(Json(SiteView::from(&site)))
}
