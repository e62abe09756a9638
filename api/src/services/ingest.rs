//! What every device protocol does once its wire format is decoded:
//! resolve the serial number, record contact, answer a heartbeat with the
//! device's pending configuration, hand uploads to the writer. The protocol
//! modules in `crate::ingest` map the results to their own answer codes.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use footfall_domain::ingest::device_timezone_hours;
use footfall_domain::{CommandStatus, DeviceConfig, Error, Sn};
use footfall_infra::directory::Route;
use footfall_infra::readings::Owner;
use footfall_infra::writer::{Job, Outcome, RawUpload, Work};

use crate::state::AppState;

/// Why a device request was not accepted, in terms every protocol can map.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("sn does not exist")]
    UnknownDevice,
    #[error("{0}")]
    Invalid(String),
    #[error("temporarily unavailable, retry later")]
    Unavailable,
    #[error("internal error")]
    Internal,
}

impl From<Error> for IngestError {
    fn from(e: Error) -> Self {
        match e {
            Error::Unavailable(_) => IngestError::Unavailable,
            Error::Invalid(invalid) => IngestError::Invalid(invalid.to_string()),
            Error::NotFound(_) => IngestError::UnknownDevice,
            other => {
                crate::error::log_failure(&other);
                IngestError::Internal
            }
        }
    }
}

/// Reported fields are written at most this often while they keep changing.
const REPORTED_MIN_INTERVAL: TimeDelta = TimeDelta::minutes(10);

/// Finds the bound device behind a serial number as the device sent it.
pub async fn resolve(state: &AppState, sn: &str) -> Result<Arc<Route>, IngestError> {
    let sn = Sn::parse(sn).map_err(|_| IngestError::UnknownDevice)?;
    state
        .directory
        .resolve(&state.db, &sn)
        .await?
        .ok_or(IngestError::UnknownDevice)
}

/// What a heartbeat answer carries.
#[derive(Debug, Clone, Copy)]
pub struct HeartbeatAnswer {
    pub server_time: DateTime<Utc>,
    pub config: DeviceConfig,
    /// Whole-hour GMT offset of the site's zone now.
    pub timezone_hours: i32,
    /// An open history request: `[from, to]`, Unix seconds.
    pub history: Option<(i64, i64)>,
}

/// Records a heartbeat: presence always (Redis or memory, no SQL), and the
/// rare changes (new reported fields, a configuration or command delivered
/// for the first time) in SQL.
pub async fn heartbeat(
    state: &AppState,
    route: &Route,
    mut reported: Vec<(String, String)>,
) -> Result<HeartbeatAnswer, IngestError> {
    let now = Utc::now();
    let device = &route.device;
    touch(state, route, now).await;

    let mut changed = false;
    reported.sort();
    let kept = device.state.reported.as_ref();
    let differs = kept.map(|r| {
        let mut fields = r.fields.clone();
        fields.sort();
        fields != reported
    });
    let due = kept.is_none_or(|r| now - r.at >= REPORTED_MIN_INTERVAL);
    if !reported.is_empty() && differs.unwrap_or(true) && due {
        state.db.devices().record_reported(device.id, &reported, now).await?;
        changed = true;
    }
    if device.state.delivered.map(|d| d.config) != Some(device.config) {
        state
            .db
            .devices()
            .record_delivery(device.id, device.config, now)
            .await?;
        changed = true;
    }
    let open = route.open_command.as_ref().filter(|c| c.is_open_at(now));
    if let Some(command) = open
        && command.status == CommandStatus::Pending
    {
        state.db.commands().mark_delivered(command.id, now).await?;
        changed = true;
    }
    if changed || route.open_command.as_ref().is_some_and(|c| !c.is_open_at(now)) {
        state.directory.invalidate(&device.sn).await;
    }

    Ok(HeartbeatAnswer {
        server_time: now,
        config: device.config,
        timezone_hours: device_timezone_hours(route.timezone, now),
        history: open.map(|c| (c.from, c.to)),
    })
}

/// Hands an upload to the writer and waits until it is durable.
pub async fn upload(state: &AppState, route: &Route, work: Work, raw: RawUpload) -> Result<Outcome, IngestError> {
    let device = &route.device;
    let received_at = Utc::now();
    let job = Job {
        owner: Owner {
            tenant: device.tenant,
            site: device.site,
            device: device.id,
        },
        work,
        raw,
        received_at,
    };
    let outcome = state.writer.submit(job).await?;
    match outcome {
        Outcome::DeviceGone => return Err(IngestError::UnknownDevice),
        Outcome::Recorded { stored, answered, .. } => {
            if answered > 0 {
                state.directory.invalidate(&device.sn).await;
            }
            // Live subscribers, on every instance, hear of it shortly.
            if stored > 0 {
                state.announcer.note(device.site, device.id);
            }
        }
        Outcome::KeptRaw => {}
    }
    touch(state, route, received_at).await;
    Ok(outcome)
}

/// Presence is best effort: without Redis a device still gets its answer.
async fn touch(state: &AppState, route: &Route, at: DateTime<Utc>) {
    let device = &route.device;
    state.seen_log.note(device.id, at);
    if let Err(e) = state.presence.touch(device.tenant, device.id, at).await {
        tracing::warn!(error = %e, device = %device.id, "presence not recorded");
    }
}
