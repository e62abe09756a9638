//! The Footfall model and its rules. Pure: no IO, no framework types; every
//! rule here is unit-tested in microseconds.

pub mod account;
pub mod buckets;
pub mod camera;
pub mod command;
pub mod counting;
pub mod device;
pub mod digest;
mod error;
mod ids;
pub mod ingest;
pub mod integration;
pub mod localtime;
pub mod presence;
pub mod site;
pub mod tlv;

pub use account::{Email, Principal, Role, Tenant, User};
pub use command::{Command, CommandStatus};
pub use device::{ConfigChange, ConfigDefaults, DataMode, Device, DeviceConfig, DeviceState, Protocol, Sn};
pub use error::{Entity, Error, Invalid, Result};
pub use ids::{CommandId, DeviceId, IntegrationId, SiteId, TenantId, UserId};
pub use site::{Name, Site, Timezone};
