//! OpenAPI shapes of the people-counter protocol, for documentation only:
//! the handlers read bodies liberally (`lenient.rs`) rather than through
//! these types.
#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// A heartbeat, every minute. Extra fields (firmware `swRelease`,
/// `ipAddress`, `macAddress`, `timeZone`, ...) are kept as the device's
/// reported state.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"sn": "2010010000000000", "time": 1641434640}))]
pub struct HeartbeatRequest {
    /// Serial number; surrounding spaces are ignored.
    pub sn: String,
    /// Device clock, Unix seconds or milliseconds (`timestamp` is accepted too).
    pub time: Option<i64>,
}

/// What the platform wants of the device, carried in the heartbeat answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatData {
    pub sn: String,
    /// Server time, Unix seconds; the device syncs its clock to it.
    pub time: i64,
    /// The site's GMT offset now, in whole hours (DST aware; :30 and :45
    /// zones get the nearest hour).
    pub timezone: i32,
    /// Minutes between uploads; 0 = real time.
    pub upload_interval: u16,
    /// `Add` or `Total`.
    pub data_mode: String,
    /// An open history request: re-upload `[dataStartTime, dataEndTime]`.
    pub data_start_time: Option<i64>,
    pub data_end_time: Option<i64>,
}

/// The answer to every people-counter request: HTTP 200 always, `code` 0
/// success, 1 the SN is not bound, 2 anything else (`msg` says why).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"code": 0, "msg": "success", "data": {"sn": "2010010000000000", "time": 1795251161, "timezone": -5, "uploadInterval": 5, "dataMode": "Add"}}))]
pub struct CounterAnswer {
    pub code: u8,
    pub msg: String,
    pub data: Option<HeartbeatData>,
}

/// Counts for `[startTime, endTime]`: the interval's own counts in add
/// mode, the running total since `startTime` in total mode.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"sn": "201000002209190025", "startTime": 1667520000, "endTime": 1667520300, "time": 1667520300,
    "in": 1, "out": 1, "passby": 0, "turnback": 0, "avgStayTime": 1727,
    "inAdult": 1, "outAdult": 1, "passbyAdult": 0, "turnbackAdult": 0, "inChild": 0, "outChild": 0, "passbyChild": 0, "turnbackChild": 0,
    "total": 2, "len": 1, "eventList": [{"id": 1, "timestamp": 1667520120000000i64, "eventType": 0, "height": 170, "stayTime": 1000}]}))]
pub struct CountsUpload {
    pub sn: String,
    pub start_time: i64,
    pub end_time: i64,
    pub time: Option<i64>,
    #[serde(rename = "in")]
    pub r#in: u64,
    pub out: u64,
    pub passby: u64,
    pub turnback: u64,
    /// Milliseconds.
    pub avg_stay_time: Option<u64>,
    pub in_adult: Option<u64>,
    pub in_child: Option<u64>,
    pub total: Option<u64>,
    pub len: Option<u32>,
    pub event_list: Option<Vec<PersonEvent>>,
}

/// One person, in real-time mode.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PersonEvent {
    pub id: i64,
    /// Microseconds (other magnitudes are recognised by their size).
    pub timestamp: i64,
    /// 0 in, 1 out, 2 pass-by, 3 turn-back; 100 + x the same for a child.
    pub event_type: i64,
    /// Centimetres.
    pub height: Option<i32>,
    /// Milliseconds.
    pub stay_time: Option<i64>,
}

/// People in view now.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"sn": "201000002209190025", "time": 1667802959, "currentStay": 2,
    "info": [{"id": 1, "height": 170, "status": 1, "staytime": 2000}, {"id": 2, "height": 171, "status": 1, "staytime": 3000}]}))]
pub struct StayUpload {
    pub sn: String,
    pub time: i64,
    pub current_stay: u32,
    pub info: Option<Vec<serde_json::Value>>,
}

/// The device's answer to a history request: its own records.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"sn": "2010010000000000", "len": 1, "data": [{"time": 1641038400, "startTime": 1641034800, "endTime": 1641038400,
    "in": 1, "out": 2, "passby": 2, "turnback": 3, "avgStayTime": 2000}]}))]
pub struct HistoryUpload {
    pub sn: String,
    pub len: Option<u32>,
    pub data: Vec<serde_json::Value>,
}

/// One of the upload shapes, told apart by their fields.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum DataUpload {
    Counts(CountsUpload),
    Stay(StayUpload),
    History(HistoryUpload),
}

/// The answer to an upload (`code: 0` only once the data is stored durably).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"code": 0, "msg": "success", "data": {"sn": "2010010000000000", "time": 1795251161}}))]
pub struct UploadAnswer {
    pub code: u8,
    pub msg: String,
    pub data: Option<serde_json::Value>,
}

/// What an IPC camera's keepalive body holds (sent in the body of a GET).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"method": "keepalive", "param": {"deviceId": "12421HHTCS", "channelNum": 0, "deviceName": "HD IPC", "time": "2026-11-21 09:00:00"}}))]
pub struct IpcKeepalive {
    pub method: String,
    pub param: IpcKeepaliveParam,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IpcKeepaliveParam {
    /// The camera's device id (its serial number on the platform).
    pub device_id: String,
    pub channel_num: i32,
    pub device_name: String,
    /// The camera's local wall clock, `YYYY-MM-DD hh:mm:ss`.
    pub time: String,
}

/// Errors in the IPC answers: 0 success; below zero a failure.
#[derive(Serialize, ToSchema)]
pub struct IpcError {
    /// 0 success; −1 the body cannot be read, −2 the device is not bound,
    /// −3 busy (retry), −4 internal error, −401 authenticate, −503 retry.
    pub errorcode: i32,
    pub errormsg: String,
}

/// The answer to an IPC keepalive: `keepinterval` is the period, in seconds,
/// the tenant wants keepalives at.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"method": "keepalive", "keepinterval": 60, "error": {"errorcode": 0, "errormsg": ""}}))]
pub struct IpcKeepaliveAnswer {
    pub method: String,
    pub keepinterval: u16,
    pub error: IpcError,
}

/// The answer to every IPC report.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"method": "alarm_report", "error": {"errorcode": 0, "errormsg": ""}}))]
pub struct IpcAnswer {
    pub method: String,
    pub error: IpcError,
}

/// An IPC report: `{"method": …, "param": {…}}` (alarm, event, temperature,
/// snapshot), the modbus registers' own shape, or binary TLV.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"method": "alarm_report", "param": {"device_id": "12421HHTCS", "device_name": "HD IPC", "channel_id": 1,
    "alarm_type": "ebike_detection", "time": "2026-11-21 09:00:00", "status": "start", "jpeg_base64": "/9j/4AAQSkZJRgABAQ...",
    "alarm_uuid": "12421HHTCS/1/ebike_detection/20261121090000/1", "alarm_msg": "e-bike in the lift", "extends": "eyJwbGF0ZV9ubyI6IuS6rEo2NjY2NiJ9"}}))]
pub struct IpcReport {
    pub method: String,
    pub param: serde_json::Value,
}
