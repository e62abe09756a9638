//! Device-facing endpoints, one module per protocol family. Each decodes its
//! wire format into a domain command, hands it to `services::ingest`, and
//! encodes the protocol's own answer; device endpoints never answer with the
//! tenant API's error shape.

pub mod analysis;
mod digest;
mod docs;
pub mod edge_box;
pub mod ipc;
mod lenient;
pub mod people_counter;
mod report;

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// Largest body a device may send (images included).
pub const DEVICE_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// Largest push an analysis server may send: a batch of vehicle records,
/// each with two images when images are switched on.
pub const ANALYSIS_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// The body, or why it could not be read (too large, connection cut).
pub fn read_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, String> {
    body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => format!("body larger than {} MiB", DEVICE_BODY_LIMIT / (1024 * 1024)),
        _ => format!("body could not be read: {}", rejection.body_text()),
    })
}

/// The device-facing routes, documented in the OpenAPI document under
/// their own tags.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(people_counter::heartbeat))
        .routes(routes!(people_counter::heartbeat_lower_case))
        .routes(routes!(people_counter::data_upload))
        .routes(routes!(people_counter::data_upload_lower_case))
        .layer(CatchPanicLayer::custom(people_counter::panic_answer))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(ipc::keepalive, ipc::keepalive_post))
                .routes(routes!(ipc::alarm_report))
                .routes(routes!(ipc::event_report))
                .routes(routes!(ipc::tlv_report))
                .routes(routes!(ipc::modbus_report))
                .routes(routes!(ipc::temperature_report))
                .routes(routes!(ipc::snapshot_report))
                .layer(CatchPanicLayer::custom(ipc::panic_answer)),
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(analysis::push))
                .routes(routes!(analysis::push_typed))
                .layer(CatchPanicLayer::custom(analysis::panic_answer))
                // Batches of vehicle records with images run larger.
                .layer(DefaultBodyLimit::max(ANALYSIS_BODY_LIMIT)),
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(edge_box::data_report))
                .routes(routes!(edge_box::token_report))
                .layer(CatchPanicLayer::custom(edge_box::panic_answer)),
        )
        .layer(DefaultBodyLimit::max(DEVICE_BODY_LIMIT))
}
