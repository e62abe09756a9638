//! 3D people counters (PROTOCOLS.md §1): `heartBeat` and `dataUpload`.
//!
//! Decode the body → a domain command → the writer → the protocol's answer:
//! `{"code": 0|1|2, "msg": …, "data": {…}}` with HTTP 200 always, since a
//! device cannot read an error page. Code 1: the SN is not bound; code 2:
//! anything else, with the reason in `msg`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use footfall_domain::DataMode;
use footfall_domain::counting::{
    Counts, Kind, MAX_STAY_MS, Reading, Tally, check_span, check_tally, check_time, event_time_micros, event_type,
    unix_seconds,
};
use footfall_domain::ingest::{CountReport, PersonEvent, PersonInView, ReportedReading, StayReport};
use footfall_infra::writer::{RawUpload, Work};
use serde_json::{Value, json};

#[allow(unused_imports)]
use super::docs::{CounterAnswer, DataUpload, HeartbeatRequest, UploadAnswer};
use super::lenient::{Fields, as_int, parse_body};
use super::read_body;
use crate::services::ingest::{self, IngestError};
use crate::state::AppState;

/// A protocol answer.
fn answer(code: u8, msg: &str, data: Option<Value>) -> Response {
    let mut body = json!({"code": code, "msg": msg});
    if let Some(data) = data {
        body["data"] = data;
    }
    Json(body).into_response()
}

/// A defect answered in the protocol's shape: the device retries later.
pub fn panic_answer(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a people-counter request panicked");
    answer(2, "internal error", None)
}

fn failure(err: &IngestError, sn: Option<&str>) -> Response {
    match err {
        IngestError::UnknownDevice => {
            tracing::info!(sn = sn.unwrap_or_default(), "people counter with an unbound SN");
            answer(1, "sn does not exist", None)
        }
        other => {
            tracing::warn!(sn = sn.unwrap_or_default(), reason = %other, "people counter request refused");
            answer(2, &other.to_string(), None)
        }
    }
}

/// Heartbeat fields that are not the device's self-description.
const HEARTBEAT_FIELDS: [&str; 3] = ["sn", "time", "timestamp"];

/// Heartbeat of a 3D people counter (every minute). Marks it online and
/// answers with the configuration and any history request for it.
#[utoipa::path(post, path = "/api/camera/heartBeat", tag = "device: people counter",
    request_body(content = HeartbeatRequest, description = "JSON whatever the Content-Type; form fields accepted too"),
    responses((status = 200, description = "Always 200; `code` says how it went", body = CounterAnswer)))]
pub async fn heartbeat(State(state): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    let fields = match read_body(body).and_then(|b| parse_body(&b)) {
        Ok(f) => f,
        Err(why) => return failure(&IngestError::Invalid(why), None),
    };
    let Some(sn) = fields.text(&["sn"]) else {
        return failure(&IngestError::Invalid("sn is missing".into()), None);
    };
    let route = match ingest::resolve(&state, &sn).await {
        Ok(r) => r,
        Err(e) => return failure(&e, Some(&sn)),
    };
    match ingest::heartbeat(&state, &route, fields.extras(&HEARTBEAT_FIELDS)).await {
        Ok(hb) => {
            let mut data = json!({
                "sn": sn.trim(),
                "time": hb.server_time.timestamp(),
                "timezone": hb.timezone_hours,
                "uploadInterval": hb.config.upload_interval_minutes(),
                "dataMode": match hb.config.data_mode {
                    DataMode::Add => "Add",
                    DataMode::Total => "Total",
                },
            });
            if let Some((from, to)) = hb.history {
                data["dataStartTime"] = json!(from);
                data["dataEndTime"] = json!(to);
            }
            answer(0, "success", Some(data))
        }
        Err(e) => failure(&e, Some(&sn)),
    }
}

/// Data upload of a 3D people counter: counts (add or total mode, with
/// adult/child splits and per-person events), stay (occupancy) or history,
/// told apart by their fields. Anything else is kept raw and refused with
/// code 2. `code: 0` is answered once the data is stored durably.
#[utoipa::path(post, path = "/api/camera/dataUpload", tag = "device: people counter",
    request_body(content = DataUpload, description = "JSON whatever the Content-Type; form fields accepted too"),
    responses((status = 200, description = "Always 200; `code` says how it went", body = UploadAnswer)))]
pub async fn data_upload(State(state): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match read_body(body) {
        Ok(b) => b,
        Err(why) => return failure(&IngestError::Invalid(why), None),
    };
    let fields = match parse_body(&body) {
        Ok(f) => f,
        Err(why) => return failure(&IngestError::Invalid(why), None),
    };
    let Some(sn) = fields.text(&["sn"]) else {
        return failure(&IngestError::Invalid("sn is missing".into()), None);
    };
    let route = match ingest::resolve(&state, &sn).await {
        Ok(r) => r,
        Err(e) => return failure(&e, Some(&sn)),
    };
    let raw = RawUpload {
        endpoint: "people_counter/dataUpload",
        sn: sn.trim().to_string(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let decoded = decode_upload(&fields, Utc::now().timestamp());
    let work = match &decoded {
        Ok(work) => work.clone(),
        Err(why) => Work::Unrecognised(why.clone()),
    };
    match ingest::upload(&state, &route, work, raw).await {
        Ok(_) => match decoded {
            Ok(_) => answer(
                0,
                "success",
                Some(json!({"sn": sn.trim(), "time": Utc::now().timestamp()})),
            ),
            // Kept raw for re-derivation, refused to the device.
            Err(why) => failure(&IngestError::Invalid(why), Some(&sn)),
        },
        Err(e) => failure(&e, Some(&sn)),
    }
}

/// The lower-case spelling some firmware uses for `/api/camera/heartBeat`.
#[utoipa::path(post, path = "/api/camera/heartbeat", tag = "device: people counter",
    request_body = HeartbeatRequest,
    responses((status = 200, description = "OK", body = CounterAnswer)))]
pub async fn heartbeat_lower_case(state: State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    heartbeat(state, body).await
}

/// The lower-case spelling some firmware uses for `/api/camera/dataUpload`.
#[utoipa::path(post, path = "/api/camera/dataupload", tag = "device: people counter",
    request_body = DataUpload,
    responses((status = 200, description = "OK", body = UploadAnswer)))]
pub async fn data_upload_lower_case(state: State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    data_upload(state, body).await
}

/// Tells the upload shapes apart and decodes one.
fn decode_upload(f: &Fields, now: i64) -> Result<Work, String> {
    if let Some(entries) = f.array("data") {
        return decode_history(entries, now).map(Work::Counts);
    }
    if f.has("currentstay") {
        return decode_stay(f, now).map(Work::Stay);
    }
    if f.has("starttime") || f.has("endtime") {
        return decode_counts(f, now).map(Work::Counts);
    }
    Err(
        "unrecognised upload: expected counts (startTime, endTime, in, out, ...), stay (currentStay) \
         or history (data[])"
            .into(),
    )
}

fn time_field(f: &Fields, names: &[&str]) -> Result<Option<i64>, String> {
    Ok(f.int(names)?.map(unix_seconds))
}

/// The counters of a counts or history entry, with whether splits were sent.
fn tally(f: &Fields) -> Result<(Tally, bool), String> {
    let counts = |suffix: &str| -> Result<Counts, String> {
        Ok(Counts::new(
            f.count(&format!("in{suffix}"))?,
            f.count(&format!("out{suffix}"))?,
            f.count(&format!("passby{suffix}"))?,
            f.count(&format!("turnback{suffix}"))?,
        ))
    };
    let split_fields = ["in", "out", "passby", "turnback"]
        .iter()
        .flat_map(|d| [format!("{d}adult"), format!("{d}child")]);
    let has_split = split_fields.into_iter().any(|k| f.has(&k));
    Ok((
        Tally {
            all: counts("")?,
            adult: counts("adult")?,
            child: counts("child")?,
        },
        has_split,
    ))
}

fn reported_reading(f: &Fields, kind: Kind, now: i64) -> Result<ReportedReading, String> {
    let start = time_field(f, &["starttime"])?.ok_or("startTime is missing")?;
    let end = time_field(f, &["endtime"])?.ok_or("endTime is missing")?;
    let span = check_span(start, end, now).map_err(|e| e.to_string())?;
    let (tally, has_split) = tally(f)?;
    check_tally(&tally).map_err(|e| e.to_string())?;
    Ok(ReportedReading {
        reading: Reading { kind, span, tally },
        total: f.int(&["total"])?.and_then(|t| u64::try_from(t).ok()),
        // An impossible average stay is dropped; the counts still count.
        avg_stay_ms: f
            .int(&["avgstaytime"])?
            .and_then(|t| u64::try_from(t).ok())
            .filter(|ms| *ms <= MAX_STAY_MS),
        has_split,
    })
}

/// Most per-person events one upload may carry.
const MAX_EVENTS: usize = 5_000;

fn decode_counts(f: &Fields, now: i64) -> Result<CountReport, String> {
    let reading = reported_reading(f, Kind::Live, now)?;
    let events: Vec<PersonEvent> = f
        .array("eventlist")
        .map(|list| list.iter().filter_map(decode_event).collect())
        .unwrap_or_default();
    if events.len() > MAX_EVENTS {
        return Err(format!(
            "eventList has {} events; at most {MAX_EVENTS} per upload",
            events.len()
        ));
    }
    Ok(CountReport {
        device_time: time_field(f, &["time", "timestamp"])?,
        readings: vec![reading],
        events,
    })
}

/// One `eventList` entry; entries without a usable time or type are skipped
/// (the raw upload keeps them).
fn decode_event(v: &Value) -> Option<PersonEvent> {
    let obj = Fields::from_map(v.as_object()?.clone());
    let raw_type = obj.int(&["eventtype"]).ok()??;
    let at_us = event_time_micros(obj.int(&["timestamp", "time"]).ok()??)?;
    let decoded = event_type(raw_type);
    let int32 = |name: &str| obj.int(&[name]).ok().flatten().and_then(|v| i32::try_from(v).ok());
    Some(PersonEvent {
        event_id: obj.int(&["id"]).ok().flatten().unwrap_or(0),
        at_us,
        raw_type,
        direction: decoded.map(|(d, _)| d),
        child: decoded.is_some_and(|(_, child)| child),
        height_cm: int32("height"),
        stay_ms: obj.int(&["staytime"]).ok().flatten(),
    })
}

/// A history upload is taken whole or not at all (PROTOCOLS.md: a request
/// that cannot be parsed never half-writes); the raw upload keeps it.
fn decode_history(entries: &[Value], now: i64) -> Result<CountReport, String> {
    let readings = entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let obj = entry.as_object().ok_or_else(|| format!("data[{i}] is not an object"))?;
            reported_reading(&Fields::from_map(obj.clone()), Kind::History, now).map_err(|e| format!("data[{i}]: {e}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(CountReport {
        device_time: None,
        readings,
        events: Vec::new(),
    })
}

fn decode_stay(f: &Fields, now: i64) -> Result<StayReport, String> {
    let current = f.int(&["currentstay"])?.ok_or("currentStay is missing")?;
    let current = u32::try_from(current).map_err(|_| format!("currentStay must be a count, got {current}"))?;
    let time = time_field(f, &["time", "timestamp"])?.ok_or("time is missing")?;
    let time = check_time(time, now).map_err(|e| e.to_string())?;
    let people = f
        .array("info")
        .map(|list| {
            list.iter()
                .filter_map(|p| {
                    let p = p.as_object()?;
                    let get = |k: &str| {
                        p.iter()
                            .find(|(key, _)| key.trim().eq_ignore_ascii_case(k))
                            .and_then(|(_, v)| as_int(v))
                    };
                    Some(PersonInView {
                        id: get("id")?,
                        height_cm: get("height").and_then(|h| i32::try_from(h).ok()),
                        status: get("status"),
                        stay_ms: get("staytime"),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(StayReport { time, current, people })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn decode(json: &str) -> Result<Work, String> {
        decode_upload(&parse_body(json.as_bytes()).unwrap(), NOW)
    }

    #[test]
    fn counts_with_splits_and_events() {
        let work = decode(
            r#"{"sn":"201000002209190025","in":1,"out":1,"passby":0,"turnback":0,"avgStayTime":1727,
                "inAdult":1,"outAdult":1,"passbyAdult":0,"turnbackAdult":0,"inChild":0,"outChild":0,
                "passbyChild":0,"turnbackChild":0,"total":2,"startTime":1667520000,"endTime":1667802959,
                "time":1667802959,"len":2,"eventList":[{"id":1,"timestamp":161231947237000000,"eventType":0,"height":170,"stayTime":1000},
                {"id":2,"timestamp":161231947237000000,"eventType":101,"height":120,"stayTime":3000}]}"#,
        )
        .unwrap();
        let Work::Counts(report) = work else { panic!("{work:?}") };
        let r = report.readings[0];
        assert_eq!(r.reading.kind, Kind::Live);
        assert_eq!(r.reading.tally.all, Counts::new(1, 1, 0, 0));
        assert_eq!(r.reading.tally.adult, Counts::new(1, 1, 0, 0));
        assert!(r.has_split);
        assert_eq!(r.avg_stay_ms, Some(1727));
        assert_eq!(r.total, Some(2));
        assert_eq!(report.device_time, Some(1_667_802_959));
        assert_eq!(report.events.len(), 2);
        assert_eq!(report.events[0].at_us, 1_612_319_472_370_000);
        assert!(report.events[1].child);
    }

    #[test]
    fn shapes() {
        assert!(
            matches!(decode(r#"{"sn":"1","time":1667802959,"currentStay":2,"info":[{"id":1,"height":170,"status":1,"staytime":2000}]}"#), Ok(Work::Stay(s)) if s.current == 2 && s.people.len() == 1)
        );
        let Ok(Work::Counts(h)) = decode(
            r#"{"sn":"1","len":"2","data":[{"time":1641038400,"startTime":1640995200,"endTime":1641038400,"in":1,"out":2,"passby":2,"turnback":3,"avgStayTime":2000},
               {"time":1641038400,"startTime":1641038400,"endTime":1641042000,"in":"4","out":0,"passby":0,"turnback":0}]}"#,
        ) else {
            panic!()
        };
        assert_eq!(h.readings.len(), 2);
        assert!(h.readings.iter().all(|r| r.reading.kind == Kind::History));
        assert_eq!(h.readings[1].reading.tally.all.r#in, 4);
        assert!(decode(r#"{"sn":"1","temperature":21}"#).is_err());
    }

    #[test]
    fn implausible_values() {
        assert!(matches!(decode(r#"{"sn":"1","time":4000000000,"currentStay":7}"#), Err(e) if e.contains("plausible")));
        let Ok(Work::Counts(c)) =
            decode(r#"{"sn":"1","startTime":1667520000,"endTime":1667520300,"in":3,"avgStayTime":9000000000000}"#)
        else {
            panic!()
        };
        assert_eq!(
            c.readings[0].avg_stay_ms, None,
            "an impossible stay is dropped, the count kept"
        );
    }

    #[test]
    fn times_in_milliseconds_and_bad_values() {
        let Ok(Work::Counts(c)) = decode(r#"{"sn":"1","startTime":1667520000000,"endTime":1667520300000,"in":3}"#)
        else {
            panic!()
        };
        assert_eq!(c.readings[0].reading.span.from, 1_667_520_000);
        for bad in [
            r#"{"sn":"1","startTime":1667520300,"endTime":1667520000,"in":3}"#,
            r#"{"sn":"1","startTime":5,"endTime":60,"in":3}"#,
            r#"{"sn":"1","startTime":1667520000,"endTime":1667520300,"in":-3}"#,
            r#"{"sn":"1","startTime":"soon","endTime":1667520300,"in":3}"#,
            r#"{"sn":"1","startTime":1667520000,"in":3}"#,
            r#"{"sn":"1","data":[7, {"startTime":5,"endTime":60,"in":1}]}"#,
            r#"{"sn":"1","startTime":1667520000,"endTime":1667520300,"in":100000001}"#,
            r#"{"sn":"1","time":1667802959,"currentStay":-1}"#,
        ] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }
}
