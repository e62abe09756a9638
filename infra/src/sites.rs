//! Sites. Every method takes the caller's tenant; a site of another tenant is
//! reported exactly as an absent one.

use footfall_domain::{
    ConfigChange, ConfigDefaults, DataMode, Entity, Error, Name, Result, Site, SiteId, TenantId, Timezone,
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::db::entities::{device, site};
use crate::db::{Db, corrupt, from_db, is_foreign_key_violation, now};

pub struct Sites<'a> {
    db: &'a Db,
}

impl Db {
    pub fn sites(&self) -> Sites<'_> {
        Sites { db: self }
    }
}

/// Fields to change; `None` keeps the current value.
#[derive(Debug, Default, Clone)]
pub struct SiteChanges {
    pub name: Option<Name>,
    pub timezone: Option<Timezone>,
}

impl Sites<'_> {
    pub async fn create(&self, tenant: TenantId, name: Name, timezone: Timezone) -> Result<Site> {
        let _writing = self.db.write_guard().await;
        let now = now();
        let model = site::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.as_uuid()),
            name: Set(name.into_string()),
            timezone: Set(timezone.name().to_string()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(self.db.conn())
        .await
        .map_err(from_db)?;
        to_site(model)
    }

    pub async fn list(&self, tenant: TenantId) -> Result<Vec<Site>> {
        site::Entity::find()
            .filter(site::Column::TenantId.eq(tenant.as_uuid()))
            .order_by_asc(site::Column::Name)
            .order_by_asc(site::Column::Id)
            .all(self.db.conn())
            .await
            .map_err(from_db)?
            .into_iter()
            .map(to_site)
            .collect()
    }

    /// The tenant's sites among `ids`, in one query (for batch loaders); ids
    /// of other tenants' sites are simply absent.
    pub async fn get_many(&self, tenant: TenantId, ids: &[SiteId]) -> Result<Vec<Site>> {
        site::Entity::find()
            .filter(site::Column::TenantId.eq(tenant.as_uuid()))
            .filter(site::Column::Id.is_in(ids.iter().map(|s| s.as_uuid())))
            .all(self.db.conn())
            .await
            .map_err(from_db)?
            .into_iter()
            .map(to_site)
            .collect()
    }

    pub async fn get(&self, tenant: TenantId, id: SiteId) -> Result<Site> {
        self.find(tenant, id).await.and_then(to_site)
    }

    async fn find(&self, tenant: TenantId, id: SiteId) -> Result<site::Model> {
        site::Entity::find_by_id(id.as_uuid())
            .filter(site::Column::TenantId.eq(tenant.as_uuid()))
            .one(self.db.conn())
            .await
            .map_err(from_db)?
            .ok_or(Error::NotFound(Entity::Site))
    }

    /// Renames a site or changes its timezone. A new timezone regroups the
    /// site's daily rollups into its new local days in the same transaction,
    /// with the site's devices held so no upload lands in between.
    pub async fn update(&self, tenant: TenantId, id: SiteId, changes: SiteChanges) -> Result<Site> {
        let (_writing, txn) = self.db.begin_write().await?;
        let current = site::Entity::find_by_id(id.as_uuid())
            .filter(site::Column::TenantId.eq(tenant.as_uuid()))
            .one(&txn)
            .await
            .map_err(from_db)?
            .ok_or(Error::NotFound(Entity::Site))?;
        let moves_zone = changes.timezone.is_some_and(|tz| tz.name() != current.timezone);
        let mut model = current.into_active_model();
        if let Some(name) = changes.name {
            model.name = Set(name.into_string());
        }
        if let Some(timezone) = changes.timezone {
            model.timezone = Set(timezone.name().to_string());
        }
        model.updated_at = Set(now());
        let site = model.update(&txn).await.map_err(from_db)?;
        if moves_zone {
            crate::readings::regroup_days(&txn, tenant, id).await?;
        }
        txn.commit().await.map_err(from_db)?;
        to_site(site)
    }

    /// Sets the configuration new devices of the site start with.
    pub async fn set_defaults(&self, tenant: TenantId, id: SiteId, defaults: ConfigDefaults) -> Result<Site> {
        let _writing = self.db.write_guard().await;
        let mut model = self.find(tenant, id).await?.into_active_model();
        model.default_upload_interval = Set(defaults.upload_interval_minutes.map(i32::from));
        model.default_data_mode = Set(defaults.data_mode.map(|m| m.as_str().to_string()));
        model.default_keep_interval = Set(defaults.keep_interval_seconds.map(i32::from));
        model.updated_at = Set(now());
        to_site(model.update(self.db.conn()).await.map_err(from_db)?)
    }

    /// Deletes a site that has no devices left.
    pub async fn delete(&self, tenant: TenantId, id: SiteId) -> Result<()> {
        let has_devices = || Error::Conflict("the site still has devices; unbind or move them first".into());
        let (_writing, txn) = self.db.begin_write().await?;
        let bound = device::Entity::find()
            .filter(device::Column::TenantId.eq(tenant.as_uuid()))
            .filter(device::Column::SiteId.eq(id.as_uuid()))
            .one(&txn)
            .await
            .map_err(from_db)?;
        if bound.is_some() {
            return Err(has_devices());
        }
        let result = site::Entity::delete_many()
            .filter(site::Column::Id.eq(id.as_uuid()))
            .filter(site::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await
            // A device bound since the check above still holds the site.
            .map_err(|e| {
                if is_foreign_key_violation(&e) {
                    has_devices()
                } else {
                    from_db(e)
                }
            })?;
        if result.rows_affected == 0 {
            return Err(Error::NotFound(Entity::Site));
        }
        txn.commit().await.map_err(from_db)?;
        Ok(())
    }
}

pub(crate) fn to_site(m: site::Model) -> Result<Site> {
    let defaults = ConfigDefaults::default()
        .with_changes(ConfigChange {
            upload_interval_minutes: m.default_upload_interval.map(i64::from),
            data_mode: m
                .default_data_mode
                .as_deref()
                .map(DataMode::parse)
                .transpose()
                .map_err(|e| corrupt("default data mode", e))?,
            keep_interval_seconds: m.default_keep_interval.map(i64::from),
        })
        .map_err(|e| corrupt("site defaults", e))?;
    Ok(Site {
        id: SiteId::from_uuid(m.id),
        tenant: TenantId::from_uuid(m.tenant_id),
        name: Name::parse("name", &m.name).map_err(|e| corrupt("site name", e))?,
        timezone: Timezone::parse(&m.timezone).map_err(|e| corrupt("timezone", e))?,
        defaults,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}
