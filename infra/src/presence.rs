//! Device presence: when each device last made contact. Hot, shared across
//! instances and allowed to be lost, so it lives in Redis (or in process
//! memory in embedded mode), never in a SQL write per heartbeat.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use footfall_domain::{DeviceId, Error, Result, TenantId};
use redis::AsyncCommands;

use crate::redis::{Redis, unavailable};

/// Presence records outlive any sensible offline threshold, then expire.
const RETENTION_SECS: u64 = 30 * 24 * 3600;

/// How often buffered heartbeats are written to Redis.
const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_millis(200);
/// Keys per pipelined write.
const FLUSH_CHUNK: usize = 2_000;

#[derive(Clone)]
pub enum Presence {
    Redis(Arc<RedisPresence>),
    Local(Arc<RwLock<HashMap<DeviceId, DateTime<Utc>>>>),
}

/// Presence in Redis, written in batches: a heartbeat only updates a map in
/// memory, and a task writes what changed every [`FLUSH_EVERY`] in one
/// pipeline. A heartbeat never waits for Redis, so heartbeats stay fast
/// when Redis is slow or down; what could not be written is kept and
/// written when Redis is back. At most one flush interval of presence is
/// lost if the process dies, which presence is allowed to lose.
pub struct RedisPresence {
    redis: Redis,
    pending: Mutex<HashMap<(TenantId, DeviceId), i64>>,
}

impl RedisPresence {
    /// What is waiting to be written. Entries stay in `pending` until they
    /// are in Redis, so reads, which overlay `pending`, see them throughout
    /// a write (and while Redis is down a write can take a while to fail).
    fn snapshot(&self) -> HashMap<(TenantId, DeviceId), i64> {
        self.pending.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// Drops what was written, unless newer contact came in meanwhile.
    fn written(&self, batch: &[((TenantId, DeviceId), i64)]) {
        if let Ok(mut pending) = self.pending.lock() {
            for (key, at) in batch {
                if pending.get(key).is_some_and(|now| now <= at) {
                    pending.remove(key);
                }
            }
        }
    }

    async fn flush(&self) -> Result<usize> {
        let entries: Vec<_> = self.snapshot().into_iter().collect();
        for chunk in entries.chunks(FLUSH_CHUNK) {
            let mut pipe = redis::pipe();
            for ((tenant, device), at) in chunk {
                pipe.set_ex(self.redis.key("seen", tenant, device), *at, RETENTION_SECS)
                    .ignore();
            }
            let mut conn = self.redis.conn();
            pipe.query_async::<()>(&mut conn).await.map_err(unavailable)?;
            self.written(chunk);
        }
        Ok(entries.len())
    }
}

async fn flush_forever(presence: std::sync::Weak<RedisPresence>) {
    let mut failing = false;
    loop {
        tokio::time::sleep(FLUSH_EVERY).await;
        let Some(p) = presence.upgrade() else { return };
        match p.flush().await {
            Ok(_) if failing => {
                tracing::info!("presence writes to Redis resumed");
                failing = false;
            }
            Ok(_) => {}
            Err(e) if !failing => {
                tracing::warn!(error = %e, "presence not written to Redis; kept in memory until it is back");
                failing = true;
            }
            Err(_) => {}
        }
    }
}

impl Presence {
    pub fn local() -> Self {
        Presence::Local(Arc::default())
    }

    /// Presence in Redis, flushed in batches by a background task (needs a
    /// Tokio runtime).
    pub fn redis(redis: Redis) -> Self {
        let p = Arc::new(RedisPresence {
            redis,
            pending: Mutex::default(),
        });
        tokio::spawn(flush_forever(Arc::downgrade(&p)));
        Presence::Redis(p)
    }

    /// Records contact from `device` at `at`. Never waits for Redis.
    pub async fn touch(&self, tenant: TenantId, device: DeviceId, at: DateTime<Utc>) -> Result<()> {
        match self {
            Presence::Redis(r) => {
                let mut pending = r.pending.lock().map_err(poisoned)?;
                let entry = pending.entry((tenant, device)).or_insert(at.timestamp_millis());
                *entry = (*entry).max(at.timestamp_millis());
                Ok(())
            }
            Presence::Local(map) => {
                map.write().map_err(poisoned)?.insert(device, at);
                Ok(())
            }
        }
    }

    /// Writes buffered contact now (Redis); tests and shutdown use it.
    pub async fn flush(&self) -> Result<()> {
        match self {
            Presence::Redis(r) => r.flush().await.map(|_| ()),
            Presence::Local(_) => Ok(()),
        }
    }

    /// Last contact of each of `devices` that has one: Redis, overlaid with
    /// this instance's contact not yet written. With Redis down, what this
    /// instance saw.
    pub async fn last_seen(&self, tenant: TenantId, devices: &[DeviceId]) -> Result<HashMap<DeviceId, DateTime<Utc>>> {
        if devices.is_empty() {
            return Ok(HashMap::new());
        }
        match self {
            Presence::Redis(r) => {
                let keys: Vec<String> = devices.iter().map(|d| r.redis.key("seen", tenant, d)).collect();
                let mut conn = r.redis.conn();
                let stored: Vec<Option<i64>> = match conn.mget(keys).await {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::warn!(error = %e, "presence read from Redis failed; answering from this instance");
                        vec![None; devices.len()]
                    }
                };
                let pending = r.pending.lock().map_err(poisoned)?;
                Ok(devices
                    .iter()
                    .zip(stored)
                    .filter_map(|(d, v)| {
                        let local = pending.get(&(tenant, *d)).copied();
                        let ms = match (v, local) {
                            (Some(a), Some(b)) => a.max(b),
                            (a, b) => a.or(b)?,
                        };
                        Some((*d, DateTime::from_timestamp_millis(ms)?))
                    })
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
                r.pending.lock().map_err(poisoned)?.remove(&(tenant, device));
                let mut conn = r.redis.conn();
                conn.del::<_, ()>(r.redis.key("seen", tenant, device))
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

/// How often last contact is written to SQL.
pub const LAST_SEEN_FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Last contact waiting to be written to SQL (`devices.last_seen_at`), in
/// batches: presence answers "is it online now", this keeps "when was it
/// last seen" across restarts and the loss of Redis. A crash loses at most
/// one flush interval of it.
#[derive(Default)]
pub struct SeenLog {
    pending: Mutex<HashMap<DeviceId, DateTime<Utc>>>,
}

impl SeenLog {
    /// Notes contact from `device` at `at`.
    pub fn note(&self, device: DeviceId, at: DateTime<Utc>) {
        if let Ok(mut pending) = self.pending.lock() {
            let entry = pending.entry(device).or_insert(at);
            *entry = (*entry).max(at);
        }
    }

    /// Writes what is pending; on failure keeps it for the next flush.
    pub async fn flush(&self, db: &crate::Db) -> Result<usize> {
        let batch: Vec<(DeviceId, DateTime<Utc>)> = match self.pending.lock() {
            Ok(mut p) => std::mem::take(&mut *p).into_iter().collect(),
            Err(e) => return Err(poisoned(e)),
        };
        if batch.is_empty() {
            return Ok(0);
        }
        if let Err(e) = db.devices().record_last_seen(&batch).await {
            for (device, at) in batch {
                self.note(device, at);
            }
            return Err(e);
        }
        Ok(batch.len())
    }

    /// Flushes every [`LAST_SEEN_FLUSH_EVERY`] while the log is alive.
    pub fn spawn_flusher(log: &Arc<SeenLog>, db: crate::Db) {
        let log = Arc::downgrade(log);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(LAST_SEEN_FLUSH_EVERY).await;
                let Some(log) = log.upgrade() else { return };
                if let Err(e) = log.flush(&db).await {
                    tracing::warn!(error = %e, "last contact not written to the database; kept for the next try");
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    /// A write to Redis can take seconds to fail while Redis is down; the
    /// contact it carries must stay visible to reads all the while, or a
    /// device shows offline until the write gives up.
    #[tokio::test]
    async fn contact_stays_visible_while_a_write_is_in_flight() {
        // Nothing listens on port 1: every write fails.
        let redis = Redis::connect("redis://127.0.0.1:1", "presence-test").expect("a lazy connection");
        let presence = RedisPresence {
            redis,
            pending: Mutex::default(),
        };
        let key = (TenantId::from_uuid(Uuid::now_v7()), DeviceId::from_uuid(Uuid::now_v7()));
        presence.pending.lock().expect("lock").insert(key, 1_000);
        let visible = || presence.pending.lock().expect("lock").get(&key).copied();

        let mut write = Box::pin(presence.flush());
        // Poll the write once: it is now waiting for Redis, or has failed.
        let finished = tokio::select! {
            biased;
            result = &mut write => Some(result),
            () = std::future::ready(()) => None,
        };
        assert_eq!(visible(), Some(1_000), "while the write is in flight");
        let result = match finished {
            Some(result) => result,
            None => write.await,
        };
        assert!(result.is_err(), "nothing listens on port 1");
        assert_eq!(visible(), Some(1_000), "after the write failed");
    }
}
