//! Integrations (decision 014): analysis servers and edge boxes pushing to a
//! secret URL. Every tenant-facing method takes the caller's tenant; the
//! token lookup is for ingest only, where the token is the credential.

use chrono::{DateTime, Utc};
use footfall_domain::integration::{IngestToken, Integration, IntegrationId, IntegrationKind};
use footfall_domain::{Entity, Error, Result, SiteId, TenantId};
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, QueryResult};
use uuid::Uuid;

use crate::db::{Db, corrupt, from_db, is_foreign_key_violation, now};

pub struct Integrations<'a> {
    db: &'a Db,
}

impl Db {
    pub fn integrations(&self) -> Integrations<'_> {
        Integrations { db: self }
    }
}

const COLUMNS: [&str; 9] = [
    "id",
    "tenant_id",
    "site_id",
    "kind",
    "name",
    "token_hint",
    "created_at",
    "rotated_at",
    "revoked_at",
];

fn select() -> SelectStatement {
    Query::select().columns(COLUMNS).from("integrations").to_owned()
}

fn to_integration(r: &QueryResult) -> Result<Integration> {
    let kind: String = r.try_get("", "kind").map_err(from_db)?;
    Ok(Integration {
        id: IntegrationId::from_uuid(r.try_get::<Uuid>("", "id").map_err(from_db)?),
        tenant: TenantId::from_uuid(r.try_get::<Uuid>("", "tenant_id").map_err(from_db)?),
        site: SiteId::from_uuid(r.try_get::<Uuid>("", "site_id").map_err(from_db)?),
        kind: IntegrationKind::parse(&kind).map_err(|e| corrupt("integration kind", e))?,
        name: r.try_get("", "name").map_err(from_db)?,
        token_hint: r.try_get("", "token_hint").map_err(from_db)?,
        created_at: r.try_get::<DateTime<Utc>>("", "created_at").map_err(from_db)?,
        rotated_at: r.try_get::<Option<DateTime<Utc>>>("", "rotated_at").map_err(from_db)?,
        revoked_at: r.try_get::<Option<DateTime<Utc>>>("", "revoked_at").map_err(from_db)?,
    })
}

impl Integrations<'_> {
    /// Creates an integration at one of the tenant's sites.
    pub async fn create(
        &self,
        tenant: TenantId,
        site: SiteId,
        kind: IntegrationKind,
        name: Option<String>,
        token: &IngestToken,
    ) -> Result<Integration> {
        let (_writing, txn) = self.db.begin_write().await?;
        let owned = Query::select()
            .column("id")
            .from("sites")
            .and_where(Expr::col("id").eq(site.as_uuid()))
            .and_where(Expr::col("tenant_id").eq(tenant.as_uuid()))
            .to_owned();
        if txn.query_one(&owned).await.map_err(from_db)?.is_none() {
            return Err(Error::NotFound(Entity::Site));
        }
        let id = Uuid::now_v7();
        let stmt = Query::insert()
            .into_table("integrations")
            .columns([
                "id",
                "tenant_id",
                "site_id",
                "kind",
                "name",
                "token_hash",
                "token_hint",
                "created_at",
            ])
            .values([
                id.into(),
                tenant.as_uuid().into(),
                site.as_uuid().into(),
                kind.as_str().into(),
                name.into(),
                token.hash().into(),
                token.hint().into(),
                now().into(),
            ])
            .map_err(|e| corrupt("integration statement", e))?
            .to_owned();
        txn.execute(&stmt).await.map_err(|e| {
            if is_foreign_key_violation(&e) {
                Error::NotFound(Entity::Site)
            } else {
                from_db(e)
            }
        })?;
        let row = txn
            .query_one(&select().and_where(Expr::col("id").eq(id)).to_owned())
            .await
            .map_err(from_db)?
            .ok_or_else(|| Error::internal("integration vanished after insert"))?;
        let integration = to_integration(&row)?;
        txn.commit().await.map_err(from_db)?;
        Ok(integration)
    }

    /// The tenant's integrations, newest first.
    pub async fn list(&self, tenant: TenantId) -> Result<Vec<Integration>> {
        let q = select()
            .and_where(Expr::col("tenant_id").eq(tenant.as_uuid()))
            .order_by("created_at", Order::Desc)
            .order_by("id", Order::Desc)
            .to_owned();
        let rows = self.db.conn().query_all(&q).await.map_err(from_db)?;
        rows.iter().map(to_integration).collect()
    }

    pub async fn get(&self, tenant: TenantId, id: IntegrationId) -> Result<Integration> {
        let q = select()
            .and_where(Expr::col("id").eq(id.as_uuid()))
            .and_where(Expr::col("tenant_id").eq(tenant.as_uuid()))
            .to_owned();
        let row = self.db.conn().query_one(&q).await.map_err(from_db)?;
        row.as_ref()
            .map(to_integration)
            .transpose()?
            .ok_or(Error::NotFound(Entity::Integration))
    }

    /// Replaces the token; the old one stops working at once. A revoked
    /// integration stays revoked.
    pub async fn rotate(&self, tenant: TenantId, id: IntegrationId, token: &IngestToken) -> Result<Integration> {
        self.update(
            tenant,
            id,
            [
                ("token_hash", token.hash().into()),
                ("token_hint", token.hint().into()),
                ("rotated_at", now().into()),
            ],
        )
        .await
    }

    /// Revokes the integration: its token is refused from now on.
    pub async fn revoke(&self, tenant: TenantId, id: IntegrationId) -> Result<Integration> {
        self.update(tenant, id, [("revoked_at", now().into())]).await
    }

    async fn update<const N: usize>(
        &self,
        tenant: TenantId,
        id: IntegrationId,
        values: [(&'static str, sea_orm::sea_query::SimpleExpr); N],
    ) -> Result<Integration> {
        let (_writing, txn) = self.db.begin_write().await?;
        let stmt = Query::update()
            .table("integrations")
            .values(values)
            .and_where(Expr::col("id").eq(id.as_uuid()))
            .and_where(Expr::col("tenant_id").eq(tenant.as_uuid()))
            .and_where(Expr::col("revoked_at").is_null())
            .to_owned();
        let changed = txn.execute(&stmt).await.map_err(from_db)?.rows_affected();
        let q = select()
            .and_where(Expr::col("id").eq(id.as_uuid()))
            .and_where(Expr::col("tenant_id").eq(tenant.as_uuid()))
            .to_owned();
        let row = txn.query_one(&q).await.map_err(from_db)?;
        let integration = row
            .as_ref()
            .map(to_integration)
            .transpose()?
            .ok_or(Error::NotFound(Entity::Integration))?;
        if changed == 0 {
            return Err(Error::Conflict("the integration is revoked".into()));
        }
        txn.commit().await.map_err(from_db)?;
        Ok(integration)
    }

    /// The integration a token names, revoked or not. Ingest only: the token
    /// is the credential, so the lookup is by its hash, without a tenant.
    pub async fn by_token(&self, token: &IngestToken) -> Result<Option<Integration>> {
        let q = select().and_where(Expr::col("token_hash").eq(token.hash())).to_owned();
        let row = self.db.conn().query_one(&q).await.map_err(from_db)?;
        row.as_ref().map(to_integration).transpose()
    }
}
