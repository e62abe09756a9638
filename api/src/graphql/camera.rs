//! GraphQL types of what IPC cameras reported.

use async_graphql::{Context, Enum, ID, Json, SimpleObject};
use chrono::{DateTime, FixedOffset, Utc};
use footfall_domain::camera::{EventSource as DomainSource, SensorKind as DomainKind};
use footfall_infra::camera::{StoredCameraEvent, StoredSample};
use footfall_infra::events::EventScope;

use super::error::GqlResult;
use super::types::PageInfo;
use super::{caller, state};
use crate::services::camera::{self, DayCount, EventQuery, Page, SampleQuery};

/// Which report an event came from.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CameraEventSource {
    /// `alarm_report`, or a TLV `ALAM` record.
    Alarm,
    /// `event_report`.
    Event,
    /// `snap_report`, or a timed snapshot.
    Snapshot,
    /// TLV metadata: faces, bodies, vehicles, text, ...
    Metadata,
}

impl From<DomainSource> for CameraEventSource {
    fn from(s: DomainSource) -> Self {
        match s {
            DomainSource::Alarm => CameraEventSource::Alarm,
            DomainSource::Event => CameraEventSource::Event,
            DomainSource::Snapshot => CameraEventSource::Snapshot,
            DomainSource::Metadata => CameraEventSource::Metadata,
        }
    }
}

impl From<CameraEventSource> for DomainSource {
    fn from(s: CameraEventSource) -> Self {
        match s {
            CameraEventSource::Alarm => DomainSource::Alarm,
            CameraEventSource::Event => DomainSource::Event,
            CameraEventSource::Snapshot => DomainSource::Snapshot,
            CameraEventSource::Metadata => DomainSource::Metadata,
        }
    }
}

/// An event an IPC camera reported.
#[derive(SimpleObject)]
pub struct CameraEvent {
    /// Also its cursor position.
    pub id: ID,
    pub device_id: ID,
    pub site_id: ID,
    pub source: CameraEventSource,
    /// The alarm or event type (`ebike_detection`), `snapshot`, or the TLV
    /// target (`face`, `ocr`, ...).
    pub kind: String,
    pub name: Option<String>,
    /// `start`, `stop` or `pulse`.
    pub status: Option<String>,
    pub channel: Option<i32>,
    /// When it happened: the camera's local time read in the site's zone.
    pub at: DateTime<Utc>,
    /// The camera's local time as sent.
    pub local_time: Option<String>,
    pub received_at: Option<DateTime<Utc>>,
    /// Everything else the camera said (decoded `extends`, face attributes, ...).
    pub attributes: Option<Json<serde_json::Value>>,
    /// `GET` it with the same bearer token; null without an image.
    pub image_url: Option<String>,
}

impl From<&StoredCameraEvent> for CameraEvent {
    fn from(e: &StoredCameraEvent) -> Self {
        CameraEvent {
            id: ID(e.id.to_string()),
            device_id: ID(e.device.to_string()),
            site_id: ID(e.site.to_string()),
            source: e.source.into(),
            kind: e.kind.clone(),
            name: e.name.clone(),
            status: e.status.clone(),
            channel: e.channel,
            at: DateTime::from_timestamp_millis(e.at_ms).unwrap_or_default(),
            local_time: e.local_time.clone(),
            received_at: DateTime::from_timestamp(e.received_at, 0),
            attributes: e.attributes.clone().map(Json),
            image_url: e
                .image_key
                .as_ref()
                .map(|_| format!("/api/v1/camera-events/{}/image", e.id)),
        }
    }
}

#[derive(SimpleObject)]
pub struct CameraEventConnection {
    pub nodes: Vec<CameraEvent>,
    pub page_info: PageInfo,
}

fn page_info<T>(page: &Page<T>) -> PageInfo {
    PageInfo {
        has_next_page: page.next_cursor.is_some(),
        end_cursor: page.next_cursor.clone(),
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SensorKind {
    /// A thermal region's temperature, °C.
    Temperature,
    /// A modbus register's value.
    Modbus,
    /// A lane's traffic parameter from an analysis server (`{lane}/{name}`).
    Traffic,
}

impl From<DomainKind> for SensorKind {
    fn from(k: DomainKind) -> Self {
        match k {
            DomainKind::Temperature => SensorKind::Temperature,
            DomainKind::Modbus => SensorKind::Modbus,
            DomainKind::Traffic => SensorKind::Traffic,
        }
    }
}

/// One sensor value an IPC camera reported.
#[derive(SimpleObject)]
pub struct SensorReading {
    pub id: ID,
    pub device_id: ID,
    pub kind: SensorKind,
    /// The thermal region id or modbus register (`@3`).
    pub key: String,
    pub name: Option<String>,
    pub channel: Option<i32>,
    pub value: f64,
    pub threshold: Option<f64>,
    /// Temperatures: 1 at or over the threshold. Modbus: the camera's flag.
    pub alarm: Option<i32>,
    pub at: DateTime<Utc>,
}

impl From<&StoredSample> for SensorReading {
    fn from(s: &StoredSample) -> Self {
        SensorReading {
            id: ID(s.id.to_string()),
            device_id: ID(s.device.to_string()),
            kind: s.kind.into(),
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

#[derive(SimpleObject)]
pub struct SensorReadingConnection {
    pub nodes: Vec<SensorReading>,
    pub page_info: PageInfo,
}

/// Alarms of one local day of a site.
#[derive(SimpleObject)]
pub struct AlarmDay {
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub alarms: u64,
}

impl From<&DayCount> for AlarmDay {
    fn from(d: &DayCount) -> Self {
        AlarmDay {
            start: d.start,
            end: d.end,
            alarms: d.alarms,
        }
    }
}

/// Filters of camera-event fields.
#[derive(async_graphql::InputObject, Default)]
pub struct CameraEventFilter {
    pub source: Option<CameraEventSource>,
    pub kind: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

pub(super) async fn events(
    ctx: &Context<'_>,
    scope: EventScope,
    filter: Option<CameraEventFilter>,
    first: i32,
    after: Option<String>,
) -> async_graphql::Result<CameraEventConnection> {
    let filter = filter.unwrap_or_default();
    let source = filter.source.map(|s| DomainSource::from(s).as_str());
    let page = camera::events(
        state(ctx),
        caller(ctx)?,
        scope,
        EventQuery {
            source,
            kind: filter.kind.as_deref(),
            from: filter.from,
            to: filter.to,
            after: after.as_deref(),
            first: Some(i64::from(first)),
        },
    )
    .await
    .gql()?;
    Ok(CameraEventConnection {
        page_info: page_info(&page),
        nodes: page.items.iter().map(CameraEvent::from).collect(),
    })
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn samples(
    ctx: &Context<'_>,
    device: &str,
    kind: Option<SensorKind>,
    key: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    first: i32,
    after: Option<String>,
) -> async_graphql::Result<SensorReadingConnection> {
    let kind = kind.map(|k| match k {
        SensorKind::Temperature => DomainKind::Temperature.as_str(),
        SensorKind::Modbus => DomainKind::Modbus.as_str(),
        SensorKind::Traffic => DomainKind::Traffic.as_str(),
    });
    let page = camera::samples(
        state(ctx),
        caller(ctx)?,
        device,
        SampleQuery {
            kind,
            key: key.as_deref(),
            from,
            to,
            after: after.as_deref(),
            first: Some(i64::from(first)),
        },
    )
    .await
    .gql()?;
    Ok(SensorReadingConnection {
        page_info: page_info(&page),
        nodes: page.items.iter().map(SensorReading::from).collect(),
    })
}

pub(super) async fn latest_temperatures(ctx: &Context<'_>, device: &str) -> async_graphql::Result<Vec<SensorReading>> {
    let latest = camera::latest_temperatures(state(ctx), caller(ctx)?, device)
        .await
        .gql()?;
    Ok(latest.iter().map(SensorReading::from).collect())
}

pub(super) async fn alarm_counts(
    ctx: &Context<'_>,
    site: &str,
    device: Option<&str>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> async_graphql::Result<Vec<AlarmDay>> {
    let days = camera::alarm_counts(state(ctx), caller(ctx)?, site, device, from, to)
        .await
        .gql()?;
    Ok(days.iter().map(AlarmDay::from).collect())
}

/// Vehicles counted in one bucket of a site's timezone.
#[derive(SimpleObject)]
pub struct VehicleBucket {
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    /// Vehicles that entered.
    pub r#in: u64,
    /// Vehicles that left (edge box "vehicle leave").
    pub out: u64,
    /// Vehicles that passed a lane (analysis servers' vehicle flow).
    pub pass: u64,
}

pub(super) async fn vehicle_counts(
    ctx: &Context<'_>,
    site: &str,
    device: Option<&str>,
    granularity: footfall_domain::buckets::Granularity,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> async_graphql::Result<Vec<VehicleBucket>> {
    let buckets = camera::vehicle_counts(state(ctx), caller(ctx)?, site, device, granularity, from, to)
        .await
        .gql()?;
    Ok(buckets
        .iter()
        .map(|b| VehicleBucket {
            start: b.start,
            end: b.end,
            r#in: b.r#in,
            out: b.out,
            pass: b.pass,
        })
        .collect())
}

pub(super) async fn event(ctx: &Context<'_>, id: &str) -> async_graphql::Result<Option<CameraEvent>> {
    let event = super::error::optional(camera::event(state(ctx), caller(ctx)?, id).await)?;
    Ok(event.as_ref().map(CameraEvent::from))
}
