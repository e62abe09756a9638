//! Devices of the caller's tenant, with their presence.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use footfall_domain::command::check_history_range;
use footfall_domain::presence::{heartbeat_period, is_online};
use footfall_domain::{
    Command, ConfigChange, DataMode, Device, DeviceId, Error, Name, Principal, Protocol, Result, SiteId, Sn, TenantId,
};
use footfall_infra::devices::{DeviceChanges, NewDevice};
use footfall_infra::events::{EventScope, StoredEvent};

use crate::state::AppState;

/// A device with what is known of its contact with the platform.
#[derive(Debug, Clone)]
pub struct DeviceStatus {
    pub device: Device,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub online: bool,
    /// IPC cameras: the Digest username set for them, if any.
    pub digest_username: Option<String>,
}

/// What a tenant sends to bind a device.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    pub sn: &'a str,
    pub site: &'a str,
    pub protocol: &'a str,
    pub name: Option<&'a str>,
    /// Digest credentials: required for IPC cameras, refused for others.
    pub username: Option<&'a str>,
    pub password: Option<&'a str>,
}

pub async fn bind(state: &AppState, who: &Principal, binding: Binding<'_>) -> Result<DeviceStatus> {
    who.require_write()?;
    let protocol = Protocol::parse(binding.protocol)?;
    if protocol == Protocol::AnalysisZone {
        return Err(Error::invalid(
            "protocol",
            "analysis zones are created by their integration (POST /integrations), not bound by hand",
        ));
    }
    // A camera bound without credentials is refused until they are set
    // (`set_credentials`).
    let credentials = match (protocol, binding.username, binding.password) {
        (_, None, None) => None,
        (Protocol::Ipc, Some(username), Some(password)) => Some(state.credentials(username, password)?),
        (Protocol::Ipc, None, Some(_)) => {
            return Err(Error::invalid(
                "username",
                "a password needs the username that goes with it",
            ));
        }
        (Protocol::Ipc, Some(_), None) => {
            return Err(Error::invalid(
                "password",
                "a username needs the password that goes with it",
            ));
        }
        (other, _, _) => {
            return Err(Error::invalid(
                "username",
                format!("only ipc devices take credentials; this one speaks {other}"),
            ));
        }
    };
    let new = NewDevice {
        sn: Sn::parse(binding.sn)?,
        site: SiteId::parse(binding.site)?,
        protocol,
        name: binding.name.map(|n| Name::parse("name", n)).transpose()?,
        config: None,
        credentials,
    };
    let device = state.db.devices().bind(who.tenant, new).await?;
    // A device that tried before it was bound may be remembered as unknown.
    state.directory.invalidate(&device.sn).await;
    tracing::info!(tenant = %who.tenant, device = %device.id, sn = %device.sn, "device bound");
    Ok(one(state, device).await)
}

/// The tenant's devices, or one site's. A site filter naming no site of the
/// tenant is a 404, not an empty list.
pub async fn list(state: &AppState, who: &Principal, site: Option<&str>) -> Result<Vec<DeviceStatus>> {
    let site = match site {
        Some(id) => Some(state.db.sites().get(who.tenant, SiteId::parse(id)?).await?.id),
        None => None,
    };
    let devices = state.db.devices().list(who.tenant, site).await?;
    Ok(with_status(state, who.tenant, devices).await)
}

pub async fn get(state: &AppState, who: &Principal, id: &str) -> Result<DeviceStatus> {
    let device = state.db.devices().get(who.tenant, DeviceId::parse(id)?).await?;
    Ok(one(state, device).await)
}

/// Renames (`name: Some(None)` clears the name) or moves a device.
pub async fn update(
    state: &AppState,
    who: &Principal,
    id: &str,
    name: Option<Option<&str>>,
    site: Option<&str>,
) -> Result<DeviceStatus> {
    who.require_write()?;
    let id = DeviceId::parse(id)?;
    let changes = DeviceChanges {
        name: name
            .map(|n| n.map(|n| Name::parse("name", n)).transpose())
            .transpose()?,
        site: site.map(SiteId::parse).transpose()?,
    };
    let device = state.db.devices().update(who.tenant, id, changes).await?;
    state.directory.invalidate(&device.sn).await;
    Ok(one(state, device).await)
}

/// Sets the Digest credentials an IPC camera authenticates with (the ones
/// configured on the camera). Requests signed with the old ones fail from
/// now on.
pub async fn set_credentials(
    state: &AppState,
    who: &Principal,
    id: &str,
    username: &str,
    password: &str,
) -> Result<DeviceStatus> {
    who.require_write()?;
    let device = state.db.devices().get(who.tenant, DeviceId::parse(id)?).await?;
    if device.protocol != Protocol::Ipc {
        return Err(Error::invalid(
            "id",
            format!("only ipc devices take credentials; this one speaks {}", device.protocol),
        ));
    }
    let credentials = state.credentials(username, password)?;
    state.db.credentials().set(who.tenant, device.id, &credentials).await?;
    state.directory.invalidate(&device.sn).await;
    tracing::info!(device = %device.id, username = %credentials.username, "device credentials set");
    Ok(one(state, device).await)
}

/// Changes the configuration the device should run with; its next heartbeat
/// answer carries it.
pub async fn update_config(
    state: &AppState,
    who: &Principal,
    id: &str,
    upload_interval: Option<i64>,
    data_mode: Option<&str>,
    keep_interval: Option<i64>,
) -> Result<DeviceStatus> {
    who.require_write()?;
    let id = DeviceId::parse(id)?;
    let change = ConfigChange {
        upload_interval_minutes: upload_interval,
        data_mode: data_mode.map(DataMode::parse).transpose()?,
        keep_interval_seconds: keep_interval,
    };
    let device = state.db.devices().get(who.tenant, id).await?;
    let config = device.config.with_changes(change)?;
    let device = state.db.devices().set_config(who.tenant, id, config).await?;
    state.directory.invalidate(&device.sn).await;
    tracing::info!(
        device = %device.id,
        upload_interval = config.upload_interval_minutes(),
        data_mode = config.data_mode.as_str(),
        keep_interval = config.keep_interval_seconds(),
        "device configuration changed"
    );
    Ok(one(state, device).await)
}

/// Asks a people counter for its history over `[from, to]`; the request is
/// sent in its heartbeat answers until answered or expired.
pub async fn request_history(
    state: &AppState,
    who: &Principal,
    id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Command> {
    who.require_write()?;
    let device = state.db.devices().get(who.tenant, DeviceId::parse(id)?).await?;
    if device.protocol != Protocol::PeopleCounter {
        return Err(Error::invalid(
            "deviceId",
            format!(
                "history requests are for people counters; this device speaks {}",
                device.protocol
            ),
        ));
    }
    let (from, to) = check_history_range(from, to, Utc::now())?;
    let command = state
        .db
        .commands()
        .request_history(who.tenant, device.id, from, to)
        .await?;
    state.directory.invalidate(&device.sn).await;
    Ok(command)
}

/// The device's commands, newest first.
pub async fn commands(state: &AppState, who: &Principal, id: &str) -> Result<Vec<Command>> {
    let device = state.db.devices().get(who.tenant, DeviceId::parse(id)?).await?;
    state.db.commands().list(who.tenant, device.id).await
}

/// A page of per-person events, newest first.
pub struct EventPage {
    pub events: Vec<StoredEvent>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

pub const EVENTS_MAX_PAGE: u64 = 500;

/// Events of a device or a site, newest first; `after` is a cursor from the
/// previous page.
pub async fn events(
    state: &AppState,
    who: &Principal,
    scope: EventScope,
    after: Option<&str>,
    limit: Option<i64>,
) -> Result<EventPage> {
    let limit = u64::try_from(limit.unwrap_or(100))
        .ok()
        .filter(|l| (1..=EVENTS_MAX_PAGE).contains(l))
        .ok_or_else(|| Error::invalid("limit", format!("must be between 1 and {EVENTS_MAX_PAGE}")))?;
    let before = after
        .map(|c| {
            c.trim()
                .parse::<i64>()
                .map_err(|_| Error::invalid("after", "not a cursor from a previous page"))
        })
        .transpose()?;
    match scope {
        EventScope::Device(d) => state.db.devices().get(who.tenant, d).await.map(|_| ())?,
        EventScope::Site(s) => state.db.sites().get(who.tenant, s).await.map(|_| ())?,
    }
    let mut events = state.db.events().list(who.tenant, scope, before, limit + 1).await?;
    let more = events.len() as u64 > limit;
    events.truncate(limit as usize);
    let next_cursor = if more {
        events.last().map(|e| e.id.to_string())
    } else {
        None
    };
    Ok(EventPage { events, next_cursor })
}

/// Removes the binding; the serial number can then be bound again, by anyone.
pub async fn unbind(state: &AppState, who: &Principal, id: &str) -> Result<()> {
    who.require_write()?;
    let device = state.db.devices().unbind(who.tenant, DeviceId::parse(id)?).await?;
    state.directory.invalidate(&device.sn).await;
    if let Err(e) = state.presence.forget(who.tenant, device.id).await {
        tracing::warn!(error = %e, device = %device.id, "presence record not removed");
    }
    tracing::info!(tenant = %who.tenant, device = %device.id, sn = %device.sn, "device unbound");
    Ok(())
}

async fn one(state: &AppState, device: Device) -> DeviceStatus {
    let seen = last_seen(state, device.tenant, &[device.id]).await;
    let mut names = usernames(state, device.tenant, std::slice::from_ref(&device)).await;
    DeviceStatus {
        digest_username: names.remove(&device.id),
        ..status_of(device, &seen, Utc::now())
    }
}

/// Adds presence (one round trip) and IPC usernames (one query) to devices.
pub async fn with_status(state: &AppState, tenant: TenantId, devices: Vec<Device>) -> Vec<DeviceStatus> {
    let ids: Vec<DeviceId> = devices.iter().map(|d| d.id).collect();
    let seen = last_seen(state, tenant, &ids).await;
    let mut usernames = usernames(state, tenant, &devices).await;
    let now = Utc::now();
    devices
        .into_iter()
        .map(|d| {
            let username = usernames.remove(&d.id);
            DeviceStatus {
                digest_username: username,
                ..status_of(d, &seen, now)
            }
        })
        .collect()
}

/// The Digest usernames of the IPC cameras among `devices`; shown as unset
/// if they cannot be read.
async fn usernames(state: &AppState, tenant: TenantId, devices: &[Device]) -> HashMap<DeviceId, String> {
    let cameras: Vec<DeviceId> = devices
        .iter()
        .filter(|d| d.protocol == Protocol::Ipc)
        .map(|d| d.id)
        .collect();
    state
        .db
        .credentials()
        .usernames(tenant, &cameras)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "device usernames unavailable");
            HashMap::new()
        })
}

/// If presence cannot be read, devices are shown as never seen rather than
/// failing the request.
async fn last_seen(state: &AppState, tenant: TenantId, ids: &[DeviceId]) -> HashMap<DeviceId, DateTime<Utc>> {
    state.presence.last_seen(tenant, ids).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "presence unavailable; devices shown as not seen");
        HashMap::new()
    })
}

fn status_of(device: Device, seen: &HashMap<DeviceId, DateTime<Utc>>, now: DateTime<Utc>) -> DeviceStatus {
    // Presence (Redis or memory) knows the latest contact; SQL keeps it
    // across restarts, written in batches.
    let last_seen_at = seen.get(&device.id).copied().max(device.state.last_seen_at);
    DeviceStatus {
        online: is_online(last_seen_at, now, heartbeat_period(&device)),
        last_seen_at,
        device,
        digest_username: None,
    }
}
