//! Integrations (PROTOCOLS.md §3, §4): analysis servers and edge boxes that
//! push to a secret per-integration URL, and the vehicles they count.
//!
//! An integration's token is stored as its SHA-256 (the token itself is
//! shown once, at creation or rotation). Vehicle counts are kept apart from
//! people: a row per counted report, idempotent per (device, dedupe).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("integrations")
                    .col(pk_uuid("id"))
                    .col(uuid("tenant_id"))
                    .col(uuid("site_id"))
                    .col(string("kind"))
                    .col(string_null("name"))
                    .col(string("token_hash"))
                    .col(string("token_hint"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("rotated_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("integrations_site_fk")
                            .from("integrations", "site_id")
                            .to("sites", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("integrations_token_key")
                    .table("integrations")
                    .col("token_hash")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("integrations_tenant_idx")
                    .table("integrations")
                    .col("tenant_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("vehicle_counts")
                    .col(big_pk_auto("id"))
                    .col(uuid("tenant_id"))
                    .col(uuid("site_id"))
                    .col(uuid("device_id"))
                    .col(string("direction"))
                    .col(big_integer("count"))
                    .col(integer_null("lane"))
                    .col(integer_null("vehicle_type"))
                    .col(string_null("plate"))
                    .col(big_integer("at_ms"))
                    .col(big_integer("received_at"))
                    .col(string("dedupe"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("vehicle_counts_key")
                    .table("vehicle_counts")
                    .col("device_id")
                    .col("dedupe")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("vehicle_counts_site_idx")
                    .table("vehicle_counts")
                    .col("tenant_id")
                    .col("site_id")
                    .col("at_ms")
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["vehicle_counts", "integrations"] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
