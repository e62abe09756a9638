use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "devices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub site_id: Uuid,
    pub sn: String,
    pub protocol: String,
    pub name: Option<String>,
    pub upload_interval: i32,
    pub data_mode: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub delivered_upload_interval: Option<i32>,
    pub delivered_data_mode: Option<String>,
    pub config_delivered_at: Option<DateTimeUtc>,
    pub reported: Option<Json>,
    pub reported_at: Option<DateTimeUtc>,
    pub last_upload_at: Option<DateTimeUtc>,
    pub occupancy: Option<i32>,
    pub occupancy_at: Option<i64>,
    pub keep_interval: i32,
    pub delivered_keep_interval: Option<i32>,
    pub last_seen_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
