use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "device_commands")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub device_id: Uuid,
    pub kind: String,
    pub range_from: i64,
    pub range_to: i64,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
    pub fulfilled_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
