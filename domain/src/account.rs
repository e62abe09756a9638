//! Tenants, users, roles and who may do what.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Error, Invalid, Name, Result, TenantId, UserId};

/// A customer organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: Name,
    pub created_at: DateTime<Utc>,
}

/// A person who signs in to a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub tenant: TenantId,
    pub email: Email,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// What a user may do inside their tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Created with the tenant; can do everything, cannot be removed.
    Owner,
    /// Manages sites, devices and users.
    Admin,
    /// Reads everything, changes nothing.
    Viewer,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s.trim().to_ascii_lowercase().as_str() {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "viewer" => Ok(Role::Viewer),
            other => Err(Invalid::new(
                "role",
                format!("unknown role {other:?}; expected \"admin\" or \"viewer\""),
            )),
        }
    }

    /// Owners and admins change sites, devices, configuration and users.
    pub const fn can_write(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The authenticated caller. Every tenant-data operation starts from one, so the
/// tenant to scope by is always at hand and never optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub tenant: TenantId,
    pub user: UserId,
    pub role: Role,
}

impl Principal {
    /// Fails unless the caller may change the tenant's resources.
    pub fn require_write(&self) -> Result<()> {
        if self.role.can_write() {
            Ok(())
        } else {
            Err(Error::not_allowed(format!(
                "the {} role can read but not change anything",
                self.role
            )))
        }
    }

    /// Fails unless the caller may create a user with `role`.
    pub fn require_can_grant(&self, role: Role) -> Result<()> {
        self.require_write()?;
        if role == Role::Owner {
            return Err(Error::not_allowed("a tenant has exactly one owner"));
        }
        Ok(())
    }
}

/// A login name: trimmed, lower-cased, shaped like an address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim().to_lowercase();
        let invalid = |why: &str| Err(Invalid::new("email", why.to_string()));
        if s.is_empty() {
            return invalid("must not be empty");
        }
        if s.len() > 254 {
            return invalid("must be at most 254 characters");
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid("must not contain spaces");
        }
        match s.split_once('@') {
            Some((local, domain))
                if !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.') =>
            {
                Ok(Email(s))
            }
            _ => invalid("is not an email address"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Password length rules (NIST SP 800-63B: at least 8 characters, long
/// passphrases allowed). The upper bound keeps hashing cost bounded.
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// Checks a new password against the policy. Login does not call this: a wrong
/// password of any length is just a wrong password.
pub fn check_new_password(password: &str) -> Result<(), Invalid> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err(Invalid::new(
            "password",
            format!("must be at least {PASSWORD_MIN_CHARS} characters"),
        ));
    }
    if password.len() > PASSWORD_MAX_BYTES {
        return Err(Invalid::new(
            "password",
            format!("must be at most {PASSWORD_MAX_BYTES} bytes"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        let cases: &[(&str, Option<&str>)] = &[
            ("Ana@Example.com", Some("ana@example.com")),
            ("  ops@mall.co.uk ", Some("ops@mall.co.uk")),
            ("", None),
            ("no-at-sign", None),
            ("a@b", None),
            ("a@@b.com", None),
            ("a b@c.com", None),
            ("@c.com", None),
            ("a@.com", None),
            ("a@com.", None),
        ];
        for (input, expected) in cases {
            let got = Email::parse(input).ok();
            assert_eq!(got.as_ref().map(Email::as_str), *expected, "{input:?}");
        }
    }

    #[test]
    fn roles() {
        assert_eq!(Role::parse(" Viewer ").unwrap(), Role::Viewer);
        assert_eq!(Role::parse("admin").unwrap(), Role::Admin);
        assert!(Role::parse("root").is_err());
        assert!(Role::Owner.can_write());
        assert!(Role::Admin.can_write());
        assert!(!Role::Viewer.can_write());
    }

    #[test]
    fn who_may_grant_what() {
        let p = |role| Principal {
            tenant: TenantId::from_uuid(uuid::Uuid::nil()),
            user: UserId::from_uuid(uuid::Uuid::nil()),
            role,
        };
        assert!(p(Role::Owner).require_can_grant(Role::Admin).is_ok());
        assert!(p(Role::Admin).require_can_grant(Role::Viewer).is_ok());
        assert!(p(Role::Owner).require_can_grant(Role::Owner).is_err());
        assert!(p(Role::Viewer).require_can_grant(Role::Viewer).is_err());
        assert!(p(Role::Viewer).require_write().is_err());
    }

    #[test]
    fn password_policy() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("eight888").is_ok());
        assert!(check_new_password("päßwörd!").is_ok(), "counts characters, not bytes");
        assert!(check_new_password(&"x".repeat(PASSWORD_MAX_BYTES + 1)).is_err());
    }
}
