//! Reading footfall and occupancy for tenants.

use chrono::{DateTime, TimeDelta, Utc};
use footfall_domain::buckets::{Bucket, Granularity, buckets};
use footfall_domain::counting::Tally;
use footfall_domain::{DeviceId, Error, Principal, Result, Site, SiteId};
use footfall_infra::footfall::{Grain, Row};

use crate::state::AppState;

/// One bucket of footfall.
#[derive(Debug, Clone, Copy)]
pub struct FootfallBucket {
    pub bucket: Bucket,
    pub tally: Tally,
    /// Average stay in the field of view, ms, where devices sent it.
    pub avg_stay_ms: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct FootfallReport {
    pub site: Site,
    pub granularity: Granularity,
    /// The range the buckets cover: the asked range snapped outward.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub buckets: Vec<FootfallBucket>,
    pub totals: Tally,
    pub avg_stay_ms: Option<u64>,
    /// Sum of stay times (ms) of `stay_people`, to combine reports.
    pub stay_ms_sum: u64,
    pub stay_people: u64,
}

fn average(ms_sum: u64, people: u64) -> Option<u64> {
    (people > 0).then(|| ms_sum / people)
}

fn grain(g: Granularity) -> Grain {
    match g {
        Granularity::QuarterHour | Granularity::Hour => Grain::Quarter,
        Granularity::Day | Granularity::Week | Granularity::Month => Grain::Day,
    }
}

/// The site's buckets for the range, and the stored-row range they cover.
fn slots(
    site: &Site,
    granularity: Granularity,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(Vec<Bucket>, i64, i64)> {
    let slots = buckets(site.timezone, granularity, from, to)?;
    let lo = slots.first().map_or(0, Bucket::start_unix);
    let hi = slots.last().map_or(0, Bucket::end_unix);
    Ok((slots, lo, hi))
}

/// Sums stored rows into the site's buckets; every bucket appears.
fn report(site: Site, granularity: Granularity, slots: Vec<Bucket>, rows: &[Row]) -> FootfallReport {
    let mut sums = vec![(Tally::ZERO, 0u64, 0u64); slots.len()];
    for r in rows.iter().filter(|r| r.site == site.id) {
        // Buckets are sorted and contiguous, and every stored row starts on a
        // boundary of them, so each row falls in exactly one.
        let i = slots.partition_point(|b| b.end_unix() <= r.at);
        if let Some(slot) = sums.get_mut(i) {
            slot.0 += r.tally;
            slot.1 += r.stay_ms_sum;
            slot.2 += r.stay_people;
        }
    }
    let from = slots.first().map_or_else(Utc::now, |b| b.start.with_timezone(&Utc));
    let to = slots.last().map_or(from, |b| b.end.with_timezone(&Utc));
    let (mut totals, mut stay_sum, mut stay_people) = (Tally::ZERO, 0, 0);
    let buckets = slots
        .into_iter()
        .zip(sums)
        .map(|(bucket, (tally, ms, people))| {
            totals += tally;
            stay_sum += ms;
            stay_people += people;
            FootfallBucket {
                bucket,
                tally,
                avg_stay_ms: average(ms, people),
            }
        })
        .collect();
    FootfallReport {
        site,
        granularity,
        from,
        to,
        buckets,
        totals,
        avg_stay_ms: average(stay_sum, stay_people),
        stay_ms_sum: stay_sum,
        stay_people,
    }
}

/// Footfall of a site in its own timezone: every bucket of the range, empty
/// ones as zeros; totals are the sum of the buckets.
pub async fn site_footfall(
    state: &AppState,
    who: &Principal,
    site: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    granularity: Granularity,
) -> Result<FootfallReport> {
    let site = state.db.sites().get(who.tenant, SiteId::parse(site)?).await?;
    footfall_of(state, who, site, from, to, granularity).await
}

pub async fn footfall_of(
    state: &AppState,
    who: &Principal,
    site: Site,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    granularity: Granularity,
) -> Result<FootfallReport> {
    let (slots, lo, hi) = slots(&site, granularity, from, to)?;
    let rows = state
        .db
        .footfall()
        .rows(who.tenant, &[site.id], grain(granularity), lo, hi, false)
        .await?;
    Ok(report(site, granularity, slots, &rows))
}

/// Most buckets one request may produce over all its sites.
pub const MAX_BUCKETS_PER_REQUEST: usize = 100_000;

/// Footfall of several sites (all of the tenant's when `sites` is `None`),
/// each in its own timezone, read in one query.
pub async fn sites_footfall(
    state: &AppState,
    who: &Principal,
    sites: Option<&[String]>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    granularity: Granularity,
) -> Result<Vec<FootfallReport>> {
    let chosen = match sites {
        None => state.db.sites().list(who.tenant).await?,
        Some(ids) => {
            let mut chosen = Vec::with_capacity(ids.len());
            for id in ids {
                chosen.push(state.db.sites().get(who.tenant, SiteId::parse(id)?).await?);
            }
            chosen
        }
    };
    let mut plans = Vec::with_capacity(chosen.len());
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    let mut total = 0;
    for site in chosen {
        let (slots, a, b) = slots(&site, granularity, from, to)?;
        total += slots.len();
        if total > MAX_BUCKETS_PER_REQUEST {
            return Err(Error::invalid(
                "granularity",
                format!(
                    "the sites and range need more than {MAX_BUCKETS_PER_REQUEST} buckets; choose a coarser \
                     granularity, a shorter range or fewer sites"
                ),
            ));
        }
        lo = lo.min(a);
        hi = hi.max(b);
        plans.push((site, slots));
    }
    let ids: Vec<SiteId> = plans.iter().map(|(s, _)| s.id).collect();
    let rows = state
        .db
        .footfall()
        .rows(who.tenant, &ids, grain(granularity), lo, hi, false)
        .await?;
    Ok(plans
        .into_iter()
        .map(|(site, slots)| report(site, granularity, slots, &rows))
        .collect())
}

/// One device's share of a site's footfall.
#[derive(Debug, Clone, Copy)]
pub struct DeviceShare {
    pub device: DeviceId,
    pub tally: Tally,
    pub avg_stay_ms: Option<u64>,
}

/// Each device's footfall over the buckets of a report's range, largest
/// `in` first. Devices since unbound appear too: their counts stay with the
/// site.
pub async fn device_breakdown(state: &AppState, who: &Principal, of: &FootfallReport) -> Result<Vec<DeviceShare>> {
    let rows = state
        .db
        .footfall()
        .rows(
            who.tenant,
            &[of.site.id],
            grain(of.granularity),
            of.from.timestamp(),
            of.to.timestamp(),
            true,
        )
        .await?;
    let mut shares: Vec<(DeviceId, Tally, u64, u64)> = Vec::new();
    for r in rows {
        let Some(device) = r.device else { continue };
        match shares.iter_mut().find(|s| s.0 == device) {
            Some(s) => {
                s.1 += r.tally;
                s.2 += r.stay_ms_sum;
                s.3 += r.stay_people;
            }
            None => shares.push((device, r.tally, r.stay_ms_sum, r.stay_people)),
        }
    }
    shares.sort_by_key(|s| std::cmp::Reverse(s.1.all.r#in));
    Ok(shares
        .into_iter()
        .map(|(device, tally, ms, people)| DeviceShare {
            device,
            tally,
            avg_stay_ms: average(ms, people),
        })
        .collect())
}

/// Two periods of one site side by side.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub current: FootfallReport,
    pub previous: FootfallReport,
}

/// Compares `[from, to)` with `[previous_from, previous_to)`, by default the
/// period of the same length just before (last week for a week).
pub async fn compare(
    state: &AppState,
    who: &Principal,
    site: &str,
    granularity: Granularity,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    previous: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> Result<Comparison> {
    let site = state.db.sites().get(who.tenant, SiteId::parse(site)?).await?;
    let current = footfall_of(state, who, site.clone(), from, to, granularity).await?;
    let (previous_from, previous_to) = previous.unwrap_or_else(|| {
        let length = current.to - current.from;
        (current.from - length, current.from)
    });
    let previous = footfall_of(state, who, site, previous_from, previous_to, granularity).await?;
    Ok(Comparison { current, previous })
}

/// Where an occupancy figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OccupancySource {
    /// Devices' own counts of people in view (stay uploads).
    Stay,
    /// In minus out since the site's local midnight.
    InMinusOut,
    /// Stay counts where devices send them, in minus out for the others.
    Mixed,
}

#[derive(Debug, Clone, Copy)]
pub struct Occupancy {
    pub current: u64,
    pub as_of: DateTime<Utc>,
    pub source: OccupancySource,
}

/// A stay reading older than this no longer says who is there now.
pub const STAY_FRESH_FOR: TimeDelta = TimeDelta::minutes(15);

/// A site's occupancy: the sum of its devices' latest stay counts, and for
/// devices without fresh stay data, in minus out since local midnight (never
/// below zero). `None` for a site without devices.
pub async fn site_occupancy(state: &AppState, who: &Principal, site: &Site) -> Result<Option<Occupancy>> {
    let devices = state.db.devices().list(who.tenant, Some(site.id)).await?;
    if devices.is_empty() {
        return Ok(None);
    }
    let now = Utc::now();
    let fresh_after = (now - STAY_FRESH_FOR).timestamp();
    let mut current = 0u64;
    let mut stay_as_of: Option<i64> = None;
    let mut counted_by_flow = Vec::new();
    for d in &devices {
        match d.state.occupancy {
            Some(o) if o.at >= fresh_after => {
                current += u64::from(o.current);
                stay_as_of = Some(stay_as_of.map_or(o.at, |a| a.max(o.at)));
            }
            _ => counted_by_flow.push(d.id),
        }
    }
    let source = match (stay_as_of.is_some(), counted_by_flow.is_empty()) {
        (true, true) => OccupancySource::Stay,
        (false, _) => OccupancySource::InMinusOut,
        (true, false) => OccupancySource::Mixed,
    };
    if !counted_by_flow.is_empty() {
        let today = buckets(site.timezone, Granularity::Day, now, now + TimeDelta::seconds(1))?;
        let midnight = today.first().map_or(now.timestamp(), Bucket::start_unix);
        let rows = state
            .db
            .footfall()
            .rows(
                who.tenant,
                &[site.id],
                Grain::Quarter,
                midnight,
                now.timestamp() + 1,
                true,
            )
            .await?;
        let (ins, outs) = rows
            .iter()
            .filter(|r| r.device.is_some_and(|d| counted_by_flow.contains(&d)))
            .fold((0u64, 0u64), |(i, o), r| (i + r.tally.all.r#in, o + r.tally.all.out));
        current += ins.saturating_sub(outs);
    }
    let as_of = match source {
        OccupancySource::Stay => stay_as_of.and_then(|t| DateTime::from_timestamp(t, 0)).unwrap_or(now),
        _ => now,
    };
    Ok(Some(Occupancy { current, as_of, source }))
}
