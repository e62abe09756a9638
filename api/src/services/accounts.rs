//! Signing up, logging in, and the users of a tenant.

use std::net::IpAddr;

use footfall_domain::account::check_new_password;
use footfall_domain::{Email, Entity, Error, Name, Principal, Result, Role, Tenant, User, UserId};
use footfall_infra::tokens::AccessToken;

use crate::state::AppState;

/// What signup and login hand back.
pub struct Session {
    pub token: AccessToken,
    pub tenant: Tenant,
    pub user: User,
}

const BAD_CREDENTIALS: &str = "invalid email or password";

fn principal(user: &User) -> Principal {
    Principal {
        tenant: user.tenant,
        user: user.id,
        role: user.role,
    }
}

/// Creates a tenant with its owner and logs the owner in.
pub async fn sign_up(
    state: &AppState,
    client: Option<IpAddr>,
    tenant_name: &str,
    email: &str,
    password: &str,
) -> Result<Session> {
    let tenant_name = Name::parse("tenantName", tenant_name)?;
    let email = Email::parse(email)?;
    check_new_password(password)?;
    let client = client.map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
    state.limiter.hit("signup", &client, state.signup_limit()).await?;

    let hash = state.passwords.hash(password).await?;
    let (tenant, user) = state.db.accounts().sign_up(tenant_name, email, hash).await?;
    let token = state.tokens.issue(&principal(&user))?;
    tracing::info!(tenant = %tenant.id, user = %user.id, "tenant signed up");
    Ok(Session { token, tenant, user })
}

/// Checks credentials. Unknown email and wrong password get the same answer
/// after the same work, so the answer does not reveal which accounts exist.
pub async fn log_in(state: &AppState, email: &str, password: &str) -> Result<Session> {
    let subject = email.trim().to_lowercase();
    state.limiter.hit("login", &subject, state.login_limit()).await?;

    let credentials = match Email::parse(email) {
        Ok(email) => state.db.accounts().credentials(&email).await?,
        Err(_) => None,
    };
    let stored = credentials.as_ref().map(|c| c.password_hash.as_str());
    let valid = state.passwords.verify(password, stored).await?;
    let Some(credentials) = credentials.filter(|_| valid) else {
        return Err(Error::Unauthenticated(BAD_CREDENTIALS.into()));
    };
    let user = credentials.user;
    let tenant = state.db.accounts().tenant(user.tenant).await?;
    let token = state.tokens.issue(&principal(&user))?;
    Ok(Session { token, tenant, user })
}

/// The caller's own user and tenant. A token whose user was removed since it
/// was issued no longer authenticates anyone.
pub async fn me(state: &AppState, who: &Principal) -> Result<(User, Tenant)> {
    let user = match state.db.accounts().user(who.tenant, who.user).await {
        Err(Error::NotFound(Entity::User)) => {
            return Err(Error::Unauthenticated("this user no longer exists".into()));
        }
        other => other?,
    };
    let tenant = state.db.accounts().tenant(who.tenant).await?;
    Ok((user, tenant))
}

pub async fn list_users(state: &AppState, who: &Principal) -> Result<Vec<User>> {
    state.db.accounts().users(who.tenant).await
}

/// Adds a user to the caller's tenant with a password the caller chose.
pub async fn create_user(state: &AppState, who: &Principal, email: &str, password: &str, role: &str) -> Result<User> {
    let role = Role::parse(role)?;
    who.require_can_grant(role)?;
    let email = Email::parse(email)?;
    check_new_password(password)?;
    let hash = state.passwords.hash(password).await?;
    state.db.accounts().create_user(who.tenant, email, role, hash).await
}

pub async fn delete_user(state: &AppState, who: &Principal, id: &str) -> Result<()> {
    who.require_write()?;
    let id = UserId::parse(id)?;
    if id == who.user {
        return Err(Error::Conflict("you cannot remove yourself".into()));
    }
    state.db.accounts().delete_user(who.tenant, id).await
}
