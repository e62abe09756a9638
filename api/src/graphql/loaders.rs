//! Batch loaders, one set per request and scoped to the caller's tenant, so a
//! batch never mixes tenants and listing sites → devices → config costs two
//! queries (and one presence read) instead of one per site.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use footfall_domain::{Site, SiteId, TenantId};

use crate::services::devices::{DeviceStatus, with_status};
use crate::state::AppState;

/// Errors are shared between the fields waiting on one batch.
pub type LoadError = Arc<footfall_domain::Error>;

/// The devices of each site, with presence.
pub struct SiteDevices {
    pub state: AppState,
    pub tenant: TenantId,
}

impl Loader<SiteId> for SiteDevices {
    type Value = Vec<DeviceStatus>;
    type Error = LoadError;

    async fn load(&self, keys: &[SiteId]) -> Result<HashMap<SiteId, Self::Value>, Self::Error> {
        let devices = self
            .state
            .db
            .devices()
            .in_sites(self.tenant, keys)
            .await
            .map_err(Arc::new)?;
        let mut by_site: HashMap<SiteId, Vec<DeviceStatus>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for status in with_status(&self.state, self.tenant, devices).await {
            by_site.entry(status.device.site).or_default().push(status);
        }
        Ok(by_site)
    }
}

/// Sites by id.
pub struct Sites {
    pub state: AppState,
    pub tenant: TenantId,
}

impl Loader<SiteId> for Sites {
    type Value = Site;
    type Error = LoadError;

    async fn load(&self, keys: &[SiteId]) -> Result<HashMap<SiteId, Self::Value>, Self::Error> {
        let sites = self
            .state
            .db
            .sites()
            .get_many(self.tenant, keys)
            .await
            .map_err(Arc::new)?;
        Ok(sites.into_iter().map(|s| (s.id, s)).collect())
    }
}
