//! The OpenAPI document, generated from the same route table the server
//! serves: REST under `/api/v1`, the device protocols, health checks, and
//! the GraphQL endpoints (described here by hand, as they are not REST).

use axum::Router;
use utoipa::openapi::path::{HttpMethod, OperationBuilder};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;
use crate::{health, ingest, rest};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Footfall API",
        description = "Footfall counts people for retail, malls and transit. Sign up, create sites, \
                       bind devices by serial number, and read footfall. Authenticate with \
                       `Authorization: Bearer <accessToken>` from `/api/v1/auth/login`. \
                       Devices use the `device:` endpoints, which answer in their own protocols.",
    ),
    modifiers(&BearerAuth, &GraphqlEndpoints),
    tags(
        (name = "auth", description = "Signup, login, the caller's account"),
        (name = "users", description = "Users of the tenant"),
        (name = "sites", description = "Sites (a store, an entrance) with their timezone"),
        (name = "devices", description = "Devices bound to sites by serial number, their configuration and commands"),
        (name = "footfall", description = "Footfall and occupancy, in each site's timezone"),
        (name = "camera events", description = "What IPC cameras reported: alarms, events, snapshots, faces and text, sensor readings"),
        (name = "device: people counter", description = "Called by 3D people counters (host and port configured on the device; paths fixed)"),
        (name = "device: IPC camera", description = "Called by IPC cameras (one base address configured on the camera; HTTP Digest with the credentials set on the device)"),
        (name = "device: edge box", description = "Called by edge analytics boxes (vehicle leave and other skill pushes), bound as devices with protocol `edge_box` by their deviceInfo.uuid"),
        (name = "device: analysis server", description = "Called by video traffic analysis servers on an integration's secret URL (every push type on one URL)"),
        (name = "integrations", description = "Analysis servers and edge boxes pushing to a secret per-integration URL"),
        (name = "graphql", description = "The GraphQL API; its schema is in schema.graphql"),
        (name = "ops", description = "Health checks"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("The accessToken from /api/v1/auth/login or /api/v1/auth/signup"))
                    .build(),
            ),
        );
    }
}

struct GraphqlEndpoints;

impl Modify for GraphqlEndpoints {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let op = |id: &str, summary: &str, response: &str| {
            OperationBuilder::new()
                .tag("graphql")
                .operation_id(Some(id))
                .summary(Some(summary))
                .response("200", ResponseBuilder::new().description(response).build())
                .build()
        };
        let paths = &mut openapi.paths;
        paths.add_path_operation(
            "/graphql",
            vec![HttpMethod::Post],
            op(
                "graphql",
                "Run a GraphQL query or mutation: {\"query\": ..., \"variables\": {...}}",
                "The GraphQL response; errors carry extensions.code",
            ),
        );
        paths.add_path_operation(
            "/graphql",
            vec![HttpMethod::Get],
            op("graphiql", "The GraphiQL page (works offline)", "HTML"),
        );
        paths.add_path_operation(
            "/graphql/ws",
            vec![HttpMethod::Get],
            op(
                "graphql_ws",
                "GraphQL subscriptions over WebSocket (graphql-transport-ws or graphql-ws); send the token in connection_init: {\"Authorization\": \"Bearer ...\"}",
                "Switches protocols",
            ),
        );
    }
}

/// Every documented route, and the document.
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(rest::router())
        .merge(ingest::router())
        .merge(health::router())
        .split_for_parts()
}
