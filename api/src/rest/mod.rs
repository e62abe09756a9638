//! The REST API under `/api/v1`, documented with utoipa. The OpenAPI document
//! is generated from the same route table the router serves, so the two
//! cannot drift apart.

mod auth;
mod camera;
mod devices;
mod footfall;
mod integrations;
mod sites;
mod users;
pub mod views;

use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::API_BODY_LIMIT;
use crate::state::AppState;

/// The REST routes, nested under `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    let v1 = OpenApiRouter::new()
        .routes(routes!(auth::signup))
        .routes(routes!(auth::login))
        .routes(routes!(auth::me))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::delete_user))
        .routes(routes!(sites::list_sites, sites::create_site))
        .routes(routes!(sites::get_site, sites::update_site, sites::delete_site))
        .routes(routes!(sites::set_default_config))
        .routes(routes!(footfall::site_footfall))
        .routes(routes!(footfall::site_footfall_csv))
        .routes(routes!(footfall::sites_footfall))
        .routes(routes!(footfall::device_breakdown))
        .routes(routes!(footfall::compare))
        .routes(routes!(footfall::site_occupancy))
        .routes(routes!(devices::list_devices, devices::bind_device))
        .routes(routes!(
            devices::get_device,
            devices::update_device,
            devices::unbind_device
        ))
        .routes(routes!(devices::update_config))
        .routes(routes!(devices::set_credentials))
        .routes(routes!(devices::request_history, devices::list_history_requests))
        .routes(routes!(devices::device_events))
        .routes(routes!(camera::device_camera_events))
        .routes(routes!(camera::site_camera_events))
        .routes(routes!(camera::get_camera_event))
        .routes(routes!(camera::camera_event_image))
        .routes(routes!(camera::sensor_readings))
        .routes(routes!(camera::latest_temperatures))
        .routes(routes!(camera::alarm_counts))
        .routes(routes!(camera::vehicle_counts))
        .routes(routes!(
            integrations::list_integrations,
            integrations::create_integration
        ))
        .routes(routes!(integrations::get_integration, integrations::revoke_integration))
        .routes(routes!(integrations::rotate_token))
        .routes(routes!(integrations::register));
    OpenApiRouter::new()
        .nest("/api/v1", v1)
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT))
}
