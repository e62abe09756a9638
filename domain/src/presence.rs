//! When a device counts as online.

use chrono::{DateTime, TimeDelta, Utc};

use crate::{Device, Protocol};

/// A device is offline once this many heartbeat periods pass without contact.
pub const MISSED_HEARTBEATS_OFFLINE: i32 = 3;

/// How often a device is expected to make contact.
pub fn heartbeat_period(device: &Device) -> TimeDelta {
    match device.protocol {
        // Fixed by the firmware: one heartbeat a minute.
        Protocol::PeopleCounter => TimeDelta::minutes(1),
        // The keepalive period: the longer of what it was last told and what
        // it will be told, since a camera learns a change only at its next
        // keepalive.
        Protocol::Ipc => {
            let desired = device.config.keep_interval_seconds();
            let delivered = device
                .state
                .delivered
                .map_or(desired, |d| d.config.keep_interval_seconds());
            TimeDelta::seconds(i64::from(desired.max(delivered)))
        }
        // Edge boxes only push on events; five minutes is their status beat.
        Protocol::EdgeBox => TimeDelta::minutes(5),
        // Analysis servers push people flow every 1 to 120 s.
        Protocol::AnalysisZone => TimeDelta::minutes(5),
    }
}

pub fn is_online(last_seen: Option<DateTime<Utc>>, now: DateTime<Utc>, period: TimeDelta) -> bool {
    match last_seen {
        Some(seen) => now - seen <= period * MISSED_HEARTBEATS_OFFLINE,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn online_until_three_heartbeats_are_missed() {
        let now: DateTime<Utc> = "2026-05-01T12:00:00Z".parse().unwrap();
        let minute = TimeDelta::minutes(1);
        let cases = [
            (None, false),
            (Some(now), true),
            (Some(now - TimeDelta::seconds(179)), true),
            (Some(now - TimeDelta::seconds(180)), true),
            (Some(now - TimeDelta::seconds(181)), false),
            // A device clock ahead of ours is still a device that just spoke.
            (Some(now + TimeDelta::seconds(30)), true),
        ];
        for (seen, expected) in cases {
            assert_eq!(is_online(seen, now, minute), expected, "{seen:?}");
        }
    }
}
