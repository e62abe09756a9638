//! People counting: readings as reported with their derived increments, the
//! 15-minute and daily rollups queries read, per-person events, occupancy, raw uploads,
//! device commands, and the device state the platform tracks.
//!
//! Times of readings, events and rollups are Unix seconds (events: µs) in
//! integer columns, so bucket arithmetic is the same SQL on both engines.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Devices {
    Table,
    DeliveredUploadInterval,
    DeliveredDataMode,
    ConfigDeliveredAt,
    Reported,
    ReportedAt,
    LastUploadAt,
    Occupancy,
    OccupancyAt,
}

#[derive(DeriveIden)]
enum Sites {
    Table,
    DefaultUploadInterval,
    DefaultDataMode,
}

/// The counters of a reading, in the order the domain's `Tally` holds them.
const COUNTERS: [&str; 12] = [
    "in",
    "out",
    "passby",
    "turnback",
    "in_adult",
    "out_adult",
    "passby_adult",
    "turnback_adult",
    "in_child",
    "out_child",
    "passby_child",
    "turnback_child",
];

fn counter_columns(prefix: &str) -> Vec<ColumnDef> {
    COUNTERS
        .iter()
        .map(|c| big_integer(Alias::new(format!("{prefix}{c}"))).default(0).take())
        .collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            integer_null(Devices::DeliveredUploadInterval),
            string_null(Devices::DeliveredDataMode),
            timestamp_with_time_zone_null(Devices::ConfigDeliveredAt),
            json_null(Devices::Reported),
            timestamp_with_time_zone_null(Devices::ReportedAt),
            timestamp_with_time_zone_null(Devices::LastUploadAt),
            integer_null(Devices::Occupancy),
            big_integer_null(Devices::OccupancyAt),
        ] {
            // SQLite adds one column per ALTER TABLE.
            manager
                .alter_table(Table::alter().table(Devices::Table).add_column(col).to_owned())
                .await?;
        }
        for col in [
            integer_null(Sites::DefaultUploadInterval),
            string_null(Sites::DefaultDataMode),
        ] {
            manager
                .alter_table(Table::alter().table(Sites::Table).add_column(col).to_owned())
                .await?;
        }

        // Every reading as reported (`r_*`), the increment the series rule gives
        // it (`i_*`, over `inc_from`..`inc_to`), and what it counts once history
        // is settled (`n_*`). Rollups are sums of `n_*`.
        let mut readings = Table::create();
        readings
            .table("count_readings")
            .col(big_pk_auto("id"))
            .col(uuid("tenant_id"))
            .col(uuid("site_id"))
            .col(uuid("device_id"))
            .col(small_integer("kind"))
            .col(big_integer("start_time"))
            .col(big_integer("end_time"))
            .col(big_integer_null("device_time"))
            .col(big_integer("received_at"))
            .col(boolean("has_split").default(false))
            .col(big_integer_null("total"))
            .col(big_integer_null("avg_stay_ms"))
            .col(big_integer("inc_from"))
            .col(big_integer("inc_to"))
            .col(big_integer_null("upload_id"));
        for prefix in ["r_", "i_", "n_"] {
            for col in counter_columns(prefix) {
                readings.col(col);
            }
        }
        manager.create_table(readings.to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name("count_readings_key")
                    .table("count_readings")
                    .col("device_id")
                    .col("kind")
                    .col("start_time")
                    .col("end_time")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("count_readings_span_idx")
                    .table("count_readings")
                    .col("device_id")
                    .col("inc_to")
                    .to_owned(),
            )
            .await?;

        // Footfall per device per 15-minute UTC bucket (`bucket` = its start),
        // under the site the readings were made for; and per local day of
        // that site's timezone (`day` = the instant of its local midnight).
        for (table, key) in [("rollup_15m", "bucket"), ("rollup_day", "day")] {
            let mut rollup = Table::create();
            rollup
                .table(table)
                .col(uuid("device_id"))
                .col(uuid("site_id"))
                .col(big_integer(key))
                .col(uuid("tenant_id"))
                .col(big_integer("stay_ms_sum").default(0))
                .col(big_integer("stay_people").default(0))
                .primary_key(Index::create().col("device_id").col("site_id").col(key));
            for col in counter_columns("") {
                rollup.col(col);
            }
            manager.create_table(rollup.to_owned()).await?;
            manager
                .create_index(
                    Index::create()
                        .name(format!("{table}_site_idx"))
                        .table(table)
                        .col("tenant_id")
                        .col("site_id")
                        .col(key)
                        .to_owned(),
                )
                .await?;
        }

        // The daily rows summed over a site's devices, so a year of a tenant's
        // daily footfall reads one row per site and day.
        let mut site_days = Table::create();
        site_days
            .table("rollup_site_day")
            .col(uuid("tenant_id"))
            .col(uuid("site_id"))
            .col(big_integer("day"))
            .col(big_integer("stay_ms_sum").default(0))
            .col(big_integer("stay_people").default(0))
            .primary_key(Index::create().col("tenant_id").col("site_id").col("day"));
        for col in counter_columns("") {
            site_days.col(col);
        }
        manager.create_table(site_days.to_owned()).await?;

        manager
            .create_table(
                Table::create()
                    .table("count_events")
                    .col(big_pk_auto("id"))
                    .col(uuid("tenant_id"))
                    .col(uuid("site_id"))
                    .col(uuid("device_id"))
                    .col(big_integer("event_id"))
                    .col(big_integer("at_us"))
                    .col(big_integer("event_type"))
                    .col(small_integer_null("direction"))
                    .col(boolean("child"))
                    .col(integer_null("height_cm"))
                    .col(big_integer_null("stay_ms"))
                    .col(big_integer("received_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("count_events_key")
                    .table("count_events")
                    .col("device_id")
                    .col("at_us")
                    .col("event_id")
                    .col("event_type")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("count_events_site_idx")
                    .table("count_events")
                    .col("tenant_id")
                    .col("site_id")
                    .col("at_us")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("stay_readings")
                    .col(big_pk_auto("id"))
                    .col(uuid("tenant_id"))
                    .col(uuid("site_id"))
                    .col(uuid("device_id"))
                    .col(big_integer("time"))
                    .col(big_integer("received_at"))
                    .col(integer("current_stay"))
                    .col(json_null("people"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("stay_readings_key")
                    .table("stay_readings")
                    .col("device_id")
                    .col("time")
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("raw_uploads")
                    .col(big_pk_auto("id"))
                    .col(uuid_null("tenant_id"))
                    .col(uuid_null("device_id"))
                    .col(string("sn"))
                    .col(string("endpoint"))
                    .col(big_integer("received_at"))
                    .col(small_integer("outcome"))
                    .col(text_null("message"))
                    .col(boolean("truncated"))
                    .col(text("body"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("raw_uploads_device_idx")
                    .table("raw_uploads")
                    .col("device_id")
                    .col("received_at")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("device_commands")
                    .col(pk_uuid("id"))
                    .col(uuid("tenant_id"))
                    .col(uuid("device_id"))
                    .col(string("kind"))
                    .col(big_integer("range_from"))
                    .col(big_integer("range_to"))
                    .col(string("status"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("delivered_at"))
                    .col(timestamp_with_time_zone_null("fulfilled_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("device_commands_device_fk")
                            .from("device_commands", "device_id")
                            .to("devices", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("device_commands_device_idx")
                    .table("device_commands")
                    .col("device_id")
                    .col("status")
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "device_commands",
            "raw_uploads",
            "stay_readings",
            "count_events",
            "rollup_site_day",
            "rollup_day",
            "rollup_15m",
            "count_readings",
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
