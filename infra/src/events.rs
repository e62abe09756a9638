//! Per-person events (from real-time uploads' `eventList`), read back newest
//! first with a cursor.

use footfall_domain::counting::Direction;
use footfall_domain::{DeviceId, Result, SiteId, TenantId};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query};
use uuid::Uuid;

use crate::db::{Db, from_db};

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Position for cursors: events are listed by descending id.
    pub id: i64,
    pub device: DeviceId,
    pub site: SiteId,
    pub event_id: i64,
    pub at_us: i64,
    pub raw_type: i64,
    pub direction: Option<Direction>,
    pub child: bool,
    pub height_cm: Option<i32>,
    pub stay_ms: Option<i64>,
}

/// Which events to list.
#[derive(Debug, Clone, Copy)]
pub enum EventScope {
    Device(DeviceId),
    Site(SiteId),
}

pub struct Events<'a> {
    db: &'a Db,
}

impl Db {
    pub fn events(&self) -> Events<'_> {
        Events { db: self }
    }
}

impl Events<'_> {
    /// Up to `limit` events older than the `before` cursor, newest first.
    pub async fn list(
        &self,
        tenant: TenantId,
        scope: EventScope,
        before: Option<i64>,
        limit: u64,
    ) -> Result<Vec<StoredEvent>> {
        let mut q = Query::select();
        q.columns([
            "id",
            "device_id",
            "site_id",
            "event_id",
            "at_us",
            "event_type",
            "direction",
            "child",
            "height_cm",
            "stay_ms",
        ])
        .from("count_events")
        .and_where(Expr::col("tenant_id").eq(tenant.as_uuid()));
        match scope {
            EventScope::Device(d) => q.and_where(Expr::col("device_id").eq(d.as_uuid())),
            EventScope::Site(s) => q.and_where(Expr::col("site_id").eq(s.as_uuid())),
        };
        if let Some(before) = before {
            q.and_where(Expr::col("id").lt(before));
        }
        q.order_by("id", Order::Desc).limit(limit);
        let rows = self.db.conn().query_all(&q).await.map_err(from_db)?;
        rows.iter()
            .map(|r| {
                let direction: Option<i16> = r.try_get("", "direction").map_err(from_db)?;
                Ok(StoredEvent {
                    id: r.try_get("", "id").map_err(from_db)?,
                    device: DeviceId::from_uuid(r.try_get::<Uuid>("", "device_id").map_err(from_db)?),
                    site: SiteId::from_uuid(r.try_get::<Uuid>("", "site_id").map_err(from_db)?),
                    event_id: r.try_get("", "event_id").map_err(from_db)?,
                    at_us: r.try_get("", "at_us").map_err(from_db)?,
                    raw_type: r.try_get("", "event_type").map_err(from_db)?,
                    direction: direction.and_then(Direction::from_code),
                    child: r.try_get("", "child").map_err(from_db)?,
                    height_cm: r.try_get("", "height_cm").map_err(from_db)?,
                    stay_ms: r.try_get("", "stay_ms").map_err(from_db)?,
                })
            })
            .collect()
    }
}
