//! Reading footfall back from the rollups, scoped by tenant. Quarter hours
//! and hours read the 15-minute rows; days, weeks and months the daily rows,
//! so a year of a tenant's daily footfall reads 365 rows per device, never
//! the readings.

use footfall_domain::counting::Tally;
use footfall_domain::{DeviceId, Result, SiteId, TenantId};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query};
use uuid::Uuid;

use crate::db::{Db, corrupt, from_db};
use crate::readings::{COUNTERS, ROLLUP, ROLLUP_DAY, ROLLUP_SITE_DAY, tally_from_row};

/// Which stored rollup to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    /// 15-minute UTC buckets.
    Quarter,
    /// Local days of each site's timezone.
    Day,
}

/// One stored bucket, summed over a site's devices (or one device's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub site: SiteId,
    /// Set when rows are broken down by device.
    pub device: Option<DeviceId>,
    /// Unix seconds of the bucket's start (for days: the local midnight).
    pub at: i64,
    pub tally: Tally,
    /// Sum of stay times (ms) of the people in `stay_people`.
    pub stay_ms_sum: u64,
    pub stay_people: u64,
}

pub struct Footfall<'a> {
    db: &'a Db,
}

impl Db {
    pub fn footfall(&self) -> Footfall<'_> {
        Footfall { db: self }
    }
}

impl Footfall<'_> {
    /// Non-empty buckets of `sites` in `[from, to)` (Unix seconds), summed per
    /// site, or per device of each site with `by_device`.
    pub async fn rows(
        &self,
        tenant: TenantId,
        sites: &[SiteId],
        grain: Grain,
        from: i64,
        to: i64,
        by_device: bool,
    ) -> Result<Vec<Row>> {
        if sites.is_empty() {
            return Ok(Vec::new());
        }
        let (table, key) = match (grain, by_device) {
            (Grain::Quarter, _) => (ROLLUP, "bucket"),
            (Grain::Day, true) => (ROLLUP_DAY, "day"),
            // Already summed over the site's devices.
            (Grain::Day, false) => (ROLLUP_SITE_DAY, "day"),
        };
        let mut q = Query::select();
        q.column("site_id").expr_as(Expr::col(key), "at").from(table);
        if by_device {
            q.column("device_id");
        }
        for col in COUNTERS.iter().copied().chain(["stay_ms_sum", "stay_people"]) {
            // SUM of BIGINT is NUMERIC on Postgres; cast back for both engines.
            q.expr_as(Expr::cust(format!("CAST(SUM(\"{col}\") AS BIGINT)")), col);
        }
        q.and_where(Expr::col("tenant_id").eq(tenant.as_uuid()))
            .and_where(Expr::col("site_id").is_in(sites.iter().map(|s| s.as_uuid())))
            .and_where(Expr::col(key).gte(from))
            .and_where(Expr::col(key).lt(to))
            .group_by_col("site_id")
            .group_by_col(key)
            .order_by(key, Order::Asc);
        if by_device {
            q.group_by_col("device_id");
        }
        let rows = self.db.conn().query_all(&q).await.map_err(from_db)?;
        rows.iter()
            .map(|row| {
                let get = |col: &str| -> Result<u64> {
                    let v: i64 = row.try_get("", col).map_err(from_db)?;
                    u64::try_from(v).map_err(|_| corrupt(col, v))
                };
                let device = if by_device {
                    Some(DeviceId::from_uuid(
                        row.try_get::<Uuid>("", "device_id").map_err(from_db)?,
                    ))
                } else {
                    None
                };
                Ok(Row {
                    site: SiteId::from_uuid(row.try_get::<Uuid>("", "site_id").map_err(from_db)?),
                    device,
                    at: row.try_get("", "at").map_err(from_db)?,
                    tally: tally_from_row(row, "")?,
                    stay_ms_sum: get("stay_ms_sum")?,
                    stay_people: get("stay_people")?,
                })
            })
            .collect()
    }
}
