//! Commands for devices (history requests), scoped by tenant.

use chrono::{DateTime, SubsecRound, Utc};
use footfall_domain::command::COMMAND_TTL;
use footfall_domain::{Command, CommandId, CommandStatus, DeviceId, Entity, Error, Result, TenantId};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::db::entities::command;
use crate::db::{Db, corrupt, from_db, now};

const HISTORY: &str = "history";

pub struct Commands<'a> {
    db: &'a Db,
}

impl Db {
    pub fn commands(&self) -> Commands<'_> {
        Commands { db: self }
    }
}

impl Commands<'_> {
    /// Asks `device` for its history over `[from, to]` (Unix seconds, checked
    /// by the caller).
    pub async fn request_history(&self, tenant: TenantId, device: DeviceId, from: i64, to: i64) -> Result<Command> {
        let _writing = self.db.write_guard().await;
        let created_at = now();
        let model = command::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.as_uuid()),
            device_id: Set(device.as_uuid()),
            kind: Set(HISTORY.into()),
            range_from: Set(from),
            range_to: Set(to),
            status: Set(CommandStatus::Pending.as_str().into()),
            created_at: Set(created_at),
            expires_at: Set(created_at + COMMAND_TTL),
            delivered_at: Set(None),
            fulfilled_at: Set(None),
        }
        .insert(self.db.conn())
        .await
        .map_err(from_db)?;
        to_command(model)
    }

    /// The device's commands, newest first.
    pub async fn list(&self, tenant: TenantId, device: DeviceId) -> Result<Vec<Command>> {
        command::Entity::find()
            .filter(command::Column::TenantId.eq(tenant.as_uuid()))
            .filter(command::Column::DeviceId.eq(device.as_uuid()))
            .order_by_desc(command::Column::CreatedAt)
            .all(self.db.conn())
            .await
            .map_err(from_db)?
            .into_iter()
            .map(to_command)
            .collect()
    }

    pub async fn get(&self, tenant: TenantId, id: CommandId) -> Result<Command> {
        command::Entity::find_by_id(id.as_uuid())
            .filter(command::Column::TenantId.eq(tenant.as_uuid()))
            .one(self.db.conn())
            .await
            .map_err(from_db)?
            .ok_or(Error::NotFound(Entity::Command))
            .and_then(to_command)
    }

    /// The oldest command still to be sent to the device. Commands found past
    /// their lifetime are marked expired on the way.
    pub async fn oldest_open(&self, tenant: TenantId, device: DeviceId) -> Result<Option<Command>> {
        let open = command::Entity::find()
            .filter(command::Column::TenantId.eq(tenant.as_uuid()))
            .filter(command::Column::DeviceId.eq(device.as_uuid()))
            .filter(command::Column::Status.is_in([CommandStatus::Pending.as_str(), CommandStatus::Delivered.as_str()]))
            .order_by_asc(command::Column::CreatedAt)
            .all(self.db.conn())
            .await
            .map_err(from_db)?;
        let at = Utc::now();
        for model in open {
            let command = to_command(model)?;
            if command.is_open_at(at) {
                return Ok(Some(command));
            }
            self.expire(command.id).await?;
        }
        Ok(None)
    }

    /// Records that the command went out in a heartbeat answer.
    pub async fn mark_delivered(&self, id: CommandId, at: DateTime<Utc>) -> Result<()> {
        let _writing = self.db.write_guard().await;
        let at = at.trunc_subsecs(6);
        command::Entity::update_many()
            .col_expr(command::Column::Status, Expr::value(CommandStatus::Delivered.as_str()))
            .col_expr(command::Column::DeliveredAt, Expr::value(at))
            .filter(command::Column::Id.eq(id.as_uuid()))
            .filter(command::Column::Status.eq(CommandStatus::Pending.as_str()))
            .exec(self.db.conn())
            .await
            .map_err(from_db)?;
        Ok(())
    }

    async fn expire(&self, id: CommandId) -> Result<()> {
        let _writing = self.db.write_guard().await;
        command::Entity::update_many()
            .col_expr(command::Column::Status, Expr::value(CommandStatus::Expired.as_str()))
            .filter(command::Column::Id.eq(id.as_uuid()))
            .exec(self.db.conn())
            .await
            .map_err(from_db)?;
        Ok(())
    }
}

/// Marks the open history commands of `device` that history readings over
/// `[from, to]` answer as fulfilled; returns how many.
pub(crate) async fn fulfil_history(conn: &impl ConnectionTrait, device: Uuid, from: i64, to: i64) -> Result<u64> {
    let answered = command::Entity::find()
        .filter(command::Column::DeviceId.eq(device))
        .filter(command::Column::Status.is_in([CommandStatus::Pending.as_str(), CommandStatus::Delivered.as_str()]))
        .all(conn)
        .await
        .map_err(from_db)?
        .into_iter()
        .map(to_command)
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .filter(|c| c.answered_by(from, to))
        .map(|c| c.id.as_uuid())
        .collect::<Vec<_>>();
    if answered.is_empty() {
        return Ok(0);
    }
    let result = command::Entity::update_many()
        .col_expr(command::Column::Status, Expr::value(CommandStatus::Fulfilled.as_str()))
        .col_expr(command::Column::FulfilledAt, Expr::value(now()))
        .filter(command::Column::Id.is_in(answered))
        .exec(conn)
        .await
        .map_err(from_db)?;
    Ok(result.rows_affected)
}

fn to_command(m: command::Model) -> Result<Command> {
    Ok(Command {
        id: CommandId::from_uuid(m.id),
        tenant: TenantId::from_uuid(m.tenant_id),
        device: DeviceId::from_uuid(m.device_id),
        from: m.range_from,
        to: m.range_to,
        status: CommandStatus::parse(&m.status).ok_or_else(|| corrupt("command status", &m.status))?,
        created_at: m.created_at,
        expires_at: m.expires_at,
        delivered_at: m.delivered_at,
        fulfilled_at: m.fulfilled_at,
    })
}
