//! Tenants and their users.

use footfall_domain::{Email, Entity, Error, Name, Result, Role, Tenant, TenantId, User, UserId};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::db::entities::{tenant, user};
use crate::db::{Db, corrupt, from_db, is_unique_violation, now};

/// A user together with the stored password hash, for login only.
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

pub struct Accounts<'a> {
    db: &'a Db,
}

impl Db {
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts { db: self }
    }
}

fn email_taken(email: &Email) -> Error {
    Error::AlreadyExists {
        entity: Entity::User,
        message: format!("a user with email {email} already exists"),
    }
}

impl Accounts<'_> {
    /// Creates a tenant and its owner together: both or neither.
    pub async fn sign_up(&self, tenant_name: Name, email: Email, password_hash: String) -> Result<(Tenant, User)> {
        let now = now();
        let (_writing, txn) = self.db.begin_write().await?;
        let tenant = tenant::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(tenant_name.into_string()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(from_db)?;
        let owner = user::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.id),
            email: Set(email.as_str().to_string()),
            password_hash: Set(password_hash),
            role: Set(Role::Owner.as_str().to_string()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                email_taken(&email)
            } else {
                from_db(e)
            }
        })?;
        txn.commit().await.map_err(from_db)?;
        Ok((to_tenant(tenant)?, to_user(owner)?))
    }

    /// Looks a user up by login name, across tenants: login is the one place
    /// where the tenant is not yet known.
    pub async fn credentials(&self, email: &Email) -> Result<Option<Credentials>> {
        let found = user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(self.db.conn())
            .await
            .map_err(from_db)?;
        found
            .map(|m| {
                let password_hash = m.password_hash.clone();
                Ok(Credentials {
                    user: to_user(m)?,
                    password_hash,
                })
            })
            .transpose()
    }

    pub async fn tenant(&self, tenant: TenantId) -> Result<Tenant> {
        tenant::Entity::find_by_id(tenant.as_uuid())
            .one(self.db.conn())
            .await
            .map_err(from_db)?
            .ok_or(Error::NotFound(Entity::Tenant))
            .and_then(to_tenant)
    }

    pub async fn create_user(&self, tenant: TenantId, email: Email, role: Role, password_hash: String) -> Result<User> {
        let _writing = self.db.write_guard().await;
        let model = user::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.as_uuid()),
            email: Set(email.as_str().to_string()),
            password_hash: Set(password_hash),
            role: Set(role.as_str().to_string()),
            created_at: Set(now()),
        }
        .insert(self.db.conn())
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                email_taken(&email)
            } else {
                from_db(e)
            }
        })?;
        to_user(model)
    }

    pub async fn users(&self, tenant: TenantId) -> Result<Vec<User>> {
        user::Entity::find()
            .filter(user::Column::TenantId.eq(tenant.as_uuid()))
            .order_by_asc(user::Column::CreatedAt)
            .all(self.db.conn())
            .await
            .map_err(from_db)?
            .into_iter()
            .map(to_user)
            .collect()
    }

    pub async fn user(&self, tenant: TenantId, id: UserId) -> Result<User> {
        user::Entity::find_by_id(id.as_uuid())
            .filter(user::Column::TenantId.eq(tenant.as_uuid()))
            .one(self.db.conn())
            .await
            .map_err(from_db)?
            .ok_or(Error::NotFound(Entity::User))
            .and_then(to_user)
    }

    /// Removes a user; the owner cannot be removed.
    pub async fn delete_user(&self, tenant: TenantId, id: UserId) -> Result<()> {
        let _writing = self.db.write_guard().await;
        let user = self.user(tenant, id).await?;
        if user.role == Role::Owner {
            return Err(Error::Conflict("the tenant's owner cannot be removed".into()));
        }
        user::Entity::delete_many()
            .filter(user::Column::Id.eq(id.as_uuid()))
            .filter(user::Column::TenantId.eq(tenant.as_uuid()))
            .exec(self.db.conn())
            .await
            .map_err(from_db)?;
        Ok(())
    }
}

fn to_tenant(m: tenant::Model) -> Result<Tenant> {
    Ok(Tenant {
        id: TenantId::from_uuid(m.id),
        name: Name::parse("name", &m.name).map_err(|e| corrupt("tenant name", e))?,
        created_at: m.created_at,
    })
}

fn to_user(m: user::Model) -> Result<User> {
    Ok(User {
        id: UserId::from_uuid(m.id),
        tenant: TenantId::from_uuid(m.tenant_id),
        email: Email::parse(&m.email).map_err(|e| corrupt("email", e))?,
        role: Role::parse(&m.role).map_err(|e| corrupt("role", e))?,
        created_at: m.created_at,
    })
}
