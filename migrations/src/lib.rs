//! Schema migrations, applied at start-up (unless disabled) and by
//! `footfall migrate`. File names are `mYYYYMMDD_HHMMSS_name.rs`; a migration
//! that has landed is never edited, a new one is added instead.

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_accounts_sites_devices;
mod m20261121_000002_people_counting;
mod m20261121_000003_ipc_cameras;
mod m20261121_000004_integrations;
mod m20261121_000005_last_seen;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_accounts_sites_devices::Migration),
            Box::new(m20261121_000002_people_counting::Migration),
            Box::new(m20261121_000003_ipc_cameras::Migration),
            Box::new(m20261121_000004_integrations::Migration),
            Box::new(m20261121_000005_last_seen::Migration),
        ]
    }
}
