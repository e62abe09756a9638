//! What a device upload means once decoded from its wire format: the domain
//! commands the ingest modules hand to storage.

use chrono::{DateTime, Offset, TimeZone, Utc};

use crate::Timezone;
use crate::counting::{Direction, Reading};

/// A reading with what the device sent beside its counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportedReading {
    pub reading: Reading,
    /// The device's own `total` field, kept as sent.
    pub total: Option<u64>,
    /// Average stay in the field of view, milliseconds.
    pub avg_stay_ms: Option<u64>,
    /// Whether adult and child splits were sent.
    pub has_split: bool,
}

/// One person crossing, from a real-time upload's `eventList`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonEvent {
    /// The device's event id (restarts with the device).
    pub event_id: i64,
    /// Unix microseconds.
    pub at_us: i64,
    /// `eventType` as sent.
    pub raw_type: i64,
    /// Decoded direction, `None` for a type the platform does not know.
    pub direction: Option<Direction>,
    pub child: bool,
    pub height_cm: Option<i32>,
    pub stay_ms: Option<i64>,
}

/// Counts, live or history, with any per-person events.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CountReport {
    /// The upload's `time` field (device clock), Unix seconds.
    pub device_time: Option<i64>,
    pub readings: Vec<ReportedReading>,
    pub events: Vec<PersonEvent>,
}

/// A person in view, from a stay upload's `info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonInView {
    pub id: i64,
    pub height_cm: Option<i32>,
    pub status: Option<i64>,
    pub stay_ms: Option<i64>,
}

/// Occupancy: how many people are in view now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StayReport {
    /// Device clock, Unix seconds.
    pub time: i64,
    pub current: u32,
    pub people: Vec<PersonInView>,
}

/// The GMT offset, in whole hours, a people counter is told in its heartbeat
/// answer for a site in `tz` at `now`. Firmware only takes whole hours, so
/// zones with :30 and :45 offsets get the nearest hour, halves rounded away
/// from zero (India +5:30 → +6, Newfoundland −3:30 → −4). Only the device's
/// own clock display and statistics-period start depend on it; the platform
/// buckets by the site's real zone.
pub fn device_timezone_hours(tz: Timezone, now: DateTime<Utc>) -> i32 {
    let seconds = tz
        .tz()
        .offset_from_utc_datetime(&now.naive_utc())
        .fix()
        .local_minus_utc();
    let hours = f64::from(seconds) / 3600.0;
    hours.round() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_hour_offsets() {
        let winter: DateTime<Utc> = "2026-01-15T12:00:00Z".parse().unwrap();
        let summer: DateTime<Utc> = "2026-07-15T12:00:00Z".parse().unwrap();
        let cases = [
            ("UTC", winter, 0),
            ("America/New_York", winter, -5),
            ("America/New_York", summer, -4),
            ("Europe/London", summer, 1),
            ("Asia/Shanghai", winter, 8),
            ("America/Los_Angeles", winter, -8),
            ("Asia/Kolkata", winter, 6),
            ("Asia/Kathmandu", winter, 6),
            ("America/St_Johns", winter, -4),
            ("Australia/Adelaide", winter, 11),
            ("Pacific/Chatham", summer, 13),
        ];
        for (zone, at, hours) in cases {
            let tz = Timezone::parse(zone).unwrap();
            assert_eq!(device_timezone_hours(tz, at), hours, "{zone} at {at}");
        }
    }
}
