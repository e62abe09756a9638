//! The device directory: serial number → what ingest needs to answer a
//! device (binding, desired and delivered configuration, site timezone, the
//! open command). Heartbeats resolve through an in-process cache; changes
//! anywhere invalidate it everywhere through the [`Bus`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use footfall_domain::digest::Credentials;
use footfall_domain::{Command, Device, Protocol, Result, Sn, Timezone};
use tokio::sync::broadcast::error::RecvError;

use crate::Db;
use crate::bus::{Bus, Message};
use crate::presence::poisoned;

const TOPIC: &str = "directory";
/// How long a resolved device is trusted without an invalidation.
const FOUND_TTL: Duration = Duration::from_secs(60);
/// How long "no such serial number" is remembered; binding invalidates it.
const MISSING_TTL: Duration = Duration::from_secs(10);
const SWEEP_AT: usize = 100_000;

/// A bound device as ingest sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub device: Device,
    pub timezone: Timezone,
    /// The oldest command still to be sent, if any.
    pub open_command: Option<Command>,
    /// Digest credentials (IPC cameras).
    pub credentials: Option<Credentials>,
}

type Entries = Arc<RwLock<HashMap<Sn, (Instant, Option<Arc<Route>>)>>>;

#[derive(Clone)]
pub struct Directory {
    entries: Entries,
    bus: Bus,
    /// Bumped by every invalidation: a load that raced one is not cached.
    generation: Arc<AtomicU64>,
}

impl Directory {
    /// Starts listening on `bus` for invalidations from every instance.
    pub fn new(bus: Bus) -> Directory {
        let entries: Entries = Arc::default();
        let generation: Arc<AtomicU64> = Arc::default();
        tokio::spawn(listen(bus.clone(), entries.clone(), generation.clone()));
        Directory {
            entries,
            bus,
            generation,
        }
    }

    /// The route of `sn`, from the cache or the database.
    pub async fn resolve(&self, db: &Db, sn: &Sn) -> Result<Option<Arc<Route>>> {
        if let Some((loaded, route)) = self.entries.read().map_err(poisoned)?.get(sn) {
            let ttl = if route.is_some() { FOUND_TTL } else { MISSING_TTL };
            if loaded.elapsed() < ttl {
                return Ok(route.clone());
            }
        }
        let before = self.generation.load(Ordering::Acquire);
        let route = load(db, sn).await?.map(Arc::new);
        let mut entries = self.entries.write().map_err(poisoned)?;
        if entries.len() >= SWEEP_AT {
            entries.retain(|_, (loaded, _)| loaded.elapsed() < FOUND_TTL);
        }
        // An invalidation during the load may concern what was just read.
        if self.generation.load(Ordering::Acquire) == before {
            entries.insert(sn.clone(), (Instant::now(), route.clone()));
        }
        Ok(route)
    }

    /// Forgets `sn` here at once and on every other instance shortly after.
    pub async fn invalidate(&self, sn: &Sn) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(sn);
        }
        if let Err(e) = self.bus.publish(TOPIC, sn.as_str()).await {
            tracing::warn!(error = %e, %sn, "directory invalidation not published");
        }
    }
}

async fn load(db: &Db, sn: &Sn) -> Result<Option<Route>> {
    let Some(device) = db.devices().find_by_sn(sn).await? else {
        return Ok(None);
    };
    let site = db.sites().get(device.tenant, device.site).await?;
    let open_command = db.commands().oldest_open(device.tenant, device.id).await?;
    let credentials = match device.protocol {
        Protocol::Ipc => db.credentials().for_device(device.id).await?,
        _ => None,
    };
    Ok(Some(Route {
        device,
        timezone: site.timezone,
        open_command,
        credentials,
    }))
}

async fn listen(bus: Bus, entries: Entries, generation: Arc<AtomicU64>) {
    let mut messages = bus.subscribe();
    loop {
        // Only what concerns the directory bumps the generation: other
        // topics (live updates, one per upload) would keep every load from
        // being cached.
        match messages.recv().await {
            Ok(Message { topic, payload }) if topic == TOPIC => {
                generation.fetch_add(1, Ordering::AcqRel);
                if let (Ok(sn), Ok(mut entries)) = (Sn::parse(&payload), entries.write()) {
                    entries.remove(&sn);
                }
            }
            Ok(Message { topic, .. }) if topic == Message::RESYNC => {
                generation.fetch_add(1, Ordering::AcqRel);
                if let Ok(mut entries) = entries.write() {
                    entries.clear();
                }
            }
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => {
                // Invalidations were missed: trust nothing cached.
                generation.fetch_add(1, Ordering::AcqRel);
                if let Ok(mut entries) = entries.write() {
                    entries.clear();
                }
            }
            Err(RecvError::Closed) => return,
        }
    }
}
