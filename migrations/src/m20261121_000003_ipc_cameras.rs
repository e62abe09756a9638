//! IPC cameras (PROTOCOLS.md §2): the keepalive period in device and site
//! configuration, Digest credentials (HA1 hashes, never passwords), the
//! events cameras report (alarms, events, snapshots, TLV faces and text) and
//! their sensor readings (temperatures, modbus registers).
//!
//! Event and reading times are Unix milliseconds; images live in the blob
//! store and rows keep only its key.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Devices {
    Table,
    KeepInterval,
    DeliveredKeepInterval,
}

#[derive(DeriveIden)]
enum Sites {
    Table,
    DefaultKeepInterval,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            integer(Devices::KeepInterval).default(60).take(),
            integer_null(Devices::DeliveredKeepInterval),
        ] {
            manager
                .alter_table(Table::alter().table(Devices::Table).add_column(col).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Sites::Table)
                    .add_column(integer_null(Sites::DefaultKeepInterval))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("device_credentials")
                    .col(pk_uuid("device_id"))
                    .col(uuid("tenant_id"))
                    .col(string("username"))
                    .col(string("realm"))
                    .col(string("ha1_md5"))
                    .col(string("ha1_sha256"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("device_credentials_device_fk")
                            .from("device_credentials", "device_id")
                            .to("devices", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // `dedupe` is what makes a retransmission the same event: the
        // camera's alarm id where it sends one, else a hash of the report.
        manager
            .create_table(
                Table::create()
                    .table("camera_events")
                    .col(big_pk_auto("id"))
                    .col(uuid("tenant_id"))
                    .col(uuid("site_id"))
                    .col(uuid("device_id"))
                    .col(string("source"))
                    .col(string("kind"))
                    .col(string_null("name"))
                    .col(string_null("status"))
                    .col(integer_null("channel"))
                    .col(big_integer("at_ms"))
                    .col(string_null("local_time"))
                    .col(big_integer("received_at"))
                    .col(json_null("attributes"))
                    .col(string_null("image_key"))
                    .col(string("dedupe"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("camera_events_key")
                    .table("camera_events")
                    .col("device_id")
                    .col("dedupe")
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, scope) in [
            ("camera_events_device_idx", "device_id"),
            ("camera_events_site_idx", "site_id"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("camera_events")
                        .col("tenant_id")
                        .col(scope)
                        .col("at_ms")
                        .col("id")
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("sensor_readings")
                    .col(big_pk_auto("id"))
                    .col(uuid("tenant_id"))
                    .col(uuid("site_id"))
                    .col(uuid("device_id"))
                    .col(string("kind"))
                    .col(string("key"))
                    .col(string_null("name"))
                    .col(integer_null("channel"))
                    .col(double("value"))
                    .col(double_null("threshold"))
                    .col(integer_null("alarm"))
                    .col(big_integer("at_ms"))
                    .col(big_integer("received_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sensor_readings_key")
                    .table("sensor_readings")
                    .col("device_id")
                    .col("kind")
                    .col("key")
                    .col("at_ms")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sensor_readings_tenant_idx")
                    .table("sensor_readings")
                    .col("tenant_id")
                    .col("device_id")
                    .col("at_ms")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["sensor_readings", "camera_events", "device_credentials"] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Sites::Table)
                    .drop_column(Sites::DefaultKeepInterval)
                    .to_owned(),
            )
            .await?;
        for col in [Devices::DeliveredKeepInterval, Devices::KeepInterval] {
            manager
                .alter_table(Table::alter().table(Devices::Table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
