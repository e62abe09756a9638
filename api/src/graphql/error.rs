//! Domain errors as GraphQL errors, with a stable `extensions.code`.

use async_graphql::ErrorExtensions;
use footfall_domain::Error;

use crate::error::log_failure;

pub fn to_graphql(err: Error) -> async_graphql::Error {
    let (code, message, field) = match &err {
        Error::Invalid(invalid) => ("BAD_USER_INPUT", invalid.to_string(), Some(invalid.field)),
        Error::NotFound(entity) => ("NOT_FOUND", format!("{entity} not found"), None),
        Error::AlreadyExists { message, .. } => ("ALREADY_EXISTS", message.clone(), None),
        Error::Conflict(message) => ("CONFLICT", message.clone(), None),
        Error::NotAllowed(message) => ("FORBIDDEN", message.clone(), None),
        Error::Unauthenticated(message) => ("UNAUTHENTICATED", message.clone(), None),
        Error::Remote {
            timed_out: true,
            message,
        } => ("REMOTE_TIMEOUT", message.clone(), None),
        Error::Remote { message, .. } => ("REMOTE_ERROR", message.clone(), None),
        Error::RateLimited { retry_after_secs } => (
            "RATE_LIMITED",
            format!("too many attempts; retry in {retry_after_secs} s"),
            None,
        ),
        Error::Unavailable(_) => {
            log_failure(&err);
            (
                "UNAVAILABLE",
                "a backing service is unavailable; retry shortly".into(),
                None,
            )
        }
        Error::Internal(_) => {
            log_failure(&err);
            ("INTERNAL_SERVER_ERROR", "internal error".into(), None)
        }
    };
    async_graphql::Error::new(message).extend_with(|_, ext| {
        ext.set("code", code);
        if let Some(field) = field {
            ext.set("field", field);
        }
    })
}

/// A loader's error, shared by the fields that waited on one batch.
pub fn to_graphql_shared(err: &std::sync::Arc<Error>) -> async_graphql::Error {
    let copy = match err.as_ref() {
        Error::Invalid(i) => Error::Invalid(i.clone()),
        Error::NotFound(e) => Error::NotFound(*e),
        Error::Unavailable(_) => Error::unavailable(err.to_string()),
        other => Error::internal(other.to_string()),
    };
    to_graphql(copy)
}

/// `result.gql()?` in resolvers.
pub trait GqlResult<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResult<T> for Result<T, Error> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(to_graphql)
    }
}

/// Turns "not found" into `None`, for queries such as `site(id)` that answer
/// null for what the caller cannot see.
pub fn optional<T>(result: Result<T, Error>) -> async_graphql::Result<Option<T>> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(Error::NotFound(_)) => Ok(None),
        Err(e) => Err(to_graphql(e)),
    }
}
