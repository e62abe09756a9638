//! What IPC cameras reported, read back for their tenant: events (newest
//! first, with cursors and filters), sensor readings, alarm counts.

use footfall_domain::camera::{EventSource, SensorKind, VehicleDirection};
use footfall_domain::{DeviceId, Entity, Error, Result, SiteId, TenantId};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, QueryResult};
use uuid::Uuid;

use crate::db::{Db, corrupt, from_db};
use crate::events::EventScope;

/// A stored camera event.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCameraEvent {
    /// Position for cursors: events are listed by descending id.
    pub id: i64,
    pub device: DeviceId,
    pub site: SiteId,
    pub source: EventSource,
    pub kind: String,
    pub name: Option<String>,
    pub status: Option<String>,
    pub channel: Option<i32>,
    pub at_ms: i64,
    pub local_time: Option<String>,
    /// Server receive time, Unix seconds.
    pub received_at: i64,
    pub attributes: Option<serde_json::Value>,
    pub image_key: Option<String>,
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub source: Option<EventSource>,
    pub kind: Option<String>,
    /// Unix milliseconds, inclusive.
    pub from_ms: Option<i64>,
    /// Unix milliseconds, exclusive.
    pub to_ms: Option<i64>,
}

/// A stored sensor value.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSample {
    pub id: i64,
    pub device: DeviceId,
    pub kind: SensorKind,
    pub key: String,
    pub name: Option<String>,
    pub channel: Option<i32>,
    pub value: f64,
    pub threshold: Option<f64>,
    pub alarm: Option<i32>,
    pub at_ms: i64,
}

/// Which sensor values to list.
#[derive(Debug, Clone, Default)]
pub struct SampleFilter {
    pub kind: Option<SensorKind>,
    pub key: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

pub struct Camera<'a> {
    db: &'a Db,
}

impl Db {
    pub fn camera(&self) -> Camera<'_> {
        Camera { db: self }
    }
}

const EVENT_COLUMNS: [&str; 13] = [
    "id",
    "device_id",
    "site_id",
    "source",
    "kind",
    "name",
    "status",
    "channel",
    "at_ms",
    "local_time",
    "received_at",
    "attributes",
    "image_key",
];

const SAMPLE_COLUMNS: [&str; 10] = [
    "id",
    "device_id",
    "kind",
    "key",
    "name",
    "channel",
    "value",
    "threshold",
    "alarm",
    "at_ms",
];

/// Milliseconds in a 15-minute bucket: every zone offset is a multiple of
/// it, so alarm counts per quarter hour fold exactly into local days.
pub const QUARTER_HOUR_MS: i64 = 900_000;

fn scoped(q: &mut SelectStatement, tenant: TenantId, scope: EventScope) {
    q.and_where(Expr::col("tenant_id").eq(tenant.as_uuid()));
    match scope {
        EventScope::Device(d) => q.and_where(Expr::col("device_id").eq(d.as_uuid())),
        EventScope::Site(s) => q.and_where(Expr::col("site_id").eq(s.as_uuid())),
    };
}

fn within(q: &mut SelectStatement, from_ms: Option<i64>, to_ms: Option<i64>) {
    if let Some(from) = from_ms {
        q.and_where(Expr::col("at_ms").gte(from));
    }
    if let Some(to) = to_ms {
        q.and_where(Expr::col("at_ms").lt(to));
    }
}

impl Camera<'_> {
    /// Up to `limit` events older than the `before` cursor, newest first.
    pub async fn events(
        &self,
        tenant: TenantId,
        scope: EventScope,
        filter: &EventFilter,
        before: Option<i64>,
        limit: u64,
    ) -> Result<Vec<StoredCameraEvent>> {
        let mut q = Query::select();
        q.columns(EVENT_COLUMNS).from("camera_events");
        scoped(&mut q, tenant, scope);
        within(&mut q, filter.from_ms, filter.to_ms);
        if let Some(source) = filter.source {
            q.and_where(Expr::col("source").eq(source.as_str()));
        }
        if let Some(kind) = &filter.kind {
            q.and_where(Expr::col("kind").eq(kind.as_str()));
        }
        if let Some(before) = before {
            q.and_where(Expr::col("id").lt(before));
        }
        q.order_by("id", Order::Desc).limit(limit);
        let rows = self.db.conn().query_all(&q).await.map_err(from_db)?;
        rows.iter().map(to_event).collect()
    }

    /// One of the tenant's events.
    pub async fn event(&self, tenant: TenantId, id: i64) -> Result<StoredCameraEvent> {
        let q = Query::select()
            .columns(EVENT_COLUMNS)
            .from("camera_events")
            .and_where(Expr::col("tenant_id").eq(tenant.as_uuid()))
            .and_where(Expr::col("id").eq(id))
            .to_owned();
        match self.db.conn().query_one(&q).await.map_err(from_db)? {
            Some(row) => to_event(&row),
            None => Err(Error::NotFound(Entity::Event)),
        }
    }

    /// Alarm and analytics events per 15-minute UTC bucket (its start, Unix
    /// seconds), oldest first.
    pub async fn alarms_per_quarter_hour(
        &self,
        tenant: TenantId,
        scope: EventScope,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(i64, u64)>> {
        let bucket = Expr::col("at_ms").div(QUARTER_HOUR_MS);
        let mut q = Query::select();
        q.expr_as(bucket.clone(), Alias::new("bucket"))
            .expr_as(Func::count(Expr::col("id")), Alias::new("n"))
            .from("camera_events");
        scoped(&mut q, tenant, scope);
        within(&mut q, Some(from_ms), Some(to_ms));
        q.and_where(
            Expr::col("source").is_in(
                EventSource::ALL
                    .into_iter()
                    .filter(|s| s.is_alarm())
                    .map(EventSource::as_str),
            ),
        )
        .group_by_col(Alias::new("bucket"))
        .order_by(Alias::new("bucket"), Order::Asc);
        let rows = self.db.conn().query_all(&q).await.map_err(from_db)?;
        rows.iter()
            .map(|r| {
                let bucket: i64 = r.try_get("", "bucket").map_err(from_db)?;
                let n: i64 = r.try_get("", "n").map_err(from_db)?;
                Ok((bucket * (QUARTER_HOUR_MS / 1000), u64::try_from(n).unwrap_or_default()))
            })
            .collect()
    }

    /// Vehicles counted per 15-minute UTC bucket (its start, Unix seconds)
    /// and direction, oldest first.
    pub async fn vehicles_per_quarter_hour(
        &self,
        tenant: TenantId,
        scope: EventScope,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(i64, VehicleDirection, u64)>> {
        let bucket = Expr::col("at_ms").div(QUARTER_HOUR_MS);
        let mut q = Query::select();
        q.expr_as(bucket, Alias::new("bucket"))
            .column("direction")
            // SUM of BIGINT is NUMERIC on Postgres; cast back for both engines.
            .expr_as(Expr::cust("CAST(SUM(\"count\") AS BIGINT)"), Alias::new("n"))
            .from("vehicle_counts");
        scoped(&mut q, tenant, scope);
        within(&mut q, Some(from_ms), Some(to_ms));
        q.group_by_col(Alias::new("bucket"))
            .group_by_col("direction")
            .order_by(Alias::new("bucket"), Order::Asc);
        let rows = self.db.conn().query_all(&q).await.map_err(from_db)?;
        rows.iter()
            .map(|r| {
                let bucket: i64 = r.try_get("", "bucket").map_err(from_db)?;
                let direction: String = r.try_get("", "direction").map_err(from_db)?;
                let direction =
                    VehicleDirection::parse(&direction).ok_or_else(|| corrupt("vehicle direction", direction))?;
                let n: i64 = r.try_get("", "n").map_err(from_db)?;
                Ok((
                    bucket * (QUARTER_HOUR_MS / 1000),
                    direction,
                    u64::try_from(n).unwrap_or_default(),
                ))
            })
            .collect()
    }

    /// Up to `limit` sensor values of a device older than the `before`
    /// cursor, newest first.
    pub async fn samples(
        &self,
        tenant: TenantId,
        device: DeviceId,
        filter: &SampleFilter,
        before: Option<i64>,
        limit: u64,
    ) -> Result<Vec<StoredSample>> {
        let mut q = Query::select();
        q.columns(SAMPLE_COLUMNS).from("sensor_readings");
        scoped(&mut q, tenant, EventScope::Device(device));
        within(&mut q, filter.from_ms, filter.to_ms);
        if let Some(kind) = filter.kind {
            q.and_where(Expr::col("kind").eq(kind.as_str()));
        }
        if let Some(key) = &filter.key {
            q.and_where(Expr::col("key").eq(key.as_str()));
        }
        if let Some(before) = before {
            q.and_where(Expr::col("id").lt(before));
        }
        q.order_by("id", Order::Desc).limit(limit);
        let rows = self.db.conn().query_all(&q).await.map_err(from_db)?;
        rows.iter().map(to_sample).collect()
    }

    /// The latest value of each key of one kind, by key.
    pub async fn latest(&self, tenant: TenantId, device: DeviceId, kind: SensorKind) -> Result<Vec<StoredSample>> {
        let newest = Query::select()
            .expr(Func::max(Expr::col("id")))
            .from("sensor_readings")
            .and_where(Expr::col("tenant_id").eq(tenant.as_uuid()))
            .and_where(Expr::col("device_id").eq(device.as_uuid()))
            .and_where(Expr::col("kind").eq(kind.as_str()))
            .group_by_col("key")
            .to_owned();
        let q = Query::select()
            .columns(SAMPLE_COLUMNS)
            .from("sensor_readings")
            .and_where(Expr::col("id").in_subquery(newest))
            .and_where(Expr::col("tenant_id").eq(tenant.as_uuid()))
            .order_by("key", Order::Asc)
            .to_owned();
        let rows = self.db.conn().query_all(&q).await.map_err(from_db)?;
        rows.iter().map(to_sample).collect()
    }
}

fn to_event(r: &QueryResult) -> Result<StoredCameraEvent> {
    let source: String = r.try_get("", "source").map_err(from_db)?;
    Ok(StoredCameraEvent {
        id: r.try_get("", "id").map_err(from_db)?,
        device: DeviceId::from_uuid(r.try_get::<Uuid>("", "device_id").map_err(from_db)?),
        site: SiteId::from_uuid(r.try_get::<Uuid>("", "site_id").map_err(from_db)?),
        source: EventSource::parse(&source).ok_or_else(|| corrupt("event source", &source))?,
        kind: r.try_get("", "kind").map_err(from_db)?,
        name: r.try_get("", "name").map_err(from_db)?,
        status: r.try_get("", "status").map_err(from_db)?,
        channel: r.try_get("", "channel").map_err(from_db)?,
        at_ms: r.try_get("", "at_ms").map_err(from_db)?,
        local_time: r.try_get("", "local_time").map_err(from_db)?,
        received_at: r.try_get("", "received_at").map_err(from_db)?,
        attributes: r.try_get("", "attributes").map_err(from_db)?,
        image_key: r.try_get("", "image_key").map_err(from_db)?,
    })
}

fn to_sample(r: &QueryResult) -> Result<StoredSample> {
    let kind: String = r.try_get("", "kind").map_err(from_db)?;
    Ok(StoredSample {
        id: r.try_get("", "id").map_err(from_db)?,
        device: DeviceId::from_uuid(r.try_get::<Uuid>("", "device_id").map_err(from_db)?),
        kind: SensorKind::parse(&kind).ok_or_else(|| corrupt("sensor kind", &kind))?,
        key: r.try_get("", "key").map_err(from_db)?,
        name: r.try_get("", "name").map_err(from_db)?,
        channel: r.try_get("", "channel").map_err(from_db)?,
        value: r.try_get("", "value").map_err(from_db)?,
        threshold: r.try_get("", "threshold").map_err(from_db)?,
        alarm: r.try_get("", "alarm").map_err(from_db)?,
        at_ms: r.try_get("", "at_ms").map_err(from_db)?,
    })
}
