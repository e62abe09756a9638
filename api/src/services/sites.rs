//! Sites of the caller's tenant.

use footfall_domain::{ConfigChange, DataMode, Name, Principal, Result, Site, SiteId, Timezone};
use footfall_infra::sites::SiteChanges;

use crate::state::AppState;

pub async fn create(state: &AppState, who: &Principal, name: &str, timezone: &str) -> Result<Site> {
    who.require_write()?;
    let name = Name::parse("name", name)?;
    let timezone = Timezone::parse(timezone)?;
    state.db.sites().create(who.tenant, name, timezone).await
}

pub async fn list(state: &AppState, who: &Principal) -> Result<Vec<Site>> {
    state.db.sites().list(who.tenant).await
}

pub async fn get(state: &AppState, who: &Principal, id: &str) -> Result<Site> {
    state.db.sites().get(who.tenant, SiteId::parse(id)?).await
}

pub async fn update(
    state: &AppState,
    who: &Principal,
    id: &str,
    name: Option<&str>,
    timezone: Option<&str>,
) -> Result<Site> {
    who.require_write()?;
    let id = SiteId::parse(id)?;
    let changes = SiteChanges {
        name: name.map(|n| Name::parse("name", n)).transpose()?,
        timezone: timezone.map(Timezone::parse).transpose()?,
    };
    let timezone_changes = changes.timezone.is_some();
    let site = state.db.sites().update(who.tenant, id, changes).await?;
    if timezone_changes {
        // Heartbeat answers carry the site's offset.
        for device in state.db.devices().list(who.tenant, Some(site.id)).await? {
            state.directory.invalidate(&device.sn).await;
        }
    }
    Ok(site)
}

/// Sets the configuration devices bound to the site from now on start with.
pub async fn set_defaults(
    state: &AppState,
    who: &Principal,
    id: &str,
    upload_interval: Option<i64>,
    data_mode: Option<&str>,
    keep_interval: Option<i64>,
) -> Result<Site> {
    who.require_write()?;
    let site = state.db.sites().get(who.tenant, SiteId::parse(id)?).await?;
    let defaults = site.defaults.with_changes(ConfigChange {
        upload_interval_minutes: upload_interval,
        data_mode: data_mode.map(DataMode::parse).transpose()?,
        keep_interval_seconds: keep_interval,
    })?;
    state.db.sites().set_defaults(who.tenant, site.id, defaults).await
}

pub async fn delete(state: &AppState, who: &Principal, id: &str) -> Result<()> {
    who.require_write()?;
    state.db.sites().delete(who.tenant, SiteId::parse(id)?).await
}
