//! Digest credentials of IPC cameras: the username and HA1 hashes a tenant's
//! password yields (decision 011). Setting them is tenant-scoped; reading
//! them is for device authentication only.

use std::collections::HashMap;

use footfall_domain::digest::Credentials;
use footfall_domain::{DeviceId, Entity, Error, Result, TenantId};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};

use uuid::Uuid;

use crate::db::{Db, corrupt, from_db, now};

pub struct DeviceCredentials<'a> {
    db: &'a Db,
}

impl Db {
    pub fn credentials(&self) -> DeviceCredentials<'_> {
        DeviceCredentials { db: self }
    }
}

const COLUMNS: [&str; 7] = [
    "device_id",
    "tenant_id",
    "username",
    "realm",
    "ha1_md5",
    "ha1_sha256",
    "updated_at",
];

impl DeviceCredentials<'_> {
    /// Sets (or replaces) the credentials of one of the tenant's devices.
    pub async fn set(&self, tenant: TenantId, device: DeviceId, credentials: &Credentials) -> Result<()> {
        let (_writing, txn) = self.db.begin_write().await?;
        let owned = Query::select()
            .column("id")
            .from("devices")
            .and_where(Expr::col("id").eq(device.as_uuid()))
            .and_where(Expr::col("tenant_id").eq(tenant.as_uuid()))
            .to_owned();
        if txn.query_one(&owned).await.map_err(from_db)?.is_none() {
            return Err(Error::NotFound(Entity::Device));
        }
        upsert(&txn, tenant, device, credentials).await?;
        txn.commit().await.map_err(from_db)
    }

    /// The credentials a device authenticates with. Ingest only.
    pub async fn for_device(&self, device: DeviceId) -> Result<Option<Credentials>> {
        let q = Query::select()
            .columns(["username", "realm", "ha1_md5", "ha1_sha256"])
            .from("device_credentials")
            .and_where(Expr::col("device_id").eq(device.as_uuid()))
            .to_owned();
        let Some(row) = self.db.conn().query_one(&q).await.map_err(from_db)? else {
            return Ok(None);
        };
        Ok(Some(Credentials {
            username: row.try_get("", "username").map_err(from_db)?,
            realm: row.try_get("", "realm").map_err(from_db)?,
            ha1_md5: row.try_get("", "ha1_md5").map_err(from_db)?,
            ha1_sha256: row.try_get("", "ha1_sha256").map_err(from_db)?,
        }))
    }

    /// The usernames set for some of the tenant's devices.
    pub async fn usernames(&self, tenant: TenantId, devices: &[DeviceId]) -> Result<HashMap<DeviceId, String>> {
        if devices.is_empty() {
            return Ok(HashMap::new());
        }
        let q = Query::select()
            .columns(["device_id", "username"])
            .from("device_credentials")
            .and_where(Expr::col("tenant_id").eq(tenant.as_uuid()))
            .and_where(Expr::col("device_id").is_in(devices.iter().map(|d| d.as_uuid())))
            .to_owned();
        let rows = self.db.conn().query_all(&q).await.map_err(from_db)?;
        rows.iter()
            .map(|r| {
                Ok((
                    DeviceId::from_uuid(r.try_get::<Uuid>("", "device_id").map_err(from_db)?),
                    r.try_get("", "username").map_err(from_db)?,
                ))
            })
            .collect()
    }
}

/// Writes a device's credentials; the caller has checked the device is the
/// tenant's.
pub(crate) async fn upsert(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    device: DeviceId,
    credentials: &Credentials,
) -> Result<()> {
    let stmt = Query::insert()
        .into_table("device_credentials")
        .columns(COLUMNS)
        .values([
            device.as_uuid().into(),
            tenant.as_uuid().into(),
            credentials.username.clone().into(),
            credentials.realm.clone().into(),
            credentials.ha1_md5.clone().into(),
            credentials.ha1_sha256.clone().into(),
            now().into(),
        ])
        .map_err(|e| corrupt("credentials statement", e))?
        .on_conflict(
            OnConflict::column("device_id")
                .update_columns(["username", "realm", "ha1_md5", "ha1_sha256", "updated_at"])
                .to_owned(),
        )
        .to_owned();
    conn.execute(&stmt).await.map_err(from_db)?;
    Ok(())
}
