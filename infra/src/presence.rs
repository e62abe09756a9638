//! Device presence: when each device last made contact. Hot, shared across
//! instances and allowed to be lost, so it lives in Redis (or in process
//! memory in embedded mode), never in a SQL write per heartbeat.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use footfall_domain::{DeviceId, Error, Result, TenantId};
use redis::AsyncCommands;

use crate::redis::{Redis, unavailable};

/// Presence records outlive any sensible offline threshold, then expire.
const RETENTION_SECS: u64 = 30 * 24 * 3600;

#[derive(Clone)]
pub enum Presence {
    Redis(Redis),
    Local(Arc<RwLock<HashMap<DeviceId, DateTime<Utc>>>>),
}

impl Presence {
    pub fn local() -> Self {
        Presence::Local(Arc::default())
    }

    /// Records contact from `device` at `at`.
    pub async fn touch(&self, tenant: TenantId, device: DeviceId, at: DateTime<Utc>) -> Result<()> {
        match self {
            Presence::Redis(r) => {
                let mut conn = r.conn();
                conn.set_ex::<_, _, ()>(r.key("seen", tenant, device), at.timestamp_millis(), RETENTION_SECS)
                    .await
                    .map_err(unavailable)
            }
            Presence::Local(map) => {
                map.write().map_err(poisoned)?.insert(device, at);
                Ok(())
            }
        }
    }

    /// Last contact of each of `devices` that has one.
    pub async fn last_seen(&self, tenant: TenantId, devices: &[DeviceId]) -> Result<HashMap<DeviceId, DateTime<Utc>>> {
        if devices.is_empty() {
            return Ok(HashMap::new());
        }
        match self {
            Presence::Redis(r) => {
                let keys: Vec<String> = devices.iter().map(|d| r.key("seen", tenant, d)).collect();
                let mut conn = r.conn();
                let values: Vec<Option<i64>> = conn.mget(keys).await.map_err(unavailable)?;
                Ok(devices
                    .iter()
                    .zip(values)
                    .filter_map(|(d, v)| Some((*d, DateTime::from_timestamp_millis(v?)?)))
                    .collect())
            }
            Presence::Local(map) => {
                let map = map.read().map_err(poisoned)?;
                Ok(devices.iter().filter_map(|d| Some((*d, *map.get(d)?))).collect())
            }
        }
    }

    /// Drops the record of a device that was unbound.
    pub async fn forget(&self, tenant: TenantId, device: DeviceId) -> Result<()> {
        match self {
            Presence::Redis(r) => {
                let mut conn = r.conn();
                conn.del::<_, ()>(r.key("seen", tenant, device))
                    .await
                    .map_err(unavailable)
            }
            Presence::Local(map) => {
                map.write().map_err(poisoned)?.remove(&device);
                Ok(())
            }
        }
    }
}

pub(crate) fn poisoned<T>(_: std::sync::PoisonError<T>) -> Error {
    Error::internal("a lock was poisoned by a panicking thread")
}
