//! GraphQL object types. Field names follow API.md.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, FixedOffset, Utc};
use footfall_domain::buckets::Granularity as DomainGranularity;
use footfall_domain::counting::{Counts as DomainCounts, Tally};
use footfall_domain::{
    Command, CommandStatus as DomainCommandStatus, DataMode as DomainDataMode, DeviceConfig as DomainConfig,
    Site as DomainSite, Tenant, User as DomainUser,
};
use footfall_infra::events::EventScope;

use super::camera::{
    self, AlarmDay, CameraEventConnection, CameraEventFilter, SensorKind, SensorReading, SensorReadingConnection,
};
use super::error::GqlResult;
use super::error::to_graphql_shared;
use super::loaders::{SiteDevices, Sites};
use super::{caller, state};
use crate::services::accounts::Session as DomainSession;
use crate::services::devices::{self, DeviceStatus, EventPage};
use crate::services::footfall::{
    self, Comparison, FootfallReport, Occupancy as DomainOccupancy, OccupancySource as DomainOccupancySource,
};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DataMode {
    /// Each upload is the count of its own interval.
    Add,
    /// Each upload is a running total since the start of the statistics period.
    Total,
}

impl From<DomainDataMode> for DataMode {
    fn from(m: DomainDataMode) -> Self {
        match m {
            DomainDataMode::Add => DataMode::Add,
            DomainDataMode::Total => DataMode::Total,
        }
    }
}

impl From<DataMode> for DomainDataMode {
    fn from(m: DataMode) -> Self {
        match m {
            DataMode::Add => DomainDataMode::Add,
            DataMode::Total => DomainDataMode::Total,
        }
    }
}

/// The configuration the platform wants a device to run with.
#[derive(SimpleObject)]
pub struct DeviceConfig {
    /// Minutes between uploads; 0 = real time.
    pub upload_interval: i32,
    pub data_mode: DataMode,
    /// Seconds between IPC keepalives (`keepinterval`).
    pub keep_interval: i32,
}

impl From<DomainConfig> for DeviceConfig {
    fn from(c: DomainConfig) -> Self {
        DeviceConfig {
            upload_interval: i32::from(c.upload_interval_minutes()),
            data_mode: c.data_mode.into(),
            keep_interval: i32::from(c.keep_interval_seconds()),
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Tenant")]
pub struct TenantObject {
    pub id: ID,
    pub name: String,
}

impl From<&Tenant> for TenantObject {
    fn from(t: &Tenant) -> Self {
        TenantObject {
            id: ID(t.id.to_string()),
            name: t.name.to_string(),
        }
    }
}

pub struct User(pub DomainUser);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn email(&self) -> &str {
        self.0.email.as_str()
    }
    /// `owner`, `admin` or `viewer`.
    async fn role(&self) -> &str {
        self.0.role.as_str()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn tenant(&self, ctx: &Context<'_>) -> async_graphql::Result<TenantObject> {
        let tenant = state(ctx).db.accounts().tenant(self.0.tenant).await.gql()?;
        Ok(TenantObject::from(&tenant))
    }
}

/// An access token with who it belongs to.
#[derive(SimpleObject)]
pub struct Session {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
    pub tenant: TenantObject,
    pub user: User,
}

impl From<DomainSession> for Session {
    fn from(s: DomainSession) -> Self {
        Session {
            access_token: s.token.token,
            token_type: "Bearer".into(),
            expires_in: i64::try_from(s.token.expires_in.as_secs()).unwrap_or(i64::MAX),
            tenant: TenantObject::from(&s.tenant),
            user: User(s.user),
        }
    }
}

pub struct Site(pub DomainSite);

#[Object]
impl Site {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        self.0.name.as_str()
    }
    /// IANA timezone name; the site's footfall days follow it.
    async fn timezone(&self) -> &str {
        self.0.timezone.name()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The devices bound to this site.
    async fn devices(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Device>> {
        let loader = ctx.data::<DataLoader<SiteDevices>>()?;
        let list = loader.load_one(self.0.id).await.map_err(|e| to_graphql_shared(&e))?;
        Ok(list.unwrap_or_default().into_iter().map(Device).collect())
    }
    /// The analysis-server zones (`taskNum` + `regionCode`) of the site:
    /// devices of protocol `analysis_zone`, created by their integration.
    async fn zones(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Device>> {
        let loader = ctx.data::<DataLoader<SiteDevices>>()?;
        let list = loader.load_one(self.0.id).await.map_err(|e| to_graphql_shared(&e))?;
        Ok(list
            .unwrap_or_default()
            .into_iter()
            .filter(|d| d.device.protocol == footfall_domain::Protocol::AnalysisZone)
            .map(Device)
            .collect())
    }
    /// People in the site now: the sum of the devices' latest stay counts, or
    /// in minus out since local midnight for devices without stay data
    /// (`source` says which). Null for a site without devices.
    async fn occupancy(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Occupancy>> {
        let who = caller(ctx)?;
        Ok(footfall::site_occupancy(state(ctx), who, &self.0)
            .await
            .gql()?
            .map(Into::into))
    }
    async fn default_config(&self) -> SiteDefaultConfig {
        SiteDefaultConfig {
            upload_interval: self.0.defaults.upload_interval_minutes.map(i32::from),
            data_mode: self.0.defaults.data_mode.map(Into::into),
            keep_interval: self.0.defaults.keep_interval_seconds.map(i32::from),
        }
    }
    /// Events the site's IPC cameras reported, newest first.
    async fn camera_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<CameraEventFilter>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<CameraEventConnection> {
        camera::events(ctx, EventScope::Site(self.0.id), filter, first, after).await
    }
    /// Vehicles counted at the site (edge boxes, analysis servers), kept
    /// apart from people, per bucket of the site's timezone over `[from, to)`.
    async fn vehicle_counts(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        granularity: Granularity,
        device_id: Option<ID>,
    ) -> async_graphql::Result<Vec<camera::VehicleBucket>> {
        camera::vehicle_counts(
            ctx,
            &self.0.id.to_string(),
            device_id.as_ref().map(|d| d.as_str()),
            granularity.into(),
            from,
            to,
        )
        .await
    }
    /// Alarms and analytics events of the site's cameras per local day over
    /// `[from, to)` (snapped to local days), days without any included.
    async fn alarm_counts(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        device_id: Option<ID>,
    ) -> async_graphql::Result<Vec<AlarmDay>> {
        camera::alarm_counts(
            ctx,
            &self.0.id.to_string(),
            device_id.as_ref().map(|d| d.as_str()),
            from,
            to,
        )
        .await
    }
    /// Per-person events of the site's devices, newest first.
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<EventConnection> {
        let who = caller(ctx)?;
        let page = devices::events(
            state(ctx),
            who,
            EventScope::Site(self.0.id),
            after.as_deref(),
            Some(i64::from(first)),
        )
        .await
        .gql()?;
        Ok(page.into())
    }
}

pub struct Device(pub DeviceStatus);

#[Object]
impl Device {
    async fn id(&self) -> ID {
        ID(self.0.device.id.to_string())
    }
    /// Serial number, trimmed and upper-cased.
    async fn sn(&self) -> &str {
        self.0.device.sn.as_str()
    }
    async fn name(&self) -> Option<&str> {
        self.0.device.name.as_ref().map(|n| n.as_str())
    }
    /// `people_counter`, `ipc` or `edge_box`.
    async fn protocol(&self) -> &str {
        self.0.device.protocol.as_str()
    }
    /// Whether the device made contact within its last three heartbeat periods.
    async fn online(&self) -> bool {
        self.0.online
    }
    async fn last_seen_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_seen_at
    }
    /// The configuration the platform wants; sent in every heartbeat answer.
    async fn config(&self) -> DeviceConfig {
        self.0.device.config.into()
    }
    /// The configuration last sent to the device.
    async fn delivered_config(&self) -> Option<DeviceConfig> {
        self.0.device.state.delivered.map(|d| d.config.into())
    }
    /// When the delivered configuration first went out.
    async fn config_delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.device.state.delivered.map(|d| d.at)
    }
    /// Whether the device has been sent its current configuration.
    async fn config_in_sync(&self) -> bool {
        self.0
            .device
            .state
            .delivered
            .is_some_and(|d| d.config == self.0.device.config)
    }
    async fn last_upload_at(&self) -> Option<DateTime<Utc>> {
        self.0.device.state.last_upload_at
    }
    /// Firmware version the device reports (`swRelease`).
    async fn firmware(&self) -> Option<&str> {
        self.0.device.state.reported.as_ref().and_then(|r| r.get("swRelease"))
    }
    async fn ip_address(&self) -> Option<&str> {
        self.0.device.state.reported.as_ref().and_then(|r| r.get("ipAddress"))
    }
    async fn mac_address(&self) -> Option<&str> {
        self.0.device.state.reported.as_ref().and_then(|r| r.get("macAddress"))
    }
    /// Everything the device reports about itself in heartbeats, as sent.
    async fn reported(&self) -> Option<async_graphql::Json<std::collections::BTreeMap<String, String>>> {
        self.0
            .device
            .state
            .reported
            .as_ref()
            .map(|r| async_graphql::Json(r.fields.iter().cloned().collect()))
    }
    /// People in view, from the device's latest stay upload.
    async fn occupancy(&self) -> Option<i32> {
        self.0
            .device
            .state
            .occupancy
            .map(|o| i32::try_from(o.current).unwrap_or(i32::MAX))
    }
    /// History requests and their status, newest first.
    async fn commands(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<DeviceCommand>> {
        let who = caller(ctx)?;
        let list = state(ctx)
            .db
            .commands()
            .list(who.tenant, self.0.device.id)
            .await
            .gql()?;
        Ok(list.into_iter().map(DeviceCommand).collect())
    }
    /// IPC cameras: the Digest username set for the camera; null until
    /// credentials are set (the camera is refused until then).
    async fn username(&self) -> Option<&str> {
        self.0.digest_username.as_deref()
    }
    /// IPC cameras: events they reported (alarms, analytics events,
    /// snapshots, TLV faces and text), newest first.
    async fn camera_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<CameraEventFilter>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<CameraEventConnection> {
        camera::events(ctx, EventScope::Device(self.0.device.id), filter, first, after).await
    }
    /// IPC cameras: sensor readings (temperatures, modbus registers), newest first.
    #[allow(clippy::too_many_arguments)]
    async fn sensor_readings(
        &self,
        ctx: &Context<'_>,
        kind: Option<SensorKind>,
        key: Option<String>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<SensorReadingConnection> {
        camera::samples(ctx, &self.0.device.id.to_string(), kind, key, from, to, first, after).await
    }
    /// IPC cameras: the latest temperature of each thermal region.
    async fn latest_temperatures(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SensorReading>> {
        camera::latest_temperatures(ctx, &self.0.device.id.to_string()).await
    }
    /// Per-person events, newest first.
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<EventConnection> {
        let who = caller(ctx)?;
        let page = devices::events(
            state(ctx),
            who,
            EventScope::Device(self.0.device.id),
            after.as_deref(),
            Some(i64::from(first)),
        )
        .await
        .gql()?;
        Ok(page.into())
    }
    async fn site_id(&self) -> ID {
        ID(self.0.device.site.to_string())
    }
    async fn site(&self, ctx: &Context<'_>) -> async_graphql::Result<Site> {
        let loader = ctx.data::<DataLoader<Sites>>()?;
        let site = loader
            .load_one(self.0.device.site)
            .await
            .map_err(|e| to_graphql_shared(&e))?;
        site.map(Site)
            .ok_or_else(|| super::error::to_graphql(footfall_domain::Error::NotFound(footfall_domain::Entity::Site)))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.device.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.device.updated_at
    }
}

/// Counts in the four directions. Values past 2^31 − 1 are capped (GraphQL Int).
#[derive(SimpleObject, Clone, Copy)]
pub struct Counts {
    #[graphql(name = "in")]
    pub r#in: i32,
    pub out: i32,
    pub passby: i32,
    pub turnback: i32,
}

fn cap(v: u64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

impl From<DomainCounts> for Counts {
    fn from(c: DomainCounts) -> Self {
        Counts {
            r#in: cap(c.r#in),
            out: cap(c.out),
            passby: cap(c.passby),
            turnback: cap(c.turnback),
        }
    }
}

#[derive(SimpleObject)]
pub struct FootfallBucket {
    /// Bucket start, with the site's offset at that instant.
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    #[graphql(name = "in")]
    pub r#in: i32,
    pub out: i32,
    pub passby: i32,
    pub turnback: i32,
    /// Adults, where devices send splits (null where none did).
    pub adult: Option<Counts>,
    /// Children, where devices send splits (null where none did).
    pub child: Option<Counts>,
    /// Average stay in view, ms, where devices send it.
    pub avg_stay_time: Option<i64>,
}

/// Footfall of one site over a range, in the site's timezone.
pub struct Footfall(pub FootfallReport);

fn millis(v: Option<u64>) -> Option<i64> {
    v.map(|v| i64::try_from(v).unwrap_or(i64::MAX))
}

fn splits(t: &Tally, pick: fn(&Tally) -> DomainCounts) -> Option<Counts> {
    t.has_splits().then(|| pick(t).into())
}

#[Object]
impl Footfall {
    async fn site_id(&self) -> ID {
        ID(self.0.site.id.to_string())
    }
    async fn site(&self) -> Site {
        Site(self.0.site.clone())
    }
    /// The site's IANA timezone, which the buckets follow.
    async fn timezone(&self) -> &str {
        self.0.site.timezone.name()
    }
    async fn granularity(&self) -> Granularity {
        self.0.granularity.into()
    }
    /// The range the buckets cover: the asked range snapped outward.
    async fn from(&self) -> DateTime<FixedOffset> {
        self.0.from.with_timezone(&self.0.site.timezone.tz()).fixed_offset()
    }
    async fn to(&self) -> DateTime<FixedOffset> {
        self.0.to.with_timezone(&self.0.site.timezone.tz()).fixed_offset()
    }
    /// Every bucket of the range, empty ones as zeros.
    async fn buckets(&self) -> Vec<FootfallBucket> {
        self.0
            .buckets
            .iter()
            .map(|b| {
                let all = Counts::from(b.tally.all);
                FootfallBucket {
                    start: b.bucket.start,
                    end: b.bucket.end,
                    r#in: all.r#in,
                    out: all.out,
                    passby: all.passby,
                    turnback: all.turnback,
                    adult: splits(&b.tally, |t| t.adult),
                    child: splits(&b.tally, |t| t.child),
                    avg_stay_time: millis(b.avg_stay_ms),
                }
            })
            .collect()
    }
    /// The sum of the buckets.
    async fn totals(&self) -> Counts {
        self.0.totals.all.into()
    }
    async fn adult(&self) -> Option<Counts> {
        splits(&self.0.totals, |t| t.adult)
    }
    async fn child(&self) -> Option<Counts> {
        splits(&self.0.totals, |t| t.child)
    }
    /// Average stay in view over the range, ms, where devices sent it.
    async fn avg_stay_time(&self) -> Option<i64> {
        millis(self.0.avg_stay_ms)
    }
    /// Each device's share over the range, largest `in` first; devices
    /// unbound since still appear (with `device` null).
    async fn devices(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<DeviceFootfall>> {
        let who = caller(ctx)?;
        let shares = footfall::device_breakdown(state(ctx), who, &self.0).await.gql()?;
        let bound = state(ctx)
            .db
            .devices()
            .list(who.tenant, Some(self.0.site.id))
            .await
            .gql()?;
        Ok(shares
            .into_iter()
            .map(|s| DeviceFootfall {
                device_id: ID(s.device.to_string()),
                sn: bound.iter().find(|d| d.id == s.device).map(|d| d.sn.to_string()),
                totals: s.tally.all.into(),
                adult: splits(&s.tally, |t| t.adult),
                child: splits(&s.tally, |t| t.child),
                avg_stay_time: millis(s.avg_stay_ms),
            })
            .collect())
    }
}

/// One device's share of a site's footfall.
#[derive(SimpleObject)]
pub struct DeviceFootfall {
    pub device_id: ID,
    /// Null for a device unbound since.
    pub sn: Option<String>,
    pub totals: Counts,
    pub adult: Option<Counts>,
    pub child: Option<Counts>,
    pub avg_stay_time: Option<i64>,
}

/// Footfall of several sites, each in its own timezone, with the sum.
#[derive(SimpleObject)]
pub struct SitesFootfall {
    pub sites: Vec<Footfall>,
    pub totals: Counts,
    pub adult: Option<Counts>,
    pub child: Option<Counts>,
    pub avg_stay_time: Option<i64>,
}

impl From<Vec<FootfallReport>> for SitesFootfall {
    fn from(reports: Vec<FootfallReport>) -> Self {
        let (totals, ms, people) = reports.iter().fold((Tally::ZERO, 0u64, 0u64), |(t, s, p), r| {
            (t + r.totals, s + r.stay_ms_sum, p + r.stay_people)
        });
        SitesFootfall {
            totals: totals.all.into(),
            adult: splits(&totals, |t| t.adult),
            child: splits(&totals, |t| t.child),
            avg_stay_time: millis((people > 0).then(|| ms / people)),
            sites: reports.into_iter().map(Footfall).collect(),
        }
    }
}

/// Change from the previous period to the current one.
#[derive(SimpleObject)]
pub struct FootfallChange {
    #[graphql(name = "in")]
    pub r#in: i64,
    pub out: i64,
    pub passby: i64,
    pub turnback: i64,
    /// Relative change of `in` (0.12 = +12 %); null when the previous period had none.
    pub in_ratio: Option<f64>,
}

#[derive(SimpleObject)]
pub struct FootfallComparison {
    pub current: Footfall,
    pub previous: Footfall,
    pub change: FootfallChange,
}

impl From<Comparison> for FootfallComparison {
    fn from(c: Comparison) -> Self {
        let (now, before) = (c.current.totals.all, c.previous.totals.all);
        let signed = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        FootfallComparison {
            change: FootfallChange {
                r#in: signed(now.r#in) - signed(before.r#in),
                out: signed(now.out) - signed(before.out),
                passby: signed(now.passby) - signed(before.passby),
                turnback: signed(now.turnback) - signed(before.turnback),
                in_ratio: (before.r#in > 0).then(|| (now.r#in as f64 - before.r#in as f64) / before.r#in as f64),
            },
            current: Footfall(c.current),
            previous: Footfall(c.previous),
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Granularity {
    QuarterHour,
    Hour,
    Day,
    /// ISO weeks, from Monday.
    Week,
    Month,
}

impl From<Granularity> for DomainGranularity {
    fn from(g: Granularity) -> Self {
        match g {
            Granularity::QuarterHour => DomainGranularity::QuarterHour,
            Granularity::Hour => DomainGranularity::Hour,
            Granularity::Day => DomainGranularity::Day,
            Granularity::Week => DomainGranularity::Week,
            Granularity::Month => DomainGranularity::Month,
        }
    }
}

impl From<DomainGranularity> for Granularity {
    fn from(g: DomainGranularity) -> Self {
        match g {
            DomainGranularity::QuarterHour => Granularity::QuarterHour,
            DomainGranularity::Hour => Granularity::Hour,
            DomainGranularity::Day => Granularity::Day,
            DomainGranularity::Week => Granularity::Week,
            DomainGranularity::Month => Granularity::Month,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OccupancySource {
    /// Devices' own count of people in view.
    Stay,
    /// In minus out since the site's local midnight.
    InMinusOut,
    /// Stay counts where devices send them, in minus out for the others.
    Mixed,
}

#[derive(SimpleObject)]
pub struct Occupancy {
    pub current: i32,
    pub as_of: DateTime<Utc>,
    pub source: OccupancySource,
}

impl From<DomainOccupancy> for Occupancy {
    fn from(o: DomainOccupancy) -> Self {
        Occupancy {
            current: cap(o.current),
            as_of: o.as_of,
            source: match o.source {
                DomainOccupancySource::Stay => OccupancySource::Stay,
                DomainOccupancySource::InMinusOut => OccupancySource::InMinusOut,
                DomainOccupancySource::Mixed => OccupancySource::Mixed,
            },
        }
    }
}

/// What devices bound to a site start with; unset fields take the platform
/// default (5 minutes, ADD, 60-second keepalives).
#[derive(SimpleObject)]
pub struct SiteDefaultConfig {
    pub upload_interval: Option<i32>,
    pub data_mode: Option<DataMode>,
    pub keep_interval: Option<i32>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CommandStatus {
    Pending,
    Delivered,
    Fulfilled,
    Expired,
}

/// A command sent to a device in its heartbeat answers: for now, a request
/// to re-upload its history for `[from, to]`.
pub struct DeviceCommand(pub Command);

#[Object]
impl DeviceCommand {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn device_id(&self) -> ID {
        ID(self.0.device.to_string())
    }
    /// Always `history`.
    async fn kind(&self) -> &str {
        "history"
    }
    async fn from(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(self.0.from, 0)
    }
    async fn to(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(self.0.to, 0)
    }
    async fn status(&self) -> CommandStatus {
        match self.0.status_at(Utc::now()) {
            DomainCommandStatus::Pending => CommandStatus::Pending,
            DomainCommandStatus::Delivered => CommandStatus::Delivered,
            DomainCommandStatus::Fulfilled => CommandStatus::Fulfilled,
            DomainCommandStatus::Expired => CommandStatus::Expired,
        }
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    async fn fulfilled_at(&self) -> Option<DateTime<Utc>> {
        self.0.fulfilled_at
    }
}

/// One person crossing under a device.
#[derive(SimpleObject)]
pub struct PersonEvent {
    pub device_id: ID,
    pub event_id: i64,
    pub at: Option<DateTime<Utc>>,
    /// `in`, `out`, `passby`, `turnback`; null for a type the platform does not know.
    pub direction: Option<String>,
    /// `eventType` as the device sent it.
    pub event_type: i64,
    pub child: bool,
    pub height_cm: Option<i32>,
    pub stay_ms: Option<i64>,
}

#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    /// Pass as `after` for the next page.
    pub end_cursor: Option<String>,
}

#[derive(SimpleObject)]
pub struct EventConnection {
    pub nodes: Vec<PersonEvent>,
    pub page_info: PageInfo,
}

impl From<EventPage> for EventConnection {
    fn from(page: EventPage) -> Self {
        EventConnection {
            nodes: page
                .events
                .iter()
                .map(|e| PersonEvent {
                    device_id: ID(e.device.to_string()),
                    event_id: e.event_id,
                    at: DateTime::from_timestamp_micros(e.at_us),
                    direction: e.direction.map(|d| d.as_str().to_string()),
                    event_type: e.raw_type,
                    child: e.child,
                    height_cm: e.height_cm,
                    stay_ms: e.stay_ms,
                })
                .collect(),
            page_info: PageInfo {
                has_next_page: page.next_cursor.is_some(),
                end_cursor: page.next_cursor,
            },
        }
    }
}
