//! Liveness and readiness.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz))
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    status: &'static str,
}

/// Liveness: 200 while the process is up.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, description = "OK", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ready", "database": "ok", "redis": "ok"}))]
pub struct Readiness {
    status: &'static str,
    database: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    redis: Option<&'static str>,
}

/// Readiness: 200 when the database (and Redis, if configured) answer; 503
/// otherwise, so a load balancer stops sending traffic to an instance that
/// cannot serve.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, description = "OK", body = Readiness), (status = 503, description = "A backing service does not answer", body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let database = state.db.ping().await;
    let redis = match &state.redis {
        Some(r) => Some(r.ping().await),
        None => None,
    };
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let ready = database.is_ok() && redis.as_ref().is_none_or(Result::is_ok);
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        database: word(database.is_ok()),
        redis: redis.map(|r| word(r.is_ok())),
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}
