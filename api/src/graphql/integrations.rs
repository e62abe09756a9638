//! Integrations in GraphQL: the same services as REST `/integrations`.

use async_graphql::{Context, Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};
use footfall_domain::integration::{Integration as DomainIntegration, IntegrationKind as DomainKind};

use super::error::GqlResult;
use super::{caller, state};
use crate::services::integrations::{self, Issued};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum IntegrationKind {
    /// A video traffic analysis server.
    AnalysisServer,
    /// Edge boxes posting skill pushes.
    EdgeBox,
}

impl From<DomainKind> for IntegrationKind {
    fn from(k: DomainKind) -> Self {
        match k {
            DomainKind::AnalysisServer => IntegrationKind::AnalysisServer,
            DomainKind::EdgeBox => IntegrationKind::EdgeBox,
        }
    }
}

impl From<IntegrationKind> for DomainKind {
    fn from(k: IntegrationKind) -> Self {
        match k {
            IntegrationKind::AnalysisServer => DomainKind::AnalysisServer,
            IntegrationKind::EdgeBox => DomainKind::EdgeBox,
        }
    }
}

/// A sender without a device serial number, pushing to a secret URL.
#[derive(SimpleObject)]
pub struct Integration {
    pub id: ID,
    pub kind: IntegrationKind,
    pub site_id: ID,
    pub name: Option<String>,
    /// The token's first characters, to tell tokens apart.
    pub token_hint: String,
    /// False once revoked.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&DomainIntegration> for Integration {
    fn from(i: &DomainIntegration) -> Self {
        Integration {
            id: ID(i.id.to_string()),
            kind: i.kind.into(),
            site_id: ID(i.site.to_string()),
            name: i.name.clone(),
            token_hint: i.token_hint.clone(),
            active: !i.is_revoked(),
            created_at: i.created_at,
            rotated_at: i.rotated_at,
            revoked_at: i.revoked_at,
        }
    }
}

/// An integration with the token just issued for it: shown this once.
#[derive(SimpleObject)]
pub struct IssuedIntegration {
    pub integration: Integration,
    pub token: String,
    /// Where the sender posts (prefix the server's public address).
    pub ingest_path: String,
}

impl From<&Issued> for IssuedIntegration {
    fn from(i: &Issued) -> Self {
        IssuedIntegration {
            integration: Integration::from(&i.integration),
            token: i.token.as_str().to_string(),
            ingest_path: i.ingest_path(),
        }
    }
}

pub(super) async fn list(ctx: &Context<'_>) -> async_graphql::Result<Vec<Integration>> {
    let list = integrations::list(state(ctx), caller(ctx)?).await.gql()?;
    Ok(list.iter().map(Integration::from).collect())
}

pub(super) async fn one(ctx: &Context<'_>, id: &str) -> async_graphql::Result<Option<Integration>> {
    let found = super::error::optional(integrations::get(state(ctx), caller(ctx)?, id).await)?;
    Ok(found.as_ref().map(Integration::from))
}

pub(super) async fn create(
    ctx: &Context<'_>,
    kind: IntegrationKind,
    site_id: &str,
    name: Option<&str>,
) -> async_graphql::Result<IssuedIntegration> {
    let kind = DomainKind::from(kind);
    let issued = integrations::create(state(ctx), caller(ctx)?, kind.as_str(), site_id, name)
        .await
        .gql()?;
    Ok(IssuedIntegration::from(&issued))
}

pub(super) async fn rotate(ctx: &Context<'_>, id: &str) -> async_graphql::Result<IssuedIntegration> {
    let issued = integrations::rotate(state(ctx), caller(ctx)?, id).await.gql()?;
    Ok(IssuedIntegration::from(&issued))
}

pub(super) async fn revoke(ctx: &Context<'_>, id: &str) -> async_graphql::Result<Integration> {
    let revoked = integrations::revoke(state(ctx), caller(ctx)?, id).await.gql()?;
    Ok(Integration::from(&revoked))
}

/// One business type's receiving interface on the analysis server.
#[derive(SimpleObject)]
pub struct RegisteredInterface {
    /// 11, 21, 22, 41 or 52.
    pub business_type: i64,
    pub remote_id: Option<i64>,
    /// `added`, `updated` or `unchanged`.
    pub action: String,
    pub url: String,
}

/// What registering on the analysis server did.
#[derive(SimpleObject)]
pub struct Registration {
    pub integration: Integration,
    /// Set when this registration issued a new token (shown once).
    pub token: Option<String>,
    pub ingest_path: Option<String>,
    pub registered: Vec<RegisteredInterface>,
}

/// Where and how to register (see REST `POST /integrations/{id}/register`).
#[derive(async_graphql::InputObject)]
pub struct RegisterInput {
    pub base_url: String,
    pub username: String,
    #[graphql(secret)]
    pub password: String,
    pub public_url: Option<String>,
    #[graphql(secret)]
    pub token: Option<String>,
    pub business_types: Option<Vec<i64>>,
    pub upload_period: Option<i64>,
    pub upload_images: Option<bool>,
}

pub(super) async fn register(ctx: &Context<'_>, id: &str, input: RegisterInput) -> async_graphql::Result<Registration> {
    let req = integrations::RemoteRegistration {
        base_url: &input.base_url,
        username: &input.username,
        password: &input.password,
        public_url: input.public_url.as_deref(),
        token: input.token.as_deref(),
        business_types: input.business_types.clone(),
        upload_period: input.upload_period,
        upload_images: input.upload_images,
        ..Default::default()
    };
    let done = integrations::register(state(ctx), caller(ctx)?, id, req).await.gql()?;
    Ok(Registration {
        integration: Integration::from(&done.integration),
        token: done.issued.as_ref().map(|i| i.token.as_str().to_string()),
        ingest_path: done.issued.as_ref().map(Issued::ingest_path),
        registered: done
            .registered
            .iter()
            .map(|r| RegisteredInterface {
                business_type: r.business_type.code(),
                remote_id: r.remote_id,
                action: r.action.to_string(),
                url: r.url.clone(),
            })
            .collect(),
    })
}
