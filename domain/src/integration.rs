//! Integrations (PROTOCOLS.md §3, §4): senders without a device serial
//! number — analysis servers, and edge boxes posting to a token path — that
//! push to a secret per-integration URL. The URL's token is the credential:
//! shown once, stored only as its SHA-256.
//!
//! An analysis server's counting zones (`taskNum` + `regionCode`) become
//! devices of protocol `analysis_zone` under the integration's site, so
//! their footfall and occupancy sit beside the cameras'. A zone's serial
//! number is derived from the integration and the zone, so the same zone
//! always lands on the same device.

use std::fmt;

use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use crate::ids::IntegrationId;
use crate::{Error, Invalid, Sn, TenantId};

/// What pushes to an integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntegrationKind {
    /// A video traffic analysis server (people flow, density, alarms,
    /// vehicle flow, traffic parameters, task status).
    AnalysisServer,
    /// Edge boxes (skill pushes), identified by `deviceInfo.uuid`.
    EdgeBox,
}

impl IntegrationKind {
    pub const ALL: [IntegrationKind; 2] = [IntegrationKind::AnalysisServer, IntegrationKind::EdgeBox];

    pub const fn as_str(self) -> &'static str {
        match self {
            IntegrationKind::AnalysisServer => "analysis_server",
            IntegrationKind::EdgeBox => "edge_box",
        }
    }

    /// The ingest path segment of this kind: `/ingest/{segment}/{token}`.
    pub const fn path_segment(self) -> &'static str {
        match self {
            IntegrationKind::AnalysisServer => "analysis",
            IntegrationKind::EdgeBox => "edge",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let normalized = s.trim().to_ascii_lowercase().replace('-', "_");
        IntegrationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == normalized)
            .ok_or_else(|| {
                Invalid::new(
                    "kind",
                    format!("unknown kind {s:?}; expected analysis_server or edge_box"),
                )
            })
    }
}

impl fmt::Display for IntegrationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds of push an analysis server sends to one receiving interface
/// (its `businessType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BusinessType {
    /// 11: event alarms (`recordType`), and crowd alarms.
    EventAlarm,
    /// 21: vehicle snapshots (vehicle flow).
    VehicleSnapshot,
    /// 22: traffic parameters.
    TrafficParameters,
    /// 41: people flow and density.
    PeopleFlow,
    /// 52: task status.
    TaskStatus,
}

impl BusinessType {
    pub const ALL: [BusinessType; 5] = [
        BusinessType::EventAlarm,
        BusinessType::VehicleSnapshot,
        BusinessType::TrafficParameters,
        BusinessType::PeopleFlow,
        BusinessType::TaskStatus,
    ];

    pub const fn code(self) -> i64 {
        match self {
            BusinessType::EventAlarm => 11,
            BusinessType::VehicleSnapshot => 21,
            BusinessType::TrafficParameters => 22,
            BusinessType::PeopleFlow => 41,
            BusinessType::TaskStatus => 52,
        }
    }

    pub fn from_code(code: i64) -> Result<BusinessType, Invalid> {
        BusinessType::ALL.into_iter().find(|b| b.code() == code).ok_or_else(|| {
            Invalid::new(
                "businessTypes",
                format!("unknown business type {code}; expected 11, 21, 22, 41 or 52"),
            )
        })
    }

    /// The server's `triggerCondition`: alarms and task status are sent as
    /// they happen (2), counts and flows periodically (1), as the document
    /// advises for anything with images.
    pub const fn trigger_condition(self) -> i64 {
        match self {
            BusinessType::EventAlarm | BusinessType::TaskStatus => 2,
            _ => 1,
        }
    }

    /// The sub-path label of this type on the ingest URL.
    pub const fn label(self) -> &'static str {
        match self {
            BusinessType::EventAlarm => "event-alarm",
            BusinessType::VehicleSnapshot => "vehicle-flow",
            BusinessType::TrafficParameters => "traffic-parameters",
            BusinessType::PeopleFlow => "people-flow",
            BusinessType::TaskStatus => "task-status",
        }
    }
}

/// An integration's secret: 32 random bytes, URL-safe.
#[derive(Clone, PartialEq, Eq)]
pub struct IngestToken(String);

impl fmt::Debug for IngestToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IngestToken({}…)", self.hint())
    }
}

/// Characters a token is written with.
const TOKEN_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl IngestToken {
    /// A token from 32 random bytes (the caller's randomness: no IO here).
    pub fn from_random(bytes: [u8; 32]) -> IngestToken {
        // 6 bits per character: 43 characters carry the 256 bits.
        let mut out = String::with_capacity(43);
        let mut acc: u32 = 0;
        let mut bits = 0;
        for b in bytes {
            acc = (acc << 8) | u32::from(b);
            bits += 8;
            while bits >= 6 {
                bits -= 6;
                out.push(char::from(TOKEN_ALPHABET[((acc >> bits) & 63) as usize]));
            }
        }
        if bits > 0 {
            out.push(char::from(TOKEN_ALPHABET[((acc << (6 - bits)) & 63) as usize]));
        }
        IngestToken(out)
    }

    /// A token as it arrived in a URL; `None` if it cannot be one.
    pub fn parse(s: &str) -> Option<IngestToken> {
        let ok = (20..=128).contains(&s.len()) && s.bytes().all(|b| TOKEN_ALPHABET.contains(&b));
        ok.then(|| IngestToken(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What is stored: the SHA-256 of the token, hex.
    pub fn hash(&self) -> String {
        Sha256::digest(self.0.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The first characters, to tell tokens apart in listings.
    pub fn hint(&self) -> String {
        self.0.chars().take(6).collect()
    }
}

/// An integration as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integration {
    pub id: IntegrationId,
    pub tenant: TenantId,
    pub site: crate::SiteId,
    pub kind: IntegrationKind,
    pub name: Option<String>,
    pub token_hint: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub rotated_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Integration {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }

    /// The ingest path for `token`.
    pub fn ingest_path(&self, token: &IngestToken) -> String {
        format!("/ingest/{}/{}", self.kind.path_segment(), token.as_str())
    }

    /// The serial number of the zone `task` / `region` of this integration
    /// (`region` absent: the task as a whole). Stable, and unique across
    /// integrations.
    pub fn zone_sn(&self, task: &str, region: Option<&str>) -> Result<Sn, Error> {
        let mut h = Sha256::new();
        h.update(self.id.as_uuid().as_bytes());
        h.update(task.trim().as_bytes());
        h.update([0]);
        if let Some(r) = region {
            h.update(r.trim().as_bytes());
        }
        let digest = h.finalize();
        let hex: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Sn::parse(&format!("ZONE-{hex}"))?)
    }
}

/// Parses an integration id, as the other ids parse.
pub fn integration_id(s: &str) -> Result<IntegrationId, Error> {
    IntegrationId::parse(s)
}

/// An id for a new integration.
pub fn new_integration_id() -> IntegrationId {
    IntegrationId::from_uuid(Uuid::now_v7())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_types_round_trip() {
        for b in BusinessType::ALL {
            assert_eq!(BusinessType::from_code(b.code()).unwrap(), b);
        }
        assert!(BusinessType::from_code(42).is_err());
        assert_eq!(BusinessType::PeopleFlow.trigger_condition(), 1);
        assert_eq!(BusinessType::EventAlarm.trigger_condition(), 2);
    }

    #[test]
    fn kinds_round_trip() {
        for k in IntegrationKind::ALL {
            assert_eq!(IntegrationKind::parse(k.as_str()).unwrap(), k);
        }
        assert_eq!(IntegrationKind::parse(" Edge-Box ").unwrap(), IntegrationKind::EdgeBox);
        assert!(IntegrationKind::parse("camera").is_err());
    }

    #[test]
    fn tokens_carry_all_their_bits_and_parse_back() {
        let a = IngestToken::from_random([0xFF; 32]);
        let b = IngestToken::from_random([0x00; 32]);
        let mut c = [0u8; 32];
        c[31] = 1;
        let c = IngestToken::from_random(c);
        assert_eq!(a.as_str().len(), 43);
        assert_ne!(b, c, "the last byte counts");
        assert_eq!(IngestToken::parse(a.as_str()), Some(a.clone()));
        assert_eq!(a.hash().len(), 64);
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.hint(), "______");
        for bad in ["", "short", "has/slash-but-long-enough-to-count", &"x".repeat(200)] {
            assert_eq!(IngestToken::parse(bad), None, "{bad}");
        }
        assert!(!format!("{a:?}").contains(a.as_str()), "Debug hides the token");
    }

    #[test]
    fn zone_serial_numbers_are_stable_and_distinct() {
        let i = Integration {
            id: IntegrationId::from_uuid(Uuid::from_u128(7)),
            tenant: TenantId::from_uuid(Uuid::from_u128(1)),
            site: crate::SiteId::from_uuid(Uuid::from_u128(2)),
            kind: IntegrationKind::AnalysisServer,
            name: None,
            token_hint: String::new(),
            created_at: chrono::DateTime::UNIX_EPOCH,
            rotated_at: None,
            revoked_at: None,
        };
        let a = i.zone_sn("2", Some("101")).unwrap();
        assert_eq!(a, i.zone_sn(" 2 ", Some("101")).unwrap());
        assert_ne!(a, i.zone_sn("21", Some("01")).unwrap());
        assert_ne!(a, i.zone_sn("2", None).unwrap());
        let mut other = i.clone();
        other.id = IntegrationId::from_uuid(Uuid::from_u128(8));
        assert_ne!(a, other.zone_sn("2", Some("101")).unwrap());
        assert!(a.as_str().starts_with("ZONE-"));
    }
}
