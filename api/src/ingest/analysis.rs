//! Video traffic analysis servers (PROTOCOLS.md §3): every push type on one
//! secret URL per integration, told apart by shape.
//!
//! | shape | becomes |
//! | --- | --- |
//! | `{peopleFlowToday[], peopleDensityToday[]}` | people counted in each zone over `[lastUploadTime, uploadTime]` (an add-mode reading: a retransmission is the same reading), and the zone's occupancy from `peopleNum` |
//! | `{recordType, ...}` | an alarm event of the task (`illegal_parking`, ...), with its image |
//! | `{alarmTime, peopleNum, regionCode, ...}` | a crowd alarm event of the zone |
//! | `{taskStatus, ...}` | a `task_status` event of the task |
//! | `{plateNum, snapshotTime, roadNum, ...}`, or an array of them | one vehicle passing per record (vehicle counts, `pass`) |
//! | `[{spacingPercent, timePercent, queueLength, queueNum, roadNum, ...}]` | traffic sensor readings per lane |
//!
//! A zone is `taskNum` + `regionCode` (`taskNum` alone for what is about a
//! whole task); each is a device of protocol `analysis_zone` at the
//! integration's site, created on first sight. Times are the server's local
//! wall clock, read in the site's timezone.
//!
//! The whole body is checked before anything is stored: one bad record
//! refuses the push (HTTP 400 with the reason), and nothing of it is kept.
//! Success is HTTP 200 `{"code": 0, "message": "success"}`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use footfall_domain::Timezone;
use footfall_domain::camera::{CameraEvent, EventSource, SensorKind, SensorSample, VehicleCount, VehicleDirection};
use footfall_domain::counting::{Counts, Kind, Reading, Tally, check_span, check_tally, check_time};
use footfall_domain::ingest::{ReportedReading, StayReport};
use footfall_domain::integration::{Integration, IntegrationKind};
use footfall_domain::localtime::{parse_wall_clock, to_unix};
use footfall_infra::writer::{RawUpload, Work};
use serde_json::{Map, Value, json};

use super::lenient::{Fields, as_int};
use super::read_body;
use super::report::{Decoded, IMAGE_KEYS, Image, decode_base64, json_value, store_images, strip_images};
use crate::services::ingest::{self, IngestError};
use crate::services::integrations::{self, TokenRefusal};
use crate::state::AppState;

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"error": {"code": code, "message": message}}))).into_response()
}

fn refused(err: &IngestError) -> Response {
    match err {
        IngestError::Invalid(why) => error(StatusCode::BAD_REQUEST, "invalid_push", why),
        IngestError::UnknownDevice => error(
            StatusCode::CONFLICT,
            "zone_unavailable",
            "a zone's serial number is bound to another device",
        ),
        IngestError::Unavailable => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "temporarily unavailable, retry later",
        ),
        IngestError::Internal => error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error"),
    }
}

/// A defect answered as JSON.
pub fn panic_answer(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("an analysis server request panicked");
    error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
}

/// `POST /ingest/analysis/{token}`: every push type of an analysis server.
#[utoipa::path(post, path = "/ingest/analysis/{token}", tag = "device: analysis server",
    params(("token" = String, Path, description = "The integration's token (from POST /integrations)")),
    request_body(content = Object, description = "Any push type of the analysis server (people flow and density, event alarm, crowd alarm, task status, vehicle flow, traffic parameters), JSON object or array"),
    responses(
        (status = 200, description = "Stored", body = Object, example = json!({"code": 0, "message": "success"})),
        (status = 400, description = "Unreadable or unrecognised push; nothing stored", body = crate::error::ErrorBody),
        (status = 401, description = "Unknown or revoked token", body = crate::error::ErrorBody),
        (status = 503, description = "Busy; the server retries", body = crate::error::ErrorBody),
    ))]
pub async fn push(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    receive(state, token, body).await
}

/// The same, on a per-type sub-path (`/ingest/analysis/{token}/people-flow`,
/// ...), for servers configured one URL per business type. The body's shape
/// still decides what it is.
#[utoipa::path(post, path = "/ingest/analysis/{token}/{kind}", tag = "device: analysis server",
    params(
        ("token" = String, Path, description = "The integration's token"),
        ("kind" = String, Path, description = "Any label, e.g. the business type (41, people-flow); informational"),
    ),
    request_body(content = Object, description = "As for /ingest/analysis/{token}"),
    responses(
        (status = 200, description = "Stored", body = Object),
        (status = 400, description = "Unreadable or unrecognised push; nothing stored", body = crate::error::ErrorBody),
        (status = 401, description = "Unknown or revoked token", body = crate::error::ErrorBody),
    ))]
pub async fn push_typed(
    State(state): State<AppState>,
    Path((token, _kind)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    receive(state, token, body).await
}

async fn receive(state: AppState, token: String, body: Result<Bytes, BytesRejection>) -> Response {
    let integration = match integrations::by_token(&state, &token, IntegrationKind::AnalysisServer).await {
        Ok(i) => i,
        Err(TokenRefusal::Refused) => {
            return error(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "unknown or revoked integration token",
            );
        }
        Err(TokenRefusal::Unavailable) => return refused(&IngestError::Unavailable),
    };
    if let Err(rejection) = &body
        && rejection.status() == StatusCode::PAYLOAD_TOO_LARGE
    {
        let limit = super::ANALYSIS_BODY_LIMIT / (1024 * 1024);
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            &format!("body larger than {limit} MiB; send smaller batches"),
        );
    }
    let body = match read_body(body).and_then(|b| json_value(&b)) {
        Ok(v) => v,
        Err(why) => return refused(&IngestError::Invalid(why)),
    };
    let site = match state.db.sites().get(integration.tenant, integration.site).await {
        Ok(site) => site,
        Err(e) => return refused(&e.into()),
    };
    let now = Utc::now();
    let zones = match decode(&body, site.timezone, now) {
        Ok(z) => z,
        Err(why) => {
            tracing::warn!(integration = %integration.id, reason = %why, "analysis push refused");
            return refused(&IngestError::Invalid(why));
        }
    };
    let mut raw = body;
    strip_images(&mut raw, &[], IMAGE_KEYS);
    let raw = raw.to_string();
    for (zone, mut decoded) in zones {
        if let Err(e) = store(&state, &integration, &zone, &mut decoded, &raw).await {
            return refused(&e);
        }
    }
    Json(json!({"code": 0, "message": "success"})).into_response()
}

async fn store(
    state: &AppState,
    integration: &Integration,
    zone: &Zone,
    decoded: &mut Decoded,
    raw: &str,
) -> Result<(), IngestError> {
    let route = integrations::zone(state, integration, &zone.task, zone.region.as_deref(), &zone.name()).await?;
    store_images(state, integration.tenant, decoded).await?;
    decoded.report.key_events_by_content();
    let raw = RawUpload {
        endpoint: "analysis_server",
        sn: route.device.sn.to_string(),
        body: raw.to_string(),
    };
    ingest::upload(state, &route, Work::Camera(std::mem::take(&mut decoded.report)), raw).await?;
    Ok(())
}

/// A counting zone: a task, and a region of it (absent: the whole task).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Zone {
    task: String,
    region: Option<String>,
    task_name: Option<String>,
}

impl Zone {
    fn name(&self) -> String {
        let task = self.task_name.clone().unwrap_or_else(|| format!("task {}", self.task));
        match &self.region {
            Some(r) => format!("{task} / region {r}"),
            None => task,
        }
    }
}

/// The decoded push, per zone, in the order zones first appear.
#[derive(Default)]
struct Zones(Vec<(Zone, Decoded)>);

impl Zones {
    fn of(&mut self, zone: Zone) -> &mut Decoded {
        let i = match self
            .0
            .iter()
            .position(|(z, _)| z.task == zone.task && z.region == zone.region)
        {
            Some(i) => i,
            None => {
                self.0.push((zone, Decoded::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }
}

impl IntoIterator for Zones {
    type Item = (Zone, Decoded);
    type IntoIter = std::vec::IntoIter<(Zone, Decoded)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Most records one push may carry.
const MAX_RECORDS: usize = 5_000;
/// Most people or vehicles one record may count.
const MAX_COUNT: i64 = 1_000_000;

/// Reads a record's fields for a given push type.
struct Record<'a> {
    f: Fields,
    at: &'a str,
    tz: Timezone,
    now: DateTime<Utc>,
}

impl Record<'_> {
    fn text(&self, name: &str) -> Option<String> {
        self.f
            .text(&[name])
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    fn required(&self, name: &str) -> Result<String, String> {
        self.text(name).ok_or_else(|| format!("{}.{name} is missing", self.at))
    }

    fn zone(&self, region: bool) -> Result<Zone, String> {
        Ok(Zone {
            task: self.required("tasknum")?,
            region: if region {
                Some(self.required("regioncode")?)
            } else {
                None
            },
            task_name: self.text("taskname"),
        })
    }

    fn count(&self, name: &str) -> Result<u64, String> {
        match self.f.get(name) {
            None => Err(format!("{}.{name} is missing", self.at)),
            Some(v) => as_int(v)
                .filter(|n| (0..=MAX_COUNT).contains(n))
                .map(i64::unsigned_abs)
                .ok_or_else(|| format!("{}.{name} is not a count: {v}", self.at)),
        }
    }

    /// A local wall-clock time, Unix seconds; must be plausible.
    fn time(&self, name: &str) -> Result<Option<i64>, String> {
        let Some(text) = self.text(name) else {
            return Ok(None);
        };
        let local = parse_wall_clock(&text)
            .ok_or_else(|| format!("{}.{name} is not a \"yyyy-MM-dd HH:mm:ss\" time: {text:?}", self.at))?;
        let t = to_unix(self.tz, local, self.now.timestamp());
        check_time(t, self.now.timestamp())
            .map_err(|_| format!("{}.{name} {text:?} is not a plausible time", self.at))?;
        Ok(Some(t))
    }

    /// The record's fields other than `skip` and images, for an event.
    fn attributes(&self, skip: &[&str]) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in self.f.iter() {
            let lower = key.to_ascii_lowercase();
            if skip.contains(&lower.as_str()) || IMAGE_KEYS.contains(&lower.as_str()) || value.is_null() {
                continue;
            }
            // `Pos` arrives as JSON in a string.
            let value = match value {
                Value::String(s) if s.trim_start().starts_with('{') => serde_json::from_str(s).unwrap_or(value.clone()),
                _ => value.clone(),
            };
            out.insert(key.to_string(), value);
        }
        out
    }

    fn image(&self, attributes: &mut Map<String, Value>) -> Option<Vec<u8>> {
        let text = self.text("imgbase64")?;
        let image = decode_base64(&text);
        if image.is_none() {
            attributes.insert("imageError".into(), json!("imgBase64 is not base64"));
        }
        image
    }

    /// What makes a retransmitted record the same record.
    fn content_key(&self) -> String {
        let mut v = Value::Object(self.attributes(&[]));
        strip_images(&mut v, &[], IMAGE_KEYS);
        footfall_domain::camera::content_key(&v.to_string())
    }
}

/// The alarm types of `recordType`, by the document's table.
fn record_type(code: i64) -> String {
    let name = match code {
        1001 => "illegal_parking",
        1002 => "wrong_way",
        1003 => "pedestrian_on_highway",
        1004 => "thrown_object",
        1005 => "congestion",
        1006 => "slow_vehicle",
        1007 => "speeding",
        1008 => "crowd_gathering",
        1009 => "sudden_braking",
        1010 => "restricted_area",
        1011 => "illegal_lane_change",
        1012 => "helmet_detection",
        1013 => "traffic_accident",
        1014 => "road_maintenance",
        1015 => "vehicle_stopped",
        1016 => "debris_flow",
        1017 => "vehicle_left",
        1018 => "junction_overflow",
        other => return format!("record_{other}"),
    };
    name.to_string()
}

fn task_status(code: i64) -> String {
    match code {
        0 => "not_started".into(),
        1 => "analysing".into(),
        2 => "reconnecting".into(),
        3 => "disconnected".into(),
        other => format!("status_{other}"),
    }
}

fn event(source: EventSource, kind: String, at: i64, attributes: Map<String, Value>) -> CameraEvent {
    CameraEvent {
        source,
        kind,
        name: None,
        status: None,
        channel: None,
        at_ms: at * 1000,
        local_time: None,
        attributes,
        image_key: None,
        dedupe: String::new(),
    }
}

fn push_event(decoded: &mut Decoded, event: CameraEvent, image: Option<Vec<u8>>) {
    let index = decoded.report.events.len();
    decoded.report.events.push(event);
    if let Some(image) = image {
        decoded.images.push((index, Image::Main(image)));
    }
}

fn decode(body: &Value, tz: Timezone, now: DateTime<Utc>) -> Result<Zones, String> {
    let mut zones = Zones::default();
    match body {
        Value::Array(items) => {
            if items.len() > MAX_RECORDS {
                return Err(format!("{} records; at most {MAX_RECORDS}", items.len()));
            }
            for (i, item) in items.iter().enumerate() {
                let at = format!("[{i}]");
                let Value::Object(map) = item else {
                    return Err(format!("{at} is not an object"));
                };
                one(&mut zones, Fields::from_map(map.clone()), &at, tz, now)?;
            }
        }
        Value::Object(map) => one(&mut zones, Fields::from_map(map.clone()), "body", tz, now)?,
        _ => return Err("body is neither a JSON object nor an array".into()),
    }
    Ok(zones)
}

/// One object of a push, by its shape.
fn one(zones: &mut Zones, f: Fields, at: &str, tz: Timezone, now: DateTime<Utc>) -> Result<(), String> {
    let r = Record { f, at, tz, now };
    let has = |name: &str| r.f.has(name);
    if has("peopleflowtoday") || has("peopledensitytoday") {
        people(zones, &r)
    } else if has("recordtype") {
        alarm(zones, &r)
    } else if has("taskstatus") {
        status(zones, &r)
    } else if has("alarmtime") || (has("peoplenum") && has("density")) {
        crowd(zones, &r)
    } else if has("platenum")
        || (has("snapshottime") && has("roadnum") && !has("queuelength") && !has("spacingpercent"))
    {
        vehicle(zones, &r)
    } else if has("spacingpercent") || has("timepercent") || has("queuelength") || has("queuenum") {
        traffic(zones, &r)
    } else {
        Err(format!(
            "{at}: not a push the platform knows (expected peopleFlowToday/peopleDensityToday, recordType, \
             taskStatus, a crowd alarm, vehicle flow or traffic parameters)"
        ))
    }
}

fn list<'a>(r: &'a Record<'_>, name: &str, label: &str) -> Result<&'a [Value], String> {
    match r.f.get(name) {
        None => Ok(&[]),
        Some(Value::Array(items)) if items.len() <= MAX_RECORDS => Ok(items),
        Some(Value::Array(items)) => Err(format!("{label} has {} records; at most {MAX_RECORDS}", items.len())),
        Some(_) => Err(format!("{label} is not an array")),
    }
}

/// A nested record (an item of `peopleFlowToday`, ...), its errors naming `at`.
fn sub<'b>(r: &Record<'_>, v: &Value, at: &'b str) -> Result<Record<'b>, String> {
    match v {
        Value::Object(map) => Ok(Record {
            f: Fields::from_map(map.clone()),
            at,
            tz: r.tz,
            now: r.now,
        }),
        _ => Err(format!("{at} is not an object")),
    }
}

fn people(zones: &mut Zones, r: &Record<'_>) -> Result<(), String> {
    for (i, item) in list(r, "peopleflowtoday", "peopleFlowToday")?.iter().enumerate() {
        let label = format!("peopleFlowToday[{i}]");
        let f = sub(r, item, &label)?;
        let zone = f.zone(true)?;
        let r#in = f.count("peoplein")?;
        let out = f.count("peopleout")?;
        let upload = f
            .time("uploadtime")?
            .ok_or_else(|| format!("{label}.uploadTime is missing"))?;
        let last = f.time("lastuploadtime")?.filter(|&l| l < upload).unwrap_or(upload);
        let span = check_span(last, upload, r.now.timestamp()).map_err(|e| format!("{label}: {e}"))?;
        let reading = Reading {
            kind: Kind::Live,
            span,
            tally: Tally {
                all: Counts::new(r#in, out, 0, 0),
                ..Tally::ZERO
            },
        };
        check_tally(&reading.tally).map_err(|e| format!("{label}: {e}"))?;
        let counts = &mut zones.of(zone).report.counts;
        counts.readings.push(ReportedReading {
            reading,
            total: None,
            avg_stay_ms: None,
            has_split: false,
        });
        counts.device_time = Some(counts.device_time.map_or(upload, |t| t.max(upload)));
    }
    for (i, item) in list(r, "peopledensitytoday", "peopleDensityToday")?.iter().enumerate() {
        let label = format!("peopleDensityToday[{i}]");
        let f = sub(r, item, &label)?;
        let zone = f.zone(true)?;
        let current = f.count("peoplenum")?;
        let time = f.time("gathertime")?.unwrap_or(r.now.timestamp());
        let current = u32::try_from(current).map_err(|_| format!("{label}.peopleNum is too large"))?;
        let decoded = zones.of(zone);
        if decoded.report.occupancy.as_ref().is_none_or(|o| o.time <= time) {
            decoded.report.occupancy = Some(StayReport {
                time,
                current,
                people: Vec::new(),
            });
        }
    }
    Ok(())
}

fn alarm(zones: &mut Zones, r: &Record<'_>) -> Result<(), String> {
    let code =
        r.f.int(&["recordtype"])
            .map_err(|e| format!("{}.{e}", r.at))?
            .unwrap_or_default();
    let at = r.time("recordtime")?.unwrap_or(r.now.timestamp());
    let mut attributes = r.attributes(&["tasknum"]);
    let image = r.image(&mut attributes);
    let mut e = event(EventSource::Alarm, record_type(code), at, attributes);
    e.name = r.text("recordcontent");
    push_event(zones.of(r.zone(false)?), e, image);
    Ok(())
}

fn crowd(zones: &mut Zones, r: &Record<'_>) -> Result<(), String> {
    let zone = r.zone(true)?;
    r.count("peoplenum")?;
    let at = r.time("alarmtime")?.unwrap_or(r.now.timestamp());
    let mut attributes = r.attributes(&["tasknum", "regioncode"]);
    let image = r.image(&mut attributes);
    let mut e = event(EventSource::Alarm, "crowd".into(), at, attributes);
    e.name = r.text("taskname").map(|t| format!("crowd at {t}"));
    push_event(zones.of(zone), e, image);
    Ok(())
}

fn status(zones: &mut Zones, r: &Record<'_>) -> Result<(), String> {
    let code =
        r.f.int(&["taskstatus"])
            .map_err(|e| format!("{}.{e}", r.at))?
            .unwrap_or_default();
    let attributes = r.attributes(&["tasknum"]);
    let mut e = event(EventSource::Event, "task_status".into(), r.now.timestamp(), attributes);
    e.status = Some(task_status(code));
    e.name = r.text("taskstatusname");
    e.at_ms = r.now.timestamp_millis();
    push_event(zones.of(r.zone(false)?), e, None);
    Ok(())
}

fn small_int(r: &Record<'_>, name: &str) -> Result<Option<i32>, String> {
    r.f.int(&[name])
        .map_err(|e| format!("{}.{e}", r.at))?
        .map(|n| i32::try_from(n).map_err(|_| format!("{}.{name} is out of range", r.at)))
        .transpose()
}

fn vehicle(zones: &mut Zones, r: &Record<'_>) -> Result<(), String> {
    let zone = r.zone(false)?;
    let at = r.time("snapshottime")?.unwrap_or(r.now.timestamp());
    let count = VehicleCount {
        direction: VehicleDirection::Pass,
        count: 1,
        at_ms: at * 1000,
        lane: small_int(r, "roadnum")?,
        vehicle_type: small_int(r, "vehicletype")?,
        plate: r.text("platenum"),
        dedupe: r.content_key(),
    };
    zones.of(zone).report.vehicles.push(count);
    Ok(())
}

fn traffic(zones: &mut Zones, r: &Record<'_>) -> Result<(), String> {
    let zone = r.zone(false)?;
    let at = r.time("snapshottime")?.unwrap_or(r.now.timestamp());
    let lane = small_int(r, "roadnum")?.map_or_else(|| "all".to_string(), |l| l.to_string());
    let decoded = zones.of(zone);
    for (key, name) in [
        ("spacingpercent", "spacingPercent"),
        ("timepercent", "timePercent"),
        ("queuelength", "queueLength"),
        ("queuenum", "queueNum"),
    ] {
        let Some(v) = r.f.get(key) else {
            continue;
        };
        let value = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|f| f.is_finite())
        .ok_or_else(|| format!("{}.{name} is not a number: {v}", r.at))?;
        decoded.report.sensors.push(SensorSample {
            kind: SensorKind::Traffic,
            key: format!("{lane}/{name}"),
            name: r.text("taskname"),
            channel: None,
            value,
            threshold: None,
            alarm: None,
            at_ms: at * 1000,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zones(body: Value) -> Result<Zones, String> {
        decode(&body, Timezone::parse("Asia/Shanghai").unwrap(), Utc::now())
    }

    #[test]
    fn shapes_are_told_apart() {
        let t = (Utc::now() + chrono::TimeDelta::hours(8))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        let z = zones(json!({"taskNum": "3", "recordType": 1001, "recordTime": t})).unwrap();
        assert_eq!(z.0[0].1.report.events[0].kind, "illegal_parking");
        let z = zones(json!({"taskNum": "1", "taskStatus": 3, "taskStatusName": "已断开"})).unwrap();
        assert_eq!(z.0[0].1.report.events[0].status.as_deref(), Some("disconnected"));
        let z = zones(json!([{"taskNum": "1", "roadNum": 2, "plateNum": "A1", "snapshotTime": t}])).unwrap();
        assert_eq!(z.0[0].1.report.vehicles.len(), 1);
        let z = zones(json!([{"taskNum": "1", "roadNum": 1, "queueLength": 56, "snapshotTime": t}])).unwrap();
        assert_eq!(z.0[0].1.report.sensors[0].key, "1/queueLength");
        assert!(zones(json!({"hello": 1})).is_err());
        assert!(zones(json!([])).unwrap().0.is_empty());
    }

    #[test]
    fn record_types_follow_the_table() {
        assert_eq!(record_type(1017), "vehicle_left");
        assert_eq!(record_type(2001), "record_2001");
    }
}
