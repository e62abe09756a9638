//! Identifier newtypes. A `SiteId` cannot be passed where a `DeviceId` is
//! expected, and an id from a request is parsed once, at the edge.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $entity:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub const fn from_uuid(id: Uuid) -> Self {
                $name(id)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// Parses an id as a client sent it. An id that does not parse
            /// cannot name anything, so it is reported as not found.
            pub fn parse(s: &str) -> Result<Self, crate::Error> {
                Uuid::parse_str(s.trim())
                    .map($name)
                    .map_err(|_| crate::Error::NotFound($entity))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = crate::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

id_type!(
    /// A customer organisation; every row it owns carries this id.
    TenantId,
    crate::Entity::Tenant
);
id_type!(UserId, crate::Entity::User);
id_type!(SiteId, crate::Entity::Site);
id_type!(DeviceId, crate::Entity::Device);
id_type!(CommandId, crate::Entity::Command);
id_type!(IntegrationId, crate::Entity::Integration);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_uuids_with_surrounding_space() {
        let id = SiteId::parse(" 0192f0c1-2d3e-7a4b-8c5d-6e7f8091a2b3 ").unwrap();
        assert_eq!(id.to_string(), "0192f0c1-2d3e-7a4b-8c5d-6e7f8091a2b3");
    }

    #[test]
    fn an_unparseable_id_is_not_found() {
        for bad in ["", "42", "not-a-uuid", "0192f0c1-2d3e-7a4b-8c5d"] {
            match DeviceId::parse(bad) {
                Err(crate::Error::NotFound(crate::Entity::Device)) => {}
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }
}
