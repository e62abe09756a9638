//! Live-update announcements, coalesced. An upload notes its site here and
//! returns; every [`ANNOUNCE_EVERY`] one message per changed site goes on
//! the bus (one round trip to Redis for all of them). Subscribers coalesce
//! further (see `graphql::subscription`), so the delay is not seen, and at
//! thousands of uploads a second the bus carries a handful of messages
//! instead of one per upload.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use footfall_domain::{DeviceId, SiteId};
use footfall_infra::bus::Bus;

use crate::graphql::subscription::{SITE_TOPIC, SiteChanged};

/// How often noted changes are announced.
pub const ANNOUNCE_EVERY: Duration = Duration::from_millis(100);

/// Sites whose counts changed since the last announcement, each with the
/// device that uploaded last.
#[derive(Default)]
pub struct Announcer {
    pending: Mutex<HashMap<SiteId, DeviceId>>,
}

impl Announcer {
    /// An announcer publishing on `bus` until it is dropped.
    pub fn start(bus: Bus) -> Arc<Announcer> {
        let announcer = Arc::new(Announcer::default());
        let weak = Arc::downgrade(&announcer);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(ANNOUNCE_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(announcer) = weak.upgrade() else { return };
                let due = announcer.take();
                drop(announcer);
                let payloads: Vec<String> = due
                    .into_iter()
                    .filter_map(|(site, device)| serde_json::to_string(&SiteChanged { site, device }).ok())
                    .collect();
                if let Err(e) = bus.publish_all(SITE_TOPIC, &payloads).await {
                    tracing::warn!(error = %e, sites = payloads.len(), "site updates not announced");
                }
            }
        });
        announcer
    }

    /// Notes that an upload from `device` changed `site`'s counts.
    pub fn note(&self, site: SiteId, device: DeviceId) {
        match self.pending.lock() {
            Ok(mut pending) => {
                pending.insert(site, device);
            }
            Err(_) => tracing::error!("announcer lock poisoned; site update dropped"),
        }
    }

    fn take(&self) -> HashMap<SiteId, DeviceId> {
        self.pending
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }
}
