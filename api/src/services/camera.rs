//! What IPC cameras reported, for their tenant: events with their images,
//! sensor readings, the latest temperature per region, alarms per day.

use chrono::{DateTime, FixedOffset, Utc};
use footfall_domain::buckets::{Granularity, buckets};
use footfall_domain::camera::{EventSource, SensorKind, VehicleDirection};
use footfall_domain::{DeviceId, Entity, Error, Principal, Result, SiteId};
use footfall_infra::blobs::MediaType;
use footfall_infra::camera::{EventFilter, SampleFilter, StoredCameraEvent, StoredSample};
use footfall_infra::events::EventScope;

use crate::state::AppState;

/// Most items one page may hold.
pub const MAX_PAGE: u64 = 500;
const DEFAULT_PAGE: i64 = 100;

/// A page, newest first.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The cursor and page size of a request.
pub fn paging(after: Option<&str>, limit: Option<i64>) -> Result<(Option<i64>, u64)> {
    let limit = u64::try_from(limit.unwrap_or(DEFAULT_PAGE))
        .ok()
        .filter(|l| (1..=MAX_PAGE).contains(l))
        .ok_or_else(|| Error::invalid("limit", format!("must be between 1 and {MAX_PAGE}")))?;
    let before = after
        .map(|c| {
            c.trim()
                .parse::<i64>()
                .ok()
                .filter(|c| *c > 0)
                .ok_or_else(|| Error::invalid("after", "not a cursor from a previous page"))
        })
        .transpose()?;
    Ok((before, limit))
}

fn page<T>(mut items: Vec<T>, limit: u64, id: impl Fn(&T) -> i64) -> Page<T> {
    let more = items.len() as u64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if more {
        items.last().map(|i| id(i).to_string())
    } else {
        None
    };
    Page { items, next_cursor }
}

fn millis(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(|t| t.timestamp_millis())
}

fn check_range(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Result<()> {
    if let (Some(from), Some(to)) = (from, to)
        && from >= to
    {
        return Err(Error::invalid("from", "must be before `to`"));
    }
    Ok(())
}

/// Filters of an event listing, as a caller sends them.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventQuery<'a> {
    pub source: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub after: Option<&'a str>,
    pub first: Option<i64>,
}

/// Events of a device or a site, newest first.
pub async fn events(
    state: &AppState,
    who: &Principal,
    scope: EventScope,
    query: EventQuery<'_>,
) -> Result<Page<StoredCameraEvent>> {
    let (before, limit) = paging(query.after, query.first)?;
    check_range(query.from, query.to)?;
    let source = query
        .source
        .map(|s| {
            EventSource::parse(s).ok_or_else(|| {
                Error::invalid(
                    "source",
                    format!("unknown source {s:?}; expected alarm, event, snapshot or metadata"),
                )
            })
        })
        .transpose()?;
    require(state, who, scope).await?;
    let filter = EventFilter {
        source,
        kind: query.kind.map(|k| k.trim().to_string()).filter(|k| !k.is_empty()),
        from_ms: millis(query.from),
        to_ms: millis(query.to),
    };
    let items = state
        .db
        .camera()
        .events(who.tenant, scope, &filter, before, limit + 1)
        .await?;
    Ok(page(items, limit, |e| e.id))
}

/// The scope's device or site must be the caller's tenant's.
async fn require(state: &AppState, who: &Principal, scope: EventScope) -> Result<()> {
    match scope {
        EventScope::Device(d) => state.db.devices().get(who.tenant, d).await.map(|_| ()),
        EventScope::Site(s) => state.db.sites().get(who.tenant, s).await.map(|_| ()),
    }
}

/// One event by id.
pub async fn event(state: &AppState, who: &Principal, id: &str) -> Result<StoredCameraEvent> {
    let id = id.trim().parse::<i64>().map_err(|_| Error::NotFound(Entity::Event))?;
    state.db.camera().event(who.tenant, id).await
}

/// An event's image, from the blob store.
pub async fn event_image(state: &AppState, who: &Principal, id: &str, cutout: bool) -> Result<(MediaType, Vec<u8>)> {
    let event = event(state, who, id).await?;
    let key = if cutout {
        event
            .attributes
            .as_ref()
            .and_then(|a| a.get("cutoutImageKey"))
            .and_then(|k| k.as_str())
            .map(str::to_string)
    } else {
        event.image_key
    };
    let key = key.ok_or(Error::NotFound(Entity::Image))?;
    state
        .blobs
        .get(who.tenant, &key)
        .await?
        .ok_or(Error::NotFound(Entity::Image))
}

/// Filters of a sensor-reading listing.
#[derive(Debug, Clone, Copy, Default)]
pub struct SampleQuery<'a> {
    pub kind: Option<&'a str>,
    pub key: Option<&'a str>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub after: Option<&'a str>,
    pub first: Option<i64>,
}

fn sensor_kind(s: &str) -> Result<SensorKind> {
    SensorKind::parse(s)
        .ok_or_else(|| Error::invalid("kind", format!("unknown kind {s:?}; expected temperature or modbus")))
}

/// A device's sensor readings, newest first.
pub async fn samples(
    state: &AppState,
    who: &Principal,
    device: &str,
    query: SampleQuery<'_>,
) -> Result<Page<StoredSample>> {
    let (before, limit) = paging(query.after, query.first)?;
    check_range(query.from, query.to)?;
    let kind = query.kind.map(sensor_kind).transpose()?;
    let device = state.db.devices().get(who.tenant, DeviceId::parse(device)?).await?;
    let filter = SampleFilter {
        kind,
        key: query.key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty()),
        from_ms: millis(query.from),
        to_ms: millis(query.to),
    };
    let items = state
        .db
        .camera()
        .samples(who.tenant, device.id, &filter, before, limit + 1)
        .await?;
    Ok(page(items, limit, |s| s.id))
}

/// The latest temperature of each of a device's thermal regions.
pub async fn latest_temperatures(state: &AppState, who: &Principal, device: &str) -> Result<Vec<StoredSample>> {
    let device = state.db.devices().get(who.tenant, DeviceId::parse(device)?).await?;
    state
        .db
        .camera()
        .latest(who.tenant, device.id, SensorKind::Temperature)
        .await
}

/// Alarms of one local day of the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCount {
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub alarms: u64,
}

/// Vehicles counted in one bucket of the site's timezone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VehicleBucket {
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub r#in: u64,
    pub out: u64,
    pub pass: u64,
}

/// The site (or one of its devices) to count for.
async fn count_scope(
    state: &AppState,
    who: &Principal,
    site: &str,
    device: Option<&str>,
) -> Result<(footfall_domain::Site, EventScope)> {
    let site = state.db.sites().get(who.tenant, SiteId::parse(site)?).await?;
    let scope = match device {
        Some(id) => {
            let device = state.db.devices().get(who.tenant, DeviceId::parse(id)?).await?;
            if device.site != site.id {
                return Err(Error::invalid("deviceId", "the device is not at this site"));
            }
            EventScope::Device(device.id)
        }
        None => EventScope::Site(site.id),
    };
    Ok((site, scope))
}

/// Vehicles counted (edge boxes, analysis servers) per bucket of the site's
/// timezone, empty buckets included, as footfall is for people.
pub async fn vehicle_counts(
    state: &AppState,
    who: &Principal,
    site: &str,
    device: Option<&str>,
    granularity: Granularity,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<VehicleBucket>> {
    let (site, scope) = count_scope(state, who, site, device).await?;
    let spans = buckets(site.timezone, granularity, from, to)?;
    let (Some(first), Some(last)) = (spans.first(), spans.last()) else {
        return Ok(Vec::new());
    };
    let quarters = state
        .db
        .camera()
        .vehicles_per_quarter_hour(who.tenant, scope, first.start_unix() * 1000, last.end_unix() * 1000)
        .await?;
    let mut out: Vec<VehicleBucket> = spans
        .iter()
        .map(|b| VehicleBucket {
            start: b.start,
            end: b.end,
            r#in: 0,
            out: 0,
            pass: 0,
        })
        .collect();
    let mut i = 0;
    for (quarter, direction, n) in quarters {
        while i < out.len() && out[i].end.timestamp() <= quarter {
            i += 1;
        }
        if let Some(b) = out.get_mut(i)
            && b.start.timestamp() <= quarter
        {
            match direction {
                VehicleDirection::In => b.r#in += n,
                VehicleDirection::Out => b.out += n,
                VehicleDirection::Pass => b.pass += n,
            }
        }
    }
    Ok(out)
}

/// Alarm and analytics events per local day of the site (optionally of one
/// of its devices) over `[from, to)`, days with none included.
pub async fn alarm_counts(
    state: &AppState,
    who: &Principal,
    site: &str,
    device: Option<&str>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DayCount>> {
    let (site, scope) = count_scope(state, who, site, device).await?;
    let days = buckets(site.timezone, Granularity::Day, from, to)?;
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Ok(Vec::new());
    };
    let quarters = state
        .db
        .camera()
        .alarms_per_quarter_hour(who.tenant, scope, first.start_unix() * 1000, last.end_unix() * 1000)
        .await?;
    let mut counts: Vec<DayCount> = days
        .iter()
        .map(|d| DayCount {
            start: d.start,
            end: d.end,
            alarms: 0,
        })
        .collect();
    let mut day = 0;
    for (quarter, n) in quarters {
        while day < counts.len() && counts[day].end.timestamp() <= quarter {
            day += 1;
        }
        if let Some(d) = counts.get_mut(day)
            && d.start.timestamp() <= quarter
        {
            d.alarms += n;
        }
    }
    Ok(counts)
}
