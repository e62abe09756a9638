//! Footfall and occupancy of a site.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, Utc};
use footfall_domain::buckets::Granularity;
use footfall_domain::counting::{Counts, Tally};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::views::with_offset;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiQuery, Auth};
use crate::services::footfall::{self, FootfallReport, OccupancySource};
use crate::services::sites;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct FootfallQuery {
    /// Start, RFC 3339 (e.g. `2026-03-08T00:00:00-05:00`); moved back to the
    /// start of its bucket in the site's timezone.
    pub from: DateTime<Utc>,
    /// End, exclusive; moved forward to the end of its bucket.
    pub to: DateTime<Utc>,
    /// `QUARTER_HOUR`, `HOUR`, `DAY`, `WEEK` (ISO, from Monday) or `MONTH`.
    pub granularity: String,
}

/// In, out, pass-by and turn-back counts.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"in": 12, "out": 9, "passby": 3, "turnback": 1}))]
pub struct CountsView {
    #[serde(rename = "in")]
    pub r#in: u64,
    pub out: u64,
    pub passby: u64,
    pub turnback: u64,
}

impl From<Counts> for CountsView {
    fn from(c: Counts) -> Self {
        CountsView {
            r#in: c.r#in,
            out: c.out,
            passby: c.passby,
            turnback: c.turnback,
        }
    }
}

/// Counts with the adult and child splits devices sent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"in": 12, "out": 9, "passby": 3, "turnback": 1, "adult": {"in": 10, "out": 8, "passby": 3, "turnback": 1}, "child": {"in": 2, "out": 1, "passby": 0, "turnback": 0}, "avgStayTime": 1500}))]
pub struct TallyView {
    #[serde(flatten)]
    pub all: CountsView,
    /// Adults, where devices send splits (null where none did).
    pub adult: Option<CountsView>,
    /// Children, where devices send splits (null where none did).
    pub child: Option<CountsView>,
    /// Average stay in view, ms, where devices sent it.
    pub avg_stay_time: Option<u64>,
}

impl TallyView {
    fn new(t: Tally, avg_stay_ms: Option<u64>) -> Self {
        let split = t.has_splits();
        TallyView {
            all: t.all.into(),
            adult: split.then(|| t.adult.into()),
            child: split.then(|| t.child.into()),
            avg_stay_time: avg_stay_ms,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"start": "2026-03-08T01:00:00-05:00", "end": "2026-03-08T03:00:00-04:00", "in": 12, "out": 9, "passby": 3, "turnback": 1, "adult": null, "child": null, "avgStayTime": 1500}))]
pub struct FootfallBucketView {
    /// Bucket start with the site's offset at that instant.
    #[schema(value_type = String, example = "2026-03-08T00:00:00-05:00")]
    #[serde(serialize_with = "with_offset")]
    pub start: DateTime<FixedOffset>,
    #[schema(value_type = String)]
    #[serde(serialize_with = "with_offset")]
    pub end: DateTime<FixedOffset>,
    #[serde(flatten)]
    pub counts: TallyView,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"siteId": "0192f0c1-2d3e-7a4b-8c5d-6e7f8091a2b3", "siteName": "Fifth Avenue", "timezone": "America/New_York", "granularity": "DAY", "from": "2026-03-08T00:00:00-05:00", "to": "2026-03-09T00:00:00-04:00", "buckets": [{"start": "2026-03-08T00:00:00-05:00", "end": "2026-03-09T00:00:00-04:00", "in": 1240, "out": 1198, "passby": 3310, "turnback": 87, "adult": null, "child": null, "avgStayTime": 1820}], "totals": {"in": 1240, "out": 1198, "passby": 3310, "turnback": 87, "adult": null, "child": null, "avgStayTime": 1820}}))]
pub struct FootfallView {
    pub site_id: String,
    pub site_name: String,
    pub timezone: String,
    pub granularity: &'static str,
    /// The range the buckets cover: the asked range snapped outward to bucket
    /// boundaries in the site's timezone.
    #[schema(value_type = String)]
    #[serde(serialize_with = "with_offset")]
    pub from: DateTime<FixedOffset>,
    #[schema(value_type = String)]
    #[serde(serialize_with = "with_offset")]
    pub to: DateTime<FixedOffset>,
    pub buckets: Vec<FootfallBucketView>,
    /// The sum of the buckets.
    pub totals: TallyView,
}

impl From<FootfallReport> for FootfallView {
    fn from(r: FootfallReport) -> Self {
        let zone = r.site.timezone.tz();
        FootfallView {
            site_id: r.site.id.to_string(),
            site_name: r.site.name.to_string(),
            timezone: r.site.timezone.to_string(),
            granularity: r.granularity.as_str(),
            from: r.from.with_timezone(&zone).fixed_offset(),
            to: r.to.with_timezone(&zone).fixed_offset(),
            buckets: r
                .buckets
                .iter()
                .map(|b| FootfallBucketView {
                    start: b.bucket.start,
                    end: b.bucket.end,
                    counts: TallyView::new(b.tally, b.avg_stay_ms),
                })
                .collect(),
            totals: TallyView::new(r.totals, r.avg_stay_ms),
        }
    }
}

/// Footfall of a site in its timezone: every bucket of the range (empty ones
/// as zeros) and their totals.
#[utoipa::path(get, path = "/sites/{id}/footfall", tag = "footfall",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id"), FootfallQuery),
    responses(
        (status = 200, description = "OK", body = FootfallView),
        (status = 400, description = "Missing or malformed from/to", body = ErrorBody),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
        (status = 422, description = "from not before to, unknown granularity, too many buckets", body = ErrorBody),
    ))]
pub async fn site_footfall(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<FootfallQuery>,
) -> ApiResult<Json<FootfallView>> {
    let report = footfall::site_footfall(&state, &who, &id, q.from, q.to, granularity(&q.granularity)?).await?;
    Ok(Json(report.into()))
}

fn granularity(q: &str) -> Result<Granularity, ApiError> {
    Granularity::parse(q).map_err(|e| footfall_domain::Error::from(e).into())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SitesFootfallQuery {
    /// Comma-separated site ids; all of the tenant's sites when absent.
    pub site_ids: Option<String>,
    /// Start, RFC 3339; each site's buckets start at its own local boundary.
    pub from: DateTime<Utc>,
    /// End, exclusive.
    pub to: DateTime<Utc>,
    /// `QUARTER_HOUR`, `HOUR`, `DAY`, `WEEK` or `MONTH`.
    pub granularity: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"sites": [], "totals": {"in": 5120, "out": 4990, "passby": 11020, "turnback": 301, "adult": null, "child": null, "avgStayTime": 1700}}))]
pub struct SitesFootfallView {
    /// Each site's footfall in its own timezone.
    pub sites: Vec<FootfallView>,
    /// The sum over the sites.
    pub totals: TallyView,
}

/// Footfall of several sites (or all), each in its own timezone, with the
/// sum over them.
#[utoipa::path(get, path = "/footfall", tag = "footfall",
    security(("bearer" = [])),
    params(SitesFootfallQuery),
    responses(
        (status = 200, description = "OK", body = SitesFootfallView),
        (status = 400, description = "The request is malformed", body = ErrorBody),
        (status = 404, description = "A listed site is not the tenant's", body = ErrorBody),
        (status = 422, description = "A field breaks a rule", body = ErrorBody),
    ))]
pub async fn sites_footfall(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<SitesFootfallQuery>,
) -> ApiResult<Json<SitesFootfallView>> {
    let ids: Option<Vec<String>> = q.site_ids.as_deref().map(|ids| {
        ids.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    });
    let reports =
        footfall::sites_footfall(&state, &who, ids.as_deref(), q.from, q.to, granularity(&q.granularity)?).await?;
    let (totals, stay_sum, stay_people) = reports.iter().fold((Tally::ZERO, 0u64, 0u64), |(t, s, p), r| {
        (t + r.totals, s + r.stay_ms_sum, p + r.stay_people)
    });
    Ok(Json(SitesFootfallView {
        totals: TallyView::new(totals, (stay_people > 0).then(|| stay_sum / stay_people)),
        sites: reports.into_iter().map(FootfallView::from).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"deviceId": "0192f0c1-0000-7000-8000-000000000010", "sn": "2010010000000000", "name": "Main door", "in": 840, "out": 812, "passby": 2100, "turnback": 40, "adult": null, "child": null, "avgStayTime": 1650}))]
pub struct DeviceShareView {
    pub device_id: String,
    /// Null for a device unbound since; its counts stay with the site.
    pub sn: Option<String>,
    pub name: Option<String>,
    #[serde(flatten)]
    pub counts: TallyView,
}

/// Each device's share of a site's footfall over the range, largest `in` first.
#[utoipa::path(get, path = "/sites/{id}/footfall/devices", tag = "footfall",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id"), FootfallQuery),
    responses((status = 200, description = "OK", body = [DeviceShareView]), (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody), (status = 422, description = "A field breaks a rule", body = ErrorBody)))]
pub async fn device_breakdown(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<FootfallQuery>,
) -> ApiResult<Json<Vec<DeviceShareView>>> {
    let report = footfall::site_footfall(&state, &who, &id, q.from, q.to, granularity(&q.granularity)?).await?;
    let shares = footfall::device_breakdown(&state, &who, &report).await?;
    let devices = state.db.devices().list(who.tenant, Some(report.site.id)).await?;
    Ok(Json(
        shares
            .into_iter()
            .map(|s| {
                let bound = devices.iter().find(|d| d.id == s.device);
                DeviceShareView {
                    device_id: s.device.to_string(),
                    sn: bound.map(|d| d.sn.to_string()),
                    name: bound.and_then(|d| d.name.as_ref().map(ToString::to_string)),
                    counts: TallyView::new(s.tally, s.avg_stay_ms),
                }
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CompareQuery {
    /// The period to look at, RFC 3339.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// `QUARTER_HOUR`, `HOUR`, `DAY`, `WEEK` or `MONTH`.
    pub granularity: String,
    /// The period to compare with; by default the one of the same length just before.
    pub previous_from: Option<DateTime<Utc>>,
    pub previous_to: Option<DateTime<Utc>>,
}

/// Change from the previous period to the current one.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"in": 132, "out": 120, "passby": -40, "turnback": 3, "inRatio": 0.12}))]
pub struct ChangeView {
    #[serde(rename = "in")]
    pub r#in: i64,
    pub out: i64,
    pub passby: i64,
    pub turnback: i64,
    /// Relative change of `in`, e.g. 0.12 for +12 %; null when the previous period had none.
    pub in_ratio: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"current": {"siteId": "0192f0c1-2d3e-7a4b-8c5d-6e7f8091a2b3", "siteName": "Oxford Street", "timezone": "Europe/London", "granularity": "WEEK", "from": "2026-11-16T00:00:00+00:00", "to": "2026-11-23T00:00:00+00:00", "buckets": [], "totals": {"in": 1232, "out": 1200, "passby": 2960, "turnback": 80, "adult": null, "child": null, "avgStayTime": 1600}}, "previous": {"siteId": "0192f0c1-2d3e-7a4b-8c5d-6e7f8091a2b3", "siteName": "Oxford Street", "timezone": "Europe/London", "granularity": "WEEK", "from": "2026-11-09T00:00:00+00:00", "to": "2026-11-16T00:00:00+00:00", "buckets": [], "totals": {"in": 1100, "out": 1080, "passby": 3000, "turnback": 77, "adult": null, "child": null, "avgStayTime": 1580}}, "change": {"in": 132, "out": 120, "passby": -40, "turnback": 3, "inRatio": 0.12}}))]
pub struct ComparisonView {
    pub current: FootfallView,
    pub previous: FootfallView,
    pub change: ChangeView,
}

fn signed(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Compare a period with the one before it (this week against last week).
#[utoipa::path(get, path = "/sites/{id}/footfall/compare", tag = "footfall",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id"), CompareQuery),
    responses((status = 200, description = "OK", body = ComparisonView), (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody), (status = 422, description = "A field breaks a rule", body = ErrorBody)))]
pub async fn compare(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<CompareQuery>,
) -> ApiResult<Json<ComparisonView>> {
    let previous = match (q.previous_from, q.previous_to) {
        (Some(f), Some(t)) => Some((f, t)),
        (None, None) => None,
        _ => {
            return Err(ApiError {
                field: Some("previousFrom"),
                ..ApiError::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "previousFrom and previousTo go together",
                )
            });
        }
    };
    let c = footfall::compare(&state, &who, &id, granularity(&q.granularity)?, q.from, q.to, previous).await?;
    let (now, before) = (c.current.totals.all, c.previous.totals.all);
    let change = ChangeView {
        r#in: signed(now.r#in) - signed(before.r#in),
        out: signed(now.out) - signed(before.out),
        passby: signed(now.passby) - signed(before.passby),
        turnback: signed(now.turnback) - signed(before.turnback),
        in_ratio: (before.r#in > 0).then(|| (now.r#in as f64 - before.r#in as f64) / before.r#in as f64),
    };
    Ok(Json(ComparisonView {
        current: c.current.into(),
        previous: c.previous.into(),
        change,
    }))
}

/// The same data as `/sites/{id}/footfall`, as CSV: one row per bucket.
#[utoipa::path(get, path = "/sites/{id}/footfall.csv", tag = "footfall",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id"), FootfallQuery),
    responses(
        (status = 200, description = "start,end,in,out,passby,turnback, adult and child splits, avg_stay_ms", content_type = "text/csv", body = String,
         example = "start,end,in,out,passby,turnback,in_adult,out_adult,passby_adult,turnback_adult,in_child,out_child,passby_child,turnback_child,avg_stay_ms\n2026-03-08T00:00:00-05:00,2026-03-08T01:00:00-05:00,12,9,3,1,,,,,,,,,1500\n"),
        (status = 404, description = "Not found, or not the caller's tenant's", body = ErrorBody),
        (status = 422, description = "A field breaks a rule", body = ErrorBody),
    ))]
pub async fn site_footfall_csv(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<FootfallQuery>,
) -> ApiResult<Response> {
    let report = footfall::site_footfall(&state, &who, &id, q.from, q.to, granularity(&q.granularity)?).await?;
    let mut csv = String::from(
        "start,end,in,out,passby,turnback,in_adult,out_adult,passby_adult,turnback_adult,in_child,out_child,passby_child,turnback_child,avg_stay_ms\n",
    );
    for b in &report.buckets {
        let t = b.tally;
        let split = |c: Counts| {
            if t.has_splits() {
                format!("{},{},{},{}", c.r#in, c.out, c.passby, c.turnback)
            } else {
                ",,,".to_string()
            }
        };
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            b.bucket.start.to_rfc3339(),
            b.bucket.end.to_rfc3339(),
            t.all.r#in,
            t.all.out,
            t.all.passby,
            t.all.turnback,
            split(t.adult),
            split(t.child),
            b.avg_stay_ms.map(|v| v.to_string()).unwrap_or_default()
        ));
    }
    let filename = format!(
        "footfall-{}-{}.csv",
        report.site.id,
        report.granularity.as_str().to_lowercase()
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        csv,
    )
        .into_response())
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"current": 37, "asOf": "2026-11-21T09:41:00Z", "source": "STAY"}))]
pub struct OccupancyView {
    /// People in the site now.
    pub current: u64,
    pub as_of: DateTime<Utc>,
    /// `STAY` (devices' own count of people in view), `IN_MINUS_OUT` (since
    /// local midnight) or `MIXED`.
    #[schema(example = "STAY")]
    pub source: &'static str,
}

/// How many people are in the site now.
#[utoipa::path(get, path = "/sites/{id}/occupancy", tag = "footfall",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id")),
    responses(
        (status = 200, description = "OK", body = OccupancyView),
        (status = 404, description = "No such site, or a site without devices", body = ErrorBody),
    ))]
pub async fn site_occupancy(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<OccupancyView>> {
    let site = sites::get(&state, &who, &id).await?;
    let occupancy = footfall::site_occupancy(&state, &who, &site)
        .await?
        .ok_or_else(|| ApiError::not_found("occupancy (the site has no devices)"))?;
    Ok(Json(OccupancyView {
        current: occupancy.current,
        as_of: occupancy.as_of,
        source: source_name(occupancy.source),
    }))
}

pub fn source_name(s: OccupancySource) -> &'static str {
    match s {
        OccupancySource::Stay => "STAY",
        OccupancySource::InMinusOut => "IN_MINUS_OUT",
        OccupancySource::Mixed => "MIXED",
    }
}
