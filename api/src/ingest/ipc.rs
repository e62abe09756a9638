//! IPC cameras (PROTOCOLS.md §2): Digest-authenticated keepalive and
//! reports. Each route authenticates (`digest`), decodes its body into a
//! [`CameraReport`], stores images in the blob store, hands the report to
//! the writer, and answers `{"method": …, "error": {"errorcode": 0|<0,
//! "errormsg": …}}`.
//!
//! Times the cameras send are their local wall clock; they are read in the
//! zone of the camera's site. A camera clock that is implausibly off (before
//! 2000, or a day ahead) does not lose an event: it is stamped with the
//! receive time and keeps what the camera said in `localTime`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use footfall_domain::camera::{
    CameraEvent, CameraReport, CounterSample, EventSource, SensorKind, SensorSample, counter_reading,
};
use footfall_domain::counting::{check_tally, check_time, unix_seconds};
use footfall_domain::ingest::{ReportedReading, StayReport};
use footfall_domain::localtime::{parse_wall_clock, to_unix, wall_clock_from_millis};
use footfall_domain::tlv::{self, Metadata, Record, Section};
use footfall_infra::directory::Route;
use footfall_infra::writer::{RawUpload, Work};
use serde_json::{Map, Value, json};

#[allow(unused_imports)]
use super::docs::{IpcAnswer, IpcKeepalive, IpcKeepaliveAnswer, IpcReport};
use super::lenient::{Fields, as_int};
use super::report::{Body, Decoded, IMAGE_KEYS, Image, decode_base64, json_body, store_images, strip_images};
use super::{digest, read_body};
use crate::services::ingest::{self, IngestError};
use crate::state::AppState;

/// An answer in the cameras' shape, HTTP 200.
fn answer(method: &str, code: i32, msg: &str) -> Response {
    Json(json!({"method": method, "error": {"errorcode": code, "errormsg": msg}})).into_response()
}

/// A defect answered in the protocol's shape.
pub fn panic_answer(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("an IPC camera request panicked");
    answer("", -4, "internal error")
}

fn failure(method: &str, err: &IngestError, sn: &str) -> Response {
    let code = match err {
        IngestError::Invalid(_) => -1,
        IngestError::UnknownDevice => -2,
        IngestError::Unavailable => -3,
        IngestError::Internal => -4,
    };
    tracing::warn!(%sn, method, reason = %err, "IPC request refused");
    answer(method, code, &err.to_string())
}

/// The report routes, by the method name they answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Report {
    Alarm,
    Event,
    Tlv,
    Modbus,
    Temperature,
    Snapshot,
}

impl Report {
    fn method(self) -> &'static str {
        match self {
            Report::Alarm => "alarm_report",
            Report::Event => "event_report",
            Report::Tlv => "tlv_report",
            Report::Modbus => "reportData",
            Report::Temperature => "report_temper_data",
            Report::Snapshot => "snap_report",
        }
    }

    fn endpoint(self) -> &'static str {
        match self {
            Report::Alarm => "ipc/alarm_report",
            Report::Event => "ipc/event_report",
            Report::Tlv => "ipc/tlv_report",
            Report::Modbus => "ipc/reportData.do",
            Report::Temperature => "ipc/report_temper_data",
            Report::Snapshot => "ipc/snap_report",
        }
    }
}

/// The device id a body names, used when `User-Identify` is absent.
fn body_device_id(body: &Body) -> Option<String> {
    body.param
        .text(&["deviceid", "device_id", "deviceno"])
        .or_else(|| body.top.text(&["deviceid", "device_id", "deviceno"]))
}

/// Keepalive of an IPC camera (every minute by default). Marks it online
/// and answers with its `keepinterval`, the period the tenant set.
#[utoipa::path(get, path = "/v1/device/keepalive", tag = "device: IPC camera",
    request_body(content = IpcKeepalive, description = "JSON, in the body of a GET as the cameras send it; optional"),
    responses(
        (status = 200, description = "`errorcode` 0, with the keepalive period", body = IpcKeepaliveAnswer),
        (status = 401, description = "Digest challenge (`WWW-Authenticate`); `stale=true` when the nonce expired", body = IpcAnswer),
        (status = 503, description = "The replay check is unavailable; retry", body = IpcAnswer),
    ))]
pub async fn keepalive(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    const METHOD: &str = "keepalive";
    let body = read_body(body);
    let parsed = match &body {
        Ok(bytes) if !bytes.iter().all(u8::is_ascii_whitespace) => Some(json_body(bytes)),
        _ => None,
    };
    let hint = parsed.as_ref().and_then(|p| p.as_ref().ok()).and_then(body_device_id);
    let route = match digest::authenticate(&state, &method, &uri, &headers, hint.as_deref(), METHOD).await {
        Ok(route) => route,
        Err(refused) => return refused,
    };
    let sn = route.device.sn.to_string();
    if let Err(why) = &body {
        return failure(METHOD, &IngestError::Invalid(why.clone()), &sn);
    }
    let reported = match parsed {
        Some(Ok(b)) => keepalive_fields(&b),
        Some(Err(why)) => return failure(METHOD, &IngestError::Invalid(why), &sn),
        None => Vec::new(),
    };
    match ingest::heartbeat(&state, &route, reported).await {
        Ok(hb) => Json(json!({
            "method": METHOD,
            "keepinterval": hb.config.keep_interval_seconds(),
            "error": {"errorcode": 0, "errormsg": ""},
        }))
        .into_response(),
        Err(e) => failure(METHOD, &e, &sn),
    }
}

/// The same keepalive sent with POST, as some firmware does.
#[utoipa::path(post, path = "/v1/device/keepalive", tag = "device: IPC camera",
    request_body(content = IpcKeepalive, description = "JSON; optional"),
    responses(
        (status = 200, description = "`errorcode` 0, with the keepalive period", body = IpcKeepaliveAnswer),
        (status = 401, description = "Digest challenge (`WWW-Authenticate`)", body = IpcAnswer),
    ))]
pub async fn keepalive_post(
    state: State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    keepalive(state, method, uri, headers, body).await
}

/// What a keepalive says about the camera, kept as its reported state.
fn keepalive_fields(body: &Body) -> Vec<(String, String)> {
    let p = &body.param;
    [
        ("deviceName", p.text(&["devicename", "device_name"])),
        ("channelNum", p.text(&["channelnum", "channel_num"])),
        ("deviceTime", p.text(&["time"])),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k.to_string(), v.chars().take(256).collect())))
    .collect()
}

macro_rules! report_route {
    ($name:ident, $kind:expr, $method:ident, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path($method, path = $path, tag = "device: IPC camera",
            request_body(content = IpcReport, description = "The report, JSON (TLV: binary)"),
            responses(
                (status = 200, description = "`errorcode` 0 once stored; negative with `errormsg` when refused", body = IpcAnswer),
                (status = 401, description = "Digest challenge (`WWW-Authenticate`)", body = IpcAnswer),
                (status = 503, description = "The replay check is unavailable; retry", body = IpcAnswer),
            ))]
        pub async fn $name(
            state: State<AppState>,
            method: Method,
            uri: Uri,
            headers: HeaderMap,
            body: Result<Bytes, BytesRejection>,
        ) -> Response {
            report(state, method, uri, headers, body, $kind).await
        }
    };
}

report_route!(
    alarm_report,
    Report::Alarm,
    post,
    "/v1/uns/reviceMonitorPointRecord/alarm_report",
    "Alarm of an IPC camera (e-bike, falling objects, ...): an event with its snapshot."
);
report_route!(
    event_report,
    Report::Event,
    post,
    "/v1/device/event_report",
    "Analytics event of an IPC camera (`event` 1 alarm, 3 timed snapshot): an event with its snapshot."
);
report_route!(
    tlv_report,
    Report::Tlv,
    post,
    "/v1/device/tlv_report",
    "Binary TLV metadata: customer counts become footfall and occupancy; faces, text and other targets become events."
);
report_route!(
    modbus_report,
    Report::Modbus,
    post,
    "/rs/env/reportData.do",
    "Modbus registers read by an IPC camera: one sensor reading per register."
);
report_route!(
    temperature_report,
    Report::Temperature,
    post,
    "/v1/uns/reviceMonitorPointRecord/report_temper_data",
    "Thermal regions' temperatures: one sensor reading per region."
);
report_route!(
    snapshot_report,
    Report::Snapshot,
    post,
    "/v1/device/snap_report",
    "A snapshot pushed by an IPC camera: an event with its image."
);

/// The parsed body of any report.
enum Parsed {
    Json(Body),
    Tlv(Vec<Record>),
}

async fn report(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    kind: Report,
) -> Response {
    let name = kind.method();
    let body = read_body(body);
    let parsed = body.as_ref().map_err(Clone::clone).and_then(|bytes| match kind {
        Report::Tlv => tlv::decode(bytes).map(Parsed::Tlv).map_err(|e| format!("TLV: {e}")),
        _ => json_body(bytes).map(Parsed::Json),
    });
    let hint = match &parsed {
        Ok(Parsed::Json(b)) => body_device_id(b),
        Ok(Parsed::Tlv(records)) => tlv_device_id(records),
        Err(_) => None,
    };
    let route = match digest::authenticate(&state, &method, &uri, &headers, hint.as_deref(), name).await {
        Ok(route) => route,
        Err(refused) => return refused,
    };
    let sn = route.device.sn.to_string();
    let now = Utc::now();
    let decoded = parsed.and_then(|p| {
        match (kind, &p) {
            (Report::Tlv, Parsed::Tlv(records)) => decode_tlv(records, &route, now),
            (Report::Alarm, Parsed::Json(b)) => decode_alarm(b, &route, now),
            (Report::Event, Parsed::Json(b)) => decode_event(b, &route, now),
            (Report::Snapshot, Parsed::Json(b)) => decode_snapshot(b, now),
            (Report::Temperature, Parsed::Json(b)) => decode_temperatures(b, &route, now),
            (Report::Modbus, Parsed::Json(b)) => decode_modbus(b, &route, now),
            _ => Err("unexpected body".into()),
        }
        .map(|d| (d, p))
    });
    let (mut decoded, parsed) = match decoded {
        Ok(d) => d,
        Err(why) => {
            // Kept raw for re-derivation, refused to the camera.
            let raw = RawUpload {
                endpoint: kind.endpoint(),
                sn: sn.clone(),
                body: body.as_ref().map_or_else(|e| e.clone(), |b| raw_text(kind, b)),
            };
            return match ingest::upload(&state, &route, Work::Unrecognised(why.clone()), raw).await {
                Ok(_) => failure(name, &IngestError::Invalid(why), &sn),
                Err(e) => failure(name, &e, &sn),
            };
        }
    };
    if let Err(e) = store_images(&state, route.device.tenant, &mut decoded).await {
        return failure(name, &e, &sn);
    }
    decoded.report.key_events_by_content();
    let raw = RawUpload {
        endpoint: kind.endpoint(),
        sn: sn.clone(),
        body: stripped(&parsed, &decoded.report),
    };
    match ingest::upload(&state, &route, Work::Camera(decoded.report), raw).await {
        Ok(_) => answer(name, 0, ""),
        Err(e) => failure(name, &e, &sn),
    }
}

/// Text of a body that could not be decoded, for `raw_uploads`.
fn raw_text(kind: Report, bytes: &[u8]) -> String {
    match kind {
        Report::Tlv => format!("base64:{}", base64::engine::general_purpose::STANDARD.encode(bytes)),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// The body kept in `raw_uploads`: as sent, with images replaced by their
/// blob keys (JSON) or left out (TLV, kept as base64).
fn stripped(parsed: &Parsed, report: &CameraReport) -> String {
    let images: Vec<&str> = report.events.iter().filter_map(|e| e.image_key.as_deref()).collect();
    match parsed {
        Parsed::Json(body) => {
            let mut raw = body.raw.clone();
            strip_images(&mut raw, &images, IMAGE_KEYS);
            raw.to_string()
        }
        Parsed::Tlv(records) => {
            let kept: Vec<Record> = records
                .iter()
                .map(|r| Record {
                    section: r.section,
                    fields: r
                        .fields
                        .iter()
                        .map(|f| match f.tag {
                            tlv::tag::SNAPSHOT | tlv::tag::OBJ_PIC => tlv::Field {
                                tag: f.tag,
                                value: format!("[image of {} bytes in the blob store]", f.value.len()).into_bytes(),
                            },
                            _ => f.clone(),
                        })
                        .collect(),
                })
                .collect();
            format!(
                "base64:{}",
                base64::engine::general_purpose::STANDARD.encode(tlv::encode(&kept))
            )
        }
    }
}

/// The image in one of `names`, if sent; an undecodable one is noted in the
/// event's attributes instead of failing the report.
fn image_field(p: &Fields, names: &[&str], attributes: &mut Map<String, Value>) -> Option<Vec<u8>> {
    let text = p.text(names)?;
    if text.trim().is_empty() {
        return None;
    }
    let image = decode_base64(&text);
    if image.is_none() {
        attributes.insert("imageError".into(), Value::String("the image is not base64".into()));
    }
    image
}

/// `extends` / `extern`: base64 of JSON. Kept structured when it is, as
/// sent when it is not.
fn extension(p: &Fields, names: &[&str], attributes: &mut Map<String, Value>) {
    let Some(text) = p.text(names) else { return };
    if text.trim().is_empty() {
        return;
    }
    let parsed = decode_base64(&text)
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .or_else(|| serde_json::from_str::<Value>(&text).ok().filter(Value::is_object));
    match parsed {
        Some(mut value) => {
            super::lenient::scrub(&mut value);
            attributes.insert("extends".into(), value)
        }
        None => attributes.insert("extendsRaw".into(), Value::String(text.chars().take(4096).collect())),
    };
}

/// When an event happened: the camera's local time read in the site's zone,
/// or the receive time when it sent none or an implausible one.
fn event_time(p: &Fields, route: &Route, now: DateTime<Utc>) -> (i64, Option<String>) {
    let received_ms = now.timestamp_millis();
    let Some(value) = p.get("time") else {
        return (received_ms, None);
    };
    let (at_ms, local) = match value {
        Value::String(s) => match parse_wall_clock(s) {
            Some(local) => {
                let seconds = to_unix(route.timezone, local, now.timestamp());
                let millis = i64::from(local.and_utc().timestamp_subsec_millis());
                (Some(seconds * 1000 + millis), Some(s.trim().to_string()))
            }
            None => match as_int(value) {
                Some(n) => (Some(unix_seconds(n) * 1000), Some(s.trim().to_string())),
                None => (None, Some(s.trim().to_string())),
            },
        },
        other => (as_int(other).map(|n| unix_seconds(n) * 1000), Some(other.to_string())),
    };
    match at_ms {
        Some(ms) if check_time(ms.div_euclid(1000), now.timestamp()).is_ok() => (ms, local),
        _ => (received_ms, local),
    }
}

fn channel(p: &Fields, names: &[&str]) -> Option<i32> {
    p.int(names).ok().flatten().and_then(|c| i32::try_from(c).ok())
}

fn insert_text(attributes: &mut Map<String, Value>, key: &str, value: Option<String>) {
    if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
        attributes.insert(key.into(), Value::String(v));
    }
}

/// `start`, `stop`, `pulse` whether sent as words or as 1, 0, 2.
fn status(p: &Fields) -> Option<String> {
    let raw = p.text(&["status"])?;
    let s = raw.trim().to_ascii_lowercase();
    Some(match s.as_str() {
        "0" => "stop".into(),
        "1" => "start".into(),
        "2" => "pulse".into(),
        "" => return None,
        _ => s,
    })
}

fn decode_alarm(body: &Body, route: &Route, now: DateTime<Utc>) -> Result<Decoded, String> {
    let p = &body.param;
    let kind = p
        .text(&["alarm_type", "alarmtype", "type"])
        .filter(|k| !k.trim().is_empty())
        .ok_or("param.alarm_type is missing")?;
    let (at_ms, local_time) = event_time(p, route, now);
    let mut attributes = Map::new();
    insert_text(&mut attributes, "deviceName", p.text(&["device_name", "devicename"]));
    let uuid = p.text(&["alarm_uuid", "alarmuuid"]).filter(|u| !u.trim().is_empty());
    insert_text(&mut attributes, "alarmUuid", uuid.clone());
    extension(p, &["extends", "extend", "extern"], &mut attributes);
    let image = image_field(p, &["jpeg_base64", "jpegbase64"], &mut attributes);
    let event = CameraEvent {
        source: EventSource::Alarm,
        kind: kind.trim().to_string(),
        name: p.text(&["alarm_msg", "alarmmsg"]).filter(|m| !m.trim().is_empty()),
        status: status(p),
        channel: channel(p, &["channel_id", "channelid", "channel"]),
        at_ms,
        local_time,
        attributes,
        image_key: None,
        dedupe: uuid.map(|u| format!("uuid:{}", u.trim())).unwrap_or_default(),
    };
    Ok(one_event(event, image))
}

fn decode_event(body: &Body, route: &Route, now: DateTime<Utc>) -> Result<Decoded, String> {
    let p = &body.param;
    let category = p.int(&["event"])?;
    let kind = p
        .text(&["type"])
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .or_else(|| category.map(|c| format!("event_{c}")))
        .ok_or("param.type is missing")?;
    let (at_ms, local_time) = event_time(p, route, now);
    let mut attributes = Map::new();
    insert_text(&mut attributes, "deviceName", p.text(&["device_name", "devicename"]));
    if let Some(c) = category {
        attributes.insert("event".into(), json!(c));
    }
    if let Some(t) = p.int(&["channel_type", "channeltype"]).ok().flatten() {
        attributes.insert("channelType".into(), json!(t));
    }
    extension(p, &["extern", "extends", "extend"], &mut attributes);
    let image = image_field(p, &["jpeg_base64", "jpegbase64"], &mut attributes);
    let event = CameraEvent {
        // Category 3 is a timed snapshot, not an alarm.
        source: if category == Some(3) {
            EventSource::Snapshot
        } else {
            EventSource::Event
        },
        kind,
        name: p.text(&["typename", "type_name"]).filter(|n| !n.trim().is_empty()),
        status: status(p),
        channel: channel(p, &["channel_id", "channelid", "channel"]),
        at_ms,
        local_time,
        attributes,
        image_key: None,
        dedupe: String::new(),
    };
    Ok(one_event(event, image))
}

fn decode_snapshot(body: &Body, now: DateTime<Utc>) -> Result<Decoded, String> {
    let p = &body.param;
    let mut attributes = Map::new();
    insert_text(&mut attributes, "deviceName", p.text(&["devicename", "device_name"]));
    let mid = body.top.text(&["mid"]);
    insert_text(&mut attributes, "mid", mid.clone());
    let name = p.text(&["name"]).filter(|n| !n.trim().is_empty());
    let image = image_field(p, &["jpegbase64", "jpeg_base64"], &mut attributes);
    if image.is_none() && !attributes.contains_key("imageError") {
        return Err("param.jpegBase64 is missing".into());
    }
    let event = CameraEvent {
        source: EventSource::Snapshot,
        kind: "snapshot".into(),
        dedupe: match (&mid, &name) {
            (Some(mid), _) => format!("mid:{mid}:{}", name.as_deref().unwrap_or_default()),
            _ => String::new(),
        },
        name,
        status: None,
        channel: None,
        at_ms: now.timestamp_millis(),
        local_time: None,
        attributes,
        image_key: None,
    };
    Ok(one_event(event, image))
}

fn one_event(event: CameraEvent, image: Option<Vec<u8>>) -> Decoded {
    Decoded {
        report: CameraReport {
            events: vec![event],
            ..CameraReport::default()
        },
        images: image.map(|i| (0, Image::Main(i))).into_iter().collect(),
    }
}

/// A finite number from a JSON number or numeric string.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

/// Most values one sensor report may carry.
const MAX_SAMPLES: usize = 1_000;

fn decode_temperatures(body: &Body, route: &Route, now: DateTime<Utc>) -> Result<Decoded, String> {
    let p = &body.param;
    let regions = p
        .array("temper_rect")
        .or_else(|| p.array("temperrect"))
        .filter(|r| !r.is_empty())
        .ok_or("param.temper_rect is missing or empty")?;
    if regions.len() > MAX_SAMPLES {
        return Err(format!(
            "temper_rect has {} regions; at most {MAX_SAMPLES}",
            regions.len()
        ));
    }
    let (at_ms, _) = event_time(p, route, now);
    let channel = channel(p, &["channel_id", "channelid", "channel"]);
    let sensors = regions
        .iter()
        .enumerate()
        .map(|(i, region)| {
            let r = Fields::from_map(
                region
                    .as_object()
                    .ok_or_else(|| format!("temper_rect[{i}] is not an object"))?
                    .clone(),
            );
            let value = r
                .get("temper")
                .and_then(number)
                .ok_or_else(|| format!("temper_rect[{i}].temper is missing or not a number"))?;
            let threshold = r.get("over_threshold").and_then(number);
            Ok(SensorSample {
                kind: SensorKind::Temperature,
                key: r.text(&["id"]).unwrap_or_else(|| i.to_string()),
                name: r.text(&["name"]).filter(|n| !n.trim().is_empty()),
                channel,
                value,
                threshold,
                alarm: threshold.map(|t| i32::from(value >= t)),
                at_ms,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Decoded {
        report: CameraReport {
            sensors,
            ..CameraReport::default()
        },
        images: Vec::new(),
    })
}

fn decode_modbus(body: &Body, route: &Route, now: DateTime<Utc>) -> Result<Decoded, String> {
    let f = &body.top;
    let Some(Value::Object(data)) = f.get("data") else {
        return Err("data (the registers) is missing".into());
    };
    if data.len() > MAX_SAMPLES {
        return Err(format!("data has {} registers; at most {MAX_SAMPLES}", data.len()));
    }
    let alarms = match f.get("alarm") {
        Some(Value::Object(a)) => a.clone(),
        _ => Map::new(),
    };
    let (at_ms, _) = event_time(f, route, now);
    let sensors = data
        .iter()
        .map(|(register, value)| {
            let value = number(value).ok_or_else(|| format!("data.{register} is not a number"))?;
            Ok(SensorSample {
                kind: SensorKind::Modbus,
                key: register.trim().to_string(),
                name: None,
                channel: None,
                value,
                threshold: None,
                alarm: alarms
                    .get(register)
                    .and_then(as_int)
                    .and_then(|a| i32::try_from(a).ok()),
                at_ms,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Decoded {
        report: CameraReport {
            sensors,
            ..CameraReport::default()
        },
        images: Vec::new(),
    })
}

fn tlv_device_id(records: &[Record]) -> Option<String> {
    records.iter().find_map(|r| {
        r.fields
            .iter()
            .find(|f| f.tag == tlv::tag::DEVICE_ID)
            .map(|f| {
                String::from_utf8_lossy(&f.value)
                    .trim_end_matches('\0')
                    .trim()
                    .to_string()
            })
            .filter(|s| !s.is_empty())
    })
}

/// Most records one TLV body may carry.
const MAX_RECORDS: usize = 5_000;

/// The instant a PTS (camera wall clock, ms) names; the receive time without
/// one. An implausible clock refuses counts (they would land on the wrong
/// day) but not events.
fn pts_time(local_ms: Option<i64>, route: &Route, now: DateTime<Utc>) -> (i64, Option<String>, bool) {
    let Some(ms) = local_ms else {
        return (now.timestamp_millis(), None, true);
    };
    let Some(local) = wall_clock_from_millis(ms) else {
        return (now.timestamp_millis(), Some(ms.to_string()), false);
    };
    let seconds = to_unix(route.timezone, local, now.timestamp());
    let at_ms = seconds * 1000 + i64::from(local.and_utc().timestamp_subsec_millis());
    let text = local.format("%Y-%m-%d %H:%M:%S%.3f").to_string();
    if check_time(seconds, now.timestamp()).is_ok() {
        (at_ms, Some(text), true)
    } else {
        (now.timestamp_millis(), Some(text), false)
    }
}

fn tlv_value(v: &tlv::Value) -> Value {
    match v {
        tlv::Value::Int(n) => json!(n),
        tlv::Value::Text(s) => json!(s),
        tlv::Value::Bytes(n) => json!({"bytes": n}),
    }
}

fn decode_tlv(records: &[Record], route: &Route, now: DateTime<Utc>) -> Result<Decoded, String> {
    if records.len() > MAX_RECORDS {
        return Err(format!("{} TLV records; at most {MAX_RECORDS}", records.len()));
    }
    let mode = route.device.config.data_mode;
    let mut decoded = Decoded::default();
    let mut latest_keep: Option<(i64, u32)> = None;
    for (i, record) in records.iter().enumerate() {
        match record.interpret().map_err(|e| format!("record {i}: {e}"))? {
            Metadata::Other { .. } => {}
            Metadata::CustomerCount {
                local_ms,
                r#in,
                out,
                pass,
                keep,
                ..
            } => {
                let (at_ms, _, plausible) = pts_time(local_ms, route, now);
                if !plausible {
                    return Err(format!(
                        "record {i}: PTS {} is not a plausible time; check the camera's clock",
                        local_ms.unwrap_or_default()
                    ));
                }
                let at = at_ms.div_euclid(1000);
                let day_start = footfall_domain::buckets::day_start(route.timezone, at);
                let sample = CounterSample {
                    r#in: u64::from(r#in),
                    out: u64::from(out),
                    pass: u64::from(pass),
                };
                let reading = counter_reading(mode, sample, day_start, at);
                check_tally(&reading.tally).map_err(|e| format!("record {i}: {e}"))?;
                decoded.report.counts.readings.push(ReportedReading {
                    reading,
                    total: None,
                    avg_stay_ms: None,
                    has_split: false,
                });
                decoded.report.counts.device_time = Some(at);
                if let Some(keep) = keep
                    && latest_keep.is_none_or(|(t, _)| t <= at)
                {
                    latest_keep = Some((at, keep));
                }
            }
            Metadata::Event {
                section,
                target,
                device_id,
                channel,
                local_ms,
                attributes,
                snapshot,
                object_picture,
            } => {
                let (at_ms, local_time, _) = pts_time(local_ms, route, now);
                let mut map: Map<String, Value> = attributes.iter().map(|(k, v)| ((*k).into(), tlv_value(v))).collect();
                map.insert("section".into(), json!(section.to_string()));
                if let Some(t) = target {
                    map.insert("target".into(), json!(t));
                }
                insert_text(&mut map, "deviceId", device_id);
                let kind = match (target.and_then(tlv::target::name), section) {
                    (Some(name), _) => name.to_string(),
                    (None, s) if s == Section::ALARM => "alarm".into(),
                    (None, s) if s == Section::AREA => "area".into(),
                    (None, s) => match target {
                        Some(t) => format!("target_{t}"),
                        None => s.to_string().to_ascii_lowercase(),
                    },
                };
                let name = attributes.iter().find_map(|(k, v)| match (k, v) {
                    (&"ocrText" | &"objectName", tlv::Value::Text(t)) if !t.is_empty() => Some(t.clone()),
                    _ => None,
                });
                let index = decoded.report.events.len();
                decoded.report.events.push(CameraEvent {
                    source: if section == Section::ALARM {
                        EventSource::Alarm
                    } else {
                        EventSource::Metadata
                    },
                    kind,
                    name,
                    status: None,
                    channel: channel.and_then(|c| i32::try_from(c).ok()),
                    at_ms,
                    local_time,
                    attributes: map,
                    image_key: None,
                    dedupe: String::new(),
                });
                if let Some(image) = snapshot.filter(|s| !s.is_empty()) {
                    decoded.images.push((index, Image::Main(image)));
                }
                if let Some(image) = object_picture.filter(|s| !s.is_empty()) {
                    decoded.images.push((index, Image::Cutout(image)));
                }
            }
        }
    }
    decoded.report.occupancy = latest_keep.map(|(time, current)| StayReport {
        time,
        current,
        people: Vec::new(),
    });
    if decoded.report.counts.readings.is_empty() && decoded.report.events.is_empty() {
        return Err("no TLV record the platform reads (expected META, ALAM or AREA records)".into());
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_cameras_write_it() {
        assert_eq!(decode_base64("/9j/4A=="), Some(vec![0xFF, 0xD8, 0xFF, 0xE0]));
        assert_eq!(decode_base64("/9j/4A"), Some(vec![0xFF, 0xD8, 0xFF, 0xE0]));
        assert_eq!(
            decode_base64("data:image/jpeg;base64,/9j/\n4A=="),
            Some(vec![0xFF, 0xD8, 0xFF, 0xE0])
        );
        assert_eq!(decode_base64("jpeg_base64"), None, "the document's placeholder");
        assert_eq!(decode_base64(""), None);
    }

    #[test]
    fn statuses() {
        let f = |v: Value| Fields::from_map(Map::from_iter([("status".to_string(), v)]));
        assert_eq!(status(&f(json!(1))).as_deref(), Some("start"));
        assert_eq!(status(&f(json!("0"))).as_deref(), Some("stop"));
        assert_eq!(status(&f(json!("Pulse"))).as_deref(), Some("pulse"));
        assert_eq!(status(&f(json!(""))), None);
    }

    #[test]
    fn images_are_stripped_from_kept_bodies() {
        let mut v = json!({"param": {"jpeg_base64": "A".repeat(100), "alarm_type": "x"}});
        strip_images(&mut v, &["t/ab/cd.jpg"], IMAGE_KEYS);
        let kept = v["param"]["jpeg_base64"].as_str().unwrap();
        assert!(
            kept.contains("100 base64 characters") && kept.contains("t/ab/cd.jpg"),
            "{kept}"
        );
        assert_eq!(v["param"]["alarm_type"], "x");
    }
}
