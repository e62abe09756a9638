//! Edge boxes (PROTOCOLS.md §4): skill pushes such as "vehicle leave"
//! (`wsKey: eventCreateOptimize`). A push becomes one event (with its `bg`
//! image) and, where `eventInfo` counts vehicles, vehicle counts. `msg_id`
//! is the idempotency key: a retransmission stores nothing new.
//!
//! The box is identified by `deviceInfo.uuid` (or `id`): bound as a device
//! with protocol `edge_box` and posting to the vendor default path, or
//! posting to an edge-box integration's token path (`/ingest/edge/{token}`),
//! where an unknown box is bound to the integration's site on first push.
//!
//! The answer is `{"wsKey": "eventCreateOptimizeResult", "msg_id": <echo>,
//! "code": 0, "message": "success", "timestamp": <unix s>}`; `code` 1 is an
//! unknown box, 2 a body that cannot be read (with the reason), 3 busy
//! (HTTP 503: retry).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use footfall_domain::camera::{CameraEvent, EventSource, VehicleCount, VehicleDirection};
use footfall_domain::counting::check_time;
use footfall_domain::integration::IntegrationKind;
use footfall_infra::directory::Route;
use footfall_infra::writer::{RawUpload, Work};
use serde_json::{Map, Value, json};

use super::lenient::{Fields, as_int};
use super::read_body;
use super::report::{Body, Decoded, IMAGE_KEYS, Image, decode_base64, json_body, store_images, strip_images};
use crate::services::ingest::{self, IngestError};
use crate::state::AppState;

/// The answer, echoing the push's `msg_id`.
fn answer(msg_id: &Value, code: i32, message: &str) -> Response {
    let status = if code == 3 {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let body = json!({
        "wsKey": "eventCreateOptimizeResult",
        "msg_id": msg_id,
        "code": code,
        "message": message,
        "timestamp": Utc::now().timestamp(),
    });
    (status, Json(body)).into_response()
}

fn failure(msg_id: &Value, err: &IngestError, sn: Option<&str>) -> Response {
    let code = match err {
        IngestError::UnknownDevice => 1,
        IngestError::Invalid(_) => 2,
        IngestError::Unavailable => 3,
        IngestError::Internal => 4,
    };
    tracing::warn!(sn = sn.unwrap_or_default(), reason = %err, "edge box push refused");
    answer(msg_id, code, &err.to_string())
}

/// A defect answered in the protocol's shape.
pub fn panic_answer(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("an edge box request panicked");
    answer(&Value::Null, 4, "internal error")
}

/// A push read far enough to know who sent it.
pub struct Push {
    body: Body,
    pub msg_id: Value,
    pub uuid: Option<String>,
    pub device_name: Option<String>,
}

/// Reads a body: JSON with a `message` object naming the box.
pub fn read(bytes: Result<Bytes, BytesRejection>) -> Result<Push, (Value, String)> {
    let bytes = read_body(bytes).map_err(|e| (Value::Null, e))?;
    let body = json_body(&bytes).map_err(|e| (Value::Null, e))?;
    let msg_id = body.top.get("msg_id").cloned().unwrap_or(Value::Null);
    let message = match body.top.get("message") {
        Some(Value::Object(m)) => Fields::from_map(m.clone()),
        _ => return Err((msg_id, "message is missing or not an object".into())),
    };
    let info = match message.get("deviceinfo") {
        Some(Value::Object(i)) => Some(Fields::from_map(i.clone())),
        _ => None,
    };
    let uuid = info
        .as_ref()
        .and_then(|i| i.text(&["uuid", "id"]))
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty());
    let device_name = info.and_then(|i| i.text(&["name"])).filter(|n| !n.trim().is_empty());
    Ok(Push {
        body,
        msg_id,
        uuid,
        device_name,
    })
}

/// A push and the box id it names, or why it is refused (with its msg_id).
fn read_with_id(body: Result<Bytes, BytesRejection>) -> Result<(Push, String), (Value, String)> {
    let push = read(body)?;
    match push.uuid.clone() {
        Some(uuid) => Ok((push, uuid)),
        None => Err((push.msg_id, "message.deviceInfo.uuid (or id) is missing".into())),
    }
}

/// `POST /dataPush/DataReportCB`, the vendor's default path: the box must be
/// bound as a device with protocol `edge_box`.
#[utoipa::path(post, path = "/dataPush/DataReportCB", tag = "device: edge box",
    request_body(content = Object, description = "`{wsKey, msg_id, message{requestTime, deviceInfo{id,name,uuid}, channelInfo, skillInfo, data{timestamp, bg, eventInfo[], regionInfo[], targetBasicInfo[], ...}}}`"),
    responses(
        (status = 200, description = "`code` 0 once stored; 1 unknown box, 2 unreadable (with the reason)", body = Object,
            example = json!({"wsKey": "eventCreateOptimizeResult", "msg_id": "398654df-7814-4e67-a38f-9f3e550c10ba", "code": 0, "message": "success", "timestamp": 1700462387})),
        (status = 503, description = "`code` 3: busy, retry", body = Object),
    ))]
pub async fn data_report(State(state): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    let (push, uuid) = match read_with_id(body) {
        Ok(p) => p,
        Err((msg_id, why)) => return failure(&msg_id, &IngestError::Invalid(why), None),
    };
    let route = match ingest::resolve(&state, &uuid).await {
        Ok(route) if route.device.protocol == footfall_domain::Protocol::EdgeBox => route,
        Ok(_) => return failure(&push.msg_id, &IngestError::UnknownDevice, Some(&uuid)),
        Err(e) => return failure(&push.msg_id, &e, Some(&uuid)),
    };
    accept(&state, &route, push).await
}

/// `POST /ingest/edge/{token}`: an edge-box integration's URL. A box not
/// yet bound is bound to the integration's site on its first push.
#[utoipa::path(post, path = "/ingest/edge/{token}", tag = "device: edge box",
    params(("token" = String, Path, description = "The integration's token (from POST /integrations)")),
    request_body(content = Object, description = "As for /dataPush/DataReportCB"),
    responses(
        (status = 200, description = "`code` 0 once stored; 1 a box bound elsewhere, 2 unreadable (with the reason)", body = Object),
        (status = 401, description = "`code` 1: unknown or revoked token", body = Object),
        (status = 503, description = "`code` 3: busy, retry", body = Object),
    ))]
pub async fn token_report(
    State(state): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    use crate::services::integrations::{self, TokenRefusal};
    let integration = match integrations::by_token(&state, &token, IntegrationKind::EdgeBox).await {
        Ok(i) => i,
        Err(TokenRefusal::Refused) => {
            let mut refused = answer(&Value::Null, 1, "unknown or revoked integration token");
            *refused.status_mut() = StatusCode::UNAUTHORIZED;
            return refused;
        }
        Err(TokenRefusal::Unavailable) => return failure(&Value::Null, &IngestError::Unavailable, None),
    };
    let (push, uuid) = match read_with_id(body) {
        Ok(p) => p,
        Err((msg_id, why)) => return failure(&msg_id, &IngestError::Invalid(why), None),
    };
    match integrations::edge_box(&state, &integration, &uuid, push.device_name.as_deref()).await {
        Ok(route) => accept(&state, &route, push).await,
        Err(e) => failure(&push.msg_id, &e, Some(&uuid)),
    }
}

/// Decodes, stores and answers a push from a resolved box.
pub async fn accept(state: &AppState, route: &Route, push: Push) -> Response {
    let sn = route.device.sn.to_string();
    let now = Utc::now();
    let msg_id = push.msg_id.clone();
    let mut decoded = match decode(&push.body, now) {
        Ok(d) => d,
        Err(why) => {
            let raw = RawUpload {
                endpoint: "edge_box/DataReportCB",
                sn: sn.clone(),
                body: stripped(&push.body, &[]),
            };
            return match ingest::upload(state, route, Work::Unrecognised(why.clone()), raw).await {
                Ok(_) => failure(&msg_id, &IngestError::Invalid(why), Some(&sn)),
                Err(e) => failure(&msg_id, &e, Some(&sn)),
            };
        }
    };
    if let Err(e) = store_images(state, route.device.tenant, &mut decoded).await {
        return failure(&msg_id, &e, Some(&sn));
    }
    let keys: Vec<&str> = decoded
        .report
        .events
        .iter()
        .filter_map(|e| e.image_key.as_deref())
        .collect();
    let raw = RawUpload {
        endpoint: "edge_box/DataReportCB",
        sn: sn.clone(),
        body: stripped(&push.body, &keys),
    };
    match ingest::upload(state, route, Work::Camera(decoded.report), raw).await {
        Ok(_) => answer(&msg_id, 0, "success"),
        Err(e) => failure(&msg_id, &e, Some(&sn)),
    }
}

fn stripped(body: &Body, keys: &[&str]) -> String {
    let mut raw = body.raw.clone();
    strip_images(&mut raw, keys, IMAGE_KEYS);
    raw.to_string()
}

/// Which way an `eventInfo` entry counts vehicles, by its name (Chinese as
/// the boxes send it, or English).
fn direction_of(event_name: &str) -> Option<VehicleDirection> {
    let name = event_name.trim().to_lowercase();
    if name.contains("离开")
        || name.contains("离场")
        || ["leave", "left", "exit", "off"].iter().any(|w| name.contains(w))
    {
        Some(VehicleDirection::Out)
    } else if name.contains("进入") || name.contains("入场") || ["enter", "arriv"].iter().any(|w| name.contains(w))
    {
        Some(VehicleDirection::In)
    } else {
        None
    }
}

/// Most vehicles one `eventInfo` entry may count.
const MAX_COUNT: i64 = 1_000_000;

fn decode(body: &Body, now: DateTime<Utc>) -> Result<Decoded, String> {
    let message = match body.top.get("message") {
        Some(Value::Object(m)) => Fields::from_map(m.clone()),
        _ => return Err("message is missing or not an object".into()),
    };
    let data = match message.get("data") {
        Some(Value::Object(d)) => Fields::from_map(d.clone()),
        _ => return Err("message.data is missing or not an object".into()),
    };
    let msg_id = body
        .top
        .text(&["msg_id", "msgid"])
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty());

    // The event time: data.timestamp, else requestTime (ms), else now.
    let stamp = match data.int(&["timestamp"]).map_err(|e| format!("message.data.{e}"))? {
        Some(ms) => Some(ms),
        None => message.int(&["requesttime"]).map_err(|e| format!("message.{e}"))?,
    };
    let at_ms = match stamp {
        Some(ms) => {
            let seconds = footfall_domain::counting::unix_seconds(ms);
            check_time(seconds, now.timestamp())
                .map_err(|_| format!("timestamp {ms} is not a plausible time; check the box's clock"))?;
            if ms.unsigned_abs() >= 1_000_000_000_000 {
                ms
            } else {
                ms * 1000
            }
        }
        None => now.timestamp_millis(),
    };

    let mut attributes = Map::new();
    let mut present = None;
    let mut vehicles = Vec::new();
    if let Some(list) = data.get("eventinfo") {
        let Value::Array(items) = list else {
            return Err("message.data.eventInfo is not an array".into());
        };
        for (i, item) in items.iter().enumerate() {
            let Value::Object(item) = item else {
                return Err(format!("eventInfo[{i}] is not an object"));
            };
            let f = Fields::from_map(item.clone());
            let name = f.text(&["eventname"]).unwrap_or_default();
            let count = match f.get("count") {
                None => 0,
                Some(v) => as_int(v)
                    .filter(|c| (0..=MAX_COUNT).contains(c))
                    .ok_or_else(|| format!("eventInfo[{i}].count is not a count of vehicles: {v}"))?,
            };
            if name.contains("在场") || name.to_lowercase().contains("present") {
                present = Some(count);
            } else if let Some(direction) = direction_of(&name)
                && count > 0
            {
                vehicles.push(VehicleCount {
                    direction,
                    count: count.unsigned_abs(),
                    at_ms,
                    lane: None,
                    vehicle_type: None,
                    plate: None,
                    dedupe: String::new(),
                });
            }
        }
        attributes.insert("eventInfo".into(), list.clone());
    }
    if let Some(p) = present {
        attributes.insert("vehiclesPresent".into(), json!(p));
    }
    for (key, name) in [
        ("prewarn", "preWarn"),
        ("linkid", "linkId"),
        ("frameindex", "frameIndex"),
        ("bgwidth", "bgWidth"),
        ("bgheight", "bgHeight"),
        ("regioninfo", "regionInfo"),
        ("dynamicinfo", "dynamicInfo"),
    ] {
        if let Some(v) = data.get(key).filter(|v| *v != &json!("")) {
            attributes.insert(name.into(), v.clone());
        }
    }
    if let Some(Value::Array(targets)) = data.get("targetbasicinfo") {
        // Kept without their (reserved, mostly empty) base64 pictures.
        let mut targets = Value::Array(targets.clone());
        strip_images(&mut targets, &[], IMAGE_KEYS);
        attributes.insert("targets".into(), targets);
    }
    for (key, name) in [
        ("skillinfo", "skill"),
        ("channelinfo", "channel"),
        ("deviceinfo", "device"),
    ] {
        if let Some(v @ Value::Object(_)) = message.get(key) {
            attributes.insert(name.into(), v.clone());
        }
    }
    if let Some(id) = &msg_id {
        attributes.insert("msgId".into(), json!(id));
    }
    let skill = message.get("skillinfo").and_then(|s| match s {
        Value::Object(s) => Fields::from_map(s.clone()).text(&["id", "name"]),
        _ => None,
    });
    let channel = message
        .get("channelinfo")
        .and_then(|c| match c {
            Value::Object(c) => Fields::from_map(c.clone()).int(&["channel"]).ok().flatten(),
            _ => None,
        })
        .and_then(|c| i32::try_from(c).ok());
    let image = match data.text(&["bg"]).filter(|b| !b.trim().is_empty()) {
        Some(text) => {
            let image = decode_base64(&text);
            if image.is_none() {
                attributes.insert("imageError".into(), json!("bg is not base64"));
            }
            image
        }
        None => None,
    };
    let mut event = CameraEvent {
        source: EventSource::Event,
        kind: skill
            .or_else(|| data.text(&["prewarn"]))
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| "edge_box_event".into()),
        name: data.text(&["eventdesc"]).filter(|d| !d.trim().is_empty()),
        status: None,
        channel,
        at_ms,
        local_time: None,
        attributes,
        image_key: None,
        dedupe: String::new(),
    };
    let key = match &msg_id {
        Some(id) => format!("msg:{id}"),
        None => event.content_key(),
    };
    event.dedupe.clone_from(&key);
    for v in &mut vehicles {
        v.dedupe = format!("{key}:{}", v.direction.as_str());
    }
    let mut decoded = Decoded::default();
    decoded.report.events.push(event);
    decoded.report.vehicles = vehicles;
    if let Some(image) = image {
        decoded.images.push((0, Image::Main(image)));
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_say_which_way() {
        for (name, expected) in [
            ("车辆离开", Some(VehicleDirection::Out)),
            ("Vehicle leave", Some(VehicleDirection::Out)),
            ("车辆进入", Some(VehicleDirection::In)),
            ("车辆在场", None),
            ("人员聚集", None),
        ] {
            assert_eq!(direction_of(name), expected, "{name}");
        }
    }
}
