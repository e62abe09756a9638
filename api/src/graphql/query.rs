use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use super::camera::CameraEvent;
use super::error::{GqlResult, optional, to_graphql};
use super::types::{Device, Footfall, FootfallComparison, Granularity, Site, SitesFootfall, User};
use super::{caller, state};
use crate::services::{accounts, devices, footfall, sites};

pub struct Query;

#[Object]
impl Query {
    /// The caller.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let (user, _) = accounts::me(state(ctx), caller(ctx)?).await.gql()?;
        Ok(User(user))
    }

    /// The tenant's users.
    async fn users(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<User>> {
        let users = accounts::list_users(state(ctx), caller(ctx)?).await.gql()?;
        Ok(users.into_iter().map(User).collect())
    }

    /// The tenant's sites, by name.
    async fn sites(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Site>> {
        let list = sites::list(state(ctx), caller(ctx)?).await.gql()?;
        Ok(list.into_iter().map(Site).collect())
    }

    /// One site; null if the tenant has no site with this id.
    async fn site(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Site>> {
        Ok(optional(sites::get(state(ctx), caller(ctx)?, &id).await)?.map(Site))
    }

    /// The tenant's devices, or one site's.
    async fn devices(&self, ctx: &Context<'_>, site_id: Option<ID>) -> async_graphql::Result<Vec<Device>> {
        let list = devices::list(state(ctx), caller(ctx)?, site_id.as_ref().map(|s| s.as_str()))
            .await
            .gql()?;
        Ok(list.into_iter().map(Device).collect())
    }

    /// Footfall of a site in its timezone. `from` is inclusive and `to`
    /// exclusive, both snapped to bucket boundaries; empty buckets are zeros.
    #[graphql(complexity = 1000)]
    async fn footfall(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        granularity: Granularity,
    ) -> async_graphql::Result<Footfall> {
        let report = footfall::site_footfall(state(ctx), caller(ctx)?, &site_id, from, to, granularity.into())
            .await
            .gql()?;
        Ok(Footfall(report))
    }

    /// Footfall of several sites (all of the tenant's when `siteIds` is
    /// omitted), each in its own timezone, with the sum over them.
    #[graphql(complexity = 2000)]
    async fn footfall_by_sites(
        &self,
        ctx: &Context<'_>,
        site_ids: Option<Vec<ID>>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        granularity: Granularity,
    ) -> async_graphql::Result<SitesFootfall> {
        let ids: Option<Vec<String>> = site_ids.map(|ids| ids.into_iter().map(|id| id.0).collect());
        let reports = footfall::sites_footfall(state(ctx), caller(ctx)?, ids.as_deref(), from, to, granularity.into())
            .await
            .gql()?;
        Ok(reports.into())
    }

    /// A period against another (by default the one of the same length just
    /// before, e.g. this week against last week).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = 2000)]
    async fn compare_footfall(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        granularity: Granularity,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        previous_from: Option<DateTime<Utc>>,
        previous_to: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<FootfallComparison> {
        let previous = match (previous_from, previous_to) {
            (Some(f), Some(t)) => Some((f, t)),
            (None, None) => None,
            _ => {
                return Err(to_graphql(footfall_domain::Error::invalid(
                    "previousFrom",
                    "previousFrom and previousTo go together",
                )));
            }
        };
        let c = footfall::compare(
            state(ctx),
            caller(ctx)?,
            &site_id,
            granularity.into(),
            from,
            to,
            previous,
        )
        .await
        .gql()?;
        Ok(c.into())
    }

    /// One device; null if the tenant has no device with this id.
    async fn device(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Device>> {
        Ok(optional(devices::get(state(ctx), caller(ctx)?, &id).await)?.map(Device))
    }

    /// One event an IPC camera reported; null if absent or another tenant's.
    async fn camera_event(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<CameraEvent>> {
        super::camera::event(ctx, &id).await
    }

    /// The tenant's integrations (analysis servers, edge boxes), newest first.
    async fn integrations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<super::integrations::Integration>> {
        super::integrations::list(ctx).await
    }

    /// One integration; null if absent or another tenant's.
    async fn integration(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<super::integrations::Integration>> {
        super::integrations::one(ctx, &id).await
    }
}
