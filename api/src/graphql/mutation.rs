use async_graphql::{Context, ID, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use footfall_domain::DataMode as DomainDataMode;

use super::error::GqlResult;
use super::types::{DataMode, Device, DeviceCommand, Session, Site, User};
use super::{caller, client_addr, state};
use crate::services::{accounts, devices, sites};

pub struct Mutation;

#[Object]
impl Mutation {
    /// Create a tenant and its owner; answers with the owner's access token.
    async fn signup(
        &self,
        ctx: &Context<'_>,
        tenant_name: String,
        email: String,
        password: String,
    ) -> async_graphql::Result<Session> {
        let session = accounts::sign_up(state(ctx), client_addr(ctx), &tenant_name, &email, &password)
            .await
            .gql()?;
        Ok(session.into())
    }

    /// Exchange email and password for an access token.
    async fn login(&self, ctx: &Context<'_>, email: String, password: String) -> async_graphql::Result<Session> {
        Ok(accounts::log_in(state(ctx), &email, &password).await.gql()?.into())
    }

    /// Add a user (role `admin` or `viewer`) to the caller's tenant.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
        role: String,
    ) -> async_graphql::Result<User> {
        let user = accounts::create_user(state(ctx), caller(ctx)?, &email, &password, &role)
            .await
            .gql()?;
        Ok(User(user))
    }

    /// Remove a user (not the owner, not yourself). Returns the removed id.
    async fn delete_user(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        accounts::delete_user(state(ctx), caller(ctx)?, &id).await.gql()?;
        Ok(id)
    }

    async fn create_site(&self, ctx: &Context<'_>, name: String, timezone: String) -> async_graphql::Result<Site> {
        Ok(Site(
            sites::create(state(ctx), caller(ctx)?, &name, &timezone).await.gql()?,
        ))
    }

    /// Rename a site or change its timezone.
    async fn update_site(
        &self,
        ctx: &Context<'_>,
        id: ID,
        name: Option<String>,
        timezone: Option<String>,
    ) -> async_graphql::Result<Site> {
        let site = sites::update(state(ctx), caller(ctx)?, &id, name.as_deref(), timezone.as_deref())
            .await
            .gql()?;
        Ok(Site(site))
    }

    /// Delete a site that has no devices. Returns the deleted id.
    async fn delete_site(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        sites::delete(state(ctx), caller(ctx)?, &id).await.gql()?;
        Ok(id)
    }

    /// Bind a device to a site by serial number. Fails with ALREADY_EXISTS when
    /// the serial number is bound anywhere. IPC cameras (`protocol: "ipc"`)
    /// need the Digest `username` and `password` configured on the camera.
    #[allow(clippy::too_many_arguments)]
    async fn bind_device(
        &self,
        ctx: &Context<'_>,
        sn: String,
        site_id: ID,
        protocol: String,
        name: Option<String>,
        username: Option<String>,
        #[graphql(secret)] password: Option<String>,
    ) -> async_graphql::Result<Device> {
        let binding = devices::Binding {
            sn: &sn,
            site: &site_id,
            protocol: &protocol,
            name: name.as_deref(),
            username: username.as_deref(),
            password: password.as_deref(),
        };
        let device = devices::bind(state(ctx), caller(ctx)?, binding).await.gql()?;
        Ok(Device(device))
    }

    /// Create an integration: an analysis server or edge boxes pushing to a
    /// secret URL. The answer carries the token and ingest path, shown once.
    async fn create_integration(
        &self,
        ctx: &Context<'_>,
        kind: super::integrations::IntegrationKind,
        site_id: ID,
        name: Option<String>,
    ) -> async_graphql::Result<super::integrations::IssuedIntegration> {
        super::integrations::create(ctx, kind, &site_id, name.as_deref()).await
    }

    /// Issue a new token for an integration; the old one is refused from now on.
    async fn rotate_integration_token(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<super::integrations::IssuedIntegration> {
        super::integrations::rotate(ctx, &id).await
    }

    /// Register an analysis-server integration on the tenant's analysis
    /// server (its API at `baseUrl`): one receiving interface per business
    /// type pointing at this integration. Remote failures are errors with
    /// code REMOTE_ERROR or REMOTE_TIMEOUT and what the server said.
    async fn register_integration(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: super::integrations::RegisterInput,
    ) -> async_graphql::Result<super::integrations::Registration> {
        super::integrations::register(ctx, &id, input).await
    }

    /// Revoke an integration: its token is refused from now on.
    async fn revoke_integration(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<super::integrations::Integration> {
        super::integrations::revoke(ctx, &id).await
    }

    /// Set the Digest username and password an IPC camera authenticates with.
    async fn set_device_credentials(
        &self,
        ctx: &Context<'_>,
        id: ID,
        username: String,
        #[graphql(secret)] password: String,
    ) -> async_graphql::Result<Device> {
        let device = devices::set_credentials(state(ctx), caller(ctx)?, &id, &username, &password)
            .await
            .gql()?;
        Ok(Device(device))
    }

    /// Rename (`name: null` clears it) or move a device to another site.
    async fn update_device(
        &self,
        ctx: &Context<'_>,
        id: ID,
        name: MaybeUndefined<String>,
        site_id: Option<ID>,
    ) -> async_graphql::Result<Device> {
        let name = match &name {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(n) => Some(Some(n.as_str())),
        };
        let device = devices::update(
            state(ctx),
            caller(ctx)?,
            &id,
            name,
            site_id.as_ref().map(|s| s.as_str()),
        )
        .await
        .gql()?;
        Ok(Device(device))
    }

    /// Change the configuration a device should run with; its next heartbeat
    /// (people counter) or keepalive (IPC camera) answer carries it.
    /// `keepInterval`: seconds between IPC keepalives, 10 to 3600.
    async fn update_device_config(
        &self,
        ctx: &Context<'_>,
        id: ID,
        upload_interval: Option<i32>,
        data_mode: Option<DataMode>,
        keep_interval: Option<i32>,
    ) -> async_graphql::Result<Device> {
        let mode = data_mode.map(|m| DomainDataMode::from(m).as_str());
        let device = devices::update_config(
            state(ctx),
            caller(ctx)?,
            &id,
            upload_interval.map(i64::from),
            mode,
            keep_interval.map(i64::from),
        )
        .await
        .gql()?;
        Ok(Device(device))
    }

    /// Ask a people counter to re-upload its history for `[from, to]` (at most
    /// 90 days back). Sent in heartbeat answers until fulfilled or expired.
    async fn request_history(
        &self,
        ctx: &Context<'_>,
        device_id: ID,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> async_graphql::Result<DeviceCommand> {
        let command = devices::request_history(state(ctx), caller(ctx)?, &device_id, from, to)
            .await
            .gql()?;
        Ok(DeviceCommand(command))
    }

    /// Set the configuration devices bound to a site from now on start with.
    async fn update_site_default_config(
        &self,
        ctx: &Context<'_>,
        id: ID,
        upload_interval: Option<i32>,
        data_mode: Option<DataMode>,
        keep_interval: Option<i32>,
    ) -> async_graphql::Result<Site> {
        let mode = data_mode.map(|m| DomainDataMode::from(m).as_str());
        let site = sites::set_defaults(
            state(ctx),
            caller(ctx)?,
            &id,
            upload_interval.map(i64::from),
            mode,
            keep_interval.map(i64::from),
        )
        .await
        .gql()?;
        Ok(Site(site))
    }

    /// Unbind a device. Returns the unbound id.
    async fn unbind_device(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        devices::unbind(state(ctx), caller(ctx)?, &id).await.gql()?;
        Ok(id)
    }
}
