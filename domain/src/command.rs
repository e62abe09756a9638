//! Commands the platform delivers to a device in its heartbeat answers, and
//! their lifecycle: pending → delivered → fulfilled, or expired.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};

use crate::{CommandId, DeviceId, Invalid, TenantId};

/// How far back a device keeps history (people counter API V1.9).
pub const HISTORY_MAX_DAYS: i64 = 90;

/// How long an undelivered or unanswered command keeps being sent.
pub const COMMAND_TTL: TimeDelta = TimeDelta::hours(24);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandStatus {
    /// Created, not yet sent to the device.
    Pending,
    /// Sent in at least one heartbeat answer; sent again until answered.
    Delivered,
    /// The device answered (for history: uploaded history for the range).
    Fulfilled,
    /// Not answered within its lifetime.
    Expired,
}

impl CommandStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            CommandStatus::Pending => "pending",
            CommandStatus::Delivered => "delivered",
            CommandStatus::Fulfilled => "fulfilled",
            CommandStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<CommandStatus> {
        [
            CommandStatus::Pending,
            CommandStatus::Delivered,
            CommandStatus::Fulfilled,
            CommandStatus::Expired,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

impl fmt::Display for CommandStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request for the device to re-upload its history for `[from, to]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub id: CommandId,
    pub tenant: TenantId,
    pub device: DeviceId,
    /// Unix seconds.
    pub from: i64,
    pub to: i64,
    pub status: CommandStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub fulfilled_at: Option<DateTime<Utc>>,
}

impl Command {
    /// The status as of `now`: an open command past its lifetime is expired.
    pub fn status_at(&self, now: DateTime<Utc>) -> CommandStatus {
        match self.status {
            CommandStatus::Pending | CommandStatus::Delivered if now >= self.expires_at => CommandStatus::Expired,
            s => s,
        }
    }

    /// Still to be sent in heartbeat answers.
    pub fn is_open_at(&self, now: DateTime<Utc>) -> bool {
        matches!(self.status_at(now), CommandStatus::Pending | CommandStatus::Delivered)
    }

    /// Whether history readings spanning `[from, to]` answer this command.
    pub fn answered_by(&self, from: i64, to: i64) -> bool {
        from < self.to && self.from < to || (from == to && self.from <= from && from <= self.to)
    }
}

/// Checks a history request: `from` before `to`, at most 90 days back, not in
/// the future. Returns the range in Unix seconds.
pub fn check_history_range(from: DateTime<Utc>, to: DateTime<Utc>, now: DateTime<Utc>) -> Result<(i64, i64), Invalid> {
    if from >= to {
        return Err(Invalid::new("from", "must be before `to`"));
    }
    if from < now - TimeDelta::days(HISTORY_MAX_DAYS) {
        return Err(Invalid::new(
            "from",
            format!("devices keep at most {HISTORY_MAX_DAYS} days of history"),
        ));
    }
    if to > now + TimeDelta::minutes(5) {
        return Err(Invalid::new("to", "must not be in the future"));
    }
    Ok((from.timestamp(), to.timestamp()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn history_ranges() {
        let now = at("2026-05-01T12:00:00Z");
        let ok = check_history_range(at("2026-04-30T00:00:00Z"), at("2026-05-01T00:00:00Z"), now);
        assert_eq!(ok.unwrap(), (1_777_507_200, 1_777_593_600));
        let cases = [
            ("2026-05-01T00:00:00Z", "2026-05-01T00:00:00Z", "from"),
            ("2026-05-01T01:00:00Z", "2026-05-01T00:00:00Z", "from"),
            ("2026-01-15T00:00:00Z", "2026-01-16T00:00:00Z", "from"),
            ("2026-05-01T00:00:00Z", "2026-05-02T00:00:00Z", "to"),
        ];
        for (from, to, field) in cases {
            let err = check_history_range(at(from), at(to), now).unwrap_err();
            assert_eq!(err.field, field, "{from}..{to}");
        }
        assert!(check_history_range(at("2026-02-01T12:00:00Z"), at("2026-02-02T00:00:00Z"), now).is_ok());
    }

    #[test]
    fn lifecycle() {
        let created = at("2026-05-01T12:00:00Z");
        let mut c = Command {
            id: CommandId::from_uuid(uuid::Uuid::nil()),
            tenant: TenantId::from_uuid(uuid::Uuid::nil()),
            device: DeviceId::from_uuid(uuid::Uuid::nil()),
            from: 1000,
            to: 2000,
            status: CommandStatus::Pending,
            created_at: created,
            expires_at: created + COMMAND_TTL,
            delivered_at: None,
            fulfilled_at: None,
        };
        assert!(c.is_open_at(created));
        assert_eq!(c.status_at(created + COMMAND_TTL), CommandStatus::Expired);
        c.status = CommandStatus::Fulfilled;
        assert_eq!(c.status_at(created + COMMAND_TTL * 2), CommandStatus::Fulfilled);
        assert!(c.answered_by(1500, 1800));
        assert!(c.answered_by(0, 1001));
        assert!(!c.answered_by(2000, 2600), "touching is not answering");
        assert!(!c.answered_by(0, 1000));
    }
}
