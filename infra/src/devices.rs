//! Device bindings. Tenant-facing methods take the caller's tenant; the one
//! unscoped lookup, by serial number, exists for device ingest, where the
//! device itself is the only credential and the tenant follows from it.

use chrono::{DateTime, SubsecRound, Utc};
use footfall_domain::device::{Delivery, OccupancyReading, Reported};
use footfall_domain::digest::Credentials;
use footfall_domain::{
    DataMode, Device, DeviceConfig, DeviceId, DeviceState, Entity, Error, Name, Protocol, Result, SiteId, Sn, TenantId,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

use crate::db::entities::{device, site};
use crate::db::{Db, corrupt, from_db, is_foreign_key_violation, is_unique_violation, now};
use crate::sites::to_site;

pub struct Devices<'a> {
    db: &'a Db,
}

impl Db {
    pub fn devices(&self) -> Devices<'_> {
        Devices { db: self }
    }
}

/// What binding a device needs.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub site: SiteId,
    pub sn: Sn,
    pub protocol: Protocol,
    pub name: Option<Name>,
    /// `None`: start with the site's defaults.
    pub config: Option<DeviceConfig>,
    /// Digest credentials (IPC cameras), stored with the binding.
    pub credentials: Option<Credentials>,
}

/// Fields to change; `None` keeps the current value. `name: Some(None)` clears it.
#[derive(Debug, Default, Clone)]
pub struct DeviceChanges {
    pub name: Option<Option<Name>>,
    pub site: Option<SiteId>,
}

fn sn_taken(sn: &Sn) -> Error {
    Error::AlreadyExists {
        entity: Entity::Device,
        message: format!("serial number {sn} is already bound"),
    }
}

impl Devices<'_> {
    /// Binds a serial number to one of the tenant's sites. Fails with
    /// `AlreadyExists` when the SN is bound anywhere, to any tenant.
    pub async fn bind(&self, tenant: TenantId, new: NewDevice) -> Result<Device> {
        let (_writing, txn) = self.db.begin_write().await?;
        let site = to_site(require_site(&txn, tenant, new.site).await?)?;
        let config = new.config.unwrap_or_else(|| site.defaults.config_for(new.protocol));
        let now = now();
        let model = device::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.as_uuid()),
            site_id: Set(new.site.as_uuid()),
            sn: Set(new.sn.as_str().to_string()),
            protocol: Set(new.protocol.as_str().to_string()),
            name: Set(new.name.map(Name::into_string)),
            upload_interval: Set(i32::from(config.upload_interval_minutes())),
            data_mode: Set(config.data_mode.as_str().to_string()),
            keep_interval: Set(i32::from(config.keep_interval_seconds())),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                sn_taken(&new.sn)
            } else if is_foreign_key_violation(&e) {
                Error::NotFound(Entity::Site)
            } else {
                from_db(e)
            }
        })?;
        if let Some(credentials) = &new.credentials {
            crate::credentials::upsert(&txn, tenant, DeviceId::from_uuid(model.id), credentials).await?;
        }
        txn.commit().await.map_err(from_db)?;
        to_device(model)
    }

    /// The tenant's devices, optionally only those of one site.
    pub async fn list(&self, tenant: TenantId, site: Option<SiteId>) -> Result<Vec<Device>> {
        let mut query = device::Entity::find().filter(device::Column::TenantId.eq(tenant.as_uuid()));
        if let Some(site) = site {
            query = query.filter(device::Column::SiteId.eq(site.as_uuid()));
        }
        query
            .order_by_asc(device::Column::Sn)
            .all(self.db.conn())
            .await
            .map_err(from_db)?
            .into_iter()
            .map(to_device)
            .collect()
    }

    /// The tenant's devices of any of `sites`, in one query (for batch loaders).
    pub async fn in_sites(&self, tenant: TenantId, sites: &[SiteId]) -> Result<Vec<Device>> {
        device::Entity::find()
            .filter(device::Column::TenantId.eq(tenant.as_uuid()))
            .filter(device::Column::SiteId.is_in(sites.iter().map(|s| s.as_uuid())))
            .order_by_asc(device::Column::Sn)
            .all(self.db.conn())
            .await
            .map_err(from_db)?
            .into_iter()
            .map(to_device)
            .collect()
    }

    pub async fn get(&self, tenant: TenantId, id: DeviceId) -> Result<Device> {
        self.find(tenant, id).await.and_then(to_device)
    }

    async fn find(&self, tenant: TenantId, id: DeviceId) -> Result<device::Model> {
        device::Entity::find_by_id(id.as_uuid())
            .filter(device::Column::TenantId.eq(tenant.as_uuid()))
            .one(self.db.conn())
            .await
            .map_err(from_db)?
            .ok_or(Error::NotFound(Entity::Device))
    }

    /// Renames a device or moves it to another of the tenant's sites.
    pub async fn update(&self, tenant: TenantId, id: DeviceId, changes: DeviceChanges) -> Result<Device> {
        let (_writing, txn) = self.db.begin_write().await?;
        if let Some(site) = changes.site {
            require_site(&txn, tenant, site).await?;
        }
        let current = device::Entity::find_by_id(id.as_uuid())
            .filter(device::Column::TenantId.eq(tenant.as_uuid()))
            .one(&txn)
            .await
            .map_err(from_db)?
            .ok_or(Error::NotFound(Entity::Device))?;
        let mut model = current.into_active_model();
        if let Some(name) = changes.name {
            model.name = Set(name.map(Name::into_string));
        }
        if let Some(site) = changes.site {
            model.site_id = Set(site.as_uuid());
        }
        model.updated_at = Set(now());
        let updated = model.update(&txn).await.map_err(|e| {
            if is_foreign_key_violation(&e) {
                Error::NotFound(Entity::Site)
            } else {
                from_db(e)
            }
        })?;
        txn.commit().await.map_err(from_db)?;
        to_device(updated)
    }

    /// Stores the configuration the device should run with.
    pub async fn set_config(&self, tenant: TenantId, id: DeviceId, config: DeviceConfig) -> Result<Device> {
        let _writing = self.db.write_guard().await;
        let mut model = self.find(tenant, id).await?.into_active_model();
        model.upload_interval = Set(i32::from(config.upload_interval_minutes()));
        model.data_mode = Set(config.data_mode.as_str().to_string());
        model.keep_interval = Set(i32::from(config.keep_interval_seconds()));
        model.updated_at = Set(now());
        to_device(model.update(self.db.conn()).await.map_err(from_db)?)
    }

    /// Removes the binding and returns what was bound, so caches keyed by the
    /// serial number can be invalidated. The SN is free to bind again.
    pub async fn unbind(&self, tenant: TenantId, id: DeviceId) -> Result<Device> {
        let (_writing, txn) = self.db.begin_write().await?;
        let current = device::Entity::find_by_id(id.as_uuid())
            .filter(device::Column::TenantId.eq(tenant.as_uuid()))
            .one(&txn)
            .await
            .map_err(from_db)?
            .ok_or(Error::NotFound(Entity::Device))?;
        device::Entity::delete_many()
            .filter(device::Column::Id.eq(current.id))
            .filter(device::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await
            .map_err(from_db)?;
        txn.commit().await.map_err(from_db)?;
        to_device(current)
    }

    /// Writes when devices last made contact, for many devices in one
    /// statement per chunk; a time never moves backwards. Ingest only.
    pub async fn record_last_seen(&self, seen: &[(DeviceId, DateTime<Utc>)]) -> Result<()> {
        for chunk in seen.chunks(500) {
            let Some(((first, first_at), rest)) = chunk.split_first() else {
                continue;
            };
            let later = |id: &DeviceId, at: &DateTime<Utc>| {
                sea_orm::sea_query::Condition::all()
                    .add(Expr::col("id").eq(id.as_uuid()))
                    .add(
                        sea_orm::sea_query::Condition::any()
                            .add(Expr::col("last_seen_at").is_null())
                            .add(Expr::col("last_seen_at").lt(at.trunc_subsecs(6))),
                    )
            };
            let mut case =
                sea_orm::sea_query::CaseStatement::new().case(later(first, first_at), first_at.trunc_subsecs(6));
            for (id, at) in rest {
                case = case.case(later(id, at), at.trunc_subsecs(6));
            }
            let stmt = Query::update()
                .table("devices")
                .value("last_seen_at", case.finally(Expr::col("last_seen_at")))
                .and_where(Expr::col("id").is_in(chunk.iter().map(|(id, _)| id.as_uuid())))
                .to_owned();
            let _writing = self.db.write_guard().await;
            self.db.conn().execute(&stmt).await.map_err(from_db)?;
        }
        Ok(())
    }

    /// Records that `config` went out in a heartbeat answer at `at`. Ingest
    /// only, called when it differs from what was delivered before.
    pub async fn record_delivery(&self, id: DeviceId, config: DeviceConfig, at: DateTime<Utc>) -> Result<()> {
        let _writing = self.db.write_guard().await;
        let at = at.trunc_subsecs(6);
        device::Entity::update_many()
            .col_expr(
                device::Column::DeliveredUploadInterval,
                Expr::value(i32::from(config.upload_interval_minutes())),
            )
            .col_expr(
                device::Column::DeliveredDataMode,
                Expr::value(config.data_mode.as_str()),
            )
            .col_expr(
                device::Column::DeliveredKeepInterval,
                Expr::value(i32::from(config.keep_interval_seconds())),
            )
            .col_expr(device::Column::ConfigDeliveredAt, Expr::value(at))
            .filter(device::Column::Id.eq(id.as_uuid()))
            .exec(self.db.conn())
            .await
            .map_err(from_db)?;
        Ok(())
    }

    /// Keeps what the device reports about itself (firmware, addresses, ...).
    /// Ingest only, called when it differs from what was kept before.
    pub async fn record_reported(&self, id: DeviceId, fields: &[(String, String)], at: DateTime<Utc>) -> Result<()> {
        let _writing = self.db.write_guard().await;
        let at = at.trunc_subsecs(6);
        let object: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        device::Entity::update_many()
            .col_expr(device::Column::Reported, Expr::value(serde_json::Value::Object(object)))
            .col_expr(device::Column::ReportedAt, Expr::value(at))
            .filter(device::Column::Id.eq(id.as_uuid()))
            .exec(self.db.conn())
            .await
            .map_err(from_db)?;
        Ok(())
    }

    /// The binding of a serial number, whichever tenant holds it. For device
    /// ingest only: the answer must never be shown to a tenant as such.
    pub async fn find_by_sn(&self, sn: &Sn) -> Result<Option<Device>> {
        device::Entity::find()
            .filter(device::Column::Sn.eq(sn.as_str()))
            .one(self.db.conn())
            .await
            .map_err(from_db)?
            .map(to_device)
            .transpose()
    }
}

async fn require_site(conn: &impl ConnectionTrait, tenant: TenantId, site: SiteId) -> Result<site::Model> {
    site::Entity::find_by_id(site.as_uuid())
        .filter(site::Column::TenantId.eq(tenant.as_uuid()))
        .one(conn)
        .await
        .map_err(from_db)?
        .ok_or(Error::NotFound(Entity::Site))
}

pub(crate) fn to_device(m: device::Model) -> Result<Device> {
    let data_mode = DataMode::parse(&m.data_mode).map_err(|e| corrupt("data mode", e))?;
    Ok(Device {
        id: DeviceId::from_uuid(m.id),
        tenant: TenantId::from_uuid(m.tenant_id),
        site: SiteId::from_uuid(m.site_id),
        sn: Sn::parse(&m.sn).map_err(|e| corrupt("serial number", e))?,
        protocol: Protocol::parse(&m.protocol).map_err(|e| corrupt("protocol", e))?,
        name: m
            .name
            .as_deref()
            .map(|n| Name::parse("name", n))
            .transpose()
            .map_err(|e| corrupt("device name", e))?,
        config: DeviceConfig::new(i64::from(m.upload_interval), data_mode, i64::from(m.keep_interval))
            .map_err(|e| corrupt("config", e))?,
        state: DeviceState {
            delivered: match (
                m.delivered_upload_interval,
                m.delivered_data_mode.as_deref(),
                m.config_delivered_at,
            ) {
                (Some(interval), Some(mode), Some(at)) => Some(Delivery {
                    config: DeviceConfig::new(
                        i64::from(interval),
                        DataMode::parse(mode).map_err(|e| corrupt("delivered data mode", e))?,
                        // Delivered before keepalive periods were tracked: the default.
                        m.delivered_keep_interval
                            .map_or(i64::from(DeviceConfig::default().keep_interval_seconds()), i64::from),
                    )
                    .map_err(|e| corrupt("delivered config", e))?,
                    at,
                }),
                _ => None,
            },
            reported: match (&m.reported, m.reported_at) {
                (Some(serde_json::Value::Object(fields)), Some(at)) => Some(Reported {
                    fields: fields
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                        .collect(),
                    at,
                }),
                _ => None,
            },
            last_upload_at: m.last_upload_at,
            last_seen_at: m.last_seen_at,
            occupancy: match (m.occupancy, m.occupancy_at) {
                (Some(current), Some(at)) => Some(OccupancyReading {
                    current: u32::try_from(current).unwrap_or_default(),
                    at,
                }),
                _ => None,
            },
        },
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}
