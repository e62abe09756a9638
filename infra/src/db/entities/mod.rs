//! sea-orm entities: the rows as stored. They never leave `infra`; repositories
//! turn them into `footfall_domain` types. The wide, append-heavy tables of
//! readings, rollups and events are written with sea-query statements instead
//! (see `readings.rs`), their columns generated from one list.

pub mod command;
pub mod device;
pub mod site;
pub mod tenant;
pub mod user;
