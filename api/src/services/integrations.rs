//! Integrations: analysis servers and edge boxes that push to a secret URL
//! (decision 014). Tenant-facing management here; ingest resolves a token to
//! its integration, and finds or creates the devices (zones, edge boxes) its
//! pushes belong to.

use std::sync::Arc;

use footfall_domain::integration::{BusinessType, IngestToken, Integration, IntegrationId, IntegrationKind};
use footfall_domain::{Error, Name, Principal, Protocol, Result, SiteId, Sn};
use footfall_infra::analysis_api::{AnalysisApi, RemoteError};
use footfall_infra::devices::NewDevice;
use footfall_infra::directory::Route;
use serde_json::json;

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
    let site = SiteId::parse(site)?;
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

/// What a tenant gives to register the platform on its analysis server.
#[derive(Debug, Clone, Default)]
pub struct RemoteRegistration<'a> {
    /// `http://host:port` of the analysis server.
    pub base_url: &'a str,
    pub username: &'a str,
    pub password: &'a str,
    /// The address the analysis server reaches the platform at; defaults to
    /// `FOOTFALL_PUBLIC_URL`.
    pub public_url: Option<&'a str>,
    /// The integration's current token, to keep it; without it a new token
    /// is issued (and takes effect only if every registration succeeds).
    pub token: Option<&'a str>,
    /// Business types to register (default all: 11, 21, 22, 41, 52).
    pub business_types: Option<Vec<i64>>,
    /// Seconds between periodic pushes, 1 to 120 (default 10).
    pub upload_period: Option<i64>,
    /// Whether the server sends images (default: for event alarms only, the
    /// one type whose images the platform keeps).
    pub upload_images: Option<bool>,
    pub company_name: Option<&'a str>,
    pub company_id: Option<&'a str>,
    pub app_id: Option<&'a str>,
}

/// What happened to one business type's receiving interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub business_type: BusinessType,
    /// The interface id on the remote server, when it said.
    pub remote_id: Option<i64>,
    /// `added`, `updated` or `unchanged`.
    pub action: &'static str,
    pub url: String,
}

/// The outcome: each type's interface, and the token now in force (a new
/// one if none was given).
#[derive(Debug, Clone)]
pub struct Registration {
    pub integration: Integration,
    pub registered: Vec<Registered>,
    /// Set when a new token was issued by this registration (shown once).
    pub issued: Option<Issued>,
}

fn remote(e: RemoteError) -> Error {
    Error::Remote {
        timed_out: matches!(e, RemoteError::Timeout { .. }),
        message: format!("the analysis server: {e}"),
    }
}

/// Logs in to the tenant's analysis server and makes sure one receiving
/// interface per business type points at this integration's ingest URL
/// (adding or editing them). Remote failures are reported, with what the
/// server said; nothing is changed here unless every type succeeded.
pub async fn register(
    state: &AppState,
    who: &Principal,
    id: &str,
    req: RemoteRegistration<'_>,
) -> Result<Registration> {
    who.require_write()?;
    let integration = state
        .db
        .integrations()
        .get(who.tenant, IntegrationId::parse(id)?)
        .await?;
    if integration.kind != IntegrationKind::AnalysisServer {
        return Err(Error::invalid(
            "id",
            "only analysis_server integrations register remotely",
        ));
    }
    if integration.is_revoked() {
        return Err(Error::Conflict("the integration is revoked".into()));
    }
    let public = req
        .public_url
        .map(str::to_string)
        .or_else(|| state.config.public_url.clone())
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .filter(|u| !u.is_empty())
        .ok_or_else(|| {
            Error::invalid(
                "publicUrl",
                "the address the analysis server reaches this platform at is needed (or set FOOTFALL_PUBLIC_URL)",
            )
        })?;
    if !(public.starts_with("http://") || public.starts_with("https://")) {
        return Err(Error::invalid("publicUrl", "must start with http:// or https://"));
    }
    let (token, fresh) = match req.token {
        Some(t) => {
            let not_current = || Error::invalid("token", "is not this integration's current token");
            let token = IngestToken::parse(t.trim()).ok_or_else(not_current)?;
            match state.db.integrations().by_token(&token).await? {
                Some(found) if found.id == integration.id => (token, false),
                _ => return Err(not_current()),
            }
        }
        None => (new_token(), true),
    };
    let types = match &req.business_types {
        Some(codes) if codes.is_empty() => return Err(Error::invalid("businessTypes", "must not be empty")),
        Some(codes) => codes
            .iter()
            .map(|c| BusinessType::from_code(*c))
            .collect::<Result<Vec<_>, _>>()?,
        None => BusinessType::ALL.to_vec(),
    };
    let period = req.upload_period.unwrap_or(10);
    if !(1..=120).contains(&period) {
        return Err(Error::invalid("uploadPeriod", "must be 1 to 120 seconds"));
    }
    let ingest_base = format!("{public}{}", integration.ingest_path(&token));
    let our_prefix = format!("{public}/ingest/analysis/");

    let timeout = std::time::Duration::from_secs(state.config.remote_timeout_secs.max(1));
    let mut api = AnalysisApi::new(req.base_url, timeout).map_err(|e| match e {
        RemoteError::BadUrl(_) => Error::invalid("baseUrl", e.to_string()),
        other => remote(other),
    })?;
    api.login(req.username, req.password).await.map_err(remote)?;
    let existing = api.list().await.map_err(remote)?;
    let mut registered = Vec::new();
    for business in types {
        let url = format!("{ingest_base}/{}", business.label());
        let interface = json!({
            "name": format!("footfall {}", business.label()),
            "businessType": business.code(),
            "triggerCondition": business.trigger_condition(),
            "uploadPeriod": period,
            "contentType": 1,
            "method": 1,
            "url": url,
            // Images by default only where the platform keeps them (alarms).
            "uploadImgStatus": i32::from(req.upload_images.unwrap_or(business == BusinessType::EventAlarm)),
            "companyName": req.company_name.unwrap_or("footfall"),
            "companyId": req.company_id.unwrap_or("footfall"),
            "appId": req.app_id.unwrap_or("footfall"),
            "pushResponse": 1,
        });
        let ours = existing
            .iter()
            .find(|i| i.business_type == business.code() && i.url.starts_with(&our_prefix));
        let (remote_id, action) = match ours {
            Some(found) if found.url == url => (Some(found.id), "unchanged"),
            Some(found) => {
                api.edit(found.id, &interface).await.map_err(remote)?;
                (Some(found.id), "updated")
            }
            None => (api.add(&interface).await.map_err(remote)?, "added"),
        };
        // Older copies of ours for this type (other tokens) would only be
        // refused: remove them.
        for stale in existing
            .iter()
            .filter(|i| i.business_type == business.code() && i.url.starts_with(&our_prefix) && Some(i.id) != remote_id)
        {
            api.delete(stale.id).await.map_err(remote)?;
        }
        registered.push(Registered {
            business_type: business,
            remote_id,
            action,
            url,
        });
    }
    let (integration, issued) = if fresh {
        let integration = state
            .db
            .integrations()
            .rotate(who.tenant, integration.id, &token)
            .await?;
        let issued = Issued {
            integration: integration.clone(),
            token,
        };
        (integration, Some(issued))
    } else {
        (integration, None)
    };
    tracing::info!(tenant = %who.tenant, integration = %integration.id, types = registered.len(), "registered on the analysis server");
    Ok(Registration {
        integration,
        registered,
        issued,
    })
}
