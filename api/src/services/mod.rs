//! What the tenant-facing API can do, shared by REST and GraphQL so both
//! validate, authorise and scope by tenant the same way. Inputs arrive as the
//! caller sent them and are parsed into domain types here.

pub mod accounts;
pub mod camera;
pub mod devices;
pub mod footfall;
pub mod ingest;
pub mod integrations;
pub mod live;
pub mod sites;
