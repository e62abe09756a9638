//! Device bindings of the caller's tenant.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use footfall_domain::DeviceId;
use footfall_infra::events::EventScope;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::views::{CommandView, DeviceView, double_option};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::services::devices::{self, EventPage};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"sn": "2010010000000000", "siteId": "0192f0c1-2d3e-7a4b-8c5d-6e7f8091a2b3", "protocol": "people_counter", "name": "Main entrance"}))]
pub struct BindDeviceRequest {
    /// Serial number: letters, digits, `-_.:`; trimmed and upper-cased.
    pub sn: String,
    pub site_id: String,
    /// `people_counter`, `ipc` or `edge_box`.
    pub protocol: String,
    pub name: Option<String>,
    /// IPC cameras: the Digest username configured on the camera (required
    /// for `ipc`, refused for other protocols).
    pub username: Option<String>,
    /// IPC cameras: the Digest password configured on the camera. Stored as
    /// Digest hashes, never in the clear, and never shown again.
    #[schema(format = Password)]
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"username": "admin", "password": "camera password"}))]
pub struct CredentialsRequest {
    pub username: String,
    #[schema(format = Password)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"name": "North door", "siteId": "0192f0c1-2d3e-7a4b-8c5d-6e7f8091a2b3"}))]
pub struct UpdateDeviceRequest {
    /// A new name; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// Move the device to another of the tenant's sites.
    pub site_id: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListDevicesQuery {
    /// Only the devices of this site.
    pub site_id: Option<String>,
}

/// Bind a device to a site by its serial number.
#[utoipa::path(post, path = "/devices", tag = "devices",
    security(("bearer" = [])),
    request_body = BindDeviceRequest,
    responses(
        (status = 201, description = "Created", body = DeviceView),
        (status = 403, description = "Viewers cannot bind devices", body = ErrorBody),
        (status = 404, description = "No such site in this tenant", body = ErrorBody),
        (status = 409, description = "The serial number is bound already, to this or another tenant", body = ErrorBody),
        (status = 422, description = "Malformed serial number, unknown protocol, missing or unexpected credentials", body = ErrorBody),
    ))]
pub async fn bind_device(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiJson(body): ApiJson<BindDeviceRequest>,
) -> ApiResult<(StatusCode, Json<DeviceView>)> {
    let binding = devices::Binding {
        sn: &body.sn,
        site: &body.site_id,
        protocol: &body.protocol,
        name: body.name.as_deref(),
        username: body.username.as_deref(),
        password: body.password.as_deref(),
    };
    let device = devices::bind(&state, &who, binding).await?;
    Ok((StatusCode::CREATED, Json(DeviceView::from(&device))))
}

/// Set the Digest username and password an IPC camera authenticates with
/// (the ones configured on the camera). Requests signed with the old ones
/// fail from now on.
#[utoipa::path(put, path = "/devices/{id}/credentials", tag = "devices",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id")),
    request_body = CredentialsRequest,
    responses(
        (status = 200, description = "The device", body = DeviceView),
        (status = 403, description = "The caller's role does not allow this", body = ErrorBody),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
        (status = 422, description = "Not an IPC camera, or a username or password that breaks a rule", body = ErrorBody),
    ))]
pub async fn set_credentials(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CredentialsRequest>,
) -> ApiResult<Json<DeviceView>> {
    let device = devices::set_credentials(&state, &who, &id, &body.username, &body.password).await?;
    Ok(Json(DeviceView::from(&device)))
}

/// List the tenant's devices, optionally of one site.
#[utoipa::path(get, path = "/devices", tag = "devices",
    security(("bearer" = [])),
    params(ListDevicesQuery),
    responses(
        (status = 200, description = "OK", body = [DeviceView]),
        (status = 404, description = "The siteId names no site of this tenant", body = ErrorBody),
    ))]
pub async fn list_devices(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiQuery(query): ApiQuery<ListDevicesQuery>,
) -> ApiResult<Json<Vec<DeviceView>>> {
    let devices = devices::list(&state, &who, query.site_id.as_deref()).await?;
    Ok(Json(devices.iter().map(DeviceView::from).collect()))
}

/// Read one device, with its presence and desired configuration.
#[utoipa::path(get, path = "/devices/{id}", tag = "devices",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id")),
    responses((status = 200, description = "OK", body = DeviceView), (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody)))]
pub async fn get_device(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<DeviceView>> {
    let device = devices::get(&state, &who, &id).await?;
    Ok(Json(DeviceView::from(&device)))
}

/// Rename a device or move it to another site.
#[utoipa::path(patch, path = "/devices/{id}", tag = "devices",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id")),
    request_body = UpdateDeviceRequest,
    responses(
        (status = 200, description = "OK", body = DeviceView),
        (status = 403, description = "The caller's role does not allow this", body = ErrorBody),
        (status = 404, description = "No such device, or no such target site", body = ErrorBody),
        (status = 422, description = "A field breaks a rule", body = ErrorBody),
    ))]
pub async fn update_device(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateDeviceRequest>,
) -> ApiResult<Json<DeviceView>> {
    let name = body.name.as_ref().map(Option::as_deref);
    let device = devices::update(&state, &who, &id, name, body.site_id.as_deref()).await?;
    Ok(Json(DeviceView::from(&device)))
}

/// Unbind a device; its serial number becomes free to bind again.
#[utoipa::path(delete, path = "/devices/{id}", tag = "devices",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id")),
    responses(
        (status = 204, description = "Unbound"),
        (status = 403, description = "The caller's role does not allow this", body = ErrorBody),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
    ))]
pub async fn unbind_device(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    devices::unbind(&state, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"uploadInterval": 1, "dataMode": "TOTAL"}))]
pub struct UpdateConfigRequest {
    /// People counters: minutes between uploads, 0 (real time) to 1440;
    /// firmware documents 0, 1, 5 and 60.
    pub upload_interval: Option<i64>,
    /// `ADD` or `TOTAL` (any case). People counters are told it; for IPC
    /// cameras it says how their TLV counts read (decision 012).
    pub data_mode: Option<String>,
    /// IPC cameras: seconds between keepalives (`keepinterval`), 10 to 3600.
    pub keep_interval: Option<i64>,
}

/// Change the configuration the device should run with. Its next heartbeat
/// (people counter) or keepalive (IPC camera) answer carries it;
/// `configDeliveredAt` shows when it went out.
#[utoipa::path(put, path = "/devices/{id}/config", tag = "devices",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id")),
    request_body = UpdateConfigRequest,
    responses(
        (status = 200, description = "The device with its desired and delivered configuration", body = DeviceView),
        (status = 403, description = "The caller's role does not allow this", body = ErrorBody),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
        (status = 422, description = "Negative or too long interval, unknown data mode", body = ErrorBody),
    ))]
pub async fn update_config(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateConfigRequest>,
) -> ApiResult<Json<DeviceView>> {
    let device = devices::update_config(
        &state,
        &who,
        &id,
        body.upload_interval,
        body.data_mode.as_deref(),
        body.keep_interval,
    )
    .await?;
    Ok(Json(DeviceView::from(&device)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"from": "2026-11-20T00:00:00Z", "to": "2026-11-21T00:00:00Z"}))]
pub struct HistoryRequest {
    /// Start of the range, RFC 3339; at most 90 days back.
    pub from: DateTime<Utc>,
    /// End of the range, after `from`, not in the future.
    pub to: DateTime<Utc>,
}

/// Ask a people counter to re-upload its counts for a range. The request is
/// sent in its heartbeat answers until the history arrives (`fulfilled`) or
/// 24 hours pass (`expired`).
#[utoipa::path(post, path = "/devices/{id}/history-requests", tag = "devices",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id")),
    request_body = HistoryRequest,
    responses(
        (status = 201, description = "Created", body = CommandView),
        (status = 403, description = "The caller's role does not allow this", body = ErrorBody),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
        (status = 422, description = "from not before to, more than 90 days back, in the future, or not a people counter", body = ErrorBody),
    ))]
pub async fn request_history(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HistoryRequest>,
) -> ApiResult<(StatusCode, Json<CommandView>)> {
    let command = devices::request_history(&state, &who, &id, body.from, body.to).await?;
    Ok((StatusCode::CREATED, Json(CommandView::from(&command))))
}

/// The device's history requests, newest first, with their status.
#[utoipa::path(get, path = "/devices/{id}/history-requests", tag = "devices",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id")),
    responses((status = 200, description = "OK", body = [CommandView]), (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody)))]
pub async fn list_history_requests(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<CommandView>>> {
    let commands = devices::commands(&state, &who, &id).await?;
    Ok(Json(commands.iter().map(CommandView::from).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Cursor from the previous page's `nextCursor`.
    pub after: Option<String>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// One person crossing, from a real-time upload's `eventList`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"deviceId": "0192f0c1-0000-7000-8000-000000000010", "eventId": 17, "at": "2026-11-21T09:40:12.370Z", "direction": "in", "eventType": 100, "child": true, "heightCm": 112, "stayMs": 900}))]
pub struct EventView {
    pub device_id: String,
    /// The device's event id.
    pub event_id: i64,
    pub at: DateTime<Utc>,
    /// `in`, `out`, `passby`, `turnback`, or null for a type the platform does not know.
    pub direction: Option<&'static str>,
    /// `eventType` as the device sent it.
    pub event_type: i64,
    pub child: bool,
    pub height_cm: Option<i32>,
    pub stay_ms: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"items": [{"deviceId": "0192f0c1-0000-7000-8000-000000000010", "eventId": 17, "at": "2026-11-21T09:40:12.370Z", "direction": "in", "eventType": 100, "child": true, "heightCm": 112, "stayMs": 900}], "nextCursor": "48213"}))]
pub struct EventPageView {
    pub items: Vec<EventView>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl From<EventPage> for EventPageView {
    fn from(page: EventPage) -> Self {
        EventPageView {
            items: page
                .events
                .iter()
                .map(|e| EventView {
                    device_id: e.device.to_string(),
                    event_id: e.event_id,
                    at: DateTime::from_timestamp_micros(e.at_us).unwrap_or_default(),
                    direction: e.direction.map(|d| d.as_str()),
                    event_type: e.raw_type,
                    child: e.child,
                    height_cm: e.height_cm,
                    stay_ms: e.stay_ms,
                })
                .collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// Per-person events of a device, newest first.
#[utoipa::path(get, path = "/devices/{id}/events", tag = "devices",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id"), EventsQuery),
    responses((status = 200, description = "OK", body = EventPageView), (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody), (status = 422, description = "A field breaks a rule", body = ErrorBody)))]
pub async fn device_events(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> ApiResult<Json<EventPageView>> {
    let scope = EventScope::Device(DeviceId::parse(&id)?);
    let page = devices::events(&state, &who, scope, query.after.as_deref(), query.limit).await?;
    Ok(Json(page.into()))
}
