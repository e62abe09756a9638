//! Integrations: analysis servers and edge boxes that push to a secret URL
//! (decision 014). Tenant-facing management here; ingest resolves a token to
//! its integration, and finds or creates the devices (zones, edge boxes) its
//! pushes belong to.

use std::sync::Arc;

use footfall_domain::integration::{IngestToken, Integration, IntegrationId, IntegrationKind};
use footfall_domain::{Entity, Error, Name, Principal, Protocol, Result, SiteId, Sn};
use footfall_infra::devices::NewDevice;
use footfall_infra::directory::Route;

use super::ingest::{self, IngestError};
use crate::state::AppState;

/// An integration with the token that was just issued for it (shown once).
#[derive(Debug, Clone)]
pub struct Issued {
    pub integration: Integration,
    pub token: IngestToken,
}

impl Issued {
    pub fn ingest_path(&self) -> String {
        self.integration.ingest_path(&self.token)
    }
}

fn new_token() -> IngestToken {
    IngestToken::from_random(rand::random())
}

pub async fn create(state: &AppState, who: &Principal, kind: &str, site: &str, name: Option<&str>) -> Result<Issued> {
    who.require_write()?;
    let kind = IntegrationKind::parse(kind)?;
    let site = SiteId::parse(site).map_err(|_| Error::NotFound(Entity::Site))?;
    let name = name.map(|n| Name::parse("name", n)).transpose()?;
    let token = new_token();
    let integration = state
        .db
        .integrations()
        .create(who.tenant, site, kind, name.map(Name::into_string), &token)
        .await?;
    tracing::info!(tenant = %who.tenant, integration = %integration.id, kind = %kind, "integration created");
    Ok(Issued { integration, token })
}

pub async fn list(state: &AppState, who: &Principal) -> Result<Vec<Integration>> {
    state.db.integrations().list(who.tenant).await
}

pub async fn get(state: &AppState, who: &Principal, id: &str) -> Result<Integration> {
    state.db.integrations().get(who.tenant, IntegrationId::parse(id)?).await
}

/// Issues a new token; the old one is refused from now on.
pub async fn rotate(state: &AppState, who: &Principal, id: &str) -> Result<Issued> {
    who.require_write()?;
    let token = new_token();
    let integration = state
        .db
        .integrations()
        .rotate(who.tenant, IntegrationId::parse(id)?, &token)
        .await?;
    tracing::info!(tenant = %who.tenant, integration = %integration.id, "integration token rotated");
    Ok(Issued { integration, token })
}

/// Revokes the integration: its token is refused from now on.
pub async fn revoke(state: &AppState, who: &Principal, id: &str) -> Result<Integration> {
    who.require_write()?;
    let integration = state
        .db
        .integrations()
        .revoke(who.tenant, IntegrationId::parse(id)?)
        .await?;
    tracing::info!(tenant = %who.tenant, integration = %integration.id, "integration revoked");
    Ok(integration)
}

/// Why an ingest token was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenRefusal {
    #[error("unknown or revoked integration token")]
    Refused,
    #[error("temporarily unavailable, retry later")]
    Unavailable,
}

/// The live integration of `kind` a token from a URL names.
pub async fn by_token(state: &AppState, token: &str, kind: IntegrationKind) -> Result<Integration, TokenRefusal> {
    let token = IngestToken::parse(token).ok_or(TokenRefusal::Refused)?;
    match state.db.integrations().by_token(&token).await {
        Ok(Some(i)) if !i.is_revoked() && i.kind == kind => Ok(i),
        Ok(_) => Err(TokenRefusal::Refused),
        Err(e) => {
            crate::error::log_failure(&e);
            Err(TokenRefusal::Unavailable)
        }
    }
}

/// A device name from what a sender calls it, if it makes a valid name.
fn device_name(name: &str) -> Option<Name> {
    let cleaned: String = name.chars().filter(|c| !c.is_control()).take(100).collect();
    Name::parse("name", &cleaned).ok()
}

/// Resolves `sn`, binding it first (to the integration's site, as
/// `protocol`) if nobody has. Another tenant's device, or one of another
/// protocol, is refused.
async fn found_or_bound(
    state: &AppState,
    integration: &Integration,
    sn: Sn,
    protocol: Protocol,
    name: Option<Name>,
) -> Result<Arc<Route>, IngestError> {
    for _ in 0..2 {
        match ingest::resolve(state, sn.as_str()).await {
            Ok(route) if route.device.tenant == integration.tenant && route.device.protocol == protocol => {
                return Ok(route);
            }
            Ok(_) => return Err(IngestError::UnknownDevice),
            Err(IngestError::UnknownDevice) => {}
            Err(e) => return Err(e),
        }
        let new = NewDevice {
            site: integration.site,
            sn: sn.clone(),
            protocol,
            name: name.clone(),
            config: None,
            credentials: None,
        };
        match state.db.devices().bind(integration.tenant, new).await {
            Ok(device) => {
                tracing::info!(integration = %integration.id, device = %device.id, sn = %sn, %protocol, "device created by its integration");
            }
            // Bound meanwhile by a concurrent push: resolve it again.
            Err(Error::AlreadyExists { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        state.directory.invalidate(&sn).await;
    }
    Err(IngestError::Unavailable)
}

/// The zone device of an analysis server's `task` / `region`.
pub async fn zone(
    state: &AppState,
    integration: &Integration,
    task: &str,
    region: Option<&str>,
    name: &str,
) -> Result<Arc<Route>, IngestError> {
    let sn = integration.zone_sn(task, region)?;
    found_or_bound(state, integration, sn, Protocol::AnalysisZone, device_name(name)).await
}

/// The device of an edge box pushing to an edge-box integration.
pub async fn edge_box(
    state: &AppState,
    integration: &Integration,
    uuid: &str,
    name: Option<&str>,
) -> Result<Arc<Route>, IngestError> {
    let sn = Sn::parse(uuid).map_err(|e| IngestError::Invalid(format!("deviceInfo.uuid: {e}")))?;
    found_or_bound(state, integration, sn, Protocol::EdgeBox, name.and_then(device_name)).await
}
