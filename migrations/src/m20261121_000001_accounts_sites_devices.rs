//! Tenants, their users, sites and bound devices.
//!
//! Tenancy shows in the keys: a device references its site through
//! `(tenant_id, site_id)`, so the database itself refuses a device whose site
//! belongs to another tenant.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    TenantId,
    Email,
    PasswordHash,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sites {
    Table,
    Id,
    TenantId,
    Name,
    Timezone,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Devices {
    Table,
    Id,
    TenantId,
    SiteId,
    Sn,
    Protocol,
    Name,
    UploadInterval,
    DataMode,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .col(pk_uuid(Tenants::Id))
                    .col(string(Tenants::Name))
                    .col(timestamp_with_time_zone(Tenants::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(uuid(Users::TenantId))
                    .col(string(Users::Email))
                    .col(string(Users::PasswordHash))
                    .col(string(Users::Role))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("users_tenant_fk")
                            .from(Users::Table, Users::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Login is by email alone, so an email is unique across tenants.
        manager
            .create_index(
                Index::create()
                    .name("users_email_key")
                    .table(Users::Table)
                    .col(Users::Email)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("users_tenant_idx")
                    .table(Users::Table)
                    .col(Users::TenantId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sites::Table)
                    .col(pk_uuid(Sites::Id))
                    .col(uuid(Sites::TenantId))
                    .col(string(Sites::Name))
                    .col(string(Sites::Timezone))
                    .col(timestamp_with_time_zone(Sites::CreatedAt))
                    .col(timestamp_with_time_zone(Sites::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("sites_tenant_fk")
                            .from(Sites::Table, Sites::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Target of the devices' composite key; also serves the tenant's listing.
        manager
            .create_index(
                Index::create()
                    .name("sites_tenant_id_key")
                    .table(Sites::Table)
                    .col(Sites::TenantId)
                    .col(Sites::Id)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Devices::Table)
                    .col(pk_uuid(Devices::Id))
                    .col(uuid(Devices::TenantId))
                    .col(uuid(Devices::SiteId))
                    .col(string(Devices::Sn))
                    .col(string(Devices::Protocol))
                    .col(string_null(Devices::Name))
                    .col(integer(Devices::UploadInterval))
                    .col(string(Devices::DataMode))
                    .col(timestamp_with_time_zone(Devices::CreatedAt))
                    .col(timestamp_with_time_zone(Devices::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("devices_site_fk")
                            .from(Devices::Table, (Devices::TenantId, Devices::SiteId))
                            .to(Sites::Table, (Sites::TenantId, Sites::Id))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // A serial number is bound at most once, whichever tenant holds it.
        manager
            .create_index(
                Index::create()
                    .name("devices_sn_key")
                    .table(Devices::Table)
                    .col(Devices::Sn)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("devices_tenant_site_idx")
                    .table(Devices::Table)
                    .col(Devices::TenantId)
                    .col(Devices::SiteId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Devices::Table.into_iden(),
            Sites::Table.into_iden(),
            Users::Table.into_iden(),
            Tenants::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
