//! JSON shapes of the REST answers (camelCase, RFC 3339 times).

use chrono::{DateTime, FixedOffset, Utc};
use footfall_domain::{Command, DataMode, DeviceConfig, Site, Tenant, User};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::services::accounts::Session;
use crate::services::devices::DeviceStatus;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0192f0c1-0000-7000-8000-000000000001", "name": "Acme Retail"}))]
pub struct TenantView {
    pub id: String,
    pub name: String,
}

impl From<&Tenant> for TenantView {
    fn from(t: &Tenant) -> Self {
        TenantView {
            id: t.id.to_string(),
            name: t.name.to_string(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0192f0c1-0000-7000-8000-000000000002", "email": "ops@acme.example", "role": "owner", "createdAt": "2026-11-21T09:00:00Z"}))]
pub struct UserView {
    pub id: String,
    pub email: String,
    /// `owner`, `admin` or `viewer`.
    #[schema(example = "admin")]
    pub role: String,
    pub created_at: DateTime<Utc>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id.to_string(),
            email: u.email.to_string(),
            role: u.role.to_string(),
            created_at: u.created_at,
        }
    }
}

/// An access token with who it belongs to.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"accessToken": "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl", "tokenType": "Bearer", "expiresIn": 3600, "tenant": {"id": "0192f0c1-0000-7000-8000-000000000001", "name": "Acme Retail"}, "user": {"id": "0192f0c1-0000-7000-8000-000000000002", "email": "ops@acme.example", "role": "owner", "createdAt": "2026-11-21T09:00:00Z"}}))]
pub struct SessionView {
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    #[schema(example = 3600)]
    pub expires_in: u64,
    pub tenant: TenantView,
    pub user: UserView,
}

impl From<Session> for SessionView {
    fn from(s: Session) -> Self {
        SessionView {
            access_token: s.token.token,
            token_type: "Bearer",
            expires_in: s.token.expires_in.as_secs(),
            tenant: TenantView::from(&s.tenant),
            user: UserView::from(&s.user),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0192f0c1-2d3e-7a4b-8c5d-6e7f8091a2b3", "name": "Oxford Street", "timezone": "Europe/London", "defaultConfig": {"uploadInterval": null, "dataMode": null, "keepInterval": null}, "createdAt": "2026-11-21T09:00:00Z", "updatedAt": "2026-11-21T09:00:00Z"}))]
pub struct SiteView {
    pub id: String,
    pub name: String,
    /// IANA timezone name.
    pub timezone: String,
    /// What devices bound to this site start with; unset fields take the
    /// platform default (5 minutes, ADD).
    pub default_config: DefaultConfigView,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"uploadInterval": 1, "dataMode": null, "keepInterval": null}))]
pub struct DefaultConfigView {
    pub upload_interval: Option<u16>,
    pub data_mode: Option<DataModeView>,
    pub keep_interval: Option<u16>,
}

impl From<&Site> for SiteView {
    fn from(s: &Site) -> Self {
        SiteView {
            id: s.id.to_string(),
            name: s.name.to_string(),
            timezone: s.timezone.to_string(),
            default_config: DefaultConfigView {
                upload_interval: s.defaults.upload_interval_minutes,
                data_mode: s.defaults.data_mode.map(Into::into),
                keep_interval: s.defaults.keep_interval_seconds,
            },
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// How a people counter reports counts.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum DataModeView {
    Add,
    Total,
}

impl From<DataMode> for DataModeView {
    fn from(m: DataMode) -> Self {
        match m {
            DataMode::Add => DataModeView::Add,
            DataMode::Total => DataModeView::Total,
        }
    }
}

/// The configuration the platform wants the device to run with.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"uploadInterval": 5, "dataMode": "ADD", "keepInterval": 60}))]
pub struct DeviceConfigView {
    /// Minutes between uploads; 0 = real time.
    #[schema(example = 5)]
    pub upload_interval: u16,
    pub data_mode: DataModeView,
    /// Seconds between IPC keepalives.
    #[schema(example = 60)]
    pub keep_interval: u16,
}

impl From<DeviceConfig> for DeviceConfigView {
    fn from(c: DeviceConfig) -> Self {
        DeviceConfigView {
            upload_interval: c.upload_interval_minutes(),
            data_mode: c.data_mode.into(),
            keep_interval: c.keep_interval_seconds(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0192f0c1-0000-7000-8000-000000000010", "sn": "2010010000000000", "siteId": "0192f0c1-2d3e-7a4b-8c5d-6e7f8091a2b3", "protocol": "people_counter", "name": "Main door", "online": true, "lastSeenAt": "2026-11-21T09:41:00Z", "lastUploadAt": "2026-11-21T09:40:00Z", "config": {"uploadInterval": 1, "dataMode": "TOTAL", "keepInterval": 60}, "deliveredConfig": {"uploadInterval": 1, "dataMode": "TOTAL", "keepInterval": 60}, "configDeliveredAt": "2026-11-21T09:12:00Z", "configInSync": true, "reported": {"swRelease": "V2.3.1", "ipAddress": "10.0.0.7"}, "reportedAt": "2026-11-21T09:00:00Z", "occupancy": {"current": 4, "at": "2026-11-21T09:40:00Z"}, "username": null, "createdAt": "2026-11-20T08:00:00Z", "updatedAt": "2026-11-21T09:11:00Z"}))]
pub struct DeviceView {
    pub id: String,
    /// Serial number, trimmed and upper-cased.
    #[schema(example = "2010010000000000")]
    pub sn: String,
    pub site_id: String,
    /// `people_counter`, `ipc` or `edge_box`.
    #[schema(example = "people_counter")]
    pub protocol: String,
    pub name: Option<String>,
    /// Whether the device made contact within its last three heartbeat periods.
    pub online: bool,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// When the device last uploaded data that was stored.
    pub last_upload_at: Option<DateTime<Utc>>,
    /// The configuration the platform wants; sent in every heartbeat answer.
    pub config: DeviceConfigView,
    /// The configuration last sent to the device, and when it was first sent.
    pub delivered_config: Option<DeviceConfigView>,
    pub config_delivered_at: Option<DateTime<Utc>>,
    /// Whether the device has been sent its current configuration.
    pub config_in_sync: bool,
    /// What the device reports about itself in heartbeats (firmware,
    /// addresses, ...), as it sent it.
    #[schema(value_type = Object)]
    pub reported: Option<serde_json::Map<String, serde_json::Value>>,
    pub reported_at: Option<DateTime<Utc>>,
    /// People in view, from the device's latest stay upload.
    pub occupancy: Option<DeviceOccupancyView>,
    /// IPC cameras: the Digest username set for the camera; `null` until
    /// credentials are set (the camera is refused until then).
    pub username: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"current": 4, "at": "2026-11-21T09:40:00Z"}))]
pub struct DeviceOccupancyView {
    pub current: u32,
    /// When the stay upload was received.
    pub at: Option<DateTime<Utc>>,
}

impl From<&DeviceStatus> for DeviceView {
    fn from(s: &DeviceStatus) -> Self {
        let d = &s.device;
        DeviceView {
            id: d.id.to_string(),
            sn: d.sn.to_string(),
            site_id: d.site.to_string(),
            protocol: d.protocol.to_string(),
            name: d.name.as_ref().map(ToString::to_string),
            online: s.online,
            last_seen_at: s.last_seen_at,
            last_upload_at: d.state.last_upload_at,
            config: d.config.into(),
            delivered_config: d.state.delivered.map(|x| x.config.into()),
            config_delivered_at: d.state.delivered.map(|x| x.at),
            config_in_sync: d.state.delivered.is_some_and(|x| x.config == d.config),
            reported: d.state.reported.as_ref().map(|r| {
                r.fields
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect()
            }),
            reported_at: d.state.reported.as_ref().map(|r| r.at),
            occupancy: d.state.occupancy.map(|o| DeviceOccupancyView {
                current: o.current,
                at: DateTime::from_timestamp(o.at, 0),
            }),
            username: s.digest_username.clone(),
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// A command sent to a device in its heartbeat answers.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0192f0c1-0000-7000-8000-000000000020", "deviceId": "0192f0c1-0000-7000-8000-000000000010", "kind": "history", "from": "2026-11-20T00:00:00Z", "to": "2026-11-21T00:00:00Z", "status": "delivered", "createdAt": "2026-11-21T09:00:00Z", "expiresAt": "2026-11-22T09:00:00Z", "deliveredAt": "2026-11-21T09:01:00Z", "fulfilledAt": null}))]
pub struct CommandView {
    pub id: String,
    pub device_id: String,
    /// Always `history` for now: re-upload the counts of `[from, to]`.
    #[schema(example = "history")]
    pub kind: &'static str,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// `pending`, `delivered`, `fulfilled` or `expired`.
    #[schema(example = "pending")]
    pub status: &'static str,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub fulfilled_at: Option<DateTime<Utc>>,
}

impl From<&Command> for CommandView {
    fn from(c: &Command) -> Self {
        CommandView {
            id: c.id.to_string(),
            device_id: c.device.to_string(),
            kind: "history",
            from: DateTime::from_timestamp(c.from, 0).unwrap_or_default(),
            to: DateTime::from_timestamp(c.to, 0).unwrap_or_default(),
            status: c.status_at(Utc::now()).as_str(),
            created_at: c.created_at,
            expires_at: c.expires_at,
            delivered_at: c.delivered_at,
            fulfilled_at: c.fulfilled_at,
        }
    }
}

/// Writes a site-local time with its offset spelled out (`+00:00`, not `Z`),
/// the same way GraphQL does.
pub fn with_offset<S: serde::Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339())
}

/// For PATCH bodies: tells an absent field (`None`) from an explicit `null`
/// (`Some(None)`).
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
