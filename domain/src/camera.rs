//! What IPC cameras report once decoded (PROTOCOLS.md §2): events (alarms,
//! analytics events, snapshots, faces and text from TLV metadata), sensor
//! samples (temperatures, modbus registers) and people counts.
//!
//! People counts from TLV metadata become readings that the one counting
//! rule (`counting.rs`) settles like a people counter's. How a camera's
//! numbers read is the device's data mode (decision 012):
//!
//! - `TOTAL` (the default for cameras): in/out/pass are running totals. The
//!   document pairs them with "keep" (people still inside), which is in − out
//!   of running totals, and totals restart at the camera's midnight. Each
//!   report becomes a total over `[local midnight, report time]`; a repeat
//!   adds nothing and a lower total is a restart, as for people counters.
//! - `ADD`: each report counts the people since the camera's previous
//!   report, and becomes a reading of the report's instant.

use sha2::{Digest, Sha256};

use crate::DataMode;
use crate::counting::{Counts, Kind, Reading, Span, Tally};
use crate::ingest::{CountReport, StayReport};

/// Which report an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventSource {
    /// `alarm_report`.
    Alarm,
    /// `event_report`.
    Event,
    /// `snap_report`.
    Snapshot,
    /// `tlv_report` metadata other than people counts.
    Metadata,
}

impl EventSource {
    pub const ALL: [EventSource; 4] = [
        EventSource::Alarm,
        EventSource::Event,
        EventSource::Snapshot,
        EventSource::Metadata,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EventSource::Alarm => "alarm",
            EventSource::Event => "event",
            EventSource::Snapshot => "snapshot",
            EventSource::Metadata => "metadata",
        }
    }

    pub fn parse(s: &str) -> Option<EventSource> {
        let s = s.trim().to_ascii_lowercase();
        EventSource::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// Whether events of this source count as alarms (alarm counts per day).
    pub const fn is_alarm(self) -> bool {
        matches!(self, EventSource::Alarm | EventSource::Event)
    }
}

/// An event a camera reported.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraEvent {
    pub source: EventSource,
    /// What happened: the alarm or event type as sent (`ebike_detection`),
    /// `snapshot`, or the TLV target (`face`, `ocr`, ...).
    pub kind: String,
    /// A readable name or message, where the camera sent one.
    pub name: Option<String>,
    /// `start`, `stop` or `pulse` for alarms and events.
    pub status: Option<String>,
    pub channel: Option<i32>,
    /// When it happened, Unix milliseconds.
    pub at_ms: i64,
    /// The camera's local wall-clock time as sent, if any.
    pub local_time: Option<String>,
    /// Everything else the camera said about it.
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// The blob-store key of its image, once stored.
    pub image_key: Option<String>,
    /// What makes a retransmission the same event.
    pub dedupe: String,
}

impl CameraEvent {
    /// A dedupe key from the event's content, for reports without an id.
    pub fn content_key(&self) -> String {
        let mut hasher = Sha256::new();
        for part in [
            self.source.as_str(),
            &self.kind,
            self.status.as_deref().unwrap_or(""),
            &self.at_ms.to_string(),
            &self.channel.map(|c| c.to_string()).unwrap_or_default(),
            &serde_json::Value::Object(self.attributes.clone()).to_string(),
            self.image_key.as_deref().unwrap_or(""),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        let digest = hasher.finalize();
        format!(
            "h:{}",
            digest[..16].iter().map(|b| format!("{b:02x}")).collect::<String>()
        )
    }
}

/// A dedupe key for a record without an id: a hash of its content.
pub fn content_key(content: &str) -> String {
    let digest = Sha256::digest(content.as_bytes());
    format!(
        "h:{}",
        digest[..16].iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// What a sensor sample measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SensorKind {
    /// A thermal region's temperature, °C.
    Temperature,
    /// A modbus register's value.
    Modbus,
    /// A traffic parameter of a lane (analysis servers): `{lane}/{name}`,
    /// e.g. `1/queueLength`.
    Traffic,
}

impl SensorKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            SensorKind::Temperature => "temperature",
            SensorKind::Modbus => "modbus",
            SensorKind::Traffic => "traffic",
        }
    }

    pub fn parse(s: &str) -> Option<SensorKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "temperature" => Some(SensorKind::Temperature),
            "modbus" => Some(SensorKind::Modbus),
            "traffic" => Some(SensorKind::Traffic),
            _ => None,
        }
    }
}

/// One sensor value.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorSample {
    pub kind: SensorKind,
    /// The region id or register (`@3`).
    pub key: String,
    pub name: Option<String>,
    pub channel: Option<i32>,
    pub value: f64,
    /// The alarm threshold the camera applies, if sent.
    pub threshold: Option<f64>,
    /// The camera's alarm state for this value (modbus: 0 below the lowest,
    /// 1 above the highest allowed value).
    pub alarm: Option<i32>,
    /// Unix milliseconds.
    pub at_ms: i64,
}

/// Which way counted vehicles went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VehicleDirection {
    /// Entered the watched area.
    In,
    /// Left it (an edge box's "vehicle leave").
    Out,
    /// Passed a lane (an analysis server's vehicle flow).
    Pass,
}

impl VehicleDirection {
    pub const ALL: [VehicleDirection; 3] = [VehicleDirection::In, VehicleDirection::Out, VehicleDirection::Pass];

    pub const fn as_str(self) -> &'static str {
        match self {
            VehicleDirection::In => "in",
            VehicleDirection::Out => "out",
            VehicleDirection::Pass => "pass",
        }
    }

    pub fn parse(s: &str) -> Option<VehicleDirection> {
        let s = s.trim().to_ascii_lowercase();
        VehicleDirection::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// Vehicles counted at one instant, kept apart from people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VehicleCount {
    pub direction: VehicleDirection,
    pub count: u64,
    /// Unix milliseconds.
    pub at_ms: i64,
    pub lane: Option<i32>,
    /// The sender's vehicle type code.
    pub vehicle_type: Option<i32>,
    pub plate: Option<String>,
    /// What makes a retransmission the same count (a message id, or the
    /// report's content).
    pub dedupe: String,
}

/// Everything one camera request reported, written together. Integrations
/// (analysis servers, edge boxes) report in the same shape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CameraReport {
    /// People counts (TLV customer counters), as live readings.
    pub counts: CountReport,
    /// People inside now (TLV "keep").
    pub occupancy: Option<StayReport>,
    pub events: Vec<CameraEvent>,
    pub sensors: Vec<SensorSample>,
    pub vehicles: Vec<VehicleCount>,
}

impl CameraReport {
    /// Gives every event without a dedupe key (no id from the sender) the key
    /// of its content, so a retransmission is stored once. Called once its
    /// images are stored: their keys are part of the content.
    pub fn key_events_by_content(&mut self) {
        for event in &mut self.events {
            if event.dedupe.is_empty() {
                event.dedupe = event.content_key();
            }
        }
    }
}

/// People counted by a camera's analytics (TLV customer counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterSample {
    pub r#in: u64,
    pub out: u64,
    pub pass: u64,
}

/// The reading a customer-counter sample makes, per the device's data mode:
/// a running total since the camera's local midnight (`day_start`, Unix
/// seconds), or the count of the report's instant `at`.
pub fn counter_reading(mode: DataMode, sample: CounterSample, day_start: i64, at: i64) -> Reading {
    let span = match mode {
        DataMode::Total => Span::new(day_start.min(at), at),
        DataMode::Add => Span::new(at, at),
    };
    Reading {
        kind: Kind::Live,
        span,
        tally: Tally {
            all: Counts::new(sample.r#in, sample.out, sample.pass, 0),
            ..Tally::ZERO
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counting::increment;

    #[test]
    fn vehicle_directions_round_trip() {
        for d in VehicleDirection::ALL {
            assert_eq!(VehicleDirection::parse(d.as_str()), Some(d));
        }
        assert_eq!(VehicleDirection::parse(" OUT"), Some(VehicleDirection::Out));
        assert_eq!(VehicleDirection::parse("left"), None);
    }

    #[test]
    fn sources_round_trip() {
        for s in EventSource::ALL {
            assert_eq!(EventSource::parse(s.as_str()), Some(s));
        }
        assert_eq!(EventSource::parse(" ALARM "), Some(EventSource::Alarm));
        assert_eq!(EventSource::parse("tlv"), None);
        assert!(EventSource::Alarm.is_alarm() && !EventSource::Snapshot.is_alarm());
    }

    #[test]
    fn running_totals_become_increments() {
        let midnight = 1_700_000_000;
        let totals = [(3, 1, 0), (5, 2, 1), (2, 0, 0)];
        let readings: Vec<Reading> = totals
            .iter()
            .enumerate()
            .map(|(i, &(r#in, out, pass))| {
                let at = midnight + 600 * (i as i64 + 1);
                counter_reading(DataMode::Total, CounterSample { r#in, out, pass }, midnight, at)
            })
            .collect();
        assert!(readings.iter().all(|r| r.span.from == midnight), "one series");
        let ins: Vec<u64> = readings
            .iter()
            .enumerate()
            .map(|(i, r)| increment(i.checked_sub(1).map(|p| &readings[p]), r).tally.all.r#in)
            .collect();
        // 3, then +2, then a restart counts its own total.
        assert_eq!(ins, [3, 2, 2]);
    }

    #[test]
    fn add_mode_reads_each_report_alone() {
        let r = counter_reading(
            DataMode::Add,
            CounterSample {
                r#in: 2,
                out: 1,
                pass: 7,
            },
            100,
            5_000,
        );
        assert_eq!(r.span, Span::new(5_000, 5_000));
        assert_eq!(r.tally.all, Counts::new(2, 1, 7, 0));
    }

    #[test]
    fn content_keys_tell_events_apart() {
        let event = CameraEvent {
            source: EventSource::Event,
            kind: "ebike_det".into(),
            name: None,
            status: Some("start".into()),
            channel: Some(0),
            at_ms: 1,
            local_time: None,
            attributes: serde_json::Map::new(),
            image_key: None,
            dedupe: String::new(),
        };
        let mut other = event.clone();
        other.status = Some("stop".into());
        assert_eq!(event.content_key(), event.clone().content_key());
        assert_ne!(event.content_key(), other.content_key());
    }
}
