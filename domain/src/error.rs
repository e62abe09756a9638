//! Errors by meaning. Storage adapters map their failures onto these; the API
//! maps each variant once to an HTTP status, a GraphQL code and a device code.

use std::fmt;

/// What kind of thing an error is about, for messages such as "site not found".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Tenant,
    User,
    Site,
    Device,
    Command,
    Integration,
    Event,
    Image,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Tenant => "tenant",
            Entity::User => "user",
            Entity::Site => "site",
            Entity::Device => "device",
            Entity::Command => "command",
            Entity::Integration => "integration",
            Entity::Event => "event",
            Entity::Image => "image",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rejected input field, named as the public API names it (camelCase).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Invalid {
            field,
            message: message.into(),
        }
    }
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input breaks a rule; the caller can fix it.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// Absent, or owned by another tenant: the two are indistinguishable on purpose.
    #[error("{0} not found")]
    NotFound(Entity),
    /// A uniqueness rule would be broken (an SN bound elsewhere, an email in use).
    #[error("{message}")]
    AlreadyExists { entity: Entity, message: String },
    /// The resource's current state forbids the change (e.g. deleting a site
    /// that still has devices).
    #[error("{0}")]
    Conflict(String),
    /// The caller is known but its role does not allow this.
    #[error("{0}")]
    NotAllowed(String),
    /// Credentials or token missing, wrong or expired.
    #[error("{0}")]
    Unauthenticated(String),
    /// Too many attempts; retry after the given number of seconds.
    #[error("too many requests, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A remote server the tenant pointed the platform at (an analysis
    /// server's API) failed or refused; the message says how.
    #[error("{message}")]
    Remote { timed_out: bool, message: String },
    /// A backing service (database, cache) did not answer; retrying may work.
    #[error("service unavailable")]
    Unavailable(#[source] Source),
    /// A defect or an unexpected state. Never caused by bad input.
    #[error("internal error")]
    Internal(#[source] Source),
}

impl Error {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid(Invalid::new(field, message))
    }

    pub fn not_allowed(message: impl Into<String>) -> Self {
        Error::NotAllowed(message.into())
    }

    pub fn internal(source: impl Into<Source>) -> Self {
        Error::Internal(source.into())
    }

    pub fn unavailable(source: impl Into<Source>) -> Self {
        Error::Unavailable(source.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
