//! GraphQL at `/graphql` (POST for queries, GET for the GraphiQL page, which
//! serves its own assets and so works offline). Resolvers are thin: they call
//! the same services as the REST handlers.

mod camera;
mod error;
mod integrations;
mod loaders;
mod mutation;
mod query;
pub mod subscription;
mod types;

use std::net::IpAddr;

use async_graphql::dataloader::DataLoader;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{Context, Data, Schema};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::WebSocketUpgrade;
use axum::extract::{DefaultBodyLimit, FromRef, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use footfall_domain::{Error, Principal};

use crate::extract::{ClientAddr, bearer_token};
use crate::state::AppState;
use loaders::{SiteDevices, Sites};
pub use mutation::Mutation;
pub use query::Query;
pub use subscription::Subscription;

pub type FootfallSchema = Schema<Query, Mutation, Subscription>;

/// Deep enough for GraphiQL's introspection query, shallow enough that a
/// query cannot fan out without bound.
pub const MAX_DEPTH: usize = 16;
pub const MAX_COMPLEXITY: usize = 5_000;

/// Builds the schema once; `state` is shared by every request.
pub fn schema(state: Option<AppState>) -> FootfallSchema {
    let builder = Schema::build(Query, Mutation, Subscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY);
    match state {
        Some(state) => builder.data(state).finish(),
        None => builder.finish(),
    }
}

/// The caller of one request; `None` when no token was sent (only `signup`
/// and `login` work then).
struct Caller(Option<Principal>);

struct Client(Option<IpAddr>);

/// When the token of a WebSocket connection expires; its subscriptions end
/// then.
pub(crate) struct SessionExpiry(pub chrono::DateTime<chrono::Utc>);

pub(crate) fn state<'a>(ctx: &Context<'a>) -> &'a AppState {
    // Set once in `schema`; every executed request has it.
    ctx.data_unchecked::<AppState>()
}

pub(crate) fn caller<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Principal> {
    ctx.data_opt::<Caller>().and_then(|c| c.0.as_ref()).ok_or_else(|| {
        error::to_graphql(Error::Unauthenticated(
            "send Authorization: Bearer <accessToken>; get a token with the login mutation".into(),
        ))
    })
}

pub(crate) fn client_addr(ctx: &Context<'_>) -> Option<IpAddr> {
    ctx.data_opt::<Client>().and_then(|c| c.0)
}

#[derive(Clone)]
struct GraphqlState {
    app: AppState,
    schema: FootfallSchema,
}

pub fn router(app: AppState) -> Router {
    let schema = schema(Some(app.clone()));
    Router::new()
        .route("/graphql", get(graphiql).post(execute))
        .route("/graphql/ws", get(websocket))
        .route("/graphql/assets/{file}", get(asset))
        .layer(DefaultBodyLimit::max(crate::app::API_BODY_LIMIT))
        .with_state(GraphqlState { app, schema })
}

async fn execute(
    State(state): State<GraphqlState>,
    headers: HeaderMap,
    ClientAddr(client): ClientAddr,
    request: GraphQLRequest,
) -> Response {
    // A token that is present but bad is refused outright, never treated as
    // an anonymous caller.
    let caller = match bearer_token(&headers).and_then(|t| t.map(|t| state.app.tokens.verify(t)).transpose()) {
        Ok(caller) => caller,
        Err(e) => return unauthenticated(e),
    };
    let mut request = request.into_inner();
    request.data = request_data(&state.app, caller, client);
    GraphQLResponse::from(state.schema.execute(request).await).into_response()
}

/// What every operation of one caller sees: who they are, where from, and
/// their own batch loaders (per tenant, so a batch never mixes tenants).
fn request_data(app: &AppState, caller: Option<Principal>, client: Option<IpAddr>) -> Data {
    let mut data = Data::default();
    data.insert(Client(client));
    if let Some(who) = caller {
        data.insert(DataLoader::new(
            SiteDevices {
                state: app.clone(),
                tenant: who.tenant,
            },
            tokio::spawn,
        ));
        data.insert(DataLoader::new(
            Sites {
                state: app.clone(),
                tenant: who.tenant,
            },
            tokio::spawn,
        ));
    }
    data.insert(Caller(caller));
    data
}

/// Subscriptions. The token comes in the `connection_init` payload
/// (`{"Authorization": "Bearer …"}`, as GraphiQL's Headers tab sends it) or
/// in the upgrade request's `Authorization` header. A bad token closes the
/// connection.
async fn websocket(
    State(state): State<GraphqlState>,
    headers: HeaderMap,
    ClientAddr(client): ClientAddr,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let from_header =
        match bearer_token(&headers).and_then(|t| t.map(|t| state.app.tokens.verify_session(t)).transpose()) {
            Ok(session) => session,
            Err(e) => return unauthenticated(e),
        };
    upgrade.protocols(ALL_WEBSOCKET_PROTOCOLS).on_upgrade(move |stream| {
        let app = state.app.clone();
        GraphQLWebSocket::new(stream, state.schema.clone(), protocol)
            .on_connection_init(move |payload| async move {
                let session = match init_token(&payload) {
                    Some(token) => Some(app.tokens.verify_session(&token).map_err(error::to_graphql)?),
                    None => from_header,
                };
                let mut data = request_data(&app, session.as_ref().map(|(who, _)| *who), client);
                if let Some((_, expires)) = session {
                    data.insert(SessionExpiry(expires));
                }
                Ok(data)
            })
            .serve()
    })
}

/// The bearer token in a `connection_init` payload, if any.
fn init_token(payload: &serde_json::Value) -> Option<String> {
    let obj = payload.as_object()?;
    let headers = obj.get("headers").and_then(|h| h.as_object());
    let value = [Some(obj), headers]
        .into_iter()
        .flatten()
        .flat_map(|o| o.iter())
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization") || k.eq_ignore_ascii_case("token"))
        .and_then(|(_, v)| v.as_str())?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .unwrap_or(value);
    Some(token.trim().to_string())
}

fn unauthenticated(err: Error) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": err.to_string(), "extensions": { "code": "UNAUTHENTICATED" } }]
    });
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

impl FromRef<GraphqlState> for AppState {
    fn from_ref(state: &GraphqlState) -> AppState {
        state.app.clone()
    }
}

async fn graphiql() -> Html<&'static str> {
    Html(include_str!("graphiql.html"))
}

async fn asset(Path(file): Path<String>) -> Response {
    let (body, content_type): (&'static [u8], &str) = match file.as_str() {
        "graphiql.min.js" => (
            include_bytes!("../../assets/graphiql/graphiql.min.js.gz"),
            "text/javascript",
        ),
        "graphiql.min.css" => (include_bytes!("../../assets/graphiql/graphiql.min.css.gz"), "text/css"),
        "react.production.min.js" => (
            include_bytes!("../../assets/graphiql/react.production.min.js.gz"),
            "text/javascript",
        ),
        "react-dom.production.min.js" => (
            include_bytes!("../../assets/graphiql/react-dom.production.min.js.gz"),
            "text/javascript",
        ),
        _ => return crate::error::ApiError::not_found("asset").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_ENCODING, "gzip"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_schema_is_the_codes_schema() {
        let committed = include_str!("../../../schema.graphql");
        let generated = super::schema(None).sdl();
        assert!(
            generated == committed,
            "schema.graphql differs from the schema the code builds; regenerate it with\n  \
             cargo run -- graphql-schema > schema.graphql"
        );
    }
}
