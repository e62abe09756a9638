//! Live updates over WebSocket (`/graphql/ws`, graphql-transport-ws or the
//! older graphql-ws protocol). Uploads publish on the bus, which is Redis
//! pub/sub when configured, so a subscriber on one instance hears uploads
//! that arrived at another.

use std::time::Duration;

use async_graphql::{Context, ID, SimpleObject, Subscription as GraphqlSubscription};
use chrono::{DateTime, TimeDelta, Utc};
use footfall_domain::buckets::Granularity;
use footfall_domain::{DeviceId, Principal, Site, SiteId};
use footfall_infra::bus::Message;
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;

use super::error::GqlResult;
use super::types::{Counts, Occupancy};
use super::{caller, state};
use crate::services::footfall::{footfall_of, site_occupancy};
use crate::state::AppState;

/// Bus topic of "a site's counts changed".
pub const SITE_TOPIC: &str = "site";

/// What ingest publishes after storing an upload.
#[derive(Debug, Serialize, Deserialize)]
pub struct SiteChanged {
    pub site: SiteId,
    pub device: DeviceId,
}

/// Updates are coalesced: at most one per subscription per this interval.
const COALESCE: Duration = Duration::from_millis(500);

/// A site's counts so far today and its occupancy, as of `at`.
#[derive(SimpleObject)]
pub struct SiteUpdate {
    pub site_id: ID,
    pub at: DateTime<Utc>,
    /// Footfall since the site's local midnight.
    pub today: Counts,
    pub occupancy: Option<Occupancy>,
    /// The device whose upload prompted this update; null for the first.
    pub device_id: Option<ID>,
}

pub struct Subscription;

#[GraphqlSubscription]
impl Subscription {
    /// A site's counts today and occupancy: once when subscribing, then after
    /// uploads from its devices arrive (at most twice a second).
    async fn site_updates(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = SiteUpdate>> {
        let who = *caller(ctx)?;
        // The stream ends when the connection's token does.
        let until = ctx
            .data_opt::<super::SessionExpiry>()
            .map(|e| (e.0 - Utc::now()).to_std().unwrap_or_default());
        let app = state(ctx).clone();
        let site = app
            .db
            .sites()
            .get(who.tenant, SiteId::parse(&site_id).gql()?)
            .await
            .gql()?;
        let messages = app.bus.subscribe();
        let start = Some(None);
        let updates = futures_util::stream::unfold(
            (app, who, site, messages, start),
            |(app, who, site, mut messages, mut pending)| async move {
                loop {
                    if let Some(device) = pending.take() {
                        match update(&app, &who, &site, device).await {
                            Ok(u) => return Some((u, (app, who, site, messages, None))),
                            Err(e) => tracing::warn!(error = %e, site = %site.id, "site update not computed"),
                        }
                    }
                    match messages.recv().await {
                        Ok(Message { topic, payload }) if topic == SITE_TOPIC => {
                            match serde_json::from_str::<SiteChanged>(&payload) {
                                Ok(changed) if changed.site == site.id => {
                                    tokio::time::sleep(COALESCE).await;
                                    // Everything queued meanwhile is in this update.
                                    while messages.try_recv().is_ok() {}
                                    pending = Some(Some(changed.device));
                                }
                                _ => {}
                            }
                        }
                        Ok(Message { topic, .. }) if topic == Message::RESYNC => pending = Some(None),
                        Ok(_) => {}
                        Err(RecvError::Lagged(_)) => pending = Some(None),
                        Err(RecvError::Closed) => return None,
                    }
                }
            },
        );
        let expiry = async move {
            match until {
                Some(wait) => tokio::time::sleep(wait).await,
                None => std::future::pending().await,
            }
        };
        Ok(updates.take_until(expiry))
    }
}

async fn update(
    app: &AppState,
    who: &Principal,
    site: &Site,
    device: Option<DeviceId>,
) -> footfall_domain::Result<SiteUpdate> {
    let now = Utc::now();
    let today = footfall_of(
        app,
        who,
        site.clone(),
        now,
        now + TimeDelta::seconds(1),
        Granularity::Day,
    )
    .await?;
    let occupancy = site_occupancy(app, who, site).await?;
    Ok(SiteUpdate {
        site_id: ID(site.id.to_string()),
        at: now,
        today: today.totals.all.into(),
        occupancy: occupancy.map(Into::into),
        device_id: device.map(|d| ID(d.to_string())),
    })
}
