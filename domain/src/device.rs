//! Devices: serial numbers, protocol families and the configuration the
//! platform wants a device to run with.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{DeviceId, Invalid, Name, SiteId, TenantId};

/// A device bound by its serial number to one site of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: DeviceId,
    pub tenant: TenantId,
    pub site: SiteId,
    pub sn: Sn,
    pub protocol: Protocol,
    pub name: Option<Name>,
    /// What the platform wants the device to run with.
    pub config: DeviceConfig,
    /// What the platform knows of the device from its contact.
    pub state: DeviceState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What the platform has learnt from a device's contact.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceState {
    /// The configuration last sent in a heartbeat answer, and when it was
    /// first sent.
    pub delivered: Option<Delivery>,
    /// Extra fields of the last heartbeat that differed from the one before
    /// (firmware, addresses, the device's own timezone, ...).
    pub reported: Option<Reported>,
    pub last_upload_at: Option<DateTime<Utc>>,
    /// The last contact written to SQL (presence may know a later one).
    pub last_seen_at: Option<DateTime<Utc>>,
    /// The latest occupancy (people in view) a stay upload reported.
    pub occupancy: Option<OccupancyReading>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub config: DeviceConfig,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    /// Field name and value as the device sent them, values as text.
    pub fields: Vec<(String, String)>,
    pub at: DateTime<Utc>,
}

impl Reported {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OccupancyReading {
    pub current: u32,
    /// When it was received, Unix seconds (server clock).
    pub at: i64,
}

/// Configuration new devices of a site start with; unset fields fall back to
/// the platform default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConfigDefaults {
    pub upload_interval_minutes: Option<u16>,
    pub data_mode: Option<DataMode>,
    pub keep_interval_seconds: Option<u16>,
}

/// A partial configuration change, as a tenant sends it; `None` keeps the
/// current value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConfigChange {
    pub upload_interval_minutes: Option<i64>,
    pub data_mode: Option<DataMode>,
    pub keep_interval_seconds: Option<i64>,
}

impl ConfigDefaults {
    pub fn config(&self) -> DeviceConfig {
        let platform = DeviceConfig::default();
        DeviceConfig {
            upload_interval_minutes: self.upload_interval_minutes.unwrap_or(platform.upload_interval_minutes),
            data_mode: self.data_mode.unwrap_or_default(),
            keep_interval_seconds: self.keep_interval_seconds.unwrap_or(platform.keep_interval_seconds),
        }
    }

    /// What a device of `protocol` starts with. IPC cameras report running
    /// totals (decision 012), so they start in `TOTAL` unless the site says
    /// otherwise.
    pub fn config_for(&self, protocol: Protocol) -> DeviceConfig {
        let mut config = self.config();
        if protocol == Protocol::Ipc && self.data_mode.is_none() {
            config.data_mode = DataMode::Total;
        }
        config
    }

    /// Applies a partial change, validated like a device's configuration.
    pub fn with_changes(self, change: ConfigChange) -> Result<Self, Invalid> {
        Ok(ConfigDefaults {
            upload_interval_minutes: match change.upload_interval_minutes {
                Some(v) => Some(check_upload_interval(v)?),
                None => self.upload_interval_minutes,
            },
            data_mode: change.data_mode.or(self.data_mode),
            keep_interval_seconds: match change.keep_interval_seconds {
                Some(v) => Some(check_keep_interval(v)?),
                None => self.keep_interval_seconds,
            },
        })
    }
}

pub const SN_MAX_LEN: usize = 64;

/// A device serial number, globally unique across tenants.
///
/// Devices are liberal in how they send it (`" 2010010000000000"`), so it is
/// trimmed and upper-cased; what remains must be 1–64 characters of
/// `A-Z 0-9 - _ . :`. Binding and ingest both go through this one parser, so a
/// device always finds the binding its tenant made.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sn(String);

impl Sn {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Invalid::new("sn", "must not be empty"));
        }
        if s.len() > SN_MAX_LEN {
            return Err(Invalid::new("sn", format!("must be at most {SN_MAX_LEN} characters")));
        }
        if let Some(bad) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
        {
            return Err(Invalid::new(
                "sn",
                format!("{bad:?} is not allowed; use letters, digits, '-', '_', '.' or ':'"),
            ));
        }
        Ok(Sn(s.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The protocol family a device speaks (PROTOCOLS.md §1, §2, §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// 3D people counter: heartBeat + dataUpload.
    PeopleCounter,
    /// IPC camera pushing with HTTP Digest authentication.
    Ipc,
    /// Edge analytics box, identified by its `deviceInfo.uuid`.
    EdgeBox,
    /// A counting zone of an analysis server (`taskNum` + `regionCode`),
    /// created by its integration, never bound by hand.
    AnalysisZone,
}

impl Protocol {
    pub const ALL: [Protocol; 4] = [
        Protocol::PeopleCounter,
        Protocol::Ipc,
        Protocol::EdgeBox,
        Protocol::AnalysisZone,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::PeopleCounter => "people_counter",
            Protocol::Ipc => "ipc",
            Protocol::EdgeBox => "edge_box",
            Protocol::AnalysisZone => "analysis_zone",
        }
    }

    /// Accepts the canonical names in any case, with `-` or `_`.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let normalized = s.trim().to_ascii_lowercase().replace('-', "_");
        Protocol::ALL
            .into_iter()
            .find(|p| p.as_str() == normalized)
            .ok_or_else(|| {
                Invalid::new(
                    "protocol",
                    format!("unknown protocol {s:?}; expected one of people_counter, ipc, edge_box, analysis_zone"),
                )
            })
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a people counter reports counts (PROTOCOLS.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum DataMode {
    /// Each upload is the count of its own interval.
    #[default]
    Add,
    /// Each upload is a running total since the start of the statistics period.
    Total,
}

impl DataMode {
    /// The stored, lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            DataMode::Add => "add",
            DataMode::Total => "total",
        }
    }

    /// Accepts any case: devices send "Add", "add", "Total", "total".
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s.trim().to_ascii_lowercase().as_str() {
            "add" => Ok(DataMode::Add),
            "total" => Ok(DataMode::Total),
            _ => Err(Invalid::new(
                "dataMode",
                format!("unknown data mode {s:?}; expected ADD or TOTAL"),
            )),
        }
    }
}

/// Upload interval bounds in minutes; 0 means real time. Firmware documents
/// 0, 1, 5 and 60; anything up to a day is accepted.
pub const UPLOAD_INTERVAL_MAX_MINUTES: i64 = 24 * 60;

/// Shortest and longest IPC keepalive period the platform asks for.
pub const KEEP_INTERVAL_MIN_SECONDS: i64 = 10;
pub const KEEP_INTERVAL_MAX_SECONDS: i64 = 3600;

/// The configuration the platform wants a device to run with; carried to the
/// device in its heartbeat answer (people counters: upload interval and data
/// mode) or keepalive answer (IPC cameras: keepalive period).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceConfig {
    upload_interval_minutes: u16,
    pub data_mode: DataMode,
    keep_interval_seconds: u16,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        DeviceConfig {
            upload_interval_minutes: 5,
            data_mode: DataMode::Add,
            keep_interval_seconds: 60,
        }
    }
}

impl DeviceConfig {
    pub fn new(upload_interval_minutes: i64, data_mode: DataMode, keep_interval_seconds: i64) -> Result<Self, Invalid> {
        Ok(DeviceConfig {
            upload_interval_minutes: check_upload_interval(upload_interval_minutes)?,
            data_mode,
            keep_interval_seconds: check_keep_interval(keep_interval_seconds)?,
        })
    }

    pub fn upload_interval_minutes(&self) -> u16 {
        self.upload_interval_minutes
    }

    /// The IPC keepalive period (`keepinterval`), seconds.
    pub fn keep_interval_seconds(&self) -> u16 {
        self.keep_interval_seconds
    }

    /// Applies a partial change; fields left `None` keep their value.
    pub fn with_changes(self, change: ConfigChange) -> Result<Self, Invalid> {
        Ok(DeviceConfig {
            upload_interval_minutes: match change.upload_interval_minutes {
                Some(v) => check_upload_interval(v)?,
                None => self.upload_interval_minutes,
            },
            data_mode: change.data_mode.unwrap_or(self.data_mode),
            keep_interval_seconds: match change.keep_interval_seconds {
                Some(v) => check_keep_interval(v)?,
                None => self.keep_interval_seconds,
            },
        })
    }
}

fn check_upload_interval(minutes: i64) -> Result<u16, Invalid> {
    if !(0..=UPLOAD_INTERVAL_MAX_MINUTES).contains(&minutes) {
        return Err(Invalid::new(
            "uploadInterval",
            format!("must be between 0 (real time) and {UPLOAD_INTERVAL_MAX_MINUTES} minutes, got {minutes}"),
        ));
    }
    // In range, so it fits.
    Ok(minutes as u16)
}

fn check_keep_interval(seconds: i64) -> Result<u16, Invalid> {
    if !(KEEP_INTERVAL_MIN_SECONDS..=KEEP_INTERVAL_MAX_SECONDS).contains(&seconds) {
        return Err(Invalid::new(
            "keepInterval",
            format!(
                "must be between {KEEP_INTERVAL_MIN_SECONDS} and {KEEP_INTERVAL_MAX_SECONDS} seconds, got {seconds}"
            ),
        ));
    }
    Ok(seconds as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers() {
        let cases: &[(&str, Option<&str>)] = &[
            ("2010010000000000", Some("2010010000000000")),
            (" 2010010000000000", Some("2010010000000000")),
            ("ab-12_cd.9:x\n", Some("AB-12_CD.9:X")),
            ("", None),
            ("   ", None),
            ("with space", None),
            ("semi;colon", None),
            ("ünïcode", None),
            (&"9".repeat(SN_MAX_LEN), Some(&"9".repeat(SN_MAX_LEN))),
            (&"9".repeat(SN_MAX_LEN + 1), None),
        ];
        for (input, expected) in cases {
            let got = Sn::parse(input).ok();
            assert_eq!(got.as_ref().map(Sn::as_str), *expected, "{input:?}");
        }
    }

    #[test]
    fn protocols() {
        assert_eq!(Protocol::parse("people_counter").unwrap(), Protocol::PeopleCounter);
        assert_eq!(Protocol::parse("People-Counter").unwrap(), Protocol::PeopleCounter);
        assert_eq!(Protocol::parse(" IPC ").unwrap(), Protocol::Ipc);
        assert_eq!(Protocol::parse("edge_box").unwrap(), Protocol::EdgeBox);
        assert!(Protocol::parse("onvif").is_err());
        for p in Protocol::ALL {
            assert_eq!(Protocol::parse(p.as_str()).unwrap(), p);
        }
    }

    #[test]
    fn data_modes() {
        for (s, m) in [
            ("Add", DataMode::Add),
            ("add", DataMode::Add),
            ("TOTAL", DataMode::Total),
            ("total", DataMode::Total),
        ] {
            assert_eq!(DataMode::parse(s).unwrap(), m);
        }
        assert_eq!(DataMode::parse("sum").unwrap_err().field, "dataMode");
    }

    #[test]
    fn config_changes_are_validated() {
        let c = DeviceConfig::default();
        let change = |upload: Option<i64>, mode: Option<DataMode>, keep: Option<i64>| ConfigChange {
            upload_interval_minutes: upload,
            data_mode: mode,
            keep_interval_seconds: keep,
        };
        assert_eq!(
            c.with_changes(change(Some(0), None, None))
                .unwrap()
                .upload_interval_minutes(),
            0
        );
        assert_eq!(
            c.with_changes(change(Some(60), Some(DataMode::Total), None))
                .unwrap()
                .data_mode,
            DataMode::Total
        );
        assert_eq!(c.with_changes(ConfigChange::default()).unwrap(), c);
        assert_eq!(c.keep_interval_seconds(), 60);
        assert_eq!(
            c.with_changes(change(None, None, Some(30)))
                .unwrap()
                .keep_interval_seconds(),
            30
        );
        for (bad, field) in [
            (change(Some(-1), None, None), "uploadInterval"),
            (
                change(Some(UPLOAD_INTERVAL_MAX_MINUTES + 1), None, None),
                "uploadInterval",
            ),
            (change(None, None, Some(KEEP_INTERVAL_MIN_SECONDS - 1)), "keepInterval"),
            (change(None, None, Some(KEEP_INTERVAL_MAX_SECONDS + 1)), "keepInterval"),
        ] {
            assert_eq!(c.with_changes(bad).unwrap_err().field, field, "{bad:?}");
            assert_eq!(ConfigDefaults::default().with_changes(bad).unwrap_err().field, field);
        }
        assert_eq!(
            ConfigDefaults::default().config_for(Protocol::Ipc).data_mode,
            DataMode::Total
        );
        assert_eq!(
            ConfigDefaults::default().config_for(Protocol::PeopleCounter).data_mode,
            DataMode::Add
        );
        let add = ConfigDefaults::default()
            .with_changes(change(None, Some(DataMode::Add), None))
            .unwrap();
        assert_eq!(
            add.config_for(Protocol::Ipc).data_mode,
            DataMode::Add,
            "the site's choice wins"
        );
        let defaults = ConfigDefaults::default()
            .with_changes(change(None, None, Some(120)))
            .unwrap();
        assert_eq!(defaults.config().keep_interval_seconds(), 120);
        assert_eq!(defaults.config().upload_interval_minutes(), 5);
    }
}
