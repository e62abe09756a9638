//! Sites (a store, a mall entrance) with the IANA timezone their days follow,
//! and the display names shared by tenants, sites and devices.

use std::fmt;

use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use crate::device::ConfigDefaults;
use crate::{Invalid, SiteId, TenantId};

/// A place whose footfall is counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub id: SiteId,
    pub tenant: TenantId,
    pub name: Name,
    pub timezone: Timezone,
    /// Configuration devices bound to this site start with.
    pub defaults: ConfigDefaults,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const NAME_MAX_CHARS: usize = 200;

/// A display name: trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name(String);

impl Name {
    /// `field` names the input in the error, e.g. "name" or "tenantName".
    pub fn parse(field: &'static str, s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Invalid::new(field, "must not be empty"));
        }
        if s.chars().count() > NAME_MAX_CHARS {
            return Err(Invalid::new(
                field,
                format!("must be at most {NAME_MAX_CHARS} characters"),
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(Invalid::new(field, "must not contain control characters"));
        }
        Ok(Name(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IANA timezone such as `Europe/London` or `Asia/Kathmandu`. Buckets of a
/// site's footfall follow this zone's local days, including DST changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timezone(Tz);

impl Timezone {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Invalid::new("timezone", "must not be empty"));
        }
        s.parse::<Tz>().map(Timezone).map_err(|_| {
            Invalid::new(
                "timezone",
                format!("{s:?} is not an IANA timezone name (e.g. \"Europe/London\")"),
            )
        })
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The zone's offset from UTC at `at`, in seconds (DST aware).
    pub fn offset_seconds_at(self, at: DateTime<Utc>) -> i32 {
        self.0.offset_from_utc_datetime(&at.naive_utc()).fix().local_minus_utc()
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            Name::parse("name", "  Main entrance ").unwrap().as_str(),
            "Main entrance"
        );
        assert!(Name::parse("name", "").is_err());
        assert!(Name::parse("name", "   ").is_err());
        assert!(Name::parse("name", "tab\tinside").is_err());
        assert!(Name::parse("name", &"é".repeat(NAME_MAX_CHARS)).is_ok());
        assert!(Name::parse("name", &"é".repeat(NAME_MAX_CHARS + 1)).is_err());
        assert_eq!(Name::parse("tenantName", "").unwrap_err().field, "tenantName");
    }

    #[test]
    fn timezones() {
        for good in [
            "Europe/London",
            "Asia/Kolkata",
            "Asia/Kathmandu",
            "UTC",
            " America/New_York ",
        ] {
            assert!(Timezone::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "Mars/Olympus", "GMT+25", "europe/london ", "+05:30"] {
            assert!(Timezone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn offsets_follow_dst() {
        let ny = Timezone::parse("America/New_York").unwrap();
        let winter = "2026-01-15T12:00:00Z".parse().unwrap();
        let summer = "2026-07-15T12:00:00Z".parse().unwrap();
        assert_eq!(ny.offset_seconds_at(winter), -5 * 3600);
        assert_eq!(ny.offset_seconds_at(summer), -4 * 3600);
        let ktm = Timezone::parse("Asia/Kathmandu").unwrap();
        assert_eq!(ktm.offset_seconds_at(winter), 5 * 3600 + 45 * 60);
    }
}
