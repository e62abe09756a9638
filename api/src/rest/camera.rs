//! What IPC cameras reported: events (with images), sensor readings, the
//! latest temperature per region, alarms per day.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, Utc};
use footfall_domain::buckets::Granularity;
use footfall_domain::{DeviceId, SiteId};
use footfall_infra::camera::{StoredCameraEvent, StoredSample};
use footfall_infra::events::EventScope;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiQuery, Auth};
use crate::services::camera::{self, DayCount, EventQuery, Page, SampleQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CameraEventsQuery {
    /// `alarm`, `event`, `snapshot` or `metadata`.
    pub source: Option<String>,
    /// The alarm or event type (`ebike_detection`), `snapshot`, or a TLV
    /// target (`face`, `ocr`, ...).
    pub kind: Option<String>,
    /// Events at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Events before this time.
    pub to: Option<DateTime<Utc>>,
    /// Cursor from the previous page's `nextCursor`.
    pub after: Option<String>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

impl CameraEventsQuery {
    fn as_query(&self) -> EventQuery<'_> {
        EventQuery {
            source: self.source.as_deref(),
            kind: self.kind.as_deref(),
            from: self.from,
            to: self.to,
            after: self.after.as_deref(),
            first: self.limit,
        }
    }
}

/// An event an IPC camera reported.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "812", "deviceId": "0192f0c1-0000-7000-8000-000000000011", "siteId": "0192f0c1-2d3e-7a4b-8c5d-6e7f8091a2b3",
    "source": "alarm", "kind": "ebike_detection", "name": "e-bike in the lift", "status": "start", "channel": 1,
    "at": "2026-11-21T01:00:00Z", "localTime": "2026-11-21 09:00:00", "receivedAt": "2026-11-21T01:00:02Z",
    "attributes": {"deviceName": "HD IPC", "alarmUuid": "12421HHTCS/1/ebike_detection/20261121090000/1", "extends": {"plate_no": "京J66666"}},
    "imageUrl": "/api/v1/camera-events/812/image"}))]
pub struct CameraEventView {
    /// Also the cursor position.
    pub id: String,
    pub device_id: String,
    pub site_id: String,
    /// `alarm` (alarm_report, TLV ALAM), `event` (event_report),
    /// `snapshot` (snap_report, timed snapshots), `metadata` (TLV targets).
    pub source: &'static str,
    pub kind: String,
    pub name: Option<String>,
    /// `start`, `stop` or `pulse`.
    pub status: Option<String>,
    pub channel: Option<i32>,
    /// When it happened (the camera's local time read in the site's zone).
    pub at: DateTime<Utc>,
    /// The camera's local time as it sent it.
    pub local_time: Option<String>,
    pub received_at: Option<DateTime<Utc>>,
    /// Everything else the camera said: decoded `extends`/`extern`, face
    /// attributes, OCR text, ...
    #[schema(value_type = Object)]
    pub attributes: Option<serde_json::Value>,
    /// Where to fetch its image (with the same bearer token), if it has one.
    pub image_url: Option<String>,
}

impl From<&StoredCameraEvent> for CameraEventView {
    fn from(e: &StoredCameraEvent) -> Self {
        CameraEventView {
            id: e.id.to_string(),
            device_id: e.device.to_string(),
            site_id: e.site.to_string(),
            source: e.source.as_str(),
            kind: e.kind.clone(),
            name: e.name.clone(),
            status: e.status.clone(),
            channel: e.channel,
            at: DateTime::from_timestamp_millis(e.at_ms).unwrap_or_default(),
            local_time: e.local_time.clone(),
            received_at: DateTime::from_timestamp(e.received_at, 0),
            attributes: e.attributes.clone(),
            image_url: e
                .image_key
                .as_ref()
                .map(|_| format!("/api/v1/camera-events/{}/image", e.id)),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CameraEventPageView {
    pub items: Vec<CameraEventView>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl From<Page<StoredCameraEvent>> for CameraEventPageView {
    fn from(page: Page<StoredCameraEvent>) -> Self {
        CameraEventPageView {
            items: page.items.iter().map(CameraEventView::from).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// Events an IPC camera reported, newest first.
#[utoipa::path(get, path = "/devices/{id}/camera-events", tag = "camera events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id"), CameraEventsQuery),
    responses(
        (status = 200, description = "OK", body = CameraEventPageView),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
        (status = 422, description = "A filter breaks a rule", body = ErrorBody),
    ))]
pub async fn device_camera_events(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<CameraEventsQuery>,
) -> ApiResult<Json<CameraEventPageView>> {
    let scope = EventScope::Device(DeviceId::parse(&id)?);
    let page = camera::events(&state, &who, scope, query.as_query()).await?;
    Ok(Json(page.into()))
}

/// Events the IPC cameras of a site reported, newest first.
#[utoipa::path(get, path = "/sites/{id}/camera-events", tag = "camera events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id"), CameraEventsQuery),
    responses(
        (status = 200, description = "OK", body = CameraEventPageView),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
        (status = 422, description = "A filter breaks a rule", body = ErrorBody),
    ))]
pub async fn site_camera_events(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<CameraEventsQuery>,
) -> ApiResult<Json<CameraEventPageView>> {
    let scope = EventScope::Site(SiteId::parse(&id)?);
    let page = camera::events(&state, &who, scope, query.as_query()).await?;
    Ok(Json(page.into()))
}

/// One camera event.
#[utoipa::path(get, path = "/camera-events/{id}", tag = "camera events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Event id")),
    responses(
        (status = 200, description = "OK", body = CameraEventView),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
    ))]
pub async fn get_camera_event(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<CameraEventView>> {
    let event = camera::event(&state, &who, &id).await?;
    Ok(Json(CameraEventView::from(&event)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ImageQuery {
    /// `true`: the target's cut-out (TLV `OBJ_PIC`) instead of the snapshot.
    #[serde(default)]
    pub cutout: bool,
}

/// The image of a camera event (JPEG as the camera sent it).
#[utoipa::path(get, path = "/camera-events/{id}/image", tag = "camera events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Event id"), ImageQuery),
    responses(
        (status = 200, description = "The image", content_type = "image/jpeg"),
        (status = 404, description = "No such event, or it has no image", body = ErrorBody),
    ))]
pub async fn camera_event_image(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ImageQuery>,
) -> ApiResult<Response> {
    let (media, bytes) = camera::event_image(&state, &who, &id, query.cutout).await?;
    Ok((
        [
            (header::CONTENT_TYPE, media.content_type()),
            (header::CACHE_CONTROL, "private, max-age=86400"),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SensorReadingsQuery {
    /// `temperature` or `modbus`.
    pub kind: Option<String>,
    /// A thermal region id or a modbus register (`@3`).
    pub key: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Cursor from the previous page's `nextCursor`.
    pub after: Option<String>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// One sensor value.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "90", "deviceId": "0192f0c1-0000-7000-8000-000000000011", "kind": "temperature", "key": "0", "name": "rect 1",
    "channel": 1, "value": 30.1, "threshold": 100.0, "alarm": 0, "at": "2026-11-21T01:00:00Z"}))]
pub struct SensorReadingView {
    pub id: String,
    pub device_id: String,
    /// `temperature` (°C) or `modbus`.
    pub kind: &'static str,
    /// The thermal region id or modbus register.
    pub key: String,
    pub name: Option<String>,
    pub channel: Option<i32>,
    pub value: f64,
    /// The camera's alarm threshold (temperatures).
    pub threshold: Option<f64>,
    /// Temperatures: 1 at or over the threshold. Modbus: the camera's alarm
    /// flag (0 below the lowest, 1 above the highest allowed value).
    pub alarm: Option<i32>,
    pub at: DateTime<Utc>,
}

impl From<&StoredSample> for SensorReadingView {
    fn from(s: &StoredSample) -> Self {
        SensorReadingView {
            id: s.id.to_string(),
            device_id: s.device.to_string(),
            kind: s.kind.as_str(),
            key: s.key.clone(),
            name: s.name.clone(),
            channel: s.channel,
            value: s.value,
            threshold: s.threshold,
            alarm: s.alarm,
            at: DateTime::from_timestamp_millis(s.at_ms).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SensorReadingPageView {
    pub items: Vec<SensorReadingView>,
    pub next_cursor: Option<String>,
}

/// Sensor readings (temperatures, modbus registers) of an IPC camera,
/// newest first.
#[utoipa::path(get, path = "/devices/{id}/sensor-readings", tag = "camera events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id"), SensorReadingsQuery),
    responses(
        (status = 200, description = "OK", body = SensorReadingPageView),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
        (status = 422, description = "A filter breaks a rule", body = ErrorBody),
    ))]
pub async fn sensor_readings(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<SensorReadingsQuery>,
) -> ApiResult<Json<SensorReadingPageView>> {
    let page = camera::samples(
        &state,
        &who,
        &id,
        SampleQuery {
            kind: query.kind.as_deref(),
            key: query.key.as_deref(),
            from: query.from,
            to: query.to,
            after: query.after.as_deref(),
            first: query.limit,
        },
    )
    .await?;
    Ok(Json(SensorReadingPageView {
        items: page.items.iter().map(SensorReadingView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The latest temperature of each thermal region of an IPC camera.
#[utoipa::path(get, path = "/devices/{id}/temperatures/latest", tag = "camera events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id")),
    responses(
        (status = 200, description = "One reading per region, by region id", body = [SensorReadingView]),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
    ))]
pub async fn latest_temperatures(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<SensorReadingView>>> {
    let latest = camera::latest_temperatures(&state, &who, &id).await?;
    Ok(Json(latest.iter().map(SensorReadingView::from).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AlarmCountsQuery {
    /// Start of the range; snapped to the start of its local day.
    pub from: DateTime<Utc>,
    /// End of the range (exclusive); snapped to the end of its local day.
    pub to: DateTime<Utc>,
    /// Only this device's alarms.
    pub device_id: Option<String>,
}

/// Alarms of one local day.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"start": "2026-11-21T00:00:00+08:00", "end": "2026-11-22T00:00:00+08:00", "alarms": 3}))]
pub struct AlarmDayView {
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub alarms: u64,
}

impl From<&DayCount> for AlarmDayView {
    fn from(d: &DayCount) -> Self {
        AlarmDayView {
            start: d.start,
            end: d.end,
            alarms: d.alarms,
        }
    }
}

/// Alarms and analytics events (alarm_report, event_report, TLV ALAM) per
/// local day of the site, days without any included.
#[utoipa::path(get, path = "/sites/{id}/alarm-counts", tag = "camera events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id"), AlarmCountsQuery),
    responses(
        (status = 200, description = "One entry per local day", body = [AlarmDayView]),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
        (status = 422, description = "A bad range, or a device of another site", body = ErrorBody),
    ))]
pub async fn alarm_counts(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<AlarmCountsQuery>,
) -> ApiResult<Json<Vec<AlarmDayView>>> {
    let days = camera::alarm_counts(&state, &who, &id, query.device_id.as_deref(), query.from, query.to).await?;
    Ok(Json(days.iter().map(AlarmDayView::from).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct VehicleCountsQuery {
    /// Start, RFC 3339; snapped back to its bucket's start.
    pub from: DateTime<Utc>,
    /// End, exclusive; snapped forward to its bucket's end.
    pub to: DateTime<Utc>,
    /// `QUARTER_HOUR`, `HOUR`, `DAY`, `WEEK` or `MONTH`.
    pub granularity: String,
    /// Only this device's vehicles.
    pub device_id: Option<String>,
}

/// Vehicles counted in one bucket.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"start": "2026-11-21T08:00:00+08:00", "end": "2026-11-21T09:00:00+08:00", "in": 0, "out": 14, "pass": 230}))]
pub struct VehicleBucketView {
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    /// Vehicles that entered (edge boxes).
    pub r#in: u64,
    /// Vehicles that left (edge box "vehicle leave").
    pub out: u64,
    /// Vehicles that passed a lane (analysis servers' vehicle flow).
    pub pass: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VehicleTotalsView {
    pub r#in: u64,
    pub out: u64,
    pub pass: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VehicleCountsView {
    pub granularity: &'static str,
    pub buckets: Vec<VehicleBucketView>,
    /// The sum of the buckets.
    pub totals: VehicleTotalsView,
}

/// Vehicles counted at a site (edge boxes, analysis servers), kept apart
/// from people, per bucket of the site's timezone; empty buckets as zeros.
#[utoipa::path(get, path = "/sites/{id}/vehicle-counts", tag = "footfall",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id"), VehicleCountsQuery),
    responses(
        (status = 200, description = "OK", body = VehicleCountsView),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
        (status = 422, description = "A bad range or granularity, or a device of another site", body = ErrorBody),
    ))]
pub async fn vehicle_counts(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<VehicleCountsQuery>,
) -> ApiResult<Json<VehicleCountsView>> {
    let granularity = Granularity::parse(&q.granularity).map_err(footfall_domain::Error::from)?;
    let buckets = camera::vehicle_counts(&state, &who, &id, q.device_id.as_deref(), granularity, q.from, q.to).await?;
    let totals = buckets.iter().fold(
        VehicleTotalsView {
            r#in: 0,
            out: 0,
            pass: 0,
        },
        |t, b| VehicleTotalsView {
            r#in: t.r#in + b.r#in,
            out: t.out + b.out,
            pass: t.pass + b.pass,
        },
    );
    Ok(Json(VehicleCountsView {
        granularity: granularity.as_str(),
        buckets: buckets
            .iter()
            .map(|b| VehicleBucketView {
                start: b.start,
                end: b.end,
                r#in: b.r#in,
                out: b.out,
                pass: b.pass,
            })
            .collect(),
        totals,
    }))
}
